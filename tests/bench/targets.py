"""Benchmark targets: each figure printed with its target, and every miss collected.

A benchmark's ``main()`` returns the list of missed targets (or a non-zero
exit status); ``tests.bench.run_bench`` fails the whole run when any is missed.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class Targets:
    def __init__(self) -> None:
        self.missed: list[str] = []

    def below(self, label: str, value: float, limit: float, unit: str, fmt: str = ",.1f") -> str:
        """``label: value unit (target < limit unit)``; recorded as missed when value >= limit."""
        ok = value < limit
        line = f"{label}: {value:{fmt}} {unit} (target < {limit:{fmt}} {unit}){'' if ok else '  MISSED'}"
        if not ok:
            self.missed.append(line)
        return line


_CHILD = """
import json, resource, sys, time
from pipelines.cli import main
started = time.monotonic()
code = main(sys.argv[1:])
print(json.dumps({"code": code, "seconds": time.monotonic() - started,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def scorecard(*args: str, cwd: Path = ROOT) -> dict:
    """Run `scorecard ARGS` in a fresh process: its exit code, wall seconds and its own peak RSS."""
    env = {**os.environ, "DAGSTER_HOME": ""}
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", _CHILD, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0 or not proc.stdout.strip():
        raise RuntimeError(f"scorecard {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    if figures["code"] != 0:
        raise RuntimeError(f"scorecard {' '.join(args)} exited {figures['code']}:\n{proc.stderr[-3000:]}")
    figures["wall_seconds"] = time.monotonic() - started  # with interpreter start-up and imports
    figures["stderr"] = proc.stderr
    return figures


def own_peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
