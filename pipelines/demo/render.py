"""Render a planned repository's files from its current golden-path state.

Every function here is pure: state in, ``{path: text}`` out. The crawler
recognises exactly these conventions (catalog-info.yaml, CODEOWNERS,
.copier-answers.yml, service-ci.yml reusable workflow, acme-base-chart, the
acme terraform-modules, dependency manifests, k8s/ manifests).
"""

from __future__ import annotations

import json

from pipelines.demo import crossplane as demo_crossplane
from pipelines.demo import yamlout
from pipelines.demo.org import (
    CHART_RELEASES,
    ORG,
    Component,
    RepoPlan,
    RepoSettings,
)

CI_TARGET = f"{ORG}/platform-workflows/.github/workflows/service-ci.yml"
TF_SOURCE = f"git::https://github.com/{ORG}/terraform-modules.git"
TEMPLATE_SRC = f"gh:{ORG}/service-template"
_TF_MODULES = {"db": "rds", "queue": "sqs", "cache": "elasticache", "warehouse": "s3-bucket", "bucket": "s3"}


def _p(base: str, path: str) -> str:
    return f"{base}/{path}" if base else path


def repo_files(repo: RepoPlan) -> dict[str, str]:
    """Every generated (non-source) file of the repository in its current state."""
    s = repo.settings
    files: dict[str, str] = {}
    main = repo.components[0]
    if s.readme:
        files["README.md"] = _readme(repo)
    if s.codeowners:
        files[s.codeowners] = _codeowners(repo)
    if s.template:
        name, text = _template_answers(s, main, repo)
        files[name] = text
    if s.ci:
        files[".github/workflows/ci.yml"] = _broken_workflow(repo) if s.broken_ci else _workflow(repo)
    if repo.tag_style:
        files[".github/workflows/release.yml"] = _release_workflow(s)
    if s.dep_bot == "dependabot":
        files[".github/dependabot.yml"] = _dependabot(repo)
    elif s.dep_bot == "renovate":
        files["renovate.json"] = _renovate()
    if s.security_md:
        files["SECURITY.md"] = _security_md()
    if repo.role == "monorepo":
        files["catalog-info.yaml"] = _root_catalog(repo)
        files["package.json"] = (
            json.dumps({"name": repo.name, "private": True, "workspaces": ["services/*"]}, indent=2) + "\n"
        )
    for comp in repo.components:
        files.update(component_files(repo, comp))
    return files


def component_files(repo: RepoPlan, c: Component) -> dict[str, str]:
    files: dict[str, str] = {}
    base = c.path
    if c.catalog == "own":
        files[_p(base, "catalog-info.yaml")] = yamlout.dump(catalog_entity(repo, c))
    elif c.catalog == "broken":
        files[_p(base, "catalog-info.yaml")] = _broken_catalog(repo, c)
    if repo.role == "monorepo":
        files[_p(base, "README.md")] = f"# {c.name}\n\n{c.description}.\n\nOwned by the {c.team} team.\n"
    files.update({_p(base, k): v for k, v in _dependency_files(repo, c).items()})
    if c.type == "library":
        return files
    files[_p(base, "Dockerfile")] = _dockerfile(c)
    if c.chart == "custom":
        files[_p(base, "chart/Chart.yaml")] = _chart(c, None)
    elif c.chart:
        files[_p(base, "chart/Chart.yaml")] = _chart(c, c.chart)
        files[_p(base, "chart/values.yaml")] = _chart_values(c)
    if c.terraform:
        files.update({_p(base, k): v for k, v in _terraform(c).items()})
    if c.runbook:
        files[_p(base, "docs/runbook.md")] = _runbook(c)
    if c.dashboard:
        files[_p(base, f"dashboards/{c.name}.json")] = _dashboard(c)
    if c.alerts:
        files[_p(base, f"alerts/{c.name}.rules.yaml")] = yamlout.dump(_prometheus_rule(c))
    if c.slo:
        files[_p(base, "slo.yaml")] = yamlout.dump(_slo(c))
    if c.manifests:
        image = f"ghcr.io/{ORG}/{c.name}:{'latest' if c.latest_image else '1.0.0'}"
        for kind, doc in k8s_objects(c, image).items():
            files[_p(base, f"k8s/{kind}.yaml")] = yamlout.dump(doc)
    files.update(demo_crossplane.component_files(c, base))
    return files


# ------------------------------------------------------------------ catalog


def catalog_entity(repo: RepoPlan, c: Component, *, source_location: bool = False) -> dict:
    annotations = {"github.com/project-slug": f"{ORG}/{repo.name}"}
    if c.type != "library":
        annotations["backstage.io/kubernetes-id"] = c.name
    if c.pagerduty:
        annotations["pagerduty.com/service-id"] = c.pagerduty_id
    if source_location:
        annotations["backstage.io/source-location"] = (
            f"url:https://github.com/{ORG}/{repo.name}/tree/{repo.branch}/{c.path}/"
        )
    annotations["backstage.io/techdocs-ref"] = "dir:."
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {
            "name": c.name,
            "description": c.description,
            "annotations": annotations,
            "tags": [c.language.split("-")[0]],
        },
        "spec": {
            "type": c.type,
            "lifecycle": c.lifecycle,
            "owner": c.team if c.owner_ref == "plain" else f"group:default/{c.team}",
            "system": c.system,
        },
    }


def _root_catalog(repo: RepoPlan) -> str:
    docs: list[dict] = [
        {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "System",
            "metadata": {"name": "commerce", "description": "Storefront, cart, pricing and promotions"},
            "spec": {"owner": repo.team},
        }
    ]
    docs += [catalog_entity(repo, c, source_location=True) for c in repo.components if c.catalog == "root"]
    return yamlout.dump_all(docs)


def _broken_catalog(repo: RepoPlan, c: Component) -> str:
    # A hand edit with one key indented by three spaces: the file no longer parses.
    return (
        "apiVersion: backstage.io/v1alpha1\n"
        "kind: Component\n"
        "metadata:\n"
        f"  name: {c.name}\n"
        f"  description: {c.description}\n"
        "  annotations:\n"
        f"    github.com/project-slug: {ORG}/{repo.name}\n"
        f"   backstage.io/kubernetes-id: {c.name}\n"
        "spec:\n"
        "  type: service\n"
        f"  lifecycle: {c.lifecycle}\n"
        f"  owner: {c.team}\n"
    )


# --------------------------------------------------------------- repo files


def _readme(repo: RepoPlan) -> str:
    c = repo.components[0]
    if repo.role == "archived":
        return (
            f"# {repo.name}\n\n> **Archived.** No longer maintained: new services start from "
            f"`{TEMPLATE_SRC}` instead.\n\n{c.description}.\n"
        )
    if repo.role == "monorepo":
        lines = [f"# {repo.name}\n", "The commerce monorepo. Services:\n"]
        lines += [f"- [`{x.name}`]({x.path}/): {x.description} ({x.team})" for x in repo.components]
        return "\n".join(lines) + "\n"
    return (
        f"# {repo.name}\n\n{c.description}.\n\n"
        f"Owned by **{c.team}**. Ask in `#team-{c.team}`.\n\n"
        "## Develop\n\n```sh\nmake dev\nmake test\n```\n"
    )


def _codeowners(repo: RepoPlan) -> str:
    s = repo.settings
    handle = s.owner_handle or f"@{ORG}/{repo.team}"
    lines = [f"# Code owners of {repo.name}. The last matching rule wins.", f"* {handle}"]
    if repo.role == "monorepo":
        lines += [f"/{c.path}/ @{ORG}/{c.team}" for c in repo.components]
        lines.append(f"/.github/ {handle} @{ORG}/infra-tools")
    elif any(c.terraform for c in repo.components):
        lines.append(f"/terraform/ {handle}")
    return "\n".join(lines) + "\n"


def _template_answers(s: RepoSettings, c: Component, repo: RepoPlan) -> tuple[str, str]:
    tool, version = s.template
    lang = c.language.split("-")[0]
    if tool == "copier":
        return ".copier-answers.yml", (
            "# Changes here will be overwritten by Copier; NEVER EDIT MANUALLY\n"
            f"_commit: {version}\n"
            f"_src_path: {TEMPLATE_SRC}\n"
            f"language: {lang}\n"
            f"service_name: {c.name}\n"
            f"team: {c.team}\n"
            f"with_helm_chart: {'true' if c.chart else 'false'}\n"
            f"with_terraform: {'true' if c.terraform else 'false'}\n"
        )
    if tool == "cookiecutter-replay":
        # cookiecutter's own replay file, committed to the repo.
        context = {
            "service_name": c.name,
            "team": c.team,
            "language": lang,
            "_template": TEMPLATE_SRC,
            "_checkout": version,
        }
        return ".cookiecutter_replay/service-template.json", json.dumps({"cookiecutter": context}, indent=2) + "\n"
    return ".cookiecutter.json", json.dumps(
        {
            "_template": TEMPLATE_SRC,
            "_checkout": version,
            "service_name": c.name,
            "team": c.team,
            "language": lang,
        },
        indent=2,
    ) + "\n"


def _workflow(repo: RepoPlan) -> str:
    kind, ref = repo.settings.ci
    branch = repo.branch
    head = f"name: ci\n\non:\n  push:\n    branches: [{branch}]\n  pull_request:\n\n"
    if kind == "handrolled":
        lang = repo.components[0].language.split("-")[0]
        setup = {
            "python": '      - uses: actions/setup-python@v5\n        with:\n          python-version: "3.12"\n'
            "      - run: pip install -r requirements.txt\n      - run: pytest\n",
            "node": "      - uses: actions/setup-node@v4\n        with:\n          node-version: 20\n"
            "      - run: npm ci\n      - run: npm test\n",
            "go": '      - uses: actions/setup-go@v5\n        with:\n          go-version: "1.22"\n'
            "      - run: go test ./...\n",
        }[lang]
        return (
            head + "jobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n"
            "      - uses: actions/checkout@v4\n"
            + setup
            + "  docker:\n    needs: test\n    runs-on: ubuntu-latest\n    steps:\n"
            "      - uses: actions/checkout@v4\n      - run: docker build -t app .\n"
        )
    jobs = "jobs:\n"
    for c in repo.components:
        job = "ci" if len(repo.components) == 1 else f"ci-{c.name}"
        jobs += (
            f"  {job}:\n    uses: {CI_TARGET}@{ref}\n    with:\n      service: {c.name}\n"
            f"      language: {c.language.split('-')[0]}\n"
        )
        if c.path:
            jobs += f"      working-directory: {c.path}\n"
        jobs += "    secrets: inherit\n"
        if c.deploys == "events":
            jobs += (
                f"  deploy-{c.name}:\n    needs: {job}\n    if: github.event_name == 'push'\n"
                f"    uses: {ORG}/platform-workflows/.github/workflows/deploy.yml@{ref}\n"
                f"    with:\n      service: {c.name}\n      environment: production\n    secrets: inherit\n"
            )
    return head + jobs


def _release_workflow(s: RepoSettings) -> str:
    ref = s.ci[1] if s.ci and s.ci[0] == "shared" else "v4"
    return (
        'name: release\n\non:\n  push:\n    tags: ["v*.*.*"]\n\njobs:\n  release:\n'
        f"    uses: {ORG}/platform-workflows/.github/workflows/release.yml@{ref}\n    secrets: inherit\n"
    )


def _broken_workflow(repo: RepoPlan) -> str:
    # `steps:` indented one space too far: GitHub rejects it, so must the crawler.
    return (
        'name: nightly\n\non:\n  schedule:\n    - cron: "0 2 * * *"\n  push:\n'
        f"    branches: [{repo.branch}]\n\njobs:\n  report:\n    runs-on: ubuntu-latest\n"
        "     steps:\n      - uses: actions/checkout@v4\n      - run: python -m reports.nightly\n"
    )


def _dependabot(repo: RepoPlan) -> str:
    eco = {"python": "pip", "node": "npm", "go": "gomod"}
    out = "version: 2\nupdates:\n"
    for c in repo.components:
        out += (
            f'  - package-ecosystem: {eco[c.language.split("-")[0]]}\n    directory: "/{c.path}"\n'
            "    schedule:\n      interval: weekly\n"
        )
    out += '  - package-ecosystem: github-actions\n    directory: "/"\n    schedule:\n      interval: weekly\n'
    return out


def _renovate() -> str:
    return (
        json.dumps(
            {
                "$schema": "https://docs.renovatebot.com/renovate-schema.json",
                "extends": ["config:recommended", f"github>{ORG}/renovate-config"],
                "labels": ["dependencies"],
            },
            indent=2,
        )
        + "\n"
    )


def _security_md() -> str:
    return (
        "# Security policy\n\nReport vulnerabilities to security@acme.example or in `#security`.\n"
        "Do not open public issues for security problems.\n"
    )


# ---------------------------------------------------------- component files


_PY_DEPS = [
    "fastapi==0.115.2",
    "uvicorn[standard]==0.30.6",
    "sqlalchemy==2.0.35",
    "httpx==0.27.2",
    "prometheus-client==0.21.0",
]
_PY_OTEL = [
    "opentelemetry-sdk==1.27.0",
    "opentelemetry-instrumentation-fastapi==0.48b0",
    "opentelemetry-exporter-otlp==1.27.0",
]


def _dependency_files(repo: RepoPlan, c: Component) -> dict[str, str]:
    lang = c.language
    if lang in ("python", "python-pyproject"):
        deps = list(_PY_DEPS)
        if c.structured_logging:
            deps.append("structlog==24.4.0")
        if c.otel:
            deps += _PY_OTEL
        if c.type == "library":
            deps = [
                "pydantic>=2.8",
                "httpx>=0.27",
                "structlog>=24.1",
                "opentelemetry-api>=1.27",
                "opentelemetry-sdk>=1.27",
            ]
        if lang == "python":
            return {"requirements.txt": "\n".join(deps) + "\n"}
        dep_lines = "".join(f'    "{d}",\n' for d in deps)
        return {
            "pyproject.toml": (
                f'[project]\nname = "{c.name}"\nversion = "1.0.0"\nrequires-python = ">=3.11"\n'
                f'dependencies = [\n{dep_lines}]\n\n[dependency-groups]\ndev = ["pytest>=8", "ruff>=0.6"]\n'
            )
        }
    if lang == "node":
        deps = {"fastify": "^4.28.1", "pg": "^8.12.0", "prom-client": "^15.1.3"}
        if c.structured_logging:
            deps["pino"] = "^9.4.0"
        else:
            deps["winston"] = "^2.4.7"
        if c.otel:
            deps["@opentelemetry/sdk-node"] = "^0.53.0"
            deps["@opentelemetry/auto-instrumentations-node"] = "^0.50.0"
        pkg = {
            "name": f"@{ORG}/{c.name}",
            "version": "1.0.0",
            "private": True,
            "scripts": {"start": "node src/server.js", "test": "jest"},
            "dependencies": dict(sorted(deps.items())),
            "devDependencies": {"jest": "^29.7.0"},
        }
        return {"package.json": json.dumps(pkg, indent=2) + "\n"}
    module = f"github.com/{ORG}/{repo.name}" + (f"/{c.path}" if c.path else "")
    reqs = ["github.com/go-chi/chi/v5 v5.1.0", "github.com/prometheus/client_golang v1.20.4"]
    if c.structured_logging:
        reqs.append("go.uber.org/zap v1.27.0")
    if c.otel:
        reqs += [
            "go.opentelemetry.io/otel v1.30.0",
            "go.opentelemetry.io/otel/sdk v1.30.0",
            "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp v0.55.0",
        ]
    body = "".join(f"\t{r}\n" for r in sorted(reqs))
    return {"go.mod": f"module {module}\n\ngo 1.22\n\nrequire (\n{body})\n"}


def source_path(c: Component, thing: str) -> str:
    lang = c.language.split("-")[0]
    if lang == "python":
        rel = f"src/{c.name.replace('-', '_')}/{thing.replace('-', '_')}.py"
    elif lang == "node":
        rel = f"src/{thing}.js"
    else:
        rel = f"internal/{thing.replace('-', '')}/{thing.replace('-', '')}.go"
    return _p(c.path, rel)


def source_text(c: Component, thing: str, numbers: list[int]) -> str:
    """A small source module: the handlers added by the most recent commits touching `thing`."""
    lang = c.language.split("-")[0]
    ident = thing.replace("-", "_")
    if lang == "python":
        head = f'"""{thing} handlers of {c.name}."""\n\nfrom fastapi import APIRouter\n\nrouter = APIRouter()\n'
        body = "".join(
            f'\n\n@router.get("/{thing}/{n}")\ndef {ident}_{n}() -> dict:\n    return {{"ok": True}}\n' for n in numbers
        )
    elif lang == "node":
        head = f"// {thing} routes of {c.name}.\n'use strict';\n"
        body = "".join(f"\nexports.{ident}{n} = (req, reply) => reply.send({{ ok: true }});\n" for n in numbers)
    else:
        pkg = thing.replace("-", "")
        camel = "".join(p.title() for p in thing.split("-"))
        head = f'// Package {pkg} holds the {thing} handlers of {c.name}.\npackage {pkg}\n\nimport "net/http"\n'
        body = "".join(
            f"\nfunc {camel}{n}(w http.ResponseWriter, r *http.Request) {{ w.WriteHeader(http.StatusOK) }}\n"
            for n in numbers
        )
    return head + body


def _dockerfile(c: Component) -> str:
    lang = c.language.split("-")[0]
    base = {"python": "python:3.12-slim", "node": "node:20-slim", "go": "gcr.io/distroless/static-debian12"}[lang]
    user = "USER 10001\n" if c.non_root else ""
    return f"FROM {base}\nWORKDIR /app\nCOPY . .\n{user}EXPOSE {c.port}\n"


def _chart(c: Component, base_version: str | None) -> str:
    text = f"apiVersion: v2\nname: {c.name}\ndescription: {c.description}\ntype: application\n"
    if base_version is None:
        return text + 'version: 0.1.7\nappVersion: "1.0.0"\n'
    minor = CHART_RELEASES.index(base_version) + 3 if base_version in CHART_RELEASES else 1
    return text + (
        f'version: 0.{minor}.0\nappVersion: "1.0.0"\ndependencies:\n  - name: acme-base-chart\n'
        f"    version: {base_version}\n    repository: oci://ghcr.io/{ORG}/charts\n"
    )


def _chart_values(c: Component) -> str:
    return yamlout.dump(
        {
            "acme-base-chart": {
                "image": {"repository": f"ghcr.io/{ORG}/{c.name}"},
                "replicas": c.replicas,
                "port": c.port,
                "podDisruptionBudget": {"enabled": c.pdb},
                "serviceMonitor": {"enabled": c.servicemonitor},
            }
        }
    )


def _terraform(c: Component) -> dict[str, str]:
    files: dict[str, str] = {}
    blocks = ['terraform {\n  required_version = ">= 1.5"\n}\n']
    for name, style, ref in c.terraform:
        sub = _TF_MODULES.get(name, name)
        if style == "standard":
            src, extra = f"{TF_SOURCE}//{sub}?ref={ref}", ""
        elif style == "unpinned":
            src, extra = f"{TF_SOURCE}//{sub}", ""
        elif style == "community":
            src, extra = f"terraform-aws-modules/{sub}/aws", f'  version = "{ref}"\n'
        else:
            src, extra = f"./modules/{name}", ""
            files[f"terraform/modules/{name}/main.tf"] = (
                'variable "name" {\n  type = string\n}\n\nresource "aws_s3_bucket" "this" {\n  bucket = var.name\n}\n'
            )
        blocks.append(f'module "{name}" {{\n  source = "{src}"\n{extra}\n  name = "{c.name}-{name}"\n}}\n')
    files["terraform/main.tf"] = "\n".join(blocks)
    return files


def _runbook(c: Component) -> str:
    return (
        f"# {c.name} runbook\n\n## Alerts\n\n- `{c.name}HighErrorRate`: check the dashboard, "
        f"roll back with `deploy-bot rollback {c.name}`.\n\n## Escalation\n\nPage the {c.team} on-call.\n"
    )


def _dashboard(c: Component) -> str:
    return (
        json.dumps(
            {
                "title": f"{c.name} overview",
                "uid": c.name[:40],
                "schemaVersion": 39,
                "tags": [c.team, "service"],
                "panels": [
                    {
                        "type": "timeseries",
                        "title": "Requests",
                        "targets": [{"expr": f'sum(rate(http_requests_total{{service="{c.name}"}}[5m]))'}],
                    },
                    {
                        "type": "timeseries",
                        "title": "Errors",
                        "targets": [{"expr": f'sum(rate(http_requests_total{{service="{c.name}",code=~"5.."}}[5m]))'}],
                    },
                ],
            },
            indent=2,
        )
        + "\n"
    )


def _prometheus_rule(c: Component) -> dict:
    camel = "".join(p.title() for p in c.name.split("-"))
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": f"{c.name}-alerts", "labels": {"team": c.team}},
        "spec": {
            "groups": [
                {
                    "name": c.name,
                    "rules": [
                        {
                            "alert": f"{camel}HighErrorRate",
                            "expr": (
                                f'sum(rate(http_requests_total{{service="{c.name}",code=~"5.."}}[5m])) / '
                                f'sum(rate(http_requests_total{{service="{c.name}"}}[5m])) > 0.05'
                            ),
                            "for": "10m",
                            "labels": {"severity": "page"},
                            "annotations": {
                                "runbook_url": f"https://github.com/{ORG}/{c.name}/blob/main/docs/runbook.md"
                            },
                        }
                    ],
                }
            ]
        },
    }


def _slo(c: Component) -> dict:
    total = f'service="{c.name}"'
    errors = f'{total},code=~"5.."'
    return {
        "apiVersion": "sloth.slok.dev/v1",
        "kind": "PrometheusServiceLevel",
        "metadata": {"name": c.name},
        "spec": {
            "service": c.name,
            "labels": {"owner": c.team},
            "slos": [
                {
                    "name": "requests-availability",
                    "objective": 99.9,
                    "sli": {
                        "events": {
                            # `{{.window}}` is sloth's own placeholder, written literally.
                            "errorQuery": f"sum(rate(http_requests_total{{{errors}}}[{{{{.window}}}}]))",
                            "totalQuery": f"sum(rate(http_requests_total{{{total}}}[{{{{.window}}}}]))",
                        }
                    },
                    "alerting": {"name": f"{c.name}-availability", "pageAlert": {"disable": False}},
                }
            ],
        },
    }


# -------------------------------------------------------------- kubernetes


def workload_labels(c: Component) -> dict[str, str]:
    if c.label_style == "backstage":
        return {
            "app.kubernetes.io/name": c.name,
            "backstage.io/kubernetes-id": c.name,
            "app.kubernetes.io/part-of": c.system,
        }
    if c.label_style == "k8s-name":
        return {"app.kubernetes.io/name": c.name}
    return {"app": c.name}


def selector(c: Component) -> dict[str, str]:
    return {"app": c.name} if c.label_style == "app" else {"app.kubernetes.io/name": c.name}


def k8s_objects(c: Component, image: str) -> dict[str, dict]:
    """The service's Kubernetes objects by file stem, as the repo keeps them."""
    labels = workload_labels(c)
    sel = selector(c)
    env: list[dict] = [{"name": "LOG_LEVEL", "value": "info"}, {"name": "PORT", "value": str(c.port)}]
    if c.otel:
        env.append({"name": "OTEL_EXPORTER_OTLP_ENDPOINT", "value": "http://otel-collector.observability:4317"})
    if c.literal_secret:
        env.append({"name": "DATABASE_PASSWORD", "value": "changeme-prod-2023"})
        if c.language == "node":
            env.append({"name": "JWT_SECRET", "value": "dev-secret-do-not-use"})
    container: dict = {
        "name": c.name if len(c.name) <= 63 else "app",
        "image": image,
        "ports": [{"name": "http", "containerPort": c.port}],
        "env": env,
    }
    if c.externalsecret:
        container["envFrom"] = [{"secretRef": {"name": f"{c.name}-secrets"}}]
    if c.readiness:
        container["readinessProbe"] = {"httpGet": {"path": "/ready", "port": "http"}, "periodSeconds": 10}
    if c.liveness:
        container["livenessProbe"] = {"httpGet": {"path": "/healthz", "port": "http"}, "initialDelaySeconds": 10}
    resources: dict = {}
    if c.requests:
        resources["requests"] = {"cpu": "100m", "memory": "256Mi"}
    if c.limits:
        resources["limits"] = {"cpu": "1", "memory": "512Mi"}
    if resources:
        container["resources"] = resources
    if c.non_root:
        container["securityContext"] = {
            "runAsNonRoot": True,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
        }
    pod_meta: dict = {"labels": {**labels, **sel}}
    if c.scrape_annotation:
        pod_meta["annotations"] = {"prometheus.io/scrape": "true", "prometheus.io/port": str(c.port)}
    pod_spec: dict = {"containers": [container]}
    if c.non_root:
        pod_spec["securityContext"] = {"runAsNonRoot": True, "runAsUser": 10001}
    spec: dict = {
        "replicas": c.replicas,
        "selector": {"matchLabels": sel},
        "template": {"metadata": pod_meta, "spec": pod_spec},
    }
    if c.workload_kind == "StatefulSet":
        spec = {"serviceName": c.name, **spec}
    objs: dict[str, dict] = {
        c.workload_kind.lower(): {
            "apiVersion": "apps/v1",
            "kind": c.workload_kind,
            "metadata": {"name": c.name, "labels": labels},
            "spec": spec,
        },
        "service": {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": c.name, "labels": labels},
            "spec": {"selector": sel, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]},
        },
    }
    if c.pdb:
        objs["pdb"] = {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": c.name, "labels": labels},
            "spec": {"minAvailable": 1, "selector": {"matchLabels": sel}},
        }
    if c.hpa:
        objs["hpa"] = {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": c.name, "labels": labels},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": c.workload_kind, "name": c.name},
                "minReplicas": max(c.replicas, 2),
                "maxReplicas": max(c.replicas, 2) * 3,
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
                    }
                ],
            },
        }
    if c.servicemonitor:
        objs["servicemonitor"] = {
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "ServiceMonitor",
            "metadata": {"name": c.name, "labels": labels},
            "spec": {
                "selector": {"matchLabels": sel},
                "endpoints": [{"port": "http", "path": "/metrics", "interval": "30s"}],
            },
        }
    if c.externalsecret:
        objs["externalsecret"] = {
            "apiVersion": "external-secrets.io/v1beta1",
            "kind": "ExternalSecret",
            "metadata": {"name": c.name, "labels": labels},
            "spec": {
                "refreshInterval": "1h",
                "secretStoreRef": {"kind": "ClusterSecretStore", "name": "vault"},
                "target": {"name": f"{c.name}-secrets"},
                "dataFrom": [{"extract": {"key": f"{c.team}/{c.name}"}}],
            },
        }
    return demo_crossplane.decorate(c, objs)
