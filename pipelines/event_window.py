"""The deploy and incident events one snapshot's delivery metrics read.

Events come from the configured JSON-lines files and from what `scorecard
ingest` stored in the warehouse; with an as-of date only the trailing window
the metrics use is kept (plus each service's last production deploy before
it), so memory stays bounded however many events accumulate.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path


from pipelines import delivery as dlv
from pipelines import warehouse
from pipelines.config import ScorecardConfig
from pipelines.frames import source_status_row
from pipelines.sources.events import DeploymentEvent, EventFile, IncidentEvent, iter_events


@dataclass
class Events:
    deployments: list[DeploymentEvent] = field(default_factory=list)
    incidents: list[IncidentEvent] = field(default_factory=list)
    status: list[dict] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)


def event_window(as_of: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of the events any metric of the ``as_of`` snapshot reads (DESIGN "Metric definitions").

    The longest trailing window wins; on top, each service's last production
    deploy before ``start`` is kept (see :class:`_Window`).
    """
    end = dlv.window_end(as_of)
    days = max(dlv.LEAD_TIME_WINDOW_DAYS, dlv.FREQUENCY_WEEKS * 7, dlv.FAILURE_WINDOW_DAYS)
    return end - dt.timedelta(days=days), end


class _Window:
    """Keeps the events a snapshot's metrics read, streaming, in bounded memory.

    In the window: every deployment and incident. Before it: only each
    service's latest successful production deploy, because it is the lower
    bound of the first in-window deploy's change range ``(prev, this]`` and
    the deploy an early incident links to. Everything the metrics would
    ignore anyway (other environments, failed deploys) is dropped here.
    """

    def __init__(self, start: dt.datetime, end: dt.datetime, production: frozenset[str]) -> None:
        self.start, self.end, self.production = start, end, production
        self.deployments: list[DeploymentEvent] = []
        self.before: dict[str, DeploymentEvent] = {}
        self.incidents: list[IncidentEvent] = []

    def add(self, event: DeploymentEvent | IncidentEvent) -> None:
        if isinstance(event, IncidentEvent):
            if self.start <= event.opened_at < self.end:
                self.incidents.append(event)
            return
        if event.status != "success" or event.environment.lower() not in self.production or event.deployed_at >= self.end:
            return
        if event.deployed_at >= self.start:
            self.deployments.append(event)
            return
        last = self.before.get(event.service)
        if last is None or event.deployed_at > last.deployed_at:
            self.before[event.service] = event

    def result(self) -> tuple[list[DeploymentEvent], list[IncidentEvent]]:
        return [*self.before.values(), *self.deployments], self.incidents


_WINDOW_DEPLOYS_SQL = """
WITH prod AS (
    SELECT service, environment, sha, deployed_at, status FROM deployment_events
    WHERE status = 'success' AND list_contains($production, lower(environment)) AND deployed_at < $end
)
SELECT * FROM prod WHERE deployed_at >= $start
UNION ALL
SELECT service, environment, sha, deployed_at, status FROM (
    SELECT *, row_number() OVER (PARTITION BY service ORDER BY deployed_at DESC) AS latest
    FROM prod WHERE deployed_at < $start
) WHERE latest = 1
"""
_WINDOW_INCIDENTS_SQL = """
SELECT service, opened_at, resolved_at, root_cause_sha FROM incident_events
WHERE opened_at >= $start AND opened_at < $end
"""


def ingested_events(
    warehouse_path: Path, start: dt.datetime, end: dt.datetime, production: frozenset[str]
) -> tuple[list[DeploymentEvent], list[IncidentEvent]]:
    """Events pushed in with `scorecard ingest`, only the window's (set-based in DuckDB, see :class:`_Window`)."""
    if not warehouse_path.exists():
        return [], []
    params = {"start": start, "end": end, "production": sorted(production)}
    with warehouse.read_only(warehouse_path, doing="reading ingested events") as con:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if not {"deployment_events", "incident_events"} <= tables:
            return [], []
        # Validated when ingested: construct without validating again (a million events a run adds up).
        deploys = [
            DeploymentEvent.model_construct(service=s, environment=e, sha=sha, deployed_at=at, status=st)
            for s, e, sha, at, st in con.execute(_WINDOW_DEPLOYS_SQL, params).fetchall()
        ]
        incidents = [
            IncidentEvent.model_construct(service=s, opened_at=o, resolved_at=r, root_cause_sha=c)
            for s, o, r, c in con.execute(_WINDOW_INCIDENTS_SQL, {"start": start, "end": end}).fetchall()
        ]
    return deploys, incidents


def load_events(
    config: ScorecardConfig,
    ingested: tuple[list[DeploymentEvent], list[IncidentEvent]] | None = None,
    *,
    warehouse_path: Path | None = None,
    as_of: dt.date | None = None,
) -> Events:
    """Events from the configured files plus those pushed in with `scorecard ingest`.

    With ``as_of``, only the events that snapshot's metrics read are kept
    (see :func:`event_window`), so memory stays bounded however many
    accumulate; a bad line is a problem row and the run goes on.
    """
    out = Events()
    now = dt.datetime.now(dt.UTC)
    production = frozenset(e.lower() for e in config.sources.delivery.production_environments)
    window = _Window(*event_window(as_of), production) if as_of is not None else None
    for kind, paths in (("deployments", config.sources.delivery.deployments), ("incidents", config.sources.delivery.incidents)):
        for path in paths:
            path = config.resolve(path)
            read = EventFile()
            items = 0
            for event in iter_events(path, kind, read):  # type: ignore[arg-type]
                items += 1
                if window is not None:
                    window.add(event)
                else:
                    getattr(out, kind).append(event)
            state = "error" if read.refused else ("partial" if read.problems else "ok")
            out.status.append(source_status_row(kind, path.name, state, "; ".join(read.problems[:3]) or None, now, items))
            out.problems.extend({"source": kind, "target": path.name, "path": path.name, "reason": p} for p in read.problems)
    if window is not None:
        out.deployments, out.incidents = window.result()
        if warehouse_path is not None:
            deploys, incidents = ingested_events(warehouse_path, window.start, window.end, production)
            out.deployments.extend(deploys)
            out.incidents.extend(incidents)
    if ingested:
        out.deployments.extend(ingested[0])
        out.incidents.extend(ingested[1])
    return out
