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

from collections.abc import Iterable

TIERS = ("low", "medium", "high", "elite")  # worst -> best
_RANK = {t: i for i, t in enumerate(TIERS)}

HOURS_PER_DAY = 24.0
HOURS_PER_WEEK = 7 * HOURS_PER_DAY
HOURS_PER_MONTH = 30 * HOURS_PER_DAY
ONCE_A_MONTH_PER_WEEK = 12 / 52
# Rates arrive as floats computed from counts (3 / 30); without a tolerance
# 0.1 computed one way could land a hair above the 10 % boundary.
_RATE_EPSILON = 1e-9


def _best_tier(meets: Iterable[bool]) -> str:
    """The best tier whose bound the value meets; ``meets`` answers elite, high, medium in that order.

    A generator, so the comparisons stop at the first bound that is met.
    """
    return next((tier for tier, ok in zip(("elite", "high", "medium"), meets) if ok), "low")


def lead_time_tier(hours: float) -> str:
    return _best_tier(hours < bound for bound in (HOURS_PER_DAY, HOURS_PER_WEEK, HOURS_PER_MONTH))


def deploy_frequency_tier(deploy_days_per_week: float) -> str:
    bounds = (5, 1, ONCE_A_MONTH_PER_WEEK - _RATE_EPSILON)
    return _best_tier(deploy_days_per_week >= bound for bound in bounds)


def change_failure_tier(rate: float) -> str:
    """``rate`` is a fraction (0.05 is 5 %), as DeliveryMetrics stores it."""
    return _best_tier(rate <= bound + _RATE_EPSILON for bound in (0.05, 0.10, 0.15))


def restore_tier(hours: float) -> str:
    return _best_tier(hours < bound for bound in (1, HOURS_PER_DAY, HOURS_PER_WEEK))


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
