"""Is the platform a product or a ticket queue? Requests to the platform team, stored and measured.

Requests are facts with their own dates, like deploy events: they accumulate
in the warehouse table ``jira_requests`` (one row per source and issue key,
merged on every crawl) and are never published raw. Each snapshot publishes
``request_trend``, computed set-based in DuckDB as of the snapshot's date
(an issue resolved after it counts as open then):

* per requesting team ('*' = every team) and complete ISO week (Monday
  start, UTC), the requests created that week and how many were of a
  self-service kind, with their share;
* per team and week, the requests *resolved* that week and the p50/p90 of
  their time to resolution in hours (resolved - created): the same cut as
  DORA's lead time, by the week the work finished, so a recent week is not
  flattered by leaving out what is still open.

A crawl that fails leaves the stored requests as they were: the trend is
computed from them all the same, and ``source_status`` shows the source
stale (``error`` with its last good crawl).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from pipelines import secrets, warehouse
from pipelines.config import ScorecardConfig
from pipelines.frames import source_status_row
from pipelines.sources.jira import JiraCrawl, JiraSource

TREND_WEEKS = 26  # half a year of weeks: enough to see a golden path's effect on the queue
NO_TEAM = "(no team)"
WATERMARK = "jira_last_crawl:"  # + target: when the last successful API crawl started

Progress = Callable[[str, int, int], None]


@dataclass
class RequestResult:
    """What the `jira_requests` asset hands `warehouse_snapshot` for one date."""

    status: list[dict] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)
    trend: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=TREND_COLUMNS))


TREND_COLUMNS = ["team", "week", "requests", "self_service_requests", "self_service_share", "resolved",
                 "resolution_p50_hours", "resolution_p90_hours"]


# ------------------------------------------------------------------ crawl and store


def sources(config: ScorecardConfig, environ: dict[str, str] | None = None, **kwargs) -> list[JiraSource]:
    return [JiraSource(cfg, resolve=config.resolve, environ=environ, **kwargs) for cfg in config.sources.jira]


def crawl_and_store(
    config: ScorecardConfig, warehouse_path: Path, progress: Progress | None = None,
    jira: list[JiraSource] | None = None,
) -> tuple[list[dict], list[dict]]:
    """Crawl every `sources.jira` entry (incrementally where it crawled before) and merge what it
    read into ``jira_requests``; returns (source_status rows, problem rows)."""
    jira = sources(config) if jira is None else jira
    if not jira:
        return [], []
    marks = _watermarks(warehouse_path)
    crawls: list[JiraCrawl] = []
    for source in jira:
        # A file is an export of everything: read whole each time, never incrementally.
        since = None if source.cfg.issues_file is not None else marks.get(source.target)
        crawls.append(source.crawl(since, progress))
    canonical = team_names(config)
    for crawl in crawls:
        crawl.requests = [
            dataclasses.replace(r, team=canonical.get(r.team.lower(), r.team)) if r.team else r for r in crawl.requests
        ]
    with warehouse.connect(warehouse_path, doing="storing Jira requests") as con, \
            warehouse.transaction(con, warehouse_path, "storing Jira requests"):
        for source, crawl in zip(jira, crawls, strict=True):
            if crawl.error is None:
                merge(con, crawl)
                if source.cfg.issues_file is None and crawl.crawled_at is not None:
                    warehouse.set_meta(con, WATERMARK + crawl.target, crawl.crawled_at.isoformat())
    return _status(crawls), [
        {"source": "jira", "target": c.target, "path": c.target, "reason": p} for c in crawls for p in c.problems
    ]


def team_names(config: ScorecardConfig) -> dict[str, str]:
    """Lower-cased team names, display names and aliases -> the team's name in `teams:`, so a Jira
    field saying "Payments" or a label `team:payments-team` lands on the team adoption is reported for."""
    out: dict[str, str] = {}
    for team in config.teams:
        for spelling in (team.name, team.display_name, *team.aliases):
            if spelling:
                out.setdefault(spelling.lower(), team.name)
    return out


def _watermarks(warehouse_path: Path) -> dict[str, dt.datetime]:
    if not warehouse_path.exists():
        return {}
    with warehouse.read_only(warehouse_path, doing="reading the last Jira crawl") as con:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if "meta" not in tables:
            return {}
        rows = con.execute("SELECT key, value FROM meta WHERE starts_with(key, ?)", [WATERMARK]).fetchall()
    return {key[len(WATERMARK):]: dt.datetime.fromisoformat(value) for key, value in rows}


def merge(con: duckdb.DuckDBPyConnection, crawl: JiraCrawl) -> int:
    """Replace the stored rows of the issues this crawl read (by source and key); keep the others."""
    if not crawl.requests:
        return 0
    text = secrets.redact
    rows = pd.DataFrame(
        [(crawl.target, r.key, r.created, r.resolved, r.updated, text(r.issue_type) if r.issue_type else None,
          [text(label) for label in r.labels], text(r.team) if r.team else None, r.status_category,
          crawl.crawled_at) for r in crawl.requests],
        columns=warehouse.columns("jira_requests"),
    )
    # One frame scan, not a statement per row (executemany costs ~1 ms a row).
    con.register("_jira_new", rows)
    try:
        con.execute("DELETE FROM jira_requests WHERE source = ? AND key IN (SELECT key FROM _jira_new)", [crawl.target])
        # The last occurrence of a key wins (an issue updated between two pages can appear twice).
        con.execute("""INSERT INTO jira_requests BY NAME
                       SELECT * EXCLUDE (n) FROM (SELECT *, row_number() OVER () AS n FROM _jira_new)
                       QUALIFY n = max(n) OVER (PARTITION BY source, key)""")
    finally:
        con.unregister("_jira_new")
    return len(rows)


def _status(crawls: list[JiraCrawl]) -> list[dict]:
    rows = []
    for c in crawls:
        if c.error:
            rows.append(source_status_row("jira", c.target, "error", c.error, c.crawled_at, 0))
            continue
        how = "incremental" if c.incremental else "full"
        reason = f"{how} crawl; {len(c.problems)} issues skipped" if c.problems else None
        row = source_status_row("jira", c.target, "ok", reason, c.crawled_at, len(c.requests))
        # Skipped issues make it partial; the crawl itself succeeded, which is what staleness reads.
        rows.append({**row, "status": "partial"} if c.problems else row)
    return rows


# ------------------------------------------------------------------ the published trend

_TREND_SQL = """
WITH base AS MATERIALIZED (
    SELECT coalesce(requesting_team, $no_team) AS team, created,
           CASE WHEN resolved < $end AND resolved >= created THEN resolved END AS resolved,
           coalesce(list_contains($types::VARCHAR[], lower(issue_type)), false)
               OR list_has_any(list_transform(labels, lambda l: lower(l)), $labels::VARCHAR[]) AS self_service
    FROM jira_requests
    WHERE created < $end AND (created >= $first OR resolved >= $first)
),
weeks AS (SELECT CAST(w AS DATE) AS week FROM range($first::TIMESTAMP, $stop::TIMESTAMP, INTERVAL 7 DAY) t(w)),
grid AS (SELECT team, week FROM (SELECT DISTINCT team FROM base UNION SELECT '*') CROSS JOIN weeks),
-- GROUPING SETS: each team, and every team together ('*'), in one pass
opened AS (
    SELECT CASE WHEN grouping(team) = 1 THEN '*' ELSE team END AS team, week, count(*) AS requests,
           count(*) FILTER (WHERE self_service) AS self_service_requests
    FROM (SELECT team, self_service, CAST(date_trunc('week', timezone('UTC', created)) AS DATE) AS week
          FROM base WHERE created >= $first)
    GROUP BY GROUPING SETS ((team, week), (week))
),
closed AS (
    SELECT CASE WHEN grouping(team) = 1 THEN '*' ELSE team END AS team, week, count(*) AS resolved,
           quantile_cont(hours, [0.5, 0.9]) AS q
    FROM (SELECT team, epoch(resolved - created) / 3600 AS hours,
                 CAST(date_trunc('week', timezone('UTC', resolved)) AS DATE) AS week
          FROM base WHERE resolved >= $first)
    GROUP BY GROUPING SETS ((team, week), (week))
)
SELECT g.team, g.week, coalesce(o.requests, 0) AS requests,
       coalesce(o.self_service_requests, 0) AS self_service_requests,
       o.self_service_requests / nullif(o.requests, 0) AS self_service_share,
       coalesce(c.resolved, 0) AS resolved, c.q[1] AS resolution_p50_hours, c.q[2] AS resolution_p90_hours
FROM grid g LEFT JOIN opened o USING (team, week) LEFT JOIN closed c USING (team, week)
ORDER BY g.team, g.week
"""


def trend_window(as_of: dt.date, weeks: int = TREND_WEEKS) -> tuple[dt.date, dt.date]:
    """[first Monday, stop) of the complete ISO weeks up to ``as_of``: the week holding it counts
    only once it is over (as_of a Sunday), so the newest point is never a partial week."""
    stop = as_of + dt.timedelta(days=1) - dt.timedelta(days=(as_of + dt.timedelta(days=1)).weekday())
    return stop - dt.timedelta(weeks=weeks), stop


def request_trend(con: duckdb.DuckDBPyConnection, config: ScorecardConfig, as_of: dt.date) -> pd.DataFrame:
    """``request_trend`` of the ``as_of`` snapshot from the stored requests (empty without any)."""
    first, stop = trend_window(as_of)
    end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), dt.UTC)
    kinds = [j.self_service for j in config.sources.jira]
    params = {
        "end": end, "first": first, "stop": stop, "no_team": NO_TEAM,
        "types": sorted({t.lower() for k in kinds for t in k.issue_types}),
        "labels": sorted({label.lower() for k in kinds for label in k.labels}),
    }
    # range() excludes `stop`: the grid is the complete weeks, and the joins keep to it.
    return con.execute(_TREND_SQL, params).df()


def stored_trends(warehouse_path: Path, config: ScorecardConfig, dates: list[dt.date]) -> dict[dt.date, pd.DataFrame]:
    """Each date's ``request_trend`` from the stored requests, over one read-only connection."""
    empty = {day: pd.DataFrame(columns=TREND_COLUMNS) for day in dates}
    if not config.sources.jira or not warehouse_path.exists():
        return empty
    with warehouse.read_only(warehouse_path, doing="reading Jira requests") as con:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if "jira_requests" not in tables:
            return empty
        return {day: request_trend(con, config, day) for day in dates}


def for_dates(
    config: ScorecardConfig, warehouse_path: Path, dates: list[dt.date], progress: Progress | None = None,
    jira: list[JiraSource] | None = None,
) -> dict[dt.date, RequestResult]:
    """The `jira_requests` stage: crawl once per run (requests carry their own dates, so a backfill's
    past dates are computed from the same stored requests), then each date's trend."""
    status, problems = crawl_and_store(config, warehouse_path, progress, jira)
    trends = stored_trends(warehouse_path, config, dates)
    return {day: RequestResult(status, problems, trends[day]) for day in dates}
