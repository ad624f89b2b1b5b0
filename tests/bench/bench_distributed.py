"""Benchmark: the crawl-and-score job on the 1,000-repo organisation, in-process vs over Celery workers.

The same organisation (tests/bench/bench_job.py generates it), the same date, a
cold crawl cache each time: first in one process as `scorecard run` runs it
(in-process executor, one crawl shard), then on the local cluster
(pipelines/cluster.py: Dagster's instance on PostgreSQL, Celery over Redis)
with N = 2 and N = 4 workers and N crawl shards. Each run is launched from a
fresh child process; the wall time is the run's, from launch to its published
snapshot (the cluster's start-up is printed apart, not counted).

Targets: every distributed run succeeds and publishes the same rows as the
in-process run (tests/warehouse_query.py published_tables: every served table,
run ids and clocks aside). The time ratio is printed, with a bound that guards the overhead of
distribution, not a speed-up: this machine has 2 cores, and the in-process
run already keeps both busy (the crawl is threaded), so N workers cannot beat
it here; what they add is each step's start-up on a worker and the values
the steps hand each other through files instead of memory. See RATIO_BOUND.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tests.bench.bench_job import _generate
from tests.bench.targets import Targets
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / "bench-out"
OUT = WORK / "distributed"
WORKER_COUNTS = (2, 4)
# Distributed wall time / in-process wall time must stay below this. On 2 cores the
# distributed run can only be slower (see the module docstring): about a dozen steps
# run one after another, each paying a task hand-off (dagster-celery polls its results
# once a second), a Dagster step start-up in the worker and the pickles RunFiles writes
# and reads. Measured here on 2026-12-03: 1.7x with 2 workers, 2.0x with 4 (four
# workers share two cores). 3x leaves room for a busy shared machine, and still fails
# if what distribution costs per step doubles.
RATIO_BOUND = 3.0


def _configs(org: Path) -> dict[str, Path]:
    """One config per run, next to the organisation's (its relative paths resolve the same), each with
    its own warehouse and served file, so no run reads another's crawl cache or snapshot."""
    import yaml

    source = yaml.safe_load((org / "demo" / "scorecard.yaml").read_text())
    out = {}
    for name in ("in-process", *(f"celery-{n}" for n in WORKER_COUNTS)):
        path = org / "demo" / f"scorecard-bench-{name}.yaml"
        base = f"../../distributed/{name}"
        source["warehouse"] = {"path": f"{base}/warehouse/scorecard.duckdb",
                               "serving_path": f"{base}/serving/scorecard.duckdb"}
        path.write_text(yaml.safe_dump(source, sort_keys=False))
        out[name] = path
    return out


def _probe_in_process(config: str) -> dict:
    """In a child: the job as `scorecard run` runs it."""
    from pipelines.cli import run_job

    started = time.monotonic()
    result = run_job(Path(config))
    return {"seconds": time.monotonic() - started, "success": result.success}


def _child(probe: str, config: Path, env: dict[str, str]) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c",
         f"import json, tests.bench.bench_distributed as b; print(json.dumps(b.{probe}({str(config)!r})))"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"distributed benchmark ({probe}) failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _served(config: Path) -> Path:
    from pipelines.config import load_config

    return load_config(config).serving_path


def _fresh(config: Path) -> None:
    from pipelines.config import load_config

    shutil.rmtree(load_config(config).warehouse_path.parent.parent, ignore_errors=True)  # cold crawl cache


def run() -> dict:
    from pipelines import cluster
    from tests.cluster_runs import differences, run_on_cluster
    from tests.warehouse_query import published_tables

    org = WORK / "org-1000"
    gen_s = _generate(org, 1000, 40)
    configs = _configs(org)
    base_env = {**os.environ, "DAGSTER_HOME": ""}
    for key in ("SCORECARD_EXECUTOR", "SCORECARD_REPO_SHARDS", "SCORECARD_CELERY_BROKER", "SCORECARD_CELERY_BACKEND"):
        base_env.pop(key, None)

    _fresh(configs["in-process"])
    figures: dict = {"generate_s": gen_s, "runs": {}}
    figures["runs"]["in-process"] = _child("_probe_in_process", configs["in-process"], base_env)
    expected = published_tables(_served(configs["in-process"]), org)

    for n in WORKER_COUNTS:
        name = f"celery-{n}"
        _fresh(configs[name])
        root = OUT / f"cluster-{n}"
        spec = cluster.ClusterSpec(root, workers=n, pg_port=free_port(), redis_port=free_port())
        saved = os.environ.get("SCORECARD_REPO_SHARDS")
        os.environ["SCORECARD_REPO_SHARDS"] = str(n)  # the workers build the definitions with it
        try:
            started = time.monotonic()
            cluster.up(spec)
            up_s = time.monotonic() - started
            env = {**base_env, **cluster.client_env(root), "SCORECARD_REPO_SHARDS": str(n)}
            _, success, seconds = run_on_cluster(configs[name], env)
            figure = {"seconds": seconds, "success": success}
        finally:
            cluster.down(root)
            if saved is None:
                os.environ.pop("SCORECARD_REPO_SHARDS", None)
            else:
                os.environ["SCORECARD_REPO_SHARDS"] = saved
        figure["up_s"] = up_s
        figure["differences"] = differences(expected, published_tables(_served(configs[name]), org)) \
            if figure["success"] else ["the run failed"]
        figures["runs"][name] = figure
    return figures


def main() -> list[str]:
    from pipelines import cluster

    try:
        cluster.check_binaries()
    except cluster.ClusterError as exc:
        print(f"cannot run: {exc}")
        return [f"the local cluster cannot start: {exc}"]
    f = run()
    t = Targets()
    base = f["runs"]["in-process"]
    print("## The 1,000-repo job: in-process vs Celery workers (2 cores)")
    print(f"  in-process (one process, 1 shard)   : {base['seconds']:7.1f} s")
    if not base["success"]:
        t.missed.append("the in-process run failed")
    for n in WORKER_COUNTS:
        r = f["runs"][f"celery-{n}"]
        ratio = r["seconds"] / base["seconds"]
        same = "same published rows" if not r["differences"] else "DIFFERENT published rows"
        print(f"  Celery, {n} workers, {n} shards        : {r['seconds']:7.1f} s   ratio {ratio:4.2f}x in-process "
              f"{t.below(f'celery {n} workers / in-process', ratio, RATIO_BOUND, 'x')}   {same}")
        print(f"    (cluster start-up, not counted    : {r['up_s']:7.1f} s)")
        for line in r["differences"]:
            print(f"    {line}")
        if r["differences"]:
            t.missed.append(f"celery {n} workers: the published snapshot differs from the in-process run's")
    if f["generate_s"]:
        print(f"  (generating the organisation took {f['generate_s']:.1f} s, not counted)")
    return t.missed


if __name__ == "__main__":
    sys.exit(1 if main() else 0)
