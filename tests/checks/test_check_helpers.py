"""Shared helpers: version arithmetic, source matching, selectors, file lookups."""

from __future__ import annotations

import pytest

from checks._helpers import (
    applies_to_path,
    normalise_source,
    selects,
    source_matches,
    summarise_names,
    team_slug,
)
from checks.versions import is_branch, is_sha, releases_behind, version_key

RELEASES = ("v1.0.0", "v1.1.0", "v2.0.0", "v2.1.0")


@pytest.mark.parametrize(
    ("version", "behind"),
    [
        ("v2.1.0", 0),
        ("2.1.0", 0),  # the v is spelling, not version
        ("v2.0.0", 1),
        ("v1.0.0", 3),
        ("v2.1.0-3-gdeadbee", 0),  # copier's git-describe of a commit after the tag
        ("v2", 0),  # floating major tag tracks v2.1.0
        ("v1", 2),  # floating v1 is at best v1.1.0
        ("v0.9.0", 4),  # older than every release
        ("v3.0.0", 0),  # newer than the configured list: not behind
        ("v1.0.5", 3),  # an unlisted patch: v1.1.0, v2.0.0 and v2.1.0 are newer
        ("~2.0.0", 1),  # a Helm range's floor
        ("v2.1.0-rc1", 1),  # a release candidate comes before its release (issue 10)
        ("2.1.0-rc.2", 1),  # SemVer spelling of the same
        ("v2.1.1-rc1", 0),  # a candidate of a newer release is not behind
        ("deadbeefcafe", None),
        ("main", None),
        ("", None),
    ],
)
def test_releases_behind(version: str, behind: int | None) -> None:
    assert releases_behind(version, RELEASES) == behind


def test_latest_is_appended_when_the_release_list_lags() -> None:
    assert releases_behind("v2.1.0", RELEASES, latest="v2.2.0") == 1
    assert releases_behind("v2.1.0", (), latest="v2.1.0") == 0
    assert releases_behind("v2.1.0", ()) is None


def test_version_key_does_not_read_a_sha_as_a_version() -> None:
    assert version_key("8f4b7f84864484a7") is None
    assert version_key("v1.2.3-rc.1") == (1, 2, 3)
    assert is_sha("8f4b7f84864484a7bf31766abe9204da3cbe65b3")
    assert not is_sha("1234567")
    assert is_branch("Main") and not is_branch("v1")


@pytest.mark.parametrize(
    "spelling",
    [
        "gh:acme/service-template",
        "https://github.com/acme/service-template.git",
        "https://github.com/acme/service-template/",
        "git@github.com:acme/service-template.git",
        "git+https://github.com/Acme/Service-Template",
    ],
)
def test_template_spellings_are_one_source(spelling: str) -> None:
    assert normalise_source(spelling) == "acme/service-template"


def test_module_sources_match_by_prefix_not_by_substring() -> None:
    ref = "github.com/acme/terraform-modules"
    assert source_matches("git::https://github.com/acme/terraform-modules.git//vpc?ref=v1.2.0", ref)
    assert source_matches("git::ssh://git@github.com/acme/terraform-modules.git//vpc?ref=v1", ref)
    assert not source_matches("github.com/acme/terraform-modules-fork//vpc", ref)
    assert source_matches("app.terraform.io/acme/vpc/aws", "app.terraform.io/acme/")


def test_selectors_follow_kubernetes_rules() -> None:
    labels = {"app": "api", "tier": "web"}
    assert selects({"match_labels": {"app": "api"}}, labels)
    assert not selects({"match_labels": {"app": "api", "tier": "db"}}, labels)
    assert selects({"match_expressions": [{"key": "tier", "operator": "In", "values": ["web", "api"]}]}, labels)
    assert not selects({"match_labels": {"app": "api"}, "match_expressions": [{"key": "canary", "operator": "Exists"}]}, labels)
    # Empty: a PDB selects every pod, a Service with no selector selects none.
    assert selects({"match_labels": {}}, labels, empty_matches_all=True)
    assert not selects({}, labels, key="selector")


def test_manifests_apply_from_the_service_subtree_and_its_ancestors_only() -> None:
    path = "services/payments"
    assert applies_to_path("services/payments/pyproject.toml", path)
    assert applies_to_path("pyproject.toml", path)  # workspace root
    assert applies_to_path("services/pyproject.toml", path)
    assert not applies_to_path("services/search/package.json", path)
    assert not applies_to_path("services/payments-v2/go.mod", path)


def test_summarise_names_dedupes_and_truncates() -> None:
    assert summarise_names(["a", "b", "a"]) == "a, b"
    assert summarise_names(["a", "b", "c", "d", "e"]) == "a, b, c and 2 more"
    assert summarise_names(["a", "b", "c", "d"], limit=4) == "a, b, c, d"


@pytest.mark.parametrize("owner", ["payments", "group:default/payments", "@acme/payments", "Payments"])
def test_team_slug(owner: str) -> None:
    assert team_slug(owner) == "payments"


def test_current_version_reports_the_pin_furthest_behind(evidence, ctx) -> None:
    from dataclasses import replace

    from checks.golden_path import current_version

    assert current_version(evidence, "template", ctx.template) == "v2.3.0"
    assert current_version(evidence, "ci_workflow", ctx.ci_workflow) == "v4.2.0"
    assert current_version(evidence, "helm_chart", ctx.helm_chart) == "3.2.0"
    assert current_version(evidence, "terraform", ctx.terraform) == "v1.2.0"
    wf = evidence.workflows[0]
    older = replace(wf.refs[1], ref="v4.0.0")
    two_pins = replace(evidence, workflows=[wf, replace(wf, file="deploy.yml", refs=[older])])
    assert current_version(two_pins, "ci_workflow", ctx.ci_workflow) == "v4.0.0"
    assert current_version(replace(evidence, templates=[]), "template", ctx.template) is None
    with pytest.raises(ValueError):
        current_version(evidence, "docs", ctx.template)
