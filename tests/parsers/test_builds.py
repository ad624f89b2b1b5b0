"""Build files as facts: Maven/Gradle modules and plugins, compose and skaffold images."""

import pytest

from pipelines.parsers import ParseError, parse_build_file, parse_kustomization, parse_values

AGGREGATOR = """<?xml version="1.0"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <artifactId>shop</artifactId>
  <packaging>pom</packaging>
  <modules>
    <module>orders-service</module>
    <module>libs/common</module>
    <module>../outside</module>
  </modules>
  <build><pluginManagement><plugins><plugin><artifactId>jib-maven-plugin</artifactId></plugin></plugins></pluginManagement></build>
  <profiles><profile><id>boot</id><build><plugins>
    <plugin><artifactId>spring-boot-maven-plugin</artifactId></plugin>
  </plugins></build></profile></profiles>
</project>
"""


def test_maven_aggregator_lists_modules_and_plugins_but_not_managed_ones():
    build = parse_build_file(AGGREGATOR, "pom.xml")
    assert build.tool == "maven" and build.packaging == "pom"
    assert build.modules == ["orders-service", "libs/common"]  # ../outside leaves the repository
    assert build.plugins == ["spring-boot-maven-plugin"]  # pluginManagement only configures


def test_maven_module_defaults_to_jar_packaging():
    build = parse_build_file("<project><artifactId>x</artifactId></project>", "svc/pom.xml")
    assert (build.packaging, build.modules, build.plugins) == ("jar", [], [])


def test_maven_entities_are_refused():
    with pytest.raises(ParseError, match="entities"):
        parse_build_file('<!DOCTYPE p [<!ENTITY a "x">]><project/>', "pom.xml")


def test_gradle_plugins_and_settings_includes():
    build = parse_build_file(
        'plugins {\n  id("org.springframework.boot") version "3.3.0"\n  application\n}\napply plugin: "com.google.cloud.tools.jib"\n',
        "services/api/build.gradle.kts",
    )
    assert build.plugins == ["org.springframework.boot", "com.google.cloud.tools.jib", "application"]
    settings = parse_build_file("rootProject.name = 'shop'\ninclude ':services:api', ':libs:common'\n// include ':old'\n",
                                "settings.gradle")
    assert settings.modules == ["services/api", "libs/common"]


def test_compose_images_and_build_contexts():
    text = """\
services:
  api:
    build: ./api
    image: acme/api
  worker:
    build: {context: ../worker}
  db:
    image: postgres:16
"""
    build = parse_build_file(text, "deploy/docker-compose.yml")
    assert [(i.name, i.image, i.context) for i in build.images] == [
        ("api", "acme/api", "deploy/api"), ("worker", None, "worker"), ("db", "postgres:16", None),
    ]


def test_skaffold_artifacts_and_jib_projects():
    text = """\
apiVersion: skaffold/v4beta1
kind: Config
build:
  artifacts:
    - image: frontend
      context: .
    - image: ledger
      context: ../..
      jib: {project: src/ledger}
"""
    build = parse_build_file(text, "src/frontend/skaffold.yaml")
    assert [(i.image, i.context) for i in build.images] == [("frontend", "src/frontend"), ("ledger", "src/ledger")]


def test_kustomization_names_its_patch_files():
    text = """\
resources: [../../base]
patchesStrategicMerge:
  - replicas.yaml
  - |-
    apiVersion: apps/v1
    kind: Deployment
patches:
  - path: ../../components/probes.yaml
  - patch: '[{"op": "add"}]'
    target: {kind: Deployment}
patchesJson6902:
  - path: image.json
"""
    assert parse_kustomization(text, "k8s/overlays/prod/kustomization.yaml") == [
        "k8s/overlays/prod/replicas.yaml", "k8s/components/probes.yaml", "k8s/overlays/prod/image.json",
    ]


def test_helm_values_facts():
    values = parse_values("image:\n  repository: acme/api\n  tag: 1.2.3\nreplicaCount: 2\n", "chart/values.yaml")
    assert (values.image, values.replica_count) == ("acme/api:1.2.3", 2)
    assert parse_values("image: nginx:1.27\n", "c/values.yaml").image == "nginx:1.27"
    assert parse_values("- not a mapping\n", "c/values.yaml").image is None
