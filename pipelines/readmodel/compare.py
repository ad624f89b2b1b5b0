"""Compare snapshots: who moved level, which results flipped."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from pipelines.readmodel.base import frame, row


def compare_summary(path: str, scorecard: str, before: dt.date, after: dt.date, team: str | None) -> dict[str, Any]:
    return row(
        path,
        """WITH a AS (SELECT * FROM service_scores WHERE snapshot = $before AND scorecard = $scorecard
                        AND ($team::VARCHAR IS NULL OR team = $team)),
                b AS (SELECT * FROM service_scores WHERE snapshot = $after AND scorecard = $scorecard
                        AND ($team::VARCHAR IS NULL OR team = $team))
           SELECT (SELECT count(*) FROM a) AS services_before,
                  (SELECT count(*) FROM b) AS services_after,
                  (SELECT avg(score_pct) FROM a) AS mean_score_before,
                  (SELECT avg(score_pct) FROM b) AS mean_score_after,
                  (SELECT count(*) FROM a JOIN b USING (service) WHERE b.level_rank > a.level_rank) AS moved_up,
                  (SELECT count(*) FROM a JOIN b USING (service) WHERE b.level_rank < a.level_rank) AS moved_down""",
        scorecard=scorecard, before=before, after=after, team=team,
    )


def level_moves(path: str, scorecard: str, before: dt.date, after: dt.date, team: str | None) -> pd.DataFrame:
    """Services whose level changed between two snapshots (and ones that appeared or left)."""
    return frame(
        path,
        """WITH a AS (SELECT * FROM service_scores WHERE snapshot = $before AND scorecard = $scorecard),
                b AS (SELECT * FROM service_scores WHERE snapshot = $after AND scorecard = $scorecard)
           SELECT coalesce(b.service, a.service) AS service, coalesce(b.team, a.team) AS team,
                  CASE WHEN a.service IS NULL THEN 'new'
                       WHEN b.service IS NULL THEN 'gone'
                       WHEN b.level_rank > a.level_rank THEN 'up' ELSE 'down' END AS movement,
                  coalesce(a.level, 'none') AS level_before, coalesce(b.level, 'none') AS level_after,
                  a.score_pct AS score_before, b.score_pct AS score_after,
                  -- a move down that an expiring waiver explains is not the service regressing
                  EXISTS (SELECT 1 FROM scorecard_results x
                          JOIN scorecard_results y USING (scorecard, service, check_id)
                          JOIN check_results cy ON cy.snapshot = y.snapshot AND cy.service = y.service
                                               AND cy.check_id = y.check_id
                          WHERE x.snapshot = $before AND y.snapshot = $after AND x.scorecard = $scorecard
                            AND x.service = b.service AND x.status = 'waived' AND NOT y.counts_as_pass
                            AND cy.waiver_expires IS NOT NULL) AS waiver_expired
           FROM a FULL JOIN b ON a.service = b.service
           WHERE a.level_rank IS DISTINCT FROM b.level_rank
             AND ($team::VARCHAR IS NULL OR coalesce(b.team, a.team) = $team)
           ORDER BY CASE movement WHEN 'down' THEN 0 WHEN 'up' THEN 1 WHEN 'new' THEN 2 ELSE 3 END,
                    team, service""",
        scorecard=scorecard, before=before, after=after, team=team,
    )


def check_changes(
    path: str, scorecard: str, before: dt.date, after: dt.date, team: str | None, category: str | None
) -> pd.DataFrame:
    """Results that started or stopped counting as passing in the scorecard between two snapshots.

    ``change`` is improved, regressed, or "waiver expired": a waived result whose waiver ran
    out in between, which is the exception ending rather than the service getting worse.
    """
    return frame(
        path,
        """SELECT b.service, b.team, b.check_id, b.category,
                  CASE WHEN a.status = 'waived' AND NOT b.counts_as_pass AND cr.waiver_expires IS NOT NULL
                            -- the waiver still names the result but no longer applies (pipelines/scoring.py
                            -- apply_waivers): it expired; the service did not change
                            THEN 'waiver expired'
                       WHEN a.counts_as_pass THEN 'regressed' ELSE 'improved' END AS change,
                  a.status AS status_before, b.status AS status_after, cr.detail
           FROM scorecard_results a
           JOIN scorecard_results b
             ON b.service = a.service AND b.check_id = a.check_id AND b.scorecard = a.scorecard
           JOIN check_results cr ON cr.snapshot = b.snapshot AND cr.service = b.service AND cr.check_id = b.check_id
           WHERE a.scorecard = $scorecard AND a.snapshot = $before AND b.snapshot = $after
             AND a.applicable AND b.applicable AND a.counts_as_pass <> b.counts_as_pass
             AND ($team::VARCHAR IS NULL OR b.team = $team)
             AND ($category::VARCHAR IS NULL OR b.category = $category)
           ORDER BY change DESC, b.check_id, b.team, b.service""",
        scorecard=scorecard, before=before, after=after, team=team, category=category,
    )
