"""Claims across repositories (pipelines/crossplane.py): the platform repo's XRD makes a
parameters-only manifest in a service repo a claim, each claim joins the right service
of a monorepo, and a repo and a cluster copy of one claim are judged once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from checks.catalogue import CATALOGUE
from checks.evidence import K8sObject
from checks.model import Status, evaluate
from pipelines import crossplane
from pipelines.config import parse_config
from pipelines.evidence import build_evidence
from pipelines.facts import K8sInventory
from pipelines.sources.base import ClusterCrawl
from pipelines.sources.local_git import LocalGitSource
from pipelines.stages import resolve
from tests.gitrepo import catalog_info, commit, init

AS_OF = dt.date(2026, 12, 3)
XRD = """apiVersion: apiextensions.crossplane.io/v1
kind: CompositeResourceDefinition
metadata: {name: xbuckets.storage.acme.io}
spec:
  group: storage.acme.io
  names: {kind: XBucket, plural: xbuckets}
  claimNames: {kind: Bucket, plural: buckets}
  versions: [{name: v1, served: true, referenceable: true}]
---
apiVersion: apiextensions.crossplane.io/v1
kind: Composition
metadata: {name: bucket-s3, labels: {platform.acme.io/published: "true"}}
spec:
  compositeTypeRef: {apiVersion: storage.acme.io/v1, kind: XBucket}
---
apiVersion: apiextensions.crossplane.io/v1
kind: Composition
metadata: {name: bucket-legacy}
spec:
  compositeTypeRef: {apiVersion: storage.acme.io/v1, kind: XBucket}
"""


def bucket(name: str, labels: str = "", extra: str = "") -> str:
    return (f"apiVersion: storage.acme.io/v1\nkind: Bucket\nmetadata:\n  name: {name}\n{labels}"
            f"spec:\n  parameters: {{region: eu-west-1}}\n{extra}")


def org(root: Path) -> Path:
    commit(init(root / "platform-apis"), {"apis/bucket.yaml": XRD, "README.md": "platform\n"})
    commit(init(root / "payments"), {
        "services/api/catalog-info.yaml": catalog_info("payments-api"),
        "services/api/infra/uploads.yaml": bucket("uploads", extra="  compositionRef: {name: bucket-s3}\n"),
        "services/worker/catalog-info.yaml": catalog_info("payments-worker"),
        # Outside both folders: its label says whose it is.
        "infra/archive.yaml": bucket("archive", "  labels: {app.kubernetes.io/name: payments-worker}\n",
                                     "  compositionRef: {name: bucket-legacy}\n"),
        # Flux's Bucket of the same name is a source, never a claim.
        "services/api/flux.yaml": "apiVersion: source.toolkit.fluxcd.io/v1\nkind: Bucket\nmetadata: {name: b}\n"
                                  "spec: {bucketName: x, endpoint: s3.amazonaws.com, interval: 5m}\n",
    })
    return root


def evidence(root: Path, clusters=None):
    source = LocalGitSource(root)
    crawls = [source.crawl(name, None) for name in source.repo_names()]
    config = parse_config({"sources": {"repos": [{"root": str(root)}]},
                           "golden_paths": {"crossplane": {"match_labels": {"platform.acme.io/published": "true"}}}},
                          "scorecard.yaml", root)
    records, _ = resolve(crawls, config, None)
    evs = build_evidence(records, {c.facts.repo: c.facts for c in crawls}, None, {}, AS_OF)
    crossplane.attach(evs, records, [c.facts for c in crawls], clusters)
    return {ev.service: ev for ev in evs}, config.check_context(AS_OF)


def test_claims_found_through_another_repositorys_xrd_join_their_service(tmp_path):
    by_service, ctx = evidence(org(tmp_path))
    assert [c.name for c in by_service["payments-api"].claims] == ["uploads"]
    assert [c.name for c in by_service["payments-worker"].claims] == ["archive"]
    assert by_service["platform-apis"].claims == []
    api = evaluate(CATALOGUE["uses_platform_compositions"], by_service["payments-api"], ctx)
    assert api.status == Status.PASS and "bucket-s3" in api.detail
    worker = evaluate(CATALOGUE["uses_platform_compositions"], by_service["payments-worker"], ctx)
    assert worker.status == Status.FAIL and "bucket-legacy" in worker.detail
    assert "infra/archive.yaml" in worker.remediation and "platform.acme.io/published: true" in worker.snippet
    # Not on Crossplane at all: nothing to judge, and nothing failed.
    none = evaluate(CATALOGUE["uses_platform_compositions"], by_service["platform-apis"], ctx)
    assert none.status == Status.NOT_APPLICABLE


def test_without_the_platform_repo_a_parameters_only_manifest_is_no_claim(tmp_path):
    root = org(tmp_path)
    import shutil

    shutil.rmtree(root / "platform-apis")
    by_service, _ = evidence(root)
    # `uploads` still names a composition, so its shape says claim; `archive` too.
    assert [c.recognised_by for c in by_service["payments-api"].claims] == ["shape"]


def test_a_claim_in_git_and_live_is_judged_once_as_live(tmp_path):
    root = org(tmp_path)
    live = K8sInventory(objects=[K8sObject(
        "Bucket", "uploads", "payments", {"app.kubernetes.io/name": "payments-api"}, {},
        {"api_version": "storage.acme.io/v1", "crossplane": "claim", "composition": "bucket-s3",
         "revision": "bucket-s3-abc", "update_policy": "Manual", "selector": {}}, cluster="prod-eu")])
    by_service, _ = evidence(root, [ClusterCrawl("prod-eu", "production", live)])
    (claim,) = by_service["payments-api"].claims
    assert (claim.cluster, claim.revision, claim.file) == ("prod-eu", "bucket-s3-abc", "services/api/infra/uploads.yaml")


def test_the_crossplane_golden_path_config_is_validated(tmp_path):
    import pytest

    from pipelines.config import ConfigError

    with pytest.raises(ConfigError) as err:
        parse_config({"golden_paths": {"crossplane": {}}}, "scorecard.yaml", tmp_path)
    assert "golden_paths.crossplane" in str(err.value) and "match_labels" in str(err.value)
    with pytest.raises(ConfigError) as err:
        parse_config({"golden_paths": {"crossplane": {"composition": ["x"]}}}, "scorecard.yaml", tmp_path)
    assert "composition" in str(err.value)
    ctx = parse_config({"golden_paths": {"crossplane": {"compositions": ["a"], "match_labels": {"k": "v"}}}},
                       "scorecard.yaml", tmp_path).check_context(AS_OF)
    assert ctx.crossplane.compositions == ("a",) and ctx.crossplane.match_labels == (("k", "v"),)


def test_crossplane_adoption_is_read_from_the_uses_finding(tmp_path):
    import pandas as pd

    from pipelines.frames import adoption_frame, adoption_summary

    ctx = parse_config({"golden_paths": {"crossplane": {"compositions": ["bucket-s3"]}}}, "s.yaml", tmp_path).check_context(AS_OF)
    results = pd.DataFrame([
        {"service": "a", "team": "t", "check_id": "uses_platform_compositions", "status": "pass",
         "params": {"version": "bucket-s3", "latest": None, "releases_behind": 2}},
        {"service": "b", "team": "t", "check_id": "uses_platform_compositions", "status": "fail", "params": {}},
        {"service": "c", "team": "t", "check_id": "uses_platform_compositions", "status": "not_applicable", "params": {}},
    ])
    adoption = adoption_frame(results, ctx)
    assert adoption[["service", "golden_path", "adoption", "releases_behind"]].values.tolist() == [
        ["a", "crossplane", "adopted", 2], ["b", "crossplane", "not_adopted", pd.NA]]
    summary = adoption_summary(adoption)
    org = summary[(summary.team == "*") & (summary.golden_path == "crossplane")].iloc[0]
    assert (org.adopted, org.not_adopted, org.behind_latest, org.adoption_share) == (1, 1, 1, 0.5)
