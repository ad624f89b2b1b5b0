from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.realrepos import REALREPOS


@pytest.fixture(scope="session")
def realrepos_serving(tmp_path_factory) -> Path:
    """One real in-process run of the job over the four repositories; the published file."""
    if not REALREPOS.is_dir():
        pytest.fail(f"CI=true but the real repositories are missing at {REALREPOS}")
    from pipelines.cli import run_job

    work = tmp_path_factory.mktemp("realrepos")
    config = work / "scorecard.yaml"
    config.write_text(f"sources:\n  repos:\n    - root: {REALREPOS}\n")
    os.environ.pop("DAGSTER_HOME", None)
    assert run_job(config).success
    return work / "serving" / "scorecard.duckdb"
