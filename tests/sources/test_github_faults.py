"""Faults and limits: every failure is retried or recorded per repo, the run completes, the token never leaks."""

from __future__ import annotations

import base64
import datetime as dt
import logging
import subprocess

import pytest

from pipelines.sources import github_mirror
from tests.fakes.github_server import FakeDeployment, FakeRun
from tests.gitrepo import commit, init
from tests.sources.github_support import TOKEN, TOKEN_ENV, crawl, make_source

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
CI = "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps: [{run: make test}]\n"


def small_org(github, tmp_path):
    sha = commit(init(tmp_path / "svc"), {".github/workflows/ci.yml": CI, "README.md": "# svc"},
                 when=NOW - dt.timedelta(days=3))
    commit(init(tmp_path / "lib"), {"README.md": "# lib"}, when=NOW - dt.timedelta(days=3))
    commit(init(tmp_path / "web"), {".github/workflows/ci.yml": CI}, when=NOW - dt.timedelta(days=3))
    github.add_repo("svc", tmp_path / "svc", protected=True,
                  runs=[FakeRun(1, "CI", "main", sha, NOW - dt.timedelta(days=2))],
                  deployments=[FakeDeployment(1, sha, "production", NOW - dt.timedelta(days=2),
                                              [("SUCCESS", NOW - dt.timedelta(days=2))])])
    github.add_repo("lib", tmp_path / "lib")
    github.add_repo("web", tmp_path / "web", protected=True)
    github.add_team("payments", members=["alice"])


def assert_complete(crawls):
    assert sorted(crawls) == ["lib", "svc", "web"]
    for c in crawls.values():
        assert c.facts.error is None, c.facts.error
        assert not c.facts.problems, c.facts.problems
    assert crawls["svc"].facts.branch_protected is True and crawls["lib"].facts.branch_protected is False
    assert [r["conclusion"] for r in crawls["svc"].facts.ci_runs] == ["success"]
    assert [d.status for d in crawls["svc"].deployments] == ["success"]


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        ("500", r"/branches/"),
        ("502", r"/actions/runs"),
        ("secondary", r"/branches/"),
        ("429", r"/actions/runs"),
        ("truncated", r"/branches/"),
        ("502", r"#OrgRepositories"),
        ("truncated", r"#OrgRepositories"),
        ("secondary", r"#RepositoryHistory"),
        ("500", r"/teams\?"),
    ],
)
def test_transient_faults_are_retried(github, tmp_path, kind, path):
    small_org(github, tmp_path)
    github.inject(kind, path, times=2)
    crawls, result = crawl(make_source(github, tmp_path / "state"))
    assert_complete(crawls)
    report = result.reports[0]
    assert report["retries"] >= 2 and report["waited_s"] > 0
    assert result.known_teams == ["payments"]


def test_a_response_slower_than_the_timeout_is_retried(github, tmp_path):
    small_org(github, tmp_path)
    github.inject("slow", r"/branches/main", times=1, delay=1.5)
    crawls, result = crawl(make_source(github, tmp_path / "state", timeout_s=1))
    assert_complete(crawls)
    assert result.reports[0]["retries"] >= 1


def test_a_primary_limit_that_resets_soon_is_waited_for(github, tmp_path):
    small_org(github, tmp_path)
    github.reset_in = 1.0
    github.inject("primary", r"/branches/", times=1)
    crawls, result = crawl(make_source(github, tmp_path / "state", max_wait_s=5))
    assert_complete(crawls)
    assert result.reports[0]["waited_s"] >= 0.5 and not result.reports[0]["deferred"]


def test_a_primary_limit_that_resets_late_defers_the_remaining_repos(github, tmp_path):
    small_org(github, tmp_path)
    github.reset_in = 3600
    github.inject("primary", r"/branches/", times=1)
    crawls, result = crawl(make_source(github, tmp_path / "state"))
    # Which repos were fetched before the limit hit depends on thread timing: a repo
    # whose files were read keeps them, without API facts; the rest are deferred.
    deferred = [c for c in crawls.values() if c.facts.error]
    read = [c for c in crawls.values() if not c.facts.error]
    for c in deferred:
        assert c.facts.error.startswith("deferred: primary rate limit (core) exhausted")
        assert c.facts.error.endswith("(never crawled successfully)")
    for c in read:
        assert c.facts.files and c.facts.branch_protected is None and c.facts.ci_runs is None
        assert any("not read: deferred: primary rate limit (core)" in p.reason for p in c.facts.problems)
    rows = {r["target"]: r for r in result.source_status}
    assert {rows[c.facts.repo]["status"] for c in deferred} <= {"deferred"}
    assert {rows[c.facts.repo]["status"] for c in read} <= {"ok"}
    assert rows["github:127.0.0.1:%s/acme" % github.origin.rsplit(":", 1)[1]]["status"] == "partial"
    report = result.reports[0]
    assert sorted(report["deferred"]) == sorted(c.facts.repo for c in deferred)
    assert sorted(report["api_deferred"]) == sorted(c.facts.repo for c in read)
    assert report["waited_s"] < 1  # no hour-long sleep
    # After the reset, the next run crawls what was deferred.
    github.remaining["core"], github.reset_at["core"] = github.rate_limit, 0
    crawls, _ = crawl(make_source(github, tmp_path / "state"))
    assert_complete(crawls)


def test_an_exhausted_limit_before_the_inventory_defers_every_known_repo(github, tmp_path):
    small_org(github, tmp_path)
    crawl(make_source(github, tmp_path / "state"))
    github.reset_in = 3600
    github.inject("primary", r"#OrgRepositories", times=1)
    crawls, result = crawl(make_source(github, tmp_path / "state"))
    assert sorted(crawls) == ["lib", "svc", "web"]
    for c in crawls.values():
        assert c.facts.error.startswith("deferred: organisation acme not listed: primary rate limit (graphql)")
        assert "(last good crawl " in c.facts.error
        assert c.facts.files  # the last good crawl's files, so identity keeps the same services
    assert result.reports[0]["status"] == "error" and sorted(result.reports[0]["deferred"]) == ["lib", "svc", "web"]


@pytest.mark.parametrize("form", ["RATE_LIMITED", "RATE_LIMIT"])
def test_an_exhausted_graphql_budget_mid_crawl_defers_in_either_form(github, tmp_path, form):
    small_org(github, tmp_path)
    crawl(make_source(github, tmp_path / "state"))
    svc = github.repos[("acme", "svc")]
    sha = svc.deployments[0].sha
    svc.deployments.append(FakeDeployment(2, sha, "production", NOW - dt.timedelta(hours=2),
                                          [("SUCCESS", NOW - dt.timedelta(hours=1))]))
    github.graphql_limit_form, github.reset_in = form, 3600
    github.inject("primary", r"#RepositoryHistory", times=1)  # the deployments query finds the budget spent
    github.clear_hits()
    crawls, result = crawl(make_source(github, tmp_path / "state"))
    # A deferral, not "deployments not read: API rate limit exceeded" with the run going on asking.
    assert sorted(result.reports[0]["api_deferred"]) == ["lib", "svc", "web"]
    facts = crawls["svc"].facts
    assert facts.error is None and facts.files and crawls["svc"].deployments is None
    reasons = [p.reason for p in facts.problems]
    assert any("not read: deferred: primary rate limit (graphql)" in r for r in reasons), reasons
    assert not [h for h in github.hits if "/branches/" in h.path or "/actions/" in h.path]


def test_an_exhausted_limit_on_a_first_crawl_is_a_source_error(github, tmp_path):
    small_org(github, tmp_path)
    github.reset_in = 3600
    github.inject("primary", r"#OrgRepositories", times=1)
    _, result = crawl(make_source(github, tmp_path / "state"))
    [row] = result.source_status
    assert row["status"] == "error" and "organisation acme not listed: primary rate limit (graphql)" in row["reason"]
    assert "no earlier inventory" in row["reason"]


def test_a_persistent_error_on_one_endpoint_is_recorded_for_that_repo(github, tmp_path):
    small_org(github, tmp_path)
    github.inject("500", r"/repos/acme/web/branches/", times=-1)
    crawls, result = crawl(make_source(github, tmp_path / "state", max_retries=2))
    web = crawls["web"].facts
    assert web.error is None and web.branch_protected is None and web.files == [".github/workflows/ci.yml"]
    assert any("HTTP 500 after 3 attempts" in p.reason for p in web.problems)
    assert crawls["svc"].facts.branch_protected is True
    assert {r["status"] for r in result.source_status} == {"ok"}


def test_a_repo_deleted_mid_crawl_is_that_repos_error(github, tmp_path):
    small_org(github, tmp_path)
    github.repos[("acme", "web")].vanish_after_listing = True
    crawls, result = crawl(make_source(github, tmp_path / "state"))
    assert "repository no longer exists or the token cannot see it" in crawls["web"].facts.error
    assert crawls["svc"].facts.error is None and crawls["lib"].facts.error is None
    assert {r["target"]: r["status"] for r in result.source_status}["web"] == "error"


def test_a_failed_fetch_keeps_the_last_good_crawl(github, tmp_path):
    small_org(github, tmp_path)
    first, _ = crawl(make_source(github, tmp_path / "state"))
    commit(tmp_path / "svc", {"SECURITY.md": "x"}, when=NOW - dt.timedelta(hours=1))
    github.inject("500", r"^/acme/svc\.git/", times=-1)
    crawls, result = crawl(make_source(github, tmp_path / "state"))
    svc = crawls["svc"].facts
    assert svc.error.startswith("git fetch failed") and "(last good crawl " in svc.error
    # The last good crawl's files: identity and everything scoped by path stay as they were.
    assert svc.files == first["svc"].facts.files and svc.workflows == first["svc"].facts.workflows
    assert svc.branch_protected is None and svc.ci_runs is None
    assert {r["target"]: r["status"] for r in result.source_status}["svc"] == "error"
    assert crawls["lib"].facts.error is None


def test_the_token_never_leaks(github, tmp_path, caplog, capfd, monkeypatch):
    small_org(github, tmp_path)
    github.repos[("acme", "web")].vanish_after_listing = True  # a git failure with a message
    github.inject("500", r"/repos/acme/lib/branches/", times=-1)  # an API failure with a message
    github.inject("secondary", r"/actions/runs", times=1)
    github.inject("truncated", r"#OrgRepositories", times=1)
    commands: list[list[str]] = []
    real_run = subprocess.run

    def recording_run(args, *a, **kw):
        commands.append(list(args))
        return real_run(args, *a, **kw)

    monkeypatch.setattr(github_mirror.subprocess, "run", recording_run)
    caplog.set_level(logging.DEBUG)  # PyGithub and urllib3 log every request at DEBUG
    crawls, result = crawl(make_source(github, tmp_path / "state", max_retries=1))
    assert commands and any("fetch" in c for c in commands)

    basic = base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    out, err = capfd.readouterr()
    texts = [out, err, caplog.text, repr(result), *(" ".join(c) for c in commands)]
    texts += [str(p.reason) for c in crawls.values() for p in c.facts.problems]
    texts += [str(c.facts.error) for c in crawls.values()]
    state = tmp_path / "state"
    texts += [p.read_bytes().decode("latin-1") for p in state.rglob("*") if p.is_file() and p.suffix != ".pack"]
    for text in texts:
        assert TOKEN not in text and basic not in text
    assert caplog.records  # the logs were really captured
    assert any("no longer exists" in (c.facts.error or "") for c in crawls.values())
    # git got the token in a header, never in the URL it fetched
    assert all(h.authorization == "Basic" for h in github.hits if h.resource == "git" and h.status == 200)
    assert not any("@" in part for c in commands for part in c if part.startswith("http"))


def _outage_gone(github):
    github.repos[("acme", "web")].vanish_after_listing = True


def _outage_rest_limit(github):
    github.reset_in = 3600
    github.inject("primary", r"/teams\?", times=1)


def _outage_graphql_limit(github):
    github.graphql_limit_form, github.reset_in = "RATE_LIMIT", 3600
    github.inject("primary", r"#OrgRepositories", times=1)


def _outage_502(github):
    github.inject("502", r"#OrgRepositories", times=-1)


def _outage_refused(github):
    github.close()


@pytest.mark.parametrize("outage", [_outage_gone, _outage_rest_limit, _outage_graphql_limit, _outage_502, _outage_refused],
                         ids=["gone", "rest-limit", "graphql-limit", "502", "refused"])
def test_the_token_never_leaks_when_falling_back_to_the_last_good_crawl(github, tmp_path, caplog, capfd, outage):
    small_org(github, tmp_path)
    commit(tmp_path / "web", {"SECURITY.md": "x"}, when=NOW - dt.timedelta(days=1))  # not fetched yet: stale in run 2
    crawl(make_source(github, tmp_path / "state", max_retries=1))
    commit(tmp_path / "web", {"app.py": "x"}, when=NOW - dt.timedelta(hours=1))
    source = make_source(github, tmp_path / "state", max_retries=1)
    outage(github)
    caplog.set_level(logging.DEBUG)
    crawls, result = crawl(source)
    assert any(c.facts.error for c in crawls.values())  # the outage really happened
    basic = base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    out, err = capfd.readouterr()
    texts = [out, err, caplog.text, repr(result), repr(crawls)]
    texts += [p.read_bytes().decode("latin-1") for p in (tmp_path / "state").rglob("*") if p.is_file() and p.suffix != ".pack"]
    for text in texts:
        assert TOKEN not in text and basic not in text


def test_a_token_rejected_after_a_good_crawl_keeps_the_last_good_crawl(github, tmp_path, monkeypatch):
    small_org(github, tmp_path)
    crawl(make_source(github, tmp_path / "state"))
    wrong = "ghp_RevokedTokenThatMustNotAppear0123456"
    monkeypatch.setenv(TOKEN_ENV, wrong)
    crawls, result = crawl(make_source(github, tmp_path / "state"))
    assert sorted(crawls) == ["lib", "svc", "web"]
    for c in crawls.values():
        assert c.facts.error.startswith("deferred: organisation acme not listed: GraphQL HTTP 401")
        assert "(last good crawl " in c.facts.error and c.facts.files
    row = next(r for r in result.source_status if r["target"].startswith("github:"))
    assert row["status"] == "error" and "Bad credentials" in row["reason"]
    assert result.known_teams == ["payments"]  # the last known teams
    assert wrong not in repr(result) and wrong not in repr(crawls)


def test_a_rejected_token_is_reported_without_being_repeated(github, tmp_path, monkeypatch):
    small_org(github, tmp_path)
    wrong = "ghp_WrongTokenThatMustNotAppear0123456789"
    monkeypatch.setenv(TOKEN_ENV, wrong)
    _, result = crawl(make_source(github, tmp_path / "state"))
    [row] = result.source_status
    assert row["status"] == "error" and "401" in row["reason"] and "Bad credentials" in row["reason"]
    assert wrong not in repr(result) and TOKEN not in repr(result)
