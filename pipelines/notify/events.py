"""What is worth telling people, read from the published snapshot only.

Every event is computed by the read model's queries over the file the
dashboard reads (`pipelines/readmodel/`): level moves and result changes
between two snapshots (`compare.py`, which also tells a waiver running out
from a service getting worse), initiative deadlines and expiring waivers
(`initiatives.py`), and the weekly digest's figures (`teams.py`,
`adoption.py`). Nothing here decides a level or a pass again.

An event's ``id`` names the fact, not the run that found it: the same drop
seen by a retried sensor, a re-run or an operator's `scorecard notify` has
the same id, which is what the delivery log deduplicates on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from pipelines import readmodel
from pipelines.config_notify import Notifications
from pipelines.readmodel import notify as notify_queries

MAX_LINES = 25  # per message: a long list is cut with "and N more" (Slack's blocks hold 3000 characters)


@dataclass(frozen=True)
class Event:
    id: str
    kind: str
    team: str | None  # routed by team; None: the default channels
    text: str  # one line
    detail: tuple[str, ...] = ()  # further lines under it


@dataclass(frozen=True)
class Digest:
    """One team's weekly digest: sections of lines, in order."""

    id: str
    team: str
    title: str
    sections: tuple[tuple[str, tuple[str, ...]], ...]


@dataclass
class Findings:
    snapshot: dt.date | None
    baseline: dt.date | None  # what level moves and regressions compare against
    events: list[Event] = field(default_factory=list)
    digests: list[Digest] = field(default_factory=list)


def snapshots(path: str) -> list[dt.date]:
    return list(readmodel.overview(path)["snapshots"])


def baseline(all_snapshots: list[dt.date], latest: dt.date, since: dt.date | None) -> dt.date | None:
    """The snapshot to compare the latest with: the newest on or before ``since``, else the previous one."""
    older = [d for d in all_snapshots if d < latest]
    if since is not None:
        older = [d for d in older if d <= since] or older[:1]
    return older[-1] if older else None


def find(path: str, cfg: Notifications, *, since: dt.date | None = None, today: dt.date | None = None,
         digest: bool = False) -> Findings:
    """Alerts (and with ``digest`` the weekly digests) for the latest published snapshot."""
    path = str(path)
    today = today or dt.datetime.now(dt.UTC).date()
    days = snapshots(path)
    if not days:
        return Findings(None, None)
    latest = days[-1]
    found = Findings(latest, baseline(days, latest, since))
    kinds = set(cfg.events)
    fixes = notify_queries.fixes(path, latest)
    if found.baseline is not None and "level_drop" in kinds:
        found.events += level_drops(path, cfg.scorecard, found.baseline, latest)
    if found.baseline is not None and "regression" in kinds:
        found.events += regressions(path, cfg.scorecard, found.baseline, latest, fixes)
    if "initiative_deadline" in kinds:
        found.events += deadlines(path, latest, cfg.deadline_days)
    if "waiver_expiring" in kinds:
        found.events += expiring(path, latest, today, cfg.waiver_days)
    if digest and "weekly_digest" in kinds:
        found.digests = digests(path, cfg, days, latest, fixes)
    return found


def _records(df: pd.DataFrame) -> list[dict]:
    return df.astype(object).where(df.notna(), None).to_dict("records")


def level_drops(path: str, scorecard: str, before: dt.date, after: dt.date) -> list[Event]:
    moves = readmodel.level_moves(path, scorecard, before, after, None)
    out = []
    for m in _records(moves[moves["movement"] == "down"]):
        why = ("a waiver expired: the exception ended, the service itself did not change"
               if m["waiver_expired"] else f"score {_pct(m['score_before'])} -> {_pct(m['score_after'])}")
        out.append(Event(
            id=f"level_drop:{scorecard}:{after}:{m['service']}:{m['level_before']}->{m['level_after']}",
            kind="level_drop", team=m["team"],
            text=f"{m['service']} dropped from {m['level_before']} to {m['level_after']}", detail=(why,)))
    return out


def regressions(path: str, scorecard: str, before: dt.date, after: dt.date, fixes: pd.DataFrame) -> list[Event]:
    changes = readmodel.check_changes(path, scorecard, before, after, None, None)
    texts = _fix_texts(fixes)
    out = []
    for c in _records(changes[changes["change"] != "improved"]):
        title, remediation = texts.get((c["service"], c["check_id"]), (None, None))
        lines = [c["detail"]] if c["detail"] else []
        if remediation:
            lines.append(f"Fix: {remediation}")
        what = "waiver expired" if c["change"] == "waiver expired" else f"now {c['status_after']} (was {c['status_before']})"
        out.append(Event(
            id=f"regression:{scorecard}:{after}:{c['service']}:{c['check_id']}", kind="regression", team=c["team"],
            text=f"{c['service']}: {title or c['check_id']} ({c['check_id']}) {what}", detail=tuple(lines)))
    return out


def deadlines(path: str, snapshot: dt.date, within_days: int) -> list[Event]:
    """Initiatives due within ``within_days`` or overdue with work left: one alert org-wide, one per team in scope."""
    out = []
    for ini in _records(readmodel.initiative_summary(path, snapshot)):
        if ini["services_remaining"] <= 0 or ini["days_left"] is None or ini["days_left"] > within_days:
            continue
        state = "overdue" if ini["days_left"] < 0 else "due"
        when = (f"{-ini['days_left']} days overdue" if ini["days_left"] < 0
                else f"due in {ini['days_left']} days" if ini["days_left"] else "due today")
        base = f"initiative_deadline:{ini['initiative']}:{ini['deadline']}:{state}"
        head = f"Initiative {ini['initiative']} ({ini['goal']}) is {when} ({ini['deadline']})"
        out.append(Event(id=base, kind="initiative_deadline", team=None, text=head, detail=(
            f"{ini['services_done']}/{ini['services']} services done, {ini['services_remaining']} left",)))
        for t in _records(readmodel.initiative_teams(path, snapshot, ini["initiative"])):
            if t["services_remaining"] > 0:
                out.append(Event(id=f"{base}:{t['team']}", kind="initiative_deadline", team=t["team"], text=head,
                                 detail=((f"{t['team']}: {t['services_remaining']} of {t['services']} services "
                                          f"left, {t['items_remaining']} checks to fix"),)))
    return out


def expiring(path: str, snapshot: dt.date, today: dt.date, within_days: int) -> list[Event]:
    teams = notify_queries.service_teams(path, snapshot)
    out = []
    for w in _records(readmodel.expiring_waivers(path, today, within_days)):
        expires = pd.Timestamp(w["expires"]).date()
        left = int(w["days_left"])
        if left < -within_days:
            continue  # long gone: announced when it ran out; turning notifications on must not replay years of them
        state = "expired" if left < 0 else "expiring"
        when = f"expired {-left} days ago" if left < 0 else (f"ends in {left} days" if left else "ends today")
        out.append(Event(
            id=f"waiver_expiring:{w['service']}:{w['check_id']}:{expires}:{state}", kind="waiver_expiring",
            team=teams.get(w["service"]), text=f"Waiver of {w['check_id']} for {w['service']} {when} ({expires})",
            detail=tuple(x for x in [w["reason"] and f"Reason: {w['reason']}",
                                     w["approver"] and f"Approved by {w['approver']}"] if x)))
    return out


def digests(path: str, cfg: Notifications, days: list[dt.date], latest: dt.date, fixes: pd.DataFrame) -> list[Digest]:
    """Per team: level distribution, movers over the week, top blockers with their fix, golden-path adoption.

    Each query asks for every team at once and is split here: one short-lived
    connection per team and query cost seconds at a thousand services.
    """
    week_ago = [d for d in days if d <= latest - dt.timedelta(days=7)]
    before = week_ago[-1] if week_ago else None
    year, week, _ = latest.isocalendar()
    overview = readmodel.team_overview(path, latest, cfg.scorecard)
    moves = readmodel.level_moves(path, cfg.scorecard, before, latest, None) if before is not None else None
    all_blockers = readmodel.next_level_blockers(path, latest, cfg.scorecard, None)
    lag = readmodel.team_lag(path, latest)
    texts = _fix_texts(fixes)
    out = []
    for team in sorted(t for t in overview["team"].dropna().unique()):
        rows = _records(overview[overview["team"] == team])
        levels = " · ".join(f"{r['level']} {r['services']}" for r in rows)
        sections = [("Levels", (f"{levels} (mean score {_pct(rows[0]['mean_score_pct'])})",))]
        if moves is not None:
            mine = _records(moves[moves["team"] == team])
            sections.append((f"Movers since {before}", tuple(
                f"{m['service']}: {m['level_before']} -> {m['level_after']} ({m['movement']})" for m in mine)
                or ("no level changes",)))
        blockers = all_blockers[all_blockers["team"] == team]
        lines = []
        for b in _records(readmodel.rank_blockers(blockers).head(cfg.digest_blockers)):
            services = sorted(blockers[blockers["check_id"] == b["check_id"]]["service"].unique())
            lines.append(f"{b['title'] or b['check_id']}: blocks {b['services_blocked']} "
                         f"({', '.join(services[:5])}{', ...' if len(services) > 5 else ''})")
            fix = texts.get((services[0], b["check_id"]), (None, None))[1]
            if fix:
                lines.append(f"  Fix ({services[0]}): {fix}")
        sections.append(("Top blockers", tuple(lines) or ("nothing blocks a next level",)))
        paths = _records(lag[lag["team"] == team].sort_values("golden_path"))
        sections.append(("Golden-path adoption", tuple(
            f"{a['golden_path']}: {a['services'] - a['not_on_path'] - a['unknown']}/{a['services']} on the path, "
            f"{a['behind_latest']} behind its latest release" for a in paths) or ("no golden paths configured",)))
        out.append(Digest(id=f"weekly_digest:{cfg.scorecard}:{team}:{year}-W{week:02d}", team=team,
                          title=f"Weekly scorecard digest for {team} ({latest})",
                          sections=tuple((h, tuple(ls)) for h, ls in sections)))
    return out


def _fix_texts(fixes: pd.DataFrame) -> dict[tuple[str, str], tuple[str | None, str | None]]:
    """(service, check) -> (title, remediation); tens of thousands of rows at scale, so no per-row frames."""
    return {(s, c): (t if isinstance(t, str) else None, r if isinstance(r, str) else None)
            for s, c, t, r in zip(fixes["service"], fixes["check_id"], fixes["title"], fixes["remediation"],
                                  strict=True)}


def _pct(value: object) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{float(value):.0f} %"
