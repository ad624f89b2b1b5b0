"""The Platform ROI page and `scorecard roi`: delivery outcomes by cohort, as published.

Reads `roi_cohorts` (pipelines/roi.py computed the medians, sample sizes and
bootstrap intervals at publish time); nothing is recomputed here. A file
published before the table existed answers empty, so readers say so.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from pipelines.readmodel.base import frame, rows
from pipelines.roi import CONFIDENCE, METRICS, MIN_N, POOLED_WEEKS

_COLUMNS = ["period", "snapshot", "first_snapshot", "dimension", "subject", "cohort", "cohort_rank", "is_baseline",
            "baseline", "metric", "services", "n", "median", "baseline_n", "baseline_median", "diff_median",
            "ci_low", "ci_high", "reading"]
DIMENSIONS = {"golden_path": "golden path", "scorecard_level": "scorecard level", "template_version": "template version"}


def has_roi(path: str) -> bool:
    found = rows(path, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' "
                       "AND table_name = 'roi_cohorts'")
    return found[0][0] == 1


def roi_subjects(path: str, dimension: str) -> list[str]:
    """The golden paths (or scorecards) with cohorts, in name order."""
    if not has_roi(path):
        return []
    return [r[0] for r in rows(path, "SELECT DISTINCT subject FROM roi_cohorts WHERE dimension = $dimension "
                                     "ORDER BY subject", dimension=dimension)]


def roi_cohorts(path: str, snapshot: dt.date, pooled: bool, dimension: str | None = None,
                subject: str | None = None) -> pd.DataFrame:
    """Cohorts' outcomes at ``snapshot`` (or pooled over the window ending at the latest date)."""
    if not has_roi(path):
        return pd.DataFrame(columns=_COLUMNS)
    return frame(
        path,
        """SELECT * FROM roi_cohorts
           WHERE period = CASE WHEN $pooled THEN 'pooled' ELSE 'snapshot' END
             AND (CASE WHEN $pooled THEN true ELSE snapshot = $snapshot END)
             AND ($dimension::VARCHAR IS NULL OR dimension = $dimension)
             AND ($subject::VARCHAR IS NULL OR subject = $subject)
           ORDER BY dimension, subject, metric, cohort_rank, cohort""",
        snapshot=snapshot, pooled=pooled, dimension=dimension, subject=subject,
    )


def roi_trend(path: str, dimension: str, subject: str, metric: str) -> pd.DataFrame:
    """Per snapshot date: each cohort's median and n of one outcome (the single-date rows)."""
    if not has_roi(path):
        return pd.DataFrame(columns=["snapshot", "cohort", "n", "median", "diff_median", "ci_low", "ci_high"])
    return frame(
        path,
        """SELECT snapshot, cohort, n, median, diff_median, ci_low, ci_high FROM roi_cohorts
           WHERE period = 'snapshot' AND dimension = $dimension AND subject = $subject AND metric = $metric
           ORDER BY snapshot, cohort_rank, cohort""",
        dimension=dimension, subject=subject, metric=metric,
    )


def roi_report(path: str, snapshot: dt.date, pooled: bool = True) -> dict[str, Any]:
    """What `scorecard roi --format json` prints: the method and every cohort comparison."""
    df = roi_cohorts(path, snapshot, pooled)
    out = df.astype(object).where(df.notna(), None)
    for column in ("snapshot", "first_snapshot"):
        out[column] = [None if v is None else pd.Timestamp(v).date().isoformat() for v in out[column]]
    return {
        "snapshot": snapshot.isoformat(),
        "period": "pooled" if pooled else "snapshot",
        "pooled_weeks": POOLED_WEEKS,
        "confidence": CONFIDENCE,
        "min_n": MIN_N,
        "metrics": {k: {"label": label, "lower_is_better": lower} for k, (label, lower) in METRICS.items()},
        "caveat": "correlation, not causation: teams that adopt a golden path early may differ from those that do not",
        "cohorts": out.to_dict(orient="records"),
    }
