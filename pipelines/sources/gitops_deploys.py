"""Deployments read from GitOps controllers' history (DESIGN.md "Deployment").

* Argo CD: each ``status.history[]`` entry is one sync of a revision to the
  Application's destination, at ``deployedAt``;
* Flux HelmRelease: each ``status.history`` snapshot that was deployed (not
  ``failed``) is one release of a chart version, at ``lastDeployed``;
* Flux Kustomization: only the last applied revision is kept, at the Ready
  condition's ``lastTransitionTime`` (so every crawl adds at most one).

Only objects read from a production source count, and only those linked to a
service (pipelines.evidence_gitops). A chart version is not a commit: it
counts as a deploy (frequency, failure rate) and links no changes (lead time).

One deploy of one sha is one deploy, whoever saw it: :func:`merge_cluster_deploys`
keeps a (service, sha) once, at its earliest time, and records every source
that saw it ("argocd+replicaset"), a short sha from an image tag matching the
full sha Argo CD recorded.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from checks.evidence_gitops import GitOpsApp
from pipelines.delivery import Deploy
from pipelines.evidence import index_clusters
from pipelines.evidence_gitops import GitOpsCrawl, link_gitops
from pipelines.identity import ServiceRecord
from pipelines.sources.base import ClusterCrawl

_HEX = re.compile(r"[0-9a-f]{7,40}")
_FAILED = frozenset({"failed", "uninstalled", "pending-install", "pending-upgrade", "pending-rollback"})


def _time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def app_deploys(service: str, app: GitOpsApp, until: dt.datetime) -> list[Deploy]:
    out = []
    for entry in app.history:
        at = _time(entry.deployed_at)
        if at is None or at >= until or (entry.status or "").lower() in _FAILED:
            continue
        out.append(Deploy(service, entry.revision.lower() if _HEX.fullmatch(entry.revision.lower()) else entry.revision,
                          at, app.tool))
    return out


def gitops_deploys(
    clusters: list[ClusterCrawl],
    extra: Iterable[GitOpsCrawl],
    records: list[ServiceRecord],
    production: frozenset[str],
    until: dt.datetime,
) -> list[Deploy]:
    """Production deploys from the history of the GitOps objects linked to each service."""
    extra = list(extra)
    if not any(c.inventory.gitops for c in clusters if not c.error) and not any(e.apps for e in extra):
        return []  # no controller anywhere: skip joining every workload again
    links = link_gitops(records, {}, clusters, index_clusters(clusters, records), extra)
    out = []
    for service, apps in links.by_service.items():
        for app in apps:
            if app.observed and (app.environment or "").lower() in production:
                out.extend(app_deploys(service, app, until))
    return merge_cluster_deploys(out)


def _key(deploy: Deploy) -> tuple[str, str]:
    sha = deploy.sha.lower()
    return deploy.service, sha[:7] if _HEX.fullmatch(sha) else sha


def merge_cluster_deploys(*groups: Iterable[Deploy]) -> list[Deploy]:
    """Each (service, sha) once, at its earliest time, with every source that saw it."""
    merged: dict[tuple[str, str], Deploy] = {}
    for deploy in (d for group in groups for d in group):
        key = _key(deploy)
        seen = merged.get(key)
        if seen is None:
            merged[key] = Deploy(deploy.service, deploy.sha, deploy.deployed_at, deploy.source)
            continue
        sources = sorted(set(seen.source.split("+")) | set(deploy.source.split("+")))
        merged[key] = Deploy(
            deploy.service,
            max(seen.sha, deploy.sha, key=len),  # the full sha when one source only had a prefix
            min(seen.deployed_at, deploy.deployed_at),
            "+".join(sources),
        )
    return sorted(merged.values(), key=lambda d: (d.service, d.deployed_at))
