"""Builds the published snapshot the dashboard tests read, with the pipeline's own code.

A demo organisation (``pipelines.demo``: real git repositories with 90 days of
history, cluster snapshots, deploy and incident logs) is scored at 13 weekly
dates ending :data:`END` by the stage functions the Dagster assets call, in
the order they call them: crawl at the past crawl point (git history as of
then), resolve services, DORA metrics, evidence, all checks of the
catalogue, waivers, scoring, :func:`pipelines.snapshot.snapshot_frames`, then
the warehouse's staging, promotion and atomic publish. Cluster state is only
known for the newest date, as in a backfill.

Nothing is invented: the facts tests name (a service that passed a check last
week and fails it now, with the check's remediation) are looked up in what
was built (:class:`Regression`). The demo is generated for a fixed end date,
so the same code always builds the same snapshot.

Two things a real deployment shows are arranged on purpose, both by the real
code paths: one configured deploy log does not exist (a failed target on the
data-freshness panel), and one run between the last two snapshots is staged
but never promoted (a killed run: the next run marks it ``failed`` and the
publish leaves it out).
"""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipelines import platform_requests, publishing, snapshot, stages, warehouse
from pipelines.sources import argocd
from pipelines.config import ScorecardConfig, load_config
from pipelines.scoring import apply_waivers, score

END = dt.date(2026, 11, 23)  # the newest snapshot: the day the demo's history ends
WEEKS = 12  # weekly snapshots before END
DEMO = {"repos": 16, "teams": 4, "days": 90, "seed": 7}
MISSING_DEPLOY_LOG = "events/deployments-us-east.jsonl"  # configured, never written


@dataclass
class StageOutputs:
    """What the assets upstream of `check_results` hand on for one snapshot date."""

    as_of: dt.date
    repo_crawl: stages.RepoCrawlResult
    cluster_crawl: list | None
    events: stages.Events
    records: list
    identity_problems: list
    metrics: pd.DataFrame
    evidence: list
    requests: platform_requests.RequestResult | None = None  # the jira_requests asset's result
    gitops_crawls: list | None = None  # the gitops_api_crawl asset's (Argo CD API servers)


@dataclass(frozen=True)
class Regression:
    """A service whose check counted as passing in the previous snapshot and does not now."""

    service: str
    team: str
    check_id: str
    title: str
    level: str  # the check's level in the default scorecard
    status_before: str
    status_after: str
    detail: str
    remediation: str
    doc_url: str
    blocks_next_level: bool
    next_level: str | None  # the service's next level now


@dataclass(frozen=True)
class LevelDrop:
    """A service that lost a level from one weekly snapshot to the next."""

    service: str
    team: str
    before: dt.date
    after: dt.date
    level_before: str
    level_after: str


@dataclass
class BuiltSnapshot:
    root: Path
    config: Path
    serving: Path
    warehouse: Path
    snapshots: tuple[dt.date, ...]  # complete ones, oldest first
    incomplete: dt.date  # the killed run's date: in the warehouse, never published
    # Every table over the complete snapshots, with a `snapshot` column: tests
    # derive expectations from these with pandas, independently of the read model's SQL.
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    regression: Regression | None = None
    level_drop: LevelDrop | None = None

    @property
    def latest(self) -> dt.date:
        return self.snapshots[-1]

    @property
    def previous(self) -> dt.date:
        return self.snapshots[-2]

    def at(self, table: str, snapshot: dt.date | None = None, **equal: object) -> pd.DataFrame:
        """Rows of ``table`` in one snapshot (default: the latest) whose columns equal ``equal``."""
        df = self.frames[table]
        keep = df["snapshot"] == (snapshot or self.latest)
        for column, value in equal.items():
            keep &= df[column] == value
        return df[keep]

    def blockers(self, scorecard: str = "default", **equal: object) -> pd.DataFrame:
        """Latest results that keep their service from its next level."""
        found = self.at("scorecard_results", scorecard=scorecard, **equal)
        return found[found["blocks_next_level"].astype(bool)]


# ------------------------------------------------------------------ stages


def run_stages(config: ScorecardConfig, as_of: dt.date, today: dt.date) -> StageOutputs:
    """repo_crawl ... service_evidence of pipelines/assets.py, for a run on ``today`` computing ``as_of``."""
    historical = as_of < today  # pipelines.history.SnapshotDate.historical
    point = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), dt.UTC) if historical else None
    repo_crawl = stages.crawl_repos(stages.repo_sources(config), point,
                                    budget_seconds=config.sources.repo_crawl_budget_seconds)
    repo_crawl = stages.add_portals(repo_crawl, stages.crawl_portals(config), config, historical=historical)
    clusters = None if historical else stages.crawl_clusters(config)
    gitops = None if historical else argocd.crawl_all(config.sources.argocd)
    events = stages.load_events(config, warehouse_path=config.warehouse_path, as_of=as_of)
    records, identity_problems = stages.resolve(repo_crawl.crawls, config, point, repo_crawl.portals)
    metrics = stages.delivery_metrics(records, repo_crawl.crawls, events, config, as_of, clusters, gitops or [])
    last_good = stages.last_good_crawls(config.warehouse_path, clusters) if clusters else {}
    evidence = stages.assemble_evidence(records, repo_crawl.crawls, clusters, metrics, as_of, last_good, gitops or [])
    return StageOutputs(as_of, repo_crawl, clusters, events, records, identity_problems, metrics, evidence,
                        gitops_crawls=gitops)


def score_and_stage(
    con, config: ScorecardConfig, config_path: Path, out: StageOutputs, kind: str,
) -> tuple[str, dict[str, pd.DataFrame]]:
    """check_results, service_scores and warehouse_snapshot of pipelines/assets.py, inside the
    caller's transaction; returns the staged run's id and its frames."""
    ctx = stages.check_context(config, out.as_of, out.repo_crawl)
    results = apply_waivers(stages.evaluate_checks(out.evidence, ctx), config, out.as_of)
    frames = snapshot.snapshot_frames(
        config, out.as_of, config_path, repo_crawl=out.repo_crawl, cluster_crawl=out.cluster_crawl,
        gitops_crawls=out.gitops_crawls, events=out.events, registry=(out.records, out.identity_problems), metrics=out.metrics,
        evidence=out.evidence, results=results, scores=score(results, config), requests=out.requests,
    )
    run = {
        "run_id": uuid.uuid4().hex, "snapshot": out.as_of, "kind": kind,
        "started_at": dt.datetime.now(dt.UTC), "finished_at": None, "config_file": str(config_path),
        "services": len(out.records), "repos": len(out.repo_crawl.crawls), "message": None,
    }
    snapshot.fill_last_success(con, frames["source_status"])
    warehouse.stage_snapshot(con, run, frames)
    return run["run_id"], frames


def store(
    con, config: ScorecardConfig, config_path: Path, out: StageOutputs, kind: str, *, promote: bool = True,
) -> dict[str, pd.DataFrame]:
    """Stage one snapshot into the warehouse ``con`` writes, then (unless the run is to die
    before its checks) promote it into history."""
    path = config.warehouse_path
    with warehouse.transaction(con, path, "writing the snapshot"):
        run_id, frames = score_and_stage(con, config, config_path, out, kind)
    if promote:
        with warehouse.transaction(con, path, "promoting the snapshot"):
            warehouse.promote(con, run_id)
    return frames


# ------------------------------------------------------------------- build


def weekly(end: dt.date, weeks: int) -> list[dt.date]:
    return [end - dt.timedelta(weeks=k) for k in range(weeks, -1, -1)]


def demo_org(root: Path, **demo: int) -> Path:
    """Generate the demo organisation (:data:`DEMO`, updated by ``demo``) under ``root`` for :data:`END`;
    returns its config, with one deploy log missing."""
    from pipelines.demo.generate import generate_demo

    summary = generate_demo(root / "demo", end=END, **{**DEMO, **demo})
    text = summary.config.read_text(encoding="utf-8")
    listed = "      - events/deployments.jsonl\n"
    assert listed in text, "the demo config no longer lists its deploy log where this expects it"
    summary.config.write_text(text.replace(listed, listed + f"      - {MISSING_DEPLOY_LOG}\n"), encoding="utf-8")
    return summary.config


def build_snapshot(root: Path) -> BuiltSnapshot:
    """Generate the demo organisation under ``root``, score 13 weekly snapshots and publish them."""
    config_path = demo_org(root)
    config = load_config(config_path)
    dates = weekly(END, WEEKS)
    killed = END - dt.timedelta(days=3)
    parts: dict[str, list[pd.DataFrame]] = {}
    # Every date's stages first, then one connection writes them all: the stages open the
    # warehouse read-only (ingested events, a failed cluster's last good crawl), which a process
    # holding it open to write cannot. Nothing is ingested and no cluster fails here, so no
    # date's stages read what an earlier date wrote.
    days = [*dates[:-1], killed, END]
    requests = platform_requests.for_dates(config, config.warehouse_path, days)  # the demo's Jira export, once
    outputs = [run_stages(config, day, today=END) for day in days]
    for out in outputs:
        out.requests = requests[out.as_of]
    with warehouse.connect(config.warehouse_path) as con:
        for out in outputs:
            kind = "run" if out.as_of == END else "backfill"
            frames = store(con, config, config_path, out, kind, promote=out.as_of != killed)
            if out.as_of != killed:
                for table, df in frames.items():
                    parts.setdefault(table, []).append(df.assign(snapshot=out.as_of))
    publishing.publish(config)  # as the job's serving_snapshot does
    built = BuiltSnapshot(
        root=root, config=config_path, serving=config.serving_path, warehouse=config.warehouse_path,
        snapshots=tuple(dates), incomplete=killed,
        frames={table: pd.concat(dfs, ignore_index=True) for table, dfs in parts.items()},
    )
    built.regression = find_regression(built)
    built.level_drop = find_level_drop(built)
    return built


def find_regression(built: BuiltSnapshot, scorecard: str = "default") -> Regression:
    """The first (by service, check) result that stopped counting as passing since the previous
    snapshot and says how to fix it, preferring one that blocks the service's next level."""
    sr = built.frames["scorecard_results"]
    sr = sr[(sr["scorecard"] == scorecard) & sr["applicable"]]
    key = ["service", "check_id"]
    before = sr[sr["snapshot"] == built.previous].set_index(key)
    after = sr[sr["snapshot"] == built.latest].set_index(key)
    both = after.merge(before[["counts_as_pass", "status"]], left_index=True, right_index=True,
                       suffixes=("", "_before"))
    flipped = both[both["counts_as_pass_before"] & ~both["counts_as_pass"].astype(bool)].reset_index()
    results = built.at("check_results").set_index(key)
    flipped = flipped.join(results[["detail", "remediation"]], on=key)
    flipped = flipped[flipped["remediation"].notna()]
    if flipped.empty:
        raise AssertionError(f"no result regressed between {built.previous} and {built.latest} in the built history")
    row = flipped.sort_values(["blocks_next_level", "service", "check_id"], ascending=[False, True, True]).iloc[0]
    check = built.at("checks", check_id=row["check_id"]).iloc[0]
    scores = built.at("service_scores", scorecard=scorecard, service=row["service"]).iloc[0]
    return Regression(
        service=row["service"], team=row["team"], check_id=row["check_id"], title=check["title"], level=row["level"],
        status_before=row["status_before"], status_after=row["status"], detail=row["detail"],
        remediation=row["remediation"], doc_url=check["doc_url"], blocks_next_level=bool(row["blocks_next_level"]),
        next_level=scores["next_level"] if pd.notna(scores["next_level"]) else None,
    )


def find_level_drop(built: BuiltSnapshot, scorecard: str = "default") -> LevelDrop:
    """The most recent week in which a service dropped a level (the first such service by name)."""
    scores = built.frames["service_scores"]
    ranks = scores[scores["scorecard"] == scorecard].pivot(index="service", columns="snapshot", values="level_rank")
    for before, after in reversed(list(zip(built.snapshots, built.snapshots[1:]))):
        dropped = sorted(ranks.index[ranks[after] < ranks[before]])
        if dropped:
            service = dropped[0]
            then = built.at("service_scores", before, scorecard=scorecard, service=service).iloc[0]
            now = built.at("service_scores", after, scorecard=scorecard, service=service).iloc[0]
            return LevelDrop(service, now["team"], before, after, then["level"], now["level"])
    raise AssertionError("no service dropped a level in the built history")


def history_subset(built: BuiltSnapshot, root: Path, keep: list[dt.date]) -> Path:
    """A copy of the warehouse holding only the ``keep`` snapshots, the others deleted the way an
    operator does (`scorecard snapshots delete`); publish it to serve that history."""
    copy = root / "warehouse" / "scorecard.duckdb"
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(built.warehouse, copy)
    with warehouse.connect(copy) as con, warehouse.transaction(con, copy, "deleting snapshots"):
        for day in built.snapshots:
            if day not in keep:
                warehouse.delete_snapshot(con, day, "not part of this test's history")
    return copy
