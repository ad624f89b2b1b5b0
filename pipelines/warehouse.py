"""The DuckDB warehouse: schema, snapshot-keyed writes and atomic publishing.

Every scoring run writes one dated snapshot (keyed by ``snapshot``, the as-of
date). Writing a snapshot that already exists replaces its rows, so re-running
a day or a backfill never duplicates. Events (deployments, incidents) are not
snapshot-keyed: they accumulate and each snapshot reads those before its date.

The dashboard never opens this file: DuckDB allows one writer *or* many
readers, so :func:`publish` copies the complete snapshots into a new file and
``os.replace``-s it onto the serving path. Readers that already have the old
file open keep reading it; new connections see the new one.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd

from pipelines import secrets

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
        on_path BOOLEAN, version VARCHAR, latest VARCHAR, releases_behind INTEGER""",
    "checks": """
        snapshot DATE, check_id VARCHAR, title VARCHAR, category VARCHAR,
        level VARCHAR, weight INTEGER, rationale VARCHAR, remediation VARCHAR,
        doc_url VARCHAR""",
    "check_results": """
        snapshot DATE, service VARCHAR, team VARCHAR, check_id VARCHAR,
        category VARCHAR, status VARCHAR, detail VARCHAR, remediation VARCHAR,
        snippet VARCHAR, waiver_reason VARCHAR""",
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
}

EVENT_TABLES: dict[str, str] = {
    "deployment_events": """
        service VARCHAR, environment VARCHAR, sha VARCHAR, deployed_at TIMESTAMPTZ,
        status VARCHAR, source VARCHAR, ingested_at TIMESTAMPTZ""",
    "incident_events": """
        service VARCHAR, opened_at TIMESTAMPTZ, resolved_at TIMESTAMPTZ,
        root_cause_sha VARCHAR, source VARCHAR, ingested_at TIMESTAMPTZ""",
    "meta": "key VARCHAR PRIMARY KEY, value VARCHAR",
}


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    for name, cols in {**SNAPSHOT_TABLES, **EVENT_TABLES}.items():
        # Identifiers come from the fixed dicts above, not from input.
        con.execute(f"CREATE TABLE IF NOT EXISTS {name} ({cols})")
        # A warehouse written by an older release lacks the columns added since:
        # add them (NULL in old snapshots) instead of failing every later write.
        have = {r[0] for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [name]).fetchall()}
        for column, kind in _column_types(cols):
            if column not in have:
                con.execute(f"ALTER TABLE {name} ADD COLUMN {column} {kind}")
    con.execute(
        "INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [str(SCHEMA_VERSION)],
    )


@contextmanager
def connect(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived read-write connection to the warehouse (created if missing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        ensure_schema(con)
        yield con
    finally:
        con.close()


def columns(table: str) -> list[str]:
    spec = SNAPSHOT_TABLES.get(table) or EVENT_TABLES[table]
    return [name for name, _ in _column_types(spec)]


def _column_types(spec: str) -> list[tuple[str, str]]:
    parts = [part.split(maxsplit=1) for part in " ".join(spec.split()).split(", ")]
    return [(name, kind.removesuffix(" PRIMARY KEY")) for name, kind in parts]


def replace_snapshot(con: duckdb.DuckDBPyConnection, table: str, snapshot: dt.date, df: pd.DataFrame) -> int:
    """Replace the rows of one snapshot in one table; returns rows written."""
    if table not in SNAPSHOT_TABLES:
        raise ValueError(f"not a snapshot table: {table}")
    cols = columns(table)
    if df.empty and not len(df.columns):
        # A frame built from no rows has no columns either (zero services): nothing to write.
        df = pd.DataFrame(columns=[c for c in cols if c != "snapshot"])
    frame = df.copy()
    frame["snapshot"] = snapshot
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise ValueError(f"{table}: missing columns {missing}")
    frame = _redacted(frame[cols])
    # `table` was checked against SNAPSHOT_TABLES above: an identifier from a
    # fixed list (identifiers cannot be bound parameters); the value is bound.
    con.execute(f"DELETE FROM {table} WHERE snapshot = ?", [snapshot])
    if len(frame):
        con.register("_frame", frame)
        try:
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _frame")
        finally:
            con.unregister("_frame")
    return len(frame)


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


def publish(warehouse: Path, serving: Path) -> Path:
    """Copy the complete snapshots into a new file and atomically swap it in.

    The temp file sits next to the target so ``os.replace`` is a rename on
    one filesystem. A crash before the rename leaves the previous snapshot
    published and at worst a stale ``.new`` file, which the next publish
    overwrites.
    """
    serving.parent.mkdir(parents=True, exist_ok=True)
    tmp = serving.with_name(serving.name + ".new")
    for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
        leftover.unlink(missing_ok=True)
    # The new file is the main database (read-write); the warehouse is
    # attached read-only so a publish never takes the writer's lock for long.
    con = duckdb.connect(str(tmp))
    try:
        con.execute("ATTACH ? AS wh (READ_ONLY)", [str(warehouse)])
        for name, cols in {**SNAPSHOT_TABLES, **EVENT_TABLES}.items():
            con.execute(f"CREATE TABLE {name} ({cols})")
        complete = "SELECT snapshot FROM wh.runs WHERE status = 'complete'"
        for name in SNAPSHOT_TABLES:
            con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM wh.{name} WHERE snapshot IN ({complete})")
        for name in EVENT_TABLES:
            con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM wh.{name}")
        set_meta(con, "published_at", dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
        con.execute("DETACH wh")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    os.replace(tmp, serving)
    return serving


@contextmanager
def read_only(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived read-only connection (what the dashboard and CLI readers use)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        yield con
    finally:
        con.close()
