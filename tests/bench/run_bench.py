"""`make bench`: every benchmark, one after another, printing its figures.

Each benchmark module exposes `main()`; one that cannot run here says why and
the others still run. A missed target raises `TargetMissed`
(tests/bench/targets.py), or `main()` returns the targets it missed or a
non-zero status; any miss, like any crash, is listed at the end and makes the
whole run exit non-zero, so CI notices a regression instead of a reader.
"""

from __future__ import annotations

import importlib
import sys
import time
import traceback

BENCHMARKS = [
    ("crawl-and-score job (1,000 repos)", "tests.bench.bench_job"),
    ("crawl-and-score job (the real repositories)", "tests.bench.bench_realrepos"),
    ("GitHub source (500-repo organisation)", "tests.bench.bench_github"),
    ("Kubernetes source (5,000 workloads)", "tests.bench.bench_kubernetes"),
    ("Argo CD API source (2,000 Applications)", "tests.bench.bench_argocd"),
    ("dashboard first render (10,000 services)", "tests.bench.bench_dashboard"),
    ("ingest and run with 1,000,000 events", "tests.bench.bench_events"),
    ("40,000-rule CODEOWNERS, 1,000 components", "tests.bench.bench_codeowners"),
]


def missed_targets(outcome: object) -> list[str]:
    """What a benchmark's main() returned, as missed targets (None: it checks none)."""
    if outcome is None or outcome == 0:
        return []
    if isinstance(outcome, int):
        return [f"exit status {outcome}"]
    return [str(line) for line in outcome]  # type: ignore[union-attr]


def main(argv: list[str]) -> int:
    wanted = set(argv)
    failed: list[str] = []
    for title, module in BENCHMARKS:
        if wanted and not any(w in module for w in wanted):
            continue
        print(f"\n=== {title} ===", flush=True)
        started = time.monotonic()
        try:
            missed = missed_targets(importlib.import_module(module).main())
        except Exception:  # noqa: BLE001 - report and go on with the next benchmark
            traceback.print_exc()
            missed = ["crashed (traceback above)"]
        failed += [f"{title}: {line}" for line in missed]
        print(f"({time.monotonic() - started:.0f} s)", flush=True)
    if failed:
        print("\nMISSED TARGETS:\n" + "\n".join(f"  {line}" for line in failed), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
