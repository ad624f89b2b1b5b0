"""Crossplane objects and secrets-manager facts in manifests (pipelines/parsers/crossplane.py,
secret_objects.py): what each object says, and what is never mistaken for a claim."""

from __future__ import annotations

from pipelines.parsers import parse_k8s_text

XRD_V1 = """
apiVersion: apiextensions.crossplane.io/v1
kind: CompositeResourceDefinition
metadata:
  name: xpostgresqlinstances.platform.acme.io
spec:
  group: platform.acme.io
  names: {kind: XPostgreSQLInstance, plural: xpostgresqlinstances}
  claimNames: {kind: PostgreSQLInstance, plural: postgresqlinstances}
  defaultCompositionRef: {name: postgres-aws}
  versions:
    - {name: v1alpha1, served: false, referenceable: false}
    - {name: v1beta1, served: true, referenceable: true}
"""
COMPOSITION = """
apiVersion: apiextensions.crossplane.io/v1
kind: Composition
metadata:
  name: postgres-aws
  labels: {platform.acme.io/published: "true"}
spec:
  compositeTypeRef: {apiVersion: platform.acme.io/v1beta1, kind: XPostgreSQLInstance}
  mode: Pipeline
  pipeline: []
"""
REVISION = """
apiVersion: apiextensions.crossplane.io/v1
kind: CompositionRevision
metadata:
  name: postgres-aws-8f2c1a7
  labels: {crossplane.io/composition-name: postgres-aws, crossplane.io/composition-hash: 8f2c1a7}
spec:
  revision: 3
  compositeTypeRef: {apiVersion: platform.acme.io/v1beta1, kind: XPostgreSQLInstance}
"""


def objects(text: str, file: str = "deploy/x.yaml"):
    inventory = parse_k8s_text(text, file)
    assert inventory.problems == []
    return inventory


def test_xrd_composition_and_revision_are_read():
    inv = objects(f"{XRD_V1}---{COMPOSITION}---{REVISION}")
    xrd, comp, rev = inv.objects
    assert xrd.spec["crossplane"] == "xrd" and xrd.spec["group"] == "platform.acme.io"
    assert (xrd.spec["kind"], xrd.spec["claim_kind"], xrd.spec["claim_plural"]) == (
        "XPostgreSQLInstance", "PostgreSQLInstance", "postgresqlinstances")
    assert xrd.spec["versions"] == ["v1beta1"]  # v1alpha1 is no longer served
    assert xrd.spec["default_composition"] == "postgres-aws"
    assert comp.spec["crossplane"] == "composition" and comp.spec["composite_kind"] == "XPostgreSQLInstance"
    assert comp.labels == {"platform.acme.io/published": "true"}
    assert (rev.spec["crossplane"], rev.spec["composition"], rev.spec["revision"]) == ("revision", "postgres-aws", 3)
    assert inv.workloads == [] and inv.custom_objects == []


def test_a_v1_claim_by_its_shape():
    inv = objects("""
apiVersion: platform.acme.io/v1beta1
kind: PostgreSQLInstance
metadata: {name: payments-db, namespace: payments}
spec:
  parameters: {storageGB: 20}
  compositionSelector:
    matchLabels: {provider: aws}
  compositionRevisionRef: {name: postgres-aws-8f2c1a7}
  compositionUpdatePolicy: Manual
  writeConnectionSecretToRef: {name: payments-db-conn}
""")
    (claim,) = inv.objects
    assert claim.spec["crossplane"] == "claim"
    assert claim.spec["selector"] == {"provider": "aws"} and claim.spec["composition"] is None
    assert (claim.spec["revision"], claim.spec["update_policy"]) == ("postgres-aws-8f2c1a7", "Manual")


def test_a_v2_composite_by_its_shape():
    inv = objects("""
apiVersion: platform.acme.io/v1
kind: App
metadata: {name: checkout, namespace: shop}
spec:
  image: nginx
  crossplane:
    compositionRef: {name: app-aws}
    compositionUpdatePolicy: Automatic
""")
    (xr,) = inv.objects
    assert xr.spec["crossplane"] == "v2" and xr.spec["composition"] == "app-aws"


def test_the_composite_crossplane_made_for_a_claim_is_marked_as_the_claims():
    inv = objects("""
apiVersion: platform.acme.io/v1beta1
kind: XPostgreSQLInstance
metadata: {name: payments-db-x7k2p}
spec:
  claimRef: {apiVersion: platform.acme.io/v1beta1, kind: PostgreSQLInstance, name: payments-db, namespace: payments}
  compositionRef: {name: postgres-aws}
  resourceRefs: []
""")
    assert inv.objects[0].spec["crossplane"] == "composite-of-claim"


def test_a_claim_with_only_parameters_is_a_candidate_and_a_crossplane_bucket_is_not_flux():
    inv = objects("""
apiVersion: platform.acme.io/v1beta1
kind: PostgreSQLInstance
metadata: {name: payments-db}
spec: {parameters: {storageGB: 20}}
---
apiVersion: storage.acme.io/v1
kind: Bucket
metadata: {name: uploads}
spec: {parameters: {region: eu-west-1}}
""")
    assert inv.objects == []
    assert [(o.kind, o.spec["crossplane"]) for o in inv.custom_objects] == [("PostgreSQLInstance", None), ("Bucket", None)]


def test_kubernetes_own_groups_are_never_candidates():
    inv = objects("""
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec: {rules: []}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web}
spec: {parentRefs: []}
---
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [a.yaml]
---
apiVersion: pkg.crossplane.io/v1
kind: Provider
metadata: {name: provider-aws}
spec: {package: xpkg.upbound.io/upbound/provider-aws-s3:v1}
""")
    assert inv.objects == [] and inv.custom_objects == []


def test_a_malformed_xrd_is_a_problem_naming_it():
    inv = parse_k8s_text("""
apiVersion: apiextensions.crossplane.io/v1
kind: CompositeResourceDefinition
metadata: {name: broken}
spec: [not, a, mapping]
""", "x.yaml")
    assert inv.objects == []
    assert [p.reason for p in inv.problems] == ["CompositeResourceDefinition broken: spec must be a mapping, not a list"]


def test_secret_manager_objects():
    inv = objects("""
apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata: {name: payments-vault, namespace: payments}
spec:
  provider: vault
  secretObjects:
    - {secretName: payments-db, type: Opaque, data: [{objectName: password, key: password}]}
---
apiVersion: bitnami.com/v1alpha1
kind: SealedSecret
metadata: {name: sealed-api-key, namespace: payments}
spec:
  encryptedData: {key: AgBy3i4OJSWK+PiTySYZZA==}
  template:
    metadata: {name: payments-api-key}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  template:
    spec:
      containers: [{name: app, image: api:1}]
      volumes:
        - name: secrets
          csi:
            driver: secrets-store.csi.k8s.io
            readOnly: true
            volumeAttributes: {secretProviderClass: payments-vault}
        - name: cache
          emptyDir: {}
""")
    spc, sealed = inv.objects
    assert spc.spec["provider"] == "vault" and spc.spec["secret_objects"] == ["payments-db"]
    assert sealed.spec["target"] == "payments-api-key"
    assert inv.workloads[0].csi_volumes == [("secrets-store.csi.k8s.io", "payments-vault")]


def test_sops_files_are_recorded_without_their_content():
    inv = objects("""
apiVersion: v1
kind: Secret
metadata: {name: payments-db, namespace: payments}
type: Opaque
stringData:
  password: ENC[AES256_GCM,data:Zm9v,iv:YmFy,tag:YmF6,type:str]
sops:
  kms: []
  age:
    - recipient: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p
      enc: ENC
  lastmodified: "2026-11-20T10:00:00Z"
  mac: ENC[AES256_GCM,data:bWFj,iv:aXY=,tag:dGFn,type:str]
  version: 3.9.0
""", "secrets/payments-db.enc.yaml")
    (sops,) = inv.objects
    assert (sops.kind, sops.name) == ("SopsEncryptedFile", "payments-db")
    assert {"mac", "lastmodified"} <= set(sops.spec["sops_keys"]) and sops.spec["encrypted_values"] == 1
    assert "Zm9v" not in repr(inv)  # the ciphertext is never kept


def test_a_fully_encrypted_file_and_a_sops_config():
    inv = objects("""
kind: ENC[AES256_GCM,data:U2VjcmV0,iv:a,tag:b,type:str]
data: {password: "ENC[AES256_GCM,data:eA==,iv:a,tag:b,type:str]"}
sops: {mac: "ENC[AES256_GCM,data:bQ==,iv:a,tag:b,type:str]", lastmodified: "2026-11-20T10:00:00Z"}
""", "deploy/secret.yaml")
    assert inv.objects[0].spec["secret_kind"] is None and inv.objects[0].name == "secret.yaml"
    config = objects("creation_rules:\n  - path_regex: .*\\.enc\\.yaml$\n    age: age1xyz\n", ".sops.yaml")
    assert [(o.kind, o.spec) for o in config.objects] == [("SopsConfig", {"creation_rules": 1})]
    # The same keys anywhere else are just YAML.
    assert objects("creation_rules: []\n", "config/app.yaml").objects == []
