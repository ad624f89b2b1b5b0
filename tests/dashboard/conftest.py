from __future__ import annotations

import contextlib
import fcntl
import os
import pickle
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.dashboard.snapshot_fixture import BuiltSnapshot, build_snapshot

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
PAGES = ("adoption", "teams", "service", "checks", "compare", "initiatives", "roi")


@contextlib.contextmanager
def _exclusive(lock: Path) -> Iterator[None]:
    with lock.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuiltSnapshot:
    """The published history the read-only tests share.

    Built once per test run: under pytest-xdist the first worker to ask builds
    it in the run's common temp directory, the others wait for it and load it.
    """
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # pytest-N/, the parent of every worker's popen-gwN/
    root = shared / "dashboard-history"
    done = shared / "dashboard-history.pickle"
    with _exclusive(shared / "dashboard-history.lock"):
        if done.exists():
            return pickle.loads(done.read_bytes())
        shutil.rmtree(root, ignore_errors=True)  # a worker that died mid-build left it half done
        root.mkdir()
        history = build_snapshot(root)
        done.write_bytes(pickle.dumps(history))
        return history


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
