"""The one-writer-run lock of a warehouse.

One run at a time writes a warehouse: :func:`run_lock` is an advisory file
lock next to it that a second run waits for (or is refused by, with a message
naming the holder). Dagster's run queue limits the runs it launches; this
lock also covers CLI runs, backfills and other Dagster instances.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pipelines.warehouse import WarehouseBusy

_held: dict[Path, list[int]] = {}  # lock file -> [fd, depth]
_held_guard = threading.Lock()


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".lock")


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        info = {}
    if not info:
        return "another scorecard process"
    return f"{info.get('purpose', 'a scorecard process')} (pid {info.get('pid', '?')}, since {info.get('since', '?')})"


@contextmanager
def run_lock(
    warehouse: Path, purpose: str, wait_seconds: float = 0.0, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold the one-writer-run lock of ``warehouse``; wait up to ``wait_seconds`` for it.

    Re-entrant within a process (the CLI takes it around a run, and the
    run's resource takes it again). A process that dies releases it (flock),
    so a crashed run never leaves the warehouse locked.
    """
    path = lock_path(warehouse.resolve())
    with _held_guard:
        held = _held.get(path)
        if held is not None:
            held[1] += 1
    if held is not None:
        try:
            yield
        finally:
            with _held_guard:
                held[1] -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait_seconds
    told = False
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _holder(path)
                if time.monotonic() >= deadline:
                    raise WarehouseBusy(
                        f"{warehouse} is being written by {holder}; one run at a time writes a warehouse: "
                        "wait for it to finish, or retry with a longer --wait"
                    ) from None
                if not told and on_wait is not None:
                    on_wait(holder)
                    told = True
                time.sleep(0.2)
    except BaseException:
        os.close(fd)
        raise
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({
            "purpose": purpose, "pid": os.getpid(),
            "since": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }).encode(), 0)
    except OSError:
        pass  # the holder note is a courtesy; a full disk must not stop the lock itself
    with _held_guard:
        _held[path] = [fd, 1]
    try:
        yield
    finally:
        with _held_guard:
            entry = _held[path]
            entry[1] -= 1
            done = entry[1] == 0
            if done:
                del _held[path]
        if done:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
