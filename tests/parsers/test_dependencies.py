import json

import pytest

from pipelines.parsers import ParseError, is_dependency_manifest, parse_dependency_manifest


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("requirements.txt", True),
        ("svc/requirements-dev.txt", True),
        ("pyproject.toml", True),
        ("web/package.json", True),
        ("go.mod", True),
        ("pom.xml", True),
        ("build.gradle", True),
        ("app/build.gradle.kts", True),
        ("web/node_modules/pino/package.json", False),
        ("vendor/github.com/x/go.mod", False),
        ("package-lock.json", False),
        ("README.md", False),
    ],
)
def test_is_dependency_manifest(path, expected):
    assert is_dependency_manifest(path) is expected


def test_requirements_txt():
    text = (
        "--index-url https://pypi.example/simple\n"
        "# comment\n"
        "opentelemetry-sdk==1.25.0  # tracing\n"
        "Structlog>=23\n"
        "python_json_logger[extra] ~= 2.0 ; python_version >= '3.8'\n"
        "requests \\\n    --hash=sha256:abc\n"
        "-e git+https://github.com/acme/lib.git#egg=acme_lib\n"
        "-r other.txt\n"
        "./local/package\n"
    )
    manifest = parse_dependency_manifest(text, "requirements.txt")
    assert manifest.ecosystem == "python"
    assert manifest.packages == ["opentelemetry-sdk", "structlog", "python-json-logger", "requests", "acme-lib"]


def test_pyproject_pep621_and_poetry_runtime_dependencies_only():
    text = """
[project]
dependencies = ["opentelemetry-api ~= 1.12", "httpx"]
[project.optional-dependencies]
server = ["loguru"]
test = ["opentelemetry-test-utils"]
[dependency-groups]
dev = ["structlog"]
[tool.poetry.dependencies]
python = ">=3.11"
Flask = "^3"
[tool.poetry.group.dev.dependencies]
python-json-logger = "*"
"""
    manifest = parse_dependency_manifest(text, "pyproject.toml")
    assert manifest.packages == ["opentelemetry-api", "httpx", "loguru", "flask"]


def test_invalid_toml_is_a_parse_error_with_line():
    with pytest.raises(ParseError, match="line 2"):
        parse_dependency_manifest("[project]\nname = \n", "pyproject.toml")


def test_package_json_ignores_dev_dependencies():
    text = json.dumps(
        {
            "dependencies": {"express": "^4", "morgan": "~1.9", "debug": "2.6.9", "pino": "^9"},
            "peerDependencies": {"@opentelemetry/api": "^1.3.0"},
            "devDependencies": {"@opentelemetry/sdk-node": "^0.50", "winston": "3"},
        }
    )
    manifest = parse_dependency_manifest(text, "package.json")
    assert manifest.ecosystem == "node"
    assert manifest.packages == ["express", "morgan", "debug", "pino", "@opentelemetry/api"]  # not the dev-only ones


def test_otel_only_in_dev_dependencies_does_not_count():
    text = json.dumps({"dependencies": {"express": "4"}, "devDependencies": {"@opentelemetry/sdk-node": "1"}})
    assert parse_dependency_manifest(text, "package.json").packages == ["express"]


def test_npm_alias_counts_as_the_real_package():
    text = json.dumps({"dependencies": {"logger": "npm:winston@3.3.3", "otel": "npm:@opentelemetry/api@1.9.0"}})
    assert parse_dependency_manifest(text, "package.json").packages == ["winston", "@opentelemetry/api"]


def test_go_mod_direct_requirements_only():
    text = (
        "// Deprecated: use v2\nmodule example.com/svc\n\ngo 1.22\n\n"
        "require go.uber.org/zap v1.27.0\n"
        "require (\n\tgo.opentelemetry.io/otel v1.28.0\n\tgithub.com/rs/zerolog v1.33.0 // indirect\n)\n"
        "replace example.com/lib => ../lib\n"
    )
    manifest = parse_dependency_manifest(text, "go.mod")
    assert manifest.packages == ["go.uber.org/zap", "go.opentelemetry.io/otel"]


def test_go_mod_without_module_directive():
    with pytest.raises(ParseError, match="no 'module' directive"):
        parse_dependency_manifest("require x v1\n", "go.mod")


POM = """<?xml version="1.0"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <dependencyManagement><dependencies><dependency>
    <groupId>io.opentelemetry</groupId><artifactId>opentelemetry-bom</artifactId><scope>import</scope>
  </dependency></dependencies></dependencyManagement>
  <dependencies>
    <dependency><groupId>io.quarkus</groupId><artifactId>quarkus-opentelemetry</artifactId></dependency>
    <dependency><groupId>net.logstash.logback</groupId><artifactId>logstash-logback-encoder</artifactId></dependency>
    <dependency><groupId>io.opentelemetry</groupId><artifactId>opentelemetry-sdk-testing</artifactId><scope>test</scope></dependency>
  </dependencies>
</project>
"""


def test_pom_dependencies_skip_test_scope_and_boms():
    manifest = parse_dependency_manifest(POM, "pom.xml")
    assert manifest.ecosystem == "maven"
    assert manifest.packages == ["io.quarkus:quarkus-opentelemetry", "net.logstash.logback:logstash-logback-encoder"]


def test_pom_errors():
    with pytest.raises(ParseError, match="line 1"):
        parse_dependency_manifest("<project><dependencies></project>", "pom.xml")
    with pytest.raises(ParseError, match="not a Maven POM"):
        parse_dependency_manifest("<settings/>", "pom.xml")
    bomb = '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "lol">]><project>&a;</project>'
    with pytest.raises(ParseError, match="entities"):
        parse_dependency_manifest(bomb, "pom.xml")


GRADLE = """
buildscript {
    dependencies { classpath("org.springframework.boot:spring-boot-gradle-plugin:3.0.0") }
}
dependencies {
    implementation(platform("io.opentelemetry:opentelemetry-bom:1.40.0"))
    implementation("io.micrometer:micrometer-tracing-bridge-otel") // bridges to OpenTelemetry
    implementation ('net.logstash.logback:logstash-logback-encoder:7.4')
    compileOnly group: 'javax.servlet', name: 'javax.servlet-api', version: '3.0.1'
    // implementation("io.opentelemetry:opentelemetry-sdk")
    /* implementation("org.apache.logging.log4j:log4j-layout-template-json") */
    implementation(project(":core"))
    testImplementation("io.opentelemetry:opentelemetry-sdk-testing:1.40.0")
    add("otelAgent", "io.opentelemetry.javaagent:opentelemetry-javaagent:2.5.0")
}
val docs = "see https://example.com/a:b"
"""


def test_gradle_dependencies():
    manifest = parse_dependency_manifest(GRADLE, "app/build.gradle.kts")
    assert manifest.ecosystem == "gradle"
    assert manifest.packages == [
        "io.micrometer:micrometer-tracing-bridge-otel",
        "net.logstash.logback:logstash-logback-encoder",
        "javax.servlet:javax.servlet-api",
        "io.opentelemetry.javaagent:opentelemetry-javaagent",
    ]


def test_unknown_file_name_is_refused():
    with pytest.raises(ParseError):
        parse_dependency_manifest("", "Cargo.toml")
