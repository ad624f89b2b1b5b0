"""Dagster assets, one group per layer: sources -> evidence -> checks -> scores -> publish.

Every asset but the served file is partitioned by snapshot date
(`pipelines.history`): a run computes one date or a range of dates, each
asset iterating its partition keys and handing the next layer a dict keyed
by date. Assets are thin: per date, each calls one stage function from
`pipelines.stages`. `warehouse_snapshot` stages the run's snapshots in one
transaction; the blocking data invariants check them there (and record why
when they reject them); only if all pass does `snapshot_history` promote them
into history. `serving_snapshot`, one file for every date and so not
partitioned, then publishes: once per run, and once at the end of a
backfill. A run killed or rejected midway therefore leaves neither a partial
snapshot in history nor a changed serving file.
"""


import datetime as dt
import warnings
from collections.abc import Callable

import dagster as dg
import pandas as pd

from pipelines import evidence_store, history, platform_requests, publishing, shards, snapshot, stages, warehouse
from pipelines.resources import Progress, ScorecardSettings, SourceCredentials, WarehouseDB, drop_run_values
from pipelines.scoring import apply_waivers, score
from pipelines.sources import argocd
from pipelines.sources.local_git import RepoReads

ERROR_SHARE_LIMIT = 0.05  # more than 5 % `error` findings means a check is broken, not the services

# Dagster 1.13 calls `backfill_policy` beta; tests/pipelines/test_history.py pins
# the behaviour relied on (one run per range, `dagster asset materialize
# --partition-range`), so the warning is not repeated on every load.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.BetaWarning)
    ONE_RUN_PER_RANGE = dg.BackfillPolicy.single_run()


def _asset(**kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        return dg.asset(backfill_policy=ONE_RUN_PER_RANGE, **kwargs)


def _snapshot_asset(group: str, **kwargs):
    """An asset of one layer, partitioned by snapshot date; one run computes a range of dates."""
    return _asset(group_name=group, partitions_def=history.SNAPSHOT_PARTITIONS, **kwargs)


def _by_date(context: dg.AssetExecutionContext, compute: Callable[[history.SnapshotDate], tuple[object, dict]]) -> dict:
    """``compute`` for each date of the run: its values by date for the next layer, its figures as metadata."""
    out, meta = {}, {}
    for snap in history.snapshot_dates(context):
        out[snap.key], meta[snap.key] = compute(snap)
    _metadata(context, meta)
    return out


def _progress(context: dg.AssetExecutionContext, progress: Progress, snap: history.SnapshotDate) -> Progress:
    """In a run over several dates, each line says which date it is about."""
    if len(context.partition_keys) == 1:
        return progress
    return lambda stage, done, total: progress(f"{snap.key} {stage}", done, total)


def _metadata(context: dg.AssetExecutionContext, by_date: dict[str, dict]) -> None:
    """One date: its figures as they are; a range: each figure by date."""
    if len(by_date) == 1:
        context.add_output_metadata(next(iter(by_date.values())))
        return
    names = dict.fromkeys(name for figures in by_date.values() for name in figures)
    context.add_output_metadata({name: {day: figures.get(name) for day, figures in by_date.items()} for name in names})


# ------------------------------------------------------------------ sources


# The crawl, in static hash shards (pipelines/shards.py): one asset per shard,
# so Dagster's executor runs them on as many workers as it has. A shard
# writes its facts file and hands nothing in memory, so a re-run of one shard
# (materialise `repo_crawl_shard_K` for a date, then `repo_crawl` and what
# follows) replaces that shard's facts only. The files sit next to the
# configured warehouse: a shard does not take the warehouse's run lock
# (`warehouse_db`), which would make the shards wait for each other.
# The shard counts shape the graph, so `build_definitions` passes them in.


def _shard_progress(context, progress: Progress, snap: history.SnapshotDate, shard: shards.Shard) -> Progress:
    inner = _progress(context, progress, snap)
    if shard.count == 1:
        return inner
    return lambda stage, done, total: inner(f"{stage} ({shard.label})", done, total)


def _repo_shard_asset(shard: shards.Shard) -> dg.AssetsDefinition:
    @_snapshot_asset("sources", name=f"repo_crawl_shard_{shard.index}",
                     description=f"The repositories of {shard.label}: their facts as Parquet, per snapshot date.")
    def repo_crawl_shard(
        context: dg.AssetExecutionContext, settings: ScorecardSettings, source_credentials: SourceCredentials,
        progress: dg.ResourceParam[Progress], repo_reads: dg.ResourceParam[RepoReads],
    ) -> dg.MaterializeResult:
        config = settings.load()
        meta = {}
        for snap in history.snapshot_dates(context):
            sources = stages.repo_sources(config, source_credentials.tokens(), repo_reads)
            result = stages.crawl_repos(sources, snap.crawl_point, _shard_progress(context, progress, snap, shard),
                                        budget_seconds=config.sources.repo_crawl_budget_seconds, shard=shard)
            file = shards.write(shards.shard_file(config.warehouse_path, snap.day, "repos", shard),
                                stages.repo_shard_rows(result))
            meta[snap.key] = {"repos": len(result.crawls), "facts_file": str(file),
                              "repos_with_errors": sum(1 for c in result.crawls if c.facts.error)}
        _metadata(context, meta)
        return dg.MaterializeResult()

    return repo_crawl_shard


def _cluster_shard_asset(shard: shards.Shard) -> dg.AssetsDefinition:
    @_snapshot_asset("sources", name=f"cluster_crawl_shard_{shard.index}",
                     description=f"The clusters of {shard.label}: their workloads as Parquet, for today's snapshot.")
    def cluster_crawl_shard(
        context: dg.AssetExecutionContext, settings: ScorecardSettings, progress: dg.ResourceParam[Progress]
    ) -> dg.MaterializeResult:
        config = settings.load()
        meta = {}
        for snap in history.snapshot_dates(context):
            if snap.historical:
                meta[snap.key] = {"clusters": 0, "note": "historical snapshot: cluster state unknown"}
                continue
            crawls = stages.crawl_clusters(config, progress, shard=shard)
            shards.write(shards.shard_file(config.warehouse_path, snap.day, "clusters", shard),
                         stages.cluster_shard_rows(crawls))
            meta[snap.key] = {"clusters": len(crawls), "clusters_with_errors": sum(1 for c in crawls if c.error)}
        _metadata(context, meta)
        return dg.MaterializeResult()

    return cluster_crawl_shard


def _shard_files(config, day: dt.date, kind: str, count: int) -> list:
    return [shards.shard_file(config.warehouse_path, day, kind, shards.Shard(k, count)) for k in range(count)]


def crawl_assets(repo_shards: int = 1, cluster_shards: int = 1) -> list[dg.AssetsDefinition]:
    """The crawl's assets: one per shard, and `repo_crawl` / `cluster_crawl`, which read every shard's facts."""
    repo_parts = [_repo_shard_asset(shards.Shard(k, repo_shards)) for k in range(repo_shards)]
    cluster_parts = [_cluster_shard_asset(shards.Shard(k, cluster_shards)) for k in range(cluster_shards)]

    @_snapshot_asset("sources", deps=repo_parts)
    def repo_crawl(
        context: dg.AssetExecutionContext, settings: ScorecardSettings, progress: dg.ResourceParam[Progress],
    ) -> dict[str, stages.RepoCrawlResult]:
        """Every repository's files, history and tags, as of each snapshot date: all shards' facts, read together."""
        config = settings.load()
        # The portal's catalog now, read once per run: it records no history to read a past date from.
        portals = stages.crawl_portals(config, progress)
        shards.prune(config.warehouse_path)

        def gather(snap: history.SnapshotDate):
            files = _shard_files(config, snap.day, "repos", repo_shards)
            result = stages.merge_repo_shards(shards.read(files, f"repo_crawl for {snap.key}"))
            result = stages.add_portals(result, portals, config, historical=snap.historical)
            errors = sum(1 for s in result.source_status if s["status"] == "error")
            # Which shard failed its repos, without unpickling: the typed columns, one query over every shard.
            by_shard = {f"shard {row.shard} {row.status}": int(row.items)
                        for row in shards.status_by_shard(files).itertuples()} if repo_shards > 1 else {}
            return result, {"repos": len(result.crawls), "repos_with_errors": errors, "shards": repo_shards,
                            "file_problems": len(result.problems), **by_shard, **stages.report_metadata(result)}

        return _by_date(context, gather)

    @_snapshot_asset("sources", deps=cluster_parts)
    def cluster_crawl(context: dg.AssetExecutionContext, settings: ScorecardSettings) -> dict[str, list | None]:
        """Workloads and related objects per cluster, from every shard; None for a past snapshot (state unknown)."""
        config = settings.load()

        def gather(snap: history.SnapshotDate):
            if snap.historical:
                return None, {"clusters": 0, "note": "historical snapshot: cluster state unknown"}
            files = _shard_files(config, snap.day, "clusters", cluster_shards)
            crawls = stages.merge_cluster_shards(shards.read(files, f"cluster_crawl for {snap.key}"), config)
            return crawls, {"clusters": len(crawls), "clusters_with_errors": sum(1 for c in crawls if c.error)}

        return _by_date(context, gather)

    return [*repo_parts, *cluster_parts, repo_crawl, cluster_crawl]


@_snapshot_asset("sources")
def gitops_api_crawl(context: dg.AssetExecutionContext, settings: ScorecardSettings) -> dict[str, list | None]:
    """Argo CD Applications from Argo CD API servers (docs/gitops.md); None for a past snapshot."""

    def crawl(snap: history.SnapshotDate):
        if snap.historical:
            return None, {"argocd": 0, "note": "historical snapshot: Argo CD state unknown"}
        crawls = argocd.crawl_all(settings.load().sources.argocd)
        return crawls, {"argocd": len(crawls), "argocd_with_errors": sum(1 for c in crawls if c.error)}

    return _by_date(context, crawl)


@_snapshot_asset("sources")
def delivery_events(
    context: dg.AssetExecutionContext, settings: ScorecardSettings, warehouse_db: WarehouseDB
) -> dict[str, stages.Events]:
    """Deployments and incidents from the configured files and from `scorecard ingest`, in the metrics' window."""
    config = settings.load()

    def load(snap: history.SnapshotDate):
        events = stages.load_events(config, warehouse_path=warehouse_db.warehouse(config), as_of=snap.day)
        return events, {"deployments": len(events.deployments), "incidents": len(events.incidents),
                        "rejected_lines": len(events.problems)}

    return _by_date(context, load)


@_snapshot_asset("sources")
def jira_requests(
    context: dg.AssetExecutionContext, settings: ScorecardSettings, warehouse_db: WarehouseDB,
    progress: dg.ResourceParam[Progress],
) -> dict[str, platform_requests.RequestResult]:
    """Requests to the platform team (sources.jira), merged into the warehouse; each date's weekly trend."""
    config = settings.load()
    dates = history.snapshot_dates(context)
    # Crawled once per run: requests carry their own dates, so every date of a range reads the same store.
    by_day = platform_requests.for_dates(config, warehouse_db.warehouse(config), [s.day for s in dates], progress)
    _metadata(context, {s.key: {"jira_sources": len(by_day[s.day].status),
                                "jira_errors": sum(r["status"] == "error" for r in by_day[s.day].status),
                                "trend_rows": len(by_day[s.day].trend)} for s in dates})
    return {s.key: by_day[s.day] for s in dates}


# ----------------------------------------------------------------- evidence


@_snapshot_asset("evidence")
def service_registry(
    context: dg.AssetExecutionContext, settings: ScorecardSettings, repo_crawl: dict[str, stages.RepoCrawlResult]
) -> dict[str, tuple]:
    """Resolved services (catalog, config, repo fallback) and identity problems."""

    def resolve(snap: history.SnapshotDate):
        crawl = repo_crawl[snap.key]
        records, problems = stages.resolve(crawl.crawls, settings.load(), snap.crawl_point, crawl.portals)
        rules = pd.Series([r.identity_rule for r in records]).value_counts().to_dict() if records else {}
        return (records, problems), {"services": len(records), **{f"by_{k}": int(v) for k, v in rules.items()}}

    return _by_date(context, resolve)


@_snapshot_asset("evidence")
def delivery_metrics(
    context: dg.AssetExecutionContext,
    settings: ScorecardSettings,
    service_registry: dict[str, tuple],
    repo_crawl: dict[str, stages.RepoCrawlResult],
    delivery_events: dict[str, stages.Events],
    cluster_crawl: dict[str, list | None],
    gitops_api_crawl: dict[str, list | None],
) -> dict[str, pd.DataFrame]:
    """DORA metrics per service with tiers (DESIGN.md "Metric definitions")."""

    def metrics(snap: history.SnapshotDate):
        records, _ = service_registry[snap.key]
        # cluster_crawl: ReplicaSet revisions of production workloads are deploys too.
        df = stages.delivery_metrics(records, repo_crawl[snap.key].crawls, delivery_events[snap.key], settings.load(),
                                     snap.day, cluster_crawl[snap.key], gitops_api_crawl[snap.key] or [])
        return df, {"services_with_deployments": len(df)}

    return _by_date(context, metrics)


@_snapshot_asset("evidence")
def service_evidence(
    context: dg.AssetExecutionContext,
    settings: ScorecardSettings,
    warehouse_db: WarehouseDB,
    service_registry: dict[str, tuple],
    repo_crawl: dict[str, stages.RepoCrawlResult],
    cluster_crawl: dict[str, list | None],
    gitops_api_crawl: dict[str, list | None],
    delivery_metrics: dict[str, pd.DataFrame],
) -> dict[str, list]:
    """All facts per service, scoped to its path, with its workloads joined by label."""

    def assemble(snap: history.SnapshotDate):
        records, _ = service_registry[snap.key]
        clusters = cluster_crawl[snap.key]
        # A failed cluster's services are named from the warehouse's record of its last good crawl.
        last_good = stages.last_good_crawls(warehouse_db.warehouse(settings.load()), clusters) if clusters else {}
        evidence = stages.assemble_evidence(
            records, repo_crawl[snap.key].crawls, clusters, delivery_metrics[snap.key], snap.day, last_good,
            gitops_api_crawl[snap.key] or [],
        )
        return evidence, {"services": len(evidence)}

    return _by_date(context, assemble)


# ------------------------------------------------------------------- checks


@_snapshot_asset("checks")
def check_results(
    context: dg.AssetExecutionContext, settings: ScorecardSettings, progress: dg.ResourceParam[Progress],
    service_evidence: dict[str, list], repo_crawl: dict[str, stages.RepoCrawlResult],
) -> dict[str, pd.DataFrame]:
    """One finding per service and check, with waivers applied."""
    config = settings.load()

    def evaluate(snap: history.SnapshotDate):
        # Known teams: the config's plus the GitHub organisation's teams the crawl found.
        ctx = stages.check_context(config, snap.day, repo_crawl[snap.key])
        results = stages.evaluate_checks(service_evidence[snap.key], ctx, _progress(context, progress, snap))
        results = apply_waivers(results, config, snap.day)
        counts = results["status"].value_counts().to_dict() if len(results) else {}
        return results, {f"{k}": int(v) for k, v in counts.items()}

    return _by_date(context, evaluate)


# ------------------------------------------------------------------- scores


@_snapshot_asset("scores")
def service_scores(
    context: dg.AssetExecutionContext, settings: ScorecardSettings, check_results: dict[str, pd.DataFrame]
) -> dict[str, dict]:
    """Levels and weighted scores per service, team and organisation, per scorecard."""

    def scores(snap: history.SnapshotDate):
        frames = score(check_results[snap.key], settings.load())
        levels = frames["service_scores"].groupby(["scorecard", "level"]).size()
        return frames, {f"{card}/{level}": int(n) for (card, level), n in levels.items()}

    return _by_date(context, scores)


# ------------------------------------------------------------------ publish


@_snapshot_asset("publish")
def warehouse_snapshot(
    context: dg.AssetExecutionContext,
    settings: ScorecardSettings,
    warehouse_db: WarehouseDB,
    repo_crawl: dict[str, stages.RepoCrawlResult],
    cluster_crawl: dict[str, list | None],
    gitops_api_crawl: dict[str, list | None],
    delivery_events: dict[str, stages.Events],
    service_registry: dict[str, tuple],
    delivery_metrics: dict[str, pd.DataFrame],
    service_evidence: dict[str, list],
    check_results: dict[str, pd.DataFrame],
    service_scores: dict[str, dict],
    jira_requests: dict[str, platform_requests.RequestResult],
) -> dg.MaterializeResult:
    """Stage each date's snapshot in the warehouse, all in one transaction (replacing a re-run's at promotion)."""
    config = settings.load()
    started, kind = history.run_started(context), history.run_kind(context)
    staged = []
    for snap in history.snapshot_dates(context):
        key = snap.key
        frames = snapshot.snapshot_frames(
            config, snap.day, settings.path(), repo_crawl=repo_crawl[key], cluster_crawl=cluster_crawl[key],
            gitops_crawls=gitops_api_crawl[key],
            events=delivery_events[key], registry=service_registry[key], metrics=delivery_metrics[key],
            evidence=service_evidence[key], results=check_results[key], scores=service_scores[key],
            requests=jira_requests[key],
        )
        for warning in snapshot.config_warnings(frames):
            context.log.warning(warning)
        run = {
            "run_id": context.run.run_id, "snapshot": snap.day, "kind": kind, "started_at": started,
            "finished_at": None, "config_file": str(settings.path()), "services": len(service_registry[key][0]),
            "repos": len(repo_crawl[key].crawls), "message": None,
        }
        staged.append((run, frames))
    path = warehouse_db.warehouse(config)
    rows: dict[str, int] = {}
    try:
        with warehouse.connect(path, doing="writing the snapshot") as con, \
                warehouse.transaction(con, path, "writing the snapshot"):
            for run, frames in staged:
                snapshot.fill_last_success(con, frames["source_status"])
                for table, n in warehouse.stage_snapshot(con, run, frames).items():
                    rows[table] = rows.get(table, 0) + n
            # What `scorecard preview` re-evaluates under changed rules, without a crawl.
            evidence_store.save_newest(path, con, context.run.run_id, {
                snap.day: (service_evidence[snap.key], repo_crawl[snap.key].known_teams)
                for snap in history.snapshot_dates(context)})
    except BaseException as exc:
        for run, _ in staged:
            _record_failed_run(path, run, exc)
        raise
    return dg.MaterializeResult(
        metadata={"snapshots": [run["snapshot"].isoformat() for run, _ in staged], "warehouse": str(path),
                  "status": "checking", **{f"rows_{k}": v for k, v in rows.items()}}
    )


def _record_failed_run(path, run: dict, exc: BaseException) -> None:
    """Best effort: leave a `failed` runs row saying why, so operators see the attempt."""
    reason = str(warehouse.friendly_error(exc, path, "writing the snapshot") or f"{type(exc).__name__}: {exc}")
    row = pd.DataFrame([{**run, "status": "failed", "finished_at": dt.datetime.now(dt.UTC), "message": reason[:2000]}])
    try:
        with warehouse.connect(path, wait_seconds=0, doing="recording the failed run") as con:
            warehouse.append_run(con, row.drop(columns="snapshot"), run["snapshot"])
    except Exception:  # noqa: BLE001 - the original error is the one to report; a full disk fails this too
        return


@_snapshot_asset("publish", deps=[warehouse_snapshot])
def snapshot_history(
    context: dg.AssetExecutionContext, settings: ScorecardSettings, warehouse_db: WarehouseDB
) -> dg.MaterializeResult:
    """Promote the run's checked snapshots into history, each replacing an earlier one of its date.

    Runs only when every blocking invariant on `warehouse_snapshot` passed.
    """
    config = settings.load()
    path = warehouse_db.warehouse(config)
    keep_from = dt.datetime.now(dt.UTC) - dt.timedelta(days=config.sources.delivery.event_retention_days)
    with warehouse.connect(path, doing="promoting the snapshot") as con, \
            warehouse.transaction(con, path, "promoting the snapshot"):
        snapshots = warehouse.promote(con, context.run.run_id, config.warehouse.retention)  # thins history too
        pruned = warehouse.prune_events(con, keep_from)
        latest = evidence_store.latest_complete(con)
    evidence_store.prune(path, latest)  # after the commit: only the latest complete snapshot's evidence is kept
    return dg.MaterializeResult(metadata={
        "snapshots": [day.isoformat() for day in snapshots],
        "pruned_deployment_events": pruned[0], "pruned_incident_events": pruned[1],
        "retired_by_retention": [day.isoformat() for day in snapshots.retired],
    })


# Not partitioned: one file holds every date. Dagster runs it after the dates
# of its run, and at the end of a backfill, after all of them: the warehouse
# is copied once per backfill, not once per date. The backfill policy only
# lets `dagster asset materialize --partition-range` select it with the rest.
@_asset(group_name="publish", deps=[snapshot_history])
def serving_snapshot(
    context: dg.AssetExecutionContext, settings: ScorecardSettings, warehouse_db: WarehouseDB
) -> dg.MaterializeResult:
    """Swap in the read-only file the dashboard and the CLI read: every complete snapshot in history."""
    config = settings.load()
    path = warehouse_db.warehouse(config)
    if not path.exists():
        raise warehouse.WarehouseError(f"no warehouse at {path} yet: materialise a snapshot first (`scorecard run`)")
    published = publishing.publish(config, path, warehouse_db.serving(config))
    for warning in published.warnings:  # the snapshot itself is published
        context.log.warning(warning)
    # The last step of a run: the values its steps handed each other (distributed executors) are spent.
    drop_run_values(context.run.run_id)
    return dg.MaterializeResult(metadata=published.metadata)


# ------------------------------------------------------- data invariants
#
# Each reads the staged snapshots of its own run (one per date). A failing
# invariant records its reason on the run (status `rejected`; every date of a
# range run, which is checked as one) before Dagster skips the promotion,
# so operators see why in `scorecard snapshots list`, whoever launched the run.


def _staged(con, context) -> None:
    staged = warehouse.staged_run(con)
    if staged != context.run.run_id:
        raise dg.Failure(f"the staged snapshot belongs to run {staged!r}, not to this run")


def _staged_dates(con) -> list:
    return [r[0] for r in con.execute("SELECT DISTINCT snapshot FROM staging.services ORDER BY 1").fetchall()]


def _verdict(context, settings: ScorecardSettings, warehouse_db: WarehouseDB, invariant: str, passed: bool,
             reason: str, metadata: dict) -> dg.AssetCheckResult:
    if not passed:
        path = warehouse_db.warehouse(settings.load())
        with warehouse.connect(path, doing="recording the rejected run") as con:
            warehouse.reject_run(con, context.run.run_id, f"data invariant {invariant} failed: {reason}")
    return dg.AssetCheckResult(passed=passed, metadata=metadata, description=None if passed else reason)


@dg.asset_check(asset=warehouse_snapshot, blocking=True)
def every_service_has_a_score_row(
    context: dg.AssetCheckExecutionContext, settings: ScorecardSettings, warehouse_db: WarehouseDB
) -> dg.AssetCheckResult:
    with warehouse.read_only(warehouse_db.warehouse(settings.load())) as con:
        _staged(con, context)
        missing = con.execute(
            """SELECT s.service, s.snapshot FROM staging.services s
               WHERE NOT EXISTS (SELECT 1 FROM staging.service_scores sc
                                 WHERE sc.service = s.service AND sc.snapshot = s.snapshot)
               ORDER BY 2, 1"""
        ).fetchall()
        dates = _staged_dates(con)
    names = [service if len(dates) == 1 else f"{service} on {day}" for service, day in missing]
    reason = f"{len(missing)} services have no score row (e.g. {', '.join(names[:5])})"
    return _verdict(context, settings, warehouse_db, "every_service_has_a_score_row", not missing, reason,
                    {"services_without_score": names[:20]})


@dg.asset_check(asset=warehouse_snapshot, blocking=True)
def error_findings_share_under_limit(
    context: dg.AssetCheckExecutionContext, settings: ScorecardSettings, warehouse_db: WarehouseDB
) -> dg.AssetCheckResult:
    with warehouse.read_only(warehouse_db.warehouse(settings.load())) as con:
        _staged(con, context)
        # The worst date decides: each date is a snapshot of its own.
        by_date = con.execute(
            """SELECT snapshot, count(*), count(*) FILTER (WHERE status = 'error') FROM staging.check_results
               GROUP BY ALL ORDER BY count(*) FILTER (WHERE status = 'error') / count(*) DESC, 1"""
        ).fetchall()
        day, total, errors = by_date[0] if by_date else (None, 0, 0)
        worst = con.execute(
            """SELECT check_id, count(*) FROM staging.check_results WHERE status = 'error' AND snapshot = ?
               GROUP BY ALL ORDER BY 2 DESC, 1 LIMIT 3""", [day]
        ).fetchall()
    share = errors / total if total else 0.0
    on = f" on {day}" if len(by_date) > 1 else ""
    reason = (f"{share:.1%} of findings are `error`{on} (limit {ERROR_SHARE_LIMIT:.0%}); most from "
              + ", ".join(f"{c} ({n})" for c, n in worst))
    return _verdict(context, settings, warehouse_db, "error_findings_share_under_limit", share <= ERROR_SHARE_LIMIT, reason,
                    {"error_share": share, "limit": ERROR_SHARE_LIMIT, "errors": errors})


@dg.asset_check(asset=warehouse_snapshot, blocking=True)
def no_duplicate_rows_in_snapshot(
    context: dg.AssetCheckExecutionContext, settings: ScorecardSettings, warehouse_db: WarehouseDB
) -> dg.AssetCheckResult:
    keys = {
        "services": "snapshot, service",
        "check_results": "snapshot, service, check_id",
        "service_scores": "snapshot, scorecard, service",
        "dora": "snapshot, service",
    }
    dupes = {}
    with warehouse.read_only(warehouse_db.warehouse(settings.load())) as con:
        _staged(con, context)
        for table, cols in keys.items():
            # Table and column names come from the fixed dict above.
            dupes[table] = con.execute(
                f"SELECT count(*) FROM (SELECT {cols} FROM staging.{table} GROUP BY ALL HAVING count(*) > 1)"
            ).fetchone()[0]
    reason = "duplicate keys in " + ", ".join(f"{t} ({n})" for t, n in dupes.items() if n)
    return _verdict(context, settings, warehouse_db, "no_duplicate_rows_in_snapshot", not any(dupes.values()), reason,
                    {f"duplicates_{k}": v for k, v in dupes.items()})
