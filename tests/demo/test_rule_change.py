"""The demo's history holds one rule change partway through its backfilled weeks."""

from __future__ import annotations

import datetime as dt

from pipelines import rules
from pipelines.cli import backfill_dates
from pipelines.config import load_config
from pipelines.demo.rule_change import backfill_with_rule_change


def test_the_older_weeks_are_scored_under_the_earlier_rules(small_org_files):
    root, _ = small_org_files
    config = root / "demo" / "scorecard.yaml"
    today = dt.date(2026, 12, 3)
    calls = []

    def backfill(path, since_days, every_days, today):
        calls.append((path.name, backfill_dates(since_days, every_days, today)))
        return [(day, True) for day in calls[-1][1]]

    done = backfill_with_rule_change(config, 12, backfill, today=today)

    (earlier, old_dates), (current, new_dates) = calls
    assert current == "scorecard.yaml"
    # twelve weekly snapshots, none twice; the newer six (and today's run) under today's rules
    assert sorted(old_dates + new_dates) == backfill_dates(84, 7, today) == sorted(day for day, _ in done)
    assert max(old_dates) < min(new_dates) == today - dt.timedelta(days=42)
    before, after = load_config(config.with_name(earlier)), load_config(config)
    assert before.warehouse_path == after.warehouse_path  # the same history
    assert rules.describe_changes(rules.rule_set(before), rules.rule_set(after)) == [
        "ci_workflow_max_releases_behind 2 → 1"]


def test_a_one_week_demo_has_no_rule_change(small_org_files):
    root, _ = small_org_files
    calls = []
    backfill_with_rule_change(root / "demo" / "scorecard.yaml", 1,
                              lambda path, **kw: calls.append(path.name) or [], today=dt.date(2026, 12, 3))
    assert calls == ["scorecard.yaml"]
