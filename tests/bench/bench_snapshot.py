"""A 10,000-service history of real pipeline output for the dashboard benchmark.

Crawling a 10,000-service organisation 13 times would take hours, so:

1. a demo organisation with 40 teams (``pipelines.demo``) goes through the
   real stages once per weekly date (crawl at that date's crawl point,
   services, DORA metrics, evidence), so each date has its own evidence;
2. its services are replicated into ``n_services``: copy ``k`` of
   ``payments-api`` is ``payments-api-0042`` in repository
   ``<repo>-0042``, owned by the same team, its manifests' workloads joining
   it by the original name (an alias); copy 0 keeps the real names, so the
   config's waivers still apply to it;
3. each copy lags its source by 0 to 3 weeks (its repository's evidence is
   taken from that many weeks earlier; cluster state and delivery metrics are
   the date's own), so copies adopt, regress and move level at different
   times, the same way on every build;
4. for each date the real checks (all 40), waivers, scoring,
   ``pipelines.snapshot.snapshot_frames`` and the warehouse's stage and
   promote run on the replicated evidence (``tests/dashboard/
   snapshot_fixture.py``), and the warehouse is published once.

The published file is cached in the work directory under a digest of the
code that builds it (every module of ``pipelines/`` and ``checks/`` and
these builders), so a re-run with unchanged code reuses it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipelines import stages, warehouse
from pipelines.config import load_config
from pipelines.sources.base import RepoCrawl
from tests.dashboard.snapshot_fixture import END, StageOutputs, demo_org, run_stages, store, weekly

ROOT = Path(__file__).resolve().parents[2]
CODE = [ROOT / "pipelines", ROOT / "checks", Path(__file__), ROOT / "tests" / "dashboard" / "snapshot_fixture.py"]
MAX_LAG_WEEKS = 3


@dataclass(frozen=True)
class BuiltHistory:
    serving: Path
    build_seconds: float | None  # None: served from the cache
    rows: dict[str, int]  # rows per table over all snapshots
    snapshots: int
    services: int  # in the latest snapshot
    checks: int  # distinct checks evaluated


def code_digest(**params: object) -> str:
    digest = hashlib.sha256(repr(sorted(params.items())).encode())
    for root in CODE:
        for path in sorted(root.rglob("*.py")) if root.is_dir() else [root]:
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cached_history(workdir: Path, n_services: int = 10_000, weeks: int = 12, repos: int = 60,
                   teams: int = 40) -> BuiltHistory:
    """The published file for these parameters: from the cache, or built (and cached) now."""
    key = code_digest(n_services=n_services, weeks=weeks, repos=repos, teams=teams)
    served = workdir / f"dashboard-{n_services}-{key}.duckdb"
    build_seconds = None
    if not served.exists():
        for stale in workdir.glob(f"dashboard-{n_services}-*.duckdb"):
            stale.unlink()
        scratch = workdir / f"build-{key}"
        shutil.rmtree(scratch, ignore_errors=True)
        started = time.monotonic()
        built = build_history(scratch, n_services, weeks, repos, teams)
        build_seconds = time.monotonic() - started
        shutil.move(built, served)
        shutil.rmtree(scratch, ignore_errors=True)
    return _describe(served, build_seconds)


def build_history(root: Path, n_services: int, weeks: int, repos: int, teams: int) -> Path:
    config_path = demo_org(root, repos=repos, teams=teams)
    config = load_config(config_path)
    dates = weekly(END, weeks)
    sources = [run_stages(config, day, today=END) for day in dates]
    with warehouse.connect(config.warehouse_path) as con:
        for k, day in enumerate(dates):
            store(con, config, config_path, replicate(sources, k, n_services), "run" if day == END else "backfill")
    return warehouse.publish(config.warehouse_path, config.serving_path)


def _suffix(copy: int) -> str:
    return f"-{copy:04d}" if copy else ""


def _lag(copy: int, service: str) -> int:
    """Weeks a copy's repository evidence lags its source's: the same on every build."""
    return int(hashlib.sha256(f"{copy}/{service}".encode()).hexdigest(), 16) % (MAX_LAG_WEEKS + 1)


def replicate(sources: list[StageOutputs], k: int, n_services: int) -> StageOutputs:
    """Date ``k``'s stage outputs for ``n_services`` services copied from the demo's."""
    now = sources[k]
    evidence_at = [{ev.service: ev for ev in s.evidence} for s in sources]
    crawls_at = [{c.facts.repo: c for c in s.repo_crawl.crawls} for s in sources]
    records, evidence, crawls, status, problems, metrics = [], [], {}, [], [], []
    copy = 0
    while len(records) < n_services:
        suffix = _suffix(copy)
        for rec in now.records:
            if len(records) == n_services:
                break
            then = max(0, k - _lag(copy, rec.service))
            source = evidence_at[then].get(rec.service) or evidence_at[k][rec.service]
            current = evidence_at[k][rec.service]
            repo = f"{rec.repo}{suffix}" if rec.repo else None
            name = f"{rec.service}{suffix}"
            records.append(dataclasses.replace(rec, service=name, repo=repo, aliases=(*rec.aliases, rec.service)))
            evidence.append(dataclasses.replace(
                source, service=name, repo=repo, as_of=now.as_of, delivery=current.delivery,
                cluster_workloads=current.cluster_workloads, cluster_objects=current.cluster_objects,
                cluster_errors=current.cluster_errors, cluster_unreadable=current.cluster_unreadable,
            ))
            if rec.repo and repo not in crawls:
                crawl = crawls_at[then].get(rec.repo) or crawls_at[k][rec.repo]
                crawls[repo] = RepoCrawl(dataclasses.replace(crawl.facts, repo=repo), crawl.commits, crawl.tags,
                                         crawl.crawled_at, crawl.reused)
                status += [{**s, "target": repo} for s in sources[then].repo_crawl.source_status
                           if s["target"] == rec.repo]
                problems += [{**p, "target": repo} for p in sources[then].repo_crawl.problems
                             if p["target"] == rec.repo]
        metrics.append(now.metrics.assign(service=now.metrics["service"] + suffix))
        copy += 1
    names = {r.service for r in records}
    repo_crawl = stages.RepoCrawlResult(list(crawls.values()), status, problems, [], now.repo_crawl.known_teams)
    dora = pd.concat(metrics, ignore_index=True)
    return StageOutputs(now.as_of, repo_crawl, now.cluster_crawl, now.events, records, now.identity_problems,
                        dora[dora["service"].isin(names)].reset_index(drop=True), evidence)


def _describe(served: Path, build_seconds: float | None) -> BuiltHistory:
    with warehouse.read_only(served) as con:
        rows = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in warehouse.SNAPSHOT_TABLES}
        snapshots, latest = con.execute("SELECT count(DISTINCT snapshot), max(snapshot) FROM runs").fetchone()
        services = con.execute("SELECT count(*) FROM services WHERE snapshot = ?", [latest]).fetchone()[0]
        checks = con.execute("SELECT count(DISTINCT check_id) FROM check_results").fetchone()[0]
    return BuiltHistory(served, build_seconds, rows, snapshots, services, checks)


def busiest_team(served: Path) -> tuple[str, str]:
    """The team with the most services in the latest snapshot, and its first service."""
    with warehouse.read_only(served) as con:
        return con.execute(
            """SELECT team, min(service) FROM services
               WHERE snapshot = (SELECT max(snapshot) FROM runs) AND team IS NOT NULL
               GROUP BY team ORDER BY count(*) DESC, team LIMIT 1"""
        ).fetchone()
