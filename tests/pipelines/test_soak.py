"""The soak (tests/bench/bench_soak.py) judges what it measures: a short soak
runs the real schedule, ingest and dashboard, and a lost event, a page that
fails or memory that keeps rising is reported as a miss, not waved through."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines import warehouse
from pipelines.cli import run_job
from tests.bench.bench_soak import Figures, Sample, growth, missed, run
from tests.gitrepo import catalog_info, commit, init


def _samples(rss: list[float], fds: list[int] | None = None, peaks: list[float] | None = None) -> list[Sample]:
    fds = fds or [20] * len(rss)
    peaks = peaks or [r + 100 for r in rss]
    return [Sample(i + 1, 1.0, r, f, 200.0, 30, float(i), p) for i, (r, f, p) in enumerate(zip(rss, fds, peaks))]


def test_growth_ignores_the_warm_up_and_allocator_noise_but_not_a_steady_rise() -> None:
    # Caches fill during the warm-up, then RSS swings ±3 MiB around a plateau.
    plateau = [300.0] * 5 + [360.0] * 5 + [362, 358, 361, 359, 363, 357] * 10
    leak = [300.0 + 1.5 * i for i in range(70)]  # 1.5 MiB per cycle, ~90 MiB over the soak
    assert abs(growth(plateau)) < 5
    assert growth(leak) > 50


def test_a_steady_rise_in_memory_or_open_files_is_a_missed_target() -> None:
    flat = Figures(cycles_planned=60, samples=_samples([300.0] * 60), events_acknowledged=4, events_found=4,
                   events_queued=4, page_loads_ok=10)
    assert missed(flat) == []

    leaking = Figures(cycles_planned=60, samples=_samples([300.0 + 2 * i for i in range(60)]),
                      events_acknowledged=4, events_found=4, events_queued=4, page_loads_ok=10)
    assert any(m.startswith("scheduler RSS growth: +") for m in missed(leaking))

    fd_leak = Figures(cycles_planned=60, samples=_samples([300.0] * 60, [20 + i for i in range(60)]),
                      events_acknowledged=4, events_found=4, events_queued=4, page_loads_ok=10)
    assert any(m.startswith("scheduler open files growth: +") for m in missed(fd_leak))

    # Memory freed by the end of each cycle, but each cycle's peak higher than the last (a publish that
    # holds the whole history at once): RSS between cycles is flat, the peak is the miss.
    peak_leak = Figures(cycles_planned=60, samples=_samples([300.0] * 60, peaks=[400.0 + 7 * i for i in range(60)]),
                        events_acknowledged=4, events_found=4, events_queued=4, page_loads_ok=10)
    assert [m.split(":")[0] for m in missed(peak_leak)] == ["scheduler peak RSS per cycle growth"]

    short = Figures(cycles_planned=60, samples=_samples([300.0] * 59), events_acknowledged=4, events_found=4,
                    events_queued=4, page_loads_ok=10)
    assert any(m.startswith("cycles: 59 of 60 ran") for m in missed(short))


@pytest.mark.slow
def test_short_soak_counts_page_loads_and_events_and_reports_a_lost_event_and_a_failed_page(tmp_path: Path) -> None:
    """Two daily ticks with the real schedule, job, `scorecard ingest` and Streamlit server.

    The reader also asks for a page that does not exist, and after the soak
    one ingested deployment is deleted behind its back, as a bad prune would:
    both must come out as missed targets, and everything else as fine.
    """
    deleted: list[int] = []

    def lose_the_production_deploy(path: Path, acknowledged: list[str]) -> None:
        assert any(k.startswith("deployment ") for k in acknowledged), acknowledged
        with warehouse.connect(path, doing="deleting an event (test)") as con:
            deleted.append(con.execute(
                "DELETE FROM deployment_events WHERE environment = 'production' AND source LIKE 'ingest:%'"
            ).fetchone()[0])

    f = run(tmp_path, cycles=2, pages=("", "teams", "no-such-page"), before_verify=lose_the_production_deploy)

    assert [s.cycle for s in f.samples] == [1, 2] and not f.failed_runs
    # The first tick committed, so its staging and production deploys and an incident were pushed.
    assert f.events_queued == 3 and f.events_acknowledged == 3 and not f.ingests_refused
    assert deleted == [1]
    assert len(f.events_lost) == 1 and f.events_lost[0].startswith("deployment checkout-api production ")
    assert f.events_found == 2
    # Every visit renders the two real pages and fails on the missing one.
    assert f.page_loads_ok >= 2 and f.page_loads_ok == 2 * len(f.page_loads_failed)
    assert all(p == "/no-such-page: page not found" or p.startswith("/no-such-page: page not found")
               for p in f.page_loads_failed), f.page_loads_failed
    assert f.samples[-1].server_rss_mib > 0 and f.samples[-1].fds > 0
    misses = missed(f)
    assert any(m.startswith("lost events: 1 ") for m in misses), misses
    assert any(m.startswith("failed page loads: ") for m in misses), misses
    assert not any(m.startswith(("cycles", "refused", "no page", "no event")) for m in misses), misses

    # The soak deletes its Dagster home when it ends; a Dagster run after it in the same process (the
    # next test on this worker) must not still be pointed at that home. It was, and failed with
    # "unable to open database file" until the soak left its instance as a context manager.
    repos = tmp_path / "after" / "repos"
    commit(init(repos / "billing"), {"catalog-info.yaml": catalog_info("billing")})
    config = tmp_path / "after" / "scorecard.yaml"
    config.write_text(f"sources:\n  repos:\n    - root: {repos}\n")
    assert run_job(config).success
