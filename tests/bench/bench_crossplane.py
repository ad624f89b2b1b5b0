"""Crossplane at organisation scale: a platform with 200 XRDs, 2,000 services each
holding 5 claims and 20 other custom resources in their manifests (50,000 objects),
and a cluster with 2,000 live claims and 400 composition revisions.

What is measured: recognising claims across all of it and attaching them to the
services (`pipelines.crossplane.attach`), then judging both Crossplane checks for
every service. Targets: attach < 5 s; both checks > 5,000 claims/s (each claim judged
by each check; about 6 claims a service here, far more than usual).

    .venv/bin/python -m tests.bench.bench_crossplane
"""

from __future__ import annotations

import datetime as dt
import time

from checks.catalogue import CATALOGUE
from checks.evidence import K8sObject, ServiceEvidence
from checks.model import CheckContext, PlatformCompositions, evaluate
from pipelines import crossplane
from pipelines.facts import K8sInventory, RepoFacts
from pipelines.identity import ServiceRecord
from pipelines.sources.base import ClusterCrawl
from tests.bench.targets import Targets

XRDS, SERVICES, CLAIMS_PER_SERVICE, OTHER_PER_SERVICE, REVISIONS = 200, 2_000, 5, 20, 2
ATTACH_TARGET_S = 5.0
CHECKS_TARGET_PER_S = 5_000  # claims per second through both checks


def _obj(kind: str, name: str, spec: dict, *, file=None, cluster=None, namespace="", labels=None) -> K8sObject:
    return K8sObject(kind, name, namespace, labels or {}, {}, spec, file=file, cluster=cluster)


def build() -> tuple[list[ServiceRecord], list[RepoFacts], list[ClusterCrawl]]:
    platform = K8sInventory()
    for i in range(XRDS):
        platform.objects.append(_obj("CompositeResourceDefinition", f"x{i}", {
            "api_version": "apiextensions.crossplane.io/v1", "crossplane": "xrd", "group": f"g{i}.acme.io",
            "kind": f"XThing{i}", "claim_kind": f"Thing{i}", "versions": ["v1"]}))
        platform.objects.append(_obj("Composition", f"c{i}", {"crossplane": "composition", "composite_kind": f"XThing{i}"},
                                     labels={"platform": "true"}))
    live = K8sInventory()
    for i in range(XRDS):
        for r in range(1, REVISIONS + 1):
            live.objects.append(_obj("CompositionRevision", f"c{i}-r{r}", {
                "crossplane": "revision", "composition": f"c{i}", "revision": r}, cluster="prod"))
    records, repos = [], []
    for s in range(SERVICES):
        name = f"svc-{s}"
        records.append(ServiceRecord(name, name, "", "repo", "team", "CODEOWNERS"))
        inv = K8sInventory()
        for c in range(CLAIMS_PER_SERVICE):
            x = (s * CLAIMS_PER_SERVICE + c) % XRDS
            inv.custom_objects.append(_obj(f"Thing{x}", f"{name}-{c}", {
                "api_version": f"g{x}.acme.io/v1", "crossplane": None, "composition": f"c{x}",
                "revision": f"c{x}-r1", "update_policy": "Manual", "selector": {}}, file=f"infra/{c}.yaml"))
        for o in range(OTHER_PER_SERVICE):
            inv.custom_objects.append(_obj("Certificate", f"{name}-cert-{o}", {
                "api_version": "cert-manager.io/v1", "crossplane": None, "selector": {}}, file=f"k8s/{o}.yaml"))
        repos.append(RepoFacts(repo=name, location=name, manifests=inv))
        live.objects.append(_obj("Thing0", f"{name}-live", {
            "api_version": "g0.acme.io/v1", "crossplane": "claim", "composition": "c0", "revision": "c0-r2",
            "update_policy": "Manual", "selector": {}}, cluster="prod", namespace=name,
            labels={"app.kubernetes.io/name": name}))
    repos.append(RepoFacts(repo="platform-apis", location="platform-apis", manifests=platform))
    return records, repos, [ClusterCrawl("prod", "production", live)]


def run() -> dict:
    records, repos, clusters = build()
    evidence = [ServiceEvidence(r.service, "repo", r.repo, "", "team", "CODEOWNERS", dt.date(2026, 12, 3)) for r in records]
    started = time.monotonic()
    crossplane.attach(evidence, records, repos, clusters)
    attach_s = time.monotonic() - started
    ctx = CheckContext(as_of=dt.date(2026, 12, 3), crossplane=PlatformCompositions(match_labels=(("platform", "true"),)))
    checks = [CATALOGUE["uses_platform_compositions"], CATALOGUE["composition_revision_up_to_date"]]
    started = time.monotonic()
    findings = [evaluate(c, ev, ctx) for ev in evidence for c in checks]
    checks_s = time.monotonic() - started
    return {
        "objects": sum(len(r.manifests.custom_objects) + len(r.manifests.objects) for r in repos)
        + len(clusters[0].inventory.objects),
        "claims": sum(len(ev.claims) for ev in evidence),
        "attach_s": attach_s,
        "services_per_s": len(evidence) / checks_s,
        "claims_per_s": sum(len(ev.claims) for ev in evidence) / checks_s,
        "statuses": sorted({f.status.value for f in findings}),
    }


def main() -> list[str]:
    f = run()
    t = Targets()
    print(f"## Crossplane: {f['objects']:,} objects, {f['claims']:,} claims on {SERVICES:,} services")
    print(f"  attach claims: {f['attach_s']:.2f} s {t.below('attach claims', f['attach_s'], ATTACH_TARGET_S)}")
    print(f"  both checks: {f['claims_per_s']:,.0f} claims/s "
          f"{t.above('Crossplane checks', f['claims_per_s'], CHECKS_TARGET_PER_S)} "
          f"({f['services_per_s']:,.0f} services/s); statuses {f['statuses']}")
    if f["claims"] != SERVICES * (CLAIMS_PER_SERVICE + 1):
        t.missed.append(f"found {f['claims']} claims, expected {SERVICES * (CLAIMS_PER_SERVICE + 1)}")
    t.check()
    return []


if __name__ == "__main__":
    main()
