"""DORA metrics from GitHub deployments and incident issues, against values computed by hand.

The fixture history (k = days before the end of the snapshot day, deploys at 12:00 UTC):

- 16 successful production deploys at k = 48 46 44 | 40 37 | 30 | 26 23 | 19 17 15 | 12 9 | 6 4 2,
  so the trailing 12 weeks have deploy-days [3, 2, 3, 2, 1, 2, 3, 0, 0, 0, 0, 0]
  (week 0 first): median 1.5 deploy-days per week;
- each deploy ships one new commit made `LEAD_HOURS[k]` hours before its success
  status; in the 30-day window (k <= 30) those are 5 10 1 20 3 8 2 30 4 12 6 hours:
  sorted 1 2 3 4 5 6 8 10 12 20 30, p50 = 6 h, p90 = 20 h (position 9 of 0..10);
- two incident issues, opened 3 h after the k=12 deploy (closed 2 h later) and
  1 h after the k=37 deploy (closed 5 h later): change failure rate 2/16 = 0.125,
  time to restore median(2, 5) = 3.5 h;
- noise that must not count: a failed deploy, a staging deploy, a deploy that
  never succeeded before being superseded, an issue without the incident label,
  and the queued/in-progress/inactive statuses around each success (the deploy
  time is the success status's, not the deployment's creation or later statuses).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from pipelines import delivery as dlv
from pipelines import stages
from pipelines.config import parse_config
from tests.fakes.github_server import FakeDeployment, FakeIssue, FakeRun
from tests.gitrepo import commit, init
from tests.sources.github_support import crawl, make_source

AS_OF = dt.datetime.now(dt.UTC).date()
END = dlv.window_end(AS_OF)
DEPLOY_DAYS = [48, 46, 44, 40, 37, 30, 26, 23, 19, 17, 15, 12, 9, 6, 4, 2]  # oldest first
LEAD_HOURS = {30: 5, 26: 10, 23: 1, 19: 20, 17: 3, 15: 8, 12: 2, 9: 30, 6: 4, 4: 12, 2: 6}


def deployed(k: int) -> dt.datetime:
    return END - dt.timedelta(days=k) + dt.timedelta(hours=12)


def build(github, tmp_path):
    repo = init(tmp_path / "shop")
    commit(repo, {"README.md": "# shop"}, when=deployed(60))
    deployments = []
    shas = {}
    for n, k in enumerate(DEPLOY_DAYS, start=1):
        at = deployed(k)
        shas[k] = commit(repo, {"app.py": f"v{n}\n"}, when=at - dt.timedelta(hours=LEAD_HOURS.get(k, 1)))
        statuses = [("QUEUED", at - dt.timedelta(minutes=10)), ("IN_PROGRESS", at - dt.timedelta(minutes=5)), ("SUCCESS", at)]
        if k != DEPLOY_DAYS[-1]:
            statuses.append(("INACTIVE", deployed(DEPLOY_DAYS[n]) + dt.timedelta(minutes=1)))
        deployments.append(FakeDeployment(n, shas[k], "production", at - dt.timedelta(minutes=15), statuses))
    noise_at = deployed(3)
    deployments += [
        FakeDeployment(100, shas[4], "production", noise_at, [("IN_PROGRESS", noise_at), ("FAILURE", noise_at + dt.timedelta(minutes=3))]),
        FakeDeployment(101, shas[4], "staging", noise_at, [("SUCCESS", noise_at)]),
        FakeDeployment(102, shas[6], "production", deployed(5), [("QUEUED", deployed(5)), ("INACTIVE", deployed(5) + dt.timedelta(hours=1))]),
    ]
    issues = [
        FakeIssue(1, deployed(12) + dt.timedelta(hours=3), deployed(12) + dt.timedelta(hours=5)),
        FakeIssue(2, deployed(37) + dt.timedelta(hours=1), deployed(37) + dt.timedelta(hours=6)),
        FakeIssue(3, deployed(9) + dt.timedelta(hours=1), deployed(9) + dt.timedelta(hours=2), labels=["bug"]),
    ]
    github.add_repo("shop", repo, deployments=deployments, issues=issues)
    return repo, shas


def metrics(crawls, tmp_path, **github):
    config = parse_config({"sources": {"github": [{"organisation": "acme", **github}]}}, "x", tmp_path)
    records, _ = stages.resolve(list(crawls.values()), config, None)
    df = stages.delivery_metrics(records, list(crawls.values()), stages.Events(), config, AS_OF)
    return df.set_index("service").loc["shop"]


def test_dora_metrics_from_github_deployments_match_the_hand_computed_values(github, tmp_path):
    build(github, tmp_path)
    crawls, _ = crawl(make_source(github, tmp_path / "state", incident_label="incident"))
    row = metrics(crawls, tmp_path)
    assert row["deployments_30d"] == 11
    assert row["lead_time_p50_hours"] == pytest.approx(6.0)
    assert row["lead_time_p90_hours"] == pytest.approx(20.0)
    assert row["deploy_days_per_week"] == pytest.approx(1.5)
    assert row["change_failure_rate"] == pytest.approx(0.125)
    assert row["time_to_restore_hours"] == pytest.approx(3.5)
    assert row["incidents_90d"] == 2
    shop = crawls["shop"]
    assert sorted(d.deployed_at for d in shop.deployments if d.status == "success") == [deployed(k) for k in DEPLOY_DAYS]
    assert {d.environment for d in shop.deployments} == {"production"}
    assert [d.status for d in shop.deployments].count("failure") == 1


def test_an_unchanged_repo_reuses_its_stored_deployments(github, tmp_path):
    repo, shas = build(github, tmp_path)
    first, _ = crawl(make_source(github, tmp_path / "state", incident_label="incident"))
    github.clear_hits()
    again, _ = crawl(make_source(github, tmp_path / "state", incident_label="incident"))
    assert not [h for h in github.hits if h.operation == "RepositoryHistory"]
    assert again["shop"].deployments == first["shop"].deployments
    assert again["shop"].incidents == first["shop"].incidents
    assert metrics(again, tmp_path).equals(metrics(first, tmp_path))

    # A new deployment changes the inventory's signature: the history is fetched again.
    at = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=5)
    github.repos[("acme", "shop")].deployments.append(FakeDeployment(200, shas[2], "production", at, [("SUCCESS", at)]))
    github.clear_hits()
    third, _ = crawl(make_source(github, tmp_path / "state", incident_label="incident"))
    assert [h.operation for h in github.hits if h.operation == "RepositoryHistory"] == ["RepositoryHistory"]
    assert len(third["shop"].deployments) == len(first["shop"].deployments) + 1


def test_deployments_beyond_one_page_are_followed(github, tmp_path):
    build(github, tmp_path)
    github.page_size = 5
    crawls, _ = crawl(make_source(github, tmp_path / "state"))
    assert len(crawls["shop"].deployments) == len(DEPLOY_DAYS) + 1  # + the failed one
    assert len([h for h in github.hits if h.operation == "RepositoryHistoryPage"]) == 3


def test_deploy_workflow_runs_count_when_there_are_no_github_deployments(github, tmp_path):
    repo = init(tmp_path / "shop")
    day = END - dt.timedelta(days=3)
    old = commit(repo, {"README.md": "x", ".github/workflows/deploy.yml": "on: push\njobs: {}\n"}, when=day - dt.timedelta(days=2))
    new = commit(repo, {"app.py": "x"}, when=day)
    runs = [
        FakeRun(1, "Deploy production", "main", old, day - dt.timedelta(days=2, hours=-1), duration_s=300),
        FakeRun(2, "Deploy production", "main", new, day + dt.timedelta(hours=2), duration_s=595),
        FakeRun(3, "CI", "main", new, day + dt.timedelta(hours=1), duration_s=60),
        FakeRun(4, "Deploy production", "main", new, day + dt.timedelta(hours=3), status="in_progress", conclusion=None),
    ]
    github.add_repo("shop", repo, runs=runs)
    crawls, _ = crawl(make_source(github, tmp_path / "state", deploy_workflow_pattern=r"^Deploy"))
    shop = crawls["shop"]
    assert [(d.sha, d.source) for d in shop.deployments] == [(new, "workflow_run"), (old, "workflow_run")]
    assert [r["name"] for r in shop.facts.ci_runs] == ["CI"]
    row = metrics(crawls, tmp_path, deploy_workflow_pattern=r"^Deploy")
    # The run finished 2 h + 5 s + 595 s after the commit: lead time 2 h 10 min.
    assert row["lead_time_p50_hours"] == pytest.approx(2 + 600 / 3600)
    assert row["deployments_30d"] == 2


def test_a_deploy_from_a_release_branch_gets_its_lead_time(github, tmp_path):
    """The deployed commit exists only on release/1.x: the mirror fetches release branches too."""
    repo = init(tmp_path / "shop")
    base = commit(repo, {"README.md": "# shop"}, when=deployed(20))
    first = deployed(10)
    commit(repo, {"app.py": "v1\n"}, when=first - dt.timedelta(hours=3))
    from tests.gitrepo import git

    git(repo, "checkout", "-q", "-b", "release/1.x", base)
    fix = commit(repo, {"app.py": "hotfix\n"}, when=deployed(5) - dt.timedelta(hours=7))
    git(repo, "checkout", "-q", "main")
    deployments = [
        FakeDeployment(1, base, "production", deployed(15), [("SUCCESS", deployed(15))]),
        FakeDeployment(2, fix, "production", deployed(5), [("SUCCESS", deployed(5))]),
    ]
    github.add_repo("shop", repo, deployments=deployments)
    crawls, _ = crawl(make_source(github, tmp_path / "state"))
    row = metrics(crawls, tmp_path)
    assert row["deployments_30d"] == 2
    assert row["lead_time_p50_hours"] == pytest.approx(7.0)  # the hotfix, 7 h before its deploy
    # Without the release branch in the mirror the deployed commit is unknown: no lead time at all.
    without, _ = crawl(make_source(github, tmp_path / "state-default-only", release_branches=[]))
    assert pd.isna(metrics(without, tmp_path)["lead_time_p50_hours"])
