"""`scorecard preview` on a real run: what a rule change would do, from the stored evidence, publishing nothing.

The organisation (`rule_change_org`, tests/conftest.py) is real git
repositories scored by the Dagster job. Which services a change must move is
read from what that job published, by the scoring rule itself ("a level is
reached when every check of it and below counts as passing"), never from the
preview under test.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from pipelines.cli import main
from tests.warehouse_query import q


def _preview(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["preview", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def _variant(org, name: str, extra: str) -> Path:
    """The org's config with YAML appended (a later top-level key wins: pyyaml keeps the last)."""
    path = org.config.with_name(name)
    path.write_text(org.config.read_text() + extra)
    return path


def _card(report: dict, name: str) -> dict:
    return next(c for c in report["scorecards"] if c["scorecard"] == name)


CI_SCORECARD = """
  - name: ci
    levels:
      - {name: bronze, checks: [uses_shared_ci_workflow]}
      - {name: silver, checks: [shared_ci_workflow_up_to_date]}
"""


def _with_ci_scorecard(org, name: str, thresholds: str = "") -> Path:
    # The org's scorecards plus one judging only the CI workflow, so a CI threshold moves levels.
    text = org.config.read_text()
    assert "\nscorecards:\n" in text
    start = text.index("\nscorecards:\n") + len("\nscorecards:\n")
    path = org.config.with_name(name)
    path.write_text(text[:start] + CI_SCORECARD.lstrip("\n") + text[start:] + thresholds)
    return path


def test_raising_ci_workflow_max_releases_behind_lifts_the_services_two_or_three_releases_behind(
        rule_change_org, capsys):
    org = rule_change_org
    behind = {s: json.loads(p)["releases_behind"] for s, p in q(org.serving, """
        SELECT service, params FROM check_results WHERE check_id = 'shared_ci_workflow_up_to_date'
          AND status = 'fail' AND snapshot = (SELECT max(snapshot) FROM runs)""")}
    expected = {s for s, n in behind.items() if n <= 3}
    assert expected, "the demo org has services more than one CI workflow release behind"
    current = _with_ci_scorecard(org, "current.yaml")
    new = _with_ci_scorecard(org, "ci-3.yaml", "\nthresholds:\n  ci_workflow_max_releases_behind: 3\n")

    code, out, err = _preview(capsys, "--config", str(new), "--against", str(current), "--format", "json")

    assert code == 0, err
    report = json.loads(out)
    assert report["rule_changes"] == ["ci_workflow_max_releases_behind 1 → 3"]
    ci = _card(report, "ci")
    up = {s["service"] for s in ci["services_affected"] if s["movement"] == "up"}
    assert up == expected
    assert all(s["level_before"] == "bronze" and s["level_after"] == "silver"
               for s in ci["services_affected"] if s["service"] in expected)
    assert ci["moved_down"] == 0 and ci["moved_up"] == len(expected)
    assert ci["newly_passing"] == [{"check_id": "shared_ci_workflow_up_to_date", "services": len(expected)}]
    assert ci["newly_failing"] == []
    teams = dict(q(org.serving, "SELECT service, team FROM services WHERE snapshot = (SELECT max(snapshot) FROM runs)"))
    by_team = {r["team"]: (r["up"], r["down"]) for r in ci["by_team"]}
    for team in {teams[s] for s in expected}:
        assert by_team[team] == (sum(1 for s in expected if teams[s] == team), 0)


def test_moving_a_check_down_a_level_drops_the_services_failing_it(rule_change_org, capsys):
    org = rule_change_org
    # has_runbook is gold in the demo's production-readiness scorecard; bronze now.
    text = org.config.read_text()
    assert text.count("- has_runbook") == 1
    lines = text.splitlines()
    lines.remove(next(line for line in lines if line.strip() == "- has_runbook"))
    at = lines.index(next(line for line in lines if line.strip() == "- has_codeowners"))
    lines.insert(at, lines[at].replace("has_codeowners", "has_runbook"))
    new = org.config.with_name("runbook-bronze.yaml")
    new.write_text("\n".join(lines) + "\n")
    expected = {s for (s,) in q(org.serving, """
        SELECT service FROM service_scores s
        WHERE scorecard = 'production-readiness' AND level_rank >= 1 AND snapshot = (SELECT max(snapshot) FROM runs)
          AND EXISTS (SELECT 1 FROM scorecard_results r WHERE r.snapshot = s.snapshot AND r.scorecard = s.scorecard
                      AND r.service = s.service AND r.check_id = 'has_runbook' AND r.applicable
                      AND NOT r.counts_as_pass)""")}
    assert expected, "some service with a level has no runbook in the demo org"

    code, out, err = _preview(capsys, "--config", str(new), "--format", "json")

    assert code == 0, err
    report = json.loads(out)
    assert report["rule_changes"] == ["production-readiness: has_runbook gold → bronze"]
    card = _card(report, "production-readiness")
    assert {s["service"] for s in card["services_affected"] if s["movement"] == "down"} == expected
    assert all(s["level_after"] == "none" for s in card["services_affected"] if s["service"] in expected)
    assert card["moved_up"] == 0
    # The default scorecard's rules did not change, and re-scoring the stored evidence
    # reproduces the stored snapshot exactly: nothing else moves.
    assert _card(report, "default")["services_affected"] == []


def test_the_unchanged_config_previews_no_change_at_all(rule_change_org, capsys):
    code, out, err = _preview(capsys, "--config", str(rule_change_org.config))
    assert code == 0, err
    assert "no rule change" in out
    assert out.count("no service affected") == 2  # the default and production-readiness scorecards


def test_a_preview_never_touches_the_published_file_or_history(rule_change_org, capsys):
    org = rule_change_org
    serving = org.serving
    before = (serving.read_bytes(), serving.stat().st_mtime_ns)
    runs = q(org.warehouse, "SELECT count(*), max(snapshot) FROM runs")
    history = q(org.warehouse, "SELECT count(*) FROM service_scores")
    new = _variant(org, "strict.yaml", "\nthresholds:\n  min_replicas: 3\n")

    code, out, err = _preview(capsys, "--config", str(new), "--name", "replicas-3")

    assert code == 0, err
    assert "Preview replicas-3 of snapshot" in out and "min_replicas 2 → 3" in out
    assert (serving.read_bytes(), serving.stat().st_mtime_ns) == before
    assert q(org.warehouse, "SELECT count(*), max(snapshot) FROM runs") == runs
    assert q(org.warehouse, "SELECT count(*) FROM service_scores") == history
    assert q(org.warehouse, "SELECT preview, snapshot FROM preview_runs WHERE preview = 'replicas-3'") == [
        ("replicas-3", runs[0][1])]
    tables = {t for (t,) in q(serving, "SELECT table_name FROM information_schema.tables")}
    assert "preview_runs" not in tables or ("replicas-3",) not in q(serving, "SELECT preview FROM preview_runs")


def test_publish_puts_the_preview_in_the_served_file_beside_unchanged_history(rule_change_org, capsys):
    org = rule_change_org
    history = q(org.serving, "SELECT count(*), count(DISTINCT snapshot) FROM service_scores")
    tables = {t for (t,) in q(org.serving, "SELECT table_name FROM information_schema.tables")}
    new = _variant(org, "cpu.yaml", "\nthresholds:\n  require_cpu_limit: true\n")

    code, out, err = _preview(capsys, "--config", str(new), "--publish")

    assert code == 0, err
    assert "Compare page can now show preview cpu" in out
    assert ("cpu",) in q(org.serving, "SELECT preview FROM preview_runs")
    assert q(org.serving, "SELECT count(*), count(DISTINCT snapshot) FROM service_scores") == history
    # A republish is the job's publish: what the job's publish derived (initiatives, ...) is still there.
    assert tables <= {t for (t,) in q(org.serving, "SELECT table_name FROM information_schema.tables")}
    assert (org.serving.parent / "static" / "metrics.txt").exists()
    # the preview's own rows are apart from history: both sides, for the same snapshot
    sides = q(org.serving, "SELECT side, count(*) FROM preview_service_scores WHERE preview = 'cpu' GROUP BY 1 ORDER BY 1")
    assert [s for s, _ in sides] == ["current", "preview"]


def test_the_rule_change_is_logged_at_the_first_snapshot_under_the_new_rules(rule_change_org):
    rows = q(rule_change_org.serving, "SELECT snapshot, previous_snapshot, changes, summary FROM rule_changes")
    latest, previous = q(rule_change_org.serving, "SELECT max(snapshot), min(snapshot) FROM runs")[0]
    assert len(rows) == 1
    snapshot, before, changes, summary = rows[0]
    assert (snapshot, before) == (latest, previous)
    assert json.loads(changes) == ["helm_chart_max_releases_behind 2 → 1"]
    assert summary == "rules changed: helm_chart_max_releases_behind 2 → 1"
    digests = q(rule_change_org.serving, "SELECT count(DISTINCT digest) FROM rule_sets")
    assert digests == [(2,)]


def test_without_stored_evidence_the_preview_says_what_to_run(rule_change_org, tmp_path, capsys):
    import shutil

    evidence = rule_change_org.warehouse.parent / "evidence"
    kept = tmp_path / "kept"
    shutil.copytree(evidence, kept)
    shutil.rmtree(evidence)
    try:
        code, _out, err = _preview(capsys, "--config", str(rule_change_org.config))
    finally:
        shutil.copytree(kept, evidence)
    assert code == 2
    assert "no stored evidence for snapshot" in err and "run `scorecard run` once" in err
    assert "Traceback" not in err


def test_a_bad_preview_config_is_refused_before_anything_runs(rule_change_org, capsys):
    bad = _variant(rule_change_org, "bad.yaml", "\nthresholds:\n  ci_workflow_max_releases_behnd: 3\n")
    code, _out, err = _preview(capsys, "--config", str(bad))
    assert code == 2
    assert "thresholds.ci_workflow_max_releases_behnd" in err


def test_evidence_holding_a_registered_secret_is_not_stored(tmp_path):
    from pipelines import evidence_store, secrets

    token = "ghp_" + "x1y2z3" * 6
    secrets.register(token)
    try:
        stored = evidence_store.save(tmp_path / "scorecard.duckdb", dt.date(2026, 1, 1), "run-1",
                                     [{"repo_error": f"401 for token {token}"}], [])
    finally:
        secrets.SECRETS.clear()
    assert stored is None
    assert not any(p.read_bytes().find(token.encode()) >= 0 for p in tmp_path.rglob("*") if p.is_file())


@pytest.mark.skipif(os.name != "posix", reason="file modes")
def test_stored_evidence_is_readable_by_its_owner_only(rule_change_org):
    files = list((rule_change_org.warehouse.parent / "evidence").glob("*.pickle"))
    assert len(files) == 1  # only the latest complete snapshot's evidence is kept
    assert files[0].stat().st_mode & 0o077 == 0


def test_config_that_needs_a_crawl_is_named_as_not_previewed():
    from pipelines.config import parse_config
    from pipelines.preview import not_previewed

    current = parse_config({"sources": {"repos": [{"root": "repos"}]}}, "current.yaml", Path("."))
    new = parse_config({"sources": {"repos": [{"root": "repos"}]}, "discovery": {"max_depth": 3},
                        "thresholds": {"min_replicas": 3}}, "new.yaml", Path("."))
    assert not_previewed(new, current) == ["discovery"]
    assert not_previewed(new, None) == []  # without --against the config the snapshot was crawled with is unknown
