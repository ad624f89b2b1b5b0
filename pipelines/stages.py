"""The stages of a scoring run as plain functions (the Dagster assets call them).

Kept free of Dagster so the CLI's backfill, the benchmark and the tests can
drive exactly the same code, and each stage is testable on its own.
"""

from __future__ import annotations

import dataclasses
import json
import datetime as dt
import os
import queue
import threading
import time
import posixpath
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from checks import policy
from checks.catalogue import all_checks
from checks.evidence import Problem, ServiceEvidence
from checks.model import CheckContext, Status, evaluate
from pipelines import delivery as dlv
from pipelines import secrets, warehouse
from pipelines.config import ScorecardConfig
from pipelines.facts import K8sInventory, RepoFacts
from pipelines.parsers.kubernetes import WORKLOAD_KINDS
from pipelines.evidence import (
    ClusterIndex,
    JoinIndex,
    build_evidence,
    index_clusters,
    join_repo_workloads,
    orphan_workloads,
)
from pipelines.identity import ServiceRecord, resolve_services
from pipelines.sources.base import ClusterCrawl, ClusterSource, RepoCrawl, RepoSource
from pipelines.sources.cluster_snapshot import ClusterSnapshotSource
from pipelines.sources.events import DeploymentEvent, EventFile, IncidentEvent, iter_events
from pipelines.sources.github_state import GitHubRepoCrawl
from pipelines.sources.kubernetes import KubernetesSource
from pipelines.sources.local_git import LocalGitSource, RepoReads
from pipelines.sources.rollouts import rollout_deploys

Progress = Callable[[str, int, int], None]  # (stage, done, total)


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


def crawl_workers() -> int:
    # git subprocesses release the GIL; a few per core keeps both cores busy
    # while one repo waits on disk.
    return max(2, min(8, (os.cpu_count() or 2) * 2))


# ------------------------------------------------------------------ sources


@dataclass
class RepoCrawlResult:
    crawls: list[RepoCrawl]
    source_status: list[dict]
    problems: list[dict]
    reports: list[dict] = field(default_factory=list)  # per API source: requests, 304s, retries, deferred
    known_teams: list[str] = field(default_factory=list)  # teams the sources know (GitHub org teams)


def repo_sources(
    config: ScorecardConfig, tokens: Mapping[str, str] | None = None, reads: RepoReads | None = None
) -> list[RepoSource]:
    """Every configured repository source.

    ``tokens``: secrets by the variable that holds them (token_env);
    ``reads``: what the repositories say whatever the date, shared by the crawls of several dates.
    """
    cache = config.warehouse_path.parent / "crawl-cache"
    sources: list[RepoSource] = [
        LocalGitSource(config.resolve(r.root), include=r.include, exclude=r.exclude, cache_dir=cache, reads=reads)
        for r in config.sources.repos
    ]
    if config.sources.github:
        from pipelines.sources.github import GitHubSource  # late: PyGithub only loads when configured

        default_state = config.warehouse_path.parent / "github-state"
        sources += [
            GitHubSource(
                gh,
                state_dir=config.resolve(gh.state_dir) if gh.state_dir else default_state,
                production_environments=config.sources.delivery.production_environments,
                base_dir=config.base_dir,
                token=(tokens or {}).get(gh.token_env),
            )
            for gh in config.sources.github
        ]
    return sources


def crawl_repos(
    sources: list[RepoSource], as_of: dt.datetime | None, progress: Progress = _no_progress,
    budget_seconds: float | None = None,
) -> RepoCrawlResult:
    """Crawl every repo of every source concurrently; a failing repo is recorded, not raised.

    A repo still crawling ``budget_seconds`` after it started is recorded as
    ``error`` with that reason and the run goes on without it (see :func:`_bounded`).
    """
    crawls: list[RepoCrawl] = []
    status: list[dict] = []
    problems: list[dict] = []
    jobs: list[tuple[RepoSource, str]] = []
    kinds: dict[int, str] = {}  # id(crawl) -> source kind, for the status rows
    failed: set[int] = set()
    for source in sources:
        try:
            jobs.extend((source, name) for name in source.repo_names())
        except Exception as exc:  # noqa: BLE001 - one unreadable source must not stop the others
            reason = secrets.redact(f"cannot list repositories: {exc}")
            status.append(_status(_kind(source), source.name, "error", reason, None, 0))
            failed.add(id(source))
    total = len(jobs)
    progress("crawl repos", 0, total)
    outcomes = _bounded(jobs, lambda job: job[0].crawl(job[1], as_of), crawl_workers(), budget_seconds)
    for done, (index, outcome, value) in enumerate(outcomes, start=1):
        source, name = jobs[index]
        if outcome == "ok":
            crawl = value
        elif outcome == "timeout":
            crawl = RepoCrawl(RepoFacts(repo=name, location=name, error=(
                f"crawl took longer than its {budget_seconds:g} s budget and was abandoned "
                "(sources.repo_crawl_budget_seconds); the rest of the run went on")))
        else:  # a crawler bug on one repo is that repo's error
            crawl = RepoCrawl(RepoFacts(repo=name, location=name, error=secrets.redact(f"crawler failed: {type(value).__name__}: {value}")))
        crawls.append(crawl)
        kinds[id(crawl)] = _kind(source)
        progress("crawl repos", done, total)
    crawls.sort(key=lambda c: c.facts.repo)
    for crawl in crawls:
        f = crawl.facts
        absent = as_of is not None and f.error is not None and f.error.startswith("no commits on")
        if absent:
            continue  # the repo did not exist yet at this date: not a failure
        kind = kinds.get(id(crawl), "git")
        state = "deferred" if f.error and f.error.startswith("deferred:") else ("error" if f.error else "ok")
        status.append(_status(kind, f.repo, state, f.error, crawl.crawled_at, len(f.files)))
        problems.extend({"source": kind, "target": f.repo, "path": p.path, "reason": p.reason} for p in f.problems)
    reports, teams = _finish_sources(sources, failed, status)
    return RepoCrawlResult(crawls, status, problems, reports, teams)


def _bounded(jobs: list, call: Callable, workers: int, budget: float | None):
    """Run ``call`` on each job in daemon worker threads; yield (index, "ok"|"error"|"timeout", value) as each ends.

    A job past its budget is reported as "timeout" and abandoned: Python
    cannot stop a thread, so its worker is replaced and the job's late result
    is ignored. Daemon threads, unlike a ThreadPoolExecutor's, never keep the
    process alive at exit waiting for a repository that hangs (a FIFO in its
    object store blocks git until its own timeout).
    """
    if not jobs:
        return
    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    for i in range(len(jobs)):
        todo.put(i)
    results: queue.SimpleQueue[tuple[int, str, object]] = queue.SimpleQueue()
    started: dict[int, float] = {}
    guard = threading.Lock()

    def worker() -> None:
        while True:
            try:
                i = todo.get_nowait()
            except queue.Empty:
                return
            with guard:
                started[i] = time.monotonic()
            try:
                results.put((i, "ok", call(jobs[i])))
            except Exception as exc:  # noqa: BLE001 - reported as this job's error
                results.put((i, "error", exc))

    def spawn() -> None:
        threading.Thread(target=worker, name="crawl-repo", daemon=True).start()

    for _ in range(min(workers, len(jobs))):
        spawn()
    finished: set[int] = set()
    while len(finished) < len(jobs):
        wait = None
        if budget is not None:
            with guard:
                running = [t for i, t in started.items() if i not in finished]
            wait = max(0.05, min((t + budget - time.monotonic() for t in running), default=budget))
        try:
            i, outcome, value = results.get(timeout=wait)
        except queue.Empty:
            now = time.monotonic()
            with guard:
                late = [i for i, t in started.items() if i not in finished and now - t >= budget]
            for i in late:
                finished.add(i)
                spawn()  # the abandoned job keeps its thread busy; the queue must not starve
                yield i, "timeout", None
            continue
        if i in finished:
            continue  # ended after its budget ran out: already reported
        finished.add(i)
        yield i, outcome, value


def _kind(source: RepoSource) -> str:
    return getattr(source, "kind", "git")


def _finish_sources(sources: list[RepoSource], failed: set[int], status: list[dict]) -> tuple[list[dict], list[str]]:
    """Run reports of API sources (GitHub): one source_status row each, and their known teams."""
    reports: list[dict] = []
    teams: set[str] = set()
    now = dt.datetime.now(dt.UTC)
    for source in sources:
        finish = getattr(source, "finish", None)
        if finish is None:
            continue
        report = finish()
        if id(source) in failed:
            continue
        reports.append(report)
        teams.update(source.known_teams())  # type: ignore[attr-defined]
        state = report.get("status") or ("partial" if report.get("deferred") or report.get("notes") else "ok")
        status.append(_status(_kind(source), source.name, state, report.get("summary"), now, report.get("repos", 0)))
    return reports, sorted(teams)


def check_context(config: ScorecardConfig, as_of: dt.date, repo_crawl: RepoCrawlResult | None = None) -> CheckContext:
    """The config's check context, with the teams the sources found (GitHub org teams) as known teams."""
    ctx = config.check_context(as_of)
    if repo_crawl is not None and repo_crawl.known_teams:
        ctx = dataclasses.replace(ctx, known_teams=ctx.known_teams | frozenset(repo_crawl.known_teams))
    return ctx


def report_metadata(result: RepoCrawlResult) -> dict:
    """Dagster metadata for each API source's run report."""
    out: dict = {}
    for report in result.reports:
        prefix = report["source"]
        for key in ("requests", "counted", "not_modified", "retries", "waited_s", "per_repo_counted", "git_fetches"):
            out[f"{prefix} {key}"] = report[key]
        out[f"{prefix} deferred repos"] = len(report["deferred"])
    return out


def _status(source: str, target: str, status: str, reason: str | None, at: dt.datetime | None, items: int) -> dict:
    return {
        "source": source, "target": target, "status": status, "reason": reason,
        "crawled_at": at, "items": items, "last_success_at": at if status == "ok" else None,
    }


def cluster_sources(config: ScorecardConfig) -> list[ClusterSource]:
    """Snapshot files and live clusters (`sources.kubernetes`), in config order."""
    snapshots: list[ClusterSource] = [
        ClusterSnapshotSource(config.resolve(snap.path), snap.cluster, snap.environment)
        for snap in config.sources.clusters
    ]
    live: list[ClusterSource] = [KubernetesSource.from_config(c, config.resolve) for c in config.sources.kubernetes]
    return snapshots + live


def crawl_clusters(
    config: ScorecardConfig, progress: Progress = _no_progress, sources: list[ClusterSource] | None = None
) -> list[ClusterCrawl]:
    """Every cluster concurrently (each waits on its own API server); one failing is its own error."""
    sources = cluster_sources(config) if sources is None else sources
    out: list[ClusterCrawl | None] = [None] * len(sources)
    progress("crawl clusters", 0, len(sources))
    if not sources:
        return []
    with ThreadPoolExecutor(max_workers=min(8, len(sources))) as pool:
        futures = {pool.submit(source.crawl): i for i, source in enumerate(sources)}
        for done, future in enumerate(as_completed(futures), start=1):
            i = futures[future]
            try:
                out[i] = future.result()
            except Exception as exc:  # noqa: BLE001 - a crawler bug on one cluster is that cluster's error
                # The type only: an unexpected exception's text is not known to be free of credentials.
                source = sources[i]
                out[i] = ClusterCrawl(
                    source.cluster, source.environment, K8sInventory(), f"crawler failed: {type(exc).__name__}"
                )
            progress("crawl clusters", done, len(sources))
    return [c for c in out if c is not None]


def cluster_status(crawls: list[ClusterCrawl]) -> tuple[list[dict], list[dict]]:
    status, problems = [], []
    for c in crawls:
        n = len(c.inventory.workloads)
        if c.partial and not c.error:
            # The workloads were read, so this counts as a success for staleness.
            row = _status("cluster", c.cluster, "ok", "; ".join(c.partial), c.crawled_at, n)
            status.append({**row, "status": "partial"})
        else:
            status.append(_status("cluster", c.cluster, "error" if c.error else "ok", c.error, c.crawled_at, n))
        problems.extend(
            {"source": "cluster", "target": c.cluster, "path": p.path, "reason": p.reason} for p in c.inventory.problems
        )
    return status, problems


@dataclass
class Events:
    deployments: list[DeploymentEvent] = field(default_factory=list)
    incidents: list[IncidentEvent] = field(default_factory=list)
    status: list[dict] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)


def event_window(as_of: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of the events any metric of the ``as_of`` snapshot reads (DESIGN "Metric definitions").

    The longest trailing window wins; on top, each service's last production
    deploy before ``start`` is kept (see :class:`_Window`).
    """
    end = dlv.window_end(as_of)
    days = max(dlv.LEAD_TIME_WINDOW_DAYS, dlv.FREQUENCY_WEEKS * 7, dlv.FAILURE_WINDOW_DAYS)
    return end - dt.timedelta(days=days), end


class _Window:
    """Keeps the events a snapshot's metrics read, streaming, in bounded memory.

    In the window: every deployment and incident. Before it: only each
    service's latest successful production deploy, because it is the lower
    bound of the first in-window deploy's change range ``(prev, this]`` and
    the deploy an early incident links to. Everything the metrics would
    ignore anyway (other environments, failed deploys) is dropped here.
    """

    def __init__(self, start: dt.datetime, end: dt.datetime, production: frozenset[str]) -> None:
        self.start, self.end, self.production = start, end, production
        self.deployments: list[DeploymentEvent] = []
        self.before: dict[str, DeploymentEvent] = {}
        self.incidents: list[IncidentEvent] = []

    def add(self, event: DeploymentEvent | IncidentEvent) -> None:
        if isinstance(event, IncidentEvent):
            if self.start <= event.opened_at < self.end:
                self.incidents.append(event)
            return
        if event.status != "success" or event.environment.lower() not in self.production or event.deployed_at >= self.end:
            return
        if event.deployed_at >= self.start:
            self.deployments.append(event)
            return
        last = self.before.get(event.service)
        if last is None or event.deployed_at > last.deployed_at:
            self.before[event.service] = event

    def result(self) -> tuple[list[DeploymentEvent], list[IncidentEvent]]:
        return [*self.before.values(), *self.deployments], self.incidents


_WINDOW_DEPLOYS_SQL = """
WITH prod AS (
    SELECT service, environment, sha, deployed_at, status FROM deployment_events
    WHERE status = 'success' AND list_contains($production, lower(environment)) AND deployed_at < $end
)
SELECT * FROM prod WHERE deployed_at >= $start
UNION ALL
SELECT service, environment, sha, deployed_at, status FROM (
    SELECT *, row_number() OVER (PARTITION BY service ORDER BY deployed_at DESC) AS latest
    FROM prod WHERE deployed_at < $start
) WHERE latest = 1
"""
_WINDOW_INCIDENTS_SQL = """
SELECT service, opened_at, resolved_at, root_cause_sha FROM incident_events
WHERE opened_at >= $start AND opened_at < $end
"""


def ingested_events(
    warehouse_path: Path, start: dt.datetime, end: dt.datetime, production: frozenset[str]
) -> tuple[list[DeploymentEvent], list[IncidentEvent]]:
    """Events pushed in with `scorecard ingest`, only the window's (set-based in DuckDB, see :class:`_Window`)."""
    if not warehouse_path.exists():
        return [], []
    params = {"start": start, "end": end, "production": sorted(production)}
    with warehouse.read_only(warehouse_path, doing="reading ingested events") as con:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if not {"deployment_events", "incident_events"} <= tables:
            return [], []
        # Validated when ingested: construct without validating again (a million events a run adds up).
        deploys = [
            DeploymentEvent.model_construct(service=s, environment=e, sha=sha, deployed_at=at, status=st)
            for s, e, sha, at, st in con.execute(_WINDOW_DEPLOYS_SQL, params).fetchall()
        ]
        incidents = [
            IncidentEvent.model_construct(service=s, opened_at=o, resolved_at=r, root_cause_sha=c)
            for s, o, r, c in con.execute(_WINDOW_INCIDENTS_SQL, {"start": start, "end": end}).fetchall()
        ]
    return deploys, incidents


def load_events(
    config: ScorecardConfig,
    ingested: tuple[list[DeploymentEvent], list[IncidentEvent]] | None = None,
    *,
    warehouse_path: Path | None = None,
    as_of: dt.date | None = None,
) -> Events:
    """Events from the configured files plus those pushed in with `scorecard ingest`.

    With ``as_of``, only the events that snapshot's metrics read are kept
    (see :func:`event_window`), so memory stays bounded however many
    accumulate; a bad line is a problem row and the run goes on.
    """
    out = Events()
    now = dt.datetime.now(dt.UTC)
    production = frozenset(e.lower() for e in config.sources.delivery.production_environments)
    window = _Window(*event_window(as_of), production) if as_of is not None else None
    for kind, paths in (("deployments", config.sources.delivery.deployments), ("incidents", config.sources.delivery.incidents)):
        for path in paths:
            path = config.resolve(path)
            read = EventFile()
            items = 0
            for event in iter_events(path, kind, read):  # type: ignore[arg-type]
                items += 1
                if window is not None:
                    window.add(event)
                else:
                    getattr(out, kind).append(event)
            state = "error" if read.refused else ("partial" if read.problems else "ok")
            out.status.append(_status(kind, path.name, state, "; ".join(read.problems[:3]) or None, now, items))
            out.problems.extend({"source": kind, "target": path.name, "path": path.name, "reason": p} for p in read.problems)
    if window is not None:
        out.deployments, out.incidents = window.result()
        if warehouse_path is not None:
            deploys, incidents = ingested_events(warehouse_path, window.start, window.end, production)
            out.deployments.extend(deploys)
            out.incidents.extend(incidents)
    if ingested:
        out.deployments.extend(ingested[0])
        out.incidents.extend(ingested[1])
    return out


# ----------------------------------------------------------------- evidence


def delivery_metrics(
    records: list[ServiceRecord], crawls: list[RepoCrawl], events: Events, config: ScorecardConfig, as_of: dt.date,
    clusters: list[ClusterCrawl] | None = None,
) -> pd.DataFrame:
    by_repo = {c.facts.repo: c for c in crawls}
    until = dlv.window_end(as_of)
    production = frozenset(e.lower() for e in config.sources.delivery.production_environments)
    # Rollout history of production clusters: deploys for services without CI events (issue 5).
    rollouts = rollout_deploys(clusters or [], JoinIndex(records), config.sources.delivery.rollouts, production, until)
    repo_deploys, repo_incidents = repo_events(records, crawls)
    deploys = dlv.production_deploys(
        {r.service: r.repo for r in records},
        [*events.deployments, *repo_deploys],
        {name: c.tags for name, c in by_repo.items()},
        config.sources.delivery.release_tag_pattern,
        production,
        until,
        rollouts,
    )
    by_service: dict[str, list[dlv.Deploy]] = {}
    for d in deploys:
        by_service.setdefault(d.service, []).append(d)
    jobs = [(rec, by_repo[rec.repo or ""]) for rec in records
            if rec.repo in by_repo and rec.service in by_service]

    def attribute(job: tuple[ServiceRecord, RepoCrawl]) -> list[tuple]:
        rec, crawl = job
        return [(rec.service, sha, committed, deploy.deployed_at)
                for sha, committed, deploy in dlv.attribute_changes(crawl.commits, by_service[rec.service], rec.path)]

    # Each service's change set is a `git rev-list` of its own: they wait on git, not on Python.
    with ThreadPoolExecutor(max_workers=crawl_workers()) as pool:
        changes = [change for found in pool.map(attribute, jobs) for change in found]
    incidents = [i for i in [*events.incidents, *repo_incidents] if i.opened_at.astimezone(dt.UTC) < until]
    return dlv.compute_metrics(deploys, changes, incidents, as_of)


def repo_events(records: list[ServiceRecord], crawls: list[RepoCrawl]) -> tuple[list[DeploymentEvent], list[IncidentEvent]]:
    """Deployments and incident issues a source recorded per repository (GitHub), for each service it holds.

    GitHub records deploys per repository, so every service of a monorepo gets
    them; lead time still only counts commits touching the service's path.
    """
    services: dict[str, list[str]] = {}
    for rec in records:
        if rec.repo:
            services.setdefault(rec.repo, []).append(rec.service)
    deploys: list[DeploymentEvent] = []
    incidents: list[IncidentEvent] = []
    for crawl in crawls:
        if not isinstance(crawl, GitHubRepoCrawl):
            continue
        for service in services.get(crawl.facts.repo, []):
            deploys.extend(
                DeploymentEvent(service=service, environment=d.environment, sha=d.sha, deployed_at=d.deployed_at,
                                status=d.status)
                for d in crawl.deployments or []
            )
            incidents.extend(
                IncidentEvent(service=service, opened_at=i.opened_at, resolved_at=i.resolved_at)
                for i in crawl.incidents or []
            )
    return deploys, incidents


def assemble_evidence(
    records: list[ServiceRecord],
    crawls: list[RepoCrawl],
    clusters: list[ClusterCrawl] | None,
    metrics: pd.DataFrame,
    as_of: dt.date,
    last_good: dict[str, LastGoodCrawl] | None = None,
) -> list[ServiceEvidence]:
    index: ClusterIndex | None = index_clusters(clusters, records) if clusters is not None else None
    evidence = build_evidence(
        records, {c.facts.repo: c.facts for c in crawls}, index, dlv.metrics_by_service(metrics), as_of
    )
    if clusters is not None:
        mark_failed_clusters(evidence, clusters, last_good or {})
    return evidence


# ------------------------------------------------------- failed clusters (issue 5)


@dataclass(frozen=True)
class LastGoodCrawl:
    """What the warehouse remembers of a cluster's last successful crawl."""

    at: dt.datetime | None
    services: frozenset[str] | None  # services with workloads there then; None: never crawled well


def last_good_crawls(warehouse_path: Path, clusters: list[ClusterCrawl]) -> dict[str, LastGoodCrawl]:
    """For each failed cluster: when it last crawled well and which services ran on it then."""
    failed = [c.cluster for c in clusters if c.error]
    if not failed or not warehouse_path.exists():
        return {}
    out: dict[str, LastGoodCrawl] = {}
    with warehouse.read_only(warehouse_path) as con:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if not {"source_status", "workloads"} <= tables:
            return {}
        for name in failed:
            at, snapshot = con.execute(
                """SELECT max(last_success_at), max(snapshot) FILTER (WHERE status IN ('ok', 'partial'))
                   FROM source_status WHERE source = 'cluster' AND target = ?""",
                [name],
            ).fetchone()
            services = None
            if snapshot is not None:
                rows = con.execute(
                    """SELECT DISTINCT service FROM workloads
                       WHERE snapshot = ? AND source = 'cluster' AND cluster = ? AND service IS NOT NULL""",
                    [snapshot, name],
                ).fetchall()
                services = frozenset(r[0] for r in rows)
            out[name] = LastGoodCrawl(at, services)
    return out


def mark_failed_clusters(
    evidence: list[ServiceEvidence], clusters: list[ClusterCrawl], last_good: dict[str, LastGoodCrawl]
) -> None:
    """Name, on each service, the failed clusters it may run on, with the time of their last good crawl.

    A service that ran on a failed cluster at its last good crawl has an
    unknown cluster state, not an empty one, so its workload checks are
    `unknown` rather than judged on its repo manifests or on nothing. A
    cluster never crawled well may run anything: it is named on every service
    no healthy cluster accounts for.
    """
    failed = [c for c in clusters if c.error]
    if not failed:
        return
    for ev in evidence:
        errors = []
        for crawl in failed:
            known = last_good.get(crawl.cluster)
            if known is not None and known.services is not None:
                if ev.service not in known.services:
                    continue
            elif ev.cluster_workloads:
                continue
            when = f"last good crawl {known.at:%Y-%m-%d %H:%M} UTC" if known and known.at else "never crawled successfully"
            errors.append(f"{crawl.cluster} ({crawl.error}; {when})")
        ev.cluster_errors = errors
        if errors and ev.cluster_workloads is None:
            ev.cluster_workloads = []


# ------------------------------------------------------------------- checks


def evaluate_checks(evidence: list[ServiceEvidence], ctx: CheckContext, progress: Progress = _no_progress) -> pd.DataFrame:
    """Every check on every service: one row per (service, check)."""
    checks = all_checks()
    names = ["service", "team", "check_id", "category", "status", "detail", "remediation", "snippet", "params"]
    columns: list[list] = [[] for _ in names]  # column lists: a frame from lists is cheaper than from tuples
    service, team, check_id, category, status, detail, remediation, snippet, params = columns
    total = len(evidence)
    step = max(1, total // 20)
    for i, ev in enumerate(evidence, start=1):
        for chk in checks:
            f = evaluate(chk, ev, ctx)
            service.append(ev.service)
            team.append(ev.team)
            check_id.append(chk.id)
            category.append(chk.category)
            status.append(f.status.value)
            detail.append(f.detail)
            remediation.append(f.remediation)
            snippet.append(f.snippet)
            params.append(f.params)  # kept as dicts here; stored as JSON (params_json) when written
        if i % step == 0 or i == total:
            progress("evaluate checks", i, total)
    return pd.DataFrame(dict(zip(names, columns, strict=True)), columns=names)


def stored_results(results: pd.DataFrame) -> pd.DataFrame:
    """check_results as stored: each finding's params as a JSON object (NULL when empty), and its
    status group under the default policy (for checks a scorecard leaves out; scorecard_results has
    each scorecard's own)."""
    out = results.copy()
    out["params"] = [json.dumps(p, sort_keys=True, default=str) if p else None for p in results["params"]]
    out["status_group"] = out["status"].map(policy.DEFAULT.group)
    return out


def catalogue_frame(doc_base_url: str) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"check_id": c.id, "title": c.title, "category": c.category, "level": c.level, "weight": c.weight,
             "rationale": c.rationale, "remediation": c.remediation, "doc_url": c.doc_url(doc_base_url)}
            for c in all_checks()
        ]
    )


def services_frame(records: list[ServiceRecord], evidence: list[ServiceEvidence]) -> pd.DataFrame:
    ev_by = {e.service: e for e in evidence}
    rows = []
    for r in records:
        ev = ev_by.get(r.service)
        owners = ev.codeowners_owners if ev else None
        rows.append(
            {"service": r.service, "team": r.team, "repo": r.repo, "path": r.path, "identity_rule": r.identity_rule,
             "owner_source": r.owner_source, "lifecycle": r.lifecycle, "system": r.system, "type": r.type,
             "repo_error": ev.repo_error if ev else None, "codeowners": ", ".join(owners) if owners else None,
             "identity_detail": r.identity_detail}
        )
    return pd.DataFrame(rows, columns=warehouse.columns("services")[1:])


WORKLOAD_COLUMNS = ["source", "cluster", "environment", "namespace", "kind", "name", "service", "join_label",
                    "replicas", "containers", "images", "repo", "file", "also_in"]


def workloads_frame(
    evidence: list[ServiceEvidence], clusters: list[ClusterCrawl] | None, records: list[ServiceRecord],
    crawls: list[RepoCrawl] | None = None,
) -> pd.DataFrame:
    """Every workload seen, the service it joined and by which rule; orphans with service NULL."""
    rows = []
    join = JoinIndex(records)

    def row(wl, source, service, rule, repo=None):
        return {
            "source": source, "cluster": wl.cluster, "environment": wl.environment, "namespace": wl.namespace,
            "kind": wl.kind, "name": wl.name, "service": service, "join_label": rule,
            "replicas": wl.replicas, "containers": len(wl.containers),
            "images": ", ".join(sorted({c.image or "" for c in wl.containers if not c.init})),
            "repo": repo, "file": wl.file, "also_in": ", ".join(wl.also_in) or None,
        }

    for ev in evidence:
        for wl in ev.cluster_workloads or []:
            matched = join.workload(wl)
            rows.append(row(wl, "cluster", ev.service, matched[1] if matched else None))
    if clusters:
        for wl, label in orphan_workloads(index_clusters(clusters, records)):
            rows.append(row(wl, "cluster", None, label))
    by_repo: dict[str, list[ServiceRecord]] = {}
    for r in records:
        if r.repo:
            by_repo.setdefault(r.repo, []).append(r)
    for crawl in crawls or []:
        facts = crawl.facts
        if facts.error or facts.archived:
            continue
        joined = join_repo_workloads(facts, by_repo.get(facts.repo, []))
        for service, pairs in joined.by_service.items():
            rows.extend(row(wl, "repo", service, rule, facts.repo) for wl, rule in pairs)
        rows.extend(row(wl, "repo", None, None, facts.repo) for wl in joined.orphans)
        rows.extend(_chart_rows(facts, by_repo.get(facts.repo, [])))
    return pd.DataFrame(rows, columns=WORKLOAD_COLUMNS)


def _chart_rows(facts: RepoFacts, records: list[ServiceRecord]) -> list[dict]:
    """Workload kinds a Helm chart's templates declare: seen, not judged (templates are not
    rendered), listed under the service whose folder holds the chart."""
    rows = []
    for chart in facts.helm_charts:
        folder = posixpath.dirname(chart.file)
        owner = max((r for r in records if not r.path or folder == r.path or folder.startswith(r.path + "/")),
                    key=lambda r: len(r.path), default=None)
        for kind in chart.template_kinds:
            if kind in WORKLOAD_KINDS:
                rows.append({
                    "source": "helm-chart", "cluster": None, "environment": None, "namespace": None, "kind": kind,
                    "name": chart.name, "service": owner.service if owner else None,
                    "join_label": "path" if owner else None, "replicas": chart.values.replica_count if chart.values else None,
                    "containers": None, "images": chart.values.image if chart.values else None,
                    "repo": facts.repo, "file": posixpath.join(folder, "templates"), "also_in": None,
                })
    return rows


# Which check says a service is on a golden path (its passing finding carries the version).
GOLDEN_PATH_CHECKS = {
    "template": "uses_service_template",
    "ci_workflow": "uses_shared_ci_workflow",
    "helm_chart": "uses_base_helm_chart",
    "terraform": "uses_standard_terraform_modules",
}
ADOPTION_COLUMNS = ["service", "team", "golden_path", "on_path", "version", "latest", "releases_behind", "adoption"]


def adoption_frame(results: pd.DataFrame, ctx: CheckContext) -> pd.DataFrame:
    """Per service and golden path, read from the `uses_*` findings: adopted, not adopted
    or unknown (checks/policy.py), and the version the finding recorded."""
    paths = {"template": ctx.template, "ci_workflow": ctx.ci_workflow, "helm_chart": ctx.helm_chart,
             "terraform": ctx.terraform}
    by_check = {check: name for name, check in GOLDEN_PATH_CHECKS.items() if paths[name] is not None}
    found = results[results["check_id"].isin(list(by_check))]
    rows = []
    for service, team, check_id, status, params in zip(
        found["service"], found["team"], found["check_id"], found["status"], found["params"], strict=True
    ):
        state = policy.adoption_state(status)
        if state is None:
            continue
        params = params or {}
        name = by_check[check_id]
        rows.append({
            "service": service, "team": team, "golden_path": name,
            "on_path": {policy.ADOPTED: True, policy.NOT_ADOPTED: False}.get(state),
            "version": params.get("version"), "latest": paths[name].latest,
            "releases_behind": params.get("releases_behind"), "adoption": state,
        })
    return pd.DataFrame(rows, columns=ADOPTION_COLUMNS).astype({"releases_behind": "Int64"})


_ADOPTION_SUMMARY = """
WITH base AS (
    SELECT coalesce(team, '(no owner)') AS team, golden_path, adoption, releases_behind, version, latest
    FROM adoption
    UNION ALL
    SELECT '*' AS team, golden_path, adoption, releases_behind, version, latest FROM adoption
)
SELECT team, golden_path, count(*) AS services,
       count(*) FILTER (WHERE adoption = 'adopted') AS adopted,
       count(*) FILTER (WHERE adoption = 'not_adopted') AS not_adopted,
       count(*) FILTER (WHERE adoption = 'unknown') AS unknown,
       count(*) FILTER (WHERE adoption = 'adopted' AND coalesce(releases_behind = 0, version = latest, false))
           AS on_latest,
       count(*) FILTER (WHERE adoption = 'adopted' AND coalesce(releases_behind > 0, version <> latest, false))
           AS behind_latest,
       -- checks/policy.py: the denominator is the services whose adoption is known
       adopted / nullif(adopted + not_adopted, 0) AS adoption_share,
       on_latest / nullif(adopted + not_adopted, 0) AS on_latest_share
FROM base GROUP BY ALL ORDER BY team, golden_path
"""


def adoption_summary(adoption: pd.DataFrame) -> pd.DataFrame:
    """Per team ('*' = the organisation) and golden path: adopted, not, unknown, and the shares."""
    con = duckdb.connect()
    try:
        con.register("adoption", adoption)
        return con.execute(_ADOPTION_SUMMARY).df()
    finally:
        con.close()


def dora_frame(metrics: pd.DataFrame, records: list[ServiceRecord]) -> pd.DataFrame:
    teams = {r.service: r.team for r in records}
    out = metrics.copy()
    out["team"] = out["service"].map(teams)
    return out


def team_dora(dora: pd.DataFrame) -> pd.DataFrame:
    """Per team ('*' = the organisation): medians over its services, tiered on the median by the
    same tier rules as each service (checks/dora.py)."""
    columns = ["team", "services", "lead_time_p50_hours", "deploy_days_per_week", "change_failure_rate",
               "time_to_restore_hours"]
    if dora.empty:
        return pd.DataFrame(columns=[*columns, *dlv.TIER_COLUMNS])
    both = pd.concat([dora.assign(team=dora["team"].fillna("(no owner)")), dora.assign(team="*")])
    out = both.groupby("team").agg(
        services=("service", "count"), lead_time_p50_hours=("lead_time_p50_hours", "median"),
        deploy_days_per_week=("deploy_days_per_week", "median"), change_failure_rate=("change_failure_rate", "median"),
        time_to_restore_hours=("time_to_restore_hours", "median"),
    ).reset_index()
    return dlv.add_tiers(out)


def problems_frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["source", "target", "path", "reason"])


def identity_problems(problems: list[Problem]) -> list[dict]:
    return [{"source": "identity", "target": p.path, "path": p.path, "reason": p.reason} for p in problems]


def resolve(crawls: list[RepoCrawl], config: ScorecardConfig, as_of: dt.datetime | None) -> tuple[list[ServiceRecord], list[Problem]]:
    present = [
        c.facts for c in crawls
        if not (as_of is not None and c.facts.error and c.facts.error.startswith("no commits on"))
    ]
    return resolve_services(present, config)


def config_path_for_display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
