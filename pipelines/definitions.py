"""Dagster entry point: wiring only (assets, checks, job, schedule, resources, executor)."""

import os

import dagster as dg

from pipelines import assets, secrets, shards
from pipelines.config import DEFAULT_GITHUB_TOKEN_ENV
from pipelines.notify import dagster_defs as notify_defs
from pipelines.resources import (
    Progress,
    ScorecardSettings,
    SourceCredentials,
    WarehouseDB,
    run_files_io_manager,
    run_memory_io_manager,
)
from pipelines.sources.local_git import RepoReads

CRAWL_AND_SCORE_JOB = "crawl_and_score_job"
# Runs carrying this tag are queued one at a time when the instance limits it
# (`concurrency.runs.tag_concurrency_limits` in dagster.yaml, as `make dev` writes it).
RUN_QUEUE_TAG = "scorecard/warehouse"

# How the steps of a run execute (read when the definitions load, like the shard counts):
# in_process (the default: one process, values in memory), celery (steps on Celery
# workers, broker from SCORECARD_CELERY_BROKER), k8s (a Kubernetes Job per step).
EXECUTOR_ENV = "SCORECARD_EXECUTOR"
CELERY_BROKER_ENV = "SCORECARD_CELERY_BROKER"
CELERY_BACKEND_ENV = "SCORECARD_CELERY_BACKEND"
K8S_MAX_CONCURRENT_ENV = "SCORECARD_K8S_MAX_CONCURRENT"  # step pods of one run at a time (unset: no limit)


class ExecutorSettingError(ValueError):
    """SCORECARD_EXECUTOR or what it needs is not set right; the message says what to set."""


def executor_and_io_manager(environ=None) -> tuple[dg.ExecutorDefinition, dg.IOManagerDefinition]:
    """The executor ``SCORECARD_EXECUTOR`` names, and how its steps hand values to each other."""
    env = os.environ if environ is None else environ
    name = env.get(EXECUTOR_ENV, "").strip() or "in_process"
    if name == "in_process":
        # Steps hand large in-memory results to each other and the crawl is
        # already concurrent; a process per step costs ~4 s each on 2 cores
        # (97 s vs 6 s for the demo).
        return dg.in_process_executor, run_memory_io_manager
    if name == "celery":
        from dagster_celery import celery_executor

        if not env.get(CELERY_BROKER_ENV, "").strip():
            raise ExecutorSettingError(
                f"{EXECUTOR_ENV}=celery needs {CELERY_BROKER_ENV} (e.g. redis://127.0.0.1:6379/0; after `make cluster-up`, "
                "`. .cluster/env.sh` sets it)")
        # By variable name, not value: the broker URL may hold a password, and run config is shown in the UI.
        backend = CELERY_BACKEND_ENV if env.get(CELERY_BACKEND_ENV, "").strip() else CELERY_BROKER_ENV
        return celery_executor.configured(
            {"broker": {"env": CELERY_BROKER_ENV}, "backend": {"env": backend}}, name="celery"
        ), run_files_io_manager
    if name == "k8s":
        from dagster_k8s import k8s_job_executor

        # Configured only when set: an {"env": ...} value whose variable is missing fails every run at launch.
        if env.get(K8S_MAX_CONCURRENT_ENV, "").strip():
            return k8s_job_executor.configured(
                {"max_concurrent": {"env": K8S_MAX_CONCURRENT_ENV}}, name="k8s"), run_files_io_manager
        return k8s_job_executor, run_files_io_manager
    raise ExecutorSettingError(f"{EXECUTOR_ENV}={name!r}: expected in_process, celery or k8s")


def build_definitions(progress: Progress | None = None, repo_reads: RepoReads | None = None) -> dg.Definitions:
    """The code location; the CLI builds its own with a terminal progress reporter.

    ``repo_reads``: shared by every run of these definitions (the runs of one
    `scorecard backfill`); without it each run reads the repositories afresh.
    """
    # Every log line of the run (ours, PyGithub's, Dagster's event log) is redacted:
    # the one process-wide hook a Dagster code location offers is building its definitions.
    secrets.install_log_redaction()
    executor, io_manager = executor_and_io_manager()
    job = dg.define_asset_job(
        name=CRAWL_AND_SCORE_JOB,
        selection=dg.AssetSelection.all(),
        description="Crawl every source, run the check library, score services and publish the snapshot of each date.",
        executor_def=executor,
        tags={RUN_QUEUE_TAG: "default"},
    )
    # Each tick materialises the partition of its own date (UTC): today's snapshot.
    schedule = dg.build_schedule_from_partitioned_job(job, name="daily_crawl_schedule", hour_of_day=5, minute_of_hour=0)
    # Launch-time config (the CLI's run config, the launchpad) also reaches the
    # warehouse resource, which needs it to find the warehouse it locks.
    settings = ScorecardSettings.configure_at_launch()
    credentials = SourceCredentials(github_token=_optional_env(DEFAULT_GITHUB_TOKEN_ENV))
    return dg.Definitions(
        assets=[*dg.load_assets_from_modules([assets]), *assets.crawl_assets(
            shards.shard_count(shards.REPO_SHARDS_ENV), shards.shard_count(shards.CLUSTER_SHARDS_ENV))],
        asset_checks=dg.load_asset_checks_from_modules([assets]),
        jobs=[job, notify_defs.send_notifications_job],
        schedules=[schedule, notify_defs.weekly_digest_schedule],
        sensors=[notify_defs.notify_after_publish_sensor],
        resources={
            "settings": settings, "warehouse_db": WarehouseDB(settings=settings), "progress": progress or Progress(),
            "source_credentials": credentials, "io_manager": io_manager,
            "repo_reads": dg.ResourceDefinition.hardcoded_resource(repo_reads) if repo_reads
            else dg.ResourceDefinition(lambda _: RepoReads(), description="RepoReads, new for each run"),
        },
        # Also for the runs Dagster builds from an asset selection (the UI's
        # Materialize, backfills, `dagster asset materialize`).
        executor=executor,
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
