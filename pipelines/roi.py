"""Platform ROI: do services on the golden paths deliver better? Published with the snapshot.

Computed when the serving file is published (`warehouse.publish`), over every
published date, from tables already in it: cohorts from the adoption facts
(`golden_path_adoption`), the levels (`service_scores`) and the template's
version (the `uses_service_template` finding's params, as `golden_path_adoption`
stores them); outcomes from `dora` (DESIGN "Metric definitions").

* **cohorts**: per golden path, *on path* (``adopted``) against *off path*
  (``not_adopted``); ``unknown`` adoption is in neither (policy: unknown is
  not "no"); per scorecard, each level against the lowest level present; per
  template version, each version against the services off the template.
* **outcomes**: lead time p50, deploy-days per week, change failure rate and
  time to restore, per service as published in `dora`; a service without a
  value for a metric (no deploys, no incidents) is not in that metric's n.
* **incremental**: a date's rows depend on that date alone (its cohorts,
  its ranks, its own seeded bootstrap), so a publish keeps the rows of
  dates whose published data did not change (`warehouse.derive_dates`) and
  computes only the others; the pooled period is recomputed every time.
* **windows**: each snapshot alone, and pooled over the last
  :data:`POOLED_WEEKS` weeks. Pooled, a service counts once per cohort (the
  median of its values over the period's dates in that cohort), so a service
  seen on 12 dates is one observation, not 12.
* **difference**: median of the cohort minus median of the baseline, with a
  percentile bootstrap confidence interval (:data:`CONFIDENCE`) from
  :data:`RESAMPLES` seeded resamples of each cohort (:func:`bootstrap_medians`).
  Below :data:`MIN_N` services in either group there is no interval.

This is correlation, not causation: teams that adopt early may differ from
those that do not (see the README's "Platform ROI").
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

TABLES = ("roi_cohorts",)
# What the kept rows of roi_cohorts were computed with: this module (its settings are constants in it).
INPUTS = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
POOLED_WEEKS = 12
RESAMPLES = 2000
CONFIDENCE = 0.95
SEED = 20261203
MIN_N = 5  # below this a bootstrap interval of a median says nothing: left out, and the page says why

# Outcome column of `dora` -> (label, whether lower is better).
METRICS: dict[str, tuple[str, bool]] = {
    "lead_time_p50_hours": ("lead time p50 (hours)", True),
    "deploy_days_per_week": ("deploy-days per week", False),
    "change_failure_rate": ("change failure rate", True),
    "time_to_restore_hours": ("time to restore (hours)", True),
}

_DDL = """period VARCHAR, snapshot DATE, first_snapshot DATE, dimension VARCHAR, subject VARCHAR,
    cohort VARCHAR, cohort_rank INTEGER, is_baseline BOOLEAN, baseline VARCHAR, metric VARCHAR,
    services INTEGER, n INTEGER, median DOUBLE, baseline_n INTEGER, baseline_median DOUBLE,
    diff_median DOUBLE, ci_low DOUBLE, ci_high DOUBLE, reading VARCHAR"""

# The dates read: those whose own rows are computed (`own`), and the pooled window's.
_DATES = """
CREATE TEMP TABLE _roi_dates AS
WITH published AS (  -- the dates with members (below)
    SELECT snapshot FROM golden_path_adoption WHERE adoption IN ('adopted', 'not_adopted')
    UNION SELECT snapshot FROM service_scores),
last AS (SELECT max(snapshot) AS last FROM published)
SELECT snapshot, {own} AS own FROM published, last
WHERE {own} OR snapshot > last.last - to_weeks($weeks)
"""

# Which cohort each service is in, per date read. cohort_rank orders cohorts; rank 0 is "off path" / no level.
_MEMBERS = """
CREATE TEMP TABLE _roi_members AS
SELECT * FROM (
SELECT snapshot, service, 'golden_path' AS dimension, golden_path AS subject,
       CASE adoption WHEN 'adopted' THEN 'on path' ELSE 'off path' END AS cohort,
       CASE adoption WHEN 'adopted' THEN 1 ELSE 0 END AS cohort_rank
FROM golden_path_adoption
WHERE adoption IN ('adopted', 'not_adopted')  -- checks/policy.py: unknown is neither on nor off
UNION ALL
SELECT snapshot, service, 'scorecard_level', scorecard, coalesce(level, 'none'), coalesce(level_rank, 0)
FROM service_scores
UNION ALL
SELECT snapshot, service, 'template_version', 'template',
       CASE WHEN adoption = 'not_adopted' THEN 'off path' ELSE coalesce(version, 'version unknown') END,
       CASE WHEN adoption = 'not_adopted' THEN 0 ELSE 1 END
FROM golden_path_adoption
WHERE golden_path = 'template' AND adoption IN ('adopted', 'not_adopted')
) WHERE snapshot IN (SELECT snapshot FROM _roi_dates)
"""

# Each cohort once, numbered: the values below carry the number, not three strings.
_IDS = """
CREATE TEMP TABLE _roi_ids AS
SELECT (row_number() OVER (ORDER BY dimension, subject, cohort) - 1)::INTEGER AS cid, dimension, subject, cohort
FROM _roi_members GROUP BY dimension, subject, cohort
"""

# One value per (period, cohort, metric, service): the date's own, or pooled the median over the window.
# Dates travel as day numbers; `pooled` is 0 for one date, 1 for the window ending at the latest date.
_VALUES = """
WITH last AS (SELECT max(snapshot) AS last FROM _roi_members),
dm AS (SELECT m.snapshot, m.service, i.cid FROM _roi_members m JOIN _roi_ids i USING (dimension, subject, cohort)),
u AS (UNPIVOT (SELECT snapshot, service, {metrics} FROM dora WHERE snapshot IN (SELECT snapshot FROM _roi_dates))
      ON {metrics} INTO NAME metric VALUE value),
joined AS (
    SELECT dm.snapshot, dm.service, dm.cid, (list_position([{names}], u.metric) - 1)::TINYINT AS metric_id, u.value
    FROM dm JOIN u USING (snapshot, service)
    WHERE u.value IS NOT NULL AND isfinite(u.value)
)
SELECT 0::TINYINT AS pooled, (snapshot - DATE '1970-01-01')::INTEGER AS day, cid, metric_id, value FROM joined
WHERE snapshot IN (SELECT snapshot FROM _roi_dates WHERE own)
UNION ALL
SELECT 1::TINYINT, (any_value(l.last) - DATE '1970-01-01')::INTEGER, cid, metric_id, median(value)
FROM joined, last l WHERE joined.snapshot > l.last - to_weeks($weeks)
GROUP BY service, cid, metric_id
"""

# Cohort sizes: services in the cohort, whatever their metrics; and its rank, of the period's own dates
# (so a date's rows never depend on another date's).
_SIZES = """
WITH last AS (SELECT max(snapshot) AS last FROM _roi_members),
dm AS (SELECT m.snapshot, m.service, m.cohort_rank, i.cid
       FROM _roi_members m JOIN _roi_ids i USING (dimension, subject, cohort))
SELECT 0 AS pooled, (snapshot - DATE '1970-01-01')::INTEGER AS day, cid, count(DISTINCT service) AS services,
       max(cohort_rank)::INTEGER AS cohort_rank
FROM dm WHERE snapshot IN (SELECT snapshot FROM _roi_dates WHERE own) GROUP BY ALL
UNION ALL
SELECT 1, (any_value(l.last) - DATE '1970-01-01')::INTEGER, cid, count(DISTINCT service), max(cohort_rank)::INTEGER
FROM dm, last l WHERE dm.snapshot > l.last - to_weeks($weeks) GROUP BY cid
"""

_WINDOW_START = """
SELECT min(snapshot) FROM _roi_members
WHERE snapshot > (SELECT max(snapshot) FROM _roi_members) - to_weeks($weeks)
"""

_EPOCH = np.datetime64("1970-01-01", "D")


def _groups(con: duckdb.DuckDBPyConnection, weeks: int) -> tuple[pd.DataFrame, np.ndarray]:
    """(one row per period, date, cohort and metric with n and median; every group's values sorted, back to back).

    Sorting and medians are numpy's: a lexsort of a few million (key, value)
    pairs is much cheaper than DuckDB ordering them by six text columns.
    """
    raw = con.execute(_VALUES.format(metrics=", ".join(METRICS), names=", ".join(f"'{m}'" for m in METRICS)),
                      {"weeks": weeks}).fetchnumpy()
    value = np.asarray(raw["value"], dtype=float)
    key = (((np.asarray(raw["pooled"], dtype=np.int64) << 20) + np.asarray(raw["day"], dtype=np.int64)) << 20
           ) + np.asarray(raw["cid"], dtype=np.int64)
    key = (key << 3) + np.asarray(raw["metric_id"], dtype=np.int64)
    order = np.lexsort((value, key))
    key, value = key[order], value[order]
    if len(key) == 0:
        return pd.DataFrame(), value
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    sizes = np.diff(np.r_[starts, len(key)])
    median = (value[starts + (sizes - 1) // 2] + value[starts + sizes // 2]) / 2  # the middle one, or two's mean
    k = key[starts]
    ids = con.execute("SELECT * FROM _roi_ids ORDER BY cid").df()
    groups = pd.DataFrame({
        "gid": np.arange(len(k)), "pooled": k >> 43, "day": (k >> 23) & ((1 << 20) - 1),
        "cid": (k >> 3) & ((1 << 20) - 1), "metric": np.array(list(METRICS))[k & 7], "n": sizes, "median": median,
    })
    groups = groups.merge(ids, on="cid", how="left").sort_values("gid", ignore_index=True)
    sizes_df = con.execute(_SIZES, {"weeks": weeks}).df()
    groups = groups.merge(sizes_df, on=["pooled", "day", "cid"], how="left").sort_values("gid", ignore_index=True)
    groups["services"] = groups["services"].fillna(0).astype(int)
    groups["cohort_rank"] = groups["cohort_rank"].astype(int)
    groups["period"] = np.where(groups["pooled"] == 1, "pooled", "snapshot")
    groups["snapshot"] = pd.to_datetime(_EPOCH + groups["day"].to_numpy().astype("timedelta64[D]"))
    start = con.execute(_WINDOW_START, {"weeks": weeks}).fetchone()[0]
    groups["first_snapshot"] = np.where(groups["pooled"] == 1, pd.Timestamp(start), groups["snapshot"])
    groups["first_snapshot"] = pd.to_datetime(groups["first_snapshot"])
    return groups.drop(columns=["pooled", "day", "cid"]), value


def bootstrap_medians(values: np.ndarray, sizes: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap medians of many groups at once: (resamples, groups).

    ``values`` holds every group's values, each group sorted and the groups
    back to back (``sizes`` long each). Resampling n values with replacement
    and taking the median is the same as drawing the median's *rank* in the
    sorted sample: with U_i uniform, a resample is x[ceil(n U_i)], so its
    k-th order statistic is x[ceil(n U_(k))] and U_(k) ~ Beta(k, n - k + 1);
    for even n the next order statistic is U_(k) + (1 - U_(k)) Beta(1, n - k).
    So each resample costs two Beta draws instead of n draws and a sort:
    the exact nonparametric bootstrap, independent of n in time and memory.
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    if len(sizes) == 0:
        return np.empty((resamples, 0))
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    n = sizes.astype(float)
    k = (sizes + 1) // 2  # the (lower) middle rank, 1-based
    u1 = rng.beta(k, sizes - k + 1, size=(resamples, len(sizes)))
    u2 = u1 + (1 - u1) * rng.beta(1, np.maximum(sizes - k, 1), size=(resamples, len(sizes)))
    r1 = np.clip(np.ceil(n * u1).astype(np.int64), 1, sizes) - 1 + offsets
    r2 = np.clip(np.ceil(n * u2).astype(np.int64), 1, sizes) - 1 + offsets
    low = values[r1]
    return np.where(sizes % 2 == 1, low, (low + values[r2]) / 2)


def _difference_intervals(values: np.ndarray, sizes: np.ndarray, base_gid: np.ndarray, date_starts: np.ndarray,
                          date_seeds: list[list[int]], resamples: int) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap interval of (group median - its baseline's median), per group.

    One date at a time (``date_starts``: the first group of each), each with
    its own generator seeded by ``date_seeds`` (the seed, the period and the
    day): a date's intervals are the same whichever other dates are computed
    with it, so an incremental publish keeps them (`publish`), and memory is
    bounded whatever the history's length (the resample matrices are
    resamples x groups x 8 bytes: all dates at once grew the soak's publish
    by 674 MiB at 100 dates). ``base_gid`` must point into the same date as its group.
    """
    alpha = (1 - CONFIDENCE) / 2
    low, high = np.empty(len(sizes)), np.empty(len(sizes))
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    bounds = np.append(date_starts, len(sizes))
    for first, last, date_seed in zip(bounds[:-1], bounds[1:], date_seeds, strict=True):
        block = slice(first, last)
        rng = np.random.default_rng(date_seed)
        boots = bootstrap_medians(values[offsets[first]:offsets[last]], sizes[block], resamples, rng)
        diffs = boots - boots[:, base_gid[block] - first]
        low[block], high[block] = np.quantile(diffs, [alpha, 1 - alpha], axis=0)
    return low, high


def _reading(metric: str, diff: float, low: float, high: float, n: int, base_n: int) -> str:
    if min(n, base_n) < MIN_N:
        return "too few services"
    if low <= 0 <= high:
        return "no clear difference"
    lower_better = METRICS[metric][1]
    return "better" if (diff < 0) == lower_better else "worse"


def cohorts(con: duckdb.DuckDBPyConnection, weeks: int = POOLED_WEEKS, resamples: int = RESAMPLES,
            seed: int = SEED, dates: list | None = None) -> pd.DataFrame:
    """The roi_cohorts frame from the snapshot tables ``con`` holds (see the module doc): the snapshot
    period's rows of ``dates`` (default: every date), and the pooled period's."""
    if dates is None:
        con.execute(_DATES.format(own="true"), {"weeks": weeks})
    else:
        con.execute("CREATE TEMP TABLE _roi_own (snapshot DATE)")
        if dates:
            con.executemany("INSERT INTO _roi_own VALUES (?)", [[d] for d in dates])
        con.execute(_DATES.format(own="snapshot IN (SELECT snapshot FROM _roi_own)"), {"weeks": weeks})
        con.execute("DROP TABLE _roi_own")
    try:
        con.execute(_MEMBERS)
        con.execute(_IDS)
        groups, values = _groups(con, weeks)  # metric names are fixed identifiers from this module
    finally:
        for name in ("_roi_ids", "_roi_members", "_roi_dates"):
            con.execute(f"DROP TABLE IF EXISTS {name}")
    if groups.empty:
        return pd.DataFrame(columns=[c.split()[0] for c in _DDL.split(",")])

    # The baseline of each (period, date, dimension, subject, metric): off path (rank 0) for a golden
    # path or template version, the lowest level present for a scorecard. A path nobody is off has none.
    key = ["period", "snapshot", "dimension", "subject", "metric"]
    first = groups.sort_values([*key, "cohort_rank", "cohort"]).groupby(key, sort=False).head(1)
    first = first[(first["dimension"] == "scorecard_level") | (first["cohort_rank"] == 0)]
    base = groups[key].merge(first[[*key, "gid", "cohort", "n", "median"]], on=key, how="left", suffixes=("", "_b"))
    out = groups.assign(
        baseline=base["cohort"].to_numpy(), baseline_n=base["n"].to_numpy(),
        baseline_median=base["median"].to_numpy(),
    )
    has_base = base["gid"].notna().to_numpy()
    base_gid = np.where(has_base, base["gid"].fillna(-1).to_numpy(), out["gid"].to_numpy()).astype(np.int64)
    out["is_baseline"] = has_base & (out["gid"].to_numpy() == base_gid)
    out["diff_median"] = np.where(out["is_baseline"] | ~has_base, np.nan, out["median"] - out["baseline_median"])
    # A group's baseline is of its own period and date, so whole dates are bootstrapped at a time.
    dates = out[["period", "snapshot"]]
    date_starts = np.flatnonzero((dates != dates.shift()).any(axis=1).to_numpy())
    date_seeds = [[seed, int(p == "pooled"), (d - pd.Timestamp("1970-01-01")).days]
                  for p, d in out[["period", "snapshot"]].iloc[date_starts].itertuples(index=False)]
    low, high = _difference_intervals(values, out["n"].to_numpy(), base_gid, date_starts, date_seeds, resamples)
    enough = (has_base & (out["n"].to_numpy() >= MIN_N) & (out["baseline_n"].fillna(0).to_numpy() >= MIN_N)
              & ~out["is_baseline"])
    out["ci_low"] = np.where(enough, low, np.nan)
    out["ci_high"] = np.where(enough, high, np.nan)
    out["reading"] = [
        None if b else "no services off the path" if not hb else _reading(m, d, lo, hi, n, bn)
        for b, hb, m, d, lo, hi, n, bn in zip(out["is_baseline"], has_base, out["metric"], out["diff_median"],
                                              out["ci_low"], out["ci_high"], out["n"], out["baseline_n"], strict=True)
    ]
    return out.drop(columns="gid")


def publish(con: duckdb.DuckDBPyConnection) -> None:
    """Add roi_cohorts to the file being published (called by `warehouse.publish`): rows of the dates
    `warehouse.derive_dates` names, beside the kept ones, and the pooled period's again."""
    from pipelines import warehouse

    dates = warehouse.derive_dates(con, "roi_cohorts")
    frame = cohorts(con, dates=dates)
    if dates is None:
        con.execute(f"CREATE TABLE roi_cohorts ({_DDL})")  # fixed DDL from this module
    else:
        con.execute("DELETE FROM roi_cohorts WHERE period = 'pooled'")  # its window moved: computed again
    if frame.empty:
        return
    con.register("_roi", frame)
    try:
        con.execute("INSERT INTO roi_cohorts BY NAME SELECT * FROM _roi")
    finally:
        con.unregister("_roi")
