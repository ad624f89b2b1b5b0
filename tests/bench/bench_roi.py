"""Platform ROI at 10,000 services x 13 snapshots: its share of a publish, and the page's render.

Reuses the dashboard benchmark's history of real pipeline output
(``tests/bench/bench_snapshot.py``, cached under ``bench-out/``). The
publish-time cost is measured on a copy of that published file: the ROI table
is dropped and computed again by the same step `warehouse.publish` runs
(`pipelines.roi.publish`), so only the ROI's share is timed. The page is
rendered through Streamlit's AppTest like the other pages' benchmark.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from pipelines import roi
from tests.bench.bench_dashboard import WORK, page_render_times
from tests.bench.targets import Targets

SERVICES = 10_000
PUBLISH_TARGET_S = 20.0
RENDER_TARGET_S = 2.0


def publish_seconds(serving: Path) -> tuple[float, int, int]:
    """(seconds for the ROI step, rows it published, service-dates it read) on a copy of ``serving``."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "served.duckdb"
        shutil.copy(serving, copy)
        con = duckdb.connect(str(copy))
        try:
            con.execute("DROP TABLE IF EXISTS roi_cohorts")
            started = time.perf_counter()
            roi.publish(con)
            elapsed = time.perf_counter() - started
            rows = con.execute("SELECT count(*) FROM roi_cohorts").fetchone()[0]
            read = con.execute("SELECT count(*) FROM dora").fetchone()[0]
        finally:
            con.close()
    return elapsed, rows, read


def main(argv: list[str] | None = None) -> list[str]:
    args = argv or []
    n_services = int(args[0]) if args else SERVICES
    timings, built = page_render_times(n_services, WORK, scopes=("org",), pages=("roi",))
    t = Targets()
    how = "from the cache" if built.build_seconds is None else f"built in {built.build_seconds:.0f} s"
    print(f"## {built.services:,} services x {built.snapshots} snapshots of real pipeline output ({how})")
    seconds, rows, read = publish_seconds(built.serving)
    print(f"  ROI tables at publish: {seconds:.2f} s for {read:,} service-dates of DORA, {rows:,} cohort rows "
          f"{t.below('ROI tables at publish', seconds, PUBLISH_TARGET_S)}")
    for p in timings:
        print(f"  Platform ROI page cold render: {p.cold_seconds:.2f} s (warm {p.warm_seconds:.2f} s) "
              f"{t.below('Platform ROI page cold render', p.cold_seconds, RENDER_TARGET_S)}")
    return t.missed


if __name__ == "__main__":
    missed = main(sys.argv[1:])
    for line in missed:
        print(f"missed: {line}")
    raise SystemExit(1 if missed else 0)
