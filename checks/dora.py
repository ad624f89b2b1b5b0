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

TIERS = ("low", "medium", "high", "elite")  # worst -> best
_RANK = {t: i for i, t in enumerate(TIERS)}

HOURS_PER_DAY = 24.0
HOURS_PER_WEEK = 7 * HOURS_PER_DAY
HOURS_PER_MONTH = 30 * HOURS_PER_DAY
ONCE_A_MONTH_PER_WEEK = 12 / 52
# Rates arrive as floats computed from counts (3 / 30); without a tolerance
# 0.1 computed one way could land a hair above the 10 % boundary.
_RATE_EPSILON = 1e-9


def lead_time_tier(hours: float) -> str:
    if hours < HOURS_PER_DAY:
        return "elite"
    if hours < HOURS_PER_WEEK:
        return "high"
    if hours < HOURS_PER_MONTH:
        return "medium"
    return "low"


def deploy_frequency_tier(deploy_days_per_week: float) -> str:
    if deploy_days_per_week >= 5:
        return "elite"
    if deploy_days_per_week >= 1:
        return "high"
    if deploy_days_per_week >= ONCE_A_MONTH_PER_WEEK - _RATE_EPSILON:
        return "medium"
    return "low"


def change_failure_tier(rate: float) -> str:
    """``rate`` is a fraction (0.05 is 5 %), as DeliveryMetrics stores it."""
    if rate <= 0.05 + _RATE_EPSILON:
        return "elite"
    if rate <= 0.10 + _RATE_EPSILON:
        return "high"
    if rate <= 0.15 + _RATE_EPSILON:
        return "medium"
    return "low"


def restore_tier(hours: float) -> str:
    if hours < 1:
        return "elite"
    if hours < HOURS_PER_DAY:
        return "high"
    if hours < HOURS_PER_WEEK:
        return "medium"
    return "low"


def parse_tier(value: object) -> str:
    """A configured target tier; a typo must be loud, not silently "low"."""
    tier = str(value).strip().lower()
    if tier not in _RANK:
        raise ValueError(f"dora_target_tier must be one of {', '.join(TIERS)}, got {value!r}")
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
