"""Requests to the platform team: stored as facts, merged on re-crawl, kept when Jira fails, and
published per week (hand-computed expectations); the credentials reach no table, log or error."""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipelines import platform_requests, warehouse
from pipelines.config import load_config
from tests.fakes.jira_server import FakeJira, Fault, issue

EMAIL_ENV, TOKEN_ENV = "TEST_JIRA_EMAIL", "TEST_JIRA_TOKEN"
AS_OF = dt.date(2026, 11, 16)  # a Monday: the newest complete week is 9-15 November


def write_config(tmp_path: Path, jira: str) -> Path:
    path = tmp_path / "scorecard.yaml"
    path.write_text(
        "sources:\n  repos: []\n  jira:\n" + jira
        + "warehouse:\n  path: wh/scorecard.duckdb\n  serving_path: serving/scorecard.duckdb\n",
        encoding="utf-8",
    )
    return path


FILE_ENTRY = """    - project: PLAT
      issues_file: issues.json
      requesting_team: {label_prefix: "team:"}
      self_service: {issue_types: [New repository], labels: [dns]}
"""


def api_entry(url: str) -> str:
    return f"""    - project: PLAT
      base_url: {url}
      email_env: {EMAIL_ENV}
      token_env: {TOKEN_ENV}
      backoff_s: 0
      max_retries: 1
      requesting_team: {{label_prefix: "team:"}}
      self_service: {{issue_types: [New repository], labels: [dns]}}
"""


HAND = [
    # week of 2 Nov: payments files two (one self-service by type), data one (self-service by label)
    issue("PLAT-1", "2026-11-02T09:00:00.000+0000", resolved="2026-11-02T19:00:00.000+0000", status="done",
          issue_type="New repository", labels=("team:payments",)),
    issue("PLAT-2", "2026-11-03T09:00:00.000+0000", resolved="2026-11-05T09:00:00.000+0000", status="done",
          labels=("team:payments",)),
    issue("PLAT-3", "2026-11-04T09:00:00.000+0000", issue_type="Task", labels=("team:data", "DNS")),
    # week of 9 Nov: one request, resolved after the snapshot date (open as of AS_OF)
    issue("PLAT-4", "2026-11-10T09:00:00.000+0000", resolved="2026-11-20T09:00:00.000+0000", status="done",
          labels=("team:payments",)),
    # no team at all; created in the week that is not over yet on AS_OF (not published)
    issue("PLAT-5", "2026-11-04T12:00:00.000+0000", resolved="2026-11-10T12:00:00.000+0000", status="done"),
    issue("PLAT-6", "2026-11-16T08:00:00.000+0000", labels=("team:payments",)),
]


def test_weekly_requests_self_service_share_and_resolution_percentiles(tmp_path) -> None:
    (tmp_path / "issues.json").write_text(json.dumps({"issues": HAND}), encoding="utf-8")
    config = load_config(write_config(tmp_path, FILE_ENTRY))
    result = platform_requests.for_dates(config, config.warehouse_path, [AS_OF])[AS_OF]
    assert [(r["source"], r["target"], r["status"], r["items"]) for r in result.status] == [("jira", "PLAT", "ok", 6)]
    trend = result.trend.set_index(["team", "week"])
    nov2, nov9 = pd.Timestamp("2026-11-02"), pd.Timestamp("2026-11-09")
    assert len(trend.loc["*"]) == platform_requests.TREND_WEEKS and trend.index.get_level_values("week").max() == nov9

    org = trend.loc[("*", nov2)]
    assert (org.requests, org.self_service_requests, org.self_service_share) == (4, 2, 0.5)
    # resolved that week: PLAT-1 after 10 h and PLAT-2 after 48 h
    assert org.resolved == 2 and org.resolution_p50_hours == 29.0 and org.resolution_p90_hours == pytest.approx(44.2)
    later = trend.loc[("*", nov9)]  # PLAT-5 resolved after 144 h; PLAT-4 is still open on AS_OF
    assert (later.requests, later.resolved, later.resolution_p50_hours) == (1, 1, 144.0)
    assert trend.loc[("payments", nov2)].self_service_share == 0.5
    assert trend.loc[("data", nov2)].self_service_requests == 1  # the label matches whatever its case
    assert trend.loc[(platform_requests.NO_TEAM, nov2)].requests == 1
    assert trend.loc[("payments", pd.Timestamp("2026-10-26"))].requests == 0  # quiet weeks are zeros, not gaps


def test_team_spellings_land_on_the_configured_team(tmp_path) -> None:
    spelled = [issue("PLAT-1", "2026-11-02T09:00:00.000+0000", labels=("team:Payments",)),
               issue("PLAT-2", "2026-11-02T09:00:00.000+0000", labels=("team:pay-squad",)),
               issue("PLAT-3", "2026-11-02T09:00:00.000+0000", labels=("team:unknown-team",))]
    (tmp_path / "issues.json").write_text(json.dumps({"issues": spelled}), encoding="utf-8")
    path = write_config(tmp_path, FILE_ENTRY)
    path.write_text(path.read_text() + "teams:\n  - {name: payments, aliases: [pay-squad]}\n", encoding="utf-8")
    config = load_config(path)
    platform_requests.crawl_and_store(config, config.warehouse_path)
    with warehouse.read_only(config.warehouse_path) as con:
        teams = dict(con.execute("SELECT key, requesting_team FROM jira_requests").fetchall())
    assert teams == {"PLAT-1": "payments", "PLAT-2": "payments", "PLAT-3": "unknown-team"}


def test_a_re_crawl_asks_only_for_updates_and_merges_them(tmp_path, monkeypatch) -> None:
    with FakeJira(issues=[dict(i) for i in HAND]) as fake:
        monkeypatch.setenv(EMAIL_ENV, fake.email)
        monkeypatch.setenv(TOKEN_ENV, fake.token)
        config = load_config(write_config(tmp_path, api_entry(fake.url)))
        platform_requests.crawl_and_store(config, config.warehouse_path)
        assert "updated >= -400d" in fake.requests[0].jql

        # PLAT-3 gets resolved; the second crawl reads it again and nothing else is lost.
        fake.issues[2] = issue("PLAT-3", "2026-11-04T09:00:00.000+0000", resolved=_now(), status="done",
                               labels=("team:data", "DNS"))
        for other in fake.issues[:2]:
            other["fields"]["updated"] = "2026-11-05T09:00:00.000+0000"
        status, _ = platform_requests.crawl_and_store(config, config.warehouse_path)
    assert 'updated >= "' in fake.requests[-1].jql
    assert status[0]["reason"] is None and status[0]["items"] < len(HAND)
    with warehouse.read_only(config.warehouse_path) as con:
        rows = dict(con.execute("SELECT key, status_category FROM jira_requests").fetchall())
    assert len(rows) == len(HAND) and rows["PLAT-3"] == "done"


def test_a_failed_jira_keeps_the_stored_requests_and_is_shown_stale(tmp_path, monkeypatch) -> None:
    with FakeJira(issues=HAND) as fake:
        monkeypatch.setenv(EMAIL_ENV, fake.email)
        monkeypatch.setenv(TOKEN_ENV, fake.token)
        config = load_config(write_config(tmp_path, api_entry(fake.url)))
        good = platform_requests.for_dates(config, config.warehouse_path, [AS_OF])[AS_OF]
        fake.faults += [Fault(503)] * 2
        bad = platform_requests.for_dates(config, config.warehouse_path, [AS_OF])[AS_OF]
    assert bad.status[0]["status"] == "error" and bad.status[0]["reason"].startswith("HTTP 503 after 2 attempts")
    assert bad.status[0]["last_success_at"] is None  # filled from the last good crawl when the snapshot is stored
    pd.testing.assert_frame_equal(bad.trend, good.trend)


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def test_the_email_and_token_reach_no_table_log_or_error(tmp_path, monkeypatch, caplog, capfd) -> None:
    from pipelines.cli import main

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    with FakeJira(issues=HAND) as fake:
        basic = base64.b64encode(f"{fake.email}:{fake.token}".encode()).decode()
        # A proxy that echoes the request's credentials into its error page, then a good answer.
        fake.faults.append(Fault(500, body={"errorMessages": [f"Authorization: Basic {basic} for {fake.email}",
                                                              f"token {fake.token}"]}))
        fake.faults.append(Fault(400, body={"errorMessages": [f"bad request from {fake.email} ({fake.token})"]}))
        monkeypatch.setenv(EMAIL_ENV, fake.email)
        monkeypatch.setenv(TOKEN_ENV, fake.token)
        config_path = write_config(tmp_path, api_entry(fake.url))
        caplog.set_level(logging.DEBUG)
        code = main(["run", "--config", str(config_path)])
        secrets = (fake.email, fake.token, basic)
    out, err = capfd.readouterr()
    assert code == 0, err[-2000:]
    config = load_config(config_path)
    texts = [out, err, caplog.text]
    for path in (config.warehouse_path, config.serving_path):
        con = duckdb.connect(str(path), read_only=True)
        try:
            for (table,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall():
                texts += [repr(row) for row in con.execute(f'SELECT * FROM "{table}"').fetchall()]
            reason = con.execute("SELECT reason FROM source_status WHERE source = 'jira'").fetchone()[0]
        finally:
            con.close()
    assert reason.startswith("Jira rejected the search (HTTP 400): bad request from *** (***)")
    for text in texts:
        for secret in secrets:
            assert secret not in text, text[:300]
    # Nor the reporter's personal data the issues carry: only what the metrics need is stored.
    assert not any("a.person@example.com" in t or "A Person" in t for t in texts)


def test_a_run_whose_jira_fails_publishes_it_stale_with_the_previous_requests(tmp_path, monkeypatch) -> None:
    from pipelines.cli import main

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    with FakeJira(issues=HAND) as fake:
        monkeypatch.setenv(EMAIL_ENV, fake.email)
        monkeypatch.setenv(TOKEN_ENV, fake.token)
        config_path = write_config(tmp_path, api_entry(fake.url))
        assert main(["run", "--config", str(config_path)]) == 0
        fake.faults += [Fault(503, headers={"Retry-After": "0"})] * 2
        assert main(["run", "--config", str(config_path)]) == 0  # a failed Jira never fails the run
    config = load_config(config_path)
    with warehouse.read_only(config.serving_path) as con:
        status, reason, last_success, crawled = con.execute(
            "SELECT status, reason, last_success_at, crawled_at FROM source_status WHERE source = 'jira'").fetchone()
        weeks = con.execute("SELECT count(*) FROM request_trend WHERE team = '*'").fetchone()[0]
    with warehouse.read_only(config.warehouse_path) as con:
        stored = con.execute("SELECT count(*) FROM jira_requests").fetchone()[0]
    assert status == "error" and reason == "HTTP 503 after 2 attempts at /rest/api/3/search/jql"
    assert last_success is not None and last_success < crawled  # stale: the first run's crawl
    assert stored == len(HAND) and weeks == platform_requests.TREND_WEEKS  # kept, and still measured
