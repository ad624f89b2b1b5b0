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

Matching is at worst linear in the rules for one path: each file's patterns
are compiled once (when parsed, or at the first lookup of a copy of a file
not seen before) into a matcher that lookups share, and a lookup scans the
rules from the end, stopping at the first (that is, the last) match. A shared
``lru_cache`` of compiled patterns used to thrash once a file had more rules
than the cache (~8,000): every lookup recompiled every pattern, about 2 s each.
"""

from __future__ import annotations

import heapq
import re
import threading
from collections import OrderedDict
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
    compiled: list[re.Pattern[str] | None] = []
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
        compiled.append(_regex(pattern))
    parsed = CodeOwners(file=file, rules=rules, errors=errors)
    _remember(parsed, compiled)
    return parsed


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
    return list(_matcher(co).owners(target))


class _Matcher:
    """One file's compiled rules, newest last, with the answers already given.

    A rule anchored to the root with a literal start (``/services/api/``,
    ``/apps/web/**``) can only match paths that start with that literal, so
    rules are filed by it: a lookup visits the rules filed under a prefix of
    its path plus the rules without one, newest first, and stops at the first
    match. In a monorepo's file of thousands of per-directory rules that is a
    handful of regex searches instead of one per rule; a file of unanchored
    globs is still scanned linearly.
    """

    def __init__(self, rules: list[CodeOwnersRule], compiled: list[re.Pattern[str] | None]) -> None:
        self.rules = rules  # kept: the cache checks identity, so the list must outlive its entry
        self.size = len(rules)
        self.compiled = compiled
        self.answers: dict[str, list[str]] = {}
        self.general: list[int] = []
        self.by_prefix: dict[str, list[int]] = {}
        for index, rule in enumerate(rules):
            prefix = _literal_prefix(rule.pattern)
            if prefix is None:
                self.general.append(index)
            else:
                self.by_prefix.setdefault(prefix, []).append(index)

    def _candidates(self, target: str):
        lists = [self.by_prefix[target[:n]] for n in range(1, len(target) + 1) if target[:n] in self.by_prefix]
        if not lists:
            return reversed(self.general)
        return heapq.merge(reversed(self.general), *(reversed(x) for x in lists), reverse=True)

    def owners(self, target: str) -> list[str]:
        known = self.answers.get(target)
        if known is not None:
            return known
        found: list[str] = []
        for index in self._candidates(target):
            regex = self.compiled[index]
            if regex is not None and regex.search(target):
                found = self.rules[index].owners
                break
        if len(self.answers) < 100_000:
            self.answers[target] = found
        return found


def _literal_prefix(pattern: str) -> str | None:
    """What every path a root-anchored pattern matches starts with, or None (mirrors ``path_to_regex``)."""
    slash = pattern.find("/")
    if slash < 0 or slash == len(pattern) - 1:
        return None  # not anchored: may match at any depth
    out = []
    for ch in pattern.strip("/"):
        if ch in "*?[\\":
            break
        out.append(ch)
    return "".join(out) or None


# Matchers by the identity of a parsed file's rule list: CodeOwners is a
# slotted, unhashable dataclass shared with the checks. The entry holds the
# list itself, so its id cannot be reused while the entry lives.
_MATCHERS: OrderedDict[int, _Matcher] = OrderedDict()
# Compiled patterns by file content: facts travel between Dagster steps (and
# through the crawl cache) as copies, and each copy must not recompile.
_COMPILED: OrderedDict[tuple[str, ...], list[re.Pattern[str] | None]] = OrderedDict()
_CACHE_SIZE = 256
_GUARD = threading.Lock()


def _remember(co: CodeOwners, compiled: list[re.Pattern[str] | None]) -> _Matcher:
    matcher = _Matcher(co.rules, compiled)
    patterns = tuple(r.pattern for r in co.rules)
    with _GUARD:
        _MATCHERS[id(co.rules)] = matcher
        _MATCHERS.move_to_end(id(co.rules))
        _COMPILED[patterns] = compiled
        _COMPILED.move_to_end(patterns)
        for cache in (_MATCHERS, _COMPILED):
            while len(cache) > _CACHE_SIZE:
                cache.popitem(last=False)
    return matcher


def _matcher(co: CodeOwners) -> _Matcher:
    with _GUARD:
        matcher = _MATCHERS.get(id(co.rules))
        if matcher is not None and matcher.rules is co.rules and matcher.size == len(co.rules):
            _MATCHERS.move_to_end(id(co.rules))
            return matcher
        # A copy of a file already compiled: one pass to build the key, no compiling.
        compiled = _COMPILED.get(tuple(r.pattern for r in co.rules))
    if compiled is None:
        compiled = [_regex(r.pattern) for r in co.rules]
    return _remember(co, compiled)


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


