"""`scorecard explain`: why a service has its level, and what to fix first.

Reads the published snapshot only (like the dashboard), so it works while a
run is writing the warehouse.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import duckdb

from pipelines import readmodel, warehouse
from pipelines.readmodel.service import ServiceNotFound
from pipelines.textsafe import terminal_safe

__all__ = ["ExplainError", "explain", "render_text", "terminal_safe"]  # terminal_safe: callers import it from here

STATUS_MARK = {
    "pass": "✓", "fail": "✗", "warn": "!", "unknown": "?", "error": "E", "waived": "~", "not_applicable": "-",
}


class ExplainError(Exception):
    pass


def explain(serving: Path, service: str, scorecard: str = "default", snapshot: str | None = None) -> dict:
    if not serving.exists():
        raise ExplainError(f"no snapshot published yet at {serving}: run `scorecard run` (or `scorecard demo`)")
    try:
        return _explain(serving, service, scorecard, snapshot)
    except warehouse.WarehouseBusy as exc:
        raise ExplainError(str(exc)) from None
    except (duckdb.Error, warehouse.WarehouseError) as exc:
        # A truncated, emptied or overwritten file: say which and what fixes it, not a DuckDB traceback.
        cause = exc.__cause__ if isinstance(exc, warehouse.WarehouseError) and exc.__cause__ else exc
        first = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
        raise ExplainError(
            f"{serving} is not a readable snapshot ({first}); publish a fresh one with `scorecard run`"
        ) from None


def _explain(serving: Path, service: str, scorecard: str, snapshot: str | None) -> dict:
    # Take the served file the way every reader does, waiting out a publish's brief lock.
    with warehouse.read_only(serving, wait_seconds=5):
        pass
    snap = readmodel.latest_snapshot(str(serving), snapshot)
    if snap is None:
        raise ExplainError(f"no complete snapshot{' for ' + snapshot if snapshot else ''} in {serving}")
    try:
        return readmodel.service_report(str(serving), service, scorecard, snap)
    except ServiceNotFound as exc:
        raise ExplainError(str(exc)) from None


def _wrap(text: str, width: int) -> str:
    # Service names are hyphenated; breaking "campaign-\napi" makes them unsearchable.
    return textwrap.indent(textwrap.fill(text, width - 4, break_on_hyphens=False, break_long_words=False), "    ")


def render_text(report: dict, width: int = 100) -> str:
    return "\n".join(terminal_safe(line) for line in _render_lines(_one_line_fields(report), width))


def _one_line_fields(report: dict) -> dict:
    # Names from repositories must not break the layout with embedded newlines either.
    out = dict(report)
    for key in ("service", "team", "repo", "path", "identity_rule", "owner_source", "level", "next_level", "scorecard"):
        if isinstance(out.get(key), str):
            out[key] = terminal_safe(out[key], one_line=True)
    return out


def _render_lines(report: dict, width: int) -> list[str]:
    lines = []
    level = report["level"] if report["level"] != "none" else "no level yet"
    lines.append(f"{report['service']}  ·  team {report['team'] or '(no owner)'}  ·  {report['scorecard']} scorecard, snapshot {report['snapshot']}")
    lines.append(f"Level: {level}    Score: {report['score']:.1f} %" if report["score"] is not None else f"Level: {level}")
    where = f"{report['repo']}/{report['path']}" if report["path"] else report["repo"]
    where = where or "(no repository linked: a portal-only Component)"
    lines.append(f"Repo: {where}   (identity from {report['identity_rule']}; owner from {report['owner_source'] or 'nowhere'})")
    if report.get("identity_detail"):
        lines.append(_wrap(f"Identity: {report['identity_detail']}", width).strip())
        if report["identity_rule"] in ("discovered", "repo"):
            lines.append("    Make it explicit: commit the catalog-info.yaml of has_catalog_entity below.")
    if report["repo_error"]:
        lines.append(f"Repository could not be crawled: {report['repo_error']}")
    blocking = [c for c in report["checks"] if c["blocks_a_level"]]
    nxt = [c for c in blocking if c["unlocks_next_level"]]
    if report["next_level"]:
        lines.append(f"To reach {report['next_level']}: fix {len(nxt)} check{'s' if len(nxt) != 1 else ''}.")
    else:
        lines.append("Top level reached.")
    lines.append("")
    # What blocks a level, and the advisory warnings that count as passing but deserve a look.
    shown = [c for c in report["checks"] if c["blocks_a_level"] or c["status"] == "warn"]
    if not shown:
        lines.append("Nothing to fix: every applicable check passes.")
    for c in shown:
        tag = " [next level]" if c["unlocks_next_level"] else ""
        lines.append(f"{STATUS_MARK.get(c['status'], '?')} {c['id']} ({c['level']}, weight {c['weight']}){tag}")
        lines.append(_wrap(c["detail"] or "", width))
        if c["remediation"]:
            lines.append(_wrap("Fix: " + c["remediation"], width))
        if c["doc_url"]:
            lines.append(f"    Docs: {c['doc_url']}")
        lines.append("")
    passing = sum(1 for c in report["checks"] if c["counts_as_pass"])
    skipped = len(report["checks"]) - passing - len(blocking)
    lines.append(f"{passing} checks pass, {len(blocking)} block a level, {skipped} do not apply.")
    d = report.get("dora")
    if d:
        def h(v):
            return "n/a" if v is None else (f"{v / 24:.1f} d" if v >= 48 else f"{v:.1f} h")
        cfr = "n/a" if d["change_failure_rate"] is None else f"{100 * d['change_failure_rate']:.0f} %"
        lines.append(
            f"DORA: lead time p50 {h(d['lead_time_p50_hours'])} ({d['lead_time_tier'] or 'n/a'}), "
            f"deploy-days/week {d['deploy_days_per_week'] if d['deploy_days_per_week'] is not None else 'n/a'} ({d['deploy_frequency_tier'] or 'n/a'}), "
            f"change failure rate {cfr} ({d['change_failure_tier'] or 'n/a'}), "
            f"time to restore {h(d['time_to_restore_hours'])} ({d['restore_tier'] or 'n/a'})"
        )
    return lines
