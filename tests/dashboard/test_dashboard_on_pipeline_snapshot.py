"""The dashboard on a snapshot the Dagster job itself published today (cluster state and all).

Found by looking at the Checks page on the demo: the pipeline stored pass
rates as percentages while the pages read fractions ("2,970 %"). Rendering
every page on real pipeline output keeps the two sides agreeing.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboard.conftest import APP, PAGES


@pytest.fixture
def app(scored_org, monkeypatch):
    monkeypatch.setenv("SCORECARD_SNAPSHOT", str(scored_org.serving))
    import streamlit as st

    st.cache_data.clear()
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params.update(team="payments", service="payments-api")
    return at


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_pipeline_output(app, page):
    app.switch_page(f"views/{page}.py").run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.title


def test_pass_rates_are_fractions_the_pages_can_format(scored_org, monkeypatch):
    from dashboard import data

    monkeypatch.setenv("SCORECARD_SNAPSHOT", str(scored_org.serving))
    rates = data.check_pass_rates(data.current_source(), "default", None, None)
    assert len(rates) > 0
    assert rates["pass_rate"].dropna().between(0, 1).all()


def test_checks_page_opens_on_the_check_failing_most_services(app, scored_org):
    import duckdb

    con = duckdb.connect(str(scored_org.serving), read_only=True)
    worst = con.execute(
        """SELECT check_id FROM check_pass_rates WHERE scorecard = 'default' AND team = 'payments'
           ORDER BY failing DESC, pass_rate, check_id LIMIT 1"""
    ).fetchall()[0][0]
    con.close()
    app.switch_page("views/checks.py").run()
    assert not app.exception
    assert app.selectbox(key="check").value == worst
    # the catalogue shows the remediation template without raw {placeholders}
    how = [m.value for m in app.markdown if m.value.startswith("**How to fix:**")]
    assert how and "{" not in how[0]
