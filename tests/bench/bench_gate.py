"""`scorecard gate` and the CLI's start-up, as a CI job pays for them: fresh processes, wall time.

Each figure is the installed `scorecard` entry point in a new process, timed
from outside (interpreter start, imports, crawl, output). The best of several
runs is the figure with a target, the median is printed next to it: the
machine is shared, and the best run is the one least disturbed by others.
CPU seconds (user + system, the process and its git children) are printed
too, since they do not depend on what else runs.

Python's bytecode cache is used as on any installed machine (one warm-up run
writes it; PYTHONDONTWRITEBYTECODE is dropped for these processes). A cold
figure with no bytecode cache at all is printed without a target: it is what
the first run after an install costs, and what every run costs where
PYTHONDONTWRITEBYTECODE is set and nothing was compiled ahead.
"""

from __future__ import annotations

import datetime as dt
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.bench.targets import Targets
from tests.realrepos import REALREPOS

SCORECARD = Path(sys.executable).parent / "scorecard"
RUNS = 7
REAL_REPO = "bank-of-anthos"  # the largest of the four: 10 services, Terraform, 7,000+ commits
DEMO_REPO = "acme-commerce"  # the demo's monorepo: five services under services/


def _env(cold_dir: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONDONTWRITEBYTECODE", "GITHUB_STEP_SUMMARY", "GITHUB_ACTIONS", "SCORECARD_CONFIG")}
    if cold_dir is not None:  # an empty cache directory, and nothing written to it: compile everything
        env.update(PYTHONPYCACHEPREFIX=str(cold_dir), PYTHONDONTWRITEBYTECODE="1")
    return env


def _once(args: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    proc = subprocess.run([str(SCORECARD), *args], env=env, capture_output=True, text=True, check=False, timeout=300)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"scorecard {' '.join(args)} exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    return wall, cpu, proc.returncode


def timed(args: list[str]) -> dict:
    """Best and median wall seconds of RUNS fresh processes (after a warm-up), CPU seconds of the best."""
    env = _env()
    _once(args, env)  # writes the bytecode cache, warms the page cache
    runs = [_once(args, env) for _ in range(RUNS)]
    best = min(runs)
    with tempfile.TemporaryDirectory(prefix="bench-gate-cold-") as cold:
        cold_wall = _once(args, _env(Path(cold)))[0]
    return {"best": best[0], "median": statistics.median(r[0] for r in runs), "cpu": best[1], "code": best[2],
            "cold": cold_wall}


def _line(label: str, figures: dict, t: Targets, limit: float) -> str:
    target = t.below(label, figures["best"], limit)
    return (f"  {label:<38}: {figures['best']:5.2f} s best, {figures['median']:5.2f} s median, "
            f"{figures['cpu']:4.2f} s CPU  {target}   cold, no bytecode cache: {figures['cold']:5.2f} s")


def _demo_checkout(work: Path) -> tuple[Path, Path]:
    from pipelines.demo.generate import generate_demo

    generate_demo(work / "demo", repos=8, teams=2, days=30, end=dt.datetime.now(dt.UTC).date())
    clone = work / "checkouts" / DEMO_REPO
    subprocess.run(["git", "clone", "-q", str(work / "demo" / "repos" / DEMO_REPO), str(clone)], check=True)
    return clone, work / "demo" / "scorecard.yaml"


def _one_repo_run(work: Path, clone: Path) -> float:
    config = work / "one-repo" / "scorecard.yaml"
    config.parent.mkdir()
    config.write_text(f"sources:\n  repos:\n    - root: {clone.parent}\n")
    env = {k: v for k, v in _env().items() if k != "DAGSTER_HOME"}  # an ephemeral Dagster instance
    return _once(["run", "--config", str(config)], env)[0]


def main() -> None:
    t = Targets()
    work = Path(tempfile.mkdtemp(prefix="bench-gate-"))
    try:
        print("## CLI start-up and `scorecard gate` (fresh processes; best of "
              f"{RUNS} after a warm-up; load average {os.getloadavg()[0]:.1f})")
        print(_line("scorecard --help", timed(["--help"]), t, 1.0))
        print(_line("scorecard checks", timed(["checks"]), t, 1.0))
        demo, config = _demo_checkout(work)
        figures = timed(["gate", str(demo), "--config", str(config), "--fail-under", "bronze", "--format", "github"])
        print(_line(f"gate, demo repo {DEMO_REPO}", figures, t, 2.0))
        if REALREPOS.is_dir():
            clone = work / "real" / REAL_REPO  # alone in its directory: the one-repo run crawls that directory
            subprocess.run(["git", "clone", "-q", str(REALREPOS / f"{REAL_REPO}.git"), str(clone)], check=True)
            figures = timed(["gate", str(clone), "--fail-under", "bronze", "--format", "github"])
            print(_line(f"gate, real repo {REAL_REPO}", figures, t, 2.0))
            print(f"  for comparison, `scorecard run` of that one repository (Dagster job, warehouse, publish): "
                  f"{_one_repo_run(work, clone):.1f} s")
        else:
            print(f"  (real repositories absent at {REALREPOS}: gate on a real repo not measured)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    t.check()


if __name__ == "__main__":
    main()
