"""Running the crawl-and-score job from the command line: one date, a partition
range, a backfill, and what a failed run says.

Dagster is imported inside each function: `pipelines.cli` imports this module
for every command, and `scorecard --help` and the CI gate must not pay for it.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines import secrets

if TYPE_CHECKING:
    from pipelines.config import ScorecardConfig


class TerminalProgress:
    """One updating line per stage on stderr (plain lines when not a terminal)."""

    def __init__(self, stream=None, prefix: str = "") -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.prefix = prefix
        self._last: dict[str, float] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        final = done >= total
        if not final and now - self._last.get(stage, 0.0) < (0.1 if self.tty else 2.0):
            return
        self._last[stage] = now
        pct = f"{100 * done / total:5.1f} %" if total else ""
        text = f"{self.prefix}{stage}: {done}/{total} {pct}"
        if self.tty:
            self.stream.write("\r\033[K" + text + ("\n" if final else ""))
        elif final:
            self.stream.write(text + "\n")
        self.stream.flush()


def _instance():
    import dagster as dg

    # With DAGSTER_HOME set, CLI runs are recorded where `dagster dev` shows them.
    home = os.environ.get("DAGSTER_HOME")
    if home and Path(home).is_dir():
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()


# At most this many consecutive dates per run of a backfill: a run keeps every
# date's crawl in memory until it publishes (tens of MiB per date for the demo,
# hundreds for 1,000 repositories); the saving per extra date is one run's start-up.
MAX_DAYS_PER_RUN = 7


def _run_config(config_path: Path) -> dict:
    return {
        "resources": {"settings": {"config": {"config_path": str(config_path.resolve())}}},
        "loggers": {"console": {"config": {"log_level": "CRITICAL"}}},
    }


def run_snapshots(config_path: Path, first: dt.date, last: dt.date, *, publish: bool = True, tags=None,
                  defs=None, progress=None, instance=None):
    """Materialise the snapshots ``first`` to ``last`` in one in-process Dagster run; returns its result.

    One date is a run of that partition, several a partition range (as a
    single-run backfill launches it). Without ``publish`` the served file is
    left alone: a backfill publishes once, after its last date.
    """
    from pipelines import history
    from pipelines.assets import serving_snapshot
    from pipelines.definitions import CRAWL_AND_SCORE_JOB, build_definitions

    defs = defs or build_definitions(progress)
    job = defs.resolve_job_def(CRAWL_AND_SCORE_JOB)
    selection = None if publish else [k for k in defs.resolve_all_asset_keys() if k != serving_snapshot.key]
    run_tags = dict(tags or {})
    if first != last:
        run_tags.update(history.range_tags(first, last))
    return job.execute_in_process(
        run_config=_run_config(config_path), instance=instance or _instance(), raise_on_error=False,
        partition_key=first.isoformat() if first == last else None, tags=run_tags,
        asset_selection=selection,
    )


def publish_snapshot(config_path: Path, *, tags=None, defs=None, instance=None):
    """Materialise only `serving_snapshot`: copy every complete snapshot into the served file."""
    from pipelines.assets import serving_snapshot
    from pipelines.definitions import CRAWL_AND_SCORE_JOB, build_definitions

    job = (defs or build_definitions()).resolve_job_def(CRAWL_AND_SCORE_JOB)
    return job.execute_in_process(run_config=_run_config(config_path), instance=instance or _instance(),
                                  raise_on_error=False, asset_selection=[serving_snapshot.key], tags=tags)


def run_job(config_path: Path, as_of: dt.date | None = None, kind: str = "run", progress=None, instance=None):
    """Run the crawl-and-score job in-process for one date (default: today, UTC) and publish; returns the Dagster result."""
    from pipelines import history

    day = as_of or history.utc_today()
    tags = {history.BACKFILL_TAG: "single"} if kind == "backfill" else None
    return run_snapshots(config_path, day, day, tags=tags, progress=progress, instance=instance)


def _failure_summary(result) -> str:
    rejected = [
        event.event_specific_data for event in result.all_events
        if event.event_type_value == "ASSET_CHECK_EVALUATION" and event.event_specific_data is not None
        and getattr(event.event_specific_data, "passed", None) is False
    ]
    if rejected:
        reasons = [f"data invariant {d.check_name} failed"
                   + (f" ({d.description})" if getattr(d, "description", None) else "") for d in rejected]
        return "snapshot rejected: " + "; ".join(reasons)
    for event in result.all_events:
        data = event.event_specific_data
        err = getattr(data, "error", None) if data is not None else None
        if err is None or event.event_type_value not in ("STEP_FAILURE", "RESOURCE_INIT_FAILURE", "RUN_FAILURE",
                                                         "PIPELINE_FAILURE", "ENGINE_EVENT"):
            continue
        # Dagster wraps the real error: the first error that is not Dagster's own says what went wrong.
        root = err
        while root.cause is not None and (root.cls_name or "").startswith("Dagster"):
            root = root.cause
        lines = root.message.strip().splitlines() or ["(no message)"]
        # A "ModuleError: text" line: the text is the message for operators.
        message = lines[-1].split(": ", 1)[1] if ": " in lines[-1] and root.cls_name else lines[-1]
        where = f"step {event.step_key} failed: " if event.step_key else ""
        return secrets.redact(f"{where}{message}")
    return "the run failed (see the Dagster UI for the step logs)"


def _settle_failed_run(config: ScorecardConfig, run_id: str, reason: str) -> None:
    """A run that failed before its invariants decided leaves `checking`: record it as `failed`, with why."""
    from pipelines import warehouse

    if not config.warehouse_path.exists():
        return
    try:
        with warehouse.connect(config.warehouse_path, wait_seconds=5, doing="recording the failed run") as con:
            warehouse.reject_run(con, run_id, reason, status="failed")
    except Exception:  # noqa: BLE001 - the run's own error is what the operator needs to see
        return


def _waiting(holder: str) -> None:
    print(f"scorecard: waiting for {holder} to finish ...", file=sys.stderr, flush=True)


def backfill_dates(since_days: int, every_days: int, today: dt.date) -> list[dt.date]:
    """Past snapshot dates, oldest first, stepping back from today (today itself excluded)."""
    if every_days <= 0:
        raise ValueError("--every must be at least 1d")
    dates = []
    day = today - dt.timedelta(days=every_days)
    while day >= today - dt.timedelta(days=since_days):
        dates.append(day)
        day -= dt.timedelta(days=every_days)
    return sorted(dates)


def backfill(config_path: Path, since_days: int, every_days: int, today: dt.date | None = None,
             wait_seconds: float = 600.0) -> list[tuple[dt.date, bool]]:
    """Compute past snapshots as Dagster partition runs, in-process, and publish once at the end.

    The dates are split as Dagster splits a backfill under the assets'
    single-run policy: one run per range of consecutive dates (at most
    MAX_DAYS_PER_RUN), so `--every 7d` is a run per date. None of them copies
    the warehouse into the served file; one last run materialises
    `serving_snapshot`. The runs carry the tag `scorecard/backfill` with this
    backfill's id, so the Dagster UI lists them together.
    """
    import uuid

    from pipelines import history, runlock, warehouse
    from pipelines.config import load_config
    from pipelines.definitions import build_definitions
    from pipelines.sources.local_git import RepoReads

    config = load_config(config_path)
    today = today or history.utc_today()
    dates = backfill_dates(since_days, every_days, today)
    if dates:
        history.check_in_history(dates[0], f"--since {since_days}d")
    ranges = history.date_ranges(dates, MAX_DAYS_PER_RUN)
    progress = TerminalProgress()
    # One set of definitions for the whole backfill: its runs share what the
    # repositories say whatever the date (default branch, tags).
    defs = build_definitions(progress, RepoReads())
    instance = _instance()
    tags = {history.BACKFILL_TAG: f"{today:%Y%m%d}-{uuid.uuid4().hex[:8]}"}
    out: list[tuple[dt.date, bool]] = []
    # One lock for the whole backfill: another run cannot slip in between its snapshots.
    with runlock.run_lock(config.warehouse_path, f"scorecard backfill --config {config_path}", wait_seconds, _waiting):
        for i, (first, last) in enumerate(ranges, start=1):
            label = first.isoformat() if first == last else f"{first.isoformat()}..{last.isoformat()}"
            progress.prefix = f"[{i}/{len(ranges)} {label}] "
            result = run_snapshots(config_path, first, last, publish=False, tags=tags, defs=defs, instance=instance)
            if not result.success:
                summary = _failure_summary(result)
                _settle_failed_run(config, result.run_id, summary)
                print(f"scorecard: snapshot {label}: {summary}", file=sys.stderr)
            out += [(day, result.success) for day in dates if first <= day <= last]
        if any(ok for _, ok in out):
            progress.prefix = ""
            result = publish_snapshot(config_path, tags=tags, defs=defs, instance=instance)
            if not result.success:
                raise warehouse.WarehouseError(
                    f"the backfilled snapshots are in {config.warehouse_path} but publishing them failed: "
                    f"{_failure_summary(result)}; `scorecard run` publishes them with today's snapshot"
                )
    return out
