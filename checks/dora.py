"""DORA performance tiers.

Implemented exactly as DESIGN.md, "Metric definitions" -> "DORA tiers (2023
report)" states them; change that section first if these ever need to move:

- lead time:            elite < 1 day, high < 1 week, medium < 1 month, else low
- change failure rate:  elite <= 5 %, high <= 10 %, medium <= 15 %, else low
- time to restore:      elite < 1 hour, high < 1 day, medium < 1 week, else low
- deploy frequency:     elite >= 5 deploy-days/week, high >= 1/week,
                        medium >= 1/month, else low

Conversions (the design gives calendar units, the metrics are hours and
deploy-days per week):

- 1 day = 24 h, 1 week = 168 h, 1 month = 30 days = 720 h (the same 30 days
  as the default trailing lead-time window).
- "once a month" in deploy-days per week = 12 / 52 (12 months over 52 weeks,
  about 0.2308), so a median of 0.25 per week is medium and 0.2 is low.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

TIERS = ("low", "medium", "high", "elite")  # worst -> best
_RANK = {t: i for i, t in enumerate(TIERS)}

HOURS_PER_DAY = 24.0
HOURS_PER_WEEK = 7 * HOURS_PER_DAY
HOURS_PER_MONTH = 30 * HOURS_PER_DAY
ONCE_A_MONTH_PER_WEEK = 12 / 52
# Rates arrive as floats computed from counts (3 / 30); without a tolerance
# 0.1 computed one way could land a hair above the 10 % boundary.
_RATE_EPSILON = 1e-9


@dataclass(frozen=True, slots=True)
class Cutoffs:
    """One metric's tier bounds, and the words people use for them.

    The numbers judge; ``describe()`` is the one text of them that the check
    rationales (and so the README catalogue) and the dashboard's help show, so
    the words cannot drift from the numbers.
    """

    better: Callable[[float, float], bool]  # value meets bound
    bounds: tuple[float, float, float]  # elite, high, medium
    words: tuple[str, str, str]  # the same bounds as said: ("< 1 day", ...)

    def tier(self, value: float) -> str:
        # A generator, so the comparisons stop at the first bound that is met.
        return next((t for t, b in zip(("elite", "high", "medium"), self.bounds) if self.better(value, b)), "low")

    def describe(self) -> str:
        return ", ".join(f"{t} {w}" for t, w in zip(("elite", "high", "medium"), self.words))


LEAD_TIME = Cutoffs(
    lambda v, b: v < b, (HOURS_PER_DAY, HOURS_PER_WEEK, HOURS_PER_MONTH), ("< 1 day", "< 1 week", "< 1 month")
)
DEPLOY_FREQUENCY = Cutoffs(  # deploy-days per week
    lambda v, b: v >= b, (5, 1, ONCE_A_MONTH_PER_WEEK - _RATE_EPSILON), (">= 5", ">= 1", ">= once a month")
)
CHANGE_FAILURE = Cutoffs(  # a fraction: 0.05 is 5 %
    lambda v, b: v <= b + _RATE_EPSILON, (0.05, 0.10, 0.15), ("<= 5 %", "<= 10 %", "<= 15 %")
)
RESTORE = Cutoffs(lambda v, b: v < b, (1, HOURS_PER_DAY, HOURS_PER_WEEK), ("< 1 hour", "< 1 day", "< 1 week"))


def lead_time_tier(hours: float) -> str:
    return LEAD_TIME.tier(hours)


def deploy_frequency_tier(deploy_days_per_week: float) -> str:
    return DEPLOY_FREQUENCY.tier(deploy_days_per_week)


def change_failure_tier(rate: float) -> str:
    """``rate`` is a fraction (0.05 is 5 %), as DeliveryMetrics stores it."""
    return CHANGE_FAILURE.tier(rate)


def restore_tier(hours: float) -> str:
    return RESTORE.tier(hours)


def parse_tier(value: object) -> str:
    """A configured target tier; a typo must be loud, not silently "low"."""
    tier = str(value).strip().lower()
    if tier not in _RANK:
        raise ValueError(f"expected one of {', '.join(TIERS)}, got {value!r}")
    return tier


def tier_at_least(tier: str, target: str) -> bool:
    return _RANK[tier] >= _RANK[target]


def format_hours(hours: float) -> str:
    """A duration the way people say it: `45 minutes`, `5.2 hours`, `2.3 days`."""
    if hours < 1:
        return f"{round(hours * 60)} minutes"
    if hours < HOURS_PER_DAY:
        return f"{hours:.1f} hours"
    return f"{hours / HOURS_PER_DAY:.1f} days"
