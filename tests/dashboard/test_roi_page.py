"""The Platform ROI page and `scorecard roi` on the pipeline's published demo history.

Expectations are computed with pandas from the frames the pipeline wrote
(``built.frames``: golden_path_adoption, dora), not from pipelines/roi.py's SQL.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import duckdb
import pandas as pd
import pytest

from pipelines import cli
from pipelines.roi import METRICS
from tests.dashboard.test_dashboard_pages import texts

LABELS = {label: metric for metric, (label, _) in METRICS.items()}


def expected_latest(built) -> pd.DataFrame:
    """Per golden path, cohort and outcome at the latest date: n and median, unknown adoption left out."""
    adoption = built.at("golden_path_adoption")
    adoption = adoption[adoption["adoption"].isin(["adopted", "not_adopted"])]
    joined = adoption.merge(built.at("dora").drop(columns=["team"]), on=["snapshot", "service"])
    long = joined.melt(id_vars=["golden_path", "adoption", "service"], value_vars=list(METRICS),
                       var_name="metric", value_name="value").dropna(subset=["value"])
    long["cohort"] = long["adoption"].map({"adopted": "on path", "not_adopted": "off path"})
    return long.groupby(["golden_path", "cohort", "metric"])["value"].agg(n="count", median="median").reset_index()


def page_rows(at) -> pd.DataFrame:
    tables = [df.value for df in at.dataframe if "outcome" in df.value.columns]
    out = pd.concat(tables, ignore_index=True)
    return out.assign(metric=out["outcome"].map(LABELS))


def test_roi_page_shows_each_golden_path_with_n_medians_and_the_caveat(open_page, built) -> None:
    at = open_page("roi", period="snapshot")
    assert not at.exception, [e.value for e in at.exception]
    body = texts(at)
    assert "Correlation, not causation" in body and "Teams that adopt early may differ" in body
    assert "What the sample sizes allow" in body
    exp = expected_latest(built)
    assert [s.value.replace("\\", "") for s in at.subheader] == sorted(exp["golden_path"].unique())
    shown = page_rows(at)
    got = {(r.cohort, r.metric, int(r.n), round(float(r.median), 6)) for r in shown.itertuples()}
    want = {(r.cohort, r.metric, int(r.n), round(float(r.median), 6)) for r in exp.itertuples()}
    assert got == want
    # A comparison whose smaller side has fewer than 5 services gets no interval, and says so.
    on = shown[shown["cohort"] == "on path"]
    few = on[on["reading"].str.contains("too few")]
    assert not few.empty and few["ci_low"].isna().all()
    assert on.loc[on["ci_low"].notna(), "reading"].str.contains("better|worse|no clear").all()


def test_unknown_adoption_counts_on_neither_side(open_page, built) -> None:
    adoption = built.at("golden_path_adoption", golden_path="ci_workflow")
    assert (adoption["adoption"] == "unknown").any(), "the demo has a service whose CI adoption is unknown"
    at = open_page("roi", period="snapshot")
    known = adoption["adoption"].isin(["adopted", "not_adopted"]).sum()
    shown = page_rows(at)
    ci_rows = shown[(shown["outcome"] == METRICS["lead_time_p50_hours"][0]) & shown["cohort"].isin(["on path", "off path"])]
    unknown = (adoption["adoption"] == "unknown").sum()  # the demo's CI-less service, the portal-only one
    assert len(adoption) == known + unknown
    assert ci_rows.head(2)["services"].sum() == known


@pytest.mark.parametrize("by", ["scorecard level", "template version"])
def test_other_cohorts_and_the_pooled_view_render(open_page, built, by: str) -> None:
    at = open_page("roi", by=by)
    assert not at.exception, [e.value for e in at.exception]
    assert "Pooled from" in texts(at)
    subjects = [s.value.replace("\\", "") for s in at.subheader]
    if by == "scorecard level":
        assert subjects == sorted(built.at("service_scores")["scorecard"].unique())
    else:
        assert subjects == ["template"]


def test_a_file_published_before_roi_says_so(open_page, built, tmp_path) -> None:
    old = tmp_path / "old.duckdb"
    shutil.copy(built.serving, old)
    with duckdb.connect(str(old)) as con:
        con.execute("DROP TABLE roi_cohorts")
    at = open_page("roi", snapshot=old)
    assert not at.exception, [e.value for e in at.exception]
    assert "No cohorts to compare" in texts(at)


def test_scorecard_roi_as_a_user_runs_it(built) -> None:
    env = {**os.environ, "NO_COLOR": "1"}
    text = subprocess.run([sys.executable, "-m", "pipelines.cli", "roi", "--config", str(built.config)],
                          check=False, capture_output=True, text=True, timeout=120, env=env)
    assert text.returncode == 0, text.stderr
    assert "Correlation, not causation" in text.stdout and "golden path helm_chart (against off path)" in text.stdout
    done = subprocess.run([sys.executable, "-m", "pipelines.cli", "roi", "--config", str(built.config),
                           "--format", "json", "--period", "snapshot"],
                          check=False, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["snapshot"] == built.latest.isoformat() and "not causation" in report["caveat"]
    got = {(c["subject"], c["cohort"], c["metric"], c["n"]) for c in report["cohorts"]}
    exp = expected_latest(built)
    assert got == {(r.golden_path, r.cohort, r.metric, r.n) for r in exp.itertuples()}


def test_scorecard_roi_without_a_published_snapshot_says_what_to_do(tmp_path, capsys) -> None:
    config = tmp_path / "scorecard.yaml"
    config.write_text("warehouse:\n  path: wh.duckdb\n  serving_path: served.duckdb\n")
    assert cli.main(["roi", "--config", str(config)]) == 2
    assert "no published snapshot" in capsys.readouterr().err
    assert cli.main(["roi", "--config", str(tmp_path / "none.yaml")]) == 2
    assert "config file not found" in capsys.readouterr().err
