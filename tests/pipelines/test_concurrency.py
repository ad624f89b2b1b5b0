"""Two runs, or two publishes, at once on one warehouse: real processes, as cron and an operator would start them."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb

from pipelines import runlock, warehouse
from pipelines.config import load_config

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "DAGSTER_HOME": ""}


def scorecard(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pipelines.cli", *args], cwd=ROOT, env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def q(path, sql):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_a_second_run_waits_for_the_first_and_both_publish(private_org):
    org = private_org
    before = q(org.warehouse, "SELECT count(*) FROM runs")[0][0]
    first = scorecard("run", "--config", str(org.config))
    second = scorecard("run", "--config", str(org.config))
    outs = [p.communicate(timeout=300) for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], [o[1][-2000:] for o in outs]
    assert any("waiting for scorecard run" in err for _, err in outs)
    for _, err in outs:
        assert "Conflicting lock" not in err and "FileNotFoundError" not in err and "Traceback" not in err
    statuses = sorted(s for (s,) in q(org.warehouse, "SELECT status FROM runs"))
    assert len(statuses) == before + 2 and statuses.count("complete") == 1 and "checking" not in statuses
    assert q(org.serving, "SELECT count(*) FROM runs") == [(1,)]


def test_with_no_wait_the_second_run_is_refused_naming_the_first(private_org, tmp_path):
    org = private_org
    lock = runlock.lock_path(load_config(org.config).warehouse_path)
    # The first run reads its production cluster from a FIFO, so it holds the
    # lock until the test feeds it, however slowly the second one starts.
    cluster = org.config.parent / "clusters" / "prod-eu.json"
    fifo = tmp_path / "prod-eu.json"
    os.mkfifo(fifo)
    held = org.config.parent / "held.yaml"
    held.write_text(org.config.read_text().replace("clusters/prod-eu.json", str(fifo)))
    first = scorecard("run", "--config", str(held))
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (lock.exists() and lock.read_text()):
            time.sleep(0.05)
        second = scorecard("run", "--wait", "0", "--config", str(org.config))
        _, err = second.communicate(timeout=120)
        assert second.returncode == 2
        assert err.count("\n") == 1, err  # one line
        assert "is being written by scorecard run" in err and f"pid {first.pid}" in err
    finally:
        fifo.write_bytes(cluster.read_bytes())
        first.communicate(timeout=300)
        held.unlink()
    assert first.returncode == 0


PUBLISHER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from pipelines import warehouse
    for _ in range(int(sys.argv[3])):
        warehouse.publish(Path(sys.argv[1]), Path(sys.argv[2]))
""")
READER = textwrap.dedent("""
    import sys, time, duckdb
    deadline = time.monotonic() + float(sys.argv[2])
    reads = 0
    while time.monotonic() < deadline:
        con = duckdb.connect(sys.argv[1], read_only=True)
        assert con.execute("SELECT count(*) FROM services").fetchone()[0] > 0
        con.close()
        reads += 1
    print(reads)
""")


def test_two_publishers_at_once_never_collide_and_readers_always_see_a_whole_file(scored_org, tmp_path):
    serving = tmp_path / "serving" / "scorecard.duckdb"
    warehouse.publish(scored_org.warehouse, serving)
    publishers = [
        subprocess.Popen([sys.executable, "-c", PUBLISHER, str(scored_org.warehouse), str(serving), "15"],
                         cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    reader = subprocess.Popen([sys.executable, "-c", READER, str(serving), "6"], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    results = [p.communicate(timeout=300) for p in (*publishers, reader)]
    assert [p.returncode for p in (*publishers, reader)] == [0, 0, 0], [r[1][-1500:] for r in results]
    assert int(results[2][0]) > 0
    assert not list(serving.parent.glob("*.new*")), "temp files were left behind"


def test_dagster_queues_scorecard_runs_one_at_a_time(tmp_path):
    """Runs launched from the Dagster UI or schedule carry the tag the instance's run queue limits to one."""
    import dagster as dg

    from pipelines.definitions import CRAWL_AND_SCORE_JOB, RUN_QUEUE_TAG, build_definitions

    job = build_definitions().resolve_job_def(CRAWL_AND_SCORE_JOB)
    assert job.tags.get(RUN_QUEUE_TAG) == "default"
    home = tmp_path / "dagster_home"
    made = subprocess.run(["make", "-s", f"DAGSTER_HOME={home}", f"{home}/dagster.yaml"], cwd=ROOT,
                          capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    instance = dg.DagsterInstance.from_config(str(home))
    limits = instance.get_concurrency_config().run_queue_config.tag_concurrency_limits
    assert {"key": RUN_QUEUE_TAG, "limit": 1} in limits
