"""Soak: 100 daily schedule ticks compressed in time, with events pushed and the dashboard read meanwhile.

    .venv/bin/python -c "from tests.bench.run_bench import run_one; print(run_one('tests.bench.bench_soak'))"

This process plays the Dagster daemon of a small organisation for 100 days,
compressed: each cycle evaluates the real `daily_crawl_schedule` at 05:00 of
the next day and executes its run request with the real job, in-process, on a
Dagster instance with SQLite storage (an ephemeral instance keeps every run's
event log in memory, which would read as a leak). Every third day a
repository gains a commit dated that day, so the crawl has new history to
read, and the day's deployments (and now and then an incident) are queued for
the CI side.

Meanwhile a second process plays the outside world: one thread pushes the
queued events with `scorecard ingest` (a CLI process per batch, as a CI job
runs it; it waits for DuckDB's file lock while a run writes the warehouse),
another visits the dashboard of a real `streamlit run` server as a browser tab
does (the HTML shell, then one websocket session clicking through every
page), while each cycle replaces the published file under it.

Measured after every cycle: resident memory and open file descriptors of this
process and of the Streamlit server, this process's peak within the cycle
(VmHWM, reset before each), and the cycle's wall time. Growth is
taken after a warm-up (imports, first-use caches, DuckDB and SQLite opening
their files, and Streamlit keeping each closed tab's session for
`server.disconnectedSessionTTL`, 120 s, before it levels off): the median RSS
of the last window of cycles against that of the first window after the
warm-up (single samples swing with the allocator), and the fewest open fds in
each window (a visit in flight holds sockets).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import multiprocessing as mp
import os
import queue
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.bench.targets import peak_rss_mib
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "dashboard" / "app.py"
WORK = ROOT / "bench-out" / "soak"

CYCLES = 100
WARMUP = 10
WINDOW = 10
# The published history gains one date of 12 services a day: a few KiB per
# cycle, under 1 MiB over the whole soak. Anything the daemon or the server
# keeps per run or per publish (a run's results, a DuckDB connection, cached
# frames keyed by the replaced file) is megabytes per cycle, 100+ MiB over 90
# cycles, so 50 MiB separates a leak from allocator noise (single samples
# swing by ~20 MiB).
RSS_GROWTH_MIB = 50
# Files are opened and closed per run; one kept open per run or per page load
# would be 90 after the warm-up. A few allow for a log or socket opened late.
FD_GROWTH = 5
# The server also keeps each closed tab's session (its event loop: 3 fds) for
# the session TTL, so its count follows the recent visit rate, which follows
# the machine's load: ±5 sessions between windows. A file or socket kept per
# visit or per publish would be 50+ over the measured cycles.
SERVER_FD_GROWTH = 15
COMMIT_EVERY = 3  # cycles between commits to a repository
INCIDENT_EVERY = 10  # cycles between incidents
# Repositories whose one service has the repository's name (demo generator).
SERVICE_REPOS = ("checkout-api", "payments-api", "ledger-worker")
PAGES = ("", "teams", "service?service=checkout-api", "checks", "compare", "initiatives", "roi")
READ_PAUSE_S = 4.0  # between visits: a page or two a second, leaving the 2 cores to the runs
PAGE_TIMEOUT_S = 60.0


@dataclass
class Sample:
    cycle: int
    seconds: float
    rss_mib: float
    fds: int
    server_rss_mib: float
    server_fds: int
    at: float  # time.monotonic() when taken
    run_peak_mib: float | None = None  # this process's high-water mark during the cycle (None: not measurable)


@dataclass
class Figures:
    cycles_planned: int
    warmup: int = WARMUP  # samples before growth is measured
    samples: list[Sample] = field(default_factory=list)
    failed_runs: list[str] = field(default_factory=list)
    events_queued: int = 0
    events_acknowledged: int = 0
    events_found: int = 0
    events_lost: list[str] = field(default_factory=list)
    ingests_refused: list[str] = field(default_factory=list)
    page_loads_ok: int = 0
    page_loads_failed: list[str] = field(default_factory=list)
    peak_rss_mib: float = 0.0
    services: int = 0
    wall_seconds: float = 0.0


def growth(values: list[float], warmup: int = WARMUP, window: int = WINDOW, how=statistics.median) -> float:
    """How much ``values`` (one per cycle) rose from just after the warm-up to the end.

    ``how`` summarises each window: the median for memory, ``min`` for open
    files. A short run shrinks the warm-up and windows so they still fit.
    """
    if len(values) < 2:
        return 0.0
    warmup = min(warmup, len(values) // 2)
    window = max(1, min(window, (len(values) - warmup) // 2))
    return how(values[-window:]) - how(values[warmup:warmup + window])


# ------------------------------------------------------------------ the org


def _make_org(root: Path, first_day: dt.date) -> Path:
    """A small demo organisation whose history ends the day before the soak's first tick."""
    from pipelines.demo.generate import generate_demo

    shutil.rmtree(root, ignore_errors=True)
    summary = generate_demo(root / "demo", repos=8, teams=2, days=30, end=first_day - dt.timedelta(days=1))
    return summary.config


def _day_of_work(repos: Path, cycle: int, day: dt.date) -> list[tuple[str, list[dict]]]:
    """Commit to one repository (every COMMIT_EVERY cycles) and return the day's events to push."""
    from tests.gitrepo import commit

    batches: list[tuple[str, list[dict]]] = []
    at = dt.datetime.combine(day, dt.time(9), dt.UTC)
    if cycle % COMMIT_EVERY == 0:
        service = SERVICE_REPOS[(cycle // COMMIT_EVERY) % len(SERVICE_REPOS)]
        sha = commit(repos / service, {"CHANGELOG.md": f"{day}: change {cycle}\n"}, f"change {cycle}",
                     when=at + dt.timedelta(minutes=cycle % 60))
        batches.append(("deployments", [
            {"service": service, "environment": "staging", "sha": sha,
             "deployed_at": _iso(at + dt.timedelta(hours=1)), "status": "success"},
            {"service": service, "environment": "production", "sha": sha,
             "deployed_at": _iso(at + dt.timedelta(hours=2)), "status": "success"},
        ]))
        if cycle % INCIDENT_EVERY == 0:
            batches.append(("incidents", [
                {"service": service, "opened_at": _iso(at + dt.timedelta(hours=5)),
                 "resolved_at": _iso(at + dt.timedelta(hours=6, minutes=cycle % 50)), "root_cause_sha": sha},
            ]))
    return batches


def _iso(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def event_key(kind: str, event: dict) -> str:
    """What identifies a stored event (the ingest's own key), as text."""
    if kind == "deployments":
        return f"deployment {event['service']} {event['environment']} {event['sha'][:12]} {event['deployed_at']}"
    return f"incident {event['service']} {event['opened_at']}"


def stored_event_keys(warehouse: Path) -> set[str]:
    """Every event in the warehouse, keyed as :func:`event_key` keys what was pushed."""
    from pipelines import warehouse as wh

    fmt = "%Y-%m-%dT%H:%M:%SZ"
    with wh.read_only(warehouse, doing="counting the soak's events") as con:
        deploys = con.execute(
            "SELECT service, environment, sha, strftime(timezone('UTC', deployed_at), $f) FROM deployment_events",
            {"f": fmt}).fetchall()
        incidents = con.execute(
            "SELECT service, strftime(timezone('UTC', opened_at), $f) FROM incident_events", {"f": fmt}).fetchall()
    keys = {event_key("deployments", {"service": s, "environment": e, "sha": sha, "deployed_at": at})
            for s, e, sha, at in deploys}
    return keys | {event_key("incidents", {"service": s, "opened_at": at}) for s, at in incidents}


# ------------------------------------------------- the outside world (a child)


def _ingest_loop(config: Path, inbox, stop, spool: Path, out: dict) -> None:
    """Push each queued batch with `scorecard ingest`, as a CI job would, until stopped and drained."""
    n = 0
    while True:
        try:
            kind, events = inbox.get(timeout=0.2)
        except queue.Empty:
            if stop.is_set():
                return
            continue
        n += 1
        path = spool / f"{kind}-{n}.jsonl"
        path.write_text("".join(json.dumps(e) + "\n" for e in events))
        proc = subprocess.run([sys.executable, "-m", "pipelines.cli", "ingest", "--config", str(config), kind, str(path)],
                              cwd=ROOT, capture_output=True, text=True, check=False)
        keys = [event_key(kind, e) for e in events]
        if proc.returncode == 0:
            out["acknowledged"] += keys
        else:
            said = (proc.stderr or proc.stdout).strip()[-300:]
            out["refused"].append(f"{kind} batch {n} (exit {proc.returncode}): {said}")
        path.unlink()


def _run_page(ws, page: str, timeout: float) -> str | None:
    """Ask the session for one page, as a click in the sidebar does; None when it rendered, else why not."""
    import websocket
    from streamlit.proto.Alert_pb2 import Alert
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    path, _, query = page.partition("?")
    problems: list[str] = []
    saw_snapshot = False
    msg = BackMsg()
    msg.rerun_script.query_string = query
    msg.rerun_script.page_name = path
    try:
        ws.send_binary(msg.SerializeToString())
        deadline = time.monotonic() + timeout
        while True:
            if time.monotonic() > deadline:
                return f"the script did not finish within {timeout:.0f} s"
            fm = ForwardMsg()
            fm.ParseFromString(ws.recv())
            kind = fm.WhichOneof("type")
            if kind == "page_not_found":
                problems.append("page not found")
            elif kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
                el = fm.delta.new_element
                what = el.WhichOneof("type")
                if what == "exception":
                    problems.append(f"{el.exception.type}: {el.exception.message}")
                elif what == "alert" and el.alert.format == Alert.ERROR:
                    problems.append(el.alert.body)
                elif what == "markdown" and el.markdown.body.startswith("**Snapshot**"):
                    saw_snapshot = True
            elif kind == "script_finished":
                if fm.script_finished != ForwardMsg.FINISHED_SUCCESSFULLY:
                    problems.append(f"script finished with status {fm.script_finished}")
                break
    except (OSError, websocket.WebSocketException) as exc:
        problems.append(f"{type(exc).__name__}: {exc}")
    if not problems and not saw_snapshot:
        problems.append("no published snapshot shown")
    return "; ".join(p[:200] for p in problems) or None


def visit(base_url: str, pages: tuple[str, ...], timeout: float = PAGE_TIMEOUT_S) -> list[str | None]:
    """One person's visit: open the dashboard, then every page in turn; per page None or what went wrong.

    The HTML shell over HTTP, then one Streamlit session over its websocket,
    as a browser tab holds it. A page fails on an exception or error box, on
    "page not found", on a script run that does not finish, or when it shows
    no published snapshot.
    """
    import websocket

    try:
        with urllib.request.urlopen(f"{base_url}/{pages[0]}", timeout=timeout) as resp:
            resp.read()
        ws = websocket.create_connection(base_url.replace("http", "ws", 1) + "/_stcore/stream",
                                         subprotocols=["streamlit"], timeout=timeout)
    except (OSError, websocket.WebSocketException) as exc:
        return [f"/{pages[0]}: {type(exc).__name__}: {exc}"] 
    try:
        return [None if (p := _run_page(ws, page, timeout)) is None else f"/{page}: {p}" for page in pages]
    finally:
        ws.close()


def _read_loop(base_url: str, pages: tuple[str, ...], stop, out: dict) -> None:
    """Visit after visit until stopped; at least one, however short the soak."""
    while True:
        for problem in visit(base_url, pages):
            if problem is None:
                out["pages_ok"] += 1
            else:
                out["pages_failed"].append(problem)
        if stop.wait(READ_PAUSE_S):
            return


def _outside_world(config: str, base_url: str, pages: tuple[str, ...], inbox, stop, results, spool: str) -> None:
    """The child process: CI pushing events and people reading the dashboard, until told to stop."""
    out: dict = {"acknowledged": [], "refused": [], "pages_ok": 0, "pages_failed": []}
    reader = threading.Thread(target=_read_loop, args=(base_url, pages, stop, out), daemon=True)
    reader.start()
    try:
        _ingest_loop(Path(config), inbox, stop, Path(spool), out)
    finally:
        reader.join(timeout=PAGE_TIMEOUT_S + 5)
        results.put(out)


# --------------------------------------------------------------- the server


def session_ttl_s() -> float:
    """How long Streamlit keeps the session of a closed tab (for a reconnect), with its event loop and 3 fds.

    At most 128 such sessions are kept (MemorySessionStorage): their memory
    and files rise for this long after the first visit, then level off.
    """
    import streamlit.config

    return float(streamlit.config.get_option("server.disconnectedSessionTTL"))


def _start_dashboard(serving: Path, log: Path) -> tuple[subprocess.Popen, str]:
    """`streamlit run dashboard/app.py` on the served file, as `scorecard serve` starts it."""
    port = free_port()
    env = {**os.environ, "SCORECARD_SNAPSHOT": str(serving)}
    cmd = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true",
           "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false"]
    with log.open("wb") as sink:
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT)
    return proc, f"http://127.0.0.1:{port}"


def _wait_healthy(proc: subprocess.Popen, base_url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"streamlit did not become healthy at {base_url}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _results(world, results) -> dict:
    """What the outside world saw, once it has pushed the last events and finished its page load."""
    while True:
        try:
            out = results.get(timeout=1)
            break
        except queue.Empty:
            if not world.is_alive():
                raise RuntimeError(f"the ingest and reader process died (exit {world.exitcode})") from None
    world.join(timeout=30)
    return out


# --------------------------------------------------------------- the daemon


@contextlib.contextmanager
def _env(name: str, value: str):
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def _instance(home: Path):
    """A Dagster instance with SQLite run and event storage, as `dagster dev` or a small daemon keeps it."""
    import dagster as dg

    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return dg.DagsterInstance.from_config(str(home))


def _dagster_home(workdir: Path) -> Path:
    """Where the instance keeps its SQLite files: in memory (tmpfs) where there is one.

    SQLite commits each of a run's ~150 events with an fsync; on a disk
    shared with other jobs that was a third of a cycle's time, and it is not
    what the soak measures (a deployment keeps Dagster's storage on
    PostgreSQL). The files' growth is Dagster's own run history either way.
    """
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        home = shm / f"scorecard-soak-{os.getpid()}"
        shutil.rmtree(home, ignore_errors=True)
        return home
    return workdir / "dagster-home"


def _reset_peak() -> bool:
    """Restart this process's high-water mark (VmHWM), so the next reading is one cycle's peak.

    RSS between cycles misses what a run allocates and frees again; a peak
    that rises with the history is memory the daemon will run out of.
    """
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _tick(defs, instance, when: dt.datetime) -> list[str]:
    """Evaluate the daily schedule at ``when`` and execute its run requests as the daemon would; failures."""
    import dagster as dg

    from pipelines.definitions import CRAWL_AND_SCORE_JOB
    from pipelines.runs import _failure_summary

    schedule = defs.resolve_schedule_def("daily_crawl_schedule")
    tick = schedule.evaluate_tick(dg.build_schedule_context(instance=instance, scheduled_execution_time=when))
    if not tick.run_requests:
        return [f"{when:%Y-%m-%d}: the schedule requested no run ({tick.skip_message})"]
    job = defs.resolve_job_def(CRAWL_AND_SCORE_JOB)
    failed = []
    for request in tick.run_requests:
        # The schedule's own run config (the settings resource then reads
        # $SCORECARD_CONFIG, as a daemon's runs do); only the console is quieted.
        run_config = {**(request.run_config or {}), "loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
        result = job.execute_in_process(run_config=run_config, instance=instance, partition_key=request.partition_key,
                                        tags=request.tags, raise_on_error=False)
        if not result.success:
            failed.append(f"{request.partition_key}: {_failure_summary(result)}")
    return failed


def run(workdir: Path = WORK, cycles: int = CYCLES, pages: tuple[str, ...] = PAGES,
        before_verify: Callable[[Path, list[str]], None] | None = None,
        say: Callable[[str], None] = lambda _msg: None) -> Figures:
    """Soak the daemon path for ``cycles`` daily ticks; ``before_verify`` may tamper with the warehouse (tests)."""
    import psutil

    from pipelines.config import load_config
    from pipelines.definitions import build_definitions

    started = time.monotonic()
    today = dt.datetime.now(dt.UTC).date()
    first_day = today - dt.timedelta(days=cycles - 1)  # the last tick scores today
    config_path = _make_org(workdir / "org", first_day)
    config = load_config(config_path)
    figures = Figures(cycles_planned=cycles)
    me = psutil.Process()
    spool = workdir / "spool"
    spool.mkdir(parents=True, exist_ok=True)

    server, base_url = _start_dashboard(config.serving_path, workdir / "streamlit.log")
    ctx = mp.get_context("spawn")
    inbox, results, stop = ctx.Queue(), ctx.Queue(), ctx.Event()
    world = None
    home = _dagster_home(workdir)
    try:
        # The instance as a context manager: entering it makes its storage Dagster's current one (a
        # context variable); leaving it puts the previous one back. Disposed without that, the variable
        # kept naming this home after it was deleted, and every later Dagster run in the process failed.
        with _env("SCORECARD_CONFIG", str(config_path)), _instance(home) as instance:
            defs = build_definitions()  # once, as a code location loads it
            reading_from = time.monotonic()
            for cycle in range(cycles):
                day = first_day + dt.timedelta(days=cycle)
                t0 = time.monotonic()
                peak_measurable = _reset_peak()
                for batch in _day_of_work(config_path.parent / "repos", cycle, day):
                    inbox.put(batch)
                    figures.events_queued += len(batch[1])
                figures.failed_runs += _tick(defs, instance, dt.datetime.combine(day, dt.time(5), dt.UTC))
                seconds = time.monotonic() - t0
                if world is None:  # the first publish is out: readers and CI start now
                    _wait_healthy(server, base_url)
                    world = ctx.Process(target=_outside_world, daemon=True, args=(
                        str(config_path), base_url, pages, inbox, stop, results, str(spool)))
                    world.start()
                    reading_from = time.monotonic()
                srv = psutil.Process(server.pid)
                figures.samples.append(Sample(cycle + 1, seconds, me.memory_info().rss / 2**20, me.num_fds(),
                                              srv.memory_info().rss / 2**20, srv.num_fds(), time.monotonic(),
                                              peak_rss_mib() if peak_measurable else None))
                if (cycle + 1) % 10 == 0:
                    s = figures.samples[-1]
                    say(f"  cycle {cycle + 1}/{cycles}: {seconds:.1f} s, RSS {s.rss_mib:.0f} MiB, {s.fds} fds; "
                        f"server {s.server_rss_mib:.0f} MiB, {s.server_fds} fds")
            figures.peak_rss_mib = max([peak_rss_mib()] + [x.run_peak_mib or 0.0 for x in figures.samples])
            settled = reading_from + session_ttl_s() + 10
            figures.warmup = max(WARMUP, next((i for i, x in enumerate(figures.samples) if x.at >= settled),
                                              len(figures.samples)))
        stop.set()
        out = _results(world, results)
    finally:
        stop.set()
        if world is not None and world.is_alive():
            world.terminate()
        _stop(server)
        shutil.rmtree(home, ignore_errors=True)
    figures.events_acknowledged = len(out["acknowledged"])
    figures.ingests_refused = out["refused"]
    figures.page_loads_ok = out["pages_ok"]
    figures.page_loads_failed = out["pages_failed"]
    if before_verify is not None:
        before_verify(config.warehouse_path, out["acknowledged"])
    stored = stored_event_keys(config.warehouse_path)
    figures.events_lost = [k for k in out["acknowledged"] if k not in stored]
    figures.events_found = figures.events_acknowledged - len(figures.events_lost)
    figures.services = _services(config.serving_path)
    figures.wall_seconds = time.monotonic() - started
    return figures


def _services(serving: Path) -> int:
    from pipelines import warehouse as wh

    with wh.read_only(serving) as con:
        return con.execute("SELECT count(DISTINCT service) FROM service_scores").fetchone()[0]


def missed(f: Figures) -> list[str]:
    """The soak's targets a run missed, each saying what happened."""
    out = []
    done = len(f.samples)
    if done < f.cycles_planned or f.failed_runs:
        out.append(f"cycles: {done - len(f.failed_runs)} of {f.cycles_planned} ran; failed: {f.failed_runs[:3]}")
    rss = growth([s.rss_mib for s in f.samples], f.warmup)
    server_rss = growth([s.server_rss_mib for s in f.samples], f.warmup)
    peaks = [s.run_peak_mib for s in f.samples if s.run_peak_mib is not None]
    run_peak = growth(peaks, f.warmup) if len(peaks) == len(f.samples) else 0.0
    fds = growth([s.fds for s in f.samples], f.warmup, how=min)
    server_fds = growth([s.server_fds for s in f.samples], f.warmup, how=min)
    for label, value, limit, unit in (("scheduler RSS growth", rss, RSS_GROWTH_MIB, " MiB"),
                                      ("scheduler peak RSS per cycle growth", run_peak, RSS_GROWTH_MIB, " MiB"),
                                      ("dashboard server RSS growth", server_rss, RSS_GROWTH_MIB, " MiB"),
                                      ("scheduler open files growth", fds, FD_GROWTH, ""),
                                      ("dashboard server open files growth", server_fds, SERVER_FD_GROWTH, "")):
        if value > limit:
            out.append(f"{label}: {value:+.0f}{unit} after the warm-up, target ≤ {limit}{unit}")
    if f.events_lost:
        out.append(f"lost events: {len(f.events_lost)} acknowledged but not in the warehouse, e.g. {f.events_lost[:3]}")
    if f.ingests_refused:
        out.append(f"refused ingests: {len(f.ingests_refused)}, e.g. {f.ingests_refused[:2]}")
    if f.events_acknowledged + len(f.ingests_refused) == 0 and f.events_queued:
        out.append("no event was pushed")
    if f.page_loads_failed:
        out.append(f"failed page loads: {len(f.page_loads_failed)}, e.g. {f.page_loads_failed[:3]}")
    if not f.page_loads_ok:
        out.append("no page load succeeded")
    return out


def report(f: Figures) -> list[str]:
    """Print the figures; return the missed targets."""
    s = f.samples
    secs = [x.seconds for x in s] or [0.0]
    print(f"## Soak: {f.cycles_planned} daily schedule ticks on one in-process daemon ({f.services} services), "
          "events pushed and pages read meanwhile")
    print(f"  cycles completed                 : {len(s) - len(f.failed_runs)} / {f.cycles_planned}   (target: all)")
    print(f"  cycle time median / max          : {statistics.median(secs):5.1f} s / {max(secs):.1f} s   "
          f"(whole soak {f.wall_seconds:.0f} s)")
    if s:
        w = min(f.warmup, len(s) // 2)
        print(f"  scheduler RSS first/after warm-up/last/peak: {s[0].rss_mib:.0f} / {s[w].rss_mib:.0f} / "
              f"{s[-1].rss_mib:.0f} / {f.peak_rss_mib:.0f} MiB; growth "
              f"{growth([x.rss_mib for x in s], f.warmup):+.0f} MiB   (target ≤ {RSS_GROWTH_MIB} MiB)")
        if all(x.run_peak_mib is not None for x in s):
            print(f"  scheduler peak RSS within a cycle, first/after warm-up/last/max: {s[0].run_peak_mib:.0f} / "
                  f"{s[w].run_peak_mib:.0f} / {s[-1].run_peak_mib:.0f} / {max(x.run_peak_mib for x in s):.0f} MiB; "
                  f"growth {growth([x.run_peak_mib for x in s], f.warmup):+.0f} MiB   (target ≤ {RSS_GROWTH_MIB} MiB)")
        print(f"  scheduler open files first/after warm-up/last: {s[0].fds} / {s[w].fds} / {s[-1].fds}; growth "
              f"{growth([x.fds for x in s], f.warmup, how=min):+.0f}   (target ≤ {FD_GROWTH})")
        print(f"  dashboard server RSS first/after warm-up/last/peak: {s[0].server_rss_mib:.0f} / "
              f"{s[w].server_rss_mib:.0f} / {s[-1].server_rss_mib:.0f} / "
              f"{max(x.server_rss_mib for x in s):.0f} MiB; growth "
              f"{growth([x.server_rss_mib for x in s], f.warmup):+.0f} MiB   (target ≤ {RSS_GROWTH_MIB} MiB)")
        print(f"  dashboard server open files first/after warm-up/last: {s[0].server_fds} / {s[w].server_fds} / "
              f"{s[-1].server_fds}; growth {growth([x.server_fds for x in s], f.warmup, how=min):+.0f}   "
              f"(target ≤ {SERVER_FD_GROWTH})")
    print(f"  events queued / ingested / found : {f.events_queued} / {f.events_acknowledged} / {f.events_found}   "
          f"(lost {len(f.events_lost)}, refused {len(f.ingests_refused)}; target 0)")
    print(f"  page loads ok / failed           : {f.page_loads_ok} / {len(f.page_loads_failed)}   (target 0 failed)")
    return missed(f)


def main() -> list[str]:
    return report(run(say=lambda msg: print(msg, flush=True)))


if __name__ == "__main__":
    sys.exit(1 if main() else 0)
