"""What notifications cost at 1,000 services of real pipeline output.

    .venv/bin/python -m tests.bench.bench_notify [n_services]

The history is the dashboard benchmark's (``tests/bench/bench_snapshot.py``,
cached in ``bench-out/``). Measured: finding every alert and each team's
weekly digest in the published file and rendering every channel's payloads
(`scorecard notify --dry-run --digest`), then a real delivery of all of them
to a loopback receiver and the second run that the delivery log turns into
no requests at all. The sensor's run pays the first after every publish.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from pipelines.config import parse_config
from pipelines.notify import notify
from tests.bench.bench_snapshot import cached_history
from tests.bench.targets import Targets
from tests.fakes.webhook_server import FakeReceiver

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / "bench-out"
DRY_RUN_SECONDS = 10.0  # after a publish, in its own run (one query per kind, split per team in pandas)
SEND_SECONDS = 15.0
REPEAT_SECONDS = 10.0


def measure(n_services: int, workdir: Path = WORK) -> dict:
    workdir.mkdir(parents=True, exist_ok=True)
    built = cached_history(workdir, n_services)
    figures: dict = {"services": built.services, "snapshots": built.snapshots}
    with tempfile.TemporaryDirectory(dir=workdir) as scratch, FakeReceiver() as receiver:
        data = {"warehouse": {"path": str(built.serving), "serving_path": str(built.serving)},
                "notifications": {"channels": [
                    {"name": "slack", "kind": "slack", "url_env": "BENCH_SLACK"},
                    {"name": "hook", "kind": "webhook", "url_env": "BENCH_HOOK"}],
                    "default": ["slack", "hook"], "state_path": str(Path(scratch) / "sent.sqlite")}}
        config = parse_config(data, "bench", Path(scratch))
        env = {"BENCH_SLACK": receiver.url + "/services/T/B/bench", "BENCH_HOOK": receiver.url + "/hook"}
        started = time.perf_counter()
        dry = notify(config, digest=True, dry_run=True, env=env)
        figures["dry_run_seconds"] = time.perf_counter() - started
        figures["messages"] = len(dry.planned)
        figures["events"] = len({e for p in dry.planned for e in p.message.event_ids})
        figures["payload_bytes"] = sum(len(json.dumps(p.payload)) for p in dry.planned)
        started = time.perf_counter()
        sent = notify(config, digest=True, env=env)
        figures["send_seconds"] = time.perf_counter() - started
        assert not sent.failures and len(receiver.received) == len(dry.planned), sent.failures
        started = time.perf_counter()
        again = notify(config, digest=True, env=env)
        figures["repeat_seconds"] = time.perf_counter() - started
        assert not again.planned and len(receiver.received) == len(dry.planned)
    return figures


def main(argv: list[str] | None = None) -> list[str]:
    """Print the figures; returns the targets missed (`make bench` fails on any)."""
    args = argv or []
    f = measure(int(args[0]) if args else 1_000)
    t = Targets()
    print(f"history: {f['services']:,} services × {f['snapshots']} snapshots")
    print(f"notify --dry-run --digest ({f['events']:,} events in {f['messages']} messages, "
          f"{f['payload_bytes'] / 1024:,.0f} KiB of payloads): {f['dry_run_seconds']:.2f} s  "
          + t.below("notify dry run", f["dry_run_seconds"], DRY_RUN_SECONDS))
    print(f"notify, delivering all to a loopback receiver: {f['send_seconds']:.2f} s  "
          + t.below("notify send", f["send_seconds"], SEND_SECONDS))
    print(f"notify again (the delivery log: nothing to send): {f['repeat_seconds']:.2f} s  "
          + t.below("notify repeat", f["repeat_seconds"], REPEAT_SECONDS))
    return t.missed


if __name__ == "__main__":
    missed = main(sys.argv[1:])
    for line in missed:
        print(f"missed: {line}")
    raise SystemExit(1 if missed else 0)
