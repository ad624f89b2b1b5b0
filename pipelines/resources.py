"""Dagster resources: the run's settings, the warehouse and progress reporting."""

from __future__ import annotations

import datetime as dt
import functools
import os
from pathlib import Path

import dagster as dg

from pipelines.config import ScorecardConfig, load_config

DEFAULT_CONFIG = "scorecard.yaml"


@functools.lru_cache(maxsize=8)
def _load_cached(path: Path, stamp: int | None) -> ScorecardConfig:
    return load_config(path)


class ScorecardSettings(dg.ConfigurableResource):
    """Which config file to use and which snapshot (as-of date) to compute."""

    config_path: str = ""  # empty: $SCORECARD_CONFIG, else ./scorecard.yaml (read at run time)
    as_of: str = ""  # YYYY-MM-DD; empty: today (UTC)
    kind: str = "run"  # "run" | "backfill"

    def path(self) -> Path:
        return Path(self.config_path or os.environ.get("SCORECARD_CONFIG") or DEFAULT_CONFIG)

    def load(self) -> ScorecardConfig:
        # Every asset asks for the config; read and validate the file once per
        # version of it (an edit between runs is still picked up).
        path = self.path().resolve()
        try:
            stamp = path.stat().st_mtime_ns
        except OSError:
            stamp = None  # load_config reports the missing file
        return _load_cached(path, stamp)

    def as_of_date(self) -> dt.date:
        return dt.date.fromisoformat(self.as_of) if self.as_of else dt.datetime.now(dt.UTC).date()

    def historical(self) -> bool:
        """A snapshot of a past day: state that only exists now (clusters) is unknown."""
        return self.as_of_date() < dt.datetime.now(dt.UTC).date()

    def crawl_point(self) -> dt.datetime | None:
        """The moment repos are read as of: None for "now" (the branch head)."""
        if not self.historical():
            return None
        return dt.datetime.combine(self.as_of_date() + dt.timedelta(days=1), dt.time(), dt.UTC)


class Progress:
    """Reports progress of long stages; the CLI swaps in a terminal reporter."""

    def __init__(self, log=None) -> None:
        self._log = log
        self._last: dict[str, int] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        # Log roughly every 10 % so a 1,000-repo crawl stays readable in the UI.
        step = max(1, total // 10)
        if done in (0, total) or done - self._last.get(stage, 0) >= step:
            self._last[stage] = done
            (self._log or dg.get_dagster_logger()).info(f"{stage}: {done}/{total}")


class WarehouseDB(dg.ConfigurableResource):
    """The DuckDB warehouse the job writes and the snapshot it publishes.

    Empty paths use the config file's `warehouse:` section; setting them here
    (run config, or the Dagster UI's launchpad) points one run elsewhere, e.g.
    at a shared volume, without editing scorecard.yaml.
    """

    path: str = ""
    serving_path: str = ""

    def warehouse(self, config: ScorecardConfig) -> Path:
        return Path(self.path).resolve() if self.path else config.warehouse_path

    def serving(self, config: ScorecardConfig) -> Path:
        return Path(self.serving_path).resolve() if self.serving_path else config.serving_path
