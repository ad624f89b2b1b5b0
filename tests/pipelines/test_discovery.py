"""Service discovery and workload joins on real git repositories of each common layout.

Each test builds a repository with git, crawls it with the local-clone source
and resolves services exactly as a run does, then asserts what a user reading
the repository would expect.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pipelines import frames
from pipelines.config import parse_config
from pipelines.evidence import build_evidence, join_repo_workloads
from pipelines.identity import resolve_services
from pipelines.sources.local_git import LocalGitSource
from tests.gitrepo import catalog_info, commit, init

DOCKERFILE = "FROM python:3.12-slim\nCMD [\"python\", \"-m\", \"app\"]\n"


def deployment(name: str, *, app: str | None = None, image: str | None = None, kind: str = "Deployment",
               replicas: str = "  replicas: 2\n", namespace: str = "") -> str:
    ns = f"  namespace: {namespace}\n" if namespace else ""
    labels = f"      labels: {{app: {app}}}\n" if app else ""
    return (
        f"apiVersion: apps/v1\nkind: {kind}\nmetadata:\n  name: {name}\n{ns}spec:\n{replicas}"
        f"  template:\n    metadata:\n{labels or '      labels: {}' + chr(10)}"
        f"    spec:\n      containers:\n        - name: {name}\n          image: {image or 'acme/' + name + ':1.0'}\n"
    )


def resolve(root: Path, config: dict | None = None):
    source = LocalGitSource(root)
    crawls = [source.crawl(name) for name in source.repo_names()]
    cfg = parse_config(config or {}, "scorecard.yaml", root)
    records, problems = resolve_services([c.facts for c in crawls], cfg)
    return crawls, records, problems


def evidence_of(root: Path, config: dict | None = None):
    crawls, records, _ = resolve(root, config)
    evidence = build_evidence(records, {c.facts.repo: c.facts for c in crawls}, None, {}, dt.date(2026, 12, 1))
    return {e.service: e for e in evidence}, records, crawls


def test_src_layout_one_service_per_dockerfile_joined_by_workload_name(tmp_path):
    repo = init(tmp_path / "shop")
    commit(repo, {
        "src/cart/Dockerfile": DOCKERFILE, "src/cart/app.py": "",
        "src/checkout/Dockerfile": DOCKERFILE,
        "src/frontend/Dockerfile": DOCKERFILE,
        "docs/Dockerfile": DOCKERFILE,  # docs are never a service
        "src/test/Dockerfile": DOCKERFILE,  # nor tests
        "kubernetes-manifests/cart.yaml": deployment("cart"),
        "kubernetes-manifests/checkout.yaml": deployment("checkout-v2", app="checkout"),
        "kubernetes-manifests/frontend.yaml": deployment("web", image="gcr.io/shop/frontend:v1"),
        "kubernetes-manifests/redis.yaml": deployment("redis-cart", image="redis:7"),
    })
    evidence, records, crawls = evidence_of(tmp_path)
    assert {r.service: (r.path, r.identity_rule) for r in records} == {
        "cart": ("src/cart", "discovered"), "checkout": ("src/checkout", "discovered"),
        "frontend": ("src/frontend", "discovered"),
    }
    assert "marker: src/cart/Dockerfile" in next(r for r in records if r.service == "cart").identity_detail
    # Joined by workload name, by the `app` label and by the image's last path part.
    assert [w.name for w in evidence["cart"].repo_workloads] == ["cart"]
    assert [w.name for w in evidence["checkout"].repo_workloads] == ["checkout-v2"]
    assert [w.name for w in evidence["frontend"].repo_workloads] == ["web"]
    # A workload that is nobody's is an orphan, listed as such.
    frame = frames.workloads_frame(list(evidence.values()), None, records, crawls)
    orphans = frame[frame["service"].isna()]
    assert orphans[["source", "name", "repo"]].values.tolist() == [["repo", "redis-cart", "shop"]]
    joined = dict(zip(frame["name"], frame["join_label"], strict=True))
    assert joined["cart"] == "workload name" and joined["checkout-v2"] == "label app" and joined["web"] == "image"


def test_maven_modules_are_services_libraries_are_not(tmp_path):
    repo = init(tmp_path / "petstore")
    commit(repo, {
        "pom.xml": "<project><packaging>pom</packaging><modules><module>orders</module><module>billing</module>"
                   "<module>common</module><module>reports</module></modules></project>",
        "orders/pom.xml": "<project><build><plugins><plugin><artifactId>spring-boot-maven-plugin</artifactId>"
                          "</plugin></plugins></build></project>",
        "billing/pom.xml": "<project><build><plugins><plugin><artifactId>jib-maven-plugin</artifactId>"
                           "</plugin></plugins></build></project>",
        "common/pom.xml": "<project><packaging>jar</packaging></project>",  # a library
        "reports/pom.xml": "<project/>",  # no plugin, but a workload runs it: confirmed
        "k8s/reports.yaml": deployment("reports"),
    })
    _, records, _ = resolve(tmp_path)
    assert sorted(r.service for r in records) == ["billing", "orders", "reports"]
    reports = next(r for r in records if r.service == "reports")
    assert "a workload or image of that name runs" in reports.identity_detail


def test_go_cmd_binaries_confirmed_by_their_workloads(tmp_path):
    repo = init(tmp_path / "platform")
    commit(repo, {
        "go.mod": "module example.com/platform\n",
        "cmd/api/main.go": "package main\n", "cmd/worker/main.go": "package main\n",
        "cmd/migrate/main.go": "package main\n",  # a CLI: nothing runs it
        "deploy/api.yaml": deployment("api"), "deploy/worker.yaml": deployment("worker"),
    })
    _, records, _ = resolve(tmp_path)
    assert {r.service: r.path for r in records} == {"api": "cmd/api", "worker": "cmd/worker"}


def test_services_folder_and_name_clashes_across_repositories(tmp_path):
    commit(init(tmp_path / "a"), {"services/api/Dockerfile": DOCKERFILE, "services/jobs/Dockerfile": DOCKERFILE})
    commit(init(tmp_path / "b"), {"apps/api/Dockerfile": DOCKERFILE, "apps/web/Dockerfile": DOCKERFILE})
    _, records, problems = resolve(tmp_path)
    assert sorted(r.service for r in records) == ["a-api", "b-api", "jobs", "web"]
    assert problems == []


def test_one_deployable_means_the_repository_is_the_service(tmp_path):
    commit(init(tmp_path / "payments"), {"server/Dockerfile": DOCKERFILE, "deploy/payments.yaml": deployment("payments-api")})
    evidence, records, _ = evidence_of(tmp_path)
    [rec] = records
    assert (rec.service, rec.path, rec.identity_rule) == ("payments", "", "repo")
    assert "builds one deployable" in rec.identity_detail
    assert [w.name for w in evidence["payments"].repo_workloads] == ["payments-api"]  # by path: it is the repo's


def test_catalog_entities_and_config_entries_win_over_discovery(tmp_path):
    repo = init(tmp_path / "mono")
    commit(repo, {
        "services/orders/catalog-info.yaml": catalog_info("order-service"),
        "services/orders/Dockerfile": DOCKERFILE,
        "services/billing/Dockerfile": DOCKERFILE,
        "services/search/Dockerfile": DOCKERFILE,
    })
    _, records, _ = resolve(tmp_path, {"services": [{"name": "search-api", "repo": "mono", "path": "services/search"}]})
    assert {r.service: r.identity_rule for r in records} == {
        "order-service": "catalog", "search-api": "config", "billing": "discovered",
    }


def test_discovery_can_be_switched_off_or_pointed_elsewhere(tmp_path):
    commit(init(tmp_path / "mono"), {"src/a/Dockerfile": DOCKERFILE, "src/b/Dockerfile": DOCKERFILE,
                                     "deployables/c/Dockerfile": DOCKERFILE, "deployables/d/Dockerfile": DOCKERFILE})
    _, off, _ = resolve(tmp_path, {"discovery": {"enabled": False}})
    assert [r.service for r in off] == ["mono"]
    _, moved, _ = resolve(tmp_path, {"discovery": {"roots": ["deployables"]}})
    assert sorted(r.service for r in moved) == ["c", "d"]


def test_kustomize_overlays_do_not_double_count_and_copies_are_one_workload(tmp_path):
    repo = init(tmp_path / "shop")
    base = deployment("cart", replicas="")
    patch = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: cart\nspec:\n  replicas: 3\n"
    commit(repo, {
        "src/cart/Dockerfile": DOCKERFILE, "src/web/Dockerfile": DOCKERFILE,
        "src/cart/k8s/base/cart.yaml": base,
        "src/cart/k8s/base/kustomization.yaml": "resources: [cart.yaml]\n",
        "src/cart/k8s/overlays/prod/replicas.yaml": patch,
        "src/cart/k8s/overlays/prod/kustomization.yaml": "resources: [../../base]\npatches:\n  - path: replicas.yaml\n",
        "release/cart.yaml": deployment("cart"),  # the rendered release: same workload
        "release/web.yaml": deployment("web"),
    })
    evidence, _, crawls = evidence_of(tmp_path)
    [cart] = evidence["cart"].repo_workloads
    assert cart.file == "release/cart.yaml" and cart.also_in == ["src/cart/k8s/base/cart.yaml"]
    assert crawls[0].facts.problems == []  # the partial patch is not read as a broken Deployment
    assert [w.name for w in evidence["web"].repo_workloads] == ["web"]


def test_manifests_are_found_by_content_in_any_folder(tmp_path):
    folders = ["kubernetes-manifests", "kustomize/base", "release", "istio-manifests", "clusters/prod/apps", "ops"]
    repo = init(tmp_path / "svc")
    commit(repo, {f"{folder}/w{i}.yaml": deployment(f"w{i}") for i, folder in enumerate(folders)} | {
        "tests/fixtures/fake.yaml": deployment("fixture"),  # test fixtures are not workloads
        "docs/example.yaml": deployment("example"),
        "chart/templates/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\n{{ .Values.x }}\n",
        "config/settings.yaml": "kind: settings\napiVersion_note: not kubernetes\n",
        ".github/kind/x.yaml": deployment("not-a-workload"),  # repository settings, never deployed
    })
    crawl = LocalGitSource(tmp_path).crawl("svc")
    names = sorted(w.name for w in crawl.facts.manifests.workloads)
    assert names == [f"w{i}" for i in range(len(folders))]
    assert crawl.facts.problems == []


def test_every_workload_kind_is_joined_and_listed(tmp_path):
    cron = ("apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: billing-report}\nspec:\n  jobTemplate:\n"
            "    spec:\n      template:\n        metadata: {labels: {app: billing}}\n        spec:\n"
            "          containers: [{name: r, image: acme/billing:1}]\n")
    rollout = deployment("orders", kind="Rollout").replace("apps/v1", "argoproj.io/v1alpha1")
    repo = init(tmp_path / "shop")
    commit(repo, {
        "services/billing/Dockerfile": DOCKERFILE, "services/orders/Dockerfile": DOCKERFILE,
        "services/agent/Dockerfile": DOCKERFILE,
        "deploy/billing-cron.yaml": cron, "deploy/orders.yaml": rollout,
        "deploy/agent.yaml": deployment("agent", kind="DaemonSet", replicas=""),
    })
    evidence, _, _ = evidence_of(tmp_path)
    assert [(w.kind, w.name) for w in evidence["billing"].repo_workloads] == [("CronJob", "billing-report")]
    assert [(w.kind, w.name) for w in evidence["orders"].repo_workloads] == [("Rollout", "orders")]
    assert [(w.kind, w.name) for w in evidence["agent"].repo_workloads] == [("DaemonSet", "agent")]


def test_repo_objects_next_to_a_joined_workload_belong_to_its_service(tmp_path):
    pdb = ("apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: cart}\n"
           "spec:\n  maxUnavailable: 1\n  selector: {matchLabels: {app: cart}}\n")
    repo = init(tmp_path / "shop")
    commit(repo, {"src/cart/Dockerfile": DOCKERFILE, "src/web/Dockerfile": DOCKERFILE,
                  "manifests/cart.yaml": deployment("cart", app="cart") + "---\n" + pdb,
                  "manifests/web.yaml": deployment("web")})
    evidence, _, crawls = evidence_of(tmp_path)
    assert [o.kind for o in evidence["cart"].repo_objects] == ["PodDisruptionBudget"]
    facts = crawls[0].facts
    assert join_repo_workloads(facts, resolve(tmp_path)[1]).orphans == []


def test_a_codeowners_team_of_another_organisation_is_not_your_team(tmp_path):
    commit(init(tmp_path / "svc"), {".github/CODEOWNERS": "* @other-org/payments\n"})
    teams = [{"name": "payments"}]
    _, [ours], _ = resolve(tmp_path, {"organisation": "acme", "teams": teams})
    assert ours.team == "@other-org/payments"  # shown as written, and owner_is_known_team fails on it
    commit(tmp_path / "svc", {".github/CODEOWNERS": "* @acme/payments\n"})
    _, [fixed], _ = resolve(tmp_path, {"organisation": "acme", "teams": teams})
    assert fixed.team == "payments"
    # A team may name the other organisation's team as its alias on purpose.
    commit(tmp_path / "svc", {".github/CODEOWNERS": "* @other-org/payments\n"})
    aliased = [{"name": "payments", "aliases": ["@other-org/payments"]}]
    _, [alias], _ = resolve(tmp_path, {"organisation": "acme", "teams": aliased})
    assert alias.team == "payments"
