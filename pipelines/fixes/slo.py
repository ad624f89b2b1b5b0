"""SLO fixes: the check's Sloth snippet as the service's `slo.yaml`."""

from __future__ import annotations

from checks.evidence import ServiceEvidence
from checks.model import CheckContext, Finding
from pipelines.fixes.model import Fix, NoFix, Reader

CHECKS = ("has_slo_defined",)


def generate(finding: Finding, ev: ServiceEvidence, ctx: CheckContext, read: Reader) -> Fix | NoFix:
    file = str(finding.params.get("slo_file") or "")
    if not file or not finding.snippet:
        return NoFix(finding.check_id, "the check named no SLO file", finding.remediation)
    if read(file) is not None:
        return NoFix(finding.check_id, f"{file} exists but is not an SLO the check recognises", finding.remediation)
    return Fix(finding.check_id, {file: finding.snippet}, f"Define a 99.9 % availability SLO for {ev.service}",
               ("the objective (99.9) and the request metric are the snippet's defaults: adjust them to the service",))
