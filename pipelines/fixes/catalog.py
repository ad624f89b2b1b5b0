"""`catalog-info.yaml` fixes: a new entity from the check's own snippet, or a missing lifecycle set in place.

The owner is the one identity inferred (`ServiceEvidence.team`: the catalog, the
config's `services:` entry or CODEOWNERS); without one there is nothing
honest to write, and the generator says so instead of committing `<team>`.
"""

from __future__ import annotations

from checks.evidence import ServiceEvidence
from checks.model import CheckContext, Finding
from pipelines.fixes.model import Fix, NoFix, Reader
from pipelines.fixes.yamledit import (
    NotEditable,
    dump_documents,
    load_documents,
    load_snippet,
    merge_missing,
)

CHECKS = ("has_catalog_entity", "has_lifecycle")


def generate(finding: Finding, ev: ServiceEvidence, ctx: CheckContext, read: Reader) -> Fix | NoFix:
    file = str(finding.params.get("catalog_file") or "")
    if not file or not finding.snippet:
        return NoFix(finding.check_id, "the check named no catalog file", finding.remediation)
    if finding.check_id == "has_catalog_entity":
        return _new_entity(finding, ev, file, read)
    return _set_lifecycle(finding, ev, file, read)


def _new_entity(finding: Finding, ev: ServiceEvidence, file: str, read: Reader) -> Fix | NoFix:
    if ev.catalog is not None:
        return NoFix(finding.check_id, f"{file} has schema problems only its owners can settle", finding.remediation)
    if not ev.team:
        return NoFix(finding.check_id, "no owner could be inferred (no catalog, config entry or CODEOWNERS rule)",
                     finding.remediation)
    if read(file) is not None:
        return NoFix(finding.check_id, f"{file} exists but describes another entity", finding.remediation)
    notes = (f"owner {ev.team} inferred from {ev.owner_source or 'identity rules'}",)
    if not ctx_org(finding.snippet):
        notes += ("set <org> in github.com/project-slug (or `organisation:` in the scorecard config)",)
    if not ev.lifecycle:
        notes += ("lifecycle set to production (the snippet's default): change it if the service is not live",)
    return Fix(finding.check_id, {file: finding.snippet}, f"Describe {ev.service} in {file}", notes)


def _set_lifecycle(finding: Finding, ev: ServiceEvidence, file: str, read: Reader) -> Fix | NoFix:
    text = read(file)
    if ev.catalog is None and text is not None:
        return NoFix(finding.check_id, f"covered by the new {file} (the has_catalog_entity fix sets spec.lifecycle)")
    if text is None or ev.catalog is None:
        return NoFix(finding.check_id, f"no catalog entity file {file} to edit (fix has_catalog_entity first)",
                     finding.remediation)
    try:
        yaml, docs = load_documents(text, file)
    except NotEditable as exc:
        return NoFix(finding.check_id, str(exc), finding.remediation)
    entity = next((d for d in docs if isinstance(d, dict) and d.get("kind") == ev.catalog.kind
                   and isinstance(d.get("metadata"), dict) and d["metadata"].get("name") == ev.catalog.name), None)
    if entity is None:
        return NoFix(finding.check_id, f"{ev.catalog.kind} {ev.catalog.name} not found in {file}", finding.remediation)
    if not merge_missing(entity, load_snippet(finding.snippet)):
        return NoFix(finding.check_id, f"{file} already has a spec.lifecycle the check could not read",
                     finding.remediation)
    return Fix(finding.check_id, {file: dump_documents(yaml, docs)}, f"Set spec.lifecycle of {ev.service} in {file}",
               ("lifecycle set to production (the snippet's default): change it if the service is not live",))


def ctx_org(snippet: str) -> bool:
    """Whether the snippet's project slug names the organisation (the config may not set one)."""
    return "<org>/" not in snippet
