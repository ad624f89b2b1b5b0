"""`make bench`: every benchmark, one after another, printing its figures.

Each benchmark module exposes `main()` and runs in a fresh process of its own:
a peak-memory figure must be that benchmark's, not the high-water mark a
previous one (the 10,000-service dashboard build) left in a shared process, and
one that cannot run here says why while the others still run. A missed target raises `TargetMissed`
(tests/bench/targets.py), or `main()` returns the targets it missed or a
non-zero status; any miss, like any crash, is listed at the end and makes the
whole run exit non-zero, so CI notices a regression instead of a reader.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback

BENCHMARKS = [
    ("crawl-and-score job (1,000 repos)", "tests.bench.bench_job"),
    ("crawl-and-score job, in-process vs Celery with 2 and 4 workers (1,000 repos)", "tests.bench.bench_distributed"),
    ("capacity on paper: per-repo crawl cost, 10k/50k extrapolation", "tests.bench.bench_capacity"),
    ("scorecard preview (1,000 repos, after the job above)", "tests.bench.bench_preview"),
    ("crawl-and-score job (the real repositories)", "tests.bench.bench_realrepos"),
    ("GitHub source (500-repo organisation)", "tests.bench.bench_github"),
    ("Kubernetes source (5,000 workloads)", "tests.bench.bench_kubernetes"),
    ("Backstage catalog (10,000 entities)", "tests.bench.bench_backstage"),
    ("Argo CD API source (2,000 Applications)", "tests.bench.bench_argocd"),
    ("dashboard first render (10,000 services)", "tests.bench.bench_dashboard"),
    ("a year at 10,000 services: storage, daily run, pages (365 days, retention)", "tests.bench.bench_year"),
    ("ingest and run with 1,000,000 events", "tests.bench.bench_events"),
    ("40,000-rule CODEOWNERS, 1,000 components", "tests.bench.bench_codeowners"),
    ("CLI start-up and `scorecard gate` on one checkout", "tests.bench.bench_gate"),
    ("initiatives' tables at publish (10,000 services, 13 snapshots)", "tests.bench.bench_programme"),
    ("Platform ROI: tables at publish and page render (10,000 services, 13 snapshots)", "tests.bench.bench_roi"),
    ("generated fixes at publish (1,000 services)", "tests.bench.bench_fixes"),
    ("Crossplane claims (2,000 services, 52,800 objects)", "tests.bench.bench_crossplane"),
    ("exports: metrics, badges, Parquet, GET /metrics (1,000 services)", "tests.bench.bench_exports"),
    ("Jira source and request trend (20,000 / 200,000 requests)", "tests.bench.bench_jira"),
    ("notifications: alerts and digests, dry run and delivery (1,000 services)", "tests.bench.bench_notify"),
    ("soak: 100 daily schedule ticks with events ingested and the dashboard read (8 repos)", "tests.bench.bench_soak"),
]


def missed_targets(outcome: object) -> list[str]:
    """What a benchmark's main() returned, as missed targets (None: it checks none)."""
    if outcome is None or outcome == 0:
        return []
    if isinstance(outcome, int):
        return [f"exit status {outcome}"]
    return [str(line) for line in outcome]  # type: ignore[union-attr]


def run_one(module: str) -> list[str]:
    """Run one benchmark in this process; its missed targets (a crash is one)."""
    try:
        return missed_targets(importlib.import_module(module).main())
    except Exception:  # noqa: BLE001 - report and go on with the next benchmark
        traceback.print_exc()
        return ["crashed (traceback above)"]


def _in_child(module: str) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "missed.json")
        code = (
            "import json, sys\n"
            "from tests.bench.run_bench import run_one\n"
            f"json.dump(run_one({module!r}), open({out!r}, 'w'))\n"
        )
        proc = subprocess.run([sys.executable, "-c", code], check=False)
        if not os.path.exists(out):
            return [f"crashed (exit status {proc.returncode})"]
        with open(out) as f:
            return json.load(f)


def main(argv: list[str]) -> int:
    wanted = set(argv)
    failed: list[str] = []
    for title, module in BENCHMARKS:
        if wanted and not any(w in module for w in wanted):
            continue
        print(f"\n=== {title} ===", flush=True)
        started = time.monotonic()
        missed = _in_child(module)
        failed += [f"{title}: {line}" for line in missed]
        print(f"({time.monotonic() - started:.0f} s)", flush=True)
    if failed:
        print("\nMISSED TARGETS:\n" + "\n".join(f"  {line}" for line in failed), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
