"""Shared page furniture: sidebar, URL-synced filters, status styling, tables, charts.

Pages get their data only through :mod:`dashboard.data` and their filters
only through :func:`context`, so every page reads the same snapshot with the
same filters the URL shows.

Everything in the snapshot came from repositories and clusters someone else
controls (a component's ``spec.system``, an owner, an image name, a crawl
error). Streamlit renders text elements as Markdown, so such a value with
``![x](http://host/...)`` would make every viewer's browser fetch that URL.
Values from the snapshot therefore only reach Markdown through :func:`plain`
(or :func:`prose`, which keeps `code spans`), and the only links are the
ones :func:`link` and :func:`doc_link` build.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import duckdb
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from checks import dora
from dashboard import auth, data

NO_SNAPSHOT = "No snapshot published yet: run `scorecard run`"
ALL = "All"

# Colour alone fails colour-blind readers (red/green especially), so every
# status also has a symbol; the tints are light enough for dark text.
STATUS_STYLE: dict[str, tuple[str, str, str]] = {
    # status: (symbol, cell background, markdown colour for the legend)
    "pass": ("✓", "#d3f0da", "green"),
    "fail": ("✗", "#fbd5d5", "red"),
    "warn": ("!", "#fdefc3", "orange"),
    "unknown": ("?", "#e4e4e7", "gray"),
    "waived": ("~", "#d7e6fb", "blue"),
    "not_applicable": ("–", "#f7f7f8", "gray"),
    "error": ("‼", "#ead9f7", "violet"),
}
STATUS_LABEL = {"not_applicable": "n/a"}
SYMBOL_BG = {sym: bg for sym, bg, _ in STATUS_STYLE.values()}

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
CATEGORICAL = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
LEVEL_COLOURS = {"none": "#c4c4c4", "bronze": "#b87333", "silver": "#8e9aa8", "gold": "#d9a600"}
TIER_MARK = {"elite": "◆ elite", "high": "▲ high", "medium": "● medium", "low": "▼ low"}

IDENTITY_RULES = {
    "catalog": "Backstage Component: from the portal's catalog API, else a catalog-info.yaml in the repository",
    "config": "explicit `services:` entry in the scorecard config",
    "discovered": "a deployable folder of a monorepo (Dockerfile, image build, runnable module)",
    "repo": "one repository = one service, owner from CODEOWNERS",
}


@dataclass(frozen=True)
class Context:
    src: data.Source | None
    overview: dict[str, Any] | None
    scorecard: str
    team: str | None
    category: str | None
    problem: str | None = None
    out_of_scope: str | None = None  # signed in with a team claim naming no team of this snapshot

    @property
    def snapshot(self) -> dt.date:
        return self.overview["latest"]

    @property
    def previous(self) -> dt.date | None:
        snaps = self.overview["snapshots"]
        return snaps[-2] if len(snaps) > 1 else None


_CTX_KEY = "_dashboard_context"


# ----------------------------------------------------- untrusted text (issue 9)

# Every ASCII punctuation character may be backslash-escaped in CommonMark;
# these are the ones that start Markdown, HTML, links, autolinks
# (`http:`, `www.`), emoji shortcodes and Streamlit directives (`:red[...]`),
# entities (`&#60;`) or KaTeX (`$`).
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=\"'/@])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_CODE_SPAN = re.compile(r"`[^`\n]+`")


# GitHub-flavoured Markdown turns bare URLs, `www.` names and e-mail addresses
# into links after escapes are resolved, so escaping cannot stop it; a word
# joiner (U+2060, invisible, no line break) inside the trigger does.
_AUTOLINK = re.compile(r"(?<=:)(?=//)|(?<=\bwww)(?=\.)|(?<=[\w.+-]@)", re.IGNORECASE)
_JOINER = "\u2060"


def plain(value: object) -> str:
    """A value from the snapshot, for a Markdown-rendering element: shown as its text, on one line, no links."""
    if not present(value):
        return ""
    text = _AUTOLINK.sub(_JOINER, _CONTROL.sub(" ", str(value)))
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def code(value: object) -> str:
    """A name from the snapshot (repo, path, check id) as a `code span`: literal by construction."""
    if not present(value):
        return ""
    text = _CONTROL.sub(" ", str(value))
    return f"`{text}`" if "`" not in text and text.strip() == text else plain(text)


def prose(value: object) -> str:
    """Like :func:`plain`, but the `code spans` the checks write around names stay code.

    A code span shows its content literally (no link, image or HTML), so a
    repository value inside one is as harmless as escaped text; one that
    smuggles in its own backticks only splits the span, and what falls
    outside is escaped.
    """
    if not present(value):
        return ""
    text = _CONTROL.sub(" ", str(value))
    out, pos = [], 0
    for m in _CODE_SPAN.finditer(text):
        out.append(plain(text[pos:m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(plain(text[pos:]))
    return "".join(out)


def safe_url(value: object) -> str | None:
    """An http(s) URL fit for a link, or None (no `javascript:`, `data:` or relative surprises)."""
    if not present(value):
        return None
    url = str(value).strip()
    if not re.match(r"^https?://[^\s/?#]+", url, re.IGNORECASE) or _CONTROL.search(url):
        return None
    return url


def doc_link(value: object, text: str = "documentation") -> str | None:
    """A Markdown link to a check's documentation (built from the configured doc_base_url)."""
    url = safe_url(value)
    if url is None:
        return None
    # Characters that would end the link destination early are percent-encoded.
    url = url.replace(" ", "%20").replace("(", "%28").replace(")", "%29").replace("<", "%3C").replace(">", "%3E")
    return f"[{text}]({url})"


def link_cells(values: pd.Series) -> pd.Series:
    """A column of snapshot URLs for a LinkColumn: anything but http(s) becomes empty."""
    return values.map(safe_url)


def chart_text(value: object) -> str:
    # Plotly reads <a href=...>, <b> and friends in labels; entities show the characters instead.
    return "" if not present(value) else str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ------------------------------------------------------------ URL-synced state


def url_selectbox(
    label: str,
    options: Sequence[Any],
    *,
    param: str,
    default: Any = None,
    container: Any = None,
    format_func: Callable[[Any], str] = lambda v: ALL if v is None else str(v),
    placeholder: str | None = None,
    help: str | None = None,  # noqa: A002 - Streamlit's own keyword
) -> Any:
    """A selectbox whose value lives in the URL query string, so a copied link
    reopens the same view.

    ``bind="query-params"`` makes Streamlit seed the widget from the URL on
    page load, write changes back, and restore the parameter after a page
    switch in the sidebar (which drops the query string). A value equal to
    the default is left out of the URL. With a ``placeholder`` the widget
    starts empty instead of at the default. The URL holds the option *as
    formatted*: where links name a value (``?check=<id>``), ``format_func``
    must show the value itself.
    """
    container = container or st
    options = list(options)
    index = None if placeholder else (options.index(default) if default in options else 0)
    return container.selectbox(
        label,
        options,
        index=index,
        key=param,
        bind="query-params",
        format_func=format_func,
        placeholder=placeholder,
        help=help,
    )


def link(page: str, **params: Any) -> str:
    """A relative link to another page that keeps the current filters."""
    ctx = st.session_state.get(_CTX_KEY)
    query: dict[str, Any] = {}
    if ctx is not None:
        query = {"scorecard": ctx.scorecard, "team": ctx.team, "category": ctx.category}
    query.update(params)
    return f"{page}?{urlencode({k: v for k, v in query.items() if v is not None})}"


# -------------------------------------------------------------------- sidebar


def sidebar() -> Context:
    """Snapshot facts, the Refresh button and the shared filters."""
    src = data.current_source()
    overview: dict[str, Any] | None = None
    problem: str | None = None
    if src is not None:
        try:
            overview = data.overview(src)
        except duckdb.Error as exc:
            problem = f"The published snapshot at {plain(src.path)} could not be read: {plain(exc)}"
    with st.sidebar:
        if overview and overview["latest"]:
            st.markdown(f"**Snapshot** {overview['latest']:%Y-%m-%d}")
            st.caption(
                f"Published {_when(overview['published_at'])} · {len(overview['snapshots'])} snapshots · "
                f"{overview['services']:,} services"
            )
        elif problem:
            st.error(problem)
        else:
            st.caption(NO_SNAPSHOT)
        st.button(
            "Refresh",
            icon=":material/refresh:",
            on_click=data.clear_cache,
            help=f"Reload the published snapshot now (it also reloads by itself every {data.TTL_SECONDS} s).",
        )
        scorecards = overview["scorecards"] if overview else []
        default_sc = "default" if "default" in scorecards or not scorecards else scorecards[0]
        scorecard = url_selectbox(
            "Scorecard", scorecards or [default_sc], param="scorecard", default=default_sc, format_func=str
        )
        # Team-scoped sign-in (dashboard/auth.py) offers only the person's own teams.
        scope = auth.current_scope(overview["teams"] if overview else [])
        team = url_selectbox(
            "Team",
            [None, *(overview["teams"] if overview else [])] if scope.teams is None else list(scope.teams),
            param="team",
            format_func=lambda v: "All teams" if v is None else v,
        )
        if scope.limited:
            st.caption("Teams offered: those your sign-in names.")
        category = url_selectbox(
            "Check category",
            [None, *(overview["categories"] if overview else [])],
            param="category",
            format_func=lambda v: "All categories" if v is None else v,
        )
        st.caption("Filters live in the page address: copy it to share this view.")
    valid = overview if overview and overview["latest"] else None
    out_of_scope = None
    if valid and scope.limited and not scope.teams:
        named = ", ".join(scope.claimed) or "none"
        out_of_scope = (f"Your sign-in names no team that owns services in this snapshot (your teams: {plain(named)}). "
                        "Ask the platform team to check the team claim or the services' owners.")
    ctx = Context(src if valid else None, valid, scorecard or default_sc, team, category, problem, out_of_scope)
    st.session_state[_CTX_KEY] = ctx
    return ctx


def _when(iso: str | None) -> str:
    try:
        return dt.datetime.fromisoformat(iso).astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    except (TypeError, ValueError):
        return iso or "unknown"


def context() -> Context:
    """The sidebar's context; stops the page with the empty state when nothing is published."""
    ctx = st.session_state.get(_CTX_KEY)
    if ctx is not None and ctx.problem:
        st.error(f"{ctx.problem}. Publish a fresh snapshot with `scorecard run`.")
        st.stop()
    if ctx is not None and ctx.out_of_scope:
        st.warning(ctx.out_of_scope)
        st.stop()
    if ctx is None or ctx.src is None:
        st.info(
            f"{NO_SNAPSHOT}. The dashboard reads `{data.snapshot_path()}`; set `SCORECARD_SNAPSHOT` "
            "to read another file."
        )
        st.stop()
    return ctx


def header(title: str, question: str, ctx: Context) -> None:
    st.title(title)
    scope = [f"scorecard **{plain(ctx.scorecard)}**", f"team **{plain(ctx.team)}**" if ctx.team else "all teams"]
    if ctx.category:
        scope.append(f"category **{plain(ctx.category)}**")
    st.caption(f"{question} — snapshot {ctx.snapshot:%Y-%m-%d}, " + ", ".join(scope))


# ------------------------------------------------------------------- statuses


def symbol(status: str | None) -> str:
    return STATUS_STYLE.get(status or "unknown", ("?", "", ""))[0]


def status_text(status: str | None) -> str:
    status = status or "unknown"
    return f"{symbol(status)} {STATUS_LABEL.get(status, status)}"


def status_legend() -> None:
    st.markdown(
        "  ".join(
            f":{colour}-background[{sym} {STATUS_LABEL.get(name, name)}]"
            for name, (sym, _, colour) in STATUS_STYLE.items()
        )
    )


def style_status_cells(df: pd.DataFrame, columns: Sequence[str]) -> Any:
    """Colour cells that hold a status symbol, alone or as "✗ fail" (dark text on light tints)."""

    def cell(value: object) -> str:
        bg = SYMBOL_BG.get(str(value).split(" ", 1)[0])
        return f"background-color: {bg}; color: #1f2328; text-align: center" if bg else ""

    return df.style.map(cell, subset=list(columns))


# --------------------------------------------------------------------- tables


def _csv(df: pd.DataFrame) -> bytes:
    return df.to_csv(index=False).encode("utf-8")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def download(df: pd.DataFrame, name: str, ctx: Context) -> None:
    # A callable is only run when someone clicks, so large tables cost
    # nothing on render; "ignore" keeps the click from rerunning the page.
    st.download_button(
        f"Download {name} (CSV)",
        data=functools.partial(_csv, df),
        file_name=f"scorecard-{ctx.snapshot:%Y-%m-%d}-{_slug(name)}.csv",
        mime="text/csv",
        on_click="ignore",
        icon=":material/download:",
        key=f"download_{_slug(name)}",
    )


def table(
    df: pd.DataFrame,
    name: str,
    ctx: Context,
    *,
    limit: int | None = 200,
    column_config: dict[str, Any] | None = None,
    styler: Callable[[pd.DataFrame], Any] | None = None,
    height: int | str = "auto",
) -> None:
    """A bounded table plus a CSV download of every row."""
    shown = df if limit is None or len(df) <= limit else df.head(limit)
    st.dataframe(
        styler(shown) if styler else shown,
        hide_index=True,
        column_config=column_config,
        width="stretch",
        height=height,
    )
    if len(shown) < len(df):
        st.caption(f"Showing the first {len(shown):,} of {len(df):,} rows; the CSV has them all.")
    download(df, name, ctx)


def rate_column(label: str, help: str | None = None) -> Any:  # noqa: A002
    # Neutral blue: the theme's red would read every pass rate as an alarm.
    return st.column_config.ProgressColumn(label, format="percent", min_value=0, max_value=1, color="blue", help=help)


def service_link_column(label: str = "Service") -> Any:
    return st.column_config.LinkColumn(label, display_text=r"[?&]service=([^&]+)")


# --------------------------------------------------------------------- charts


def chart(fig: go.Figure, *, height: int = 340, key: str | None = None, legend: str = "top") -> None:
    """Render a Plotly figure; its title goes above it as text so the legend never covers it."""
    title = fig.layout.title.text
    if title:
        st.markdown(f"**{plain(title)}**")
    fig.update_layout(
        title=None,
        height=height,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        font={"size": 13},
    )
    if legend == "top":
        fig.update_layout(
            legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0, "title": None}
        )
    st.plotly_chart(fig, config={"displaylogo": False, "displayModeBar": False}, key=key)


def nice_step(rough: float) -> int:
    """The smallest 1, 2 or 5 x 10^k at or above ``rough`` (and at least 1), for readable ticks."""
    magnitude = 1
    while True:
        for m in (1, 2, 5):
            if m * magnitude >= rough:
                return m * magnitude
        magnitude *= 10


def whole_numbers(fig: go.Figure, largest: float, axis: str = "y") -> None:
    # Plotly picks 0.2 steps for small counts; "0.4 services" reads as a bug.
    if largest <= 10:
        (fig.update_yaxes if axis == "y" else fig.update_xaxes)(dtick=1, tickformat="d")


def level_colour_map(levels: Sequence[str]) -> dict[str, str]:
    fallback = ["#6c8ebf", "#82b366", "#9673a6", "#d79b00", "#b85450"]
    return {lvl: LEVEL_COLOURS.get(lvl, fallback[i % len(fallback)]) for i, lvl in enumerate(levels)}


def at(df: pd.DataFrame, snapshot: dt.date | None) -> pd.DataFrame:
    """Rows of one snapshot from a frame that spans several (DuckDB DATE arrives as datetime64)."""
    if snapshot is None or df.empty:
        return df.iloc[0:0]
    return df[df["snapshot"] == pd.Timestamp(snapshot)]


def snapshot_labels(values: pd.Series) -> pd.Series:
    # Weekly snapshots read best as category labels; a date axis invents
    # in-between ticks and hours.
    return pd.to_datetime(values).dt.strftime("%Y-%m-%d")


# -------------------------------------------------------------------- numbers


def present(value: object) -> bool:
    """False for None, NaN (how pandas fills a missing string) and ''."""
    return value is not None and value == value and value != ""



def hours(value: float | None) -> str:
    if value is None or pd.isna(value):
        return "—"
    if value < 48:
        return f"{value:.1f} h"
    return f"{value / 24:.1f} d"


def pct(value: float | None, digits: int = 0) -> str:
    if value is None or pd.isna(value):
        return "—"
    return f"{value:.{digits}f} %"


def tier(value: str | None) -> str:
    return TIER_MARK.get(value or "", "no data")


DORA_COLUMNS = {
    "deployments_30d": st.column_config.NumberColumn("deploys (30 d)"),
    "lead_time_p50_hours": st.column_config.NumberColumn("lead time p50 (h)", format="%.1f"),
    "lead_time_p90_hours": st.column_config.NumberColumn("lead time p90 (h)", format="%.1f"),
    "deploy_days_per_week": st.column_config.NumberColumn("deploy-days / week", format="%.1f"),
    "change_failure_rate": st.column_config.NumberColumn("change failure rate", format="percent"),
    "time_to_restore_hours": st.column_config.NumberColumn("restore (h)", format="%.1f"),
    "incidents_90d": st.column_config.NumberColumn("incidents (90 d)"),
    "lead_time_tier": st.column_config.TextColumn("lead time tier"),
    "deploy_frequency_tier": st.column_config.TextColumn("frequency tier"),
    "change_failure_tier": st.column_config.TextColumn("failure tier"),
    "restore_tier": st.column_config.TextColumn("restore tier"),
}


def dora_metrics(row: dict[str, Any]) -> None:
    """The four DORA metrics, each with its tier (DESIGN "DORA tiers (2023 report)")."""
    cols = st.columns(4)
    freq = row.get("deploy_days_per_week")
    cfr = row.get("change_failure_rate")
    items = [
        ("Lead time for changes (p50)", hours(row.get("lead_time_p50_hours")), row.get("lead_time_tier")),
        (
            "Deployment frequency",
            "—" if freq is None or pd.isna(freq) else f"{freq:.1f}/wk",
            row.get("deploy_frequency_tier"),
        ),
        ("Change failure rate", "—" if cfr is None or pd.isna(cfr) else f"{cfr:.0%}", row.get("change_failure_tier")),
        ("Time to restore", hours(row.get("time_to_restore_hours")), row.get("restore_tier")),
    ]
    helps = [
        f"Median commit-to-production time; {dora.LEAD_TIME.describe()}.",
        f"Median days with a production deploy per week (trailing 12 weeks); {dora.DEPLOY_FREQUENCY.describe()}.",
        f"Share of production deployments with a linked incident; {dora.CHANGE_FAILURE.describe()}.",
        f"Median incident open-to-resolved time; {dora.RESTORE.describe()}.",
    ]
    for col, (label, value, t), text in zip(cols, items, helps, strict=True):
        col.metric(label, value, delta=tier(t), delta_color="off", delta_arrow="off", help=text, border=True)
