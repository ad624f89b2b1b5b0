"""Every page rendered with AppTest against a published snapshot, asserting what a user reads."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from tests.dashboard.conftest import PAGES
from tests.dashboard.snapshot_fixture import KNOWN_CHECK, KNOWN_DETAIL, KNOWN_REMEDIATION, KNOWN_SERVICE, KNOWN_SNIPPET, build_snapshot
from streamlit.testing.v1 import AppTest


def texts(at: AppTest) -> str:
    """Everything a reader sees as text on the page, in one string."""
    kinds = ("title", "subheader", "markdown", "caption", "info", "success", "warning")
    # Values from the snapshot reach Markdown backslash-escaped (dashboard/ui.py `plain`): read them as shown.
    parts = [re.sub(r"\\(.)", r"\1", e.value).replace("\u2060", "") for kind in kinds for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def frame(at: AppTest, column: str, value: str) -> pd.DataFrame:
    """The first table on the page with ``value`` in ``column``."""
    for df in at.dataframe:
        data = df.value.data if hasattr(df.value, "data") else df.value
        if column in data.columns and data[column].astype(str).str.contains(value, regex=False).any():
            return data
    raise AssertionError(f"no table with {value!r} in column {column!r}")


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_exceptions(open_page, page: str) -> None:
    at = open_page(page, team="payments", service=KNOWN_SERVICE)
    assert not at.exception, [e.value for e in at.exception]
    assert at.title, "page has no title"
    assert "2026-11-23" in at.sidebar.markdown[0].value, "sidebar shows the latest complete snapshot"
    assert "Published 20" in "\n".join(c.value for c in at.sidebar.caption)
    labels = [b.label for b in at.download_button]
    assert labels and all("(CSV)" in label for label in labels), "every table offers a CSV download"


def test_incomplete_run_is_not_served(open_page) -> None:
    at = open_page("compare")
    options = at.selectbox(key="to").options
    assert "2026-11-30" not in options
    assert options[-1] == "2026-11-23"


def test_service_page_puts_the_check_that_unlocks_the_next_level_first(open_page) -> None:
    at = open_page("service", service=KNOWN_SERVICE)
    body = texts(at)
    assert "Needed for Bronze" in body
    first_fix = body.index("Needed for Bronze")
    assert body.index(KNOWN_CHECK, first_fix) < body.index("Needed for higher levels")
    assert KNOWN_DETAIL in body
    assert KNOWN_REMEDIATION in body
    assert KNOWN_SNIPPET.strip() in [c.value.strip() for c in at.code]
    assert "https://platform.example.com/docs/checks/reliability/has_readiness_probes" in body
    m = metrics(at)
    assert m["Level"] == "No level"
    assert "(was bronze)" in next(x.delta for x in at.metric if x.label == "Level")
    assert m["Checks to Bronze"] == "1"
    # Owners and where the identity came from.
    assert "@acme/payments" in body
    assert "`catalog`" in body and "catalog-info.yaml" in body


def test_service_page_asks_for_a_service_when_none_is_chosen(open_page) -> None:
    at = open_page("service")
    assert any("Pick a service" in i.value for i in at.info)


def test_teams_page_shows_the_teams_level_counts(open_page, built) -> None:
    scores = built.frames["service_scores"]
    mine = scores[
        (scores["snapshot"] == built.latest) & (scores["scorecard"] == "default") & (scores["team"] == "payments")
    ]
    expected = mine["level"].fillna("none").value_counts()

    at = open_page("teams", team="payments")
    m = metrics(at)
    assert m["Services"] == str(len(mine))
    for level, label in (("gold", "Gold"), ("silver", "Silver"), ("bronze", "Bronze"), ("none", "No level")):
        assert m[label] == str(int(expected.get(level, 0))), label
    grid = frame(at, "open", KNOWN_SERVICE)
    row = grid[grid["open"].str.contains(f"service={KNOWN_SERVICE}")].iloc[0]
    assert row[KNOWN_CHECK] == "✗"
    assert "✓ pass" in texts(at) and "– n/a" in texts(at), "the status legend is shown"
    # The next-level list names the readiness check as one blocker.
    ranked = frame(at, "check_id", KNOWN_CHECK)
    assert {"services_blocked", "services_lifted"} <= set(ranked.columns)
    assert any(label.startswith("Lead time") for label in m)


def test_teams_page_without_a_team_lists_teams_and_says_what_to_do(open_page) -> None:
    at = open_page("teams")
    assert any("Pick a team" in i.value for i in at.info)
    assert set(frame(at, "team", "payments")["team"]) == {"payments", "search", "identity"}


def test_category_filter_narrows_the_grid(open_page) -> None:
    at = open_page("teams", team="payments", category="reliability")
    grid = frame(at, "open", KNOWN_SERVICE)
    assert KNOWN_CHECK in grid.columns
    assert "has_codeowners" not in grid.columns


def test_adoption_page_shows_version_drift_per_path(open_page, built) -> None:
    gp = built.frames["golden_path_adoption"]
    latest = gp[gp["snapshot"] == built.latest]
    behind = latest[latest["on_path"] & (latest["releases_behind"] > 0)]
    expected = behind.groupby("golden_path").size()

    at = open_page("adoption")
    m = metrics(at)
    assert m["CI workflow"] == f"{int(expected.get('ci_workflow', 0))} behind"
    assert m["Base Helm chart"] == f"{int(expected.get('helm_chart', 0))} behind"
    n = int(expected.get("ci_workflow", 0))
    assert f"{n} service{'' if n == 1 else 's'} behind latest" in texts(at)
    orphans = frame(at, "name", "legacy-worker-0")
    assert "declared-only" not in set(orphans["name"]), "a repo-declared workload is not a cluster orphan"
    assert any("401 Unauthorized" in w.value for w in at.warning), "a failed crawl target is called out"


def test_compare_page_lists_regressions_and_level_moves(open_page, built) -> None:
    results = built.frames["check_results"]
    before = results[results["snapshot"] == built.snapshots[-2]].set_index(["service", "check_id"])["status"]
    after = results[results["snapshot"] == built.latest].set_index(["service", "check_id"])["status"]
    regressed = (before.isin(["pass", "waived"]) & after.isin(["fail", "warn", "error"])).sum()

    at = open_page("compare")
    assert metrics(at)["Checks regressed"] == str(int(regressed))
    reg = frame(at, "check_id", KNOWN_CHECK)
    row = reg[reg["check_id"] == KNOWN_CHECK].iloc[0]
    assert KNOWN_SERVICE in row["open"]
    assert row["status_before"] == "✓ pass" and row["status_after"] == "✗ fail"
    down = frame(at, "open", KNOWN_SERVICE)
    assert down.iloc[0]["level_before"] == "bronze" and down.iloc[0]["level_after"] == "none"


def test_checks_page_shows_failing_services_for_a_check(open_page) -> None:
    at = open_page("checks", check=KNOWN_CHECK, level="bronze")
    catalogue = frame(at, "check_id", KNOWN_CHECK)
    assert set(catalogue["level"]) == {"bronze"}
    failing = frame(at, "open", KNOWN_SERVICE)
    assert failing[failing["open"].str.contains(KNOWN_SERVICE)].iloc[0]["detail"] == KNOWN_DETAIL


@pytest.mark.parametrize("page", PAGES)
def test_missing_snapshot_says_how_to_publish_one(open_page, tmp_path: Path, page: str) -> None:
    at = open_page(page, snapshot=tmp_path / "nothing-here.duckdb")
    assert not at.exception
    assert any("No snapshot published yet: run `scorecard run`" in i.value for i in at.info)


def test_unreadable_snapshot_is_reported_not_raised(open_page, tmp_path: Path) -> None:
    broken = tmp_path / "scorecard.duckdb"
    broken.write_bytes(b"this is not a duckdb file" * 100)
    at = open_page("adoption", snapshot=broken)
    assert not at.exception
    assert any("could not be read" in e.value for e in at.error)


def test_compare_with_one_snapshot_says_what_to_do(open_page, tmp_path: Path) -> None:
    one = build_snapshot(tmp_path, n_snapshots=1)
    at = open_page("compare", snapshot=one.serving)
    assert any("Comparing needs two" in i.value for i in at.info)
