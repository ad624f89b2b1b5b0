"""The Adoption page's "Requests to the platform team" section: is the platform a product or a ticket queue?

A golden path that works makes its requests ("new repo", "new database",
"DNS") unnecessary, so a team whose services adopted the paths should file
fewer of them. Everything shown is read from `request_trend` as published.
"""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from dashboard import data, ui


def render(ctx: ui.Context) -> None:
    st.subheader("Requests to the platform team")
    trend = data.request_trend(ctx.src, ctx.snapshot, ctx.team)
    if trend.empty or not trend["requests"].sum():
        st.info("No platform requests in this snapshot. Configure `sources.jira` (docs/jira.md) to see whether "
                "the golden paths make the routine requests self-service.")
        return
    last = trend.iloc[-1]
    recent = trend.tail(4)
    who = f"team {ui.plain(ctx.team)}" if ctx.team else "all teams"
    cols = st.columns(4)
    cols[0].metric("Requests last week", int(last["requests"]), border=True,
                   help=f"Requests {who} filed in the last complete ISO week (from {last['week']:%Y-%m-%d}).")
    cols[1].metric("Self-service kinds (last 4 weeks)", ui.pct(_share(recent)), border=True,
                   help="Share of requests of the kinds the golden paths are meant to make self-service.")
    cols[2].metric("Time to resolution p50", ui.hours(last["resolution_p50_hours"]), border=True,
                   help="Median hours from created to resolved, over the requests resolved that week.")
    cols[3].metric("Time to resolution p90", ui.hours(last["resolution_p90_hours"]), border=True)
    st.caption(f"{int(recent['self_service_requests'].sum())} of {int(recent['requests'].sum())} requests of {who} "
               "in the last 4 complete weeks were of a self-service kind.")

    long = trend.melt(id_vars="week", value_vars=["self_service_requests", "other_requests"], var_name="kind",
                      value_name="filed")
    long["kind"] = long["kind"].map({"self_service_requests": "self-service kind", "other_requests": "other"})
    fig = px.bar(long, x="week", y="filed", color="kind", title=f"Requests per week ({who})",
                 labels={"week": "", "kind": "", "filed": "requests"}, color_discrete_map={"self-service kind": "#d6604d", "other": "#9e9e9e"})
    ui.whole_numbers(fig, trend["requests"].max())
    ui.chart(fig, height=320, key="request_trend")

    times = trend.melt(id_vars="week", value_vars=["resolution_p50_hours", "resolution_p90_hours"],
                       var_name="percentile", value_name="hours").dropna()
    if not times.empty:
        times["percentile"] = times["percentile"].map({"resolution_p50_hours": "p50", "resolution_p90_hours": "p90"})
        fig = px.line(times, x="week", y="hours", color="percentile", markers=True,
                      title="Time to resolution (requests resolved each week)", labels={"week": "", "percentile": ""},
                      color_discrete_sequence=ui.CATEGORICAL)
        ui.chart(fig, height=300, key="request_resolution")

    st.markdown("**Requests next to adoption**: teams on the service template should file fewer self-service-kind "
                "requests")
    teams = data.requests_by_team(ctx.src, ctx.snapshot)
    if ctx.team:
        teams = teams[teams["team"] == ctx.team]
    ui.table(
        teams, "requests by team", ctx, limit=100,
        column_config={
            "requests_recent": st.column_config.NumberColumn("requests (last 4 weeks)"),
            "self_service_recent": st.column_config.NumberColumn("self-service kind (last 4 weeks)"),
            "self_service_before": st.column_config.NumberColumn("self-service kind (4 weeks before)"),
            "self_service_share": ui.rate_column("self-service share"),
            "template_adoption": ui.rate_column("on the service template"),
            "resolution_p50_hours": st.column_config.NumberColumn("resolution p50 (h)", format="%.1f"),
        },
    )


def _share(weeks) -> float | None:
    """In percent, as ui.pct shows it."""
    total = weeks["requests"].sum()
    return 100 * weeks["self_service_requests"].sum() / total if total else None
