"""Service identity from a portal's catalog (pipelines/portal_identity.py), rule by rule, without I/O."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from checks.evidence import CatalogEntity
from pipelines.config import parse_config
from pipelines.facts import RepoFacts
from pipelines.identity import resolve_services
from pipelines.portal_identity import repository_of
from pipelines.sources.backstage import catalog_from_entities
from tests.fakes.backstage_server import entity


@pytest.mark.parametrize("annotations,expected", [
    ({"backstage.io/source-location": "url:https://github.com/acme/shop/tree/main/services/cart/"}, ("acme/shop", "services/cart")),
    ({"backstage.io/source-location": "url:https://github.com/acme/shop/tree/main/"}, ("acme/shop", None)),
    ({"backstage.io/source-location": "url:https://github.com/acme/shop"}, ("acme/shop", None)),
    ({"backstage.io/source-location": "url:https://gitlab.com/acme/shop/-/tree/main/svc/a"}, ("acme/shop", "svc/a")),
    ({"github.com/project-slug": "acme/payments"}, ("acme/payments", None)),
    # The slug names another repository than the source location: the slug wins, no sub-path from elsewhere.
    ({"github.com/project-slug": "acme/payments",
      "backstage.io/source-location": "url:https://github.com/acme/shop/tree/main/x"}, ("acme/payments", None)),
    ({}, (None, None)),
])
def test_repository_and_path_from_annotations(annotations, expected):
    assert repository_of(annotations) == expected


def resolve(entities, repos, teams=()):
    config = parse_config({"teams": [{"name": t} for t in teams]}, "scorecard.yaml", Path("."))
    portal = catalog_from_entities(entities, "portal", "http://portal")
    records, problems = resolve_services(repos, config, [portal])
    return {r.service: r for r in records}, [p.reason for p in problems]


def test_owners_resolve_through_groups_and_users_stay_people():
    records, problems = resolve([
        entity("Group", "payments"),
        entity("Component", "a", spec={"type": "service", "lifecycle": "production", "owner": "group:default/payments"}),
        entity("Component", "b", spec={"type": "service", "lifecycle": "production", "owner": "user:default/jdoe"}),
        entity("Component", "c", spec={"type": "service", "lifecycle": "production", "owner": "ghosts"}),
    ], [])
    assert records["a"].team == "payments" and records["a"].owner_source == "portal spec.owner"
    assert records["b"].team == "user:default/jdoe"
    assert records["c"].team == "ghosts"
    assert any("spec.owner ghosts names no Group of the portal" in p for p in problems)


def test_a_component_joins_its_repository_path_and_workloads():
    repo = RepoFacts(repo="shop", location="/x/shop", files=["services/cart/Dockerfile"])
    records, _ = resolve([entity("Component", "cart", spec={"type": "service", "lifecycle": "production", "owner": "x"},
                                 annotations={"backstage.io/source-location": "url:https://github.com/acme/shop/tree/main/services/cart/",
                                              "backstage.io/kubernetes-id": "cart-svc"})], [repo])
    cart = records["cart"]
    assert (cart.repo, cart.path, cart.identity_rule) == ("shop", "services/cart", "catalog")
    assert cart.kubernetes_id == "cart-svc" and "cart-svc" in cart.join_names
    assert cart.catalog.origin == "portal"


def test_the_repositorys_own_file_gives_the_monorepo_path_and_its_disagreements_are_problems():
    file_entity = CatalogEntity("Component", "search", "services/search/catalog-info.yaml", owner="old-team",
                                lifecycle="production", type="service", path="services/search")
    repo = RepoFacts(repo="shop", location="/x/shop", catalog=[file_entity])
    records, problems = resolve([entity("Component", "search", spec={"type": "service", "lifecycle": "production",
                                                                     "owner": "group:default/search-team"},
                                        annotations={"github.com/project-slug": "acme/shop"})], [repo])
    assert records["search"].path == "services/search" and records["search"].team == "search-team"
    assert records["search"].owner_source == "portal spec.owner" and len(records) == 1
    assert problems == [("search: spec.owner is old-team here but search-team in the Backstage portal portal; "
                         "the portal's value is used: update the file (or the portal)")]


def test_a_portal_never_read_is_ignored_and_a_stale_one_is_used():
    records, _ = resolve([], [RepoFacts(repo="payments", location="/x")])
    assert list(records) == ["payments"]
    portal = catalog_from_entities([entity("Component", "ledger", spec={"type": "service", "lifecycle": "production",
                                                                        "owner": "payments"})], "p", "http://p")
    portal.error = "HTTP 503"
    config = parse_config({}, "scorecard.yaml", Path("."))
    assert [r.service for r in resolve_services([], config, [portal])[0]] == []


    portal.stale_since = dt.datetime.now(dt.UTC)
    assert [r.service for r in resolve_services([], config, [portal])[0]] == ["ledger"]


def test_a_past_date_leaves_out_components_whose_repository_did_not_exist_yet():
    portal = catalog_from_entities([
        entity("Component", "new", spec={"type": "service", "lifecycle": "production", "owner": "x"},
               annotations={"github.com/project-slug": "acme/new"}),
        entity("Component", "vendor", spec={"type": "service", "lifecycle": "production", "owner": "x"}),
    ], "p", "http://p")
    config = parse_config({}, "scorecard.yaml", Path("."))
    today = [r.service for r in resolve_services([], config, [portal])[0]]
    past = [r.service for r in resolve_services([], config, [portal], historical=True)[0]]
    assert today == ["new", "vendor"] and past == ["vendor"]
