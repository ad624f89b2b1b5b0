"""Checks: the catalogue with pass rates and trends, and who fails a given check."""

import re

import plotly.express as px
import streamlit as st

from dashboard import data, rule_marks, ui

ctx = ui.context()
ui.header("Check catalogue", "Which checks pass across the org, and which services fail them?", ctx)

catalogue = data.check_catalogue(ctx.src, ctx.snapshot, ctx.scorecard)
if ctx.category:
    catalogue = catalogue[catalogue["category"] == ctx.category]
if catalogue.empty:
    st.info(
        "No checks in this snapshot for this filter. Checks are registered in `checks/` and run by `scorecard run`."
    )
    st.stop()

level_options = catalogue.sort_values("level_rank")["level"].dropna().drop_duplicates().tolist()
level = ui.url_selectbox(
    "Level", [None, *level_options], param="level", format_func=lambda v: "All levels" if v is None else v
)
if level:
    catalogue = catalogue[catalogue["level"] == level]

rates = data.check_pass_rates(ctx.src, ctx.scorecard, ctx.team, ctx.category)
now = ui.at(rates, ctx.snapshot).set_index("check_id")
before = ui.at(rates, ctx.previous).set_index("check_id")
history = rates.sort_values("snapshot").groupby("check_id")["pass_rate"].agg(lambda s: [round(float(v), 3) for v in s])

table = catalogue.set_index("check_id")[["title", "category", "level", "weight", "in_scorecard", "doc_url"]].copy()
table["doc_url"] = ui.link_cells(table["doc_url"])
table["pass_rate"] = now["pass_rate"]
table["change_pp"] = (now["pass_rate"] - before["pass_rate"]) * 100 if not before.empty else None
table["trend"] = history
table["failing"] = now["failing"]
table["unknown"] = now["unknown"]
# Most failing services first: a check that is only unknown (no data) or
# applies to one service must not top the list with a 0 % pass rate.
table = table.reset_index().sort_values(
    ["failing", "pass_rate", "check_id"], ascending=[False, True, True], na_position="last"
)
ui.table(
    table[
        ["check_id", "level", "pass_rate", "change_pp", "trend", "failing", "unknown"]
        + ["title", "category", "weight", "in_scorecard", "doc_url"]
    ],
    "check catalogue",
    ctx,
    limit=None,
    column_config={
        "pass_rate": ui.rate_column("pass rate"),
        "change_pp": st.column_config.NumberColumn(
            "change", format="%+.0f pp", help=f"Pass rate change since {ctx.previous}" if ctx.previous else None
        ),
        "trend": st.column_config.LineChartColumn("trend", y_min=0, y_max=1, color="blue"),
        "doc_url": st.column_config.LinkColumn("docs", display_text="docs"),
    },
)

# ------------------------------------------------------------ one check
st.subheader("One check")
check_ids = table["check_id"].tolist()
check_id = ui.url_selectbox(
    "Check",
    check_ids,
    param="check",
    default=check_ids[0],
    # The URL keeps the option as shown, so it shows the bare id: links name checks as `?check=<id>`.
    format_func=str,
    help="Most failing services first; the title is shown below.",
)
info = catalogue[catalogue["check_id"] == check_id].iloc[0]
st.markdown(
    f"**{ui.plain(info['title'])}** {ui.code(check_id)} · {ui.plain(info['category'])} · "
    f"{ui.plain(info['level'])} level · weight {info['weight']}"
)
if ui.present(info["rationale"]):
    st.markdown(f"**Why:** {info['rationale']}")
if ui.present(info["remediation"]):
    # The catalogue shows the template; on a service page the placeholders are filled in.
    template = re.sub(r"\{(\w+)\}", r"‹\1›", info["remediation"])
    st.markdown(f"**How to fix:** {template}")
if ui.doc_link(info["doc_url"]):
    st.markdown(ui.doc_link(info["doc_url"], "Documentation"))

one = rates[rates["check_id"] == check_id].assign(snapshot=lambda d: ui.snapshot_labels(d["snapshot"]))
if not one.empty:
    fig = px.line(
        one,
        x="snapshot",
        y="pass_rate",
        markers=True,
        title=f"Pass rate of {check_id}" + (f" in team {ctx.team}" if ctx.team else ""),
        hover_data={"passing": True, "failing": True, "unknown": True},
        labels={"pass_rate": "pass rate", "snapshot": ""},
    )
    fig.update_traces(line_color="#2166ac")
    fig.update_yaxes(range=[0, 1.05], tickformat=".0%")
    fig.update_xaxes(type="category")
    rule_marks.mark_rule_changes(fig, ctx.src, one["snapshot"])
    ui.chart(fig, height=280, key="check_trend")

failing = data.failing_services(ctx.src, ctx.snapshot, ctx.scorecard, check_id, ctx.team)
st.markdown(f"**Services not passing {ui.code(check_id)}** ({len(failing):,})")
if failing.empty:
    st.success("Every applicable service passes this check.")
else:
    shown = failing.assign(
        open=[ui.link("service", service=s) for s in failing["service"]], status=failing["status"].map(ui.status_text)
    )
    ui.table(
        shown[["open", "team", "status", "detail", "level", "score_pct"]],
        f"{check_id} failing services",
        ctx,
        limit=200,
        column_config={
            "open": ui.service_link_column(),
            "score_pct": st.column_config.NumberColumn("score", format="%.0f%%"),
        },
        styler=lambda df: ui.style_status_cells(df, ["status"]),
    )
