"""The rules checks judge crawl facts by: which env vars are secrets, which
packages are OpenTelemetry or structured logging, which files turn a dependency
bot on. Parsers only report names, forms, packages and files; these rules live
in checks/ next to the checks that use them, and are tested here on their own,
on manifests as the crawl parses them, and on real files from the shared corpus.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from checks.catalogue import CATALOGUE
from checks.evidence import DependencyManifest
from checks.model import Status, evaluate
from checks.observability import (
    is_opentelemetry,
    is_structured_logging,
    opentelemetry_packages,
    structured_logging_packages,
)
from checks.security import dependency_bot, looks_like_secret_name
from pipelines.parsers import parse_k8s_text
from tests.parsers.test_corpus import CORPUS, ROWS, by_prefix, parse

from conftest import make_context, make_evidence

# ------------------------------------------------------------------ secrets


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("DB_PASSWORD", True),
        ("GITHUB_TOKEN", True),
        ("JWT_SECRET", True),
        ("API_KEY", True),
        ("STRIPE_APIKEY", True),
        ("AWS_SECRET_ACCESS_KEY", True),
        ("db-password", True),  # words, whatever the case and separator
        ("SMTP_PASS", True),
        ("OAUTH_CLIENT_CREDENTIALS", True),
        # a setting about a secret, or a pointer to one (bank-of-anthos: TOKEN_EXPIRY_SECONDS)
        ("TOKEN_EXPIRY_SECONDS", False),
        ("JWT_SECRET_ALGORITHM", False),
        ("PASSWORD_FILE", False),
        ("VAULT_TOKEN_PATH", False),
        ("SECRET_NAME", False),
        ("API_KEY_HEADER", False),
        ("JWKS_KEYS", False),
        ("PASSWORD_MIN_LENGTH", False),
        # words inside other words are not secret words
        ("PASSPORT_NUMBER", False),
        ("BYPASS_CACHE", False),
        ("STRIPE_KEY", False),
        ("", False),
    ],
)
def test_secret_names(name, secret):
    assert looks_like_secret_name(name) is secret


def judge_env(env: str) -> tuple[Status, str]:
    """no_literal_secrets on a Deployment with this `env:` list, as the crawl parses it from git."""
    manifest = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: payments-api}\nspec:\n  template:\n    spec:\n"
        "      containers:\n        - name: app\n          image: acme/app:1\n          env:\n"
        + "".join(f"            - {line}\n" for line in env.splitlines())
    )
    workloads = parse_k8s_text(manifest, "k8s/deploy.yaml").workloads
    ev = replace(make_evidence(), cluster_workloads=None, repo_workloads=workloads)
    finding = evaluate(CATALOGUE["no_literal_secrets"], ev, make_context())
    return finding.status, finding.detail


@pytest.mark.parametrize(
    ("env", "status"),
    [
        ('{name: DB_PASSWORD, value: "hunter2"}', Status.FAIL),
        ("{name: GITHUB_TOKEN, value: 12345}", Status.FAIL),
        ('{name: MYSQL_ALLOW_EMPTY_PASSWORD, value: "yes"}', Status.PASS),  # a flag
        ('{name: MYSQL_RANDOM_ROOT_PASSWORD, value: "1"}', Status.PASS),
        ("{name: REDIS_PASSWORD, value: true}", Status.PASS),
        ('{name: TOKEN_EXPIRY_SECONDS, value: "3600"}', Status.PASS),
        ('{name: DB_PASSWORD, value: "$(VAULT_DB_PASSWORD)"}', Status.PASS),  # Kubernetes substitutes it
        ('{name: DB_PASSWORD, value: "${DB_PASSWORD}"}', Status.PASS),
        ('{name: DB_PASSWORD, value: ""}', Status.PASS),
        ("{name: DB_PASSWORD, valueFrom: {secretKeyRef: {name: db, key: password}}}", Status.PASS),
        ('{name: LOG_LEVEL, value: "debug"}', Status.PASS),
    ],
)
def test_literal_env_values_judged_from_a_manifest(env, status):
    verdict, detail = judge_env(env)
    assert verdict is status, detail
    for secret in ("hunter2", "12345"):
        assert secret not in detail


def test_a_name_set_twice_is_judged_by_its_literal_text():
    status, detail = judge_env('{name: DB_PASSWORD, value: "hunter2"}\n{name: DB_PASSWORD, value: "no"}')
    assert status is Status.FAIL and "DB_PASSWORD" in detail and "hunter2" not in detail


# -------------------------------------------------------------- dependencies


@pytest.mark.parametrize(
    ("package", "otel"),
    [
        ("opentelemetry-sdk", True),
        ("@opentelemetry/api", True),
        ("go.opentelemetry.io/otel", True),
        ("io.quarkus:quarkus-opentelemetry", True),
        ("io.micrometer:micrometer-tracing-bridge-otel", True),
        ("io.opentelemetry.javaagent:opentelemetry-javaagent", True),
        ("github.com/acme/otlp-exporter", True),
        ("hotel-booking", False),
        ("express", False),
    ],
)
def test_opentelemetry_packages(package, otel):
    assert is_opentelemetry(package) is otel


@pytest.mark.parametrize(
    ("package", "ecosystem", "structured"),
    [
        ("structlog", "python", True),
        ("python-json-logger", "python", True),
        ("loguru", "python", True),
        ("structlog-sentry", "python", True),
        ("logging", "python", False),
        ("pino", "node", True),
        ("@fastify/pino-pretty", "node", True),
        ("winston", "node", True),
        ("@elastic/ecs-winston-format", "node", True),
        ("morgan", "node", False),
        ("debug", "node", False),
        ("go.uber.org/zap", "go", True),
        ("go.uber.org/zap/zapcore", "go", True),
        ("go.uber.org/zapper", "go", False),
        ("net.logstash.logback:logstash-logback-encoder", "maven", True),
        ("co.elastic.logging:logback-ecs-encoder", "gradle", True),
        ("org.apache.logging.log4j:log4j-core", "maven", False),
        ("structlog", "go", False),  # a name counts in its own ecosystem only
    ],
)
def test_structured_logging_packages(package, ecosystem, structured):
    assert is_structured_logging(package, ecosystem) is structured


def test_a_manifest_s_packages_are_classified_in_its_order():
    manifest = DependencyManifest(
        "requirements.txt", "python", ["opentelemetry-sdk", "structlog", "python-json-logger", "requests", "opentelemetry-api"]
    )
    assert opentelemetry_packages(manifest) == ["opentelemetry-sdk", "opentelemetry-api"]
    assert structured_logging_packages(manifest) == ["structlog", "python-json-logger"]


# ----------------------------------------------------------- dependency bot


@pytest.mark.parametrize(
    ("files", "bot"),
    [
        ({".github/dependabot.yml", "README.md"}, "dependabot"),
        ({".github/dependabot.yaml"}, "dependabot"),
        ({"renovate.json5"}, "renovate"),
        ({".renovaterc"}, "renovate"),
        ({".gitlab/renovate.json"}, "renovate"),
        ({".github/dependabot.yml", "renovate.json"}, "dependabot"),  # both: Dependabot is named
        ({"dependabot.yml", "sub/renovate.json", ".github/workflows/renovate.yml"}, None),
        (set(), None),
    ],
)
def test_dependency_bot_files(files, bot):
    assert dependency_bot(frozenset(files)) == bot


# ------------------------------------------------------------------- corpus

corpus = pytest.mark.skipif(CORPUS is None, reason="shared corpus not present next to the repository")


@corpus
def test_corpus_manifests_judged():
    def otel(prefix):
        return opentelemetry_packages(parse(*by_prefix("dependency-manifests", prefix)))

    def logging(prefix):
        return structured_logging_packages(parse(*by_prefix("dependency-manifests", prefix)))

    assert logging("013") == [] and otel("013") == []  # express: morgan and debug are not structured
    assert logging("015") == []  # winston only in devDependencies
    assert "@opentelemetry/instrumentation" in otel("015")
    assert len(logging("003")) == 6 and otel("003") == []  # zap's benchmarks: six logging libraries
    assert "@opentelemetry/sdk-node" in otel("001") and "pino" in logging("001")
    assert "io.micrometer:micrometer-tracing-bridge-otel" in otel("020")
    assert logging("020") == ["net.logstash.logback:logstash-logback-encoder"]
    assert otel("005") == ["io.quarkus:quarkus-opentelemetry"]
    assert logging("017") == ["ch.qos.logback.contrib:logback-jackson", "ch.qos.logback.contrib:logback-json-classic"]
    assert otel("016")  # compileOnly OTel SPI
    assert logging("019") == ["structlog", "structlog-sentry"] and otel("019") == []


@corpus
def test_corpus_mysql_flag_is_not_a_literal_secret():
    [mysql] = parse(*by_prefix("k8s-manifests", "022")).workloads  # MYSQL_ALLOW_EMPTY_PASSWORD: "1"
    ev = replace(make_evidence(), cluster_workloads=None, repo_workloads=[mysql])
    assert evaluate(CATALOGUE["no_literal_secrets"], ev, make_context()).status is Status.PASS


@corpus
@pytest.mark.parametrize("row", [r for r in ROWS if r["category"] == "dependency-bots"], ids=lambda r: r["file"][:40])
def test_corpus_bot_configs_turn_the_check_on(row):
    ev = replace(make_evidence(), files=frozenset({row["path"], "README.md"}))
    finding = evaluate(CATALOGUE["has_dependency_update_bot"], ev, make_context())
    expected = "dependabot" if "dependabot" in row["path"] else "renovate"
    assert (finding.status, finding.detail) == (Status.PASS, f"{expected} configured")
