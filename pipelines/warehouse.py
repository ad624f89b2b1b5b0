"""The DuckDB warehouse: schema, staged snapshots and atomic publishing.

Every scoring run writes one dated snapshot per date it computes (keyed by
``snapshot``, the partition date; a backfill run computes a range) in two
steps. :func:`stage_snapshot` writes it into the ``staging`` schema with a ``runs`` row in status ``checking``; the blocking data
invariants read it there; only then :func:`promote` moves it into history in
one transaction (replacing an earlier snapshot of the same date) and marks the
run ``complete``. A run whose invariants fail is ``rejected``: its runs row
keeps the reason and its staged rows stay inspectable until the next run, but
history, the published file, the dashboard and ``explain`` never see it.

Events (deployments, incidents) are not snapshot-keyed: they accumulate, each
snapshot reads the window its metrics need, and :func:`prune_events` drops
those past the retention.

The dashboard never opens this file: DuckDB allows one writer *or* many
readers, so :func:`publish` copies the complete snapshots into a new file and
``os.replace``-s it onto the serving path. Readers that already have the old
file open keep reading it; new connections see the new one.

One run at a time writes a warehouse (``pipelines.runlock``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from pipelines import processes, secrets, spans, warehouse_backends
from pipelines import retention as retention_policy

SCHEMA_VERSION = 1

# Tables keyed by snapshot. The order is the publish order; the DDL is fixed
# text (identifiers only come from this module, never from input).
SNAPSHOT_TABLES: dict[str, str] = {
    "runs": """
        run_id VARCHAR, snapshot DATE, kind VARCHAR, started_at TIMESTAMPTZ,
        finished_at TIMESTAMPTZ, status VARCHAR, config_file VARCHAR,
        services INTEGER, repos INTEGER, message VARCHAR""",
    "source_status": """
        snapshot DATE, source VARCHAR, target VARCHAR, status VARCHAR,
        reason VARCHAR, crawled_at TIMESTAMPTZ, items INTEGER,
        last_success_at TIMESTAMPTZ""",
    "problems": """
        snapshot DATE, source VARCHAR, target VARCHAR, path VARCHAR, reason VARCHAR""",
    "services": """
        snapshot DATE, service VARCHAR, team VARCHAR, repo VARCHAR, path VARCHAR,
        identity_rule VARCHAR, owner_source VARCHAR, lifecycle VARCHAR, system VARCHAR,
        type VARCHAR, repo_error VARCHAR, codeowners VARCHAR, identity_detail VARCHAR""",
    "workloads": """
        snapshot DATE, source VARCHAR, cluster VARCHAR, environment VARCHAR,
        namespace VARCHAR, kind VARCHAR, name VARCHAR, service VARCHAR,
        join_label VARCHAR, replicas INTEGER, containers INTEGER, images VARCHAR,
        repo VARCHAR, file VARCHAR, also_in VARCHAR""",
    "golden_path_adoption": """
        snapshot DATE, service VARCHAR, team VARCHAR, golden_path VARCHAR,
        on_path BOOLEAN, version VARCHAR, latest VARCHAR, releases_behind INTEGER,
        adoption VARCHAR""",
    "adoption_summary": """
        snapshot DATE, team VARCHAR, golden_path VARCHAR, services INTEGER,
        adopted INTEGER, not_adopted INTEGER, unknown INTEGER, on_latest INTEGER,
        behind_latest INTEGER, adoption_share DOUBLE, on_latest_share DOUBLE""",
    "checks": """
        snapshot DATE, check_id VARCHAR, title VARCHAR, category VARCHAR,
        level VARCHAR, weight INTEGER, rationale VARCHAR, remediation VARCHAR,
        doc_url VARCHAR""",
    "check_results": """
        snapshot DATE, service VARCHAR, team VARCHAR, check_id VARCHAR,
        category VARCHAR, status VARCHAR, detail VARCHAR, remediation VARCHAR,
        snippet VARCHAR, waiver_reason VARCHAR, params VARCHAR, status_group VARCHAR,
        waiver_expires DATE""",
    "scorecard_results": """
        snapshot DATE, scorecard VARCHAR, service VARCHAR, team VARCHAR, check_id VARCHAR,
        category VARCHAR, level VARCHAR, level_rank INTEGER, weight INTEGER, status VARCHAR,
        counts_as_pass BOOLEAN, applicable BOOLEAN, status_group VARCHAR,
        blocks_next_level BOOLEAN""",
    "scorecard_checks": """
        snapshot DATE, scorecard VARCHAR, check_id VARCHAR, level VARCHAR,
        level_rank INTEGER, weight INTEGER""",
    "service_scores": """
        snapshot DATE, scorecard VARCHAR, service VARCHAR, team VARCHAR,
        level VARCHAR, level_rank INTEGER, score_pct DOUBLE, passed INTEGER,
        applicable INTEGER, failing INTEGER, unknown INTEGER, next_level VARCHAR,
        checks_to_next_level INTEGER""",
    "team_scores": """
        snapshot DATE, scorecard VARCHAR, team VARCHAR, services INTEGER,
        mean_score_pct DOUBLE, level VARCHAR, level_services INTEGER""",
    "check_pass_rates": """
        snapshot DATE, scorecard VARCHAR, team VARCHAR, check_id VARCHAR,
        passing INTEGER, failing INTEGER, unknown INTEGER, applicable INTEGER,
        pass_rate DOUBLE""",
    "dora": """
        snapshot DATE, service VARCHAR, team VARCHAR, deployments_30d INTEGER,
        lead_time_p50_hours DOUBLE, lead_time_p90_hours DOUBLE,
        deploy_days_per_week DOUBLE, change_failure_rate DOUBLE,
        time_to_restore_hours DOUBLE, incidents_90d INTEGER,
        lead_time_tier VARCHAR, deploy_frequency_tier VARCHAR,
        change_failure_tier VARCHAR, restore_tier VARCHAR""",
    # The rules the snapshot was scored by (pipelines/rules.py): one row per snapshot.
    "rule_sets": """
        snapshot DATE, digest VARCHAR, rules VARCHAR""",
    "team_dora": """
        snapshot DATE, team VARCHAR, services INTEGER, lead_time_p50_hours DOUBLE,
        deploy_days_per_week DOUBLE, change_failure_rate DOUBLE, time_to_restore_hours DOUBLE,
        lead_time_tier VARCHAR, deploy_frequency_tier VARCHAR,
        change_failure_tier VARCHAR, restore_tier VARCHAR""",
    # Requests to the platform team per requesting team and ISO week (pipelines/platform_requests.py).
    "request_trend": """
        snapshot DATE, team VARCHAR, week DATE, requests INTEGER, self_service_requests INTEGER,
        self_service_share DOUBLE, resolved INTEGER, resolution_p50_hours DOUBLE,
        resolution_p90_hours DOUBLE""",
}

EVENT_TABLES: dict[str, str] = {
    "deployment_events": """
        service VARCHAR, environment VARCHAR, sha VARCHAR, deployed_at TIMESTAMPTZ,
        status VARCHAR, source VARCHAR, ingested_at TIMESTAMPTZ""",
    "incident_events": """
        service VARCHAR, opened_at TIMESTAMPTZ, resolved_at TIMESTAMPTZ,
        root_cause_sha VARCHAR, source VARCHAR, ingested_at TIMESTAMPTZ""",
    # Jira issues as facts, merged by (source, key) on every crawl (pipelines/platform_requests.py).
    "jira_requests": """
        source VARCHAR, key VARCHAR, created TIMESTAMPTZ, resolved TIMESTAMPTZ,
        updated TIMESTAMPTZ, issue_type VARCHAR, labels VARCHAR[], requesting_team VARCHAR,
        status_category VARCHAR, crawled_at TIMESTAMPTZ""",
    "meta": "key VARCHAR PRIMARY KEY, value VARCHAR",
}


STAGING = "staging"  # schema holding the snapshot of the run being checked
RUN_STATUSES = ("checking", "complete", "rejected", "failed", "superseded", "deleted")
LOCK_WAIT_SECONDS = 30.0  # how long a short read or write waits for DuckDB's own file lock


# ------------------------------------------------------------------ errors


class WarehouseError(Exception):
    """A warehouse problem an operator can act on; the message is one line naming the file."""


class WarehouseBusy(WarehouseError):
    """Another process holds the warehouse (our run lock or DuckDB's file lock)."""


_DUCKDB_HOLDER = re.compile(r"Conflicting lock is held in (?P<proc>.*?) \(PID (?P<pid>\d+)\)")


def _is_lock_conflict(exc: BaseException) -> bool:
    return isinstance(exc, duckdb.Error) and ("Could not set lock" in str(exc) or "Conflicting lock" in str(exc))


def _is_disk_full(exc: BaseException) -> bool:
    return (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or "No space left on device" in str(exc)


def friendly_error(exc: BaseException, path: Path, doing: str) -> WarehouseError | None:
    """The operator's version of a DuckDB or OS error, or None when it is not one we can explain."""
    if isinstance(exc, WarehouseError):
        return exc
    if _is_lock_conflict(exc):
        m = _DUCKDB_HOLDER.search(str(exc))
        who = f"process {m['pid']} ({Path(m['proc']).name})" if m else "another process"
        return WarehouseBusy(
            f"{path} is open in {who} while {doing}; DuckDB allows one writer or many readers at a time: "
            "wait for that process to finish (or close it) and try again"
        )
    if _is_disk_full(exc):
        return WarehouseError(
            f"{path}: No space left on device while {doing}; free space on that disk (or point "
            "`warehouse.path` / `warehouse.serving_path` at a bigger one) and run again"
        )
    if isinstance(exc, duckdb.Error) and ("not a valid DuckDB database file" in str(exc) or "Corrupt" in str(exc)):
        return WarehouseError(f"{path} is not a readable DuckDB database ({_first_line(exc)}); "
                              "restore it from a backup or move it away and run `scorecard run` again")
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _open(path: Path, read_only: bool, wait_seconds: float | None, doing: str) -> duckdb.DuckDBPyConnection:
    """Open the file, waiting out another process's short write, with an operator-readable error."""
    backend = warehouse_backends.connect(path, read_only=read_only)  # a DuckLake or MotherDuck, if configured
    if backend is not None:
        return backend
    deadline = time.monotonic() + (LOCK_WAIT_SECONDS if wait_seconds is None else wait_seconds)
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.Error as exc:
            if _is_lock_conflict(exc) and time.monotonic() < deadline:
                time.sleep(0.2)
                continue
            friendly = friendly_error(exc, path, doing)
            if friendly is not None:
                raise friendly from exc
            raise


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection, path: Path, doing: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN ... COMMIT; on failure roll back and raise the *original* error, explained.

    After an I/O error (a full disk) DuckDB has already aborted the
    transaction, so an unconditional ROLLBACK raised "cannot rollback - no
    transaction is active" and hid "No space left on device".
    """
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
        con.execute("COMMIT")
    except BaseException as exc:
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
        friendly = friendly_error(exc, path, doing)
        if friendly is not None and friendly is not exc:
            raise friendly from exc
        raise


# ---------------------------------------------------------------- schema


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    # Every connection asks (a run opens the warehouse a few times per date):
    # one catalogue query, and statements only for what is missing.
    have: dict[str, set[str]] = {}
    for table, column in con.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'main'").fetchall():
        have.setdefault(table, set()).add(column)
    views = {t for (t,) in con.execute("""SELECT table_name FROM information_schema.tables
                                          WHERE table_schema = 'main' AND table_type = 'VIEW'""").fetchall()}
    for name, cols in {**SNAPSHOT_TABLES, **EVENT_TABLES}.items():
        # Identifiers come from the fixed dicts above, not from input.
        if name in _DATA_TABLES:
            _ensure_spans(con, name, have, views)
            continue
        if name not in have:
            con.execute(f"CREATE TABLE {name} ({cols})")
            continue
        # A warehouse written by an older release lacks the columns added since:
        # add them (NULL in old snapshots) instead of failing every later write.
        for column, kind in _column_types(cols):
            if column not in have[name]:
                con.execute(f"ALTER TABLE {name} ADD COLUMN {column} {kind}")
    if get_meta(con, "schema_version") != str(SCHEMA_VERSION):
        set_meta(con, "schema_version", str(SCHEMA_VERSION))


def _ensure_spans(con: duckdb.DuckDBPyConnection, name: str, have: dict[str, set[str]], views: set[str]) -> None:
    """History table ``name`` as spans and a view (pipelines/spans.py); a warehouse of an older
    release, whose ``name`` is a table of per-snapshot rows, is converted once, here."""
    stored = spans.table(name)
    spec = _column_types(SNAPSHOT_TABLES[name])
    if stored not in have:
        con.execute(f"CREATE TABLE {stored} ({spans.ddl(spec)})")
        if name in have and name not in views:
            for column, kind in spec:  # the old table may predate columns added since
                if column not in have[name]:
                    con.execute(f"ALTER TABLE {name} ADD COLUMN {column} {kind}")
            spans.from_rows(con, stored, name, columns(name), _storage_order(name, spanned=True))
            con.execute(f"DROP TABLE {name}")
            have.pop(name)
    else:
        for column, kind in spec:
            if column != "snapshot" and column not in have[stored]:
                con.execute(f"ALTER TABLE {stored} ADD COLUMN {column} {kind}")
    if name not in views or have.get(name) != set(columns(name)):
        spans.create_view(con, name, columns(name))


@contextmanager
def connect(path: Path, *, wait_seconds: float | None = None, doing: str = "writing the warehouse") -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived read-write connection to the warehouse (created if missing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = _open(path, False, wait_seconds, doing)
    try:
        try:
            ensure_schema(con)
        except duckdb.Error as exc:
            friendly = friendly_error(exc, path, doing)
            if friendly is not None:
                raise friendly from exc
            raise
        yield con
    finally:
        with contextlib.suppress(duckdb.Error):
            con.close()


@contextmanager
def read_only(path: Path, *, wait_seconds: float | None = None, doing: str = "reading it") -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived read-only connection (what the dashboard and CLI readers use)."""
    con = _open(path, True, wait_seconds, doing)
    try:
        yield con
    finally:
        con.close()


def columns(table: str) -> list[str]:
    spec = SNAPSHOT_TABLES.get(table) or EVENT_TABLES[table]
    return [name for name, _ in _column_types(spec)]


def _column_types(spec: str) -> list[tuple[str, str]]:
    parts = [part.split(maxsplit=1) for part in " ".join(spec.split()).split(", ")]
    return [(name, kind.removesuffix(" PRIMARY KEY")) for name, kind in parts]


def _shaped(table: str, snapshot: dt.date, df: pd.DataFrame) -> pd.DataFrame:
    cols = columns(table)
    if df.empty and not len(df.columns):
        # A frame built from no rows has no columns either (zero services): nothing to write.
        df = pd.DataFrame(columns=[c for c in cols if c != "snapshot"])
    frame = df.copy()
    frame["snapshot"] = snapshot
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise ValueError(f"{table}: missing columns {missing}")
    return _redacted(frame[cols])


def _insert(con: duckdb.DuckDBPyConnection, target: str, frame: pd.DataFrame) -> None:
    if not len(frame):
        return
    con.register("_frame", frame)
    try:
        # `target` is a table name from SNAPSHOT_TABLES, optionally schema-qualified by this module.
        # BY NAME: a warehouse from an older release has added columns at the end.
        con.execute(f"INSERT INTO {target} BY NAME SELECT * FROM _frame")
    finally:
        con.unregister("_frame")


def _redacted(frame: pd.DataFrame) -> pd.DataFrame:
    """No secret the run holds is ever stored (pipelines.secrets): texts from outside
    (error bodies, exception messages, git stderr) reach every table through here."""
    pattern = secrets.SECRETS.pattern()
    if pattern is None or frame.empty:
        return frame
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            texts = out[column]
            mask = texts.map(lambda v: isinstance(v, str))
            out.loc[mask, column] = texts[mask].str.replace(pattern, secrets.MASK, regex=True)
    return out


def set_meta(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    con.execute(
        "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )


def get_meta(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    row = con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


# --------------------------------------------------- staged snapshots (issue 9)

_DATA_TABLES = [name for name in SNAPSHOT_TABLES if name != "runs"]
DATA_TABLES = tuple(_DATA_TABLES)  # the snapshot tables apart from `runs`: stored as spans (pipelines/spans.py)


def stage_snapshot(con: duckdb.DuckDBPyConnection, run: dict, frames: dict[str, pd.DataFrame]) -> dict[str, int]:
    """Write a run's snapshot into ``staging`` with a ``checking`` runs row (inside the caller's transaction).

    A run that computes several dates (a partition range) stages each in
    turn; they are checked and promoted together. A run that stopped before
    promotion (killed, or its checks could not even write their verdict)
    leaves ``checking`` rows; the next run's first stage marks them
    ``failed`` so the list of runs does not claim they are still going.
    """
    snapshot = run["snapshot"]
    same_run = staged_run(con) == run["run_id"]
    con.execute(
        """UPDATE runs SET status = 'failed',
                  message = coalesce(message, 'the run stopped before its snapshot was checked and promoted')
           WHERE status = 'checking' AND run_id <> ?""",
        [run["run_id"]],
    )
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {STAGING}")
    rows = {}
    for name in _DATA_TABLES:
        if not same_run:
            con.execute(f"CREATE OR REPLACE TABLE {STAGING}.{name} ({SNAPSHOT_TABLES[name]})")
        frame = _shaped(name, snapshot, frames.get(name, pd.DataFrame()))
        _insert(con, f"{STAGING}.{name}", frame)
        rows[name] = len(frame)
    set_meta(con, "staged_run", run["run_id"])
    _insert(con, "runs", _shaped("runs", snapshot, pd.DataFrame([{**run, "status": "checking"}]).drop(columns="snapshot")))
    return rows


def append_run(con: duckdb.DuckDBPyConnection, row: pd.DataFrame, snapshot: dt.date) -> None:
    """Add a runs row as is (redacted like every stored text)."""
    _insert(con, "runs", _shaped("runs", snapshot, row))


def staged_run(con: duckdb.DuckDBPyConnection) -> str | None:
    return get_meta(con, "staged_run")


def reject_run(con: duckdb.DuckDBPyConnection, run_id: str, reason: str, status: str = "rejected") -> None:
    """Record why a run's snapshot will never become history.

    Each failed invariant adds its reason to a ``rejected`` run; ``failed``
    (the run stopped for another reason) only settles a run still ``checking``.
    """
    con.execute(
        """UPDATE runs SET status = $status, finished_at = now(),
                  message = CASE WHEN message IS NULL OR status = 'checking' THEN $reason ELSE message || '; ' || $reason END
           WHERE run_id = $run AND (status = 'checking' OR (status = 'rejected' AND $status = 'rejected'))""",
        {"status": status, "reason": secrets.redact(reason), "run": run_id},
    )


def promote(con: duckdb.DuckDBPyConnection, run_id: str, retention: retention_policy.Policy | None = None
            ) -> list[dt.date]:
    """Move the checked snapshots of ``run_id`` from staging into history (inside the caller's transaction).

    Returns their dates, oldest first; each replaces an earlier snapshot of its date.
    Then history is thinned by ``retention`` (the config's ``warehouse.retention``; None:
    its defaults) in the same transaction (pipelines/retention.py): the dates it removed
    are the result's ``retired``.
    """
    if staged_run(con) != run_id:
        raise WarehouseError(f"the staged snapshot belongs to run {staged_run(con)!r}, not {run_id!r}; run again")
    rows = con.execute("SELECT snapshot, status FROM runs WHERE run_id = ? ORDER BY snapshot", [run_id]).fetchall()
    waiting = [r for r in rows if r[1] != "checking"]
    if not rows or waiting:
        raise WarehouseError(f"run {run_id} is {waiting[0][1] if waiting else 'unknown'}, not awaiting promotion")
    snapshots = [r[0] for r in rows]
    # The dates the spans stand for once this run is complete: history's, and this run's.
    dates = sorted({d for (d,) in con.execute("SELECT DISTINCT snapshot FROM runs WHERE status = 'complete'"
                                              ).fetchall()} | set(snapshots))
    for name in _DATA_TABLES:
        for day in snapshots:  # oldest first: a later date extends the spans an earlier one wrote
            spans.write_date(con, name, columns(name), f"(SELECT * FROM {STAGING}.{name} WHERE snapshot = $d)",
                             day, [d for d in dates if d != day], _storage_order(name, spanned=True))
    con.execute(
        """UPDATE runs SET status = 'superseded', message = ?
           WHERE snapshot IN (SELECT snapshot FROM runs WHERE run_id = ?) AND status = 'complete'""",
        [f"replaced by run {run_id}", run_id],
    )
    con.execute("UPDATE runs SET status = 'complete', finished_at = now() WHERE run_id = ?", [run_id])
    con.execute(f"DROP SCHEMA {STAGING} CASCADE")
    con.execute("DELETE FROM meta WHERE key = 'staged_run'")
    return Promoted(snapshots, retired=retention_policy.apply(con, retention, run_id))


def _storage_order(table: str, *, spanned: bool = False) -> str:
    """ORDER BY for a table's rows (or ``spanned``: its spans) in history: like rows next to each
    other compress better.

    Rows of one check side by side (its remediation texts differ only in the
    service's names) took a quarter less space than rows of one service side
    by side, measured on 10,000 services.
    """
    keys = [c for c in ("snapshot", "scorecard", "check_id", "status", "service") if c in columns(table)]
    if spanned:
        keys = [k for k in keys if k != "snapshot"]
    return f" ORDER BY {', '.join(keys)}" if len(keys) > int(not spanned) else ""


class Promoted(list):
    """The promoted dates (a list, as before), and the dates retention removed in the same transaction."""

    def __init__(self, snapshots: list[dt.date], retired: list[dt.date]) -> None:
        super().__init__(snapshots)
        self.retired = retired


def list_runs(con: duckdb.DuckDBPyConnection) -> list[dict]:
    cur = con.execute(
        """SELECT snapshot, status, kind, run_id, started_at, finished_at, services, repos, message
           FROM runs ORDER BY snapshot, started_at"""
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def delete_snapshot(con: duckdb.DuckDBPyConnection, snapshot: dt.date, note: str) -> int:
    """Drop a snapshot from history (inside the caller's transaction); its runs rows stay, marked ``deleted``."""
    found = con.execute(
        "SELECT count(*) FROM runs WHERE snapshot = ? AND status = 'complete'", [snapshot]
    ).fetchone()[0]
    con.execute(
        "UPDATE runs SET status = 'deleted', message = ? WHERE snapshot = ? AND status IN ('complete', 'superseded')",
        [note, snapshot],
    )
    drop_unused_spans(con)
    return found


def load_history(con: duckdb.DuckDBPyConnection, name: str, source: str) -> None:
    """Load per-snapshot rows (relation ``source``, any subset of the table's columns) as the whole
    history of ``name``, which must be empty: for building history in bulk (the benchmarks' years).
    Their dates' ``runs`` rows say ``complete`` first, or the view will not show them."""
    if name not in _DATA_TABLES:
        raise ValueError(f"not a history table: {name}")
    stored = spans.table(name)
    if con.execute(f"SELECT count(*) FROM {stored}").fetchone()[0]:
        raise WarehouseError(f"{name} already has history; promote snapshots into it instead")
    cols = columns(name)
    # `source` is a relation the caller named (a temp table); its missing columns read as NULL.
    con.execute(f"CREATE OR REPLACE TEMP TABLE _load AS SELECT * FROM {name} WHERE false")
    con.execute(f"INSERT INTO _load BY NAME SELECT * FROM {source}")
    spans.from_rows(con, stored, "_load", cols, _storage_order(name, spanned=True))
    con.execute("DROP TABLE _load")


def drop_unused_spans(con: duckdb.DuckDBPyConnection) -> None:
    """After dates left history (their runs no longer ``complete``): delete the spans with no date left."""
    for name in _DATA_TABLES:
        spans.drop_unused(con, name)


# ------------------------------------------------------------------ events


def prune_events(con: duckdb.DuckDBPyConnection, before: dt.datetime) -> tuple[int, int]:
    """Delete raw events older than the retention; returns (deployments, incidents) removed.

    Each service and environment keeps its latest successful deploy however
    old: it is the lower bound of the next deploy's change range, so lead
    times stay exact after a long quiet period.
    """
    deploys = con.execute(
        """DELETE FROM deployment_events d WHERE d.deployed_at < $before AND NOT EXISTS (
               SELECT 1 FROM (SELECT service, environment, max(deployed_at) AS last FROM deployment_events
                              WHERE status = 'success' GROUP BY ALL) k
               WHERE k.service = d.service AND k.environment = d.environment AND k.last = d.deployed_at
                 AND d.status = 'success')""",
        {"before": before},
    ).fetchone()[0]
    incidents = con.execute("DELETE FROM incident_events WHERE opened_at < $before", {"before": before}).fetchone()[0]
    return deploys, incidents


# ------------------------------------------------------------ compaction


@dataclass(frozen=True)
class Compacted:
    before_bytes: int
    after_bytes: int
    seconds: float

    def __str__(self) -> str:
        return (f"{self.before_bytes / 2**20:,.0f} MiB -> {self.after_bytes / 2**20:,.0f} MiB "
                f"in {self.seconds:.1f} s")


def free_space(path: Path) -> tuple[int, int]:
    """(free bytes, file bytes) of the warehouse after a checkpoint (which frees deleted rows' blocks)."""
    with connect(path, doing="measuring the warehouse's free space") as con:
        con.execute("CHECKPOINT")
        block_size, total, free = con.execute(
            "SELECT block_size, total_blocks, free_blocks FROM pragma_database_size() "
            "WHERE database_name = current_database()").fetchone()
    return free * block_size, total * block_size


def compact(path: Path) -> Compacted:
    """Rewrite the warehouse into a fresh file holding only its live rows, and swap it in.

    DuckDB never shrinks a file after DELETE: a checkpoint marks the deleted
    rows' blocks free and later writes reuse them, and VACUUM does not give
    space back either. `COPY FROM DATABASE` into a new file writes every
    table, schema and key once, densely. The old file is attached read-only
    while it is copied and until the new one is renamed onto its path: its
    shared lock keeps any other writer (`scorecard ingest`) out, so nothing
    is written to the old file after the copy began; a writer waiting for
    the lock then opens the new file. Call it under the run lock.
    """
    started = time.monotonic()
    before = path.stat().st_size
    with connect(path, doing="compacting the warehouse") as con:
        con.execute("CHECKPOINT")  # everything in the file itself, nothing left in the WAL
    _remove_stale_temp_files(path)
    tmp = _tmp_name(path)
    con = duckdb.connect()
    try:
        _attach_read_only(con, path, "old")
        con.execute("ATTACH ? AS fresh", [str(tmp)])
        con.execute("COPY FROM DATABASE old TO fresh")
        con.execute("DETACH fresh")  # checkpointed and closed: the file is complete
        os.replace(tmp, path)
    except BaseException as exc:
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            leftover.unlink(missing_ok=True)
        friendly = friendly_error(exc, path, "compacting the warehouse")
        if friendly is not None and friendly is not exc:
            raise friendly from exc
        raise
    finally:
        with contextlib.suppress(duckdb.Error):
            con.close()
    return Compacted(before, path.stat().st_size, time.monotonic() - started)


def compact_if_due(path: Path, policy=None) -> Compacted | None:
    """Compact when the free blocks are at least ``policy.min_free_share`` of the file and
    ``policy.min_free_mib`` MiB (the config's `warehouse.compaction`); None: not due."""
    if not path.exists() or warehouse_backends.backend_for(path) is not None:
        return None  # a DuckLake or MotherDuck compacts its own storage: there is no file here to rewrite
    share = getattr(policy, "min_free_share", 0.25)
    least = getattr(policy, "min_free_mib", 64) * 2**20
    free, total = free_space(path)
    if not total or free < least or free / total < share:
        return None
    return compact(path)


# --------------------------------------------------------------- publish


def _tmp_name(serving: Path) -> Path:
    # Unique per publish: two publishers (or a crashed one's leftover) never share a file.
    return serving.with_name(f"{serving.name}.{os.getpid()}-{uuid.uuid4().hex[:12]}.new")


def _remove_stale_temp_files(serving: Path) -> None:
    """Delete temp files of publishes whose process is gone (a crash before the rename)."""
    for leftover in serving.parent.glob(f"{glob_escape(serving.name)}.*.new*"):
        pid = leftover.name[len(serving.name) + 1:].split("-", 1)[0]
        if pid.isdigit() and not processes.alive(int(pid)):
            leftover.unlink(missing_ok=True)


def glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


# Beside the derived tables a publish may keep, the digest of the inputs they were derived with.
DERIVED_INPUTS = "derived_inputs"


def publish(warehouse: Path, serving: Path,
            derive: Callable[[duckdb.DuckDBPyConnection], None] | None = None, *, incremental: bool = True,
            kept: dict[str, str] | None = None) -> Path:
    """Copy the complete snapshots into a new file and atomically swap it in.

    Incremental (the default, when the served file is one of ours with
    today's columns): the new file starts as a byte copy of the served one,
    and only the snapshots whose complete run differs from the warehouse's
    (promoted, replaced, deleted, thinned by retention since) are deleted
    and copied again. A derived table keyed by snapshot whose inputs are
    unchanged (``kept``: table -> digest of its inputs besides the published
    data, e.g. the config's initiatives; ROI's is added here) keeps the rows
    of the other dates, and its derivation computes only the dates
    :func:`derive_dates` names; everything else derived is dropped and
    derived again from the result. Re-encoding ~130 retained snapshots of
    10,000 services every day took minutes, and so did deriving ROI and the
    programme over all of them; the result is the same as a full publish (tested).

    The temp file sits next to the target so ``os.replace`` is a rename on
    one filesystem, and its name is unique to this publish. A crash before
    the rename leaves the previous snapshot published and at worst a stale
    temp file, which a later publish removes once its process is gone.
    Only ``complete`` runs and their snapshots are copied: a rejected or
    unfinished run is never served. Raw events stay in the warehouse; the
    served file holds the metrics derived from them. ``derive`` adds tables
    computed over every published date (the adoption programme's,
    pipelines/programme.py) to the new file before it is swapped in.
    """
    from pipelines import roi

    kept = {**{name: roi.INPUTS for name in roi.TABLES}, **(kept or {})}
    serving.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temp_files(serving)
    tmp = _tmp_name(serving)
    try:
        previous = incremental and _reusable(serving)
        if previous:
            shutil.copyfile(serving, tmp)  # a copy: readers of the served file keep reading it as it is
        # The new file is the main database (read-write); the warehouse is
        # attached read-only so a publish never takes the writer's lock for long.
        con = duckdb.connect(str(tmp))
        try:
            _attach_read_only(con, warehouse)
            if previous:
                _refresh_copied(con, kept)
            else:
                con.execute(f"CREATE TABLE runs ({SNAPSHOT_TABLES['runs']})")
                con.execute(f"CREATE TABLE meta ({EVENT_TABLES['meta']})")
                con.execute("INSERT INTO runs BY NAME SELECT * FROM wh.main.runs WHERE status = 'complete'")
                for name in _DATA_TABLES:
                    _copy_spans(con, name)
            con.execute("INSERT INTO meta BY NAME SELECT * FROM wh.main.meta WHERE key <> 'staged_run'")
            from pipelines import (  # late: derived from what was just copied
                preview,
                roi,
                rules,
            )

            rules.publish_rule_changes(con)  # the rule-change log, from each snapshot's rules
            preview.publish(con)  # stored previews, apart from history, for the Compare page
            roi.publish(con)  # Platform ROI: delivery outcomes by golden-path cohort
            set_meta(con, "published_at", dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
            con.execute("DETACH wh")
            if derive is not None:
                derive(con)
            con.execute(f"CREATE TABLE {DERIVED_INPUTS} (table_name VARCHAR, digest VARCHAR)")
            con.executemany(f"INSERT INTO {DERIVED_INPUTS} VALUES (?, ?)", sorted(kept.items()))
            con.execute("DROP TABLE IF EXISTS _changed")
            con.execute("CHECKPOINT")
        finally:
            with contextlib.suppress(duckdb.Error):
                con.close()
        os.replace(tmp, serving)
    except BaseException as exc:
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            leftover.unlink(missing_ok=True)
        friendly = friendly_error(exc, serving if _is_disk_full(exc) else warehouse, "publishing the snapshot")
        if friendly is not None and friendly is not exc:
            raise friendly from exc
        raise
    return serving


def _span_columns(name: str) -> list[str]:
    return [c for c in columns(name) if c != "snapshot"] + ["first_seen", "last_seen"]


def _copy_spans(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Create history table ``name`` in the file being published (spans and view) and copy the
    warehouse's (``wh``) spans into it; a warehouse of an older release, attached read-only and
    so not converted yet, has its per-snapshot rows turned into spans on the way."""
    stored = spans.table(name)
    con.execute(f"CREATE TABLE main.{stored} ({spans.ddl(_column_types(SNAPSHOT_TABLES[name]))})")
    order = _storage_order(name, spanned=True)
    has_spans = con.execute("""SELECT count(*) FROM information_schema.tables
                               WHERE table_catalog = 'wh' AND table_schema = 'main' AND table_name = ?""",
                            [stored]).fetchone()[0]
    if has_spans:
        con.execute(f"INSERT INTO main.{stored} BY NAME SELECT * FROM wh.main.{stored}{order}")
    else:
        spans.from_rows(con, f"main.{stored}", f"wh.main.{name}", columns(name), order)
    spans.create_view(con, name, columns(name))


def _reusable(serving: Path) -> bool:
    """The served file can start the next publish: one of ours, with every snapshot table's columns as now."""
    if not serving.is_file():
        return False
    try:
        con = duckdb.connect(str(serving), read_only=True)
    except duckdb.Error:
        return False
    try:
        have: dict[str, list[str]] = {}
        for table, column in con.execute(
                """SELECT table_name, column_name FROM information_schema.columns
                   WHERE table_schema = 'main' ORDER BY table_name, ordinal_position""").fetchall():
            have.setdefault(table, []).append(column)
        published = "meta" in have and con.execute("SELECT count(*) FROM meta WHERE key = 'published_at'").fetchone()[0]
        return (bool(published) and all(have.get(name) == columns(name) for name in SNAPSHOT_TABLES)
                and all(have.get(spans.table(name)) == _span_columns(name) for name in _DATA_TABLES))
    except duckdb.Error:
        return False
    finally:
        con.close()


def _refresh_copied(con: duckdb.DuckDBPyConnection, kept: dict[str, str]) -> None:
    """Bring a copy of the served file up to the warehouse's complete snapshots (``wh`` attached).

    Leaves the temp table ``_changed``: the dates deleted and copied again,
    the one answer to "what changed" for the derivations (:func:`derive_dates`)."""
    con.execute(
        """CREATE TEMP TABLE _changed AS
           SELECT DISTINCT snapshot FROM (
               (SELECT snapshot, run_id FROM main.runs
                EXCEPT SELECT snapshot, run_id FROM wh.main.runs WHERE status = 'complete')
               UNION ALL
               (SELECT snapshot, run_id FROM wh.main.runs WHERE status = 'complete'
                EXCEPT SELECT snapshot, run_id FROM main.runs))""")
    # History is small as spans, and a day extends most of them: each is copied whole. Dropped and
    # checkpointed first, so the new rows reuse the old ones' blocks instead of growing the file.
    for name in _DATA_TABLES:  # names from the fixed table list
        con.execute(f"DROP VIEW main.{name}")
        con.execute(f"DROP TABLE main.{spans.table(name)}")
    con.execute("CHECKPOINT")
    for name in _DATA_TABLES:
        _copy_spans(con, name)
    con.execute("DELETE FROM main.runs")  # small: its messages may have changed too
    con.execute("INSERT INTO main.runs BY NAME SELECT * FROM wh.main.runs WHERE status = 'complete'")
    con.execute("DELETE FROM main.meta")
    # What a publish derives from history is derived again below, from the result: all of it, except
    # the rows of unchanged dates in a table derived with the same inputs as before (a file of an older
    # release has no digests: everything is derived again).
    derived = con.execute(
        """SELECT table_name, table_type FROM information_schema.tables
           WHERE table_catalog = current_database() AND table_schema = 'main'""").fetchall()
    before = dict(con.execute(f"SELECT table_name, digest FROM main.{DERIVED_INPUTS}").fetchall()
                  ) if (DERIVED_INPUTS, "BASE TABLE") in derived else {}
    for name, kind in derived:
        if name in SNAPSHOT_TABLES or name.removesuffix(spans.SUFFIX) in SNAPSHOT_TABLES or name == "meta":
            continue
        # `name` is a table of the file we publish, quoted as an identifier.
        quoted = name.replace('"', '""')
        if kind == "BASE TABLE" and name in kept and before.get(name) == kept[name]:
            con.execute(f"DELETE FROM main.\"{quoted}\" WHERE snapshot IN (SELECT snapshot FROM _changed)")
        else:
            con.execute(f"DROP {'VIEW' if kind == 'VIEW' else 'TABLE'} main.\"{quoted}\"")


def derive_dates(con: duckdb.DuckDBPyConnection, table: str) -> list[dt.date] | None:
    """The published dates whose rows of derived ``table`` a publish must compute: None for every date
    (the table was not kept: a full publish, or its inputs changed), else the dates it copied again."""
    exists = con.execute("""SELECT count(*) FROM information_schema.tables WHERE table_catalog = current_database()
                            AND table_schema = 'main' AND table_name = ?""", [table]).fetchone()[0]
    if not exists:
        return None
    return [d for (d,) in con.execute(
        "SELECT snapshot FROM _changed WHERE snapshot IN (SELECT snapshot FROM main.runs) ORDER BY 1").fetchall()]


def _attach_read_only(con: duckdb.DuckDBPyConnection, warehouse: Path, alias: str = "wh") -> None:
    if warehouse_backends.attach_read_only(con, warehouse, alias):
        return
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            # `alias` is a fixed name from this module.
            con.execute(f"ATTACH ? AS {alias} (READ_ONLY)", [str(warehouse)])
            return
        except duckdb.Error as exc:
            if _is_lock_conflict(exc) and time.monotonic() < deadline:
                time.sleep(0.2)
                continue
            raise
