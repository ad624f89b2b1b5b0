"""`scorecard notify`: send (or with --dry-run, show) the alerts and digest of the latest published snapshot.

The Dagster sensor and weekly schedule (pipelines/notify/dagster_defs.py) do
this on their own; the command is for operators: to see what would be sent,
to send the digest by hand, or to catch up after a channel was fixed (the
delivery log keeps it from repeating what was already delivered).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys


def register(sub, with_config) -> None:
    p = with_config(sub.add_parser("notify", help="send alerts (and --digest) of the latest snapshot to Slack, Teams or webhooks"))
    p.add_argument("--dry-run", action="store_true", help="show what would be sent; send nothing, record nothing")
    p.add_argument("--since", type=_date, help="compare with the newest snapshot on or before this date "
                                               "(default: the previous snapshot)")
    p.add_argument("--digest", action="store_true", help="also send each team's weekly digest")
    p.add_argument("--format", choices=["text", "json"], default="text", help="--dry-run output: text or the payloads as JSON")
    p.set_defaults(fn=run)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {text!r}") from None


def run(args) -> int:
    from pipelines.config import load_config
    from pipelines.notify import notify
    from pipelines.textsafe import terminal_safe

    config = load_config(args.config)
    if not config.notifications.channels:
        print("scorecard: no `notifications.channels` in the config: nothing to send (docs/notifications.md)",
              file=sys.stderr)
        return 2
    report = notify(config, since=args.since, digest=args.digest, dry_run=args.dry_run)
    if report.problem:
        print(f"scorecard: {report.problem}", file=sys.stderr)
        return 2
    if args.dry_run and args.format == "json":
        print(json.dumps([{"channel": p.channel, "kind": p.kind, "payload": p.payload} for p in report.planned],
                         indent=2, ensure_ascii=False))
    else:
        verb = "would send" if args.dry_run else "planned"
        print(f"Snapshot {report.snapshot}, compared with {report.baseline or '(no earlier snapshot)'}")
        for c in report.channels.values():
            mine = [p for p in report.planned if p.channel == c.channel]
            state = f" ({c.unconfigured})" if c.unconfigured else ""
            sent = "" if args.dry_run or c.unconfigured else f", sent {c.sent}"
            print(f"  {c.channel} [{c.kind}]: {verb} {len(mine)} messages{sent}, "
                  f"{c.duplicates} events already delivered{state}")
            for p in mine:
                n = len(p.message.event_ids)
                print(f"    - {terminal_safe(p.message.title, one_line=True)} ({n} event{'' if n == 1 else 's'})")
                if args.dry_run:
                    for _, lines in p.message.sections:
                        for line in lines[:6]:
                            print(f"        {terminal_safe(line, one_line=True)}")
    for reason in report.failures:
        print(f"scorecard: not delivered: {terminal_safe(reason, one_line=True)}", file=sys.stderr)
    return 1 if report.failures else 0
