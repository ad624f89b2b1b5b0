"""DORA tiers at their exact boundaries (DESIGN.md "Metric definitions").

Expected values are worked out by hand from the design text:
1 day = 24 h, 1 week = 168 h, 1 month = 30 days = 720 h,
once a month = 12/52 deploy-days per week (about 0.2308).
"""

from __future__ import annotations

import pytest

from checks import dora


@pytest.mark.parametrize(
    ("hours", "tier"),
    [
        (0.1, "elite"),
        (23.99, "elite"),
        (24.0, "high"),  # "elite < 1 day": exactly one day is no longer elite
        (167.99, "high"),
        (168.0, "medium"),  # exactly one week
        (719.99, "medium"),
        (720.0, "low"),  # exactly 30 days
        (5000.0, "low"),
    ],
)
def test_lead_time_tier(hours: float, tier: str) -> None:
    assert dora.lead_time_tier(hours) == tier


@pytest.mark.parametrize(
    ("per_week", "tier"),
    [
        (7.0, "elite"),
        (5.0, "elite"),  # ">= 5 deploy-days/week" includes 5
        (4.99, "high"),
        (1.0, "high"),  # ">= 1/week" includes 1
        (0.99, "medium"),
        (0.5, "medium"),  # a 12-week median can land on 0.5
        (12 / 52, "medium"),  # exactly once a month
        (3 / 13, "medium"),  # the same rate computed another way
        (0.23, "low"),  # just under 12/52 = 0.230769...
        (0.0, "low"),
    ],
)
def test_deploy_frequency_tier(per_week: float, tier: str) -> None:
    assert dora.deploy_frequency_tier(per_week) == tier


@pytest.mark.parametrize(
    ("rate", "tier"),
    [
        (0.0, "elite"),
        (0.05, "elite"),  # "elite <= 5 %" includes 5 %
        (1 / 20, "elite"),
        (0.0501, "high"),
        (0.10, "high"),
        (3 / 30, "high"),  # 10 % as the pipeline computes it from counts
        (0.1 + 0.0000001, "medium"),
        (0.15, "medium"),
        (3 / 20, "medium"),
        (0.1 + 0.05, "medium"),  # 0.15000000000000002 in floating point, still 15 %
        (0.151, "low"),
        (1.0, "low"),
    ],
)
def test_change_failure_tier(rate: float, tier: str) -> None:
    assert dora.change_failure_tier(rate) == tier


@pytest.mark.parametrize(
    ("hours", "tier"),
    [
        (0.5, "elite"),
        (0.999, "elite"),
        (1.0, "high"),  # "elite < 1 hour": exactly an hour is high
        (23.99, "high"),
        (24.0, "medium"),
        (167.99, "medium"),
        (168.0, "low"),  # exactly a week
    ],
)
def test_restore_tier(hours: float, tier: str) -> None:
    assert dora.restore_tier(hours) == tier


@pytest.mark.parametrize(
    ("tier", "target", "meets"),
    [("elite", "high", True), ("high", "high", True), ("medium", "high", False), ("low", "low", True), ("high", "elite", False)],
)
def test_tier_at_least(tier: str, target: str, meets: bool) -> None:
    assert dora.tier_at_least(tier, target) is meets


def test_target_tier_is_case_insensitive_and_rejects_typos() -> None:
    assert dora.parse_tier(" High ") == "high"
    with pytest.raises(ValueError, match="elite"):
        dora.parse_tier("hgih")


@pytest.mark.parametrize(
    ("hours", "text"),
    [(0.5, "30 minutes"), (5.0, "5.0 hours"), (23.9, "23.9 hours"), (24.0, "1.0 days"), (55.2, "2.3 days")],
)
def test_format_hours(hours: float, text: str) -> None:
    assert dora.format_hours(hours) == text


_UNIT_HOURS = {"hour": 1, "day": dora.HOURS_PER_DAY, "week": dora.HOURS_PER_WEEK, "month": dora.HOURS_PER_MONTH}


def _said(words: str) -> float:
    """The number a bound's words say: "< 1 week" -> 168 (hours), "<= 5 %" -> 0.05, "once a month" -> 12/52."""
    text = words.lstrip("<>= ")
    if text == "once a month":
        return dora.ONCE_A_MONTH_PER_WEEK
    number, _, unit = text.partition(" ")
    return float(number) / 100 if unit == "%" else float(number) * _UNIT_HOURS.get(unit, 1)


@pytest.mark.parametrize("name", ["LEAD_TIME", "DEPLOY_FREQUENCY", "CHANGE_FAILURE", "RESTORE"])
def test_the_words_shown_for_each_tier_say_the_bound_that_judges(name):
    # Rationales (and so the README) and the dashboard's help print describe(): it must say the numbers used.
    cutoffs = getattr(dora, name)
    for bound, words in zip(cutoffs.bounds, cutoffs.words, strict=True):
        assert _said(words) == pytest.approx(bound, abs=1e-6), (name, words)
