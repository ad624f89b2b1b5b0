"""The Service page and `scorecard explain`: one service's level, results and what to fix first."""

from __future__ import annotations

import datetime as dt
import difflib
from typing import Any

import pandas as pd

from pipelines.readmodel.base import frame, row, rows

_DORA_COLUMNS = [
    "deployments_30d", "lead_time_p50_hours", "lead_time_p90_hours", "deploy_days_per_week", "change_failure_rate",
    "time_to_restore_hours", "lead_time_tier", "deploy_frequency_tier", "change_failure_tier", "restore_tier",
]  # fmt: skip


class ServiceNotFound(LookupError):
    """The service (or scorecard) is not in the snapshot; the message suggests close names."""


def service_names(path: str, snapshot: dt.date, team: str | None) -> list[str]:
    df = frame(
        path,
        """SELECT service FROM services
           WHERE snapshot = $snapshot AND ($team::VARCHAR IS NULL OR team = $team) ORDER BY service""",
        snapshot=snapshot, team=team,
    )
    return df["service"].tolist()


def service_profile(path: str, snapshot: dt.date, scorecard: str, service: str) -> dict[str, Any] | None:
    return row(
        path,
        """SELECT sv.service, sv.team, sv.repo, sv.path, sv.identity_rule, sv.identity_detail, sv.owner_source,
                  sv.codeowners, sv.lifecycle, sv.system, sv.type, sv.repo_error,
                  coalesce(ss.level, 'none') AS level, ss.level_rank, ss.score_pct, ss.passed, ss.applicable,
                  ss.failing, ss.unknown, ss.next_level, ss.checks_to_next_level
           FROM services sv
           LEFT JOIN service_scores ss
                  ON ss.snapshot = sv.snapshot AND ss.service = sv.service AND ss.scorecard = $scorecard
           WHERE sv.snapshot = $snapshot AND sv.service = $service""",
        snapshot=snapshot, scorecard=scorecard, service=service,
    )


def service_trend(path: str, scorecard: str, service: str) -> pd.DataFrame:
    return frame(
        path,
        """SELECT snapshot, coalesce(level, 'none') AS level, level_rank, score_pct
           FROM service_scores WHERE scorecard = $scorecard AND service = $service ORDER BY snapshot""",
        scorecard=scorecard, service=service,
    )


# Order of a service's results: what blocks its next level, then what blocks a
# higher one, then checks outside this scorecard (informational: no level, no
# meaning of their own here), then advisory warnings that count as passing,
# then the rest; lower levels and heavier weights first.
_SERVICE_CHECKS = """
SELECT r.check_id, c.title, r.category, r.status, r.detail, r.remediation, r.snippet, r.waiver_reason,
       c.rationale, c.doc_url, sr.level, sr.level_rank, sr.weight,
       sr.counts_as_pass, sr.applicable, coalesce(sr.blocks_next_level, false) AS blocks_next_level,
       CASE WHEN sr.blocks_next_level THEN 0
            WHEN sr.applicable AND NOT sr.counts_as_pass THEN 1
            WHEN sr.check_id IS NULL AND r.status_group NOT IN ('passing', 'skipped') THEN 2
            WHEN sr.check_id IS NULL THEN 4
            WHEN r.status = 'warn' THEN 3
            ELSE 4 END AS unlock
FROM check_results r
LEFT JOIN checks c ON c.snapshot = r.snapshot AND c.check_id = r.check_id
LEFT JOIN scorecard_results sr
       ON sr.snapshot = r.snapshot AND sr.service = r.service AND sr.check_id = r.check_id AND sr.scorecard = $scorecard
WHERE r.snapshot = $snapshot AND r.service = $service
ORDER BY unlock, sr.level_rank NULLS LAST, sr.weight DESC NULLS LAST, r.check_id
"""


def service_checks(path: str, snapshot: dt.date, scorecard: str, service: str) -> pd.DataFrame:
    """Every result of the service with its published meaning, in the order that unlocks the next level.

    ``unlock`` is 0 for a check blocking the next level, 1 for one blocking a
    higher level, 2 for a check outside the scorecard that does not pass
    (by the default policy), 3 for an advisory warning that counts as
    passing, 4 for the rest.
    """
    return frame(path, _SERVICE_CHECKS, snapshot=snapshot, scorecard=scorecard, service=service)


def service_dora(path: str, snapshot: dt.date, service: str) -> dict[str, Any] | None:
    return row(path, f"SELECT {', '.join(_DORA_COLUMNS)} FROM dora WHERE snapshot = $snapshot AND service = $service",
               snapshot=snapshot, service=service)


def service_report(path: str, service: str, scorecard: str, snapshot: dt.date) -> dict[str, Any]:
    """Everything `scorecard explain` prints, as data (its --format json)."""
    profile = row(
        path,
        """SELECT s.service, s.team, s.repo, s.path, s.identity_rule, s.owner_source, s.repo_error, s.identity_detail,
                  sc.level, sc.level_rank, sc.score_pct, sc.next_level, sc.checks_to_next_level
           FROM services s JOIN service_scores sc USING (snapshot, service)
           WHERE s.snapshot = $snapshot AND s.service = $service AND sc.scorecard = $scorecard""",
        snapshot=snapshot, service=service, scorecard=scorecard,
    )
    if profile is None:
        raise ServiceNotFound(_not_found(path, service, scorecard, snapshot))
    checks = frame(
        path,
        """SELECT r.check_id, c.title, r.category, r.level, r.level_rank, r.weight, r.status, cr.detail,
                  cr.remediation, cr.snippet, c.doc_url, cr.waiver_reason, r.counts_as_pass, r.applicable,
                  r.blocks_next_level
           FROM scorecard_results r
           JOIN check_results cr USING (snapshot, service, check_id)
           JOIN checks c ON c.snapshot = r.snapshot AND c.check_id = r.check_id
           WHERE r.snapshot = $snapshot AND r.service = $service AND r.scorecard = $scorecard""",
        snapshot=snapshot, service=service, scorecard=scorecard,
    )
    # A column that is NULL in every row comes back as float NaN; the report (and its JSON) says null.
    checks = checks.astype(object).where(checks.notna(), None)
    items = []
    for c in checks.itertuples(index=False):
        blocks = bool(c.applicable and not c.counts_as_pass)
        items.append({
            "id": c.check_id, "title": c.title, "category": c.category, "level": c.level, "weight": int(c.weight),
            "status": c.status, "detail": c.detail, "remediation": c.remediation, "snippet": c.snippet,
            "doc_url": c.doc_url, "waiver": c.waiver_reason, "counts_as_pass": bool(c.counts_as_pass),
            "blocks_a_level": blocks, "unlocks_next_level": bool(c.blocks_next_level),
            "_order": (0 if blocks else (1 if c.status == "warn" else 2), int(c.level_rank), -int(c.weight), c.check_id),
        })
    # What stands between the service and its next level first, then higher levels,
    # then advisory findings; heavier checks first.
    items.sort(key=lambda i: i.pop("_order"))
    return {
        "service": profile["service"], "team": profile["team"], "repo": profile["repo"], "path": profile["path"] or "",
        "identity_rule": profile["identity_rule"], "identity_detail": profile["identity_detail"],
        "owner_source": profile["owner_source"], "repo_error": profile["repo_error"],
        "snapshot": snapshot.isoformat(), "scorecard": scorecard, "level": profile["level"],
        "score": profile["score_pct"], "next_level": profile["next_level"],
        "checks_to_next_level": profile["checks_to_next_level"],
        "dora": service_dora(path, snapshot, service),
        "checks": items,
    }


def _not_found(path: str, service: str, scorecard: str, snapshot: dt.date) -> str:
    names = [r[0] for r in rows(path, "SELECT service FROM services WHERE snapshot = $s", s=snapshot)]
    cards = [r[0] for r in rows(path, "SELECT DISTINCT scorecard FROM service_scores WHERE snapshot = $s", s=snapshot)]
    if service in names and scorecard not in cards:
        return f"unknown scorecard {scorecard!r}; scorecards: {', '.join(sorted(cards))}"
    close = difflib.get_close_matches(service, names, n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else f" ({len(names)} services in the snapshot of {snapshot})"
    return f"no service named {service!r}{hint}"
