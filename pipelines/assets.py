"""Dagster assets, one group per layer: sources -> evidence -> checks -> scores -> publish.

Assets are thin: each calls one stage function from `pipelines.stages` and
hands the result on. `warehouse_snapshot` stages the run's snapshot in one
transaction; the blocking data invariants check it there (and record why when
they reject it); only if all pass does `serving_snapshot` promote it into
history and publish. A run killed or rejected midway therefore leaves neither
a partial snapshot in history nor a changed serving file.
"""


import datetime as dt

import dagster as dg
import pandas as pd

from pipelines import snapshot, stages, warehouse
from pipelines.resources import Progress, ScorecardSettings, WarehouseDB
from pipelines.scoring import apply_waivers, score

ERROR_SHARE_LIMIT = 0.05  # more than 5 % `error` findings means a check is broken, not the services


# ------------------------------------------------------------------ sources


@dg.asset(group_name="sources")
def repo_crawl(context: dg.AssetExecutionContext, settings: ScorecardSettings, progress: dg.ResourceParam[Progress]) -> stages.RepoCrawlResult:
    """Every repository's files, history and tags, as of the snapshot date."""
    config = settings.load()
    result = stages.crawl_repos(stages.repo_sources(config), settings.crawl_point(), progress,
                                budget_seconds=config.sources.repo_crawl_budget_seconds)
    errors = sum(1 for s in result.source_status if s["status"] == "error")
    context.add_output_metadata({"repos": len(result.crawls), "repos_with_errors": errors, "file_problems": len(result.problems),
                                 **stages.report_metadata(result)})
    return result


@dg.asset(group_name="sources")
def cluster_crawl(context: dg.AssetExecutionContext, settings: ScorecardSettings, progress: dg.ResourceParam[Progress]) -> list | None:
    """Workloads and related objects per cluster; None for a past snapshot (state unknown then)."""
    if settings.historical():
        context.add_output_metadata({"clusters": 0, "note": "historical snapshot: cluster state unknown"})
        return None
    crawls = stages.crawl_clusters(settings.load(), progress)
    context.add_output_metadata({"clusters": len(crawls), "clusters_with_errors": sum(1 for c in crawls if c.error)})
    return crawls


@dg.asset(group_name="sources")
def delivery_events(context: dg.AssetExecutionContext, settings: ScorecardSettings, warehouse_db: WarehouseDB) -> stages.Events:
    """Deployments and incidents from the configured files and from `scorecard ingest`, in the metrics' window."""
    config = settings.load()
    events = stages.load_events(config, warehouse_path=warehouse_db.warehouse(config), as_of=settings.as_of_date())
    context.add_output_metadata({"deployments": len(events.deployments), "incidents": len(events.incidents),
                                 "rejected_lines": len(events.problems)})
    return events


# ----------------------------------------------------------------- evidence


@dg.asset(group_name="evidence")
def service_registry(context: dg.AssetExecutionContext, settings: ScorecardSettings, repo_crawl: stages.RepoCrawlResult):
    """Resolved services (catalog, config, repo fallback) and identity problems."""
    records, problems = stages.resolve(repo_crawl.crawls, settings.load(), settings.crawl_point())
    rules = pd.Series([r.identity_rule for r in records]).value_counts().to_dict() if records else {}
    context.add_output_metadata({"services": len(records), **{f"by_{k}": int(v) for k, v in rules.items()}})
    return records, problems


@dg.asset(group_name="evidence")
def delivery_metrics(
    context: dg.AssetExecutionContext,
    settings: ScorecardSettings,
    service_registry,
    repo_crawl: stages.RepoCrawlResult,
    delivery_events: stages.Events,
    cluster_crawl,
) -> pd.DataFrame:
    """DORA metrics per service with tiers (DESIGN.md "Metric definitions")."""
    records, _ = service_registry
    # cluster_crawl: ReplicaSet revisions of production workloads are deploys too.
    df = stages.delivery_metrics(
        records, repo_crawl.crawls, delivery_events, settings.load(), settings.as_of_date(), cluster_crawl
    )
    context.add_output_metadata({"services_with_deployments": len(df)})
    return df


@dg.asset(group_name="evidence")
def service_evidence(
    context: dg.AssetExecutionContext,
    settings: ScorecardSettings,
    warehouse_db: WarehouseDB,
    service_registry,
    repo_crawl: stages.RepoCrawlResult,
    cluster_crawl,
    delivery_metrics: pd.DataFrame,
) -> list:
    """All facts per service, scoped to its path, with its workloads joined by label."""
    records, _ = service_registry
    # A failed cluster's services are named from the warehouse's record of its last good crawl.
    last_good = stages.last_good_crawls(warehouse_db.warehouse(settings.load()), cluster_crawl) if cluster_crawl else {}
    return stages.assemble_evidence(
        records, repo_crawl.crawls, cluster_crawl, delivery_metrics, settings.as_of_date(), last_good
    )


# ------------------------------------------------------------------- checks


@dg.asset(group_name="checks")
def check_results(
    context: dg.AssetExecutionContext, settings: ScorecardSettings, progress: dg.ResourceParam[Progress], service_evidence: list,
    repo_crawl: stages.RepoCrawlResult,
) -> pd.DataFrame:
    """One finding per service and check, with waivers applied."""
    config = settings.load()
    as_of = settings.as_of_date()
    # Known teams: the config's plus the GitHub organisation's teams the crawl found.
    results = stages.evaluate_checks(service_evidence, stages.check_context(config, as_of, repo_crawl), progress)
    results = apply_waivers(results, config, as_of)
    counts = results["status"].value_counts().to_dict() if len(results) else {}
    context.add_output_metadata({f"{k}": int(v) for k, v in counts.items()})
    return results


# ------------------------------------------------------------------- scores


@dg.asset(group_name="scores")
def service_scores(context: dg.AssetExecutionContext, settings: ScorecardSettings, check_results: pd.DataFrame) -> dict:
    """Levels and weighted scores per service, team and organisation, per scorecard."""
    frames = score(check_results, settings.load())
    levels = frames["service_scores"].groupby(["scorecard", "level"]).size()
    context.add_output_metadata({f"{card}/{level}": int(n) for (card, level), n in levels.items()})
    return frames


# ------------------------------------------------------------------ publish


@dg.asset(group_name="publish")
def warehouse_snapshot(
    context: dg.AssetExecutionContext,
    settings: ScorecardSettings,
    warehouse_db: WarehouseDB,
    repo_crawl: stages.RepoCrawlResult,
    cluster_crawl,
    delivery_events: stages.Events,
    service_registry,
    delivery_metrics: pd.DataFrame,
    service_evidence: list,
    check_results: pd.DataFrame,
    service_scores: dict,
) -> dg.MaterializeResult:
    """Write the dated snapshot into the warehouse in one transaction (replacing a re-run)."""
    config = settings.load()
    as_of = settings.as_of_date()
    records, _ = service_registry
    frames = snapshot.snapshot_frames(
        config, as_of, settings.path(), repo_crawl=repo_crawl, cluster_crawl=cluster_crawl, events=delivery_events,
        registry=service_registry, metrics=delivery_metrics, evidence=service_evidence, results=check_results,
        scores=service_scores,
    )
    for warning in snapshot.config_warnings(frames):
        context.log.warning(warning)
    run = {
        "run_id": context.run.run_id, "snapshot": as_of, "kind": settings.kind, "started_at": _run_started(context),
        "finished_at": None, "config_file": str(settings.path()), "services": len(records),
        "repos": len(repo_crawl.crawls), "message": None,
    }
    path = warehouse_db.warehouse(config)
    try:
        with warehouse.connect(path, doing="writing the snapshot") as con, \
                warehouse.transaction(con, path, "writing the snapshot"):
            snapshot.fill_last_success(con, frames["source_status"])
            rows = warehouse.stage_snapshot(con, run, frames)
    except BaseException as exc:
        _record_failed_run(path, run, exc)
        raise
    return dg.MaterializeResult(
        metadata={"snapshot": as_of.isoformat(), "warehouse": str(path), "status": "checking",
                  **{f"rows_{k}": v for k, v in rows.items()}}
    )


def _run_started(context: dg.AssetExecutionContext) -> dt.datetime:
    stats = context.instance.get_run_stats(context.run.run_id)
    started = stats.start_time or stats.launch_time
    return dt.datetime.fromtimestamp(started, dt.UTC) if started else dt.datetime.now(dt.UTC)


def _record_failed_run(path, run: dict, exc: BaseException) -> None:
    """Best effort: leave a `failed` runs row saying why, so operators see the attempt."""
    reason = str(warehouse.friendly_error(exc, path, "writing the snapshot") or f"{type(exc).__name__}: {exc}")
    row = pd.DataFrame([{**run, "status": "failed", "finished_at": dt.datetime.now(dt.UTC), "message": reason[:2000]}])
    try:
        with warehouse.connect(path, wait_seconds=0, doing="recording the failed run") as con:
            warehouse.append_run(con, row.drop(columns="snapshot"), run["snapshot"])
    except Exception:  # noqa: BLE001 - the original error is the one to report; a full disk fails this too
        return


@dg.asset(group_name="publish", deps=[warehouse_snapshot])
def serving_snapshot(
    context: dg.AssetExecutionContext, settings: ScorecardSettings, warehouse_db: WarehouseDB
) -> dg.MaterializeResult:
    """Promote the checked snapshot into history, then swap the read-only file the dashboard reads.

    Runs only when every blocking invariant on `warehouse_snapshot` passed.
    """
    config = settings.load()
    path = warehouse_db.warehouse(config)
    keep_from = dt.datetime.now(dt.UTC) - dt.timedelta(days=config.sources.delivery.event_retention_days)
    with warehouse.connect(path, doing="promoting the snapshot") as con, \
            warehouse.transaction(con, path, "promoting the snapshot"):
        snapshot = warehouse.promote(con, context.run.run_id)
        pruned = warehouse.prune_events(con, keep_from)
    served = warehouse.publish(path, warehouse_db.serving(config))
    return dg.MaterializeResult(metadata={
        "snapshot": snapshot.isoformat(), "path": str(served), "bytes": served.stat().st_size,
        "pruned_deployment_events": pruned[0], "pruned_incident_events": pruned[1],
    })


# ------------------------------------------------------- data invariants
#
# Each reads the staged snapshot of its own run. A failing invariant records
# its reason on the run (status `rejected`) before Dagster skips the publish,
# so operators see why in `scorecard snapshots list`, whoever launched the run.


def _staged(con, context) -> None:
    staged = warehouse.staged_run(con)
    if staged != context.run.run_id:
        raise dg.Failure(f"the staged snapshot belongs to run {staged!r}, not to this run")


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
        missing = [m[0] for m in con.execute(
            """SELECT s.service FROM staging.services s
               WHERE NOT EXISTS (SELECT 1 FROM staging.service_scores sc WHERE sc.service = s.service)
               ORDER BY 1"""
        ).fetchall()]
    reason = f"{len(missing)} services have no score row (e.g. {', '.join(missing[:5])})"
    return _verdict(context, settings, warehouse_db, "every_service_has_a_score_row", not missing, reason, {"services_without_score": missing[:20]})


@dg.asset_check(asset=warehouse_snapshot, blocking=True)
def error_findings_share_under_limit(
    context: dg.AssetCheckExecutionContext, settings: ScorecardSettings, warehouse_db: WarehouseDB
) -> dg.AssetCheckResult:
    with warehouse.read_only(warehouse_db.warehouse(settings.load())) as con:
        _staged(con, context)
        total, errors = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE status = 'error') FROM staging.check_results"
        ).fetchone()
        worst = con.execute(
            """SELECT check_id, count(*) FROM staging.check_results WHERE status = 'error'
               GROUP BY ALL ORDER BY 2 DESC, 1 LIMIT 3"""
        ).fetchall()
    share = errors / total if total else 0.0
    reason = (f"{share:.1%} of findings are `error` (limit {ERROR_SHARE_LIMIT:.0%}); most from "
              + ", ".join(f"{c} ({n})" for c, n in worst))
    return _verdict(context, settings, warehouse_db, "error_findings_share_under_limit", share <= ERROR_SHARE_LIMIT, reason,
                    {"error_share": share, "limit": ERROR_SHARE_LIMIT, "errors": errors})


@dg.asset_check(asset=warehouse_snapshot, blocking=True)
def no_duplicate_rows_in_snapshot(
    context: dg.AssetCheckExecutionContext, settings: ScorecardSettings, warehouse_db: WarehouseDB
) -> dg.AssetCheckResult:
    keys = {
        "services": "service",
        "check_results": "service, check_id",
        "service_scores": "scorecard, service",
        "dora": "service",
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
