"""The real Dagster job, in-process, on a small generated organisation."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time

import pytest

from pipelines.cli import run_job
from pipelines.config import load_config
from tests.warehouse_query import q


def test_every_service_is_scored_against_every_check(scored_org):
    from checks.catalogue import all_checks

    services = q(scored_org.serving, "SELECT count(*) FROM services")[0][0]
    # the generator counts deployable services; the empty repo is still listed
    # (one repo = one service) with its checks unknown
    assert services == scored_org.summary.services + 1
    per_service = q(scored_org.serving, "SELECT DISTINCT count(*) FROM check_results GROUP BY service")
    assert per_service == [(len(all_checks()),)]
    assert q(scored_org.serving, "SELECT count(*) FROM service_scores WHERE scorecard = 'default'")[0][0] == services


def test_monorepo_components_are_separate_services_at_their_paths(scored_org):
    rows = q(scored_org.serving, "SELECT service, path, identity_rule FROM services WHERE repo = 'acme-commerce'")
    assert len(rows) >= 3
    assert all(path.startswith("services/") and rule == "catalog" for _, path, rule in rows)


def test_bad_repos_are_recorded_with_readable_reasons_and_the_run_completes(scored_org):
    empty = q(scored_org.serving, "SELECT status, reason FROM source_status WHERE target = 'new-service-sandbox'")
    assert empty == [("error", "empty repository: no commits on any branch")]
    broken = dict(q(scored_org.serving, "SELECT path, reason FROM problems WHERE target = 'legacy-reporting'"))
    assert "line" in broken[".github/workflows/ci.yml"]
    # the empty repo's service is shown, with its repo checks unknown rather than failed
    statuses = {s for (s,) in q(scored_org.serving,
        "SELECT DISTINCT status FROM check_results WHERE service = 'new-service-sandbox' AND category = 'ownership'")}
    assert statuses <= {"unknown", "not_applicable"}


def test_orphan_workloads_and_adoption_and_dora_are_published(scored_org):
    orphans = q(scored_org.serving, "SELECT count(*) FROM workloads WHERE service IS NULL AND source = 'cluster'")[0][0]
    assert orphans >= 1
    paths = {p for (p,) in q(scored_org.serving, "SELECT DISTINCT golden_path FROM golden_path_adoption")}
    assert paths == {"template", "ci_workflow", "helm_chart", "terraform", "crossplane", "gitops"}  # the demo config has all six
    tiers = q(scored_org.serving, "SELECT count(*) FROM dora WHERE lead_time_tier IS NOT NULL")[0][0]
    assert tiers >= 5


def test_data_invariants_pass(scored_org):
    evaluations = scored_org.result.get_asset_check_evaluations()
    assert {e.check_name for e in evaluations} == {
        "every_service_has_a_score_row", "error_findings_share_under_limit", "no_duplicate_rows_in_snapshot"}
    assert all(e.passed for e in evaluations)


def test_rerunning_a_snapshot_replaces_it(scored_org, tmp_path):
    before = q(scored_org.warehouse, "SELECT count(*), count(DISTINCT snapshot) FROM check_results")[0]
    assert run_job(scored_org.config).success
    after = q(scored_org.warehouse, "SELECT count(*), count(DISTINCT snapshot) FROM check_results")[0]
    assert after == before


def test_a_run_killed_midway_leaves_the_published_snapshot_intact(scored_org, tmp_path):
    # A cluster snapshot that is a FIFO blocks the crawl forever: the run is
    # then killed mid-flight, as a deploy or an OOM kill would.
    config = load_config(scored_org.config)
    fifo = tmp_path / "stuck.json"
    os.mkfifo(fifo)
    text = scored_org.config.read_text().replace("clusters/prod-eu.json", str(fifo))
    stuck = scored_org.config.parent / "stuck.yaml"
    stuck.write_text(text)
    published = config.serving_path.read_bytes()
    proc = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "run", "--config", str(stuck)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "DAGSTER_HOME": ""})
    try:
        time.sleep(4)  # past start-up and into the crawl, which then waits on the FIFO
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        stuck.unlink()
    assert config.serving_path.read_bytes() == published
    assert q(config.serving_path, "SELECT count(*) FROM runs WHERE status <> 'complete'")[0][0] == 0


def test_a_bad_config_names_file_key_and_expectation(tmp_path):
    from pipelines.config import ConfigError

    bad = tmp_path / "scorecard.yaml"
    bad.write_text("sources:\n  repos:\n    - rooot: ./repos\nscorecards:\n  - name: x\n    levels:\n      - name: bronze\n        checks: [has_codeowners, has_unicorns]\n")
    with pytest.raises(ConfigError) as err:
        load_config(bad)
    text = str(err.value)
    assert str(bad) in text
    assert "sources.repos[0].root" in text and "Field required" in text
    assert "sources.repos[0].rooot" in text


def test_unknown_check_in_a_level_is_named(tmp_path):
    from pipelines.config import ConfigError

    bad = tmp_path / "scorecard.yaml"
    bad.write_text("scorecards:\n  - name: x\n    levels:\n      - name: bronze\n        checks: [has_codeowners, has_unicorns]\n")
    with pytest.raises(ConfigError, match=r"scorecards\[0\]\.levels\[0\]\.checks\[1\]: unknown check 'has_unicorns'"):
        load_config(bad)


def test_minimal_config_with_only_a_repo_root_works(tmp_path):
    from tests.gitrepo import commit, init

    repo = init(tmp_path / "repos" / "svc")
    commit(repo, {"README.md": "# svc\n", ".github/CODEOWNERS": "* @acme/payments\n"})
    cfg = tmp_path / "scorecard.yaml"
    cfg.write_text("sources:\n  repos:\n    - root: repos\n")
    assert run_job(cfg).success
    rows = q(tmp_path / "serving" / "scorecard.duckdb", "SELECT service, team, identity_rule, owner_source FROM services")
    assert rows == [("svc", "payments", "repo", "CODEOWNERS")]


def test_warehouse_resource_points_one_run_elsewhere(scored_org, tmp_path):
    import dagster as dg

    from pipelines.definitions import CRAWL_AND_SCORE_JOB, build_definitions

    job = build_definitions().resolve_job_def(CRAWL_AND_SCORE_JOB)
    result = job.execute_in_process(
        run_config={"resources": {
            "settings": {"config": {"config_path": str(scored_org.config)}},
            "warehouse_db": {"config": {"path": str(tmp_path / "wh.duckdb"), "serving_path": str(tmp_path / "pub.duckdb")}},
        }},
        instance=dg.DagsterInstance.ephemeral(), partition_key=dt.datetime.now(dt.UTC).date().isoformat(),
    )
    assert result.success
    assert q(tmp_path / "pub.duckdb", "SELECT count(*) FROM services")[0][0] == scored_org.summary.services + 1


def test_a_bad_release_tag_pattern_is_named(tmp_path):
    from pipelines.config import ConfigError

    bad = tmp_path / "scorecard.yaml"
    bad.write_text("sources:\n  delivery:\n    release_tag_pattern: '^v(['\n")
    with pytest.raises(ConfigError, match=r"sources\.delivery\.release_tag_pattern: .*not a valid regular expression"):
        load_config(bad)
