"""Service: why is my service at this level, and exactly how do I fix it?"""

import re

import plotly.express as px
import streamlit as st

from dashboard import data, rule_marks, ui

SHOWN_FIXES = 25

ctx = ui.context()
st.title("Service")
names = data.service_names(ctx.src, ctx.snapshot, None)
if not names:
    st.info(
        "No services in this snapshot. Add `catalog-info.yaml` entities or `services:` to the config, "
        "then run `scorecard run`."
    )
    st.stop()
service = ui.url_selectbox(
    "Service",
    names,
    param="service",
    placeholder="Type to search services",
    format_func=str,
    help="The address keeps the choice: copy it to share this service's page.",
)
if service is None:
    st.info("Pick a service above (type to search), or open a link such as `/service?service=<name>`.")
    st.stop()

profile = data.service_profile(ctx.src, ctx.snapshot, ctx.scorecard, service)
if profile is None:
    st.info(f"{ui.code(service)} is not in the {ctx.snapshot:%Y-%m-%d} snapshot.")
    st.stop()

# Every value below came from a repository or cluster: plain text only (dashboard/ui.py).
where = [f"team **{ui.plain(profile['team']) or 'unowned'}**"]
if profile["repo"]:
    where.append(ui.code(profile["repo"]) + (f" path {ui.code(profile['path'])}" if profile["path"] else ""))
if profile["lifecycle"]:
    where.append(ui.plain(profile["lifecycle"]))
st.caption(" · ".join(where) + f" — snapshot {ctx.snapshot:%Y-%m-%d}, scorecard **{ui.plain(ctx.scorecard)}**")
if profile["repo_error"]:
    st.warning(f"The repository could not be crawled ({ui.plain(profile['repo_error'])}); its checks show as unknown.")

if profile["level_rank"] is None:
    st.info(f"{ui.code(service)} is not scored by the {ui.code(ctx.scorecard)} scorecard; "
            "pick another scorecard in the sidebar.")

# ------------------------------------------------------------ headline
trend = data.service_trend(ctx.src, ctx.scorecard, service)
prev = ui.at(trend, ctx.previous)
level_delta = score_delta = None
if not prev.empty and profile["level_rank"] is not None:
    moved = int(profile["level_rank"] - prev["level_rank"].iloc[0])
    level_delta = f"{moved:+d} level{'s' if abs(moved) != 1 else ''} (was {prev['level'].iloc[0]})" if moved else None
    score_delta = f"{profile['score_pct'] - prev['score_pct'].iloc[0]:+.1f} pp"
cols = st.columns(4)
level_text = "No level" if profile["level"] == "none" else str(profile["level"]).title()
cols[0].metric("Level", level_text, delta=level_delta, border=True)
cols[1].metric("Score", ui.pct(profile["score_pct"], 1), delta=score_delta, border=True)
if profile["next_level"]:
    cols[2].metric(f"Checks to {ui.plain(profile['next_level'].title())}", profile["checks_to_next_level"], border=True)
else:
    cols[2].metric("Next level", "—" if profile["level_rank"] is None else "top level", border=True)
cols[3].metric("Failing / unknown", f"{profile['failing'] or 0} / {profile['unknown'] or 0}", border=True)

if len(trend) > 1:
    trend = trend.assign(snapshot=ui.snapshot_labels(trend["snapshot"]))
    fig = px.line(
        trend,
        x="snapshot",
        y="score_pct",
        text="level",
        markers=True,
        title="Score and level over time",
        labels={"score_pct": "score", "snapshot": ""},
    )
    fig.update_traces(textposition="top center", line_color="#2166ac")
    fig.update_yaxes(range=[0, 105], ticksuffix=" %")
    fig.update_xaxes(type="category")
    rule_marks.mark_rule_changes(fig, ctx.src, trend["snapshot"])
    ui.chart(fig, height=260, key="service_trend")

# ------------------------------------------------------------ fixes
checks = data.service_checks(ctx.src, ctx.snapshot, ctx.scorecard, service)
todo = checks[checks["unlock"] < 3]
# Patches generated at publish time (pipelines/fixes/publish.py) for the failing mechanical checks.
patches = {r.check_id: r for r in data.service_fixes(ctx.src, ctx.snapshot, service).itertuples()}
st.subheader("What to fix next")
if todo.empty:
    st.success("Every check passes or is waived. Nothing to fix.")
else:
    groups = {
        0: f"Needed for {ui.plain(str(profile['next_level'] or 'the next level').title())}",
        1: "Needed for higher levels",
        2: "Not in this scorecard",
    }
    for unlock, label in groups.items():
        part = todo[todo["unlock"] == unlock].head(SHOWN_FIXES)
        if part.empty:
            continue
        st.markdown(f"#### {label}")
        for row in part.itertuples():
            with st.container(border=True):
                title = row.title if ui.present(row.title) else row.check_id
                st.markdown(f"**{ui.status_text(row.status)} · {ui.plain(title)}** {ui.code(row.check_id)}")
                meta = [
                    ui.plain(row.category),
                    f"{ui.plain(row.level)} level" if ui.present(row.level) else "not in this scorecard",
                    f"weight {row.weight:.0f}" if ui.present(row.weight) else None,
                    ui.doc_link(row.doc_url),
                ]
                st.caption(" · ".join(m for m in meta if ui.present(m)))
                # Details and fixes quote repository values (image names, paths, owners).
                if ui.present(row.detail):
                    st.markdown(f"**Found:** {ui.prose(row.detail)}")
                if ui.present(row.remediation):
                    st.markdown(f"**How to fix:** {ui.prose(row.remediation)}")
                if ui.present(row.snippet):
                    yaml_like = re.search(r"^\s*-?\s*[\w.-]+:", row.snippet, re.MULTILINE)
                    st.code(row.snippet, language="yaml" if yaml_like else None)
                if (fix := patches.get(row.check_id)) is not None:
                    st.download_button(f"Download the fix ({fix.files})", fix.patch, file_name=f"{service}-{row.check_id}.patch",
                                       mime="text/x-diff", key=f"fix-{row.check_id}",
                                       help=f"{fix.summary}. Apply with `git apply`; review: {fix.notes or 'nothing'}")
    if len(todo) > SHOWN_FIXES * 3:
        st.caption("More checks need work than are shown; the table below lists them all.")

st.subheader("All checks")
ui.status_legend()
table = checks.assign(status=checks["status"].map(ui.status_text), waiver_reason=checks["waiver_reason"].fillna(""),
                      doc_url=ui.link_cells(checks["doc_url"]))[
    ["status", "check_id", "level", "detail", "weight", "waiver_reason", "title", "category", "doc_url"]
]
ui.table(
    table,
    f"{service} checks",
    ctx,
    limit=None,
    column_config={"doc_url": st.column_config.LinkColumn("docs", display_text="docs")},
    styler=lambda df: ui.style_status_cells(df, ["status"]),
)

# ------------------------------------------------------------ DORA
st.subheader("Delivery (DORA)")
dora = data.dora_services(ctx.src, ctx.snapshot, None, service)
if dora.empty:
    st.info("No deployment data for this service: connect a deploy source (deploy log, GitHub deployments or tags).")
else:
    row = dora.iloc[0].to_dict()
    ui.dora_metrics(row)
    st.caption(
        f"{row['deployments_30d']} production deployments in the last 30 days · "
        f"{row['incidents_90d']} incidents in 90 days"
    )

# ------------------------------------------------------------ owners
st.subheader("Owners and identity")
rule = profile["identity_rule"]
st.markdown(
    "\n".join(
        [
            f"- **Team:** {ui.plain(profile['team']) or 'unowned'} "
            f"(from {ui.plain(profile['owner_source']) or 'unknown source'})",
            f"- **CODEOWNERS:** {ui.plain(profile['codeowners']) or 'none matched'}",
            f"- **Identity:** {ui.code(rule)} — {ui.IDENTITY_RULES.get(rule, 'rule not recorded')}",
            f"- **System:** {ui.plain(profile['system']) or '—'} · **type:** {ui.plain(profile['type']) or '—'}",
        ]
    )
)
if profile.get("identity_detail"):
    # Plain text: file paths come from the repository and are never rendered as Markdown.
    st.text(f"Found by: {profile['identity_detail']}")
