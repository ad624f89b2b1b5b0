"""Evidence assembly: path scoping in monorepos and joining cluster workloads by label."""

import datetime as dt

from checks.evidence import K8sObject, Workload
from pipelines.evidence import build_evidence, index_clusters, orphan_workloads
from pipelines.facts import K8sInventory, RepoFacts
from pipelines.identity import ServiceRecord
from pipelines.sources.base import ClusterCrawl


def wl(name, ns, labels):
    return Workload("Deployment", name, ns, {}, labels, {}, 2, [], cluster="prod", environment="production")


def monitor(name, ns, selector=None):
    spec = {"match_labels": {}}
    if selector:
        spec["namespace_selector"] = selector
    return K8sObject("ServiceMonitor", name, ns, {}, {}, spec, cluster="prod")


def record(service, annotations=None):
    return ServiceRecord(service, None, "", "config", "team", "config", annotations=annotations or {})


def test_workloads_join_by_label_precedence_and_orphans_are_kept():
    workloads = [
        wl("a", "team-a", {"backstage.io/kubernetes-id": "svc-a", "app": "other"}),
        wl("b", "team-b", {"app.kubernetes.io/name": "svc-b"}),
        wl("c", "team-b", {"app": "svc-c"}),
        wl("stray", "team-b", {"app": "nobody"}),
    ]
    crawl = ClusterCrawl("prod", "production", K8sInventory(workloads=workloads))
    records = [record("svc-a"), record("svc-b"), record("svc-c")]
    evidence = build_evidence(records, {}, index_clusters([crawl], records), {}, dt.date(2026, 1, 1))
    assert [[w.name for w in e.cluster_workloads] for e in evidence] == [["a"], ["b"], ["c"]]
    assert [w.name for w, _ in orphan_workloads(index_clusters([crawl], records))] == ["stray"]


def test_kubernetes_id_annotation_overrides_the_service_name():
    crawl = ClusterCrawl("prod", "production", K8sInventory(workloads=[wl("x", "ns", {"backstage.io/kubernetes-id": "legacy-name"})]))
    records = [record("new-name", {"backstage.io/kubernetes-id": "legacy-name"})]
    [ev] = build_evidence(records, {}, index_clusters([crawl], records), {}, dt.date(2026, 1, 1))
    assert [w.name for w in ev.cluster_workloads] == ["x"]


def test_central_monitors_reach_only_the_namespaces_they_select():
    inv = K8sInventory(
        workloads=[wl("a", "team-a", {"app": "svc-a"}), wl("b", "team-b", {"app": "svc-b"})],
        objects=[
            monitor("central-a", "monitoring", {"matchNames": ["team-a"]}),
            monitor("central-any", "monitoring", {"any": True}),
            monitor("local-other", "monitoring"),
            monitor("own-ns", "team-b"),
        ],
    )
    crawl = ClusterCrawl("prod", "production", inv)
    records = [record("svc-a"), record("svc-b")]
    a, b = build_evidence(records, {}, index_clusters([crawl], records), {}, dt.date(2026, 1, 1))
    assert sorted(o.name for o in a.cluster_objects) == ["central-a", "central-any"]
    assert sorted(o.name for o in b.cluster_objects) == ["central-any", "own-ns"]


def test_a_failed_cluster_leaves_workloads_unknown_not_empty():
    crawl = ClusterCrawl("prod", "production", K8sInventory(), error="connection refused")
    records = [record("svc")]
    [ev] = build_evidence(records, {}, index_clusters([crawl], records), {}, dt.date(2026, 1, 1))
    assert ev.cluster_workloads is None
    assert ev.cluster_errors == ["prod: connection refused"]


def test_monorepo_component_owns_its_subtree_but_not_a_deeper_component():
    facts = RepoFacts("mono", "mono", files=["README.md", "services/a/README.md", "services/a/sub/README.md", "services/b/x.py"])
    records = [ServiceRecord("a", "mono", "services/a", "catalog", "t", "c"),
               ServiceRecord("sub", "mono", "services/a/sub", "catalog", "t", "c")]
    a, sub = build_evidence(records, {"mono": facts}, None, {}, dt.date(2026, 1, 1))
    assert "services/a/README.md" in a.files and "services/a/sub/README.md" not in a.files
    assert "services/b/x.py" not in a.files and "README.md" in a.files
    assert "services/a/sub/README.md" in sub.files


def test_repository_wide_config_reaches_every_service_of_a_monorepo():
    # Bot configs live at the root, in .github/ or .gitlab/: has_dependency_update_bot reads them from ev.files.
    from checks.security import dependency_bot

    for config, bot in ((".gitlab/renovate.json", "renovate"), (".github/dependabot.yml", "dependabot"), ("renovate.json", "renovate")):
        facts = RepoFacts("mono", "mono", files=[config, "services/a/app.py"])
        [a] = build_evidence([ServiceRecord("a", "mono", "services/a", "catalog", "t", "c")], {"mono": facts}, None, {}, dt.date(2026, 1, 1))
        assert config in a.files and dependency_bot(a.files) == bot


def test_kinds_a_cluster_could_not_list_reach_the_services_running_there():
    prod = K8sInventory(workloads=[wl("a", "team-a", {"app": "svc-a"})], unreadable={"HorizontalPodAutoscaler": "forbidden (403)"})
    other = K8sInventory(workloads=[Workload("Deployment", "b", "ns", {}, {"app": "svc-b"}, {}, 2, [], cluster="dev")])
    crawls = [ClusterCrawl("prod", "production", prod), ClusterCrawl("dev", "development", other)]
    records = [record("svc-a"), record("svc-b")]
    a, b = build_evidence(records, {}, index_clusters(crawls, records), {}, dt.date(2026, 1, 1))
    assert a.cluster_unreadable == {"HorizontalPodAutoscaler": "prod: forbidden (403)"}
    assert b.cluster_unreadable == {}


def test_cluster_workloads_join_by_name_then_image_when_no_label_names_a_service():
    from checks.evidence import Container

    by_name = wl("checkout", "shop", {"app": "legacy-label"})
    by_image = Workload("Deployment", "web-7", "shop", {}, {}, {}, 2,
                        [Container("c", "gcr.io/acme/frontend:v1.2@sha256:abc", True, True)], cluster="prod")
    job = Workload("CronJob", "nightly", "shop", {}, {"app": "reports"}, {}, None,
                   [Container("c", "acme/reports:1", False, False)], cluster="prod")
    crawl = ClusterCrawl("prod", "production", K8sInventory(workloads=[by_name, by_image, job]))
    records = [record("checkout"), record("frontend"), record("reports")]
    index = index_clusters([crawl], records)
    assert {s: [(w.name, rule) for w, rule in v] for s, v in index.by_service.items()} == {
        "checkout": [("checkout", "workload name")],
        "frontend": [("web-7", "image")],
        "reports": [("nightly", "label app")],
    }
    assert orphan_workloads(index) == []
