"""The interfaces every source implements, and the records they return."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Protocol

from checks.evidence import Commit, K8sInventory, RepoFacts, Tag


@dataclass(slots=True)
class RepoCrawl:
    """One repository as of one moment: its facts and the history delivery metrics need."""

    facts: RepoFacts
    commits: list[Commit] = field(default_factory=list)  # newest first, default branch only
    tags: list[Tag] = field(default_factory=list)
    crawled_at: dt.datetime | None = None
    reused: bool = False  # served from the incremental cache (head unchanged)


class RepoSource(Protocol):
    """A place repositories come from (a directory of clones, a GitHub organisation)."""

    name: str

    def repo_names(self) -> list[str]: ...

    def crawl(self, repo: str, as_of: dt.datetime | None) -> RepoCrawl:
        """Crawl one repo; never raises for a bad repo: sets ``facts.error`` instead."""
        ...


@dataclass(slots=True)
class ClusterCrawl:
    cluster: str
    environment: str
    inventory: K8sInventory
    error: str | None = None  # the cluster could not be read at all
    crawled_at: dt.datetime | None = None
    # Resources that could not be read while the workloads could ("horizontalpodautoscalers.autoscaling:
    # forbidden (403)"): the crawl is used, and reported as partial.
    partial: list[str] = field(default_factory=list)


class ClusterSource(Protocol):
    """A place workloads come from (a snapshot file, a live cluster API)."""

    cluster: str
    environment: str

    def crawl(self) -> ClusterCrawl: ...
