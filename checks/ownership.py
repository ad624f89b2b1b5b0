"""Ownership checks: who owns the service and can people find them."""

from __future__ import annotations

from functools import lru_cache

from checks._helpers import catalog_unknown, file_index, found_in_repo, repo_unknown, summarise_names, team_slug, under
from checks.evidence import ServiceEvidence
from checks.model import CheckContext, Outcome, check, failed, passed, unknown


def _codeowners_pattern(ev: ServiceEvidence) -> str:
    return f"/{ev.path.strip('/')}/" if ev.path.strip("/") else "*"


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
        "Create `.github/CODEOWNERS` in {repo} with a rule for `{pattern}` owned by "
        "`{suggested_owner}`."
    ),
)
def has_codeowners(ev: ServiceEvidence, ctx: CheckContext) -> Outcome:
    suggested = f"@{ev.team}" if ev.team else "@<your-team>"
    pattern = _codeowners_pattern(ev)
    if (missing := repo_unknown(ev, pattern=pattern, suggested_owner=suggested)) is not None:
        return missing
    snippet = f"{pattern} {suggested}\n"
    if ev.codeowners is None:
        return failed(
            "no CODEOWNERS file (looked in /, .github/, docs/)",
            snippet=snippet,
            pattern=pattern,
            suggested_owner=suggested,
        )
    if not ev.codeowners_owners:
        return failed(
            f"{ev.codeowners.file} has no rule matching /{ev.path}",
            snippet=snippet,
            pattern=pattern,
            suggested_owner=suggested,
        )
    return passed(f"{ev.codeowners.file}: /{ev.path} owned by {', '.join(ev.codeowners_owners)}")


@check(
    id="owner_is_known_team",
    title="Owned by a known team",
    category="ownership",
    level="bronze",
    weight=3,
    rationale=(
        "An owner that is not a team in the directory (a departed person, a typo, a dissolved team) "
        "means pages and security fixes go nowhere. Teams outlive individuals."
    ),
    remediation=(
        "Set `spec.owner` in {service}'s catalog entity to one of the teams in the directory "
        "(currently `{current_owner}`{suggestion})."
    ),
)
def owner_is_known_team(ev: ServiceEvidence, ctx: CheckContext) -> Outcome:
    current = ev.team or "(none)"
    suggestion = _suggestion(ev, ctx)
    if not ctx.known_teams:
        return unknown("no team directory configured", current_owner=current, suggestion=suggestion)
    if ev.owner_source != "config" and (missing := catalog_unknown(ev)) is not None:
        # The owner was read from the repository (catalog, CODEOWNERS): stale when it was not crawled now.
        return unknown(f"owner not known now; {missing.detail}", current_owner=current, suggestion=suggestion)
    if not ev.team:
        # Without the catalog or the repo's CODEOWNERS we have not really looked yet.
        if ev.catalog is None and (missing := repo_unknown(ev)) is not None:
            return unknown(f"no owner known; {missing.detail}", current_owner=current, suggestion=suggestion)
        return failed("no owner set (catalog spec.owner, config or CODEOWNERS)", current_owner=current, suggestion=suggestion)
    if ev.team.strip().lower().startswith("user:"):
        return failed(f"owned by a person ({ev.team}), not a team", current_owner=current, suggestion=suggestion)
    slug = team_slug(ev.team)
    if slug in _slugs(ctx.known_teams):
        return passed(f"owned by {ev.team} (from {ev.owner_source or 'unknown source'})")
    return failed(
        f"owner {ev.team} (from {ev.owner_source or 'unknown source'}) is not a known team",
        current_owner=current,
        suggestion=suggestion,
    )


@lru_cache(maxsize=64)
def _slugs(teams: frozenset[str]) -> frozenset[str]:
    return frozenset(team_slug(t) for t in teams)


@lru_cache(maxsize=64)
def _by_slug(teams: frozenset[str]) -> dict[str, str]:
    return {team_slug(t): t for t in teams}


def _suggestion(ev: ServiceEvidence, ctx: CheckContext) -> str:
    """CODEOWNERS often names the real team when the catalog owner is stale."""
    known = _by_slug(ctx.known_teams)
    for owner in ev.codeowners_owners or ():
        if (slug := team_slug(owner)) in known and known[slug] != ev.team:
            return f"; CODEOWNERS suggests `{known[slug]}`"
    return ""


def _catalog_snippet(ev: ServiceEvidence, ctx: CheckContext) -> str:
    lines = [
        "apiVersion: backstage.io/v1alpha1",
        "kind: Component",
        "metadata:",
        f"  name: {ev.service}",
        "  annotations:",
        f"    github.com/project-slug: {ctx.organisation or '<org>'}/{ev.repo or ev.service}",
    ]
    if ev.repo_workloads or ev.cluster_workloads:
        # Names the workloads this scorecard joined, so the portal's Kubernetes plugin finds them too.
        lines.append(f"    backstage.io/kubernetes-id: {ev.service}")
    lines += [
        "spec:",
        f"  type: {ev.type or 'service'}",
        f"  lifecycle: {ev.lifecycle or 'production'}",
        f"  owner: {ev.team or '<team>'}",
    ]
    if ev.system:
        lines.append(f"  system: {ev.system}")
    return "\n".join(lines) + "\n"


def _catalog_file(ev: ServiceEvidence) -> str:
    """The entity file to fix: the one read, else where Backstage looks by default."""
    return ev.catalog.file if ev.catalog else under(ev.path, "catalog-info.yaml")


@check(
    id="has_catalog_entity",
    title="Described by a valid catalog entity",
    category="ownership",
    level="bronze",
    weight=3,
    rationale=(
        "The catalog entity is how the developer portal, on-call tools and this scorecard know the "
        "service exists, who owns it and where it runs. An invalid one is silently skipped."
    ),
    remediation=(
        "Add (or fix) `{catalog_file}` in {repo} describing {service} (snippet){problems}, and register "
        "it in the developer portal."
    ),
)
def has_catalog_entity(ev: ServiceEvidence, ctx: CheckContext) -> Outcome:
    catalog_file = _catalog_file(ev)
    # A catalog read from a repository that was not crawled this run is its last good crawl's.
    if (missing := catalog_unknown(ev, catalog_file=catalog_file, problems="")) is not None:
        return missing
    if ev.catalog is None:
        how = f"{ev.identity_rule} rule" + (f": {ev.identity_detail}" if ev.identity_detail else "")
        return failed(
            f"no catalog entity describes {ev.service} (identified by {how})",
            snippet=_catalog_snippet(ev, ctx),
            catalog_file=catalog_file,
            problems="",
        )
    if ev.catalog.errors:
        problems = summarise_names(ev.catalog.errors)
        return failed(
            f"{ev.catalog.file}: {len(ev.catalog.errors)} problem(s): {problems}",
            snippet=_catalog_snippet(ev, ctx),
            catalog_file=catalog_file,
            problems=f": fix {problems}",
        )
    return passed(f"{ev.catalog.kind} {ev.catalog.name} in {ev.catalog.file}")


# Annotation keys (or key prefixes) that link a component to a paging tool.
_ONCALL_KEYS = (
    "pagerduty.com/",
    "opsgenie.com/",
    "splunk.com/on-call",
    "victorops.com/",
    "firehydrant.com/",
    "firehydrant.io/",
    "incident.io/",
    "rootly.com/",
    "grafana.com/oncall",
    "squadcast.com/",
)


def _annotations(ev: ServiceEvidence) -> dict[str, str]:
    if ev.catalog is None or not ev.catalog.annotations:
        return ev.annotations
    return {**ev.catalog.annotations, **ev.annotations}


@check(
    id="has_oncall_reference",
    title="Linked to an on-call rotation",
    category="ownership",
    level="silver",
    weight=3,
    rationale=(
        "When the service breaks at night, responders need to page the right rotation from the portal "
        "in one click instead of asking around in chat."
    ),
    remediation=(
        "Add the paging annotation to {service}'s catalog entity (`{catalog_file}` in {repo}), e.g. "
        "`pagerduty.com/service-id` or `opsgenie.com/team` for {owner}'s rotation."
    ),
)
def has_oncall_reference(ev: ServiceEvidence, ctx: CheckContext) -> Outcome:
    catalog_file = _catalog_file(ev)
    if (missing := catalog_unknown(ev, catalog_file=catalog_file)) is not None:
        return missing  # annotations come from the repository's catalog entity
    for key in _annotations(ev):
        if key.lower().startswith(_ONCALL_KEYS):
            # Never echo the value: an integration key is a credential.
            return passed(f"annotation {key} is set")
    return failed(
        "no on-call annotation (pagerduty.com/service-id, opsgenie.com/team, ...)",
        snippet="metadata:\n  annotations:\n    pagerduty.com/service-id: <PagerDuty service id>\n",
        catalog_file=catalog_file,
    )


def _runbook_snippet(ev: ServiceEvidence) -> str:
    return (
        f"# {ev.service} runbook\n\n"
        f"Owner: {ev.team or '<team>'}  \n"
        "On-call: <link to the rotation>  \n"
        "Dashboards: <links>\n\n"
        "## Alerts\n\n"
        "### <AlertName>\n"
        "What it means, how to confirm, how to mitigate, when to escalate.\n\n"
        "## Common operations\n\n"
        "- Roll back: ...\n- Scale: ...\n- Restart safely: ...\n"
    )


@check(
    id="has_runbook",
    title="Has a runbook",
    category="ownership",
    level="silver",
    weight=2,
    rationale=(
        "A runbook lets whoever is on call mitigate an incident without waking the one person who "
        "knows the service, and it cuts time to restore."
    ),
    remediation=(
        "Write `{runbook_file}` in {repo} (snippet) covering each alert and the common operations, or "
        "link an existing runbook with a `runbook` annotation on the catalog entity."
    ),
)
def has_runbook(ev: ServiceEvidence, ctx: CheckContext) -> Outcome:
    runbook_file = under(ev.path, "RUNBOOK.md")
    for key in _annotations(ev):
        if "runbook" in key.lower():
            return passed(f"annotation {key} links a runbook")
    if (found := found_in_repo(ev, "runbooks", runbook_file=runbook_file)) is not None:
        return found
    return failed(
        "no runbook (RUNBOOK.md, docs/runbook*.md) and no runbook annotation",
        snippet=_runbook_snippet(ev),
        runbook_file=runbook_file,
    )


@check(
    id="has_readme",
    title="Has a README",
    category="ownership",
    level="bronze",
    weight=1,
    rationale=(
        "The README is the first thing a new contributor or a responder from another team opens: what "
        "the service does, how to run it, where it is deployed."
    ),
    remediation="Add `{readme_file}` to {repo}: what {service} does, how to run and test it, who owns it.",
)
def has_readme(ev: ServiceEvidence, ctx: CheckContext) -> Outcome:
    readme_file = under(ev.path, "README.md")
    if (missing := repo_unknown(ev, readme_file=readme_file)) is not None:
        return missing
    files = file_index(ev).readmes
    if files:
        return passed(files[0])
    return failed(
        f"no README in {ev.path or 'the repo root'}" + (" or the repo root" if ev.path else ""),
        snippet=(
            f"# {ev.service}\n\nWhat it does in one sentence.\n\n"
            f"Owner: {ev.team or '<team>'}\n\n## Run locally\n\n## Test\n\n## Deploy\n"
        ),
        readme_file=readme_file,
    )


_STANDARD_LIFECYCLES = frozenset({"experimental", "production", "deprecated"})


@check(
    id="has_lifecycle",
    title="Lifecycle is set",
    category="ownership",
    level="bronze",
    weight=1,
    rationale=(
        "The lifecycle (experimental, production, deprecated) tells users whether they may depend on "
        "the service and tells the platform which services may be held to production standards."
    ),
    remediation="Set `spec.lifecycle` in {service}'s catalog entity (`{catalog_file}` in {repo}).",
)
def has_lifecycle(ev: ServiceEvidence, ctx: CheckContext) -> Outcome:
    catalog_file = _catalog_file(ev)
    from_repo = ev.catalog is not None or not ev.lifecycle  # else the config's `services:` entry set it
    if from_repo and (missing := catalog_unknown(ev, catalog_file=catalog_file)) is not None:
        return missing
    if ev.lifecycle:
        custom = "" if ev.lifecycle.lower() in _STANDARD_LIFECYCLES else " (not a standard Backstage lifecycle)"
        return passed(f"lifecycle {ev.lifecycle}{custom}")
    return failed(
        "no lifecycle set",
        snippet="spec:\n  lifecycle: production  # or experimental, deprecated\n",
        catalog_file=catalog_file,
    )
