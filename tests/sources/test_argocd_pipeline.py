"""A whole run with an Argo CD API source: GitOps adoption, deploys and status published,
the token nowhere in the warehouse (tests/fakes/argocd_server.py over loopback)."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
import yaml

from tests.fakes.argocd_server import FakeArgoCD
from tests.fakes.gitops_objects import application
from tests.gitrepo import catalog_info, commit, init

TOKEN = "argocd-pipeline-token-77c1-secret"
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def iso(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def org(tmp_path, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setenv("ARGOCD_TOKEN", TOKEN)
    repos = tmp_path / "repos"
    payments = init(repos / "payments")
    shas = [commit(payments, {"catalog-info.yaml": catalog_info("payments"), "README.md": "# p"}, when=NOW - dt.timedelta(days=6)),
            commit(payments, {"app.py": "v2"}, when=NOW - dt.timedelta(days=3))]
    search = init(repos / "search")
    commit(search, {"catalog-info.yaml": catalog_info("search", owner="payments")}, when=NOW - dt.timedelta(days=4))
    app = application("payments", project="platform-v2", repo="payments", path="", resources=[],
                      history=[(shas[0], iso(NOW - dt.timedelta(days=5))), (shas[1], iso(NOW - dt.timedelta(days=2)))],
                      revision=shas[1])
    server = FakeArgoCD(tokens={TOKEN}).add(app).start()
    config = tmp_path / "scorecard.yaml"
    config.write_text(yaml.safe_dump({
        "teams": [{"name": "payments"}],
        "sources": {"repos": [{"root": "repos"}], "argocd": [{"name": "main", "base_url": server.url}]},
        "golden_paths": {"gitops": {"reference": "argocd", "releases": ["platform-v1", "platform-v2"]}},
        "warehouse": {"path": "wh/scorecard.duckdb", "serving_path": "serving/scorecard.duckdb"},
    }))
    yield config, tmp_path, shas
    server.stop()


def q(path, sql: str):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_argocd_api_source_end_to_end(org):
    from pipelines.cli import run_job

    config, tmp, _ = org
    assert run_job(config).success
    serving = tmp / "serving" / "scorecard.duckdb"
    assert q(serving, "SELECT source, target, status, items FROM source_status WHERE source = 'argocd'") == [
        ("argocd", "argocd:main", "ok", 1)]
    results = dict(q(serving, "SELECT service, status FROM check_results WHERE check_id = 'deployed_through_gitops'"))
    assert results == {"payments": "pass", "search": "fail"}
    adoption = q(serving, "SELECT service, version, releases_behind FROM golden_path_adoption WHERE golden_path = 'gitops' AND adoption = 'adopted'")
    assert adoption == [("payments", "platform-v2", 0)]
    # The two syncs in Argo CD's history are the service's deploys (no CI events, no ReplicaSets).
    assert q(serving, "SELECT deployments_30d FROM dora WHERE service = 'payments'") == [(2,)]
    for table in ("source_status", "problems", "check_results"):
        assert TOKEN not in str(q(serving, f"SELECT * FROM {table}"))
