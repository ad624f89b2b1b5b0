import time

import pytest

from pipelines.parsers import ParseError, load_yaml, load_yaml_documents

BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def test_libyaml_parser_is_used_when_available():
    import yaml

    from pipelines.parsers import yamlsafe

    if not yaml.__with_libyaml__:
        pytest.skip("PyYAML built without libyaml")
    assert "CParser" in [base.__name__ for base in yamlsafe._LOADERS["typed"].__mro__]


def test_multi_document_stream_skips_empty_documents():
    text = "---\na: 1\n---\n# only a comment\n---\nb: [x, y]\n---\n"
    assert load_yaml_documents(text, "m.yaml") == [{"a": 1}, {"b": ["x", "y"]}]


def test_billion_laughs_is_refused_quickly():
    started = time.perf_counter()
    with pytest.raises(ParseError) as caught:
        load_yaml_documents(BILLION_LAUGHS, "bomb.yaml")
    assert time.perf_counter() - started < 1
    assert "alias bomb" in caught.value.reason


def test_too_many_aliases_are_refused_even_when_small():
    text = "base: &b {x: 1}\n" + "".join(f"k{i}: *b\n" for i in range(150))
    with pytest.raises(ParseError, match="more than 100 aliases"):
        load_yaml_documents(text, "many.yaml")
    assert len(load_yaml_documents(text, "many.yaml", max_aliases=1000)[0]) == 151


def test_ordinary_anchors_and_merge_keys_still_work():
    text = "defaults: &d {cpu: 100m, memory: 64Mi}\napp:\n  <<: *d\n  memory: 128Mi\n"
    assert load_yaml(text, "a.yaml")["app"] == {"cpu": "100m", "memory": "128Mi"}


def test_recursive_alias_is_refused():
    with pytest.raises(ParseError, match="recursive alias"):
        load_yaml_documents("a: &a [*a]\n", "r.yaml")


def test_syntax_error_reports_line_and_column():
    text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n    namespace: y\n"
    with pytest.raises(ParseError) as caught:
        load_yaml_documents(text, "bad.yaml")
    assert caught.value.path == "bad.yaml"
    assert caught.value.reason.startswith("line 5, column 14: mapping values are not allowed")


def test_file_over_max_bytes_is_refused_without_parsing():
    with pytest.raises(ParseError, match="larger than 1,000 bytes"):
        load_yaml_documents("a: b\n" * 500, "big.yaml", max_bytes=1000)


def test_node_limit_counts_expanded_nodes():
    with pytest.raises(ParseError, match="more than 50 nodes"):
        load_yaml_documents("[" + ", ".join(str(i) for i in range(100)) + "]", "n.yaml", max_nodes=50)


def test_duplicate_keys_keep_the_last_value():
    assert load_yaml("name: first\nname: second\n", "d.yaml") == {"name": "second"}


def test_typed_schema_keeps_timestamps_as_text():
    data = load_yaml("created: 2024-01-02T03:04:05Z\nbad: 2024-13-45\nreplicas: 3\n", "t.yaml")
    assert data == {"created": "2024-01-02T03:04:05Z", "bad": "2024-13-45", "replicas": 3}


def test_strings_schema_keeps_what_was_written():
    text = "on: push\nversion: 1.10\ncommit: 0123456\nflag: yes\nempty:\nnull_value: null\n"
    assert load_yaml(text, "s.yaml", schema="strings") == {
        "on": "push",
        "version": "1.10",
        "commit": "0123456",
        "flag": "yes",
        "empty": None,
        "null_value": None,
    }


def test_unknown_tags_are_read_as_plain_values():
    assert load_yaml("bucket: !Ref MyBucket\nlist: !Split [a, b]\n", "cfn.yaml") == {
        "bucket": "MyBucket",
        "list": ["a", "b"],
    }


def test_load_yaml_wants_exactly_one_document():
    with pytest.raises(ParseError, match="empty"):
        load_yaml("# nothing here\n", "e.yaml")
    with pytest.raises(ParseError, match="found 2"):
        load_yaml("a: 1\n---\nb: 2\n", "two.yaml")


@pytest.mark.parametrize(
    "text",
    ["a: \x01", "!!binary not-base64!", "? [a]\n: b\n", "[" * 5000 + "]" * 5000, "a: '\ud800'", "%YAML 1.1\n%YAML 1.1\n---\na"],
)
def test_hostile_input_raises_only_parse_error(text):
    with pytest.raises(ParseError):
        load_yaml_documents(text, "x.yaml")


def test_pure_python_fallback_behaves_the_same(monkeypatch):
    from pipelines.parsers import yamlsafe

    python_loaders = {
        "typed": yamlsafe._make_loader(yamlsafe._TypedResolver, libyaml=False),
        "strings": yamlsafe._make_loader(yamlsafe._StringsResolver, libyaml=False),
    }
    assert "CParser" not in [base.__name__ for base in python_loaders["typed"].__mro__]
    monkeypatch.setattr(yamlsafe, "_LOADERS", python_loaders)
    assert load_yaml("on: push\nn: 3\n", "p.yaml", schema="strings") == {"on": "push", "n": "3"}
    with pytest.raises(ParseError, match="alias bomb"):
        load_yaml_documents(BILLION_LAUGHS, "bomb.yaml")
    with pytest.raises(ParseError, match="line 2, column 5: mapping values are not allowed here"):
        load_yaml_documents("a: 1\nb: c: d: e\n", "bad.yaml")
    with pytest.raises(ParseError, match="nested too deeply"):
        load_yaml_documents("[" * 3000 + "]" * 3000, "deep.yaml")
