"""The Checks page: the catalogue with pass rates, and who fails a check."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from pipelines.readmodel.base import frame


def check_pass_rates(
    path: str, scorecard: str, team: str | None, category: str | None, snapshot: dt.date | None = None
) -> pd.DataFrame:
    """Pass rate per check (and snapshot), with the check's level in the scorecard, as published
    (team ``'*'`` is the organisation)."""
    return frame(
        path,
        """WITH rates AS (
               SELECT snapshot, check_id, passing, failing, unknown, applicable, pass_rate
               FROM check_pass_rates
               WHERE scorecard = $scorecard AND team = coalesce($team::VARCHAR, '*')
                 AND ($snapshot::DATE IS NULL OR snapshot = $snapshot)
           )
           SELECT r.snapshot, r.check_id, c.title, c.category, sc.level, sc.level_rank, sc.weight,
                  r.passing, r.failing, r.unknown, r.applicable, r.pass_rate
           FROM rates r
           LEFT JOIN checks c ON c.snapshot = r.snapshot AND c.check_id = r.check_id
           LEFT JOIN scorecard_checks sc
                  ON sc.snapshot = r.snapshot AND sc.check_id = r.check_id AND sc.scorecard = $scorecard
           WHERE ($category::VARCHAR IS NULL OR c.category = $category)
           ORDER BY r.snapshot, r.failing DESC, r.check_id""",
        scorecard=scorecard, team=team, category=category, snapshot=snapshot,
    )


def check_catalogue(path: str, snapshot: dt.date, scorecard: str) -> pd.DataFrame:
    return frame(
        path,
        """SELECT c.check_id, c.title, c.category, coalesce(sc.level, c.level) AS level,
                  sc.level_rank, coalesce(sc.weight, c.weight) AS weight, sc.check_id IS NOT NULL AS in_scorecard,
                  c.rationale, c.remediation, c.doc_url
           FROM checks c
           LEFT JOIN scorecard_checks sc
                  ON sc.snapshot = c.snapshot AND sc.check_id = c.check_id AND sc.scorecard = $scorecard
           WHERE c.snapshot = $snapshot
           ORDER BY sc.level_rank NULLS LAST, c.category, c.check_id""",
        snapshot=snapshot, scorecard=scorecard,
    )


def failing_services(path: str, snapshot: dt.date, scorecard: str, check_id: str, team: str | None) -> pd.DataFrame:
    """Services for which this check does not count as passing in the scorecard, worst first."""
    return frame(
        path,
        """SELECT r.service, r.team, r.status, cr.detail, coalesce(ss.level, 'none') AS level, ss.score_pct
           FROM scorecard_results r
           JOIN check_results cr USING (snapshot, service, check_id)
           LEFT JOIN service_scores ss USING (snapshot, scorecard, service)
           WHERE r.snapshot = $snapshot AND r.scorecard = $scorecard AND r.check_id = $check_id
             AND r.applicable AND NOT r.counts_as_pass
             AND ($team::VARCHAR IS NULL OR r.team = $team)
           ORDER BY CASE r.status_group WHEN 'failing' THEN 0 ELSE 1 END, r.team, r.service""",
        snapshot=snapshot, scorecard=scorecard, check_id=check_id, team=team,
    )
