"""Crossplane and secrets managers in a live cluster: the XRDs say which claim kinds to
list next, a claim that is only parameters is a claim, and a forbidden claim kind is a
readable problem that makes the Crossplane checks `unknown` rather than wrong."""

from __future__ import annotations

import datetime as dt

from checks.catalogue import CATALOGUE
from checks.model import CheckContext, PlatformCompositions, Status, evaluate
from pipelines import crossplane
from pipelines.evidence import build_evidence, index_clusters
from pipelines.identity import ServiceRecord
from pipelines.sources.kubeconfig import Endpoint
from pipelines.sources.kubernetes import KubernetesSource
from tests.fakes.k8s_server import FakeKubernetes, deployment

TOKEN = "k8s-crossplane-token-never-in-output"
GROUP = "platform.acme.io"


def xrd() -> dict:
    return {
        "apiVersion": "apiextensions.crossplane.io/v1", "kind": "CompositeResourceDefinition",
        "metadata": {"name": f"xpostgresqlinstances.{GROUP}"},
        "spec": {"group": GROUP, "names": {"kind": "XPostgreSQLInstance", "plural": "xpostgresqlinstances"},
                 "claimNames": {"kind": "PostgreSQLInstance", "plural": "postgresqlinstances"},
                 "versions": [{"name": "v1alpha1", "served": True, "referenceable": True}]},
    }  # fmt: skip


def revision(n: int) -> dict:
    return {
        "apiVersion": "apiextensions.crossplane.io/v1", "kind": "CompositionRevision",
        "metadata": {"name": f"postgres-aws-{n:07x}", "labels": {"crossplane.io/composition-name": "postgres-aws"}},
        "spec": {"revision": n, "compositeTypeRef": {"apiVersion": f"{GROUP}/v1alpha1", "kind": "XPostgreSQLInstance"}},
    }  # fmt: skip


def claim(name: str, namespace: str, **spec) -> dict:
    return {"apiVersion": f"{GROUP}/v1alpha1", "kind": "PostgreSQLInstance",
            "metadata": {"name": name, "namespace": namespace}, "spec": {"parameters": {"storageGB": 20}, **spec}}


def cluster() -> FakeKubernetes:
    fake = FakeKubernetes(tokens={TOKEN})
    fake.add_xrd(xrd())
    fake.add(
        deployment("payments", "payments"), deployment("search", "search"),
        {"apiVersion": "apiextensions.crossplane.io/v1", "kind": "Composition",
         "metadata": {"name": "postgres-aws", "labels": {"platform.acme.io/published": "true"}},
         "spec": {"compositeTypeRef": {"apiVersion": f"{GROUP}/v1alpha1", "kind": "XPostgreSQLInstance"}}},
        revision(1), revision(2), revision(3),
        # As Crossplane leaves a live claim: composition and revision filled in.
        claim("payments-db", "payments", compositionRef={"name": "postgres-aws"},
              compositionRevisionRef={"name": "postgres-aws-0000001"}, compositionUpdatePolicy="Manual"),
        # Only parameters: a claim because the XRD serves its kind.
        claim("search-db", "search"),
        {"apiVersion": f"{GROUP}/v1alpha1", "kind": "XPostgreSQLInstance", "metadata": {"name": "payments-db-x7k2p"},
         "spec": {"claimRef": {"name": "payments-db", "namespace": "payments"}, "compositionRef": {"name": "postgres-aws"}}},
        {"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret",
         "metadata": {"name": "search-creds", "namespace": "search"}, "spec": {"encryptedData": {"k": "AgB="}}},
    )  # fmt: skip
    return fake


def crawl(fake: FakeKubernetes):
    endpoint = Endpoint(server=fake.url, source="test", token=TOKEN)
    return KubernetesSource("prod-eu", "production", lambda: endpoint).crawl()


def records() -> list[ServiceRecord]:
    return [ServiceRecord(name, None, "", "config", "team", "config") for name in ("payments", "search")]


def evidence_for(result):
    recs = records()
    evidence = build_evidence(recs, {}, index_clusters([result], recs), {}, dt.date(2026, 12, 3))
    crossplane.attach(evidence, recs, [], [result])
    return {ev.service: ev for ev in evidence}


def test_claim_kinds_come_from_the_xrds_and_are_listed_after_them():
    with cluster() as fake:
        result = crawl(fake)
        paths = [r.path for r in fake.requests]
    assert result.error is None and result.partial == []
    assert paths.index("/apis/apiextensions.crossplane.io/v2/compositeresourcedefinitions") < paths.index(
        f"/apis/{GROUP}/v1alpha1/postgresqlinstances")
    assert f"/apis/{GROUP}/v1alpha1/xpostgresqlinstances" in paths
    assert {o.kind for o in result.inventory.objects} >= {"CompositeResourceDefinition", "Composition",
                                                           "CompositionRevision", "SealedSecret"}


def test_live_claims_join_the_services_of_their_namespace_and_are_judged():
    with cluster() as fake:
        by_service = evidence_for(crawl(fake))
    payments, search = by_service["payments"], by_service["search"]
    assert [(c.name, c.revision, c.update_policy) for c in payments.claims] == [
        ("payments-db", "postgres-aws-0000001", "Manual")]  # its XR (claimRef) is not a second claim
    assert [(c.name, c.recognised_by) for c in search.claims] == [("search-db", "xrd")]
    assert search.compositions.latest_revision("postgres-aws") == 3
    ctx = CheckContext(as_of=dt.date(2026, 12, 3), crossplane=PlatformCompositions(("postgres-aws",)))
    drift = evaluate(CATALOGUE["composition_revision_up_to_date"], payments, ctx)
    assert drift.status == Status.FAIL and "2 revisions behind revision 3" in drift.detail
    # search-db names no composition: the XRD's only composition is the platform's.
    uses = evaluate(CATALOGUE["uses_platform_compositions"], search, ctx)
    assert uses.status == Status.PASS and "postgres-aws" in uses.detail


def test_a_forbidden_claim_kind_is_partial_and_unknown_never_not_applicable():
    fake = cluster()
    fake.forbidden.add("postgresqlinstances")
    with fake:
        result = crawl(fake)
    assert result.error is None
    assert any("postgresqlinstances.platform.acme.io: forbidden (403)" in p for p in result.partial)
    assert "PostgreSQLInstance" in result.inventory.unreadable
    search = evidence_for(result)["search"]
    assert search.claims == []
    ctx = CheckContext(as_of=dt.date(2026, 12, 3), crossplane=PlatformCompositions(("postgres-aws",)))
    finding = evaluate(CATALOGUE["uses_platform_compositions"], search, ctx)
    assert finding.status == Status.UNKNOWN and "PostgreSQLInstance" in finding.detail
    assert TOKEN not in repr(result)


def test_a_cluster_without_crossplane_asks_for_no_claim_kinds():
    with FakeKubernetes(tokens={TOKEN}) as fake:
        fake.add(deployment("payments", "payments"))
        result = crawl(fake)
    assert result.error is None and result.partial == []
    assert not [r for r in fake.requests if GROUP in r.path]
