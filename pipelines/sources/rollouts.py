"""Deployments read from a cluster's rollout history (DESIGN.md "Deployment":
"a new ReplicaSet revision of the production workload").

Each ReplicaSet a Deployment created in a production-environment cluster is
one deploy of the git sha it carries, at the ReplicaSet's creationTimestamp.
The sha comes from the first configured annotation/label whose value looks
like one, else from the first container image tag that does
(docs/kubernetes.md "Deploy events from ReplicaSets" lists the conventions).

A sha counts once per service, at its earliest ReplicaSet: ``kubectl rollout
restart`` and config-only changes make new ReplicaSets of the same code, and a
multi-region rollout of one sha is one change reaching production, not two.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from pipelines.config import RolloutDeploys
from pipelines.delivery import Deploy
from pipelines.evidence import JoinIndex, join_candidates
from pipelines.sources.base import ClusterCrawl



@dataclass(frozen=True, slots=True)
class ShaConventions:
    keys: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]

    @classmethod
    def from_config(cls, cfg: RolloutDeploys) -> ShaConventions:
        return cls(tuple(cfg.sha_keys), tuple(re.compile(p) for p in cfg.image_tag_patterns))

    def sha_in(self, value: str) -> str | None:
        for pattern in self.patterns:
            match = pattern.match(value.strip())
            if match and match.group("sha"):
                return match.group("sha").lower()
        return None


def image_tag(image: str) -> str | None:
    """``registry:5000/team/app:1.2-abc1234@sha256:...`` -> ``1.2-abc1234``."""
    name = image.split("@", 1)[0].rsplit("/", 1)[-1]
    return name.rsplit(":", 1)[1] if ":" in name else None


def deployed_sha(replica_set: dict, conventions: ShaConventions) -> str | None:
    """The git sha a ReplicaSet runs, by the configured keys, then by image tag."""
    for key in conventions.keys:
        for where in ("annotations", "labels", "pod_labels"):
            value = (replica_set.get(where) or {}).get(key)
            if value and (sha := conventions.sha_in(value)):
                return sha
    for image in replica_set.get("images") or []:
        tag = image_tag(image)
        if tag and (sha := conventions.sha_in(tag)):
            return sha
    return None


def _service_of(replica_set: dict, join: JoinIndex) -> str | None:
    """The service a ReplicaSet's Deployment joins, by the same rule as workloads (pipelines.evidence)."""
    candidates = join_candidates(
        (replica_set.get("pod_labels") or {}, replica_set.get("labels") or {}),
        replica_set.get("owner"), replica_set.get("images") or [],
    )
    matched = join.match(candidates)
    return matched[0] if matched else None


def _time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def rollout_deploys(
    crawls: Iterable[ClusterCrawl],
    join: JoinIndex,
    cfg: RolloutDeploys,
    production: frozenset[str],
    until: dt.datetime,
) -> list[Deploy]:
    """One Deploy per (service, sha), at its first ReplicaSet in any production cluster."""
    if not cfg.enabled:
        return []
    conventions = ShaConventions.from_config(cfg)
    first: dict[tuple[str, str], dt.datetime] = {}
    for crawl in crawls:
        if crawl.error or crawl.environment.lower() not in production:
            continue
        for rs in crawl.inventory.replica_sets:
            if not rs.get("owner"):
                continue  # a bare ReplicaSet is not a Deployment's rollout
            service = _service_of(rs, join)
            created = _time(rs.get("created_at"))
            if service is None or created is None or created >= until:
                continue
            sha = deployed_sha(rs, conventions)
            if sha is None:
                continue
            key = (service, sha)
            if key not in first or created < first[key]:
                first[key] = created
    return sorted(
        (Deploy(service, sha, at, "replicaset") for (service, sha), at in first.items()),
        key=lambda d: (d.service, d.deployed_at),
    )
