"""A file the clone lacks makes exactly the checks reading that kind of file `unknown`."""

from __future__ import annotations

import dataclasses
import inspect
import re

import pytest

from checks import file_kinds
from checks.catalogue import all_checks
from checks.evidence import ServiceEvidence, UnreadableFile
from checks.model import CATALOGUE, evaluate
from pipelines.sources import repo_files

MANIFEST = UnreadableFile("deploy/app.yaml", "k8s", repo_files.NOT_IN_CLONE)
CODEOWNERS = UnreadableFile(".github/CODEOWNERS", "codeowners", repo_files.LFS_POINTER)


def run(check_id: str, ev: ServiceEvidence, ctx):
    return evaluate(CATALOGUE[check_id], ev, ctx)


def test_every_check_says_what_it_reads():
    ids = {c.id for c in all_checks()}
    assert set(file_kinds.READS) | file_kinds.READS_NO_CONTENT == ids
    assert not set(file_kinds.READS) & file_kinds.READS_NO_CONTENT
    assert file_kinds.FAILS_ON_WHAT_WAS_READ | file_kinds.RUNNING_STATE_FIRST <= set(file_kinds.READS)


def test_every_kind_the_crawler_reads_is_judged_by_some_check_or_said_not_to_be():
    # Read from kind_of itself, so a kind added there without a word here fails.
    produced = set(re.findall(r'return "(\w+)"', inspect.getsource(repo_files.kind_of)))
    assert produced, "kind_of no longer returns literal kinds: list its kinds for checks.file_kinds"
    assert produced == set().union(*file_kinds.READS.values()) | file_kinds.NOT_JUDGED


def test_a_failure_the_missing_file_could_change_becomes_unknown_naming_it(evidence, ctx):
    ev = dataclasses.replace(evidence, codeowners=None, codeowners_owners=None, unreadable_files=[CODEOWNERS])
    finding = run("has_codeowners", ev, ctx)
    assert finding.status == "unknown"
    assert finding.detail == ".github/CODEOWNERS: not available in this clone: stored in Git LFS, the clone holds only the pointer"
    assert "Crawl a full clone of" in finding.remediation and ".github/CODEOWNERS is not in" in finding.remediation
    assert finding.snippet is None


def test_a_pass_stands_on_what_was_read(evidence, ctx):
    ev = dataclasses.replace(evidence, unreadable_files=[CODEOWNERS])
    assert run("has_codeowners", ev, ctx).status == "pass"


def test_checks_reading_other_kinds_keep_their_value(evidence, ctx):
    ev = dataclasses.replace(evidence, unreadable_files=[CODEOWNERS])
    for check in all_checks():
        if "codeowners" not in file_kinds.READS.get(check.id, ()):
            assert run(check.id, ev, ctx) == run(check.id, evidence, ctx), check.id


def test_a_violation_found_in_a_file_that_was_read_still_fails(evidence, ctx):
    workloads = [dataclasses.replace(w, containers=[dataclasses.replace(c, image="ghcr.io/acme/x:latest")
                                                   for c in w.containers]) for w in evidence.cluster_workloads]
    ev = dataclasses.replace(evidence, cluster_workloads=None, repo_workloads=workloads, unreadable_files=[MANIFEST])
    assert run("no_latest_image_tags", ev, ctx).status == "fail"


@pytest.mark.parametrize("check_id", sorted(file_kinds.RUNNING_STATE_FIRST))
def test_an_unreadable_manifest_does_not_matter_while_a_cluster_reports_the_workloads(check_id, evidence, ctx):
    ev = dataclasses.replace(evidence, unreadable_files=[MANIFEST])
    assert run(check_id, ev, ctx) == run(check_id, evidence, ctx)


def test_without_the_cluster_the_manifest_was_all_there_was(evidence, ctx):
    ev = dataclasses.replace(evidence, cluster_workloads=None, cluster_objects=[], repo_workloads=[],
                             repo_objects=[], unreadable_files=[MANIFEST])
    finding = run("has_readiness_probes", ev, ctx)
    assert finding.status == "unknown"
    assert finding.detail.startswith("deploy/app.yaml: not available in this clone")
    assert "no workloads found" in finding.detail  # the check's own reason is kept after it
