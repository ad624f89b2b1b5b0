"""Thresholds are typed, with one default each, and every one is read by a check."""

from __future__ import annotations

import dataclasses
import pathlib
import re

import pytest

import checks
from checks.thresholds import ThresholdProblems, Thresholds

FIELDS = {f.name: f.default for f in dataclasses.fields(Thresholds)}
SOURCE = "\n".join(p.read_text() for p in pathlib.Path(checks.__file__).parent.glob("*.py"))


def test_every_threshold_is_read_by_a_check_and_no_check_reads_another():
    read = set(re.findall(r"ctx\.thresholds\.(\w+)", SOURCE))
    assert read == set(FIELDS)


def test_a_default_a_check_states_in_its_text_is_the_typed_default():
    # golden_path's rationales say "`template_max_releases_behind` (default 1)": the README shows them.
    from checks.catalogue import all_checks

    stated = [m for c in all_checks() for m in re.findall(r"`(\w+)` \(default ([\w.]+)\)", c.rationale + c.remediation)]
    assert stated
    for name, default in stated:
        assert str(FIELDS[name]).lower() == default, name


def test_values_are_coerced_to_their_types():
    t = Thresholds(min_replicas=3.0, require_cpu_limit=1, dora_target_tier=" Elite ")
    assert (t.min_replicas, t.require_cpu_limit, t.dora_target_tier) == (3, True, "elite")
    assert type(t.min_replicas) is int


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("min_replicas", -1, "expected a whole number, 0 or more, got -1"),
        ("template_max_releases_behind", 1.5, "expected a whole number, 0 or more, got 1.5"),
        ("min_replicas", True, "expected a whole number, 0 or more, got True"),
        ("min_replicas", "2", "expected a whole number, 0 or more, got '2'"),
        ("require_cpu_limit", 2, "expected true or false, got 2"),
        ("dora_target_tier", "platinum", "expected one of low, medium, high, elite, got 'platinum'"),
    ],
)
def test_a_bad_value_is_refused_saying_what_was_expected(key, value, message):
    with pytest.raises(ThresholdProblems) as exc:
        Thresholds.from_mapping({key: value})
    assert exc.value.problems == [(key, message)]
    with pytest.raises(ValueError, match=re.escape(message)):
        Thresholds(**{key: value})  # made in code, too


def test_every_problem_of_a_mapping_is_reported_at_once():
    with pytest.raises(ThresholdProblems) as exc:
        Thresholds.from_mapping({"min_replica": 3, "dora_target_tier": "superb", "require_cpu_limit": True})
    assert [key for key, _ in exc.value.problems] == ["min_replica", "dora_target_tier"]
    assert exc.value.problems[0][1].startswith("unknown threshold 'min_replica'; did you mean 'min_replicas'?")


def test_unset_thresholds_keep_their_defaults():
    assert Thresholds.from_mapping({"min_replicas": 3}) == Thresholds(min_replicas=3)
