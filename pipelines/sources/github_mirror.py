"""Local bare mirrors of GitHub repositories, fetched shallow over git smart HTTP.

Git traffic is not charged against the REST rate limit, and one fetch brings
every file the checks read plus the commits and tags lead time needs, so the
crawl reads files from the mirror with the local-clone code instead of asking
the API once per file.

The token reaches git as an `http.<origin>/.extraHeader` set through
`GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_n`/`GIT_CONFIG_VALUE_n` environment
variables: never in the remote URL, the command line, the mirror's
`config` file or an error message, and only sent to the git host itself.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

from pipelines import secrets

FETCH_TIMEOUT_S = 600


class MirrorError(Exception):
    pass


class RepoGone(MirrorError):
    """The remote repository does not exist (any more), or the token may not see it."""


# A GitHub Enterprise Server behind an internal CA needs these; every other GIT_*
# variable (GIT_DIR, GIT_TRACE_CURL, ...) could redirect or log the fetch.
_PASS_THROUGH = ("GIT_SSL_CAINFO", "GIT_SSL_CAPATH")


def _env(url: str, token: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") or k in _PASS_THROUGH}
    # Never prompt, never read the user's or system's config or credential helpers.
    env.update(GIT_TERMINAL_PROMPT="0", GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, GIT_ASKPASS="true")
    config = [
        ("credential.helper", ""),
        ("protocol.version", "2"),
        # Keep every fetch as one pack: a small fetch is otherwise exploded into
        # dozens of loose-object files per mirror, thousands across an org.
        ("fetch.unpackLimit", "1"),
        # Housekeeping in the foreground: a detached `gc` would outlive the crawl.
        ("gc.autoDetach", "false"),
        ("maintenance.autoDetach", "false"),
    ]
    if token:
        parts = urlsplit(url)
        basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
        config.append((f"http.{parts.scheme}://{parts.netloc}/.extraHeader", f"Authorization: Basic {basic}"))
    env["GIT_CONFIG_COUNT"] = str(len(config))
    for i, (key, value) in enumerate(config):
        env[f"GIT_CONFIG_KEY_{i}"] = key
        env[f"GIT_CONFIG_VALUE_{i}"] = value
    return env


def _run(args: list[str], env: dict[str, str], token: str | None, timeout: float) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", *args], capture_output=True, env=env, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise MirrorError(f"git {args[2] if len(args) > 2 else args[0]} timed out after {timeout:.0f} s") from None


def _last_line(proc: subprocess.CompletedProcess, token: str | None) -> str:
    lines = [ln for ln in proc.stderr.decode("utf-8", "replace").strip().splitlines() if ln.strip()]
    secrets.register(token)
    return secrets.redact(lines[-1] if lines else f"exit {proc.returncode}")


def ensure_mirror(mirror: Path, branch: str) -> bool:
    """Create the bare mirror if missing and point HEAD at `branch`; True when it was created."""
    head = mirror / "HEAD"
    created = not head.is_file()
    if not created and head.read_text(encoding="utf-8", errors="replace").strip() == f"ref: refs/heads/{branch}":
        return False  # the common case on a re-crawl: no git process at all
    env = _env("", None)
    if created:
        mirror.mkdir(parents=True, exist_ok=True)
        # No template: sample hooks are a dozen files per mirror, and nothing here runs hooks.
        proc = _run(["init", "--bare", "--quiet", "--template=", str(mirror)], env, None, 60)
        if proc.returncode != 0:
            raise MirrorError(f"git init failed: {_last_line(proc, None)}")
    # The local-clone reader takes HEAD as the default branch.
    proc = _run(["-C", str(mirror), "symbolic-ref", "HEAD", f"refs/heads/{branch}"], env, None, 60)
    if proc.returncode != 0:
        raise MirrorError(f"git symbolic-ref failed: {_last_line(proc, None)}")
    return created


def fetch(mirror: Path, url: str, branch: str, token: str | None, *, since: dt.datetime | None,
          timeout: float = FETCH_TIMEOUT_S, release_branches: tuple[str, ...] = ()) -> None:
    """Fetch the default branch, release branches and tags into `mirror`; shallow back to
    `since` on the first fetch. A release tagged or deployed off the default branch needs
    its branch's commits for lead time (pipelines.delivery)."""
    first = ensure_mirror(mirror, branch)
    env = _env(url, token)
    refspecs = [f"+refs/heads/{branch}:refs/heads/{branch}", "+refs/tags/*:refs/tags/*"]
    refspecs += [f"+refs/heads/{p}:refs/heads/{p}" for p in release_branches if p != branch]
    base = ["-C", str(mirror), "fetch", "--quiet", "--prune", "--no-write-fetch-head"]
    attempts = [[f"--shallow-since={int(since.timestamp())}"], ["--depth=1"]] if first and since else [[]]
    message = ""
    for depth in attempts:
        proc = _run([*base, *depth, url, *refspecs], env, token, timeout)
        if proc.returncode == 0:
            return
        message = _last_line(proc, token)
        stderr = proc.stderr.decode("utf-8", "replace").lower()
        if "not found" in stderr or "error: 404" in stderr:
            raise RepoGone(f"git fetch: {message}")
        # A repo with no commit since `since` fails with "no commits selected for
        # shallow requests"; the next attempt takes just the head commit.
    raise MirrorError(f"git fetch failed: {message}")
