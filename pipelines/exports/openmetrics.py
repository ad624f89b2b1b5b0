"""`scorecard export metrics`: the latest published snapshot as OpenMetrics text.

The format is OpenMetrics 1.0 (what Prometheus scrapes with
``application/openmetrics-text``): ``# TYPE`` and ``# HELP`` before each
family, one line per sample, ``# EOF`` last. Everything is a gauge or an
info: these are the state of one snapshot, not counters that only grow.

Conventions, so PromQL over these does what a reader expects:

* Families whose samples add up (services, check results) carry only real
  teams: ``sum by (golden_path)`` over teams is the organisation.
* Ratios, medians and tiers do not add up, so they carry the organisation's
  own published figure as ``team="*"`` (the published roll-ups' name for it).
* A figure the snapshot does not have (no deploys, no incident: NULL) has no
  sample, rather than a made-up 0; ``absent()`` finds it.
* Durations are in seconds (Prometheus' base unit), converted from the
  published hours; shares are ratios 0..1 as published.

Team, service, scorecard and golden-path names come from repositories and
users: label values are escaped as the format says (backslash, double quote,
newline), so no name can end a label or start a line of its own.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from pipelines.exports import require_published
from pipelines.exports.atomic import write_text
from pipelines.readmodel import exports as rm

CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"
PREFIX = "scorecard_"
HOURS = 3600.0

ADOPTION_STATES = ("adopted", "not_adopted", "unknown")
CHECK_RESULTS = ("passing", "failing", "unknown")
DORA_FIGURES = (  # (family, published column, factor to the family's unit, help)
    ("team_deploy_frequency_days_per_week", "deploy_days_per_week", 1.0,
     "Median deploy-days per week over the trailing 12 weeks, over the team's services (DORA deployment frequency)."),
    ("team_lead_time_p50_seconds", "lead_time_p50_hours", HOURS,
     "Median of the services' p50 lead time for changes over the trailing 30 days, in seconds."),
    ("team_change_failure_ratio", "change_failure_rate", 1.0,
     "Median change failure rate of the team's services (deployments with an incident / deployments)."),
    ("team_time_to_restore_seconds", "time_to_restore_hours", HOURS,
     "Median of the services' median time to restore, in seconds."),
)
DORA_TIERS = (("lead_time", "lead_time_tier"), ("deploy_frequency", "deploy_frequency_tier"),
              ("change_failure", "change_failure_tier"), ("time_to_restore", "restore_tier"))


def escape_label(value: object) -> str:
    """A label value as OpenMetrics writes it: backslash, double quote and newline escaped."""
    text = str(value).encode("utf-8", "replace").decode("utf-8")  # lone surrogates: the format is UTF-8
    return text.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n")


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n")


def _number(value: float) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if float(value).is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(float(value))


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(self, name: str, kind: str, help_text: str,
               samples: Iterable[tuple[dict[str, object], object]]) -> None:
        """One metric family; samples whose value is missing are left out (unknown is not 0)."""
        full = PREFIX + name
        self.lines.append(f"# TYPE {full} {kind}")
        self.lines.append(f"# HELP {full} {_escape_help(help_text)}")
        sample_name = full + "_info" if kind == "info" else full
        for labels, value in samples:
            if _missing(value):
                continue
            rendered = ",".join(f'{key}="{escape_label(v)}"' for key, v in labels.items())
            self.lines.append(f"{sample_name}{{{rendered}}} {_number(value)}" if rendered
                              else f"{sample_name} {_number(value)}")

    def text(self) -> str:
        return "\n".join([*self.lines, "# EOF"]) + "\n"


def render(figures: rm.MetricFigures) -> str:
    """The OpenMetrics text of ``figures`` (see the module notes for the conventions)."""
    w = _Writer()
    snap = figures.snapshot.isoformat() if figures.snapshot else ""
    w.family("snapshot", "info", "The published snapshot these figures are from.",
             [({"snapshot": snap, "published_at": figures.published_at or ""}, 1)] if figures.snapshot else [])
    adoption = figures.adoption
    teams = adoption[adoption["team"] != rm.ORG] if len(adoption) else adoption
    w.family("golden_path_services", "gauge",
             "Services per team, golden path and adoption state (adopted, not_adopted, unknown: the crawl could "
             "not tell). Real teams only: sum over team for the organisation.",
             [({"team": r.team, "golden_path": r.golden_path, "adoption": state}, getattr(r, state))
              for r in teams.itertuples(index=False) for state in ADOPTION_STATES])
    w.family("golden_path_adoption_ratio", "gauge",
             "Adopted / services whose adoption is known (unknown is apart, in golden_path_services), as "
             "published; team=\"*\" is the organisation.",
             [({"team": r.team, "golden_path": r.golden_path}, r.adoption_share) for r in adoption.itertuples(index=False)])
    w.family("golden_path_on_latest_ratio", "gauge",
             "On the latest release / services whose adoption is known, as published; team=\"*\" is the organisation.",
             [({"team": r.team, "golden_path": r.golden_path}, r.on_latest_share)
              for r in adoption.itertuples(index=False)])
    w.family("services", "gauge",
             "Services per scorecard, team and level reached (level=\"none\": below the first level).",
             [({"scorecard": r.scorecard, "team": r.team, "level": r.level}, r.services)
              for r in figures.levels.itertuples(index=False)])
    dora = figures.dora
    for name, column, factor, help_text in DORA_FIGURES:
        w.family(name, "gauge", help_text + " team=\"*\" is the organisation.",
                 [({"team": team}, None if _missing(v) else v * factor)
                  for team, v in zip(dora["team"] if len(dora) else [], dora[column] if len(dora) else [], strict=True)])
    w.family("team_dora_tier", "info",
             "The DORA tier (elite, high, medium, low; 2023 report) of each team median; team=\"*\" is the organisation.",
             [({"team": r["team"], "metric": metric, "tier": r[column]}, None if _missing(r[column]) else 1)
              for r in dora.to_dict("records") for metric, column in DORA_TIERS])
    w.family("check_results", "gauge",
             "Services per scorecard, team and check by published result group (passing, failing, unknown). Real teams "
             "only: sum over team for the organisation.",
             [({"scorecard": r.scorecard, "team": r.team, "check": r.check_id, "result": result}, getattr(r, result))
              for r in figures.checks.itertuples(index=False) for result in CHECK_RESULTS])
    return w.text()


def metrics_text(serving: Path) -> str:
    return render(rm.metric_figures(require_published(serving)))


def export_metrics(serving: Path, out: Path) -> str:
    """Write the OpenMetrics text of the published snapshot to ``out`` atomically; returns it."""
    text = metrics_text(serving)
    write_text(out, text)
    return text
