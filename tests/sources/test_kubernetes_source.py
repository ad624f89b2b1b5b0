"""The live-cluster source against a fake API server: evidence, paging and failures."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest

from pipelines.config import ConfigError, RolloutDeploys, parse_config
from pipelines.delivery import Deploy, production_deploys
from pipelines.facts import K8sInventory, Tag
from pipelines.sources.base import ClusterCrawl
from pipelines.sources.cluster_snapshot import ClusterSnapshotSource
from pipelines.sources.events import DeploymentEvent
from pipelines.sources.kubeconfig import Endpoint
from pipelines.sources.kubernetes import KubernetesSource
from pipelines.sources.rollouts import ShaConventions, deployed_sha, image_tag, rollout_deploys
from pipelines.stages import cluster_status, crawl_clusters
from tests.fakes.k8s_server import (
    FakeKubernetes,
    closed_port,
    cronjob,
    deployment,
    job_of,
    rollout,
    external_secret,
    replica_set,
    sample_cluster,
)

TOKEN = "k8s-bearer-0d9e-never-in-output"


def source_for(url: str, *, token: str = TOKEN, **kwargs) -> KubernetesSource:
    endpoint = Endpoint(server=url, source="test", token=token)
    return KubernetesSource("prod-eu", "production", lambda: endpoint, **kwargs)


@pytest.fixture
def k8s():
    with sample_cluster(FakeKubernetes(tokens={TOKEN})) as server:
        yield server


def key(obj) -> tuple:
    return (getattr(obj, "kind", None) or "ReplicaSet", getattr(obj, "namespace", None), getattr(obj, "name", None))


def normalised(inventory: K8sInventory) -> tuple:
    return (
        sorted(inventory.workloads, key=key),
        sorted(inventory.objects, key=key),
        sorted(inventory.replica_sets, key=lambda rs: (rs["namespace"], rs["name"])),
        sorted(p.reason for p in inventory.problems),
    )


# ---------------------------------------------------------------- evidence


def test_live_evidence_equals_the_snapshot_of_the_same_objects(tmp_path, k8s):
    broken = deployment("broken", "shop")
    broken["spec"]["replicas"] = "three"
    k8s.add(broken)
    # What `kubectl get deploy,sts,ds,rs,svc,pdb,hpa,servicemonitors,... -A -o json` writes.
    snapshot = tmp_path / "prod-eu.json"
    snapshot.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": k8s.all_objects()}))
    from_file = ClusterSnapshotSource(snapshot, "prod-eu", "production").crawl()

    live = source_for(k8s.url, page_size=2).crawl()

    assert live.error is None and from_file.error is None
    assert normalised(live.inventory) == normalised(from_file.inventory)
    assert len(live.inventory.workloads) == 4 and len(live.inventory.replica_sets) == 3
    assert {o.kind for o in live.inventory.objects} == {
        "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler", "ServiceMonitor", "PodMonitor", "ExternalSecret"}
    assert {(w.cluster, w.environment) for w in live.inventory.workloads} == {("prod-eu", "production")}
    assert [p.reason for p in live.inventory.problems] == ["Deployment shop/broken: spec.replicas must be an integer, not 'three'"]
    assert live.partial == []


def test_list_items_arrive_without_kind_and_get_it_back(k8s):
    # The fake, like an API server, strips kind/apiVersion from List items.
    live = source_for(k8s.url).crawl()
    hpa_obj = next(o for o in live.inventory.objects if o.kind == "HorizontalPodAutoscaler")
    assert hpa_obj.spec["api_version"] == "autoscaling/v2"
    assert hpa_obj.spec["min"] == 3


# ---------------------------------------------------------------- paging


def test_lists_are_paged_with_limit_and_continue():
    with FakeKubernetes(tokens={TOKEN}).add(*(deployment(f"app-{i}") for i in range(5))) as server:
        live = source_for(server.url, page_size=2).crawl()
        pages = server.requests_for("deployments")
    assert len(live.inventory.workloads) == 5
    assert [r.query.get("limit") for r in pages] == ["2", "2", "2"]
    assert [("continue" in r.query) for r in pages] == [False, True, True]


def test_an_expired_continue_token_restarts_the_list():
    with FakeKubernetes(tokens={TOKEN}, expire_continue=1).add(*(deployment(f"app-{i}") for i in range(5))) as server:
        live = source_for(server.url, page_size=2).crawl()
        pages = server.requests_for("deployments")
    names = sorted(w.name for w in live.inventory.workloads)
    assert names == [f"app-{i}" for i in range(5)]  # complete, nothing twice
    assert [("continue" in r.query) for r in pages] == [False, True, False, True, True]


def test_a_continue_token_that_always_expires_fails_with_a_reason():
    with FakeKubernetes(tokens={TOKEN}, expire_continue=99).add(*(deployment(f"app-{i}") for i in range(3))) as server:
        live = source_for(server.url, page_size=2).crawl()
    assert live.error == (
        "deployments.apps: the list changed faster than it could be paged (continue token expired 4 times)"
    )


# ------------------------------------------------------------- CRDs, versions


def test_missing_crds_are_not_problems():
    with FakeKubernetes(tokens={TOKEN}).add(deployment("payments")) as server:
        live = source_for(server.url).crawl()
        asked = {r.path for r in server.requests}
    assert live.error is None and live.partial == [] and live.inventory.problems == []
    assert "/apis/monitoring.coreos.com/v1/servicemonitors" in asked  # it looked, got 404, moved on


def test_older_external_secrets_version_is_found():
    with FakeKubernetes(tokens={TOKEN}).add(
        deployment("payments"), external_secret("db", api_version="external-secrets.io/v1beta1")
    ) as server:
        live = source_for(server.url).crawl()
    secret = next(o for o in live.inventory.objects if o.kind == "ExternalSecret")
    assert secret.spec == {"api_version": "external-secrets.io/v1beta1", "target": "db-env"}


def test_a_resource_the_server_does_not_serve_is_partial():
    server = FakeKubernetes(tokens={TOKEN}).add(deployment("payments"))
    server.uninstall("autoscaling/v2", "horizontalpodautoscalers")
    with server:
        live = source_for(server.url).crawl()
    assert live.error is None
    assert live.partial == ["horizontalpodautoscalers.autoscaling: not served by this API server (tried v2, v2beta2)"]


def test_a_server_that_serves_no_deployments_is_not_kubernetes():
    server = FakeKubernetes(tokens={TOKEN})
    server.uninstall("apps/v1", "deployments")
    with server:
        url = server.url
        live = source_for(url).crawl()
    assert live.error == f"deployments.apps not found (404): is {url} a Kubernetes API server?"


# ------------------------------------------------------------------ failures


def test_a_forbidden_optional_resource_makes_the_crawl_partial(k8s):
    k8s.forbidden.add("horizontalpodautoscalers")
    live = source_for(k8s.url).crawl()
    assert live.error is None
    assert len(live.inventory.workloads) == 4
    assert not any(o.kind == "HorizontalPodAutoscaler" for o in live.inventory.objects)
    assert live.partial == [
        'horizontalpodautoscalers.autoscaling: forbidden (403): horizontalpodautoscalers.autoscaling is forbidden: '
        'User "system:serviceaccount:scorecard:scorecard-reader" cannot list resource "horizontalpodautoscalers" '
        'in API group "autoscaling" at the cluster scope'
    ]
    status, problems = cluster_status([live])
    assert status[0]["status"] == "partial" and status[0]["last_success_at"] is not None
    assert problems[0]["path"] == "horizontalpodautoscalers.autoscaling"
    assert problems[0]["reason"].endswith("; not used this run")
    # ...and the kind is marked unreadable, so has_autoscaler says unknown rather than "no HPA"
    assert list(live.inventory.unreadable) == ["HorizontalPodAutoscaler"]
    assert live.inventory.unreadable["HorizontalPodAutoscaler"].startswith("forbidden (403)")


def test_forbidden_workloads_fail_the_cluster(k8s):
    k8s.forbidden.add("deployments")
    live = source_for(k8s.url).crawl()
    assert live.error.startswith("deployments.apps: forbidden (403): deployments.apps is forbidden: User")
    assert live.inventory.workloads == []
    status, _ = cluster_status([live])
    assert (status[0]["status"], status[0]["last_success_at"]) == ("error", None)


def test_a_slow_cluster_times_out_quickly_with_a_reason(k8s):
    k8s.slow["deployments"] = 3.0
    started = time.monotonic()
    live = source_for(k8s.url, request_timeout=0.3).crawl()
    assert time.monotonic() - started < 2.0
    assert live.error == f"timed out waiting for {k8s.url} (deployments, 0.3 s timeout)"


def test_a_crawl_that_overruns_its_deadline_stops(k8s):
    for plural in ("statefulsets", "daemonsets", "replicasets"):
        k8s.slow[plural] = 0.2
    live = source_for(k8s.url, deadline=0.3).crawl()
    assert live.error == "crawl did not finish within its 0.3 s deadline"


def test_a_truncated_body_is_a_readable_problem(k8s):
    k8s.truncate.add("services")
    live = source_for(k8s.url).crawl()
    assert live.error is None
    assert live.partial[0].startswith("services: response cut off or malformed (peer closed connection")
    k8s.truncate.add("deployments")
    assert source_for(k8s.url).crawl().error.startswith("deployments.apps: response cut off or malformed")


def test_garbage_instead_of_json(k8s):
    k8s.garbage.add("deployments")
    live = source_for(k8s.url).crawl()
    assert live.error == "deployments.apps: response is not valid JSON (cut off, or not a Kubernetes API server?)"


def test_a_brief_503_is_retried(k8s):
    k8s.unavailable["deployments"] = 1
    live = source_for(k8s.url).crawl()
    assert live.error is None and len(live.inventory.workloads) == 4


def test_a_cluster_that_is_down(tmp_path):
    url = f"https://127.0.0.1:{closed_port()}"
    live = source_for(url).crawl()
    assert live.error.startswith(f"cannot connect to {url}: ")
    assert "refused" in live.error.lower()
    assert TOKEN not in live.error and TOKEN not in repr(live)


# ---------------------------------------------------------------- namespaces


def test_namespaces_include_lists_only_those_namespaces(k8s):
    live = source_for(k8s.url, namespaces=["payments"]).crawl()
    assert {w.namespace for w in live.inventory.workloads} == {"payments"}
    assert {r.path for r in k8s.requests_for("deployments")} == {"/apis/apps/v1/namespaces/payments/deployments"}


def test_exclude_namespaces_by_glob(k8s):
    live = source_for(k8s.url, exclude_namespaces=["kube-*"]).crawl()
    assert "node-agent" not in {w.name for w in live.inventory.workloads}
    assert len(live.inventory.workloads) == 3


# ------------------------------------------------------------- many clusters


def test_clusters_are_crawled_concurrently_and_one_failure_stays_its_own(k8s, tmp_path):
    slow = sample_cluster(FakeKubernetes(tokens={TOKEN}, slow={"deployments": 2.0})).start()
    try:
        down = source_for(f"http://127.0.0.1:{closed_port()}")
        down.cluster = "prod-us"
        other = source_for(slow.url)
        other.cluster = "staging"
        started = time.monotonic()
        config = parse_config({}, "test.yaml", tmp_path)
        crawls = crawl_clusters(config, sources=[source_for(slow.url), down, other])
        elapsed = time.monotonic() - started
    finally:
        slow.stop()
    assert [c.cluster for c in crawls] == ["prod-eu", "prod-us", "staging"]
    assert [c.error is None for c in crawls] == [True, False, True]
    assert elapsed < 3.6  # two 2 s crawls side by side (one after the other: over 4 s); wide, for a busy machine


def test_a_crawler_bug_is_recorded_by_type_only(tmp_path):
    class Exploding:
        cluster, environment = "prod-eu", "production"

        def crawl(self) -> ClusterCrawl:
            raise RuntimeError(f"Authorization: Bearer {TOKEN}")

    crawls = crawl_clusters(parse_config({}, "t.yaml", tmp_path), sources=[Exploding()])
    assert crawls[0].error == "crawler failed: RuntimeError"


# ------------------------------------------------------------------ config


def test_config_accepts_a_kubernetes_block(tmp_path):
    cfg = parse_config({"sources": {"kubernetes": [
        {"cluster": "prod-eu", "kubeconfig": "kube/config", "context": "prod-eu", "exclude_namespaces": ["kube-*"]},
        {"cluster": "self", "environment": "staging", "in_cluster": {}},
    ]}}, "scorecard.yaml", tmp_path)
    assert [c.cluster for c in cfg.sources.kubernetes] == ["prod-eu", "self"]
    assert cfg.sources.kubernetes[1].in_cluster.token_path.name == "token"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"kubernetes": [{"cluster": "a", "in_cluster": {}, "kubeconfig": "x"}]},
         "sources.kubernetes[0]: Value error, set either in_cluster or kubeconfig/context, not both"),
        ({"kubernetes": [{"cluster": "a"}], "clusters": [{"path": "a.json", "cluster": "a"}]},
         "cluster names must be unique across clusters and kubernetes, repeated: ['a']"),
        ({"kubernetes": [{"cluster": "a", "page_size": 0}]}, "sources.kubernetes[0].page_size"),
        ({"delivery": {"rollouts": {"image_tag_patterns": ["^v(.*)$"]}}},
         "sources.delivery.rollouts.image_tag_patterns: Value error, [0] needs a named group (?P<sha>...)"),
    ],
    ids=["in-cluster-and-kubeconfig", "duplicate-name", "page-size", "pattern-without-sha"],
)
def test_config_errors_name_the_key(tmp_path, data, expected):
    with pytest.raises(ConfigError) as err:
        parse_config({"sources": data}, "scorecard.yaml", tmp_path)
    assert expected in str(err.value)


# --------------------------------------------------- deploys from ReplicaSets


CONVENTIONS = ShaConventions.from_config(RolloutDeploys())


@pytest.mark.parametrize(
    ("image", "sha"),
    [
        ("registry.example.com/team/app:sha-3f2a9c1", "3f2a9c1"),
        ("registry.example.com:5000/app:3f2a9c1e8b7d6c5a4f3e2d1c0b9a8f7e6d5c4b3a", "3f2a9c1e8b7d6c5a4f3e2d1c0b9a8f7e6d5c4b3a"),
        ("app:1.4.2-3f2a9c1", "3f2a9c1"),
        ("app:v1.4.2-14-g3f2a9c1", "3f2a9c1"),
        ("app:deadbeef12", "deadbeef12"),
        ("app:main-3f2a9c1", None),  # <branch>-<sha> is not a default convention (add a pattern for it)
        ("app:sha-3f2a9c1@sha256:" + "0" * 64, "3f2a9c1"),
        ("app:1.4.2", None),
        ("app:20240101", None),  # a date, not a sha
        ("app:1.4.2-1234567", None),  # a build number
        ("app:latest", None),
        ("app@sha256:" + "a" * 64, None),
        ("registry:5000/app", None),
    ],
)
def test_image_tag_conventions(image, sha):
    assert deployed_sha({"images": [image]}, CONVENTIONS) == sha


def test_image_tag_parsing():
    assert image_tag("registry:5000/team/app:1.2-abc1234@sha256:00") == "1.2-abc1234"
    assert image_tag("registry:5000/team/app") is None


def test_an_annotation_beats_the_image_tag():
    rs = {"images": ["app:sha-1111111a"], "annotations": {"platform-scorecard/git-sha": "2222222b"}}
    assert deployed_sha(rs, CONVENTIONS) == "2222222b"
    rs = {"images": ["app:sha-1111111a"], "pod_labels": {"app.kubernetes.io/version": "1.2.3"}}
    assert deployed_sha(rs, CONVENTIONS) == "1111111a"  # a version, not a sha: fall through to the tag
    custom = ShaConventions.from_config(RolloutDeploys(sha_keys=["deploy.acme.io/git-sha"]))
    rs = {"images": ["app:1.0.0"], "annotations": {"deploy.acme.io/git-sha": "3333333c"}}
    assert deployed_sha(rs, custom) == "3333333c"


def _crawl(environment: str, *replica_sets: dict, error: str | None = None) -> ClusterCrawl:
    from pipelines.parsers import parse_k8s_documents

    inventory = parse_k8s_documents(list(replica_sets), "t", cluster="c", environment=environment)
    return ClusterCrawl(f"c-{environment}", environment, inventory, error)


UNTIL = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
PROD = frozenset({"production", "prod"})


def _join(*services):
    from pipelines.evidence import JoinIndex
    from pipelines.identity import ServiceRecord

    return JoinIndex(ServiceRecord(s, None, "", "config", None, None) for s in services)


def test_rollouts_become_deploys_only_in_production_and_once_per_sha():
    prod_eu = _crawl(
        "production",
        replica_set("payments", "payments", 1, "r/payments:sha-1a2b3c4", created="2026-11-20T09:00:00Z"),
        replica_set("payments", "payments", 2, "r/payments:sha-3f2a9c1", created="2026-11-24T15:30:00Z"),
        # `kubectl rollout restart`: a new ReplicaSet of the same code
        replica_set("payments", "payments", 3, "r/payments:sha-3f2a9c1", created="2026-11-25T08:00:00Z",
                    pod_labels={"kubectl.kubernetes.io/restartedAt": "x"}),
        replica_set("orphan", "x", 1, "r/orphan:sha-abcdef1", created="2026-11-24T15:30:00Z"),
        replica_set("checkout", "shop", 1, "r/checkout:1.0.0", created="2026-11-24T15:30:00Z"),
    )
    prod_us = _crawl("production", replica_set("payments", "payments", 7, "r/payments:sha-3f2a9c1",
                                                created="2026-11-24T14:00:00Z"))
    staging = _crawl("staging", replica_set("payments", "payments", 9, "r/payments:sha-9999999f",
                                            created="2026-11-26T09:00:00Z"))
    failed = _crawl("production", replica_set("payments", "payments", 8, "r/payments:sha-8888888e",
                                              created="2026-11-26T09:00:00Z"), error="down")
    deploys = rollout_deploys([prod_eu, prod_us, staging, failed], _join("payments", "checkout"),
                              RolloutDeploys(), PROD, UNTIL)
    assert deploys == [
        Deploy("payments", "1a2b3c4", dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC), "replicaset"),
        Deploy("payments", "3f2a9c1", dt.datetime(2026, 11, 24, 14, tzinfo=dt.UTC), "replicaset"),  # prod-us first
    ]
    assert rollout_deploys([prod_eu], _join("payments"), RolloutDeploys(enabled=False), PROD, UNTIL) == []


def test_ci_events_beat_rollouts_which_beat_tags():
    at = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
    rollouts = [Deploy("evented", "aaaaaaa1", at, "replicaset"), Deploy("rolled", "bbbbbbb2", at, "replicaset")]
    event = DeploymentEvent(service="evented", environment="production", sha="ccccccc3", deployed_at=at)
    tags = {"repo": [Tag("v1.0.0", "ddddddd4", at)]}
    services = {"evented": "repo", "rolled": "repo", "tagged": "repo"}
    out = production_deploys(services, [event], tags, r"^v\d+\.\d+\.\d+$", PROD, UNTIL, rollouts)
    assert {(d.service, d.source) for d in out} == {("evented", "event"), ("rolled", "replicaset"), ("tagged", "tag")}



def test_the_rbac_manifest_grants_get_and_list_on_exactly_what_the_source_reads():
    from pathlib import Path

    import yaml

    from pipelines.sources.kubernetes import RESOURCES

    manifest = Path(__file__).parents[2] / "deploy" / "rbac" / "scorecard-reader.yaml"
    docs = {d["kind"]: d for d in yaml.safe_load_all(manifest.read_text())}
    granted = {(group, resource) for rule in docs["ClusterRole"]["rules"]
               for group in rule["apiGroups"] for resource in rule["resources"]}
    assert granted == {(r.group, r.plural) for r in RESOURCES}
    assert {tuple(rule["verbs"]) for rule in docs["ClusterRole"]["rules"]} == {("get", "list")}
    binding = docs["ClusterRoleBinding"]
    assert binding["roleRef"]["name"] == docs["ClusterRole"]["metadata"]["name"]
    assert binding["subjects"][0]["name"] == docs["ServiceAccount"]["metadata"]["name"]


@pytest.mark.parametrize(
    "fault",
    ["forbidden", "slow", "truncate", "garbage", "expired", "unauthorized", "down", "not-kubernetes",
     "echo-500", "echo-403"],
)
def test_no_failure_records_the_token(fault):
    server = sample_cluster(FakeKubernetes(tokens={TOKEN}))
    token = TOKEN
    if fault == "forbidden":
        server.forbidden |= {"deployments", "services"}
    elif fault == "slow":
        server.slow["deployments"] = 1.0
    elif fault == "truncate":
        server.truncate |= {"deployments", "services"}
    elif fault == "garbage":
        server.garbage |= {"replicasets"}
    elif fault == "expired":
        server.expire_continue = 99
    elif fault == "unauthorized":
        server.tokens = {"another"}
    elif fault == "not-kubernetes":
        server.uninstall("apps/v1", "deployments")
    elif fault.startswith("echo-"):  # an error body that repeats the Authorization header
        server.echo = {"deployments": int(fault.split("-")[1]), "horizontalpodautoscalers": int(fault.split("-")[1])}
    with server:
        url = server.url if fault != "down" else f"https://127.0.0.1:{closed_port()}"
        result = source_for(url, token=token, page_size=1, request_timeout=0.3).crawl()
    assert result.error or result.partial
    assert token not in repr(result)
    assert token not in repr(cluster_status([result]))


def test_failed_clusters_are_named_on_the_services_that_ran_there():
    from checks.evidence import ServiceEvidence
    from pipelines.stages import LastGoodCrawl, mark_failed_clusters

    def ev(name, workloads=None):
        return ServiceEvidence(service=name, identity_rule="catalog", repo=name, path="", team=None,
                               owner_source=None, as_of=dt.date(2026, 11, 26), cluster_workloads=workloads)

    at = dt.datetime(2026, 11, 25, 5, 0, tzinfo=dt.UTC)
    evidence = [ev("payments", []), ev("checkout", []), ev("elsewhere", ["wl"])]
    crawls = [ClusterCrawl("prod-eu", "production", K8sInventory(), "connection refused"),
              ClusterCrawl("prod-us", "production", K8sInventory(), "unauthorized (401)"),
              ClusterCrawl("staging", "staging", K8sInventory())]
    mark_failed_clusters(evidence, crawls, {"prod-eu": LastGoodCrawl(at, frozenset({"payments"}))})
    errors = {e.service: e.cluster_errors for e in evidence}
    assert errors == {
        # ran on prod-eu at its last good crawl; prod-us never crawled well, so it may run there too
        "payments": ["prod-eu (connection refused; last good crawl 2026-11-25 05:00 UTC)",
                     "prod-us (unauthorized (401); never crawled successfully)"],
        "checkout": ["prod-us (unauthorized (401); never crawled successfully)"],
        "elsewhere": [],  # a healthy cluster accounts for it
    }


def test_an_explicit_sha_marker_accepts_an_all_digit_short_sha():
    # Found as a flaky pipeline test: a real 7-char sha is all digits ~4 % of
    # the time, and `sha-1234567` says outright that it is a sha.
    from pipelines.config import RolloutDeploys
    from pipelines.sources.rollouts import ShaConventions

    conventions = ShaConventions.from_config(RolloutDeploys())
    assert conventions.sha_in("sha-1234567") == "1234567"
    assert conventions.sha_in("1234567") is None
    assert conventions.sha_in("1.4.2-1234567") is None


def test_cronjobs_jobs_and_rollouts_are_workloads_and_owned_jobs_are_not(k8s):
    nightly = cronjob("nightly-report", "shop")
    k8s.add(nightly, job_of(nightly, 1), job_of(nightly, 2), rollout("checkout", "shop"))
    k8s.install("argoproj.io/v1alpha1", "rollouts")
    crawl = source_for(k8s.url).crawl()
    kinds = {(w.kind, w.name) for w in crawl.inventory.workloads}
    assert {("CronJob", "nightly-report"), ("Rollout", "checkout")} <= kinds
    assert not any(k == "Job" for k, _ in kinds)  # the CronJob's runs are its children
    assert crawl.partial == []


def test_a_cluster_without_argo_rollouts_is_not_partial(k8s):
    crawl = source_for(k8s.url).crawl()
    assert crawl.error is None and crawl.partial == []
    assert k8s.requests_for("rollouts")  # asked, answered 404: the CRD is simply not installed
    assert not any("rollouts" in p.reason for p in crawl.inventory.problems)
