"""The sensor and schedule, evaluated in-process against a real Dagster instance, then the job they launch."""

from __future__ import annotations

import dagster as dg

from pipelines.definitions import build_definitions
from pipelines.notify.dagster_defs import NOTIFY_JOB
from pipelines.resources import ScorecardSettings
from tests.notify.conftest import SLACK_PATH, config_for


def test_a_publish_triggers_one_notification_run_that_delivers(built, tmp_path, receiver, env, monkeypatch):
    config = config_for(built, tmp_path, default=["slack"])
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    defs = build_definitions()
    sensor = defs.resolve_sensor_def("notify_after_publish_sensor")
    job = defs.resolve_job_def(NOTIFY_JOB)
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, definitions=defs)
        assert not list(sensor.evaluate_tick(context).run_requests)  # nothing published yet

        instance.report_runless_asset_event(dg.AssetMaterialization(asset_key="serving_snapshot"))
        tick = sensor.evaluate_tick(context)
        (request,) = tick.run_requests
        assert request.run_key.startswith("serving_snapshot-")
        # A second tick (a retry, the next interval) sees the cursor past that publish: no second run.
        context.update_cursor(tick.cursor)
        assert not list(sensor.evaluate_tick(context).run_requests)

        run_config = {**request.run_config,
                      "resources": {"settings": {"config": {"config_path": str(tmp_path / "scorecard.yaml")}}}}
        assert dg.validate_run_config(job, run_config)
        result = job.execute_in_process(run_config=run_config, instance=instance)
    assert result.success
    summary = _channels(result)
    assert summary["slack"]["sent"] > 0 and summary["slack"]["failures"] == 0
    assert receiver.at(SLACK_PATH) and config.notifications.default == ["slack"]


def test_a_channel_down_does_not_fail_the_notification_run(built, tmp_path, receiver, env, monkeypatch):
    config_for(built, tmp_path, default=["slack"], max_retries=0)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SLACK_URL", "http://127.0.0.1:9/services/T/B/unreachableSecret99")
    job = build_definitions().resolve_job_def(NOTIFY_JOB)
    run_config = {"resources": {"settings": {"config": {"config_path": str(tmp_path / "scorecard.yaml")}}}}
    with dg.instance_for_test() as instance:
        result = job.execute_in_process(run_config=run_config, instance=instance)
        assert result.success
        assert _channels(result)["slack"]["failures"] > 0
        logs = " ".join(str(e.message) for e in instance.all_logs(result.run_id))
    assert "not delivered" in logs and "unreachableSecret99" not in logs


def _channels(result) -> dict:
    (output,) = [e for e in result.all_node_events if e.event_type_value == "STEP_OUTPUT"]
    return output.event_specific_data.metadata["channels"].value


def test_weekly_schedule_asks_for_the_digest():
    defs = build_definitions()
    schedule = defs.resolve_schedule_def("weekly_digest_schedule")
    assert schedule.cron_schedule == "0 7 * * 1"
    data = schedule.evaluate_tick(dg.build_schedule_context())
    (request,) = data.run_requests
    assert request.run_config["ops"]["send_notifications"]["config"]["digest"] is True
    assert dg.validate_run_config(defs.resolve_job_def(NOTIFY_JOB), request.run_config)


@dg.asset(name="serving_snapshot", required_resource_keys={"settings"})
def stand_in() -> None:
    """Stands in for the real publish: only its materialisation and its run's config matter here."""


def test_the_run_uses_the_config_of_the_run_that_published(tmp_path):

    config = {"resources": {"settings": {"config": {"config_path": str(tmp_path / "published-with.yaml")}}}}
    defs = build_definitions()
    with dg.instance_for_test() as instance:
        assert dg.materialize([stand_in], instance=instance, run_config=config,
                              resources={"settings": ScorecardSettings.configure_at_launch()}).success
        tick = defs.resolve_sensor_def("notify_after_publish_sensor").evaluate_tick(
            dg.build_sensor_context(instance=instance, definitions=defs))
    (request,) = tick.run_requests
    assert request.run_config == config
