"""Every check, passing and failing (and unknown / not applicable / warn where the
data allows it), asserted on the text a service owner would read.

The cases live next to this file, one table per checks module
(cases_<module>.py), in the vocabulary of outcome_cases.py.

Each case starts from the fully passing service in conftest.py and changes
one fact. The coverage tests at the bottom make a new check without pass and
fail cases break the suite.
"""

from __future__ import annotations

import re

import pytest

from checks.catalogue import all_checks
from checks.model import CATALOGUE, evaluate

import cases_crossplane
import cases_delivery
import cases_gitops
import cases_golden_path
import cases_observability
import cases_ownership
import cases_reliability
import cases_security
from conftest import make_context, make_evidence
from outcome_cases import F, NA, P, Case

CASES = [
    *cases_golden_path.CASES,
    *cases_observability.CASES,
    *cases_ownership.CASES,
    *cases_delivery.CASES,
    *cases_reliability.CASES,
    *cases_security.CASES,
    *cases_crossplane.CASES,
    *cases_gitops.CASES,
]


def _run(case: Case):
    ev, ctx = case.mutate(make_evidence(), make_context())
    return evaluate(CATALOGUE[case.check_id], ev, ctx)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_check_outcome(case: Case) -> None:
    finding = _run(case)
    assert finding.status == case.status, finding.detail
    assert finding.detail
    for text in case.detail:
        assert text in finding.detail
    for text in case.remedy:
        assert text in (finding.remediation or "")
    for text in case.snippet:
        assert text in (finding.snippet or "")


@pytest.mark.parametrize("case", [c for c in CASES if c.status not in (P, NA)], ids=lambda c: c.id)
def test_findings_that_need_a_fix_read_as_finished_sentences(case: Case) -> None:
    finding = _run(case)
    assert finding.remediation
    # An unfilled `{placeholder}` means the outcome forgot a param the text needs.
    assert not re.search(r"\{[a-z_]+\}", finding.remediation), finding.remediation


def test_every_check_has_a_passing_case() -> None:
    assert {c.check_id for c in CASES if c.status == P} == {c.id for c in all_checks()}


def test_every_check_has_a_failing_case() -> None:
    assert {c.check_id for c in CASES if c.status == F} == {c.id for c in all_checks()}


def test_case_ids_are_unique() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))


def test_catalog_snippet_names_the_configured_organisation(evidence, ctx):
    import dataclasses

    from checks.catalogue import CATALOGUE
    from checks.model import evaluate

    ev = dataclasses.replace(evidence, catalog=None)
    with_org = evaluate(CATALOGUE["has_catalog_entity"], ev, dataclasses.replace(ctx, organisation="acme"))
    assert f"github.com/project-slug: acme/{ev.repo}" in with_org.snippet
    without = evaluate(CATALOGUE["has_catalog_entity"], ev, ctx)
    assert f"github.com/project-slug: <org>/{ev.repo}" in without.snippet
