"""`scorecard run` with a live Backstage as the first identity source, end to end over loopback.

Real git repositories, the loopback catalog, the real job; assertions on the
published snapshot a user reads (services, problems, findings, source_status).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import duckdb
import pytest
import yaml

from pipelines.cli import main
from tests.fakes.backstage_server import FakeBackstage, Fault, entity
from tests.gitrepo import catalog_info, commit, init

TOKEN = "bs-pipeline-token-9f8e7d6c5b4a"


def portal_entities() -> list[dict]:
    return [
        entity("Group", "engineering"),
        entity("Group", "payments-team", spec={"type": "team", "parent": "engineering",
                                               "profile": {"displayName": "Payments"}}),
        entity("Group", "storefront", spec={"type": "team", "parent": "engineering"}),
        entity("System", "commerce", spec={"owner": "storefront"}),
        # Also described by the repository's own catalog-info.yaml, which disagrees on owner and lifecycle.
        entity("Component", "payments", spec={"type": "service", "lifecycle": "production",
                                              "owner": "group:default/payments-team", "system": "commerce"},
               annotations={"github.com/project-slug": "acme/payments", "pagerduty.com/service-id": "PABC123"}),
        # A monorepo component the repository has no catalog file for: its folder from source-location.
        entity("Component", "cart", spec={"type": "service", "lifecycle": "production", "owner": "storefront"},
               annotations={"backstage.io/source-location": "url:https://github.com/acme/shop/tree/main/services/cart/",
                            "backstage.io/kubernetes-id": "cart-svc"}),
        # Only in the portal: no repository at all.
        entity("Component", "ledger", spec={"type": "service", "lifecycle": "experimental", "owner": "payments-team"}),
    ]


@pytest.fixture
def org(tmp_path, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setenv("BACKSTAGE_TOKEN", TOKEN)
    repos = tmp_path / "repos"
    commit(init(repos / "payments"), {"catalog-info.yaml": catalog_info("payments", owner="old-team", lifecycle="experimental"),
                                      "README.md": "# payments", "Dockerfile": "FROM python:3.12\n"})
    commit(init(repos / "shop"), {"services/cart/Dockerfile": "FROM node:22\n", "services/cart/README.md": "# cart",
                                  "services/web/Dockerfile": "FROM node:22\n", "README.md": "# shop"})
    with FakeBackstage(entities=portal_entities(), token=TOKEN) as fake:
        config = tmp_path / "scorecard.yaml"
        config.write_text(yaml.safe_dump({
            "organisation": "acme",
            "sources": {"repos": [{"root": "repos"}],
                        "backstage": [{"name": "portal", "base_url": fake.url, "page_size": 2,
                                       "max_retries": 1, "backoff_s": 0}]},
            "warehouse": {"path": "wh/scorecard.duckdb", "serving_path": "serving/scorecard.duckdb"},
        }))
        fake.config, fake.serving, fake.warehouse = config, tmp_path / "serving" / "scorecard.duckdb", tmp_path / "wh" / "scorecard.duckdb"
        yield fake


def q(path: Path, sql: str, *params) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def latest(org, sql: str, *params) -> list[tuple]:
    return q(org.serving, sql.replace("LATEST", "(SELECT max(snapshot) FROM runs)"), *params)


def statuses(org, service: str) -> dict[str, str]:
    return dict(latest(org, "SELECT check_id, status FROM check_results WHERE snapshot = LATEST AND service = ?", service))


def test_portal_components_are_the_services_and_the_portal_wins(org):
    assert main(["run", "--config", str(org.config)]) == 0
    services = {r[0]: r[1:] for r in latest(org, "SELECT service, repo, path, team, owner_source, identity_rule, lifecycle "
                                                  "FROM services WHERE snapshot = LATEST")}
    assert services["payments"] == ("payments", "", "payments-team", "portal spec.owner", "catalog", "production")
    assert services["cart"] == ("shop", "services/cart", "storefront", "portal spec.owner", "catalog", "production")
    assert services["ledger"][:4] == (None, "", "payments-team", "portal spec.owner")
    assert "web" in services  # the monorepo's other deployable is still discovered

    problems = [r[0] for r in latest(org, "SELECT reason FROM problems WHERE snapshot = LATEST")]
    assert any("spec.owner is old-team here but payments-team in the Backstage portal portal" in p for p in problems)
    assert any("spec.lifecycle is experimental here but production" in p for p in problems)

    # Groups are the known teams; the portal's on-call annotation counts; a portal-only service is not failed
    # on repository checks it has no repository for.
    assert statuses(org, "payments")["owner_is_known_team"] == "pass"
    assert statuses(org, "payments")["has_oncall_reference"] == "pass"
    ledger = statuses(org, "ledger")
    assert ledger["has_catalog_entity"] == "pass" and ledger["has_lifecycle"] == "pass"
    assert ledger["has_readme"] == "unknown" and ledger["has_codeowners"] == "unknown"
    assert "fail" not in {s for c, s in ledger.items() if c in ("has_readme", "has_codeowners", "has_runbook")}

    status = latest(org, "SELECT status, items, reason FROM source_status WHERE snapshot = LATEST AND source = 'backstage'")
    assert status == [("ok", 7, status[0][2])] and "3 components, 1 systems, 3 groups" in status[0][2]


def test_a_portal_outage_keeps_services_and_never_fails_a_check_because_of_it(org, caplog, capfd):
    assert main(["run", "--config", str(org.config)]) == 0
    before = {s: statuses(org, s) for s in ("payments", "cart", "ledger")}
    org.fail("by-query", *[Fault(503)] * 10)
    caplog.set_level(logging.DEBUG)
    assert main(["run", "--config", str(org.config)]) == 0
    status = latest(org, "SELECT status, reason, last_success_at FROM source_status WHERE snapshot = LATEST AND source = 'backstage'")
    assert status[0][0] == "error" and "HTTP 503" in status[0][1] and "last good read" in status[0][1]
    for service, checks in before.items():
        after = statuses(org, service)
        newly_failed = [c for c, s in after.items() if s == "fail" and checks[c] != "fail"]
        assert newly_failed == [], service
    # The token is nowhere a person could read: tables, logs, terminal.
    out, err = capfd.readouterr()
    texts = [caplog.text, out, err]
    for path in (org.serving, org.warehouse):
        con = duckdb.connect(str(path), read_only=True)
        try:
            for (table,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall():
                texts.append(repr(con.execute(f'SELECT * FROM "{table}"').fetchall()))
        finally:
            con.close()
    assert any("HTTP 503" in t for t in texts)
    assert all(TOKEN not in t for t in texts)


def test_a_portal_never_read_leaves_the_repositories_identity(org):
    org.token = "a-different-token-entirely"
    assert main(["run", "--config", str(org.config)]) == 0
    status = latest(org, "SELECT status, reason FROM source_status WHERE snapshot = LATEST AND source = 'backstage'")
    assert status[0][0] == "error" and "unauthorized (401)" in status[0][1]
    services = {r[0]: r[1:] for r in latest(org, "SELECT service, team, owner_source FROM services WHERE snapshot = LATEST")}
    assert services["payments"] == ("old-team", "catalog spec.owner") and "ledger" not in services
    assert statuses(org, "payments")["owner_is_known_team"] == "unknown"  # no team directory without the portal


def test_results_are_written_back_per_entity_for_the_portal(org, tmp_path, capsys):
    assert main(["run", "--config", str(org.config)]) == 0
    static = org.serving.parent / "entities"
    index = json.loads((static / "index.json").read_text())
    refs = {e["entityRef"]: e for e in index["entities"]}
    assert {"component:default/payments", "component:default/ledger", "component:default/cart"} <= set(refs)
    assert index["snapshot"] == latest(org, "SELECT max(snapshot) FROM runs")[0][0].isoformat()
    doc = json.loads((static / refs["component:default/payments"]["file"]).read_text())
    level, score = latest(org, "SELECT level, score_pct FROM service_scores WHERE snapshot = LATEST "
                               "AND service = 'payments' AND scorecard = 'default'")[0]
    assert doc["scorecards"]["default"]["level"] == level and doc["scorecards"]["default"]["score"] == round(score, 1)
    assert doc["owner"] == "payments-team" and doc["snapshot"] == index["snapshot"]
    oncall = next(c for c in doc["checks"] if c["id"] == "has_oncall_reference")
    assert oncall["status"] == "pass" and oncall["title"] and oncall["remediation"] is None
    failing = [c for c in doc["checks"] if c["status"] == "fail"]
    assert failing and all(c["remediation"] for c in failing)
    assert set(doc["dora"] or {}) <= {"lead_time", "deploy_frequency", "change_failure_rate", "time_to_restore"}

    out = tmp_path / "export"
    assert main(["export", "entities", "--config", str(org.config), "--out", str(out)]) == 0
    assert "entity documents" in capsys.readouterr().out
    assert json.loads((out / "index.json").read_text())["entities"] == index["entities"]
    assert TOKEN not in "".join(p.read_text() for p in out.rglob("*.json"))
