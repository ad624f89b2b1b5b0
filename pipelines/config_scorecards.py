"""The `scorecards:` and `waivers:` sections of `scorecard.yaml`: levels, weights and exceptions.

Check ids are validated against the catalogue; a scorecard's repeated levels
or checks are reported together with its other problems, each at its key path.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from typing import Annotated

from pydantic import AfterValidator, Field, field_validator, model_validator

from checks.policy import Policy
from pipelines.config_base import Model, problem, raw_mapping, with_more_problems


def _known_check(check_id: str) -> str:
    from checks.catalogue import CATALOGUE  # late: the catalogue registers on import

    if check_id not in CATALOGUE:
        close = difflib.get_close_matches(check_id, list(CATALOGUE), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else " (see `scorecard checks`)"
        raise problem(f"unknown check {check_id!r}{hint}")
    return check_id


CheckId = Annotated[str, AfterValidator(_known_check)]

# The scoring's word for "no level reached" (pipelines/scoring.py NO_LEVEL), as
# the dashboard shows it: a level of that name would be indistinguishable.
_RESERVED_LEVELS = {"none", "nolevel"}


def _level_name(name: str) -> str:
    if not name.strip():
        raise problem("a level needs a name")
    if re.sub(r"[\s_-]+", "", name.lower()) in _RESERVED_LEVELS:
        raise problem(f"{name!r} is what a service without any level is called; name the level something else")
    return name


def _some_checks(value: list[str]) -> list[str]:
    if not value:
        raise problem("a level needs at least one check")
    return value


def _positive_weight(value: int) -> int:
    if value <= 0:
        raise problem(f"a weight is a whole number above 0, got {value} (to leave a check out, list it in `exclude`)")
    return value


class Level(Model):
    name: Annotated[str, AfterValidator(_level_name)]
    checks: Annotated[list[CheckId], AfterValidator(_some_checks)]


class Scorecard(Model):
    name: str = Field(min_length=1)
    description: str = ""
    # None: the catalogue's default levels. An empty list is refused rather than read as "default".
    levels: list[Level] | None = None
    weights: dict[CheckId, Annotated[int, AfterValidator(_positive_weight)]] = Field(default_factory=dict)  # overrides
    exclude: list[CheckId] = Field(default_factory=list)  # catalogue checks left out
    # An advisory `warn` (one release behind, a branch pin) counts as passing its
    # level; false makes every warning block its level (checks/policy.py).
    warn_passes: bool = True

    def policy(self) -> Policy:
        return Policy(warn_passes=self.warn_passes)

    @field_validator("levels")
    @classmethod
    def _levels_not_empty(cls, value: list[Level] | None) -> list[Level] | None:
        if value is not None and not value:
            raise problem("no levels listed; list at least one, or leave `levels` out for the default Bronze/Silver/Gold")
        return value

    @model_validator(mode="wrap")
    @classmethod
    def _levels_are_distinct(cls, data: object, handler) -> Scorecard:
        # A wrap validator, so a repeated level or check is reported together
        # with the other errors of the same scorecard, not only once they are fixed.
        return with_more_problems("Scorecard", data, handler, _level_problems)


def _level_problems(data: object) -> list[tuple[tuple, str]]:
    """Repeated level names and checks placed twice, read from the raw input (types may still be wrong)."""
    raw = raw_mapping(data)
    levels = raw.get("levels") if isinstance(raw.get("levels"), list) else []
    found: list[tuple[tuple, str]] = []
    names: dict[str, int] = {}
    placed: dict[str, tuple[int, str]] = {}
    for j, level in enumerate(levels):
        if not isinstance(level, dict):
            continue
        name = str(level.get("name", ""))
        key = name.strip().lower()
        if key and key in names:
            found.append((("levels", j, "name"), f"level {name!r} is already levels[{names[key]}]"))
        names.setdefault(key, j)
        for k, check_id in enumerate(level.get("checks") if isinstance(level.get("checks"), list) else []):
            if not isinstance(check_id, str):
                continue
            if check_id in placed:
                first, first_name = placed[check_id]
                found.append((("levels", j, "checks", k),
                              f"check {check_id!r} is already in level {first_name!r} (levels[{first}]); "
                              "a check belongs to one level"))
            placed.setdefault(check_id, (j, name))
    exclude = raw.get("exclude") if isinstance(raw.get("exclude"), list) else []
    for k, check_id in enumerate(exclude):
        if isinstance(check_id, str) and check_id in placed:
            found.append((("exclude", k), f"check {check_id!r} is both excluded and in level {placed[check_id][1]!r}"))
    return found


def scorecard_name_problems(data: object) -> list[tuple[tuple, str]]:
    seen: dict[str, int] = {}
    found = []
    for i, card in enumerate(data if isinstance(data, list) else []):
        name = raw_mapping(card).get("name")
        if isinstance(name, str) and name in seen:
            found.append(((i, "name"), f"scorecard {name!r} is already scorecards[{seen[name]}]"))
        if isinstance(name, str):
            seen.setdefault(name, i)
    return found


class Waiver(Model):
    # Services are only known after a crawl: a waiver naming none is reported
    # by the run (a `problems` row and a warning), not refused here.
    service: str = Field(min_length=1)
    check: CheckId
    reason: str = Field(min_length=1)
    expires: dt.date
    approver: str | None = None  # who approved it (required by waiver_policy.require_approver)
    created: dt.date | None = None  # when it was granted; `expires` at most waiver_policy.max_days later
