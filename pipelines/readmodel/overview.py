"""What every page and the CLI need first: snapshots, scorecards, filters, the summary."""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import pandas as pd

from pipelines.readmodel.base import frame, rows


def overview(path: str) -> dict[str, Any]:
    """Snapshots, meta and filter options of the published file."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        # The served file holds only complete snapshots (publish filters on
        # runs.status), so any snapshot in runs is servable.
        snapshots = [r[0] for r in con.execute("SELECT DISTINCT snapshot FROM runs ORDER BY snapshot").fetchall()]
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
        latest = snapshots[-1] if snapshots else None

        def column(sql: str) -> list:
            return [r[0] for r in con.execute(sql, {"s": latest}).fetchall()]

        scorecards = column("SELECT DISTINCT scorecard FROM service_scores WHERE snapshot = $s ORDER BY scorecard")
        teams = column("SELECT DISTINCT team FROM services WHERE snapshot = $s AND team IS NOT NULL ORDER BY team")
        categories = column(
            "SELECT DISTINCT category FROM checks WHERE snapshot = $s AND category IS NOT NULL ORDER BY category")
        services = con.execute("SELECT count(*) FROM services WHERE snapshot = $s", {"s": latest}).fetchone()[0]
    finally:
        con.close()
    return {
        "snapshots": snapshots, "latest": latest, "published_at": meta.get("published_at"),
        "schema_version": meta.get("schema_version"), "scorecards": scorecards, "teams": teams,
        "categories": categories, "services": services,
    }


def latest_snapshot(path: str, snapshot: str | dt.date | None = None) -> dt.date | None:
    """The newest complete snapshot (or `snapshot` itself when it is one)."""
    found = rows(path, "SELECT max(snapshot) FROM runs WHERE status = 'complete' "
                       "AND ($s::DATE IS NULL OR snapshot = $s::DATE)", s=snapshot)
    return found[0][0] if found else None


def scorecard_levels(path: str, snapshot: dt.date, scorecard: str) -> pd.DataFrame:
    return frame(
        path,
        """SELECT level, min(level_rank) AS level_rank, count(*) AS checks
           FROM scorecard_checks WHERE snapshot = $snapshot AND scorecard = $scorecard
           GROUP BY level ORDER BY level_rank""",
        snapshot=snapshot, scorecard=scorecard,
    )


def summary_counts(path: str, snapshot: dt.date, scorecard: str) -> tuple[list[str], pd.DataFrame, pd.DataFrame]:
    """For the run summary: levels in order, services per team and level, and each team's mean score."""
    levels = [r[0] for r in rows(
        path, """SELECT DISTINCT level, level_rank FROM service_scores
                 WHERE snapshot = $snapshot AND scorecard = $scorecard ORDER BY level_rank""",
        snapshot=snapshot, scorecard=scorecard)]
    counts = frame(
        path,
        """SELECT coalesce(team, '(no owner)') AS team, level, count(*) AS services
           FROM service_scores WHERE snapshot = $snapshot AND scorecard = $scorecard GROUP BY ALL""",
        snapshot=snapshot, scorecard=scorecard,
    )
    means = frame(
        path,
        """SELECT coalesce(team, '(no owner)') AS team, round(avg(score_pct), 1) AS mean_score_pct
           FROM service_scores WHERE snapshot = $snapshot AND scorecard = $scorecard GROUP BY ALL""",
        snapshot=snapshot, scorecard=scorecard,
    )
    return levels, counts, means
