"""Dagster owns history: each snapshot is a date partition of the assets, and a backfill is a
partition backfill, launched from `scorecard backfill`, the UI or `dagster asset materialize`."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from checks.model import Finding, Status
from pipelines import history, stages
from pipelines.cli import backfill, main, run_snapshots
from pipelines.definitions import CRAWL_AND_SCORE_JOB, build_definitions
from tests.warehouse_query import q

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = history.SNAPSHOT_PARTITIONS


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def days_ago(*days: int) -> list[dt.date]:
    return [today() - dt.timedelta(days=d) for d in days]


def materialized(instance, asset: str) -> set[str]:
    return set(instance.get_materialized_partitions(dg.AssetKey(asset)))


# ------------------------------------------------------------ the asset graph

# asset -> (layer group, the assets it reads), pinned: the layers are the design's data flow
# (DESIGN.md "Data flow"), and every asset but the served file is partitioned by snapshot date.
GRAPH = {
    "repo_crawl_shard_0": ("sources", set()),
    "cluster_crawl_shard_0": ("sources", set()),
    "repo_crawl": ("sources", {"repo_crawl_shard_0"}),
    "cluster_crawl": ("sources", {"cluster_crawl_shard_0"}),
    "gitops_api_crawl": ("sources", set()),
    "delivery_events": ("sources", set()),
    "jira_requests": ("sources", set()),
    "service_registry": ("evidence", {"repo_crawl"}),
    "delivery_metrics": ("evidence", {"service_registry", "repo_crawl", "delivery_events", "cluster_crawl",
                                         "gitops_api_crawl"}),
    "service_evidence": ("evidence", {"service_registry", "repo_crawl", "cluster_crawl", "delivery_metrics",
                                         "gitops_api_crawl"}),
    "check_results": ("checks", {"service_evidence", "repo_crawl"}),
    "service_scores": ("scores", {"check_results"}),
    "warehouse_snapshot": ("publish", {"repo_crawl", "cluster_crawl", "gitops_api_crawl", "delivery_events",
                                       "service_registry", "delivery_metrics", "service_evidence", "check_results",
                                       "service_scores", "jira_requests"}),
    "snapshot_history": ("publish", {"warehouse_snapshot"}),
    "serving_snapshot": ("publish", {"snapshot_history"}),
}
INVARIANTS = {"every_service_has_a_score_row", "error_findings_share_under_limit", "no_duplicate_rows_in_snapshot"}


def test_the_asset_graph_is_the_layers_partitioned_by_snapshot_date():
    graph = build_definitions().resolve_asset_graph()
    assert {key.to_user_string() for key in graph.get_all_asset_keys()} == set(GRAPH)
    for name, (group, parents) in GRAPH.items():
        node = graph.get(dg.AssetKey(name))
        assert node.group_name == group, name
        assert {p.to_user_string() for p in node.parent_keys} == parents, name
        # One run computes a range of dates: what `dagster asset materialize --partition-range` needs.
        assert node.backfill_policy == dg.BackfillPolicy.single_run(), name
        if name == "serving_snapshot":
            assert node.partitions_def is None  # one file holds every date: published once per run
        else:
            assert node.partitions_def == SNAPSHOT, name
    checks = {key.name: graph.get(key) for key in graph.asset_check_keys}
    assert set(checks) == INVARIANTS
    assert all(c.key.asset_key == dg.AssetKey("warehouse_snapshot") and c.blocking for c in checks.values())


def test_snapshot_dates_are_days_from_the_first_golden_path_to_today_utc():
    keys = SNAPSHOT.get_partition_keys()
    assert keys[0] == history.HISTORY_START.isoformat() == "2020-01-01"
    assert keys[-1] == today().isoformat()  # today's snapshot is a partition from 00:00 UTC; tomorrow's is not


def test_the_daily_schedule_scores_its_own_day():
    schedule = build_definitions().resolve_schedule_def("daily_crawl_schedule")
    tick = dg.build_schedule_context(scheduled_execution_time=dt.datetime(2026, 5, 10, 5, 0, tzinfo=dt.UTC))
    assert [r.partition_key for r in schedule.evaluate_tick(tick).run_requests] == ["2026-05-10"]


def test_a_date_before_the_first_snapshot_date_is_refused_saying_why(private_org, capsys):
    code = main(["run", "--as-of", "2019-06-30", "--config", str(private_org.config)])
    err = capsys.readouterr().err
    assert code == 2 and "2019-06-30 is before 2020-01-01" in err and "Traceback" not in err


def test_contiguous_dates_make_one_run_each_range_and_gaps_split_them():
    d = dt.date(2026, 3, 1)
    days = [d, d + dt.timedelta(days=1), d + dt.timedelta(days=2), d + dt.timedelta(days=9)]
    assert history.date_ranges(days, max_days=7) == [(days[0], days[2]), (days[3], days[3])]
    week = [d + dt.timedelta(days=i) for i in range(10)]
    assert history.date_ranges(week, max_days=7) == [(week[0], week[6]), (week[7], week[9])]


# ------------------------------------------------------------ backfills


def test_a_range_run_backfills_three_partitions_each_with_its_own_snapshot(private_org):
    org = private_org
    first, middle, last = days_ago(12, 11, 10)
    instance = dg.DagsterInstance.ephemeral()
    result = run_snapshots(org.config, first, last, instance=instance)
    assert result.success

    keys = {day.isoformat() for day in (first, middle, last)}
    for asset in ("repo_crawl", "check_results", "warehouse_snapshot", "snapshot_history"):
        assert materialized(instance, asset) == keys, asset
    # each date is a snapshot of its own, all three from the one run, checked and promoted together
    runs = q(org.warehouse, "SELECT snapshot, status, kind, run_id FROM runs WHERE run_id = ? ORDER BY 1", result.run_id)
    assert [(r[0], r[1], r[2]) for r in runs] == [(day, "complete", "backfill") for day in (first, middle, last)]
    per_date = dict(q(org.warehouse, "SELECT snapshot, count(*) FROM services GROUP BY 1"))
    assert all(per_date.get(day) == per_date[today()] for day in (first, middle, last)), per_date
    assert q(org.warehouse, "SELECT count(*) FROM source_status WHERE source = 'cluster' AND snapshot < ?",
             today()) == [(0,)]  # the past's cluster state is unknown, not crawled today
    # the served file has them beside today's, and the dashboard's latest is still today
    served = {r[0] for r in q(org.serving, "SELECT DISTINCT snapshot FROM service_scores")}
    assert served == {first, middle, last, today()}
    assert q(org.serving, "SELECT max(snapshot) FROM runs") == [(today(),)]


def test_scorecard_backfill_launches_partition_runs_and_publishes_once(private_org, tmp_path, monkeypatch):
    org = private_org
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.setenv("DAGSTER_HOME", str(home))  # the runs are recorded where `dagster dev` would show them
    dates = days_ago(21, 14, 7)

    results = backfill(org.config, since_days=21, every_days=7)
    assert results == [(day, True) for day in dates]

    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs()
        assert {r.tags[history.BACKFILL_TAG] for r in runs} == {runs[0].tags[history.BACKFILL_TAG]}
        assert materialized(instance, "warehouse_snapshot") == {day.isoformat() for day in dates}
        # one partition run per date (a week apart), none of which copies the warehouse; one publish at the end
        published = instance.fetch_materializations(dg.AssetKey("serving_snapshot"), limit=10).records
        assert len(published) == 1 and len(runs) == len(dates) + 1
    assert {r[0] for r in q(org.serving, "SELECT DISTINCT snapshot FROM service_scores")} == {*dates, today()}
    assert q(org.warehouse, "SELECT count(*) FROM runs WHERE kind = 'backfill' AND status = 'complete'") == [(3,)]


def test_a_rejected_range_promotes_none_of_its_dates(private_org, monkeypatch):
    org = private_org
    published = org.serving.read_bytes()
    real = stages.evaluate
    monkeypatch.setattr(stages, "evaluate", lambda c, e, x: Finding(c.id, Status.ERROR, "check failed: boom", None)
                        if c.id in {"has_readme", "has_codeowners", "has_security_policy"} else real(c, e, x))
    first, last = days_ago(5, 4)
    result = run_snapshots(org.config, first, last)
    assert not result.success
    assert q(org.warehouse, "SELECT snapshot, status FROM runs WHERE run_id = ? ORDER BY 1", result.run_id) == [
        (first, "rejected"), (last, "rejected")]
    assert q(org.warehouse, "SELECT count(*) FROM main.services WHERE snapshot < ?", today()) == [(0,)]
    assert org.serving.read_bytes() == published


def test_dagster_asset_materialize_runs_a_partition_range(private_org):
    """As an operator backfills from a shell, without the UI's daemon (README "History and backfills")."""
    org = private_org
    first, last = days_ago(3, 2)
    env = {**os.environ, "SCORECARD_CONFIG": str(org.config)}
    env.pop("DAGSTER_HOME", None)
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "dagster"), "asset", "materialize", "-m", "pipelines.definitions",
         "--select", "*", "--partition-range", f"{first}...{last}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert q(org.warehouse, "SELECT snapshot, status FROM runs WHERE kind = 'backfill' ORDER BY 1") == [
        (first, "complete"), (last, "complete")]
    assert {r[0] for r in q(org.serving, "SELECT DISTINCT snapshot FROM runs")} == {first, last, today()}


@pytest.mark.parametrize("selection", [["service_scores"], ["warehouse_snapshot", "snapshot_history"]])
def test_a_layer_materialised_without_the_layers_it_reads_is_refused_saying_what_to_select(private_org, selection):
    job = build_definitions().resolve_job_def(CRAWL_AND_SCORE_JOB)
    result = job.execute_in_process(
        run_config={"resources": {"settings": {"config": {"config_path": str(private_org.config)}}}},
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False, partition_key=today().isoformat(),
        asset_selection=[dg.AssetKey(name) for name in selection],
    )
    assert not result.success
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failures and "materialise the whole graph" in str(failures[0].event_specific_data.error.message)
