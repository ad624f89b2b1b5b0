"""The Argo CD API source against a loopback Argo CD (tests/fakes/argocd_server.py)."""

from __future__ import annotations

import logging

import pytest

from pipelines.config_argocd import ArgoCDSourceConfig
from pipelines.evidence_gitops import link_gitops
from pipelines.identity import ServiceRecord
from pipelines.sources.argocd import FIELDS, ArgoCDSource, crawl_all
from pipelines.stages import gitops_api_status
from tests.fakes.argocd_server import FakeArgoCD
from tests.fakes.gitops_objects import SHA_NEW, application

TOKEN = "argocd-token-3f9a-never-in-output"
ENV = "SCORECARD_TEST_ARGOCD_TOKEN"


@pytest.fixture
def argo(monkeypatch):
    monkeypatch.setenv(ENV, TOKEN)
    with FakeArgoCD(tokens={TOKEN}) as server:
        server.add(application("payments-api", project="platform"), application("search-api", project="legacy", repo="search", namespace="search"))
        yield server


def source(server: FakeArgoCD, **kwargs) -> ArgoCDSource:
    cfg = ArgoCDSourceConfig(name="main", base_url=kwargs.pop("base_url", server.url), token_env=ENV, **kwargs)
    return ArgoCDSource(cfg, sleep=kwargs.pop("sleep", lambda s: None))


def test_applications_are_read_with_the_bearer_token_and_parsed_like_crds(argo):
    result = source(argo, projects=["platform", "legacy"], selector="team=payments").crawl()
    assert result.error is None and result.source == "argocd:main"
    [seen] = argo.requests
    assert seen.authorization == f"Bearer {TOKEN}"
    assert seen.query["projects"] == ["platform", "legacy"] and seen.query["selector"] == ["team=payments"]
    assert seen.query["fields"] == [FIELDS]
    [app] = result.apps  # the selector kept one
    assert (app.kind, app.name, app.project, app.cluster, app.environment) == (
        "Application", "payments-api", "platform", "argocd:main", "production")
    assert app.applied_revision == SHA_NEW and app.history and app.resources  # fields kept what the parser reads
    assert result.resource_version == str(argo.resource_version)


def test_api_applications_link_to_services_like_cluster_ones(argo):
    crawl = source(argo).crawl()
    records = [ServiceRecord("payments-api", "payments", "", "repo", "t", None)]
    links = link_gitops(records, {}, [], None, [crawl])
    assert [a.name for a in links.by_service["payments-api"]] == ["payments-api"]


def test_an_unchanged_list_reuses_the_previous_parse(argo):
    src = source(argo)
    first = src.crawl()
    second = src.crawl()
    assert not first.reused and second.reused and [a.name for a in second.apps] == [a.name for a in first.apps]
    argo.add(application("cart-api", repo="cart"))
    third = src.crawl()
    assert not third.reused and len(third.apps) == 3
    assert len(argo.requests) == 3  # no ETag/304 in Argo CD: the list is always fetched


def test_missing_token_says_which_variable(argo, monkeypatch):
    monkeypatch.delenv(ENV)
    result = source(argo).crawl()
    assert result.error == f"{ENV} is not set: export an Argo CD API token in it"
    assert argo.requests == []


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ("unauthorized", "unauthorized (401): invalid session: token is expired"),
        ("forbidden", "forbidden (403): permission denied: applications, get"),
        ("not-argocd", "not found (404) on /api/v1/applications"),
        ("server-error", "HTTP 503: internal error"),
        ("rate-limit-too-long", "Retry-After 900 s is over the 30 s max_retry_wait_s"),
        ("garbage", "the response is not JSON"),
        ("slow", "no answer within 0.3 s"),
    ],
)
def test_failures_are_readable_errors_without_the_token(argo, monkeypatch, caplog, fault, expected):
    kwargs: dict = {}
    if fault == "unauthorized":
        monkeypatch.setenv(ENV, TOKEN + "-revoked")
    elif fault == "forbidden":
        argo.forbidden_projects.add("platform")
        kwargs["projects"] = ["platform"]
    elif fault == "not-argocd":
        kwargs["base_url"] = argo.url + "/not-argo"
    elif fault == "server-error":
        argo.statuses += [(503, {})] * 3
    elif fault == "rate-limit-too-long":
        argo.statuses.append((429, {"Retry-After": "900"}))
    elif fault == "garbage":
        argo.garbage = True
    elif fault == "slow":
        argo.delay = 1.0
        kwargs.update(timeout_s=0.3, retries=0)
    with caplog.at_level(logging.DEBUG):
        result = source(argo, **kwargs).crawl()
    assert result.error is not None and expected in result.error
    assert result.apps == []
    status, _ = gitops_api_status([result])
    assert status[0]["status"] == "error" and status[0]["source"] == "argocd"
    for text in (repr(result), str(status), caplog.text):
        assert TOKEN not in text


def test_a_truncated_body_is_an_error_not_half_a_list(argo):
    argo.truncate = True
    result = source(argo, retries=1).crawl()
    assert result.error is not None and result.apps == []
    assert TOKEN not in repr(result)


def test_429_and_5xx_are_retried_honouring_retry_after(argo):
    waits: list[float] = []
    argo.statuses += [(429, {"Retry-After": "2"}), (502, {})]
    cfg = ArgoCDSourceConfig(name="main", base_url=argo.url, token_env=ENV, retries=2)
    result = ArgoCDSource(cfg, sleep=waits.append).crawl()
    assert result.error is None and len(result.apps) == 2
    assert waits == [2.0, 2.0]  # Retry-After, then the backoff of the second attempt


def test_one_failing_server_does_not_stop_the_others(argo, monkeypatch):
    good = ArgoCDSourceConfig(name="main", base_url=argo.url, token_env=ENV)
    down = ArgoCDSourceConfig(name="eu", base_url="http://127.0.0.1:9", token_env=ENV, retries=0)
    crawls = crawl_all([down, good])
    assert [c.error is None for c in crawls] == [False, True]
    assert "cannot reach http://127.0.0.1:9" in crawls[0].error


def test_a_config_value_that_looks_like_a_token_is_refused():
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as exc:
        ArgoCDSourceConfig(base_url="https://argocd.example.com", token_env="eyJhbGciOiJIUzI1NiJ9.xxx")
    assert "eyJ" not in str(exc.value).split("input_value")[0]
