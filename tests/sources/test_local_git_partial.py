"""Clones that lack some file contents: partial clones, deleted objects, LFS pointers.

A file whose content is not in the clone is that file's problem: the
repository is still scored, the checks reading that kind of file are
`unknown` naming it, and every other check keeps its value.
"""

import datetime as dt
import shutil
import subprocess

import pytest

from checks import file_kinds
from pipelines import stages
from pipelines.config import parse_config
from pipelines.sources.local_git import LocalGitSource
from tests.gitrepo import ENV, catalog_info, commit, git, init

TODAY = dt.datetime.now(dt.UTC).date()
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


def findings(root, work):
    """{check id: (status, detail)} for the one service under `root`, through the run's own stages."""
    cfg = parse_config({"sources": {"repos": [{"root": str(root)}]}, "warehouse": {"path": str(work / "w.duckdb")}},
                       "test", work)
    crawl = stages.crawl_repos(stages.repo_sources(cfg), None)
    assert [c.facts.error for c in crawl.crawls] == [None]
    records, _ = stages.resolve(crawl.crawls, cfg, None)
    metrics = stages.delivery_metrics(records, crawl.crawls, stages.Events(), cfg, TODAY)
    evidence = stages.assemble_evidence(records, crawl.crawls, None, metrics, TODAY)
    results = stages.evaluate_checks(evidence, cfg.check_context(TODAY))
    assert set(results.service) == {"svc"}
    return {r.check_id: (r.status, r.detail) for r in results.itertuples()}, crawl.crawls[0]


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


def test_a_partial_clone_is_scored_and_only_the_checks_reading_the_missing_file_are_unknown(source, tmp_path):
    partial_root = tmp_path / "partial"
    partial_root.mkdir()
    # What a crawler fetching with a blob filter has: every file listed, big contents left out.
    run("git", "clone", "-q", "--bare", "--filter=blob:limit=2k", f"file://{source}", str(partial_root / "svc.git"))
    manifest = git(source, "rev-parse", "HEAD:k8s/deploy.yaml")
    assert missing_objects(partial_root / "svc.git") == {manifest}

    full, _ = findings(source.parent, tmp_path / "work-full")
    partial, crawl = findings(partial_root, tmp_path / "work-partial")

    assert [(u.path, u.kind) for u in crawl.facts.unreadable] == [("k8s/deploy.yaml", "k8s")]
    assert "k8s/deploy.yaml" in crawl.facts.files
    # The promisor remote is right there, yet the crawl fetched nothing.
    assert missing_objects(partial_root / "svc.git") == {manifest}

    reading = {c for c, kinds in file_kinds.READS.items() if "k8s" in kinds}
    assert reading and set(full) == set(partial)
    for check_id, (status, detail) in partial.items():
        if check_id in reading:
            assert status == "unknown", (check_id, status, detail)
            assert detail.startswith("k8s/deploy.yaml: not available in this clone"), (check_id, detail)
        else:
            assert (status, detail) == full[check_id], check_id
    # The manifest was readable in the full clone: the partial one did change these.
    assert full["has_readiness_probes"][0] == "pass" and full["no_latest_image_tags"][0] == "pass"
    assert full["has_codeowners"][0] == partial["has_codeowners"][0] == "pass"


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


def test_a_missing_tree_leaves_out_that_directory_only(tmp_path):
    repo = init(tmp_path / "repos" / "svc")
    commit(repo, {"CODEOWNERS": "* @acme/payments\n", "k8s/deploy.yaml": DEPLOYMENT}, "service")
    tree = git(repo, "rev-parse", "HEAD:k8s")
    (repo / ".git" / "objects" / tree[:2] / tree[2:]).unlink()

    crawl = LocalGitSource(repo.parent).crawl("svc")
    assert crawl.facts.error is None
    assert crawl.facts.files == ["CODEOWNERS"] and crawl.facts.codeowners is not None
    assert any(p.path == "k8s" and "not available in this clone" in p.reason for p in crawl.facts.problems)


def test_git_lfs_pointers_are_unreadable_content(tmp_path):
    pointer = (
        "version https://git-lfs.github.com/spec/v1\n"
        "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n"
    )
    repo = init(tmp_path / "repos" / "svc")
    commit(repo, {**FILES, "CODEOWNERS": pointer, ".gitattributes": "CODEOWNERS filter=lfs diff=lfs merge=lfs -text\n"},
           "service")
    results, crawl = findings(repo.parent, tmp_path / "work")
    assert [(u.path, u.kind) for u in crawl.facts.unreadable] == [("CODEOWNERS", "codeowners")]
    status, detail = results["has_codeowners"]
    assert status == "unknown" and detail.startswith("CODEOWNERS: not available in this clone: stored in Git LFS")
    assert results["has_readiness_probes"][0] == "pass"  # the rest of the repository is scored


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
