"""The Compare page against a stored preview, and rule changes marked on the trend charts.

On real pipeline output (`rule_change_org`, tests/conftest.py): a week-old
snapshot under looser rules, today's under the org's own, and a preview
published with `scorecard preview --publish`.
"""

from __future__ import annotations

import json

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from pipelines.cli import main
from tests.dashboard.conftest import APP
from tests.dashboard.test_dashboard_pages import frame, metrics, service_row
from tests.warehouse_query import q

SCORECARD = "production-readiness"


@pytest.fixture(scope="module")
def previewed(rule_change_org):
    """Preview `runbook-gold-to-bronze` (has_runbook moved from gold to bronze), published."""
    org = rule_change_org
    text = org.config.read_text()
    lines = text.splitlines()
    lines.remove(next(line for line in lines if line.strip() == "- has_runbook"))
    at = lines.index(next(line for line in lines if line.strip() == "- has_codeowners"))
    lines.insert(at, lines[at].replace("has_codeowners", "has_runbook"))
    new = org.config.with_name("runbook-to-bronze.yaml")
    new.write_text("\n".join(lines) + "\n")
    assert main(["preview", "--config", str(new), "--name", "runbook-gold-to-bronze", "--publish",
                 "--format", "json"]) == 0
    return org


def _open(org, monkeypatch, page: str, **query: str) -> AppTest:
    monkeypatch.setenv("SCORECARD_SNAPSHOT", str(org.serving))
    st.cache_data.clear()
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params.update(query)
    at.switch_page(f"views/{page}.py")
    return at.run()


def _figures(at: AppTest) -> list[dict]:
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def test_compare_page_shows_what_the_preview_would_move(previewed, monkeypatch):
    dropped = {s for (s,) in q(previewed.serving, """
        SELECT service FROM preview_service_scores p WHERE preview = 'runbook-gold-to-bronze' AND side = 'preview'
          AND scorecard = $1 AND level_rank < (SELECT level_rank FROM service_scores s WHERE s.scorecard = p.scorecard
              AND s.service = p.service AND s.snapshot = p.snapshot)""", SCORECARD)}
    assert dropped

    at = _open(previewed, monkeypatch, "compare", preview="runbook-gold-to-bronze", scorecard=SCORECARD)

    assert not at.exception, [e.value for e in at.exception]
    assert metrics(at)["Services moved down"] == str(len(dropped))
    assert metrics(at)["Services moved up"] == "0"
    assert any("has_runbook gold → bronze" in m.value for m in at.markdown)
    assert any("a preview is never published as a snapshot" in c.value for c in at.caption)
    service = min(dropped)
    row = service_row(frame(at, "open", f"service={service}"), service)
    assert row["level_after"] == "none"
    # A check moved to another level: levels move, no result flips between passing and failing.
    assert any("No check result flipped" in c.value for c in at.caption)


def test_compare_page_still_compares_two_snapshots_without_a_preview_picked(previewed, monkeypatch):
    at = _open(previewed, monkeypatch, "compare")
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="preview").value is None
    assert at.selectbox(key="from").value != at.selectbox(key="to").value


@pytest.mark.parametrize(("page", "query", "charts"), [
    ("adoption", {}, 2),  # adoption over time, levels over time
    ("teams", {"team": "payments"}, 1),  # team against the org
    ("service", {"service": "payments-api"}, 1),  # score and level over time
    ("checks", {"check": "base_helm_chart_up_to_date"}, 1),  # the pass rate of the check the change was about
])
def test_trend_charts_mark_the_rule_change(previewed, monkeypatch, page, query, charts):
    change_day, summary = q(previewed.serving, "SELECT strftime(snapshot, '%Y-%m-%d'), summary FROM rule_changes")[0]
    assert "helm_chart_max_releases_behind 2 → 1" in summary

    at = _open(previewed, monkeypatch, page, **query)

    assert not at.exception, [e.value for e in at.exception]
    marked = [
        fig for fig in _figures(at)
        if any(s.get("x0") == change_day and s.get("line", {}).get("dash") == "dash"
               for s in fig["layout"].get("shapes", []))
        and any(a.get("x") == change_day and a.get("text") == summary for a in fig["layout"].get("annotations", []))
    ]
    assert len(marked) == charts
