"""`scorecard initiatives`, `scorecard waivers` and `scorecard waive`: the adoption programme's commands.

`pipelines/cli.py` registers the arguments and imports this module only when
one of these commands runs. Reports read the published snapshot; `waive`
edits the config file, which goes through review as a pull request like any
other change to scorecard.yaml.
"""

from __future__ import annotations

import datetime as dt
import difflib
import io
import itertools
import json
import os
import re
from pathlib import Path

from pipelines.config import ConfigError, ScorecardConfig, load_config, parse_config
from pipelines.config_programme import check_until
from pipelines.explain import terminal_safe


class ProgrammeError(Exception):
    """A command's input is wrong; the message says what to do."""


def run(args) -> int:
    """Entry point from pipelines/cli.py: the sub-command's handler by name."""
    return {"initiatives": initiatives, "waivers": waivers, "waive": waive}[args.command](args)


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _served(config: ScorecardConfig) -> Path:
    path = config.serving_path
    if not path.exists():
        raise ProgrammeError(f"no published snapshot at {path} yet: run `scorecard run` first")
    return path


# ------------------------------------------------------------- initiatives


def initiatives(args) -> int:
    from pipelines import readmodel

    config = load_config(Path(args.config))
    path = str(_served(config))
    snapshot = readmodel.latest_snapshot(path, args.snapshot)
    if snapshot is None:
        raise ProgrammeError(f"no complete snapshot {args.snapshot or ''} in {path}".replace("  ", " "))
    report = readmodel.initiatives_report(path, snapshot)
    if args.format == "json":
        print(json.dumps(report, indent=2, default=str))
        return 0
    print(render_initiatives(report, snapshot, config_names=[i.name for i in config.initiatives]))
    return 0


def _bar(share: float | None, width: int = 20) -> str:
    filled = round((share or 0.0) * width)
    return "#" * filled + "." * (width - filled)


def render_initiatives(report: list[dict], snapshot: dt.date, config_names: list[str] | None = None) -> str:
    if not report:
        hint = (" (the config has initiatives the published snapshot does not: run `scorecard run` to publish them)"
                if config_names else ": add an `initiatives:` section to scorecard.yaml")
        return f"No initiatives in the snapshot of {snapshot}{hint}."
    out = [f"Initiatives · snapshot {snapshot}"]
    for ini in report:
        safe = {k: terminal_safe(v, one_line=True) if isinstance(v, str) else v for k, v in ini.items()}
        days = ini["days_left"]
        when = f"{days} days left" if days >= 0 else f"deadline passed {-days} days ago"
        out += [
            "",
            f"{safe['initiative']}  (owner {safe['owner']})",
            f"  goal      {safe['goal']}  [scorecard {safe['scorecard']}]",
            f"  scope     {safe['scope']}",
            f"  dates     {ini['start']} → {ini['deadline']}  ({when})",
            (f"  progress  [{_bar(ini['done_share'])}] {ini['services_done']}/{ini['services']} services done, "
             f"{ini['items_remaining']} checks left, {ini['services_overdue']} services overdue"),
        ]
        behind = [t for t in ini["teams"] if t["services_remaining"]]
        if behind:
            out.append("  teams     " + ", ".join(
                f"{terminal_safe(t['team'], one_line=True)} {t['services_remaining']} left"
                + (f" ({t['services_overdue']} overdue)" if t["services_overdue"] else "") for t in behind))
        for item in ini["remaining"][:10]:
            flag = "OVERDUE " if item["overdue"] else ""
            out.append(f"  - {flag}{terminal_safe(item['service'], one_line=True)}: {item['check_id']} "
                       f"({item['status']}): {terminal_safe(item['remediation'] or '', one_line=True)}")
        if len(ini["remaining"]) > 10:
            out.append(f"  ... and {len(ini['remaining']) - 10} more (--format json lists them all)")
    return "\n".join(out)


# ----------------------------------------------------------------- waivers


def waivers(args) -> int:
    """The configured waivers (the file under review is the source of truth), soonest to expire first."""
    config = load_config(Path(args.config))
    today = _today()
    rows = []
    for w in sorted(config.waivers, key=lambda w: (w.expires, w.service, w.check)):
        left = (w.expires - today).days
        if args.expiring is not None and left > args.expiring:
            continue
        rows.append({"service": w.service, "check": w.check, "expires": w.expires.isoformat(), "days_left": left,
                     "expired": w.expires < today, "approver": w.approver,
                     "created": w.created.isoformat() if w.created else None, "reason": w.reason})
    if args.format == "json":
        print(json.dumps(rows, indent=2))
        return 0
    within = f" expiring within {args.expiring} days" if args.expiring is not None else ""
    if not rows:
        print(f"No waivers{within} (today is {today}).")
        return 0
    print(f"Waivers{within} · today {today}")
    for r in rows:
        state = f"expired {-r['days_left']} days ago" if r["expired"] else f"{r['days_left']} days left"
        who = f", approved by {terminal_safe(r['approver'], one_line=True)}" if r["approver"] else ", no approver"
        print(f"  {r['expires']}  ({state})  {terminal_safe(r['service'], one_line=True)} / {r['check']}{who}: "
              f"{terminal_safe(r['reason'], one_line=True)}")
    return 0


# ------------------------------------------------------------------- waive


def waive(args) -> int:
    """Add (or renew) a waiver in the config file, keeping its comments and layout, for review as a PR."""
    from checks.catalogue import CATALOGUE

    config_path = Path(args.config)
    config = load_config(config_path)
    if args.check not in CATALOGUE:
        close = difflib.get_close_matches(args.check, list(CATALOGUE), n=1)
        raise ProgrammeError(f"unknown check {args.check!r}" + (f"; did you mean {close[0]!r}?" if close else
                                                               " (see `scorecard checks`)"))
    checked = _known_service(config, args.service)
    today = _today()
    try:
        until = dt.date.fromisoformat(args.until.strip())
    except ValueError:
        raise ProgrammeError(f"--until {args.until!r} is not a date: expected YYYY-MM-DD") from None
    try:
        check_until(until, today, config.waiver_policy)
    except ValueError as exc:
        raise ProgrammeError(str(exc)) from None
    if not args.reason.strip():
        raise ProgrammeError("--reason is empty: say why the check does not apply yet and what tracks the fix")
    if config.waiver_policy.require_approver and not args.approver:
        raise ProgrammeError("waiver_policy.require_approver is on: pass --approver NAME")
    entry = {"service": args.service, "check": args.check, "reason": args.reason.strip()}
    if args.approver:
        entry["approver"] = args.approver
    entry |= {"created": today, "expires": until}
    text = config_path.read_text(encoding="utf-8")
    new_text, renewed = add_waiver(text, entry)
    # Refuse to write a file that would not load: the result must be a valid config as it stands.
    from pipelines.parsers.errors import ParseError
    from pipelines.parsers.yamlsafe import load_yaml

    try:
        parse_config(load_yaml(new_text, str(config_path)), str(config_path), config_path.resolve().parent)
    except (ConfigError, ParseError) as exc:
        raise ProgrammeError(f"the waiver would make {config_path} invalid, so nothing was written:\n{exc}") from None
    tmp = config_path.with_name(f".{config_path.name}.{os.getpid()}.tmp")
    tmp.write_text(new_text, encoding="utf-8")
    os.replace(tmp, config_path)
    verb = "Renewed" if renewed else "Added"
    print(f"{verb} waiver for {terminal_safe(args.service, one_line=True)} / {args.check} until {until} in "
          f"{config_path}{checked}.\nCommit it and open a pull request so the waiver is reviewed.")
    return 0


def _known_service(config: ScorecardConfig, service: str) -> str:
    """Refuse a service the latest published snapshot does not have; say so when there is none to ask."""
    from pipelines import readmodel

    path = config.serving_path
    if not path.exists():
        return " (service name not checked: nothing is published yet)"
    latest = readmodel.latest_snapshot(str(path))
    if latest is None:
        return " (service name not checked: nothing is published yet)"
    names = readmodel.service_names(str(path), latest, None)
    if service not in names:
        close = difflib.get_close_matches(service, names, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else f" ({len(names)} services in it)"
        raise ProgrammeError(f"no service named {service!r} in the snapshot of {latest}{hint}")
    return ""


def add_waiver(text: str, entry: dict) -> tuple[str, bool]:
    """``text`` with ``entry`` appended to `waivers:` (or replacing the waiver of the same service and
    check), in ruamel.yaml's round-trip mode: comments, key order, quoting and indentation stay as
    they were. Returns (new text, whether an existing waiver was renewed)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    yaml = YAML()  # round-trip
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap the file's long lines
    mapping, sequence, offset = guess_indent(text)
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    doc = yaml.load(text)
    if doc is None:
        doc = CommentedMap()
    if not isinstance(doc, dict):
        raise ProgrammeError("the config file is not a mapping at the top level")
    found = doc.get("waivers")
    if found is None:
        found = doc["waivers"] = CommentedSeq()
    if not isinstance(found, list):
        raise ProgrammeError("`waivers` in the config file is not a list")
    if not found and isinstance(found, CommentedSeq):
        found.fa.set_block_style()  # `waivers: []` grows into a list of entries, not a one-line flow list
    item = CommentedMap(entry)
    for existing in found:
        if isinstance(existing, dict) and existing.get("service") == entry["service"] \
                and existing.get("check") == entry["check"]:
            for key in list(existing):
                if key not in entry:
                    del existing[key]  # a renewal states the new terms in full
            existing.update(entry)
            return _dump(yaml, doc), True
    found.append(item)
    return _dump(yaml, doc), False


_BLOCK_KEY = re.compile(r"^( *)[^\s#-][^#]*:\s*(#.*)?$")
_ITEM = re.compile(r"^( *)- +")


def guess_indent(text: str) -> tuple[int, int, int]:
    """(mapping indent, sequence indent, dash offset) as ruamel.yaml's `indent()` takes them, read from the
    first nested mapping and the first block sequence (ruamel's own guess mixes the two up when they
    differ, re-indenting the whole file). Defaults: 2, 4, 2 (`key:` / `  - item`)."""
    mapping = sequence = offset = None
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    for line, after in itertools.pairwise(lines):
        key = _BLOCK_KEY.match(line)
        if not key:
            continue
        base = len(key.group(1))
        item = _ITEM.match(after)
        if item and sequence is None and len(item.group(1)) >= base:
            offset = len(item.group(1)) - base
            sequence = len(item.group(0)) - base
        elif not item and mapping is None and len(after) - len(after.lstrip(" ")) > base:
            mapping = len(after) - len(after.lstrip(" ")) - base
        if mapping is not None and sequence is not None:
            break
    return mapping or 2, sequence or 4, 2 if offset is None else offset


def _dump(yaml, doc) -> str:
    out = io.StringIO()
    yaml.dump(doc, out)
    return out.getvalue()
