"""The crawl in static hash shards: the same snapshot whatever the shard count; one shard re-run alone."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from collections import Counter

import dagster as dg
import pytest

from pipelines import shards
from pipelines.cli import run_job
from pipelines.config import load_config
from pipelines.definitions import CRAWL_AND_SCORE_JOB, build_definitions
from pipelines.runs import _run_config
from pipelines.sources.github_state import RunReport
from tests.conftest import today
from tests.warehouse_query import published_tables, q


def test_shard_counts_come_from_the_environment_and_bad_values_say_what_is_expected():
    assert shards.shard_count("X", {}) == 1
    assert shards.shard_count("X", {"X": " 8 "}) == 8
    for bad in ("0", "-2", "eight", "257", "1.5"):
        with pytest.raises(shards.ShardError, match=r"X=.*whole number of shards from 1 to 256"):
            shards.shard_count("X", {"X": bad})


def test_a_name_has_one_shard_in_every_process_and_shards_share_the_work():
    names = [f"service-{i}" for i in range(2000)]
    here = [shards.shard_of(n, 8) for n in names[:20]]
    # Another interpreter with another hash seed puts every name in the same shard (unlike hash()).
    code = ("from pipelines.shards import shard_of; "
            "print([shard_of(f'service-{i}', 8) for i in range(20)])")
    other = subprocess.run([os.sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": "12345"}, cwd=os.getcwd())
    assert other.stdout.strip() == str(here)
    sizes = Counter(shards.shard_of(n, 8) for n in names)
    assert set(sizes) == set(range(8)) and max(sizes.values()) < 2 * min(sizes.values())


def test_a_sources_reports_from_several_shards_add_up_to_one():
    a = RunReport("github:acme", repos=100, requests=30, not_modified=10, counted_by_category={"inventory": 2, "files": 18},
                  deferred=["r1"], deferred_reason="rate limit", notes=["teams not read (HTTP 403)"],
                  rate_limit_remaining={"core": 4000}).as_dict()
    b = RunReport("github:acme", repos=100, requests=20, counted_by_category={"inventory": 2, "files": 18},
                  notes=["teams not read (HTTP 403)"], rate_limit_remaining={"core": 3900}).as_dict()
    merged = RunReport.merged([a, b])
    assert merged["repos"] == 100 and merged["requests"] == 50 and merged["counted"] == 40
    assert merged["counted_by_category"] == {"inventory": 4, "files": 36}
    assert merged["per_repo_counted"] == 0.36  # files only: the organisation listing is not per repo
    assert merged["rate_limit_remaining"] == {"core": 3900}
    assert merged["notes"] == ["teams not read (HTTP 403)"] and merged["status"] == "partial"
    assert "1 repos deferred (rate limit)" in merged["summary"]


def _sharded(monkeypatch, repos: int, clusters: int) -> dg.Definitions:
    monkeypatch.setenv(shards.REPO_SHARDS_ENV, str(repos))
    monkeypatch.setenv(shards.CLUSTER_SHARDS_ENV, str(clusters))
    return build_definitions()


def _copy(small_org_files, dest):
    root, _ = small_org_files
    shutil.copytree(root / "demo", dest / "demo", symlinks=True)
    return dest / "demo" / "scorecard.yaml"


def _run(defs: dg.Definitions, config, selection=None):
    job = defs.resolve_job_def(CRAWL_AND_SCORE_JOB)
    return job.execute_in_process(run_config=_run_config(config), instance=dg.DagsterInstance.ephemeral(),
                                  raise_on_error=False, partition_key=today().isoformat(), asset_selection=selection)


def test_four_shards_publish_what_one_process_publishes_and_one_shard_re_runs_alone(
        small_org_files, tmp_path, monkeypatch):
    os.environ.pop("DAGSTER_HOME", None)
    one = _copy(small_org_files, tmp_path / "one")
    assert run_job(one).success
    many = _copy(small_org_files, tmp_path / "many")
    defs = _sharded(monkeypatch, 4, 2)
    result = _run(defs, many)
    assert result.success
    served_one, served_many = load_config(one).serving_path, load_config(many).serving_path
    assert published_tables(served_many, many.parent.parent) == published_tables(served_one, one.parent.parent)

    # Each shard wrote its own facts file; together they hold every repository once.
    warehouse = load_config(many).warehouse_path
    files = [shards.shard_file(warehouse, today(), "repos", shards.Shard(k, 4)) for k in range(4)]
    assert all(f.is_file() for f in files)
    per_shard = shards.status_by_shard(files)
    repos = q(served_many, "SELECT count(DISTINCT repo) FROM services")[0][0]
    assert per_shard["items"].sum() == repos and len(set(per_shard["shard"])) >= 2
    # The Dagster UI shows, per shard, how many repos were crawled and how.
    meta = result.asset_materializations_for_node("repo_crawl")[0].metadata
    shown = {k: v.value for k, v in meta.items() if k.startswith("shard ")}
    assert sum(shown.values()) == repos and {k.split()[1] for k in shown} == {str(s) for s in per_shard["shard"]}

    # A repository changes; only its shard is crawled again, then the layers after the crawl.
    changed = next(p for p in sorted((many.parent / "repos").iterdir()) if (p / ".git").exists())
    k = shards.shard_of(changed.name, 4)
    before = {f: f.stat().st_mtime_ns for f in files}
    files_seen = "SELECT items FROM source_status WHERE source = 'git' AND target = ?"
    tracked = q(served_many, files_seen, changed.name)[0][0]
    entries = subprocess.run(["git", "-C", str(changed), "ls-files", "*catalog-info.yaml"], capture_output=True,
                             text=True, check=True).stdout.split()
    assert entries, changed
    subprocess.run(["git", "-C", str(changed), "rm", "-q", *entries], check=True)
    subprocess.run(["git", "-C", str(changed), "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm",
                    "drop the catalog entries"], check=True)
    graph = defs.resolve_asset_graph()
    others = {dg.AssetKey(f"repo_crawl_shard_{i}") for i in range(4) if i != k}
    others |= {dg.AssetKey(f"cluster_crawl_shard_{i}") for i in range(2)}
    selection = [key for key in graph.get_all_asset_keys() if key not in others]
    again = _run(defs, many, selection)
    assert again.success
    after = {f: f.stat().st_mtime_ns for f in files}
    assert [f for f in files if after[f] != before[f]] == [files[k]]
    assert q(served_many, files_seen, changed.name)[0][0] == tracked - len(entries)  # the new commit was read


def test_a_missing_shard_fails_the_run_naming_the_shard_to_materialise(small_org_files, tmp_path, monkeypatch):
    os.environ.pop("DAGSTER_HOME", None)
    config = _copy(small_org_files, tmp_path)
    defs = _sharded(monkeypatch, 3, 1)
    graph = defs.resolve_asset_graph()
    selection = [key for key in graph.get_all_asset_keys() if key != dg.AssetKey("repo_crawl_shard_1")]
    result = _run(defs, config, selection)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    error, message = failure.step_failure_data.error, ""
    while error is not None:  # Dagster wraps the asset's exception: what the UI shows is the chain
        message, error = message + error.message, error.cause
    assert "shard-001-of-003" in message and "materialise that shard's asset" in message


def test_facts_of_dates_no_shard_rewrote_for_days_are_pruned(tmp_path):
    warehouse = tmp_path / "warehouse" / "scorecard.duckdb"
    old = shards.write(shards.shard_file(warehouse, dt.date(2026, 1, 1), "repos", shards.Shard(0, 1)), [])
    new = shards.write(shards.shard_file(warehouse, dt.date(2026, 1, 2), "repos", shards.Shard(0, 1)), [])
    week_ago = dt.datetime.now(dt.UTC).timestamp() - 7 * 86400
    os.utime(old, (week_ago, week_ago))
    assert shards.prune(warehouse) == 1
    assert not old.exists() and new.exists() and not old.parent.parent.exists()
    assert oct(new.stat().st_mode & 0o777) == "0o600"  # repository contents: owner-only


def test_a_crawl_record_holding_a_token_is_never_written_to_a_facts_file(tmp_path):
    from pipelines import secrets

    secrets.register("ghp_shardfactsSECRET0123456789")
    try:
        path = tmp_path / "facts" / "shard-000-of-001.parquet"
        row = {"kind": "repo", "name": "r", "status": "ok", "error": None, "crawled_at": None, "items": 0,
               "payload": {"url": "https://x:ghp_shardfactsSECRET0123456789@github.com/acme/r"}}
        with pytest.raises(shards.ShardError, match="held a configured secret"):
            shards.write(path, [row])
        assert not any(tmp_path.rglob("*.parquet")) and not any(tmp_path.rglob("*.tmp"))
    finally:
        secrets.SECRETS.clear()
