"""Argo CD and Flux objects in the real argocd-example-apps and flux2 example repositories:
recognised as GitOps facts, never a service or a workload (checked by hand against the files)."""

from __future__ import annotations

import pytest

from pipelines.evidence_gitops import link_gitops
from pipelines.identity import ServiceRecord
from tests.realrepos import REALREPOS, needs_realrepos

pytestmark = needs_realrepos


@pytest.fixture(scope="module")
def crawled():
    from pipelines.sources.local_git import LocalGitSource

    source = LocalGitSource(REALREPOS)
    return {name: source.crawl(name).facts for name in ("flux2-kustomize-helm-example", "argocd-example-apps")}


def test_flux_example_kustomizations_and_helm_releases_are_gitops_facts(crawled):
    flux = crawled["flux2-kustomize-helm-example"]
    assert flux.error is None and flux.manifests.workloads == []
    by_kind = {}
    for app in flux.manifests.gitops:
        by_kind.setdefault(app.kind, set()).add(app.name)
    # clusters/<env>/{apps,infrastructure}.yaml are Flux Kustomizations; apps/base/podinfo/release.yaml a HelmRelease.
    assert {"apps", "infra-controllers"} <= by_kind["Kustomization"]
    assert "podinfo" in by_kind["HelmRelease"]
    podinfo = next(a for a in flux.manifests.gitops if a.kind == "HelmRelease" and a.name == "podinfo")
    assert podinfo.tool == "flux" and podinfo.sources[0].chart == "podinfo" and podinfo.file is not None
    assert podinfo.sync_status is None and podinfo.history == ()  # a manifest has no status
    # clusters/production/apps.yaml: `sourceRef: {kind: ExternalArtifact, name: apps}`, `path: ./production`.
    production = [a for a in flux.manifests.gitops if a.kind == "Kustomization" and a.file == "clusters/production/apps.yaml"]
    assert [(a.name, a.sources[0].ref_kind, a.sources[0].ref_name, a.sources[0].path) for a in production] == [
        ("apps", "ExternalArtifact", "apps", "./production")]
    assert production[0].automated and production[0].prune


def test_argocd_example_apps_declares_its_applications_only_in_a_helm_template(crawled):
    # apps/templates/applications.yaml is a Go template, never parsed as YAML: no object, no error.
    argo = crawled["argocd-example-apps"]
    assert argo.error is None
    assert argo.manifests.gitops == []
    assert not [w for w in argo.manifests.workloads if w.kind in ("Application", "ApplicationSet")]


def test_no_gitops_object_becomes_a_service(crawled):
    records = [ServiceRecord(name, name, "", "repo", None, None) for name in crawled]
    links = link_gitops(records, crawled, [], None)
    services = {r.service for r in records}
    assert set(links.by_service) <= services  # linked to the repositories' own services, never new ones
    assert all(a.kind in ("Application", "Kustomization", "HelmRelease") for apps in links.by_service.values() for a in apps)
