"""The Jira source against the loopback fake: both Cloud search endpoints, Data Center, paging,
auth, every failure a user meets, and the config's validation."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from pydantic import ValidationError

from pipelines.config_jira import JiraSourceConfig
from pipelines.sources.jira import POST_AFTER_CHARS, JiraSource
from tests.fakes.jira_server import FakeJira, Fault, issue

EMAIL_ENV, TOKEN_ENV = "TEST_JIRA_EMAIL", "TEST_JIRA_TOKEN"


def issues(n: int, project: str = "PLAT") -> list[dict]:
    return [issue(f"{project}-{i}", f"2026-10-{1 + i % 28:02d}T09:00:00.000+0000", labels=("team:payments",))
            for i in range(1, n + 1)]


def source(fake: FakeJira, **cfg) -> JiraSource:
    config = JiraSourceConfig(**{
        "project": "PLAT", "base_url": fake.url, "deployment": fake.deployment, "email_env": EMAIL_ENV,
        "token_env": TOKEN_ENV, "requesting_team": {"label_prefix": "team:"}, "backoff_s": 0, **cfg,
    })
    env = {EMAIL_ENV: fake.email, TOKEN_ENV: fake.token}
    return JiraSource(config, environ=env, sleep=lambda s: fake.slept.append(s))


@pytest.fixture
def cloud():
    with FakeJira(issues=issues(120)) as fake:
        fake.slept = []
        yield fake


@pytest.fixture
def data_center():
    with FakeJira(deployment="data_center", issues=issues(75), context_path="/jira") as fake:
        fake.slept = []
        yield fake


# ------------------------------------------------------------------ paging


def test_cloud_pages_with_next_page_token_until_the_last_page(cloud) -> None:
    progress: list[tuple[int, int]] = []
    crawl = source(cloud, page_size=100).crawl(progress=lambda stage, done, total: progress.append((done, total)))
    assert crawl.error is None
    assert [r.key for r in crawl.requests] == [f"PLAT-{i}" for i in range(1, 121)]
    seen = cloud.requests
    assert [r.path for r in seen] == ["/rest/api/3/search/jql"] * 3  # the server caps pages at 50
    assert "nextPageToken" not in seen[0].params and seen[1].params["nextPageToken"]
    assert {r.method for r in seen} == {"GET"} and {r.scheme for r in seen} == {"Basic"}
    assert "labels" in seen[0].params["fields"].split(",")
    assert progress[-1] == (120, 120)
    first = crawl.requests[0]
    assert first.team == "payments" and first.status_category == "indeterminate" and first.issue_type == "Task"


def test_cloud_long_jql_goes_in_a_post_body(cloud) -> None:
    extra = "(summary !~ \"" + "x" * POST_AFTER_CHARS + "\")"
    cloud.accepted_jql.add(extra)
    crawl = source(cloud, jql=extra[1:-1]).crawl()
    assert crawl.error is None and len(crawl.requests) == 120
    assert {r.method for r in cloud.requests} == {"POST"}
    assert cloud.requests[0].params["fields"][0] == "issuetype"  # a list in the body, as the POST schema has it


def test_cloud_legacy_search_pages_with_start_at(cloud) -> None:
    crawl = source(cloud, legacy_search=True).crawl()
    assert crawl.error is None and len(crawl.requests) == 120
    assert [r.params["startAt"] for r in cloud.requests] == ["0", "50", "100"]
    assert {r.path for r in cloud.requests} == {"/rest/api/3/search"}


def test_cloud_legacy_search_removed_says_so(cloud) -> None:
    cloud.legacy_removed = True
    crawl = source(cloud, legacy_search=True).crawl()
    assert crawl.requests == []
    assert "410" in crawl.error and "/rest/api/3/search/jql" in crawl.error


def test_data_center_uses_api_2_with_a_bearer_token_under_a_context_path(data_center) -> None:
    crawl = source(data_center).crawl()
    assert crawl.error is None and len(crawl.requests) == 75
    assert {r.path for r in data_center.requests} == {"/rest/api/2/search"}
    assert {r.scheme for r in data_center.requests} == {"Bearer"}
    assert [r.params["startAt"] for r in data_center.requests] == ["0", "50"]


def test_incremental_crawl_asks_only_for_issues_updated_since_the_last_one(cloud) -> None:
    cloud.issues[0]["fields"]["updated"] = "2026-11-20T12:00:00.000+0000"
    since = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
    crawl = source(cloud).crawl(since)
    # JQL dates are in the account's zone: the query starts a day early; merging by key absorbs the overlap.
    assert 'updated >= "2026-11-19 10:00"' in cloud.requests[0].jql
    assert [r.key for r in crawl.requests] == ["PLAT-1"] and crawl.incremental


def test_requesting_team_from_custom_field_then_label_then_reporter(cloud) -> None:
    cloud.issues[:] = [
        issue("PLAT-1", "2026-10-01T09:00:00.000+0000", customfield_10050={"value": "data"}, labels=("team:web",)),
        issue("PLAT-2", "2026-10-01T09:00:00.000+0000", customfield_10050=None, labels=("team:web",)),
        issue("PLAT-3", "2026-10-01T09:00:00.000+0000"),
        issue("PLAT-4", "2026-10-01T09:00:00.000+0000", customfield_10050=[{"name": "Search", "id": "x"}]),
    ]
    crawl = source(cloud, requesting_team={"field": "customfield_10050", "label_prefix": "team:",
                                           "reporters": {"5b10a2844c20165700ede21g": "identity"}}).crawl()
    assert [r.team for r in crawl.requests] == ["data", "web", "identity", "Search"]
    assert "reporter" in cloud.requests[0].params["fields"]


def test_an_issue_without_a_created_date_is_skipped_and_named(cloud) -> None:
    cloud.issues[3]["fields"]["created"] = None
    crawl = source(cloud).crawl()
    assert crawl.error is None and len(crawl.requests) == 119
    assert crawl.problems == ["PLAT-4: no created date (is the field hidden from this account?)"]


# ------------------------------------------------------------------ failures


@pytest.mark.parametrize("which,expected", [
    ("email", "authentication failed (HTTP 401): check the API token in $TEST_JIRA_TOKEN and the email in $TEST_JIRA_EMAIL"),
    ("token", "authentication failed (HTTP 401)"),
])
def test_wrong_credentials_are_a_clear_401(cloud, which, expected) -> None:
    jira = source(cloud)
    jira._environ = {EMAIL_ENV: "someone@else.example" if which == "email" else cloud.email,
                     TOKEN_ENV: "wrong-token-123456" if which == "token" else cloud.token}
    crawl = jira.crawl()
    assert crawl.error.startswith(expected) and crawl.requests == []


def test_a_missing_variable_is_named(cloud) -> None:
    jira = source(cloud)
    jira._environ = {TOKEN_ENV: cloud.token}
    assert jira.crawl().error == "$TEST_JIRA_EMAIL is not set: Jira Cloud needs the account's email with the API token"
    assert cloud.requests == []


def test_403_names_the_permission(cloud) -> None:
    cloud.faults.append(Fault(403, body={"errorMessages": ["Basic auth with passwords is deprecated."], "errors": {}}))
    crawl = source(cloud).crawl()
    assert crawl.error == ("forbidden (HTTP 403): the account needs Browse Projects on PLAT "
                           "(Basic auth with passwords is deprecated.)")


def test_no_browse_permission_shows_jiras_own_400(cloud) -> None:
    cloud.browse = False
    crawl = source(cloud).crawl()
    assert crawl.error == ("Jira rejected the search (HTTP 400): "
                           "The value 'PLAT' does not exist for the field 'project'.")


def test_bad_jql_shows_jiras_error_messages(cloud) -> None:
    crawl = source(cloud, jql="priority = = High").crawl()
    assert crawl.error.startswith("Jira rejected the search (HTTP 400): Error in the JQL Query:")
    assert "priority = = High" in crawl.error


def test_a_wrong_base_url_is_a_404_with_a_hint(data_center) -> None:
    jira = source(data_center)
    jira.cfg = jira.cfg.model_copy(update={"base_url": data_center.url.removesuffix("/jira")})
    crawl = jira.crawl()
    assert crawl.error.startswith("not found (HTTP 404) at /rest/api/2/search: check base_url")


def test_429_waits_as_long_as_retry_after_says(cloud) -> None:
    cloud.faults += [Fault(429, headers={"Retry-After": "7"}), Fault(503)]
    crawl = source(cloud).crawl()
    assert crawl.error is None and len(crawl.requests) == 120
    assert cloud.slept == [7.0, 0.0]


def test_a_retry_after_beyond_the_limit_gives_up_without_waiting(cloud) -> None:
    cloud.faults.append(Fault(429, headers={"Retry-After": "3600"}))
    crawl = source(cloud, max_wait_s=60).crawl()
    assert "Jira asks to wait 3600 s, longer than max_wait_s (60 s)" in crawl.error and cloud.slept == []


def test_5xx_retries_then_gives_up_readably(cloud) -> None:
    cloud.faults += [Fault(502)] * 3
    crawl = source(cloud, max_retries=2).crawl()
    assert crawl.error == "HTTP 502 after 3 attempts at /rest/api/3/search/jql" and crawl.requests == []


def test_a_truncated_body_is_retried(cloud) -> None:
    cloud.faults.append(Fault(truncate=True))
    crawl = source(cloud).crawl()
    assert crawl.error is None and len(crawl.requests) == 120 and crawl.retries == 1


def test_truncated_every_time_is_a_clear_error(cloud) -> None:
    cloud.faults += [Fault(truncate=True)] * 2
    crawl = source(cloud, max_retries=1).crawl()
    assert crawl.error == "the response was cut off (incomplete body) after 2 attempts at /rest/api/3/search/jql"


def test_a_login_page_instead_of_json(cloud) -> None:
    cloud.faults.append(Fault(html=True))
    crawl = source(cloud).crawl()
    assert crawl.error.startswith("the answer at /rest/api/3/search/jql is not JSON (text/html)")


def test_a_page_lost_mid_crawl_loses_the_whole_crawl(cloud) -> None:
    cloud.faults += [Fault(200, body={"issues": issues(50), "nextPageToken": "NTA="}), Fault(401)]
    crawl = source(cloud).crawl()
    # Half a crawl would advance the watermark past issues never read: nothing of it is used.
    assert crawl.error.startswith("authentication failed (HTTP 401)")
    assert crawl.requests == []


# ------------------------------------------------------------------ offline file


def test_issues_file_in_the_search_api_shape(tmp_path) -> None:
    path = tmp_path / "issues.json"
    path.write_text(json.dumps({"issues": issues(3)}), encoding="utf-8")
    cfg = JiraSourceConfig(project="PLAT", issues_file=path, requesting_team={"label_prefix": "team:"})
    crawl = JiraSource(cfg).crawl()
    assert crawl.error is None and [r.key for r in crawl.requests] == ["PLAT-1", "PLAT-2", "PLAT-3"]


@pytest.mark.parametrize("content,expected", [
    (None, "issues_file issues.json does not exist"),
    ("{\"issues\": [", "issues_file issues.json is not readable JSON"),
    ("{\"total\": 3}", "the response has no `issues` array"),
])
def test_a_bad_issues_file_is_an_error_not_a_crash(tmp_path, content, expected) -> None:
    path = tmp_path / "issues.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    cfg = JiraSourceConfig(project="PLAT", issues_file=path, requesting_team={"label_prefix": "team:"})
    assert JiraSource(cfg).crawl().error.startswith(expected)


# ------------------------------------------------------------------ config


@pytest.mark.parametrize("cfg,message", [
    ({"project": "plat", "issues_file": "x.json"}, "expected a Jira project key"),
    ({"project": "PLAT"}, "set either base_url"),
    ({"project": "PLAT", "issues_file": "x", "base_url": "https://a.atlassian.net"}, "set either base_url"),
    ({"project": "PLAT", "base_url": "https://me:pw@a.atlassian.net"}, "must not contain credentials"),
    ({"project": "PLAT", "base_url": "https://a", "token_env": "ATATT3x-secret value"}, "name of an environment variable"),
    ({"project": "PLAT", "base_url": "https://a", "deployment": "data_center", "legacy_search": True}, "legacy_search"),
    ({"project": "PLAT", "issues_file": "x", "requesting_team": {}}, "set at least one of field"),
    ({"project": "PLAT", "issues_file": "x", "requesting_team": {"field": "Team"}}, "customfield_10050"),
])
def test_config_problems_are_named(cfg, message) -> None:
    cfg = {"requesting_team": {"label_prefix": "team:"}, **cfg}
    with pytest.raises(ValidationError) as err:
        JiraSourceConfig(**cfg)
    assert message in str(err.value)
