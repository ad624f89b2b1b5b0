"""CODEOWNERS fixes: the check's own rule line, appended to the file read or in a new `.github/CODEOWNERS`."""

from __future__ import annotations

from checks.evidence import ServiceEvidence
from checks.model import CheckContext, Finding
from pipelines.fixes.model import Fix, NoFix, Reader

CHECKS = ("has_codeowners",)
NEW_FILE = ".github/CODEOWNERS"


def generate(finding: Finding, ev: ServiceEvidence, ctx: CheckContext, read: Reader) -> Fix | NoFix:
    if not ev.team or not finding.snippet:
        return NoFix(finding.check_id, "no owning team could be inferred for the rule", finding.remediation)
    file = ev.codeowners.file if ev.codeowners is not None else NEW_FILE
    current = read(file)
    if current is None and ev.codeowners is not None:
        return NoFix(finding.check_id, f"{file} was read by the crawl but is not in the checkout", finding.remediation)
    # Last matching rule wins in CODEOWNERS: appending puts the service's rule above any broader earlier one.
    text = (current or "")
    if text and not text.endswith("\n"):
        text += "\n"
    return Fix(finding.check_id, {file: text + finding.snippet},
               f"Route reviews of {ev.path or 'the repository'} to {finding.params.get('suggested_owner')} in {file}")
