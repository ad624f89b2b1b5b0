"""The crawl-and-score job on the four real repositories of ../shared/realrepos.

A cold run (fresh warehouse and crawl cache) and a warm one, with what the
scorecard found: services, workloads joined, orphans.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import duckdb

from tests.bench.targets import Targets
from tests.realrepos import REALREPOS


def main() -> None:
    if not REALREPOS.is_dir():
        raise RuntimeError(f"needs the real repositories at {REALREPOS}")
    from pipelines.cli import run_job

    os.environ.pop("DAGSTER_HOME", None)
    work = Path(tempfile.mkdtemp(prefix="bench-realrepos-"))
    try:
        config = work / "scorecard.yaml"
        config.write_text(f"sources:\n  repos:\n    - root: {REALREPOS}\n")
        started = time.monotonic()
        assert run_job(config).success
        cold = time.monotonic() - started
        started = time.monotonic()
        assert run_job(config).success
        warm = time.monotonic() - started
        con = duckdb.connect(str(work / "serving" / "scorecard.duckdb"), read_only=True)
        services = con.execute("SELECT count(*) FROM services").fetchone()[0]
        joined, orphans = con.execute(
            "SELECT count(*) FILTER (WHERE service IS NOT NULL), count(*) FILTER (WHERE service IS NULL) FROM workloads"
        ).fetchone()
        con.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    t = Targets()
    print(f"## Real repositories ({REALREPOS}): {services} services, {joined} workloads joined, {orphans} orphans")
    print(f"  whole Dagster job, cold crawl cache : {cold:7.1f} s   {t.below('real repos job', cold, 60)}")
    print(f"  whole job again, unchanged repos    : {warm:7.1f} s")
    t.check()


if __name__ == "__main__":
    main()
