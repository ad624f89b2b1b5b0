"""Launch the crawl-and-score job on the local cluster's Dagster instance, its steps on Celery workers.

`scorecard run` executes in-process (pipelines/runs.py). A run on Celery workers must
be reconstructable by each worker, so it is launched with ``dagster.execute_job`` on
the job as the code location defines it (`pipelines.definitions`), with the run
config and partition `scorecard run` uses. The launching process must load the
definitions with the cluster's environment (SCORECARD_EXECUTOR=celery, the broker,
the shard count), as the workers do: a process that imported them before (a
pytest session) holds definitions built for in-process runs, so the launch happens
in a fresh child process.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_on_cluster(config: Path, env: Mapping[str, str], as_of: dt.date | None = None,
                   timeout: float = 600.0) -> tuple[str, bool, float]:
    """Run and publish one snapshot through the instance in env's DAGSTER_HOME.

    Returns the run id, whether it succeeded, and its wall time from launch to end
    (the child's own start-up not counted).
    """
    args = [str(Path(config).resolve()), as_of.isoformat() if as_of else ""]
    proc = subprocess.run(
        [sys.executable, "-c", f"import json, tests.cluster_runs as c; print(json.dumps(c._launch(*{args!r})))"],
        cwd=ROOT, env=dict(env), capture_output=True, text=True, timeout=timeout, check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"launching the run on the cluster failed:\n{proc.stderr[-3000:]}")
    run_id, success, seconds = json.loads(proc.stdout.strip().splitlines()[-1])
    return run_id, success, seconds


def _launch(config: str, as_of: str) -> tuple[str, bool, float]:
    import time

    import dagster as dg
    from dagster._core.definitions.reconstruct import ReconstructableRepository

    from pipelines import history
    from pipelines.definitions import CRAWL_AND_SCORE_JOB
    from pipelines.runs import _run_config

    day = dt.date.fromisoformat(as_of) if as_of else history.utc_today()
    job = ReconstructableRepository.for_module("pipelines.definitions", "defs", str(ROOT)).get_reconstructable_job(
        CRAWL_AND_SCORE_JOB)
    started = time.monotonic()
    with dg.DagsterInstance.get() as instance, dg.execute_job(
            job, instance=instance, run_config=_run_config(Path(config)),
            tags={"dagster/partition": day.isoformat()}) as result:
        return result.run_id, result.success, time.monotonic() - started


def differences(a: dict[str, list[tuple]], b: dict[str, list[tuple]], limit: int = 3) -> list[str]:
    """What differs between two tests.warehouse_query.published_tables() results, briefly ([] when equal)."""
    out = []
    for table in sorted(set(a) | set(b)):
        if table not in a or table not in b:
            out.append(f"{table}: only in {'the first' if table in a else 'the second'}")
        elif a[table] != b[table]:
            in_a, in_b = {repr(r) for r in a[table]}, {repr(r) for r in b[table]}  # rows may hold lists
            out.append(f"{table}: {len(a[table])} vs {len(b[table])} rows; only in the first: "
                       f"{[r for r in a[table] if repr(r) not in in_b][:limit]}; only in the second: "
                       f"{[r for r in b[table] if repr(r) not in in_a][:limit]}")
    return out
