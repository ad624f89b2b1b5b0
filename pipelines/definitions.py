"""Dagster entry point: wiring only (assets, checks, job, schedule, resources, executor)."""

import os

import dagster as dg

from pipelines import assets, secrets
from pipelines.config import DEFAULT_GITHUB_TOKEN_ENV
from pipelines.notify import dagster_defs as notify_defs
from pipelines.resources import Progress, ScorecardSettings, SourceCredentials, WarehouseDB, run_memory_io_manager
from pipelines.sources.local_git import RepoReads

CRAWL_AND_SCORE_JOB = "crawl_and_score_job"
# Runs carrying this tag are queued one at a time when the instance limits it
# (`concurrency.runs.tag_concurrency_limits` in dagster.yaml, as `make dev` writes it).
RUN_QUEUE_TAG = "scorecard/warehouse"


def build_definitions(progress: Progress | None = None, repo_reads: RepoReads | None = None) -> dg.Definitions:
    """The code location; the CLI builds its own with a terminal progress reporter.

    ``repo_reads``: shared by every run of these definitions (the runs of one
    `scorecard backfill`); without it each run reads the repositories afresh.
    """
    # Every log line of the run (ours, PyGithub's, Dagster's event log) is redacted:
    # the one process-wide hook a Dagster code location offers is building its definitions.
    secrets.install_log_redaction()
    job = dg.define_asset_job(
        name=CRAWL_AND_SCORE_JOB,
        selection=dg.AssetSelection.all(),
        description="Crawl every source, run the check library, score services and publish the snapshot of each date.",
        # Steps hand large in-memory results to each other and the crawl is
        # already concurrent; a process per step costs ~4 s each on 2 cores
        # (97 s vs 6 s for the demo). Distributed runs swap the executor.
        executor_def=dg.in_process_executor,
        tags={RUN_QUEUE_TAG: "default"},
    )
    # Each tick materialises the partition of its own date (UTC): today's snapshot.
    schedule = dg.build_schedule_from_partitioned_job(job, name="daily_crawl_schedule", hour_of_day=5, minute_of_hour=0)
    # Launch-time config (the CLI's run config, the launchpad) also reaches the
    # warehouse resource, which needs it to find the warehouse it locks.
    settings = ScorecardSettings.configure_at_launch()
    credentials = SourceCredentials(github_token=_optional_env(DEFAULT_GITHUB_TOKEN_ENV))
    return dg.Definitions(
        assets=dg.load_assets_from_modules([assets]),
        asset_checks=dg.load_asset_checks_from_modules([assets]),
        jobs=[job, notify_defs.send_notifications_job],
        schedules=[schedule, notify_defs.weekly_digest_schedule],
        sensors=[notify_defs.notify_after_publish_sensor],
        resources={
            "settings": settings, "warehouse_db": WarehouseDB(settings=settings), "progress": progress or Progress(),
            "source_credentials": credentials, "io_manager": run_memory_io_manager,
            "repo_reads": dg.ResourceDefinition.hardcoded_resource(repo_reads) if repo_reads
            else dg.ResourceDefinition(lambda _: RepoReads(), description="RepoReads, new for each run"),
        },
        # Also for the runs Dagster builds from an asset selection (the UI's
        # Materialize, backfills, `dagster asset materialize`): one process per run.
        executor=dg.in_process_executor,
    )


def _optional_env(name: str) -> dg.EnvVar | None:
    """``dg.EnvVar(name)`` where the variable is set, else None (the source it serves is optional).

    A ``dg.EnvVar`` has no default (dagster-io/dagster#16232): bound to an
    unset variable it fails every run at launch, local-only runs included.
    Only whether it is set is read here; its value is resolved when a run
    starts. A code location's runs see the environment it loaded with
    (`dagster dev` also loads `.env`), so set the variable before starting it.
    """
    return dg.EnvVar(name) if name in os.environ else None


defs = build_definitions()
