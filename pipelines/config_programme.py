"""The `initiatives:` and `waiver_policy:` sections of `scorecard.yaml`: the adoption programme.

An initiative is a goal with an owner and a deadline: a set of checks, or a
level of a named scorecard, to be reached by the services in its scope. What
counts as done is the published `counts_as_pass` of the goal's checks in that
scorecard (checks/policy.py); pipelines/programme.py computes progress from
the published snapshots.

Goals name scorecards, levels and checks defined elsewhere in the file, so
they are checked against the whole configuration (:func:`initiative_problems`),
each problem at its key path with the nearest valid value.
"""

from __future__ import annotations

import datetime as dt
import difflib
from typing import TYPE_CHECKING

from pydantic import Field, model_validator

from pipelines.config_base import Model, problem
from pipelines.config_scorecards import CheckId

if TYPE_CHECKING:
    from pipelines.config import ScorecardConfig


class Goal(Model):
    """Either ``checks`` (each must pass) or ``level`` (of ``scorecard``) to reach."""

    scorecard: str = "default"  # whose `counts_as_pass` decides what is done (warn_passes differs per scorecard)
    checks: list[CheckId] | None = None
    level: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Goal:
        if (self.checks is None) == (self.level is None):
            raise problem("a goal is either `checks: [...]` or `level: <name>` (of `scorecard`), not both or neither")
        if self.checks is not None and not self.checks:
            raise problem("list at least one check in `checks`")
        return self

    @property
    def kind(self) -> str:
        return "level" if self.level is not None else "checks"


class Scope(Model):
    """Which services the initiative is about, as the service registry records them; empty means all."""

    teams: list[str] = Field(default_factory=list)
    lifecycle: list[str] = Field(default_factory=list)  # e.g. production, experimental (catalog `spec.lifecycle`)
    systems: list[str] = Field(default_factory=list)  # catalog `spec.system`
    services: list[str] = Field(default_factory=list)  # explicit service names

    def describe(self) -> str:
        parts = [f"{key}: {', '.join(values)}" for key, values in self.model_dump().items() if values]
        return "; ".join(parts) or "all services"


class Initiative(Model):
    name: str = Field(min_length=1)
    owner: str = Field(min_length=1)  # a team or person accountable for the programme
    description: str = ""
    goal: Goal
    scope: Scope = Field(default_factory=Scope)
    start: dt.date
    deadline: dt.date

    @model_validator(mode="after")
    def _deadline_after_start(self) -> Initiative:
        if self.deadline < self.start:
            raise problem(f"deadline {self.deadline} is before start {self.start}")
        return self


class WaiverPolicy(Model):
    """How waivers are granted: reviewed in a pull request, never open-ended."""

    max_days: int = Field(default=180, ge=1, le=3650)  # `expires` at most this many days after `created`
    require_approver: bool = False  # true: every waiver names who approved it


def _nearest(value: str, options: list[str], what: str, among: str) -> str:
    close = difflib.get_close_matches(value, options, n=1, cutoff=0.4)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown {what} {value!r}{hint} ({among}: {', '.join(options) or 'none'})"


def initiative_problems(config: ScorecardConfig) -> list[tuple[tuple, str]]:
    """Goals naming a scorecard, level or check the configuration does not have; repeated names."""
    found: list[tuple[tuple, str]] = []
    cards = {card.name: card for card in config.scorecards}
    levels = config.scorecard_levels()
    seen: dict[str, int] = {}
    for i, ini in enumerate(config.initiatives):
        at = ("initiatives", i)
        if ini.name in seen:
            found.append(((*at, "name"), f"initiative {ini.name!r} is already initiatives[{seen[ini.name]}]"))
        seen.setdefault(ini.name, i)
        goal = ini.goal
        if goal.scorecard not in cards:
            found.append(((*at, "goal", "scorecard"), _nearest(goal.scorecard, list(cards), "scorecard", "scorecards")))
            continue
        if goal.level is not None:
            order = config.level_order(goal.scorecard)
            if goal.level not in order:
                found.append(((*at, "goal", "level"),
                              _nearest(goal.level, order, "level", f"levels of scorecard {goal.scorecard!r}")))
            continue
        in_card = [cid for cid, _, _ in levels[goal.scorecard]]
        for k, cid in enumerate(goal.checks or []):
            if cid not in in_card:
                close = difflib.get_close_matches(cid, in_card, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                found.append(((*at, "goal", "checks", k),
                              (f"check {cid!r} is not in scorecard {goal.scorecard!r}{hint} (its results there "
                               "decide what is done: add it to the scorecard or pick another)")))
    return found


def waiver_problems(config: ScorecardConfig) -> list[tuple[tuple, str]]:
    """Waivers with no approver (when required), created after they expire, or longer than the policy allows."""
    rules = config.waiver_policy
    found: list[tuple[tuple, str]] = []
    for i, w in enumerate(config.waivers):
        at = ("waivers", i)
        if rules.require_approver and not w.approver:
            found.append(((*at, "approver"), "waiver_policy.require_approver is on: name who approved this waiver"))
        if w.created is None:
            continue
        if w.expires < w.created:
            found.append(((*at, "expires"), f"expires {w.expires} is before created {w.created}"))
        elif (w.expires - w.created).days > rules.max_days:
            latest = w.created + dt.timedelta(days=rules.max_days)
            found.append(((*at, "expires"),
                          (f"expires {w.expires} is {(w.expires - w.created).days} days after created {w.created}; "
                           f"waivers last at most {rules.max_days} days (waiver_policy.max_days): at the latest {latest}")))
    return found


def check_until(until: dt.date, today: dt.date, rules: WaiverPolicy) -> None:
    """A new waiver's end date: not in the past, within the policy (what `scorecard waive` writes)."""
    if until < today:
        raise ValueError(f"--until {until} is in the past (today is {today})")
    if (until - today).days > rules.max_days:
        raise ValueError(f"--until {until} is {(until - today).days} days ahead; waivers last at most "
                         f"{rules.max_days} days (waiver_policy.max_days): at the latest "
                         f"{today + dt.timedelta(days=rules.max_days)}")

