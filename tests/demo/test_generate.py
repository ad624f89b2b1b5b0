"""The demo organisation generator: deterministic, consistent, and telling the story it claims."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml
from pipelines.demo import generate_demo
from pipelines.demo.org import (
    ARCHIVED_REPO,
    BROKEN_REPO,
    EMPTY_REPO,
    LIBRARY_REPO,
    MONOREPO,
    MONOREPO_COMPONENTS,
    plan_org,
)

END = dt.date(2026, 11, 26)
SMALL = {"repos": 12, "teams": 3, "days": 30, "seed": 7}
GIT_ENV = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def git(repo: Path, *args: str, check: bool = True) -> str:
    proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, env=GIT_ENV)
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} in {repo}: {proc.stderr}")
    return proc.stdout.strip()


def show(repo: Path, rev: str, path: str) -> str:
    return git(repo, "show", f"{rev}:{path}")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "demo"
    messages: list[str] = []
    summary = generate_demo(out, end=END, progress=messages.append, **SMALL)
    return out, summary, messages


@pytest.fixture(scope="module")
def service_repo() -> dict[str, str]:
    plan = plan_org(repos=SMALL["repos"], teams=SMALL["teams"], days=SMALL["days"], seed=SMALL["seed"])
    return {c.name: p.name for p in plan.repos for c in p.components}


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def repo_dirs(out: Path) -> list[Path]:
    return sorted(p for p in (out / "repos").iterdir() if p.is_dir())


def test_same_arguments_give_identical_files_and_commit_shas(demo, tmp_path):
    out, _, _ = demo
    again = tmp_path / "again"
    generate_demo(again, end=END, **SMALL)
    for repo in repo_dirs(out):
        refs = git(repo, "for-each-ref", "--format=%(refname) %(objectname)")
        assert refs == git(again / "repos" / repo.name, "for-each-ref", "--format=%(refname) %(objectname)"), repo.name
    for rel in (
        "events/deployments.jsonl",
        "events/incidents.jsonl",
        "clusters/prod-eu.json",
        "clusters/staging-eu.yaml",
        "scorecard.yaml",
        "README.md",
    ):
        assert (out / rel).read_bytes() == (again / rel).read_bytes(), rel


def test_another_seed_gives_another_history(demo, tmp_path):
    out, _, _ = demo
    other = tmp_path / "other"
    generate_demo(other, end=END, **{**SMALL, "seed": 8})
    heads = [git(r, "rev-parse", "HEAD", check=False) for r in repo_dirs(out)]
    other_heads = [git(r, "rev-parse", "HEAD", check=False) for r in repo_dirs(other)]
    assert heads != other_heads


def test_counts_match_the_request_and_the_summary(demo):
    out, summary, _ = demo
    repos = repo_dirs(out)
    assert len(repos) == SMALL["repos"] == summary.repos
    assert all((r / ".git").is_dir() for r in repos)
    config = yaml.safe_load((out / "scorecard.yaml").read_text())
    assert len(config["teams"]) == SMALL["teams"] == summary.teams
    assert {MONOREPO, BROKEN_REPO, EMPTY_REPO, LIBRARY_REPO, ARCHIVED_REPO} <= {r.name for r in repos}
    assert summary.deployment_events == len(read_jsonl(out / "events/deployments.jsonl"))
    assert summary.incident_events == len(read_jsonl(out / "events/incidents.jsonl"))


def test_monorepo_declares_every_component_in_both_catalog_styles(demo):
    out, summary, _ = demo
    repo = out / "repos" / MONOREPO
    files = git(repo, "ls-tree", "-r", "--name-only", "HEAD").splitlines()
    components = {}
    for path in (f for f in files if f.endswith("catalog-info.yaml")):
        for doc in yaml.safe_load_all(show(repo, "HEAD", path)):
            if doc["kind"] == "Component":
                components[doc["metadata"]["name"]] = (path, doc["metadata"]["annotations"])
    assert set(components) == {name for name, *_ in MONOREPO_COMPONENTS}
    assert summary.monorepo_components == len(MONOREPO_COMPONENTS)
    own = [n for n, (path, _) in components.items() if path != "catalog-info.yaml"]
    listed = [
        n
        for n, (path, ann) in components.items()
        if path == "catalog-info.yaml" and f"/services/{n}/" in ann["backstage.io/source-location"]
    ]
    assert own and listed
    codeowners = show(repo, "HEAD", ".github/CODEOWNERS")
    owners = {line.split()[1] for line in codeowners.splitlines() if line.startswith("/services/")}
    assert len(owners) >= 2, "the monorepo's paths belong to different teams"


def test_deployments_reference_commits_of_their_own_repo_in_time_order(demo, service_repo):
    out, _, _ = demo
    deploys = read_jsonl(out / "events/deployments.jsonl")
    assert deploys
    assert [d["deployed_at"] for d in deploys] == sorted(d["deployed_at"] for d in deploys)
    assert {d["environment"] for d in deploys} == {"production", "staging"}
    assert {d["status"] for d in deploys} <= {"success", "failure"}
    by_repo: dict[str, list[dict]] = {}
    for d in deploys:
        assert d["deployed_at"].endswith("Z")
        by_repo.setdefault(service_repo[d["service"]], []).append(d)
    for repo_name, rows in by_repo.items():
        repo = out / "repos" / repo_name
        shas = sorted({d["sha"] for d in rows})
        checked = subprocess.run(
            ["git", "-C", str(repo), "cat-file", "--batch-check"],
            input="\n".join(shas) + "\n",
            capture_output=True,
            text=True,
            env=GIT_ENV,
            check=True,
        ).stdout
        assert "missing" not in checked, (repo_name, checked)
        assert all(line.split()[1] == "commit" for line in checked.splitlines())
        for d in rows:  # a deploy never precedes its commit
            committed = int(git(repo, "show", "-s", "--format=%ct", d["sha"]))
            deployed = dt.datetime.fromisoformat(d["deployed_at"].replace("Z", "+00:00")).timestamp()
            assert committed < deployed


def test_monorepo_services_deploy_commits_that_touch_their_path(demo):
    out, _, _ = demo
    repo = out / "repos" / MONOREPO
    names = {name for name, *_ in MONOREPO_COMPONENTS}
    rows = [d for d in read_jsonl(out / "events/deployments.jsonl") if d["service"] in names]
    assert {d["service"] for d in rows} == names
    for d in rows:
        touched = git(repo, "diff-tree", "--no-commit-id", "--name-only", "-r", "--root", d["sha"]).splitlines()
        assert any(p.startswith(f"services/{d['service']}/") for p in touched), d


def test_incidents_are_resolved_after_opening_and_name_real_root_causes(demo, service_repo):
    out, _, _ = demo
    incidents = read_jsonl(out / "events/incidents.jsonl")
    assert incidents
    for inc in incidents:
        if inc["resolved_at"] is not None:
            assert inc["resolved_at"] > inc["opened_at"]
        if "root_cause_sha" in inc:
            git(out / "repos" / service_repo[inc["service"]], "cat-file", "-e", f"{inc['root_cause_sha']}^{{commit}}")


def test_broken_repo_has_unparseable_catalog_and_workflow(demo):
    out, _, _ = demo
    repo = out / "repos" / BROKEN_REPO
    for path in ("catalog-info.yaml", ".github/workflows/ci.yml"):
        with pytest.raises(yaml.YAMLError):
            yaml.safe_load(show(repo, "HEAD", path))
    # The catalog file parsed before a mid-window edit broke it.
    first = git(repo, "rev-list", "--max-parents=0", "HEAD")
    assert yaml.safe_load(show(repo, first, "catalog-info.yaml"))["metadata"]["name"] == BROKEN_REPO
    assert git(repo, "symbolic-ref", "--short", "HEAD") == "master"


def test_empty_repo_has_no_commits(demo):
    out, _, _ = demo
    repo = out / "repos" / EMPTY_REPO
    assert (repo / ".git").is_dir()
    assert git(repo, "rev-list", "--all") == ""
    assert (
        subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "--verify", "-q", "HEAD"], capture_output=True, env=GIT_ENV
        ).returncode
        != 0
    )


def test_history_spans_the_window(demo):
    out, summary, _ = demo
    start = END - dt.timedelta(days=SMALL["days"])
    assert summary.start == start
    firsts, lasts = [], []
    for repo in repo_dirs(out):
        if repo.name == EMPTY_REPO:
            continue
        times = [int(t) for t in git(repo, "log", "--format=%ct").split()]
        firsts.append(dt.datetime.fromtimestamp(min(times), dt.UTC).date())
        lasts.append(dt.datetime.fromtimestamp(max(times), dt.UTC).date())
    assert min(firsts) == start
    assert END - dt.timedelta(days=3) <= max(lasts) < END
    assert min(lasts) < start + dt.timedelta(days=SMALL["days"] // 2), "the archived library stops early"


def test_template_adoption_improves_over_time(demo):
    out, _, _ = demo
    earlier = dt.datetime.combine(END - dt.timedelta(days=20), dt.time(), dt.UTC)

    def adopted(before: dt.datetime | None) -> int:
        n = 0
        for repo in repo_dirs(out):
            if repo.name == EMPTY_REPO:
                continue
            args = ["rev-list", "-1"] + ([f"--before={int(before.timestamp())}"] if before else []) + ["HEAD"]
            rev = git(repo, *args)
            if (
                rev
                and subprocess.run(
                    ["git", "-C", str(repo), "cat-file", "-e", f"{rev}:.copier-answers.yml"],
                    capture_output=True,
                    env=GIT_ENV,
                ).returncode
                == 0
            ):
                n += 1
        return n

    assert adopted(None) > adopted(earlier)


def test_every_generated_config_file_parses_except_the_broken_ones(demo):
    out, _, _ = demo
    failures = []
    for repo in repo_dirs(out):
        if repo.name == EMPTY_REPO:
            continue
        for path in git(repo, "ls-tree", "-r", "--name-only", "HEAD").splitlines():
            text = (repo / path).read_text()
            assert text.strip() == show(repo, "HEAD", path), "the working tree is the committed tree"
            try:
                if path.endswith((".yaml", ".yml")):
                    list(yaml.safe_load_all(text))
                elif path.endswith(".json"):
                    json.loads(text)
            except (yaml.YAMLError, json.JSONDecodeError):
                failures.append(f"{repo.name}/{path}")
    assert sorted(failures) == [f"{BROKEN_REPO}/.github/workflows/ci.yml", f"{BROKEN_REPO}/catalog-info.yaml"]


def test_cluster_snapshot_matches_repos_and_has_orphans(demo, service_repo):
    out, summary, _ = demo
    snapshot = json.loads((out / "clusters/prod-eu.json").read_text())
    assert snapshot["kind"] == "List"
    items = snapshot["items"]
    workloads = [i for i in items if i["kind"] in ("Deployment", "StatefulSet")]
    join_keys = ("backstage.io/kubernetes-id", "app.kubernetes.io/name", "app")

    def service_of(w: dict) -> str | None:
        labels = w["metadata"].get("labels", {})
        for key in join_keys:
            if labels.get(key) in service_repo:
                return labels[key]
        return None

    orphans = [w for w in workloads if service_of(w) is None]
    assert len(orphans) == summary.orphan_workloads >= 3
    used_keys = {next(k for k in join_keys if k in w["metadata"]["labels"]) for w in workloads if service_of(w)}
    assert len(used_keys) >= 2, "services join by different labels"
    replica_sets = [i for i in items if i["kind"] == "ReplicaSet"]
    assert replica_sets
    for rs in replica_sets:
        assert int(rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]) >= 1
        owner = rs["metadata"]["ownerReferences"][0]["name"]
        tag = rs["spec"]["template"]["spec"]["containers"][0]["image"].rsplit(":", 1)[1]
        if owner in service_repo and tag != "latest":
            short = tag.removeprefix("sha-")
            git(out / "repos" / service_repo[owner], "cat-file", "-e", f"{short}^{{commit}}")
    staging = [d for d in yaml.safe_load_all((out / "clusters/staging-eu.yaml").read_text()) if d]
    assert staging and all(d["metadata"]["namespace"].endswith("-staging") for d in staging)


def test_release_tags_are_annotated_in_some_repos_and_lightweight_in_others(tmp_path):
    out = tmp_path / "org"
    generate_demo(out, end=END, repos=14, teams=8, days=30)
    kinds = set()
    for repo in repo_dirs(out):
        for line in git(repo, "for-each-ref", "--format=%(objecttype) %(refname:short)", "refs/tags").splitlines():
            kinds.add(line.split()[0])
    assert kinds == {"tag", "commit"}
    config = yaml.safe_load((out / "scorecard.yaml").read_text())
    assert [t["name"] for t in config["teams"]][:3] == ["payments", "checkout", "growth"]


def test_config_validates_against_the_schema(demo):
    out, _, _ = demo
    config_mod = pytest.importorskip("pipelines.config")
    try:
        config = config_mod.load_config(out / "scorecard.yaml")
    except config_mod.ConfigError as exc:
        # Checks are written concurrently: an id not registered yet is not the generator's fault.
        lines = [ln for ln in str(exc).splitlines()[1:] if "unknown check" not in ln]
        assert not lines, str(exc)
        return
    assert config.organisation == "acme"
    assert config.warehouse_path == (out.parent / "warehouse" / "scorecard.duckdb").resolve()
    assert config.serving_path == (out.parent / "serving" / "scorecard.duckdb").resolve()
    assert {c.cluster for c in config.sources.clusters} == {"prod-eu", "staging-eu"}
    assert len(config.scorecards) == 2 and config.scorecards[1].levels
    assert any(w.expires < END for w in config.waivers) and any(w.expires > END for w in config.waivers)
    assert config.services and config.services[0].owner in config.known_teams()


def test_progress_reports_repo_counts(demo):
    _, _, messages = demo
    assert f"repos {SMALL['repos']}/{SMALL['repos']}" in messages


def test_refuses_to_overwrite_a_directory_that_is_not_a_demo(tmp_path):
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(FileExistsError):
        generate_demo(tmp_path, end=END, **SMALL)
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def test_regenerating_over_an_earlier_demo_replaces_it(demo, tmp_path):
    out = tmp_path / "demo"
    generate_demo(out, end=END, **SMALL)
    first = (out / "events/deployments.jsonl").read_bytes()
    generate_demo(out, end=END, **SMALL)
    assert (out / "events/deployments.jsonl").read_bytes() == first


def test_scaled_org_spreads_services_over_generated_teams(tmp_path):
    summary = generate_demo(tmp_path / "big", end=END, repos=24, teams=12, days=10)
    config = yaml.safe_load(summary.config.read_text())
    names = [t["name"] for t in config["teams"]]
    assert len(names) == len(set(names)) == 12
    assert len(repo_dirs(tmp_path / "big")) == 24


@pytest.mark.parametrize("kwargs", [{"repos": 3}, {"teams": 0}, {"days": 2}])
def test_rejects_impossible_sizes(tmp_path, kwargs):
    with pytest.raises(ValueError):
        generate_demo(tmp_path / "x", end=END, **{**SMALL, **kwargs})


def test_a_relative_output_directory_works(tmp_path, monkeypatch):
    # `scorecard demo` passes data/demo, relative to the current directory
    import datetime as _dt

    from pipelines.demo.generate import generate_demo as _generate

    monkeypatch.chdir(tmp_path)
    summary = _generate(Path("rel/demo"), repos=12, teams=3, days=20, end=_dt.date(2026, 6, 1))
    assert (tmp_path / "rel" / "demo" / "scorecard.yaml").is_file()
    assert summary.repos == 12
