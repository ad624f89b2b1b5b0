"""The `scorecard` command line, as a user runs it."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import backfill_dates, main

ROOT = Path(__file__).resolve().parents[2]


def run_cli(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_explain_json_has_the_documented_schema(scored_org, capsys):
    code, out, _ = run_cli(capsys, "explain", "payments-api", "--format", "json", "--config", str(scored_org.config))
    assert code == 0
    report = json.loads(out)
    assert {"service", "team", "level", "score", "checks"} <= report.keys()
    assert report["service"] == "payments-api" and report["team"] == "payments"
    assert all({"id", "status", "detail", "remediation"} <= c.keys() for c in report["checks"])
    # blocking findings come first, those that unlock the next level before the rest
    statuses = [c["status"] for c in report["checks"]]
    first_pass = statuses.index("pass") if "pass" in statuses else len(statuses)
    assert all(s in ("fail", "unknown", "error") for s in statuses[:first_pass] if s != "warn")


def test_explain_text_reads_well_for_a_lagging_service(scored_org, capsys):
    code, out, _ = run_cli(capsys, "explain", "campaign-api", "--config", str(scored_org.config))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("campaign-api") and "team growth" in lines[0]
    assert any(line.startswith("Level: ") and "Score:" in line for line in lines)
    assert "To reach" in out and "Fix: " in out and "Docs: https://" in out


def test_explain_unknown_service_suggests_close_names(scored_org, capsys):
    code, _, err = run_cli(capsys, "explain", "payment-api", "--config", str(scored_org.config))
    assert code == 2
    assert "did you mean payments-api" in err


def test_explain_without_a_published_snapshot_says_what_to_run(tmp_path, capsys):
    cfg = tmp_path / "scorecard.yaml"
    cfg.write_text("sources: {repos: [{root: repos}]}\n")
    code, _, err = run_cli(capsys, "explain", "x", "--config", str(cfg))
    assert code == 2 and "run `scorecard run`" in err


def test_checks_markdown_lists_the_whole_catalogue(capsys):
    from checks.catalogue import all_checks

    code, out, _ = run_cli(capsys, "checks", "--format", "markdown")
    assert code == 0
    for chk in all_checks():
        assert f"`{chk.id}`" in out


def test_ingest_appends_validated_events_and_skips_duplicates(tmp_path, capsys):
    cfg = tmp_path / "scorecard.yaml"
    cfg.write_text("sources: {repos: []}\n")
    events = tmp_path / "deploys.jsonl"
    events.write_text(
        '{"service": "api", "environment": "production", "sha": "abc1234", "deployed_at": "2026-11-01T10:00:00Z"}\n'
        '{"service": "api", "environment": "production", "sha": "not-a-sha", "deployed_at": "2026-11-01T11:00:00Z"}\n'
        "{broken json\n"
        '{"service": "api", "environment": "production", "sha": "abc1235", "deployed_at": "2026-11-01"}\n'
    )
    code, out, err = run_cli(capsys, "ingest", "deployments", str(events), "--config", str(cfg))
    assert code == 0
    assert "Ingested 1 deployments, updated 0 (0 already known, 3 rejected)" in out
    assert "line 2: sha" in err and "line 3: not JSON" in err and "line 4: deployed_at" in err
    code, out, _ = run_cli(capsys, "ingest", "deployments", str(events), "--config", str(cfg))
    assert "Ingested 0 deployments, updated 0 (1 already known" in out
    con = duckdb.connect(str(tmp_path / "warehouse" / "scorecard.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM deployment_events").fetchone()[0] == 1
    con.close()


def test_ingested_deployments_feed_delivery_metrics(private_org, tmp_path, capsys):
    scored_org = private_org
    from pipelines.cli import run_job

    # a service with no deploy data gains a deployment by ingestion
    before = _dora(scored_org, "legacy-reporting")
    head = subprocess.run(["git", "-C", str(scored_org.root / "demo" / "repos" / "legacy-reporting"), "rev-parse", "HEAD"],
                          capture_output=True, text=True, check=True).stdout.strip()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    events = tmp_path / "d.jsonl"
    events.write_text(json.dumps({"service": "legacy-reporting", "environment": "production", "sha": head, "deployed_at": now}) + "\n")
    assert run_cli(capsys, "ingest", "deployments", str(events), "--config", str(scored_org.config))[0] == 0
    assert run_job(scored_org.config).success
    after = _dora(scored_org, "legacy-reporting")
    assert after is not None and after[0] == (before[0] if before else 0) + 1


def _dora(org, service):
    con = duckdb.connect(str(org.serving), read_only=True)
    try:
        return con.execute(
            "SELECT deployments_30d FROM dora WHERE service = ? ORDER BY snapshot DESC LIMIT 1", [service]).fetchone()
    finally:
        con.close()


def test_backfill_dates_step_back_from_today():
    today = dt.date(2026, 11, 26)
    dates = backfill_dates(90, 7, today)
    assert len(dates) == 12 and dates[-1] == dt.date(2026, 11, 19) and dates[0] == dt.date(2026, 9, 3)
    with pytest.raises(ValueError):
        backfill_dates(10, 0, today)


def test_backfill_builds_a_history_with_a_trend(private_org, capsys):
    scored_org = private_org
    code, out, err = run_cli(capsys, "backfill", "--since", "28d", "--every", "14d", "--config", str(scored_org.config))
    assert code == 0 and "Backfilled 2/2 snapshots" in out
    con = duckdb.connect(str(scored_org.serving), read_only=True)
    snaps = [r[0] for r in con.execute("SELECT DISTINCT snapshot FROM service_scores ORDER BY 1").fetchall()]
    # cluster state of the past is unknown, never failed
    cluster = con.execute(
        "SELECT count(*) FROM source_status WHERE source = 'cluster' AND snapshot < ?", [snaps[-1]]).fetchone()[0]
    con.close()
    assert len(snaps) >= 3
    assert cluster == 0


def test_run_prints_the_summary_table(scored_org, capsys):
    code, out, _ = run_cli(capsys, "run", "--config", str(scored_org.config))
    assert code == 0
    assert "Published snapshot" in out
    assert "all teams" in out and "payments" in out and "bronze" in out


def test_bad_config_is_reported_and_nothing_runs(tmp_path, capsys):
    cfg = tmp_path / "scorecard.yaml"
    cfg.write_text("sources: [not, a, mapping]\n")
    code, _, err = run_cli(capsys, "run", "--config", str(cfg))
    assert code == 2 and "sources" in err and str(cfg) in err
    assert not (tmp_path / "warehouse").exists()


def test_dagster_definitions_validate():
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_explain_text_never_splits_a_hyphenated_service_name():
    from pipelines.explain import render_text

    report = {
        "service": "campaign-api", "team": "growth", "scorecard": "default", "snapshot": "2026-11-26",
        "level": "none", "score": 37.3, "repo": "campaign-api", "path": "", "identity_rule": "repo",
        "owner_source": "CODEOWNERS", "repo_error": None, "next_level": "bronze", "dora": None,
        "checks": [{"id": "has_lifecycle", "status": "fail", "level": "bronze", "weight": 1,
                    "unlocks_next_level": True, "blocks_a_level": True, "counts_as_pass": False,
                        "detail": "no lifecycle set", "doc_url": None,
                    "remediation": "Set `spec.lifecycle` in campaign-api's catalog entity (`catalog-info.yaml` in campaign-api)."}],
    }
    text = render_text(report, width=80)
    assert "campaign-\n" not in text and "campaign-api)." in text


def test_demo_no_serve_generates_scores_backfills_and_exits(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    code, out, err = run_cli(capsys, "demo", "--no-serve", "--weeks", "1", "--data-dir", str(tmp_path))
    assert code == 0, err[-2000:]
    assert "all teams" in out and "payments" in out  # the services-per-level-per-team table
    assert "Published snapshot" in out and "Dashboard:" not in out
    serving = tmp_path / "serving" / "scorecard.duckdb"
    con = duckdb.connect(str(serving), read_only=True)
    snapshots = con.execute("SELECT count(DISTINCT snapshot) FROM service_scores").fetchall()[0][0]
    con.close()
    assert snapshots == 2  # today and one week back
    # a second demo reuses the generated organisation
    code, out, err = run_cli(capsys, "demo", "--no-serve", "--weeks", "1", "--data-dir", str(tmp_path))
    assert code == 0 and "Generating" not in err


def test_a_run_with_no_services_completes_and_says_why(tmp_path, capsys):
    (tmp_path / "repos").mkdir()
    (tmp_path / "scorecard.yaml").write_text("sources:\n  repos:\n    - root: ./repos\n")
    assert main(["run", "--config", str(tmp_path / "scorecard.yaml")]) == 0
    out = capsys.readouterr()
    assert "all teams" in out.out and "0" in out.out
    assert "No services were found" in out.err
    assert str(tmp_path / "repos") in out.err


def test_a_missing_repository_root_names_the_directory(tmp_path, capsys):
    (tmp_path / "scorecard.yaml").write_text("sources:\n  repos:\n    - root: ./nowhere\n")
    assert main(["run", "--config", str(tmp_path / "scorecard.yaml")]) == 0
    err = capsys.readouterr().err
    assert "No services were found" in err
    assert f"repository root {tmp_path / 'nowhere'} does not exist" in err
