"""The benchmark itself keeps working (the 10,000-service figures come from `python -m tests.bench.bench_dashboard`)."""

from __future__ import annotations

from pathlib import Path

from tests.bench import bench_dashboard as bench


def test_bench_times_every_page(tmp_path: Path) -> None:
    pages = ("teams", "service")
    timings, build_seconds = bench.page_render_times(n_services=60, workdir=tmp_path, scopes=("team",), pages=pages)
    assert build_seconds > 0
    assert [(t.page, t.scope) for t in timings] == [(p, "team") for p in pages]
    assert all(t.cold_seconds > 0 and t.warm_seconds > 0 for t in timings)
