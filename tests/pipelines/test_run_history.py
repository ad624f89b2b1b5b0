"""A run only becomes history when its data invariants pass; operators can see and delete snapshots."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from checks.model import Finding, Status
from pipelines import stages
from pipelines.cli import main, run_job
from tests.warehouse_query import q

BROKEN = {"has_readme", "has_codeowners", "has_security_policy"}  # 3 of ~40 checks: well over the 5 % error limit


def run_cli(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def broken_checks(monkeypatch):
    """A check library release in which three checks crash on every service."""
    real = stages.evaluate

    def evaluate(check, ev, ctx):
        if check.id in BROKEN:
            return Finding(check.id, Status.ERROR, "check failed: KeyError: 'spec'", None)
        return real(check, ev, ctx)

    monkeypatch.setattr(stages, "evaluate", evaluate)


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def test_a_rejected_run_is_never_published_nor_promoted_by_a_later_good_run(private_org, monkeypatch, capsys):
    org = private_org
    published = org.serving.read_bytes()
    good_errors = q(org.warehouse, "SELECT count(*) FROM check_results WHERE snapshot = ? AND status = 'error'", today())

    with monkeypatch.context() as m:
        real = stages.evaluate
        m.setattr(stages, "evaluate", lambda c, e, x: Finding(c.id, Status.ERROR, "check failed: boom", None)
                  if c.id in BROKEN else real(c, e, x))
        code, _, err = run_cli(capsys, "run", "--config", str(org.config))
    assert code == 2
    assert "snapshot rejected: data invariant error_findings_share_under_limit failed" in err
    assert "is unchanged" in err
    assert org.serving.read_bytes() == published

    # The operator sees the rejected run and why; history still holds the earlier good snapshot of today.
    runs = q(org.warehouse, "SELECT status, message FROM runs WHERE snapshot = ? ORDER BY started_at", today())
    assert [s for s, _ in runs] == ["complete", "rejected"]
    assert "error_findings_share_under_limit" in runs[1][1] and "has_codeowners" in runs[1][1]
    assert q(org.warehouse, "SELECT count(*) FROM check_results WHERE snapshot = ? AND status = 'error'",
             today()) == good_errors
    code, out, _ = run_cli(capsys, "snapshots", "list", "--config", str(org.config))
    assert code == 0 and "rejected" in out and "error_findings_share_under_limit" in out

    # A later good run (another date) publishes history without the rejected snapshot.
    yesterday = today() - dt.timedelta(days=1)
    assert run_job(org.config, yesterday, kind="backfill").success
    assert q(org.serving, "SELECT DISTINCT status FROM runs") == [("complete",)]
    assert q(org.serving, "SELECT count(*) FROM check_results WHERE snapshot = ? AND status = 'error'",
             today()) == good_errors
    assert {r[0] for r in q(org.serving, "SELECT DISTINCT snapshot FROM runs")} == {today(), yesterday}
    code, out, _ = run_cli(capsys, "explain", "payments-api", "--format", "json", "--config", str(org.config))
    report = json.loads(out)
    assert report["snapshot"] == today().isoformat()
    assert not any(c["status"] == "error" and c["id"] in BROKEN for c in report["checks"])


def test_a_rejected_first_run_publishes_nothing(small_org_files, tmp_path, broken_checks):
    import shutil

    root, _ = small_org_files
    shutil.copytree(root / "demo", tmp_path / "demo", symlinks=True)
    config = tmp_path / "demo" / "scorecard.yaml"
    result = run_job(config)
    assert not result.success
    assert not (tmp_path / "serving" / "scorecard.duckdb").exists()
    assert q(tmp_path / "warehouse" / "scorecard.duckdb", "SELECT status FROM runs") == [("rejected",)]
    # Nothing reached history: only the staging area holds the rejected rows, for inspection.
    assert q(tmp_path / "warehouse" / "scorecard.duckdb", "SELECT count(*) FROM main.check_results") == [(0,)]
    assert q(tmp_path / "warehouse" / "scorecard.duckdb", "SELECT count(*) FROM staging.check_results")[0][0] > 0


def test_a_future_as_of_is_refused_before_anything_runs(private_org, capsys):
    before = q(private_org.warehouse, "SELECT count(*) FROM runs")
    future = (today() + dt.timedelta(days=1)).isoformat()
    code, _, err = run_cli(capsys, "run", "--as-of", future, "--config", str(private_org.config))
    assert code == 2
    assert f"--as-of {future} is after today" in err and "UTC" in err
    assert "Traceback" not in err
    assert q(private_org.warehouse, "SELECT count(*) FROM runs") == before


@pytest.mark.parametrize("days", [30, 1])
def test_a_future_date_is_no_partition_dagster_can_launch(private_org, days):
    import dagster as dg

    from pipelines.definitions import CRAWL_AND_SCORE_JOB, build_definitions

    job = build_definitions().resolve_job_def(CRAWL_AND_SCORE_JOB)
    future = (today() + dt.timedelta(days=days)).isoformat()
    with pytest.raises(dg.DagsterUnknownPartitionError, match=future):
        job.execute_in_process(
            run_config={"resources": {"settings": {"config": {"config_path": str(private_org.config)}}}},
            instance=dg.DagsterInstance.ephemeral(), raise_on_error=False, partition_key=future,
        )
    assert q(private_org.serving, "SELECT max(snapshot) FROM runs") == [(today(),)]
    assert q(private_org.warehouse, "SELECT count(*) FROM runs WHERE snapshot > ?", today()) == [(0,)]


def test_operators_list_and_delete_snapshots_and_the_served_file_follows(private_org, capsys):
    org = private_org
    old = today() - dt.timedelta(days=7)
    assert run_job(org.config, old, kind="backfill").success
    assert {r[0] for r in q(org.serving, "SELECT snapshot FROM runs")} == {today(), old}

    code, out, _ = run_cli(capsys, "snapshots", "list", "--format", "json", "--config", str(org.config))
    listed = json.loads(out)
    assert code == 0 and {(r["snapshot"], r["status"]) for r in listed} == {(str(today()), "complete"), (str(old), "complete")}

    code, out, _ = run_cli(capsys, "snapshots", "delete", old.isoformat(), "--config", str(org.config))
    assert code == 0 and f"Deleted snapshot {old}" in out
    assert {r[0] for r in q(org.serving, "SELECT snapshot FROM runs")} == {today()}
    assert q(org.serving, "SELECT count(*) FROM check_results WHERE snapshot = ?", old) == [(0,)]
    assert q(org.warehouse, "SELECT status FROM runs WHERE snapshot = ?", old) == [("deleted",)]

    code, _, err = run_cli(capsys, "snapshots", "delete", old.isoformat(), "--config", str(org.config))
    assert code == 2 and f"no complete snapshot {old}" in err
    code, _, err = run_cli(capsys, "snapshots", "delete", "2026-13-45", "--config", str(org.config))
    assert code == 2 and "snapshot '2026-13-45' is not a date" in err
