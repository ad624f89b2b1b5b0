"""GitHub source: an organisation's repositories, CI runs, deployments and teams.

The only module that talks to the GitHub API (through PyGithub's requester,
which brings token and App-installation auth, GitHub Enterprise base URLs and
connection pooling). What a crawl costs, per repository:

* inventory: one GraphQL query per 100 repositories gives name, archived,
  fork, topics, visibility, last push, default branch and its head commit, and
  a signature of the newest production deployment (and incident issue);
* files, commits and tags: one shallow `git fetch` into a local bare mirror,
  only when the head or the last push moved since the last crawl (git traffic
  is not charged against the API budget); the mirror is then read by the
  local-clone code (`LocalGitSource` + `repo_files.extract_facts`), so both
  sources produce the same evidence for the same tree;
* branch protection: the branch's `protected` flag, which covers classic
  protection and rulesets and needs only read access; a conditional request;
* CI: one conditional request for the latest 100 workflow runs on the default
  branch, skipped when the repo has no workflow files;
* deployments (with statuses) and incident issues: GraphQL, 20 repositories
  per query, only for repos whose deployment signature changed.

Conditional requests send the stored ETag; a 304 is not charged against the
primary rate limit, so an unchanged organisation re-crawls for the inventory
pages. Rate limits: `x-ratelimit-remaining`/`-reset` are tracked per resource,
`retry-after` is honoured on 403/429, other transient failures back off
exponentially, at most `max_concurrency` requests are in flight, and a limit
that would take longer than `max_wait_s` to reset defers the remaining repos
(their `facts.error` starts with "deferred:") instead of failing the run.

A repository that cannot be crawled this run but was crawled well before keeps
the facts of that last good crawl (read from its mirror), with `facts.error`
saying why and when that was: identity reads the catalog from those facts, so
the same services stay, and evidence turns their repo checks `unknown`. That
covers deferred repos, failed fetches, repositories deleted after the
inventory, and an organisation that could not be listed at all (rate limit,
5xx, unreachable): the last inventory names the repositories then.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from github import Auth, Github

from checks.evidence import Problem
from pipelines import secrets
from pipelines.config import GitHubSourceConfig
from pipelines.facts import RepoFacts
from pipelines.sources import github_mirror as mirror
from pipelines.sources.github_state import (
    GitHubRepoCrawl,
    RepoDeployment,
    RepoIncident,
    RunReport,
    StateStore,
    deployment_from_json,
    deployment_to_json,
    incident_from_json,
    incident_to_json,
    parse_time,
)
from pipelines.sources.local_git import LocalGitSource

log = logging.getLogger(__name__)

USER_AGENT = "platform-scorecard"
INVENTORY_PAGE = 100
NAMED_BATCH = 50  # aliased repository lookups per query when the config lists repos
HISTORY_BATCH = 20  # repositories per deployments/incidents query (100 x 20 statuses each)
RUNS_PER_PAGE = 100
GONE = "repository no longer exists or the token cannot see it"


class GitHubSourceError(Exception):
    """The source as a whole cannot run (no token, unknown organisation)."""


class RateLimitDeferred(Exception):
    """A rate limit would take longer than `max_wait_s` to reset: stop asking, defer the rest."""


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


# ------------------------------------------------------------------- GraphQL

_REPO_FIELDS = """
fragment RepoFields on Repository {
  id name nameWithOwner url isArchived isFork isEmpty visibility pushedAt
  owner { login }
  repositoryTopics(first: 20) { nodes { topic { name } } }
  defaultBranchRef { name target { oid ... on Commit { committedDate } } }
  deploySig: deployments(environments: $envs, first: 1, orderBy: {field: CREATED_AT, direction: DESC}) {
    totalCount nodes { databaseId latestStatus { id state } }
  }
  incidentSig: issues(labels: $labels, first: 1, orderBy: {field: UPDATED_AT, direction: DESC}) @include(if: $withIncidents) {
    totalCount nodes { updatedAt }
  }
}
"""

ORG_REPOSITORIES = """query OrgRepositories($org: String!, $after: String, $envs: [String!], $labels: [String!], $withIncidents: Boolean!) {
  rateLimit { cost remaining resetAt }
  organization(login: $org) {
    repositories(first: %d, after: $after, orderBy: {field: NAME, direction: ASC}) {
      pageInfo { hasNextPage endCursor }
      nodes { ...RepoFields }
    }
  }
}
""" % INVENTORY_PAGE + _REPO_FIELDS

_HISTORY_FIELDS = """
  deployments(environments: $envs, first: 100, after: $deploymentsAfter, orderBy: {field: CREATED_AT, direction: DESC}) @include(if: $withDeployments) {
    pageInfo { hasNextPage endCursor }
    nodes { databaseId commitOid createdAt environment statuses(first: 20) { nodes { state createdAt } } }
  }
  issues(labels: $labels, first: 100, after: $issuesAfter, orderBy: {field: CREATED_AT, direction: DESC}) @include(if: $withIncidents) {
    pageInfo { hasNextPage endCursor }
    nodes { number createdAt closedAt }
  }
"""

REPOSITORY_HISTORY = """query RepositoryHistory($ids: [ID!]!, $envs: [String!], $labels: [String!], $withDeployments: Boolean!, $withIncidents: Boolean!, $deploymentsAfter: String, $issuesAfter: String) {
  rateLimit { cost remaining resetAt }
  nodes(ids: $ids) { ... on Repository { id %s } }
}
""" % _HISTORY_FIELDS

REPOSITORY_HISTORY_PAGE = """query RepositoryHistoryPage($id: ID!, $envs: [String!], $labels: [String!], $withDeployments: Boolean!, $withIncidents: Boolean!, $deploymentsAfter: String, $issuesAfter: String) {
  rateLimit { cost remaining resetAt }
  node(id: $id) { ... on Repository { id %s } }
}
""" % _HISTORY_FIELDS


def _named_repositories_query(pairs: list[tuple[str, str]]) -> str:
    # GraphQL has no "repositories by name" list field: one aliased lookup each.
    # json.dumps gives a valid GraphQL string literal for any name.
    fields = "\n".join(
        f"  r{i}: repository(owner: {json.dumps(owner)}, name: {json.dumps(name)}) {{ ...RepoFields }}"
        for i, (owner, name) in enumerate(pairs)
    )
    return (
        "query NamedRepositories($envs: [String!], $labels: [String!], $withIncidents: Boolean!) {\n"
        "  rateLimit { cost remaining resetAt }\n" + fields + "\n}\n" + _REPO_FIELDS
    )


# ------------------------------------------------------------------ the client


@dataclass(slots=True)
class Response:
    status: int
    data: Any
    headers: dict[str, str]
    not_modified: bool = False


def _message(text: str) -> str:
    """The server's own words, redacted: proxies and error pages echo request headers."""
    try:
        data = json.loads(text)
    except ValueError:
        return secrets.redact(text)[:200]  # redact first: a cut could leave half a token behind
    return secrets.redact(str(data.get("message", ""))) if isinstance(data, dict) else ""


class Client:
    """Requests to one GitHub API with ETags, retries and rate-limit accounting.

    PyGithub's own retry is off (`retry=0`): its urllib3 retry would sleep
    through a primary-limit reset of up to an hour, where this client defers
    the remaining repositories instead, and would hide retries from the report.
    """

    def __init__(self, cfg: GitHubSourceConfig, report: RunReport, *, base_dir: Path | None = None,
                 token: str | None = None, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.time) -> None:
        self.cfg = cfg
        self.report = report
        self._sleep = sleep
        self._clock = clock
        self._auth = _auth(cfg, base_dir, token)
        self._gh = Github(
            base_url=cfg.base_url,
            auth=self._auth,
            user_agent=USER_AGENT,
            per_page=100,
            timeout=cfg.timeout_s,
            retry=0,
            pool_size=cfg.max_concurrency,
            seconds_between_requests=cfg.seconds_between_requests or None,
            # GraphQL queries are POSTs but not writes: PyGithub's 1 s pause between
            # writes (meant for mutations) would pace every inventory page.
            seconds_between_writes=cfg.seconds_between_requests or None,
            lazy=True,
        )
        self._req = self._gh.requester
        self._slots = threading.BoundedSemaphore(cfg.max_concurrency)
        self._lock = threading.Lock()
        self._limits: dict[str, tuple[int, float]] = {}  # resource -> (remaining, reset epoch)
        self.deferred: str | None = None

    def close(self) -> None:
        self._gh.close()

    def git_token(self) -> str:
        """The token git sends; an App installation token is refreshed by PyGithub when it expires."""
        token = self._auth.token
        secrets.register(token)  # a fresh installation token is a new secret
        return token

    # ------------------------------------------------------------- requests

    def get(self, path: str, params: dict | None = None, *, cached: dict | None = None, category: str) -> Response:
        """GET a REST path; with `cached` ({"etag", "data"}) a 304 returns the cached data."""
        headers = {"Accept": "application/vnd.github+json"}
        if cached and cached.get("etag"):
            headers["If-None-Match"] = cached["etag"]
        resp = self._request("GET", path, params, headers, None, "core", category)
        if resp.not_modified and cached:
            resp.data = cached.get("data")
        return resp

    def graphql(self, query: str, variables: dict, *, category: str) -> tuple[dict, list[dict]]:
        """(data, errors); GraphQL answers partial data with per-field errors."""
        resp = self._request("POST", self._req.graphql_url, None, {}, {"query": query, "variables": variables},
                             "graphql", category)
        if resp.status != 200:
            raise ApiError(resp.status, f"GraphQL HTTP {resp.status}: {_message(json.dumps(resp.data))}")
        body = resp.data if isinstance(resp.data, dict) else {}
        return body.get("data") or {}, list(body.get("errors") or [])

    def _request(self, verb: str, url: str, params: dict | None, headers: dict, body: Any, resource: str,
                 category: str) -> Response:
        cfg = self.cfg
        what = f"{verb} {urlsplit(url).path}"
        for attempt in range(cfg.max_retries + 1):
            self._await_budget(resource)
            last = attempt == cfg.max_retries
            try:
                with self._slots:
                    status, rheaders, text = self._req.requestJson(verb, url, params, dict(headers), body)
            except OSError as exc:  # requests' connection errors and timeouts are OSErrors
                self.report.count(category, status=0)
                if last:
                    raise ApiError(0, f"{what}: {type(exc).__name__} after {attempt + 1} attempts") from None
                self._backoff(attempt, f"{what}: {type(exc).__name__}")
                continue
            self.report.count(category, status=status)
            self._note_limits(rheaders, resource)
            if status == 304:
                return Response(304, None, rheaders, not_modified=True)
            if status in (403, 429):
                if resource == "graphql" and _graphql_rate_limited(_safe_json(text)):
                    self._graphql_exhausted(rheaders)  # the same error body, sent with a 4xx
                    continue
                wait = self._limit_wait(status, rheaders, text, attempt)
                if wait is not None:
                    if last:
                        self._defer(f"rate limit still hit after {attempt + 1} attempts ({what})")
                    self._wait_or_defer(wait, f"secondary rate limit on {what}")
                    continue
                if rheaders.get("x-ratelimit-remaining") == "0":
                    continue  # primary limit: _await_budget waits for the reset or defers
            if status >= 500:
                if last:
                    raise ApiError(status, f"{what}: HTTP {status} after {attempt + 1} attempts")
                self._backoff(attempt, f"{what}: HTTP {status}")
                continue
            if 200 <= status < 300:
                try:
                    data = json.loads(text) if text else None
                except ValueError:
                    if last:
                        raise ApiError(status, f"{what}: invalid JSON after {attempt + 1} attempts") from None
                    self._backoff(attempt, f"{what}: truncated or invalid JSON")
                    continue
                if resource == "graphql" and _graphql_rate_limited(data):
                    self._graphql_exhausted(rheaders)
                    continue  # _await_budget waits for the reset or defers
                return Response(status, data, rheaders)
            return Response(status, _safe_json(text), rheaders)
        self._defer(f"rate limit on {what} still hit after {cfg.max_retries + 1} attempts")
        raise AssertionError("unreachable: _defer raises")

    # ---------------------------------------------------------- rate limits

    def _note_limits(self, headers: dict, resource: str) -> None:
        remaining, reset = headers.get("x-ratelimit-remaining"), headers.get("x-ratelimit-reset")
        if remaining is None or reset is None:
            return
        res = headers.get("x-ratelimit-resource", resource)
        try:
            value = (int(float(remaining)), float(reset))
        except ValueError:
            return
        with self._lock:
            self._limits[res] = value
            self.report.rate_limit_remaining[res] = value[0]

    def _graphql_exhausted(self, headers: dict) -> None:
        """The body said the GraphQL budget is spent: believe it over `x-ratelimit-remaining`,
        which the newer answer may not send (or may not send as 0)."""
        now = self._clock()
        reset = None
        for name, base in (("retry-after", now), ("x-ratelimit-reset", 0.0)):
            try:
                value = base + float(headers[name])
            except (KeyError, ValueError):
                continue
            if value > now:
                reset = value
                break
        with self._lock:
            known = self._limits.get("graphql", (0, 0.0))[1]
            # Without a reset time, a minute: GitHub's own advice for a limit that does not say.
            self._limits["graphql"] = (0, reset or (known if known > now else now + 60))

    def _limit_wait(self, status: int, headers: dict, text: str, attempt: int) -> float | None:
        """Seconds to wait for a secondary limit, or None when this is not one."""
        retry_after = headers.get("retry-after")
        message = _message(text).lower()
        if retry_after is not None:
            try:
                return max(0.0, float(retry_after))
            except ValueError:
                pass
        if status == 429 or "secondary rate limit" in message or "abuse" in message:
            # GitHub: without retry-after, wait at least a minute, then increase exponentially.
            return min(max(60.0, self.cfg.backoff_s * 2**attempt), max(self.cfg.max_wait_s, 0.0))
        return None

    def _await_budget(self, resource: str) -> None:
        with self._lock:
            if self.deferred:
                raise RateLimitDeferred(self.deferred)
            remaining, reset = self._limits.get(resource, (1, 0.0))
        if remaining > 0:
            return
        wait = reset - self._clock() + 1.0
        if wait > 0:
            until = dt.datetime.fromtimestamp(reset, dt.UTC).strftime("%H:%M UTC")
            self._wait_or_defer(wait, f"primary rate limit ({resource}) exhausted until {until}")
        with self._lock:
            if self._limits.get(resource, (1, 0.0))[0] <= 0:
                self._limits[resource] = (1, 0.0)  # the reset has passed: probe again

    def _wait_or_defer(self, wait: float, why: str) -> None:
        if wait > self.cfg.max_wait_s:
            self._defer(f"{why}; would wait {wait:.0f} s, over max_wait_s={self.cfg.max_wait_s:.0f}")
        log.info("GitHub %s: waiting %.1f s", why, wait)
        self.report.add(waited_s=wait, retries=1)
        self._sleep(wait)

    def _defer(self, why: str) -> None:
        with self._lock:
            if not self.deferred:
                self.deferred = f"deferred: {why}"
                log.warning("GitHub crawl %s; the remaining repositories are deferred to the next run", why)
            reason = self.deferred
        raise RateLimitDeferred(reason)

    def _backoff(self, attempt: int, why: str) -> None:
        wait = min(self.cfg.backoff_s * 2**attempt, max(self.cfg.max_wait_s, self.cfg.backoff_s))
        log.info("GitHub API %s; retry %d in %.2f s", why, attempt + 1, wait)
        self.report.add(waited_s=wait, retries=1)
        self._sleep(wait)


def _safe_json(text: str) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def _graphql_rate_limited(data: Any) -> bool:
    """An exhausted GraphQL budget, answered with HTTP 200 and an error in the body.

    Older servers (and GitHub Enterprise Server) say `"type": "RATE_LIMITED"`;
    github.com now says `"type": "RATE_LIMIT", "code": "graphql_rate_limit"`.
    """
    if not isinstance(data, dict):
        return False
    return any(
        isinstance(e, dict) and (e.get("type") in ("RATE_LIMITED", "RATE_LIMIT") or e.get("code") == "graphql_rate_limit")
        for e in data.get("errors") or []
    )


def _auth(cfg: GitHubSourceConfig, base_dir: Path | None, token: str | None = None) -> Auth.Auth:
    """The App installation, else ``token`` (from the Dagster resource), else the variable ``token_env`` names."""
    if cfg.app is not None:
        path = cfg.app.private_key_path
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        try:
            key = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise GitHubSourceError(f"cannot read the GitHub App private key {path}: {exc.strerror or exc}") from None
        secrets.register(key)
        return Auth.AppAuth(cfg.app.app_id, key).get_installation_auth(cfg.app.installation_id)
    token = (token or os.environ.get(cfg.token_env, "")).strip()
    if not token:
        raise GitHubSourceError(
            f"environment variable {cfg.token_env} is not set; it must hold a GitHub token (see docs/github.md)"
        )
    secrets.register(token)
    return Auth.Token(token)


def _next_link(headers: dict) -> str | None:
    for part in (headers.get("link") or "").split(","):
        url, _, rel = part.partition(";")
        if 'rel="next"' in rel:
            return url.strip().strip("<>")
    return None


# ------------------------------------------------------------------ the source


@dataclass(slots=True)
class RepoInfo:
    """One repository as the inventory saw it."""

    key: str  # RepoFacts.repo: the name, or owner/name outside the organisation
    owner: str
    name: str
    node_id: str | None = None
    url: str | None = None
    archived: bool = False
    fork: bool = False
    visibility: str | None = None
    topics: list[str] = field(default_factory=list)
    pushed_at: str | None = None
    default_branch: str | None = None
    head: str | None = None
    deploy_sig: list | None = None
    deployments_total: int = 0
    incident_sig: list | None = None
    incidents_total: int = 0
    error: str | None = None  # a listed repository the token cannot see

    def api_facts(self) -> dict:
        return {"url": self.url, "fork": self.fork, "visibility": self.visibility, "topics": list(self.topics),
                "pushed_at": self.pushed_at}

    # What the next run needs when it cannot list the organisation: where the
    # repository is, and whether it was scored at all.
    _STATE = ("owner", "name", "url", "archived", "fork", "visibility", "default_branch", "error")

    def to_state(self) -> dict:
        return {k: getattr(self, k) for k in self._STATE}

    @classmethod
    def from_state(cls, key: str, data: dict) -> RepoInfo:
        return cls(key=key, **{"owner": "", "name": key, **{k: v for k, v in data.items() if k in cls._STATE}})


@dataclass(slots=True)
class History:
    deployments: list[RepoDeployment] | None = None
    incidents: list[RepoIncident] | None = None
    problem: str | None = None


class GitHubSource:
    """Repositories of one GitHub organisation (or a list of repositories)."""

    kind = "github"

    def __init__(self, cfg: GitHubSourceConfig, *, state_dir: Path, production_environments: list[str],
                 base_dir: Path | None = None, token: str | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.cfg = cfg
        self._token = token  # None: read the variable cfg.token_env names when the crawl starts
        host = urlsplit(cfg.base_url).netloc
        scope = cfg.organisation or "repos"
        self.name = f"github:{scope}" if host == "api.github.com" else f"github:{host}/{scope}"
        digest = hashlib.sha1(json.dumps([cfg.base_url, cfg.organisation, sorted(cfg.repos)]).encode()).hexdigest()[:10]
        self.root = Path(state_dir) / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', host)}-{re.sub(r'[^A-Za-z0-9_.-]+', '-', scope)}-{digest}"
        self.store = StateStore(self.root)
        self.local = LocalGitSource(self.root / "mirrors", cache_dir=self.root / "facts-cache")
        self.base_dir = base_dir
        self._sleep = sleep
        self.environments = sorted({v for e in production_environments for v in (e, e.lower(), e.title(), e.upper())})
        self._production = production_environments[0] if production_environments else "production"
        self._deploy_pattern = re.compile(cfg.deploy_workflow_pattern) if cfg.deploy_workflow_pattern else None
        self.report = RunReport(self.name)
        self.client: Client | None = None
        self.inventory: dict[str, RepoInfo] = {}
        self.history: dict[str, History] = {}
        self.teams: dict[str, list[str]] = {}
        self.unlisted: str | None = None  # why the organisation could not be listed this run
        self._prepared = False
        self._prepare_lock = threading.Lock()

    # ------------------------------------------------------------ protocol

    def repo_names(self) -> list[str]:
        with self._prepare_lock:
            if not self._prepared:
                self._prepare()
                self._prepared = True
        return sorted(self.inventory)

    def crawl(self, repo: str, as_of: dt.datetime | None = None) -> GitHubRepoCrawl:
        now = dt.datetime.now(dt.UTC)
        info = self.inventory.get(repo)
        if info is None:
            return GitHubRepoCrawl(RepoFacts(repo=repo, location=repo, source=self.kind, error="not in the GitHub inventory"), crawled_at=now)
        blank = RepoFacts(repo=repo, location=info.url or repo, source=self.kind, default_branch=info.default_branch,
                          archived=info.archived)
        if info.archived:
            # Not scored (identity skips archived repos), so not worth a fetch.
            blank.head_sha = info.head
            return GitHubRepoCrawl(blank, crawled_at=now, api=info.api_facts())
        if self.unlisted:
            self.report.defer(repo, self.unlisted)
            return self._last_good(info, self.unlisted, as_of, now)
        if info.error:
            blank.error = info.error
            return GitHubRepoCrawl(blank, crawled_at=now, api=info.api_facts())
        assert self.client is not None
        try:
            return self._crawl(info, as_of, now)
        except RateLimitDeferred as exc:
            self.report.defer(repo, str(exc))
            return self._last_good(info, str(exc), as_of, now)

    def finish(self) -> dict:
        """The run report; called once after every repository was crawled."""
        if self.client is not None:
            self.client.close()
        return self.report.as_dict()

    def known_teams(self) -> list[str]:
        return sorted(self.teams)

    # ------------------------------------------------------------ inventory

    def _prepare(self) -> None:
        org_state = self.store.load_org()
        try:
            self.client = Client(self.cfg, self.report, base_dir=self.base_dir, token=self._token, sleep=self._sleep)
            listed = self._list_org() if self.cfg.organisation and not self.cfg.repos else self._list_named()
        except (RateLimitDeferred, ApiError, GitHubSourceError) as exc:
            self._keep_last_inventory(org_state, str(exc).removeprefix("deferred: "))
            return
        self.inventory = {i.key: i for i in listed if self._wanted(i)}
        self.report.repos = len(self.inventory)
        teams_cache = org_state.get("teams_cache") or {}
        if self.cfg.organisation:
            try:
                self.teams, teams_cache = self._fetch_teams(teams_cache)
            except (RateLimitDeferred, ApiError) as exc:
                log.warning("GitHub teams of %s not read: %s", self.cfg.organisation, exc)
                self.report.notes.append(f"teams not read ({exc}); using the last known teams")
                self.teams = org_state.get("teams") or {}
        self.store.save_org({"repos": sorted(self.inventory), "inventory": {k: i.to_state() for k, i in self.inventory.items()},
                             "teams": self.teams, "teams_cache": teams_cache})
        try:
            self._prefetch_history()
        except RateLimitDeferred:
            pass  # the repos still without history are deferred when their crawl starts

    def _keep_last_inventory(self, org_state: dict, why: str) -> None:
        """The organisation could not be listed: the last inventory names the repositories, each
        then served from its last good crawl, so its services do not vanish from the snapshot."""
        scope = f"organisation {self.cfg.organisation}" if self.cfg.organisation and not self.cfg.repos else "repositories"
        known: dict = org_state.get("inventory") or {name: {} for name in org_state.get("repos") or []}
        if not known:
            raise GitHubSourceError(f"{scope} not listed: {why} (no earlier inventory to fall back on)") from None
        log.warning("GitHub %s not listed (%s); using the last inventory (%d repositories)", scope, why, len(known))
        self.unlisted = f"deferred: {scope} not listed: {why}"
        self.inventory = {key: RepoInfo.from_state(key, value) for key, value in known.items()}
        self.report.repos = len(self.inventory)
        self.report.inventory_error = why
        self.teams = org_state.get("teams") or {}

    def _wanted(self, info: RepoInfo) -> bool:
        cfg = self.cfg
        if cfg.include and not any(fnmatch.fnmatch(info.key, p) for p in cfg.include):
            return False
        if any(fnmatch.fnmatch(info.key, p) for p in cfg.exclude):
            return False
        return not (cfg.skip_forks and info.fork)

    def _variables(self) -> dict:
        label = self.cfg.incident_label
        return {"envs": self.environments, "labels": [label] if label else [], "withIncidents": bool(label)}

    def _list_org(self) -> list[RepoInfo]:
        assert self.client is not None
        out: list[RepoInfo] = []
        after = None
        while True:
            data, errors = self.client.graphql(ORG_REPOSITORIES, {"org": self.cfg.organisation, "after": after,
                                                                 **self._variables()}, category="inventory")
            org = data.get("organization")
            if org is None:
                why = "; ".join(e.get("message", "") for e in errors) or "not found"
                raise GitHubSourceError(f"organisation {self.cfg.organisation!r} cannot be read: {why}")
            conn = org["repositories"]
            out.extend(self._info(node, self.cfg.organisation) for node in conn["nodes"] if node)
            if not conn["pageInfo"]["hasNextPage"]:
                return out
            after = conn["pageInfo"]["endCursor"]

    def _list_named(self) -> list[RepoInfo]:
        assert self.client is not None
        org = self.cfg.organisation
        pairs = [tuple(r.split("/", 1)) if "/" in r else (org, r) for r in self.cfg.repos]
        out: list[RepoInfo] = []
        for start in range(0, len(pairs), NAMED_BATCH):
            batch = pairs[start : start + NAMED_BATCH]
            data, _ = self.client.graphql(_named_repositories_query(batch), self._variables(), category="inventory")
            for i, (owner, name) in enumerate(batch):
                node = data.get(f"r{i}")
                if node:
                    out.append(self._info(node, org))
                else:
                    key = name if org and owner.lower() == org.lower() else f"{owner}/{name}"
                    out.append(RepoInfo(key=key, owner=owner, name=name,
                                        error=f"repository {owner}/{name} not found, or the token may not read it"))
        return out

    @staticmethod
    def _info(node: dict, org: str | None) -> RepoInfo:
        owner = node["owner"]["login"]
        ref = node.get("defaultBranchRef") or {}
        deploy = node.get("deploySig") or {}
        incident = node.get("incidentSig") or {}
        return RepoInfo(
            key=node["name"] if org and owner.lower() == org.lower() else f"{owner}/{node['name']}",
            owner=owner,
            name=node["name"],
            node_id=node["id"],
            url=node["url"],
            archived=bool(node.get("isArchived")),
            fork=bool(node.get("isFork")),
            visibility=node.get("visibility"),
            topics=[t["topic"]["name"] for t in (node.get("repositoryTopics") or {}).get("nodes", [])],
            pushed_at=node.get("pushedAt"),
            default_branch=ref.get("name"),
            head=(ref.get("target") or {}).get("oid"),
            deploy_sig=[deploy.get("totalCount", 0), deploy.get("nodes")],
            deployments_total=int(deploy.get("totalCount") or 0),
            incident_sig=[incident.get("totalCount", 0), incident.get("nodes")] if incident else None,
            incidents_total=int(incident.get("totalCount") or 0),
        )

    def _fetch_teams(self, cache: dict) -> tuple[dict[str, list[str]], dict]:
        """Teams and members, every page a conditional request (an unchanged org answers 304s)."""
        new_cache: dict = {}

        def pages(path: str) -> list:
            items: list = []
            url: str | None = f"{path}?{urlencode({'per_page': 100})}"
            while url:
                key = url if url.startswith("/") else urlsplit(url).path + "?" + urlsplit(url).query
                key = key.removeprefix(urlsplit(self.cfg.base_url).path)
                resp = self.client.get(key, cached=cache.get(key), category="teams")  # type: ignore[union-attr]
                if resp.status not in (200, 304):
                    raise ApiError(resp.status, f"GET {key}: HTTP {resp.status}")
                if resp.not_modified:
                    entry = cache[key]
                else:
                    entry = {"etag": resp.headers.get("etag"),
                             "data": {"items": resp.data, "next": _next_link(resp.headers)}}
                new_cache[key] = entry
                items.extend(entry["data"]["items"])
                nxt = entry["data"]["next"]
                url = (urlsplit(nxt).path + "?" + urlsplit(nxt).query) if nxt else None
            return items

        org = quote(self.cfg.organisation or "", safe="")
        teams: dict[str, list[str]] = {}
        for team in pages(f"/orgs/{org}/teams"):
            slug = team["slug"]
            teams[slug] = sorted(m["login"] for m in pages(f"/orgs/{org}/teams/{quote(slug, safe='')}/members"))
        return teams, new_cache

    # -------------------------------------------------------------- history

    def _history_window(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) - dt.timedelta(days=self.cfg.history_days)

    def _prefetch_history(self) -> None:
        """Deployments and incidents for every repo whose signature moved, batched."""
        todo: list[tuple[RepoInfo, bool, bool]] = []
        for info in self.inventory.values():
            if info.error or info.archived or not info.node_id:
                continue
            state = self.store.load_repo(info.key)
            deps = info.deployments_total > 0 and (state.get("deploy_sig") != info.deploy_sig or "deployments" not in state)
            incs = bool(self.cfg.incident_label) and info.incidents_total > 0 and (
                state.get("incident_sig") != info.incident_sig or "incidents" not in state)
            if deps or incs:
                todo.append((info, deps, incs))
        for start in range(0, len(todo), HISTORY_BATCH):
            batch = todo[start : start + HISTORY_BATCH]
            for with_deps, with_incs in {(d, i) for _, d, i in batch}:
                group = [info for info, d, i in batch if (d, i) == (with_deps, with_incs)]
                self._history_batch(group, with_deps, with_incs)

    def _history_batch(self, group: list[RepoInfo], with_deps: bool, with_incs: bool) -> None:
        assert self.client is not None
        flags = {**self._variables(), "withDeployments": with_deps, "withIncidents": with_incs,
                 "deploymentsAfter": None, "issuesAfter": None}
        try:
            data, errors = self.client.graphql(REPOSITORY_HISTORY, {"ids": [i.node_id for i in group], **flags},
                                               category="history")
        except ApiError as exc:
            for info in group:
                self.history[info.key] = History(problem=f"deployments not read: {exc}")
            return
        failed = {e["path"][1] for e in errors if isinstance(e.get("path"), list) and len(e["path"]) > 1}
        for index, (info, node) in enumerate(zip(group, data.get("nodes") or [None] * len(group), strict=False)):
            if node is None or index in failed:
                why = next((e.get("message") for e in errors if (e.get("path") or [None, None])[1:2] == [index]), None)
                self.history[info.key] = History(problem=f"deployments not read: {why or 'repository not returned'}")
                continue
            try:
                self.history[info.key] = self._history_pages(info, node, flags, with_deps, with_incs)
            except ApiError as exc:
                self.history[info.key] = History(problem=f"deployments not read: {exc}")

    def _history_pages(self, info: RepoInfo, node: dict, flags: dict, with_deps: bool, with_incs: bool) -> History:
        """Follow each connection newest-first until it leaves the history window."""
        assert self.client is not None
        window = self._history_window()
        deployments: list[dict] = []
        issues: list[dict] = []
        while True:
            more = {}
            for key, sink in (("deployments", deployments), ("issues", issues)):
                conn = node.get(key)
                if not conn:
                    continue
                nodes = conn.get("nodes") or []
                sink.extend(nodes)
                oldest = parse_time(nodes[-1]["createdAt"]) if nodes else None
                if conn["pageInfo"]["hasNextPage"] and oldest is not None and oldest >= window:
                    more[key] = conn["pageInfo"]["endCursor"]
            if not more:
                break
            variables = {**flags, "id": info.node_id, "withDeployments": "deployments" in more,
                         "withIncidents": "issues" in more, "deploymentsAfter": more.get("deployments"),
                         "issuesAfter": more.get("issues")}
            data, errors = self.client.graphql(REPOSITORY_HISTORY_PAGE, variables, category="history")
            node = data.get("node") or {}
            if errors or not node:
                raise ApiError(200, "; ".join(e.get("message", "") for e in errors) or "repository not returned")
        history = History()
        if with_deps:
            history.deployments = [d for d in (self._deployment(info.key, n) for n in deployments)
                                   if d is not None and d.deployed_at >= window]
        if with_incs:
            history.incidents = [
                RepoIncident(info.key, parse_time(n["createdAt"]), parse_time(n.get("closedAt")), f"issue #{n['number']}")  # type: ignore[arg-type]
                for n in issues if parse_time(n["createdAt"]) >= window  # type: ignore[operator]
            ]
        return history

    @staticmethod
    def _deployment(repo: str, node: dict) -> RepoDeployment | None:
        """A GitHub deployment as a deploy event: its sha, and the time of its success status."""
        statuses = sorted((node.get("statuses") or {}).get("nodes") or [], key=lambda s: s["createdAt"])
        success = [s for s in statuses if s["state"] == "SUCCESS"]
        if success:
            status, at = "success", success[0]["createdAt"]
        elif statuses:
            state = statuses[-1]["state"]
            if state == "INACTIVE":
                return None  # superseded before it ever succeeded: not a deploy
            status = {"FAILURE": "failure", "ERROR": "error"}.get(state, "in_progress")
            at = statuses[-1]["createdAt"]
        else:
            status, at = "in_progress", node["createdAt"]
        return RepoDeployment(repo, node["environment"], node["commitOid"], parse_time(at), status, "github_deployment")  # type: ignore[arg-type]

    # ---------------------------------------------------------------- crawl

    def _crawl(self, info: RepoInfo, as_of: dt.datetime | None, now: dt.datetime) -> GitHubRepoCrawl:
        assert self.client is not None
        state = self.store.load_repo(info.key)
        path = self.local.root / info.key
        try:
            if self.client.deferred:
                # Out of budget: ask GitHub nothing more this run, git included. A
                # mirror already at the listed head still has every file right.
                if not self._files_current(info, state, path):
                    raise RateLimitDeferred(self.client.deferred)
                mirror.ensure_mirror(path, info.default_branch or "main")
                fetched = synced = False
            else:
                fetched = self._sync_mirror(info, state, path)
                synced = True
        except mirror.RepoGone:
            return self._gone(info, as_of, now)
        except mirror.MirrorError as exc:
            return self._last_good(info, str(exc), as_of, now)
        local = self.local.crawl(info.key, as_of)
        facts = local.facts
        facts.location = info.url or info.key
        facts.source = self.kind
        facts.archived = False
        crawl = GitHubRepoCrawl(facts, local.commits, local.tags, now, local.reused, api=info.api_facts())
        if facts.error:
            return crawl
        etags: dict = dict(state.get("etags") or {})
        runs: list[dict] | None = None
        if as_of is None:
            try:
                facts.branch_protected = self._branch_protected(info, etags, facts)
                runs = self._runs(info, etags, facts)
            except RateLimitDeferred as exc:
                # The files were read; only what the API alone knows stays unknown.
                facts.branch_protected, runs = None, None
                facts.problems.append(Problem("(GitHub API) branch protection, workflow runs", f"not read: {exc}"))
                self.report.defer_api(info.key, str(exc))
            except mirror.RepoGone:
                return self._gone(info, as_of, now)
            if runs is not None:
                facts.ci_runs = [
                    {k: r[k] for k in ("status", "conclusion", "created_at", "duration_s", "name")}
                    for r in runs if not self._is_deploy_run(r)
                ]
        crawl.deployments, crawl.incidents = self._delivery(info, state, runs, facts)
        self._save(info, state, etags, crawl, synced)
        if fetched:
            self.report.add(repos_fetched=1)
        else:
            self.report.add(repos_unchanged=1)
        return crawl

    @staticmethod
    def _files_current(info: RepoInfo, state: dict, path: Path) -> bool:
        """The mirror holds the default branch head the inventory listed (tags may lag)."""
        return (
            (path / "HEAD").is_file()
            and state.get("head") == info.head
            and state.get("default_branch") == info.default_branch
        )

    def _last_good(self, info: RepoInfo, why: str, as_of: dt.datetime | None, now: dt.datetime) -> GitHubRepoCrawl:
        """The repository as its last good crawl saw it, marked as not crawled this run.

        Identity reads the catalog from these facts, so the services keep their
        names (a blank RepoFacts would turn a monorepo's components into one
        service named after the repository); `error` makes evidence turn every
        repo check `unknown`, saying why and how old the facts are.
        """
        state = self.store.load_repo(info.key)
        at = parse_time(str(state["crawled_at"])) if state.get("crawled_at") else None
        when = f"last good crawl {at:%Y-%m-%d %H:%M} UTC" if at else "never crawled successfully"
        facts = None
        if state.get("head") and (self.local.root / info.key / "HEAD").is_file():
            # The mirror is at (or past) the last good crawl's head, and the facts
            # cache usually answers without reading a single file.
            facts = self.local.crawl(info.key, as_of).facts
            if facts.error:
                facts = None
        if facts is None:
            facts = RepoFacts(repo=info.key, location="", default_branch=info.default_branch)
        facts.location = info.url or info.key
        facts.source = self.kind
        facts.archived = False
        facts.branch_protected, facts.ci_runs = None, None
        facts.error = f"{why} ({when})"
        return GitHubRepoCrawl(facts, crawled_at=now, api=info.api_facts())

    def _gone(self, info: RepoInfo, as_of: dt.datetime | None, now: dt.datetime) -> GitHubRepoCrawl:
        """Listed by the inventory, then not found: deleted, renamed, or hidden from the token.

        An error, not a deferral: the next run may not list it at all. Its state
        is left as it was, so the last good crawl stays on record.
        """
        log.warning("GitHub repository %s: %s", info.key, GONE)
        return self._last_good(info, f"{GONE} (deleted, renamed or made private after the inventory listed it)", as_of, now)

    def _sync_mirror(self, info: RepoInfo, state: dict, path: Path) -> bool:
        """Fetch when the repo was pushed since the last crawl; True when git fetched."""
        assert self.client is not None
        branch = info.default_branch or "main"
        if info.head is None:  # empty repository: nothing to fetch, the reader reports it
            mirror.ensure_mirror(path, branch)
            return False
        unchanged = self._files_current(info, state, path) and state.get("pushed_at") == info.pushed_at
        if unchanged:
            mirror.ensure_mirror(path, branch)
            return False
        since = self._history_window()
        mirror.fetch(path, f"{info.url}.git", branch, self.client.git_token(), since=since,
                     timeout=mirror.FETCH_TIMEOUT_S, release_branches=tuple(self.cfg.release_branches))
        self.report.add(git_fetches=1)
        return True

    def _branch_protected(self, info: RepoInfo, etags: dict, facts: RepoFacts) -> bool | None:
        """The branch's `protected` flag (classic protection or a ruleset); None when not readable."""
        assert self.client is not None
        path = f"/repos/{quote(info.owner, safe='')}/{quote(info.name, safe='')}/branches/{quote(facts.default_branch or '', safe='')}"
        try:
            resp = self.client.get(path, cached=etags.get(path), category="branch")
        except ApiError as exc:
            facts.problems.append(Problem("(GitHub API) branch protection", f"not read: {exc}"))
            return None
        if resp.status == 200:
            etags[path] = {"etag": resp.headers.get("etag"), "data": {"protected": bool((resp.data or {}).get("protected"))}}
        elif resp.status == 404 and not self._repo_visible(info):
            # With the head unchanged there was no fetch to notice it: the branch is the first thing asked.
            raise mirror.RepoGone(GONE)
        elif not resp.not_modified:
            # 403/404: the token may not read it. Unknown, never "unprotected".
            facts.problems.append(Problem("(GitHub API) branch protection",
                                          f"HTTP {resp.status}: the token may not read {facts.default_branch}; unknown"))
            etags.pop(path, None)
            return None
        return (etags.get(path) or {}).get("data", {}).get("protected")

    def _repo_visible(self, info: RepoInfo) -> bool:
        """False only when GitHub says the repository itself is not found (404)."""
        assert self.client is not None
        try:
            resp = self.client.get(f"/repos/{quote(info.owner, safe='')}/{quote(info.name, safe='')}", category="repo")
        except ApiError:
            return True  # not known: keep the repository, with protection unknown
        return resp.status != 404

    def _runs(self, info: RepoInfo, etags: dict, facts: RepoFacts) -> list[dict] | None:
        """Latest workflow runs on the default branch; [] without workflows (no request)."""
        assert self.client is not None
        if not any(f.startswith(".github/workflows/") for f in facts.files):
            return []
        path = f"/repos/{quote(info.owner, safe='')}/{quote(info.name, safe='')}/actions/runs"
        params = {"branch": facts.default_branch, "per_page": RUNS_PER_PAGE, "exclude_pull_requests": "true"}
        key = f"{path}?{urlencode(params)}"
        try:
            resp = self.client.get(path, params, cached=etags.get(key), category="runs")
        except ApiError as exc:
            facts.problems.append(Problem("(GitHub API) workflow runs", f"not read: {exc}"))
            return None
        if resp.status == 200:
            runs = [_run(r) for r in (resp.data or {}).get("workflow_runs", [])]
            etags[key] = {"etag": resp.headers.get("etag"), "data": runs}
            return runs
        if resp.not_modified:
            return list((etags.get(key) or {}).get("data") or [])
        facts.problems.append(Problem("(GitHub API) workflow runs", f"HTTP {resp.status}: not readable with this token"))
        return None

    def _is_deploy_run(self, run: dict) -> bool:
        return bool(self._deploy_pattern and self._deploy_pattern.search(run.get("name") or ""))

    def _delivery(self, info: RepoInfo, state: dict, runs: list[dict] | None,
                  facts: RepoFacts) -> tuple[list[RepoDeployment] | None, list[RepoIncident] | None]:
        fresh = self.history.get(info.key)
        if fresh is not None and fresh.problem:
            facts.problems.append(Problem("(GitHub API) deployments", fresh.problem))
        deployments: list[RepoDeployment] | None
        if info.deployments_total == 0:
            deployments = []
        elif fresh is not None and fresh.deployments is not None:
            deployments = fresh.deployments
        elif state.get("deploy_sig") == info.deploy_sig and "deployments" in state:
            deployments = [deployment_from_json(info.key, d) for d in state["deployments"]]
        elif self.client is not None and self.client.deferred and fresh is None:
            facts.problems.append(Problem("(GitHub API) deployments", f"not read: {self.client.deferred}"))
            deployments = None
        else:
            deployments = None
        if not deployments and self._deploy_pattern is not None:
            if runs is None and "run_deployments" in state:
                deployments = [deployment_from_json(info.key, d) for d in state["run_deployments"]]
            elif runs is not None:
                # Deploy workflows count only when the repo records no GitHub Deployments,
                # which such workflows usually create themselves: never both for one deploy.
                deployments = [self._run_deployment(info.key, r) for r in runs if self._is_deploy_run(r)
                               and r["status"] == "completed" and r["conclusion"] in ("success", "failure")]
        incidents: list[RepoIncident] | None = None
        if self.cfg.incident_label:
            if info.incidents_total == 0:
                incidents = []
            elif fresh is not None and fresh.incidents is not None:
                incidents = fresh.incidents
            elif state.get("incident_sig") == info.incident_sig and "incidents" in state:
                incidents = [incident_from_json(info.key, i) for i in state["incidents"]]
        return deployments, incidents

    def _run_deployment(self, repo: str, run: dict) -> RepoDeployment:
        return RepoDeployment(repo, self._production, run["head_sha"], parse_time(run["updated_at"]),  # type: ignore[arg-type]
                              "success" if run["conclusion"] == "success" else "failure", "workflow_run")

    def _save(self, info: RepoInfo, previous: dict, etags: dict, crawl: GitHubRepoCrawl, synced: bool) -> None:
        data: dict = {
            "head": info.head,
            # Not synced (deferred, head unchanged): tags pushed since were not fetched,
            # so the old push time makes the next run fetch them.
            "pushed_at": info.pushed_at if synced else previous.get("pushed_at"),
            "default_branch": info.default_branch,
            "etags": etags,
            "crawled_at": crawl.crawled_at,
        }
        gh = [d for d in crawl.deployments or [] if d.source == "github_deployment"]
        if crawl.deployments is not None or info.deployments_total == 0:
            data["deploy_sig"] = info.deploy_sig
            data["deployments"] = [deployment_to_json(d) for d in gh]
        runs = [d for d in crawl.deployments or [] if d.source == "workflow_run"]
        data["run_deployments"] = [deployment_to_json(d) for d in runs] if runs else previous.get("run_deployments", [])
        if crawl.incidents is not None:
            data["incident_sig"] = info.incident_sig
            data["incidents"] = [incident_to_json(i) for i in crawl.incidents]
        self.store.save_repo(info.key, data)


def _run(raw: dict) -> dict:
    started = parse_time(raw.get("run_started_at") or raw.get("created_at"))
    updated = parse_time(raw.get("updated_at"))
    duration = (updated - started).total_seconds() if raw.get("status") == "completed" and started and updated else None
    return {
        "id": raw.get("id"),
        "name": raw.get("name"),
        "head_sha": raw.get("head_sha"),
        "event": raw.get("event"),
        "status": raw.get("status"),
        "conclusion": raw.get("conclusion"),
        "created_at": raw.get("created_at"),
        "updated_at": raw.get("updated_at"),
        "duration_s": duration,
    }
