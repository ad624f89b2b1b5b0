"""The rules a snapshot is scored by: their digest and what changed, as the trend charts label it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd

from pipelines import rules
from pipelines.config import parse_config


def _config(extra: dict | None = None):
    base = {"golden_paths": {"helm_chart": {"reference": "base-chart", "releases": ["1.0.0", "1.1.0"]}}}
    return parse_config({**base, **(extra or {})}, "test.yaml", Path("."))


def test_the_digest_changes_with_rules_and_not_with_waivers_or_sources():
    base = _config()
    waived = _config({"waivers": [{"service": "x", "check": "has_readme", "reason": "r", "expires": "2030-01-01"}],
                      "sources": {"repos": [{"root": "elsewhere"}]}})
    assert rules.rule_digest(base) == rules.rule_digest(waived)
    assert rules.rule_digest(base) != rules.rule_digest(_config({"thresholds": {"min_replicas": 3}}))


def test_each_kind_of_change_is_described_in_one_line():
    before = rules.rule_set(_config())
    after = rules.rule_set(_config({
        "golden_paths": {"helm_chart": {"reference": "base-chart", "releases": ["1.0.0", "1.1.0", "1.2.0"]}},
        "thresholds": {"helm_chart_max_releases_behind": 0},
        "scorecards": [{"name": "default", "warn_passes": False, "weights": {"has_readme": 4},
                        "exclude": ["has_autoscaler"]}],
    }))
    assert rules.describe_changes(before, after) == [
        "helm_chart releases +1.2.0",
        "helm_chart_max_releases_behind 1 → 0",
        "default: warn_passes true → false",
        "default: has_autoscaler left out",
        "default: has_readme weight 1 → 4",
    ]
    assert rules.summary(rules.describe_changes(before, after)) == (
        "rules changed: helm_chart releases +1.2.0; helm_chart_max_releases_behind 1 → 0; "
        "default: warn_passes true → false (+2 more)")


def test_the_log_holds_the_first_snapshot_of_each_new_rule_set_whatever_order_they_were_computed_in():
    old, new = rules.rule_sets_frame(_config()), rules.rule_sets_frame(_config({"thresholds": {"min_replicas": 3}}))
    days = [dt.date(2026, 11, d) for d in (5, 12, 19, 26)]
    # a backfill computes the older dates after today's run: rows arrive newest first
    sets = pd.concat([new.assign(snapshot=days[3]), new.assign(snapshot=days[2]),
                      old.assign(snapshot=days[1]), old.assign(snapshot=days[0])])
    log = rules.change_log(sets)
    assert log[["snapshot", "previous_snapshot"]].values.tolist() == [[days[2], days[1]]]
    assert json.loads(log["changes"].iloc[0]) == ["min_replicas 2 → 3"]


def test_a_file_published_before_rule_changes_and_previews_reads_as_having_none(tmp_path):
    import duckdb

    from pipelines import readmodel

    old = tmp_path / "old.duckdb"
    con = duckdb.connect(str(old))
    con.execute("CREATE TABLE runs (snapshot DATE)")
    con.close()
    assert readmodel.rule_changes(str(old)).empty
    assert readmodel.previews(str(old)).empty
