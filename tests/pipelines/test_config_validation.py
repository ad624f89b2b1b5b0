"""scorecard.yaml mistakes are refused, all of them at once, each at its key path."""

from __future__ import annotations

import datetime as dt
import re

import duckdb
import pytest

from pipelines.cli import main
from pipelines.config import ConfigError, load_config

BAD = """\
doc_base_url: "javascript:alert(document.cookie)"
thresholds:
  min_replica: 3
  dora_target_tier: superb
  template_max_releases_behind: -1
scorecards:
  - name: default
    weights: {has_readme: 0, has_codeowners: -2}
    levels:
      - name: bronze
        checks: [has_readme, has_codeowners, has_readme]
      - name: Bronze
        checks: [has_codeowners]
      - name: none
        checks: [has_security_policy]
      - name: gold
        checks: []
  - name: empty
    levels: []
  - name: default
waivers:
  - {service: payments-api, check: has_unicorns, reason: x, expires: 2027-01-01}
"""


def errors(tmp_path, text: str) -> list[str]:
    path = tmp_path / "scorecard.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    lines = str(exc.value).splitlines()
    assert lines[0] == f"{path}: invalid configuration"
    return [line.strip() for line in lines[1:]]


def test_every_mistake_in_the_file_is_reported_at_once(tmp_path):
    found = errors(tmp_path, BAD)
    expected = [
        r"^doc_base_url: expected an http\(s\) URL",
        r"^thresholds\.min_replica: unknown threshold 'min_replica'; did you mean 'min_replicas'\?",
        r"^thresholds\.dora_target_tier: expected one of low, medium, high, elite, got 'superb'",
        r"^thresholds\.template_max_releases_behind: expected a whole number, 0 or more, got -1",
        r"^scorecards\[0\]\.weights\.has_readme: a weight is a whole number above 0, got 0",
        r"^scorecards\[0\]\.weights\.has_codeowners: a weight is a whole number above 0, got -2",
        r"^scorecards\[0\]\.levels\[0\]\.checks\[2\]: check 'has_readme' is already in level 'bronze'",
        r"^scorecards\[0\]\.levels\[1\]\.name: level 'Bronze' is already levels\[0\]",
        r"^scorecards\[0\]\.levels\[1\]\.checks\[0\]: check 'has_codeowners' is already in level 'bronze'",
        r"^scorecards\[0\]\.levels\[2\]\.name: 'none' is what a service without any level is called",
        r"^scorecards\[0\]\.levels\[3\]\.checks: a level needs at least one check",
        r"^scorecards\[1\]\.levels: no levels listed",
        r"^scorecards\[2\]\.name: scorecard 'default' is already scorecards\[0\]",
        r"^waivers\[0\]\.check: unknown check 'has_unicorns'",
    ]
    for pattern in expected:
        assert any(re.search(pattern, line) for line in found), (pattern, found)
    assert len(found) == len(expected), found


@pytest.mark.parametrize("url", ["file:///etc/passwd", "docs.example.com/checks", "https://", "https://docs.example.com/a b"])
def test_doc_base_url_must_be_http(tmp_path, url):
    assert any(line.startswith("doc_base_url: expected an http(s) URL") for line in errors(tmp_path, f"doc_base_url: '{url}'\n"))


def test_good_thresholds_and_levels_are_accepted(tmp_path):
    path = tmp_path / "scorecard.yaml"
    path.write_text(
        "doc_base_url: https://docs.acme.dev/scorecard/\n"
        "thresholds: {min_replicas: 3, dora_target_tier: Elite, require_cpu_limit: 1}\n"
        "scorecards:\n  - name: strict\n    weights: {has_readme: 5}\n    exclude: [has_autoscaler]\n"
        "    levels:\n      - {name: basic, checks: [has_readme]}\n      - {name: solid, checks: [has_codeowners]}\n"
    )
    config = load_config(path)
    assert config.doc_base_url == "https://docs.acme.dev/scorecard"
    assert (config.thresholds.min_replicas, config.thresholds.dora_target_tier, config.thresholds.require_cpu_limit) == (3, "elite", True)
    assert config.check_context(dt.date(2026, 1, 1)).thresholds is config.thresholds
    assert config.level_order("strict") == ["basic", "solid"]


def test_a_waiver_for_a_service_the_run_did_not_find_is_a_warning_and_a_problem_row(private_org, capsys):
    org = private_org
    text = org.config.read_text()
    waiver = "  - {service: payments-apii, check: has_readme, reason: typo in the name, expires: 2099-01-01}\n"
    org.config.write_text(text.replace("waivers:\n", "waivers:\n" + waiver, 1) if "waivers:\n" in text
                          else text + "waivers:\n" + waiver)
    code = main(["run", "--config", str(org.config)])
    err = capsys.readouterr().err
    assert code == 0
    assert "warning: waivers[" in err and "'payments-apii'" in err and "has no effect" in err
    con = duckdb.connect(str(org.serving), read_only=True)
    try:
        rows = con.execute("SELECT target, reason FROM problems WHERE source = 'config'").fetchall()
    finally:
        con.close()
    assert len(rows) == 1 and rows[0][0].startswith("waivers[") and "payments-apii" in rows[0][1]
