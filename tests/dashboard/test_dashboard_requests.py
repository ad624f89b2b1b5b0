"""The Adoption page's request queue, rendered with AppTest against the pipeline's published history.

Expectations come from the `request_trend` frames the pipeline wrote (the demo's Jira export read
through `sources.jira[].issues_file`), computed here with pandas.
"""

from __future__ import annotations

import pandas as pd

from tests.dashboard.test_dashboard_pages import metrics, texts


def latest_trend(built, team: str = "*") -> pd.DataFrame:
    trend = built.at("request_trend", team=team)
    return trend.sort_values("week")


def test_the_request_trend_sits_on_the_adoption_page(open_page, built) -> None:
    trend = latest_trend(built)
    last = trend.iloc[-1]
    recent = trend.tail(4)
    at = open_page("adoption")
    assert not at.exception, [e.value for e in at.exception]
    body = texts(at)
    assert "Requests to the platform team" in body
    shown = metrics(at)
    assert shown["Requests last week"] == str(int(last["requests"]))
    assert f"from {pd.Timestamp(last['week']):%Y-%m-%d}" in next(m.help for m in at.metric if m.label == "Requests last week")
    share = 100 * recent["self_service_requests"].sum() / recent["requests"].sum()
    assert shown["Self-service kinds (last 4 weeks)"] == f"{share:.0f} %"
    assert (f"{int(recent['self_service_requests'].sum())} of {int(recent['requests'].sum())} requests of all teams"
            in body)


def test_the_demo_queue_shrinks_as_teams_adopt_the_template(built) -> None:
    # The demo's story, as published: fewer self-service-kind requests in the last 4 weeks than in the first 4.
    trend = latest_trend(built)
    filed = trend[trend["requests"] > 0]
    assert filed.head(4)["self_service_requests"].sum() > filed.tail(4)["self_service_requests"].sum()


def test_requests_by_team_stand_next_to_template_adoption(open_page, built) -> None:
    team = built.regression.team
    adoption = built.at("adoption_summary", team=team, golden_path="template").iloc[0]["adoption_share"]
    at = open_page("adoption", team=team)
    assert not at.exception, [e.value for e in at.exception]
    table = next(t for t in (df.value.data if hasattr(df.value, "data") else df.value for df in at.dataframe)
                 if "template_adoption" in t.columns)
    row = table[table["team"] == team].iloc[0]
    assert row["template_adoption"] == adoption
    assert set(table["team"]) == {team}, "the team filter applies to the table"
    weeks = latest_trend(built, team)
    recent = weeks[weeks["week"] > weeks["week"].max() - pd.Timedelta(days=28)]
    assert row["self_service_recent"] == recent["self_service_requests"].sum()
