"""Assemble `ServiceEvidence`: repo facts scoped to the service's path, cluster
workloads joined by label, and delivery metrics.

Scoping: in a monorepo a component owns the files under its path except those
under a deeper component's path; repo-wide files (workflows, CODEOWNERS,
dependency-bot config) belong to every component of the repo.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from checks.evidence import DeliveryMetrics, K8sObject, RepoFacts, ServiceEvidence, Workload
from pipelines import parsers
from pipelines.identity import ServiceRecord
from pipelines.sources.base import ClusterCrawl

# Label precedence for joining workloads to services (DESIGN.md "Identity").
JOIN_LABELS = ("backstage.io/kubernetes-id", "app.kubernetes.io/name", "app")
MONITOR_KINDS = frozenset({"ServiceMonitor", "PodMonitor"})


def join_key(workload: Workload) -> tuple[str, str] | None:
    """(label, value) a workload joins on, from its pod template then its own labels."""
    for label in JOIN_LABELS:
        for labels in (workload.pod_labels, workload.labels):
            value = labels.get(label)
            if value:
                return label, value
    return None


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
    """Cluster workloads by join value, objects by (cluster, namespace), orphans aside."""

    by_key: dict[str, list[tuple[Workload, str]]]
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


def index_clusters(crawls: list[ClusterCrawl]) -> ClusterIndex:
    by_key: dict[str, list[tuple[Workload, str]]] = defaultdict(list)
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
            key = join_key(wl)
            if key:
                by_key[key[1]].append((wl, key[0]))
        for obj in crawl.inventory.objects:
            objects[(obj.cluster, obj.namespace)].append(obj)
            selector = obj.spec.get("namespace_selector") or {} if obj.kind in MONITOR_KINDS else {}
            if selector.get("any") is True or selector.get("matchNames"):
                monitors[obj.cluster].append(obj)
    return ClusterIndex(by_key, objects, monitors, unreadable, errors, known)


def build_evidence(
    records: list[ServiceRecord],
    repos: dict[str, RepoFacts],
    clusters: ClusterIndex | None,
    delivery: dict[str, DeliveryMetrics],
    as_of: dt.date,
) -> list[ServiceEvidence]:
    paths_by_repo: dict[str, list[str]] = defaultdict(list)
    for rec in records:
        if rec.repo:
            paths_by_repo[rec.repo].append(rec.path)

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
        )
        if facts is None:
            ev.repo_error = "repository not crawled"
        elif facts.error:
            ev.repo_error = facts.error
        else:
            _fill_from_repo(ev, facts, _Scope(rec.path, paths_by_repo[rec.repo]))
        if clusters is not None:
            ev.cluster_errors = list(clusters.errors)
            if clusters.known:
                joined = clusters.by_key.get(rec.kubernetes_id, [])
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


def _fill_from_repo(ev: ServiceEvidence, facts: RepoFacts, scope: _Scope) -> None:
    # Root-level files, .github/ and docs/ describe the whole repository.
    ev.files = frozenset(
        f for f in facts.files if scope.owns(f) or "/" not in f or f.startswith((".github/", "docs/"))
    )
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
    ev.dependency_bot = facts.dependency_bot
    ev.repo_workloads = [w for w in facts.manifests.workloads if scope.owns(w.file)]
    ev.repo_objects = [o for o in facts.manifests.objects if scope.owns(o.file)]
    ev.archived = facts.archived
    ev.branch_protected = facts.branch_protected
    ev.ci_runs = facts.ci_runs


def orphan_workloads(clusters: list[ClusterCrawl], records: list[ServiceRecord]) -> list[tuple[Workload, str | None]]:
    """Cluster workloads that join no service: unowned production workloads are a finding."""
    ids = {rec.kubernetes_id for rec in records}
    out = []
    for crawl in clusters:
        if crawl.error:
            continue
        for wl in crawl.inventory.workloads:
            key = join_key(wl)
            if key is None or key[1] not in ids:
                out.append((wl, key[0] if key else None))
    return out
