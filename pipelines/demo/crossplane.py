"""The demo's Crossplane golden path and its secrets managers other than External Secrets.

The platform team publishes a `PostgreSQLInstance` API (an XRD) composed by
`postgres-aws`, now at its third revision; the prod cluster snapshot holds the
XRD, the compositions, the revisions and the live claims. A few services claim
a database from their repository (`infra/database.yaml`): on the latest
revision, pinned two revisions back, following the platform's labels, or on a
hand-written composition. A few services that used an ExternalSecret get their
secrets from Vault Agent, the Secrets Store CSI driver, a SealedSecret or a
SOPS-encrypted Secret instead.

Who gets what is a pure function of the component's name, so the repository
files and the cluster snapshot always agree, and the demo stays deterministic.
`render.py` and `generate.py` call the four hooks at the bottom.
"""

from __future__ import annotations

import hashlib

from pipelines.demo import yamlout
from pipelines.demo.org import ORG, Component

GROUP = f"platform.{ORG}.io"
VERSION = "v1alpha1"
COMPOSITION = "postgres-aws"
HANDMADE = "postgres-handmade"
PUBLISHED = {f"platform.{ORG}.io/published": "true"}
REVISIONS = [f"{COMPOSITION}-{h}" for h in ("5d0c2e1", "9a41f7b", "c83e6d2")]  # revisions 1, 2, 3
GOLDEN_PATH = {"compositions": [COMPOSITION], "match_labels": dict(PUBLISHED)}

# name bucket -> what the component does (about one component in twenty-four each)
_VAULT, _CSI, _SEALED, _SOPS = 0, 1, 2, 3
_CLAIM_LATEST, _CLAIM_OLD, _CLAIM_SELECTOR, _CLAIM_HANDMADE = 4, 5, 6, 7


def _bucket(c: Component) -> int:
    return int(hashlib.sha1(c.name.encode()).hexdigest(), 16) % 24


def _claims(c: Component) -> bool:
    return c.manifests and c.type == "service" and _bucket(c) in (_CLAIM_LATEST, _CLAIM_OLD, _CLAIM_SELECTOR, _CLAIM_HANDMADE)


def _claim(c: Component, namespace: str | None, *, live: bool) -> dict:
    bucket = _bucket(c)
    spec: dict = {"parameters": {"storageGB": 20, "version": "16"}, "writeConnectionSecretToRef": {"name": f"{c.name}-db"}}
    if bucket == _CLAIM_SELECTOR:
        spec["compositionSelector"] = {"matchLabels": dict(PUBLISHED)}
    else:
        spec["compositionRef"] = {"name": HANDMADE if bucket == _CLAIM_HANDMADE else COMPOSITION}
    if bucket in (_CLAIM_LATEST, _CLAIM_OLD):
        spec["compositionUpdatePolicy"] = "Manual"
        spec["compositionRevisionRef"] = {"name": REVISIONS[-1] if bucket == _CLAIM_LATEST else REVISIONS[0]}
    if live:  # what Crossplane fills in on the live claim
        spec.setdefault("compositionRef", {"name": COMPOSITION})
        spec.setdefault("compositionRevisionRef", {"name": REVISIONS[-1]})
        spec.setdefault("compositionUpdatePolicy", "Automatic")
        spec["resourceRef"] = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "XPostgreSQLInstance", "name": f"{c.name}-db-x1"}
    metadata: dict = {"name": f"{c.name}-db", "labels": {"app.kubernetes.io/name": c.name}}
    if namespace:
        metadata["namespace"] = namespace
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "PostgreSQLInstance", "metadata": metadata, "spec": spec}


def _platform_objects() -> list[dict]:
    type_ref = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "XPostgreSQLInstance"}
    xrd = {
        "apiVersion": "apiextensions.crossplane.io/v1", "kind": "CompositeResourceDefinition",
        "metadata": {"name": f"xpostgresqlinstances.{GROUP}"},
        "spec": {"group": GROUP, "names": {"kind": "XPostgreSQLInstance", "plural": "xpostgresqlinstances"},
                 "claimNames": {"kind": "PostgreSQLInstance", "plural": "postgresqlinstances"},
                 "versions": [{"name": VERSION, "served": True, "referenceable": True}]},
    }  # fmt: skip
    compositions = [
        {"apiVersion": "apiextensions.crossplane.io/v1", "kind": "Composition",
         "metadata": {"name": name, "labels": labels},
         "spec": {"compositeTypeRef": type_ref, "mode": "Pipeline", "pipeline": []}}
        for name, labels in ((COMPOSITION, dict(PUBLISHED)), (HANDMADE, {"owner": "growth"}))
    ]  # fmt: skip
    revisions = [
        {"apiVersion": "apiextensions.crossplane.io/v1", "kind": "CompositionRevision",
         "metadata": {"name": name, "labels": {"crossplane.io/composition-name": COMPOSITION,
                                               "crossplane.io/composition-hash": name.rsplit("-", 1)[1]}},
         "spec": {"revision": n, "compositeTypeRef": type_ref}}
        for n, name in enumerate(REVISIONS, 1)
    ]  # fmt: skip
    revisions.append({
        "apiVersion": "apiextensions.crossplane.io/v1", "kind": "CompositionRevision",
        "metadata": {"name": f"{HANDMADE}-0f1e2d3", "labels": {"crossplane.io/composition-name": HANDMADE}},
        "spec": {"revision": 1, "compositeTypeRef": type_ref},
    })
    return [xrd, *compositions, *revisions]


def _secret_file(c: Component) -> str:
    """A SOPS-encrypted Secret as `sops --encrypt --encrypted-regex '^(data|stringData)$'` writes it (fake ciphertext)."""
    digest = hashlib.sha256(c.name.encode()).hexdigest()
    return (
        "apiVersion: v1\nkind: Secret\n"
        f"metadata:\n    name: {c.name}-secrets\n"
        "type: Opaque\nstringData:\n"
        f"    DATABASE_PASSWORD: ENC[AES256_GCM,data:{digest[:24]},iv:{digest[24:40]},tag:{digest[40:56]},type:str]\n"
        "sops:\n    age:\n"
        f"        - recipient: age1{digest[:58]}\n"
        "          enc: |\n            -----BEGIN AGE ENCRYPTED FILE-----\n            (demo)\n"
        "            -----END AGE ENCRYPTED FILE-----\n"
        "    lastmodified: \"2026-10-01T09:00:00Z\"\n"
        f"    mac: ENC[AES256_GCM,data:{digest[8:40]},iv:{digest[:16]},tag:{digest[16:32]},type:str]\n"
        "    encrypted_regex: ^(data|stringData)$\n    version: 3.9.1\n"
    )


# --------------------------------------------------------------------- hooks


def decorate(c: Component, objs: dict[str, dict]) -> dict[str, dict]:
    """render.k8s_objects: move a few ExternalSecret users to another secrets manager."""
    bucket = _bucket(c)
    if not c.externalsecret or bucket not in (_VAULT, _CSI, _SEALED, _SOPS):
        return objs
    workload = objs[c.workload_kind.lower()]
    labels = workload["metadata"]["labels"]
    pod = workload["spec"]["template"]
    del objs["externalsecret"]
    if bucket == _VAULT:
        pod["metadata"]["annotations"] = {
            **pod["metadata"].get("annotations", {}), "vault.hashicorp.com/agent-inject": "true",
            "vault.hashicorp.com/role": c.name,
            "vault.hashicorp.com/agent-inject-secret-database": f"database/creds/{c.name}",
        }
    elif bucket == _CSI:
        pod["spec"]["volumes"] = [{"name": "secrets", "csi": {
            "driver": "secrets-store.csi.k8s.io", "readOnly": True,
            "volumeAttributes": {"secretProviderClass": f"{c.name}-vault"}}}]
        objs["secretproviderclass"] = {
            "apiVersion": "secrets-store.csi.x-k8s.io/v1", "kind": "SecretProviderClass",
            "metadata": {"name": f"{c.name}-vault", "labels": labels},
            "spec": {"provider": "vault",
                     "parameters": {"roleName": c.name, "vaultAddress": "https://vault.platform.svc:8200"},
                     "secretObjects": [{"secretName": f"{c.name}-secrets", "type": "Opaque",
                                        "data": [{"objectName": "password", "key": "DATABASE_PASSWORD"}]}]},
        }  # fmt: skip
    elif bucket == _SEALED:
        objs["sealedsecret"] = {
            "apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret",
            "metadata": {"name": f"{c.name}-secrets", "labels": labels},
            "spec": {"encryptedData": {"DATABASE_PASSWORD": "AgBy3i4OJSWK+PiTySYZZA9rO43cGDEq" + c.name[:8]},
                     "template": {"metadata": {"name": f"{c.name}-secrets"}}},
        }  # fmt: skip
    return objs  # _SOPS: the Secret is an encrypted file in the repository (component_files)


def component_files(c: Component, path: str) -> dict[str, str]:
    """render.component_files: the database claim and the SOPS files, beside the service's manifests."""
    files: dict[str, str] = {}
    prefix = f"{path}/" if path else ""
    if _claims(c):
        files[f"{prefix}infra/database.yaml"] = yamlout.dump(_claim(c, None, live=False))
    if c.manifests and c.externalsecret and _bucket(c) == _SOPS:
        files[f"{prefix}k8s/secrets.enc.yaml"] = _secret_file(c)
        files[f"{prefix}.sops.yaml"] = (
            "creation_rules:\n  - path_regex: k8s/.*\\.enc\\.yaml$\n    encrypted_regex: ^(data|stringData)$\n"
            f"    age: age1{hashlib.sha256(c.team.encode()).hexdigest()[:58]}\n"
        )
    return files


def cluster_items(components: list[tuple[Component, str]]) -> list[dict]:
    """generate: the platform's Crossplane objects and the live claims of the (component, namespace)s in prod."""
    claims = [_claim(c, namespace, live=True) for c, namespace in components if _claims(c)]
    return _platform_objects() + claims
