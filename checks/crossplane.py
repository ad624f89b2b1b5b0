"""Crossplane golden path: does the service get its infrastructure from the platform's compositions,
and are its pinned claims on their composition's current revision?

A claim's composition is the one it names (`compositionRef`), those its
`compositionSelector` picks among the compositions the run saw, or else its
XRD's default / only composition. The platform's compositions are configured
(`golden_paths.crossplane`: names, or the labels the platform puts on them).

Crossplane and Terraform are two ways onto the infrastructure golden path: a
service with no claims is `not_applicable` here whether or not it uses
Terraform (the Terraform checks judge that), so being on one path never fails
the other. Revision drift follows the shared policy of checks/golden_path.py:
current passes, up to `composition_max_revisions_behind` (default 1) behind
warns, more fails; a revision that cannot be placed is `unknown`, never a
guessed number.
"""

from __future__ import annotations

from checks._helpers import plural, repo_unknown, summarise_names
from checks.evidence import ServiceEvidence
from checks.evidence_crossplane import AUTOMATIC, MANUAL, Claim, CompositionCatalogue
from checks.golden_path import _worst
from checks.model import (
    CheckContext,
    Outcome,
    PlatformCompositions,
    check,
    failed,
    not_applicable,
    passed,
    unknown,
    warned,
)

ON, OFF, UNSURE = "on", "off", "unsure"


def _label(c: Claim) -> str:
    return f"{c.kind} {c.namespace}/{c.name}" if c.namespace else f"{c.kind} {c.name}"


def _where(c: Claim) -> str:
    return c.file or (f"cluster {c.cluster}" if c.cluster else "(unknown file)")


def _is_platform(name: str, catalogue: CompositionCatalogue, path: PlatformCompositions) -> bool:
    if name in path.compositions:
        return True
    known = catalogue.composition(name)
    return bool(path.match_labels) and known is not None and all(known.labels.get(k) == v for k, v in path.match_labels)


def _candidates(c: Claim, catalogue: CompositionCatalogue) -> tuple[list[str], str]:
    """The compositions a claim may be composed with, and how that was decided."""
    if c.composition:
        return [c.composition], "compositionRef"
    xrd = catalogue.xrd_for(c.api_group, c.kind)
    composite = xrd.kind if xrd else c.kind
    same_type = catalogue.memo.get(("type", composite))
    if same_type is None:
        same_type = catalogue.memo[("type", composite)] = [
            m for m in catalogue.compositions if m.composite_kind in (None, composite)
        ]
    if c.selector:
        picked = [m.name for m in same_type if all(m.labels.get(k) == v for k, v in c.selector.items())]
        return picked, "compositionSelector"
    if xrd is not None and xrd.default_composition:
        return [xrd.default_composition], f"the default composition of XRD {xrd.name}"
    if xrd is not None:
        return [m.name for m in same_type if m.composite_kind == xrd.kind], f"the compositions of {xrd.kind}"
    return [], "nothing"


def judge_claim(c: Claim, catalogue: CompositionCatalogue, path: PlatformCompositions) -> tuple[str, str, list[str]]:
    """(on / off / unsure, why, composition names) for one claim."""
    if c.selector and path.match_labels and all(c.selector.get(k) == v for k, v in path.match_labels):
        return ON, "selects only compositions labelled as the platform's", [f"{k}={v}" for k, v in c.selector.items()]
    names, how = _candidates(c, catalogue)
    if not names:
        if c.selector:
            labels = ", ".join(f"{k}={v}" for k, v in c.selector.items())
            return UNSURE, f"selects compositions labelled {labels}, and none the run saw carries them", []
        return UNSURE, "names no composition, and no XRD or composition the run saw says which one it gets", []
    off = [n for n in names if not _is_platform(n, catalogue, path)]
    if not off:
        return ON, f"composed by {summarise_names(names)} ({how})", names
    return OFF, f"composed by {summarise_names(off)} ({how}), not a platform composition", off


def _no_claims(ev: ServiceEvidence, **params: object) -> Outcome:
    # A cluster that would not list the XRDs or a claim kind may hold claims we did not see.
    served = {k for x in (ev.compositions.xrds if ev.compositions else ()) for k in (x.kind, x.claim_kind) if k}
    hidden = {k: r for k, r in ev.cluster_unreadable.items() if k in served or k == "CompositeResourceDefinition"}
    if hidden:
        return unknown("could not list " + "; ".join(f"{k} ({r})" for k, r in sorted(hidden.items())), **params)
    if (missing := repo_unknown(ev, **params)) is not None:
        return missing
    if any(m.kind != "local" for m in ev.terraform_modules):
        return not_applicable("no Crossplane claims: infrastructure comes from Terraform modules "
                              "(see uses_standard_terraform_modules)")
    return not_applicable("no Crossplane claims or composite resources")


def _platform_names(path: PlatformCompositions, catalogue: CompositionCatalogue | None) -> list[str]:
    if catalogue is not None and ("platform", path) in catalogue.memo:  # the same for every service of the run
        return catalogue.memo[("platform", path)]
    names = list(path.compositions)
    if path.match_labels and catalogue is not None:
        names += [m.name for m in catalogue.compositions if _is_platform(m.name, catalogue, path)]
    found = list(dict.fromkeys(names)) or [", ".join(f"{k}={v}" for k, v in path.match_labels)]
    if catalogue is not None:
        catalogue.memo[("platform", path)] = found
    return found


def _claim_snippet(c: Claim, path: PlatformCompositions, platform: list[str]) -> str:
    ref = (
        "  compositionSelector:\n    matchLabels:\n" + "".join(f"      {k}: {v}\n" for k, v in path.match_labels)
        if path.match_labels else f"  compositionRef:\n    name: {platform[0]}\n"
    )
    namespace = f"  namespace: {c.namespace}\n" if c.namespace else ""
    return (
        f"# {_where(c)}\napiVersion: {c.api_group}/<version>\nkind: {c.kind}\n"
        f"metadata:\n  name: {c.name}\n{namespace}spec:\n{ref}"
    )


@check(
    id="uses_platform_compositions",
    title="Provisions infrastructure through platform compositions",
    category="golden_path",
    level="silver",
    weight=2,
    rationale=(
        "A claim against the platform's Crossplane compositions gets databases, buckets and queues with "
        "the platform's encryption, backups, network policy and tagging built in, and every later fix to "
        "the composition reaches it. A hand-written composition drifts out of that. Services with no "
        "claims (none, or Terraform instead) are not judged here."
    ),
    remediation=(
        "Point {claims} at a platform composition ({platform}) in {file} of {repo} (snippet), and ask the "
        "platform team when none of them covers what {service} needs."
    ),
)
def uses_platform_compositions(ev: ServiceEvidence, ctx: CheckContext) -> Outcome:
    if ctx.crossplane is None:
        return not_applicable("no platform compositions are configured for this organisation")
    catalogue = ev.compositions or CompositionCatalogue()
    platform = _platform_names(ctx.crossplane, ev.compositions)
    if not ev.claims:
        return _no_claims(ev, claims="(none)", platform=platform, file="(none)")
    verdicts = [(c, *judge_claim(c, catalogue, ctx.crossplane)) for c in ev.claims]
    off = [(c, why) for c, state, why, _ in verdicts if state == OFF]
    unsure = [(c, why) for c, state, why, _ in verdicts if state == UNSURE]
    if off:
        c, why = off[0]
        return failed(
            f"{plural(len(off), 'claim')} off the platform compositions: {_label(c)} {why}"
            + (f" (and {summarise_names(_label(o) for o, _ in off[1:])})" if len(off) > 1 else ""),
            snippet=_claim_snippet(c, ctx.crossplane, platform),
            claims=[_label(o) for o, _ in off], platform=platform, file=_where(c),
            compositions=[n for _, state, _, names in verdicts if state == OFF for n in names],
        )
    if unsure:
        c, why = unsure[0]
        return unknown(f"{_label(c)} {why}", claims=[_label(o) for o, _ in unsure], platform=platform, file=_where(c))
    names = list(dict.fromkeys(n for _, _, _, found in verdicts for n in found))
    behind = [b for c in ev.claims if (b := _behind(c, catalogue)) is not None and not isinstance(b, str)]
    return passed(
        f"{plural(len(verdicts), 'claim')} on platform compositions: {summarise_names(names)}",
        version=", ".join(names), latest=None, releases_behind=max(behind) if behind else None,
        claims=[_label(c) for c in ev.claims], compositions=names,
    )


# ------------------------------------------------------------ revision drift


def _behind(c: Claim, catalogue: CompositionCatalogue) -> int | str:
    """Revisions a claim is behind its composition's latest; a reason when that cannot be told."""
    if (c.update_policy or AUTOMATIC) != MANUAL:
        return 0  # Crossplane moves it to every new revision
    if not c.revision:
        return "is pinned (compositionUpdatePolicy: Manual) but names no compositionRevisionRef"
    revision = catalogue.revision(c.revision)
    if revision is None:
        return f"is pinned to revision {c.revision}, which no crawled cluster lists"
    return catalogue.revisions_after(revision.composition, revision.revision)


def _revision_outcome(c: Claim, catalogue: CompositionCatalogue, max_behind: int) -> Outcome:
    behind = _behind(c, catalogue)
    params: dict[str, object] = {"claim": _label(c), "file": _where(c), "current": c.revision or "?"}
    if isinstance(behind, str):
        return unknown(f"{_label(c)} {behind}", latest="?", **params)
    revision = catalogue.revision(c.revision) if c.revision else None
    if (c.update_policy or AUTOMATIC) != MANUAL or revision is None:  # Crossplane keeps it on the latest
        return passed(f"{_label(c)} follows its composition's latest revision (compositionUpdatePolicy: Automatic)",
                      latest="latest", releases_behind=0, **params)
    latest_number = catalogue.latest_revision(revision.composition) or revision.revision
    latest = catalogue.latest_revision_name(revision.composition) or revision.name
    params.update(latest=latest, composition=revision.composition, releases_behind=behind)
    detail = f"{_label(c)} is pinned to {revision.composition} revision {revision.revision}"
    if behind == 0:
        return passed(f"{detail}, the latest", **params)
    detail = f"{detail}, {plural(behind, 'revision')} behind revision {latest_number} ({latest})"
    snippet = (
        f"# {_where(c)}\nspec:\n  compositionUpdatePolicy: Manual\n  compositionRevisionRef:\n    name: {latest}\n"
    )
    if behind <= max_behind:
        return warned(f"{detail} (up to {max_behind} allowed before this fails)", snippet=snippet, **params)
    return failed(f"{detail} (more than {max_behind} allowed)", snippet=snippet, **params)


@check(
    id="composition_revision_up_to_date",
    title="Composition revision is current",
    category="golden_path",
    level="gold",
    weight=2,
    rationale=(
        "A claim pinned with `compositionUpdatePolicy: Manual` stays on the composition revision it was "
        "created with, so the platform's fixes to that composition never reach it. Up to "
        "`composition_max_revisions_behind` (default 1) revisions behind warns; more fails. Claims on "
        "`Automatic` always run the latest revision."
    ),
    remediation=(
        "In {file} of {repo}, move {claim} from revision `{current}` to `{latest}` (set "
        "`spec.compositionRevisionRef.name`, or `compositionUpdatePolicy: Automatic`), after trying the "
        "new revision in staging."
    ),
)
def composition_revision_up_to_date(ev: ServiceEvidence, ctx: CheckContext) -> Outcome:
    if not ev.claims:
        return _no_claims(ev, claim="(none)", file="(none)", current="?", latest="?")
    catalogue = ev.compositions or CompositionCatalogue()
    max_behind = ctx.thresholds.composition_max_revisions_behind
    return _worst([_revision_outcome(c, catalogue, max_behind) for c in ev.claims])
