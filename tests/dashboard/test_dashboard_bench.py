"""The benchmark itself keeps working (the 10,000-service figures come from `python -m tests.bench.bench_dashboard`)."""

from __future__ import annotations

from pathlib import Path

from tests.bench import bench_dashboard as bench

SMALL = {"weeks": 1, "repos": 16, "teams": 4}  # two snapshots of a small demo org: seconds, not minutes


def test_bench_times_every_page_on_pipeline_output(tmp_path: Path) -> None:
    pages = ("teams", "service")
    timings, built = bench.page_render_times(n_services=60, workdir=tmp_path, scopes=("team",), pages=pages, **SMALL)
    assert built.build_seconds > 0
    assert (built.services, built.checks, built.snapshots) == (60, bench.CHECKS, 2)
    assert built.rows["check_results"] == 60 * bench.CHECKS * 2
    assert [(t.page, t.scope) for t in timings] == [(p, "team") for p in pages]
    assert all(t.cold_seconds > 0 and t.warm_seconds > 0 for t in timings)
    # The same code and sizes: the published file is reused, not rebuilt.
    _, again = bench.page_render_times(n_services=60, workdir=tmp_path, scopes=("team",), pages=("service",), **SMALL)
    assert again.build_seconds is None and again.serving == built.serving


def test_a_page_over_its_target_is_a_missed_target(monkeypatch, capsys) -> None:
    slow = [bench.PageTiming("teams", "org", bench.TARGET_SECONDS + 0.5, 0.1)]
    history = bench.BuiltHistory(bench.WORK / "x.duckdb", None, {}, bench.SNAPSHOTS, 10_000, bench.CHECKS)
    monkeypatch.setattr(bench, "page_render_times", lambda n: (slow, history))
    assert bench.main() == [f"teams page (org) cold render: {bench.TARGET_SECONDS + 0.5:,.1f} s, target < 2 s"]
    assert "(target < 2 s)" in capsys.readouterr().out
