"""The stages of a scoring run as plain functions (the Dagster assets call them).

Kept free of Dagster so the CLI's backfill, the benchmark and the tests can
drive exactly the same code, and each stage is testable on its own.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from checks.catalogue import all_checks
from checks.evidence import Problem, RepoFacts, ServiceEvidence
from checks.model import CheckContext, Status, evaluate
from checks.golden_path import current_version
from checks.versions import releases_behind
from pipelines import delivery as dlv
from pipelines.config import ScorecardConfig
from pipelines.evidence import ClusterIndex, build_evidence, index_clusters, join_key, orphan_workloads
from pipelines.identity import ServiceRecord, resolve_services
from pipelines.sources.base import ClusterCrawl, RepoCrawl, RepoSource
from pipelines.sources.cluster_snapshot import ClusterSnapshotSource
from pipelines.sources.events import DeploymentEvent, IncidentEvent, read_events
from pipelines.sources.local_git import LocalGitSource

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


def repo_sources(config: ScorecardConfig) -> list[RepoSource]:
    cache = config.warehouse_path.parent / "crawl-cache"
    return [
        LocalGitSource(config.resolve(r.root), include=r.include, exclude=r.exclude, cache_dir=cache)
        for r in config.sources.repos
    ]


def crawl_repos(
    sources: list[RepoSource], as_of: dt.datetime | None, progress: Progress = _no_progress
) -> RepoCrawlResult:
    """Crawl every repo of every source concurrently; a failing repo is recorded, not raised."""
    crawls: list[RepoCrawl] = []
    status: list[dict] = []
    problems: list[dict] = []
    jobs: list[tuple[RepoSource, str]] = []
    for source in sources:
        try:
            jobs.extend((source, name) for name in source.repo_names())
        except Exception as exc:  # noqa: BLE001 - one unreadable source must not stop the others
            status.append(_status("git", source.name, "error", f"cannot list repositories: {exc}", None, 0))
    total = len(jobs)
    progress("crawl repos", 0, total)
    with ThreadPoolExecutor(max_workers=crawl_workers()) as pool:
        futures = {pool.submit(source.crawl, name, as_of): (source, name) for source, name in jobs}
        for done, future in enumerate(as_completed(futures), start=1):
            source, name = futures[future]
            try:
                crawl = future.result()
            except Exception as exc:  # noqa: BLE001 - a crawler bug on one repo is that repo's error
                crawl = RepoCrawl(RepoFacts(repo=name, location=name, error=f"crawler failed: {type(exc).__name__}: {exc}"))
            crawls.append(crawl)
            progress("crawl repos", done, total)
    crawls.sort(key=lambda c: c.facts.repo)
    for crawl in crawls:
        f = crawl.facts
        absent = as_of is not None and f.error is not None and f.error.startswith("no commits on")
        if absent:
            continue  # the repo did not exist yet at this date: not a failure
        status.append(
            _status("git", f.repo, "error" if f.error else "ok", f.error, crawl.crawled_at, len(f.files))
        )
        problems.extend({"source": "git", "target": f.repo, "path": p.path, "reason": p.reason} for p in f.problems)
    return RepoCrawlResult(crawls, status, problems)


def _status(source: str, target: str, status: str, reason: str | None, at: dt.datetime | None, items: int) -> dict:
    return {
        "source": source, "target": target, "status": status, "reason": reason,
        "crawled_at": at, "items": items, "last_success_at": at if status == "ok" else None,
    }


def crawl_clusters(config: ScorecardConfig, progress: Progress = _no_progress) -> list[ClusterCrawl]:
    out = []
    clusters = config.sources.clusters
    for i, snap in enumerate(clusters, start=1):
        source = ClusterSnapshotSource(config.resolve(snap.path), snap.cluster, snap.environment)
        out.append(source.crawl())
        progress("crawl clusters", i, len(clusters))
    return out


def cluster_status(crawls: list[ClusterCrawl]) -> tuple[list[dict], list[dict]]:
    status, problems = [], []
    for c in crawls:
        n = len(c.inventory.workloads)
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


def load_events(config: ScorecardConfig, ingested: tuple[list[DeploymentEvent], list[IncidentEvent]] | None = None) -> Events:
    """Events from the configured files plus those pushed in with `scorecard ingest`."""
    out = Events()
    now = dt.datetime.now(dt.UTC)
    for kind, paths in (("deployments", config.sources.delivery.deployments), ("incidents", config.sources.delivery.incidents)):
        for path in paths:
            path = config.resolve(path)
            read = read_events(path, kind)  # type: ignore[arg-type]
            items = read.deployments if kind == "deployments" else read.incidents
            getattr(out, kind).extend(items)
            missing = not path.is_file()
            out.status.append(
                _status(kind, path.name, "error" if missing else ("partial" if read.problems else "ok"),
                        "; ".join(read.problems[:3]) or None, now, len(items))
            )
            out.problems.extend({"source": kind, "target": path.name, "path": path.name, "reason": p} for p in read.problems)
    if ingested:
        out.deployments.extend(ingested[0])
        out.incidents.extend(ingested[1])
    return out


# ----------------------------------------------------------------- evidence


def delivery_metrics(
    records: list[ServiceRecord], crawls: list[RepoCrawl], events: Events, config: ScorecardConfig, as_of: dt.date
) -> pd.DataFrame:
    by_repo = {c.facts.repo: c for c in crawls}
    until = dlv.window_end(as_of)
    deploys = dlv.production_deploys(
        {r.service: r.repo for r in records},
        events.deployments,
        {name: c.tags for name, c in by_repo.items()},
        config.sources.delivery.release_tag_pattern,
        frozenset(e.lower() for e in config.sources.delivery.production_environments),
        until,
    )
    by_service: dict[str, list[dlv.Deploy]] = {}
    for d in deploys:
        by_service.setdefault(d.service, []).append(d)
    changes = []
    for rec in records:
        crawl = by_repo.get(rec.repo or "")
        if crawl is None or rec.service not in by_service:
            continue
        for sha, committed, deploy in dlv.attribute_changes(crawl.commits, by_service[rec.service], rec.path):
            changes.append((rec.service, sha, committed, deploy.deployed_at))
    incidents = [i for i in events.incidents if i.opened_at.astimezone(dt.UTC) < until]
    return dlv.compute_metrics(deploys, changes, incidents, as_of)


def assemble_evidence(
    records: list[ServiceRecord],
    crawls: list[RepoCrawl],
    clusters: list[ClusterCrawl] | None,
    metrics: pd.DataFrame,
    as_of: dt.date,
) -> list[ServiceEvidence]:
    index: ClusterIndex | None = index_clusters(clusters) if clusters is not None else None
    return build_evidence(
        records, {c.facts.repo: c.facts for c in crawls}, index, dlv.metrics_by_service(metrics), as_of
    )


# ------------------------------------------------------------------- checks


def evaluate_checks(evidence: list[ServiceEvidence], ctx: CheckContext, progress: Progress = _no_progress) -> pd.DataFrame:
    """Every check on every service: one row per (service, check)."""
    checks = all_checks()
    rows: list[tuple] = []
    total = len(evidence)
    step = max(1, total // 20)
    for i, ev in enumerate(evidence, start=1):
        for chk in checks:
            f = evaluate(chk, ev, ctx)
            rows.append((ev.service, ev.team, chk.id, chk.category, f.status.value, f.detail, f.remediation, f.snippet))
        if i % step == 0 or i == total:
            progress("evaluate checks", i, total)
    return pd.DataFrame(
        rows, columns=["service", "team", "check_id", "category", "status", "detail", "remediation", "snippet"]
    )


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
             "repo_error": ev.repo_error if ev else None, "codeowners": ", ".join(owners) if owners else None}
        )
    return pd.DataFrame(rows)


def workloads_frame(evidence: list[ServiceEvidence], clusters: list[ClusterCrawl] | None, records: list[ServiceRecord]) -> pd.DataFrame:
    rows = []

    def row(wl, source, service, label):
        return {
            "source": source, "cluster": wl.cluster, "environment": wl.environment, "namespace": wl.namespace,
            "kind": wl.kind, "name": wl.name, "service": service, "join_label": label,
            "replicas": wl.replicas, "containers": len([c for c in wl.containers if not c.init]),
            "images": ", ".join(sorted({c.image or "" for c in wl.containers if not c.init})),
        }

    for ev in evidence:
        for wl in ev.cluster_workloads or []:
            key = join_key(wl)
            rows.append(row(wl, "cluster", ev.service, key[0] if key else None))
        for wl in ev.repo_workloads:
            rows.append(row(wl, "repo", ev.service, None))
    if clusters:
        for wl, label in orphan_workloads(clusters, records):
            rows.append(row(wl, "cluster", None, label))
    return pd.DataFrame(rows, columns=["source", "cluster", "environment", "namespace", "kind", "name", "service",
                                       "join_label", "replicas", "containers", "images"])


def adoption_frame(evidence: list[ServiceEvidence], results: pd.DataFrame, ctx: CheckContext) -> pd.DataFrame:
    """Per service and golden path: on it or not, which version, how far behind."""
    status = results.set_index(["service", "check_id"])["status"]
    uses = {
        "template": "uses_service_template",
        "ci_workflow": "uses_shared_ci_workflow",
        "helm_chart": "uses_base_helm_chart",
        "terraform": "uses_standard_terraform_modules",
    }
    paths = {"template": ctx.template, "ci_workflow": ctx.ci_workflow, "helm_chart": ctx.helm_chart, "terraform": ctx.terraform}
    rows = []
    for ev in evidence:
        for name, check_id in uses.items():
            gp = paths[name]
            if gp is None:
                continue
            st = status.get((ev.service, check_id))
            on = {"pass": True, "warn": True, "waived": None, "fail": False}.get(st) if st else None
            if st == Status.NOT_APPLICABLE:
                continue
            version = current_version(ev, name, gp) if on else None
            rows.append(
                {"service": ev.service, "team": ev.team, "golden_path": name, "on_path": on, "version": version,
                 "latest": gp.latest,
                 "releases_behind": releases_behind(version, gp.releases, gp.latest) if version else None}
            )
    return pd.DataFrame(rows, columns=["service", "team", "golden_path", "on_path", "version", "latest", "releases_behind"])


def dora_frame(metrics: pd.DataFrame, records: list[ServiceRecord]) -> pd.DataFrame:
    teams = {r.service: r.team for r in records}
    out = metrics.copy()
    out["team"] = out["service"].map(teams)
    return out


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
