"""The capacity formula of docs/scaling.md, checked by hand-computed figures."""

from __future__ import annotations

import pytest

from tests.bench.bench_capacity import UnitCost, capacity, installation_limit


def cost(counted: float, cpu_s: float, wall_s: float, not_modified: float = 0.0, bytes_: float | None = 10_000.0,
         in_flight: int = 2) -> UnitCost:
    return UnitCost("GitHub", "cold", "repo", 500, counted, not_modified, bytes_, cpu_s, wall_s, "test", in_flight)


def test_a_daily_crawl_of_10000_repos_at_2_requests_each_fits_one_token():
    r = capacity(cost(2.0, 0.05, 0.1), 10_000, 24)
    assert r["requests_per_hour"] == pytest.approx(833.33, abs=0.01)  # 10,000 x 2 / 24
    assert (r["tokens"], r["app_installations_enterprise_cloud"], r["app_installations"]) == (1, 1, 1)
    assert r["cpu_hours_per_day"] == pytest.approx(10_000 * 0.05 / 3600)  # one crawl a day
    assert r["bytes_per_hour"] == pytest.approx(10_000 * 10_000 / 24)
    assert r["workers"] == 1  # 1,000 s of crawling in a 24 h window


def test_an_hourly_crawl_needs_identities_rounded_up():
    r = capacity(cost(2.0, 0.05, 0.1), 10_000, 1)
    assert r["requests_per_hour"] == 20_000
    assert r["tokens"] == 4  # 20,000 / 5,000
    assert r["app_installations_enterprise_cloud"] == 2  # 20,000 / 15,000 -> 1.33 -> 2
    assert r["app_installations"] == 2  # 20,000 / 12,500 -> 1.6 -> 2
    assert r["cpu_hours_per_day"] == pytest.approx(10_000 * 0.05 * 24 / 3600)


def test_workers_grow_with_wall_time_per_repo_and_network_latency():
    assert capacity(cost(2.0, 0.05, 1.0), 10_000, 1)["workers"] == 3  # 10,000 s in 3,600 s
    # 0.5 s round trips, 2 + 2 requests per repo, 2 in flight: +1 s per repo
    assert capacity(cost(2.0, 0.05, 1.0, not_modified=2.0), 10_000, 1, latency_s=0.5)["workers"] == 6


def test_304s_cost_no_budget():
    assert capacity(cost(0.0, 0.01, 0.01, not_modified=2.0), 50_000, 1)["requests_per_hour"] == 0


def test_an_installations_limit_grows_with_its_repositories_up_to_12500():
    assert installation_limit(20) == 5_000
    assert installation_limit(21) == 5_000 + 50 * 21
    assert installation_limit(10_000) == 12_500


@pytest.mark.parametrize(("units", "freshness", "latency"), [(0, 24, 0), (10, 0, 0), (10, 1, -1)])
def test_nonsense_inputs_are_refused(units, freshness, latency):
    with pytest.raises(ValueError):
        capacity(cost(1, 1, 1), units, freshness, latency_s=latency)
