"""The data module on its own: where it reads from, and the set-based answers pages rely on."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest
from dashboard import data
from pipelines import publishing
from pipelines.config import load_config


def test_snapshot_path_is_read_when_called_not_at_import(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SCORECARD_SNAPSHOT", raising=False)
    assert data.snapshot_path() == Path("data/serving/scorecard.duckdb")
    monkeypatch.setenv("SCORECARD_SNAPSHOT", str(tmp_path / "x.duckdb"))
    assert data.snapshot_path() == tmp_path / "x.duckdb"
    assert data.current_source() is None


def test_a_publish_changes_the_cache_key(built, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCORECARD_SNAPSHOT", str(built.serving))
    before = data.current_source()
    # The shared history other tests read: republished whole, as the job does (programme tables too).
    publishing.publish(load_config(built.config), built.warehouse, built.serving)
    after = data.current_source()
    assert before.path == after.path
    assert before != after


def test_values_are_parameters_not_sql(built, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCORECARD_SNAPSHOT", str(built.serving))
    src = data.current_source()
    hostile = "x' OR '1'='1"
    assert data.team_services(src, built.latest, "default", hostile).empty
    assert data.service_profile(src, built.latest, "default", hostile) is None


def test_next_level_blockers_are_the_failing_checks_of_the_next_level_only(built) -> None:
    reg = built.regression
    src = data.Source(str(built.serving), (0, 0))
    blockers = data.next_level_blockers(src, built.latest, "default", reg.team)
    mine = blockers[blockers["service"] == reg.service]
    assert sorted(mine["check_id"]) == sorted(built.blockers(service=reg.service)["check_id"])
    assert set(mine["next_level"]) == {reg.next_level}
    latest = built.at("service_scores", scorecard="default", team=reg.team)
    expected = latest.set_index("service")["checks_to_next_level"]
    got = blockers.groupby("service").size()
    assert got.to_dict() == expected[expected > 0].to_dict()


def test_rank_blockers_counts_services_lifted_cumulatively() -> None:
    blockers = pd.DataFrame(
        [
            ("a", "none", "bronze", "x", "X", 1),
            ("b", "none", "bronze", "x", "X", 1),
            ("b", "none", "bronze", "y", "Y", 1),
            ("c", "none", "bronze", "y", "Y", 1),
            ("d", "bronze", "silver", "z", "Z", 1),
        ],
        columns=["service", "level", "next_level", "check_id", "title", "weight"],
    )
    ranked = data.rank_blockers(blockers)
    assert ranked["check_id"].tolist() == ["x", "y", "z"]
    assert ranked["services_blocked"].tolist() == [2, 2, 1]
    # Fixing x lifts a; x and y lift a, b and c; all three lift d too.
    assert ranked["services_lifted"].tolist() == [1, 3, 4]
    close = data.close_to_next_level(blockers, max_missing=1)
    assert close["service"].tolist() == ["a", "c", "d"]


def test_queries_leave_no_connection_open(built) -> None:
    src = data.Source(str(built.serving), (0, 0))
    data.overview(src)
    data.service_profile(src, built.latest, "default", built.regression.service)
    # DuckDB refuses a read-write connection to a file this process still
    # holds read-only, so this only succeeds if every reader was closed.
    duckdb.connect(str(built.serving)).close()
