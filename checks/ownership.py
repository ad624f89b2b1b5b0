"""Ownership checks: who owns the service and can people find them."""

from __future__ import annotations

from checks.evidence import ServiceEvidence
from checks.model import CheckContext, Outcome, check, failed, passed, unknown


@check(
    id="has_codeowners",
    title="CODEOWNERS covers the service",
    category="ownership",
    level="bronze",
    weight=3,
    rationale=(
        "Reviews are routed to the people who own the code, and ownership survives "
        "re-orgs because it lives next to the code."
    ),
    remediation=(
        "Create `.github/CODEOWNERS` in {repo} with a rule for `/{path}` owned by "
        "`{suggested_owner}`."
    ),
)
def has_codeowners(ev: ServiceEvidence, ctx: CheckContext) -> Outcome:
    if ev.repo_error:
        return unknown(f"repository not crawled: {ev.repo_error}")
    suggested = f"@{ev.team}" if ev.team else "@<your-team>"
    if ev.codeowners is None:
        return failed(
            "no CODEOWNERS file (looked in /, .github/, docs/)",
            snippet=f"/{ev.path + '/' if ev.path else ''} {suggested}\n",
            suggested_owner=suggested,
        )
    if not ev.codeowners_owners:
        return failed(
            f"{ev.codeowners.file} has no rule matching /{ev.path}",
            snippet=f"/{ev.path + '/' if ev.path else ''} {suggested}\n",
            suggested_owner=suggested,
        )
    return passed(f"{ev.codeowners.file}: /{ev.path} owned by {', '.join(ev.codeowners_owners)}")
