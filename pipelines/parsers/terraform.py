"""Terraform ``module`` blocks (sources and versions) from ``.tf`` and ``.tf.json`` files.

HCL is parsed with python-hcl2, a real grammar, so commented-out modules
(``#``, ``//``, ``/* */``) and the ``source`` keys of ``required_providers``
are never mistaken for module sources, which a line regex cannot promise.
Measured at about 1 ms for a small file and 2-3 ms for a typical 1-2 KB one
once the grammar is loaded (~0.1 s, once per process), so a thousand-file
monorepo costs a few seconds. Files that do not contain the word ``module`` are
skipped without parsing, which also means a syntax error in such a file is not
reported: it has nothing to say about module adoption.

Source kinds follow Terraform's module-source rules (go-getter detection):
``./`` and ``../`` are local; ``git::``, ``git@host:``, ``github.com/`` and
``bitbucket.org/`` are git; other ``http(s)://`` URLs are fetched over HTTP;
``[host/]namespace/name/provider`` is a registry address; everything else
(``s3::``, ``gcs::``, ``hg::``, expressions) is "other".
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from checks.evidence import TerraformModule
from pipelines.parsers._text import check_text, load_json, scalar_str
from pipelines.parsers.errors import ParseError

_MAX_BYTES = 2_000_000
_FORCED_GETTER = re.compile(r"^([A-Za-z0-9]+)::")
_REGISTRY_PART = r"[0-9A-Za-z](?:[0-9A-Za-z_-]{0,62}[0-9A-Za-z])?"
_REGISTRY = re.compile(
    rf"^(?:(?P<host>[0-9A-Za-z.-]+\.[0-9A-Za-z.-]+(?::\d+)?)/)?{_REGISTRY_PART}/{_REGISTRY_PART}/{_REGISTRY_PART}$"
)


def parse_terraform(text: str, file: str) -> list[TerraformModule]:
    """The module calls in one Terraform file, in file order."""
    check_text(text, file, _MAX_BYTES)
    if file.endswith(".json"):
        blocks = _json_module_blocks(load_json(text, file, max_bytes=_MAX_BYTES), file)
    else:
        if "module" not in text:
            return []
        blocks = _hcl_module_blocks(text, file)
    modules: list[TerraformModule] = []
    for name, body in blocks:
        source = body.get("source")
        if not isinstance(source, str) or not source.strip():
            continue  # Terraform refuses a module without a literal source; nothing to report
        source = source.strip()
        kind = source_kind(source)
        if kind == "registry":
            version = scalar_str(body.get("version"))
        elif kind == "git":
            version = git_ref(source)
        else:
            version = None
        modules.append(TerraformModule(file=file, name=name, source=source, version=version, kind=kind))
    return modules


def source_kind(source: str) -> str:
    """registry | git | local | http | other, as Terraform would fetch ``source``."""
    if source.startswith(("./", "../", ".\\", "..\\")):
        return "local"
    forced = _FORCED_GETTER.match(source)
    if forced:
        return "git" if forced.group(1).lower() == "git" else "other"
    if "${" in source:
        return "other"
    lowered = source.lower()
    if lowered.startswith(("git@", "github.com/", "bitbucket.org/")):
        return "git"
    if lowered.startswith(("http://", "https://")):
        return "http"
    package, _subdir = split_subdir(source)
    if _REGISTRY.match(package):
        return "registry"
    return "other"


def split_subdir(source: str) -> tuple[str, str]:
    """Split ``pkg//sub/dir?query`` into (``pkg?query``, ``sub/dir``), like go-getter.

    The ``//`` may also come after the query (``repo?ref=v1//modules/x``); the
    query then still belongs to the package, so the ref is ``v1``.
    """
    offset = 0
    forced = _FORCED_GETTER.match(source)
    if forced:
        offset = forced.end()
    scheme = source.find("://", offset)
    if scheme != -1:
        offset = scheme + 3
    separator = source.find("//", offset)
    if separator == -1:
        return source, ""
    package, subdir = source[:separator], source[separator + 2 :]
    if "?" in subdir:
        subdir, query = subdir.split("?", 1)
        package = f"{package}?{query}"
    return package, subdir


def git_ref(source: str) -> str | None:
    """The ``ref`` query parameter of a git source, wherever the subdir sits."""
    package, _subdir = split_subdir(source)
    if "?" not in package:
        return None
    ref = None
    # Not parse_qs: it would turn the "+" of a build-metadata tag into a space.
    for parameter in package.split("?", 1)[1].split("&"):
        key, _, value = parameter.partition("=")
        if key == "ref":
            ref = unquote(value).strip() or None
    return ref


def _hcl_module_blocks(text: str, file: str) -> list[tuple[str, dict]]:
    document = _parse_hcl(text, file)
    raw = document.get("module")
    if not isinstance(raw, list):
        return []
    blocks: list[tuple[str, dict]] = []
    for entry in raw:
        if not isinstance(entry, dict):
            continue
        for name, body in entry.items():
            if isinstance(body, dict) and body.get("__is_block__"):
                blocks.append((str(name), body))
    return blocks


def _parse_hcl(text: str, file: str) -> dict:
    import hcl2  # ~0.1 s to import; only paid by processes that read Terraform
    from hcl2.utils import SerializationOptions
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

    options = SerializationOptions(with_comments=False, strip_string_quotes=True, explicit_blocks=True)
    try:
        document = hcl2.loads(text, serialization_options=options)
    except UnexpectedEOF:
        raise ParseError(file, "invalid HCL: unexpected end of file (unclosed block or string?)") from None
    except UnexpectedToken as exc:
        token = str(exc.token)[:40]
        if getattr(exc.token, "type", None) == "$END" or not token:
            raise ParseError(file, "invalid HCL: unexpected end of file (unclosed block or string?)") from None
        raise ParseError(file, f"line {exc.line}, column {exc.column}: invalid HCL: unexpected {token!r}") from None
    except UnexpectedCharacters as exc:
        raise ParseError(
            file, f"line {exc.line}, column {exc.column}: invalid HCL: unexpected character {exc.char!r}"
        ) from None
    except UnexpectedInput as exc:
        raise ParseError(file, f"line {exc.line}, column {exc.column}: invalid HCL") from None
    except RecursionError:
        raise ParseError(file, "invalid HCL: nested too deeply") from None
    except Exception as exc:  # noqa: BLE001 - hcl2's transformer raises assorted types on odd input
        raise ParseError(file, f"invalid HCL: {type(exc).__name__}: {str(exc)[:200]}") from None
    if not isinstance(document, dict):
        raise ParseError(file, "invalid HCL: the file is not a body of blocks and attributes")
    return document


def _json_module_blocks(document: object, file: str) -> list[tuple[str, dict]]:
    if not isinstance(document, dict):
        raise ParseError(file, "Terraform JSON must be an object at the top level")
    raw = document.get("module")
    entries = raw if isinstance(raw, list) else [raw]
    blocks: list[tuple[str, dict]] = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        for name, body in entry.items():
            if name == "//":  # Terraform JSON's comment key
                continue
            for item in body if isinstance(body, list) else [body]:
                if isinstance(item, dict):
                    blocks.append((str(name), item))
    return blocks
