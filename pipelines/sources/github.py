"""GitHub source: an organisation's repositories, CI runs, deployments and teams.

What the crawl asks GitHub, and when; requests go through
`github_client.Client` (the only user of PyGithub), the inventory and teams are
read by `github_inventory`, deployments and incidents by `github_history`.
What a crawl costs, per repository:

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
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

from checks.evidence import Problem
from pipelines.config import GitHubSourceConfig
from pipelines.facts import RepoFacts
from pipelines.sources import github_mirror as mirror
from pipelines.sources.github_client import ApiError, Client, GitHubSourceError, RateLimitDeferred
from pipelines.sources.github_history import History, fetch_history
from pipelines.sources.github_inventory import RepoInfo, fetch_teams, list_named, list_org
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

RUNS_PER_PAGE = 100
GONE = "repository no longer exists or the token cannot see it"


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
            if self.cfg.organisation and not self.cfg.repos:
                listed = list_org(self.client, self.cfg.organisation, self._variables())
            else:
                listed = list_named(self.client, self.cfg.repos, self.cfg.organisation, self._variables())
        except (RateLimitDeferred, ApiError, GitHubSourceError) as exc:
            self._keep_last_inventory(org_state, str(exc).removeprefix("deferred: "))
            return
        self.inventory = {i.key: i for i in listed if self._wanted(i)}
        self.report.repos = len(self.inventory)
        teams_cache = org_state.get("teams_cache") or {}
        if self.cfg.organisation:
            try:
                self.teams, teams_cache = fetch_teams(self.client, self.cfg.base_url, self.cfg.organisation, teams_cache)
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

    # -------------------------------------------------------------- history

    def _history_window(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) - dt.timedelta(days=self.cfg.history_days)

    def _prefetch_history(self) -> None:
        """Deployments and incidents for every repo whose signature moved since the last crawl."""
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
        assert self.client is not None
        fetch_history(self.client, todo, self._variables(), self._history_window(), into=self.history)

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
