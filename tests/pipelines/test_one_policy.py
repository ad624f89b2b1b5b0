"""One rule, one place: change what a warning means for a scorecard and every reader follows.

The small demo organisation is scored twice by the real job, once with the
default policy (an advisory `warn` counts as passing its level) and once with
`warn_passes: false`. For a service whose level rests on a warning, the
Service page, the Teams page, `scorecard explain`, the run summary and the
CSV the pages offer all change together, because they read the meaning the
pipeline published instead of deciding it again.
"""

from __future__ import annotations

import os
import shutil

import duckdb
import pytest
import yaml
from streamlit.testing.v1 import AppTest

from pipelines.cli import main, run_job, summary_table
from pipelines.config import load_config
from pipelines.explain import explain
from tests.dashboard.conftest import APP


def score(small_org_files, tmp_path, warn_passes: bool):
    root, _ = small_org_files
    demo = tmp_path / ("lenient" if warn_passes else "strict")
    shutil.copytree(root / "demo", demo, symlinks=True)
    config_path = demo / "scorecard.yaml"
    data = yaml.safe_load(config_path.read_text())
    for card in data.get("scorecards") or [{"name": "default"}]:
        card["warn_passes"] = warn_passes
    data.setdefault("scorecards", [{"name": "default", "warn_passes": warn_passes}])
    # Each variant its own warehouse and served file (the demo's point at a shared ../warehouse).
    data["warehouse"] = {"path": str(demo / "warehouse.duckdb"), "serving_path": str(demo / "serving.duckdb")}
    config_path.write_text(yaml.safe_dump(data))
    os.environ.pop("DAGSTER_HOME", None)
    assert run_job(config_path).success
    return load_config(config_path)


@pytest.fixture(scope="module")
def both(small_org_files, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("policy")
    return score(small_org_files, tmp, True), score(small_org_files, tmp, False)


def warned_service(config) -> tuple[str, str, str, str]:
    """A service whose default-scorecard level needs a check that only warns: (service, team, check, level)."""
    con = duckdb.connect(str(config.serving_path), read_only=True)
    try:
        found = con.execute(
            """SELECT r.service, r.team, r.check_id, s.level
               FROM scorecard_results r JOIN service_scores s USING (snapshot, scorecard, service)
               WHERE r.scorecard = 'default' AND r.status = 'warn' AND r.level_rank <= s.level_rank
                 AND r.snapshot = (SELECT max(snapshot) FROM runs)
               ORDER BY r.service LIMIT 1"""
        ).fetchone()
    finally:
        con.close()
    assert found, "the demo organisation should have a service whose level rests on a warning"
    return found


def page(config, name: str, **query) -> AppTest:
    import streamlit as st

    os.environ["SCORECARD_SNAPSHOT"] = str(config.serving_path)
    st.cache_data.clear()
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.query_params.update(query)
    app.switch_page(f"views/{name}.py").run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def test_warnings_that_stop_passing_move_every_reader_together(both, monkeypatch):
    lenient, strict = both
    service, team, check, level = warned_service(lenient)

    # explain (text and JSON share the report)
    before = explain(lenient.serving_path, service)
    after = explain(strict.serving_path, service)
    assert before["level"] == level and after["level"] != level
    warned = next(c for c in after["checks"] if c["id"] == check)
    assert warned["status"] == "warn" and warned["blocks_a_level"] and not warned["counts_as_pass"]
    assert not next(c for c in before["checks"] if c["id"] == check)["blocks_a_level"]

    # the run summary: the service left its level
    assert summary_table(lenient) != summary_table(strict)

    # Service page: the level metric, and the warned check listed among what to fix for a level
    monkeypatch.setenv("SCORECARD_SNAPSHOT", str(lenient.serving_path))
    lenient_service = page(lenient, "service", service=service)
    strict_service = page(strict, "service", service=service)
    level_metric = {m.label: m.value for m in lenient_service.metric}["Level"]
    assert level_metric == level.title()
    assert {m.label: m.value for m in strict_service.metric}["Level"] != level.title()
    fixes = " ".join(m.value for m in strict_service.markdown)
    assert check in fixes
    # Teams page: the check now keeps the service from its next level, in the table its CSV
    # download exports (dashboard/ui.py offers every table's frame as the CSV)
    strict_team = page(strict, "teams", team=team)
    blocking = [df.value for df in strict_team.dataframe if "check_id" in df.value.columns]
    assert any(check in set(df["check_id"]) for df in blocking)


def test_explain_json_is_the_same_report(both, capsys):
    lenient, strict = both
    service, *_ = warned_service(lenient)
    assert main(["explain", service, "--config", str(strict.serving_path.parent / "scorecard.yaml"),
                 "--format", "json"]) == 0
    report = yaml.safe_load(capsys.readouterr().out)
    assert report == explain(strict.serving_path, service)
