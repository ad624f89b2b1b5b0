"""The app keeps serving while the pipeline publishes new snapshots underneath it."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from tests.dashboard.conftest import APP, PAGES
from tests.dashboard.snapshot_fixture import history_subset
from streamlit.testing.v1 import AppTest

from pipelines import warehouse


def sidebar_caption(at: AppTest) -> str:
    return "\n".join(c.value for c in at.sidebar.caption)


def test_pages_render_while_publishes_swap_the_served_file(built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Last week's history and this week's: two files a publish alternates between.
    older = history_subset(built, tmp_path, list(built.snapshots[:-1]))
    serving = tmp_path / "serving" / "scorecard.duckdb"
    warehouse.publish(older, serving)
    monkeypatch.setenv("SCORECARD_SNAPSHOT", str(serving))

    stop = threading.Event()
    failures: list[BaseException] = []
    publishes = 0

    def keep_publishing() -> None:
        nonlocal publishes
        try:
            while not stop.is_set():
                for wh in (built.warehouse, older):
                    warehouse.publish(wh, serving)
                    publishes += 1
        except BaseException as exc:  # noqa: BLE001 - reported by the test thread
            failures.append(exc)

    publisher = threading.Thread(target=keep_publishing, daemon=True)
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.query_params.update(team=built.regression.team, service=built.regression.service)
    at.run()
    publisher.start()
    renders = 0
    try:
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline or renders < len(PAGES):
            at.switch_page(f"views/{PAGES[renders % len(PAGES)]}.py").run()
            assert not at.exception, [e.value for e in at.exception]
            assert at.title
            renders += 1
    finally:
        stop.set()
        publisher.join(timeout=30)
    assert not failures, failures
    assert publishes >= 4, "the publisher should have swapped the file several times"

    warehouse.publish(older, serving)
    at.switch_page("views/adoption.py").run()
    assert f"{len(built.snapshots) - 1} snapshots" in sidebar_caption(at)
    assert f"{built.previous:%Y-%m-%d}" in at.sidebar.markdown[0].value

    warehouse.publish(built.warehouse, serving)
    at.sidebar.button[0].click().run()
    assert not at.exception
    assert f"{len(built.snapshots)} snapshots" in sidebar_caption(at)
    assert f"{built.latest:%Y-%m-%d}" in at.sidebar.markdown[0].value


def test_dashboard_serves_while_scorecard_run_publishes(scored_org, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real pipeline, in another process, publishing under a serving app."""
    import os
    import subprocess
    import sys

    monkeypatch.setenv("SCORECARD_SNAPSHOT", str(scored_org.serving))
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.query_params.update(service="payments-api")
    at.run()
    before = _published_at(scored_org.serving)
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "run", "--config", str(scored_org.config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "DAGSTER_HOME": ""},
    )
    renders = 0
    try:
        while proc.poll() is None or renders < len(PAGES):
            at.switch_page(f"views/{PAGES[renders % len(PAGES)]}.py").run()
            assert not at.exception, [e.value for e in at.exception]
            renders += 1
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err.decode()[-2000:]
    assert b"Published snapshot" in out
    assert _published_at(scored_org.serving) != before
    at.sidebar.button[0].click().run()  # Refresh
    at.switch_page("views/service.py").run()
    assert not at.exception
    assert any("team **payments** · `payments-api`" in c.value for c in at.caption)


def _published_at(path: Path) -> str:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT value FROM meta WHERE key = 'published_at'").fetchall()[0][0]
    finally:
        con.close()
