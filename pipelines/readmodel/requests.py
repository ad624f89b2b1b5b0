"""The Adoption page's request queue: requests to the platform team next to golden-path adoption.

Reads `request_trend` as published (pipelines/platform_requests.py decides
what a week, a self-service request and a resolution time are).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from pipelines.readmodel.base import frame

RECENT_WEEKS = 4  # "now" against "before" in the per-team table: four complete weeks each


def request_trend(path: str, snapshot: dt.date, team: str | None) -> pd.DataFrame:
    """Per week of the snapshot's trend, for one team or the organisation ('*'), from the first week
    anyone filed a request (earlier weeks only predate the data)."""
    return frame(
        path,
        """WITH t AS (SELECT * FROM request_trend WHERE snapshot = $snapshot)
           SELECT week, requests, self_service_requests, requests - self_service_requests AS other_requests,
                  self_service_share, resolved, resolution_p50_hours, resolution_p90_hours
           FROM t
           WHERE team = coalesce($team::VARCHAR, '*')
             AND week >= (SELECT min(week) FROM t WHERE team = '*' AND requests > 0)
           ORDER BY week""",
        snapshot=snapshot, team=team,
    )


def requests_by_team(path: str, snapshot: dt.date) -> pd.DataFrame:
    """Per requesting team: self-service requests in the last four weeks against the four before,
    next to the share of its services on the service template (adoption_summary) in this snapshot."""
    return frame(
        path,
        """WITH t AS (SELECT * FROM request_trend WHERE snapshot = $snapshot AND team <> '*'),
           last AS (SELECT max(week) AS week FROM t),
           w AS (
               SELECT team,
                      sum(requests) FILTER (WHERE t.week > last.week - $span) AS requests_recent,
                      sum(self_service_requests) FILTER (WHERE t.week > last.week - $span) AS self_service_recent,
                      sum(self_service_requests) FILTER (WHERE t.week <= last.week - $span
                                                          AND t.week > last.week - 2 * $span) AS self_service_before,
                      median(resolution_p50_hours) FILTER (WHERE t.week > last.week - $span) AS resolution_p50_hours
               FROM t, last GROUP BY team
           )
           SELECT w.team, w.requests_recent, w.self_service_recent, w.self_service_before,
                  w.self_service_recent / nullif(w.requests_recent, 0) AS self_service_share,
                  a.adoption_share AS template_adoption, w.resolution_p50_hours
           FROM w LEFT JOIN adoption_summary a
             ON a.snapshot = $snapshot AND a.team = w.team AND a.golden_path = 'template'
           WHERE coalesce(w.requests_recent, 0) + coalesce(w.self_service_before, 0) > 0
           ORDER BY w.self_service_recent DESC, w.team""",
        snapshot=snapshot, span=7 * RECENT_WEEKS,
    )
