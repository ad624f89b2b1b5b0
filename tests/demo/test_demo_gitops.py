"""The demo's GitOps objects (pipelines/demo/gitops.py): a realistic mix on the production cluster."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from pipelines.demo import generate_demo
from pipelines.parsers import parse_k8s_text

END = dt.date(2025, 11, 24)


@pytest.fixture(scope="module")
def prod(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo-gitops") / "demo"
    generate_demo(out, end=END, repos=16, teams=4, days=60, seed=11)
    text = (out / "clusters" / "prod-eu.json").read_text()
    return json.loads(text), parse_k8s_text(text, "prod-eu.json", cluster="prod-eu", environment="production"), out


def test_most_production_services_have_an_application_with_history(prod):
    _, inventory, _ = prod
    deployments = {(w.namespace, w.name) for w in inventory.workloads if w.kind in ("Deployment", "StatefulSet")}
    apps = [a for a in inventory.gitops if a.kind == "Application"]
    managed = {(ns, name) for a in apps for kind, ns, name in a.resources if kind in ("Deployment", "StatefulSet")}
    assert len(managed & deployments) >= len(deployments) * 0.4
    assert all(a.history and a.history[-1].deployed_at for a in apps)
    assert inventory.problems == []


def test_the_mix_has_something_for_every_check_to_find(prod):
    _, inventory, out = prod
    apps = [a for a in inventory.gitops if a.kind == "Application"]
    assert any(a.sync_status == "OutOfSync" for a in apps)
    assert any(a.automated and not a.self_heal for a in apps)
    assert any(a.desired_revision != a.applied_revision for a in apps)
    assert any(a.kind == "HelmRelease" for a in inventory.gitops)
    assert len({a.project for a in apps}) > 1
    assert "gitops:" in (out / "scorecard.yaml").read_text()
