"""Initiatives and waivers: config validation, progress over history, and an expiring waiver in the comparison.

A small history is scored by the pipeline's own code (waivers, scoring,
staging, promotion, the atomic publish with the programme's tables); the
expected numbers are counted by hand from the rows written here.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipelines import frames, programme, readmodel, warehouse
from pipelines.config import ConfigError, parse_config
from pipelines.scoring import apply_waivers, score

D1, D2, D3 = dt.date(2026, 10, 5), dt.date(2026, 10, 12), dt.date(2026, 10, 19)
SERVICES = {  # service: (team, lifecycle, system)
    "api": ("payments", "production", "checkout"),
    "web": ("payments", "production", "storefront"),
    "batch": ("growth", "production", None),
    "toy": ("growth", "experimental", None),
}


def config_for(tmp_path: Path, *, warn_passes: bool = True, initiatives=None, waivers=None, **more):
    return parse_config(
        {
            "scorecards": [{
                "name": "ready", "warn_passes": warn_passes,
                "levels": [
                    {"name": "bronze", "checks": ["has_codeowners", "uses_shared_ci_workflow"]},
                    {"name": "silver", "checks": ["has_readiness_probes"]},
                ],
            }],
            "initiatives": initiatives if initiatives is not None else [
                {"name": "ci", "owner": "platform", "goal": {"scorecard": "ready", "checks": ["uses_shared_ci_workflow"]},
                 "start": "2026-10-01", "deadline": "2026-10-10"},
                {"name": "silver-prod", "owner": "platform", "goal": {"scorecard": "ready", "level": "silver"},
                 "scope": {"lifecycle": ["production"], "teams": ["payments", "growth"]},
                 "start": "2026-10-01", "deadline": "2026-12-31"},
            ],
            "waivers": waivers or [],
            "warehouse": {"path": "wh.duckdb", "serving_path": "serving.duckdb"},
            **more,
        },
        "scorecard.yaml", tmp_path,
    )


def publish(config, history: dict[dt.date, dict[str, dict[str, str]]]) -> str:
    """Score each date's results (service -> check -> status) as a run does, promote them, publish."""
    services = pd.DataFrame(
        [{"service": s, "team": t, "repo": s, "path": "", "identity_rule": "config", "owner_source": "config",
          "lifecycle": lc, "system": sy, "type": "service", "repo_error": None, "codeowners": None,
          "identity_detail": None} for s, (t, lc, sy) in SERVICES.items()]
    )
    with warehouse.connect(config.warehouse_path) as con:
        for day, by_service in history.items():
            results = pd.DataFrame(
                [{"service": s, "team": SERVICES[s][0], "check_id": c, "category": "x", "status": st,
                  "detail": f"{c} is {st}", "remediation": f"fix {c} in {s}", "snippet": None, "params": None}
                 for s, checks in by_service.items() for c, st in checks.items()]
            )
            results = apply_waivers(results, config, day)
            run = {"run_id": f"run-{day}-{uuid.uuid4().hex[:8]}", "snapshot": day, "kind": "run", "started_at": None, "finished_at": None,
                   "config_file": "scorecard.yaml", "services": len(SERVICES), "repos": 0, "message": None}
            data = {"services": services, "check_results": frames.stored_results(results), **score(results, config)}
            warehouse.stage_snapshot(con, run, data)
            warehouse.promote(con, run["run_id"])
    return str(warehouse.publish(config.warehouse_path, config.serving_path, derive=programme.derive(config),
                                 kept=programme.inputs(config)))  # as `publishing.publish` does


def row(ci, codeowners="pass", probes="pass"):
    return {"uses_shared_ci_workflow": ci, "has_codeowners": codeowners, "has_readiness_probes": probes}


HISTORY = {
    D1: {"api": row("fail"), "web": row("warn"), "batch": row("unknown", probes="fail"), "toy": row("fail")},
    D2: {"api": row("pass"), "web": row("warn"), "batch": row("fail", probes="not_applicable"), "toy": row("fail")},
    D3: {"api": row("pass"), "web": row("pass"), "batch": row("pass", probes="not_applicable"), "toy": row("fail")},
}


def progress(path: str, initiative: str) -> dict:
    df = readmodel.initiative_burndown(path, initiative)
    return {d.date(): (int(r.services_done), int(r.services_overdue), int(r.items_remaining))
            for d, r in zip(pd.to_datetime(df["snapshot"]), df.itertuples(), strict=True)}


def test_progress_over_every_published_date_by_hand(tmp_path):
    path = publish(config_for(tmp_path), HISTORY)
    # ci: 4 services, one check each; warn passes (warn_passes: true); overdue after 2026-10-10.
    assert progress(path, "ci") == {
        D1: (1, 0, 3),  # web (warn) done; api fail, batch unknown, toy fail remain; before the deadline
        D2: (2, 2, 2),  # api fixed; batch and toy remain, past the deadline: overdue
        D3: (3, 1, 1),  # only toy left
    }
    # silver-prod: production services of payments and growth (toy is experimental), every check
    # of bronze and silver; batch's probes are not applicable on D2 and D3 (no work, not done work).
    assert progress(path, "silver-prod") == {D1: (1, 0, 3), D2: (2, 0, 1), D3: (3, 0, 0)}
    work = readmodel.initiative_work(path, D2, "ci")
    assert work[["service", "check_id", "status", "overdue"]].values.tolist() == [
        ["batch", "uses_shared_ci_workflow", "fail", True], ["toy", "uses_shared_ci_workflow", "fail", True]]
    assert work["remediation"].tolist() == ["fix uses_shared_ci_workflow in batch", "fix uses_shared_ci_workflow in toy"]
    teams = readmodel.initiative_teams(path, D3, "ci")
    assert teams.iloc[0]["team"] == "growth" and teams.iloc[0]["services_overdue"] == 1


def test_warn_passes_in_the_scorecard_moves_initiative_progress(tmp_path):
    """One rule, one place: the scorecard's warn_passes decides levels and initiatives alike."""
    lenient = publish(config_for(tmp_path / "a", warn_passes=True), HISTORY)
    strict = publish(config_for(tmp_path / "b", warn_passes=False), HISTORY)
    assert progress(lenient, "ci")[D2] == (2, 2, 2)
    assert progress(strict, "ci")[D2] == (1, 3, 3)  # web's warning is now work left, overdue
    assert progress(lenient, "ci")[D3] == progress(strict, "ci")[D3]  # nobody warns on D3


def test_an_initiative_added_later_shows_the_history_before_it(tmp_path):
    path = publish(config_for(tmp_path, initiatives=[
        {"name": "late", "owner": "p", "goal": {"scorecard": "ready", "checks": ["has_codeowners"]},
         "start": "2026-12-01", "deadline": "2027-01-31"}]), HISTORY)
    assert sorted(progress(path, "late")) == [D1, D2, D3]
    summary = readmodel.initiative_summary(path, D3).iloc[0]
    assert (summary["services_done"], summary["services"], summary["days_left"]) == (4, 4, (dt.date(2027, 1, 31) - D3).days)


def test_an_expired_waiver_is_not_a_regression_in_the_comparison(tmp_path):
    waiver = {"service": "toy", "check": "uses_shared_ci_workflow", "reason": "sunset in Q4", "approver": "cto",
              "created": "2026-09-20", "expires": "2026-10-15"}
    path = publish(config_for(tmp_path, waivers=[waiver]), HISTORY)
    changes = readmodel.check_changes(path, "ready", D2, D3, None, None)
    toy = changes[changes["service"] == "toy"].iloc[0]
    assert (toy["change"], toy["status_before"], toy["status_after"]) == ("waiver expired", "waived", "fail")
    assert "regressed" not in changes["change"].tolist()
    moves = readmodel.level_moves(path, "ready", D2, D3, None)
    assert moves.set_index("service").loc["toy", "waiver_expired"]
    # the waiver counted as done while it held, and the work came back when it ended
    assert progress(path, "ci")[D2] == (3, 1, 1) and progress(path, "ci")[D3] == (3, 1, 1)
    soon = readmodel.expiring_waivers(path, dt.date(2026, 10, 1), 30)
    assert soon[["service", "days_left", "approver"]].values.tolist() == [["toy", 14, "cto"]]
    assert readmodel.expiring_waivers(path, dt.date(2026, 9, 1), 30).empty


def test_a_file_published_without_the_programme_reads_as_no_initiatives(tmp_path):
    config = config_for(tmp_path)
    publish(config, {D1: HISTORY[D1]})
    bare = warehouse.publish(config.warehouse_path, tmp_path / "bare.duckdb")
    assert readmodel.initiative_summary(str(bare), D1).empty
    assert readmodel.expiring_waivers(str(bare), D1, 30).empty


@pytest.mark.parametrize(("change", "message"), [
    ({"goal": {"scorecard": "redy", "checks": ["has_codeowners"]}},
     "initiatives[0].goal.scorecard: unknown scorecard 'redy'; did you mean 'ready'?"),
    ({"goal": {"scorecard": "ready", "level": "silvr"}},
     "initiatives[0].goal.level: unknown level 'silvr'; did you mean 'silver'?"),
    ({"goal": {"scorecard": "ready", "checks": ["has_readme"]}},
     "initiatives[0].goal.checks[0]: check 'has_readme' is not in scorecard 'ready'"),
    ({"goal": {"scorecard": "ready", "checks": ["uses_shared_ci"]}},
     "initiatives[0].goal.checks[0]: unknown check 'uses_shared_ci'; did you mean 'uses_shared_ci_workflow'?"),
    ({"goal": {"scorecard": "ready", "checks": ["has_codeowners"], "level": "silver"}},
     "a goal is either `checks: [...]` or `level: <name>`"),
    ({"deadline": "2026-09-01"}, "deadline 2026-09-01 is before start 2026-10-01"),
])
def test_initiative_mistakes_name_the_key_and_the_nearest_valid_value(tmp_path, change, message):
    initiative = {"name": "x", "owner": "p", "goal": {"scorecard": "ready", "checks": ["has_codeowners"]},
                  "start": "2026-10-01", "deadline": "2026-12-01", **change}
    with pytest.raises(ConfigError) as err:
        config_for(tmp_path, initiatives=[initiative])
    assert message in str(err.value)


def test_waivers_are_bounded_by_the_waiver_policy(tmp_path):
    long = {"service": "a", "check": "has_codeowners", "reason": "r", "created": "2026-01-01", "expires": "2026-12-01"}
    with pytest.raises(ConfigError) as err:
        config_for(tmp_path, waivers=[long])
    assert "waivers[0].expires: expires 2026-12-01 is 334 days after created 2026-01-01; waivers last at most 180 days" \
        in str(err.value)
    assert config_for(tmp_path, waivers=[long], waiver_policy={"max_days": 365}).waivers[0].expires == dt.date(2026, 12, 1)
    with pytest.raises(ConfigError, match=r"waivers\[0\].approver: waiver_policy.require_approver is on"):
        config_for(tmp_path, waivers=[{**long, "expires": "2026-02-01"}], waiver_policy={"require_approver": True})
    with pytest.raises(ConfigError, match="initiative 'ci' is already initiatives"):
        config_for(tmp_path, initiatives=[
            {"name": "ci", "owner": "p", "goal": {"checks": ["has_codeowners"], "scorecard": "ready"},
             "start": "2026-10-01", "deadline": "2026-12-01"}] * 2)


# ------------------------------------------------------- incremental publish

DERIVED = (*programme.TABLES, "roi_cohorts", "derived_inputs")


def derived(path) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").df() for t in DERIVED}


def assert_as_full(config, served) -> None:
    """The served file's derived tables are those of a full publish of the same warehouse and config."""
    full = config.warehouse_path.with_name("full.duckdb")
    full.unlink(missing_ok=True)
    warehouse.publish(config.warehouse_path, full, derive=programme.derive(config), kept=programme.inputs(config),
                      incremental=False)
    expected, got = derived(full), derived(served)
    for table in DERIVED:
        pd.testing.assert_frame_equal(got[table], expected[table], obj=table)


def test_an_incremental_publish_derives_only_changed_dates_and_equals_a_full_one(tmp_path):
    config = config_for(tmp_path)
    served = publish(config, {D1: HISTORY[D1], D2: HISTORY[D2]})  # nothing served yet: a full publish
    publish(config, {D3: HISTORY[D3]})  # a date added
    assert_as_full(config, served)
    assert progress(served, "ci") == {D1: (1, 0, 3), D2: (2, 2, 2), D3: (3, 1, 1)}

    # Rows of a date nobody changed are kept, not derived again: a row altered in the served file stays.
    with duckdb.connect(served) as con:
        con.execute("UPDATE initiative_progress SET services_done = 99 WHERE snapshot = ? AND team = '*'", [D1])
    publish(config, {D2: HISTORY[D3]})  # D2 re-run (replaced): derived again; D1 kept as it is
    assert progress(served, "ci")[D1][0] == 99
    with pytest.raises(AssertionError, match="initiative_progress"):  # the comparison does catch a difference
        assert_as_full(config, served)

    with (warehouse.connect(config.warehouse_path) as con,  # retention (or an operator) removes D1
          warehouse.transaction(con, config.warehouse_path, "deleting")):
        warehouse.delete_snapshot(con, D1, "retention")
    publish(config, {})
    assert_as_full(config, served)
    assert set(progress(served, "ci")) == {D2, D3} and progress(served, "ci")[D2] == (3, 1, 1)

    # The initiatives changed (a later deadline): every date is derived again, unchanged data or not.
    with duckdb.connect(served) as con:
        con.execute("UPDATE initiative_progress SET services_done = 99 WHERE snapshot = ? AND team = '*'", [D3])
    later = config_for(tmp_path, initiatives=[
        {"name": "ci", "owner": "platform", "goal": {"scorecard": "ready", "checks": ["uses_shared_ci_workflow"]},
         "start": "2026-10-01", "deadline": "2026-10-31"}])
    publish(later, {})
    assert_as_full(later, served)
    assert progress(served, "ci") == {D2: (3, 0, 1), D3: (3, 0, 1)}


def test_a_served_file_without_input_digests_is_derived_in_full(tmp_path):
    config = config_for(tmp_path)
    served = publish(config, {D1: HISTORY[D1], D2: HISTORY[D2]})
    with duckdb.connect(served) as con:  # as an older release published it: no digests, a stale row
        con.execute("DROP TABLE derived_inputs")
        con.execute("UPDATE initiative_progress SET services_done = 99 WHERE snapshot = ?", [D1])
    publish(config, {D3: HISTORY[D3]})
    assert_as_full(config, served)
