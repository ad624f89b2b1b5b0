"""Argo CD and Flux objects read from a live cluster's CRDs (pipelines/sources/kubernetes.py)."""

from __future__ import annotations

import pytest

from pipelines.sources.kubeconfig import Endpoint
from pipelines.sources.kubernetes import KubernetesSource
from tests.fakes.gitops_objects import (
    application,
    git_repository,
    helm_release,
    kustomization,
)
from tests.fakes.k8s_server import FakeKubernetes, sample_cluster

TOKEN = "k8s-bearer-gitops-never-in-output"


def crawl(url: str):
    endpoint = Endpoint(server=url, source="test", token=TOKEN)
    return KubernetesSource("prod-eu", "production", lambda: endpoint).crawl()


@pytest.fixture
def k8s():
    with sample_cluster(FakeKubernetes(tokens={TOKEN})) as server:
        yield server


def test_a_cluster_without_gitops_crds_is_normal(k8s):
    result = crawl(k8s.url)
    assert result.error is None and result.partial == []
    assert result.inventory.gitops == []
    assert k8s.requests_for("applications") and k8s.requests_for("kustomizations")  # asked, answered 404
    assert not [p for p in result.inventory.problems if "argoproj" in p.path or "fluxcd" in p.path]


def test_applications_kustomizations_and_helm_releases_are_read(k8s):
    k8s.add(application(), kustomization(), git_repository(), helm_release())
    result = crawl(k8s.url)
    assert result.error is None
    assert sorted((a.kind, a.name) for a in result.inventory.gitops) == [
        ("Application", "payments-api"), ("HelmRelease", "search-api"), ("Kustomization", "payments-api")]
    assert {(a.cluster, a.environment, a.file) for a in result.inventory.gitops} == {("prod-eu", "production", None)}
    assert not [w for w in result.inventory.workloads if w.kind in ("Application", "Kustomization", "HelmRelease")]
    assert any(o.kind == "GitRepository" for o in result.inventory.objects)


def test_forbidden_applications_make_the_crawl_partial_and_gitops_unknown(k8s):
    k8s.add(application())
    k8s.forbidden.add("applications")
    result = crawl(k8s.url)
    assert result.error is None and result.inventory.workloads
    assert result.inventory.unreadable["Application"].startswith("forbidden (403)")
    assert any("applications.argoproj.io" in p for p in result.partial)
    assert TOKEN not in repr(result)
