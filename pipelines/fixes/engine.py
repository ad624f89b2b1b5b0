"""Run the generators over a service's findings; compose their edits into one patch."""

from __future__ import annotations

from dataclasses import dataclass, field

from checks.catalogue import all_checks
from checks.evidence import ServiceEvidence
from checks.model import CheckContext, Finding, Status, evaluate
from pipelines.fixes import catalog, codeowners, dependency_bot, drift, slo, workloads
from pipelines.fixes.model import Fix, NoFix, Overlay, Reader, unified_patch

GENERATORS = {cid: mod.generate for mod in (catalog, codeowners, dependency_bot, drift, slo, workloads)
              for cid in mod.CHECKS}

# Why a check has no generator: a change of behaviour, a person's decision, or a value only the owners know.
_NOT_MECHANICAL = {
    "delivery": "a DORA metric moves with how the team ships, not with a file",
    "has_ci_on_default_branch": "which branches CI runs on is the workflow's design, not one missing line",
    "owner_is_known_team": "the owning team must exist in the team directory; that is a decision, not a file",
    "has_oncall_reference": "needs the service's paging rotation id, which only its owners know",
    "default_branch_protected": "a repository setting on the forge, not a file in the repository",
    "has_runbook": "a runbook's value is its content; a generated skeleton would only game the check",
    "has_readme": "a README's value is its content; a generated skeleton would only game the check",
}
_FIXABLE = frozenset({Status.FAIL, Status.WARN})


@dataclass(slots=True)
class ServiceFixes:
    service: str
    fixes: list[Fix] = field(default_factory=list)
    skipped: list[NoFix] = field(default_factory=list)
    originals: dict[str, str | None] = field(default_factory=dict)
    changed: dict[str, str] = field(default_factory=dict)  # path -> final text, every fix applied

    def patch(self) -> str:
        return unified_patch({p: (self.originals[p], t) for p, t in self.changed.items()})


def not_mechanical_reason(check_id: str, category: str) -> str:
    return _NOT_MECHANICAL.get(check_id) or _NOT_MECHANICAL.get(category) or \
        "not a mechanical change: it needs the owners' judgement"


def generate_for_service(ev: ServiceEvidence, ctx: CheckContext, read: Reader,
                         only: list[str] | None = None) -> ServiceFixes:
    """Evaluate every check (or ``only`` these) on ``ev`` and generate fixes for those failing or warning."""
    result = ServiceFixes(ev.service)
    overlay = Overlay(read)
    for chk in all_checks():
        if only and chk.id not in only:
            continue
        finding = evaluate(chk, ev, ctx)
        if finding.status not in _FIXABLE:
            continue
        outcome = fix_finding(finding, chk.category, ev, ctx, overlay.read)
        if isinstance(outcome, NoFix):
            result.skipped.append(outcome)
            continue
        for path in outcome.changes:
            result.originals.setdefault(path, read(path))
        overlay.apply(outcome)
        result.fixes.append(outcome)
    result.changed = dict(overlay.changed)
    return result


def fix_finding(finding: Finding, category: str, ev: ServiceEvidence, ctx: CheckContext, read: Reader) -> Fix | NoFix:
    gen = GENERATORS.get(finding.check_id)
    if gen is None:
        return NoFix(finding.check_id, not_mechanical_reason(finding.check_id, category), finding.remediation)
    return gen(finding, ev, ctx, read)
