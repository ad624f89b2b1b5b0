"""Dagster assets, one group per layer: sources -> evidence -> checks -> scores -> publish.

Assets are thin: each calls one stage function from `pipelines.stages` and
hands the result on. Only `warehouse_snapshot` writes the warehouse, in one
transaction, so a run killed midway leaves neither a partial snapshot nor a
changed serving file.
"""


import datetime as dt

import dagster as dg
import pandas as pd

from pipelines import stages, warehouse
from pipelines.resources import Progress, ScorecardSettings, WarehouseDB
from pipelines.scoring import apply_waivers, score
from pipelines.sources.events import DeploymentEvent, IncidentEvent

ERROR_SHARE_LIMIT = 0.05  # more than 5 % `error` findings means a check is broken, not the services


# ------------------------------------------------------------------ sources


@dg.asset(group_name="sources")
def repo_crawl(context: dg.AssetExecutionContext, settings: ScorecardSettings, progress: dg.ResourceParam[Progress]) -> stages.RepoCrawlResult:
    """Every repository's files, history and tags, as of the snapshot date."""
    config = settings.load()
    result = stages.crawl_repos(stages.repo_sources(config), settings.crawl_point(), progress)
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
    """Deployments and incidents from the configured files and from `scorecard ingest`."""
    config = settings.load()
    events = stages.load_events(config, _ingested(warehouse_db.warehouse(config)))
    context.add_output_metadata({"deployments": len(events.deployments), "incidents": len(events.incidents)})
    return events


def _ingested(path) -> tuple[list[DeploymentEvent], list[IncidentEvent]] | None:
    if not path.exists():
        return None
    with warehouse.read_only(path) as con:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if "deployment_events" not in tables:
            return None
        deps = [
            DeploymentEvent(service=s, environment=e, sha=sha, deployed_at=at, status=st)
            for s, e, sha, at, st in con.execute(
                "SELECT service, environment, sha, deployed_at, status FROM deployment_events"
            ).fetchall()
        ]
        incs = [
            IncidentEvent(service=s, opened_at=o, resolved_at=r, root_cause_sha=c)
            for s, o, r, c in con.execute(
                "SELECT service, opened_at, resolved_at, root_cause_sha FROM incident_events"
            ).fetchall()
        ]
    return deps, incs


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
    records, identity_problems = service_registry
    ctx = config.check_context(as_of)
    status = list(repo_crawl.source_status) + list(delivery_events.status)
    problems = list(repo_crawl.problems) + list(delivery_events.problems) + stages.identity_problems(identity_problems)
    if cluster_crawl is not None:
        c_status, c_problems = stages.cluster_status(cluster_crawl)
        status += c_status
        problems += c_problems
    frames = {
        "source_status": pd.DataFrame(status, columns=["source", "target", "status", "reason", "crawled_at", "items", "last_success_at"]),
        "problems": stages.problems_frame(problems),
        "services": stages.services_frame(records, service_evidence),
        "workloads": stages.workloads_frame(service_evidence, cluster_crawl, records, repo_crawl.crawls),
        "golden_path_adoption": stages.adoption_frame(service_evidence, check_results, ctx),
        "checks": stages.catalogue_frame(config.doc_base_url),
        "check_results": check_results,
        "dora": stages.dora_frame(delivery_metrics, records),
        **service_scores,
    }
    now = dt.datetime.now(dt.UTC)
    run = pd.DataFrame([{
        "run_id": context.run.run_id, "kind": settings.kind, "started_at": now, "finished_at": now,
        "status": "complete", "config_file": str(settings.path()), "services": len(records),
        "repos": len(repo_crawl.crawls), "message": None,
    }])
    with warehouse.connect(warehouse_db.warehouse(config)) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            _fill_last_success(con, frames["source_status"])
            rows = {name: warehouse.replace_snapshot(con, name, as_of, frame) for name, frame in frames.items()}
            warehouse.replace_snapshot(con, "runs", as_of, run)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return dg.MaterializeResult(
        metadata={"snapshot": as_of.isoformat(), "warehouse": str(warehouse_db.warehouse(config)), **{f"rows_{k}": v for k, v in rows.items()}}
    )


def _fill_last_success(con, status: pd.DataFrame) -> None:
    """A target that failed now keeps the time of its last good crawl, for staleness."""
    if status.empty:
        return
    failed = status["last_success_at"].isna()
    if not failed.any():
        return
    prev = con.execute(
        "SELECT source, target, max(last_success_at) FROM source_status WHERE last_success_at IS NOT NULL GROUP BY ALL"
    ).fetchall()
    last = {(s, t): at for s, t, at in prev}
    filled = [
        at if not pd.isna(at) else last.get((s, t))
        for s, t, at in zip(status["source"], status["target"], status["last_success_at"], strict=True)
    ]
    status["last_success_at"] = pd.to_datetime(pd.Series(filled, index=status.index, dtype=object), utc=True)


@dg.asset(group_name="publish", deps=[warehouse_snapshot])
def serving_snapshot(
    context: dg.AssetExecutionContext, settings: ScorecardSettings, warehouse_db: WarehouseDB
) -> dg.MaterializeResult:
    """The read-only file the dashboard reads, swapped in atomically."""
    config = settings.load()
    path = warehouse.publish(warehouse_db.warehouse(config), warehouse_db.serving(config))
    return dg.MaterializeResult(metadata={"path": str(path), "bytes": path.stat().st_size})


# ------------------------------------------------------- data invariants


@dg.asset_check(asset=warehouse_snapshot, blocking=True)
def every_service_has_a_score_row(settings: ScorecardSettings, warehouse_db: WarehouseDB) -> dg.AssetCheckResult:
    config = settings.load()
    with warehouse.read_only(warehouse_db.warehouse(config)) as con:
        missing = con.execute(
            """SELECT s.service FROM services s
               WHERE s.snapshot = ? AND NOT EXISTS (
                   SELECT 1 FROM service_scores sc WHERE sc.snapshot = s.snapshot AND sc.service = s.service)""",
            [settings.as_of_date()],
        ).fetchall()
    return dg.AssetCheckResult(passed=not missing, metadata={"services_without_score": [m[0] for m in missing[:20]]})


@dg.asset_check(asset=warehouse_snapshot, blocking=True)
def error_findings_share_under_limit(settings: ScorecardSettings, warehouse_db: WarehouseDB) -> dg.AssetCheckResult:
    config = settings.load()
    with warehouse.read_only(warehouse_db.warehouse(config)) as con:
        total, errors = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE status = 'error') FROM check_results WHERE snapshot = ?",
            [settings.as_of_date()],
        ).fetchone()
    share = errors / total if total else 0.0
    return dg.AssetCheckResult(
        passed=share <= ERROR_SHARE_LIMIT, metadata={"error_share": share, "limit": ERROR_SHARE_LIMIT, "errors": errors}
    )


@dg.asset_check(asset=warehouse_snapshot, blocking=True)
def no_duplicate_rows_in_snapshot(settings: ScorecardSettings, warehouse_db: WarehouseDB) -> dg.AssetCheckResult:
    config = settings.load()
    keys = {
        "services": "service",
        "check_results": "service, check_id",
        "service_scores": "scorecard, service",
        "dora": "service",
    }
    dupes = {}
    with warehouse.read_only(warehouse_db.warehouse(config)) as con:
        for table, cols in keys.items():
            # Table and column names come from the fixed dict above.
            n = con.execute(
                f"SELECT count(*) FROM (SELECT {cols} FROM {table} WHERE snapshot = ? GROUP BY ALL HAVING count(*) > 1)",
                [settings.as_of_date()],
            ).fetchone()[0]
            dupes[table] = n
    return dg.AssetCheckResult(passed=not any(dupes.values()), metadata={f"duplicates_{k}": v for k, v in dupes.items()})
