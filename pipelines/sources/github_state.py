"""What the GitHub source returns beyond `RepoCrawl`, and what it keeps between runs.

No PyGithub here (it stays in `pipelines.sources.github`): stages and tests can
read these records without importing the API client.

The state directory holds, per source, one small JSON file per repository
(last crawled head, ETags with the data they validated, deployments and
incidents in the window) and one for the organisation (teams, last
inventory). Nothing in it is a credential: ETags are hashes of responses.
Each repository's file is written when that repository's crawl succeeds, so a
run killed midway keeps the progress it made and retries the rest.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import threading
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import quote

from pipelines.sources.base import RepoCrawl

STATE_VERSION = 1


@dataclass(slots=True)
class RepoDeployment:
    """A production deploy of one repository, before it is attributed to services."""

    repo: str
    environment: str
    sha: str
    # Time of the success status (DESIGN.md "Deployment"); for deploys that did
    # not succeed, the time of their latest status.
    deployed_at: dt.datetime
    status: str  # success | failure | error | in_progress
    source: str  # "github_deployment" | "workflow_run"


@dataclass(slots=True)
class RepoIncident:
    repo: str
    opened_at: dt.datetime
    resolved_at: dt.datetime | None
    reference: str  # "issue #12"


@dataclass(slots=True)
class GitHubRepoCrawl(RepoCrawl):
    """A repository crawled through the GitHub API, with its delivery events."""

    deployments: list[RepoDeployment] | None = None  # None: not known (fetch failed or deferred)
    incidents: list[RepoIncident] | None = None  # None: no incident label configured, or not known
    api: dict = field(default_factory=dict)  # inventory facts the checks do not read: fork, topics, visibility...


@dataclass
class RunReport:
    """How much a crawl cost: what `scorecard run` reports and the benchmark prints."""

    source: str
    repos: int = 0
    requests: int = 0  # HTTP requests sent to the API (REST and GraphQL), retries included
    not_modified: int = 0  # 304 answers to conditional requests: free against the primary limit
    retries: int = 0
    waited_s: float = 0.0  # sleeping for backoff, retry-after and limit resets
    counted_by_category: dict[str, int] = field(default_factory=dict)
    git_fetches: int = 0
    repos_fetched: int = 0  # repos whose files were fetched (new or pushed since the last crawl)
    repos_unchanged: int = 0
    deferred: list[str] = field(default_factory=list)
    deferred_reason: str | None = None
    # Repos whose files were read but whose API-only facts (branch protection, CI runs) were not.
    api_deferred: list[str] = field(default_factory=list)
    api_deferred_reason: str | None = None
    # The organisation could not be listed; its repositories come from the last good crawl.
    inventory_error: str | None = None
    rate_limit_remaining: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # org-level problems: "teams not read (HTTP 403)"
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    ORG_LEVEL = ("inventory", "teams")

    @property
    def counted(self) -> int:
        """Requests charged against the primary rate limit (everything except 304s)."""
        return self.requests - self.not_modified

    def per_repo_counted(self) -> float:
        """Counted requests per repository beyond the organisation-level listing (inventory, teams)."""
        repo_level = sum(n for c, n in self.counted_by_category.items() if c not in self.ORG_LEVEL)
        return repo_level / self.repos if self.repos else 0.0

    def add(self, **deltas: float) -> None:
        with self._lock:
            for name, value in deltas.items():
                setattr(self, name, getattr(self, name) + value)

    def count(self, category: str, *, status: int) -> None:
        with self._lock:
            self.requests += 1
            if status == 304:
                self.not_modified += 1
            else:
                self.counted_by_category[category] = self.counted_by_category.get(category, 0) + 1

    def defer(self, repo: str, reason: str) -> None:
        with self._lock:
            self.deferred.append(repo)
            self.deferred_reason = self.deferred_reason or reason

    def defer_api(self, repo: str, reason: str) -> None:
        with self._lock:
            self.api_deferred.append(repo)
            self.api_deferred_reason = self.api_deferred_reason or reason

    @property
    def status(self) -> str:
        """The source's own `source_status`: an organisation that was not listed is an error even though
        its services are still shown (stale), so an alert on `error` sees the outage."""
        if self.inventory_error:
            return "error"
        return "partial" if self.deferred or self.api_deferred or self.notes else "ok"

    def summary(self) -> str:
        parts = [f"organisation not listed ({self.inventory_error}); {self.repos} repos kept from their last good crawl"] \
            if self.inventory_error else []
        parts += [
            f"{self.repos} repos",
            f"{self.requests} API requests ({self.counted} counted, {self.not_modified} not modified)",
            f"{self.per_repo_counted():.2f} counted per repo beyond inventory",
            f"{self.retries} retries",
            f"waited {self.waited_s:.1f} s",
            f"{self.repos_fetched} repos fetched, {self.repos_unchanged} unchanged",
        ]
        if self.deferred and not self.inventory_error:
            parts.append(f"{len(self.deferred)} repos deferred ({self.deferred_reason})")
        if self.api_deferred:
            parts.append(f"{len(self.api_deferred)} repos without API facts (branch protection, CI runs): "
                         f"{self.api_deferred_reason}")
        return "; ".join(parts + self.notes)

    @classmethod
    def merged(cls, reports: list[dict]) -> dict:
        """One source's reports from the shards of a crawl, as one report (see :meth:`as_dict`).

        Requests, retries and waits add up (each shard also lists the
        organisation, a real cost); ``repos`` is the organisation's size, the
        same in every shard.
        """
        names = {f.name for f in fields(cls) if not f.name.startswith("_")}
        out = cls(source=reports[0]["source"])
        for report in reports:
            for name in names - {"source"}:
                value, mine = report.get(name), getattr(out, name)
                if value is None:
                    continue
                if name == "repos":
                    out.repos = max(out.repos, value)
                elif name == "rate_limit_remaining":  # what is left is the lowest any shard saw
                    for key, n in value.items():
                        mine[key] = min(mine.get(key, n), n)
                elif isinstance(mine, dict):
                    for key, n in value.items():
                        mine[key] = mine.get(key, 0) + n
                elif isinstance(mine, list):
                    mine.extend(v for v in value if not (name == "notes" and v in mine))
                elif isinstance(mine, (int, float)) and not isinstance(mine, bool):
                    setattr(out, name, mine + value)
                elif mine is None:
                    setattr(out, name, value)
        return out.as_dict()

    def as_dict(self) -> dict:
        with self._lock:
            out = {f.name: copy.deepcopy(getattr(self, f.name)) for f in fields(self) if not f.name.startswith("_")}
        out["counted"] = self.counted
        out["status"] = self.status
        out["per_repo_counted"] = round(self.per_repo_counted(), 4)
        out["summary"] = self.summary()
        return out


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # The pid too: the shards of one crawl run in several processes that share this directory.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(data, separators=(",", ":"), default=str), encoding="utf-8")
    os.replace(tmp, path)


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # missing or corrupt state is only a cache miss: the repo is crawled in full
    if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
        return {}
    return data


class StateStore:
    """Per-source state under `root`: `org.json` and `repos/<name>.json`."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _repo_file(self, repo: str) -> Path:
        return self.root / "repos" / f"{quote(repo, safe='')}.json"

    def load_repo(self, repo: str) -> dict:
        return _read_json(self._repo_file(repo))

    def save_repo(self, repo: str, data: dict) -> None:
        _write_json(self._repo_file(repo), {**data, "version": STATE_VERSION})

    def load_org(self) -> dict:
        return _read_json(self.root / "org.json")

    def save_org(self, data: dict) -> None:
        _write_json(self.root / "org.json", {**data, "version": STATE_VERSION})


def parse_time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime.fromisoformat(value).astimezone(dt.UTC)


def deployment_to_json(d: RepoDeployment) -> dict:
    return {"environment": d.environment, "sha": d.sha, "deployed_at": d.deployed_at.isoformat(),
            "status": d.status, "source": d.source}


def deployment_from_json(repo: str, data: dict) -> RepoDeployment:
    return RepoDeployment(repo, data["environment"], data["sha"], parse_time(data["deployed_at"]),  # type: ignore[arg-type]
                          data["status"], data["source"])


def incident_to_json(i: RepoIncident) -> dict:
    return {"opened_at": i.opened_at.isoformat(), "resolved_at": i.resolved_at.isoformat() if i.resolved_at else None,
            "reference": i.reference}


def incident_from_json(repo: str, data: dict) -> RepoIncident:
    return RepoIncident(repo, parse_time(data["opened_at"]), parse_time(data.get("resolved_at")), data["reference"])  # type: ignore[arg-type]
