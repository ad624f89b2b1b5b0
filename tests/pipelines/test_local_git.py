"""The local-clone source on real repositories, including hostile ones."""

import datetime as dt

import pytest

from pipelines.sources.local_git import LocalGitSource
from tests.gitrepo import catalog_info, commit, git, init


@pytest.fixture
def root(tmp_path):
    return tmp_path / "repos"


def crawl(root, name, as_of=None):
    return LocalGitSource(root).crawl(name, as_of)


def reasons(crawl_result):
    return {p.path: p.reason for p in crawl_result.facts.problems}


def test_reads_the_committed_tree_not_the_working_tree(root):
    repo = init(root / "svc")
    commit(repo, {"catalog-info.yaml": catalog_info("svc"), "README.md": "# svc"})
    (repo / "SECURITY.md").write_text("uncommitted")
    (repo / "catalog-info.yaml").write_text("kind: [broken")
    result = crawl(root, "svc")
    assert result.facts.error is None
    assert [e.name for e in result.facts.catalog] == ["svc"]
    assert "SECURITY.md" not in result.facts.files
    assert result.facts.default_branch == "main"


def test_malformed_yaml_is_a_problem_for_that_file_only(root):
    repo = init(root / "svc")
    commit(repo, {"catalog-info.yaml": "kind: Component\nmetadata: {name: x\n", "chart/Chart.yaml": "apiVersion: v2\nname: svc\nversion: 1.0.0\n"})
    result = crawl(root, "svc")
    assert "catalog-info.yaml" in reasons(result)
    assert [c.name for c in result.facts.helm_charts] == ["svc"]


def test_alias_bomb_is_refused(root):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
    )
    repo = init(root / "svc")
    commit(repo, {"catalog-info.yaml": bomb})
    assert "alias" in reasons(crawl(root, "svc"))["catalog-info.yaml"].lower()


def test_huge_file_is_skipped_without_reading_it(root):
    repo = init(root / "svc")
    commit(repo, {"catalog-info.yaml": "# padding\n" * 5_000_000})  # 50 MB
    reason = reasons(crawl(root, "svc"))["catalog-info.yaml"]
    assert "50.0 MB" in reason and "limit" in reason


def test_binary_and_invalid_utf8_files_get_a_readable_reason(root):
    repo = init(root / "svc")
    commit(repo, {"chart/Chart.yaml": b"\x89PNG\r\n\x1a\n\x00\x00", ".github/workflows/ci.yml": b"name: ci\non: push # caf\xe9\n"})
    got = reasons(crawl(root, "svc"))
    assert "binary" in got["chart/Chart.yaml"]
    assert "UTF-8" in got[".github/workflows/ci.yml"]


def test_symlink_outside_the_repo_is_not_followed(root, tmp_path):
    secret = tmp_path / "secret.yaml"
    secret.write_text("kind: Component\nmetadata: {name: stolen}\nspec: {owner: evil}\n")
    repo = init(root / "svc")
    commit(repo, {}, symlinks={"catalog-info.yaml": str(secret), "k8s/deploy.yaml": "../../../etc/passwd"})
    result = crawl(root, "svc")
    got = reasons(result)
    assert "outside the repository" in got["catalog-info.yaml"]
    assert "outside the repository" in got["k8s/deploy.yaml"]
    assert result.facts.catalog == []


def test_symlink_inside_the_repo_is_read_as_its_target(root):
    repo = init(root / "svc")
    commit(repo, {"meta/catalog.yaml": catalog_info("linked")}, symlinks={"catalog-info.yaml": "meta/catalog.yaml"})
    assert [e.name for e in crawl(root, "svc").facts.catalog] == ["linked"]


def test_empty_repo_is_an_error_not_a_crash(root):
    init(root / "empty")
    result = crawl(root, "empty")
    assert "empty repository" in result.facts.error


def test_repo_without_default_branch(root):
    repo = init(root / "odd", branch="feature-x")
    commit(repo, {"README.md": "x"})
    git(repo, "symbolic-ref", "HEAD", "refs/heads/gone")
    result = crawl(root, "odd")
    assert "no default branch" in result.facts.error
    assert "feature-x" in result.facts.error


def test_as_of_reads_the_tree_at_that_date(root):
    repo = init(root / "svc")
    commit(repo, {"README.md": "x"}, when=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    commit(repo, {"SECURITY.md": "y"}, when=dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
    before = crawl(root, "svc", dt.datetime(2026, 2, 1, tzinfo=dt.UTC))
    assert "SECURITY.md" not in before.facts.files and "README.md" in before.facts.files
    too_early = crawl(root, "svc", dt.datetime(2025, 12, 1, tzinfo=dt.UTC))
    assert too_early.facts.error.startswith("no commits on main")


def test_tags_use_tagger_date_when_annotated(root):
    repo = init(root / "svc")
    sha = commit(repo, {"README.md": "x"}, when=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    git(repo, "tag", "v1.0.0")
    git(repo, "tag", "-a", "v1.0.1", "-m", "release", when=dt.datetime(2026, 1, 3, tzinfo=dt.UTC))
    tags = {t.name: t for t in crawl(root, "svc").tags}
    assert tags["v1.0.0"].time == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert tags["v1.0.1"].time == dt.datetime(2026, 1, 3, tzinfo=dt.UTC)
    assert tags["v1.0.1"].sha == sha


def test_unchanged_head_reuses_cached_facts(root, tmp_path):
    repo = init(root / "svc")
    commit(repo, {"catalog-info.yaml": catalog_info("svc")})
    source = LocalGitSource(root, cache_dir=tmp_path / "cache")
    assert source.crawl("svc").reused is False
    again = source.crawl("svc")
    assert again.reused is True and [e.name for e in again.facts.catalog] == ["svc"]
    commit(repo, {"README.md": "new"})
    assert source.crawl("svc").reused is False


@pytest.fixture
def fact_code(tmp_path, monkeypatch):
    """A copy of the fact-producing source the crawler keys its cache by, to edit:
    {path below the import root: copied file}."""
    from pipelines.sources import local_git

    copies = []
    for name, path in local_git.fact_code_files():
        copy = tmp_path / "code" / name
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_bytes(path.read_bytes())
        copies.append((name, copy))
    real = local_git.facts_code_version()
    local_git.facts_code_version.cache_clear()
    monkeypatch.setattr(local_git, "fact_code_files", lambda: copies)
    # A copy of unchanged code is the same version: the key is the content, not where it lives.
    assert local_git.facts_code_version() == real
    yield dict(copies)
    local_git.facts_code_version.cache_clear()


def test_the_cache_key_changes_with_a_parser_s_source(fact_code):
    from pipelines.sources.local_git import facts_code_version

    before = facts_code_version()
    kubernetes = fact_code["pipelines/parsers/kubernetes.py"]
    kubernetes.write_text(kubernetes.read_text() + "\n# a changed heuristic\n")
    assert facts_code_version() == before  # computed once per process
    facts_code_version.cache_clear()
    assert facts_code_version() != before


def test_a_parser_change_invalidates_cached_facts_by_itself(root, tmp_path, fact_code):
    from pipelines.sources.local_git import facts_code_version

    repo = init(root / "svc")
    commit(repo, {"catalog-info.yaml": catalog_info("svc")})
    source = LocalGitSource(root, cache_dir=tmp_path / "cache")
    assert source.crawl("svc").reused is False
    assert source.crawl("svc").reused is True  # unchanged code and head: the cached facts

    parser = fact_code["pipelines/parsers/catalog.py"]
    original = parser.read_bytes()
    parser.write_bytes(original + b"\n# a changed rule\n")
    facts_code_version.cache_clear()
    changed = source.crawl("svc")
    assert changed.reused is False and [e.name for e in changed.facts.catalog] == ["svc"]
    assert source.crawl("svc").reused is True  # cached again, under the new version

    parser.write_bytes(original)
    facts_code_version.cache_clear()
    assert source.crawl("svc").reused is True  # the old version's entry is still there


def test_every_module_the_fact_code_imports_is_part_of_the_key():
    """A helper a parser starts to import changes the facts too: it must be in FACT_CODE."""
    import ast
    import importlib.util

    from pipelines.sources.local_git import FACT_CODE, fact_code_files

    # Crawl results around the facts (history, tags): not in the cached pickle.
    not_cached = {"pipelines.sources.base"}
    imported = set()
    for _, path in fact_code_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported.add(node.module)
                imported.update(f"{node.module}.{alias.name}" for alias in node.names)  # `from pipelines import parsers`
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)

    def is_module(name: str) -> bool:
        try:
            return importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:  # `from pipelines.parsers.x import a_function`
            return False

    modules = {m for m in imported if m.split(".")[0] in ("pipelines", "checks") and is_module(m)}
    uncovered = {
        m for m in modules - not_cached
        if not any(m == c or m.startswith(c + ".") or c.startswith(m + ".") for c in FACT_CODE)
    }
    assert uncovered == set()


def test_a_bare_mirror_named_x_git_is_the_repository_x(tmp_path):
    work = init(tmp_path / "work" / "payments")
    commit(work, {"README.md": "# payments"})
    root = tmp_path / "mirrors"
    root.mkdir()
    git(root, "clone", "-q", "--bare", str(work), "payments.git")
    source = LocalGitSource(root)
    assert source.repo_names() == ["payments"]
    result = source.crawl("payments")
    assert result.facts.error is None and result.facts.repo == "payments"
    assert "README.md" in result.facts.files


def test_a_bare_mirror_next_to_a_clone_of_the_same_name_keeps_its_suffix(tmp_path):
    root = tmp_path / "repos"
    commit(init(root / "payments"), {"README.md": "# clone"})
    git(root, "clone", "-q", "--bare", str(root / "payments"), "payments.git")
    assert LocalGitSource(root).repo_names() == ["payments", "payments.git"]
