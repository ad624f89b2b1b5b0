import pytest

from pipelines.parsers import ParseError, normalise_owner, parse_catalog

COMPONENT = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: payments-api
  description: Takes the money
  annotations:
    github.com/project-slug: acme/monorepo
    pagerduty.com/service-id: 12345
spec:
  type: service
  lifecycle: production
  owner: group:default/payments
  system: checkout
"""


def test_component_fields_are_extracted():
    [entity] = parse_catalog(COMPONENT, "services/payments/catalog-info.yaml")
    assert (entity.kind, entity.name, entity.namespace) == ("Component", "payments-api", "default")
    assert entity.owner == "payments"
    assert (entity.lifecycle, entity.system, entity.type) == ("production", "checkout", "service")
    assert entity.description == "Takes the money"
    assert entity.path == "services/payments"
    assert entity.file == "services/payments/catalog-info.yaml"
    assert entity.errors == []


def test_annotation_values_are_kept_as_written_strings():
    [entity] = parse_catalog(COMPONENT, "catalog-info.yaml")
    assert entity.annotations["pagerduty.com/service-id"] == "12345"
    assert entity.path == ""


@pytest.mark.parametrize(
    ("owner", "expected"),
    [
        ("payments", "payments"),
        ("group:payments", "payments"),
        ("group:default/payments", "payments"),
        ("Group:default/payments", "payments"),
        ("group:devex/platform", "devex/platform"),
        ("user:guest", "user:guest"),
        ("user:default/jane", "user:default/jane"),
        ("jane@example.com", "jane@example.com"),
    ],
)
def test_owner_refs_reduce_to_the_team_name(owner, expected):
    assert normalise_owner(owner) == expected


def test_multi_document_file_returns_every_entity_including_locations():
    text = COMPONENT + "---\napiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: more\nspec:\n  targets: [./plugins/*/catalog-info.yaml]\n"
    entities = parse_catalog(text, "catalog-info.yaml")
    assert [e.kind for e in entities] == ["Component", "Location"]
    assert [e for e in entities if e.kind == "Component"][0].name == "payments-api"


def test_source_location_subpath_sets_the_component_path():
    text = COMPONENT.replace(
        "    pagerduty.com/service-id: 12345\n",
        "    backstage.io/source-location: url:https://github.com/acme/monorepo/tree/main/services/payments/\n",
    )
    [entity] = parse_catalog(text, "catalog/payments.yaml")
    assert entity.path == "services/payments"


def test_source_location_of_another_repository_is_ignored():
    text = COMPONENT.replace(
        "    pagerduty.com/service-id: 12345\n",
        "    backstage.io/source-location: url:https://github.com/acme/elsewhere/tree/main/api\n",
    )
    [entity] = parse_catalog(text, "services/payments/catalog-info.yaml")
    assert entity.path == "services/payments"


def test_dot_backstage_directory_describes_the_repository_root():
    [entity] = parse_catalog(COMPONENT, ".backstage/catalog-info.yaml")
    assert entity.path == ""


def test_schema_problems_are_entity_errors_not_exceptions():
    text = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: bad name\nspec:\n  type: service\n"
    [entity] = parse_catalog(text, "catalog-info.yaml")
    assert entity.owner is None
    assert "spec.owner missing" in entity.errors
    assert "spec.lifecycle missing" in entity.errors
    assert any("not a valid entity name" in error for error in entity.errors)


def test_missing_name_is_an_entity_error():
    [entity] = parse_catalog("apiVersion: backstage.io/v1alpha1\nkind: System\nspec:\n  owner: team-a\n", "c.yaml")
    assert entity.name == ""
    assert "metadata.name missing" in entity.errors


def test_email_owner_is_flagged():
    [entity] = parse_catalog(COMPONENT.replace("group:default/payments", "jane@example.com"), "c.yaml")
    assert any("email address" in error for error in entity.errors)


def test_duplicate_entities_are_flagged_on_the_second_copy():
    entities = parse_catalog(COMPONENT + "---\n" + COMPONENT, "c.yaml")
    assert entities[0].errors == []
    assert any("duplicate entity" in error for error in entities[1].errors)


def test_file_with_no_entity_at_all_is_a_parse_error():
    with pytest.raises(ParseError, match="not a Backstage entity: missing 'kind'"):
        parse_catalog("spec:\n  owner: x\n", "catalog-info.yaml")
    with pytest.raises(ParseError, match="not a mapping"):
        parse_catalog("- a\n- b\n", "catalog-info.yaml")
    with pytest.raises(ParseError, match="empty"):
        parse_catalog("# nothing\n", "catalog-info.yaml")


def test_broken_document_next_to_entities_is_reported_on_them():
    entities = parse_catalog(COMPONENT + "---\njust a string\n", "catalog-info.yaml")
    assert len(entities) == 1
    assert any("document 2: not a Backstage entity" in error for error in entities[0].errors)


def test_invalid_yaml_is_a_parse_error_with_line():
    with pytest.raises(ParseError, match="line 2"):
        parse_catalog("kind: Component\nmetadata: name: x\n", "catalog-info.yaml")
