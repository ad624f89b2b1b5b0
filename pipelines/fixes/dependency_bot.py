"""Dependency update bot fixes: the check's Dependabot snippet (ecosystems from the repo's manifests)."""

from __future__ import annotations

from checks.evidence import ServiceEvidence
from checks.model import CheckContext, Finding
from pipelines.fixes.model import Fix, NoFix, Reader

CHECKS = ("has_dependency_update_bot",)
FILE = ".github/dependabot.yml"


def generate(finding: Finding, ev: ServiceEvidence, ctx: CheckContext, read: Reader) -> Fix | NoFix:
    if not finding.snippet:
        return NoFix(finding.check_id, "the check gave no configuration to write", finding.remediation)
    if read(FILE) is not None:
        return NoFix(finding.check_id, f"{FILE} exists already; the crawl did not see it", finding.remediation)
    ecosystems = [line.split('"')[1] for line in finding.snippet.splitlines() if "package-ecosystem" in line]
    return Fix(finding.check_id, {FILE: finding.snippet},
               f"Let Dependabot update {', '.join(ecosystems)} dependencies weekly")
