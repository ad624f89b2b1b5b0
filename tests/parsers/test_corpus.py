"""Every real-world file in the shared corpus parses or fails with a ParseError, never a crash.

The corpus (``<repo>/../shared/corpus``) holds 182 files copied byte for byte
from public repositories; INDEX.tsv notes the trap each one sets. The specific
assertions below pin the behaviour those notes call out.
"""

from __future__ import annotations

import csv
import posixpath
from pathlib import Path

import pytest

from pipelines import parsers
from pipelines.parsers import ParseError


def _find_corpus() -> Path | None:
    here = Path(__file__).resolve()
    for ancestor in here.parents:
        candidate = ancestor.parent / "shared" / "corpus"
        if (candidate / "INDEX.tsv").is_file():
            return candidate
    return None


CORPUS = _find_corpus()


def _index() -> list[dict[str, str]]:
    if CORPUS is None:
        return []
    with (CORPUS / "INDEX.tsv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


ROWS = _index()
pytestmark = pytest.mark.skipif(CORPUS is None, reason="shared corpus not present next to the repository")


def _text(category: str, name: str) -> str:
    assert CORPUS is not None
    return (CORPUS / category / name).read_bytes().decode("utf-8-sig")


def parse(category: str, name: str, path: str):
    """Route one corpus file to the parser the crawler would use for it."""
    text = _text(category, name)
    base = posixpath.basename(path)
    if category == "catalog-info":
        return parsers.parse_catalog(text, path)
    if category == "codeowners":
        return parsers.parse_codeowners(text, path)
    if category == "copier-cookiecutter":
        return parsers.parse_template_file(text, path)
    if category == "workflows":
        return parsers.parse_workflow(text, path)
    if category == "helm-chart":
        return parsers.parse_requirements(text, path) if base == "requirements.yaml" else parsers.parse_chart(text, path)
    if category == "terraform":
        return parsers.parse_terraform(text, path)
    if category == "dependency-manifests":
        return parsers.parse_dependency_manifest(text, path)
    if category == "k8s-manifests":
        return parsers.parse_k8s_text(text, path)
    if category == "dependency-bots":
        # No evidence is parsed from bot configs (their presence is the fact);
        # the files still go through the safe loaders, JSON5 included.
        if base.endswith((".yml", ".yaml")):
            return parsers.load_yaml_documents(text, path)
        return parsers.load_json(text, path)
    raise AssertionError(f"no parser for category {category}")


def by_prefix(category: str, prefix: str) -> tuple[str, str, str]:
    for row in ROWS:
        if row["category"] == category and row["file"].startswith(prefix + "__"):
            return category, row["file"], row["path"]
    raise AssertionError(f"{category}/{prefix} not in INDEX.tsv")


def test_index_lists_every_file():
    assert CORPUS is not None
    listed = {(row["category"], row["file"]) for row in ROWS}
    on_disk = {(p.parent.name, p.name) for p in CORPUS.glob("*/*") if p.is_file()}
    assert listed == on_disk
    assert len(ROWS) == 182


@pytest.mark.parametrize("row", ROWS, ids=[f"{r['category']}/{r['file'][:40]}" for r in ROWS])
def test_every_file_parses_or_raises_parse_error(row):
    try:
        parse(row["category"], row["file"], row["path"])
    except ParseError as exc:
        assert exc.path == row["path"]
        assert exc.reason


@pytest.mark.parametrize("row", ROWS, ids=[f"{r['category']}/{r['file'][:40]}" for r in ROWS])
def test_every_file_goes_through_the_crawler_without_a_crash(row):
    """As the crawl reads it: routed by its real path to whichever parsers claim it
    (Kubernetes by content, build files, Kustomize, Helm values), a problem at worst."""
    from pipelines.facts import RepoFacts
    from pipelines.sources.repo_files import TreeEntry, extract_facts

    assert CORPUS is not None
    raw = (CORPUS / row["category"] / row["file"]).read_bytes()
    entry = TreeEntry(row["path"], "100644", "0" * 40, len(raw))
    facts = extract_facts(RepoFacts("corpus", "corpus"), [entry], lambda wanted: {e.path: raw for e in wanted})
    assert facts.error is None
    for problem in facts.problems:
        assert problem.path == row["path"] and problem.reason


def expect_error(category: str, prefix: str, match: str) -> None:
    with pytest.raises(ParseError, match=match):
        parse(*by_prefix(category, prefix))


# ------------------------------------------------------------------ catalog


def test_catalog_expectations():
    entities = parse(*by_prefix("catalog-info", "002"))
    assert {e.kind for e in entities} == {"Resource"} and len(entities) == 15
    assert {e.owner for e in entities} == {"elasticsearch-team"}  # group: prefix stripped

    [entity] = parse(*by_prefix("catalog-info", "023"))
    assert entity.owner == "hephaestus-team"  # group:default/hephaestus-team

    [entity] = parse(*by_prefix("catalog-info", "006"))
    assert entity.path == ""  # .backstage/catalog-info.yaml describes the root

    [entity] = parse(*by_prefix("catalog-info", "014"))
    assert (entity.path, entity.lifecycle, entity.namespace) == ("packages/feedback-service", "deprecated", "devex")

    component, location = parse(*by_prefix("catalog-info", "003"))
    assert (component.kind, location.kind) == ("Component", "Location")

    duplicates = [e for e in parse(*by_prefix("catalog-info", "008")) if e.name == "ts-device-signer-kit-ethereum"]
    assert len(duplicates) == 2 and any("duplicate entity" in err for err in duplicates[1].errors)

    [entity] = parse(*by_prefix("catalog-info", "021"))
    assert any("not a valid entity name" in err for err in entity.errors)

    [entity] = parse(*by_prefix("catalog-info", "025"))
    assert entity.owner == "user:development/guest"  # a user, never mistaken for a team

    expect_error("catalog-info", "016", "not a Backstage entity: missing 'kind'")


# --------------------------------------------------------------- codeowners


def test_codeowners_expectations():
    scout = parse(*by_prefix("codeowners", "005"))
    assert parsers.owners_for(scout, "") == ["@Clinical-Genomics/scout"]  # @global-owner1 is only in a comment

    twice = parse(*by_prefix("codeowners", "003"))
    assert parsers.owners_for(twice, "CODEOWNERS", is_file=True) == ["@0-krakatoa-0"]  # last match wins

    airflow = parse(*by_prefix("codeowners", "014"))
    assert not any("@ahmadtfarhan" in rule.owners or "@Dev-iL" in rule.owners for rule in airflow.rules)

    flutter = parse(*by_prefix("codeowners", "012"))
    assert [r.owners for r in flutter.rules if r.pattern == ".agents/skills"] == [["@reidbaker"]]

    vault = parse(*by_prefix("codeowners", "013"))
    assert parsers.owners_for(vault, "website") == ["@hashicorp/web-presence"]
    assert parsers.owners_for(vault, "website/data") == ["@hashicorp/vault-education-approvers"]

    azure = parse(*by_prefix("codeowners", "010"))
    assert parsers.owners_for(azure, "") == ["@rickwinter"]  # '/**' catch-all

    dell = parse(*by_prefix("codeowners", "019"))
    assert parsers.owners_for(dell, "") == []
    assert any("space missing" in error for error in dell.errors)

    warp = parse(*by_prefix("codeowners", "017"))
    assert warp.errors == []
    assert parsers.owners_for(warp, "warp/fem") == ["@gdaviet"]  # GitLab section default owner


# ---------------------------------------------------------------- templates


def test_template_expectations():
    assert parse(*by_prefix("copier-cookiecutter", "009")).version == "2ac7460"
    local = parse(*by_prefix("copier-cookiecutter", "004"))
    assert (local.source, local.version) == ("/Users/rvezy/.julia/packages/BestieTemplate/fOzc4", None)
    assert parse(*by_prefix("copier-cookiecutter", "007")).version == "2025.01.22-2-g6a4b022"
    cruft = parse(*by_prefix("copier-cookiecutter", "012"))
    assert cruft.tool == "cookiecutter" and cruft.version and len(cruft.version) == 40
    flat = parse(*by_prefix("copier-cookiecutter", "015"))
    assert (flat.source, flat.version) == ("gh:oncleben31/cookiecutter-homeassistant-custom-component", None)


# ---------------------------------------------------------------- workflows


def test_workflow_expectations():
    assert parse(*by_prefix("workflows", "003")).triggers == ["pull_request", "push", "schedule"]  # 'on' quoted
    assert parse(*by_prefix("workflows", "010")).triggers == ["push", "pull_request"]
    assert parse(*by_prefix("workflows", "023")).triggers == ["push", "pull_request"]
    go_github = parse(*by_prefix("workflows", "020"))
    assert (go_github.triggers, go_github.branches) == (["push", "pull_request"], ["master"])

    nested = parse(*by_prefix("workflows", "014"))  # uses: value on the next line
    assert [r.target for r in nested.refs if r.reusable] == [
        "./.github/workflows/node-step-format-lint-build.yml",
        "./.github/workflows/node-step-test-cypress.yml",
    ]
    [ref] = parse(*by_prefix("workflows", "022")).refs
    assert (ref.reusable, ref.ref) == (True, "main")
    canonical = parse(*by_prefix("workflows", "006"))
    assert {r.ref for r in canonical.refs if r.reusable and not r.target.startswith("./")} == {"v49.0.2"}
    matrix = parse(*by_prefix("workflows", "019"))
    assert {r.ref for r in matrix.refs} == {"feature/use-python-dockerfile"}
    expect_error("workflows", "008", "missing 'jobs'")


# --------------------------------------------------------------------- helm


def test_helm_expectations():
    legacy = parse(*by_prefix("helm-chart", "011"))
    assert legacy.dependencies == []
    requirements = parse(*by_prefix("helm-chart", "012"))
    assert ("grafana", "~6.24.1") in [(d.name, d.version) for d in requirements]
    crds = parse(*by_prefix("helm-chart", "002")).dependencies[0]
    assert (crds.name, crds.repository) == ("crds", None)
    consumer = parse(*by_prefix("helm-chart", "004"))
    assert [(d.name, d.version) for d in consumer.dependencies] == [("common", "3.7.1")]
    eck = parse(*by_prefix("helm-chart", "009"))
    assert {d.repository for d in eck.dependencies} == {"https://helm.elastic.co"}  # file:// only in comments


# ---------------------------------------------------------------- terraform


def test_terraform_expectations():
    [vendored] = parse(*by_prefix("terraform", "001"))
    assert (vendored.kind, vendored.source) == ("local", "./vendor/modules/vpc")  # git:: source is commented out
    [parent] = parse(*by_prefix("terraform", "002"))
    assert parent.source == "../"
    moj = parse(*by_prefix("terraform", "007"))
    assert [(m.name, m.version) for m in moj] == [("rds", "8.1.0"), ("rds_2", "8.1.0")]
    [cds] = parse(*by_prefix("terraform", "008"))
    assert cds.version == "v3.0.16"
    learn = parse(*by_prefix("terraform", "006"))
    assert "hashicorp/aws" not in [m.source for m in learn]
    assert [(m.kind, m.version) for m in learn] == [("registry", "3.14.2"), ("registry", "2.12.0"), ("local", None)]
    assert [m.name for m in parse(*by_prefix("terraform", "012"))] == ["vpc_local", "vpc_rest_github"]
    unpinned, archive = parse(*by_prefix("terraform", "013"))
    assert (unpinned.kind, unpinned.version, archive.kind) == ("registry", None, "http")
    assert [m.kind for m in parse(*by_prefix("terraform", "015"))] == ["git", "local"]
    expect_error("terraform", "009", "invalid HCL")


# ------------------------------------------------------------- dependencies


def test_dependency_expectations():
    # The packages shipped with the service; which are OpenTelemetry or structured
    # logging is judged in tests/checks/test_check_rules.py.
    express = parse(*by_prefix("dependency-manifests", "013"))
    assert "debug" in express.packages and len(express.packages) == 30
    winston = parse(*by_prefix("dependency-manifests", "015"))
    assert winston.packages == ["@opentelemetry/api-logs", "@opentelemetry/instrumentation", "@opentelemetry/api"]  # winston only in devDependencies
    zap = parse(*by_prefix("dependency-manifests", "003"))
    assert len(zap.packages) == 6
    assert parse(*by_prefix("dependency-manifests", "004")).packages == []
    quarkus = parse(*by_prefix("dependency-manifests", "005"))
    assert quarkus.packages == ["io.quarkus:quarkus-resteasy-reactive", "io.quarkus:quarkus-opentelemetry", "io.quarkus:quarkus-rest-client"]
    snuba = parse(*by_prefix("dependency-manifests", "019"))
    assert snuba.packages[:2] == ["black", "blinker"] and "structlog-sentry" in snuba.packages  # after --index-url


# --------------------------------------------------------------- kubernetes


def test_kubernetes_expectations():
    [deployment] = parse(*by_prefix("k8s-manifests", "025")).workloads  # inside a kind: List
    assert (deployment.kind, deployment.name) == ("Deployment", "list-deployment-test")

    bookinfo = parse(*by_prefix("k8s-manifests", "018"))
    assert len(bookinfo.workloads) == 6 and bookinfo.problems == []

    [sidecar_app] = parse(*by_prefix("k8s-manifests", "024")).workloads
    assert [(c.name, c.init) for c in sidecar_app.containers] == [("myapp", False), ("logshipper", False)]

    [mysql] = parse(*by_prefix("k8s-manifests", "022")).workloads
    # MYSQL_ALLOW_EMPTY_PASSWORD: "1" is a switch (tests/checks/test_check_rules.py: not a secret)
    assert [c.literal_env for c in mysql.containers] == [{"MYSQL_ALLOW_EMPTY_PASSWORD": "switch"}, {}, {}, {}]
    assert [c.init for c in mysql.containers] == [False, False, True, True]

    [wordpress_db] = parse(*by_prefix("k8s-manifests", "023")).workloads
    assert wordpress_db.containers[0].secret_refs == ["mysql-pass"]

    [cassandra] = parse(*by_prefix("k8s-manifests", "019")).workloads
    assert (cassandra.containers[0].readiness_probe, cassandra.containers[0].liveness_probe) == (True, False)

    [daemonset] = parse(*by_prefix("k8s-manifests", "017")).workloads
    assert (daemonset.kind, daemonset.replicas, len(daemonset.containers)) == ("DaemonSet", None, 2)

    [hpa] = parse(*by_prefix("k8s-manifests", "003")).objects  # flow style with trailing commas
    assert (hpa.spec["target_name"], hpa.spec["min"], hpa.spec["max"]) == ("php-apache", 1, 10)

    [pod_monitor] = parse(*by_prefix("k8s-manifests", "007")).objects
    assert pod_monitor.spec["api_version"] == "azmonitoring.coreos.com/v1"

    expect_error("k8s-manifests", "015", "line 5, column 14: mapping values are not allowed")
    expect_error("k8s-manifests", "014", "line 1")  # {% raw %} wrapper
