"""The stages of a scoring run as plain functions (the Dagster assets call them).

Crawling, identity, evidence and check evaluation live here; the events a
snapshot reads are loaded by pipelines/event_window.py and the published
tables built by pipelines/frames.py (pipelines/snapshot.py assembles them).

Kept free of Dagster so the CLI's backfill, the benchmark and the tests can
drive exactly the same code, and each stage is testable on its own.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import gc
import os
import queue
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from checks.catalogue import all_checks
from checks.evidence import Problem, ServiceEvidence
from checks.model import CheckContext, evaluate
from pipelines import crossplane, secrets, warehouse
from pipelines import delivery as dlv
from pipelines.config import ScorecardConfig
from pipelines.event_window import Events, load_events  # noqa: F401  (a stage: assets and tests call stages.load_events)
from pipelines.evidence import (
    ClusterIndex,
    JoinIndex,
    build_evidence,
    index_clusters,
)
from pipelines.evidence_gitops import GitOpsCrawl, attach_gitops, link_gitops
from pipelines.facts import K8sInventory, RepoFacts
from pipelines.frames import source_status_row
from pipelines.identity import ServiceRecord, resolve_services
from pipelines.portal_identity import known_teams as portal_teams
from pipelines.shards import Shard
from pipelines.sources.backstage import BackstageSource, PortalCatalog
from pipelines.sources.base import ClusterCrawl, ClusterSource, RepoCrawl, RepoSource
from pipelines.sources.cluster_snapshot import ClusterSnapshotSource
from pipelines.sources.events import DeploymentEvent, IncidentEvent
from pipelines.sources.github_state import GitHubRepoCrawl, RunReport
from pipelines.sources.gitops_deploys import gitops_deploys, merge_cluster_deploys
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
    portals: list[PortalCatalog] = field(default_factory=list)  # developer portals' catalogs (identity)


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
        from pipelines.sources.github import (
            GitHubSource,  # late: PyGithub only loads when configured
        )

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
    budget_seconds: float | None = None, shard: Shard | None = None,
) -> RepoCrawlResult:
    """Crawl every repo of every source concurrently; a failing repo is recorded, not raised.

    ``shard``: only the repos of that shard (``pipelines.shards``); the others are another worker's.

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
            jobs.extend((source, name) for name in source.repo_names() if shard is None or shard.owns(name))
        except Exception as exc:  # noqa: BLE001 - one unreadable source must not stop the others
            reason = secrets.redact(f"cannot list repositories: {exc}")
            status.append(source_status_row(_kind(source), source.name, "error", reason, None, 0))
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
        status.append(source_status_row(kind, f.repo, state, f.error, crawl.crawled_at, len(f.files)))
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


def repo_shard_rows(result: RepoCrawlResult) -> list[dict]:
    """One shard's crawl as rows of its facts file (``pipelines.shards``): a row per repo, one for the shard."""
    state = {row["target"]: row for row in result.source_status}
    rows = [{"kind": "repo", "name": c.facts.repo, "status": state.get(c.facts.repo, {}).get("status", "absent"),
             "error": c.facts.error, "crawled_at": c.crawled_at, "items": len(c.facts.files), "payload": c}
            for c in result.crawls]
    repos = {c.facts.repo for c in result.crawls}
    shard = {"source_status": [r for r in result.source_status if r["target"] not in repos],
             "repo_status": [r for r in result.source_status if r["target"] in repos],
             "problems": result.problems, "reports": result.reports, "known_teams": result.known_teams}
    return [*rows, {"kind": "shard", "name": "", "status": None, "error": None, "crawled_at": None, "items": len(rows),
                    "payload": shard}]


def merge_repo_shards(rows: list[tuple[str, str, object]]) -> RepoCrawlResult:
    """The shards' crawls of one date as the one crawl a single process would have made.

    Same order as :func:`crawl_repos` (repos by name, then each source's own
    row); a source every shard listed reports once, its costs added up.
    """
    crawls = sorted((p for kind, _, p in rows if kind == "repo"), key=lambda c: c.facts.repo)
    shards = [p for kind, _, p in rows if kind == "shard"]
    repo_status = sorted((r for s in shards for r in s["repo_status"]), key=lambda r: r["target"])
    by_source: dict[tuple, list[dict]] = {}
    for s in shards:
        for row in s["source_status"]:
            by_source.setdefault((row["source"], row["target"]), []).append(row)
    reports_by: dict[str, list[dict]] = {}
    for s in shards:
        for report in s["reports"]:
            reports_by.setdefault(report["source"], []).append(report)
    reports = [RunReport.merged(group) for group in reports_by.values()]
    merged = {r["source"]: r for r in reports}
    source_status = []
    for (_, target), group in by_source.items():
        row = dict(group[0])
        if target in merged:  # an API source: its row is its merged report
            report = merged[target]
            state = report.get("status") or ("partial" if report.get("deferred") or report.get("notes") else "ok")
            row.update(status=state, reason=report.get("summary"), items=report.get("repos", 0))
        source_status.append(row)
    problems = sorted((p for s in shards for p in s["problems"]), key=lambda p: p["target"])
    teams = sorted({t for s in shards for t in s["known_teams"]})
    return RepoCrawlResult(crawls, [*repo_status, *source_status], problems, reports, teams)


def cluster_shard_rows(crawls: list[ClusterCrawl]) -> list[dict]:
    return [{"kind": "cluster", "name": c.cluster, "status": "error" if c.error else ("partial" if c.partial else "ok"),
             "error": c.error, "crawled_at": c.crawled_at, "items": len(c.inventory.workloads), "payload": c}
            for c in crawls]


def merge_cluster_shards(rows: list[tuple[str, str, object]], config: ScorecardConfig) -> list[ClusterCrawl]:
    """The shards' cluster crawls in config order, as :func:`crawl_clusters` returns them."""
    order = {s.cluster: i for i, s in enumerate(cluster_sources(config))}
    return sorted((p for kind, _, p in rows if kind == "cluster"), key=lambda c: order.get(c.cluster, len(order)))


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
        status.append(source_status_row(_kind(source), source.name, state, report.get("summary"), now, report.get("repos", 0)))
    return reports, sorted(teams)


def crawl_portals(config: ScorecardConfig, progress: Progress = _no_progress) -> list[PortalCatalog]:
    """Every configured developer portal (`sources.backstage`), in config order; a failed one carries `error`."""
    default_state = config.warehouse_path.parent / "backstage-state"
    out = []
    for cfg in config.sources.backstage:
        state = config.resolve(cfg.state_dir) if cfg.state_dir else default_state
        source = BackstageSource(cfg, base_dir=config.base_dir, state_dir=state)
        try:
            out.append(source.crawl(progress))
        except Exception as exc:  # noqa: BLE001 - a crawler bug on one portal is that portal's error
            # The type only: an unexpected exception's text is not known to be free of the token.
            out.append(PortalCatalog(cfg.name, source.location, error=f"crawler failed: {type(exc).__name__}",
                                     crawled_at=dt.datetime.now(dt.UTC)))
    return out


def add_portals(
    result: RepoCrawlResult, portals: list[PortalCatalog], config: ScorecardConfig, historical: bool = False
) -> RepoCrawlResult:
    """The portals' catalogs on a date's crawl: their status rows, and their Groups as known teams.

    A portal records no history: a past date uses today's catalog (as it uses
    today's config) for identity, but gets no status row, since nothing was
    read as of that date.
    """
    status = [] if historical else [
        source_status_row("backstage", p.source, "error" if p.error else "ok", _portal_reason(p), p.crawled_at, p.items)
        for p in portals
    ]
    teams = sorted({*result.known_teams, *portal_teams(portals, config.team_aliases())})
    return dataclasses.replace(result, source_status=[*result.source_status, *status], known_teams=teams,
                               portals=list(portals))


def _portal_reason(p: PortalCatalog) -> str:
    if p.error and p.stale_since:
        return (f"{p.error}; its services and teams are those of the last good read "
                f"({p.stale_since:%Y-%m-%d %H:%M} UTC)")
    if p.error:
        return f"{p.error}; services come from the repositories' own catalog files this run"
    s = p.stats
    how = {"file": f"read from {p.location}", "legacy": "legacy /entities paging"}.get(s.get("mode", ""), "by-query")
    reuse = f", {s['reused']} unchanged reused" if s.get("reused") else ""
    return (f"{len(p.components)} components, {len(p.systems)} systems, {len(p.groups)} groups ({how}, "
            f"{s.get('requests', 0)} requests{reuse})")


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


def cluster_sources(config: ScorecardConfig) -> list[ClusterSource]:
    """Snapshot files and live clusters (`sources.kubernetes`), in config order."""
    snapshots: list[ClusterSource] = [
        ClusterSnapshotSource(config.resolve(snap.path), snap.cluster, snap.environment)
        for snap in config.sources.clusters
    ]
    live: list[ClusterSource] = [KubernetesSource.from_config(c, config.resolve) for c in config.sources.kubernetes]
    return snapshots + live


def crawl_clusters(
    config: ScorecardConfig, progress: Progress = _no_progress, sources: list[ClusterSource] | None = None,
    shard: Shard | None = None,
) -> list[ClusterCrawl]:
    """Every cluster concurrently (each waits on its own API server); one failing is its own error.

    ``shard``: only the clusters of that shard (``pipelines.shards``).
    """
    sources = cluster_sources(config) if sources is None else sources
    if shard is not None:
        sources = [s for s in sources if shard.owns(s.cluster)]
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
            row = source_status_row("cluster", c.cluster, "ok", "; ".join(c.partial), c.crawled_at, n)
            status.append({**row, "status": "partial"})
        else:
            status.append(source_status_row("cluster", c.cluster, "error" if c.error else "ok", c.error, c.crawled_at, n))
        problems.extend(
            {"source": "cluster", "target": c.cluster, "path": p.path, "reason": p.reason} for p in c.inventory.problems
        )
    return status, problems


def gitops_api_status(crawls: list[GitOpsCrawl]) -> tuple[list[dict], list[dict]]:
    """source_status rows (source "argocd") and problems of the Argo CD API crawls."""
    status, problems = [], []
    for c in crawls:
        state = "error" if c.error else ("partial" if c.problems else "ok")
        row = source_status_row("argocd", c.source, "error" if c.error else "ok", c.error or "; ".join(c.problems[:3]) or None,
                                c.crawled_at, len(c.apps))
        status.append({**row, "status": state})
        problems.extend({"source": "argocd", "target": c.source, "path": "/api/v1/applications", "reason": p}
                        for p in c.problems)
    return status, problems


# ----------------------------------------------------------------- evidence


def delivery_metrics(
    records: list[ServiceRecord], crawls: list[RepoCrawl], events: Events, config: ScorecardConfig, as_of: dt.date,
    clusters: list[ClusterCrawl] | None = None,
    gitops_crawls: list[GitOpsCrawl] = (),
) -> pd.DataFrame:
    by_repo = {c.facts.repo: c for c in crawls}
    until = dlv.window_end(as_of)
    production = frozenset(e.lower() for e in config.sources.delivery.production_environments)
    # Rollout history of production clusters: deploys for services without CI events (issue 5).
    rollouts = rollout_deploys(clusters or [], JoinIndex(records), config.sources.delivery.rollouts, production, until)
    # Argo CD / Flux history: the same sha seen there and as a ReplicaSet is one deploy (docs/gitops.md).
    rollouts = merge_cluster_deploys(rollouts, gitops_deploys(clusters or [], gitops_crawls, records, production, until))
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
    gitops_crawls: list[GitOpsCrawl] = (),  # Argo CD API servers (pipelines.sources.argocd)
) -> list[ServiceEvidence]:
    index: ClusterIndex | None = index_clusters(clusters, records) if clusters is not None else None
    evidence = build_evidence(
        records, {c.facts.repo: c.facts for c in crawls}, index, dlv.metrics_by_service(metrics), as_of
    )
    # Claims need every repo's and cluster's XRDs at once (pipelines/crossplane.py).
    crossplane.attach(evidence, records, (c.facts for c in crawls), clusters)
    if clusters is not None:
        mark_failed_clusters(evidence, clusters, last_good or {})
    links = link_gitops(records, {c.facts.repo: c.facts for c in crawls}, clusters, index, gitops_crawls)
    attach_gitops(evidence, links)
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


@contextlib.contextmanager
def _no_cyclic_gc():
    """The cyclic garbage collector off while checks run.

    Each finding allocates a few container objects, so collections ran every
    few hundred findings, and each older-generation pass walked everything
    the crawl holds: about a third of the evaluation time on the 1,000-repo
    org (58-69k evaluations/s with it, 94k without). Checks are pure and
    their results are freed by reference counting; any cycle made meanwhile
    (an exception's traceback) is collected once it is back on.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def evaluate_checks(evidence: list[ServiceEvidence], ctx: CheckContext, progress: Progress = _no_progress) -> pd.DataFrame:
    """Every check on every service: one row per (service, check)."""
    checks = [(chk, chk.id, chk.category) for chk in all_checks()]
    names = ["service", "team", "check_id", "category", "status", "detail", "remediation", "snippet", "params"]
    # One tuple per finding, turned into columns once at the end: nine appends per
    # evaluation were a tenth of the evaluation time. Params stay dicts here; they
    # are stored as JSON (params_json) when written.
    rows: list[tuple] = []
    add = rows.append
    total = len(evidence)
    step = max(1, total // 20)
    with _no_cyclic_gc():
        for i, ev in enumerate(evidence, start=1):
            service, team = ev.service, ev.team
            for chk, check_id, category in checks:
                f = evaluate(chk, ev, ctx)
                add((service, team, check_id, category, f.status.value, f.detail, f.remediation, f.snippet, f.params))
            if i % step == 0 or i == total:
                progress("evaluate checks", i, total)
    columns = [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in names]
    return pd.DataFrame(dict(zip(names, columns, strict=True)), columns=names)


def resolve(
    crawls: list[RepoCrawl], config: ScorecardConfig, as_of: dt.datetime | None, portals: list[PortalCatalog] = ()
) -> tuple[list[ServiceRecord], list[Problem]]:
    present = [
        c.facts for c in crawls
        if not (as_of is not None and c.facts.error and c.facts.error.startswith("no commits on"))
    ]
    # A past date: only components whose repository existed then (or that have none) were services.
    return resolve_services(present, config, portals, historical=as_of is not None)


def config_path_for_display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
