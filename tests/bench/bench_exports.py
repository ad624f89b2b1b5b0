"""What the exports cost at 1,000 services of real pipeline output.

    .venv/bin/python -m tests.bench.bench_exports [n_services]

The history (1,000 services × 40 checks × 13 weekly snapshots) is the
dashboard benchmark's (``tests/bench/bench_snapshot.py``: the pipeline's own
checks, scoring and publish), cached in ``bench-out/``. Measured on a copy of
the published file in a scratch folder, so the static exports land there:

* the serving step's refresh (OpenMetrics file and the badges), which each
  publish pays after the snapshot is in place: the first writes every badge,
  later ones rewrite only the badges whose level or score moved;
* ``scorecard export parquet`` of every table and snapshot;
* ``GET /metrics`` on loopback: the first scrape after a publish renders, the
  next ones only ``stat`` the file.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from pipelines.exports.endpoint import make_server
from pipelines.exports.parquet import export_parquet
from pipelines.exports.refresh import refresh_exports
from tests.bench.bench_snapshot import cached_history
from tests.bench.targets import Targets

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / "bench-out"
FIRST_REFRESH_SECONDS = 10.0  # once: creating 2,000 files; seconds on a busy shared disk
REFRESH_SECONDS = 2.0  # added to every later publish
PARQUET_SECONDS = 10.0
FIRST_SCRAPE_SECONDS = 1.0
SCRAPE_SECONDS = 0.05  # Prometheus scrapes every 15-60 s; a cached scrape must be next to free


def _scrape(url: str) -> tuple[float, int]:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as response:
        body = response.read()
    return time.perf_counter() - started, len(body)


def measure(n_services: int, workdir: Path = WORK) -> dict:
    workdir.mkdir(parents=True, exist_ok=True)
    built = cached_history(workdir, n_services)
    figures: dict = {"services": built.services, "snapshots": built.snapshots, "build_seconds": built.build_seconds}
    with tempfile.TemporaryDirectory(dir=workdir) as scratch:
        served = Path(scratch) / "serving" / "scorecard.duckdb"
        served.parent.mkdir()
        shutil.copyfile(built.serving, served)
        # The first publish writes every badge; later ones only the badges that changed.
        first = refresh_exports(served)
        runs = [refresh_exports(served) for _ in range(3)]
        assert first.ok and all(r.ok for r in runs), first.failures
        assert first.badges_written == first.badges and runs[0].badges_written == 0
        figures["first_refresh_seconds"] = first.seconds
        figures["refresh_seconds"] = min(r.seconds for r in runs)
        figures["badges"] = runs[0].badges
        figures["metrics_bytes"] = (runs[0].folder / "metrics.txt").stat().st_size

        started = time.perf_counter()
        manifest = export_parquet(served, Path(scratch) / "parquet")
        figures["parquet_seconds"] = time.perf_counter() - started
        figures["parquet_rows"] = sum(t["rows"] for t in manifest["tables"])
        figures["parquet_bytes"] = sum(p.stat().st_size for p in (Path(scratch) / "parquet").iterdir())

        server = make_server(served, port=0)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            url = f"http://127.0.0.1:{server.server_address[1]}/metrics"
            figures["first_scrape_seconds"], _ = _scrape(url)
            figures["scrape_seconds"] = min(_scrape(url)[0] for _ in range(20))
        finally:
            server.shutdown()
            server.server_close()
    return figures


def main(argv: list[str] | None = None) -> list[str]:
    """Print the figures; returns the targets missed (`make bench` fails on any)."""
    args = argv or []
    n = int(args[0]) if args else 1_000
    f = measure(n)
    t = Targets()
    how = "from the cache" if f["build_seconds"] is None else f"built in {f['build_seconds']:.0f} s"
    print(f"history of real pipeline output ({how}): {f['services']:,} services × {f['snapshots']} snapshots")
    print(f"serving-step refresh, first publish (metrics + writing {f['badges']:,} badges): "
          f"{f['first_refresh_seconds']:.2f} s  "
          + t.below("first export refresh", f["first_refresh_seconds"], FIRST_REFRESH_SECONDS)
          + f"  metrics file {f['metrics_bytes'] / 1024:,.0f} KiB")
    print(f"serving-step refresh, later publish (metrics + checking {f['badges']:,} badges): "
          f"{f['refresh_seconds']:.2f} s  " + t.below("export refresh after publish", f["refresh_seconds"],
                                                     REFRESH_SECONDS))
    print(f"export parquet (every table, {f['parquet_rows']:,} rows, {f['parquet_bytes'] / 2**20:,.1f} MiB): "
          f"{f['parquet_seconds']:.2f} s  " + t.below("export parquet", f["parquet_seconds"], PARQUET_SECONDS))
    print(f"GET /metrics first scrape after a publish: {f['first_scrape_seconds']:.3f} s  "
          + t.below("first scrape", f["first_scrape_seconds"], FIRST_SCRAPE_SECONDS))
    print(f"GET /metrics cached scrape: {f['scrape_seconds'] * 1000:.1f} ms  "
          + t.below("cached scrape", f["scrape_seconds"] * 1000, SCRAPE_SECONDS * 1000, "ms"))
    return t.missed


if __name__ == "__main__":
    missed = main(sys.argv[1:])
    for line in missed:
        print(f"missed: {line}")
    raise SystemExit(1 if missed else 0)
