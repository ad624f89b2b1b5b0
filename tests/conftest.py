"""Shared fixtures: a small generated organisation, scored once per test session."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

# CI=true: a browser, corpus or real-repository test that skips fails instead.
pytest_plugins = ["tests.ci_required"]

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


@dataclass
class ScoredOrg:
    root: Path
    config: Path
    summary: object
    result: object

    @property
    def serving(self) -> Path:
        return self.root / "serving" / "scorecard.duckdb"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse" / "scorecard.duckdb"


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@pytest.fixture(scope="session")
def small_org_files(tmp_path_factory) -> tuple[Path, object]:
    """A 16-repo, 4-team demo organisation with 60 days of history, ending today."""
    from pipelines.demo.generate import generate_demo

    root = tmp_path_factory.mktemp("org")
    summary = generate_demo(root / "demo", repos=16, teams=4, days=60, end=today())
    return root, summary


@pytest.fixture(scope="session")
def scored_org(small_org_files) -> ScoredOrg:
    """The small organisation after one in-process run of the Dagster job."""
    from pipelines.cli import run_job

    root, summary = small_org_files
    config = root / "demo" / "scorecard.yaml"
    os.environ.pop("DAGSTER_HOME", None)  # an ephemeral instance: tests leave nothing behind
    result = run_job(config)
    assert result.success, "the crawl-and-score job failed on the small demo org"
    return ScoredOrg(root, config, summary, result)


@pytest.fixture
def private_org(small_org_files, tmp_path) -> ScoredOrg:
    """A copy of the small organisation, scored once, for tests that add snapshots or events."""
    import shutil

    from pipelines.cli import run_job

    root, summary = small_org_files
    shutil.copytree(root / "demo", tmp_path / "demo", symlinks=True)
    config = tmp_path / "demo" / "scorecard.yaml"
    os.environ.pop("DAGSTER_HOME", None)
    result = run_job(config)
    assert result.success
    return ScoredOrg(tmp_path, config, summary, result)


@pytest.fixture(scope="session")
def rule_change_org(small_org_files, tmp_path_factory) -> ScoredOrg:
    """A copy of the small organisation scored a week ago under looser rules, and today under its own.

    ``before.yaml`` allows the base Helm chart two releases behind; the
    organisation's ``scorecard.yaml`` (today's rules) allows one: the rule
    change takes effect at today's snapshot (tests/pipelines/test_preview.py).
    """
    import shutil

    from pipelines.cli import run_job

    root, summary = small_org_files
    here = tmp_path_factory.mktemp("rule-change")
    shutil.copytree(root / "demo", here / "demo", symlinks=True)
    config = here / "demo" / "scorecard.yaml"
    before = config.with_name("before.yaml")
    before.write_text(config.read_text() + "\nthresholds:\n  helm_chart_max_releases_behind: 2\n")
    os.environ.pop("DAGSTER_HOME", None)
    assert run_job(before, today() - dt.timedelta(days=7), kind="backfill").success
    result = run_job(config)
    assert result.success
    return ScoredOrg(here, config, summary, result)


@pytest.fixture(scope="session", autouse=True)
def _no_streamlit_magic():
    """As .streamlit/config.toml says, whatever directory a test runs from: magic makes
    Streamlit ast.parse each page, which races other threads on CPython 3.11 (gh-106905)."""
    import streamlit.config

    streamlit.config.set_option("runner.magicEnabled", False)
