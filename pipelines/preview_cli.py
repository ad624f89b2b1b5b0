"""The `scorecard preview` sub-command: arguments here, the work in pipelines/preview.py (imported when run)."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def _name(text: str) -> str:
    if not _NAME.match(text):
        raise argparse.ArgumentTypeError(f"a preview name is letters, digits, '.', '_' or '-' (up to 64), got {text!r}")
    return text


def register(sub, with_config) -> None:
    """Add `preview` to the CLI's sub-parsers (``with_config`` adds the shared --config option)."""
    p = with_config(sub.add_parser(
        "preview", help="what a changed config would do to the latest snapshot, without crawling or publishing"))
    p.add_argument("--against", help="the current config to compare with (default: the snapshot as stored)")
    p.add_argument("--name", type=_name, help="name to store the preview under (default: the config file's name)")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--publish", action="store_true",
                   help="also republish the served file so the Compare page shows the preview (history is unchanged)")
    p.add_argument("--wait", type=float, default=600.0,
                   help="seconds to wait for a run on the same warehouse to finish (default 600)")
    p.set_defaults(fn=cmd_preview)


def cmd_preview(args) -> int:
    from pipelines import preview
    from pipelines.config import load_config

    new = load_config(Path(args.config))
    against = load_config(Path(args.against)) if args.against else None
    name = args.name or _name(re.sub(r"[^A-Za-z0-9._-]", "-", Path(args.config).stem) or "preview")

    def waiting(holder: str) -> None:
        print(f"scorecard: waiting for {holder} to finish ...", file=sys.stderr, flush=True)

    report = preview.run_preview(new, name, Path(args.config), against=against,
                                 against_file=Path(args.against) if args.against else None,
                                 wait_seconds=args.wait, on_wait=waiting,
                                 publish_to=(against or new).serving_path if args.publish else None)
    if args.format == "json":
        print(json.dumps(report, indent=2, default=str))
    else:
        print(preview.render_text(report))
        if args.publish:
            print(f"\nRepublished {(against or new).serving_path}: the Compare page can now show preview {name}.")
    return 0
