"""Snapshot retention: dailies for a while, then one snapshot per ISO week.

A year of daily snapshots of 10,000 services is ~365 × 1.1 M result rows;
history pages need the recent days day by day and older ones only as a
trend. :func:`apply` thins history inside the promoting transaction
(``warehouse.promote``), so a snapshot is never half-retired, and marks each
removed snapshot's runs rows ``deleted`` with a ``retention:`` message, which
`scorecard snapshots list` shows as the reason.

The windows count back from the newest complete snapshot, not from the wall
clock: a backfill of last year keeps its own dailies until newer dates
arrive, and a warehouse left alone for a month is not thinned by the clock.
Beyond ``daily_days`` a week keeps its last snapshot (the newest of that ISO
week present in history, whatever weekday it fell on, so weekly backfills
keep every date); beyond ``weekly_weeks`` more weeks nothing is kept, unless
``weekly_weeks`` is ``forever``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

import duckdb

DEFAULT_DAILY_DAYS = 90
DEFAULT_WEEKLY_WEEKS: int | None = 52  # None: keep the weeklies for ever


class Policy(Protocol):
    daily_days: int
    weekly_weeks: int | None


@dataclass(frozen=True)
class DefaultPolicy:
    daily_days: int = DEFAULT_DAILY_DAYS
    weekly_weeks: int | None = DEFAULT_WEEKLY_WEEKS


def describe(policy: Policy) -> str:
    weeks = "for ever" if policy.weekly_weeks is None else f"for {policy.weekly_weeks} weeks"
    return f"dailies for {policy.daily_days} days, then the last snapshot of each ISO week {weeks}"


def thinned(dates: list[dt.date], policy: Policy) -> list[dt.date]:
    """The dates of ``dates`` the policy removes, oldest first (pure: what :func:`apply` deletes)."""
    if not dates:
        return []
    newest = max(dates)
    daily_from = newest - dt.timedelta(days=policy.daily_days - 1)  # `daily_days` dates, newest included
    weekly_from = (None if policy.weekly_weeks is None
                   else daily_from - dt.timedelta(weeks=policy.weekly_weeks))
    last_of_week: dict[tuple[int, int], dt.date] = {}
    for day in dates:
        week = day.isocalendar()[:2]
        last_of_week[week] = max(day, last_of_week.get(week, day))
    drop = []
    for day in sorted(set(dates)):
        if day >= daily_from:
            continue
        too_old = weekly_from is not None and day < weekly_from
        if too_old or last_of_week[day.isocalendar()[:2]] != day:
            drop.append(day)
    return drop


def apply(con: duckdb.DuckDBPyConnection, policy: Policy | None, run_id: str) -> list[dt.date]:
    """Remove from history the complete snapshots ``policy`` no longer keeps (inside the caller's
    transaction); returns their dates. Their runs rows stay, ``deleted``, saying why."""
    from pipelines import warehouse  # late: warehouse.promote calls this

    policy = policy or DefaultPolicy()
    dates = [row[0] for row in con.execute("SELECT DISTINCT snapshot FROM runs WHERE status = 'complete'").fetchall()]
    drop = thinned(dates, policy)
    if not drop:
        return []
    note = f"retention: removed by run {run_id} ({describe(policy)})"
    con.execute(
        """UPDATE runs SET status = 'deleted', message = $2
           WHERE snapshot IN (SELECT unnest($1::DATE[])) AND status IN ('complete', 'superseded')""",
        [drop, note],
    )
    warehouse.drop_unused_spans(con)  # the dates are gone from every view with their runs
    return drop
