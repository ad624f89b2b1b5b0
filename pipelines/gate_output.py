"""What `scorecard gate` prints: plain text, GitHub Actions annotations, a job summary, JSON.

Everything printed here comes partly from the repository under review (service
names, owners, file paths, parse errors): a pull request's author controls it.
So text goes through `terminal_safe`, annotation fields are escaped as the
Actions runner reads them (`%`, CR, LF in messages; also `:` and `,` in
properties), the plain report printed next to the annotations is fenced with
``::stop-commands::`` so a line of it can never be read as a workflow command,
and Markdown cells are escaped.
"""

from __future__ import annotations

import json
import re
import secrets

from pipelines.gate import GateReport, GateResult, ServiceGate
from pipelines.textsafe import terminal_safe

MARK = {"pass": "✓", "fail": "✗", "warn": "!", "unknown": "?", "error": "E", "waived": "~", "not_applicable": "-"}


def _one_line(text: object) -> str:
    return terminal_safe(text, one_line=True).strip()


def _verdict(report: GateReport) -> str:
    failed = [s for s in report.services if not s.passed]
    if not failed:
        return f"scorecard gate: passed ({len(report.services)} service{'s' * (len(report.services) != 1)})"
    return f"scorecard gate: FAILED ({len(failed)} of {len(report.services)} services)"


def _why(service: ServiceGate, report: GateReport) -> list[str]:
    out = []
    if service.below:
        out.append(f"below {report.fail_under}")
    out += [f"--check {r.check_id} {r.status}" for r in service.failed_named]
    return out


# ------------------------------------------------------------------ text


def render_text(report: GateReport) -> str:
    """One line per service, then what keeps each from its next level and what the gate could not judge."""
    lines = [
        f"Scorecard {_one_line(report.scorecard)} for {_one_line(report.repo)} at {report.commit[:12]}"
        + (f" · fail under {_one_line(report.fail_under)}" if report.fail_under else "")
        + (f" · checks {', '.join(report.checks)}" if report.checks else ""),
    ]
    if not report.services:
        lines.append("  no services found in this checkout")
    width = max((len(_one_line(s.service)) for s in report.services), default=0)
    for s in report.services:
        verdict = "ok" if s.passed else "FAIL (" + "; ".join(_why(s, report)) + ")"
        pct = f"{s.score_pct:5.1f} %" if s.score_pct is not None else "    - "
        lines.append(f"  {_one_line(s.service):<{width}}  {_one_line(s.level):<8} {pct}  "
                     f"{len(s.failing)} failing  {verdict}")
    for s in report.services:
        shown = s.to_fix
        if not shown and not s.not_judged and not s.later:
            continue
        lines.append("")
        lines.append(f"{_one_line(s.service)} ({_one_line(s.path) or 'repository root'}, "
                     f"owner {_one_line(s.team) or 'unknown'}; {s.identity_rule})")
        for r in shown:
            where = f"  [{_one_line(r.file)}{f':{r.line}' if r.line else ''}]" if r.file else ""
            lines.append(f"  {MARK.get(r.status, '?')} {r.check_id} ({_one_line(r.level)}): {_one_line(r.detail)}{where}")
            if r.remediation:
                lines.append(f"      fix: {_one_line(r.remediation)}")
        if s.later:
            lines.append(f"  and {len(s.later)} more at higher levels: " + ", ".join(r.check_id for r in s.later))
        if s.not_judged:
            lines.append("  not judged here (needs data the checkout does not hold): "
                         + ", ".join(r.check_id for r in s.not_judged))
    if report.problems:
        lines.append("")
        lines.append("Problems reading the checkout:")
        lines += [f"  {_one_line(f) + ': ' if f else ''}{_one_line(reason)}" for f, reason in report.problems]
    lines.append("")
    lines.append(_verdict(report))
    return "\n".join(lines)


# -------------------------------------------------------- GitHub Actions


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(kind: str, message: str, *, file: str | None = None, line: int | None = None,
               title: str | None = None) -> str:
    """One workflow command: ``::error file=F,line=N,title=T::message``."""
    props = []
    if file:
        props.append(f"file={_prop(file)}")
        if line:
            props.append(f"line={line}")
    if title:
        props.append(f"title={_prop(title)}")
    return f"::{kind}{' ' + ','.join(props) if props else ''}::{_data(message)}"


def annotations(report: GateReport) -> list[str]:
    """An error per service under the bar and per failing check, a warning per warn and per problem.

    GitHub shows the first ten errors and ten warnings of a step: what fails
    the gate comes first (services below the bar, failing --check results),
    then the other findings lowest level first.
    """
    below: list[str] = []
    named: list[tuple[int, str]] = []
    rest: list[tuple[int, str]] = []
    for s in report.services:
        name = _one_line(s.service)
        if s.below:
            below.append(annotation(
                "error", f"{name} is at level {s.level}, below {report.fail_under}: "
                f"{len(s.failing)} check(s) keep it from the next level", file=s.catalog_file,
                title=f"scorecard: {name} below {report.fail_under}"))
        for r in s.to_fix:
            kind = "error" if r.blocking else "warning"
            message = _one_line(r.detail) + (f"\nFix: {_one_line(r.remediation)}" if r.remediation else "") \
                + f"\n{r.doc_url}"
            line = annotation(kind, message, file=r.file, line=r.line, title=f"{name}: {r.check_id} ({r.level}) {r.status}")
            (named if r.named and r.blocking else rest).append((r.rank, line))
    by_level = sorted(named, key=lambda x: x[0]) + sorted(rest, key=lambda x: x[0])  # stable: services keep their order
    ordered = below + [a for _, a in by_level]
    for file, reason in report.problems:
        # Parse errors start "line N, column M: ..." (pipelines/parsers): the annotation goes on that line.
        line = int(m.group(1)) if (m := _LINE.match(reason)) else None
        ordered.append(annotation("warning", _one_line(reason), file=file, line=line,
                                  title="scorecard: cannot read file"))
    return ordered


_LINE = re.compile(r"line (\d+)\b")


def render_github(report: GateReport) -> str:
    """Annotations, then the plain report with workflow commands switched off around it."""
    token = secrets.token_hex(16)
    return "\n".join([*annotations(report), f"::stop-commands::{token}", render_text(report), f"::{token}::"])


def _cell(text: object) -> str:
    safe = _one_line(text).replace("\\", "\\\\").replace("|", "\\|")
    return safe.replace("<", "&lt;").replace(">", "&gt;")


def summary_markdown(report: GateReport) -> str:
    """The job summary: one row per service with its failing checks and their fixes."""
    head = f"### Scorecard gate: {'passed' if report.passed else 'failed'} · {_cell(report.repo)} @ `{report.commit[:12]}`"
    bar = f"scorecard `{_cell(report.scorecard)}`" + (f", fail under **{_cell(report.fail_under)}**" if report.fail_under else "")
    if report.checks:
        bar += ", required checks " + ", ".join(f"`{c}`" for c in report.checks)
    lines = [head, "", bar, "", "| service | level | score | gate | failing checks (fix) |", "|---|---|---:|---|---|"]
    for s in report.services:
        failing = "<br>".join(
            f"`{r.check_id}` ({_cell(r.level)}): {_cell(r.remediation or r.detail)}" for r in s.to_fix
        ) or "none"
        pct = f"{s.score_pct:.1f} %" if s.score_pct is not None else "-"
        gate = "✅ ok" if s.passed else "❌ " + _cell("; ".join(_why(s, report)))
        lines.append(f"| {_cell(s.service)} | {_cell(s.level)} | {pct} | {gate} | {failing} |")
    if not report.services:
        lines.append("| (no services found) | | | | |")
    unjudged = sorted({r.check_id for s in report.services for r in s.not_judged})
    if unjudged:
        lines += ["", "Not judged here (data outside the checkout): " + ", ".join(f"`{c}`" for c in unjudged)]
    if report.problems:
        lines += ["", "Problems reading the checkout:", ""]
        lines += [f"- {('`' + _cell(f) + '`: ') if f else ''}{_cell(reason)}" for f, reason in report.problems]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ JSON


def to_json(report: GateReport) -> str:
    def result(r: GateResult) -> dict:
        return {"check_id": r.check_id, "title": r.title, "level": r.level, "status": r.status,
                "blocking": r.blocking, "named": r.named, "in_scorecard": r.in_scorecard, "detail": r.detail,
                "remediation": r.remediation, "doc_url": r.doc_url, "file": r.file, "line": r.line}

    return json.dumps({
        "repo": report.repo, "root": report.root, "commit": report.commit, "scorecard": report.scorecard,
        "levels": report.levels, "fail_under": report.fail_under, "checks": report.checks,
        "passed": report.passed, "exit_code": report.exit_code,
        "services": [{
            "service": s.service, "path": s.path, "team": s.team, "identity_rule": s.identity_rule,
            "level": s.level, "score_pct": s.score_pct, "next_level": s.next_level, "below_fail_under": s.below,
            "passed": s.passed, "failing": [r.check_id for r in s.failing],
            "failed_checks": [r.check_id for r in s.failed_named], "results": [result(r) for r in s.results],
        } for s in report.services],
        "problems": [{"file": f, "reason": reason} for f, reason in report.problems],
    }, indent=2)
