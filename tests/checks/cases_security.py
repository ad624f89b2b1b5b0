"""Outcome cases for the security checks (checks/security.py).

Run, with every other table, by test_check_outcomes.py.
"""

from __future__ import annotations

from dataclasses import replace

from checks.evidence import (
    ENV_PLACEHOLDER as PLACEHOLDER,
    ENV_SWITCH as SWITCH,
    ENV_TEXT as TEXT,
    Container,
)

from conftest import obj
from outcome_cases import (
    F, NA, NO_WORKLOADS, P, REPO_DOWN, U, Case, add_objects, app, chain, drop_objects, ev_, files, prod, same,
)  # fmt: skip

CASES = [
    Case("no_literal_secrets", P, "default", same),
    Case(
        "no_literal_secrets", F, "env-value", app(literal_env={"DB_PASSWORD": TEXT, "API_TOKEN": TEXT, "LOG_LEVEL": TEXT}),
        detail=("2 env vars with literal secret values", "payments-api/app DB_PASSWORD in prod-eu", "API_TOKEN"),
        remedy=("Rotate", "DB_PASSWORD, API_TOKEN"), snippet=("name: DB_PASSWORD", "secretKeyRef", "key: db-password"),
    ),
    Case(
        "no_literal_secrets", F, "only-in-git",
        lambda ev, ctx: (replace(ev, repo_workloads=[replace(ev.repo_workloads[0], containers=[Container("app", "a:1", True, True, literal_env={"STRIPE_API_KEY": TEXT})])]), ctx),
        detail=("STRIPE_API_KEY in chart/rendered.yaml",),
    ),
    Case("no_literal_secrets", F, "secret-key-pair", app(literal_env={"JWT_SIGNING_KEY": TEXT}), detail=("1 env var", "JWT_SIGNING_KEY")),
    # Settings about a secret, pointers to one, flags and placeholders are not secrets.
    Case(
        "no_literal_secrets", P, "settings-of-a-secret",
        app(literal_env={"TOKEN_EXPIRY_SECONDS": TEXT, "JWT_SECRET_ALGORITHM": TEXT, "PASSWORD_FILE": TEXT, "API_KEYS": TEXT}),
        detail=("no literal secret values",),
    ),
    Case("no_literal_secrets", P, "switch", app(literal_env={"MYSQL_ALLOW_EMPTY_PASSWORD": SWITCH, "MYSQL_RANDOM_ROOT_PASSWORD": SWITCH})),
    Case("no_literal_secrets", P, "placeholder", app(literal_env={"DB_PASSWORD": PLACEHOLDER})),
    Case("no_literal_secrets", P, "not-a-secret-name", app(literal_env={"STRIPE_KEY": TEXT, "PASSPORT_NUMBER": TEXT, "BYPASS": TEXT})),
    Case("no_literal_secrets", U, "no-workloads", NO_WORKLOADS),
    Case("uses_external_secrets", P, "default", same, detail=("payments-db",)),
    Case("uses_external_secrets", P, "vault", chain(drop_objects("ExternalSecret"), prod(annotations={"vault.hashicorp.com/agent-inject": "true"}))),
    Case("uses_external_secrets", F, "vault-disabled", chain(drop_objects("ExternalSecret"), prod(annotations={"vault.hashicorp.com/agent-inject": "false"}))),
    Case("uses_external_secrets", P, "default-target-name", chain(drop_objects("ExternalSecret"), add_objects(obj("ExternalSecret", "payments-db", {})))),
    Case(
        "uses_external_secrets", F, "hand-made-secret", drop_objects("ExternalSecret"),
        detail=("1 of 1 Secret is not produced by a secrets manager: payments-db",), remedy=("payments-db",),
        snippet=("kind: ExternalSecret", "name: payments-db", "namespace: payments"),
    ),
    Case("uses_external_secrets", NA, "no-secrets", app(secret_refs=[])),
    # Other secrets managers (checks/secret_managers.py): the detail names which one.
    Case(
        "uses_external_secrets", P, "vault-agent-no-secret-refs",
        chain(app(secret_refs=[]), prod(annotations={"vault.hashicorp.com/agent-inject": "true",
                                                     "vault.hashicorp.com/agent-inject-secret-db": "database/creds/payments"})),
        detail=("Vault Agent", "Vault Agent injects db"),
    ),
    Case(
        "uses_external_secrets", P, "csi-secret-provider-class",
        chain(drop_objects("ExternalSecret"), prod(csi_volumes=[("secrets-store.csi.k8s.io", "payments-vault")]),
              add_objects(obj("SecretProviderClass", "payments-vault", {"provider": "vault", "secret_objects": ["payments-db"]}))),
        detail=("Secrets Store CSI", "payments-db"),
    ),
    Case(
        "uses_external_secrets", F, "csi-class-not-mounted",
        chain(drop_objects("ExternalSecret"),
              add_objects(obj("SecretProviderClass", "payments-vault", {"provider": "vault", "secret_objects": ["payments-db"]}))),
    ),
    Case(
        "uses_external_secrets", P, "sealed-secret",
        chain(drop_objects("ExternalSecret"), add_objects(obj("SealedSecret", "sealed", {"target": "payments-db"}))),
        detail=("Sealed Secrets",),
    ),
    Case(
        "uses_external_secrets", P, "sops-encrypted-manifest",
        chain(drop_objects("ExternalSecret"), add_objects(
            obj("SopsEncryptedFile", "payments-db", {"sops_keys": ["lastmodified", "mac", "version"], "secret_kind": "Secret"},
                cluster=None, namespace=""), repo=True)),
        detail=("SOPS",),
    ),
    Case(
        "uses_external_secrets", F, "sops-block-without-mac",
        chain(drop_objects("ExternalSecret"), add_objects(
            obj("SopsEncryptedFile", "payments-db", {"sops_keys": ["version"], "secret_kind": "Secret"}, cluster=None, namespace=""),
            repo=True)),
    ),
    Case(
        "uses_external_secrets", U, "sops-config-only",
        chain(drop_objects("ExternalSecret"), add_objects(obj("SopsConfig", ".sops.yaml", {"creation_rules": 2}, cluster=None), repo=True)),
        detail=(".sops.yaml has creation_rules",),
    ),
    Case(
        "uses_external_secrets", U, "sealed-secrets-unreadable",
        chain(drop_objects("ExternalSecret"), ev_(cluster_unreadable={"SealedSecret": "prod-eu: forbidden (403)"})),
        detail=("SealedSecret (prod-eu: forbidden (403))",),
    ),
    Case("uses_external_secrets", U, "no-workloads", NO_WORKLOADS),
    Case("has_dependency_update_bot", P, "dependabot", same, detail=("dependabot configured",)),
    Case(
        "has_dependency_update_bot", P, "dependabot-yaml",
        files(drop=[".github/dependabot.yml"], add=[".github/dependabot.yaml"]), detail=("dependabot configured",),
    ),
    *(
        Case("has_dependency_update_bot", P, f"renovate-{name}", files(drop=[".github/dependabot.yml"], add=[name]), detail=("renovate configured",))
        for name in ("renovate.json", ".renovaterc", ".github/renovate.json5", ".gitlab/renovate.json")
    ),
    Case(
        "has_dependency_update_bot", F, "config-elsewhere",
        files(drop=[".github/dependabot.yml"], add=["services/x/renovate.json", "docs/dependabot.yml", ".github/workflows/renovate.yml"]),
        detail=("no Dependabot or Renovate configuration",),
    ),
    Case(
        "has_dependency_update_bot", F, "none", files(drop=[".github/dependabot.yml"]),
        detail=("no Dependabot or Renovate",),
        snippet=('package-ecosystem: "pip"', 'package-ecosystem: "github-actions"', 'package-ecosystem: "docker"', 'package-ecosystem: "terraform"'),
    ),
    Case("has_dependency_update_bot", U, "repo-down", REPO_DOWN),
    Case("has_security_policy", P, "root", same, detail=("SECURITY.md",)),
    Case("has_security_policy", P, "github-dir", files(drop=["SECURITY.md"], add=[".github/SECURITY.md"])),
    Case("has_security_policy", F, "none", files(drop=["SECURITY.md"]), detail=("no SECURITY.md",), snippet=("Reporting a vulnerability",)),
    Case("has_security_policy", F, "wrong-place", files(drop=["SECURITY.md"], add=["src/SECURITY.md"])),
    Case("has_security_policy", U, "repo-down", REPO_DOWN),
    Case("default_branch_protected", P, "protected", same),
    Case("default_branch_protected", F, "unprotected", ev_(branch_protected=False), detail=("not protected",), remedy=("payments",)),
    Case("default_branch_protected", U, "not-known", ev_(branch_protected=None, repo_source="github"), detail=("did not say",)),
    Case("default_branch_protected", NA, "local-clone", ev_(branch_protected=None, repo_source="local-git"), detail=("GitHub source",)),
    Case("runs_as_non_root", P, "default", same),
    Case("runs_as_non_root", P, "pod-level-user", chain(prod(pod_run_as_non_root=None, pod_run_as_user=1000), app(run_as_non_root=None, run_as_user=None))),
    Case(
        "runs_as_non_root", F, "unset", chain(prod(pod_run_as_non_root=None), app(run_as_non_root=None, run_as_user=None)),
        detail=("app (no runAsNonRoot / runAsUser)",), remedy=("app",), snippet=("runAsNonRoot: true",),
    ),
    Case("runs_as_non_root", F, "root-uid", app(run_as_user=0), detail=("runAsUser: 0",)),
    Case("runs_as_non_root", F, "container-overrides-pod", app(run_as_non_root=False, run_as_user=None), detail=("runAsNonRoot: false",)),
    Case("runs_as_non_root", U, "no-workloads", NO_WORKLOADS),
]
