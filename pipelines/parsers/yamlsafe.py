"""YAML loading that is safe to point at any file in any repository.

``yaml.safe_load`` already refuses to build arbitrary Python objects, but it
still expands aliases without limit (a "billion laughs" file of a few hundred
bytes describes 10^9 nodes: constructing it is cheap because PyYAML shares the
objects, but the first caller that walks or serialises it hangs). So documents
are composed into node graphs first (in C when libyaml is present), the graph's
*expanded* size and alias count are checked against limits, and only then are
Python objects built.

Two schemas are offered, because the tools that read these files disagree:

``"typed"`` (default)
    PyYAML's YAML 1.1 rules, as Kubernetes' Go decoder applies them to typed
    fields: ``replicas: 3`` is an int, ``runAsNonRoot: yes`` is True. Timestamps
    are left as strings: evidence stores them as text, and a malformed date
    would otherwise raise from deep inside PyYAML.
``"strings"``
    Every plain scalar except null stays the text that was written. This is how
    GitHub Actions (``on:`` is a key, not ``True``), Helm (``version: 1.10`` is
    not ``1.1``) and copier answers (``_commit: 0123456`` is a SHA, not octal)
    are read by their own tools, which decode those fields into strings.
"""

from __future__ import annotations

from typing import Literal

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from pipelines.parsers._text import check_text
from pipelines.parsers.errors import ParseError

Schema = Literal["typed", "strings"]

_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_KEEP_IN_STRINGS = {"tag:yaml.org,2002:null", "tag:yaml.org,2002:merge"}


class _TypedResolver(Resolver):
    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in rules if tag != _TIMESTAMP_TAG]
        for first, rules in Resolver.yaml_implicit_resolvers.items()
    }


class _StringsResolver(Resolver):
    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in rules if tag in _KEEP_IN_STRINGS]
        for first, rules in Resolver.yaml_implicit_resolvers.items()
    }


def _construct_untagged(loader: SafeConstructor, node: Node) -> object:
    # Unknown tags (`!Ref`, `!reference`, ...) are read as the value they wrap:
    # the parsers care about the data, and rejecting the whole file for a tag
    # some other tool understands would hide everything else in it.
    if isinstance(node, MappingNode):
        return loader.construct_yaml_map(node)
    if isinstance(node, SequenceNode):
        return loader.construct_yaml_seq(node)
    return loader.construct_scalar(node)


class _Constructor(SafeConstructor):
    pass


_Constructor.add_constructor(_TIMESTAMP_TAG, SafeConstructor.construct_yaml_str)
_Constructor.add_constructor(None, _construct_untagged)


def _make_loader(resolver: type[Resolver], *, libyaml: bool = yaml.__with_libyaml__) -> type:
    if libyaml:
        from yaml.cyaml import CParser

        class _CLoader(CParser, _Constructor, resolver):  # type: ignore[misc, valid-type]
            def __init__(self, stream: str) -> None:
                CParser.__init__(self, stream)
                _Constructor.__init__(self)
                resolver.__init__(self)

        return _CLoader

    # PyYAML built without libyaml: same behaviour, several times slower.
    from yaml.composer import Composer
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _PyLoader(Reader, Scanner, Parser, Composer, _Constructor, resolver):  # type: ignore[misc, valid-type]
        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)
            Composer.__init__(self)
            _Constructor.__init__(self)
            resolver.__init__(self)

    return _PyLoader


_LOADERS = {"typed": _make_loader(_TypedResolver), "strings": _make_loader(_StringsResolver)}


def load_yaml_documents(
    text: str,
    path: str,
    *,
    max_bytes: int = 5_000_000,
    max_aliases: int = 100,
    max_nodes: int = 200_000,
    schema: Schema = "typed",
) -> list:
    """Every non-empty document of a YAML stream, as plain Python data.

    ``max_nodes`` bounds the size of the data *after* alias expansion, summed
    over all documents; ``max_aliases`` bounds how many alias references the
    file may use. Duplicate mapping keys keep the last value, as most YAML
    readers do. Raises ParseError for anything else that is wrong, with the
    line and column when YAML reports one.
    """
    check_text(text, path, max_bytes)
    loader_cls = _LOADERS.get(schema)
    if loader_cls is None:
        raise ParseError(path, f"unknown YAML schema {schema!r}")
    documents: list = []
    budget = _Budget(path, max_nodes=max_nodes, max_aliases=max_aliases)
    try:
        loader = loader_cls(text)
        try:
            while loader.check_node():
                node = loader.get_node()
                if node is None:
                    continue
                budget.charge(node)
                data = loader.construct_document(node)
                if data is not None:
                    documents.append(data)
        finally:
            loader.dispose()
    except ParseError:
        raise
    except yaml.MarkedYAMLError as exc:
        raise ParseError(path, _describe_marked(exc)) from None
    except yaml.YAMLError as exc:
        raise ParseError(path, _describe_plain(exc)) from None
    except RecursionError:
        raise ParseError(path, "YAML is nested too deeply") from None
    except UnicodeError:
        raise ParseError(path, "file is not valid UTF-8 text") from None
    except (ValueError, TypeError, OverflowError) as exc:
        # PyYAML's constructors raise these for values such as an invalid
        # `!!binary` payload; the message is the best explanation available.
        raise ParseError(path, f"invalid YAML value: {exc}") from None
    return documents


def load_yaml(text: str, path: str, *, schema: Schema = "typed", **limits: int) -> object:
    """The single document of a file that must hold exactly one."""
    documents = load_yaml_documents(text, path, schema=schema, **limits)
    if not documents:
        raise ParseError(path, "file is empty (no YAML document)")
    if len(documents) > 1:
        raise ParseError(path, f"expected one YAML document, found {len(documents)}")
    return documents[0]


class _Budget:
    """Running totals of expanded nodes and aliases across a file's documents."""

    def __init__(self, path: str, *, max_nodes: int, max_aliases: int) -> None:
        self.path = path
        self.nodes_left = max_nodes
        self.max_nodes = max_nodes
        self.aliases = 0
        self.max_aliases = max_aliases

    def charge(self, root: Node) -> None:
        # Iterative post-order walk: documents can legitimately nest a thousand
        # levels deep, and sizes of shared (aliased) nodes are computed once,
        # so the walk is linear in the composed graph even when the expansion
        # is exponential.
        sizes: dict[int, int] = {}
        on_path: set[int] = set()
        stack: list[tuple[Node, bool]] = [(root, False)]
        while stack:
            node, finished = stack.pop()
            key = id(node)
            if finished:
                on_path.discard(key)
                size = 1 + sum(sizes[id(child)] for child in _children(node))
                if size > self.nodes_left:
                    raise ParseError(
                        self.path,
                        f"YAML expands to more than {self.max_nodes:,} nodes "
                        "(possible alias bomb); refusing to expand",
                    )
                sizes[key] = size
                continue
            if key in sizes:
                self.aliases += 1
                if self.aliases > self.max_aliases:
                    raise ParseError(
                        self.path,
                        f"YAML has more than {self.max_aliases:,} aliases "
                        "(possible alias bomb); refusing to expand",
                    )
                continue
            if key in on_path:
                line = node.start_mark.line + 1 if node.start_mark else "?"
                raise ParseError(
                    self.path, f"line {line}: recursive alias (a node contains itself); refusing to expand"
                )
            on_path.add(key)
            stack.append((node, True))
            stack.extend((child, False) for child in _children(node))
        self.nodes_left -= sizes[id(root)]


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return node.value
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, ScalarNode):
        return []
    return []


def _describe_marked(exc: yaml.MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "invalid YAML"
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    reason = f"{where}{problem}"
    if exc.problem and exc.context and exc.context_mark is not None:
        reason += f" ({exc.context} started at line {exc.context_mark.line + 1})"
    return reason


def _describe_plain(exc: yaml.YAMLError) -> str:
    reason = getattr(exc, "reason", None)
    if reason:
        character = getattr(exc, "character", None)
        if isinstance(character, int):
            reason = f"unacceptable character U+{character:04X}: {reason}"
        elif isinstance(character, str) and character:
            reason = f"unacceptable character {character!r}: {reason}"
        position = getattr(exc, "position", None)
        return f"{reason} (at character {position})" if position is not None else str(reason)
    return str(exc).replace('in "<unicode string>", ', "").strip() or "invalid YAML"
