"""Outcome cases for the Crossplane checks (checks/crossplane.py).

Run, with every other table, by test_check_outcomes.py. The passing service
of conftest.py claims the platform's database, pinned to the latest revision
of the platform composition.
"""

from __future__ import annotations

from dataclasses import replace

from checks.model import PlatformCompositions

from conftest import CROSSPLANE_CATALOGUE, PLATFORM_COMPOSITIONS, db_claim
from outcome_cases import F, NA, P, REPO_DOWN, U, W, Case, chain, ctx_, ev_, thresholds  # fmt: skip

CATALOGUE = CROSSPLANE_CATALOGUE
PLATFORM = PLATFORM_COMPOSITIONS
BY_LABEL = PlatformCompositions(match_labels=(("platform.acme.io/published", "true"),))


def claims(*found):
    return lambda ev, ctx: (replace(ev, claims=list(found), compositions=CATALOGUE), replace(ctx, crossplane=PLATFORM))


on_crossplane = claims(db_claim())
NO_TERRAFORM = ev_(terraform_modules=[])

CASES = [
    Case("uses_platform_compositions", P, "named", on_crossplane, detail=("1 claim on platform compositions: postgres-aws",)),
    Case("uses_platform_compositions", P, "by-label", chain(on_crossplane, ctx_(crossplane=BY_LABEL))),
    Case(
        "uses_platform_compositions", P, "selector-of-platform-labels",
        chain(claims(db_claim(composition=None, selector={"platform.acme.io/published": "true"})), ctx_(crossplane=BY_LABEL)),
    ),
    Case("uses_platform_compositions", P, "xrd-default-only-composition",
         chain(claims(db_claim(composition=None)), ev_(compositions=replace(CATALOGUE, compositions=CATALOGUE.compositions[:1])))),
    Case(
        "uses_platform_compositions", F, "handmade", claims(db_claim(composition="postgres-handmade")),
        detail=("PostgreSQLInstance payments/payments-db composed by postgres-handmade", "not a platform composition"),
        remedy=("deploy/db.yaml", "postgres-aws"), snippet=("kind: PostgreSQLInstance", "compositionRef:", "name: postgres-aws"),
    ),
    Case(
        "uses_platform_compositions", U, "selector-matches-nothing",
        claims(db_claim(composition=None, selector={"tier": "gold"})), detail=("none the run saw carries them",),
    ),
    Case("uses_platform_compositions", F, "xrd-picks-among-mixed", claims(db_claim(composition=None)),
         detail=("postgres-handmade", "the compositions of XPostgreSQLInstance")),
    Case("uses_platform_compositions", NA, "terraform-instead", chain(claims(), ctx_(crossplane=PLATFORM)),
         detail=("Terraform modules",)),
    Case("uses_platform_compositions", NA, "no-claims", chain(claims(), NO_TERRAFORM), detail=("no Crossplane claims",)),
    Case("uses_platform_compositions", NA, "not-configured", chain(on_crossplane, ctx_(crossplane=None))),
    Case("uses_platform_compositions", U, "repo-down", chain(claims(), REPO_DOWN)),
    Case("composition_revision_up_to_date", P, "latest", on_crossplane, detail=("revision 4, the latest",)),
    Case("composition_revision_up_to_date", P, "automatic", claims(db_claim(update_policy="Automatic", revision=None)),
         detail=("compositionUpdatePolicy: Automatic",)),
    Case("composition_revision_up_to_date", P, "policy-unset", claims(db_claim(update_policy=None, revision="postgres-aws-r1")),
         detail=("follows its composition's latest revision",)),
    Case(
        "composition_revision_up_to_date", W, "one-behind", claims(db_claim(revision="postgres-aws-r3")),
        detail=("1 revision behind revision 4 (postgres-aws-r4)",), remedy=("`postgres-aws-r3` to `postgres-aws-r4`", "deploy/db.yaml"),
        snippet=("name: postgres-aws-r4",),
    ),
    Case("composition_revision_up_to_date", F, "three-behind", claims(db_claim(revision="postgres-aws-r1")),
         detail=("3 revisions behind",)),
    Case("composition_revision_up_to_date", F, "strict", chain(claims(db_claim(revision="postgres-aws-r3")),
                                                               thresholds(composition_max_revisions_behind=0))),
    Case("composition_revision_up_to_date", U, "revision-not-listed", claims(db_claim(revision="postgres-aws-r9")),
         detail=("no crawled cluster lists",)),
    Case("composition_revision_up_to_date", U, "manual-without-ref", claims(db_claim(revision=None)),
         detail=("names no compositionRevisionRef",)),
    Case("composition_revision_up_to_date", NA, "no-claims", claims()),
]
