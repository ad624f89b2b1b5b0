"""The dashboard's fixture is what the pipeline publishes, not a look-alike.

The builder calls the stage functions itself (a Dagster run per snapshot
would cost minutes); this holds it to the crawl-and-score job: for the same
organisation and date, every table it stored equals what the job stores.
"""

from __future__ import annotations

import os
import re
import shutil

import pandas as pd

from checks.catalogue import all_checks
from pipelines import warehouse
from pipelines.cli import run_job

# When each row was crawled or written differs between two runs; nothing else may.
RUN_TIMES = {"crawled_at", "last_success_at"}


def stored(path, day, root) -> dict[str, pd.DataFrame]:
    out = {}
    with warehouse.read_only(path) as con:
        for table in warehouse.SNAPSHOT_TABLES:
            if table == "runs":
                continue
            # Table names come from warehouse.SNAPSHOT_TABLES, not from input.
            df = con.execute(f"SELECT * FROM {table} WHERE snapshot = ?", [day]).df()
            df = df.drop(columns=[c for c in df.columns if c in RUN_TIMES])
            # Paths of the organisation's files (a missing deploy log's error) name its directory.
            df = df.replace(re.escape(str(root)), "<org>", regex=True)
            out[table] = df.sort_values(list(df.columns)).reset_index(drop=True)
    return out


def test_the_job_stores_the_same_snapshot_as_the_fixture(built, tmp_path) -> None:
    shutil.copytree(built.root / "demo", tmp_path / "demo", symlinks=True)
    os.environ.pop("DAGSTER_HOME", None)
    day = built.previous
    assert run_job(tmp_path / "demo" / "scorecard.yaml", day, kind="backfill").success

    job = stored(tmp_path / "warehouse" / "scorecard.duckdb", day, tmp_path)
    fixture = stored(built.warehouse, day, built.root)
    assert len(fixture["check_results"]) == len(all_checks()) * len(fixture["services"]) > 0
    for table, expected in job.items():
        pd.testing.assert_frame_equal(fixture[table], expected, obj=table)
