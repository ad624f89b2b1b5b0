"""The demo organisation's requests to the platform team, as a Jira search export (docs/jira.md).

The story the Adoption page tells: a team whose services adopt the service
template (the golden path that creates repositories, databases and DNS
records) stops filing tickets for them. Each team's self-service-kind
requests per day follow the share of its services *not* yet on the
template, read from the demo plan's own adoption timeline before the
repositories are built; the other requests (access, questions, incident
help) stay flat. Read through ``sources.jira[].issues_file``.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

from pipelines.demo.org import OrgPlan

PROJECT = "PLAT"
ISSUES_FILE = "events/jira-issues.json"
SELF_SERVICE_TYPES = ("New repository", "New database", "DNS record")
OTHER_TYPES = ("Access request", "Question", "Incident support")
SELF_SERVICE_PER_SERVICE_WEEK = 2.0  # tickets a service off the template files per week
OTHER_PER_TEAM_WEEK = 1.0
NO_TEAM_SHARE = 0.05  # requests nobody labelled with a team

CONFIG = {
    "name": "platform-requests",
    "project": PROJECT,
    "issues_file": ISSUES_FILE,
    "requesting_team": {"label_prefix": "team:"},
    "self_service": {"issue_types": list(SELF_SERVICE_TYPES), "labels": ["dns"]},
}


def template_timeline(plan: OrgPlan) -> dict[str, list[int | None]]:
    """Per team, the day each of its services adopts the service template (0: from the start, None: never).

    Call before the repositories are built: building applies the changes to the plan.
    """
    out: dict[str, list[int | None]] = {}
    for repo in plan.repos:
        if repo.role not in ("service", "monorepo"):
            continue
        day: int | None = 0 if repo.settings.template else None
        for change in sorted(repo.changes, key=lambda c: c.day):
            if day is None and change.changes.get("repo.template"):
                day = change.day
        for comp in repo.components:
            if comp.type == "service":
                out.setdefault(comp.team, []).append(day)
    return out


def _stamp(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def requests(timeline: dict[str, list[int | None]], start: dt.datetime, days: int, seed: int) -> list[dict]:
    """Issues in the search API's shape, created over ``days`` from ``start``, resolved when their time came."""
    rng = random.Random(f"{seed}/jira")
    end = start + dt.timedelta(days=days)
    issues: list[dict] = []
    for team in sorted(timeline):
        adopted = timeline[team]
        for day in range(days):
            off_path = sum(1 for d in adopted if d is None or d > day)
            for kind, rate in (("self", SELF_SERVICE_PER_SERVICE_WEEK * off_path), ("other", OTHER_PER_TEAM_WEEK)):
                # A Bernoulli draw per quarter day approximates a Poisson rate of `rate` a week.
                for _ in range(4):
                    if rng.random() < rate / 28:
                        created = start + dt.timedelta(days=day, hours=rng.uniform(7, 19))
                        issues.append(_issue(rng, team, kind, created, end))
    issues.sort(key=lambda i: i["fields"]["created"])
    for n, found in enumerate(issues, start=1):
        found["key"] = f"{PROJECT}-{n}"
        found["id"] = str(10000 + n)
    return issues


def _issue(rng: random.Random, team: str, kind: str, created: dt.datetime, end: dt.datetime) -> dict:
    issue_type = rng.choice(SELF_SERVICE_TYPES if kind == "self" else OTHER_TYPES)
    labels = [] if rng.random() < NO_TEAM_SHARE else [f"team:{team}"]
    if issue_type == "DNS record":
        labels.append("dns")
    # Hand-made infrastructure waits for a platform engineer: hours to days.
    hours = rng.lognormvariate(3.2, 0.9) if kind == "self" else rng.lognormvariate(2.5, 1.2)
    resolved = created + dt.timedelta(hours=hours)
    done = resolved < end
    category = "done" if done else rng.choice(["new", "indeterminate"])
    return {
        "fields": {
            "issuetype": {"name": issue_type},
            "labels": sorted(labels),
            "status": {"name": {"done": "Done", "new": "To Do", "indeterminate": "In Progress"}[category],
                       "statusCategory": {"key": category}},
            "created": _stamp(created),
            "updated": _stamp(resolved if done else created),
            "resolutiondate": _stamp(resolved) if done else None,
        },
    }


def write(out_dir: Path, timeline: dict[str, list[int | None]], start: dt.datetime, days: int, seed: int) -> int:
    """Write :data:`ISSUES_FILE` under ``out_dir``; returns how many requests it holds."""
    issues = requests(timeline, start, days, seed)
    path = out_dir / ISSUES_FILE
    path.write_text(json.dumps({"issues": issues, "isLast": True}, indent=1) + "\n", encoding="utf-8")
    return len(issues)
