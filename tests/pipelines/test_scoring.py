"""Levels and weighted scores, set-based over check results."""

import datetime as dt

import pandas as pd
import pytest

from pipelines.config import parse_config
from pipelines.scoring import apply_waivers, score


@pytest.fixture
def config(tmp_path):
    return parse_config(
        {
            "scorecards": [
                {
                    "name": "default",
                    "levels": [
                        {"name": "bronze", "checks": ["has_codeowners", "has_readme"]},
                        {"name": "silver", "checks": ["has_readiness_probes"]},
                        {"name": "gold", "checks": ["has_pod_disruption_budget"]},
                    ],
                    "weights": {"has_readme": 1, "has_codeowners": 3, "has_readiness_probes": 2, "has_pod_disruption_budget": 4},
                }
            ],
            "waivers": [
                {"service": "waived", "check": "has_readiness_probes", "reason": "batch job", "expires": "2099-01-01"},
                {"service": "expired", "check": "has_readiness_probes", "reason": "old", "expires": "2020-01-01"},
            ],
        },
        "test.yaml",
        tmp_path,
    )


def results(rows):
    return pd.DataFrame(
        [{"service": s, "team": "t", "check_id": c, "status": st} for s, c, st in rows],
        columns=["service", "team", "check_id", "status"],
    )


def four(service, codeowners, readme, probes, pdb):
    return [(service, "has_codeowners", codeowners), (service, "has_readme", readme),
            (service, "has_readiness_probes", probes), (service, "has_pod_disruption_budget", pdb)]


def levels(frame):
    return frame.set_index("service")[["level", "score_pct", "next_level", "checks_to_next_level"]].to_dict("index")


def test_levels_need_every_check_of_the_level_and_below(config):
    df = results(
        four("gold", "pass", "pass", "pass", "pass")
        + four("silver", "pass", "pass", "pass", "fail")
        + four("bronze", "pass", "pass", "fail", "pass")  # gold passes but silver does not: stays bronze
        + four("none", "fail", "pass", "pass", "pass")
    )
    out = levels(score(df, config)["service_scores"])
    assert out["gold"]["level"] == "gold" and pd.isna(out["gold"]["next_level"])
    assert out["silver"]["level"] == "silver" and out["silver"]["next_level"] == "gold"
    assert out["bronze"]["level"] == "bronze" and out["bronze"]["checks_to_next_level"] == 1
    assert out["none"]["level"] == "none" and out["none"]["next_level"] == "bronze"
    assert out["bronze"]["score_pct"] == pytest.approx(100 * 8 / 10)
    assert out["none"]["score_pct"] == pytest.approx(100 * 7 / 10)


def test_unknown_does_not_pass_and_not_applicable_is_skipped(config):
    df = results(four("a", "pass", "pass", "unknown", "pass") + four("b", "pass", "pass", "not_applicable", "pass"))
    out = levels(score(df, config)["service_scores"])
    assert out["a"]["level"] == "bronze"
    assert out["b"]["level"] == "gold"
    assert out["b"]["score_pct"] == pytest.approx(100.0)  # probes' weight left out of both sides


def test_waiver_counts_as_pass_until_it_expires(config):
    df = results(four("waived", "pass", "pass", "fail", "pass") + four("expired", "pass", "pass", "fail", "pass"))
    df = apply_waivers(df, config, dt.date(2026, 11, 26))
    assert df.set_index(["service", "check_id"]).loc[("waived", "has_readiness_probes"), "status"] == "waived"
    out = levels(score(df, config)["service_scores"])
    assert out["waived"]["level"] == "gold"
    assert out["expired"]["level"] == "bronze"
    reason = df.set_index(["service", "check_id"]).loc[("expired", "has_readiness_probes"), "waiver_reason"]
    assert "expired on 2020-01-01" in reason


def test_team_and_org_rollups(config):
    df = results(four("x", "pass", "pass", "pass", "pass") + four("y", "fail", "pass", "pass", "pass"))
    frames = score(df, config)
    org = frames["team_scores"].query("team == '*'").set_index("level")["level_services"].to_dict()
    assert org == {"gold": 1, "none": 1}
    rates = frames["check_pass_rates"].query("team == '*'").set_index("check_id")["pass_rate"]
    assert rates["has_codeowners"] == pytest.approx(0.5)  # a fraction, like change_failure_rate
