"""Which commits a deployment shipped, asked of real git repositories.

Each test builds a history with plain git, deploys it by release tags or
deploy events, and states by hand the lead time of every change (deploy time
minus the commit's committer time, DESIGN.md "Lead time for changes").
"""

import datetime as dt
import pickle

import pytest

from pipelines import delivery as dlv
from pipelines.sources.events import DeploymentEvent
from pipelines.sources.local_git import GitHistory, LocalGitSource
from tests.gitrepo import commit, git, init

T0 = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)  # a Monday
PRODUCTION = frozenset({"production"})
TAGS = r"^v\d+\.\d+$"


def day(n: float, hour: int = 10) -> dt.datetime:
    return T0 + dt.timedelta(days=n, hours=hour)


def crawl(repo, as_of=None):
    return LocalGitSource(repo.parent).crawl(repo.name, as_of or day(20))


def subjects(repo) -> dict[str, str]:
    lines = git(repo, "log", "--all", "--format=%H %s").splitlines()
    return dict(line.split(" ", 1) for line in lines)


def tag_deploys(result, as_of=None):
    until = dlv.window_end((as_of or day(20)).date())
    return dlv.production_deploys({"svc": result.facts.repo}, [], {result.facts.repo: result.tags}, TAGS, PRODUCTION, until)


def event_deploys(result, events, as_of=None):
    until = dlv.window_end((as_of or day(20)).date())
    return dlv.production_deploys({"svc": result.facts.repo}, events, {}, None, PRODUCTION, until)


def lead_hours(repo, result, deploys, path=""):
    """{commit subject: lead time in hours} for every change the deploys shipped."""
    names = subjects(repo)
    return {
        names[sha]: (deploy.deployed_at - committed).total_seconds() / 3600
        for sha, committed, deploy in dlv.attribute_changes(result.commits, deploys, path)
    }


def event(sha, when, environment="production", status="success"):
    return DeploymentEvent(service="svc", environment=environment, sha=sha, deployed_at=when, status=status)


def test_release_tags_on_release_branches_ship_what_git_says_they_contain(tmp_path):
    repo = init(tmp_path / "rel")
    commit(repo, {"app.py": "1"}, "a", day(0))
    commit(repo, {"app.py": "2"}, "b", day(1))
    git(repo, "checkout", "-q", "-b", "release/1.0")
    commit(repo, {"VERSION": "1.0"}, "Release v1.0", day(2))
    git(repo, "tag", "v1.0")  # lightweight: its commit's committer time, day 2 10:00
    git(repo, "checkout", "-q", "main")
    commit(repo, {"app.py": "3"}, "c", day(3))
    commit(repo, {"app.py": "4"}, "d", day(4))
    git(repo, "checkout", "-q", "-b", "release/1.1")
    commit(repo, {"VERSION": "1.1"}, "Release v1.1", day(5))
    git(repo, "tag", "-a", "v1.1", "-m", "v1.1", when=day(5, 12))  # annotated: its tagger date
    git(repo, "checkout", "-q", "main")
    commit(repo, {"app.py": "5"}, "e (not released)", day(6))

    result = crawl(repo)
    deploys = tag_deploys(result)
    assert [(d.sha, d.deployed_at) for d in deploys] == [
        (git(repo, "rev-parse", "v1.0"), day(2)), (git(repo, "rev-parse", "v1.1^{commit}"), day(5, 12))]
    # v1.0 is the first deploy known (no lower bound): it only marks a, b and
    # its release commit as shipped. v1.1 ships c, d and its own release
    # commit; v1.0's release commit is not an ancestor of v1.1.
    assert lead_hours(repo, result, deploys) == {"c": 50.0, "d": 26.0, "Release v1.1": 2.0}

    metrics = dlv.compute_metrics(deploys, [("svc", s, c, d.deployed_at) for s, c, d in
                                            dlv.attribute_changes(result.commits, deploys, "")], [], day(20).date())
    row = metrics.set_index("service").loc["svc"]
    assert row.lead_time_p50_hours == pytest.approx(26.0)  # the middle of 2, 26, 50
    assert row.lead_time_p90_hours == pytest.approx(45.2)  # 26 + 0.8 * (50 - 26), linear interpolation


def test_a_tag_on_a_detached_commit(tmp_path):
    repo = init(tmp_path / "detached")
    commit(repo, {"app.py": "1"}, "a", day(0))
    git(repo, "tag", "v1.0")
    commit(repo, {"app.py": "2"}, "b", day(1))
    commit(repo, {"app.py": "3"}, "c", day(2))
    git(repo, "checkout", "-q", "--detach")
    commit(repo, {"VERSION": "1.1"}, "Release v1.1", day(3))
    git(repo, "tag", "-a", "v1.1", "-m", "v1.1", when=day(3, 11))
    git(repo, "checkout", "-q", "main")
    commit(repo, {"app.py": "4"}, "d", day(4))

    result = crawl(repo)
    assert lead_hours(repo, result, tag_deploys(result)) == {"b": 49.0, "c": 25.0, "Release v1.1": 1.0}


def test_a_deploy_event_whose_sha_is_only_on_a_release_branch(tmp_path):
    repo = init(tmp_path / "hotfix")
    a = commit(repo, {"app.py": "1"}, "a", day(0))
    commit(repo, {"app.py": "2"}, "b", day(1))
    git(repo, "checkout", "-q", "-b", "release/2")
    fix = commit(repo, {"app.py": "2+fix"}, "hotfix", day(2))
    git(repo, "checkout", "-q", "main")
    commit(repo, {"app.py": "3"}, "c (never deployed)", day(3))

    result = crawl(repo)
    events = [
        event(a, day(0, 12)),
        event(fix, day(2, 11), environment="staging"),  # not production
        event(fix, day(2, 13), status="failure"),  # not a deployment
        event(fix[:7], day(2, 14)),  # a short sha, as image tags carry
    ]
    assert lead_hours(repo, result, event_deploys(result, events)) == {"b": 28.0, "hotfix": 4.0}


def test_unknown_shas_and_rollbacks_ship_nothing_and_hide_nothing(tmp_path):
    repo = init(tmp_path / "rollback")
    a = commit(repo, {"app.py": "1"}, "a", day(0))
    b = commit(repo, {"app.py": "2"}, "b", day(1))
    c = commit(repo, {"app.py": "3"}, "c", day(2))
    d = commit(repo, {"app.py": "4"}, "d", day(3))
    result = crawl(repo)
    events = [
        event("0" * 40, day(0, 11)),  # a full sha this clone does not have: not the first deploy we know
        event(a, day(0, 12)),
        event(c, day(2, 12)),
        event(b, day(2, 13)),  # a rollback: everything in it shipped already
        event(d, day(3, 12)),
    ]
    assert lead_hours(repo, result, event_deploys(result, events)) == {"b": 26.0, "c": 2.0, "d": 2.0}


def test_merge_heavy_monorepo_counts_what_git_says_touched_each_path(tmp_path):
    repo = init(tmp_path / "mono")
    base = commit(repo, {"services/a/app.py": "a", "services/b/app.py": "b"}, "base", day(0))
    git(repo, "checkout", "-q", "-b", "feature1")
    commit(repo, {"services/a/one.py": "1"}, "f1 (a)", day(1))
    commit(repo, {"services/b/one.py": "1"}, "f2 (b)", day(2))
    git(repo, "checkout", "-q", "-b", "feature2", base)
    commit(repo, {"services/a/two.py": "2"}, "g1 (a)", day(1, 16))
    commit(repo, {"README.md": "docs"}, "g2 (docs)", day(1, 17))
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "m1: merge feature1", "feature1", when=day(3))
    git(repo, "merge", "-q", "--no-ff", "-m", "m2: merge feature2", "feature2", when=day(3, 11))
    m2 = git(repo, "rev-parse", "HEAD")

    result = crawl(repo)
    deploys = event_deploys(result, [event(base, day(0, 12)), event(m2, day(3, 12))])
    # services/a: f1 and g1 changed it on either side; m2 joined those two
    # changes, so it differs from both its parents there and counts too (git's
    # rule). m1 only brought feature1 into an unchanged main: not a change.
    assert lead_hours(repo, result, deploys, "services/a") == {"f1 (a)": 50.0, "g1 (a)": 44.0, "m2: merge feature2": 1.0}
    assert lead_hours(repo, result, deploys, "services/b") == {"f2 (b)": 26.0}
    # The whole repository: every commit the deploy shipped, merges included.
    assert set(lead_hours(repo, result, deploys)) == {
        "f1 (a)", "f2 (b)", "g1 (a)", "g2 (docs)", "m1: merge feature1", "m2: merge feature2"}


def test_a_change_that_waited_most_of_a_year_on_a_branch_still_counts(tmp_path):
    repo = init(tmp_path / "slow")
    start = commit(repo, {"app.py": "1"}, "start", day(-300))
    git(repo, "checkout", "-q", "-b", "long")
    commit(repo, {"feature.py": "x"}, "slow change", day(-250))
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "merge long", "long", when=day(10))
    head = git(repo, "rev-parse", "HEAD")

    result = crawl(repo)
    deploys = event_deploys(result, [event(start, day(-300, 12)), event(head, day(10, 12))])
    # The walk stops at the previous deploy, not at a number of days.
    assert lead_hours(repo, result, deploys) == {"slow change": 260 * 24 + 2.0, "merge long": 2.0}


def test_only_deploys_inside_the_metric_windows_are_walked(tmp_path):
    repo = init(tmp_path / "windows")
    shas = [commit(repo, {"app.py": str(i)}, f"c{i}", day(i * 30)) for i in range(6)]  # days 0, 30 .. 150
    result = crawl(repo, as_of=day(160))
    deploys = event_deploys(result, [event(s, day(i * 30, 12)) for i, s in enumerate(shas)], as_of=day(160))
    # The change-failure window (90 days) starts on day 70: the deploys of
    # days 90, 120 and 150 get change sets; those before only bound the walk.
    assert lead_hours(repo, result, deploys) == {"c3": 2.0, "c4": 2.0, "c5": 2.0}


def test_nothing_after_as_of(tmp_path):
    repo = init(tmp_path / "asof")
    commit(repo, {"app.py": "1"}, "a", day(0))
    git(repo, "tag", "v1.0")
    commit(repo, {"app.py": "2"}, "b", day(1))
    git(repo, "tag", "v1.1")
    commit(repo, {"app.py": "3"}, "c", day(5))
    git(repo, "tag", "v1.2")

    as_of = day(2)
    result = crawl(repo, as_of=as_of)
    deploys = tag_deploys(result, as_of=as_of)
    assert [t.name for t in result.tags] == ["v1.0", "v1.1"]
    assert lead_hours(repo, result, deploys) == {"b": 0.0}  # a lightweight tag's time is its commit's


def test_the_history_survives_pickling_between_assets(tmp_path):
    repo = init(tmp_path / "pickled")
    commit(repo, {"app.py": "1"}, "a", day(0))
    git(repo, "tag", "v1.0")
    commit(repo, {"app.py": "2"}, "b", day(1))
    git(repo, "tag", "-a", "v1.1", "-m", "v1.1", when=day(1, 12))

    result = pickle.loads(pickle.dumps(crawl(repo), protocol=pickle.HIGHEST_PROTOCOL))
    assert isinstance(result.commits.repository, GitHistory)
    assert lead_hours(repo, result, tag_deploys(result)) == {"b": 2.0}


def test_only_commit_shas_are_asked_of_git(tmp_path):
    repo = init(tmp_path / "resolve")
    a = commit(repo, {"app.py": "1"}, "a", day(0))
    git(repo, "tag", "-a", "v1", "-m", "v1")
    history = crawl(repo).commits.repository
    tag_object = git(repo, "rev-parse", "v1")
    blob = git(repo, "rev-parse", "HEAD:app.py")
    asked = [a[:7], a.upper(), tag_object, "--all", "main", "HEAD", blob, "0" * 40, ""]
    # A ReplicaSet or an API may hand over anything: only hex names a commit,
    # an annotated tag's object peels to its commit, the rest is left out.
    assert history.resolve(asked) == {a[:7]: a, a.upper(): a, tag_object: a}


def test_a_repository_git_cannot_read_gives_no_lead_times_and_no_error(tmp_path):
    history = GitHistory(str(tmp_path / "gone"), day(20))
    assert history.resolve(["abcdef1"]) == {}
    assert history.walk(["abcdef1"], []) is None
    assert history.touching(["abcdef1"], [], "x") is None
