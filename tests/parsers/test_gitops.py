"""Argo CD and Flux objects read as GitOps facts, never as workloads (pipelines/parsers/gitops.py)."""

from __future__ import annotations

import json

from pipelines.parsers import parse_k8s_documents, parse_k8s_text
from tests.fakes.gitops_objects import (
    SHA_NEW,
    SHA_OLD,
    application,
    helm_release,
    kustomization,
)


def one(doc: dict, **kwargs):
    inventory = parse_k8s_documents([doc], "apps.yaml", **kwargs)
    assert inventory.workloads == [] and inventory.problems == []
    [app] = inventory.gitops
    return app


def test_application_spec_and_status_from_a_cluster():
    app = one(application(sync="OutOfSync", health="Degraded", self_heal=False), cluster="prod-eu", environment="production")
    assert (app.tool, app.kind, app.name, app.namespace, app.project) == ("argocd", "Application", "payments-api", "argocd", "platform")
    [src] = app.sources
    assert (src.repo_url, src.path, src.target_revision) == ("https://github.com/acme/payments.git", "deploy/prod", "main")
    assert (app.destination_server, app.destination_namespace) == ("https://kubernetes.default.svc", "payments")
    assert (app.automated, app.prune, app.self_heal) == (True, True, False)
    assert (app.sync_status, app.health) == ("OutOfSync", "Degraded")
    assert [(h.revision, h.deployed_at, h.id) for h in app.history] == [
        (SHA_OLD, "2025-11-20T10:00:00Z", 0), (SHA_NEW, "2025-11-23T10:00:00Z", 1)]
    assert (app.desired_revision, app.applied_revision) == (SHA_NEW, SHA_NEW)
    assert ("Deployment", "payments", "payments-api") in app.resources
    assert app.observed and app.cluster == "prod-eu" and app.environment == "production"


def test_application_manifest_in_a_repo_has_no_status():
    doc = application()
    del doc["status"]
    doc["spec"]["syncPolicy"] = {}
    app = one(doc)
    assert app.file == "apps.yaml" and not app.observed
    assert (app.sync_status, app.health, app.history, app.automated) == (None, None, (), False)


def test_multi_source_application_and_automated_turned_off():
    doc = application()
    source = doc["spec"].pop("source")
    chart = {"repoURL": "https://charts.acme.dev", "chart": "base-service", "targetRevision": "3.2.0"}
    doc["spec"]["sources"] = [chart, source]
    doc["spec"]["syncPolicy"]["automated"]["enabled"] = False  # Argo CD 3
    doc["status"]["sync"] = {"status": "Synced", "revisions": ["3.2.0", SHA_NEW]}
    doc["status"]["history"] = [{"id": 3, "revisions": ["3.2.0", SHA_NEW], "deployedAt": "2025-11-23T10:00:00Z"}]
    app = one(doc)
    assert [s.chart for s in app.sources] == ["base-service", None]
    assert app.sources[1].path == "deploy/prod"
    assert app.automated is False and app.self_heal is False
    assert app.desired_revision == "3.2.0" and app.history[0].revision == "3.2.0"


def test_flux_kustomization_revisions_and_ready_condition():
    app = one(kustomization(applied=SHA_OLD, attempted=SHA_NEW, ready="False"))
    assert (app.tool, app.kind) == ("flux", "Kustomization")
    [src] = app.sources
    assert (src.ref_kind, src.ref_name, src.path, src.repo_url) == ("GitRepository", "payments", "./deploy/prod", None)
    assert (app.applied_revision, app.desired_revision) == (SHA_OLD, SHA_NEW)  # "main@sha1:<sha>" -> sha
    assert (app.sync_status, app.health) == ("OutOfSync", "Degraded")
    [deployed] = app.history
    assert deployed.revision == SHA_OLD and deployed.deployed_at is None  # not Ready: no time to trust


def test_flux_revision_before_flux_2():
    doc = kustomization()
    doc["status"]["lastAppliedRevision"] = doc["status"]["lastAttemptedRevision"] = f"main/{SHA_NEW}"
    app = one(doc)
    assert app.applied_revision == SHA_NEW and app.history[0].deployed_at == "2025-11-22T09:00:00Z"


def test_suspended_kustomization_is_not_automated():
    app = one(kustomization(suspend=True))
    assert (app.automated, app.self_heal, app.suspended, app.health) == (False, False, True, "Suspended")


def test_helm_release_v2_history_snapshots_oldest_first():
    app = one(helm_release(versions=("1.4.0", "1.4.1", "1.4.2"), attempted="1.5.0"))
    assert [h.chart_version for h in app.history] == ["1.4.0", "1.4.1", "1.4.2"]
    newest = app.history[-1]
    assert (newest.status, newest.app_version, newest.id, newest.deployed_at) == ("deployed", "1.4.2-app", 3, "2025-11-12T08:00:00Z")
    assert (app.applied_revision, app.desired_revision, app.sync_status) == ("1.4.2", "1.5.0", "OutOfSync")
    assert app.sources[0].chart == "search-api" and app.sources[0].ref_name == "acme-charts"


def test_helm_release_before_v2_and_chart_ref():
    doc = helm_release()
    doc["apiVersion"] = "helm.toolkit.fluxcd.io/v2beta1"
    doc["status"] = {"lastAppliedRevision": "1.3.0", "lastAttemptedRevision": "1.3.0",
                     "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2025-11-01T00:00:00Z"}]}
    doc["spec"] = {"chartRef": {"kind": "OCIRepository", "name": "search-chart"}}
    app = one(doc)
    assert [(h.revision, h.deployed_at) for h in app.history] == [("1.3.0", "2025-11-01T00:00:00Z")]
    assert (app.sources[0].chart, app.sources[0].ref_kind) == ("search-chart", "OCIRepository")


def test_hostile_fields_are_unknown_not_a_crash():
    doc = application()
    doc["status"]["history"] = "lots"
    doc["status"]["sync"] = ["Synced"]
    doc["spec"]["source"] = {"repoURL": {"nested": 1}, "path": 3}
    app = one(doc)
    assert app.history == () and app.sync_status is None and app.sources[0].repo_url is None
    assert app.sources[0].path == "3"


def test_same_kind_names_of_other_groups_and_a_kubectl_list_of_them():
    kustomize_file = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": ["a.yaml"]}
    listed = {"apiVersion": "v1", "kind": "List", "items": [application(), kustomization(), helm_release(), kustomize_file]}
    inventory = parse_k8s_text(json.dumps(listed), "prod.json", cluster="prod-eu", environment="production")
    assert sorted(a.kind for a in inventory.gitops) == ["Application", "HelmRelease", "Kustomization"]
    assert inventory.workloads == [] and inventory.problems == []
