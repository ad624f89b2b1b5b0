"""Nothing in the four real repositories is a Crossplane claim or a secrets-manager object
it is not: Flux and Argo CD custom resources stay GitOps objects, never claims."""

from __future__ import annotations

import pytest

from pipelines import crossplane
from tests.realrepos import REALREPOS, needs_realrepos

pytestmark = needs_realrepos
REPOS = ("argocd-example-apps", "bank-of-anthos", "flux2-kustomize-helm-example", "spring-petclinic-microservices")


@pytest.fixture(scope="module")
def facts():
    from pipelines.sources.local_git import LocalGitSource

    source = LocalGitSource(REALREPOS)
    return {name: source.crawl(name, None).facts for name in REPOS}


def test_no_real_repository_holds_crossplane_objects_or_claims(facts):
    catalogue = crossplane.build_catalogue([(f.manifests, f"repo {n}") for n, f in facts.items()])
    assert (catalogue.xrds, catalogue.compositions, catalogue.revisions) == ([], [], [])
    for name, f in facts.items():
        assert f.error is None, name
        assert crossplane.find_claims(f.manifests, catalogue) == [], name
        assert not [o for o in f.manifests.objects if o.spec.get("crossplane")], name


def test_flux_and_argocd_resources_are_gitops_objects_not_candidates(facts):
    flux, argo = facts["flux2-kustomize-helm-example"], facts["argocd-example-apps"]
    gitops = {"Kustomization", "HelmRelease", "HelmRepository", "OCIRepository", "GitRepository", "Application",
              "ApplicationSet", "AppProject"}  # fmt: skip
    for f in (flux, argo):
        assert not [o for o in f.manifests.custom_objects if o.kind in gitops]
    # Whatever other custom resources they hold stay candidates only: no XRD in sight serves them.
    assert {o.kind for o in flux.manifests.objects} >= {"Kustomization", "HelmRelease"}


def test_no_real_repository_has_sops_or_sealed_secrets(facts):
    kinds = {o.kind for f in facts.values() for o in f.manifests.objects}
    assert not kinds & {"SopsEncryptedFile", "SopsConfig", "SealedSecret", "SecretProviderClass"}
