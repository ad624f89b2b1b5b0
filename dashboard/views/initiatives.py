"""Initiatives: is the adoption programme on track, who is behind, and what is left to do?"""

import datetime as dt

import plotly.graph_objects as go
import streamlit as st

from dashboard import data, ui

WAIVER_WINDOWS = (7, 14, 30, 60, 90)

ctx = ui.context()
ui.header("Initiatives", "Is the adoption programme on track, who is behind, and what is left to do?", ctx)

summary = data.initiative_summary(ctx.src, ctx.snapshot)
if summary.empty:
    st.info(
        "No initiatives in this snapshot. Add an `initiatives:` section to scorecard.yaml (a goal of checks or a "
        "scorecard level, a scope and a deadline; see the README's \"Adoption programme\") and run `scorecard run`: "
        "progress is computed for every published date, so a new initiative shows its past too."
    )
else:
    table = summary.assign(open=[ui.link("initiatives", initiative=n) for n in summary["initiative"]])
    ui.table(
        table[["initiative", "open", "owner", "goal", "scope", "deadline", "days_left", "done_share",
               "services_remaining", "services_overdue", "items_remaining"]],
        "initiatives", ctx, limit=None,
        column_config={
            # the name in its own column: a link's text would be the URL-encoded name ("Shared+CI+...")
            "open": st.column_config.LinkColumn("", display_text="open"),
            "done_share": ui.rate_column("services done"),
            "days_left": st.column_config.NumberColumn("days left", help=f"From the snapshot of {ctx.snapshot}"),
        },
    )

    name = ui.url_selectbox("Initiative", summary["initiative"].tolist(), param="initiative", format_func=str)
    ini = summary.set_index("initiative").loc[name]
    st.subheader(ui.plain(name))
    st.caption(
        f"Owner **{ui.plain(ini['owner'])}** · goal {ui.plain(ini['goal'])} (done = counts as passing in scorecard "
        f"**{ui.plain(ini['scorecard'])}**) · scope {ui.plain(ini['scope'])} · {ini['start']:%Y-%m-%d} → "
        f"{ini['deadline']:%Y-%m-%d}"
    )
    if ini["description"]:
        st.markdown(ui.prose(ini["description"]))

    days = int(ini["days_left"])
    cols = st.columns(4)
    cols[0].metric("Services done", f"{int(ini['services_done'])} of {int(ini['services'])}",
                   delta=ui.pct(ini["done_share"]), delta_color="off", border=True)
    cols[1].metric("Services remaining", int(ini["services_remaining"]), border=True)
    cols[2].metric("Overdue", int(ini["services_overdue"]), help="Services with work left after the deadline",
                   border=True)
    cols[3].metric("Deadline", f"{ini['deadline']:%Y-%m-%d}",
                   delta=f"{days} days left" if days >= 0 else f"passed {-days} days ago",
                   delta_color="normal" if days >= 0 else "inverse", border=True)

    burn = data.initiative_burndown(ctx.src, name)
    if not burn.empty:
        fig = go.Figure([
            go.Scatter(x=burn["snapshot"], y=burn["items_remaining"], name="checks left to pass", mode="lines+markers"),
            go.Scatter(x=burn["snapshot"], y=burn["services_remaining"], name="services not done",
                       mode="lines+markers"),
            go.Scatter(x=burn["snapshot"], y=burn["services_overdue"], name="services overdue", mode="lines",
                       line={"dash": "dot", "color": "#d6604d"}),
        ])
        for day, label in ((ini["start"], "start"), (ini["deadline"], "deadline")):
            when = dt.datetime.combine(day, dt.time())
            fig.add_shape(type="line", x0=when, x1=when, y0=0, y1=1, yref="paper", line={"dash": "dash", "width": 1})
            fig.add_annotation(x=when, y=1, yref="paper", text=label, showarrow=False, yanchor="bottom")
        fig.update_layout(title=f"Burn-down of {ui.chart_text(name)}", yaxis_title="remaining", hovermode="x unified")
        ui.whole_numbers(fig, max(burn["items_remaining"].max(), 1))
        ui.chart(fig, key="burndown")

    st.markdown("**Teams with the most left**")
    teams = data.initiative_teams(ctx.src, ctx.snapshot, name)
    if teams.empty:
        st.caption("No team has services in scope.")
    else:
        ui.table(teams, "initiative teams", ctx, limit=None,
                 column_config={"done_share": ui.rate_column("services done")})

    st.markdown(f"**What is left{' for ' + ui.plain(ctx.team) if ctx.team else ''}**, with how to fix it")
    work = data.initiative_work(ctx.src, ctx.snapshot, name, ctx.team)
    if work.empty:
        st.success("Nothing left: every service in scope is done.")
    else:
        work = work.assign(open=[ui.link("service", service=s) for s in work["service"]],
                           status=work["status"].map(ui.status_text))
        ui.table(work[["open", "check_id", "status", "overdue", "team", "remediation", "detail", "title"]],
                 "initiative work", ctx, limit=200,
                 column_config={"open": ui.service_link_column(),
                                "remediation": st.column_config.TextColumn("how to fix", width="large")})

st.subheader("Waivers expiring soon")
# The URL holds the option as shown (ui.url_selectbox), so the days are shown bare: ?expiring=90.
window = ui.url_selectbox("Expiring within (days)", list(WAIVER_WINDOWS), param="expiring", default=30, format_func=str)
today = dt.datetime.now(dt.UTC).date()
waivers = data.expiring_waivers(ctx.src, today, window)
if waivers.empty:
    st.caption(f"No waiver ends within {window} days of today ({today}).")
else:
    st.caption("Renew one with `scorecard waive SERVICE CHECK --reason ... --until YYYY-MM-DD` (reviewed as a pull "
               "request), or fix the check. A negative number of days: expired, the check counts again.")
    waivers = waivers.assign(open=[ui.link("service", service=s) for s in waivers["service"]])
    ui.table(waivers[["open", "check_id", "expires", "days_left", "approver", "created", "reason"]],
             "expiring waivers", ctx, limit=None, column_config={"open": ui.service_link_column()})
