"""`make bench`: every benchmark, one after another, printing its figures.

Each benchmark module exposes `main()`; one that cannot run here says why and
the others still run.
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
    ("dashboard first render (10,000 services)", "tests.bench.bench_dashboard"),
]


def main(argv: list[str]) -> int:
    wanted = set(argv)
    failed = 0
    for title, module in BENCHMARKS:
        if wanted and not any(w in module for w in wanted):
            continue
        print(f"\n=== {title} ===", flush=True)
        started = time.monotonic()
        try:
            importlib.import_module(module).main()
        except Exception:  # noqa: BLE001 - report and go on with the next benchmark
            failed += 1
            traceback.print_exc()
        print(f"({time.monotonic() - started:.0f} s)", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
