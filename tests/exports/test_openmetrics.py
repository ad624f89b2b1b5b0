"""`scorecard export metrics`: OpenMetrics a real parser accepts, with the published figures.

Parsed with prometheus_client's OpenMetrics parser (what the format's
reference client ships); expectations come from the frames the pipeline
computed (``built.frames``), not from the exporter's SQL.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from pipelines.exports.openmetrics import escape_label, render
from pipelines.readmodel.exports import MetricFigures
from tests.exports.conftest import HOSTILE_SERVICES, scorecard


def families(text: str) -> dict:
    return {f.name: f for f in text_string_to_metric_families(text)}


def samples(fams: dict, name: str) -> dict[tuple, float]:
    """{sorted label items: value} of one family."""
    return {tuple(sorted(s.labels.items())): s.value for s in fams[name].samples}


@pytest.fixture(scope="module")
def exported(built, tmp_path_factory) -> tuple[str, dict]:
    out = tmp_path_factory.mktemp("metrics") / "metrics.txt"
    scorecard("export", "metrics", "--config", str(built.config), "--out", str(out))
    text = out.read_text(encoding="utf-8")
    return text, families(text)


def test_the_file_is_openmetrics_a_parser_accepts(exported):
    text, fams = exported
    assert text.endswith("# EOF\n")
    assert {f.type for f in fams.values()} <= {"gauge", "info"}
    for name, family in fams.items():
        assert name.startswith("scorecard_") and family.documentation, name


def test_snapshot_info_names_the_latest_complete_snapshot(built, exported):
    _, fams = exported
    (sample,) = fams["scorecard_snapshot"].samples
    assert sample.labels["snapshot"] == built.latest.isoformat()


def test_adoption_share_per_golden_path_keeps_unknown_apart(built, exported):
    _, fams = exported
    summary = built.at("adoption_summary")
    ratios = samples(fams, "scorecard_golden_path_adoption_ratio")
    counts = samples(fams, "scorecard_golden_path_services")
    org = summary[summary["team"] == "*"]
    assert len(org) >= 3
    for r in org.itertuples():
        # The organisation's published share, and the same share from the team counts (unknown left out).
        assert ratios[(("golden_path", r.golden_path), ("team", "*"))] == pytest.approx(r.adoption_share)
        team_rows = {k: v for k, v in counts.items() if ("golden_path", r.golden_path) in k}
        by_state = {state: sum(v for k, v in team_rows.items() if ("adoption", state) in k)
                    for state in ("adopted", "not_adopted", "unknown")}
        assert by_state == {"adopted": r.adopted, "not_adopted": r.not_adopted, "unknown": r.unknown}
        assert r.adopted / (r.adopted + r.not_adopted) == pytest.approx(r.adoption_share)
    # Summable counts never carry the organisation's row (a sum over teams would count it twice).
    assert not any(("team", "*") in k for k in counts)
    assert any(v > 0 for k, v in counts.items() if ("adoption", "unknown") in k)


def test_services_per_level_per_scorecard_per_team(built, exported):
    _, fams = exported
    scores = built.at("service_scores").assign(team=lambda d: d["team"].fillna("(no owner)"))
    want = scores.groupby(["scorecard", "team", "level"]).size()
    got = samples(fams, "scorecard_services")
    assert got == {(("level", lv), ("scorecard", sc), ("team", t)): n for (sc, t, lv), n in want.items()}
    assert sum(got.values()) == len(scores)


def test_team_dora_as_published_in_seconds(built, exported):
    _, fams = exported
    team_dora = built.at("team_dora")
    lead = samples(fams, "scorecard_team_lead_time_p50_seconds")
    freq = samples(fams, "scorecard_team_deploy_frequency_days_per_week")
    cfr = samples(fams, "scorecard_team_change_failure_ratio")
    restore = samples(fams, "scorecard_team_time_to_restore_seconds")
    tiers = samples(fams, "scorecard_team_dora_tier")
    for r in team_dora.itertuples():
        key = (("team", r.team),)
        for got, value, factor in ((lead, r.lead_time_p50_hours, 3600), (freq, r.deploy_days_per_week, 1),
                                   (cfr, r.change_failure_rate, 1), (restore, r.time_to_restore_hours, 3600)):
            if pd.isna(value):
                assert key not in got  # unknown is no sample, not 0
            else:
                assert got[key] == pytest.approx(value * factor)
        if pd.notna(r.lead_time_tier):
            assert tiers[(("metric", "lead_time"), ("team", r.team), ("tier", r.lead_time_tier))] == 1
    assert (("team", "*"),) in freq


def test_check_pass_counts(built, exported):
    _, fams = exported
    rates = built.at("check_pass_rates")
    rates = rates[rates["team"] != "*"]
    got = samples(fams, "scorecard_check_results")
    for r in rates.head(200).itertuples():
        base = (("check", r.check_id), ("result", "passing"), ("scorecard", r.scorecard), ("team", r.team))
        assert got[base] == r.passing
    org = built.at("check_pass_rates", team="*")
    total = org.groupby("scorecard")["passing"].sum()
    for sc, n in total.items():
        assert sum(v for k, v in got.items() if ("scorecard", sc) in k and ("result", "passing") in k) == n


def test_hostile_team_and_service_names_survive_as_label_values(hostile):
    # `--out -`: the text on stdout, as a pipe into another tool would take it.
    text = scorecard("export", "metrics", "--config", str(hostile.config), "--out", "-").stdout
    fams = families(text)
    teams = {s.labels["team"] for s in fams["scorecard_services"].samples}
    assert teams == set(HOSTILE_SERVICES.values())
    scorecards = {s.labels["scorecard"] for s in fams["scorecard_services"].samples}
    assert scorecards == {"default", '../"odd" <scorecard>'}
    # The one `# EOF` is the last line: no name started a line of its own.
    lines = text.splitlines()
    assert lines.count("# EOF") == 1 and lines[-1] == "# EOF"
    assert all(line.startswith(("# TYPE ", "# HELP ", "scorecard_")) for line in lines[:-1])


@pytest.mark.parametrize("value", [
    'a"b', "back\\slash", "trailing\\", "new\nline", "\\n literal", '"} 1\n# EOF\nx{y="', "tab\there", "cr\rhere",
    "ünïcødé 团队 🚀", "", " ", "{}", "=,",
])
def test_any_label_value_round_trips_through_the_parser(value):
    figures = MetricFigures(snapshot=None, published_at=None,
                            levels=pd.DataFrame([{"scorecard": value, "team": value, "level": value, "level_rank": 1,
                                                  "services": 3}]),
                            adoption=pd.DataFrame(columns=["team"]), dora=pd.DataFrame(columns=["team"]),
                            checks=pd.DataFrame(columns=["scorecard", "team", "check_id", "passing", "failing",
                                                         "unknown", "applicable"]))
    (sample,) = families(render(figures))["scorecard_services"].samples
    assert sample.labels == {"scorecard": value, "team": value, "level": value}
    assert "\n" not in escape_label(value)


def test_missing_figures_are_left_out_not_zero():
    figures = MetricFigures(
        snapshot=None, published_at=None, adoption=pd.DataFrame(columns=["team"]),
        levels=pd.DataFrame(columns=["scorecard", "team", "level", "level_rank", "services"]),
        dora=pd.DataFrame([{"team": "t", "services": 1, "lead_time_p50_hours": math.nan, "deploy_days_per_week": 0.0,
                            "change_failure_rate": None, "time_to_restore_hours": 2.5, "lead_time_tier": None,
                            "deploy_frequency_tier": "low", "change_failure_tier": None, "restore_tier": "high"}]),
        checks=pd.DataFrame(columns=["scorecard", "team", "check_id", "passing", "failing", "unknown", "applicable"]))
    fams = families(render(figures))
    assert samples(fams, "scorecard_team_lead_time_p50_seconds") == {}
    assert samples(fams, "scorecard_team_change_failure_ratio") == {}
    assert samples(fams, "scorecard_team_deploy_frequency_days_per_week") == {(("team", "t"),): 0}
    assert samples(fams, "scorecard_team_time_to_restore_seconds") == {(("team", "t"),): 9000}
    assert len(fams["scorecard_team_dora_tier"].samples) == 2
