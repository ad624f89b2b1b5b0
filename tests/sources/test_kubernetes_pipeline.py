"""`scorecard run` with a `kubernetes:` source: scores, deploys, staleness, and no leaked secrets."""

from __future__ import annotations

import base64
import datetime as dt
import logging
from pathlib import Path

import duckdb
import pytest
import yaml

from pipelines.cli import main
from tests.fakes.k8s_server import PKI, FakeKubernetes, deployment, hpa, pdb, replica_set, service
from tests.gitrepo import catalog_info, commit, init

TOKEN = "k8s-bearer-7e1d-must-never-be-stored"
REJECTED_TOKEN = "k8s-bearer-rejected-3b9a-also-secret"
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)

# The repo's own manifests disagree with the cluster (3 replicas, probes): the
# cluster's running state must win, and must not be replaced by them when the
# cluster cannot be read.
REPO_MANIFEST = yaml.safe_dump(deployment("checkout", "shop", replicas=3))


def iso(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def org(tmp_path, monkeypatch):
    """Two repos, a TLS cluster running them, a kubeconfig with a good and a refused context."""
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    repos = tmp_path / "repos"
    payments = init(repos / "payments")
    shas = [
        commit(payments, {"catalog-info.yaml": catalog_info("payments"), "README.md": "# payments"},
               when=NOW - dt.timedelta(days=10)),
        commit(payments, {"app.py": "v2"}, when=NOW - dt.timedelta(days=5)),
        commit(payments, {"app.py": "v3"}, when=NOW - dt.timedelta(days=2)),
    ]
    checkout = init(repos / "checkout")
    commit(checkout, {"catalog-info.yaml": catalog_info("checkout"), "k8s/deployment.yaml": REPO_MANIFEST},
           when=NOW - dt.timedelta(days=3))

    pki = PKI(tmp_path / "pki")
    server_cert = pki.issue("apiserver", hosts=("127.0.0.1",))
    client = pki.issue("scorecard-reader", client=True)
    k8s = FakeKubernetes(tokens={TOKEN}, tls=server_cert, client_ca=pki.ca)
    k8s.add(
        deployment("payments", "payments", replicas=3, image=f"r/payments:sha-{shas[2][:7]}"),
        deployment("checkout", "shop", replicas=1, probes=False),
        # Each commit rolled out a day after it was made (the first one's lead time is unknown: no previous deploy).
        *(replica_set("payments", "payments", i + 1, f"r/payments:sha-{sha[:7]}",
                      created=iso(NOW - dt.timedelta(days=days))) for i, (sha, days) in enumerate(zip(shas, (9, 4, 1), strict=True))),
        service("payments", "payments"), pdb("payments", "payments"), hpa("payments", "payments", minimum=3),
    )
    k8s.start()
    server = {"server": k8s.url, "certificate-authority": str(pki.ca)}
    kubeconfig = tmp_path / "kube" / "config"
    kubeconfig.parent.mkdir()
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "prod-eu",
        "clusters": [{"name": "eu", "cluster": server}],
        "users": [
            {"name": "reader", "user": {"token": TOKEN,
                                        "client-certificate-data": base64.b64encode(client.cert_pem).decode(),
                                        "client-key-data": base64.b64encode(client.key_pem).decode()}},
            {"name": "revoked", "user": {"token": REJECTED_TOKEN}},
        ],
        "contexts": [{"name": "prod-eu", "context": {"cluster": "eu", "user": "reader"}},
                     {"name": "prod-us", "context": {"cluster": "eu", "user": "revoked"}}],
    }))  # fmt: skip
    config = tmp_path / "scorecard.yaml"
    config.write_text(yaml.safe_dump({
        "organisation": "acme",
        "teams": [{"name": "payments"}],
        "sources": {
            "repos": [{"root": "repos"}],
            "kubernetes": [
                {"cluster": "prod-eu", "kubeconfig": "kube/config"},
                # A second cluster whose credentials were revoked: recorded, and the first is still scored.
                {"cluster": "prod-us", "kubeconfig": "kube/config", "context": "prod-us"},
            ],
        },
        "warehouse": {"path": "wh/scorecard.duckdb", "serving_path": "serving/scorecard.duckdb"},
    }))  # fmt: skip

    class Org:
        pass

    o = Org()
    o.config, o.k8s, o.shas, o.tmp = config, k8s, shas, tmp_path
    o.warehouse = tmp_path / "wh" / "scorecard.duckdb"
    o.serving = tmp_path / "serving" / "scorecard.duckdb"
    o.secrets = [
        TOKEN, REJECTED_TOKEN,
        base64.b64encode(client.key_pem).decode()[:40],
        client.key_pem.decode().splitlines()[1],  # the key's first base64 line
    ]  # fmt: skip
    yield o
    k8s.stop()


def q(path: Path, sql: str, *params):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def everything_in(path: Path) -> str:
    """Every value of every table, as text: what the dashboard can ever show."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
        assert {"source_status", "check_results", "problems", "workloads"} <= set(tables)
        # Table names come from the database's own catalogue.
        return "\n".join(repr(con.execute(f'SELECT * FROM "{t}"').fetchall()) for t in tables)
    finally:
        con.close()


def assert_no_secrets(org, *texts: str) -> None:
    stored = [everything_in(org.warehouse), everything_in(org.serving)]
    assert all("cannot connect to https://127.0.0.1" in text for text in stored)  # the scan sees the recorded errors
    for text in (*stored, *texts):
        for secret in org.secrets:
            assert secret not in text


def finding(org, service: str, check: str) -> tuple[str, str]:
    return q(org.serving, "SELECT status, detail FROM check_results WHERE service = ? AND check_id = ?", service, check)[0]


def test_scorecard_run_scores_a_live_cluster_then_keeps_its_last_good_time_when_it_fails(org, capsys, caplog):
    caplog.set_level(logging.DEBUG)  # httpx/httpcore debug logs included: they must not carry credentials
    assert main(["run", "--config", str(org.config)]) == 0

    # Workloads from the live cluster are scored, named by cluster.
    assert finding(org, "checkout", "runs_multiple_replicas") == ("fail", "in prod-eu: replicas 1")
    assert finding(org, "checkout", "has_readiness_probes")[0] == "fail"
    assert finding(org, "payments", "runs_multiple_replicas") == ("pass", "in prod-eu: payments HPA min 3")
    assert finding(org, "payments", "has_pod_disruption_budget")[0] == "pass"
    status = dict((t, (s, r)) for t, s, r in q(org.serving, "SELECT target, status, reason FROM source_status WHERE source = 'cluster'"))
    assert status["prod-eu"] == ("ok", None)
    assert status["prod-us"][0] == "error" and status["prod-us"][1].startswith("unauthorized (401)")

    # Deploys from the rollout history: three ReplicaSet revisions, lead time 24 h each.
    dora = q(org.serving, "SELECT deployments_30d, lead_time_p50_hours FROM dora WHERE service = 'payments'")
    assert dora == [(3, pytest.approx(24.0))]
    first_crawl = q(org.warehouse, "SELECT crawled_at FROM source_status WHERE target = 'prod-eu'")[0][0]

    # The cluster goes down.
    org.k8s.stop()
    assert main(["run", "--config", str(org.config)]) == 0
    status, reason, last_success = q(
        org.warehouse, "SELECT status, reason, last_success_at FROM source_status WHERE target = 'prod-eu'")[0]
    assert status == "error" and reason.startswith("cannot connect to https://127.0.0.1:")
    assert last_success == first_crawl  # the time of the last good crawl is kept
    # Its services' workload checks are unknown, naming the failure and the last good crawl;
    # checkout's repo manifests (3 replicas, probes) do not stand in for the cluster.
    for name in ("payments", "checkout"):
        for check in ("runs_multiple_replicas", "has_readiness_probes", "has_pod_disruption_budget"):
            state, detail = finding(org, name, check)
            assert state == "unknown", (name, check, detail)
            assert "prod-eu (cannot connect to" in detail and f"last good crawl {first_crawl:%Y-%m-%d %H:%M} UTC" in detail

    out, err = capsys.readouterr()
    assert_no_secrets(org, caplog.text, out, err)
