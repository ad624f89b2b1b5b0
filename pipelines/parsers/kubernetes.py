"""Kubernetes objects, from manifests in a repository or from a cluster snapshot.

Each object is read on its own: one malformed object (``containers`` not a
list, ``replicas: "three"``) becomes a Problem in ``inventory.problems`` and
the other objects of the file are still used. Objects of kinds no check needs
are ignored. A YAML/JSON syntax error is a ParseError for the whole file.

Conventions:

* ``namespace`` is ``""`` when a manifest does not set one: the namespace is
  then chosen at apply time, and guessing "default" would mislead joins.
* Native sidecars (init containers with ``restartPolicy: Always``, Kubernetes
  1.28+) run for the life of the pod like ordinary containers, so they are
  reported with ``init=False`` and the probe/resource checks apply to them.
* Env vars with a non-empty literal ``value`` are recorded by name with the
  form of the value (a switch such as ``"yes"``, a ``$(VAR)`` placeholder, or
  text), never the value itself; which of them are secrets is for
  ``checks.security`` to judge.
* HPA ``min`` is Kubernetes' default of 1 when ``minReplicas`` is unset.
* Every kind with a pod template is a workload (``WORKLOAD_KINDS``), wherever
  the template sits (a CronJob's is under ``spec.jobTemplate``; a bare Pod is
  its own template). An object a controller owns (``ownerReferences`` with
  ``controller: true``: a Deployment's pods, a CronJob's Jobs) is that
  controller's child, not another workload.
* Kubernetes defaulting is applied as the API server would: a replicated kind
  without ``spec.replicas`` runs 1 replica (``replicas_defaulted``), and a
  container with a limit but no request for a resource requests its limit.
* GitOps and delivery objects (Argo CD ``Application``/``ApplicationSet``,
  Flux ``Kustomization``/``HelmRelease`` and their sources, an Argo
  ``Rollout`` that only references a Deployment) are recorded as objects,
  never as workloads: they say where a service is deployed from.
* Every K8sObject ``spec`` also carries ``api_version`` so checks can tell,
  e.g., a deprecated ``autoscaling/v2beta2`` HPA or a non-Prometheus-Operator
  ``PodMonitor`` group apart.
"""

from __future__ import annotations

import re

from checks.evidence import ENV_PLACEHOLDER, ENV_SWITCH, ENV_TEXT, Container, K8sObject, Problem, Workload
from checks.evidence_gitops import DEPLOYER_KINDS
from pipelines.facts import K8sInventory
from pipelines.parsers import crossplane, secret_objects
from pipelines.parsers._text import check_text, load_json, scalar_str
from pipelines.parsers.errors import ParseError
from pipelines.parsers.gitops import read_gitops
from pipelines.parsers.yamlsafe import load_yaml_documents

# Where each workload kind keeps its pod template ("" path: the object is the pod).
_POD_TEMPLATE: dict[str, tuple[str, ...]] = {
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
    "DeploymentConfig": ("spec", "template"),  # OpenShift
    "ReplicaSet": ("spec", "template"),  # only a bare one: a Deployment's ReplicaSets are its history
    "Rollout": ("spec", "template"),  # Argo Rollouts (argoproj.io)
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
    "Pod": (),
}
WORKLOAD_KINDS = tuple(_POD_TEMPLATE)
# Kinds that run `spec.replicas` copies (default 1); a bare Pod is one copy;
# DaemonSets run per node and Jobs/CronJobs run to completion: no replica count.
_REPLICATED = frozenset({
    "Deployment", "StatefulSet", "ReplicationController", "DeploymentConfig", "Rollout", "ReplicaSet",
})  # fmt: skip
# Kinds whose name is shared by other API groups: only these groups make them what we mean.
_GROUP_OF = {
    "Rollout": ("argoproj.io",),
    "Application": ("argoproj.io",),
    "ApplicationSet": ("argoproj.io",),
    "AppProject": ("argoproj.io",),
    "Kustomization": ("kustomize.toolkit.fluxcd.io",),  # kustomize's own kustomization.yaml is not an object
    "HelmRelease": ("helm.toolkit.fluxcd.io",),
    "GitRepository": ("source.toolkit.fluxcd.io",),
    "OCIRepository": ("source.toolkit.fluxcd.io",),
    "HelmRepository": ("source.toolkit.fluxcd.io",),
    "HelmChart": ("source.toolkit.fluxcd.io",),
    "Bucket": ("source.toolkit.fluxcd.io",),
}
GITOPS_KINDS = frozenset(k for k in _GROUP_OF if k != "Rollout")
_OBJECT_KINDS = {
    "Service",
    "PodDisruptionBudget",
    "ServiceMonitor",
    "PodMonitor",
    "HorizontalPodAutoscaler",
    "ExternalSecret",
    "PrometheusRule",
    "PrometheusServiceLevel",
    *GITOPS_KINDS,
}
_REVISION = "deployment.kubernetes.io/revision"

# Forms of a literal env value (checks.evidence.ENV_*): switches as in
# MYSQL_ALLOW_EMPTY_PASSWORD=1 or MYSQL_RANDOM_ROOT_PASSWORD=yes, and values that
# are only a substitution.
_SWITCH_VALUES = {"0", "1", "true", "false", "yes", "no", "on", "off", "y", "n"}
_PLACEHOLDER_ONLY = re.compile(r"^\s*(\$\([A-Za-z_][A-Za-z0-9_]*\)|\$\{[^}]*\}|\{\{[^}]*\}\})\s*$")


class _Malformed(Exception):
    """One object cannot be read; becomes a Problem, never leaves this module."""


def parse_k8s_text(
    text: str,
    file: str,
    *,
    cluster: str | None = None,
    environment: str | None = None,
    max_bytes: int = 50_000_000,
    max_nodes: int = 2_000_000,
) -> K8sInventory:
    """A manifest or snapshot file: multi-document YAML, or JSON as ``kubectl get -o json`` writes it."""
    check_text(text, file, max_bytes)
    documents: list | None = None
    if text.lstrip()[:1] in ("{", "["):
        try:
            parsed = load_json(text, file, max_bytes=max_bytes)
        except ParseError:  # flow-style YAML also starts with a brace; let YAML decide
            parsed = None
        else:
            documents = parsed if isinstance(parsed, list) else [parsed]
    if documents is None:
        documents = load_yaml_documents(text, file, max_bytes=max_bytes, max_nodes=max_nodes)
    return parse_k8s_documents(documents, file, cluster=cluster, environment=environment)


def parse_k8s_documents(
    docs: list, file: str, *, cluster: str | None = None, environment: str | None = None
) -> K8sInventory:
    """Objects already decoded (YAML documents, API responses); ``List`` wrappers are unpacked."""
    inventory = K8sInventory()
    context = _Context(file=file, cluster=cluster, environment=environment)
    # A stack rather than recursion: `kind: List` items are unpacked in place, in order.
    pending: list[tuple[object, str, str | None]] = [
        (doc, f"document {index}", None) for index, doc in reversed(list(enumerate(docs, 1)))
    ]
    while pending:
        document, where, implied_kind = pending.pop()
        if document is None:
            continue
        if not isinstance(document, dict):
            reason = f"{where}: not a Kubernetes object (a {type(document).__name__})"
            inventory.problems.append(Problem(file, reason))
            continue
        sops = secret_objects.sops_fact(document, file)
        if sops is not None:  # encrypted (its kind may be ciphertext too): what it is, never its content
            inventory.objects.append(_fact_object(*sops, context))
            continue
        kind = document.get("kind") or implied_kind
        if not isinstance(kind, str):
            continue  # not a Kubernetes object: some other YAML living next to the manifests
        items = document.get("items")
        if kind.endswith("List") and isinstance(items, list):
            # API list responses (DeploymentList) omit kind on their items.
            item_kind = kind.removesuffix("List") or None
            unpacked = [(item, f"{where} items[{i}]", item_kind) for i, item in enumerate(items)]
            pending.extend(reversed(unpacked))
            continue
        try:
            _read_object(kind, document, context, inventory)
        except _Malformed as exc:
            inventory.problems.append(Problem(file, f"{_describe(kind, document)}: {exc}"))
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            inventory.problems.append(Problem(file, f"{_describe(kind, document)}: malformed object ({exc})"))
    return inventory


def merge_inventories(inventories: list[K8sInventory]) -> K8sInventory:
    merged = K8sInventory()
    for inventory in inventories:
        merged.workloads.extend(inventory.workloads)
        merged.objects.extend(inventory.objects)
        merged.replica_sets.extend(inventory.replica_sets)
        merged.problems.extend(inventory.problems)
        merged.custom_objects.extend(inventory.custom_objects)
        merged.gitops.extend(inventory.gitops)
    return merged


# --------------------------------------------------------------------------


class _Context:
    def __init__(self, *, file: str, cluster: str | None, environment: str | None) -> None:
        self.file = file
        self.cluster = cluster
        self.environment = environment

    @property
    def manifest_file(self) -> str | None:
        return None if self.cluster else self.file


def _read_object(kind: str, document: dict, context: _Context, inventory: K8sInventory) -> None:
    groups = _GROUP_OF.get(kind)
    if groups is not None and _api_group(document) not in groups:
        # Same kind name, another API (kustomize's own Kustomization file, a Crossplane `Bucket` claim).
        _other_object(kind, document, context, inventory)
        return
    if kind == "Rollout" and "workloadRef" in _mapping(document, "spec") and "template" not in document.get("spec", {}):
        # A Rollout that borrows a Deployment's template: the Deployment is the workload.
        inventory.objects.append(_object(kind, document, context))
    elif kind in WORKLOAD_KINDS:
        if kind == "ReplicaSet":  # every ReplicaSet is rollout history (pipelines.sources.rollouts)
            inventory.replica_sets.append(_replica_set(document))
        if not _controlled(document):
            inventory.workloads.append(_workload(kind, document, context))
    elif kind in _OBJECT_KINDS:
        inventory.objects.append(_object(kind, document, context))
        if kind in DEPLOYER_KINDS:  # facts for pipelines.evidence_gitops, never a workload
            app = read_gitops(kind, document, file=context.manifest_file, cluster=context.cluster,
                              environment=context.environment)
            if app is not None:
                inventory.gitops.append(app)
    else:
        _other_object(kind, document, context, inventory)


def _other_object(kind: str, document: dict, context: _Context, inventory: K8sInventory) -> None:
    """Crossplane objects and claims, secret-manager objects, and candidates (parsers.crossplane)."""
    group = _api_group(document)
    spec = secret_objects.secret_object_spec(kind, group, document) or crossplane.crossplane_spec(kind, group, document)
    if spec is not None:
        inventory.objects.append(_object(kind, document, context, spec))
        return
    claim = crossplane.claim_spec(group, document)
    if claim is not None:
        found = _object(kind, document, context, claim)
        (inventory.objects if claim["crossplane"] else inventory.custom_objects).append(found)


def _fact_object(kind: str, name: str, spec: dict, context: _Context) -> K8sObject:
    return K8sObject(kind=kind, name=name, namespace="", labels={}, annotations={}, spec=spec,
                     file=context.manifest_file, cluster=context.cluster, environment=context.environment)


def _api_group(document: dict) -> str:
    api_version = scalar_str(document.get("apiVersion")) or ""
    return api_version.rsplit("/", 1)[0] if "/" in api_version else ""


def _controlled(document: dict) -> bool:
    """Owned by a controller (a Deployment's pods, a CronJob's Jobs): its parent is the workload."""
    metadata = document.get("metadata")
    refs = metadata.get("ownerReferences") if isinstance(metadata, dict) else None
    return isinstance(refs, list) and any(isinstance(r, dict) and r.get("controller") is True for r in refs)


def _pod_template(kind: str, document: dict) -> tuple[dict, dict, str]:
    """(pod metadata, pod spec, where the template is) of a workload object."""
    if not _POD_TEMPLATE[kind]:  # a bare Pod
        return _mapping(document, "metadata"), _mapping(document, "spec"), ""
    node, where = document, []
    for key in _POD_TEMPLATE[kind]:
        where.append(key)
        node = _mapping(node, key, where=".".join(where))
    prefix = ".".join(where)
    return _mapping(node, "metadata", where=f"{prefix}.metadata"), _mapping(node, "spec", where=f"{prefix}.spec"), prefix


def _workload(kind: str, document: dict, context: _Context) -> Workload:
    metadata = _mapping(document, "metadata")
    name = _name(metadata)
    spec = _mapping(document, "spec")
    pod_metadata, pod_spec, at = _pod_template(kind, document)
    pod_prefix = f"{at}.spec" if at else "spec"
    if "containers" not in pod_spec:
        raise _Malformed(f"{pod_prefix}.containers missing")
    annotations = _string_map(metadata.get("annotations"), "metadata.annotations")
    if at:
        annotations.update(_string_map(pod_metadata.get("annotations"), f"{at}.metadata.annotations"))
    replicas: int | None = None
    defaulted = False
    if kind in _REPLICATED:
        replicas = _optional_int(spec.get("replicas"), "spec.replicas")
        if replicas is None:  # the API server's default
            replicas, defaulted = 1, True
    elif kind == "Pod":
        replicas = 1
    pod_security = _mapping(pod_spec, "securityContext", where=f"{pod_prefix}.securityContext")
    return Workload(
        kind=kind,
        name=name,
        namespace=scalar_str(metadata.get("namespace")) or "",
        labels=_string_map(metadata.get("labels"), "metadata.labels"),
        pod_labels=_string_map(pod_metadata.get("labels"), f"{at}.metadata.labels" if at else "metadata.labels"),
        annotations=annotations,
        replicas=replicas,
        replicas_defaulted=defaulted,
        containers=_containers(pod_spec),
        pod_run_as_non_root=_optional_bool(pod_security.get("runAsNonRoot"), "securityContext.runAsNonRoot"),
        pod_run_as_user=_optional_int(pod_security.get("runAsUser"), "securityContext.runAsUser"),
        file=context.manifest_file,
        cluster=context.cluster,
        environment=context.environment,
        created_at=scalar_str(metadata.get("creationTimestamp")),
        uid=scalar_str(metadata.get("uid")),
        csi_volumes=_csi_volumes(pod_spec, pod_prefix),
    )


def _csi_volumes(pod_spec: dict, where: str) -> list[tuple[str, str | None]]:
    """(driver, secretProviderClass) of the pod's CSI volumes: the Secrets Store CSI driver mounts
    secrets from Vault or a cloud secret manager straight into the pod."""
    out = []
    for volume in _list(pod_spec, "volumes", where=f"{where}.volumes"):
        csi = volume.get("csi") if isinstance(volume, dict) else None
        if isinstance(csi, dict) and (driver := scalar_str(csi.get("driver"))):
            attributes = csi.get("volumeAttributes") if isinstance(csi.get("volumeAttributes"), dict) else {}
            out.append((driver, scalar_str(attributes.get("secretProviderClass"))))
    return out


def _containers(pod_spec: dict) -> list[Container]:
    containers = [
        _container(raw, "containers", index, init=False) for index, raw in enumerate(_list(pod_spec, "containers"))
    ]
    for index, raw in enumerate(_list(pod_spec, "initContainers")):
        sidecar = isinstance(raw, dict) and raw.get("restartPolicy") == "Always"
        containers.append(_container(raw, "initContainers", index, init=not sidecar))
    return containers


def _container(raw: object, field: str, index: int, *, init: bool) -> Container:
    where = f"{field}[{index}]"
    if not isinstance(raw, dict):
        raise _Malformed(f"{where} is not a mapping")
    name = scalar_str(raw.get("name"))
    if name is None:
        raise _Malformed(f"{where} has no name")
    resources = _mapping(raw, "resources", where=f"{where}.resources")
    requests = _mapping(resources, "requests", where=f"{where}.resources.requests")
    limits = _mapping(resources, "limits", where=f"{where}.resources.limits")
    security = _mapping(raw, "securityContext", where=f"{where}.securityContext")
    literal_env, secret_refs = _env(raw, where)
    return Container(
        name=name,
        image=scalar_str(raw.get("image")),
        readiness_probe=isinstance(raw.get("readinessProbe"), dict) and bool(raw["readinessProbe"]),
        liveness_probe=isinstance(raw.get("livenessProbe"), dict) and bool(raw["livenessProbe"]),
        # A limit without a request is also the request (Kubernetes defaulting).
        cpu_request=scalar_str(requests.get("cpu")) or scalar_str(limits.get("cpu")),
        memory_request=scalar_str(requests.get("memory")) or scalar_str(limits.get("memory")),
        cpu_limit=scalar_str(limits.get("cpu")),
        memory_limit=scalar_str(limits.get("memory")),
        run_as_non_root=_optional_bool(security.get("runAsNonRoot"), f"{where}.securityContext.runAsNonRoot"),
        run_as_user=_optional_int(security.get("runAsUser"), f"{where}.securityContext.runAsUser"),
        literal_env=literal_env,
        secret_refs=secret_refs,
        init=init,
    )


def _env(container: dict, where: str) -> tuple[dict[str, str], list[str]]:
    """(literal env var name -> form of its value, Secret names referenced)."""
    literal: dict[str, str] = {}
    refs: list[str] = []
    for entry in _list(container, "env", where=f"{where}.env"):
        if not isinstance(entry, dict):
            continue
        name = scalar_str(entry.get("name"))
        form = _value_form(entry.get("value"))
        # A name given twice keeps its text form: the manifest holds that literal either way.
        if name and form and literal.get(name) != ENV_TEXT:
            literal[name] = form
        value_from = entry.get("valueFrom")
        if isinstance(value_from, dict):
            secret = value_from.get("secretKeyRef")
            if isinstance(secret, dict) and scalar_str(secret.get("name")):
                refs.append(scalar_str(secret.get("name")) or "")
    for entry in _list(container, "envFrom", where=f"{where}.envFrom"):
        if isinstance(entry, dict) and isinstance(entry.get("secretRef"), dict):
            secret_name = scalar_str(entry["secretRef"].get("name"))
            if secret_name:
                refs.append(secret_name)
    return literal, list(dict.fromkeys(refs))


def _value_form(value: object) -> str | None:
    """The form of a literal env value, None when there is no literal value."""
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, bool):  # an unquoted `value: true`
        return ENV_SWITCH
    text = str(value).strip()
    if not text:
        return None
    if text.lower() in _SWITCH_VALUES:
        return ENV_SWITCH
    return ENV_PLACEHOLDER if _PLACEHOLDER_ONLY.match(text) else ENV_TEXT


def _replica_set(document: dict) -> dict:
    metadata = _mapping(document, "metadata")
    spec = _mapping(document, "spec")
    template = _mapping(spec, "template", where="spec.template")
    pod_metadata = _mapping(template, "metadata", where="spec.template.metadata")
    pod_spec = _mapping(template, "spec", where="spec.template.spec")
    annotations = _string_map(metadata.get("annotations"), "metadata.annotations")
    owner = None
    for reference in _list(metadata, "ownerReferences", where="metadata.ownerReferences"):
        if isinstance(reference, dict) and reference.get("kind") == "Deployment":
            owner = scalar_str(reference.get("name"))
            break
    try:
        revision: int | None = int(annotations.get(_REVISION, ""))
    except ValueError:
        revision = None
    images = [
        image
        for field in ("containers", "initContainers")
        for container in _list(pod_spec, field)
        if isinstance(container, dict) and (image := scalar_str(container.get("image")))
    ]
    return {
        "namespace": scalar_str(metadata.get("namespace")) or "",
        "name": _name(metadata),
        "owner": owner,
        "revision": revision,
        "created_at": scalar_str(metadata.get("creationTimestamp")),
        "images": images,
        "annotations": annotations,
        "labels": _string_map(metadata.get("labels"), "metadata.labels"),
        "pod_labels": _string_map(pod_metadata.get("labels"), "spec.template.metadata.labels"),
    }


def _object(kind: str, document: dict, context: _Context, read: dict | None = None) -> K8sObject:
    metadata = _mapping(document, "metadata")
    name = _name(metadata)
    spec = _mapping(document, "spec")
    normalised: dict = {"api_version": scalar_str(document.get("apiVersion"))}
    if read is not None:  # already normalised by its own module
        normalised.update(read)
    elif kind == "Service":
        normalised["selector"] = _string_map(spec.get("selector"), "spec.selector")
    elif kind in ("PodDisruptionBudget", "ServiceMonitor", "PodMonitor"):
        selector = _mapping(spec, "selector", where="spec.selector")
        normalised["match_labels"] = _string_map(selector.get("matchLabels"), "spec.selector.matchLabels")
        if kind == "PodDisruptionBudget":
            normalised["min_available"] = spec.get("minAvailable")
            normalised["max_unavailable"] = spec.get("maxUnavailable")
        elif isinstance(spec.get("namespaceSelector"), dict):
            normalised["namespace_selector"] = spec["namespaceSelector"]
    elif kind == "HorizontalPodAutoscaler":
        target = _mapping(spec, "scaleTargetRef", where="spec.scaleTargetRef")
        minimum = _optional_int(spec.get("minReplicas"), "spec.minReplicas")
        normalised.update(
            target_kind=scalar_str(target.get("kind")),
            target_name=scalar_str(target.get("name")),
            min=1 if minimum is None else minimum,
            max=_optional_int(spec.get("maxReplicas"), "spec.maxReplicas"),
        )
    elif kind == "ExternalSecret":
        target = _mapping(spec, "target", where="spec.target")
        # External Secrets Operator names the Secret after the ExternalSecret unless told otherwise.
        normalised["target"] = scalar_str(target.get("name")) or name
    elif kind in GITOPS_KINDS or kind == "Rollout":
        normalised.update(_delivery_spec(kind, spec))
    return K8sObject(
        kind=kind,
        name=name,
        namespace=scalar_str(metadata.get("namespace")) or "",
        labels=_string_map(metadata.get("labels"), "metadata.labels"),
        annotations=_string_map(metadata.get("annotations"), "metadata.annotations"),
        spec=normalised,
        file=context.manifest_file,
        cluster=context.cluster,
        environment=context.environment,
    )


def _delivery_spec(kind: str, spec: dict) -> dict:
    """What a GitOps object deploys and from where, as plain strings (unset keys absent)."""
    def pick(node: object, *keys: str) -> str | None:
        for key in keys:
            if not isinstance(node, dict):
                return None
            node = node.get(key)
        return scalar_str(node) if not isinstance(node, (dict, list)) else None

    fields: dict[str, str | bool | None] = {}
    if kind == "Application":
        source = spec.get("source") if isinstance(spec.get("source"), dict) else None
        sources = spec.get("sources") if isinstance(spec.get("sources"), list) else []
        source = source or next((s for s in sources if isinstance(s, dict)), {})
        sync = spec.get("syncPolicy") if isinstance(spec.get("syncPolicy"), dict) else {}
        automated = isinstance(sync.get("automated"), dict)  # `automated: {}` turns automated sync on
        fields.update(
            repo_url=pick(source, "repoURL"), path=pick(source, "path"), revision=pick(source, "targetRevision"),
            chart=pick(source, "chart"), project=pick(spec, "project"),
            destination_namespace=pick(spec, "destination", "namespace"),
            destination=pick(spec, "destination", "name") or pick(spec, "destination", "server"),
            automated=automated,
            self_heal=automated and sync["automated"].get("selfHeal") is True,
        )
    elif kind == "Kustomization":
        fields.update(source_kind=pick(spec, "sourceRef", "kind"), source=pick(spec, "sourceRef", "name"),
                      path=pick(spec, "path"), target_namespace=pick(spec, "targetNamespace"))
    elif kind == "HelmRelease":
        fields.update(chart=pick(spec, "chart", "spec", "chart") or pick(spec, "chartRef", "name"),
                      version=pick(spec, "chart", "spec", "version"),
                      source=pick(spec, "chart", "spec", "sourceRef", "name") or pick(spec, "chartRef", "name"),
                      target_namespace=pick(spec, "targetNamespace"))
    elif kind in ("GitRepository", "OCIRepository", "HelmRepository", "Bucket"):
        fields.update(url=pick(spec, "url") or pick(spec, "endpoint"),
                      revision=pick(spec, "ref", "tag") or pick(spec, "ref", "semver") or pick(spec, "ref", "branch"))
    elif kind == "Rollout":
        fields.update(workload_kind=pick(spec, "workloadRef", "kind"), workload_name=pick(spec, "workloadRef", "name"))
    return {k: v for k, v in fields.items() if v is not None}


# ------------------------------------------------------------------ helpers


def _mapping(parent: dict, key: str, *, where: str | None = None) -> dict:
    value = parent.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _Malformed(f"{where or key} must be a mapping, not a {type(value).__name__}")
    return value


def _list(parent: dict, key: str, *, where: str | None = None) -> list:
    value = parent.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _Malformed(f"{where or key} must be a list, not a {type(value).__name__}")
    return value


def _name(metadata: dict) -> str:
    name = scalar_str(metadata.get("name"))
    if name is None:
        # Jobs and Pods created by hooks often carry only a prefix the API server completes.
        prefix = scalar_str(metadata.get("generateName"))
        if prefix is None:
            raise _Malformed("metadata.name missing")
        name = prefix.rstrip("-.") or prefix
    return name


def _string_map(value: object, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _Malformed(f"{where} must be a mapping, not a {type(value).__name__}")
    result: dict[str, str] = {}
    for key, item in value.items():
        if isinstance(item, (dict, list)):
            raise _Malformed(f"{where}.{key} must be a string")
        result[str(key)] = "" if item is None else scalar_str(item) or ""
    return result


def _optional_int(value: object, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Malformed(f"{where} must be an integer, not {value!r}"[:200])
    return value


def _optional_bool(value: object, where: str) -> bool | None:
    if value is None:
        return None
    if not isinstance(value, bool):
        raise _Malformed(f"{where} must be true or false, not {value!r}"[:200])
    return value


def _describe(kind: str, document: dict) -> str:
    metadata = document.get("metadata")
    name = scalar_str(metadata.get("name")) if isinstance(metadata, dict) else None
    namespace = scalar_str(metadata.get("namespace")) if isinstance(metadata, dict) else None
    qualified = f"{namespace}/{name}" if namespace and name else name or "<unnamed>"
    return f"{kind} {qualified}"
