"""Kustomize ``kustomization.yaml`` files: which manifest files are patches.

Kustomize builds each overlay from its bases: a base's Deployment is one
workload however many overlays include it, and the files an overlay or a
component lists under ``patches`` / ``patchesStrategicMerge`` /
``patchesJson6902`` only change that workload. The crawl reads manifests by
file, so it must know which files are patches, or every overlay would count
its patch as a second, incomplete Deployment.

Only paths are returned (relative to the repository root); inline patches
need nothing. Name prefixes/suffixes and namespace overrides are not applied:
a workload keeps the name its base gives it.
"""

from __future__ import annotations

import posixpath

from pipelines.parsers._text import scalar_str
from pipelines.parsers.errors import ParseError
from pipelines.parsers.yamlsafe import load_yaml

KUSTOMIZATION_NAMES = frozenset({"kustomization.yaml", "kustomization.yml", "Kustomization"})


def parse_kustomization(text: str, file: str) -> list[str]:
    """Repo-relative paths of the patch files this kustomization (or component) applies."""
    document = load_yaml(text, file)
    if document is None:
        return []
    if not isinstance(document, dict):
        raise ParseError(file, "a kustomization must be a mapping")
    base = posixpath.dirname(file)
    found: list[str] = []
    for key in ("patchesStrategicMerge", "patches", "patchesJson6902"):
        entries = document.get(key)
        if entries is None:
            continue
        if not isinstance(entries, list):
            raise ParseError(file, f"{key} must be a list")
        for entry in entries:
            path = scalar_str(entry.get("path")) if isinstance(entry, dict) else scalar_str(entry)
            # patchesStrategicMerge also takes an inline patch as a multi-line string
            if path is None or "\n" in path or not path.endswith((".yaml", ".yml", ".json")):
                continue
            resolved = posixpath.normpath(posixpath.join(base, path))
            if not resolved.startswith("../"):
                found.append(resolved)
    return list(dict.fromkeys(found))
