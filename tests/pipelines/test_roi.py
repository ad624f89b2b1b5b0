"""Platform ROI statistics on small hand-made snapshots, against values worked out by hand."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import pytest

from pipelines import roi, warehouse

D1, D2 = dt.date(2026, 11, 16), dt.date(2026, 11, 23)


def snapshot(adoption: list[tuple], dora: list[tuple], scores: list[tuple] = ()) -> duckdb.DuckDBPyConnection:
    """A published file's tables, in memory. adoption: (date, service, path, state, version);
    dora: (date, service, lead_time_p50_hours, deploy_days_per_week, cfr, restore); scores: (date, service, level, rank)."""
    con = duckdb.connect()
    for name in ("golden_path_adoption", "service_scores", "dora"):
        con.execute(f"CREATE TABLE {name} ({warehouse.SNAPSHOT_TABLES[name]})")
    for day, service, path, state, version in adoption:
        con.execute("INSERT INTO golden_path_adoption (snapshot, service, golden_path, adoption, version) "
                    "VALUES (?, ?, ?, ?, ?)", [day, service, path, state, version])
    for row in dora:
        con.execute("INSERT INTO dora (snapshot, service, lead_time_p50_hours, deploy_days_per_week, "
                    "change_failure_rate, time_to_restore_hours) VALUES (?, ?, ?, ?, ?, ?)", list(row))
    for day, service, level, rank in scores:
        con.execute("INSERT INTO service_scores (snapshot, scorecard, service, level, level_rank) "
                    "VALUES (?, 'default', ?, ?, ?)", [day, service, level, rank])
    return con


def pick(df: pd.DataFrame, **where) -> pd.DataFrame:
    for k, v in where.items():
        df = df[df[k] == v]
    return df


def one(df: pd.DataFrame, **where) -> pd.Series:
    found = pick(df, **where)
    assert len(found) == 1, found
    return found.iloc[0]


def ci_path_snapshot() -> duckdb.DuckDBPyConnection:
    on = [f"on-{i}" for i in range(5)]
    off = [f"off-{i}" for i in range(4)]
    adoption = ([(D2, s, "ci_workflow", "adopted", "v2") for s in on]
                + [(D2, s, "ci_workflow", "not_adopted", None) for s in off]
                + [(D2, "unsure", "ci_workflow", "unknown", None)])
    dora = ([(D2, s, lt, 3.0, None, None) for s, lt in zip(on, [5, 1, 4, 2, 3], strict=True)]
            + [(D2, s, lt, 1.0, None, None) for s, lt in zip(off, [10, 40, 20, 30], strict=True)]
            + [(D2, "unsure", 1000.0, 9.0, None, None)])
    return snapshot(adoption, dora)


def test_medians_n_and_difference_by_hand() -> None:
    out = roi.cohorts(ci_path_snapshot())
    lead = pick(out, period="snapshot", dimension="golden_path", subject="ci_workflow", metric="lead_time_p50_hours")
    on, off = one(lead, cohort="on path"), one(lead, cohort="off path")
    assert (on["n"], on["median"]) == (5, 3.0)  # 1 2 3 4 5
    assert (off["n"], off["median"]) == (4, 25.0)  # 10 20 | 30 40: the mean of the middle two
    assert off["is_baseline"] and not on["is_baseline"] and on["baseline"] == "off path"
    assert on["diff_median"] == pytest.approx(-22.0)
    assert on["services"] == 5 and off["services"] == 4
    # n = 4 < MIN_N off path: no interval rather than a falsely narrow one
    assert np.isnan(on["ci_low"]) and on["reading"] == "too few services"


def test_unknown_adoption_is_in_no_cohort() -> None:
    out = roi.cohorts(ci_path_snapshot())
    path = pick(out, dimension="golden_path", period="snapshot")
    assert set(path["cohort"]) == {"on path", "off path"}
    assert path.groupby("cohort")["services"].max().sum() == 9, "the unknown service is neither on nor off"
    assert 1000.0 not in set(pick(path, metric="lead_time_p50_hours")["median"])


def constructed(n_on: int, n_off: int, effect: float, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    on = rng.normal(50.0, 10.0, n_on) - effect  # on path: lead time lower by `effect` hours
    off = rng.normal(50.0, 10.0, n_off)
    adoption = ([(D2, f"on-{i}", "template", "adopted", "3.1.0") for i in range(n_on)]
                + [(D2, f"off-{i}", "template", "not_adopted", None) for i in range(n_off)])
    dora = ([(D2, f"on-{i}", float(v), None, None, None) for i, v in enumerate(on)]
            + [(D2, f"off-{i}", float(v), None, None, None) for i, v in enumerate(off)])
    return roi.cohorts(snapshot(adoption, dora))


def test_ci_contains_a_constructed_effect_and_excludes_zero() -> None:
    out = constructed(400, 400, effect=8.0)
    on = one(out, period="snapshot", dimension="golden_path", cohort="on path", metric="lead_time_p50_hours")
    assert on["ci_low"] < -8.0 < on["ci_high"]
    assert on["ci_high"] < 0 and on["reading"] == "better"
    # the template's version cohort is the same services: same answer
    v = one(out, period="snapshot", dimension="template_version", cohort="3.1.0", metric="lead_time_p50_hours")
    assert v["diff_median"] == pytest.approx(on["diff_median"]) and v["baseline"] == "off path"


def test_ci_is_wide_for_tiny_n() -> None:
    big = one(constructed(400, 400, effect=8.0), cohort="on path", dimension="golden_path", period="snapshot",
              metric="lead_time_p50_hours")
    tiny = one(constructed(6, 6, effect=8.0), cohort="on path", dimension="golden_path", period="snapshot",
               metric="lead_time_p50_hours")
    assert tiny["ci_high"] - tiny["ci_low"] > 4 * (big["ci_high"] - big["ci_low"])
    assert tiny["ci_low"] < -8.0 < tiny["ci_high"]


def test_bootstrap_is_seeded_and_reproducible() -> None:
    a = constructed(50, 50, effect=3.0)
    b = constructed(50, 50, effect=3.0)
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize("n", [1, 2, 7, 10, 51])
def test_rank_bootstrap_matches_resampling(n: int) -> None:
    """The Beta-rank shortcut has the distribution of the textbook bootstrap (resample, take the median)."""
    rng = np.random.default_rng(3)
    x = np.sort(rng.exponential(10.0, n))
    fast = roi.bootstrap_medians(x, np.array([n]), 40_000, np.random.default_rng(4))[:, 0]
    slow = np.median(x[rng.integers(0, n, size=(40_000, n))], axis=1)
    # the same discrete distribution: cumulative shares at every value agree (Kolmogorov distance)
    grid = np.unique(np.concatenate([fast, slow]))
    cdf = [np.searchsorted(np.sort(s), grid, side="right") / len(s) for s in (fast, slow)]
    assert np.abs(cdf[0] - cdf[1]).max() < 0.015
    assert fast.mean() == pytest.approx(slow.mean(), rel=0.02)


def test_levels_compare_with_the_lowest_level_present() -> None:
    services = [f"s{i}" for i in range(9)]
    levels = [("bronze", 1)] * 3 + [("silver", 2)] * 3 + [("gold", 3)] * 3
    dora = [(D2, s, None, float(i), None, None) for i, s in enumerate(services)]
    scores = [(D2, s, lvl, rank) for s, (lvl, rank) in zip(services, levels, strict=True)]
    out = pick(roi.cohorts(snapshot([], dora, scores)), dimension="scorecard_level", metric="deploy_days_per_week",
               period="snapshot")
    assert one(out, cohort="bronze")["is_baseline"]
    assert one(out, cohort="silver")["diff_median"] == 3.0  # 4 - 1
    assert one(out, cohort="gold")["diff_median"] == 6.0  # 7 - 1


def test_pooled_counts_a_service_once_with_its_median_over_the_window() -> None:
    old = D2 - dt.timedelta(weeks=roi.POOLED_WEEKS + 1)  # outside the pooled window
    adoption = [(d, s, "helm_chart", "adopted" if s.startswith("on") else "not_adopted", None)
                for d in (old, D1, D2) for s in ("on-a", "on-b", "off-a")]
    dora = [(old, "on-a", 999.0, None, None, None),
            (D1, "on-a", 2.0, None, None, None), (D2, "on-a", 4.0, None, None, None),
            (D1, "on-b", 10.0, None, None, None), (D2, "on-b", 10.0, None, None, None),
            (D2, "off-a", 7.0, None, None, None)]
    out = roi.cohorts(snapshot(adoption, dora))
    on = one(out, period="pooled", cohort="on path", metric="lead_time_p50_hours")
    assert on["n"] == 2 and on["median"] == 6.5  # on-a: median(2, 4) = 3, on-b: 10
    assert on["snapshot"] == pd.Timestamp(D2) and on["first_snapshot"] == pd.Timestamp(D1)
    assert len(pick(out, period="snapshot", cohort="on path", metric="lead_time_p50_hours")) == 3


def test_publish_adds_an_empty_table_to_a_file_without_delivery_data() -> None:
    con = snapshot([], [])
    roi.publish(con)
    assert con.execute("SELECT count(*) FROM roi_cohorts").fetchone()[0] == 0


def test_a_path_nobody_is_off_has_no_baseline_and_no_difference() -> None:
    adoption = [(D2, f"s{i}", "crossplane", "adopted", None) for i in range(6)]
    dora = [(D2, f"s{i}", float(i), None, None, None) for i in range(6)]
    on = one(roi.cohorts(snapshot(adoption, dora)), period="snapshot", metric="lead_time_p50_hours")
    assert not on["is_baseline"] and pd.isna(on["baseline"]) and np.isnan(on["diff_median"])
    assert on["reading"] == "no services off the path"


def test_each_date_is_bootstrapped_alone_and_its_rows_do_not_depend_on_the_other_dates(monkeypatch) -> None:
    """All groups at once grew the publish's memory with each date (~960 MiB at 100 daily snapshots in
    the soak): one date at a time keeps it bounded. Each date has its own seeded generator, so a date
    computed alone (an incremental publish keeps the other dates' rows) gets the rows it gets among all."""
    days = [D1 + dt.timedelta(days=i) for i in range(20)]
    rng = np.random.default_rng(5)
    adoption, dora = [], []
    for day in days:
        for i in range(30):
            on = i < 15
            adoption.append((day, f"svc-{i}", "template", "adopted" if on else "not_adopted", "3.1.0" if on else None))
            dora.append((day, f"svc-{i}", float(rng.normal(50.0, 10.0) - (20.0 if on else 0.0)), None, None, None))
    con = snapshot(adoption, dora)

    seen: list[int] = []
    real = roi.bootstrap_medians

    def counting(values, sizes, resamples, rng_):
        seen.append(len(sizes))
        return real(values, sizes, resamples, rng_)

    monkeypatch.setattr(roi, "bootstrap_medians", counting)
    whole = roi.cohorts(con)
    assert seen == [4] * (len(days) + 1)  # 2 cohorts x 2 dimensions a date, and the pooled period
    assert (pick(whole, period="snapshot", cohort="on path")["reading"] == "better").all()

    some = roi.cohorts(con, dates=[days[3], days[19]])
    expected = whole[whole["snapshot"].isin(pd.to_datetime([days[3], days[19]])) | (whole["period"] == "pooled")]
    assert set(some["period"]) == {"snapshot", "pooled"} and len(some) == 4 * 3
    pd.testing.assert_frame_equal(some.reset_index(drop=True), expected.reset_index(drop=True))
    # A date alone is not the same as another date: the comparison above can fail.
    other = roi.cohorts(con, dates=[days[4], days[19]])
    assert not other["ci_low"].reset_index(drop=True).equals(some["ci_low"].reset_index(drop=True))
