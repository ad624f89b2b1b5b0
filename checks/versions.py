"""Version strings and golden-path releases: "how many releases behind is this?"

Versions come from many places (copier `_commit`, `uses: ...@v4`, Chart.yaml
dependency versions, Terraform `?ref=`), so parsing is deliberately forgiving:
anything that does not look like a version is reported as "not comparable"
(``None``) and the check says `unknown` or `warn`, never a guessed number.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

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


def normalise_version(version: str) -> str:
    """`v1.2.3` -> `1.2.3`, `v1.2.3-4-gdeadbee` -> `1.2.3`, `~1.2.0` -> `1.2.0`."""
    v = version.strip().lower()
    v = _DESCRIBE_SUFFIX.sub("", v)
    v = v.lstrip(_FLOOR_OPERATORS)
    if v.endswith((".x", ".*")):
        v = v[:-2]
    return v


@lru_cache(maxsize=4096)
def version_key(version: str) -> tuple[int, ...] | None:
    """Numeric components of a version, or None when it is not a version at all."""
    m = _NUMERIC.match(normalise_version(version))
    if m is None:
        return None
    return tuple(int(p) for p in m.group(1).split("."))


def is_sha(ref: str) -> bool:
    r = ref.strip().lower()
    # All digits is far more likely a version or build number than a short sha.
    return _SHA.match(r) is not None and (len(r) == 40 or not r.isdigit())


def is_branch(ref: str) -> bool:
    return ref.strip().lower() in BRANCH_NAMES


def _padded(key: tuple[int, ...], width: int) -> tuple[int, ...]:
    return key + (0,) * (width - len(key))


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
    key = version_key(v)
    if key is None:
        return None
    keys = [version_key(r) for r in norm]
    # A floating tag (`@v4`, `1.x`) tracks the newest release that starts with it.
    prefixed = [i for i, k in enumerate(keys) if k is not None and len(k) > len(key) and k[: len(key)] == key]
    if prefixed:
        return last - prefixed[-1]
    comparable = [k for k in keys if k is not None]
    if not comparable:
        return None
    width = max(len(key), *(len(k) for k in comparable))
    mine = _padded(key, width)
    return sum(1 for k in comparable if _padded(k, width) > mine)


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
