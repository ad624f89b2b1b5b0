"""Outcome cases for the ownership checks (checks/ownership.py).

Run, with every other table, by test_check_outcomes.py.
"""

from __future__ import annotations

from dataclasses import replace

from outcome_cases import F, MONOREPO, P, REPO_DOWN, U, Case, annotations, chain, ctx_, ev_, files, same


def portal(ev, ctx):
    """A Component served by a running Backstage, with no repository linked (a portal-only service)."""
    entity = replace(ev.catalog, origin="portal", file="the Backstage portal backstage (component:default/payments-api)")
    return replace(ev, catalog=entity, repo=None, repo_error=None, owner_source="portal spec.owner"), ctx


CASES = [
    Case("has_codeowners", P, "default", same, detail=("@acme/payments-team",)),
    Case(
        "has_codeowners", F, "no-file", ev_(codeowners=None, codeowners_owners=None),
        detail=("no CODEOWNERS file",), remedy=("`*`", "@payments-team"), snippet=("* @payments-team",),
    ),
    Case(
        "has_codeowners", F, "path-uncovered", chain(MONOREPO, ev_(codeowners_owners=[])),
        detail=("no rule matching /services/payments",), snippet=("/services/payments/ @payments-team",),
    ),
    Case("has_codeowners", U, "repo-down", REPO_DOWN),
    Case("owner_is_known_team", P, "default", same, detail=("payments-team", "catalog spec.owner")),
    Case("owner_is_known_team", P, "backstage-ref", ev_(team="group:default/payments-team")),
    Case(
        "owner_is_known_team", F, "stale-owner", ev_(team="payments-squad-2019"),
        detail=("payments-squad-2019", "not a known team"), remedy=("CODEOWNERS suggests `payments-team`",),
    ),
    Case("owner_is_known_team", F, "no-owner", ev_(team=None), detail=("no owner set",)),
    Case("owner_is_known_team", F, "person", ev_(team="user:default/jdoe"), detail=("owned by a person",)),
    Case("owner_is_known_team", U, "no-directory", ctx_(known_teams=frozenset()), detail=("no team directory",)),
    Case("has_catalog_entity", P, "default", same, detail=("Component payments-api",)),
    Case(
        "has_catalog_entity", F, "missing", ev_(catalog=None, identity_rule="repo"),
        detail=("no catalog entity", "repo rule"), remedy=("catalog-info.yaml",),
        snippet=("name: payments-api", "owner: payments-team", "github.com/project-slug: <org>/payments"),
    ),
    Case(
        "has_catalog_entity", F, "invalid", lambda ev, ctx: (replace(ev, catalog=replace(ev.catalog, errors=["spec.owner missing"])), ctx),
        detail=("spec.owner missing",), remedy=("fix spec.owner missing",),
    ),
    Case("has_catalog_entity", U, "repo-down", chain(REPO_DOWN, ev_(catalog=None))),
    Case("has_oncall_reference", P, "pagerduty", same, detail=("pagerduty.com/service-id",)),
    Case("has_oncall_reference", P, "opsgenie", annotations({"opsgenie.com/team": "payments"})),
    Case(
        "has_oncall_reference", F, "none", annotations({"github.com/project-slug": "acme/payments"}),
        detail=("no on-call annotation",), remedy=("catalog-info.yaml", "payments-team"), snippet=("pagerduty.com/service-id",),
    ),
    Case("has_oncall_reference", U, "repo-down", chain(REPO_DOWN, ev_(catalog=None, annotations={}))),
    Case("has_runbook", P, "root-file", same, detail=("RUNBOOK.md",)),
    Case("has_runbook", P, "docs", files(drop=["RUNBOOK.md"], add=["docs/runbook-payments.md"])),
    Case("has_runbook", P, "annotation", chain(files(drop=["RUNBOOK.md"]), annotations({"acme.com/runbook-url": "https://wiki/x"}))),
    Case(
        "has_runbook", F, "none", files(drop=["RUNBOOK.md"]),
        remedy=("`RUNBOOK.md`",), snippet=("# payments-api runbook", "Owner: payments-team"),
    ),
    Case(
        "has_runbook", F, "sibling-runbook", chain(MONOREPO, files(drop=["RUNBOOK.md"], add=["services/search/RUNBOOK.md"])),
        remedy=("services/payments/RUNBOOK.md",),
    ),
    Case("has_runbook", U, "repo-down", chain(REPO_DOWN, files(drop=["RUNBOOK.md"]))),
    Case("has_readme", P, "root", same, detail=("README.md",)),
    Case("has_readme", P, "service-dir", chain(MONOREPO, files(drop=["README.md"], add=["services/payments/readme.rst"]))),
    Case("has_readme", F, "none", files(drop=["README.md"]), detail=("no README",), snippet=("# payments-api",)),
    Case(
        "has_readme", F, "nested-only", chain(MONOREPO, files(drop=["README.md"], add=["services/payments/src/README.md"])),
        remedy=("services/payments/README.md",),
    ),
    Case("has_readme", U, "repo-down", REPO_DOWN),
    Case("has_lifecycle", P, "default", same, detail=("production",)),
    Case("has_lifecycle", F, "missing", ev_(lifecycle=None), detail=("no lifecycle",), snippet=("lifecycle: production",)),
    Case("has_lifecycle", U, "repo-down", chain(REPO_DOWN, ev_(lifecycle=None, catalog=None))),
    # A portal's Component is known without its repository: its catalog facts are judged, not `unknown`.
    Case("has_lifecycle", P, "portal-no-repo", portal, detail=("production",)),
    Case("has_lifecycle", F, "portal-no-lifecycle", chain(portal, ev_(lifecycle=None)), detail=("no lifecycle",)),
    Case("has_catalog_entity", P, "portal-no-repo", portal, detail=("Backstage portal",)),
    Case("has_oncall_reference", P, "portal-no-repo", portal, detail=("pagerduty.com/service-id",)),
    Case("has_oncall_reference", F, "portal-none", chain(portal, annotations({"backstage.io/kubernetes-id": "p"})),
         detail=("no on-call annotation",)),
    Case("owner_is_known_team", P, "portal-no-repo", portal, detail=("portal spec.owner",)),
    Case("has_readme", U, "portal-no-repo", portal, detail=("no repository is linked",)),
]
