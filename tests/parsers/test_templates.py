import json

import pytest

from pipelines.parsers import ParseError, parse_cookiecutter_replay, parse_copier_answers, parse_template_file


def test_copier_answers_give_template_and_commit():
    text = "# Changes here will be overwritten by Copier\n_commit: v1.4.0\n_src_path: gh:acme/service-template\nproject: pay\n"
    info = parse_copier_answers(text, ".copier-answers.yml")
    assert (info.tool, info.source, info.version, info.file) == (
        "copier",
        "gh:acme/service-template",
        "v1.4.0",
        ".copier-answers.yml",
    )


@pytest.mark.parametrize("commit", ["0123456", "1234567", "12e4567", "2024.01"])
def test_copier_commit_is_kept_exactly_as_written(commit):
    info = parse_copier_answers(f"_commit: {commit}\n_src_path: x\n", ".copier-answers.yml")
    assert info.version == commit


def test_copier_answers_without_commit_have_no_version():
    info = parse_copier_answers("_src_path: /Users/me/template\nname: x\n", ".copier-answers.yml")
    assert info.version is None
    assert info.source == "/Users/me/template"


def test_not_copier_answers():
    with pytest.raises(ParseError, match="neither _src_path nor _commit"):
        parse_copier_answers("name: x\n", ".copier-answers.yml")
    with pytest.raises(ParseError, match="mapping"):
        parse_copier_answers("- a\n", ".copier-answers.yml")


def test_cruft_state_prefers_the_pinned_commit():
    text = json.dumps({"template": "https://github.com/acme/tpl", "commit": "abc123", "checkout": "main", "context": {}})
    info = parse_cookiecutter_replay(text, ".cruft.json")
    assert (info.tool, info.source, info.version) == ("cookiecutter", "https://github.com/acme/tpl", "abc123")


def test_replay_file_reads_the_cookiecutter_context():
    text = json.dumps({"cookiecutter": {"_template": "gh:acme/tpl", "_checkout": "v2.0.0", "name": "x"}})
    info = parse_cookiecutter_replay(text, ".cookiecutter_replay/tpl.json")
    assert (info.source, info.version) == ("gh:acme/tpl", "v2.0.0")


def test_flat_context_dump_without_version():
    info = parse_cookiecutter_replay('{"_template": "gh:acme/tpl", "version": "0.0.1"}', ".cookiecutter.json")
    assert (info.source, info.version) == ("gh:acme/tpl", None)


def test_invalid_json_names_line_and_column():
    with pytest.raises(ParseError, match=r"line 2, column \d+: invalid JSON"):
        parse_cookiecutter_replay('{\n  "template": ,\n}', ".cruft.json")


def test_json_without_template_is_refused():
    with pytest.raises(ParseError, match="no template"):
        parse_cookiecutter_replay('{"name": "x"}', ".cruft.json")


def test_dispatch_by_file_name():
    assert parse_template_file("_commit: v1\n_src_path: s\n", "svc/.copier-answers.ci.yaml").tool == "copier"
    assert parse_template_file('{"template": "t"}', ".cruft.json").tool == "cookiecutter"
    with pytest.raises(ParseError):
        parse_template_file("", "README.md")
