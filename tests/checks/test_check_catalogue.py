"""The catalogue as a whole: its text, its coverage, and how checks behave as a set."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from checks.catalogue import all_checks, catalogue_markdown
from checks.evidence import ServiceEvidence
from checks.model import CATEGORIES, LEVELS, Check, CheckContext, Status, evaluate

from conftest import AS_OF, make_context, make_evidence

SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")


def test_catalogue_has_all_forty_six_checks_in_stable_order() -> None:
    checks = all_checks()
    assert len(checks) == 46  # 40 + two Crossplane + four GitOps checks
    assert checks == sorted(checks, key=lambda c: (c.category, c.id))
    assert {c.category for c in checks} == set(CATEGORIES)


@pytest.mark.parametrize("check", all_checks(), ids=lambda c: c.id)
def test_check_text_is_complete(check: Check) -> None:
    assert SNAKE.match(check.id)
    assert check.category in CATEGORIES
    assert check.level in LEVELS
    assert check.weight > 0
    for text in (check.title, check.rationale, check.remediation):
        assert text.strip()
    assert not check.title.endswith(".")
    assert check.rationale.endswith(".")
    assert check.doc == f"{check.category}/{check.id}"


def test_check_ids_are_unique() -> None:
    ids = [c.id for c in all_checks()]
    assert len(ids) == len(set(ids))


def test_every_level_has_checks_in_the_default_scorecard() -> None:
    assert {c.level for c in all_checks()} == set(LEVELS)


def test_catalogue_markdown_lists_every_check_once() -> None:
    table = catalogue_markdown()
    lines = table.strip().splitlines()
    assert lines[0] == "| id | category | level | weight | title | rationale |"
    assert len(lines) == 2 + 46
    for check in all_checks():
        assert sum(f"| `{check.id}` |" in line for line in lines) == 1
    # Every row has the same number of cells: a stray `|` in a rationale would add one.
    assert {line.replace("\\|", "").count("|") for line in lines} == {7}
    # The README reads bronze before gold within a category.
    golden = [line for line in lines[2:] if "| golden_path |" in line]
    assert "| bronze |" in golden[0] and "| gold |" in golden[-1]


def test_fully_passing_service_passes_every_check(evidence, ctx) -> None:
    findings = [evaluate(c, evidence, ctx) for c in all_checks()]
    failing = {f.check_id: (f.status, f.detail) for f in findings if f.status != Status.PASS}
    assert failing == {}
    assert all(f.remediation is None for f in findings)


def test_a_check_that_raises_becomes_an_error_finding(evidence, ctx) -> None:
    def broken(ev, c):
        raise KeyError("spec")

    check = replace(all_checks()[0], fn=broken)
    finding = evaluate(check, evidence, ctx)
    assert finding.status == Status.ERROR
    assert "KeyError" in finding.detail
    assert finding.remediation is None


def test_a_misconfigured_target_tier_never_reaches_a_check() -> None:
    # Refused when the thresholds are made (at config load), not read as "low" by the DORA checks.
    with pytest.raises(ValueError, match="platinum"):
        replace(make_context().thresholds, dora_target_tier="platinum")


def _know_nothing(**changes) -> ServiceEvidence:
    fields = dict(
        service="mystery",
        identity_rule="config",
        repo=None,
        path="",
        team=None,
        owner_source=None,
        as_of=AS_OF,
    )
    fields.update(changes)
    return ServiceEvidence(**fields)


@pytest.mark.parametrize(
    "evidence",
    [
        _know_nothing(),
        _know_nothing(repo="mystery", repo_error="git clone failed: repository is empty"),
        _know_nothing(repo="mystery", repo_error="API error 502", cluster_workloads=[], cluster_errors=["prod-eu"]),
    ],
    ids=["no-repo", "repo-not-crawled", "cluster-failed"],
)
def test_missing_data_is_never_a_fail(evidence: ServiceEvidence) -> None:
    """DESIGN.md: missing data is `unknown`, never `fail` (and never a crash)."""
    ctx = make_context()
    statuses = {c.id: evaluate(c, evidence, ctx).status for c in all_checks()}
    assert {s for s in statuses.values()} <= {Status.UNKNOWN, Status.NOT_APPLICABLE}, statuses


def test_workload_unknown_names_the_failed_cluster() -> None:
    ev = _know_nothing(repo="mystery", repo_error="API error 502", cluster_workloads=[], cluster_errors=["prod-eu"])
    finding = evaluate(next(c for c in all_checks() if c.id == "has_readiness_probes"), ev, make_context())
    assert "clusters failed: prod-eu" in finding.detail


def test_no_golden_paths_configured_means_not_applicable(evidence) -> None:
    ctx = CheckContext(as_of=AS_OF)
    # Pinning and revision drift judge what the service itself pins, whatever the platform configures.
    own_pins = {"terraform_modules_pinned", "composition_revision_up_to_date"}
    golden = [c for c in all_checks() if c.category == "golden_path" and c.id not in own_pins]
    assert {evaluate(c, evidence, ctx).status for c in golden} == {Status.NOT_APPLICABLE}


def test_checks_do_not_change_the_evidence(evidence, ctx) -> None:
    before = make_evidence()
    for check in all_checks():
        evaluate(check, evidence, ctx)
    assert evidence == before


# The only imports a pure check module may have (DESIGN.md: checks/ does no I/O).
# packaging (versions) and wcmatch (GitHub's branch globs) are pure string libraries.
_PURE_IMPORTS = {"__future__", "checks", "collections", "dataclasses", "difflib", "enum", "fnmatch", "functools", "posixpath", "re", "types",
                 "datetime", "typing", "packaging", "wcmatch"}


def test_check_modules_import_nothing_that_does_io() -> None:
    import ast
    from pathlib import Path

    import checks

    package = Path(checks.__file__).parent
    for module in sorted(package.glob("*.py")):
        tree = ast.parse(module.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                roots = {(node.module or "").split(".")[0]}
            else:
                continue
            assert roots <= _PURE_IMPORTS, f"{module.name} imports {roots - _PURE_IMPORTS}"
