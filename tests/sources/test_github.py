"""The GitHub source against a GitHub-shaped server on loopback, driven by the real PyGithub client."""

from __future__ import annotations

import datetime as dt

import pytest

from pipelines import stages
from pipelines.config import ConfigError, parse_config
from pipelines.demo import generate_demo
from pipelines.sources.local_git import LocalGitSource
from tests.fakes.github_server import FakeDeployment, FakeGitHub, FakeRun
from tests.gitrepo import commit, git, init
from tests.sources.github_support import TOKEN, TOKEN_ENV, comparable, crawl, make_source, serve_directory

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
CI = "name: ci\non:\n  push:\n    branches: [trunk]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps: [{run: make test}]\n"


def hostile_repo(root):
    """Content that trips naive crawlers, on a default branch that is not main, with tags."""
    repo = init(root / "hostile", branch="trunk")
    commit(repo, {"README.md": "# old"}, when=NOW - dt.timedelta(days=300))
    commit(
        repo,
        {
            "catalog-info.yaml": "kind: Component\nmetadata: {name: hostile\n",  # unterminated flow mapping
            "chart/Chart.yaml": b"\x89PNG\r\n\x1a\n\x00\x00",
            ".github/workflows/ci.yml": CI,
            "CODEOWNERS": "* @acme/platform\n",
            "deploy/app.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: hostile, namespace: prod}\n"
                               "spec:\n  replicas: 1\n  template:\n    metadata: {labels: {app: hostile}}\n"
                               "    spec: {containers: [{name: app, image: 'hostile:latest'}]}\n",
        },
        when=NOW - dt.timedelta(days=20),
        symlinks={"k8s/passwd.yaml": "/etc/passwd"},
    )
    git(repo, "tag", "v1.0.0")
    commit(repo, {"src/app.py": "print('hi')\n"}, when=NOW - dt.timedelta(days=5))
    git(repo, "tag", "-a", "v1.1.0", "-m", "release", when=NOW - dt.timedelta(days=4))
    return repo


@pytest.fixture(scope="module")
def parity(tmp_path_factory):
    """The demo organisation plus a hostile repo, crawled by both sources."""
    base = tmp_path_factory.mktemp("parity")
    generate_demo(base / "demo", end=NOW.date(), repos=14, teams=8, days=30)
    root = base / "demo" / "repos"
    hostile_repo(root)
    with pytest.MonkeyPatch.context() as mp, FakeGitHub(tokens=(TOKEN,)) as github:
        mp.setenv(TOKEN_ENV, TOKEN)
        names = serve_directory(github, root)
        crawls, result = crawl(make_source(github, base / "state"))
        hits = list(github.hits)
    local = LocalGitSource(root)
    return names, crawls, {n: local.crawl(n) for n in names}, result, hits


def test_evidence_matches_the_local_clone_source(parity):
    names, crawls, local, _, _ = parity
    assert sorted(crawls) == names and len(names) >= 15
    for name in names:
        got, want = crawls[name], local[name]
        for key, value in comparable(want.facts).items():
            assert comparable(got.facts)[key] == value, f"{name}: {key} differs"
        assert got.commits == want.commits, name
        assert got.tags == want.tags, name
        assert got.facts.source == "github" and got.facts.location.endswith(f"/acme/{name}")


def test_parity_covers_hostile_content_and_history(parity):
    _, crawls, _, _, _ = parity
    hostile = crawls["hostile"]
    reasons = {p.path: p.reason for p in hostile.facts.problems}
    assert hostile.facts.default_branch == "trunk"
    assert "binary" in reasons["chart/Chart.yaml"] and "outside" in reasons["k8s/passwd.yaml"]
    assert "catalog-info.yaml" in reasons
    assert [t.name for t in hostile.tags] == ["v1.0.0", "v1.1.0"]
    assert hostile.facts.workflows and hostile.facts.codeowners is not None
    assert crawls["new-service-sandbox"].facts.error.startswith("empty repository")


def test_files_come_from_git_not_from_one_request_per_file(parity):
    names, _, _, result, hits = parity
    report = result.reports[0]
    per_repo = [h for h in hits if h.counted and h.operation != "OrgRepositories" and "/teams" not in h.path]
    assert len(per_repo) <= 3 * len(names)
    assert not any("/contents/" in h.path or "/git/blobs" in h.path for h in hits)
    assert report["git_fetches"] == len(names) - 1  # the empty repo has nothing to fetch
    assert report["counted"] == sum(1 for h in hits if h.counted)


def _org(github, tmp_path, repos=40):
    """`repos` repositories sharing one history, with CI runs, deployments and a team."""
    template = init(tmp_path / "template")
    sha = commit(template, {".github/workflows/ci.yml": CI.replace("trunk", "main"), "README.md": "# svc",
                            "catalog-info.yaml": "apiVersion: backstage.io/v1alpha1\nkind: Component\n"
                                                 "metadata: {name: svc}\nspec: {owner: payments, type: service}\n"},
                 when=NOW - dt.timedelta(days=3))
    for i in range(repos):
        github.add_repo(f"svc-{i:02d}", template, protected=i % 2 == 0,
                      runs=[FakeRun(i * 10 + 1, "CI", "main", sha, NOW - dt.timedelta(days=2))],
                      deployments=[FakeDeployment(i * 10 + 1, sha, "production", NOW - dt.timedelta(days=2),
                                                  [("SUCCESS", NOW - dt.timedelta(days=2))])])
    github.add_team("payments", members=["alice", "bob"])
    return template


def test_an_unchanged_org_recrawls_for_almost_nothing(github, tmp_path):
    _org(github, tmp_path, repos=40)
    first, result = crawl(make_source(github, tmp_path / "state"))
    assert all(c.facts.error is None for c in first.values())
    first_hits = [h for h in github.hits if h.counted and h.operation != "OrgRepositories" and "/teams" not in h.path]
    assert len(first_hits) <= 3 * 40

    github.clear_hits()
    again, result = crawl(make_source(github, tmp_path / "state"))
    beyond_inventory = [h for h in github.hits if h.counted and h.operation != "OrgRepositories"]
    assert len(beyond_inventory) <= 40 / 20
    assert not [h for h in github.hits if h.resource == "git"]  # nothing pushed: nothing fetched
    assert all(c.reused for c in again.values())
    for name, c in again.items():
        assert comparable(c.facts) == comparable(first[name].facts)
        assert c.facts.branch_protected == first[name].facts.branch_protected
        assert c.facts.ci_runs == first[name].facts.ci_runs
        assert c.deployments == first[name].deployments
    report = result.reports[0]
    assert report["not_modified"] >= 80 and report["per_repo_counted"] <= 0.05
    assert report["repos_unchanged"] == 40 and report["repos_fetched"] == 0


def test_only_repos_pushed_since_the_last_crawl_are_fetched(github, tmp_path):
    for name in ("a", "b", "c"):
        commit(init(tmp_path / name), {"README.md": name}, when=NOW - dt.timedelta(days=2))
        github.add_repo(name, tmp_path / name)
    crawl(make_source(github, tmp_path / "state"))
    commit(tmp_path / "b", {"SECURITY.md": "report privately"}, when=NOW - dt.timedelta(hours=1))
    github.clear_hits()
    crawls, result = crawl(make_source(github, tmp_path / "state"))
    fetched = {h.path.split("/")[2] for h in github.hits if h.resource == "git"}
    assert fetched == {"b.git"}
    assert "SECURITY.md" in crawls["b"].facts.files
    assert not crawls["b"].reused and crawls["a"].reused and crawls["c"].reused
    assert result.reports[0]["repos_fetched"] == 1


def test_api_only_facts(github, tmp_path):
    sha = commit(init(tmp_path / "svc"), {".github/workflows/ci.yml": CI.replace("trunk", "main")})
    commit(init(tmp_path / "locked"), {"README.md": "x"})
    commit(init(tmp_path / "old"), {"README.md": "x"})
    runs = [
        FakeRun(1, "CI", "main", sha, NOW - dt.timedelta(hours=5), duration_s=120),
        FakeRun(2, "CI", "main", sha, NOW - dt.timedelta(hours=3), conclusion="failure", duration_s=60),
        FakeRun(3, "Deploy production", "main", sha, NOW - dt.timedelta(hours=2)),
        FakeRun(4, "CI", "feature", sha, NOW - dt.timedelta(hours=1)),
    ]
    github.add_repo("svc", tmp_path / "svc", protected=True, runs=runs, topics=["payments", "python"], visibility="INTERNAL")
    github.add_repo("locked", tmp_path / "locked", branch_status=403)
    github.add_repo("old", tmp_path / "old", archived=True)
    crawls, result = crawl(make_source(github, tmp_path / "state", deploy_workflow_pattern="(?i)^deploy"))

    svc = crawls["svc"]
    assert svc.facts.branch_protected is True and svc.facts.archived is False
    assert svc.facts.ci_runs == [
        {"status": "completed", "conclusion": "failure", "created_at": runs[1].created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
         "duration_s": 60.0, "name": "CI"},
        {"status": "completed", "conclusion": "success", "created_at": runs[0].created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
         "duration_s": 120.0, "name": "CI"},
    ]
    assert svc.api["topics"] == ["payments", "python"] and svc.api["visibility"] == "INTERNAL"
    # No workflow files: no runs request, and CI runs are known to be none.
    assert crawls["locked"].facts.ci_runs == []
    assert not [h for h in github.hits if "/repos/acme/locked/actions" in h.path]
    # A token that may not read the branch leaves protection unknown, never "unprotected".
    locked = crawls["locked"].facts
    assert locked.branch_protected is None and locked.error is None
    assert any("403" in p.reason for p in locked.problems)
    old = crawls["old"].facts
    assert old.archived is True and not [h for h in github.hits if "/acme/old.git" in h.path]
    records, _ = stages.resolve(list(crawls.values()), parse_config({}, "x", tmp_path), None)
    assert {r.service for r in records} == {"svc", "locked"}  # archived repos are not scored
    assert result.known_teams == []


def test_org_teams_become_known_teams(github, tmp_path):
    commit(init(tmp_path / "svc"), {"README.md": "x"})
    github.add_repo("svc", tmp_path / "svc")
    github.page_size = 2  # three teams: two pages, followed by their Link header
    for slug in ("payments", "search", "platform"):
        github.add_team(slug, members=["alice", "bob", "carol"])
    _, result = crawl(make_source(github, tmp_path / "state"))
    assert result.known_teams == ["payments", "platform", "search"]
    ctx = stages.check_context(parse_config({"teams": [{"name": "growth"}]}, "x", tmp_path), NOW.date(), result)
    assert ctx.known_teams == {"growth", "payments", "platform", "search"}
    assert any("page=2" in h.path for h in github.hits if "/teams" in h.path)


def test_a_missing_token_is_a_source_error_not_a_crash(github, tmp_path, monkeypatch):
    monkeypatch.delenv(TOKEN_ENV)
    _, result = crawl(make_source(github, tmp_path / "state"))
    assert result.crawls == []
    [row] = result.source_status
    assert row["source"] == "github" and row["status"] == "error" and TOKEN_ENV in row["reason"]


def test_an_explicit_repo_list_reports_the_ones_it_cannot_see(github, tmp_path):
    commit(init(tmp_path / "svc"), {"README.md": "x"})
    github.add_repo("svc", tmp_path / "svc")
    github.add_repo("lib", tmp_path / "svc", owner="platform-team")
    crawls, _ = crawl(make_source(github, tmp_path / "state", repos=["svc", "platform-team/lib", "gone"]))
    assert sorted(crawls) == ["gone", "platform-team/lib", "svc"]
    assert crawls["svc"].facts.error is None and crawls["platform-team/lib"].facts.error is None
    assert "not found" in crawls["gone"].facts.error


def test_a_past_snapshot_reads_history_and_asks_the_api_nothing_per_repo(github, tmp_path):
    repo = init(tmp_path / "svc")
    commit(repo, {"README.md": "v1"}, when=NOW - dt.timedelta(days=20))
    commit(repo, {"README.md": "v2", "SECURITY.md": "x"}, when=NOW - dt.timedelta(days=2))
    github.add_repo("svc", repo, protected=True)
    crawls, _ = crawl(make_source(github, tmp_path / "state"), as_of=NOW - dt.timedelta(days=10))
    facts = crawls["svc"].facts
    assert "SECURITY.md" not in facts.files and facts.error is None
    assert facts.branch_protected is None and facts.ci_runs is None  # not known for a past day
    assert not [h for h in github.hits if "/branches/" in h.path or "/actions/" in h.path]


def test_app_installation_auth(github, tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    (tmp_path / "app.pem").write_bytes(pem)
    github.app_id, github.app_public_key = 4242, key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    github.tokens = set()  # only installation tokens the github mints are accepted
    commit(init(tmp_path / "svc"), {"README.md": "x"})
    github.add_repo("svc", tmp_path / "svc")
    app = {"app_id": 4242, "installation_id": 7, "private_key_path": tmp_path / "app.pem"}
    crawls, result = crawl(make_source(github, tmp_path / "state", app=app))
    assert crawls["svc"].facts.error is None and crawls["svc"].facts.files == ["README.md"]
    assert github.minted and all(h.status != 401 for h in github.hits)
    assert [h for h in github.hits if h.resource == "git" and h.authorization == "Basic" and h.status == 200]


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"organisation": "acme", "token": "ghp_abc"}, "token: Extra inputs are not permitted"),
        ({"organisation": "acme", "token_env": "ghp_0123456789abcdef"}, "looks like a token"),
        ({"organisation": "acme", "token_env": "0123456789abcdef0123"}, "name of an environment variable"),
        ({"organisation": "acme", "base_url": "https://x:ghp_abc@github.example.com/api/v3"}, "must not contain credentials"),
        ({"repos": ["svc"]}, "need `organisation`"),
        ({}, "set `organisation`"),
        ({"organisation": "acme", "deploy_workflow_pattern": "(unclosed"}, "not a valid regular expression"),
    ],
)
def test_config_names_the_token_variable_never_the_token(tmp_path, block, message):
    with pytest.raises(ConfigError) as err:
        parse_config({"sources": {"github": [block]}}, "scorecard.yaml", tmp_path)
    assert message in str(err.value) and "sources.github[0]" in str(err.value)
    assert "ghp_0123456789abcdef" not in str(err.value) and "0123456789abcdef0123" not in str(err.value)


def test_config_defaults_are_production_safe(tmp_path):
    cfg = parse_config({"sources": {"github": [{"organisation": "acme"}]}}, "x", tmp_path).sources.github[0]
    assert cfg.token_env == "GITHUB_TOKEN" and cfg.base_url == "https://api.github.com"
    assert cfg.seconds_between_requests > 0 and cfg.max_concurrency <= 4


def test_a_repo_without_recent_commits_is_fetched_at_depth_one(github, tmp_path):
    repo = init(tmp_path / "old")
    commit(repo, {"README.md": "v1"}, when=NOW - dt.timedelta(days=900))
    git(repo, "tag", "v0.1.0")
    commit(repo, {"README.md": "v2"}, when=NOW - dt.timedelta(days=800))
    github.add_repo("old", repo)
    crawls, _ = crawl(make_source(github, tmp_path / "state"))
    local = LocalGitSource(tmp_path).crawl("old")
    assert crawls["old"].facts.error is None
    assert comparable(crawls["old"].facts) == comparable(local.facts)
    assert crawls["old"].tags == local.tags and crawls["old"].commits == local.commits == []


def test_teams_the_token_may_not_read_are_a_note_not_a_failure(github, tmp_path):
    commit(init(tmp_path / "svc"), {"README.md": "x"})
    github.add_repo("svc", tmp_path / "svc")
    github.add_team("payments")
    github.inject("500", r"/teams\?", times=-1)
    crawls, result = crawl(make_source(github, tmp_path / "state", max_retries=1))
    assert crawls["svc"].facts.error is None and result.known_teams == []
    row = next(r for r in result.source_status if r["target"].startswith("github:"))
    assert row["status"] == "partial" and "teams not read" in row["reason"]
