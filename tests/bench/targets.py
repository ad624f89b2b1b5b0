"""Targets a benchmark must meet: printed next to each figure, and a missed one
fails the benchmark (so `make bench` exits non-zero) instead of scrolling by."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path


class TargetMissed(AssertionError):
    pass


@dataclass
class Targets:
    missed: list[str] = field(default_factory=list)

    def below(self, label: str, value: float, limit: float, unit: str = "s") -> str:
        """`value < limit`, as the text to print after the figure."""
        if not value < limit:
            self.missed.append(f"{label}: {value:,.1f} {unit}, target < {limit:,.0f} {unit}")
        return f"(target < {limit:,.0f} {unit})"

    def above(self, label: str, value: float, limit: float, unit: str = "/s") -> str:
        if not value > limit:
            self.missed.append(f"{label}: {value:,.0f}{unit}, target > {limit:,.0f}{unit}")
        return f"(target > {limit:,.0f}{unit})"

    def check(self) -> None:
        if self.missed:
            raise TargetMissed("missed: " + "; ".join(self.missed))


# ------------------------------------------------- a step in its own process

ROOT = Path(__file__).resolve().parents[2]

def peak_rss_mib() -> float:
    """This process's peak resident set, in MiB.

    VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss across fork and
    exec, so a child started by a big parent (the benchmark runner after the
    10,000-service dashboard build) reported the parent's peak as its own.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


_CHILD = """
import json, sys, time
from pipelines.cli import main
from tests.bench.targets import peak_rss_mib
started = time.monotonic()
code = main(sys.argv[1:])
print(json.dumps({"code": code, "seconds": time.monotonic() - started,
                  "peak_rss_mib": peak_rss_mib()}))
"""


def scorecard(*args: str, cwd: Path = ROOT) -> dict:
    """Run `scorecard ARGS` in a fresh process: its exit code, seconds and its own peak RSS (MiB)."""
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
    return figures
