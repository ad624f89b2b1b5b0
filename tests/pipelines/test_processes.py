"""processes.alive decides whether a crashed publisher's temp file may be deleted: a wrong answer
either deletes a live publish's file or keeps a dead one's for ever."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from pipelines import processes


def test_a_running_process_is_alive_and_an_exited_unreaped_one_is_not():
    assert processes.alive(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert processes.alive(child.pid)
        child.kill()
        deadline = time.monotonic() + 10
        while processes.alive(child.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not processes.alive(child.pid), "a zombie (exited, not yet reaped) is not a running publisher"
        assert child.poll() is not None, "alive() reaps nothing: the parent still gets its child's exit status"
    finally:
        child.kill()
        child.wait()
    assert not processes.alive(child.pid)
