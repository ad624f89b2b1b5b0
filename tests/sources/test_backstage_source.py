"""The Backstage source against a loopback catalog: paging, auth, failures, re-crawls.

Each test drives real HTTP to tests/fakes/backstage_server.py and asserts
what a user would see: the entities read, or the one sentence in
source_status saying why not (never the token).
"""

from __future__ import annotations

import json

import pytest

from pipelines import secrets
from pipelines.config_sources import BackstageSourceConfig
from pipelines.sources.backstage import FIELDS, LIST_FIELDS, BackstageSource
from tests.fakes.backstage_server import FakeBackstage, Fault, demo_catalog, entity

TOKEN = "bs-static-token-0123456789abcdef"


def source(fake: FakeBackstage, tmp_path, env: dict | None = None, **cfg) -> BackstageSource:
    config = BackstageSourceConfig(base_url=fake.url, backoff_s=0.0, **cfg)
    return BackstageSource(config, base_dir=tmp_path, state_dir=tmp_path / "state",
                           environ={"BACKSTAGE_TOKEN": TOKEN} if env is None else env)


@pytest.fixture
def fake():
    with FakeBackstage(entities=demo_catalog(5)) as server:
        yield server


def test_cursor_paging_reads_every_component_group_and_system(fake, tmp_path):
    pages = []
    catalog = source(fake, tmp_path, page_size=3).crawl(lambda stage, done, total: pages.append((done, total)))
    assert catalog.error is None
    assert sorted(c.name for c in catalog.components) == [f"svc-{i}" for i in range(5)]
    assert set(catalog.groups) == {"group:default/engineering", "group:default/payments", "group:default/platform"}
    assert catalog.groups["group:default/payments"].display_name == "Payments Team"
    assert catalog.groups["group:default/payments"].parent == "engineering"
    assert catalog.systems == {"system:default/checkout": "group:default/payments"}
    # 9 entities of the three kinds (the User is filtered out by the server), 3 a page.
    first, *rest = [r for r in fake.requests if r.endpoint == "by-query"]
    assert sorted(first.query["filter"]) == ["kind=component", "kind=group", "kind=system"]  # one set per kind: OR
    assert first.query["fields"] == [",".join(FIELDS)] and first.query["limit"] == ["3"]
    assert len(rest) == 2 and all("cursor" in r.query and "filter" not in r.query for r in rest)
    assert pages == [(1, 3), (2, 3), (3, 3)]
    assert catalog.stats["pages"] == 3 and catalog.stats["mode"] == "by-query"
    assert all(c.origin == "portal" and c.owner in ("payments", "platform") for c in catalog.components)


def test_an_old_backend_without_by_query_is_read_with_offset_paging(fake, tmp_path):
    fake.legacy_only = True
    catalog = source(fake, tmp_path, page_size=4).crawl()
    assert catalog.error is None and len(catalog.components) == 5
    legacy = [r for r in fake.requests if r.endpoint == "entities"]
    assert [r.query["offset"] for r in legacy] == [["0"], ["4"], ["8"]]
    assert catalog.stats["mode"] == "legacy"


def test_the_token_is_sent_as_bearer_and_a_portal_without_auth_needs_none(fake, tmp_path):
    fake.token = TOKEN
    assert source(fake, tmp_path).crawl().error is None
    assert {r.authorization for r in fake.requests} == {f"Bearer {TOKEN}"}
    fake.token = None
    fake.requests.clear()
    assert source(fake, tmp_path / "b", env={}).crawl().error is None
    assert {r.authorization for r in fake.requests} == {None}


@pytest.mark.parametrize("env,expected", [
    ({}, "needs a token: set $BACKSTAGE_TOKEN"),
    ({"BACKSTAGE_TOKEN": "some-other-token-value"}, "rejected the token in $BACKSTAGE_TOKEN"),
])
def test_401_says_which_variable_to_fix(fake, tmp_path, env, expected):
    fake.token = TOKEN
    catalog = source(fake, tmp_path, env=env).crawl()
    assert catalog.error.startswith("unauthorized (401)") and expected in catalog.error
    assert "AuthenticationError" in catalog.error and catalog.components == []


@pytest.mark.parametrize("fault,expected", [
    (Fault(403), "forbidden (403): the token may not read the catalog (permission catalog.entity.read)"),
    (Fault(truncate=True), "is not valid JSON"),
    (Fault(500), "HTTP 500 from"),
])
def test_refusals_and_broken_bodies_are_a_readable_error(fake, tmp_path, fault, expected):
    fake.fail("by-query", *[fault] * 5)
    catalog = source(fake, tmp_path, max_retries=2).crawl()
    assert expected in catalog.error
    if fault.status == 500:
        assert "after 3 attempts" in catalog.error and fake.count("by-query") == 3


def test_no_catalog_at_the_url_says_what_base_url_should_be(tmp_path):
    with FakeBackstage(legacy_only=True) as fake:
        fake.fail("entities", Fault(404))
        catalog = source(fake, tmp_path).crawl()
    assert "no catalog API at" in catalog.error and "backend URL" in catalog.error


def test_429_and_503_are_retried_honouring_retry_after(fake, tmp_path):
    fake.fail("by-query", Fault(429, retry_after="0.2"), Fault(503))
    catalog = source(fake, tmp_path).crawl()
    assert catalog.error is None and len(catalog.components) == 5
    assert catalog.stats["retries"] == 2 and catalog.stats["waited_s"] >= 0.2


def test_a_retry_after_longer_than_max_wait_fails_the_portal_at_once(fake, tmp_path):
    fake.fail("by-query", Fault(429, retry_after="3600"))
    catalog = source(fake, tmp_path, max_wait_s=5).crawl()
    assert "asked to wait 3600 s, more than max_wait_s" in catalog.error
    assert fake.count("by-query") == 1


def test_a_stalled_portal_times_out(fake, tmp_path):
    fake.fail("by-query", Fault(delay=1.5))
    catalog = source(fake, tmp_path, timeout_s=0.3).crawl()
    assert catalog.error.startswith("timed out waiting for")


def test_a_truncated_page_mid_crawl_fails_the_whole_portal_not_half_of_it(fake, tmp_path):
    fake.fail("by-query", Fault(), Fault(truncate=True))
    catalog = source(fake, tmp_path, page_size=3).crawl()
    assert "not valid JSON" in catalog.error and catalog.components == []


def test_cannot_connect(tmp_path):
    with FakeBackstage() as fake:
        url = fake.url
    config = BackstageSourceConfig(base_url=url, max_retries=0)
    catalog = BackstageSource(config, base_dir=tmp_path, state_dir=None, environ={}).crawl()
    assert catalog.error.startswith("cannot connect to")


# ------------------------------------------------------------------ re-crawl


def test_a_recrawl_lists_etags_and_fetches_only_what_changed(fake, tmp_path):
    first = source(fake, tmp_path).crawl()
    assert first.stats["fetched"] == 9 and first.stats["reused"] == 0
    fake.requests.clear()
    unchanged = source(fake, tmp_path).crawl()
    assert unchanged.stats == {**unchanged.stats, "fetched": 0, "reused": 9}
    assert [r.query["fields"] for r in fake.requests] == [[",".join(LIST_FIELDS)]]  # one listing, nothing fetched
    assert sorted(c.name for c in unchanged.components) == sorted(c.name for c in first.components)

    fake.update("svc-1", lifecycle="deprecated")
    fake.entities.append(entity("Component", "svc-new", spec={"type": "service", "lifecycle": "experimental",
                                                                 "owner": "payments"}))
    fake.entities = [e for e in fake.entities if e["metadata"]["name"] != "svc-4"]
    fake.requests.clear()
    changed = source(fake, tmp_path).crawl()
    refs = [r for r in fake.requests if r.endpoint == "by-refs"]
    assert len(refs) == 1 and sorted(refs[0].body["entityRefs"]) == ["component:default/svc-1", "component:default/svc-new"]
    assert changed.stats["fetched"] == 2 and changed.stats["reused"] == 7
    lifecycles = {c.name: c.lifecycle for c in changed.components}
    assert lifecycles["svc-1"] == "deprecated" and "svc-4" not in lifecycles and lifecycles["svc-new"] == "experimental"


def test_a_recrawl_without_by_refs_reads_everything_again(fake, tmp_path):
    source(fake, tmp_path).crawl()
    fake.no_by_refs = True
    fake.update("svc-1", lifecycle="deprecated")
    catalog = source(fake, tmp_path).crawl()
    assert catalog.error is None and catalog.stats["fetched"] == 9
    assert {c.name: c.lifecycle for c in catalog.components}["svc-1"] == "deprecated"


def test_a_damaged_state_file_costs_one_full_read(fake, tmp_path):
    source(fake, tmp_path).crawl()
    (tmp_path / "state" / "backstage.json").write_text("{not json")
    catalog = source(fake, tmp_path).crawl()
    assert catalog.error is None and catalog.stats["fetched"] == 9


# ----------------------------------------------------------------- offline file


@pytest.mark.parametrize("shape", ["list", "by-query response"])
def test_an_entities_file_is_read_like_the_api(tmp_path, shape):
    entities = demo_catalog(2)
    (tmp_path / "entities.json").write_text(json.dumps(entities if shape == "list" else {"items": entities}))
    config = BackstageSourceConfig(entities_file="entities.json")
    catalog = BackstageSource(config, base_dir=tmp_path, state_dir=None, environ={}).crawl()
    assert catalog.error is None and len(catalog.components) == 2 and catalog.stats["mode"] == "file"


@pytest.mark.parametrize("text,expected", [
    ("[{\"kind\": \"Component\"", "is not valid JSON"),
    ("\"hello\"", "expected a JSON list of entities"),
])
def test_a_bad_entities_file_is_a_readable_error(tmp_path, text, expected):
    (tmp_path / "entities.json").write_text(text)
    config = BackstageSourceConfig(entities_file="entities.json")
    catalog = BackstageSource(config, base_dir=tmp_path, state_dir=None, environ={}).crawl()
    assert expected in catalog.error


def test_items_that_are_not_entities_are_skipped_with_a_problem(tmp_path):
    (tmp_path / "entities.json").write_text(json.dumps([42, {"kind": "Component"}, *demo_catalog(1)]))
    config = BackstageSourceConfig(entities_file="entities.json")
    catalog = BackstageSource(config, base_dir=tmp_path, state_dir=None, environ={}).crawl()
    assert len(catalog.components) == 1 and len(catalog.problems) == 2


# ------------------------------------------------------------------- secrets


def test_an_error_body_echoing_the_token_is_redacted_and_the_state_holds_no_token(fake, tmp_path):
    secrets.SECRETS.clear()
    source(fake, tmp_path).crawl()
    state = (tmp_path / "state" / "backstage.json").read_text()
    assert TOKEN not in state

    original = fake._error

    def echoing(h, method, status, name, message, headers=None):
        return original(h, method, status, name, f"{message}; you sent {h.headers.get('Authorization')}", headers)

    fake._error = echoing
    fake.fail("by-query", Fault(403))
    catalog = source(fake, tmp_path).crawl()
    assert "you sent Bearer ***" in catalog.error and TOKEN not in catalog.error


# -------------------------------------------------------------------- config


@pytest.mark.parametrize("data,message", [
    ({}, "either `base_url`"),
    ({"base_url": "https://b.example.com", "entities_file": "x.json"}, "either `base_url`"),
    ({"base_url": "ftp://b.example.com"}, "http(s) URL"),
    ({"base_url": "https://user:pw@b.example.com"}, "must not contain credentials"),
    ({"base_url": "https://b.example.com", "token_env": "eyJhbGciOi.JIUzI1NiJ9"}, "name of an environment variable"),
    ({"base_url": "https://b.example.com", "token_env": "Xq3RkV9wLm2Tz8YpHc4N"}, "not a token"),
])
def test_config_errors_name_the_problem(data, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        BackstageSourceConfig.model_validate(data)


def test_an_outage_after_a_good_read_keeps_the_last_good_catalog_and_says_so(fake, tmp_path):
    good = source(fake, tmp_path).crawl()
    fake.fail("by-query", *[Fault(503)] * 10)
    down = source(fake, tmp_path, max_retries=1).crawl()
    assert down.error.startswith("HTTP 503") and down.stale_since is not None and down.usable
    assert sorted(c.name for c in down.components) == sorted(c.name for c in good.components)
    # Without a previous good read there is nothing to keep: the portal is simply not used.
    never = source(fake, tmp_path / "other", max_retries=0).crawl()
    assert never.error and not never.usable and never.components == []
