"""The gate's rules that are not wiring: one level rule with the full run, its status rule, safe output."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pandas as pd

from checks import policy
from checks.catalogue import CATALOGUE
from checks.model import Status
from pipelines.config import parse_config
from pipelines.gate import GateReport, GateResult, ServiceGate
from pipelines.gate_output import (
    annotation,
    annotations,
    render_github,
    render_text,
    summary_markdown,
)
from pipelines.scoring import apply_waivers, score, score_rows


def _config():
    return parse_config({
        "scorecards": [
            {"name": "default"},
            {"name": "strict", "warn_passes": False, "levels": [
                {"name": "basic", "checks": ["has_readme", "has_codeowners"]},
                {"name": "solid", "checks": ["has_runbook", "template_up_to_date"]},
            ]},
        ],
        "waivers": [{"service": "svc-1", "check": "has_readme", "reason": "moving docs", "expires": "2999-01-01"},
                    {"service": "svc-2", "check": "has_readme", "reason": "old", "expires": "2000-01-01"}],
    }, "test", Path("."))


def test_score_rows_and_score_agree_on_every_service():
    """The gate scores with DuckDB tables, the run with pandas frames: same SQL, same answers."""
    rng = random.Random(3)
    statuses = [s.value for s in Status if s is not Status.WAIVED]
    rows = [{"service": f"svc-{i}", "team": f"team-{i % 3}", "check_id": cid, "status": rng.choice(statuses)}
            for i in range(40) for cid in CATALOGUE]
    config = _config()
    frame = apply_waivers(pd.DataFrame(rows), config, dt.date(2026, 12, 1))
    expected = score(frame, config)["service_scores"]
    got, results = score_rows(frame[["service", "team", "check_id", "status"]].to_dict("records"), config)
    columns = ["scorecard", "service", "level", "level_rank", "score_pct", "passed", "applicable", "next_level",
               "checks_to_next_level"]
    want = expected[columns].astype(object).where(expected[columns].notna(), None).to_dict("records")
    assert [{c: r[c] for c in columns} for r in got] == want
    blocks = score(frame, config)["scorecard_results"]
    expected_blocks = sorted(zip(blocks["scorecard"], blocks["service"], blocks["check_id"],
                                 blocks["blocks_next_level"].astype(bool), strict=True))
    assert sorted((r["scorecard"], r["service"], r["check_id"], bool(r["blocks_next_level"])) for r in results) \
        == expected_blocks
    assert len(results) == len(rows) + 40 * 4  # default: every check; strict: its four


def test_in_the_gate_unknown_is_skipped_and_everything_else_is_unchanged():
    assert policy.gate_status("unknown") == "not_applicable"
    for status in Status:
        if status is not Status.UNKNOWN:
            assert policy.gate_status(status.value) == status.value


def _report(service: str, detail: str, file: str | None = "k8s/deployment.yaml") -> GateReport:
    result = GateResult(check_id="has_readme", title="Has a README", level="bronze", rank=1, status="fail",
                        detail=detail, remediation="Add README.md", doc_url="https://docs.example.com/x",
                        file=file, line=None, blocking=True)
    svc = ServiceGate(service=service, path="", team="payments", identity_rule="catalog", level="none",
                      level_rank=0, score_pct=50.0, next_level="bronze", below=True, horizon=1, results=[result])
    return GateReport(repo="r", root="/r", commit="abc", scorecard="default", levels=["bronze"], fail_under="bronze",
                      checks=[], services=[svc], problems=[("a,b:c.yaml", "line 3, column 1: bad\n::error::x")])


def test_annotations_escape_what_the_runner_would_read_as_syntax():
    assert annotation("error", "50% done\r\nnext", file="a,b:c.yaml", line=3, title="t: x, y") == \
        "::error file=a%2Cb%3Ac.yaml,line=3,title=t%3A x%2C y::50%25 done%0D%0Anext"
    assert annotation("warning", "m") == "::warning::m"


def test_text_from_the_repository_cannot_inject_workflow_commands_or_escapes():
    hostile = "svc\n::add-mask::secret\x1b]8;;http://evil\x07"
    out = render_github(_report(hostile, "detail\n::set-env name=X::1"))
    lines = out.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("::stop-commands::"))
    assert all(not ln.startswith("::") for ln in lines[start + 1:-1])
    assert all(ln.startswith(("::error ", "::warning ")) for ln in lines[:start])
    assert "\x1b" not in out
    warning = next(ln for ln in lines if ln.startswith("::warning"))
    assert warning.startswith("::warning file=a%2Cb%3Ac.yaml,line=3,title=")
    text = render_text(_report(hostile, "d"))
    assert "\x1b" not in text and "\n::add-mask" not in text


def test_the_summary_table_cells_cannot_break_the_table():
    md = summary_markdown(_report("a|b<script>", "x"))
    row = next(ln for ln in md.splitlines() if ln.startswith("| a"))
    assert row.startswith("| a\\|b&lt;script&gt; | none | 50.0 % | ❌ below bronze |")
    assert row.count(" | ") == 4


def test_the_readme_shows_the_reusable_workflow_as_it_is():
    import yaml

    root = Path(__file__).resolve().parents[2]
    workflow = (root / ".github" / "workflows" / "scorecard-gate.yml").read_text()
    assert f"```yaml\n{workflow}```" in (root / "README.md").read_text()
    parsed = yaml.safe_load(workflow)
    triggers = parsed.get("on", parsed.get(True))  # YAML 1.1 reads the key `on` as true
    assert set(triggers) == {"workflow_call"}
    assert set(triggers["workflow_call"]["inputs"]) >= {"fail-under", "checks", "scorecard", "config"}
    run = parsed["jobs"]["gate"]["steps"][-1]["run"]
    assert "${{" not in run and "--format github" in run


def test_what_fails_the_gate_is_annotated_first():
    """GitHub shows ten errors per step: services below the bar and failing --check results lead."""
    def result(check_id, rank, named=False):
        return GateResult(check_id=check_id, title=check_id, level=["bronze", "silver", "gold"][rank - 1], rank=rank,
                          status="fail", detail="d", remediation=None, doc_url="u", blocking=True, named=named)

    ok = ServiceGate(service="a", path="", team=None, identity_rule="repo", level="silver", level_rank=2,
                     score_pct=80.0, next_level="gold", below=False, horizon=3,
                     results=[result("has_slo_defined", 3), result("has_runbook", 3, named=True)])
    low = ServiceGate(service="b", path="", team=None, identity_rule="repo", level="none", level_rank=0,
                      score_pct=10.0, next_level="bronze", below=True, horizon=2,
                      results=[result("has_readme", 1), result("has_liveness_probes", 2)])
    report = GateReport(repo="r", root="/r", commit="abc", scorecard="default", levels=["bronze", "silver", "gold"],
                        fail_under="silver", checks=["has_runbook"], services=[ok, low], problems=[])
    titles = [a.split("title=", 1)[1].split("::", 1)[0] for a in annotations(report)]
    assert titles == ["scorecard%3A b below silver", "a%3A has_runbook (gold) fail", "b%3A has_readme (bronze) fail",
                      "b%3A has_liveness_probes (silver) fail", "a%3A has_slo_defined (gold) fail"]
