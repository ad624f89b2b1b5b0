"""The local cluster (pipelines/cluster.py): PostgreSQL, Redis and 4 Celery workers on free loopback
ports in a temp directory, Dagster runs whose steps run on the workers, and a clean `down`.

Needs PostgreSQL and Redis (Debian packages postgresql and redis-server): without them the tests
skip, and in CI (CI=true, where .ci/run installs both) such a skip fails (tests/ci_required.py).
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from pathlib import Path

import dagster as dg
import pytest
from dagster_celery import celery_executor

from pipelines import cluster
from pipelines.cli import main as scorecard
from tests.ports import free_port

WORKERS = 4
# One pytest-xdist worker runs this module's tests, in order (`make test` passes --dist loadgroup):
# one cluster, not one per xdist worker, and the test that takes it down runs last.
pytestmark = pytest.mark.xdist_group("cluster")


# ---------------------------------------------------------------- a job of our own: a step that fails


@dg.op
def broken() -> int:
    raise ValueError("this step fails on purpose")


@dg.job(executor_def=celery_executor)
def broken_job():
    broken()


def _needs_servers() -> None:
    try:
        cluster.check_binaries()
    except cluster.ClusterError as exc:
        pytest.skip(f"needs PostgreSQL and Redis (apt-get install -y postgresql redis-server): {exc}")


def _cluster_parent() -> Path:
    # Not pytest's tmp_path: as root, PostgreSQL runs as the postgres user, who cannot enter
    # /tmp/pytest-of-root (0700). A directory of our own, searchable (0711) but not listable.
    parent = Path(tempfile.mkdtemp(prefix="scorecard-cluster-"))
    os.chmod(parent, 0o711)
    return parent


@pytest.fixture(scope="module")
def running(request) -> cluster.ClusterSpec:
    """One cluster for the module's tests, always torn down (and its directory removed), even on failure."""
    _needs_servers()
    parent = _cluster_parent()
    spec = cluster.ClusterSpec(parent / "cluster", workers=WORKERS, pg_port=free_port(), redis_port=free_port())

    def teardown() -> None:
        try:
            cluster.down(spec.root)
        finally:
            shutil.rmtree(parent, ignore_errors=True)

    request.addfinalizer(teardown)
    with pytest.MonkeyPatch.context() as mp:
        # The workers load the definitions with the environment they start with: four crawl shards.
        mp.setenv("SCORECARD_REPO_SHARDS", str(WORKERS))
        cluster.up(spec)
    return spec


def _run_on(spec: cluster.ClusterSpec, job, monkeypatch):
    env = cluster.client_env(spec.root)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    instance = dg.DagsterInstance.get()
    url = env["SCORECARD_CELERY_BROKER"]
    config = {"execution": {"config": {"broker": url, "backend": url}}}
    with dg.execute_job(dg.reconstructable(job), instance=instance, run_config=config) as result:
        return instance, result.run_id, result.success


def _celery_hosts(instance, run_id: str) -> dict[str, str]:
    """step key -> the Celery worker that ran it, from the run's event log (in PostgreSQL)."""
    hosts = {}
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        data = entry.dagster_event.engine_event_data
        if data and "Celery worker" in data.metadata:
            hosts[entry.step_key] = data.metadata["Celery worker"].value
    return hosts


def test_a_step_failing_on_a_worker_fails_the_run_with_its_error(running, monkeypatch):
    instance, run_id, success = _run_on(running, broken_job, monkeypatch)
    assert not success
    failures = instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
    assert [f.step_key for f in failures] == ["broken"]
    assert "this step fails on purpose" in failures[0].dagster_event.step_failure_data.error.to_string()
    assert _celery_hosts(instance, run_id)["broken"].startswith("worker-")


# ---------------------------------------------------------------- the scorecard job on the cluster


def test_the_scorecard_job_over_four_workers_publishes_what_the_in_process_run_does(
        running, small_org_files, tmp_path, monkeypatch):
    from pipelines.cli import run_job
    from tests.cluster_runs import differences, run_on_cluster
    from tests.warehouse_query import published_tables

    org, _ = small_org_files
    here, there = tmp_path / "in-process", tmp_path / "celery"
    for copy in (here, there):
        shutil.copytree(org / "demo", copy / "demo", symlinks=True)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    assert run_job(here / "demo" / "scorecard.yaml").success  # today's behaviour: one process

    env = {**os.environ, **cluster.client_env(running.root), "SCORECARD_REPO_SHARDS": str(WORKERS)}
    run_id, success, _ = run_on_cluster(there / "demo" / "scorecard.yaml", env)
    assert success

    serving = Path("serving") / "scorecard.duckdb"
    expected = published_tables(here / serving, here)
    got = published_tables(there / serving, there)
    assert sum(len(rows) for rows in got.values()) > 1000  # a real snapshot, not two empty ones
    assert differences(expected, got) == []

    # Every step ran on a worker, the crawl shards on more than one.
    monkeypatch.setenv("DAGSTER_HOME", env["DAGSTER_HOME"])
    instance = dg.DagsterInstance.get()
    hosts = _celery_hosts(instance, run_id)
    steps = {e.step_key for e in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_SUCCESS)}
    assert steps and steps <= set(hosts)
    shards = {step: host for step, host in hosts.items() if "shard" in step}
    assert len(shards) >= WORKERS and len(set(shards.values())) >= 2
    pids = {e.dagster_event.pid for e in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_START)}
    assert len(pids) >= 2 and os.getpid() not in pids
    # The run is recorded in the cluster's PostgreSQL.
    assert type(instance.run_storage).__name__ == "PostgresRunStorage"
    assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.SUCCESS


def test_status_then_down_stops_everything_and_down_again_is_harmless(running, capsys):
    # Runs last in this module: it takes the module's cluster down.
    root = str(running.root)
    assert scorecard(["cluster", "status", "--dir", root]) == 0
    shown = capsys.readouterr().out
    assert shown.count("running (pid") == 2 + WORKERS
    pids = [c.pid for c in cluster.status(root)]
    assert scorecard(["cluster", "down", "--dir", root]) == 0
    assert "stopped worker-1" in capsys.readouterr().out
    assert not any(cluster._alive(pid) for pid in pids)
    assert not any(c.running for c in cluster.status(root))
    assert scorecard(["cluster", "down", "--dir", root]) == 0
    assert "nothing was running" in capsys.readouterr().out
    assert scorecard(["cluster", "status", "--dir", root]) == 1
    assert "is down" in capsys.readouterr().out
    # The passwords stay in their 0600 files: no log, config or status line carries them.
    layout = cluster.Layout(running.root)
    secrets = [layout.pg_password.read_text().strip(), layout.redis_password.read_text().strip()]
    assert oct(layout.pg_password.stat().st_mode & 0o777) == "0o600"
    for path in [*layout.logs.iterdir(), layout.pg_log, layout.dagster_yaml, layout.celery_yaml, layout.state]:
        text = path.read_text(errors="replace")
        assert not any(s in text for s in secrets), path
    assert not layout.celery_config_dirs.exists()  # dagster-celery's config modules (broker URL) are removed


# ---------------------------------------------------------------- errors a user meets


def test_a_port_in_use_is_refused_before_anything_starts(tmp_path):
    _needs_servers()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        spec = cluster.ClusterSpec(tmp_path / "c", workers=1, pg_port=port, redis_port=free_port())
        with pytest.raises(cluster.ClusterError, match=rf"port {port} on 127.0.0.1 is in use .*--pg-port"):
            cluster.up(spec)
    assert not (tmp_path / "c" / "postgres").exists()


def test_missing_servers_are_named_with_their_debian_package(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on PATH
    monkeypatch.setattr(cluster, "PG_BIN_GLOB", str(tmp_path / "postgresql" / "*" / "bin"))
    monkeypatch.setattr(cluster, "REDIS_FALLBACK", tmp_path / "redis-server")
    with pytest.raises(cluster.ClusterError) as err:
        cluster.up(cluster.ClusterSpec(tmp_path / "c", workers=1))
    assert "apt-get install -y postgresql" in str(err.value)
    assert "apt-get install -y redis-server" in str(err.value)
    assert not (tmp_path / "c").exists()


def test_a_restarted_worker_is_ready_only_when_this_start_says_so(tmp_path):
    # A worker's log is appended to: the "ready" line of its last start must not count for this one.
    import subprocess

    layout = cluster.Layout(tmp_path)
    layout.logs.mkdir()
    layout.worker_log(1).write_text("[2026-12-01 10:00:00,000: INFO/MainProcess] worker-1@host ready.\n")
    offset = layout.worker_log(1).stat().st_size
    slow = subprocess.Popen(["sleep", "30"])
    try:
        with pytest.raises(cluster.ClusterError, match=r"workers \[1\] not ready after 1 s"):
            cluster._wait_workers_ready(layout, {1: (slow, offset)}, 1.0)
        with layout.worker_log(1).open("a") as log:
            log.write("[2026-12-03 10:00:00,000: INFO/MainProcess] worker-1@host ready.\n")
        cluster._wait_workers_ready(layout, {1: (slow, offset)}, 5.0)
    finally:
        slow.kill()
        slow.wait()
    died = subprocess.Popen(["true"])
    died.wait()
    with pytest.raises(cluster.ClusterError, match="worker-1 exited during start-up"):
        cluster._wait_workers_ready(layout, {1: (died, layout.worker_log(1).stat().st_size)}, 5.0)


def test_bad_settings_are_refused_with_what_was_wrong(tmp_path):
    with pytest.raises(cluster.ClusterError, match="workers must be at least 1"):
        cluster.ClusterSpec(tmp_path, workers=0)
    with pytest.raises(cluster.ClusterError, match="cannot share port 20000"):
        cluster.ClusterSpec(tmp_path, pg_port=20000, redis_port=20000)
    with pytest.raises(cluster.ClusterError, match="SCORECARD_CLUSTER_WORKERS='many' is not a number"):
        cluster.ClusterSpec.from_env(tmp_path, environ={"SCORECARD_CLUSTER_WORKERS": "many"})
    spec = cluster.ClusterSpec.from_env(None, environ={"SCORECARD_CLUSTER_DIR": str(tmp_path),
                                                       "SCORECARD_CLUSTER_PG_PORT": "25000"}, redis_port=25001)
    assert (spec.root, spec.pg_port, spec.redis_port) == (tmp_path.resolve(), 25000, 25001)


@pytest.mark.skipif(os.geteuid() != 0, reason="only as root does the cluster run its database server as another user")
def test_as_root_a_directory_postgres_cannot_reach_is_refused_with_why(tmp_path):
    _needs_servers()
    hidden = tmp_path / "private"
    hidden.mkdir(mode=0o700)
    spec = cluster.ClusterSpec(hidden / "c", workers=1, pg_port=free_port(), redis_port=free_port())
    with pytest.raises(cluster.ClusterError, match="refuses to run as root.*cannot reach"):
        cluster.up(spec)
    assert not any(c.running for c in cluster.status(spec.root))

