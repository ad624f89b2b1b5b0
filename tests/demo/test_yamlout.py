"""The demo's YAML writer: what it writes reads back as the same data."""

from __future__ import annotations

import pytest
import yaml
from pipelines.demo import yamlout


@pytest.mark.parametrize(
    "value",
    [
        "plain",
        "Card and wallet API",
        "dir:.",
        "url:https://github.com/acme/x/tree/main/services/a/",
        "a: b",
        "x #y",
        "yes",
        "No",
        "null",
        "~",
        "100m",
        "1.0.0",
        "8080",
        "2026-11-26",
        "ghcr.io/acme/x:1.0",
        "(x)",
        "it's",
        "group:default/payments",
        "trailing ",
        "@acme/payments",
        "{{.window}}",
        "-x",
        "",
        "*",
        "a\nb",
        "^v\\d+\\.\\d+\\.\\d+$",
        'say "hi"',
        0,
        1.5,
        True,
        False,
        None,
    ],
)
def test_scalars_read_back_unchanged(value):
    assert yaml.safe_load(yamlout.dump({"k": value})) == {"k": value}


def test_nested_documents_read_back_unchanged():
    doc = {
        "metadata": {"name": "svc", "labels": {"app.kubernetes.io/name": "svc"}, "annotations": {}},
        "spec": {
            "containers": [
                {"name": "app", "ports": [{"containerPort": 80}], "args": ["a", "b"], "env": []},
                {"name": "side"},
            ],
            "matrix": [[1, 2], []],
            "empty": [{}],
        },
    }
    assert yaml.safe_load(yamlout.dump(doc)) == doc
    assert list(yaml.safe_load_all(yamlout.dump_all([doc, {"a": 1}]))) == [doc, {"a": 1}]
