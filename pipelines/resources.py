"""Dagster resources: the run's settings, the sources' secrets, the warehouse and progress reporting.

No ``from __future__ import annotations`` here: Dagster reads the resource
annotations at runtime to wire the nested settings resource.
"""

import contextlib
import datetime as dt
import functools
import os
import pickle
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

from pipelines import runlock, secrets
from pipelines.config import DEFAULT_GITHUB_TOKEN_ENV, ScorecardConfig, load_config

DEFAULT_CONFIG = "scorecard.yaml"


@functools.lru_cache(maxsize=8)
def _load_cached(path: Path, stamp: int | None) -> ScorecardConfig:
    return load_config(path)


class ScorecardSettings(dg.ConfigurableResource):
    """Which config file to use. The snapshot date is the run's partition (pipelines/history.py)."""

    config_path: str = ""  # empty: $SCORECARD_CONFIG, else ./scorecard.yaml (read at run time)

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


class SourceCredentials(dg.ConfigurableResource):
    """The secrets of the remote sources, bound to environment variables with ``dg.EnvVar``.

    Dagster resolves them when a run starts, and its UI and run config only
    ever show the variable's name. Every remote source is optional: a
    variable that is not set leaves its field empty (pipelines/definitions.py),
    and only a source configured in scorecard.yaml needs its secret.
    """

    # For `sources.github` entries whose token_env is GITHUB_TOKEN (the default).
    github_token: str | None = None

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # Registered before any step runs: no log line, table or error of the run can carry it.
        secrets.register(self.github_token)

    def tokens(self) -> dict[str, str]:
        """The secrets by the variable that holds them, as scorecard.yaml names them (`token_env`)."""
        return {DEFAULT_GITHUB_TOKEN_ENV: self.github_token} if self.github_token else {}


class AsOfError(ValueError):
    """An unusable snapshot date; the message says which value and why."""


def parse_as_of(text: str, today: dt.date | None = None, name: str = "--as-of") -> dt.date:
    """A snapshot date: YYYY-MM-DD, not after today (UTC).

    A snapshot dated in the future would stay "latest" for ever after, hiding
    every real run behind it.
    """
    today = today or dt.datetime.now(dt.UTC).date()
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        example = min(today, dt.datetime.now(dt.UTC).date()).isoformat()
        raise AsOfError(f"{name} {text!r} is not a date: expected YYYY-MM-DD, e.g. {example}") from None
    if day > today:
        raise AsOfError(
            f"{name} {day.isoformat()} is after today ({today.isoformat()} UTC): a snapshot of the future "
            "would stay the latest for ever; use today's date or an earlier one"
        )
    return day


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

    settings: dg.ResourceDependency[ScorecardSettings]
    path: str = ""
    serving_path: str = ""
    # A second run on the same warehouse waits this long for the first, then fails saying who holds it.
    lock_wait_seconds: float = 600.0

    @contextlib.contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator["WarehouseDB"]:
        # One run at a time writes a warehouse, for the whole run: staging,
        # checking and promoting must see the same snapshot. Dagster's run
        # queue limits runs it launches (tag `scorecard/warehouse`); this lock
        # also covers CLI runs and other Dagster instances.
        path = self.warehouse(self.settings.load())
        log = context.log

        def waiting(holder: str) -> None:
            if log is not None:
                log.info(f"waiting up to {self.lock_wait_seconds:.0f} s for {holder} to finish with {path}")

        run_id = context.run.run_id if context.run else "?"
        with runlock.run_lock(path, f"run {run_id}", self.lock_wait_seconds, waiting):
            yield self

    def warehouse(self, config: ScorecardConfig) -> Path:
        return Path(self.path).resolve() if self.path else config.warehouse_path

    def serving(self, config: ScorecardConfig) -> Path:
        return Path(self.serving_path).resolve() if self.serving_path else config.serving_path


class RunMemory(dg.IOManager):
    """Hands each asset's value to the assets after it, in memory, within one run.

    A scorecard run is one process (the in-process executor) and its layers
    only mean something together: the snapshot a run stages is checked and
    promoted by that same run. So nothing is pickled into DAGSTER_HOME (a
    crawl of a large organisation is hundreds of MiB per date, and pickles
    of partitions would pile up there for ever), and a run that selects an
    asset without the assets it reads is refused with what to select.
    """

    def __init__(self) -> None:
        self._values: dict[dg.AssetKey, object] = {}

    def handle_output(self, context: dg.OutputContext, obj: object) -> None:
        self._values[context.asset_key] = obj

    def load_input(self, context: dg.InputContext) -> object:
        if context.asset_key not in self._values:
            raise dg.Failure(
                f"{context.asset_key.to_user_string()} was not materialised in this run; a snapshot's layers are "
                "computed together: materialise the whole graph (or the job crawl_and_score_job)"
            )
        return self._values[context.asset_key]


@dg.io_manager(description="Hands values between the assets of one run in memory (pipelines/resources.py RunMemory).")
def run_memory_io_manager(_context) -> RunMemory:
    return RunMemory()


RUN_VALUES_ENV = "SCORECARD_RUN_VALUES_DIR"
RUN_VALUES_KEEP_SECONDS = 2 * 86400  # a failed run's values: long enough to look at, then removed


def run_values_dir() -> Path:
    """Where steps of distributed runs hand values to each other: a filesystem every worker sees."""
    configured = os.environ.get(RUN_VALUES_ENV, "").strip()
    if configured:
        return Path(configured)
    home = os.environ.get("DAGSTER_HOME", "").strip()
    return (Path(home) if home else Path.cwd() / ".dagster_home") / "scorecard-run-values"


class RunFiles(dg.IOManager):
    """Hands each asset's value to the assets after it through files, within one run.

    Under the Celery or Kubernetes executor every step is its own process,
    on whichever worker took it, so RunMemory cannot work. Values are pickled
    to ``<run values dir>/<run id>/<asset>.pickle`` (owner-only, refused if a
    configured secret is in them, like stored evidence) and removed by the
    run's last step (``serving_snapshot``); a failed run's are removed after
    two days by the next run. Unlike Dagster's filesystem IO manager, nothing
    is kept per partition for ever: a crawl is hundreds of MiB per date.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        _prune_run_values(root)

    def _file(self, context: dg.OutputContext | dg.InputContext) -> Path:
        run_id = context.run_id if isinstance(context, dg.OutputContext) else context.upstream_output.run_id
        return self.root / run_id / ("__".join(context.asset_key.path) + ".pickle")

    def handle_output(self, context: dg.OutputContext, obj: object) -> None:
        if obj is None:  # a MaterializeResult asset (the crawl shards write their own facts files)
            return
        payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
        pattern = secrets.SECRETS.pattern()
        if pattern is not None and pattern.search(payload.decode("latin-1")):
            raise dg.Failure(f"{context.asset_key.to_user_string()} held a configured secret; it was not written")
        file = self._file(context)
        file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = file.with_name(f".{file.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
        os.replace(tmp, file)

    def load_input(self, context: dg.InputContext) -> object:
        file = self._file(context)
        if not file.is_file():
            raise dg.Failure(
                f"{context.asset_key.to_user_string()} was not materialised in this run (no {file}); a snapshot's "
                "layers are computed together: materialise the whole graph (or the job crawl_and_score_job)"
            )
        with file.open("rb") as fh:
            return pickle.load(fh)


def drop_run_values(run_id: str) -> None:
    """Remove what the steps of ``run_id`` handed each other (nothing for in-process runs)."""
    shutil.rmtree(run_values_dir() / run_id, ignore_errors=True)


def _prune_run_values(root: Path) -> None:
    if not root.is_dir():
        return
    cutoff = time.time() - RUN_VALUES_KEEP_SECONDS
    for run_dir in root.iterdir():
        with contextlib.suppress(OSError):
            if run_dir.is_dir() and run_dir.stat().st_mtime < cutoff:
                shutil.rmtree(run_dir, ignore_errors=True)


@dg.io_manager(description="Hands values between the steps of one run through files (pipelines/resources.py RunFiles).")
def run_files_io_manager(_context) -> RunFiles:
    return RunFiles(run_values_dir())
