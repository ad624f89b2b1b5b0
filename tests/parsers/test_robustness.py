"""Whatever the input, parsers return evidence or raise ParseError: never anything else."""

from __future__ import annotations

import copy
import json
import random
import time

import pytest
import yaml

from pipelines import parsers
from pipelines.parsers import ParseError

PARSERS = {
    "catalog": (parsers.parse_catalog, "catalog-info.yaml"),
    "codeowners": (parsers.parse_codeowners, ".github/CODEOWNERS"),
    "copier": (parsers.parse_copier_answers, ".copier-answers.yml"),
    "cookiecutter": (parsers.parse_cookiecutter_replay, ".cruft.json"),
    "workflow": (parsers.parse_workflow, ".github/workflows/ci.yml"),
    "chart": (parsers.parse_chart, "Chart.yaml"),
    "requirements.yaml": (parsers.parse_requirements, "requirements.yaml"),
    "terraform": (parsers.parse_terraform, "main.tf"),
    "terraform-json": (parsers.parse_terraform, "main.tf.json"),
    "requirements.txt": (parsers.parse_dependency_manifest, "requirements.txt"),
    "pyproject": (parsers.parse_dependency_manifest, "pyproject.toml"),
    "package.json": (parsers.parse_dependency_manifest, "package.json"),
    "go.mod": (parsers.parse_dependency_manifest, "go.mod"),
    "pom": (parsers.parse_dependency_manifest, "pom.xml"),
    "gradle": (parsers.parse_dependency_manifest, "build.gradle.kts"),
    "k8s": (parsers.parse_k8s_text, "deploy/app.yaml"),
    "yaml": (parsers.load_yaml_documents, "any.yaml"),
}

SEEDS = {
    "catalog": "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: api\n  annotations:\n    a: b\nspec:\n  owner: group:team\n  type: service\n  lifecycle: production\n",
    "codeowners": "* @acme/platform\n/services/api/ @acme/payments # note\n[Section] @x\n/docs/\n",
    "copier": "_commit: v1.2.3\n_src_path: gh:acme/template\nname: x\n",
    "cookiecutter": '{"template": "gh:acme/t", "commit": "abc", "context": {"cookiecutter": {"_template": "t"}}}',
    "workflow": "name: ci\non:\n  push:\n    branches: [main]\njobs:\n  a:\n    uses: o/r/.github/workflows/x.yml@v1\n  b:\n    steps:\n      - uses: actions/checkout@v4\n",
    "chart": "apiVersion: v2\nname: app\nversion: 1.0.0\ndependencies:\n  - name: base\n    version: 1.2.3\n    repository: oci://r\n",
    "requirements.yaml": "dependencies:\n  - name: redis\n    version: ~1.0\n    repository: https://x\n",
    "terraform": 'module "a" {\n  source = "git::https://x/y.git?ref=v1"\n}\n# module "b" { source = "./b" }\n/* c */\nvariable "v" {\n  default = "${var.x}"\n}\n',
    "terraform-json": '{"module": {"a": {"source": "./a"}, "b": [{"source": "x/y/z", "version": "1"}]}}',
    "requirements.txt": "--index-url https://x\nflask==3.0 # web\nstructlog>=23\n-e git+https://x#egg=lib\n",
    "pyproject": '[project]\ndependencies = ["opentelemetry-api>=1"]\n[tool.poetry.dependencies]\npython = "^3.11"\nloguru = "*"\n',
    "package.json": '{"dependencies": {"pino": "^9", "@opentelemetry/api": "1"}, "devDependencies": {"x": "1"}}',
    "go.mod": "module example.com/x\n\ngo 1.22\n\nrequire (\n\tgo.uber.org/zap v1.27.0\n\tgithub.com/x/y v1 // indirect\n)\n",
    "pom": "<project><dependencies><dependency><groupId>g</groupId><artifactId>a</artifactId></dependency></dependencies></project>",
    "gradle": 'dependencies {\n    implementation("io.opentelemetry:opentelemetry-sdk:1.0")\n    add("x", "a:b:1")\n}\n',
    "k8s": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n        - name: c\n          image: i\n          env:\n            - {name: DB_PASSWORD, value: x}\n---\nkind: List\nitems:\n  - {kind: Service, metadata: {name: s}, spec: {selector: {a: b}}}\n",
    "yaml": "a: &x [1, 2]\nb: *x\n---\nc: {d: e}\n",
}

ALPHABET = " \t\n\r:-[]{}#'\"&*!|>%@`,?=<.~^$()\\/;0123456789abcdefghijklmnopqrstuvwxyzéß✓\u200b\u2028\ufeff"


def check(name: str, text: str) -> None:
    parse, file = PARSERS[name]
    try:
        parse(text, file)
    except ParseError as exc:
        assert exc.path == file and exc.reason
    except Exception as exc:  # pragma: no cover - the failure message is the point
        pytest.fail(f"{name} raised {type(exc).__name__}: {exc!r} for input {text[:200]!r}")


def mutate(rng: random.Random, text: str) -> str:
    chars = list(text)
    for _ in range(rng.randint(1, 6)):
        operation = rng.random()
        position = rng.randrange(len(chars) + 1)
        if operation < 0.4 and chars:
            del chars[min(position, len(chars) - 1)]
        elif operation < 0.8:
            chars.insert(position, rng.choice(ALPHABET))
        else:
            chars[position:position] = chars[rng.randrange(len(chars) + 1) :][:20]
    return "".join(chars)


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_random_and_mutated_text_raises_only_parse_error(name):
    rng = random.Random(f"fuzz-{name}")
    seed = SEEDS[name]
    check(name, seed)
    for _ in range(40):
        check(name, mutate(rng, seed))
    for _ in range(20):
        check(name, "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 120))))


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_binary_garbage_is_a_parse_error(name):
    rng = random.Random(f"binary-{name}")
    garbage = bytes(rng.randrange(256) for _ in range(2000)).decode("latin-1") + "\x00"
    parse, file = PARSERS[name]
    with pytest.raises(ParseError, match="binary"):
        parse(garbage, file)
    check(name, garbage.replace("\x00", ""))  # control characters without NUL: parse or ParseError


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_huge_input_is_refused(name):
    parse, file = PARSERS[name]
    with pytest.raises(ParseError, match="larger than"):
        parse("x" * 60_000_001, file)


@pytest.mark.parametrize("name", ["catalog", "workflow", "chart", "copier", "k8s", "yaml", "requirements.yaml"])
def test_alias_bomb_is_refused_by_every_yaml_parser(name):
    levels = ["a: &a [" + ",".join(['"lol"'] * 9) + "]"]
    for index, letter in enumerate("bcdefghi"):
        previous = "abcdefghi"[index]
        levels.append(f"{letter}: &{letter} [" + ",".join([f"*{previous}"] * 9) + "]")
    parse, file = PARSERS[name]
    started = time.perf_counter()
    with pytest.raises(ParseError, match="alias bomb"):
        parse("\n".join(levels) + "\n", file)
    assert time.perf_counter() - started < 1


def _structural_mutations(rng: random.Random, data: object, count: int):
    """Copies of ``data`` with one subtree replaced by a value of the wrong type."""
    replacements = [None, 0, -1, 3.5, True, "", "text", [], {}, [None], {"x": [1]}, [[]], {1: 2}]

    def paths(node, prefix=()):
        yield prefix
        if isinstance(node, dict):
            for key, value in node.items():
                yield from paths(value, (*prefix, key))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                yield from paths(value, (*prefix, index))

    all_paths = [path for path in paths(data) if path]
    for _ in range(count):
        mutated = copy.deepcopy(data)
        path = rng.choice(all_paths)
        target = mutated
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = copy.deepcopy(rng.choice(replacements))
        yield mutated


@pytest.mark.parametrize("name", ["catalog", "copier", "workflow", "chart", "requirements.yaml", "k8s", "cookiecutter", "package.json", "terraform-json"])
def test_wrong_types_anywhere_raise_only_parse_error(name):
    rng = random.Random(f"types-{name}")
    seed = SEEDS[name]
    is_json = name in ("cookiecutter", "package.json", "terraform-json")
    documents = [json.loads(seed)] if is_json else list(yaml.safe_load_all(seed))
    for index, document in enumerate(documents):
        for mutated in _structural_mutations(rng, document, 30):
            variant = documents[:index] + [mutated] + documents[index + 1 :]
            if is_json:
                text = json.dumps(variant[0])
            else:
                text = yaml.safe_dump_all(variant, sort_keys=False, allow_unicode=True)
            check(name, text)


def test_k8s_documents_of_any_shape_become_problems_not_crashes():
    rng = random.Random("k8s-documents")
    documents = list(yaml.safe_load_all(SEEDS["k8s"]))
    for mutated in _structural_mutations(rng, documents, 200):
        inventory = parsers.parse_k8s_documents(mutated, "fuzz.yaml")
        assert all(problem.path == "fuzz.yaml" for problem in inventory.problems)
