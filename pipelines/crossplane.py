"""Crossplane evidence: which claims each service makes, and the run's composition catalogue.

Runs after the crawl, over every repository and cluster at once, because what
makes an object a claim may be in another place: a claim that only sets its
parameters (`kind: PostgreSQLInstance`, `spec.parameters`) is recognised by the
XRD serving that kind, which usually lives in the platform team's repository
or only in the cluster. `pipelines.parsers.crossplane` keeps such objects as
candidates; here an XRD of the run turns them into claims.

Attaching (DESIGN.md: claims are evidence about a service, never services):

* in a repository, a claim joins the service of that repository its labels
  name (`backstage.io/kubernetes-id`, `app.kubernetes.io/name`, `app`), else
  the service whose folder holds the file (the repository's own service holds
  them all);
* in a cluster, a claim joins the service its labels name, else every service
  with workloads in its namespace on that cluster;
* the same claim seen in a repository and in a cluster is judged once, as the
  cluster has it (Crossplane fills in the composition and revision there),
  keeping the repository file for the fix.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from checks.evidence import K8sObject, ServiceEvidence
from checks.evidence_crossplane import (
    Claim,
    CompositionCatalogue,
    CompositionInfo,
    RevisionInfo,
    XrdInfo,
)
from pipelines.evidence import JoinIndex, join_candidates
from pipelines.facts import K8sInventory, RepoFacts
from pipelines.identity import ServiceRecord
from pipelines.sources.base import ClusterCrawl

CLAIM_SHAPES = frozenset({"claim", "composite", "v2"})


def _group(obj: K8sObject) -> str:
    api_version = obj.spec.get("api_version") or ""
    return api_version.rsplit("/", 1)[0] if "/" in api_version else ""


def build_catalogue(inventories: Iterable[tuple[K8sInventory, str]]) -> CompositionCatalogue:
    """Every XRD, Composition and CompositionRevision of the run; a cluster's copy wins over a repo's."""
    xrds: dict[str, XrdInfo] = {}
    compositions: dict[str, CompositionInfo] = {}
    revisions: dict[str, RevisionInfo] = {}
    for inventory, where in inventories:
        live = where.startswith("cluster ")
        for obj in inventory.objects:
            role = obj.spec.get("crossplane")
            if role == "xrd" and obj.spec.get("group") and obj.spec.get("kind"):
                if live or obj.name not in xrds:
                    xrds[obj.name] = XrdInfo(
                        obj.name, obj.spec["group"], obj.spec["kind"], obj.spec.get("claim_kind"),
                        obj.spec.get("default_composition"), list(obj.spec.get("versions") or []),
                    )
            elif role == "composition" and (live or obj.name not in compositions):
                compositions[obj.name] = CompositionInfo(
                    obj.name, obj.spec.get("composite_kind"), obj.spec.get("composite_api_version"),
                    dict(obj.labels), obj.file or where,
                )
            elif role == "revision" and obj.spec.get("composition") and isinstance(obj.spec.get("revision"), int):
                revisions.setdefault(obj.name, RevisionInfo(obj.name, obj.spec["composition"], obj.spec["revision"], obj.cluster))
    return CompositionCatalogue(list(xrds.values()), list(compositions.values()), list(revisions.values()))


def find_claims(inventory: K8sInventory, catalogue: CompositionCatalogue) -> list[tuple[Claim, K8sObject]]:
    """The claims of one inventory: by shape, or (candidates) because an XRD serves their kind."""
    out = []
    for obj in inventory.objects:
        if obj.spec.get("crossplane") in CLAIM_SHAPES:
            xrd = catalogue.xrd_for(_group(obj), obj.kind)
            out.append((_claim(obj, obj.spec["crossplane"], "xrd" if xrd else "shape"), obj))
    for obj in inventory.custom_objects:
        xrd = catalogue.xrd_for(_group(obj), obj.kind)
        if xrd is not None:
            shape = "claim" if obj.kind == xrd.claim_kind else "composite"
            out.append((_claim(obj, shape, "xrd"), obj))
    return out


def _claim(obj: K8sObject, shape: str, recognised_by: str) -> Claim:
    return Claim(
        kind=obj.kind, api_group=_group(obj), name=obj.name, namespace=obj.namespace, shape=shape,
        file=obj.file, cluster=obj.cluster, composition=obj.spec.get("composition"),
        selector=dict(obj.spec.get("selector") or {}), revision=obj.spec.get("revision"),
        update_policy=obj.spec.get("update_policy"), recognised_by=recognised_by,
    )


def _label_match(join: JoinIndex, obj: K8sObject) -> str | None:
    matched = join.match(join_candidates((obj.labels,), None, ()))
    return matched[0] if matched else None


def _under(file: str | None, path: str) -> bool:
    return file is not None and (not path or file == path or file.startswith(path + "/"))


def attach(
    evidence: list[ServiceEvidence],
    records: list[ServiceRecord],
    repos: Iterable[RepoFacts],
    clusters: list[ClusterCrawl] | None,
) -> CompositionCatalogue:
    """Fill `claims` and `compositions` on every service's evidence; returns the catalogue."""
    repos = [r for r in repos if not r.error]
    live = [c for c in clusters or [] if not c.error]
    catalogue = build_catalogue(
        [(r.manifests, f"repo {r.repo}") for r in repos] + [(c.inventory, f"cluster {c.cluster}") for c in live]
    )
    claims: dict[str, list[Claim]] = defaultdict(list)
    by_repo: dict[str, list[ServiceRecord]] = defaultdict(list)
    for rec in records:
        if rec.repo:
            by_repo[rec.repo].append(rec)
    for facts in repos:
        recs = sorted(by_repo.get(facts.repo, []), key=lambda r: -len(r.path))
        join = JoinIndex(recs)
        for claim, obj in find_claims(facts.manifests, catalogue):
            service = _label_match(join, obj) or next((r.service for r in recs if _under(obj.file, r.path)), None)
            if service is not None:
                claims[service].append(claim)
    join = JoinIndex(records)
    by_namespace: dict[tuple[str | None, str], set[str]] = defaultdict(set)
    for ev in evidence:
        for w in ev.cluster_workloads or []:
            by_namespace[(w.cluster, w.namespace)].add(ev.service)
    for crawl in live:
        for claim, obj in find_claims(crawl.inventory, catalogue):
            named = _label_match(join, obj)
            for service in [named] if named else sorted(by_namespace.get((obj.cluster, obj.namespace), ())):
                claims[service].append(claim)
    for ev in evidence:
        ev.compositions = catalogue
        ev.claims = _once(claims.get(ev.service, []))
    return catalogue


def _once(claims: list[Claim]) -> list[Claim]:
    """A claim both in a manifest and live is the live one, with the manifest's file kept."""
    live = {(c.kind, c.name): c for c in claims if c.cluster is not None}
    out = []
    for c in claims:
        twin = live.get((c.kind, c.name)) if c.cluster is None else None
        if twin is not None:
            twin.file = twin.file or c.file
            continue
        out.append(c)
    return out
