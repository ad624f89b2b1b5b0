import pytest

from pipelines.parsers import owners_for, parse_codeowners, team_from_owner

CODEOWNERS = """\
# Default owners
*                       @acme/platform
/services/api/          @acme/payments @alice   # + @not-an-owner
services/web/**         @acme/web
/services/*             @acme/services-root
/docs/                  docs@acme.example
/services/api/vendor/
"""


@pytest.fixture
def co():
    return parse_codeowners(CODEOWNERS, ".github/CODEOWNERS")


def test_rules_keep_line_numbers_and_owners_as_written(co):
    assert [(r.pattern, r.line) for r in co.rules][:2] == [("*", 2), ("/services/api/", 3)]
    assert co.rules[1].owners == ["@acme/payments", "@alice"]
    assert co.errors == []


def test_last_matching_rule_wins(co):
    assert owners_for(co, "services/api") == ["@acme/payments", "@alice"]
    assert owners_for(co, "services/web") == ["@acme/web"]
    assert owners_for(co, "services/web/frontend") == ["@acme/web"]
    assert owners_for(co, "docs") == ["docs@acme.example"]
    assert owners_for(co, "tools") == ["@acme/platform"]


def test_repository_root_is_owned_by_the_catch_all(co):
    assert owners_for(co, "") == ["@acme/platform"]


def test_rule_without_owners_unowns_the_path(co):
    assert owners_for(co, "services/api/vendor") == []


def test_single_star_in_directory_owns_files_not_subdirectories(co):
    # /services/* owns services/README.md but not code inside services/billing/.
    assert owners_for(co, "services/README.md", is_file=True) == ["@acme/services-root"]
    assert owners_for(co, "services/billing") == ["@acme/platform"]


def test_handles_inside_comments_are_not_owners(co):
    assert all("@not-an-owner" not in rule.owners for rule in co.rules)


def test_no_catch_all_means_unowned():
    co = parse_codeowners("/docs/ @acme/docs\n", "CODEOWNERS")
    assert owners_for(co, "") == []
    assert owners_for(co, "src") == []


def test_unparseable_lines_are_recorded_with_line_numbers():
    co = parse_codeowners("*@alice @bob\n!/secret @x\n/ok/ daxian-dbw\n/good/ @acme/good\n", "CODEOWNERS")
    assert any(error.startswith("line 1:") and "space missing" in error for error in co.errors)
    assert any(error.startswith("line 2:") and "negated" in error for error in co.errors)
    assert any(error.startswith("line 3:") and "invalid owner 'daxian-dbw'" in error for error in co.errors)
    assert owners_for(co, "ok") == []  # GitHub skips the whole line
    assert owners_for(co, "good") == ["@acme/good"]


def test_gitlab_section_default_owners_apply_to_its_paths():
    text = "[Backend] @acme/backend\n/api/\n/db/ @dba\n^[Docs][2] @acme/docs\n/docs/\n"
    co = parse_codeowners(text, ".gitlab/CODEOWNERS")
    assert co.errors == []
    assert owners_for(co, "api") == ["@acme/backend"]
    assert owners_for(co, "db") == ["@dba"]
    assert owners_for(co, "docs") == ["@acme/docs"]


def test_last_line_without_newline_is_read():
    co = parse_codeowners("* @a @b", "CODEOWNERS")
    assert owners_for(co, "") == ["@a", "@b"]


def test_team_from_owner():
    assert team_from_owner("@acme/payments") == "payments"
    assert team_from_owner("@alice") is None
    assert team_from_owner("alice@example.com") is None
