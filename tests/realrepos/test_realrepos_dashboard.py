"""The dashboard on the real repositories' snapshot: what a platform engineer sees first."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboard.conftest import APP
from tests.realrepos import needs_realrepos

pytestmark = needs_realrepos


@pytest.fixture
def app(realrepos_serving, monkeypatch):
    monkeypatch.setenv("SCORECARD_SNAPSHOT", str(realrepos_serving))
    import streamlit as st

    st.cache_data.clear()
    return AppTest.from_file(str(APP), default_timeout=60)


def test_adoption_page_lists_manifests_no_service_claims(app):
    app.switch_page("views/adoption.py").run()
    assert not app.exception, [e.value for e in app.exception]
    captions = " ".join(c.value for c in app.caption)
    assert "2 workloads in repository manifests join no service" in captions
    tables = [df.value for df in app.dataframe]
    assert any(set(t.get("name", [])) == {"pgpool-operator", "blackbox-exporter"} for t in tables)


def test_service_page_says_how_the_service_was_found(app):
    app.query_params.update(service="balancereader")
    app.switch_page("views/service.py").run()
    assert not app.exception, [e.value for e in app.exception]
    found = [t.value for t in app.text if t.value.startswith("Found by:")]
    assert found == ["Found by: image build: src/ledger/balancereader/skaffold.yaml builds image balancereader; "
                     "build module: src/ledger/balancereader/pom.xml applies jib-maven-plugin"]
