"""CODEOWNERS files, matched the way GitHub matches them.

GitHub reads the file top to bottom and the *last* rule whose pattern matches
a path decides its owners; a matching rule with no owners leaves the path
unowned. Patterns use gitignore-like globbing; the regex translation comes from
the ``codeowners`` package (a port of hmarr/codeowners), while line parsing is
done here because the package treats ``@handles`` inside inline comments as
owners and drops lines it cannot read without saying so. As on GitHub, a line
with invalid syntax is skipped; it is reported in ``errors`` with its line number.

GitLab's sections (``[Section] @default-owners``, ``^[Optional]``) are
understood so GitLab-hosted files are not reported as broken: a path listed
without owners inside a section inherits the section's default owners. Matching
still follows GitHub's single last-match rule rather than GitLab's per-section
combination.
"""

from __future__ import annotations

import re
from functools import lru_cache

from codeowners import path_to_regex

from checks.evidence import CodeOwners, CodeOwnersRule
from pipelines.parsers._text import check_text

_SECTION = re.compile(r"^\^?\[([^\]]+)\](?:\[\d+\])?(?:\s+(.*))?$")
_OWNER = re.compile(r"^(?:@[A-Za-z0-9][\w.-]*(?:/[\w.-]+)?|[^@\s]+@[^@\s]+\.[^@\s]+)$")
# An unescaped space separates fields; "\ " is a literal space in a pattern.
_FIELDS = re.compile(r"(?:\\.|\S)+")


def parse_codeowners(text: str, file: str) -> CodeOwners:
    """The rules of a CODEOWNERS file, with every line GitHub would reject in ``errors``."""
    check_text(text, file, max_bytes=3_000_000)  # GitHub ignores files over 3 MB
    rules: list[CodeOwnersRule] = []
    errors: list[str] = []
    section_owners: list[str] = []
    # Only \n (and \r\n) end a line for git and GitHub; str.splitlines would also
    # split on form feeds and Unicode separators and shift the line numbers.
    for number, raw in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        section = _SECTION.match(line)
        if section:
            owners, bad = _owners(_FIELDS.findall(_drop_comment(section.group(2) or "")))
            section_owners = owners
            if bad:
                errors.append(f"line {number}: invalid owner {bad[0]!r} in section [{section.group(1)}]")
            continue
        fields = _FIELDS.findall(line)
        pattern, rest = fields[0], fields[1:]
        owners, bad = _owners(_until_comment(rest))
        problem = _pattern_problem(pattern)
        if problem:
            errors.append(f"line {number}: {problem}")
            continue
        if bad:
            # GitHub skips a line with invalid syntax entirely, valid owners included.
            errors.append(
                f"line {number}: invalid owner {bad[0]!r} (owners are @user, @org/team or an email address); "
                "GitHub ignores this line"
            )
            continue
        if "@" in pattern and not pattern.startswith("@"):
            errors.append(
                f"line {number}: pattern {pattern!r} contains '@'; is a space missing before the owner?"
            )
        if pattern.startswith("@"):
            errors.append(f"line {number}: rule starts with owner {pattern!r} instead of a path pattern")
            continue
        if not owners:
            owners = list(section_owners)
        rules.append(CodeOwnersRule(pattern=pattern, owners=owners, line=number))
    return CodeOwners(file=file, rules=rules, errors=errors)


def owners_for(co: CodeOwners, path: str, *, is_file: bool = False) -> list[str]:
    """Owners of ``path`` (relative to the repo root; "" is the root).

    By default ``path`` is a directory, such as a service's path in a
    monorepo, and the answer is who owns the code inside it: ``/services/api/``,
    ``services/**`` and ``*`` all own ``services/api``, while ``/services/*``
    (files directly in ``services/``) does not. Pass ``is_file=True`` for a file.
    An empty list means no rule matches, or the last match has no owners.
    """
    target = path.strip().strip("/")
    if not is_file:
        target = f"{target}/" if target else ""
    for rule in reversed(co.rules):
        regex = _regex(rule.pattern)
        if regex is not None and regex.search(target):
            return list(rule.owners)
    return []


def team_from_owner(owner: str) -> str | None:
    """``@acme/payments`` -> ``payments``; None for users and email addresses."""
    owner = owner.strip()
    if owner.startswith("@") and "/" in owner:
        team = owner.split("/", 1)[1]
        return team or None
    return None


@lru_cache(maxsize=8192)
def _compile(pattern: str) -> tuple[re.Pattern[str] | None, str | None]:
    try:
        return path_to_regex(pattern), None
    except (ValueError, re.error) as exc:
        return None, str(exc)


def _regex(pattern: str) -> re.Pattern[str] | None:
    return _compile(pattern)[0]


def _pattern_problem(pattern: str) -> str | None:
    if pattern.startswith("!"):
        return f"negated pattern {pattern!r} is not supported by CODEOWNERS"
    error = _compile(pattern)[1]
    return f"invalid pattern {pattern!r}: {error}" if error else None


def _owners(tokens: list[str]) -> tuple[list[str], list[str]]:
    owners: list[str] = []
    bad: list[str] = []
    for token in tokens:
        (owners if _OWNER.match(token) else bad).append(token)
    return owners, bad


def _until_comment(tokens: list[str]) -> list[str]:
    for index, token in enumerate(tokens):
        if token.startswith("#"):
            return tokens[:index]
    return tokens


def _drop_comment(text: str) -> str:
    position = text.find("#")
    return text if position < 0 else text[:position]


