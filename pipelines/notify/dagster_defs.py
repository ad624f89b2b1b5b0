"""Dagster wiring for notifications: a job, the sensor that runs it after each publish, the weekly digest.

The sensor watches `serving_snapshot` (the atomic publish): each new
materialisation asks for one run of ``send_notifications_job`` with a run
key naming that materialisation (Dagster launches a run key once), so a sensor tick that is retried or
evaluated twice never launches a second run for the same publish (and the
delivery log stops a re-sent message in any case). The job is separate
from the scoring job on purpose: a channel that is down never fails or
slows the scoring run, and its failure shows as this job's own result.
"""

# No `from __future__ import annotations`: Dagster reads the op's annotations at runtime.

import dagster as dg

from pipelines.resources import ScorecardSettings

NOTIFY_JOB = "send_notifications_job"
SERVING_SNAPSHOT = dg.AssetKey("serving_snapshot")


class NotifyConfig(dg.Config):
    digest: bool = False  # also each team's weekly digest (the schedule sets it)
    since: str | None = None  # compare with the newest snapshot on or before this date (YYYY-MM-DD)


# Nothing-typed output: no value for the run's IO manager (keyed by asset) to store, only its metadata.
@dg.op(description="Send the latest published snapshot's alerts (and digest) to the configured channels.",
       out=dg.Out(dg.Nothing))
def send_notifications(context: dg.OpExecutionContext, config: NotifyConfig, settings: ScorecardSettings):
    import datetime as dt

    from pipelines.notify import notify

    report = notify(settings.load(), digest=config.digest,
                    since=dt.date.fromisoformat(config.since) if config.since else None)
    if report.problem:
        context.log.warning(report.problem)
    for c in report.channels.values():
        if c.unconfigured:
            context.log.info(f"{c.channel}: {c.unconfigured}")
    for reason in report.failures:
        context.log.warning(f"not delivered: {reason}")
    summary = {c.channel: {"sent": c.sent, "already_delivered": c.duplicates, "failures": len(c.failures)}
               for c in report.channels.values()}
    yield dg.Output(None, metadata={"snapshot": str(report.snapshot), "channels": summary,
                                    "failures": report.failures})


@dg.job(name=NOTIFY_JOB, executor_def=dg.in_process_executor,
        description="Alerts and the weekly digest; never part of the scoring run, so a channel down never fails it.")
def send_notifications_job():
    send_notifications()


def _settings_config(context: dg.SensorEvaluationContext, run_id: str | None) -> dict:
    """The scoring run's own `settings` resource config, so the notifier reads the config that run published."""
    run = context.instance.get_run_by_id(run_id) if run_id else None
    settings = ((run.run_config or {}).get("resources") or {}).get("settings") if run else None
    return {"resources": {"settings": settings}} if settings else {}


@dg.asset_sensor(asset_key=SERVING_SNAPSHOT, job=send_notifications_job, name="notify_after_publish_sensor",
                 minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING)
def notify_after_publish_sensor(context: dg.SensorEvaluationContext, asset_event: dg.EventLogEntry):
    # The entry carries no storage id; its run and timestamp name this one publish just as well.
    return dg.RunRequest(run_key=f"serving_snapshot-{asset_event.run_id or 'runless'}-{asset_event.timestamp}",
                         run_config=_settings_config(context, asset_event.run_id))


# Mondays 07:00 UTC, after the daily crawl (05:00): the digest describes the week's last snapshot.
weekly_digest_schedule = dg.ScheduleDefinition(
    name="weekly_digest_schedule", job=send_notifications_job, cron_schedule="0 7 * * 1",
    execution_timezone="UTC", run_config={"ops": {"send_notifications": {"config": {"digest": True}}}})
