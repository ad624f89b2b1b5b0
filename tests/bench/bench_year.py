"""A year of daily snapshots of 10,000 services / 100 clusters: storage, one daily run, page times.

    .venv/bin/python -m tests.bench.bench_year

How the year is built (cached in ``bench-out/`` under a digest of the code
that builds it, like the dashboard benchmark's history):

1. the 13 weekly snapshots of 10,000 services that ``bench_dashboard`` uses
   (``bench_snapshot.cached_history``: real checks, waivers, scoring and
   ``snapshot_frames`` on the demo's evidence replicated to 10,000 services)
   are the *states* a service can be in;
2. for each of the 364 days before today every service is in one of those
   states: it starts the year in the oldest and moves one state on about
   every four weeks, at a day of its own, so about 3.5 % of the services
   change on any day and adoption trends up as it did in the demo's history.
   Its per-service rows (results, scorecard results, scores, adoption,
   services, DORA) are that state's; the per-team and per-check tables are
   the day's most common state's. Scoring 364 × 460,000 results would take
   hours here, so these frames are taken from real output instead of being
   computed again (the fact-level fast path the issue allows);
3. each day goes through the real warehouse code, one run per day:
   ``stage_snapshot`` (its rows copied in SQL from the states rather than
   through pandas) and ``promote`` with the default retention (90 dailies,
   then the last snapshot of each ISO week); the year is published once at
   its end (``publishing.publish``: compaction check, a full publish);
4. then ONE daily run is timed on a copy of that year: the real checks on
   today's 10,000 services' evidence, waivers, scoring, ``snapshot_frames``,
   stage, promote + retention, and ``publishing.publish`` (compaction if due,
   the serving file, the programme's and fixes' tables, exports);
5. storage is what is on disk after it: the warehouse (and its WAL), the
   served file and everything published beside it; the dashboard's pages are
   timed on the served file the way ``bench_dashboard`` times them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from pipelines import publishing, retention, warehouse
from pipelines.config import load_config
from tests.bench.bench_snapshot import cached_history, replicate
from tests.bench.targets import Targets
from tests.dashboard.snapshot_fixture import END, demo_org, run_stages, weekly

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / "bench-out"
SERVICES = 10_000
DAYS = 365  # the year: 364 built days before END, and END scored by the timed run
STATE_DAYS = 28  # a service moves to its next state about this often
STORAGE_TARGET_MIB = 1024
DAILY_RUN_TARGET_SECONDS = 60.0
PAGE_TARGET_SECONDS = 2.0
# Tables with one row (or a few) per service: each service's rows come from its own state.
PER_SERVICE = ("services", "golden_path_adoption", "check_results", "scorecard_results", "service_scores", "dora")
CODE = [Path(__file__), *(ROOT / "pipelines" / name for name in ("warehouse.py", "spans.py", "retention.py"))]


@dataclass
class BuiltYear:
    root: Path  # the demo organisation and its config (today's evidence is crawled from it)
    config: Path
    warehouse: Path  # history up to the day before END, retention applied day by day
    serving: Path  # that history published
    build_seconds: float | None  # None: from the cache
    days_built: int
    snapshots_kept: int
    retired: int


@dataclass
class DailyRun:
    seconds: dict[str, float] = field(default_factory=dict)
    retired: list[dt.date] = field(default_factory=list)
    compacted: object = None
    snapshots: int = 0
    storage: dict[str, int] = field(default_factory=dict)  # bytes per kind of file

    @property
    def total(self) -> float:
        return sum(self.seconds.values())


def _digest(base: Path) -> str:
    digest = hashlib.sha256(base.name.encode())
    for path in CODE:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def state_of(service: str, day: int, states: int) -> int:
    """The state (0 = oldest weekly snapshot) ``service`` is in on ``day`` (0 = a year before END)."""
    offset = int(hashlib.sha256(service.encode()).hexdigest(), 16) % STATE_DAYS
    return min(states - 1, (day + offset) // STATE_DAYS)


def stage_day(con: duckdb.DuckDBPyConnection, run: dict, assign: pd.DataFrame, majority: dt.date) -> None:
    """Stage one built day (inside the caller's transaction) with the real ``stage_snapshot``, its rows
    copied in SQL from the attached ``base``: per-service rows of each service's state, the rest of the
    majority state's. (Through pandas, as a run's frames go, it took four times as long.)"""
    warehouse.stage_snapshot(con, run, {})  # the staging tables and the `checking` runs row
    con.register("_assign", assign)
    try:
        for name in warehouse.DATA_TABLES:
            # Identifiers from the warehouse's fixed list; dates bound.
            if name in PER_SERVICE:
                con.execute(f"INSERT INTO {warehouse.STAGING}.{name} BY NAME SELECT t.* REPLACE ($1::DATE AS snapshot) "
                            f"FROM base.{name} t JOIN _assign a ON t.service = a.service AND t.snapshot = a.state",
                            [run["snapshot"]])
            else:
                con.execute(f"INSERT INTO {warehouse.STAGING}.{name} BY NAME SELECT * REPLACE ($1::DATE AS snapshot) "
                            f"FROM base.{name} WHERE snapshot = $2", [run["snapshot"], majority])
    finally:
        con.unregister("_assign")


def build_year(root: Path, base_serving: Path, log=print) -> BuiltYear:
    started = time.monotonic()
    config_path = demo_org(root, repos=60, teams=40)  # the dashboard history's organisation
    config = load_config(config_path)
    path = config.warehouse_path
    first = END - dt.timedelta(days=DAYS - 1)
    retired = 0
    with warehouse.connect(path) as con:
        con.execute("SET enable_progress_bar = false")
        con.execute("ATTACH ? AS base (READ_ONLY)", [str(base_serving)])
        states = [row[0] for row in con.execute("SELECT DISTINCT snapshot FROM base.runs ORDER BY 1").fetchall()]
        services = [row[0] for row in con.execute(
            "SELECT DISTINCT service FROM base.services WHERE snapshot = ?", [states[-1]]).fetchall()]
        for day in range(DAYS - 1):
            date = first + dt.timedelta(days=day)
            index = [state_of(s, day, len(states)) for s in services]
            assign = pd.DataFrame({"service": services, "state": [states[i] for i in index]})
            majority = states[pd.Series(index).mode().iloc[0]]
            run = {"run_id": uuid.uuid4().hex, "snapshot": date, "kind": "backfill",
                   "started_at": dt.datetime.now(dt.UTC), "finished_at": None,
                   "config_file": str(config_path), "services": len(services),
                   "repos": len(services), "message": None}
            with warehouse.transaction(con, path, "writing the snapshot"):
                stage_day(con, run, assign, majority)
            with warehouse.transaction(con, path, "promoting the snapshot"):
                retired += len(warehouse.promote(con, run["run_id"], config.warehouse.retention).retired)
            if day % 30 == 0:
                log(f"  built {date} ({day + 1}/{DAYS - 1}) after {time.monotonic() - started:.0f} s, "
                    f"warehouse {path.stat().st_size / 2**20:,.0f} MiB", flush=True)
        con.execute("DETACH base")
    clock = time.monotonic()
    published = publishing.publish(config)  # compacts first if due
    log(f"  published {published.snapshots} snapshots in {time.monotonic() - clock:.0f} s "
        f"(compaction: {published.compacted or 'not due'}); served file {published.served.stat().st_size / 2**20:,.0f} MiB")
    with warehouse.read_only(path) as con:
        kept = con.execute("SELECT count(DISTINCT snapshot) FROM runs WHERE status = 'complete'").fetchone()[0]
    return BuiltYear(root, config_path, path, config.serving_path, time.monotonic() - started, DAYS - 1, kept,
                     retired)


def cached_year(workdir: Path = WORK, log=print) -> BuiltYear:
    base = cached_history(workdir, SERVICES).serving
    key = _digest(base)
    root = workdir / f"year-{key}"
    done = root / "built.txt"
    if not done.exists():
        for stale in workdir.glob("year-*"):
            shutil.rmtree(stale, ignore_errors=True)
        built = build_year(root, base, log)
        done.write_text(f"{built.build_seconds:.0f} {built.snapshots_kept} {built.retired}\n")
        return built
    _seconds, kept, retired = done.read_text().split()
    config_path = root / "demo" / "scorecard.yaml"
    config = load_config(config_path)
    return BuiltYear(root, config_path, config.warehouse_path, config.serving_path, None, DAYS - 1, int(kept),
                     int(retired))


def _bytes(*paths: Path) -> int:
    total = 0
    for path in paths:
        if path.is_file():
            total += path.stat().st_blocks * 512
        elif path.is_dir():
            total += sum(p.stat().st_blocks * 512 for p in path.rglob("*") if p.is_file())
    return total


def daily_run(year: BuiltYear, run_root: Path) -> DailyRun:
    """Today's run on a copy of the year: real checks and scoring of 10,000 services, then the warehouse."""
    from pipelines import snapshot, stages
    from pipelines.scoring import apply_waivers, score

    # A copy, so the cached year stays the day before and the run can be timed again: the warehouse
    # is written in place, so it is copied; every other file is only ever replaced, so it is linked.
    shutil.rmtree(run_root, ignore_errors=True)
    shutil.copytree(year.root, run_root, symlinks=True, copy_function=os.link,
                    ignore=lambda folder, names: [n for n in names if Path(folder, n) == year.warehouse])
    shutil.copyfile(year.warehouse, run_root / year.warehouse.relative_to(year.root))
    config_path = run_root / "demo" / "scorecard.yaml"
    config = load_config(config_path)
    path = config.warehouse_path
    # Today's evidence: the demo crawled at the dashboard history's 13 dates, replicated (not timed: the crawl).
    sources = [run_stages(config, day, today=END) for day in weekly(END, 12)]
    today = replicate(sources, len(sources) - 1, SERVICES)
    out = DailyRun()
    clock = time.perf_counter()
    ctx = stages.check_context(config, today.as_of, today.repo_crawl)
    results = apply_waivers(stages.evaluate_checks(today.evidence, ctx), config, today.as_of)
    scores = score(results, config)
    out.seconds["checks + scoring"] = time.perf_counter() - clock
    clock = time.perf_counter()
    with warehouse.connect(path) as con:
        with warehouse.transaction(con, path, "writing the snapshot"):
            frames = snapshot.snapshot_frames(
                config, today.as_of, config_path, repo_crawl=today.repo_crawl, cluster_crawl=today.cluster_crawl,
                gitops_crawls=today.gitops_crawls, events=today.events,
                registry=(today.records, today.identity_problems), metrics=today.metrics,
                evidence=today.evidence, results=results, scores=scores, requests=today.requests)
            run = {"run_id": uuid.uuid4().hex, "snapshot": today.as_of, "kind": "run",
                   "started_at": dt.datetime.now(dt.UTC), "finished_at": None, "config_file": str(config_path),
                   "services": len(today.records), "repos": len(today.repo_crawl.crawls), "message": None}
            snapshot.fill_last_success(con, frames["source_status"])
            warehouse.stage_snapshot(con, run, frames)
        out.seconds["snapshot frames + stage"] = time.perf_counter() - clock
        clock = time.perf_counter()
        with warehouse.transaction(con, path, "promoting the snapshot"):
            out.retired = warehouse.promote(con, run["run_id"], config.warehouse.retention).retired
    out.seconds["promote + retention"] = time.perf_counter() - clock
    clock = time.perf_counter()
    published = publishing.publish(config)
    spent = time.perf_counter() - clock
    beside = published.metadata["exports_seconds"] + published.metadata["entity_documents_seconds"]
    out.seconds["publish: serving file"] = spent - beside
    out.seconds["publish: exports, badges"] = published.metadata["exports_seconds"]
    out.seconds["publish: entity documents"] = published.metadata["entity_documents_seconds"]
    out.compacted = published.compacted
    out.snapshots = published.snapshots
    served = config.serving_path
    out.storage = {
        "warehouse": _bytes(path, path.with_name(path.name + ".wal")),
        "served file": _bytes(served),
        "published beside it": _bytes(served.parent) - _bytes(served),
        "kept facts and evidence": _bytes(path.parent) - _bytes(path, path.with_name(path.name + ".wal")),
    }
    return out


def main(argv: list[str] | None = None) -> list[str]:
    from tests.bench.bench_dashboard import PAGES, time_pages

    t = Targets()
    year = cached_year(WORK)
    how = "from the cache" if year.build_seconds is None else f"built in {year.build_seconds:.0f} s"
    print(f"a year of daily snapshots of {SERVICES:,} services ({how}): {year.days_built} days staged and promoted, "
          f"{year.snapshots_kept} kept, {year.retired} removed by retention "
          f"({retention.describe(retention.DefaultPolicy())})")
    run = daily_run(year, WORK / "year-run")
    print(f"one daily run with the year present: {run.total:.1f} s "
          f"{t.below('daily run (scoring + publish)', run.total, DAILY_RUN_TARGET_SECONDS)}")
    for step, seconds in run.seconds.items():
        print(f"  {step:<26} {seconds:6.1f} s")
    print(f"  retention removed {', '.join(map(str, run.retired)) or 'nothing'}; "
          f"compaction: {run.compacted or 'not due'}; {run.snapshots} snapshots published")
    total = sum(run.storage.values())
    print(f"storage on disk: {total / 2**20:,.0f} MiB "
          f"{t.below('storage for a year', total / 2**20, STORAGE_TARGET_MIB, 'MiB')}")
    for kind, size in run.storage.items():
        print(f"  {kind:<26} {size / 2**20:8,.0f} MiB")
    served = load_config(WORK / "year-run" / "demo" / "scorecard.yaml").serving_path
    print(f"{'page':<10} {'scope':<6} {'cold s':>8} {'warm s':>8}")
    for p in time_pages(served, ("org", "team"), PAGES):
        target = t.below(f"{p.page} page ({p.scope}) cold render on a year", p.cold_seconds, PAGE_TARGET_SECONDS)
        print(f"{p.page:<10} {p.scope:<6} {p.cold_seconds:>8.2f} {p.warm_seconds:>8.2f}  {target}")
    return t.missed


if __name__ == "__main__":
    missed = main(sys.argv[1:])
    for line in missed:
        print(f"missed: {line}")
    raise SystemExit(1 if missed else 0)
