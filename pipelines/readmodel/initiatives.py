"""The Initiatives page and `scorecard initiatives`: progress, burn-down, what is left, expiring waivers.

Reads the programme's tables the pipeline published (pipelines/programme.py);
what counts as done was decided there from the published `counts_as_pass`.
A file published before the programme existed has none of them: every
function then answers empty, so the page says so instead of failing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from pipelines.readmodel.base import frame, rows

_PROGRAMME_TABLES = ("initiatives", "initiative_services", "initiative_remaining", "initiative_progress", "waivers")


def has_programme(path: str) -> bool:
    found = rows(
        path,
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' AND list_contains($names, table_name)",
        names=list(_PROGRAMME_TABLES),
    )
    return found[0][0] == len(_PROGRAMME_TABLES)


def initiative_summary(path: str, snapshot: dt.date) -> pd.DataFrame:
    """Per initiative: its definition and, at ``snapshot``, services done / remaining / overdue."""
    if not has_programme(path):
        return pd.DataFrame(columns=["initiative", "owner", "description", "scorecard", "goal", "scope", "start",
                                     "deadline", "days_left", "services", "services_done", "services_remaining",
                                     "services_overdue", "items", "items_done", "items_remaining", "done_share"])
    out = frame(
        path,
        """SELECT d.initiative, d.owner, d.description, d.scorecard,
                  CASE d.goal_kind WHEN 'level' THEN 'level ' || d.goal_level || ' of ' || d.scorecard
                       ELSE d.goal_checks END AS goal,
                  d.scope, d.start, d.deadline, (d.deadline - $snapshot::DATE)::INTEGER AS days_left,
                  coalesce(p.services, 0) AS services, coalesce(p.services_done, 0) AS services_done,
                  coalesce(p.services_remaining, 0) AS services_remaining,
                  coalesce(p.services_overdue, 0) AS services_overdue,
                  coalesce(p.items, 0) AS items, coalesce(p.items_done, 0) AS items_done,
                  coalesce(p.items_remaining, 0) AS items_remaining, p.done_share
           FROM initiatives d
           LEFT JOIN initiative_progress p
                  ON p.initiative = d.initiative AND p.team = '*' AND p.snapshot = $snapshot
           ORDER BY d.deadline, d.initiative""",
        snapshot=snapshot,
    )
    for column in ("start", "deadline"):  # calendar days, not midnights
        out[column] = [d.date() for d in pd.to_datetime(out[column])]
    return out


def initiative_burndown(path: str, initiative: str) -> pd.DataFrame:
    """Per snapshot date: services and items remaining and done, across every team in scope."""
    return frame(
        path,
        """SELECT snapshot, services, services_done, services_remaining, services_overdue,
                  items_done, items_remaining, done_share
           FROM initiative_progress WHERE initiative = $initiative AND team = '*' ORDER BY snapshot""",
        initiative=initiative,
    )


def initiative_teams(path: str, snapshot: dt.date, initiative: str) -> pd.DataFrame:
    """Teams in scope, most remaining (then overdue) first."""
    return frame(
        path,
        """SELECT team, services, services_done, services_remaining, services_overdue, items_remaining, done_share
           FROM initiative_progress
           WHERE initiative = $initiative AND snapshot = $snapshot AND team <> '*'
           ORDER BY services_overdue DESC, services_remaining DESC, items_remaining DESC, team""",
        initiative=initiative, snapshot=snapshot,
    )


def initiative_work(path: str, snapshot: dt.date, initiative: str, team: str | None = None) -> pd.DataFrame:
    """What is left, one row per service and check, with the service-specific remediation."""
    return frame(
        path,
        """SELECT r.service, r.team, r.check_id, c.title, r.status, r.overdue, cr.detail, cr.remediation
           FROM initiative_remaining r
           JOIN check_results cr USING (snapshot, service, check_id)
           LEFT JOIN checks c ON c.snapshot = r.snapshot AND c.check_id = r.check_id
           WHERE r.initiative = $initiative AND r.snapshot = $snapshot
             AND ($team::VARCHAR IS NULL OR r.team = $team)
           ORDER BY r.overdue DESC, r.team, r.service, r.check_id""",
        initiative=initiative, snapshot=snapshot, team=team,
    )


def expiring_waivers(path: str, today: dt.date, days: int) -> pd.DataFrame:
    """Waivers (as configured when this file was published) ending within ``days`` of ``today``,
    and ones already expired: soonest first."""
    if not has_programme(path):
        return pd.DataFrame(columns=["service", "check_id", "expires", "days_left", "approver", "created", "reason"])
    return frame(
        path,
        """SELECT service, check_id, expires, (expires - $today::DATE)::INTEGER AS days_left, approver, created, reason
           FROM waivers WHERE expires <= $today::DATE + $days::INTEGER
           ORDER BY expires, service, check_id""",
        today=today, days=days,
    )


def initiatives_report(path: str, snapshot: dt.date) -> list[dict[str, Any]]:
    """`scorecard initiatives`: every initiative with its progress, teams and what is left."""
    out = []
    summary = initiative_summary(path, snapshot)
    for ini in summary.astype(object).where(summary.notna(), None).to_dict("records"):
        teams = initiative_teams(path, snapshot, ini["initiative"])
        work = initiative_work(path, snapshot, ini["initiative"])
        out.append({
            **{k: v.isoformat() if isinstance(v, dt.date) else v for k, v in ini.items()},
            "snapshot": snapshot.isoformat(),
            "overdue": bool(ini["services_overdue"]),
            "teams": teams.astype(object).where(teams.notna(), None).to_dict("records"),
            "remaining": work.astype(object).where(work.notna(), None).to_dict("records"),
        })
    return out
