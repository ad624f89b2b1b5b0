"""Compare snapshots: who moved level, which results flipped.

Two snapshots (``before`` and ``after`` dates), or one stored preview
(``preview``: a name from `preview_runs`): the snapshot it was made from as
scored by the current rules, against the same evidence under the previewed
rules (`pipelines/preview.py`). The comparison is the same SQL either way;
only where each side's rows come from differs. `scorecard preview` reads its
report through these functions too, so the CLI and the Compare page agree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from pipelines.readmodel.base import frame, row


def _side(table: str, side: str, preview: str | None) -> str:
    """The rows of one side of the comparison: a fixed SQL fragment (identifiers from this module only)."""
    if preview is None:
        return f"(SELECT * FROM {table} WHERE snapshot = ${side})"
    kind = "current" if side == "before" else "preview"
    return f"(SELECT * FROM preview_{table} WHERE preview = $preview AND side = '{kind}')"


def _params(preview: str | None, before: dt.date | None, after: dt.date | None, **rest: Any) -> dict[str, Any]:
    return {**rest, "preview": preview} if preview is not None else {**rest, "before": before, "after": after}


def compare_summary(path: str, scorecard: str, before: dt.date | None, after: dt.date | None, team: str | None,
                    preview: str | None = None) -> dict[str, Any]:
    a, b = _side("service_scores", "before", preview), _side("service_scores", "after", preview)
    return row(
        path,
        f"""WITH a AS (SELECT * FROM {a} WHERE scorecard = $scorecard AND ($team::VARCHAR IS NULL OR team = $team)),
                b AS (SELECT * FROM {b} WHERE scorecard = $scorecard AND ($team::VARCHAR IS NULL OR team = $team))
           SELECT (SELECT count(*) FROM a) AS services_before,
                  (SELECT count(*) FROM b) AS services_after,
                  (SELECT avg(score_pct) FROM a) AS mean_score_before,
                  (SELECT avg(score_pct) FROM b) AS mean_score_after,
                  (SELECT count(*) FROM a JOIN b USING (service) WHERE b.level_rank > a.level_rank) AS moved_up,
                  (SELECT count(*) FROM a JOIN b USING (service) WHERE b.level_rank < a.level_rank) AS moved_down""",
        **_params(preview, before, after, scorecard=scorecard, team=team),
    )


def level_moves(path: str, scorecard: str, before: dt.date | None, after: dt.date | None, team: str | None,
                preview: str | None = None) -> pd.DataFrame:
    """Services whose level changed between two snapshots (and ones that appeared or left)."""
    a, b = _side("service_scores", "before", preview), _side("service_scores", "after", preview)
    x, y = _side("scorecard_results", "before", preview), _side("scorecard_results", "after", preview)
    cy = _side("check_results", "after", preview)
    return frame(
        path,
        f"""WITH a AS (SELECT * FROM {a} WHERE scorecard = $scorecard),
                b AS (SELECT * FROM {b} WHERE scorecard = $scorecard)
           SELECT coalesce(b.service, a.service) AS service, coalesce(b.team, a.team) AS team,
                  CASE WHEN a.service IS NULL THEN 'new'
                       WHEN b.service IS NULL THEN 'gone'
                       WHEN b.level_rank > a.level_rank THEN 'up' ELSE 'down' END AS movement,
                  coalesce(a.level, 'none') AS level_before, coalesce(b.level, 'none') AS level_after,
                  a.score_pct AS score_before, b.score_pct AS score_after,
                  -- a move down that an expiring waiver explains is not the service regressing
                  EXISTS (SELECT 1 FROM {x} x
                          JOIN {y} y USING (scorecard, service, check_id)
                          JOIN {cy} cy ON cy.service = y.service AND cy.check_id = y.check_id
                          WHERE x.scorecard = $scorecard
                            AND x.service = b.service AND x.status = 'waived' AND NOT y.counts_as_pass
                            AND cy.waiver_expires IS NOT NULL) AS waiver_expired
           FROM a FULL JOIN b ON a.service = b.service
           WHERE a.level_rank IS DISTINCT FROM b.level_rank
             AND ($team::VARCHAR IS NULL OR coalesce(b.team, a.team) = $team)
           ORDER BY CASE movement WHEN 'down' THEN 0 WHEN 'up' THEN 1 WHEN 'new' THEN 2 ELSE 3 END,
                    team, service""",
        **_params(preview, before, after, scorecard=scorecard, team=team),
    )


def check_changes(
    path: str, scorecard: str, before: dt.date | None, after: dt.date | None, team: str | None,
    category: str | None, preview: str | None = None,
) -> pd.DataFrame:
    """Results that started or stopped counting as passing in the scorecard between two snapshots.

    ``change`` is improved, regressed, or "waiver expired": a waived result whose waiver ran
    out in between, which is the exception ending rather than the service getting worse.
    """
    a, b = _side("scorecard_results", "before", preview), _side("scorecard_results", "after", preview)
    detail = _side("check_results", "after", preview)
    return frame(
        path,
        f"""SELECT b.service, b.team, b.check_id, b.category,
                  CASE WHEN a.status = 'waived' AND NOT b.counts_as_pass AND cr.waiver_expires IS NOT NULL
                            -- the waiver still names the result but no longer applies (pipelines/scoring.py
                            -- apply_waivers): it expired; the service did not change
                            THEN 'waiver expired'
                       WHEN a.counts_as_pass THEN 'regressed' ELSE 'improved' END AS change,
                  a.status AS status_before, b.status AS status_after, cr.detail
           FROM {a} a
           JOIN {b} b
             ON b.service = a.service AND b.check_id = a.check_id AND b.scorecard = a.scorecard
           JOIN {detail} cr ON cr.service = b.service AND cr.check_id = b.check_id
           WHERE a.scorecard = $scorecard
             AND a.applicable AND b.applicable AND a.counts_as_pass <> b.counts_as_pass
             AND ($team::VARCHAR IS NULL OR b.team = $team)
             AND ($category::VARCHAR IS NULL OR b.category = $category)
           ORDER BY change DESC, b.check_id, b.team, b.service""",
        **_params(preview, before, after, scorecard=scorecard, team=team, category=category),
    )


def previews(path: str) -> pd.DataFrame:
    """The previews published with the snapshot, newest first (none in a file published before previews existed)."""
    have = frame(path, "SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'preview_runs'")
    if not int(have["n"].iloc[0]):
        return pd.DataFrame(columns=["preview", "snapshot", "created_at", "config_file", "against", "digest_before",
                                     "digest_after", "rule_changes"])
    return frame(path, """SELECT preview, snapshot, created_at, config_file, against, digest_before, digest_after,
                                 rule_changes
                          FROM preview_runs ORDER BY created_at DESC, preview""")
