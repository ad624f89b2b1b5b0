"""`scorecard ingest`: CI systems push deploy and incident events into the warehouse.

Each line is validated (the same reader the crawl uses); rejected lines are
reported with their line number and the good ones are still stored. Events
already present are skipped, so re-sending a file is harmless.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipelines import warehouse
from pipelines.config import ScorecardConfig
from pipelines.sources.events import read_events


# Fixed statements per kind: an event already stored (same key) is skipped.
_INSERT = {
    "deployment_events": """
        INSERT INTO deployment_events SELECT * FROM _incoming i WHERE NOT EXISTS (
            SELECT 1 FROM deployment_events t
            WHERE t.service = i.service AND t.environment = i.environment
              AND t.sha = i.sha AND t.deployed_at = i.deployed_at)""",
    "incident_events": """
        INSERT INTO incident_events SELECT * FROM _incoming i WHERE NOT EXISTS (
            SELECT 1 FROM incident_events t WHERE t.service = i.service AND t.opened_at = i.opened_at)""",
}
_COUNT = {
    "deployment_events": "SELECT count(*) FROM deployment_events",
    "incident_events": "SELECT count(*) FROM incident_events",
}


@dataclass
class IngestReport:
    added: int = 0
    duplicates: int = 0
    problems: list[str] = field(default_factory=list)


def ingest(config: ScorecardConfig, kind: str, file: Path) -> IngestReport:
    read = read_events(file, kind)  # type: ignore[arg-type]
    report = IngestReport(problems=list(read.problems))
    now = dt.datetime.now(dt.UTC)
    source = f"ingest:{file.name}"
    if kind == "deployments":
        table, key = "deployment_events", ["service", "environment", "sha", "deployed_at"]
        frame = pd.DataFrame(
            [{"service": e.service, "environment": e.environment, "sha": e.sha, "deployed_at": e.deployed_at,
              "status": e.status, "source": source, "ingested_at": now} for e in read.deployments],
            columns=warehouse.columns(table),
        )
    else:
        table, key = "incident_events", ["service", "opened_at"]
        frame = pd.DataFrame(
            [{"service": e.service, "opened_at": e.opened_at, "resolved_at": e.resolved_at,
              "root_cause_sha": e.root_cause_sha, "source": source, "ingested_at": now} for e in read.incidents],
            columns=warehouse.columns(table),
        )
    if frame.empty:
        return report
    frame = frame.drop_duplicates(subset=key)
    with warehouse.connect(config.warehouse_path) as con:
        con.register("_incoming", frame)
        before = con.execute(_COUNT[table]).fetchall()[0][0]
        con.execute(_INSERT[table])
        after = con.execute(_COUNT[table]).fetchall()[0][0]
        con.unregister("_incoming")
    report.added = after - before
    report.duplicates = len(frame) - report.added
    return report
