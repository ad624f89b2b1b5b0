"""Every page rendered with AppTest against the pipeline's published history, asserting what a user reads.

Expectations come from the frames the pipeline wrote (``built.frames``),
computed here with pandas, never from the read model's SQL.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import ui
from pipelines import warehouse
from tests.dashboard.conftest import PAGES
from tests.dashboard.snapshot_fixture import history_subset


def shown(text: str) -> str:
    # Values from the snapshot reach Markdown backslash-escaped (dashboard/ui.py `plain`): read them as shown.
    return re.sub(r"\\(.)", r"\1", str(text)).replace("\u2060", "")


def texts(at: AppTest) -> str:
    """Everything a reader sees as text on the page, in one string."""
    kinds = ("title", "subheader", "markdown", "caption", "info", "success", "warning", "text")
    return "\n".join(shown(e.value) for kind in kinds for e in getattr(at, kind))


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def frame(at: AppTest, column: str, value: str) -> pd.DataFrame:
    """The first table on the page with ``value`` in ``column``."""
    for df in at.dataframe:
        data = df.value.data if hasattr(df.value, "data") else df.value
        if column in data.columns and data[column].astype(str).str.contains(value, regex=False).any():
            return data
    raise AssertionError(f"no table with {value!r} in column {column!r}")


def service_row(table: pd.DataFrame, service: str) -> pd.Series:
    """The row of a table whose `open` link goes to ``service``'s page."""
    return table[table["open"].str.endswith(f"service={service}")].iloc[0]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_exceptions(open_page, built, page: str) -> None:
    reg = built.regression
    at = open_page(page, team=reg.team, service=reg.service)
    assert not at.exception, [e.value for e in at.exception]
    assert at.title, "page has no title"
    assert f"{built.latest:%Y-%m-%d}" in at.sidebar.markdown[0].value, "sidebar shows the latest complete snapshot"
    caption = "\n".join(c.value for c in at.sidebar.caption)
    assert "Published 20" in caption
    assert f"{len(built.snapshots)} snapshots · {len(built.at('services'))} services" in caption
    labels = [b.label for b in at.download_button]
    assert labels and all("(CSV)" in label for label in labels), "every table offers a CSV download"


def test_a_killed_run_is_neither_history_nor_served(open_page, built) -> None:
    with warehouse.read_only(built.warehouse) as con:
        status, message = con.execute("SELECT status, message FROM runs WHERE snapshot = ?", [built.incomplete]).fetchone()
    assert status == "failed" and "stopped before its snapshot was checked" in message
    options = open_page("compare").selectbox(key="to").options
    assert options == [f"{d:%Y-%m-%d}" for d in built.snapshots]


def test_service_page_puts_the_checks_that_unlock_the_next_level_first(open_page, built) -> None:
    reg = built.regression
    profile = built.at("service_scores", scorecard="default", service=reg.service).iloc[0]
    needed = built.blockers(service=reg.service)
    assert not needed.empty and reg.next_level, "the regressed service has a next level to reach"

    at = open_page("service", service=reg.service)
    body = texts(at)
    first, higher = body.index(f"Needed for {reg.next_level.title()}"), body.find("Needed for higher levels")
    for check_id in needed["check_id"]:
        assert first < body.index(f"`{check_id}`", first) < (higher if higher > 0 else len(body)), check_id
    # The check that passed last week, with what was found and the service's own fix.
    section = first if reg.blocks_next_level else higher
    assert section > 0 and body.index(f"`{reg.check_id}`", section) > section
    assert shown(ui.prose(reg.detail)) in body
    assert shown(ui.prose(reg.remediation)) in body
    assert reg.doc_url in body
    snippets = built.at("check_results", service=reg.service).set_index("check_id")["snippet"]
    with_snippet = [s for s in snippets[needed["check_id"]].dropna()]
    assert with_snippet, "a blocker of this service comes with a snippet"
    assert {s.strip() for s in with_snippet} <= {c.value.strip() for c in at.code}
    m = metrics(at)
    assert m["Level"] == ("No level" if profile["level"] == "none" else profile["level"].title())
    assert m[f"Checks to {reg.next_level.title()}"] == str(profile["checks_to_next_level"]) == str(len(needed))
    # Owners and where the identity came from.
    service = built.at("services", service=reg.service).iloc[0]
    assert f"**CODEOWNERS:** {service['codeowners']}" in body
    assert f"`{service['identity_rule']}` — {ui.IDENTITY_RULES[service['identity_rule']]}" in body


def test_service_page_says_which_level_a_service_lost(open_page, built, tmp_path: Path) -> None:
    drop = built.level_drop
    history = [d for d in built.snapshots if d <= drop.after]
    served = warehouse.publish(history_subset(built, tmp_path, history), tmp_path / "serving.duckdb")
    at = open_page("service", snapshot=served, service=drop.service)
    level = next(m for m in at.metric if m.label == "Level")
    assert level.value == ("No level" if drop.level_after == "none" else drop.level_after.title())
    assert f"(was {drop.level_before})" in level.delta


def test_service_page_asks_for_a_service_when_none_is_chosen(open_page) -> None:
    at = open_page("service")
    assert any("Pick a service" in i.value for i in at.info)


def test_teams_page_shows_the_teams_level_counts(open_page, built) -> None:
    reg = built.regression
    mine = built.at("service_scores", scorecard="default", team=reg.team)
    expected = mine["level"].value_counts()

    at = open_page("teams", team=reg.team)
    m = metrics(at)
    assert m["Services"] == str(len(mine))
    for level, label in (("gold", "Gold"), ("silver", "Silver"), ("bronze", "Bronze"), ("none", "No level")):
        assert m[label] == str(int(expected.get(level, 0))), label
    grid = frame(at, "open", f"service={reg.service}")
    assert service_row(grid, reg.service)[reg.check_id] == ui.symbol(reg.status_after)
    assert "✓ pass" in texts(at) and "– n/a" in texts(at), "the status legend is shown"
    # Every check that keeps one of the team's services from its next level is ranked.
    team_blockers = set(built.blockers(team=reg.team)["check_id"])
    ranked = frame(at, "services_blocked", "")
    assert set(ranked["check_id"]) == team_blockers
    assert any(label.startswith("Lead time") for label in m)


def test_teams_page_without_a_team_lists_teams_and_says_what_to_do(open_page, built) -> None:
    at = open_page("teams")
    assert any("Pick a team" in i.value for i in at.info)
    teams = set(built.at("services")["team"].dropna())
    assert len(teams) > 1
    assert set(frame(at, "team", built.regression.team)["team"]) == teams


def test_category_filter_narrows_the_grid(open_page, built) -> None:
    reg = built.regression
    category = built.at("checks", check_id=reg.check_id).iloc[0]["category"]
    catalogue = built.at("checks")
    others = set(catalogue.loc[catalogue["category"] != category, "check_id"])
    at = open_page("teams", team=reg.team, category=category)
    grid = frame(at, "open", f"service={reg.service}")
    assert reg.check_id in grid.columns
    assert not others & set(grid.columns)


def test_adoption_page_shows_version_drift_per_path(open_page, built) -> None:
    gp = built.at("golden_path_adoption")
    adopted = gp[gp["adoption"] == "adopted"]
    # A version the crawl could not read is "version unknown", not behind.
    known = adopted["version"].notna()
    behind = adopted[(adopted["releases_behind"] > 0).fillna(known & (adopted["version"] != adopted["latest"]))]
    expected = behind.groupby("golden_path").size()
    assert expected.sum() > 0

    at = open_page("adoption")
    m = metrics(at)
    labels = {"template": "Service template", "ci_workflow": "CI workflow", "helm_chart": "Base Helm chart",
              "terraform": "Terraform modules"}
    for path, label in labels.items():
        assert m[label] == f"{int(expected.get(path, 0))} behind", label
    n = int(expected.get("ci_workflow", 0))
    assert f"{n} service{'' if n == 1 else 's'} behind latest" in texts(at)

    workloads = built.at("workloads")
    unowned = workloads[workloads["service"].isna()]
    cluster_orphans = set(unowned.loc[unowned["source"] == "cluster", "name"])
    assert cluster_orphans
    assert set(frame(at, "name", sorted(cluster_orphans)[0])["name"]) == cluster_orphans

    failed = built.at("source_status").query("status == 'error'")
    assert len(failed) >= 2, "the missing deploy log and the empty repository failed to crawl"
    warnings = "\n".join(shown(w.value) for w in at.warning)
    for target, reason in zip(failed["target"], failed["reason"], strict=True):
        assert f"{target}: {reason}" in warnings, "a failed crawl target is called out with its reason"


def test_compare_page_lists_this_weeks_regressions(open_page, built) -> None:
    sr = built.frames["scorecard_results"]
    sr = sr[(sr["scorecard"] == "default") & sr["applicable"].astype(bool)].set_index(["service", "check_id"])
    before = sr[sr["snapshot"] == built.previous]["counts_as_pass"]
    after = sr[sr["snapshot"] == built.latest]["counts_as_pass"]
    both = pd.concat([before.rename("before"), after.rename("after")], axis=1, join="inner").astype(bool)
    regressed = int((both["before"] & ~both["after"]).sum())
    improved = int((~both["before"] & both["after"]).sum())

    at = open_page("compare")
    assert metrics(at)["Checks regressed"] == str(regressed)
    assert metrics(at)["Checks improved"] == str(improved)
    reg = built.regression
    table = frame(at, "check_id", reg.check_id)
    row = service_row(table[table["check_id"] == reg.check_id], reg.service)
    assert row["status_before"] == ui.status_text(reg.status_before)
    assert row["status_after"] == ui.status_text(reg.status_after)


def test_compare_page_lists_a_service_that_moved_down(open_page, built) -> None:
    drop = built.level_drop
    at = open_page("compare", **{"from": f"{drop.before:%Y-%m-%d}", "to": f"{drop.after:%Y-%m-%d}"})
    down = frame(at, "open", f"service={drop.service}")
    row = service_row(down, drop.service)
    assert (row["level_before"], row["level_after"]) == (drop.level_before, drop.level_after)
    assert int(metrics(at)["Services moved down"]) >= 1


def test_checks_page_shows_failing_services_for_a_check(open_page, built) -> None:
    reg = built.regression
    at = open_page("checks", check=reg.check_id, level=reg.level)
    catalogue = frame(at, "check_id", reg.check_id)
    assert set(catalogue["level"]) == {reg.level}
    failing = frame(at, "open", f"service={reg.service}")
    assert service_row(failing, reg.service)["detail"] == reg.detail


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


def test_compare_with_one_snapshot_says_what_to_do(open_page, built, tmp_path: Path) -> None:
    served = warehouse.publish(history_subset(built, tmp_path, [built.latest]), tmp_path / "serving.duckdb")
    at = open_page("compare", snapshot=served)
    assert any("Comparing needs two" in i.value for i in at.info)
