"""Make real git repositories for tests (plain git commands, fixed identities)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path

ENV = {
    "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo: Path, *args: str, when: dt.datetime | None = None) -> str:
    env = {**os.environ, **ENV}
    if when is not None:
        stamp = when.strftime("%Y-%m-%dT%H:%M:%S+0000")
        env.update(GIT_AUTHOR_DATE=stamp, GIT_COMMITTER_DATE=stamp)
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env, text=True).stdout.strip()


def init(repo: Path, branch: str = "main") -> Path:
    repo.mkdir(parents=True, exist_ok=True)
    git(repo, "init", "-q", "-b", branch)
    return repo


def commit(repo: Path, files: dict[str, str | bytes | None], message: str = "change",
           when: dt.datetime | None = None, symlinks: dict[str, str] | None = None) -> str:
    """Write (or delete, with None) files and symlinks, commit them, return the sha."""
    for rel, content in files.items():
        path = repo / rel
        if content is None:
            path.unlink(missing_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    for rel, target in (symlinks or {}).items():
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        path.symlink_to(target)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message, when=when)
    return git(repo, "rev-parse", "HEAD")


def catalog_info(name: str, owner: str = "payments", lifecycle: str = "production") -> str:
    """A minimal Backstage Component for `catalog-info.yaml`."""
    return (
        "apiVersion: backstage.io/v1alpha1\n"
        "kind: Component\n"
        f"metadata:\n  name: {name}\n"
        f"spec:\n  type: service\n  owner: {owner}\n  lifecycle: {lifecycle}\n"
    )
