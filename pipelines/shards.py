"""The crawl split into static hash shards, each shard's facts an immutable Parquet file.

An organisation of tens of thousands of repositories is crawled by several
workers at once: Dagster runs one asset per shard (``repo_crawl_shard_K``,
``cluster_crawl_shard_K``) and, under the Celery or Kubernetes executor
(``SCORECARD_EXECUTOR``), runs them on different workers. A repository or
cluster belongs to shard ``sha1(name) mod N``: the same shard in every
process, run and machine, with no coordination and no queue of ours.

Each shard writes what it crawled for one snapshot date to
``<warehouse dir>/facts/<date>/<kind>/shard-K-of-N.parquet``: one row per
repository (or cluster) with its typed status columns, so "which repos
failed, in which shard" is one DuckDB query over every shard, and the crawl
record itself (files, manifests, history) as a pickled ``payload``, since it
is a tree of dataclasses the evidence builder reads whole. A shard's file is
written to a temporary name and renamed, so it is replaced whole or not at
all: re-running one shard replaces that file only, and the layers after it
read every shard again.

The shard count comes from the environment (``SCORECARD_REPO_SHARDS``,
``SCORECARD_CLUSTER_SHARDS``) because it shapes the asset graph, which
Dagster builds before any run's config is known.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import pickle
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from pipelines import secrets

REPO_SHARDS_ENV = "SCORECARD_REPO_SHARDS"
CLUSTER_SHARDS_ENV = "SCORECARD_CLUSTER_SHARDS"
MAX_SHARDS = 256  # a shard is a Dagster asset: the graph stays readable, and 256 workers is plenty
DIR_NAME = "facts"
KEEP_DAYS = 3  # facts not rewritten for this long are removed by `prune`: only a re-run of one shard needs them

# The columns of a shard file. `payload` is the pickled crawl record; the
# rest are typed so shards can be queried together without unpickling.
COLUMNS = ("kind", "name", "status", "error", "crawled_at", "items", "payload")
# kind: "repo" | "cluster" (one row per item) | "shard" (one row: the shard's own status rows and reports)


class ShardError(ValueError):
    """A shard setting or a shard's facts file is not usable; the message says what to do."""


def shard_count(env_name: str, environ: dict[str, str] | None = None) -> int:
    """The number of shards set in ``env_name`` (default 1), validated."""
    raw = (environ if environ is not None else os.environ).get(env_name, "").strip()
    if not raw:
        return 1
    if not re.fullmatch(r"\d+", raw) or not 1 <= int(raw) <= MAX_SHARDS:
        raise ShardError(f"{env_name}={raw!r}: expected a whole number of shards from 1 to {MAX_SHARDS}")
    return int(raw)


def shard_of(name: str, shards: int) -> int:
    """The shard ``name`` belongs to: stable across processes (unlike ``hash()``, which is salted per process)."""
    return int.from_bytes(hashlib.sha1(name.encode("utf-8")).digest()[:8], "big") % shards


@dataclass(frozen=True)
class Shard:
    index: int
    count: int

    def owns(self, name: str) -> bool:
        return shard_of(name, self.count) == self.index

    @property
    def label(self) -> str:
        return f"shard-{self.index:03d}-of-{self.count:03d}"


def facts_dir(warehouse_path: Path) -> Path:
    return warehouse_path.parent / DIR_NAME


def shard_file(warehouse_path: Path, day: dt.date, kind: str, shard: Shard) -> Path:
    return facts_dir(warehouse_path) / day.isoformat() / kind / f"{shard.label}.parquet"


def _pickled(obj: object) -> bytes:
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    pattern = secrets.SECRETS.pattern()
    # latin-1 maps every byte to one character, so a token pickled as UTF-8 text is found as itself.
    if pattern is not None and pattern.search(payload.decode("latin-1")):
        raise ShardError("a crawl record held a configured secret; it was not written (report this as a bug)")
    return payload


def write(path: Path, rows: list[dict]) -> Path:
    """Write one shard's rows (dicts with COLUMNS, ``payload`` an object to pickle) as ``path``, atomically."""
    frame = pd.DataFrame(
        [{**row, "payload": _pickled(row["payload"])} for row in rows], columns=list(COLUMNS)
    ).astype({"kind": "string", "name": "string", "status": "string", "error": "string", "items": "Int64"})
    frame["crawled_at"] = pd.to_datetime(frame["crawled_at"], utc=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    con = duckdb.connect()
    try:
        con.register("shard_rows", frame)
        con.execute(
            "COPY (SELECT kind, name, status, error, crawled_at::TIMESTAMPTZ AS crawled_at, items::INTEGER AS items, "
            "payload::BLOB AS payload FROM shard_rows) TO ? (FORMAT parquet, COMPRESSION zstd)", [str(tmp)]
        )
    finally:
        con.close()
    # Owner-only, like the crawl cache and the stored evidence: the payload holds repository contents.
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def read(paths: list[Path], what: str) -> list[tuple[str, str, object]]:
    """Every row of ``paths`` as (kind, name, unpickled payload), shard by shard, in name order.

    A missing file means its shard did not run for this date: the error names
    it and the asset to materialise.
    """
    missing = [p for p in paths if not p.is_file()]
    if missing:
        names = ", ".join(p.name.removesuffix(".parquet") for p in missing)
        raise ShardError(
            f"{what}: no facts from {names} for {missing[0].parent.parent.name} ({missing[0].parent}); "
            "materialise that shard's asset for this date first (or the whole job)"
        )
    if not paths:
        return []
    con = duckdb.connect()
    try:
        rows = con.execute(
            "SELECT kind, name, payload FROM read_parquet(?, filename = true) ORDER BY filename, kind DESC, name",
            [[str(p) for p in paths]],
        ).fetchall()
    except duckdb.Error as exc:
        raise ShardError(f"{what}: a shard's facts file is unreadable ({exc}); re-run that shard") from exc
    finally:
        con.close()
    return [(kind, name, pickle.loads(payload)) for kind, name, payload in rows]


def status_by_shard(paths: list[Path]) -> pd.DataFrame:
    """Per shard and status, how many items: one query over every shard's file (no unpickling)."""
    con = duckdb.connect()
    try:
        return con.execute(
            "SELECT regexp_extract(filename, 'shard-(\\d+)-of', 1)::INTEGER AS shard, status, count(*) AS items "
            "FROM read_parquet(?, filename = true) WHERE kind <> 'shard' GROUP BY ALL ORDER BY ALL",
            [[str(p) for p in paths]],
        ).df()
    finally:
        con.close()


def prune(warehouse_path: Path, now: dt.datetime | None = None, keep_days: float = KEEP_DAYS) -> int:
    """Remove the facts of dates no shard rewrote in ``keep_days``; returns how many dates went.

    By age of the files, not of the snapshot date: a backfill's facts of a
    date years ago are as useful for re-running one of its shards as today's.
    The scores, not the facts, are the history (they stay in the warehouse).
    """
    root = facts_dir(warehouse_path)
    if not root.is_dir():
        return 0
    cutoff = (now or dt.datetime.now(dt.UTC)).timestamp() - keep_days * 86400
    removed = 0
    for day_dir in root.iterdir():
        if not day_dir.is_dir():
            continue
        files = [f for f in day_dir.rglob("*") if f.is_file()]
        if any(f.stat().st_mtime >= cutoff for f in files):
            continue
        for file in files:
            file.unlink()
        for sub in sorted((d for d in day_dir.rglob("*") if d.is_dir()), key=lambda d: len(d.parts), reverse=True):
            sub.rmdir()
        day_dir.rmdir()
        removed += 1
    return removed
