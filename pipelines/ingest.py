"""`scorecard ingest`: CI systems push deploy and incident events into the warehouse.

Each line is validated (the same reader the crawl uses); rejected lines are
reported with their line number and the good ones are still stored, all in one
transaction. An event is identified by its key (a deployment by service,
environment, sha and time; an incident by service and opening time): sending
it again with new facts (an incident now resolved, a deploy now failed)
updates it, sending the same facts again changes nothing. Within one file the
last line for a key wins. The file is read in chunks, so a million lines need
no more memory than fifty thousand.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipelines import warehouse
from pipelines.config import ScorecardConfig
from pipelines.sources.events import DeploymentEvent, EventFile, IncidentEvent, iter_events

CHUNK_EVENTS = 50_000


@dataclass(frozen=True)
class _Kind:
    table: str
    key: tuple[str, ...]
    facts: tuple[str, ...]  # what a later line may change
    update: str  # fixed statements per kind; identifiers never come from input
    insert: str


_KINDS = {
    "deployments": _Kind(
        "deployment_events", ("service", "environment", "sha", "deployed_at"), ("status",),
        """UPDATE deployment_events t SET status = i.status, source = i.source, ingested_at = i.ingested_at
           FROM _incoming i
           WHERE t.service = i.service AND t.environment = i.environment AND t.sha = i.sha
             AND t.deployed_at = i.deployed_at AND t.status IS DISTINCT FROM i.status""",
        """INSERT INTO deployment_events BY NAME SELECT * FROM _incoming i WHERE NOT EXISTS (
               SELECT 1 FROM deployment_events t
               WHERE t.service = i.service AND t.environment = i.environment
                 AND t.sha = i.sha AND t.deployed_at = i.deployed_at)""",
    ),
    "incidents": _Kind(
        "incident_events", ("service", "opened_at"), ("resolved_at", "root_cause_sha"),
        """UPDATE incident_events t
           SET resolved_at = i.resolved_at, root_cause_sha = i.root_cause_sha, source = i.source,
               ingested_at = i.ingested_at
           FROM _incoming i
           WHERE t.service = i.service AND t.opened_at = i.opened_at
             AND (t.resolved_at IS DISTINCT FROM i.resolved_at OR t.root_cause_sha IS DISTINCT FROM i.root_cause_sha)""",
        """INSERT INTO incident_events BY NAME SELECT * FROM _incoming i WHERE NOT EXISTS (
               SELECT 1 FROM incident_events t WHERE t.service = i.service AND t.opened_at = i.opened_at)""",
    ),
}


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    duplicates: int = 0  # already stored with the same facts
    problems: list[str] = field(default_factory=list)
    refused: str | None = None  # the file as a whole was not read (and why)


def _row(event: DeploymentEvent | IncidentEvent, source: str, now: dt.datetime) -> dict:
    if isinstance(event, DeploymentEvent):
        return {"service": event.service, "environment": event.environment, "sha": event.sha,
                "deployed_at": event.deployed_at.astimezone(dt.UTC), "status": event.status,
                "source": source, "ingested_at": now}
    return {"service": event.service, "opened_at": event.opened_at.astimezone(dt.UTC),
            "resolved_at": event.resolved_at.astimezone(dt.UTC) if event.resolved_at else None,
            "root_cause_sha": event.root_cause_sha, "source": source, "ingested_at": now}


def ingest(config: ScorecardConfig, kind: str, file: Path, chunk: int = CHUNK_EVENTS) -> IngestReport:
    spec = _KINDS[kind]
    read = EventFile()
    events = iter_events(file, kind, read)  # type: ignore[arg-type]
    report = IngestReport()
    now = dt.datetime.now(dt.UTC)
    source = f"ingest:{file.name}"
    columns = warehouse.columns(spec.table)
    first = list(itertools.islice(events, chunk))
    if first:
        path = config.warehouse_path
        with warehouse.connect(path, doing="ingesting events") as con, warehouse.transaction(con, path, "ingesting events"):
            batch = first
            while batch:
                frame = pd.DataFrame([_row(e, source, now) for e in batch], columns=columns)
                # The last line for a key wins, as a later re-send would.
                frame = frame.drop_duplicates(subset=list(spec.key), keep="last")
                report.duplicates += len(batch) - len(frame)
                con.register("_incoming", frame)
                try:
                    updated = con.execute(spec.update).fetchone()[0]
                    added = con.execute(spec.insert).fetchone()[0]
                finally:
                    con.unregister("_incoming")
                report.updated += updated
                report.added += added
                report.duplicates += len(frame) - updated - added
                batch = list(itertools.islice(events, chunk))
    report.problems = list(read.problems)
    report.refused = read.refused
    return report
