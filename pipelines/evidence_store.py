"""The evidence of each stored snapshot, kept so rules can be re-applied without a crawl.

`scorecard preview` re-runs the checks and the scoring on the latest
snapshot's evidence under a changed config. Checks are pure functions of
:class:`~checks.evidence.ServiceEvidence` and the check context, so the
evidence list (plus the teams the sources found, which join the config's
known teams) is all a preview needs: nothing is crawled again.

Each run pickles the evidence of every date it stages to
``<warehouse dir>/evidence/<date>.<run id>.pickle``. Which file is a
snapshot's evidence is decided by the warehouse's ``runs`` table: the one of
the run that is ``complete`` for that date. A rejected or killed run's file is
therefore never read. Only the latest complete snapshot's evidence is kept
(a preview reads nothing else): a backfill of past dates stores none, and
:func:`prune` deletes every other file after each promotion.

A file is written only when it holds no registered secret (tokens stay out
of every file the service writes, as they stay out of DuckDB); the pickle
carries a digest of the evidence model's code, so evidence written by another
version of the code is refused with a clear reason rather than half-read.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import pickle
from dataclasses import dataclass
from pathlib import Path

import checks.evidence
import pipelines.facts
from pipelines import secrets, warehouse
from pipelines.sources.local_git import code_digest

DIR_NAME = "evidence"


class EvidenceUnavailable(warehouse.WarehouseError):
    """No usable stored evidence for the snapshot a preview needs; the message says what to run."""


@dataclass(frozen=True)
class StoredEvidence:
    snapshot: dt.date
    run_id: str
    evidence: list  # list[ServiceEvidence]
    known_teams: tuple[str, ...]  # teams the sources found (GitHub org teams), besides the config's


@functools.cache
def model_version() -> str:
    """The version of the classes pickled: the modules that define the evidence and the facts in it."""
    files = [(m.__name__, Path(m.__file__)) for m in (checks.evidence, pipelines.facts)]
    return code_digest(files)


def evidence_dir(warehouse_path: Path) -> Path:
    return warehouse_path.parent / DIR_NAME


def _file(warehouse_path: Path, day: dt.date, run_id: str) -> Path:
    return evidence_dir(warehouse_path) / f"{day.isoformat()}.{run_id}.pickle"


def save(warehouse_path: Path, day: dt.date, run_id: str, evidence: list, known_teams: list[str]) -> Path | None:
    """Store one date's evidence for ``run_id``; returns the file, or None when it held a secret."""
    payload = pickle.dumps(
        {"model": model_version(), "snapshot": day, "run_id": run_id, "evidence": evidence,
         "known_teams": tuple(sorted(known_teams))},
        protocol=pickle.HIGHEST_PROTOCOL,
    )
    pattern = secrets.SECRETS.pattern()
    # latin-1 maps every byte to one character, so a token pickled as UTF-8 text is found as itself.
    if pattern is not None and pattern.search(payload.decode("latin-1")):
        return None
    file = _file(warehouse_path, day, run_id)
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_suffix(".tmp")
    # Owner-only: evidence holds repository contents, like the crawl cache next to it.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(payload)
    os.replace(tmp, file)
    return file


def save_newest(warehouse_path: Path, con, run_id: str, by_date: dict[dt.date, tuple[list, list[str]]]) -> Path | None:
    """Store the evidence of the newest date of a run, if no complete snapshot is newer.

    Previews read the latest snapshot only, so a backfill of past dates stores
    nothing, and a run of today stores one file, not one per date it computes.
    """
    if not by_date:
        return None
    newest = max(by_date)
    latest = latest_complete(con)
    if latest is not None and latest[0] > newest:
        return None
    evidence, teams = by_date[newest]
    return save(warehouse_path, newest, run_id, evidence, teams)


def prune(warehouse_path: Path, latest: tuple[dt.date, str] | None) -> None:
    """Keep only the evidence of ``latest`` (:func:`latest_complete` after a promotion changed which it is)."""
    keep = _file(warehouse_path, *latest).name if latest else None
    for file in evidence_dir(warehouse_path).glob("*.pickle"):
        if file.name != keep:
            file.unlink(missing_ok=True)


def latest_complete(con) -> tuple[dt.date, str] | None:
    """(snapshot, run id) of the newest complete snapshot in the warehouse ``con`` reads."""
    return con.execute(
        "SELECT snapshot, run_id FROM runs WHERE status = 'complete' ORDER BY snapshot DESC, finished_at DESC LIMIT 1"
    ).fetchone()


def load(warehouse_path: Path, day: dt.date, run_id: str) -> StoredEvidence:
    """The evidence ``run_id`` stored for ``day``, or :class:`EvidenceUnavailable` saying why not."""
    file = _file(warehouse_path, day, run_id)
    rerun = "run `scorecard run` once (it stores the evidence previews re-evaluate) and preview again"
    if not file.is_file():
        raise EvidenceUnavailable(f"no stored evidence for snapshot {day} (run {run_id}) in {file.parent}; {rerun}")
    try:
        with file.open("rb") as fh:
            data = pickle.load(fh)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the same operator problem
        raise EvidenceUnavailable(f"{file} cannot be read ({type(exc).__name__}); {rerun}") from None
    if not isinstance(data, dict) or data.get("model") != model_version():
        raise EvidenceUnavailable(
            f"the evidence stored for snapshot {day} was written by another version of the evidence model; {rerun}")
    return StoredEvidence(data["snapshot"], data["run_id"], data["evidence"], tuple(data["known_teams"]))
