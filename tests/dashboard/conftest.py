from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from tests.dashboard.snapshot_fixture import BuiltSnapshot, build_snapshot
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
PAGES = ("adoption", "teams", "service", "checks", "compare")


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuiltSnapshot:
    """One published snapshot file shared by the read-only tests."""
    return build_snapshot(tmp_path_factory.mktemp("scorecard"))


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    # st.cache_data lives in the process, so one test's cached frames must
    # not answer the next test's queries.
    st.cache_data.clear()


@pytest.fixture
def open_page(built: BuiltSnapshot, monkeypatch: pytest.MonkeyPatch):
    """Render one page of the app against ``built`` (or another file), like a browser opening its URL."""

    def _open(page: str, snapshot: Path | None = None, **query: str) -> AppTest:
        monkeypatch.setenv("SCORECARD_SNAPSHOT", str(snapshot or built.serving))
        at = AppTest.from_file(str(APP), default_timeout=30)
        at.query_params.update(query)
        # url_path equals each view's file stem, so switching before the
        # first run lands on the page directly, query string and all.
        at.switch_page(f"views/{page}.py")
        return at.run()

    return _open
