"""The serving step refreshes the static exports after each publish; failing to never unpublishes."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from tests.exports.conftest import hostile_org, scorecard


def published(serving) -> tuple[int, str]:
    con = duckdb.connect(str(serving), read_only=True)
    try:
        services = con.execute("SELECT count(*) FROM services").fetchone()[0]
        return services, con.execute("SELECT value FROM meta WHERE key = 'published_at'").fetchone()[0]
    finally:
        con.close()


def test_a_run_writes_metrics_and_badges_next_to_the_published_snapshot(hostile):
    static = hostile.serving.parent / "static"
    text = (static / "metrics.txt").read_text(encoding="utf-8")
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert families["scorecard_snapshot"].samples[0].labels["published_at"] == published(hostile.serving)[1]
    assert text == scorecard("export", "metrics", "--config", str(hostile.config), "--out", "-").stdout
    assert (static / "badges" / "index.json").is_file()
    assert not [p for p in static.iterdir() if p.name.startswith(".")]  # no temp files left behind


def test_exports_that_cannot_be_written_are_logged_and_the_snapshot_still_published(tmp_path):
    config = hostile_org(tmp_path)
    static = tmp_path / "serving" / "static"
    static.parent.mkdir()
    static.write_text("a file where the exports folder goes")

    proc = scorecard("run", "--config", str(config))
    assert proc.returncode == 0 and "Published snapshot" in proc.stdout
    assert "exports not refreshed: could not write the metrics file at" in proc.stderr
    assert "could not write the badges at" in proc.stderr and "the snapshot itself is published" in proc.stderr
    services, _ = published(tmp_path / "serving" / "scorecard.duckdb")
    assert services == 4
    assert static.read_text() == "a file where the exports folder goes"


def test_the_step_logs_the_reason_in_the_dagster_run(tmp_path, monkeypatch):
    import dagster as dg

    from pipelines.cli import run_job

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    config = hostile_org(tmp_path)
    (tmp_path / "serving").mkdir()
    (tmp_path / "serving" / "static").write_text("blocked")
    instance = dg.DagsterInstance.ephemeral()
    result = run_job(config, dt.datetime.now(dt.UTC).date(), instance=instance)
    assert result.success
    messages = [entry.user_message for entry in instance.all_logs(result.run_id)]
    assert any("exports not refreshed: could not write the metrics file" in m for m in messages)
    (materialised,) = [e for e in result.get_asset_materialization_events()
                       if e.asset_key == dg.AssetKey("serving_snapshot")]
    metadata = materialised.event_specific_data.materialization.metadata
    assert metadata["exports_ok"].value is False


def test_deleting_a_snapshot_republishes_and_refreshes_the_exports(tmp_path):
    config = hostile_org(tmp_path)
    scorecard("run", "--config", str(config))
    static = tmp_path / "serving" / "static"
    assert len(json.loads((static / "badges" / "index.json").read_text(encoding="utf-8"))["badges"]) == 8

    today = dt.datetime.now(dt.UTC).date().isoformat()
    scorecard("snapshots", "delete", today, "--config", str(config))
    # No snapshot is published any more: no badge, and no snapshot in the metrics.
    index = json.loads((static / "badges" / "index.json").read_text(encoding="utf-8"))
    assert index == {"snapshot": None, "badges": []}
    assert not list((static / "badges").rglob("*.svg"))
    families = {f.name: f for f in text_string_to_metric_families((static / "metrics.txt").read_text(encoding="utf-8"))}
    assert families["scorecard_snapshot"].samples == []
