"""Unreadable files reach the services that would have read them, scoped like the files themselves."""

import datetime as dt

from checks.evidence import UnreadableFile
from pipelines.evidence import build_evidence
from pipelines.facts import RepoFacts
from pipelines.identity import ServiceRecord

GONE = "not available in this clone (a partial or shallow clone left its content out)"


def test_a_monorepo_service_sees_its_own_and_the_repository_wide_unreadable_files():
    facts = RepoFacts(repo="mono", location="mono", unreadable=[
        UnreadableFile("services/a/k8s/deploy.yaml", "k8s", GONE),
        UnreadableFile("services/b/pyproject.toml", "dependencies", GONE),
        UnreadableFile(".github/workflows/ci.yml", "workflow", GONE),
        UnreadableFile("CODEOWNERS", "codeowners", GONE),
    ])
    records = [ServiceRecord(name, "mono", f"services/{name}", "config", "team", "config") for name in ("a", "b")]
    a, b = build_evidence(records, {"mono": facts}, None, {}, dt.date(2026, 1, 1))
    assert [u.path for u in a.unreadable_files] == ["services/a/k8s/deploy.yaml", ".github/workflows/ci.yml", "CODEOWNERS"]
    assert [u.path for u in b.unreadable_files] == ["services/b/pyproject.toml", ".github/workflows/ci.yml", "CODEOWNERS"]
