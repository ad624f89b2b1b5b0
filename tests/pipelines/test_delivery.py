"""DORA metrics against values computed by hand (DESIGN.md "Metric definitions")."""

import datetime as dt

import pytest

from pipelines import delivery as dlv
from pipelines.facts import Commit, Tag
from pipelines.sources.events import DeploymentEvent, IncidentEvent

DAY0 = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)


def at(day: int, hour: int) -> dt.datetime:
    return DAY0 + dt.timedelta(days=day, hours=hour)


def linear_history(paths=None):
    """c1..c5, one a day at 10:00, newest first like `git log`."""
    commits = []
    for i in range(1, 6):
        commits.append(Commit(f"c{i}" + "0" * 39, at(i - 1, 10), at(i - 1, 10), (paths or {}).get(i, ["app.py"]),
                              [f"c{i - 1}" + "0" * 39] if i > 1 else []))
    return list(reversed(commits))


def sha(i: int) -> str:
    return f"c{i}" + "0" * 39


def deploys():
    return [dlv.Deploy("svc", sha(1), at(0, 12), "event"),
            dlv.Deploy("svc", sha(3), at(2, 12), "event"),
            dlv.Deploy("svc", sha(5), at(4, 12), "event")]


def test_each_commit_belongs_to_the_first_deploy_that_contains_it():
    changes = dlv.attribute_changes(linear_history(), deploys(), "")
    shipped = {s[:2]: d.deployed_at for s, _, d in changes}
    # The first deploy has no previous sha, so its range is unknown: no lead times.
    assert shipped == {"c2": at(2, 12), "c3": at(2, 12), "c4": at(4, 12), "c5": at(4, 12)}


def test_monorepo_counts_only_commits_touching_the_service_path():
    history = linear_history({2: ["services/a/x.py"], 3: ["services/b/y.py"], 4: ["services/a/z.py", "README.md"], 5: ["docs/x"]})
    changes = dlv.attribute_changes(history, deploys(), "services/a")
    assert sorted(s[:2] for s, _, _ in changes) == ["c2", "c4"]


def test_short_deployed_sha_resolves_to_the_commit():
    short = [dlv.Deploy(d.service, d.sha[:7], d.deployed_at, d.source) for d in deploys()]
    assert len(dlv.attribute_changes(linear_history(), short, "")) == 4


def metrics(incidents=(), as_of_day=5):
    ds = deploys()
    changes = [("svc", s, c, d.deployed_at) for s, c, d in dlv.attribute_changes(linear_history(), ds, "")]
    df = dlv.compute_metrics(ds, changes, list(incidents), (DAY0 + dt.timedelta(days=as_of_day)).date())
    return df.set_index("service").loc["svc"]


def test_lead_time_p50_and_p90_by_hand():
    row = metrics()
    # lead times: c2 26 h, c3 2 h, c4 26 h, c5 2 h -> sorted [2, 2, 26, 26]
    assert row.lead_time_p50_hours == pytest.approx(14.0)  # halfway between 2 and 26
    assert row.lead_time_p90_hours == pytest.approx(26.0)
    assert row.lead_time_tier == "elite"  # 14 h < 1 day
    assert row.deployments_30d == 3


def test_deploy_frequency_is_the_median_of_twelve_weeks_including_empty_ones():
    row = metrics()
    # all three deploy-days fall in the latest week; 11 weeks have none -> median 0
    assert row.deploy_days_per_week == 0
    assert row.deploy_frequency_tier == "low"


def test_change_failure_rate_and_time_to_restore_by_hand():
    incidents = [
        # no root cause: links to the last deploy before it opened (day 2 deploy)
        IncidentEvent(service="svc", opened_at=at(2, 13), resolved_at=at(2, 15)),
        # root cause c4 was shipped by the day 4 deploy
        IncidentEvent(service="svc", opened_at=at(4, 20), resolved_at=at(5, 20), root_cause_sha=sha(4)),
        # a second incident on the same deploy does not count it twice
        IncidentEvent(service="svc", opened_at=at(4, 21), resolved_at=at(4, 22)),
    ]
    row = metrics(incidents)
    assert row.change_failure_rate == pytest.approx(2 / 3)
    assert row.change_failure_tier == "low"
    assert row.time_to_restore_hours == pytest.approx(2.0)  # median of 2 h, 24 h, 1 h
    assert row.incidents_90d == 3


def test_events_after_the_snapshot_date_are_ignored():
    row = metrics(as_of_day=2)  # end of day 2: the day 4 deploy has not happened yet
    assert row.deployments_30d == 2
    assert row.lead_time_p50_hours == pytest.approx(14.0)  # c2 26 h, c3 2 h


def test_release_tags_count_as_deploys_only_without_deploy_events():
    tags = {"repo": [Tag("v1.0.0", sha(3), at(2, 12)), Tag("nightly", sha(4), at(3, 1))]}
    event = DeploymentEvent(service="evented", environment="production", sha=sha(1), deployed_at=at(0, 12))
    staging = DeploymentEvent(service="evented", environment="staging", sha=sha(2), deployed_at=at(1, 12))
    out = dlv.production_deploys({"tagged": "repo", "evented": "repo"}, [event, staging], tags, r"^v\d+\.\d+\.\d+$",
                                 frozenset({"production"}), at(10, 0))
    assert [(d.service, d.source) for d in out] == [("evented", "event"), ("tagged", "tag")]
