"""Snapshot history as Dagster date partitions.

A snapshot's date is the partition key of every asset that computes it
(``2026-11-26``). Dagster therefore knows which dates exist, shows them in the
UI, and backfills missing ones; ``scorecard run`` materialises today's
partition and ``scorecard backfill`` launches runs over past ones.

One run materialises a contiguous range of dates (``BackfillPolicy.single_run``:
each asset iterates ``context.partition_keys``), which is also what
``dagster asset materialize --partition-range`` requires. A set of dates with
gaps (``--every 7d``) is one run per contiguous range, as Dagster's own
backfills split it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import dagster as dg

# The first snapshot date. What the checks look for (GitHub Actions workflows,
# generally available in November 2019; Backstage catalog entities, open-sourced
# in March 2020; OpenTelemetry, 2019) did not exist before, so an older snapshot
# would score every service as failing, not measure adoption. It also bounds
# the partitions the UI lists (~2,500 days up to 2026), which keeps its
# partition views fast. A fixed date, not "a year ago": the partitions
# definition must be the same in every process and on every day.
HISTORY_START = dt.date(2020, 1, 1)

# end_offset=1: today's partition exists from 00:00 UTC, so a run scores today
# rather than yesterday, and a future date is not a partition at all.
SNAPSHOT_PARTITIONS = dg.DailyPartitionsDefinition(
    start_date=HISTORY_START.isoformat(), end_offset=1, timezone="UTC", fmt="%Y-%m-%d"
)

# Runs of one `scorecard backfill` carry this tag, valued with the backfill's id.
BACKFILL_TAG = "scorecard/backfill"
_DAGSTER_BACKFILL_TAG = "dagster/backfill"
_RANGE_START_TAG = "dagster/asset_partition_range_start"
_RANGE_END_TAG = "dagster/asset_partition_range_end"


def utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@dataclass(frozen=True)
class SnapshotDate:
    """One partition of a run: the snapshot's date and what may be read for it."""

    day: dt.date
    today: dt.date  # the run's "today" (UTC, when it started), the same for every asset of the run

    @property
    def key(self) -> str:
        return self.day.isoformat()

    @property
    def historical(self) -> bool:
        """A past day: state that only exists now (clusters) is unknown for it."""
        return self.day < self.today

    @property
    def crawl_point(self) -> dt.datetime | None:
        """The moment repos are read as of: None for today (the branch head), else the end of that day."""
        if not self.historical:
            return None
        return dt.datetime.combine(self.day + dt.timedelta(days=1), dt.time(), dt.UTC)


def run_started(context) -> dt.datetime:
    """When the run started (launched, if not started yet), from Dagster's run record."""
    stats = context.instance.get_run_stats(context.run.run_id)
    started = stats.start_time or stats.launch_time
    return dt.datetime.fromtimestamp(started, dt.UTC) if started else dt.datetime.now(dt.UTC)


def snapshot_dates(context) -> list[SnapshotDate]:
    """The snapshots this run computes, oldest first.

    "Today" is the day the run started, not the moment each asset asks: a run
    that crosses midnight must not crawl a cluster in one asset and call the
    same date historical in the next.
    """
    today = run_started(context).date()
    return [SnapshotDate(dt.date.fromisoformat(key), today) for key in context.partition_keys]


def run_kind(context) -> str:
    """`backfill` for runs of a backfill (ours, Dagster's, or a range of dates), else `run`."""
    tags = context.run.tags
    if BACKFILL_TAG in tags or _DAGSTER_BACKFILL_TAG in tags or len(context.partition_keys) > 1:
        return "backfill"
    return "run"


def range_tags(first: dt.date, last: dt.date) -> dict[str, str]:
    """The tags by which Dagster gives a run the partitions ``first`` to ``last`` (as a backfill does)."""
    return {_RANGE_START_TAG: first.isoformat(), _RANGE_END_TAG: last.isoformat()}


def date_ranges(dates: list[dt.date], max_days: int) -> list[tuple[dt.date, dt.date]]:
    """Contiguous runs of consecutive ``dates``, each at most ``max_days`` long, oldest first.

    Dagster runs cover a range of partitions, never a set with gaps; a range
    run keeps every date's intermediate results in memory, so it is capped.
    """
    ranges: list[tuple[dt.date, dt.date]] = []
    for day in sorted(set(dates)):
        if ranges and day - ranges[-1][1] == dt.timedelta(days=1) and (day - ranges[-1][0]).days < max_days:
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


class HistoryRangeError(ValueError):
    """A snapshot date outside the partitions; the message says which and why."""


def check_in_history(day: dt.date, name: str) -> dt.date:
    if day < HISTORY_START:
        raise HistoryRangeError(
            f"{name}: {day.isoformat()} is before {HISTORY_START.isoformat()}, the first snapshot date "
            "(pipelines/history.py HISTORY_START): the golden paths the checks look for did not exist yet"
        )
    return day
