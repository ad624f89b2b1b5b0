import json

from pipelines.parsers import merge_inventories, parse_k8s_documents, parse_k8s_text

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: payments
  labels: {app.kubernetes.io/name: api}
  annotations: {team: payments, shared: from-deployment}
spec:
  replicas: 3
  template:
    metadata:
      labels: {app: api, version: "1.0"}
      annotations: {prometheus.io/scrape: "true", shared: from-pod}
    spec:
      securityContext: {runAsNonRoot: true, runAsUser: 1000}
      initContainers:
        - name: migrate
          image: acme/migrate:1
        - name: proxy
          image: envoy:1.30
          restartPolicy: Always
      containers:
        - name: api
          image: acme/api:2.1.0
          readinessProbe: {httpGet: {path: /ready, port: 8080}}
          livenessProbe: {httpGet: {path: /live, port: 8080}}
          resources:
            requests: {cpu: 100m, memory: 128Mi}
            limits: {cpu: 1, memory: 256Mi}
          securityContext: {runAsNonRoot: false, runAsUser: 0}
          env:
            - {name: DB_PASSWORD, value: hunter2}
            - {name: API_KEY, value: "abc123"}
            - {name: STRIPE_TOKEN, valueFrom: {secretKeyRef: {name: stripe, key: token}}}
            - {name: PASSWORD_FILE, value: /run/secrets/db}
            - {name: ALLOW_EMPTY_PASSWORD, value: "yes"}
            - {name: TOKEN_FROM_ENV, value: "$(OTHER_TOKEN)"}
            - {name: LOG_LEVEL, value: debug}
            - {name: EMPTY_SECRET, value: ""}
          envFrom:
            - secretRef: {name: api-env}
            - configMapRef: {name: api-config}
"""


def test_deployment_becomes_a_workload():
    inventory = parse_k8s_text(DEPLOYMENT, "deploy/api.yaml", environment="production")
    [workload] = inventory.workloads
    assert (workload.kind, workload.name, workload.namespace, workload.replicas) == ("Deployment", "api", "payments", 3)
    assert workload.labels == {"app.kubernetes.io/name": "api"}
    assert workload.pod_labels == {"app": "api", "version": "1.0"}
    assert workload.annotations["shared"] == "from-pod"
    assert workload.annotations["team"] == "payments"
    assert (workload.pod_run_as_non_root, workload.pod_run_as_user) == (True, 1000)
    assert (workload.file, workload.environment, workload.cluster) == ("deploy/api.yaml", "production", None)
    assert inventory.problems == []


def test_containers_init_containers_and_native_sidecars():
    [workload] = parse_k8s_text(DEPLOYMENT, "d.yaml").workloads
    assert [(c.name, c.init) for c in workload.containers] == [("api", False), ("migrate", True), ("proxy", False)]
    api = workload.containers[0]
    assert (api.readiness_probe, api.liveness_probe) == (True, True)
    assert (api.cpu_request, api.memory_request, api.cpu_limit, api.memory_limit) == ("100m", "128Mi", "1", "256Mi")
    assert (api.run_as_non_root, api.run_as_user) == (False, 0)
    assert workload.containers[1].readiness_probe is False


def test_literal_env_values_are_kept_by_name_and_form_never_the_value():
    # Which of them are secrets is checks.security's call (tests/checks).
    [workload] = parse_k8s_text(DEPLOYMENT, "d.yaml").workloads
    api = workload.containers[0]
    assert api.literal_env == {
        "DB_PASSWORD": "text",
        "API_KEY": "text",
        "PASSWORD_FILE": "text",
        "ALLOW_EMPTY_PASSWORD": "switch",
        "TOKEN_FROM_ENV": "placeholder",
        "LOG_LEVEL": "text",
    }  # not the valueFrom STRIPE_TOKEN, not the empty EMPTY_SECRET
    assert api.secret_refs == ["stripe", "api-env"]
    assert "hunter2" not in repr(workload) and "abc123" not in repr(workload)


def test_forms_of_literal_env_values():
    env = [
        {"name": "A", "value": True},
        {"name": "B", "value": 0},
        {"name": "C", "value": " Off "},
        {"name": "D", "value": 3600},
        {"name": "E", "value": "${DB_PASSWORD}"},
        {"name": "F", "value": "{{ .Values.password }}"},
        {"name": "G", "value": "$(A)-$(B)"},  # text around a substitution is text
        {"name": "H", "value": None},
        {"name": "I", "value": "  "},
        {"name": "J", "value": "yes"},
        {"name": "J", "value": "s3cr3t"},  # the same name again: the manifest still holds the text
        {"name": "J", "value": "no"},
    ]
    document = {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "image": "i", "env": env}]},
    }
    [pod] = parse_k8s_documents([document], "pod.yaml").workloads
    assert pod.containers[0].literal_env == {
        "A": "switch", "B": "switch", "C": "switch", "D": "text", "E": "placeholder", "F": "placeholder",
        "G": "text", "J": "text",
    }


def test_other_objects_are_normalised():
    text = """
apiVersion: v1
kind: Service
metadata: {name: api, namespace: payments}
spec: {selector: {app: api}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: api}
spec: {minAvailable: 1, selector: {matchLabels: {app: api}}}
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: api}
spec:
  selector: {matchLabels: {app: api}}
  namespaceSelector: {matchNames: [payments]}
---
apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata: {name: api}
spec: {scaleTargetRef: {kind: Deployment, name: api}, maxReplicas: 5, targetCPUUtilizationPercentage: 80}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: api2}
spec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api2}, minReplicas: 2, maxReplicas: 4}
---
apiVersion: external-secrets.io/v1beta1
kind: ExternalSecret
metadata: {name: db}
spec: {target: {name: db-credentials}}
---
apiVersion: external-secrets.io/v1beta1
kind: ExternalSecret
metadata: {name: defaulted}
spec: {}
---
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {name: alerts}
spec: {groups: []}
---
apiVersion: sloth.slok.dev/v1
kind: PrometheusServiceLevel
metadata: {name: slo}
spec: {service: api}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: ignored}
"""
    objects = {(o.kind, o.name): o for o in parse_k8s_text(text, "all.yaml").objects}
    assert objects[("Service", "api")].spec["selector"] == {"app": "api"}
    assert objects[("Service", "api")].namespace == "payments"
    assert objects[("PodDisruptionBudget", "api")].spec["match_labels"] == {"app": "api"}
    assert objects[("ServiceMonitor", "api")].spec["namespace_selector"] == {"matchNames": ["payments"]}
    hpa = objects[("HorizontalPodAutoscaler", "api")].spec
    assert (hpa["target_kind"], hpa["target_name"], hpa["min"], hpa["max"]) == ("Deployment", "api", 1, 5)
    assert objects[("HorizontalPodAutoscaler", "api2")].spec["min"] == 2
    assert objects[("ExternalSecret", "db")].spec["target"] == "db-credentials"
    assert objects[("ExternalSecret", "defaulted")].spec["target"] == "defaulted"
    assert ("PrometheusRule", "alerts") in objects
    assert ("PrometheusServiceLevel", "slo") in objects
    assert ("ConfigMap", "ignored") not in objects
    assert objects[("Service", "api")].namespace == "payments"
    assert objects[("PodDisruptionBudget", "api")].namespace == ""  # unset in the manifest


def test_malformed_object_is_a_problem_and_the_rest_of_the_file_is_used():
    text = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: broken}
spec: {template: {spec: {containers: {name: not-a-list}}}}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec: {replicas: "three", template: {spec: {containers: []}}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec: {template: {spec: {containers: [{name: agent, image: agent:1}]}}}
"""
    inventory = parse_k8s_text(text, "mixed.yaml")
    assert [(w.kind, w.name, w.replicas) for w in inventory.workloads] == [("DaemonSet", "agent", None)]
    reasons = [problem.reason for problem in inventory.problems]
    assert any("Deployment broken" in r and "containers must be a list" in r for r in reasons)
    assert any("StatefulSet db" in r and "spec.replicas must be an integer" in r for r in reasons)
    assert all(problem.path == "mixed.yaml" for problem in inventory.problems)


def test_kubectl_json_list_with_replica_sets():
    snapshot = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "metadata": {
                    "name": "api-7d9f",
                    "namespace": "payments",
                    "creationTimestamp": "2024-05-01T10:00:00Z",
                    "annotations": {"deployment.kubernetes.io/revision": "7"},
                    "labels": {"app": "api"},
                    "ownerReferences": [{"kind": "Deployment", "name": "api"}],
                },
                "spec": {"template": {"metadata": {"labels": {"app": "api"}}, "spec": {"containers": [{"name": "api", "image": "acme/api:2"}]}}},
            }
        ],
    }
    inventory = parse_k8s_text(json.dumps(snapshot), "snapshot.json", cluster="prod-eu", environment="production")
    assert inventory.replica_sets == [
        {
            "namespace": "payments",
            "name": "api-7d9f",
            "owner": "api",
            "revision": 7,
            "created_at": "2024-05-01T10:00:00Z",
            "images": ["acme/api:2"],
            "annotations": {"deployment.kubernetes.io/revision": "7"},
            "labels": {"app": "api"},
            "pod_labels": {"app": "api"},
        }
    ]


def test_api_list_items_without_kind_take_it_from_the_list():
    docs = [{"kind": "DeploymentList", "items": [{"metadata": {"name": "a", "namespace": "n", "uid": "u-1"}, "spec": {"template": {"spec": {"containers": [{"name": "c"}]}}}}]}]
    inventory = parse_k8s_documents(docs, "api", cluster="c1")
    [workload] = inventory.workloads
    assert (workload.kind, workload.name, workload.uid, workload.cluster, workload.file) == ("Deployment", "a", "u-1", "c1", None)


def test_non_kubernetes_documents_are_ignored_or_reported():
    inventory = parse_k8s_documents([{"replicaCount": 2}, "text", None], "values.yaml")
    assert inventory.workloads == [] and inventory.objects == []
    assert [p.reason for p in inventory.problems] == ["document 2: not a Kubernetes object (a str)"]


def test_flow_style_yaml_starting_with_a_brace_is_not_json():
    text = '{apiVersion: v1, kind: Service, metadata: {name: s,}, spec: {selector: {app: a,},},}'
    [service] = parse_k8s_text(text, "svc.yaml").objects
    assert service.spec["selector"] == {"app": "a"}


def test_merge_inventories():
    first = parse_k8s_text(DEPLOYMENT, "a.yaml")
    second = parse_k8s_documents([{"kind": "Deployment", "metadata": {"name": "x"}, "spec": {}}], "b.yaml")
    merged = merge_inventories([first, second])
    assert [w.name for w in merged.workloads] == ["api"]
    assert len(merged.problems) == 1


# ------------------------------------------------ workload kinds (issue 8 item 3)

KINDS = """\
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly-report, namespace: payments}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        metadata: {labels: {app: report}}
        spec:
          containers: [{name: report, image: acme/report:1.0}]
---
apiVersion: batch/v1
kind: Job
metadata: {generateName: migrate-schema-}
spec:
  template:
    spec:
      containers: [{name: migrate, image: acme/migrate:1.0}]
---
apiVersion: v1
kind: Pod
metadata: {name: debug-shell, labels: {app: debug}}
spec:
  containers: [{name: shell, image: busybox}]
---
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: checkout}
spec:
  replicas: 4
  template:
    metadata: {labels: {app: checkout}}
    spec:
      containers: [{name: checkout, image: acme/checkout:3.1}]
---
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: cart}
spec:
  workloadRef: {apiVersion: apps/v1, kind: Deployment, name: cart}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: node-agent}
spec:
  template:
    spec:
      containers: [{name: agent, image: acme/agent:1}]
"""


def test_every_kind_with_a_pod_template_is_a_workload():
    inventory = parse_k8s_text(KINDS, "k8s/all.yaml")
    got = {(w.kind, w.name): w for w in inventory.workloads}
    assert set(got) == {
        ("CronJob", "nightly-report"), ("Job", "migrate-schema"), ("Pod", "debug-shell"),
        ("Rollout", "checkout"), ("DaemonSet", "node-agent"),
    }
    assert got[("CronJob", "nightly-report")].pod_labels == {"app": "report"}
    assert got[("Pod", "debug-shell")].pod_labels == {"app": "debug"}  # a bare Pod is its own template
    assert [c.image for c in got[("Rollout", "checkout")].containers] == ["acme/checkout:3.1"]
    # Replica counts only where the kind has one; a bare Pod is one replica.
    assert {k: w.replicas for k, w in got.items()} == {
        ("CronJob", "nightly-report"): None, ("Job", "migrate-schema"): None, ("Pod", "debug-shell"): 1,
        ("Rollout", "checkout"): 4, ("DaemonSet", "node-agent"): None,
    }
    # A Rollout that borrows a Deployment's template is not a second workload.
    assert [(o.kind, o.name, o.spec["workload_name"]) for o in inventory.objects] == [("Rollout", "cart", "cart")]
    assert inventory.problems == []


def test_objects_a_controller_owns_are_not_workloads():
    owned = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "api-7d9f-abc", "ownerReferences": [{"kind": "ReplicaSet", "name": "api-7d9f", "controller": True}]},
        "spec": {"containers": [{"name": "api", "image": "acme/api:1"}]},
    }
    job = {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "report-2891", "ownerReferences": [{"kind": "CronJob", "name": "report", "controller": True}]},
        "spec": {"template": {"spec": {"containers": [{"name": "r", "image": "acme/r:1"}]}}},
    }
    bare = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "one-off"},
            "spec": {"containers": [{"name": "x", "image": "acme/x:1"}]}}
    inventory = parse_k8s_documents([owned, job, bare], "cluster", cluster="prod")
    assert [w.name for w in inventory.workloads] == ["one-off"]


def test_kubernetes_defaulting_replicas_and_requests():
    manifest = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  template:
    spec:
      containers:
        - name: api
          image: acme/api:1
          resources:
            limits: {cpu: 500m, memory: 256Mi}
            requests: {memory: 128Mi}
"""
    [w] = parse_k8s_text(manifest, "d.yaml").workloads
    assert (w.replicas, w.replicas_defaulted) == (1, True)  # the API server's default
    [c] = w.containers
    # A limit without a request is the request too; an explicit request is kept.
    assert (c.cpu_request, c.memory_request) == ("500m", "128Mi")
    [explicit] = parse_k8s_text(DEPLOYMENT, "d.yaml").workloads
    assert (explicit.replicas, explicit.replicas_defaulted) == (3, False)


def test_gitops_objects_are_recorded_never_workloads():
    text = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: guestbook, namespace: argocd}
spec:
  project: default
  source: {repoURL: https://github.com/acme/apps.git, path: guestbook, targetRevision: HEAD}
  destination: {server: https://kubernetes.default.svc, namespace: guestbook}
  syncPolicy: {automated: {prune: true, selfHeal: true}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system}
spec:
  sourceRef: {kind: GitRepository, name: flux-system}
  path: ./apps/production
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: podinfo}
spec:
  chart: {spec: {chart: podinfo, version: "6.x", sourceRef: {kind: HelmRepository, name: podinfo}}}
---
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [deployment.yaml]
"""
    inventory = parse_k8s_text(text, "clusters/prod/apps.yaml")
    assert inventory.workloads == []
    objects = {o.kind: o.spec for o in inventory.objects}
    assert set(objects) == {"Application", "Kustomization", "HelmRelease"}  # not kustomize's own file
    assert objects["Application"]["path"] == "guestbook" and objects["Application"]["self_heal"] is True
    assert objects["Kustomization"]["path"] == "./apps/production"
    assert (objects["HelmRelease"]["chart"], objects["HelmRelease"]["version"]) == ("podinfo", "6.x")
