"""Compare snapshots: what moved between two weeks, for a one-minute weekly review.

Or what a stored preview (`scorecard preview --publish`) would move: the same
comparison, its two sides read from the preview tables published with the snapshot.
"""

import datetime as dt
import json

import plotly.graph_objects as go
import streamlit as st

from dashboard import data, ui

ctx = ui.context()
ui.header("Compare snapshots", "What changed between two snapshots?", ctx)

snapshots = [d.isoformat() for d in ctx.overview["snapshots"]]
stored = data.previews(ctx.src)  # `scorecard preview --publish`: rule changes tried on the latest evidence
chosen = None
if not stored.empty:
    chosen = ui.url_selectbox(
        "Preview", [None, *stored["preview"]], param="preview",
        format_func=lambda v: "none: compare two snapshots" if v is None else v,
        help="A stored `scorecard preview`: the snapshot it was made from against the same evidence under new rules",
    )
if chosen is not None:
    run = stored[stored["preview"] == chosen].iloc[0]
    before = after = None
    st.caption(
        f"Snapshot {run['snapshot']:%Y-%m-%d} as scored now ({ui.plain(run['against'] or 'the published snapshot')}) "
        f"→ the same evidence under {ui.plain(run['config_file'])}. Nothing here is history: a preview is never "
        "published as a snapshot."
    )
    for change in json.loads(run["rule_changes"] or "[]"):
        st.markdown(f"- rule change: {ui.code(change)}")
else:
    if len(snapshots) < 2:
        st.info(
            f"Only one snapshot is published ({snapshots[0]}). Comparing needs two: "
            "run `scorecard run` again on a later day, or try a rule change with `scorecard preview --publish`."
        )
        st.stop()

    left, right = st.columns(2)
    first = ui.url_selectbox("From", snapshots, param="from", default=snapshots[-2], container=left, format_func=str)
    second = ui.url_selectbox("To", snapshots, param="to", default=snapshots[-1], container=right, format_func=str)
    if first == second:
        st.info("Pick two different snapshots.")
        st.stop()
    # Always read "from" as the earlier one, whichever way round they were picked.
    before, after = sorted((dt.date.fromisoformat(first), dt.date.fromisoformat(second)))

summary = data.compare_summary(ctx.src, ctx.scorecard, before, after, ctx.team, preview=chosen)
moves = data.level_moves(ctx.src, ctx.scorecard, before, after, ctx.team, preview=chosen)
changes = data.check_changes(ctx.src, ctx.scorecard, before, after, ctx.team, ctx.category, preview=chosen)
regressed = changes[changes["change"] == "regressed"]
improved = changes[changes["change"] == "improved"]
# A waiver running out flips a result back without the service changing: told apart, not a regression.
expired = changes[changes["change"] == "waiver expired"]
changes = changes[changes["change"] != "waiver expired"]

cols = st.columns(5)
cols[0].metric("Services moved up", summary["moved_up"], border=True)
cols[1].metric("Services moved down", summary["moved_down"], border=True)
cols[2].metric("Checks regressed", len(regressed), help="pass or waived → fail, warn or error", border=True)
cols[3].metric("Checks improved", len(improved), help="fail, warn or error → pass or waived", border=True)
mean_before, mean_after = summary["mean_score_before"], summary["mean_score_after"]
cols[4].metric(
    "Mean score",
    ui.pct(mean_after, 1),
    delta=None if mean_before is None or mean_after is None else f"{mean_after - mean_before:+.1f} pp",
    border=True,
)

st.subheader("Services that moved level")
links = {"open": ui.service_link_column()}
if moves.empty:
    st.caption("No service changed level.")
else:
    moves = moves.assign(open=[ui.link("service", service=s) for s in moves["service"]])
    columns = ["open", "team", "level_before", "level_after", "score_before", "score_after", "waiver_expired"]
    links = {**links, "waiver_expired": st.column_config.CheckboxColumn(
        "waiver expired", help="A waiver of this service ran out in between: the exception ended, the service did not change")}
    for col, movement in zip(st.columns(2), ("down", "up"), strict=True):
        part = moves[moves["movement"] == movement][columns]
        with col:
            st.markdown(f"**Moved {movement}** ({len(part):,})")
            if part.empty:
                st.caption("None.")
            else:
                ui.table(part, f"moved {movement}", ctx, limit=100, column_config=links)
    other = moves[moves["movement"].isin(["new", "gone"])]
    if not other.empty:
        with st.expander(f"{len(other)} services appeared or left"):
            ui.table(other[["movement", *columns]], "services appeared or left", ctx, limit=100, column_config=links)

if not expired.empty:
    st.subheader("Waivers that expired")
    st.caption("These results were waived before and count again now: the exception ended, the service did not regress.")
    ui.table(
        expired.assign(open=[ui.link("service", service=s) for s in expired["service"]])[
            ["open", "check_id", "team", "status_before", "status_after", "detail"]
        ],
        "expired waivers", ctx, limit=100, column_config=links,
    )

st.subheader("Checks that changed")
if changes.empty:
    st.caption("No check result flipped between passing and failing.")
else:
    per_check = (
        changes.groupby(["check_id", "change"])
        .size()
        .unstack(fill_value=0)
        .reindex(columns=["regressed", "improved"], fill_value=0)
        .sort_values(["regressed", "improved"])
        .tail(15)
    )
    # Regressions drawn to the left of zero, improvements to the right.
    fig = go.Figure(
        [
            go.Bar(
                y=per_check.index,
                x=-per_check["regressed"],
                name="regressed (now failing)",
                orientation="h",
                marker_color="#d6604d",
                customdata=per_check["regressed"],
                hovertemplate="%{y}: %{customdata} regressed<extra></extra>",
            ),
            go.Bar(
                y=per_check.index,
                x=per_check["improved"],
                name="improved (now passing)",
                orientation="h",
                marker_color="#4393c3",
                hovertemplate="%{y}: %{x} improved<extra></extra>",
            ),
        ]
    )
    span = f"preview {chosen}" if chosen else f"{before} → {after}"
    fig.update_layout(barmode="relative", title=f"Services per check, {span}", xaxis_title="services")
    step = ui.nice_step(max(per_check["regressed"].max(), per_check["improved"].max()) / 4)
    reach = step * (int(max(per_check["regressed"].max(), per_check["improved"].max()) // step) + 1)
    ticks = list(range(-reach, reach + 1, step))
    fig.update_xaxes(tickvals=ticks, ticktext=[f"{abs(t):,}" for t in ticks])
    ui.chart(fig, height=max(260, 28 * len(per_check) + 120), key="check_changes")

    changes = changes.assign(
        open=[ui.link("service", service=s) for s in changes["service"]],
        status_before=changes["status_before"].map(ui.status_text),
        status_after=changes["status_after"].map(ui.status_text),
    )
    columns = ["open", "check_id", "status_before", "status_after", "team", "detail"]
    config = {
        **links,
        "status_before": st.column_config.TextColumn("before"),
        "status_after": st.column_config.TextColumn("after"),
    }
    for col, change in zip(st.columns(2), ("regressed", "improved"), strict=True):
        part = changes[changes["change"] == change][columns]
        with col:
            st.markdown(f"**{change.title()}** ({len(part):,})")
            if part.empty:
                st.caption("None.")
            else:
                ui.table(
                    part,
                    f"{change} checks",
                    ctx,
                    limit=100,
                    column_config=config,
                    styler=lambda df: ui.style_status_cells(df, ["status_before", "status_after"]),
                )
