"""Deploy events from Argo CD / Flux history, deduplicated with ReplicaSet revisions
(pipelines/sources/gitops_deploys.py), stated as a user would count them."""

from __future__ import annotations

import datetime as dt

from pipelines.config import RolloutDeploys
from pipelines.delivery import Deploy, production_deploys
from pipelines.evidence import JoinIndex
from pipelines.identity import ServiceRecord
from pipelines.parsers import parse_k8s_documents
from pipelines.sources.base import ClusterCrawl
from pipelines.sources.gitops_deploys import gitops_deploys, merge_cluster_deploys
from pipelines.sources.rollouts import rollout_deploys
from tests.fakes.gitops_objects import (
    SHA_NEW,
    SHA_OLD,
    application,
    helm_release,
    kustomization,
)
from tests.fakes.k8s_server import deployment, replica_set

UNTIL = dt.datetime(2025, 12, 1, tzinfo=dt.UTC)
PROD = frozenset({"production"})
RECORDS = [ServiceRecord("payments-api", "payments", "", "repo", "t", None),
           ServiceRecord("search-api", "search", "", "repo", "t", None)]


def crawl(*docs, environment="production", name="prod-eu") -> ClusterCrawl:
    return ClusterCrawl(name, environment, parse_k8s_documents(list(docs), "live", cluster=name, environment=environment))


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def test_argo_history_entries_are_production_deploys():
    deploys = gitops_deploys([crawl(application(), deployment("payments-api", "payments"))], [], RECORDS, PROD, UNTIL)
    assert [(d.service, d.sha, d.deployed_at, d.source) for d in deploys] == [
        ("payments-api", SHA_OLD, at("2025-11-20T10:00:00Z"), "argocd"),
        ("payments-api", SHA_NEW, at("2025-11-23T10:00:00Z"), "argocd"),
    ]


def test_staging_and_the_future_do_not_count():
    staging = crawl(application(), deployment("payments-api", "payments"), environment="staging", name="staging-eu")
    assert gitops_deploys([staging], [], RECORDS, PROD, UNTIL) == []
    early = dt.datetime(2025, 11, 21, tzinfo=dt.UTC)
    prod = crawl(application(), deployment("payments-api", "payments"))
    assert [d.sha for d in gitops_deploys([prod], [], RECORDS, PROD, early)] == [SHA_OLD]


def test_helm_release_snapshots_count_but_not_failed_ones():
    release = helm_release(versions=("1.4.0", "1.4.1", "1.4.2"))
    release["status"]["history"][1]["status"] = "failed"  # 1.4.1 never went live
    deploys = gitops_deploys([crawl(release)], [], RECORDS, PROD, UNTIL)
    assert [(d.service, d.sha, d.source) for d in deploys] == [("search-api", "1.4.0", "flux"), ("search-api", "1.4.2", "flux")]


def test_kustomization_last_applied_revision_counts_only_when_ready():
    ready = kustomization("search-api", namespace="search")
    assert [(d.sha, d.deployed_at) for d in gitops_deploys([crawl(ready)], [], RECORDS, PROD, UNTIL)] == [
        (SHA_NEW, at("2025-11-22T09:00:00Z"))]
    failing = kustomization("search-api", namespace="search", ready="False")
    assert gitops_deploys([crawl(failing)], [], RECORDS, PROD, UNTIL) == []


def test_one_sha_seen_by_argo_cd_and_a_replica_set_is_one_deploy():
    # The ReplicaSet's image tag carries the short sha; Argo CD recorded the full one a minute later.
    rs = replica_set("payments-api", "payments", 7, f"registry.example.com/payments-api:{SHA_NEW[:7]}",
                     created="2025-11-23T09:59:00Z")
    cluster = crawl(application(), deployment("payments-api", "payments"), rs)
    rollouts = rollout_deploys([cluster], JoinIndex(RECORDS), RolloutDeploys(), PROD, UNTIL)
    assert [d.sha for d in rollouts] == [SHA_NEW[:7]]
    merged = merge_cluster_deploys(rollouts, gitops_deploys([cluster], [], RECORDS, PROD, UNTIL))
    assert [(d.sha, d.deployed_at, d.source) for d in merged] == [
        (SHA_OLD, at("2025-11-20T10:00:00Z"), "argocd"),
        (SHA_NEW, at("2025-11-23T09:59:00Z"), "argocd+replicaset"),
    ]


def test_ci_deploy_events_still_win_over_cluster_history():
    from pipelines.sources.events import DeploymentEvent

    event = DeploymentEvent(service="payments-api", environment="production", sha=SHA_NEW,
                            deployed_at=at("2025-11-23T09:58:00Z"), status="success")
    cluster = [Deploy("payments-api", SHA_OLD, at("2025-11-20T10:00:00Z"), "argocd")]
    deploys = production_deploys({"payments-api": "payments"}, [event], {}, None, PROD, UNTIL, cluster)
    assert [(d.sha, d.source) for d in deploys] == [(SHA_NEW, "event")]
