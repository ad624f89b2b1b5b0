"""What the exports read: every published table, and the figures metrics and badges show.

Each export reads through *one* read-only connection: a publish that lands
half-way through (``os.replace`` of the served file) must not mix two
snapshots in one export. An open connection keeps reading the file it
opened, so everything an export writes comes from one published version.

Nothing is decided here: levels, adoption shares (adopted / known, unknown
apart: checks/policy.py) and team DORA medians and tiers are the pipeline's,
read as published.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from checks.policy import NO_LEVEL
from pipelines import spans

ORG = "*"  # the team value of the organisation's rows in the published roll-ups
NO_OWNER = "(no owner)"  # how the roll-ups name services without a team


@contextlib.contextmanager
def published(path: str | Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """One read-only connection to the published file, for one whole export."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        yield con
    finally:
        con.close()


def _quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class TableExport:
    table: str
    file: str
    rows: int
    snapshots: list[str]  # the snapshot dates the table holds, oldest first ([] when it has no snapshot column)
    schema: list[dict[str, str]]  # [{"name": ..., "type": ...}] in column order


def published_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every table of the published file, by name: whatever the publish wrote, not a list kept here.

    A history table is a view over its spans (pipelines/spans.py): the view is exported, one row per
    snapshot as the table always was, and the spans it is stored as are not."""
    found = con.execute(
        "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = 'main' "
        "AND table_type IN ('BASE TABLE', 'VIEW') ORDER BY table_name").fetchall()
    views = {name for name, kind in found if kind == "VIEW"}
    return [name for name, _ in found
            if not (name.endswith(spans.SUFFIX) and name.removesuffix(spans.SUFFIX) in views)]


def copy_table_to_parquet(con: duckdb.DuckDBPyConnection, table: str, dest: Path) -> TableExport:
    """Write one published table to ``dest`` with DuckDB's own Parquet writer; describe what was written."""
    ident = _quote_identifier(table)  # a name from information_schema, quoted all the same
    schema = [{"name": name, "type": kind} for name, kind in con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'main' AND table_name = $t ORDER BY ordinal_position", {"t": table}).fetchall()]
    # COPY takes no bound parameter for its file name: the literal is quoted instead.
    con.execute(f"COPY (SELECT * FROM {ident}) TO {_quote_literal(str(dest))} (FORMAT parquet)")
    rows = con.execute(f"SELECT count(*) FROM {ident}").fetchone()[0]
    snapshots: list[str] = []
    if any(col["name"] == "snapshot" for col in schema):
        snapshots = [r[0].isoformat() for r in con.execute(
            f"SELECT DISTINCT snapshot FROM {ident} WHERE snapshot IS NOT NULL ORDER BY 1").fetchall()]
    return TableExport(table, dest.name, rows, snapshots, schema)


def meta(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(con.execute("SELECT key, value FROM meta").fetchall())


def latest(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    return con.execute("SELECT max(snapshot) FROM runs WHERE status = 'complete'").fetchone()[0]


@dataclass
class MetricFigures:
    """The latest snapshot's figures the OpenMetrics export shows."""

    snapshot: dt.date | None
    published_at: str | None
    adoption: pd.DataFrame = field(default_factory=pd.DataFrame)
    levels: pd.DataFrame = field(default_factory=pd.DataFrame)
    dora: pd.DataFrame = field(default_factory=pd.DataFrame)
    checks: pd.DataFrame = field(default_factory=pd.DataFrame)


def metric_figures(path: str | Path) -> MetricFigures:
    with published(path) as con:
        snap = latest(con)
        figures = MetricFigures(snapshot=snap, published_at=meta(con).get("published_at"))
        if snap is None:
            return figures
        p = {"s": snap}
        figures.adoption = con.execute(
            """SELECT team, golden_path, services, adopted, not_adopted, unknown, on_latest, behind_latest,
                      adoption_share, on_latest_share
               FROM adoption_summary WHERE snapshot = $s ORDER BY team, golden_path""", p).df()
        figures.levels = con.execute(
            """SELECT scorecard, coalesce(team, $no_owner) AS team, coalesce(level, $no_level) AS level,
                      min(level_rank) AS level_rank, count(*) AS services
               FROM service_scores WHERE snapshot = $s GROUP BY ALL ORDER BY scorecard, team, level_rank""",
            {**p, "no_owner": NO_OWNER, "no_level": NO_LEVEL}).df()
        figures.dora = con.execute(
            """SELECT team, services, lead_time_p50_hours, deploy_days_per_week, change_failure_rate,
                      time_to_restore_hours, lead_time_tier, deploy_frequency_tier, change_failure_tier, restore_tier
               FROM team_dora WHERE snapshot = $s ORDER BY team""", p).df()
        figures.checks = con.execute(
            """SELECT scorecard, team, check_id, passing, failing, unknown, applicable
               FROM check_pass_rates WHERE snapshot = $s AND team <> $org ORDER BY scorecard, team, check_id""",
            {**p, "org": ORG}).df()
    return figures


def badge_levels(path: str | Path) -> tuple[dt.date | None, pd.DataFrame]:
    """Per service and scorecard in the latest snapshot: its level (None below the first), score and team."""
    with published(path) as con:
        snap = latest(con)
        if snap is None:
            return None, pd.DataFrame(columns=["scorecard", "service", "team", "level", "level_rank", "score_pct"])
        found = con.execute(
            """SELECT scorecard, service, team, level, level_rank, score_pct
               FROM service_scores WHERE snapshot = $s ORDER BY scorecard, service""", {"s": snap}).df()
    return snap, found
