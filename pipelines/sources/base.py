"""The interfaces every source implements, and the records they return."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from pipelines.facts import Commit, K8sInventory, RepoFacts, Tag


class Ancestry(Protocol):
    """A repository that answers `git rev-list` questions (``local_git.GitHistory``)."""

    until: dt.datetime | None  # the moment the repository was crawled as of

    def resolve(self, shas: Iterable[str]) -> dict[str, str]: ...

    def walk(self, include: list[str], exclude: list[str]) -> dict[str, tuple[dt.datetime, list[str]]] | None: ...

    def touching(self, include: list[str], exclude: list[str], path: str) -> set[str] | None: ...


class CommitHistory(list):
    """`RepoCrawl.commits`: the commits a source listed up front (newest first),
    plus, for a git repository on this machine, `repository` to ask git itself.

    Which commits a deployment shipped is ``git rev-list prev..this`` (DESIGN.md
    "Change -> deployment"), and most deployed shas (deploy events, ReplicaSet
    revisions) are only known after the crawl and may sit on any branch or on
    none. Listing history up front could only guess (one branch, some number
    of days); the repository answers exactly, bounded by the deploys in the
    metric windows. It stays a list so a source without a repository (and the
    hand-built histories in tests) hands over plain commits to the same code,
    and so the GitHub source, which builds its crawl from the local-clone
    crawl's `commits`, carries the repository along without knowing about it.
    Only the repository's location is pickled (crawls pass between assets).
    """

    __slots__ = ("repository",)

    def __init__(self, commits: Iterable[Commit] = (), repository: Ancestry | None = None) -> None:
        super().__init__(commits)
        self.repository = repository


@dataclass(slots=True)
class RepoCrawl:
    """One repository as of one moment: its facts and the history delivery metrics need."""

    facts: RepoFacts
    commits: list[Commit] = field(default_factory=CommitHistory)  # a CommitHistory from git sources
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
