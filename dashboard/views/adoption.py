"""Adoption: are teams on our golden paths, on which versions, and is it getting better?"""

import plotly.express as px
import streamlit as st

from dashboard import data, requests_panel, rule_marks, ui

PATH_LABELS = {
    "template": "Service template",
    "ci_workflow": "CI workflow",
    "helm_chart": "Base Helm chart",
    "terraform": "Terraform modules",
    "crossplane": "Crossplane compositions",
    "gitops": "GitOps (Argo CD / Flux)",
}

ctx = ui.context()
ui.header("Golden-path adoption", "Are teams adopting our golden paths, and is it getting better?", ctx)

trend = data.golden_path_trend(ctx.src, ctx.team)
latest = ui.at(trend, ctx.snapshot)

# ------------------------------------------------------------ version drift
st.subheader("Version drift")
if latest.empty:
    st.info(
        "No golden-path adoption data in this snapshot. Configure the golden paths (template, ci_workflow, "
        "helm_chart, terraform, crossplane, gitops) in the scorecard config and run `scorecard run`."
    )
else:
    previous = ui.at(trend, ctx.previous)
    prev_behind = dict(zip(previous["golden_path"], previous["behind_latest"], strict=True))
    rows = list(latest.itertuples())
    # At most three cards a row: with six golden paths in one row the figures were cut to "19 b…".
    per_row = 3
    cols = [c for start in range(0, len(rows), per_row) for c in st.columns(per_row)][: len(rows)]
    for col, row in zip(cols, rows, strict=True):
        before = prev_behind.get(row.golden_path)
        col.metric(
            ui.plain(PATH_LABELS.get(row.golden_path, row.golden_path)),
            f"{row.behind_latest} behind",
            delta=None if before is None else int(row.behind_latest - before),
            delta_color="inverse",
            delta_description=f"vs {ctx.previous:%Y-%m-%d}" if before is not None else None,
            help="Services on this path but not on its newest release (the version drift).",
            border=True,
        )
        col.caption(
            f"**{row.behind_latest} service{'' if row.behind_latest == 1 else 's'} behind latest** · "
            f"{row.services_on_latest} of {row.services} on latest · {row.services_on_path} on the path"
        )

    dist = data.version_distribution(ctx.src, ctx.snapshot, ctx.team)
    buckets = dist.drop_duplicates("bucket").sort_values("bucket_order")["bucket"].tolist()
    palette = {
        "latest": "#1b7837",
        "1 release behind": "#f1a340",
        "not on path": "#bdbdbd",
        "version unknown": "#e0e0e0",
    }
    colours = {b: palette.get(b, "#d6604d") for b in buckets}
    dist["path"] = dist["golden_path"].map(lambda p: PATH_LABELS.get(p, p))
    fig = px.bar(
        dist,
        y="path",
        x="services",
        color="bucket",
        orientation="h",
        category_orders={"bucket": buckets},
        color_discrete_map=colours,
        hover_data={"versions": True, "latest": True, "path": False},
        title="Who is how many releases behind",
        labels={"services": "services", "path": "", "bucket": ""},
    )
    ui.whole_numbers(fig, dist.groupby("golden_path")["services"].sum().max(), axis="x")
    ui.chart(fig, height=300, key="version_distribution")

    left, right = st.columns(2)
    with left:
        st.markdown("**Services behind latest**")
        ui.table(data.services_behind(ctx.src, ctx.snapshot, ctx.team), "services behind latest", ctx, limit=100)
    with right:
        st.markdown("**Teams lagging** (off the path or behind its latest release)")
        lag = data.team_lag(ctx.src, ctx.snapshot)
        if ctx.team:
            lag = lag[lag["team"] == ctx.team]
        ui.table(
            lag[["team", "golden_path", "lagging_share", "not_on_path", "behind_latest", "services"]],
            "teams lagging",
            ctx,
            limit=100,
            column_config={
                "lagging_share": ui.rate_column("lagging")
            },
        )

# ------------------------------------------------------------ adoption trend
st.subheader("Adoption over time")
if trend.empty:
    st.info("No adoption history yet: each `scorecard run` adds a snapshot.")
else:
    long = trend.melt(
        id_vars=["snapshot", "golden_path"],
        value_vars=["on_path_share", "on_latest_share"],
        var_name="measure",
        value_name="share",
    )
    long["measure"] = long["measure"].map({"on_path_share": "on the path", "on_latest_share": "on its latest version"})
    long["snapshot"] = ui.snapshot_labels(long["snapshot"])
    long["path"] = long["golden_path"].map(lambda p: PATH_LABELS.get(p, p))
    fig = px.line(
        long,
        x="snapshot",
        y="share",
        color="path",
        facet_col="measure",
        facet_col_spacing=0.08,
        markers=True,
        title="Share of services on each golden path, and on its latest version",
        labels={"share": "share of services", "snapshot": "", "path": ""},
        color_discrete_sequence=ui.CATEGORICAL,
    )
    fig.for_each_annotation(lambda a: a.update(text=a.text.split("=")[-1]))
    fig.update_yaxes(tickformat=".0%", range=[0, 1.05])
    fig.update_xaxes(type="category")
    rule_marks.mark_rule_changes(fig, ctx.src, long["snapshot"].unique())
    ui.chart(fig, height=360, key="adoption_trend", legend="right")

# ------------------------------------------------- requests to the platform
requests_panel.render(ctx)

# -------------------------------------------------------------- level mix
st.subheader("Levels over time")
levels = data.level_distribution(ctx.src, ctx.scorecard, ctx.team)
if levels.empty:
    st.info(f"No scores for scorecard {ui.code(ctx.scorecard)} yet: run `scorecard run` with it configured.")
else:
    order = levels.sort_values("level_rank")["level"].drop_duplicates().tolist()
    levels["snapshot"] = ui.snapshot_labels(levels["snapshot"])
    fig = px.bar(
        levels,
        x="snapshot",
        y="services",
        color="level",
        category_orders={"level": order},
        color_discrete_map=ui.level_colour_map(order),
        text="services",
        title=f"Services per level ({ctx.scorecard} scorecard)",
        labels={"snapshot": "", "level": ""},
    )
    fig.update_xaxes(type="category")
    ui.whole_numbers(fig, levels.groupby("snapshot")["services"].sum().max())
    rule_marks.mark_rule_changes(fig, ctx.src, levels["snapshot"].unique())
    ui.chart(fig, height=340, key="level_distribution")

# ------------------------------------------------------- top failing checks
st.subheader("Top failing checks")
rates = data.check_pass_rates(ctx.src, ctx.scorecard, ctx.team, ctx.category, ctx.snapshot)
rates = rates[rates["level"].notna()].sort_values(["failing", "pass_rate"], ascending=[False, True])
if rates.empty:
    st.info("No check results for this scorecard and filter in the latest snapshot.")
else:
    top = rates[(rates["failing"] + rates["unknown"]) > 0].head(10).iloc[::-1]
    if top.empty:
        st.success("Every applicable service passes every check of this scorecard.")
    else:
        fig = px.bar(
            top,
            y="check_id",
            x=["failing", "unknown"],
            orientation="h",
            title="Services failing each check (top 10)",
            labels={"value": "services", "check_id": "", "variable": ""},
            color_discrete_map={"failing": "#d6604d", "unknown": "#9e9e9e"},
            hover_data={"title": True, "pass_rate": ":.0%"},
        )
        ui.whole_numbers(fig, (top["failing"] + top["unknown"]).max(), axis="x")
        ui.chart(fig, height=360, key="top_failing")
    ui.table(
        rates[["check_id", "level", "failing", "unknown", "pass_rate", "passing", "applicable", "title", "category"]],
        "top failing checks",
        ctx,
        limit=50,
        column_config={"pass_rate": ui.rate_column("pass rate")},
    )

# ------------------------------------------------------------- orphans
st.subheader("Orphan workloads")
orphans = data.orphan_workloads(ctx.src)
now = ui.at(orphans, ctx.snapshot).drop(columns="snapshot")
before = ui.at(orphans, ctx.previous) if ctx.previous else None
st.metric(
    "Cluster workloads no service owns",
    len(now),
    delta=None if before is None else len(now) - len(before),
    delta_color="inverse",
    help="Workloads whose labels (backstage.io/kubernetes-id, app.kubernetes.io/name, app), name and image "
    "name match no service.",
)
if now.empty:
    st.success("Every cluster workload belongs to a service.")
else:
    st.caption("Label them with `backstage.io/kubernetes-id: <service>` or retire them.")
    ui.table(now, "orphan workloads", ctx, limit=100)
stray = data.orphan_manifests(ctx.src, ctx.snapshot)
if not stray.empty:
    st.caption(
        f"{len(stray)} workloads in repository manifests join no service of their repository "
        "(an example, a leftover, or a service discovery did not find: add it to `services:` or a catalog-info.yaml)."
    )
    ui.table(stray, "orphan manifests", ctx, limit=100)

# ------------------------------------------------------------ freshness
st.subheader("Data freshness")
fresh = data.source_freshness(ctx.src, ctx.snapshot)
if fresh.empty:
    st.info("No source status recorded for this snapshot.")
else:
    failing = fresh[fresh["targets_with_errors"] > 0]
    for row in failing.itertuples():
        st.warning(
            f"**{ui.plain(row.source)}**: {row.targets_with_errors} of {row.targets} targets failed to crawl — "
            f"{ui.plain(row.errors)}"
        )
    ui.table(
        fresh.fillna({"errors": ""}),
        "data freshness",
        ctx,
        column_config={
            "last_success_at": st.column_config.DatetimeColumn("last successful crawl", format="YYYY-MM-DD HH:mm"),
            "stalest_target_success_at": st.column_config.DatetimeColumn("stalest target", format="YYYY-MM-DD HH:mm"),
            "crawled_at": st.column_config.DatetimeColumn("crawled", format="YYYY-MM-DD HH:mm"),
        },
    )
    probs = data.problems(ctx.src, ctx.snapshot)
    if not probs.empty:
        with st.expander(f"{len(probs)} problems recorded while crawling"):
            ui.table(probs, "crawl problems", ctx, limit=200)
