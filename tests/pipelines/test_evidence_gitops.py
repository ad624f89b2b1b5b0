"""GitOps objects tied to the services they deploy (pipelines/evidence_gitops.py)."""

from __future__ import annotations

from pipelines.evidence import index_clusters
from pipelines.evidence_gitops import GitOpsCrawl, link_gitops, repo_name
from pipelines.facts import RepoFacts
from pipelines.identity import ServiceRecord
from pipelines.parsers import parse_k8s_documents
from pipelines.sources.base import ClusterCrawl
from tests.fakes.gitops_objects import (
    application,
    git_repository,
    helm_release,
    kustomization,
)
from tests.fakes.k8s_server import deployment


def rec(service: str, repo: str, path: str = "") -> ServiceRecord:
    return ServiceRecord(service=service, repo=repo, path=path, identity_rule="discovered", team="t", owner_source=None)


def cluster(*docs: dict, name: str = "prod-eu", error: str | None = None) -> ClusterCrawl:
    inventory = parse_k8s_documents(list(docs), "live", cluster=name, environment="production")
    return ClusterCrawl(name, "production", inventory, error)


def repo(name: str, *docs: dict, path: str = "apps.yaml") -> RepoFacts:
    facts = RepoFacts(repo=name, location=f"/repos/{name}")
    facts.manifests = parse_k8s_documents(list(docs), path)
    return facts


def link(records, clusters=(), repos=(), extra=()):
    clusters = list(clusters)
    index = index_clusters(clusters, records)
    return link_gitops(records, {r.repo: r for r in repos}, clusters, index, extra)


def test_repo_name_of_every_url_form():
    assert repo_name("https://github.com/acme/payments.git") == "payments"
    assert repo_name("git@github.com:acme/payments") == "payments"
    assert repo_name("ssh://git@gitlab.acme.dev/platform/payments.git/") == "payments"
    assert repo_name(None) is None


def test_managed_workloads_link_through_status_resources():
    # The Application lives in a config repo nobody crawled and is named differently: its resources decide.
    app = application("prod-payments", repo="k8s-config", path="payments",
                      resources=[("Deployment", "payments", "payments-api")])
    links = link([rec("payments-api", "payments")], [cluster(app, deployment("payments-api", "payments"))])
    [linked] = links.by_service["payments-api"]
    assert linked.name == "prod-payments" and linked.linked_by == "managed workloads (status.resources)"


def test_tracking_label_links_a_helm_release_to_the_workloads_it_installed():
    workload = deployment("search-api", "search")
    workload["metadata"].setdefault("labels", {})["helm.toolkit.fluxcd.io/name"] = "search-release"
    links = link([rec("search-api", "search")], [cluster(helm_release("search-release"), workload)])
    assert [a.linked_by for a in links.by_service["search-api"]] == [
        "managed workloads (label helm.toolkit.fluxcd.io/name / app.kubernetes.io/instance=search-release)"]


def test_source_repo_and_path_pick_the_monorepo_component():
    records = [rec("orders", "shop", "services/orders"), rec("cart", "shop", "services/cart")]
    app = application("whatever", repo="shop", path="services/cart/deploy/prod", resources=[])
    links = link(records, [cluster(app)])
    assert list(links.by_service) == ["cart"]
    assert links.by_service["cart"][0].linked_by == "source https://github.com/acme/shop.git path services/cart/deploy/prod"


def test_a_path_outside_every_component_does_not_guess():
    records = [rec("orders", "shop", "services/orders"), rec("cart", "shop", "services/cart")]
    links = link(records, [cluster(application("shop-infra", repo="shop", path="infra", resources=[]))])
    assert links.by_service == {} and [a.name for a in links.unlinked] == ["shop-infra"]


def test_flux_kustomization_reaches_its_repo_through_the_git_repository():
    links = link([rec("payments-api", "payments")], [cluster(kustomization("apps"), git_repository())])
    [linked] = links.by_service["payments-api"]
    assert linked.sources[0].repo_url == "https://github.com/acme/payments"
    assert linked.linked_by.startswith("source https://github.com/acme/payments")


def test_observed_object_wins_over_its_manifest_and_the_manifest_alone_still_links():
    manifest = application()
    del manifest["status"]
    repos = [repo("platform-apps", manifest)]
    records = [rec("payments-api", "payments")]
    observed = link(records, [cluster(application())], repos)
    assert [a.observed for a in observed.by_service["payments-api"]] == [True]
    declared = link(records, [], repos)
    [only] = declared.by_service["payments-api"]
    assert only.file == "apps.yaml" and only.linked_by.startswith("source")


def test_failed_sources_are_reported_not_read_as_no_object():
    down = cluster(name="prod-us", error="connection refused")
    forbidden = cluster(name="prod-eu")
    forbidden.inventory.unreadable["Application"] = "forbidden (403)"
    api = GitOpsCrawl("argocd:main", error="401 Unauthorized")
    links = link([rec("payments-api", "payments")], [down, forbidden], extra=[api])
    assert links.by_service == {}
    assert links.errors == ["prod-us: connection refused", "prod-eu: Application forbidden (403)", "argocd:main: 401 Unauthorized"]


def test_gitops_objects_never_become_workloads_or_orphans():
    crawl = cluster(application(), kustomization(), helm_release(), git_repository())
    index = index_clusters([crawl], [rec("payments-api", "payments")])
    assert index.orphans == [] and index.by_service == {}


def test_a_past_snapshot_without_cluster_state_is_unknown_not_off_the_path():
    links = link_gitops([rec("payments-api", "payments")], {}, None, None)
    assert links.errors == ["cluster state is not known for a past snapshot"]
