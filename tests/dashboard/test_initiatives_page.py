"""The Initiatives page and `scorecard initiatives` on the pipeline's published history.

Expectations are counted with pandas from the frames the pipeline wrote
(``built.frames``: scorecard_results, services), not from the programme's SQL.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import pytest

from pipelines import cli
from pipelines.config import load_config
from tests.dashboard.test_dashboard_pages import frame, metrics, texts

CI = "Shared CI and CODEOWNERS everywhere"  # the demo's initiative whose deadline has passed
SILVER = "Production services at silver readiness"  # the running one


def expected(built, name: str, snapshot: dt.date | None = None) -> dict:
    """Services done / not done for a demo initiative, from the published results."""
    ini = next(i for i in load_config(built.config).initiatives if i.name == name)
    snapshot = snapshot or built.latest
    services = built.at("services", snapshot)
    if ini.scope.lifecycle:
        services = services[services["lifecycle"].isin(ini.scope.lifecycle)]
    sr = built.at("scorecard_results", snapshot, scorecard=ini.goal.scorecard)
    if ini.goal.checks:
        goal = sr["check_id"].isin(ini.goal.checks)
    else:
        rank = sr.loc[sr["level"] == ini.goal.level, "level_rank"].max()
        goal = sr["level_rank"] <= rank
    left = sr[goal & sr["applicable"] & ~sr["counts_as_pass"].astype(bool)]
    left = left[left["service"].isin(services["service"])]
    remaining = set(left["service"])
    return {"services": len(services), "done": len(services) - len(remaining), "remaining": remaining,
            "items_left": len(left), "overdue": remaining if snapshot > ini.deadline else set(), "deadline": ini.deadline}


def test_the_demo_has_an_overdue_initiative_and_a_running_one(built) -> None:
    ci, silver = expected(built, CI), expected(built, SILVER)
    assert ci["overdue"] and 0 < ci["done"] < ci["services"], "the past initiative is partly done, the rest overdue"
    assert silver["deadline"] > built.latest and silver["remaining"] and not silver["overdue"]


def test_initiatives_page_shows_progress_deadline_teams_and_work_left(open_page, built) -> None:
    exp = expected(built, CI)
    at = open_page("initiatives", initiative=CI)
    assert not at.exception, [e.value for e in at.exception]
    shown = metrics(at)
    assert shown["Services done"] == f"{exp['done']} of {exp['services']}"
    assert shown["Overdue"] == str(len(exp["overdue"]))
    assert shown["Deadline"] == f"{exp['deadline']:%Y-%m-%d}"
    assert "Burn-down of " + CI in texts(at)
    work = frame(at, "overdue", "True")
    assert {o.split("service=")[1].split("&")[0] for o in work["open"]} == exp["remaining"]
    assert work["overdue"].all() and work["remediation"].str.len().gt(0).all()
    teams = frame(at, "services_overdue", "1")
    assert teams["services_remaining"].sum() == len(exp["remaining"])


def test_running_initiative_and_team_filter(open_page, built) -> None:
    exp = expected(built, SILVER)
    at = open_page("initiatives", initiative=SILVER)
    assert metrics(at)["Services remaining"] == str(len(exp["remaining"]))
    assert metrics(at)["Overdue"] == "0"
    assert "days left" in next(m.delta for m in at.metric if m.label == "Deadline")


def test_expiring_waivers_on_the_page(open_page, built) -> None:
    at = open_page("initiatives", expiring="90")
    waivers = frame(at, "approver", "platform-lead@acme.example")
    config = load_config(built.config)
    today = dt.datetime.now(dt.UTC).date()
    assert len(waivers) == sum(1 for w in config.waivers if (w.expires - today).days <= 90)
    assert (waivers["days_left"] < 0).any(), "the demo's lapsed waiver is listed as expired"


def test_scorecard_initiatives_json_matches_the_published_results(built, capsys) -> None:
    assert cli.main(["initiatives", "--format", "json", "--config", str(built.config)]) == 0
    report = {i["initiative"]: i for i in json.loads(capsys.readouterr().out)}
    for name in (CI, SILVER):
        exp = expected(built, name)
        got = report[name]
        assert (got["services"], got["services_done"], got["items_remaining"]) == (
            exp["services"], exp["done"], exp["items_left"])
        assert {r["service"] for r in got["remaining"]} == exp["remaining"]
        assert got["overdue"] == bool(exp["overdue"])
    assert cli.main(["initiatives", "--config", str(built.config), "--snapshot", built.previous.isoformat()]) == 0
    text = capsys.readouterr().out
    assert f"snapshot {built.previous}" in text and "deadline passed" in text


def test_scorecard_initiatives_as_a_subprocess(built) -> None:
    done = subprocess.run([sys.executable, "-m", "pipelines.cli", "initiatives", "--config", str(built.config)],
                          check=False, capture_output=True, text=True, timeout=120, env={**os.environ, "NO_COLOR": "1"})
    assert done.returncode == 0, done.stderr
    assert CI in done.stdout and "OVERDUE" in done.stdout and "services overdue" in done.stdout


@pytest.mark.parametrize("argv", [["initiatives"], ["waivers", "--expiring", "30d"]])
def test_programme_commands_without_a_snapshot_or_config_say_what_to_do(tmp_path, capsys, argv) -> None:
    assert cli.main([*argv, "--config", str(tmp_path / "none.yaml")]) == 2
    assert "config file not found" in capsys.readouterr().err


def test_compare_page_shows_an_expired_waiver_apart_from_regressions(open_page, built) -> None:
    config = load_config(built.config)
    pairs = list(zip(built.snapshots, built.snapshots[1:], strict=False))
    lapsed = next(w for w in config.waivers if w.expires < built.latest)
    before, after = next((a, b) for a, b in pairs if a <= lapsed.expires < b)
    at = open_page("compare", **{"from": before.isoformat(), "to": after.isoformat()})
    assert not at.exception, [e.value for e in at.exception]
    assert "Waivers that expired" in texts(at)
    expired = frame(at, "check_id", lapsed.check)
    assert expired["open"].str.endswith(f"service={lapsed.service}").any()
    assert {"status_before", "status_after"} <= set(expired.columns)
    regressed = [df.value for df in at.dataframe if "status_before" in df.value.columns]
    flagged = [df for df in regressed if df["check_id"].eq(lapsed.check).any()]
    assert len(flagged) == 1, "the lapsed waiver is listed once, as expired, not among the regressions"
