"""SCORECARD_EXECUTOR picks Dagster's executor; distributed steps hand values to each other through files."""

from __future__ import annotations

import os

import dagster as dg
import pytest

from pipelines import secrets
from pipelines.definitions import ExecutorSettingError, executor_and_io_manager
from pipelines.resources import RUN_VALUES_ENV, RunFiles, drop_run_values, run_files_io_manager, run_memory_io_manager


def test_in_process_is_the_default_and_keeps_values_in_memory():
    executor, io_manager = executor_and_io_manager({})
    assert executor.name == "in_process" and io_manager is run_memory_io_manager


def test_celery_needs_a_broker_and_names_it_by_variable_so_a_password_never_reaches_run_config():
    with pytest.raises(ExecutorSettingError, match="SCORECARD_CELERY_BROKER"):
        executor_and_io_manager({"SCORECARD_EXECUTOR": "celery"})
    executor, io_manager = executor_and_io_manager(
        {"SCORECARD_EXECUTOR": "celery", "SCORECARD_CELERY_BROKER": "redis://:hunter2-secret@127.0.0.1:6379/0"})
    assert executor.name == "celery" and io_manager is run_files_io_manager
    # What Dagster resolves the executor's config from (and shows with the run): the variable's name.
    configured = executor.config_schema._config_fn({})
    assert configured["broker"] == {"env": "SCORECARD_CELERY_BROKER"} and "hunter2" not in repr(configured)


def test_k8s_runs_a_job_per_step_with_an_optional_limit_and_an_unknown_executor_is_refused():
    executor, io_manager = executor_and_io_manager({"SCORECARD_EXECUTOR": "k8s"})
    assert executor.name == "k8s" and io_manager is run_files_io_manager
    limited, _ = executor_and_io_manager({"SCORECARD_EXECUTOR": "k8s", "SCORECARD_K8S_MAX_CONCURRENT": "8"})
    assert limited.name == "k8s"
    with pytest.raises(ExecutorSettingError, match="expected in_process, celery or k8s"):
        executor_and_io_manager({"SCORECARD_EXECUTOR": "multiprocess"})


def _contexts(run_id: str, asset: str):
    out = dg.build_output_context(asset_key=dg.AssetKey(asset), run_id=run_id)
    upstream = dg.build_output_context(asset_key=dg.AssetKey(asset), run_id=run_id)
    return out, dg.build_input_context(asset_key=dg.AssetKey(asset), upstream_output=upstream)


def test_run_files_hand_a_value_to_another_process_then_the_run_end_removes_them(tmp_path, monkeypatch):
    monkeypatch.setenv(RUN_VALUES_ENV, str(tmp_path / "values"))
    out, into = _contexts("run-1", "service_scores")
    RunFiles(tmp_path / "values").handle_output(out, {"2026-12-03": [1, 2, 3]})
    # Another worker process: a new IO manager on the same shared directory.
    assert RunFiles(tmp_path / "values").load_input(into) == {"2026-12-03": [1, 2, 3]}
    file = tmp_path / "values" / "run-1" / "service_scores.pickle"
    assert oct(file.stat().st_mode & 0o777) == "0o600"
    drop_run_values("run-1")
    assert not (tmp_path / "values" / "run-1").exists()
    with pytest.raises(dg.Failure, match="service_scores was not materialised in this run"):
        RunFiles(tmp_path / "values").load_input(into)


def test_run_files_refuse_a_value_holding_a_secret_and_prune_a_failed_runs_values(tmp_path):
    secrets.register("ghp_runfilesSECRET0123456789")
    try:
        out, _ = _contexts("run-2", "repo_crawl")
        with pytest.raises(dg.Failure, match="held a configured secret"):
            RunFiles(tmp_path).handle_output(out, {"token": "ghp_runfilesSECRET0123456789"})
        assert not any(tmp_path.rglob("*.pickle"))
    finally:
        secrets.SECRETS.clear()
    stale = tmp_path / "old-run"
    stale.mkdir()
    os.utime(stale, (0, 0))
    RunFiles(tmp_path)
    assert not stale.exists()
