"""`scorecard run` with a `github:` source, end to end against the fake GitHub."""

from __future__ import annotations

import datetime as dt
import logging
import os

import duckdb
import yaml

from pipelines.cli import main
from tests.fakes.github_server import FakeDeployment, FakeIssue, FakeRun
from tests.gitrepo import catalog_info, commit, init
from tests.sources.github_support import TOKEN, TOKEN_ENV

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
CI = "on:\n  push:\n    branches: [main]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps: [{run: make test}]\n"


def test_scorecard_run_with_a_github_source(github, tmp_path, monkeypatch, capfd, caplog):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)  # an ephemeral Dagster instance
    caplog.set_level(logging.DEBUG)
    repo = init(tmp_path / "repos" / "checkout-api")
    first = commit(repo, {"catalog-info.yaml": catalog_info("checkout-api", owner="checkout"),
                          ".github/workflows/ci.yml": CI, "CODEOWNERS": "* @acme/checkout\n"},
                   when=NOW - dt.timedelta(days=6))
    second = commit(repo, {"app.py": "print('v2')\n"}, when=NOW - dt.timedelta(days=2))
    github.add_repo("checkout-api", repo, protected=True,
                  runs=[FakeRun(1, "CI", "main", second, NOW - dt.timedelta(days=2))],
                  deployments=[
                      FakeDeployment(1, first, "production", NOW - dt.timedelta(days=5), [("SUCCESS", NOW - dt.timedelta(days=5))]),
                      FakeDeployment(2, second, "production", NOW - dt.timedelta(days=1), [("SUCCESS", NOW - dt.timedelta(days=1))]),
                  ],
                  issues=[FakeIssue(1, NOW - dt.timedelta(hours=20), NOW - dt.timedelta(hours=18))])
    legacy = init(tmp_path / "repos" / "legacy")
    commit(legacy, {"README.md": "# legacy"}, when=NOW - dt.timedelta(days=400))
    github.add_repo("legacy", legacy, archived=True)
    github.add_team("checkout", members=["alice"])

    config = tmp_path / "scorecard.yaml"
    config.write_text(yaml.safe_dump({
        "organisation": "acme",
        "sources": {"github": [{"organisation": "acme", "base_url": github.base_url, "token_env": TOKEN_ENV,
                                "seconds_between_requests": 0, "backoff_s": 0.01, "incident_label": "incident"}]},
        "warehouse": {"path": "warehouse/scorecard.duckdb", "serving_path": "serving/scorecard.duckdb"},
    }))
    github.inject("502", r"/branches/", times=1)  # the run report shows the retry

    assert main(["run", "--config", str(config)]) == 0
    out, err = capfd.readouterr()
    assert "Published snapshot" in out

    con = duckdb.connect(str(tmp_path / "serving" / "scorecard.duckdb"), read_only=True)
    try:
        status = {r[0]: r[1:] for r in con.execute(
            "SELECT target, source, status, reason FROM source_status").fetchall()}
        results = dict(con.execute(
            "SELECT check_id, status FROM check_results WHERE service = 'checkout-api'").fetchall())
        dora = con.execute("SELECT deployments_30d, lead_time_p50_hours, change_failure_rate, time_to_restore_hours "
                           "FROM dora WHERE service = 'checkout-api'").fetchone()
        services = [r[0] for r in con.execute("SELECT service FROM services").fetchall()]
        texts = []
        for (table,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall():
            texts += [repr(row) for row in con.execute(f'SELECT * FROM "{table}"').fetchall()]
    finally:
        con.close()

    assert status["checkout-api"][:2] == ("github", "ok")
    report_row = next(v for k, v in status.items() if k.startswith("github:"))
    assert report_row[1] == "ok" and "1 retries" in report_row[2] and "API requests" in report_row[2]
    assert services == ["checkout-api"]  # the archived repo is not scored
    # `checkout` is a team only GitHub knows (the config lists none).
    assert results["owner_is_known_team"] == "pass"
    assert results["default_branch_protected"] == "pass"
    assert results["has_ci_on_default_branch"] == "pass"
    assert dora[0] == 2 and dora[2] == 0.5 and dora[3] == 2.0
    assert abs(dora[1] - 24.0) < 0.01  # second commit -> second deploy: one day
    # The token is in the environment only: not in any table, log line or output.
    assert TOKEN in os.environ[TOKEN_ENV]
    for text in [*texts, out, err, caplog.text]:
        assert TOKEN not in text
