"""The demo organisation's developer portal: a Backstage catalog dump consistent with the repos.

`write_catalog` writes ``backstage/entities.json`` (the shape the catalog API's
by-query answers): a Group per team under an ``engineering`` Group, the
Systems the components name, and a Component for every service whose
repository registers it (its own ``catalog-info.yaml`` or the monorepo's root
one), exactly as that file says at the end of the window, so repo and portal
agree. Services without a catalog file, the broken one and archived or empty
repositories are not in the portal, as they would not be in a real one.
One Component exists only in the portal: a third-party payment gateway the
payments team operates and pages for, with no repository.

`sources.backstage[].entities_file` points the demo's scorecard.yaml at it
(``config_entry``).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pipelines.demo.org import ORG, OrgPlan, RepoPlan
from pipelines.demo.render import catalog_entity

CATALOG_FILE = "backstage/entities.json"
PORTAL_ONLY = "payment-gateway-adapter"


def config_entry() -> dict:
    return {"name": "acme-portal", "entities_file": CATALOG_FILE}


def entities(plan: OrgPlan, repos: list[RepoPlan]) -> list[dict]:
    """``repos``: the repositories in their final state (the demo's changes applied)."""
    out: list[dict] = [_group("engineering", "Engineering", None, "department")]
    out += [_group(t.name, t.display_name, "engineering", "team") for t in plan.teams]
    systems: dict[str, str] = {}
    for repo in repos:
        if repo.role in ("archived", "empty"):
            continue
        for c in repo.components:
            if c.catalog not in ("own", "root"):
                continue
            doc = catalog_entity(repo, c, source_location=c.catalog == "root")
            out.append(_api_shape(doc))
            if c.system:
                systems.setdefault(c.system, c.team)
    out += [_api_shape({"apiVersion": "backstage.io/v1alpha1", "kind": "System", "metadata": {"name": name},
                        "spec": {"owner": f"group:default/{owner}"}}) for name, owner in sorted(systems.items())]
    if portal_only(plan):
        out.append(_api_shape({
            "apiVersion": "backstage.io/v1alpha1", "kind": "Component",
            "metadata": {"name": PORTAL_ONLY, "description": "Adapter for the external card processor (vendor-run)",
                         "annotations": {"pagerduty.com/service-id": "PGW0001"}},
            "spec": {"type": "service", "lifecycle": "production", "owner": "group:default/payments"},
        }))
    return out


def portal_only(plan: OrgPlan) -> list[str]:
    """The services only the portal knows (one, owned by payments, when the demo has that team)."""
    return [PORTAL_ONLY] if any(t.name == "payments" for t in plan.teams) else []


def write_catalog(out_dir: Path, plan: OrgPlan, repos: list[RepoPlan]) -> Path:
    path = out_dir / CATALOG_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    items = entities(plan, repos)
    payload = {"items": items, "totalItems": len(items), "pageInfo": {}}
    path.write_text(json.dumps(payload, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


def _group(name: str, display: str, parent: str | None, kind: str) -> dict:
    spec: dict = {"type": kind, "profile": {"displayName": display}, "children": []}
    if parent:
        spec["parent"] = parent
    return _api_shape({"apiVersion": "backstage.io/v1", "kind": "Group", "metadata": {"name": name}, "spec": spec})


def _api_shape(doc: dict) -> dict:
    """What the catalog serves for a descriptor: namespace filled in, a stable uid and etag."""
    metadata = {"namespace": "default", **doc["metadata"]}
    body = {**doc, "metadata": metadata}
    digest = json.dumps(body, sort_keys=True)
    ref = f"{doc['kind'].lower()}:default/{metadata['name']}"
    metadata["uid"] = _hex(f"{ORG}:{ref}")
    metadata["etag"] = _hex(digest)[:20]
    return body


def _hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]
