"""Argo CD Applications and Flux Kustomizations / HelmReleases as typed facts
(`checks.evidence_gitops.GitOpsApp`).

`pipelines.parsers.kubernetes` recognises the objects by API group and calls
:func:`read_gitops` for the three kinds that deploy something; the same code
reads a manifest in a repository, an object listed from a cluster and an
Application from the Argo CD API server. Shapes (docs/gitops.md):

* Argo CD ``argoproj.io/v1alpha1`` Application: ``spec.project``,
  ``spec.source`` or ``spec.sources[]`` (``repoURL``, ``path``,
  ``targetRevision``, ``chart``), ``spec.destination``,
  ``spec.syncPolicy.automated`` (``prune``, ``selfHeal``; ``enabled: false``
  turns it off), ``status.sync`` (``status``, ``revision``/``revisions``),
  ``status.health.status``, ``status.history[]`` (``revision``/``revisions``,
  ``deployedAt``, ``id``), ``status.resources[]``.
* Flux ``kustomize.toolkit.fluxcd.io`` Kustomization: ``spec.sourceRef``,
  ``spec.path``, ``spec.suspend``, ``status.lastAppliedRevision`` /
  ``lastAttemptedRevision`` (``main@sha1:<sha>``; ``main/<sha>`` before Flux 2.0),
  ``status.conditions[type=Ready]``.
* Flux ``helm.toolkit.fluxcd.io`` HelmRelease: ``spec.chart.spec`` (``chart``,
  ``version``, ``sourceRef``) or ``spec.chartRef``; ``status.history`` (v2:
  snapshots, newest first: ``version``, ``chartVersion``, ``appVersion``,
  ``firstDeployed``, ``lastDeployed``, ``status``, ``digest``) or, before v2,
  ``status.lastAppliedRevision``.

A field of the wrong type is left unknown rather than failing the object: the
object still says where the service is deployed from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from checks.evidence import K8sObject
from checks.evidence_gitops import ARGOCD, FLUX, GitOpsApp, GitOpsRevision, GitOpsSource
from pipelines.parsers._text import scalar_str

# Flux revision strings: "main@sha1:<sha>" (Flux 2.0+), "main/<sha>" (older), "<tag>@sha256:<digest>" (OCI).
_FLUX_SHA = re.compile(r"(?:@sha1:|/)([0-9a-f]{7,40})$")
_MAX_HISTORY = 200  # Argo keeps 10 by default, Helm 5-10: anything beyond is a hostile object


def read_gitops(kind: str, document: dict, *, file: str | None, cluster: str | None,
                environment: str | None) -> GitOpsApp | None:
    metadata = _map(document.get("metadata"))
    name = scalar_str(metadata.get("name"))
    if not name:
        return None
    spec, status = _map(document.get("spec")), _map(document.get("status"))
    common = {
        "name": name, "namespace": scalar_str(metadata.get("namespace")) or "", "file": file, "cluster": cluster,
        "environment": environment, "labels": {str(k): str(v) for k, v in _map(metadata.get("labels")).items()},
    }
    if kind == "Application":
        return _application(spec, status, common)
    if kind == "Kustomization":
        return _kustomization(spec, status, common)
    if kind == "HelmRelease":
        return _helm_release(spec, status, common)
    return None


def flux_revision(value: str | None) -> str | None:
    """The git sha in a Flux revision string, else the string itself (a chart version, an OCI digest)."""
    if not value:
        return None
    match = _FLUX_SHA.search(value)
    return match.group(1) if match else value


def resolve_flux_sources(apps: Iterable[GitOpsApp], objects: Iterable[K8sObject]) -> list[GitOpsApp]:
    """Fill a Flux object's repo URL from the GitRepository / OCIRepository / HelmRepository it names
    (same cluster; the source's namespace defaults to the object's own, as in Flux)."""
    urls = {
        (o.cluster, o.file is None, o.kind, o.namespace, o.name): o.spec.get("url")
        for o in objects if o.kind in ("GitRepository", "OCIRepository", "HelmRepository", "Bucket")
    }
    out = []
    for app in apps:
        if app.tool == FLUX and app.sources and app.sources[0].repo_url is None:
            src = app.sources[0]
            namespace = app.namespace
            url = urls.get((app.cluster, app.file is None, src.ref_kind, namespace, src.ref_name))
            if url:
                app = replace(app, sources=(replace(src, repo_url=url), *app.sources[1:]))
        out.append(app)
    return out


# ------------------------------------------------------------------ Argo CD


def _application(spec: dict, status: dict, common: dict) -> GitOpsApp:
    raw_sources = [s for s in _list(spec.get("sources")) if isinstance(s, dict)]
    if isinstance(spec.get("source"), dict):
        raw_sources.insert(0, spec["source"])
    sources = tuple(
        GitOpsSource(repo_url=_s(s, "repoURL"), path=_s(s, "path"), target_revision=_s(s, "targetRevision"),
                     chart=_s(s, "chart"))
        for s in raw_sources
    )
    destination = _map(spec.get("destination"))
    sync_policy = _map(spec.get("syncPolicy"))
    automated_raw = sync_policy.get("automated")
    # `automated: {}` turns automated sync on; Argo CD 3 adds `enabled: false` to turn it off.
    automated = isinstance(automated_raw, dict) and automated_raw.get("enabled") is not False
    sync, health = _map(status.get("sync")), _map(status.get("health"))
    history = []
    for entry in _list(status.get("history"))[-_MAX_HISTORY:]:
        if not isinstance(entry, dict):
            continue
        revision = _s(entry, "revision") or _first(entry.get("revisions"))
        if revision:
            history.append(GitOpsRevision(revision=revision, deployed_at=_s(entry, "deployedAt"),
                                          id=entry["id"] if isinstance(entry.get("id"), int) else None))
    resources = tuple(
        (_s(r, "kind") or "", _s(r, "namespace") or "", _s(r, "name") or "")
        for r in _list(status.get("resources")) if isinstance(r, dict) and _s(r, "name")
    )
    return GitOpsApp(
        tool=ARGOCD, kind="Application", sources=sources,
        project=_s(spec, "project") or "default",
        destination_server=_s(destination, "name") or _s(destination, "server"),
        destination_namespace=_s(destination, "namespace"),
        automated=automated,
        prune=automated and automated_raw.get("prune") is True,
        self_heal=automated and automated_raw.get("selfHeal") is True,
        sync_status=_s(sync, "status"),
        health=_s(health, "status"),
        health_message=_s(health, "message"),
        desired_revision=_s(sync, "revision") or _first(sync.get("revisions")),
        applied_revision=history[-1].revision if history else None,
        history=tuple(history),
        resources=resources,
        **common,
    )


# --------------------------------------------------------------------- Flux


def _ready(status: dict) -> dict:
    return next((c for c in _list(status.get("conditions")) if isinstance(c, dict) and c.get("type") == "Ready"), {})


def _flux_health(ready: dict, suspended: bool) -> str | None:
    if suspended:
        return "Suspended"
    state = _s(ready, "status")
    if state == "True":
        return "Healthy"
    if state == "False":
        return "Progressing" if _s(ready, "reason") == "Progressing" else "Degraded"
    return "Progressing" if state == "Unknown" else None


def _flux_sync(applied: str | None, attempted: str | None) -> str | None:
    if attempted is None:
        return None
    return "Synced" if applied == attempted else "OutOfSync"


def _kustomization(spec: dict, status: dict, common: dict) -> GitOpsApp:
    ref = _map(spec.get("sourceRef"))
    suspended = spec.get("suspend") is True
    ready = _ready(status)
    applied = _s(status, "lastAppliedRevision")
    attempted = _s(status, "lastAttemptedRevision")
    history = ()
    if applied and status:  # Flux keeps no list: the last applied revision, as of the Ready condition
        history = (GitOpsRevision(revision=flux_revision(applied) or applied,
                                  deployed_at=_s(ready, "lastTransitionTime") if _s(ready, "status") == "True" else None),)
    return GitOpsApp(
        tool=FLUX, kind="Kustomization",
        sources=(GitOpsSource(repo_url=None, path=_s(spec, "path"), ref_kind=_s(ref, "kind"), ref_name=_s(ref, "name")),),
        destination_namespace=_s(spec, "targetNamespace"),
        automated=not suspended, prune=spec.get("prune") is True, self_heal=not suspended, suspended=suspended,
        sync_status=_flux_sync(applied, attempted) if status else None,
        health=_flux_health(ready, suspended) if status else None,
        health_message=_s(ready, "message"),
        desired_revision=flux_revision(attempted), applied_revision=flux_revision(applied),
        history=history,
        **common,
    )


def _helm_release(spec: dict, status: dict, common: dict) -> GitOpsApp:
    chart_spec = _map(_map(spec.get("chart")).get("spec"))
    chart_ref = _map(spec.get("chartRef"))
    ref = _map(chart_spec.get("sourceRef")) or chart_ref
    suspended = spec.get("suspend") is True
    ready = _ready(status)
    history: list[GitOpsRevision] = []
    for snap in _list(status.get("history"))[:_MAX_HISTORY]:  # v2 snapshots, newest first
        if not isinstance(snap, dict):
            continue
        version = _s(snap, "chartVersion")
        if not version:
            continue
        history.append(GitOpsRevision(
            revision=version, deployed_at=_s(snap, "lastDeployed") or _s(snap, "firstDeployed"),
            id=snap["version"] if isinstance(snap.get("version"), int) else None, status=_s(snap, "status"),
            chart_version=version, app_version=_s(snap, "appVersion"), digest=_s(snap, "digest"),
        ))
    history.reverse()
    applied = history[-1].revision if history else _s(status, "lastAppliedRevision")
    if not history and applied and status:  # helm-controller before v2: one revision, at Ready
        history = [GitOpsRevision(revision=applied, deployed_at=_s(ready, "lastTransitionTime"), chart_version=applied)]
    attempted = _s(status, "lastAttemptedRevision")
    return GitOpsApp(
        tool=FLUX, kind="HelmRelease",
        sources=(GitOpsSource(repo_url=None, chart=_s(chart_spec, "chart") or _s(chart_ref, "name"),
                              target_revision=_s(chart_spec, "version"), ref_kind=_s(ref, "kind"),
                              ref_name=_s(ref, "name")),),
        destination_namespace=_s(spec, "targetNamespace"),
        automated=not suspended, self_heal=not suspended, suspended=suspended,
        sync_status=_flux_sync(applied, attempted) if status else None,
        health=_flux_health(ready, suspended) if status else None,
        health_message=_s(ready, "message"),
        desired_revision=attempted, applied_revision=applied,
        history=tuple(history),
        **common,
    )


# ------------------------------------------------------------------ helpers


def _map(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def _s(node: dict, key: str) -> str | None:
    value = node.get(key)
    return None if isinstance(value, (dict, list)) else scalar_str(value)


def _first(value: object) -> str | None:
    items = [scalar_str(v) for v in _list(value) if not isinstance(v, (dict, list))]
    return next((v for v in items if v), None)
