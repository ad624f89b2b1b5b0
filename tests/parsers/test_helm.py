import pytest

from pipelines.parsers import ParseError, parse_chart, parse_requirements

CHART = """\
apiVersion: v2
name: payments
version: 1.10.0
dependencies:
  - name: base-service
    version: "2.3.1"
    repository: oci://ghcr.io/acme/charts
  - name: redis
    version: 1.10
    repository: https://charts.bitnami.com/bitnami
    condition: redis.enabled
  - name: local-crds
    version: 0.0.0
"""


def test_chart_name_version_and_dependencies():
    chart = parse_chart(CHART, "deploy/chart/Chart.yaml")
    assert (chart.name, chart.version, chart.file) == ("payments", "1.10.0", "deploy/chart/Chart.yaml")
    assert [(d.name, d.version, d.repository) for d in chart.dependencies] == [
        ("base-service", "2.3.1", "oci://ghcr.io/acme/charts"),
        ("redis", "1.10", "https://charts.bitnami.com/bitnami"),  # not the float 1.1
        ("local-crds", "0.0.0", None),
    ]


def test_v1_chart_dependencies_come_from_requirements_yaml():
    chart = parse_chart('apiVersion: "v1"\nname: legacy\nversion: 2.0.0\n', "Chart.yaml")
    assert chart.dependencies == []
    requirements = parse_requirements(
        'dependencies:\n- name: "loki"\n  version: "^2.15.2"\n  repository:  "https://grafana.github.io/helm-charts"\n',
        "requirements.yaml",
    )
    assert [(d.name, d.version, d.repository) for d in requirements] == [
        ("loki", "^2.15.2", "https://grafana.github.io/helm-charts")
    ]
    assert parse_requirements("", "requirements.yaml") == []


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("- a\n", "must be a mapping"),
        ("description: hello\n", "not a Helm chart"),
        ("apiVersion: v2\nname: x\ndependencies: redis\n", "must be a list"),
        ("apiVersion: v2\nname: x\ndependencies:\n  - version: 1\n", r"dependencies\[0\] has no name"),
        ("apiVersion: v2\nname: x\ndependencies:\n  - redis\n", r"dependencies\[0\] must be a mapping"),
    ],
)
def test_broken_charts_are_parse_errors(text, reason):
    with pytest.raises(ParseError, match=reason):
        parse_chart(text, "Chart.yaml")
