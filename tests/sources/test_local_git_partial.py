"""Clones that lack some file contents: partial clones, deleted objects, LFS pointers.

A file whose content is not in the clone is that file's problem: the
repository is still scored, the checks reading that kind of file are
`unknown` naming it, and every other check keeps its value.
"""

import shutil
import subprocess

import pytest

from pipelines.sources.local_git import LocalGitSource
from tests.gitrepo import ENV, catalog_info, commit, git, init

CI = (
    "name: ci\non:\n  push:\n    branches: [main]\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
    "    steps:\n      - uses: actions/checkout@v4\n"
)
DEPLOYMENT = (
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: svc\n  namespace: prod\n"
    "spec:\n  replicas: 2\n  template:\n    metadata:\n      labels: {app: svc}\n    spec:\n"
    "      containers:\n        - name: app\n          image: ghcr.io/acme/svc:1.2.3\n"
    "          readinessProbe: {httpGet: {path: /ready, port: 8080}}\n"
    "          livenessProbe: {httpGet: {path: /live, port: 8080}}\n"
    "          resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {memory: 256Mi}}\n"
    "          securityContext: {runAsNonRoot: true, runAsUser: 10001}\n"
)
# Big enough for a `blob:limit` clone to leave out, as crawlers do with large files.
PADDING = "".join(f"# generated manifest, line {i:04d} of padding to make the file large\n" for i in range(120))
FILES = {
    "catalog-info.yaml": catalog_info("svc"),
    "CODEOWNERS": "* @acme/payments\n",
    ".github/workflows/ci.yml": CI,
    "pyproject.toml": '[project]\nname = "svc"\ndependencies = ["opentelemetry-distro", "structlog"]\n',
    "README.md": "# svc\n",
    "k8s/deploy.yaml": DEPLOYMENT + PADDING,
}


def run(*args, cwd=None):
    env = {**ENV, "PATH": "/usr/bin:/bin:/usr/local/bin"}
    return subprocess.run(args, cwd=cwd, check=True, capture_output=True, text=True, env=env).stdout.strip()


def crawl_of(root, cache=None):
    source = LocalGitSource(root, cache_dir=cache)
    (name,) = source.repo_names()
    return source.crawl(name)


def missing_objects(repo) -> set[str]:
    """Objects the clone lacks, asked the one way git answers without fetching them."""
    out = run("git", "-C", str(repo), "rev-list", "--objects", "--all", "--missing=print")
    return {line[1:] for line in out.splitlines() if line.startswith("?")}


@pytest.fixture
def source(tmp_path):
    repo = init(tmp_path / "source" / "svc")
    commit(repo, FILES, "service")
    git(repo, "config", "uploadpack.allowFilter", "true")
    return repo


def test_a_blob_less_clone_still_scores_what_needs_no_content(source, tmp_path):
    root = tmp_path / "blobless"
    root.mkdir()
    run("git", "clone", "-q", "--bare", "--filter=blob:none", f"file://{source}", str(root / "svc.git"))
    crawl = crawl_of(root)
    assert crawl.facts.error is None
    assert sorted(crawl.facts.files) == sorted(FILES)
    assert {u.path for u in crawl.facts.unreadable} == set(FILES) - {"README.md"}  # README is not parsed
    assert all("not available in this clone" in u.reason for u in crawl.facts.unreadable)


def test_a_deleted_blob_reads_as_absent_not_as_a_broken_repository(tmp_path):
    repo = init(tmp_path / "repos" / "svc")
    commit(repo, {"CODEOWNERS": "* @acme/payments\n", ".github/workflows/ci.yml": CI, "k8s/deploy.yaml": DEPLOYMENT},
           "service", symlinks={"deploy/app.yaml": "../k8s/deploy.yaml"})
    blob = git(repo, "rev-parse", "HEAD:k8s/deploy.yaml")
    # No promisor: git simply does not have it (`ls-tree --long` prints BAD as its size).
    (repo / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    assert "BAD" in git(repo, "ls-tree", "-r", "--long", "HEAD")

    crawl = LocalGitSource(repo.parent).crawl("svc")
    assert crawl.facts.error is None
    unreadable = {u.path: (u.kind, u.reason) for u in crawl.facts.unreadable}
    assert unreadable["k8s/deploy.yaml"][0] == "k8s"
    assert "not available in this clone" in unreadable["k8s/deploy.yaml"][1]
    assert "deploy/app.yaml" in unreadable  # a symlink to it cannot be read either
    assert crawl.facts.codeowners is not None and [w.file for w in crawl.facts.workflows] == [".github/workflows/ci.yml"]


def test_facts_with_gaps_are_not_cached_for_the_next_run(source, tmp_path):
    # Same repository, same head, fetched in full since: the next crawl must
    # read the files, not keep the gaps of the partial one until the head moves.
    root = tmp_path / "same"
    root.mkdir()
    run("git", "clone", "-q", "--bare", "--filter=blob:limit=2k", f"file://{source}", str(root / "svc.git"))
    cache = tmp_path / "cache"
    first = crawl_of(root, cache)
    shutil.rmtree(root / "svc.git")
    run("git", "clone", "-q", "--bare", f"file://{source}", str(root / "svc.git"))
    second = crawl_of(root, cache)
    third = crawl_of(root, cache)
    assert first.facts.unreadable and not second.reused and second.facts.unreadable == []
    assert third.reused  # complete facts are cached as before
