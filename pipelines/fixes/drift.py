"""Golden-path drift fixes: bump the base chart dependency or the shared workflow ref to the latest release.

The latest release is the configured one (`golden_paths.*.latest`, else the
newest of `releases`), the same value the check's remediation names.
"""

from __future__ import annotations

import re

from checks.evidence import ServiceEvidence
from checks.golden_path import _chart_name
from checks.model import CheckContext, Finding
from checks.versions import latest_release
from pipelines.fixes.model import Fix, NoFix, Reader
from pipelines.fixes.yamledit import NotEditable, dump_documents, load_documents

CHECKS = ("base_helm_chart_up_to_date", "shared_ci_workflow_up_to_date")


def generate(finding: Finding, ev: ServiceEvidence, ctx: CheckContext, read: Reader) -> Fix | NoFix:
    path = ctx.helm_chart if finding.check_id == "base_helm_chart_up_to_date" else ctx.ci_workflow
    latest = latest_release(path.releases, path.latest) if path else None
    if not latest:
        return NoFix(finding.check_id, "no latest release is configured for this golden path", finding.remediation)
    if finding.check_id == "base_helm_chart_up_to_date":
        return _chart(finding, ev, _chart_name(path), latest, read)
    return _workflows(finding, ev, path.reference, latest, read)


def _chart(finding: Finding, ev: ServiceEvidence, name: str, latest: str, read: Reader) -> Fix | NoFix:
    changes: dict[str, str] = {}
    bumped: list[str] = []
    for chart in ev.helm_charts:
        if not any(d.name == name for d in chart.dependencies) or (text := read(chart.file)) is None:
            continue
        try:
            yaml, docs = load_documents(text, chart.file)
        except NotEditable as exc:
            return NoFix(finding.check_id, str(exc), finding.remediation)
        for doc in docs:
            for dep in (doc.get("dependencies") or []) if isinstance(doc, dict) else []:
                if isinstance(dep, dict) and dep.get("name") == name and str(dep.get("version")) != latest:
                    bumped.append(f"{chart.file}: {dep.get('version')} -> {latest}")
                    dep["version"] = latest
                    changes[chart.file] = dump_documents(yaml, docs)
    if not changes:
        return NoFix(finding.check_id, f"no {name} dependency behind {latest} in the repository's charts",
                     finding.remediation)
    return Fix(finding.check_id, changes, f"Bump the base chart {name} to {latest} ({'; '.join(bumped)})",
               ("run `helm dependency update` and deploy to staging first",))


def _workflows(finding: Finding, ev: ServiceEvidence, reference: str, latest: str, read: Reader) -> Fix | NoFix:
    target = re.escape(reference.rstrip("/"))
    # `uses: <reference>[/.github/workflows/x.yml]@<ref>`, quoted or not; only the ref changes, so the
    # line's comments and quoting stay (a YAML round trip would be heavier than this one token).
    pattern = re.compile(rf"(\buses:\s*['\"]?{target}(?:/[^@\s'\"]*)?@)([^\s'\"#]+)")
    changes: dict[str, str] = {}
    for wf in ev.workflows:
        if (text := read(wf.file)) is None:
            continue
        new = pattern.sub(lambda m: m.group(1) + latest, text)
        if new != text:
            changes[wf.file] = new
    if not changes:
        return NoFix(finding.check_id, f"no `uses: {reference}@...` line to bump", finding.remediation)
    return Fix(finding.check_id, changes, f"Pin the shared CI workflow to {latest}",
               ("read the release notes for required inputs",))
