"""Objects and files that say where a service's secrets come from, as facts.

`checks.secret_managers` decides which of them count as a secrets manager;
this module only reads what they say:

* ``SecretProviderClass`` (secrets-store.csi.x-k8s.io): its provider (vault,
  aws, azure, gcp) and the Kubernetes Secrets it syncs (``spec.secretObjects``);
* ``SealedSecret`` (bitnami.com): the Secret it unseals into, named by
  ``spec.template.metadata.name`` or else the SealedSecret's own name;
* any YAML/JSON document with a top-level ``sops:`` mapping (a SOPS-encrypted
  file: a Secret manifest or plain values): the keys of that block and the
  Secret it holds, when its kind and name are readable;
* a ``.sops.yaml`` with ``creation_rules``: the repository encrypts with SOPS.

The SOPS facts ride in K8sObjects of kinds ``SopsEncryptedFile`` and
``SopsConfig`` (no such API kinds exist) so they are scoped to services like
any manifest object, by the file they came from.
"""

from __future__ import annotations

import posixpath

from pipelines.parsers._text import scalar_str

SECRET_OBJECT_GROUPS = {
    "SecretProviderClass": "secrets-store.csi.x-k8s.io",
    "SealedSecret": "bitnami.com",
}
SOPS_FILE_KIND = "SopsEncryptedFile"
SOPS_CONFIG_KIND = "SopsConfig"
_ENCRYPTED_PREFIX = "ENC["


def secret_object_spec(kind: str, group: str, document: dict) -> dict | None:
    if SECRET_OBJECT_GROUPS.get(kind) != group:
        return None
    spec = document.get("spec") if isinstance(document.get("spec"), dict) else {}
    if kind == "SecretProviderClass":
        synced = [
            name for item in (spec.get("secretObjects") if isinstance(spec.get("secretObjects"), list) else [])
            if isinstance(item, dict) and (name := scalar_str(item.get("secretName")))
        ]  # fmt: skip
        return {"provider": scalar_str(spec.get("provider")), "secret_objects": synced}
    template = spec.get("template") if isinstance(spec.get("template"), dict) else {}
    metadata = template.get("metadata") if isinstance(template.get("metadata"), dict) else {}
    own = document.get("metadata") if isinstance(document.get("metadata"), dict) else {}
    return {"target": scalar_str(metadata.get("name")) or scalar_str(own.get("name"))}


def sops_fact(document: dict, file: str) -> tuple[str, str, dict] | None:
    """(kind, name, spec) of a SOPS-encrypted document or a SOPS config, else None."""
    block = document.get("sops")
    if isinstance(block, dict):
        kind = _plain(document.get("kind"))
        metadata = document.get("metadata") if isinstance(document.get("metadata"), dict) else {}
        name = _plain(metadata.get("name"))
        spec = {
            "sops_keys": sorted(str(k) for k in block),
            "secret_kind": kind,  # None when SOPS encrypted the kind itself
            "encrypted_values": _count_encrypted(document),
        }
        return SOPS_FILE_KIND, name or posixpath.basename(file), spec
    rules = document.get("creation_rules")
    if posixpath.basename(file) in (".sops.yaml", ".sops.yml") and isinstance(rules, list):
        return SOPS_CONFIG_KIND, posixpath.basename(file), {"creation_rules": len(rules)}
    return None


def _plain(value: object) -> str | None:
    text = scalar_str(value) if not isinstance(value, (dict, list)) else None
    return None if text is None or text.startswith(_ENCRYPTED_PREFIX) else text


def _count_encrypted(document: dict) -> int:
    """How many values are SOPS ciphertext (`ENC[AES256_GCM,data:...]`), outside the sops block."""
    count, stack = 0, [v for k, v in document.items() if k != "sops"]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str) and node.startswith(_ENCRYPTED_PREFIX):
            count += 1
    return count
