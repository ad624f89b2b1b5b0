"""Crossplane objects in manifests and cluster lists: XRDs, Compositions, revisions, claims.

Facts only (`checks.crossplane` judges them). Each object becomes a K8sObject
whose ``spec`` carries ``crossplane``: what it is for Crossplane.

* ``CompositeResourceDefinition`` (apiextensions.crossplane.io v1 and v2):
  ``xrd``, with the group, the composite kind, the v1 claim kind, the served
  versions and the default composition.
* ``Composition``: ``composition``, with ``spec.compositeTypeRef``.
* ``CompositionRevision``: ``revision``, with ``spec.revision`` and the
  composition it belongs to (label ``crossplane.io/composition-name``).
* An object of a non-core API group whose spec has the shape Crossplane gives
  claims and composites (``spec.compositionRef`` / ``compositionSelector`` /
  ``compositionRevisionRef`` / ``compositionUpdatePolicy`` / ``resourceRef``
  in v1, the same under ``spec.crossplane`` in v2): ``claim``, ``composite``,
  ``v2``, or ``composite-of-claim`` for the XR Crossplane made for a claim
  (``spec.claimRef``), which is that claim's and never counted again.
* Any other object of a non-core group: a *candidate*
  (``K8sInventory.custom_objects``), the same fields with ``crossplane``
  None. A claim whose spec holds only its parameters has no Crossplane shape;
  `pipelines.crossplane` makes it a claim when an XRD of the run serves its
  kind. Objects of groups Kubernetes itself owns never are.
"""

from __future__ import annotations

from pipelines.parsers._text import scalar_str

CROSSPLANE_GROUP = "apiextensions.crossplane.io"
CROSSPLANE_KINDS = frozenset({"CompositeResourceDefinition", "Composition", "CompositionRevision"})
COMPOSITION_NAME_LABEL = "crossplane.io/composition-name"
# Spec fields only Crossplane's claims and composites carry (v1 at spec, v2 under spec.crossplane).
_V1_MARKERS = ("compositionRef", "compositionSelector", "compositionRevisionRef", "compositionUpdatePolicy", "resourceRef")
_V2_MARKERS = (
    "compositionRef", "compositionSelector", "compositionRevisionRef", "compositionRevisionSelector",
    "compositionUpdatePolicy", "resourceRefs",
)  # fmt: skip


def is_core_group(group: str) -> bool:
    """Kubernetes' own API groups (and its SIG projects'): never a Crossplane claim.

    Core groups have no dot ("", apps, batch, policy, autoscaling); the others
    end in k8s.io or x-k8s.io (networking.k8s.io, gateway.networking.k8s.io,
    secrets-store.csi.x-k8s.io). Crossplane's own groups define, not claim.
    """
    return "." not in group or group.endswith((".k8s.io", ".x-k8s.io", "crossplane.io"))


def crossplane_spec(kind: str, group: str, document: dict) -> dict | None:
    """The normalised spec of an XRD, Composition or revision; None for other kinds."""
    if group != CROSSPLANE_GROUP or kind not in CROSSPLANE_KINDS:
        return None
    spec = _map(document.get("spec"))
    metadata = _map(document.get("metadata"))
    if kind == "CompositeResourceDefinition":
        versions = [
            name for v in _list(spec.get("versions"))
            if isinstance(v, dict) and (name := scalar_str(v.get("name"))) and v.get("served") is not False
        ]  # fmt: skip
        return {
            "crossplane": "xrd",
            "group": scalar_str(spec.get("group")),
            "kind": _pick(spec, "names", "kind"),
            "plural": _pick(spec, "names", "plural"),
            "claim_kind": _pick(spec, "claimNames", "kind"),
            "claim_plural": _pick(spec, "claimNames", "plural"),
            "default_composition": _pick(spec, "defaultCompositionRef", "name"),
            "scope": scalar_str(spec.get("scope")),  # v2: Namespaced | Cluster | LegacyCluster
            "versions": versions,
        }
    if kind == "Composition":
        return {
            "crossplane": "composition",
            "composite_api_version": _pick(spec, "compositeTypeRef", "apiVersion"),
            "composite_kind": _pick(spec, "compositeTypeRef", "kind"),
        }
    labels = _map(metadata.get("labels"))
    revision = spec.get("revision")
    return {
        "crossplane": "revision",
        "composition": scalar_str(labels.get(COMPOSITION_NAME_LABEL)),
        "revision": revision if isinstance(revision, int) and not isinstance(revision, bool) else None,
        "composite_kind": _pick(spec, "compositeTypeRef", "kind"),
    }


def claim_spec(group: str, document: dict) -> dict | None:
    """What a custom object asks of Crossplane, with ``crossplane`` set when its shape says
    it is a claim or composite; None for Kubernetes' own groups and objects without a spec."""
    if is_core_group(group):
        return None
    spec = document.get("spec")
    if not isinstance(spec, dict):
        return None
    nested = spec.get("crossplane")
    if isinstance(nested, dict) and any(k in nested for k in _V2_MARKERS):
        return {"crossplane": "v2", **_composition_fields(nested)}
    fields = _composition_fields(spec)
    if isinstance(spec.get("claimRef"), dict):
        return {"crossplane": "composite-of-claim", **fields}
    if any(k in spec for k in _V1_MARKERS):
        shape = "composite" if isinstance(spec.get("resourceRefs"), list) else "claim"
        return {"crossplane": shape, **fields}
    return {"crossplane": None, **fields}


def _composition_fields(node: dict) -> dict:
    selector = _map(_map(node.get("compositionSelector")).get("matchLabels"))
    return {
        "composition": _pick(node, "compositionRef", "name"),
        "selector": {str(k): scalar_str(v) or "" for k, v in selector.items() if not isinstance(v, (dict, list))},
        "revision": _pick(node, "compositionRevisionRef", "name"),
        "update_policy": scalar_str(node.get("compositionUpdatePolicy")),
    }


def _pick(node: object, *keys: str) -> str | None:
    for key in keys:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return None if isinstance(node, (dict, list)) else scalar_str(node)


def _map(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list:
    return value if isinstance(value, list) else []
