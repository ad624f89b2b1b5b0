"""What every section of `scorecard.yaml` shares: strict models and how problems are reported.

A validator reports a problem with :func:`problem` (its text printed as
written) or several at once, each at its own key path, with :func:`problems`;
`pipelines.config` turns them into one ConfigError naming the file.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError


def _valid_regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from exc
    return value


# Every pattern key of the config: it compiles, or the error says why.
Regex = Annotated[str, AfterValidator(_valid_regex)]


def api_url(value: str, example: str, secrets_in: str = "the token's environment variable in token_env") -> str:
    """A source's base URL: http(s), no credentials in it (they belong in environment
    variables), no trailing slash. One rule for every API source (GitHub, Backstage,
    Argo CD, Jira)."""
    if not value.startswith(("https://", "http://")):
        raise ValueError(f"expected an http(s) URL such as {example}, got {value!r}")
    if "@" in value.split("//", 1)[1].split("/", 1)[0]:
        raise ValueError(f"must not contain credentials; name {secrets_in}")
    return value.rstrip("/")


def problem(message: str) -> PydanticCustomError:
    # A custom error prints as written ("Value error, " prefixes a ValueError's text).
    return PydanticCustomError("invalid", "{message}", {"message": message})


def problems(title: str, found: list[tuple[tuple, str]]) -> None:
    """Raise every problem a validator found at once, each at its own key path."""
    if found:
        raise ValidationError.from_exception_data(
            title, [InitErrorDetails(type=problem(message), loc=loc, input=None) for loc, message in found]
        )


class Model(BaseModel):
    """A section of the config file."""

    # Unknown keys are almost always typos ("golden_path" for "golden_paths"):
    # reject them so the user hears about it instead of silently getting defaults.
    model_config = ConfigDict(extra="forbid")


def with_more_problems(title: str, data: object, handler, more) -> object:
    """Validate with ``handler``, then add ``more(data)``'s problems: every error of the value at once."""
    try:
        value, found = handler(data), []
    except ValidationError as exc:
        value = None
        found = [(tuple(e["loc"]), e["msg"]) for e in exc.errors()]
    found += [extra for extra in more(data) if extra not in found]
    problems(title, found)
    return value


def raw_mapping(data: object) -> dict:
    """The input a wrap validator saw, as a mapping: problems are read from what the file said."""
    return data if isinstance(data, dict) else (data.model_dump() if isinstance(data, BaseModel) else {})
