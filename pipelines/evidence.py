"""Assemble `ServiceEvidence`: repo facts scoped to the service's path, workloads
(from clusters and from the repo's manifests) joined to services, and delivery
metrics.

Scoping: in a monorepo a component owns the files under its path except those
under a deeper component's path; repo-wide files (workflows, CODEOWNERS,
dependency-bot config) belong to every component of the repo.

Joining (DESIGN.md "Identity"): a workload joins the service named by its
``backstage.io/kubernetes-id`` label, else ``app.kubernetes.io/name``, else
``app`` (pod template labels first, then the workload's own), else the
workload's name, else the last path part of one of its images; the first of
these that names a service wins. A manifest in a repository that joins no
service of that repository belongs to the service whose path holds the file
(the repository's own service for a one-service repo); a workload that joins
nothing is an orphan, listed as such.
"""

from __future__ import annotations

import datetime as dt
import posixpath
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from checks._helpers import JOIN_LABELS
from checks.evidence import DeliveryMetrics, K8sObject, ServiceEvidence, Workload
from pipelines import parsers
from pipelines.discovery import image_name
from pipelines.facts import RepoFacts
from pipelines.identity import ServiceRecord
from pipelines.sources.base import ClusterCrawl

MONITOR_KINDS = frozenset({"ServiceMonitor", "PodMonitor"})


def join_candidates(
    labels: Iterable[dict[str, str]], name: str | None, images: Iterable[str | None]
) -> list[tuple[str, str]]:
    """(rule, value) pairs a workload (or a ReplicaSet) may join a service by, in precedence order."""
    label_maps = list(labels)
    out: list[tuple[str, str]] = []
    for label in JOIN_LABELS:
        value = next((m[label] for m in label_maps if m.get(label)), None)
        if value:
            out.append((f"label {label}", value))
    if name:
        out.append(("workload name", name))
    out.extend(("image", n) for image in images if (n := image_name(image)))
    return out


def workload_candidates(w: Workload) -> list[tuple[str, str]]:
    return join_candidates((w.pod_labels, w.labels), w.name, (c.image for c in w.containers if not c.init))


class JoinIndex:
    """Which service a workload joins: every name a service answers to, first claim wins."""

    def __init__(self, records: Iterable[ServiceRecord]) -> None:
        self.ids: dict[str, str] = {}
        for rec in records:  # catalog and config services come first and keep their names
            for name in rec.join_names:
                self.ids.setdefault(name, rec.service)

    def match(self, candidates: list[tuple[str, str]]) -> tuple[str, str] | None:
        """(service, rule) for the first candidate naming a service."""
        for rule, value in candidates:
            service = self.ids.get(value)
            if service is not None:
                return service, rule
        return None

    def workload(self, w: Workload) -> tuple[str, str] | None:
        return self.match(workload_candidates(w))


def _under(file: str | None, path: str) -> bool:
    if file is None:
        return False
    return not path or file == path or file.startswith(path + "/")


class _Scope:
    """Which files of a repo belong to one service path."""

    def __init__(self, path: str, repo_paths: Iterable[str]) -> None:
        self.path = path
        self.deeper = [p for p in repo_paths if p != path and _under(p, path) and p]

    def owns(self, file: str | None) -> bool:
        return _under(file, self.path) and not any(_under(file, d) for d in self.deeper)


@dataclass(slots=True)
class ClusterIndex:
    """Cluster workloads joined to services, objects by (cluster, namespace), orphans aside."""

    by_service: dict[str, list[tuple[Workload, str]]]
    orphans: list[tuple[Workload, str | None]]
    objects: dict[tuple[str | None, str], list[K8sObject]]
    # Prometheus-operator monitors often live in a central namespace and select
    # other namespaces (namespaceSelector): only those are offered across namespaces.
    monitors: dict[str | None, list[K8sObject]]
    unreadable: dict[str | None, dict[str, str]]  # cluster -> kind -> reason
    errors: list[str]
    known: bool  # at least one cluster was crawled successfully


def _reaches(monitor: K8sObject, namespace: str) -> bool:
    selector = monitor.spec.get("namespace_selector") or {}
    return selector.get("any") is True or namespace in (selector.get("matchNames") or ())


def index_clusters(crawls: list[ClusterCrawl], records: Iterable[ServiceRecord]) -> ClusterIndex:
    join = JoinIndex(records)
    by_service: dict[str, list[tuple[Workload, str]]] = defaultdict(list)
    orphans: list[tuple[Workload, str | None]] = []
    objects: dict[tuple[str | None, str], list[K8sObject]] = defaultdict(list)
    monitors: dict[str | None, list[K8sObject]] = defaultdict(list)
    unreadable: dict[str | None, dict[str, str]] = {}
    errors = []
    known = False
    for crawl in crawls:
        if crawl.error:
            errors.append(f"{crawl.cluster}: {crawl.error}")
            continue
        known = True
        if crawl.inventory.unreadable:
            unreadable[crawl.cluster] = dict(crawl.inventory.unreadable)
        for wl in crawl.inventory.workloads:
            candidates = workload_candidates(wl)
            matched = join.match(candidates)
            if matched:
                by_service[matched[0]].append((wl, matched[1]))
            else:
                orphans.append((wl, candidates[0][0] if candidates else None))
        for obj in crawl.inventory.objects:
            objects[(obj.cluster, obj.namespace)].append(obj)
            selector = obj.spec.get("namespace_selector") or {} if obj.kind in MONITOR_KINDS else {}
            if selector.get("any") is True or selector.get("matchNames"):
                monitors[obj.cluster].append(obj)
    return ClusterIndex(by_service, orphans, objects, monitors, unreadable, errors, known)


@dataclass(slots=True)
class RepoWorkloads:
    """A repository's manifest workloads, each joined to one of its services or left an orphan."""

    by_service: dict[str, list[tuple[Workload, str]]]
    orphans: list[Workload]


def join_repo_workloads(facts: RepoFacts, records: list[ServiceRecord]) -> RepoWorkloads:
    """Join each manifest of a repository to a service of that same repository.

    By name first (labels, workload name, image), so `kubernetes-manifests/frontend.yaml`
    is the `frontend` service's; else by path (the deepest service folder holding the
    file or one of its copies, the repository's own service holding all).
    """
    join = JoinIndex(records)
    paths = [r.path for r in records]
    scopes = sorted(((r.service, _Scope(r.path, paths)) for r in records), key=lambda s: -len(s[1].path))
    out = RepoWorkloads(defaultdict(list), [])
    for w in facts.manifests.workloads:
        matched = join.workload(w)
        if matched is None:
            # Any copy of the workload inside a service's folder makes it that service's.
            owner = next(((service, f) for service, scope in scopes for f in (w.file, *w.also_in) if scope.owns(f)), None)
            matched = (owner[0], f"path {owner[1]}") if owner else None
        if matched is None:
            out.orphans.append(w)
        else:
            out.by_service[matched[0]].append((w, matched[1]))
    return out


def build_evidence(
    records: list[ServiceRecord],
    repos: dict[str, RepoFacts],
    clusters: ClusterIndex | None,
    delivery: dict[str, DeliveryMetrics],
    as_of: dt.date,
) -> list[ServiceEvidence]:
    by_repo: dict[str, list[ServiceRecord]] = defaultdict(list)
    for rec in records:
        if rec.repo:
            by_repo[rec.repo].append(rec)
    repo_workloads = {
        name: join_repo_workloads(repos[name], recs) for name, recs in by_repo.items()
        if name in repos and not repos[name].error
    }

    out = []
    for rec in records:
        facts = repos.get(rec.repo) if rec.repo else None
        ev = ServiceEvidence(
            service=rec.service,
            identity_rule=rec.identity_rule,
            repo=rec.repo,
            path=rec.path,
            team=rec.team,
            owner_source=rec.owner_source,
            as_of=as_of,
            lifecycle=rec.lifecycle,
            system=rec.system,
            type=rec.type,
            annotations=rec.annotations,
            catalog=rec.catalog,
            delivery=delivery.get(rec.service),
            identity_detail=rec.identity_detail,
        )
        if rec.repo is None:
            pass  # a portal Component with no repository: repo checks say so (checks._helpers.repo_unknown)
        elif facts is None:
            ev.repo_error = "repository not crawled"
        elif facts.error:
            ev.repo_error = facts.error
        else:
            scope = _Scope(rec.path, [r.path for r in by_repo[rec.repo]])
            joined = [w for w, _ in repo_workloads[rec.repo].by_service.get(rec.service, [])]
            _fill_from_repo(ev, facts, scope, joined)
        if clusters is not None:
            ev.cluster_errors = list(clusters.errors)
            if clusters.known:
                joined = clusters.by_service.get(rec.service, [])
                ev.cluster_workloads = [wl for wl, _ in joined]
                seen: set[tuple[str | None, str]] = set()
                for wl, _ in joined:
                    ns = (wl.cluster, wl.namespace)
                    if ns not in seen:
                        seen.add(ns)
                        ev.cluster_objects.extend(clusters.objects.get(ns, []))
                for cluster, _ in seen:
                    for kind, reason in clusters.unreadable.get(cluster, {}).items():
                        ev.cluster_unreadable.setdefault(kind, f"{cluster}: {reason}")
                for cluster, namespace in seen:
                    ev.cluster_objects.extend(
                        m for m in clusters.monitors.get(cluster, [])
                        if (cluster, m.namespace) not in seen and _reaches(m, namespace)
                    )
        out.append(ev)
    return out


def _fill_from_repo(ev: ServiceEvidence, facts: RepoFacts, scope: _Scope, workloads: list[Workload]) -> None:
    # Root-level files, .github/, .gitlab/ and docs/ describe the whole repository.
    def sees(f: str) -> bool:
        return scope.owns(f) or "/" not in f or f.startswith((".github/", ".gitlab/", "docs/"))

    ev.files = frozenset(f for f in facts.files if sees(f))
    # A file the clone lacks concerns the services that would have read it.
    ev.unreadable_files = [u for u in facts.unreadable if sees(u.path)]
    ev.default_branch = facts.default_branch
    ev.repo_source = facts.source
    ev.repo_problems = [p for p in facts.problems if scope.owns(p.path) or not scope.path]
    ev.codeowners = facts.codeowners
    if facts.codeowners is not None:
        ev.codeowners_owners = parsers.owners_for(facts.codeowners, ev.path)
    # A template answers file at the repo root also describes a component that
    # was generated into a sub-path by the same template run.
    ev.templates = [t for t in facts.templates if scope.owns(t.file)] or (
        [t for t in facts.templates if "/" not in t.file] if scope.path else []
    )
    ev.workflows = list(facts.workflows)
    ev.helm_charts = [c for c in facts.helm_charts if scope.owns(c.file)]
    ev.terraform_modules = [m for m in facts.terraform_modules if scope.owns(m.file)]
    ev.dependencies = [d for d in facts.dependencies if scope.owns(d.file)]
    ev.repo_workloads = workloads
    # The objects next to its workloads (same file or folder: the Service, PDB and HPA
    # usually sit beside the Deployment) and those under its own path.
    files = {f for w in workloads for f in (w.file, *w.also_in) if f}
    folders = {posixpath.dirname(f) for f in files}
    ev.repo_objects = [
        o for o in facts.manifests.objects
        if scope.owns(o.file) or o.file in files or posixpath.dirname(o.file or "") in folders
    ]
    ev.archived = facts.archived
    ev.branch_protected = facts.branch_protected
    ev.ci_runs = facts.ci_runs


def orphan_workloads(clusters: ClusterIndex | None) -> list[tuple[Workload, str | None]]:
    """Cluster workloads that join no service: unowned production workloads are a finding."""
    return list(clusters.orphans) if clusters is not None else []
