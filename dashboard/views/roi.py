"""Platform ROI: do services on the golden paths deliver better? (correlation, not causation)"""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from dashboard import data, ui
from pipelines.readmodel.roi import DIMENSIONS
from pipelines.roi import CONFIDENCE, METRICS, MIN_N, POOLED_WEEKS

PERIODS = {"pooled": f"pooled over the last {POOLED_WEEKS} weeks", "snapshot": "this snapshot only"}
READING_MARK = {"better": "▲ better", "worse": "▼ worse", "no clear difference": "○ no clear difference",
                "too few services": "… too few services", "no services off the path": "– nothing to compare"}

ctx = ui.context()
ui.header("Platform ROI", "Do services on the golden paths deliver better?", ctx)
st.warning(
    "**Correlation, not causation.** These compare services that are on a golden path with services that are "
    "not; they do not show that the path *caused* the difference. Teams that adopt early may differ (newer "
    "services, more platform-minded teams, simpler systems), and a service's level depends partly on the same "
    "delivery checks the outcomes measure. Read a clear difference as a reason to look closer, not as proof."
)

cols = st.columns(2)
# The URL holds the option as shown (ui.url_selectbox): short words, ?period=snapshot&by=scorecard+level.
period = ui.url_selectbox("Period", list(PERIODS), param="period", default="pooled", container=cols[0],
                          format_func=str, help=" · ".join(f"{k}: {v}" for k, v in PERIODS.items()))
by_label = ui.url_selectbox("Compare by", list(DIMENSIONS.values()), param="by", default="golden path",
                            container=cols[1], format_func=str)
dimension = next(k for k, v in DIMENSIONS.items() if v == by_label)
pooled = period == "pooled"
df = data.roi_cohorts(ctx.src, ctx.snapshot, pooled, dimension)
if df.empty:
    st.info("No cohorts to compare in this snapshot: it has no delivery metrics (deploy events, tags or "
            "rollouts) or no adoption facts, or it was published before Platform ROI existed. Run `scorecard run`.")
    st.stop()

first, last = pd.Timestamp(df["first_snapshot"].min()).date(), pd.Timestamp(df["snapshot"].max()).date()
baseline_word = "the lowest level present" if dimension == "scorecard_level" else "the services off the path"
st.caption(
    f"Each point is a cohort's **median minus the median of {baseline_word}**, with its {CONFIDENCE:.0%} "
    f"bootstrap confidence interval; n is the number of services with a value for that outcome. "
    + (f"Pooled from {first:%Y-%m-%d} to {last:%Y-%m-%d}: each service counts once per cohort (its median over "
       "those dates)." if pooled else f"Snapshot of {last:%Y-%m-%d}.")
    + " Services whose adoption is unknown are in no cohort."
)

compared = df[~df["is_baseline"] & df["baseline"].notna()]
with_ci = int(compared["ci_low"].notna().sum())
small = compared.loc[compared["ci_low"].isna(), ["n", "baseline_n"]].min(axis=1)
st.markdown(
    f"**What the sample sizes allow.** {with_ci} of {len(compared)} comparisons have an interval; "
    f"{len(compared) - with_ci} have fewer than {MIN_N} services with a value on one side, too few to say anything"
    + (f" (smallest side: {int(small.min())})" if len(small) else "")
    + ". With around 10 services a side an interval spans most of the spread of the values, so only large "
    "differences show; an interval that includes 0 means *no clear difference*, not *no difference*."
)


def label(row: pd.Series) -> str:
    return f"{row['cohort']} (n={int(row['n'])})"


def figure(rows: pd.DataFrame) -> go.Figure:
    fig = make_subplots(rows=1, cols=len(METRICS), subplot_titles=[lbl for lbl, _ in METRICS.values()],
                        horizontal_spacing=0.07)
    for i, metric in enumerate(METRICS, start=1):
        m = rows[(rows["metric"] == metric) & ~rows["is_baseline"] & rows["baseline"].notna()]
        if m.empty:
            continue
        has_ci = m["ci_low"].notna()
        fig.add_trace(go.Scatter(
            x=[ui.chart_text(label(r)) for _, r in m.iterrows()], y=m["diff_median"], mode="markers",
            marker={"size": 10, "color": [ui.CATEGORICAL[0] if c else "#9a9a9a" for c in has_ci]},
            error_y={"type": "data", "symmetric": False, "array": (m["ci_high"] - m["diff_median"]).fillna(0),
                     "arrayminus": (m["diff_median"] - m["ci_low"]).fillna(0), "thickness": 1.5},
            # a version string came from a repository: through chart_text like every chart label
            customdata=[[ui.chart_text(r["baseline"]), int(r["baseline_n"]), f"{r['ci_low']:+.2f}",
                         f"{r['ci_high']:+.2f}"] for _, r in m.iterrows()],
            hovertemplate="%{x}: %{y:.2f} vs %{customdata[0]} (n=%{customdata[1]})<br>"
                          "CI %{customdata[2]} to %{customdata[3]}<extra></extra>",
            showlegend=False,
        ), row=1, col=i)
        fig.add_hline(y=0, line={"dash": "dot", "width": 1, "color": "#666"}, row=1, col=i)
    return fig


for subject in sorted(df["subject"].unique()):
    rows = df[df["subject"] == subject]
    base = rows.loc[rows["is_baseline"], ["cohort", "n"]].drop_duplicates("cohort")
    st.subheader(ui.plain(subject))
    if base.empty:
        st.caption("Nothing to compare with: every service with delivery data is on this path.")
        title = f"{ui.chart_text(subject)}: no services off the path"
    else:
        st.caption(f"Compared with: {ui.plain(base['cohort'].iloc[0])}. Grey points: too few services for an "
                   "interval.")
        title = f"{ui.chart_text(subject)}: difference in medians against {ui.chart_text(base['cohort'].iloc[0])}"
    fig = figure(rows)
    fig.update_layout(title=title)
    ui.chart(fig, key=f"roi-{dimension}-{subject}", height=320)
    table = rows.assign(
        outcome=rows["metric"].map(lambda m: METRICS[m][0]),
        reading=[READING_MARK.get(r, "baseline") if isinstance(r, str) else "baseline" for r in rows["reading"]],
    )
    ui.table(
        table[["outcome", "cohort", "services", "n", "median", "baseline", "baseline_n", "baseline_median",
               "diff_median", "ci_low", "ci_high", "reading"]],
        f"roi {dimension} {subject}", ctx, limit=None,
        column_config={
            "services": st.column_config.NumberColumn("services", help="In the cohort, with or without this outcome"),
            "n": st.column_config.NumberColumn("n", help="Services with a value for this outcome"),
            "median": st.column_config.NumberColumn("median", format="%.2f"),
            "baseline_median": st.column_config.NumberColumn("baseline median", format="%.2f"),
            "diff_median": st.column_config.NumberColumn("difference", format="%+.2f"),
            "ci_low": st.column_config.NumberColumn(f"{CONFIDENCE:.0%} CI low", format="%+.2f"),
            "ci_high": st.column_config.NumberColumn(f"{CONFIDENCE:.0%} CI high", format="%+.2f"),
        },
    )
