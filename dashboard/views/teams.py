"""Teams: how do my team's services score, and what would move us up a level?"""

import re

import plotly.express as px
import streamlit as st

from dashboard import data, rule_marks, ui

GRID_ROWS = 100

ctx = ui.context()
ui.header("Team scorecard", "How do my team's services score, and what would move us up a level?", ctx)

levels = data.scorecard_levels(ctx.src, ctx.snapshot, ctx.scorecard)
level_order = ["none", *levels["level"].tolist()]


def level_name(level: str) -> str:
    return "No level" if level == "none" else level.title()


if ctx.team is None:
    st.info("Pick a team in the sidebar to see its services, their checks and what would move them up a level.")
    overview = data.team_overview(ctx.src, ctx.snapshot, ctx.scorecard)
    if overview.empty:
        st.info(f"No scores for scorecard {ui.code(ctx.scorecard)} in this snapshot: run `scorecard run`.")
        st.stop()
    counts = overview.pivot_table(index="team", columns="level", values="services", aggfunc="sum", fill_value=0)
    counts = counts.reindex(columns=[lvl for lvl in level_order if lvl in counts.columns])
    counts.columns = [level_name(c) for c in counts.columns]
    summary = overview.groupby("team").agg(services=("services", "sum"), mean_score_pct=("mean_score_pct", "first"))
    teams = summary.join(counts).reset_index().sort_values("mean_score_pct")
    teams.insert(0, "open", [ui.link("teams", team=t) for t in teams["team"]])
    ui.table(
        teams,
        "teams",
        ctx,
        limit=None,
        column_config={
            "open": st.column_config.LinkColumn("team", display_text=r"team=([^&]+)"),
            "team": None,
            "mean_score_pct": st.column_config.ProgressColumn(
                "mean score", format="%.0f%%", min_value=0, max_value=100, color="blue"
            ),
        },
    )
    st.stop()

services = data.team_services(ctx.src, ctx.snapshot, ctx.scorecard, ctx.team)
if services.empty:
    st.info(
        f"Team **{ui.plain(ctx.team)}** has no scored services in the {ui.code(ctx.scorecard)} scorecard. "
        "Check its services' "
        "`spec.owner` in catalog-info.yaml (or CODEOWNERS), then run `scorecard run`."
    )
    st.stop()

# ------------------------------------------------------------ headline
trend = data.score_trend(ctx.src, ctx.scorecard, ctx.team)
now = ui.at(trend, ctx.snapshot)
team_mean = float(services["score_pct"].mean())
org_mean = float(now["org"].iloc[0]) if not now.empty else None
st.subheader(f"Team {ui.plain(ctx.team)}")
counts = services["level"].value_counts()
cols = st.columns(2 + len(level_order))
cols[0].metric("Services", len(services), border=True)
cols[1].metric(
    "Mean score",
    ui.pct(team_mean),
    delta=None if org_mean is None else f"{team_mean - org_mean:+.1f} pp vs org",
    border=True,
)
for col, level in zip(cols[2:], reversed(level_order), strict=True):
    col.metric(ui.plain(level_name(level)), int(counts.get(level, 0)), border=True)

left, right = st.columns([3, 2])
with left:
    long = trend.melt(id_vars="snapshot", value_vars=["team", "org"], var_name="scope", value_name="mean score")
    long["scope"] = long["scope"].map({"team": ui.chart_text(ctx.team), "org": "whole org"})
    long["snapshot"] = ui.snapshot_labels(long["snapshot"])
    fig = px.line(
        long,
        x="snapshot",
        y="mean score",
        color="scope",
        markers=True,
        title="Mean score: team against the org",
        labels={"snapshot": "", "scope": ""},
        color_discrete_sequence=["#2166ac", "#9e9e9e"],
    )
    fig.update_yaxes(range=[0, 100], ticksuffix=" %")
    fig.update_xaxes(type="category")
    rule_marks.mark_rule_changes(fig, ctx.src, long["snapshot"].unique())
    ui.chart(fig, height=300, key="team_trend")
with right:
    dist = services.groupby("level").size().reindex(level_order, fill_value=0).reset_index(name="services")
    dist["label"] = dist["level"].map(level_name)
    fig = px.bar(
        dist,
        x="label",
        y="services",
        color="level",
        color_discrete_map=ui.level_colour_map(level_order),
        text="services",
        title="Services per level",
        labels={"label": ""},
    )
    fig.update_layout(showlegend=False)
    ui.whole_numbers(fig, dist["services"].max())
    ui.chart(fig, height=300, key="team_levels")

# ------------------------------------------------------------ grid
st.subheader("Services × checks")
checks = data.scorecard_check_list(ctx.src, ctx.snapshot, ctx.scorecard)
if ctx.category:
    checks = checks[checks["category"] == ctx.category]
results = data.team_results(ctx.src, ctx.snapshot, ctx.scorecard, ctx.team, ctx.category)
if checks.empty or results.empty:
    st.info("No check results for this team and filter.")
else:
    ui.status_legend()
    cells = results.assign(cell=results["status"].map(ui.symbol)).pivot(
        index="service", columns="check_id", values="cell"
    )
    check_cols = [c for c in checks["check_id"] if c in cells.columns]
    grid = services[["service", "level", "score_pct"]].merge(
        cells[check_cols], left_on="service", right_index=True, how="left"
    )
    grid[check_cols] = grid[check_cols].fillna(ui.symbol("unknown"))
    grid.insert(0, "open", [ui.link("service", service=s) for s in grid["service"]])
    titles = dict(zip(checks["check_id"], checks["title"], strict=True))
    lvl = dict(zip(checks["check_id"], checks["level"], strict=True))
    config = {
        "open": ui.service_link_column(),
        "service": None,
        "level": st.column_config.TextColumn("level"),
        "score_pct": st.column_config.NumberColumn("score", format="%.0f%%"),
        # "has_"/"uses_" add width, not meaning; the full id and title are in the tooltip.
        **{
            c: st.column_config.TextColumn(
                re.sub(r"^(has|uses|is)_", "", c),
                help=f"{ui.code(c)}: {ui.plain(titles.get(c))} ({ui.plain(lvl.get(c))} level)",
            )
            for c in check_cols
        },
    }
    st.caption(
        "Worst first. Each cell is the check's status; hover a column name for the check. "
        "Scroll sideways for more checks, or narrow them with the category filter."
    )
    ui.table(
        grid,
        "team grid",
        ctx,
        limit=GRID_ROWS,
        column_config=config,
        styler=lambda df: ui.style_status_cells(df, check_cols),
    )

# ------------------------------------------------------------ next level
st.subheader("What would move us up a level")
blockers = data.next_level_blockers(ctx.src, ctx.snapshot, ctx.scorecard, ctx.team)
if blockers.empty:
    st.success("Every service is at the top level of this scorecard.")
else:
    ranked = data.rank_blockers(blockers)
    close = data.close_to_next_level(blockers)
    top = ranked.head(3)
    st.markdown(
        f"Fixing **{len(top)} check{'s' if len(top) != 1 else ''}** "
        f"({', '.join(ui.code(c) for c in top['check_id'])}) would lift "
        f"**{int(top['services_lifted'].iloc[-1])} of {len(services)} services** to their next level."
    )
    left, right = st.columns(2)
    with left:
        st.markdown("**Fewest checks, most services**: each check with the services it blocks")
        ui.table(
            ranked,
            "next level checks",
            ctx,
            limit=20,
            column_config={
                "services_blocked": st.column_config.NumberColumn(
                    "blocks", help="Services this check keeps from their next level."
                ),
                "services_lifted": st.column_config.NumberColumn(
                    "lifts so far",
                    help="Services that reach their next level once this check and every check above it pass.",
                ),
            },
        )
    with right:
        st.markdown("**Almost there**: services one or two checks from their next level")
        if close.empty:
            st.caption("No service is within two checks of its next level.")
        else:
            close = close.assign(open=[ui.link("service", service=s) for s in close["service"]])
            ui.table(
                close[["open", "level", "next_level", "missing", "checks"]],
                "almost there",
                ctx,
                limit=50,
                column_config={"open": ui.service_link_column()},
            )

# ------------------------------------------------------------ DORA
st.subheader("Delivery (DORA)")
summary = data.dora_summary(ctx.src, ctx.snapshot, ctx.team)
if summary.empty or not summary["services"].iloc[0]:
    st.info("No deployment data for this team: configure a deploy source (deploy log, GitHub deployments or tags).")
else:
    row = summary.iloc[0].to_dict()
    st.caption(f"Medians across {int(row['services'])} services; each tier is the DORA 2023 tier of the median.")
    ui.dora_metrics(row)
    ui.table(
        data.dora_services(ctx.src, ctx.snapshot, ctx.team).drop(columns="team"),
        "team DORA metrics",
        ctx,
        limit=100,
        column_config=ui.DORA_COLUMNS,
    )
