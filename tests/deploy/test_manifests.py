"""The production deployment stays true: Dockerfile, Helm values, manifests and docs/deploy.md.

No cluster and no Docker daemon here, so everything is checked statically:
every YAML document under deploy/ parses; every Kubernetes object passes the
Kubernetes JSON schema in strict mode (``kubernetes_validate``'s offline
schemas, the newest version it ships), and so do the pod pieces inside the
Helm values; the Dagster chart keys we set are ones the chart knows; the
Dockerfile's sources exist and its command, user and port agree with the Helm
values; the variables we set are ones the code reads; ports, image, volume and
paths agree across files; every file docs/deploy.md names exists.

Each check is a function returning problems, tested on the real files (no
problem) and on a broken copy (the problem is reported).
"""

from __future__ import annotations

import copy
import fnmatch
import importlib
import json
import re
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
VALUES = DEPLOY / "helm" / "dagster-values.yaml"
DASHBOARD = DEPLOY / "k8s" / "dashboard.yaml"
KUSTOMIZATION = DEPLOY / "k8s" / "kustomization.yaml"
DOC = ROOT / "docs" / "deploy.md"
K8S_VERSION = kubernetes_validate.latest_version()  # the newest schemas the library ships
CODE_DIRS = ("pipelines", "dashboard", "checks")
HEALTH_PATH = "/_stcore/health"  # Streamlit's own health endpoint

# Variables the deploy files set (or docs/deploy.md puts in Secrets) that main's
# code does not read yet, with who is adding them: these are the names of
# /tmp/briefs/interfaces.md, being built while this was written. Once the code
# reads a name, its entry can go. Any other name must be read by the code.
PENDING_ENV: dict[str, str] = {}  # variables the deploy files set before the code that reads them lands (none now)

# Keys of the Dagster Helm chart's values (chart 1.13, values.schema.json) for
# the sections deploy/helm/dagster-values.yaml sets. Where the chart's schema is
# closed (additionalProperties: false) a wrong key fails `helm install`; where it
# is open a wrong key is silently ignored, which is worse: both are caught here.
CHART_KEYS: dict[str, set[str]] = {
    "": {"dagsterWebserver", "dagster-user-deployments", "postgresql", "generatePostgresqlPasswordSecret",
         "generateCeleryConfigSecret", "rabbitmq", "redis", "flower", "ingress", "imagePullSecrets",
         "computeLogManager", "scheduler", "runLauncher", "pythonLogs", "dagsterDaemon", "busybox", "migrate",
         "telemetry", "serviceAccount", "global", "retention", "concurrency", "additionalInstanceConfig",
         "rbacEnabled", "nameOverride", "fullnameOverride"},
    "telemetry": {"enabled"},
    "global": {"postgresqlSecretName", "dagsterHome", "serviceAccountName", "celeryConfigSecretName"},
    "postgresql": {"image", "enabled", "postgresqlHost", "postgresqlUsername", "postgresqlPassword",
                   "postgresqlDatabase", "postgresqlParams", "postgresqlScheme", "service"},
    "dagster-user-deployments": {"enabled", "enableSubchart", "imagePullSecrets", "deployments", "serviceAccount"},
    "dagster-user-deployments.serviceAccount": {"create", "name", "annotations"},
    "dagster-user-deployments.deployments[]": {
        "name", "image", "dagsterApiGrpcArgs", "codeServerArgs", "includeConfigInLaunchedRuns",
        "deploymentNamespace", "port", "env", "envConfigMaps", "envSecrets", "annotations", "nodeSelector",
        "affinity", "tolerations", "podSecurityContext", "securityContext", "resources", "livenessProbe",
        "readinessProbe", "startupProbe", "labels", "volumeMounts", "volumes", "schedulerName",
        "initContainers", "sidecarContainers", "service"},
    "dagster-user-deployments.deployments[].image": {"repository", "tag", "pullPolicy"},
    "runLauncher": {"type", "config"},
    "runLauncher.config": {"celeryK8sRunLauncher", "k8sRunLauncher", "customRunLauncher"},
    "runLauncher.config.k8sRunLauncher": {
        "image", "imagePullPolicy", "jobNamespace", "loadInclusterConfig", "kubeconfigFile", "envConfigMaps",
        "envSecrets", "envVars", "volumeMounts", "volumes", "labels", "failPodOnRunFailure", "resources",
        "schedulerName", "securityContext", "runK8sConfig"},
    "runLauncher.config.k8sRunLauncher.runK8sConfig": {
        "containerConfig", "podSpecConfig", "podTemplateSpecMetadata", "jobSpecConfig", "jobMetadata"},
    "dagsterDaemon.runCoordinator": {"enabled", "type", "config"},
    "dagsterDaemon.runCoordinator.config": {"queuedRunCoordinator", "customRunCoordinator"},
    "dagsterDaemon.runCoordinator.config.queuedRunCoordinator": {
        "maxConcurrentRuns", "tagConcurrencyLimits", "dequeueIntervalSeconds", "dequeueNumWorkers",
        "dequeueUseThreads", "blockOpConcurrencyLimitedRuns"},
    "dagsterDaemon.runCoordinator.config.queuedRunCoordinator.tagConcurrencyLimits[]": {"key", "value", "limit"},
}


# ------------------------------------------------------------------ loading

def load_documents(path: Path) -> list[dict]:
    """The non-empty YAML documents of a file; a document that is not a mapping is an error."""
    docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]
    for i, doc in enumerate(docs):
        if not isinstance(doc, dict):
            raise TypeError(f"{path}: document {i} is a {type(doc).__name__}, not a mapping")
    return docs


def yaml_files() -> list[Path]:
    return sorted(p for p in DEPLOY.rglob("*") if p.suffix in {".yaml", ".yml"})


def is_kustomization(doc: dict) -> bool:
    return str(doc.get("apiVersion", "")).startswith("kustomize.config.k8s.io/")


def kubernetes_objects() -> list[tuple[str, dict]]:
    """(label, object) of every Kubernetes object under deploy/ (not Helm values, not kustomizations)."""
    out = []
    for path in yaml_files():
        for i, doc in enumerate(load_documents(path)):
            if "kind" in doc and not is_kustomization(doc):
                out.append((f"{path.relative_to(ROOT)}#{i} {doc['kind']}/{doc.get('metadata', {}).get('name')}", doc))
    return out


def by_kind(path: Path) -> dict[str, dict]:
    return {doc["kind"]: doc for doc in load_documents(path)}


def values() -> dict:
    (doc,) = load_documents(VALUES)
    return doc


def user_deployment(vals: dict) -> dict:
    (deployment,) = vals["dagster-user-deployments"]["deployments"]
    return deployment


def env_of(deployment: dict) -> dict[str, str]:
    return {e["name"]: e.get("value") for e in deployment["env"]}


# ------------------------------------------------------------------ checks

def schema_problem(obj: dict) -> str | None:
    """Why ``obj`` fails the Kubernetes schema (strict: unknown fields fail), or None."""
    try:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        where = ".".join(str(p) for p in exc.path) or "(top)"
        return f"{where}: {exc.message}"
    except kubernetes_validate.SchemaNotFoundError as exc:
        # An unknown kind or apiVersion is a mistake too: nothing is skipped silently.
        return exc.message
    return None


def chart_key_problems(vals: dict) -> list[str]:
    """Keys set in the Helm values that the Dagster chart does not have (for the sections in CHART_KEYS)."""
    found = []

    def walk(node: object, path: str) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item, path + "[]")
        elif isinstance(node, dict):
            # Sections not in CHART_KEYS (Kubernetes objects: env, volumes, ...) are the schema checks' job.
            known = CHART_KEYS.get(path)
            for key, value in node.items():
                if known is not None and key not in known:
                    found.append(f"{path or '(top level)'}: the chart has no key {key!r}")
                walk(value, f"{path}.{key}" if path else key)

    walk(vals, "")
    return found


def code_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for d in CODE_DIRS for p in (ROOT / d).rglob("*.py"))


def unread_env_names(names: list[str], code: str, pending: dict[str, str]) -> list[str]:
    """The names neither read by the code (as a string literal) nor listed as pending."""
    return [n for n in names if n not in pending and f'"{n}"' not in code and f"'{n}'" not in code]


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    out, buf = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        instruction, _, args = (buf + line).partition(" ")
        out.append((instruction.upper(), args.strip()))
        buf = ""
    return out


def dockerignored(path: str, patterns: list[str]) -> bool:
    parts = Path(path).parts
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        pattern = pattern.rstrip("/")
        bare = pattern[3:] if pattern.startswith("**/") else None
        for prefix in prefixes:
            if fnmatch.fnmatch(prefix, pattern) or (bare and fnmatch.fnmatch(Path(prefix).name, bare)):
                return True
    return False


def dockerfile_problems(dockerfile: Path, root: Path, *, python: str, port: int, module: str) -> list[str]:
    """What is wrong with the Dockerfile for our deployment (an empty list: nothing)."""
    instructions = dockerfile_instructions(dockerfile.read_text(encoding="utf-8"))
    ignore_file = root / ".dockerignore"
    ignore = [line.strip() for line in ignore_file.read_text().splitlines()
              if line.strip() and not line.startswith("#")] if ignore_file.exists() else []
    problems, stages = [], set()
    for instruction, args in instructions:
        words = args.split()
        if instruction == "FROM":
            image = words[0]
            if image not in stages and image != f"python:{python}-slim":
                problems.append(f"FROM {image}: expected python:{python}-slim (the project's Python)")
            if len(words) == 3 and words[1].upper() == "AS":
                stages.add(words[2])
        elif instruction in {"COPY", "ADD"}:
            if any(w.startswith("--from=") for w in words):
                continue
            for source in [w for w in words if not w.startswith("--")][:-1]:
                if not (root / source).exists():
                    problems.append(f"{instruction} {source}: no such file in the repository")
                elif dockerignored(source, ignore):
                    problems.append(f"{instruction} {source}: excluded by .dockerignore")
    runs = " ".join(a for i, a in instructions if i == "RUN")
    if "uv sync --frozen --no-dev" not in runs:
        problems.append("no `uv sync --frozen --no-dev`: the image must install what uv.lock pins")
    users = [a for i, a in instructions if i == "USER"]
    uid = users[-1].split(":")[0] if users else "0"
    if not uid.isdigit() or int(uid) == 0:
        problems.append(f"USER {uid}: must be a numeric non-root uid (runAsNonRoot can only verify a number)")
    if any(i == "ENTRYPOINT" for i, _ in instructions):
        problems.append("ENTRYPOINT: the Dagster chart passes the whole command as args; it would be prepended")
    cmds = [a for i, a in instructions if i == "CMD"]
    expected = ["dagster", "api", "grpc", "-h", "0.0.0.0", "-p", str(port), "-m", module]
    if not cmds or json.loads(cmds[-1]) != expected:
        problems.append(f"CMD {cmds[-1] if cmds else None}: expected {expected}")
    exposed = {w.split("/")[0] for i, a in instructions if i == "EXPOSE" for w in a.split()}
    if str(port) not in exposed:
        problems.append(f"EXPOSE does not include the code location's port {port}")
    return problems


def dockerfile_env(dockerfile: Path) -> dict[str, str]:
    env = {}
    for instruction, args in dockerfile_instructions(dockerfile.read_text(encoding="utf-8")):
        if instruction == "ENV":
            env.update(dict(re.findall(r"(\w+)=(\S+)", args)))
    return env


def dockerfile_uid(dockerfile: Path) -> int:
    users = [a for i, a in dockerfile_instructions(dockerfile.read_text(encoding="utf-8")) if i == "USER"]
    return int(users[-1].split(":")[0])


def resolve_port(port: int | str, container: dict) -> int | None:
    if isinstance(port, int):
        return port
    return next((p["containerPort"] for p in container.get("ports", []) if p.get("name") == port), None)


def dashboard_problems(objs: dict[str, dict], *, home: str) -> list[str]:
    """The dashboard's Deployment and Service: ports, probes, read-only data, hardening."""
    problems = []
    deployment, service = objs["Deployment"], objs["Service"]
    pod = deployment["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    (container_port,) = [p["containerPort"] for p in container["ports"]]
    args = container["args"]
    if args[:2] != ["scorecard", "serve"]:
        problems.append(f"the container runs {args[:2]}, not `scorecard serve`")
    if int(args[args.index("--port") + 1]) != container_port:
        problems.append("`scorecard serve --port` differs from the containerPort")
    for port in service["spec"]["ports"]:
        if port["port"] != container_port or resolve_port(port["targetPort"], container) != container_port:
            problems.append(f"Service port {port['port']} -> {port['targetPort']} is not containerPort {container_port}")
    if service["spec"]["selector"].items() - pod["metadata"]["labels"].items():
        problems.append("the Service's selector does not match the pod's labels")
    for kind in ("readinessProbe", "livenessProbe"):
        probe = container.get(kind, {}).get("httpGet")
        if not probe or probe["path"] != HEALTH_PATH or resolve_port(probe["port"], container) != container_port:
            problems.append(f"{kind}: expected httpGet {HEALTH_PATH} on port {container_port}")
    snapshot = args[args.index("--snapshot") + 1]
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    data_mounts = [m for m in container["volumeMounts"] if "persistentVolumeClaim" in volumes[m["name"]]]
    serving_mount = [m for m in data_mounts if snapshot.startswith(m["mountPath"].rstrip("/") + "/")]
    if not serving_mount:
        problems.append(f"the snapshot {snapshot} is not on a mounted volume")
    for mount in data_mounts:
        claim = volumes[mount["name"]]["persistentVolumeClaim"]
        if mount.get("readOnly") is not True or claim.get("readOnly") is not True:
            problems.append(f"the shared volume at {mount['mountPath']} is not mounted read-only")
    security = container.get("securityContext", {})
    if security.get("readOnlyRootFilesystem") is not True:
        problems.append("readOnlyRootFilesystem is not set")
    empty_dirs = {m["mountPath"] for m in container["volumeMounts"] if "emptyDir" in volumes[m["name"]]}
    for writable in ("/tmp", home):
        if writable not in empty_dirs:
            problems.append(f"{writable} is not a writable emptyDir on the read-only root")
    if pod["spec"].get("securityContext", {}).get("runAsNonRoot") is not True:
        problems.append("the pod does not set runAsNonRoot")
    for part in ("requests", "limits"):
        if set(container.get("resources", {}).get(part, {})) != {"cpu", "memory"}:
            problems.append(f"resources.{part} must give cpu and memory")
    return problems


REPO_PATH = re.compile(
    r"(?<![\w./$<-])((?:deploy|docs|pipelines|dashboard|checks|tests|\.streamlit)/[\w./-]*[\w]"
    r"|Dockerfile|\.dockerignore|pyproject\.toml|uv\.lock|Makefile)(?![\w/-])")


def missing_paths(markdown: str, root: Path) -> list[str]:
    """Repository paths a document names that do not exist."""
    return sorted({p for p in REPO_PATH.findall(markdown) if not (root / p).exists()})


def named_paths(markdown: str) -> set[str]:
    return set(REPO_PATH.findall(markdown))


# ------------------------------------------------------------------ YAML and schemas

def test_every_yaml_document_under_deploy_parses():
    files = yaml_files()
    assert {f.relative_to(DEPLOY).as_posix() for f in files} >= {
        "helm/dagster-values.yaml", "k8s/dashboard.yaml", "k8s/pvc.yaml", "k8s/configmap.yaml",
        "k8s/kustomization.yaml", "rbac/scorecard-reader.yaml"}
    for path in files:
        assert load_documents(path), f"{path} has no YAML document"


def test_deploy_holds_the_objects_the_deployment_needs():
    kinds = {(doc["kind"], doc["metadata"]["name"]) for _, doc in kubernetes_objects()}
    assert kinds >= {("Deployment", "scorecard-dashboard"), ("Service", "scorecard-dashboard"),
                     ("PersistentVolumeClaim", "scorecard-data"), ("ConfigMap", "scorecard-config"),
                     ("ServiceAccount", "scorecard-reader"), ("ClusterRole", "scorecard-reader"),
                     ("ClusterRoleBinding", "scorecard-reader")}


@pytest.mark.parametrize("label,obj", kubernetes_objects(), ids=[label for label, _ in kubernetes_objects()])
def test_every_kubernetes_object_passes_the_strict_schema(label, obj):
    assert schema_problem(obj) is None, f"{label}: {schema_problem(obj)}"


def test_a_broken_manifest_fails_the_schema_check(tmp_path):
    deployment = by_kind(DASHBOARD)["Deployment"]
    misspelt = copy.deepcopy(deployment)
    misspelt["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {"httpGet": {"path": "/", "port": 1}}
    mistyped = copy.deepcopy(deployment)
    mistyped["spec"]["replicas"] = "two"
    unknown_kind = {**copy.deepcopy(deployment), "kind": "Deploymnet"}
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump_all([misspelt, mistyped, unknown_kind]))
    first, second, third = load_documents(path)
    assert "readinesProbe" in (schema_problem(first) or "")
    assert "spec.replicas" in (schema_problem(second) or "")
    assert "Deploymnet" in (schema_problem(third) or "")
    assert schema_problem(deployment) is None


def test_a_yaml_document_that_is_not_a_mapping_is_an_error(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- apiVersion: v1\n  kind: ConfigMap\n")
    with pytest.raises(TypeError, match="not a mapping"):
        load_documents(path)


def test_pod_pieces_in_the_helm_values_pass_the_strict_schema():
    vals = values()
    ud = user_deployment(vals)
    image = f"{ud['image']['repository']}:{ud['image']['tag']}"
    code_location = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": ud["name"]}, "spec": {
        "securityContext": ud["podSecurityContext"], "volumes": ud["volumes"],
        "containers": [{"name": ud["name"], "image": image, "env": ud["env"],
                        "envFrom": [{"secretRef": s} for s in ud["envSecrets"]],
                        "volumeMounts": ud["volumeMounts"], "securityContext": ud["securityContext"],
                        "resources": ud["resources"], "ports": [{"containerPort": ud["port"]}]}]}}
    assert schema_problem(code_location) is None, schema_problem(code_location)
    launcher = vals["runLauncher"]["config"]["k8sRunLauncher"]
    k8s = launcher["runK8sConfig"]
    run_job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "run"}, "spec": {
        **k8s["jobSpecConfig"], "template": {"spec": {
            **k8s["podSpecConfig"], "restartPolicy": "Never",
            "containers": [{"name": "run", "image": image, "securityContext": launcher["securityContext"]}]}}}}
    assert schema_problem(run_job) is None, schema_problem(run_job)


# ------------------------------------------------------------------ Helm values

def test_helm_values_use_only_keys_the_dagster_chart_has():
    assert chart_key_problems(values()) == []


def test_a_key_the_chart_does_not_have_is_reported():
    broken = values()
    user_deployment(broken)["dagsterApiGrpcArg"] = ["-m", "pipelines.definitions"]
    broken["runLauncher"]["config"]["k8sRunLauncher"]["runK8sConfig"]["podSpec"] = {}
    problems = chart_key_problems(broken)
    assert any("'dagsterApiGrpcArg'" in p for p in problems)
    assert any("'podSpec'" in p for p in problems)


def test_helm_values_run_our_code_location_on_kubernetes():
    vals = values()
    ud = user_deployment(vals)
    assert ud["dagsterApiGrpcArgs"] == ["-m", "pipelines.definitions"]
    assert vals["runLauncher"]["type"] == "K8sRunLauncher"
    assert env_of(ud)["SCORECARD_EXECUTOR"] == "k8s"
    assert vals["dagster-user-deployments"]["enabled"] and vals["dagster-user-deployments"]["enableSubchart"]
    limits = vals["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]["tagConcurrencyLimits"]
    from pipelines.definitions import RUN_QUEUE_TAG

    assert {"key": RUN_QUEUE_TAG, "limit": 1} in limits, "one scorecard run at a time, as the local instance"


def test_the_code_location_module_imports_and_defines_the_job():
    import dagster as dg

    module = importlib.import_module(user_deployment(values())["dagsterApiGrpcArgs"][1])
    assert isinstance(module.defs, dg.Definitions)
    assert module.defs.resolve_job_def(module.CRAWL_AND_SCORE_JOB) is not None


def test_every_variable_the_deployment_sets_is_read_by_the_code():
    vals = values()
    names = list(env_of(user_deployment(vals)))
    # The keys of the Secrets docs/deploy.md creates become variables too (envFrom).
    names += [n for n in re.findall(r"--from-literal=([A-Za-z0-9_.-]+)=", DOC.read_text()) if n.isupper()]
    assert "GITHUB_TOKEN" in names and "SCORECARD_OIDC_CLIENT_SECRET" in names
    assert unread_env_names(names, code_text(), PENDING_ENV) == []


def test_a_variable_no_code_reads_is_reported():
    code = 'token = os.environ.get("GITHUB_TOKEN")'
    assert unread_env_names(["GITHUB_TOKEN", "SCORECARD_EXECUTOR", "SCORECARD_TYPO"], code,
                            {"SCORECARD_EXECUTOR": "pending"}) == ["SCORECARD_TYPO"]


def test_image_is_the_same_in_helm_values_dashboard_kustomization_and_docs():
    image = user_deployment(values())["image"]
    assert image["tag"] and image["tag"] != "latest", "an immutable tag per release: Dagster records it per run"
    dashboard_image = by_kind(DASHBOARD)["Deployment"]["spec"]["template"]["spec"]["containers"][0]["image"]
    assert dashboard_image == f"{image['repository']}:{image['tag']}"
    (kustomization,) = load_documents(KUSTOMIZATION)
    assert {"name": image["repository"], "newTag": image["tag"]} in kustomization["images"]
    doc = DOC.read_text()
    assert f"IMAGE={image['repository']}" in doc and f"TAG={image['tag']}" in doc
    assert 'docker build -t "$IMAGE:$TAG" .' in doc


def test_shared_volume_config_and_run_values_agree(tmp_path):
    from pipelines.config import load_config

    ud = user_deployment(values())
    env = env_of(ud)
    volumes = {v["name"]: v for v in ud["volumes"]}
    mounts = {m["name"]: m["mountPath"] for m in ud["volumeMounts"]}
    (pvc_volume,) = [n for n, v in volumes.items() if "persistentVolumeClaim" in v]
    pvc = by_kind(DEPLOY / "k8s" / "pvc.yaml")["PersistentVolumeClaim"]
    assert volumes[pvc_volume]["persistentVolumeClaim"]["claimName"] == pvc["metadata"]["name"]
    assert "ReadWriteMany" in pvc["spec"]["accessModes"], "step pods on different nodes share it"
    data = mounts[pvc_volume].rstrip("/") + "/"
    assert env["SCORECARD_RUN_VALUES_DIR"].startswith(data), "every step pod must see the run values"
    # SCORECARD_CONFIG is the ConfigMap's file, and that file loads and keeps its data on the volume.
    configmap = by_kind(DEPLOY / "k8s" / "configmap.yaml")["ConfigMap"]
    (cm_volume,) = [n for n, v in volumes.items() if v.get("configMap", {}).get("name") == configmap["metadata"]["name"]]
    (key,) = configmap["data"]
    assert env["SCORECARD_CONFIG"] == f"{mounts[cm_volume].rstrip('/')}/{key}"
    (tmp_path / key).write_text(configmap["data"][key])
    config = load_config(tmp_path / key)
    for path in (config.warehouse_path, config.serving_path, config.notifications.state_path):
        assert str(path).startswith(data), f"{path} is not on the shared volume {data}"
    # The dashboard serves exactly the file the pipeline publishes, from the same claim.
    pod = by_kind(DASHBOARD)["Deployment"]["spec"]["template"]["spec"]
    args = pod["containers"][0]["args"]
    assert Path(args[args.index("--snapshot") + 1]) == config.serving_path
    claims = [v["persistentVolumeClaim"]["claimName"] for v in pod["volumes"] if "persistentVolumeClaim" in v]
    assert claims == [pvc["metadata"]["name"]]


def test_code_location_and_runs_use_the_existing_read_only_service_account():
    sa = values()["dagster-user-deployments"]["serviceAccount"]
    assert sa["create"] is False
    rbac = load_documents(DEPLOY / "rbac" / "scorecard-reader.yaml")
    (account,) = [d for d in rbac if d["kind"] == "ServiceAccount"]
    assert sa["name"] == account["metadata"]["name"]
    bindings = [d for d in rbac if d["kind"] == "ClusterRoleBinding"]
    subject = {"kind": "ServiceAccount", "name": account["metadata"]["name"],
               "namespace": account["metadata"]["namespace"]}
    assert any(subject in b["subjects"] and b["roleRef"]["name"] == "scorecard-reader" for b in bindings)
    (namespace,) = [d for d in rbac if d["kind"] == "Namespace"]
    (kustomization,) = load_documents(KUSTOMIZATION)
    assert kustomization["namespace"] == namespace["metadata"]["name"] == account["metadata"]["namespace"]


def test_pods_run_as_the_images_non_root_user():
    uid = dockerfile_uid(ROOT / "Dockerfile")
    vals = values()
    contexts = [user_deployment(vals)["podSecurityContext"],
                vals["runLauncher"]["config"]["k8sRunLauncher"]["runK8sConfig"]["podSpecConfig"]["securityContext"],
                by_kind(DASHBOARD)["Deployment"]["spec"]["template"]["spec"]["securityContext"]]
    for context in contexts:
        assert context["runAsNonRoot"] is True and context["runAsUser"] == uid


def test_no_secret_value_in_the_helm_values():
    postgresql = values()["postgresql"]
    assert values()["generatePostgresqlPasswordSecret"] is False and postgresql["postgresqlPassword"] == ""
    assert values()["global"]["postgresqlSecretName"] in DOC.read_text()


# ------------------------------------------------------------------ kustomization

def test_kustomization_lists_files_that_exist_and_the_dashboard():
    (kustomization,) = load_documents(KUSTOMIZATION)
    for resource in kustomization["resources"]:
        assert (KUSTOMIZATION.parent / resource).is_file(), resource
    assert "dashboard.yaml" in kustomization["resources"] and "pvc.yaml" in kustomization["resources"]


# ------------------------------------------------------------------ dashboard

def test_dashboard_ports_probes_and_read_only_snapshot():
    home = dockerfile_env(ROOT / "Dockerfile")["HOME"]
    assert dashboard_problems(by_kind(DASHBOARD), home=home) == []


def test_dashboard_mistakes_are_reported():
    home = dockerfile_env(ROOT / "Dockerfile")["HOME"]
    objs = copy.deepcopy(by_kind(DASHBOARD))
    pod = objs["Deployment"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    container["volumeMounts"][0]["readOnly"] = False
    container["readinessProbe"]["httpGet"]["port"] = 8080
    objs["Service"]["spec"]["ports"][0]["targetPort"] = "web"
    del container["securityContext"]["readOnlyRootFilesystem"]
    problems = dashboard_problems(objs, home=home)
    assert any("not mounted read-only" in p for p in problems)
    assert any(p.startswith("readinessProbe") for p in problems)
    assert any(p.startswith("Service port") for p in problems)
    assert any("readOnlyRootFilesystem" in p for p in problems)
    assert len(problems) == 4


# ------------------------------------------------------------------ Dockerfile

def dockerfile_expectations() -> dict:
    ud = user_deployment(values())
    return {"python": f"{sys.version_info.major}.{sys.version_info.minor}", "port": ud["port"],
            "module": ud["dagsterApiGrpcArgs"][1]}


def test_dockerfile_builds_what_the_helm_values_run():
    assert dockerfile_problems(ROOT / "Dockerfile", ROOT, **dockerfile_expectations()) == []


def test_the_images_python_is_the_one_the_project_requires():
    import tomllib

    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert SpecifierSet(requires).contains(dockerfile_expectations()["python"] + ".0")


def test_the_dashboard_port_is_exposed_by_the_image():
    exposed = {a for i, a in dockerfile_instructions((ROOT / "Dockerfile").read_text()) if i == "EXPOSE"}
    port = by_kind(DASHBOARD)["Deployment"]["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"]
    assert any(str(port) in e.split() for e in exposed)


def test_dockerfile_mistakes_are_reported(tmp_path):
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "tests").mkdir()
    (tmp_path / ".dockerignore").write_text("tests\n**/__pycache__\n")
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.9-slim\n"
        "COPY pipelines ./pipelines\n"
        "COPY tests \\\n  ./tests\n"
        "COPY checks ./checks\n"
        "RUN pip install .\n"
        "USER root\n"
        'ENTRYPOINT ["dagster"]\n'
        'CMD ["dagster", "api", "grpc", "-p", "4000", "-m", "pipelines.definitions"]\n')
    problems = dockerfile_problems(tmp_path / "Dockerfile", tmp_path, **dockerfile_expectations())
    expected = ["FROM python:3.9-slim", "COPY tests: excluded", "COPY checks: no such file", "uv sync --frozen",
                "USER root", "ENTRYPOINT", "CMD [", "EXPOSE"]
    for fragment in expected:
        assert any(fragment in p for p in problems), (fragment, problems)
    assert len(problems) == len(expected)


# ------------------------------------------------------------------ docs/deploy.md

def test_every_file_docs_deploy_names_exists():
    text = DOC.read_text()
    assert missing_paths(text, ROOT) == []
    assert {"Dockerfile", "deploy/helm/dagster-values.yaml", "deploy/k8s/dashboard.yaml",
            "deploy/rbac/scorecard-reader.yaml", "deploy/k8s/kustomization.yaml"} <= named_paths(text)


def test_a_missing_file_in_the_docs_is_reported():
    text = "Apply `deploy/k8s/dashboard.yaml`, then deploy/k8s/nothing-here.yaml and docs/gone.md; /data/serving is a mount."
    assert missing_paths(text, ROOT) == ["deploy/k8s/nothing-here.yaml", "docs/gone.md"]


def test_docs_install_the_chart_version_of_the_pinned_dagster():
    import tomllib

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    (pin,) = [d.split("==")[1] for d in deps if d.startswith("dagster==")]
    for text in (DOC.read_text(), VALUES.read_text()):
        assert f"dagster/dagster --version {pin}" in text
