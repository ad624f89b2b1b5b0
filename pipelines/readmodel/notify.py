"""What notifications need beyond the other pages' queries: who owns a service, what fixes a result."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from pipelines.readmodel.base import frame


def service_teams(path: str, snapshot: dt.date) -> dict[str, str | None]:
    """Each service's team at ``snapshot`` (waivers name a service; the alert goes to its team)."""
    found = frame(path, "SELECT service, team FROM services WHERE snapshot = $snapshot", snapshot=snapshot)
    return {s: (t if isinstance(t, str) else None) for s, t in found.itertuples(index=False, name=None)}


def fixes(path: str, snapshot: dt.date) -> pd.DataFrame:
    """Title, service-specific remediation and doc link of every result that does not pass at ``snapshot``."""
    return frame(
        path,
        """SELECT r.service, r.check_id, c.title, r.remediation, c.doc_url
           FROM check_results r
           LEFT JOIN checks c ON c.snapshot = r.snapshot AND c.check_id = r.check_id
           WHERE r.snapshot = $snapshot AND r.status NOT IN ('pass', 'not_applicable')""",
        snapshot=snapshot,
    )
