"""`scorecard run` when GitHub cannot be read in full: the organisation's services stay, marked stale.

Each test runs the real job in-process twice against the fake GitHub: a good
run, then a run during an outage (rate limit, 5xx, unreachable server,
timeouts, a repository deleted mid-run). What a user would check is the
published snapshot: the same services as before, their repo checks `unknown`
with the time of the last good crawl, and a `source_status` that says why.
"""

from __future__ import annotations

import datetime as dt
import logging
import os

import duckdb
import pytest
import yaml

from pipelines.cli import main
from tests.fakes.github_server import FakeRun
from tests.gitrepo import catalog_info, commit, init
from tests.sources.github_support import TOKEN, TOKEN_ENV

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
CI = "on:\n  push:\n    branches: [main]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps: [{run: make test}]\n"
GITHUB_SERVICES = ["checkout-api", "ledger", "notifier", "payments"]
# Checks whose value comes partly from the GitHub API (branch protection, CI runs).
API_JUDGED = {"default_branch_protected", "has_ci_on_default_branch"}


@pytest.fixture(autouse=True)
def _ephemeral_dagster(monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)


def build_org(github, tmp_path) -> None:
    """A monorepo declaring three components, and a single-service repository."""
    platform = init(tmp_path / "upstream" / "platform")
    commit(platform, {
        "services/payments/catalog-info.yaml": catalog_info("payments", owner="payments"),
        "services/ledger/catalog-info.yaml": catalog_info("ledger", owner="payments"),
        "services/notifier/catalog-info.yaml": catalog_info("notifier", owner="platform"),
        "CODEOWNERS": "* @acme/platform\n",
        "README.md": "# platform\n",
        ".github/workflows/ci.yml": CI,
    }, when=NOW - dt.timedelta(days=5))
    github.add_repo("platform", platform, protected=True)
    checkout = init(tmp_path / "upstream" / "checkout-api")
    sha = commit(checkout, {
        "catalog-info.yaml": catalog_info("checkout-api", owner="checkout"),
        "CODEOWNERS": "* @acme/checkout\n",
        "README.md": "# checkout\n",
        "SECURITY.md": "report privately\n",
        ".github/workflows/ci.yml": CI,
    }, when=NOW - dt.timedelta(days=4))
    github.add_repo("checkout-api", checkout, protected=True,
                    runs=[FakeRun(1, "CI", "main", sha, NOW - dt.timedelta(days=3))])
    for team in ("payments", "platform", "checkout"):
        github.add_team(team, members=["alice"])


def write_config(github, tmp_path, *, local: bool = False, **github_settings) -> str:
    sources: dict = {"github": [{
        "organisation": "acme", "base_url": github.base_url, "token_env": TOKEN_ENV,
        "seconds_between_requests": 0, "backoff_s": 0.01, "max_retries": 1, "timeout_s": 1, "max_wait_s": 2,
        **github_settings,
    }]}
    if local:
        commit(init(tmp_path / "local" / "tools-cli"), {"README.md": "# tools\n", "CODEOWNERS": "* @acme/platform\n"},
               when=NOW - dt.timedelta(days=2))
        sources["repos"] = [{"root": "local"}]
    config = tmp_path / "scorecard.yaml"
    config.write_text(yaml.safe_dump({
        "organisation": "acme",
        "sources": sources,
        "warehouse": {"path": "warehouse/scorecard.duckdb", "serving_path": "serving/scorecard.duckdb"},
    }))
    return str(config)


def published(tmp_path) -> dict:
    """What the dashboard would read from the latest snapshot."""
    con = duckdb.connect(str(tmp_path / "serving" / "scorecard.duckdb"), read_only=True)
    try:
        snap = con.execute("SELECT max(snapshot) FROM runs WHERE status = 'complete'").fetchone()[0]
        out = {
            "services": sorted(r[0] for r in con.execute("SELECT service FROM services WHERE snapshot = ?", [snap]).fetchall()),
            "checks": {(s, c): (st, d) for s, c, st, d in con.execute(
                "SELECT service, check_id, status, detail FROM check_results WHERE snapshot = ?", [snap]).fetchall()},
            "status": {t: (st, r) for t, st, r in con.execute(
                "SELECT target, status, reason FROM source_status WHERE snapshot = ?", [snap]).fetchall()},
            "teams": dict(con.execute("SELECT service, team FROM services WHERE snapshot = ?", [snap]).fetchall()),
        }
        texts = []
        for (table,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall():
            texts += [repr(row) for row in con.execute(f'SELECT * FROM "{table}"').fetchall()]
        out["texts"] = texts
    finally:
        con.close()
    return out


def org_row(snapshot: dict) -> tuple[str, str]:
    return next(v for k, v in snapshot["status"].items() if k.startswith("github:"))


def assert_stale(before: dict, after: dict, services: list[str], why: str) -> None:
    """Same services, owners kept; every repo-judged check is unknown, naming the reason and the last good crawl."""
    assert after["services"] == before["services"]
    for service in services:
        assert after["teams"][service] == before["teams"][service]
        judged = [c for (s, c), (st, _) in before["checks"].items() if s == service and st in ("pass", "fail", "warn")]
        assert judged, service
        for check in judged:
            status, detail = after["checks"][(service, check)]
            # The last good crawl's catalog names the services, but is not judged again.
            assert status == "unknown", (service, check, status, detail)
            assert why in detail and "last good crawl" in detail, (service, check, detail)
            stamp = detail.split("last good crawl ", 1)[1]
            dt.datetime.strptime(stamp[:20], "%Y-%m-%d %H:%M UTC")


def assert_token_absent(snapshot: dict, *texts: str) -> None:
    assert TOKEN in os.environ[TOKEN_ENV]
    for text in [*snapshot["texts"], *texts]:
        assert TOKEN not in text


# ------------------------------------------------- the organisation cannot be listed


@pytest.mark.parametrize("form", ["RATE_LIMITED", "RATE_LIMIT"])
def test_an_exhausted_graphql_budget_in_either_form_defers_the_organisation(github, tmp_path, form, capfd, caplog):
    caplog.set_level(logging.DEBUG)
    build_org(github, tmp_path)
    config = write_config(github, tmp_path)
    assert main(["run", "--config", config]) == 0
    before = published(tmp_path)
    assert before["services"] == GITHUB_SERVICES
    assert before["checks"][("payments", "has_codeowners")][0] == "pass"

    github.graphql_limit_form = form
    github.reset_in = 3600
    github.inject("primary", r"#OrgRepositories", times=1)
    assert main(["run", "--config", config]) == 0
    after = published(tmp_path)
    assert_stale(before, after, GITHUB_SERVICES, "deferred: ")
    assert after["status"]["platform"][0] == "deferred" and after["status"]["checkout-api"][0] == "deferred"
    assert "rate limit (graphql)" in after["status"]["platform"][1]
    status, reason = org_row(after)
    assert status == "error" and "not listed" in reason and "2 repos kept from their last good crawl" in reason
    out, err = capfd.readouterr()
    assert_token_absent(after, out, err, caplog.text)


def _server_errors(github):
    github.inject("502", r"#OrgRepositories", times=-1)


def _unreachable(github):
    github.close()  # connection refused on the same address


def _timeouts(github):
    github.inject("slow", r"#OrgRepositories", times=-1, delay=1.5)


@pytest.mark.parametrize("outage", [_server_errors, _unreachable, _timeouts], ids=["5xx", "refused", "timeout"])
def test_an_organisation_that_cannot_be_listed_keeps_its_services_beside_another_source(github, tmp_path, outage, capfd, caplog):
    caplog.set_level(logging.DEBUG)
    build_org(github, tmp_path)
    config = write_config(github, tmp_path, local=True)
    assert main(["run", "--config", config]) == 0
    before = published(tmp_path)
    assert before["services"] == sorted([*GITHUB_SERVICES, "tools-cli"])

    outage(github)
    assert main(["run", "--config", config]) == 0
    after = published(tmp_path)
    assert_stale(before, after, GITHUB_SERVICES, "deferred: organisation acme not listed")
    # The other source is crawled as usual.
    assert {k: v for k, v in after["checks"].items() if k[0] == "tools-cli"} == \
        {k: v for k, v in before["checks"].items() if k[0] == "tools-cli"}
    status, reason = org_row(after)
    assert status == "error" and "not listed" in reason
    out, err = capfd.readouterr()
    assert_token_absent(after, out, err, caplog.text)


def test_without_an_earlier_inventory_the_source_reports_an_error_and_the_run_completes(github, tmp_path, capfd):
    build_org(github, tmp_path)
    config = write_config(github, tmp_path)
    github.inject("502", r"#OrgRepositories", times=-1)
    assert main(["run", "--config", config]) == 0
    after = published(tmp_path)
    assert after["services"] == []
    [(status, reason)] = after["status"].values()
    assert status == "error"
    assert "organisation acme not listed" in reason and "HTTP 502" in reason and "no earlier inventory" in reason
    _, err = capfd.readouterr()
    assert "No services were found" in err and "HTTP 502" in err


# ------------------------------------------------- the REST budget runs out mid-crawl


def test_an_exhausted_rest_budget_keeps_file_checks_of_repos_whose_head_did_not_move(github, tmp_path):
    build_org(github, tmp_path)
    config = write_config(github, tmp_path)
    assert main(["run", "--config", config]) == 0
    before = published(tmp_path)
    assert before["checks"][("checkout-api", "default_branch_protected")][0] == "pass"

    # checkout-api is pushed; platform is not. The REST budget runs out after the inventory.
    commit(tmp_path / "upstream" / "checkout-api", {"app.py": "print('v2')\n"}, when=NOW - dt.timedelta(hours=1))
    github.reset_in = 3600
    github.inject("primary", r"/teams\?", times=1)
    assert main(["run", "--config", config]) == 0
    after = published(tmp_path)
    assert after["services"] == before["services"]

    # platform's mirror is current: its files did not change, so file checks keep their values...
    for service in ("payments", "ledger", "notifier"):
        for (s, check), (status, detail) in before["checks"].items():
            if s != service or check in API_JUDGED:
                continue
            assert after["checks"][(s, check)] == (status, detail), (s, check)
        # CI is configured in the files: still a pass, without the note on recent runs.
        assert after["checks"][(service, "has_ci_on_default_branch")][0] == "pass"
        # ...and only what the API alone knows is unknown.
        status, detail = after["checks"][(service, "default_branch_protected")]
        assert status == "unknown" and before["checks"][(service, "default_branch_protected")][0] == "pass"
    assert after["status"]["platform"][0] == "ok"
    # checkout-api moved: its files are not known this run, so it is stale as a whole.
    assert_stale(before, after, ["checkout-api"], "deferred: primary rate limit (core)")
    assert after["status"]["checkout-api"][0] == "deferred"
    status, reason = org_row(after)
    assert status == "partial" and "without API facts" in reason


# ------------------------------------------------- a repository deleted after the inventory


@pytest.mark.parametrize("pushed", [False, True], ids=["head-unchanged", "head-moved"])
def test_a_repository_deleted_after_the_inventory_is_not_reported_ok(github, tmp_path, pushed):
    build_org(github, tmp_path)
    config = write_config(github, tmp_path)
    assert main(["run", "--config", config]) == 0
    before = published(tmp_path)

    if pushed:  # the mirror is fetched, and git says "not found"
        commit(tmp_path / "upstream" / "checkout-api", {"app.py": "print('v2')\n"}, when=NOW - dt.timedelta(hours=1))
    github.repos[("acme", "checkout-api")].vanish_after_listing = True
    github.repos[("acme", "checkout-api")].listed = False
    assert main(["run", "--config", config]) == 0
    after = published(tmp_path)
    status, reason = after["status"]["checkout-api"]
    assert status == "error" and "repository no longer exists or the token cannot see it" in reason
    assert_stale(before, after, ["checkout-api"], "repository no longer exists or the token cannot see it")
    assert after["status"]["platform"] == before["status"]["platform"]
