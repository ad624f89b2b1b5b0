"""Which secrets managers a workload's secrets come from: the heuristics, as data.

`uses_external_secrets` (checks/security.py) asks this module, per workload
and per referenced Secret, which manager (if any) produces it. The parsers
record what the objects and files say (pipelines/parsers/secret_objects.py,
pod CSI volumes, annotations); what counts as a secrets manager is decided here:

* External Secrets Operator: an `ExternalSecret` whose target is the Secret;
* Vault Agent injector: the pod annotated `vault.hashicorp.com/agent-inject: "true"`
  (secrets named by `vault.hashicorp.com/agent-inject-secret-<name>`), or the
  Bank-Vaults webhook's `vault.security.banzaicloud.io/vault-addr`;
* Secrets Store CSI driver (Vault, AWS, Azure, GCP providers): a pod volume with
  `csi.driver: secrets-store.csi.k8s.io` naming a `SecretProviderClass`, whose
  `secretObjects` also sync Kubernetes Secrets;
* Bitnami Sealed Secrets: a `SealedSecret` unsealing into the Secret;
* SOPS: an encrypted manifest of the Secret (a top-level `sops:` block with
  `mac` and `lastmodified`).
"""

from __future__ import annotations

from collections.abc import Iterable

from checks.evidence import K8sObject, Workload

EXTERNAL_SECRETS = "External Secrets"
VAULT_AGENT = "Vault Agent"
CSI = "Secrets Store CSI"
SEALED_SECRETS = "Sealed Secrets"
SOPS = "SOPS"

VAULT_INJECT = "vault.hashicorp.com/agent-inject"
VAULT_SECRET_PREFIX = "vault.hashicorp.com/agent-inject-secret-"
BANK_VAULTS_ADDR = "vault.security.banzaicloud.io/vault-addr"
CSI_DRIVER = "secrets-store.csi.k8s.io"
SOPS_REQUIRED_KEYS = frozenset({"mac", "lastmodified"})
# SOPS lives only in git (the cluster holds the decrypted Secret): judged from the repo even for live workloads.
REPO_ONLY_KINDS = frozenset({"SopsEncryptedFile", "SopsConfig"})
# The kinds whose absence could hide a manager: unreadable in a cluster, the verdict is unknown.
MANAGER_KINDS = ("ExternalSecret", "SealedSecret", "SecretProviderClass")


_PRODUCER_KINDS = frozenset({"ExternalSecret", "SealedSecret", "SecretProviderClass", "SopsEncryptedFile"})


def _same_place(obj: K8sObject, w: Workload) -> bool:
    if obj.namespace and w.namespace and obj.namespace != w.namespace:
        return False
    return obj.cluster is None or w.cluster is None or obj.cluster == w.cluster


def vault_injected(w: Workload) -> list[str] | None:
    """The Vault secrets injected into the pod (possibly none named); None when Vault injects nothing."""
    a = w.annotations
    if a.get(VAULT_INJECT) == "true":
        return sorted(k.removeprefix(VAULT_SECRET_PREFIX) for k in a if k.startswith(VAULT_SECRET_PREFIX))
    if a.get(BANK_VAULTS_ADDR):
        return []
    return None


def csi_classes(w: Workload) -> list[str]:
    """SecretProviderClasses the pod mounts through the Secrets Store CSI driver."""
    return [cls or "(unnamed)" for driver, cls in w.csi_volumes if driver == CSI_DRIVER]


def sops_encrypted(obj: K8sObject) -> bool:
    return obj.kind == "SopsEncryptedFile" and SOPS_REQUIRED_KEYS <= set(obj.spec.get("sops_keys") or ())


def pod_managers(w: Workload) -> dict[str, str]:
    """Managers that put secrets straight into the pod (no Kubernetes Secret needed): manager -> detail."""
    out = {}
    vault = vault_injected(w)
    if vault is not None:
        out[VAULT_AGENT] = f"Vault Agent injects {', '.join(vault)}" if vault else "Vault Agent injection"
    classes = csi_classes(w)
    if classes:
        out[CSI] = f"CSI SecretProviderClass {', '.join(classes)}"
    return out


def manager_of(secret: str, w: Workload, objects: Iterable[K8sObject]) -> tuple[str, str | None] | None:
    """(manager, file) of the object that produces the Kubernetes Secret `secret` for workload `w`."""
    if vault_injected(w) is not None:  # the pod reads its secrets from Vault; refs are Vault's to fill
        return VAULT_AGENT, None
    mounted = set(csi_classes(w))
    for o in objects:
        # The kind first: a service's cluster holds hundreds of objects, few of them secret managers'.
        if o.kind not in _PRODUCER_KINDS or not _same_place(o, w):
            continue
        if o.kind == "ExternalSecret" and (o.spec.get("target") or o.name) == secret:
            return EXTERNAL_SECRETS, o.file
        if o.kind == "SealedSecret" and (o.spec.get("target") or o.name) == secret:
            return SEALED_SECRETS, o.file
        if o.kind == "SecretProviderClass" and o.name in mounted and secret in (o.spec.get("secret_objects") or ()):
            return CSI, o.file
        if sops_encrypted(o) and o.spec.get("secret_kind") == "Secret" and o.name == secret:
            return SOPS, o.file
    return None


def sops_hint(objects: Iterable[K8sObject]) -> str | None:
    """Why an unmatched Secret may still be SOPS's: encrypted files whose name is ciphertext, or a .sops.yaml."""
    objects = list(objects)
    if any(sops_encrypted(o) and o.spec.get("secret_kind") is None for o in objects):
        return "SOPS-encrypted files whose kind and name are encrypted too"
    if any(o.kind == "SopsConfig" and o.spec.get("creation_rules") for o in objects):
        return ".sops.yaml has creation_rules, but no SOPS-encrypted manifest produces it"
    return None
