"""`scorecard roi`: delivery outcomes by golden-path cohort, from the published snapshot.

`pipelines/cli.py` registers it with :func:`add_parser`; this module's heavy
imports (DuckDB, pandas, the read model) happen only when the command runs,
so `scorecard --help` stays fast.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path


class RoiError(Exception):
    """The command cannot answer; the message says what to do."""


def add_parser(sub, with_config) -> None:
    p = with_config(sub.add_parser("roi", help="platform ROI: delivery outcomes on and off each golden path"))
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--snapshot", help="snapshot date for --period snapshot (default: the latest)")
    p.add_argument("--period", choices=["pooled", "snapshot"], default="pooled",
                   help="pool the last weeks' snapshots (default) or one snapshot")
    p.add_argument("--by", choices=["golden_path", "scorecard_level", "template_version", "all"],
                   default="golden_path", help="cohorts to compare (default: golden_path)")
    p.set_defaults(fn=run)


def run(args) -> int:
    try:
        return _run(args)
    except RoiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _run(args) -> int:
    import duckdb

    from pipelines import readmodel
    from pipelines.config import load_config

    path = load_config(Path(args.config)).serving_path
    if not path.exists():
        raise RoiError(f"no published snapshot at {path} yet: run `scorecard run` first")
    try:
        snapshot = readmodel.latest_snapshot(str(path), args.snapshot)
        if snapshot is None:
            raise RoiError(f"no complete snapshot {args.snapshot or ''} in {path}".replace("  ", " "))
        report = readmodel.roi_report(str(path), snapshot, pooled=args.period == "pooled")
    except duckdb.Error as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise RoiError(f"could not read the published snapshot {path}: {first}") from exc
    if args.by != "all":
        report["cohorts"] = [c for c in report["cohorts"] if c["dimension"] == args.by]
    if args.format == "json":
        print(json.dumps(report, indent=2, default=str))
    else:
        print(render(report))
    return 0


def _num(value, digits: int = 2) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:+.{digits}f}"


def render(report: dict) -> str:
    from pipelines.explain import terminal_safe

    when = (f"pooled over the last {report['pooled_weeks']} weeks to {report['snapshot']}"
            if report["period"] == "pooled" else f"snapshot {report['snapshot']}")
    out = [f"Platform ROI · {when}",
           f"Correlation, not causation: {report['caveat'].split(': ', 1)[1]}.",
           (f"Difference = cohort median - baseline median, {report['confidence']:.0%} bootstrap CI; "
           f"no CI below n={report['min_n']} a side.")]
    if not report["cohorts"]:
        out.append("\nNo cohorts: the snapshot has no delivery metrics or adoption facts to compare "
                   "(or was published before Platform ROI existed: run `scorecard run`).")
        return "\n".join(out)
    labels = {k: v["label"] for k, v in report["metrics"].items()}
    current = None
    for c in report["cohorts"]:
        head = (c["dimension"], c["subject"])
        if head != current:
            current = head
            base = c["baseline"] or "nothing (no services off the path)"
            out += ["", (f"{c['dimension'].replace('_', ' ')} {terminal_safe(c['subject'], one_line=True)} "
                        f"(against {terminal_safe(base, one_line=True)})")]
        cohort = terminal_safe(c["cohort"], one_line=True)
        if c["is_baseline"]:
            out.append(f"  {labels[c['metric']]:<25} {cohort:<16} n={c['n']:<5} median {c['median']:.2f}  (baseline)")
            continue
        ci = "" if c["ci_low"] is None else f" [{_num(c['ci_low'])}, {_num(c['ci_high'])}]"
        out.append(f"  {labels[c['metric']]:<25} {cohort:<16} n={c['n']:<5} median {c['median']:.2f}  "
                   f"diff {_num(c['diff_median'])}{ci}  {c['reading']}")
    return "\n".join(out)
