"""Guards shared by the parsers: size limits, binary detection, number formatting."""

from __future__ import annotations

import json

from pipelines.parsers.errors import ParseError

DEFAULT_MAX_BYTES = 5_000_000


def check_text(text: object, path: str, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """Return ``text`` if it is a reasonably sized text file, else raise ParseError."""
    if not isinstance(text, str):
        raise ParseError(path, f"expected text, got {type(text).__name__}")
    # A character is at most 4 UTF-8 bytes, so most texts never need encoding to be measured.
    if len(text) > max_bytes or (len(text) * 4 > max_bytes and _utf8_len(text) > max_bytes):
        raise ParseError(path, f"file is larger than {max_bytes:,} bytes; refusing to parse")
    if "\x00" in text:
        raise ParseError(path, "binary file (contains NUL bytes), not text")
    return text


def _utf8_len(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def scalar_str(value: object) -> str | None:
    """A YAML/JSON scalar as a string; None for null, containers and empty strings."""
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value).strip()
    return text or None


def load_json(text: str, file: str, *, max_bytes: int = 5_000_000) -> object:
    """JSON with size and nesting guarded, errors as ParseError with line and column."""
    check_text(text, file, max_bytes)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(file, f"line {exc.lineno}, column {exc.colno}: invalid JSON: {exc.msg}") from None
    except RecursionError:
        raise ParseError(file, "JSON is nested too deeply") from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise ParseError(file, f"invalid JSON value: {exc}") from None
