"""`scorecard waive` and `scorecard waivers` as a user runs them, on config files written by hand."""

from __future__ import annotations

import datetime as dt
import difflib
import json

import pytest

from pipelines import cli
from pipelines.config import load_config
from tests.pipelines.test_programme import D3, HISTORY, config_for, publish

TODAY = dt.datetime.now(dt.UTC).date()

HAND_WRITTEN = """\
# Platform scorecard for acme: reviewed by the platform team.
organisation: acme   # GitHub org

scorecards:
    - name: ready   # the only scorecard
      levels:
          - name: bronze
            checks: [has_codeowners, uses_shared_ci_workflow]
          - {name: silver, checks: [has_readiness_probes]}

waivers:
    # Keep this list short: every waiver is debt.
    - service: api
      check: has_codeowners
      reason: 'owners being decided in ORG-7'   # quoted on purpose
      expires: {soon}

warehouse:
    path: wh.duckdb
    serving_path: serving.duckdb   # what the dashboard reads
"""


def write(tmp_path, text=HAND_WRITTEN):
    path = tmp_path / "scorecard.yaml"
    path.write_text(text.replace("{soon}", (TODAY + dt.timedelta(days=10)).isoformat()), encoding="utf-8")
    return path


def waive(path, *args):
    return cli.main(["waive", *args, "--config", str(path)])


def test_waive_adds_an_entry_and_keeps_every_comment_and_the_layout(tmp_path, capsys):
    path = write(tmp_path)
    before = path.read_text()
    until = TODAY + dt.timedelta(days=60)
    assert waive(path, "web", "has_readiness_probes", "--reason", "batch job: no HTTP endpoint",
                 "--until", until.isoformat(), "--approver", "jane@acme.example") == 0
    after = path.read_text()
    added = [line[2:] for line in difflib.ndiff(before.splitlines(), after.splitlines()) if line.startswith("+ ")]
    removed = [line for line in difflib.ndiff(before.splitlines(), after.splitlines()) if line.startswith("- ")]
    assert removed == []  # nothing of the file changed: comments, quotes, flow lists and indentation stay
    assert added == [
        "    - service: web",
        "      check: has_readiness_probes",
        "      reason: 'batch job: no HTTP endpoint'",
        "      approver: jane@acme.example",
        f"      created: {TODAY.isoformat()}",
        f"      expires: {until.isoformat()}",
    ]
    assert after.index("service: web") < after.index("\nwarehouse:")  # inside the waivers list
    waiver = load_config(path).waivers[-1]
    assert (waiver.service, waiver.approver, waiver.created, waiver.expires) == ("web", "jane@acme.example", TODAY, until)
    out = capsys.readouterr().out
    assert "Added waiver for web / has_readiness_probes" in out and "pull request" in out


def test_waive_renews_the_waiver_of_the_same_service_and_check_in_place(tmp_path):
    path = write(tmp_path)
    until = TODAY + dt.timedelta(days=30)
    assert waive(path, "api", "has_codeowners", "--reason", "ORG-7 slipped", "--until", until.isoformat()) == 0
    config = load_config(path)
    assert len(config.waivers) == 1
    assert (config.waivers[0].reason, config.waivers[0].expires) == ("ORG-7 slipped", until)
    assert "# Keep this list short: every waiver is debt." in path.read_text()


def test_waive_without_a_waivers_section_adds_one(tmp_path):
    path = write(tmp_path, "# just sources\norganisation: acme\n")
    assert waive(path, "api", "has_readme", "--reason", "r", "--until", (TODAY + dt.timedelta(days=5)).isoformat()) == 0
    assert path.read_text().startswith("# just sources\norganisation: acme\n")
    assert load_config(path).waivers[0].check == "has_readme"


@pytest.mark.parametrize(("args", "message"), [
    (["api", "has_codeownrs", "--reason", "r", "--until", "+5"], "unknown check 'has_codeownrs'; did you mean 'has_codeowners'?"),
    (["api", "has_readme", "--reason", "r", "--until", "2020-01-01"], "--until 2020-01-01 is in the past"),
    (["api", "has_readme", "--reason", "r", "--until", "+400"], "waivers last at most 180 days (waiver_policy.max_days)"),
    (["api", "has_readme", "--reason", "r", "--until", "next week"], "--until 'next week' is not a date"),
    (["api", "has_readme", "--reason", "  ", "--until", "+5"], "--reason is empty"),
])
def test_waive_refuses_bad_input_and_leaves_the_file_alone(tmp_path, capsys, args, message):
    path = write(tmp_path)
    before = path.read_text()
    args = [(TODAY + dt.timedelta(days=int(a[1:]))).isoformat() if a.startswith("+") else a for a in args]
    assert waive(path, *args) == 2
    assert message in capsys.readouterr().err
    assert path.read_text() == before


def test_waive_checks_the_service_against_the_latest_published_snapshot(tmp_path, capsys):
    config = config_for(tmp_path)
    publish(config, {D3: HISTORY[D3]})
    path = write(tmp_path)  # same warehouse paths, so it reads the snapshot just published
    until = (TODAY + dt.timedelta(days=20)).isoformat()
    assert waive(path, "bach", "has_codeowners", "--reason", "r", "--until", until) == 2
    assert f"no service named 'bach' in the snapshot of {D3}; did you mean batch?" in capsys.readouterr().err
    assert waive(path, "batch", "has_codeowners", "--reason", "r", "--until", until) == 0
    assert "not checked" not in capsys.readouterr().out


def test_waive_requires_an_approver_when_the_policy_says_so(tmp_path, capsys):
    path = write(tmp_path, HAND_WRITTEN + "waiver_policy:\n    require_approver: true\n")
    # the existing waiver has no approver either: the config itself is refused first, naming it
    assert waive(path, "api", "has_readme", "--reason", "r", "--until", (TODAY + dt.timedelta(days=3)).isoformat()) == 2
    assert "waivers[0].approver: waiver_policy.require_approver is on" in capsys.readouterr().err


def test_waivers_expiring_lists_the_soonest_first_with_expired_ones(tmp_path, capsys):
    text = HAND_WRITTEN.replace("waivers:\n", "waivers:\n    - {service: old, check: has_readme, reason: lapsed, "
                                f"expires: {(TODAY - dt.timedelta(days=3)).isoformat()}}}\n"
                                "    - {service: far, check: has_readme, reason: later, approver: bob, "
                                f"expires: {(TODAY + dt.timedelta(days=90)).isoformat()}}}\n")
    path = write(tmp_path, text)
    assert cli.main(["waivers", "--expiring", "30d", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "expired 3 days ago" in out and "10 days left" in out and "far" not in out
    assert out.index("old /") < out.index("api /")
    assert cli.main(["waivers", "--format", "json", "--config", str(path)]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(w["service"], w["days_left"], w["expired"], w["approver"]) for w in listed] == [
        ("old", -3, True, None), ("api", 10, False, None), ("far", 90, False, "bob")]
