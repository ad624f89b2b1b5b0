"""`make bench` fails when a benchmark misses a target, not only when one crashes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.bench import run_bench
from tests.bench.targets import TargetMissed, Targets


def _fake(directory, name: str, body: str) -> str:
    (directory / f"{name}.py").write_text(f"def main():\n    {body}\n")
    return name


@pytest.mark.parametrize(("body", "code"), [
    ("return None", 0), ("return []", 0), ("return 0", 0), ("return ['whole run: 75.0 s, target < 60 s']", 1),
    ("return 1", 1), ("raise RuntimeError('x')", 1),
    ("from tests.bench.targets import TargetMissed; raise TargetMissed('missed: whole run: 75.0 s')", 1),
    ("import os; os._exit(3)", 1),
])
def test_a_missed_target_fails_the_bench_run(tmp_path, monkeypatch, capsys, body, code):
    # Each benchmark runs in a child process: the fakes are real modules it can import.
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    fake = _fake(tmp_path, f"fake_{abs(hash(body))}", body)
    monkeypatch.setattr(run_bench, "BENCHMARKS", [("fake", fake), ("fine", _fake(tmp_path, "fine", "return None"))])
    assert run_bench.main([]) == code
    out = capsys.readouterr().out
    assert ("MISSED TARGETS" in out) == bool(code)


def test_a_benchmark_child_reports_its_own_peak_memory_not_its_parents():
    # ru_maxrss survives fork + exec on Linux: the events benchmark once reported the dashboard build's 1.7 GiB.
    ballast = bytearray(300 * 1024 * 1024)
    ballast[:: 4096] = b"x" * len(ballast[:: 4096])  # touch every page so it is resident
    child = subprocess.run([sys.executable, "-c", "from tests.bench.targets import peak_rss_mib; print(peak_rss_mib())"],
                           capture_output=True, text=True, check=True)
    assert float(child.stdout) < 200, child.stdout
    del ballast


def test_targets_record_only_misses():
    t = Targets()
    t.below("run", 10.0, 60.0)
    t.check()
    t.below("rss", 2000.0, 1536.0, "MiB")
    assert t.missed == ["rss: 2,000.0 MiB, target < 1,536 MiB"]
    with pytest.raises(TargetMissed):
        t.check()
