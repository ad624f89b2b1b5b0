"""Reliability fixes in the service's Kubernetes manifests: probes, resource stanzas, a PodDisruptionBudget.

Only workloads read from the repository's plain YAML manifests are edited
(ruamel.yaml round trip: comments and layout stay); a workload known only from
a cluster, or one rendered from a Helm template, has no file this can edit
safely, and the generator says so. Probe and resource values are the check's
own snippet; the PDB is the check's own `_pdb_snippet`, appended as a new
document to the workload's manifest so it ships wherever that file ships.
"""

from __future__ import annotations

from checks._helpers import LONG_RUNNING, REPLICATED
from checks.evidence import ServiceEvidence, Workload
from checks.model import CheckContext, Finding
from checks.reliability import _pdb_snippet, _probe_snippet
from pipelines.fixes.model import Fix, NoFix, Reader
from pipelines.fixes.yamledit import (
    NotEditable,
    dump_documents,
    load_documents,
    load_snippet,
    merge_missing,
)
from pipelines.parsers.kubernetes import _POD_TEMPLATE

CHECKS = ("has_readiness_probes", "has_liveness_probes", "has_resource_requests", "has_resource_limits",
          "has_pod_disruption_budget")
_PROBES = {"has_readiness_probes": "readiness", "has_liveness_probes": "liveness"}


def generate(finding: Finding, ev: ServiceEvidence, ctx: CheckContext, read: Reader) -> Fix | NoFix:
    if ev.cluster_workloads:
        return NoFix(finding.check_id, "judged on cluster workloads: the fix belongs wherever they are deployed from",
                     finding.remediation)
    if finding.check_id == "has_pod_disruption_budget":
        return _pdb(finding, ev, read)
    return _containers(finding, ev, read)


def _containers(finding: Finding, ev: ServiceEvidence, read: Reader) -> Fix | NoFix:
    kind = _PROBES.get(finding.check_id)
    kinds = LONG_RUNNING if kind else None
    changes: dict[str, str] = {}
    edited: list[str] = []
    notes: list[str] = []
    by_file: dict[str, list[Workload]] = {}
    for w in ev.repo_workloads:
        if w.file and (kinds is None or w.kind in kinds):
            by_file.setdefault(w.file, []).append(w)
    for file, workloads in sorted(by_file.items()):
        text = read(file)
        if text is None:
            continue
        try:
            yaml, docs = load_documents(text, file)
        except NotEditable as exc:
            notes.append(f"not edited: {exc}")
            continue
        touched = False
        for w in workloads:
            pod = _pod_spec(docs, w)
            if pod is None:
                continue
            lists = ("containers",) if kind else ("initContainers", "containers")
            for c in (c for key in lists for c in (pod.get(key) or []) if isinstance(c, dict)):
                stanza = load_snippet(_probe_snippet(kind, [str(c.get("name"))]) if kind else finding.snippet or "")
                if kind:
                    port = _probe_port(c)
                    stanza[f"{kind}Probe"]["httpGet"]["port"] = port or "http"
                    if port is None:
                        notes.append(f"{w.name}/{c.get('name')} declares no port: set the probe's port")
                if merge_missing(c, stanza):
                    touched = True
                    edited.append(f"{w.name}/{c.get('name')}")
        if touched:
            changes[file] = dump_documents(yaml, docs)
    if not changes:
        why = "; ".join(notes) or "no container in the repository's manifests lacks it (cluster or Helm workloads?)"
        return NoFix(finding.check_id, why, finding.remediation)
    what = f"a {kind} probe" if kind else finding.check_id.removeprefix("has_").replace("_", " ")
    notes.append("values are the check's defaults: set them from the service's real endpoints and usage")
    return Fix(finding.check_id, changes, f"Add {what} to {', '.join(edited)}", tuple(dict.fromkeys(notes)))


def _probe_port(container: dict) -> object:
    """The snippet's named port `http` when the container has it, else its first port; None: it declares none."""
    ports = [p for p in container.get("ports") or [] if isinstance(p, dict)]
    if any(p.get("name") == "http" for p in ports):
        return "http"
    return ports[0].get("containerPort") if ports else None


def _pod_spec(docs: list, w: Workload) -> dict | None:
    for doc in docs:
        if not isinstance(doc, dict) or doc.get("kind") != w.kind:
            continue
        meta = doc.get("metadata") or {}
        if meta.get("name") != w.name or meta.get("namespace", w.namespace) != w.namespace:
            continue
        node = doc
        for key in (*_POD_TEMPLATE.get(w.kind, ("spec", "template")), "spec"):
            node = node.get(key) if isinstance(node, dict) else None
        return node if isinstance(node, dict) else None
    return None


def _pdb(finding: Finding, ev: ServiceEvidence, read: Reader) -> Fix | NoFix:
    names = set(finding.params.get("workloads") or ())
    changes: dict[str, str] = {}
    for w in ev.repo_workloads:
        if w.name not in names or w.kind not in REPLICATED or not w.file:
            continue
        text = changes.get(w.file, read(w.file))
        if text is None:
            continue
        if not w.pod_labels:
            return NoFix(finding.check_id, f"{w.name} has no pod labels a PDB could select", finding.remediation)
        sep = "" if text.endswith("\n") else "\n"
        changes[w.file] = f"{text}{sep}---\n{_pdb_snippet(w)}"
        names.discard(w.name)
    if not changes:
        return NoFix(finding.check_id, "the workloads are not in the repository's manifests", finding.remediation)
    return Fix(finding.check_id, changes, f"Add a PodDisruptionBudget (maxUnavailable: 1) for "
               f"{', '.join(sorted(set(finding.params.get('workloads') or ()) - names))}")
