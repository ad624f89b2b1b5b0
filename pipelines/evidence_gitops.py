"""Tie GitOps objects (Argo CD Applications, Flux Kustomizations / HelmReleases)
to the services they deploy, in the style of `pipelines.evidence`.

An object is evidence about a service, never a service or a workload
(DESIGN.md "Identity"). It links to a service by, in order:

1. **managed workloads**: cluster workloads joined to the service that the
   object manages: named in an Application's ``status.resources``, or
   carrying the controller's tracking label with the object's name
   (``argocd.argoproj.io/instance`` / ``app.kubernetes.io/instance`` for
   Argo CD and Helm, ``kustomize.toolkit.fluxcd.io/name``,
   ``helm.toolkit.fluxcd.io/name``), in the destination namespace when it
   has one. An object managing several services' workloads links to each.
2. **source**: its repo URL names a crawled repository (last path part,
   ``.git`` dropped) and its path lies in a service's folder (the deepest
   one; the repository's only service for a one-service repository). A
   path outside every service folder of a monorepo does not guess.
3. **name**: the object's name is a name the service's workloads go by.

An object observed by a controller (cluster, Argo CD API) wins over the same
object's manifest in a repository: only the observed one has a status.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from checks.evidence import ServiceEvidence, Workload
from checks.evidence_gitops import GitOpsApp
from pipelines.evidence import ClusterIndex, JoinIndex
from pipelines.facts import RepoFacts
from pipelines.identity import ServiceRecord
from pipelines.parsers.gitops import resolve_flux_sources
from pipelines.sources.base import ClusterCrawl

TRACKING_LABELS = {
    "Application": ("argocd.argoproj.io/instance", "app.kubernetes.io/instance"),
    "Kustomization": ("kustomize.toolkit.fluxcd.io/name",),
    "HelmRelease": ("helm.toolkit.fluxcd.io/name", "app.kubernetes.io/instance"),
}
_GITOPS_KINDS = ("Application", "Kustomization", "HelmRelease")


@dataclass(slots=True)
class GitOpsCrawl:
    """GitOps objects read from somewhere other than a cluster's CRDs (the Argo CD API server)."""

    source: str  # "argocd:<name>"
    apps: list[GitOpsApp] = field(default_factory=list)
    error: str | None = None
    crawled_at: dt.datetime | None = None
    resource_version: str | None = None  # the list's metadata.resourceVersion: unchanged means nothing changed
    reused: bool = False  # the list was unchanged since the previous crawl: its parse was reused
    problems: list[str] = field(default_factory=list)  # Applications that could not be read


@dataclass(slots=True)
class GitOpsLinks:
    by_service: dict[str, list[GitOpsApp]]
    unlinked: list[GitOpsApp]
    errors: list[str]  # sources that could have shown GitOps objects and failed


def repo_name(url: str | None) -> str | None:
    """``https://github.com/acme/payments.git`` / ``git@github.com:acme/payments`` -> ``payments``."""
    if not url:
        return None
    tail = re.split(r"[/:]", url.strip().rstrip("/"))[-1]
    return tail.removesuffix(".git") or None


def _under(path: str, folder: str) -> bool:
    return not folder or path == folder or path.startswith(folder + "/")


def _norm(path: str | None) -> str:
    return (path or "").strip().strip("/").removeprefix("./").strip("/")


class _Linker:
    def __init__(self, records: list[ServiceRecord], index: ClusterIndex | None) -> None:
        self.by_repo: dict[str, list[ServiceRecord]] = defaultdict(list)
        for rec in records:
            if rec.repo:
                self.by_repo[rec.repo].append(rec)
        self.join = JoinIndex(records)
        # (cluster, namespace, kind, name) and (cluster, label, value) -> services of joined workloads
        self.workloads: list[tuple[Workload, str]] = [
            (w, service) for service, joined in (index.by_service.items() if index else ()) for w, _ in joined
        ]
        self.by_key: dict[tuple[str, str, str], set[str]] = defaultdict(set)
        # (tracking label, value) -> workloads carrying it: one lookup per object, not a scan of every workload
        self.by_label: dict[tuple[str, str], list[tuple[Workload, str]]] = defaultdict(list)
        tracking = {k for keys in TRACKING_LABELS.values() for k in keys}
        for w, service in self.workloads:
            self.by_key[(w.kind, w.namespace, w.name)].add(service)
            for key in tracking:
                for value in {w.labels.get(key), w.pod_labels.get(key)} - {None}:
                    self.by_label[(key, value)].append((w, service))

    def link(self, app: GitOpsApp) -> tuple[list[str], str] | None:
        return self._managed(app) or self._source(app) or self._name(app)

    def _managed(self, app: GitOpsApp) -> tuple[list[str], str] | None:
        services: set[str] = set()
        for kind, namespace, name in app.resources:
            services |= self.by_key.get((kind, namespace, name), set())
        if services:
            return sorted(services), "managed workloads (status.resources)"
        labels = TRACKING_LABELS.get(app.kind, ())
        namespace = app.destination_namespace
        for w, service in (pair for k in labels for pair in self.by_label.get((k, app.name), ())):
            if namespace and w.namespace != namespace:
                continue
            if app.kind != "Application" and not namespace and w.namespace != app.namespace:
                continue  # Flux applies into its own namespace unless told otherwise
            services.add(service)
        if services:
            return sorted(services), f"managed workloads (label {' / '.join(labels)}={app.name})"
        return None

    def _source(self, app: GitOpsApp) -> tuple[list[str], str] | None:
        for src in app.sources:
            repo = repo_name(src.repo_url)
            records = self.by_repo.get(repo or "", [])
            if not records:
                continue
            path = _norm(src.path)
            inside = [r for r in records if r.path and _under(path, r.path)]
            if inside:
                rec = max(inside, key=lambda r: len(r.path))
            elif len(records) == 1:
                rec = records[0]
            else:
                rec = next((r for r in records if app.name in r.join_names), None)
                if rec is None:
                    continue
            return [rec.service], f"source {src.repo_url}" + (f" path {path}" if path else "")
        return None

    def _name(self, app: GitOpsApp) -> tuple[list[str], str] | None:
        matched = self.join.match([("name", app.name)])
        return ([matched[0]], "object name") if matched else None


def link_gitops(
    records: list[ServiceRecord],
    repos: dict[str, RepoFacts],
    clusters: list[ClusterCrawl] | None,
    index: ClusterIndex | None,
    extra: Iterable[GitOpsCrawl] = (),
) -> GitOpsLinks:
    observed: list[GitOpsApp] = []
    # A past snapshot has no cluster state (pipelines.assets cluster_crawl): what ran then is unknown.
    errors: list[str] = ["cluster state is not known for a past snapshot"] if clusters is None else []
    for crawl in clusters or []:
        if crawl.error:
            errors.append(f"{crawl.cluster}: {crawl.error}")
            continue
        for kind in _GITOPS_KINDS:
            if kind in crawl.inventory.unreadable:
                errors.append(f"{crawl.cluster}: {kind} {crawl.inventory.unreadable[kind]}")
        observed.extend(resolve_flux_sources(crawl.inventory.gitops, crawl.inventory.objects))
    for api in extra:
        if api.error:
            errors.append(f"{api.source}: {api.error}")
        else:
            observed.extend(api.apps)
    declared: list[GitOpsApp] = []
    for facts in repos.values():
        if not facts.error:
            declared.extend(resolve_flux_sources(facts.manifests.gitops, facts.manifests.objects))
    seen = {(a.kind, a.namespace, a.name) for a in observed}
    apps = observed + [a for a in declared if (a.kind, a.namespace, a.name) not in seen]

    linker = _Linker(records, index)
    by_service: dict[str, list[GitOpsApp]] = defaultdict(list)
    unlinked = []
    for app in apps:
        found = linker.link(app)
        if found is None:
            unlinked.append(app)
            continue
        services, rule = found
        for service in services:
            by_service[service].append(replace(app, linked_by=rule))
    return GitOpsLinks(dict(by_service), unlinked, errors)


def attach_gitops(evidence: list[ServiceEvidence], links: GitOpsLinks) -> None:
    """Give each service its GitOps objects ([] when none), and the sources that failed."""
    for ev in evidence:
        ev.gitops = links.by_service.get(ev.service, [])
        ev.gitops_errors = list(links.errors)
