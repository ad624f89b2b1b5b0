"""Version strings and golden-path releases: "how many releases behind is this?"

Versions come from many places (copier `_commit`, `uses: ...@v4`, Chart.yaml
dependency versions, Terraform `?ref=`), so parsing is deliberately forgiving:
anything that does not look like a version is reported as "not comparable"
(``None``) and the check says `unknown` or `warn`, never a guessed number.

Ordering is `packaging`'s (PEP 440, which also reads SemVer pre-releases):
`1.2.0-rc1` comes before `1.2.0`, so a release candidate is behind its
release. A suffix neither standard knows (`1.2.0-custom`) is compared by its
numbers alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from packaging.version import InvalidVersion, Version

# The numbers must end the string or be followed by a separator, so a commit
# sha that happens to start with a digit (`8f4b7f8`) is not version 8.
_NUMERIC = re.compile(r"^v?(\d+(?:\.\d+)*)(?:$|[-+_.])")
# `git describe` output as copier records it for a commit after a tag: v1.2.3-4-gdeadbee
_DESCRIBE_SUFFIX = re.compile(r"-\d+-g[0-9a-f]{4,40}$")
_SHA = re.compile(r"^[0-9a-f]{7,40}$")
# Helm-style constraints whose lower bound is the version actually guaranteed.
_FLOOR_OPERATORS = "~^=v "

# Refs that always move: pinning to them means "whatever is there today".
BRANCH_NAMES = frozenset({"main", "master", "develop", "dev", "trunk", "head", "latest", "stable"})


@lru_cache(maxsize=4096)  # asked dozens of times per service of the same few release names
def normalise_version(version: str) -> str:
    """`v1.2.3` -> `1.2.3`, `v1.2.3-4-gdeadbee` -> `1.2.3`, `~1.2.0` -> `1.2.0`."""
    v = version.strip().lower()
    v = _DESCRIBE_SUFFIX.sub("", v)
    v = v.lstrip(_FLOOR_OPERATORS)
    if v.endswith((".x", ".*")):
        v = v[:-2]
    return v


@lru_cache(maxsize=4096)
def parse_version(version: str) -> Version | None:
    """The version as `packaging` orders it, or None when it is not a version at all."""
    v = normalise_version(version)
    m = _NUMERIC.match(v)
    if m is None:
        return None
    try:
        return Version(v)
    except InvalidVersion:
        return Version(m.group(1))


def version_key(version: str) -> tuple[int, ...] | None:
    """Numeric release components of a version (`v1.2.3-rc.1` -> (1, 2, 3)), or None."""
    parsed = parse_version(version)
    return parsed.release if parsed is not None else None


def is_sha(ref: str) -> bool:
    r = ref.strip().lower()
    # All digits is far more likely a version or build number than a short sha.
    return _SHA.match(r) is not None and (len(r) == 40 or not r.isdigit())


def is_branch(ref: str) -> bool:
    return ref.strip().lower() in BRANCH_NAMES


def _release_list(releases: Sequence[str], latest: str | None) -> tuple[str, ...]:
    rel = tuple(releases)
    if latest and normalise_version(latest) not in {normalise_version(r) for r in rel}:
        rel = rel + (latest,)
    return rel


def latest_release(releases: Sequence[str], latest: str | None) -> str | None:
    return latest or (releases[-1] if releases else None)


@lru_cache(maxsize=4096)
def _behind(version: str, releases: tuple[str, ...]) -> int | None:
    norm = [normalise_version(r) for r in releases]
    v = normalise_version(version)
    last = len(releases) - 1
    if v in norm:
        # the newest occurrence wins when a release list repeats a version
        return norm[::-1].index(v)
    mine = parse_version(v)
    if mine is None:
        return None
    parsed = [parse_version(r) for r in norm]
    # A floating tag (`@v4`, `1.x`) tracks the newest release that starts with it.
    if not (mine.pre or mine.dev or mine.post or mine.local):
        key = mine.release
        prefixed = [i for i, k in enumerate(parsed)
                    if k is not None and len(k.release) > len(key) and k.release[: len(key)] == key]
        if prefixed:
            return last - prefixed[-1]
    comparable = [k for k in parsed if k is not None]
    if not comparable:
        return None
    return sum(1 for k in comparable if k > mine)


def releases_behind(version: str, releases: Sequence[str], latest: str | None = None) -> int | None:
    """How many releases (``releases`` is oldest -> newest, ``latest`` appended
    when it is not in the list) are newer than ``version``.

    None when the answer cannot be known: no releases configured, or the
    version is a commit sha / branch / anything that is not a version and is
    not itself one of the releases. A version newer than every release is 0
    behind (the release list in the config may lag the template repo).
    """
    rel = _release_list(releases, latest)
    if not rel or not version:
        return None
    return _behind(version, rel)
