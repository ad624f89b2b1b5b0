"""The local cluster: Dagster's instance on PostgreSQL, Celery over Redis, N workers.

`scorecard cluster up|down|status` (and `make cluster-up` / `make cluster-down`)
start and stop, from the Debian packages and without containers:

- PostgreSQL (`postgresql`): Dagster's run, event-log and schedule storage
  (dagster-postgres), so the workers and whoever launches a run share one
  instance;
- Redis (`redis-server`): the Celery broker and result backend;
- N Celery workers (`dagster-celery worker start`, dagster-celery's own worker
  CLI), each running one step at a time.

Everything lives in one directory (default `.cluster/`, ignored by git):

    cluster.json         what `up` started: ports, workers, the PostgreSQL user
    env.sh               0600: what a client needs (DAGSTER_HOME, SCORECARD_EXECUTOR,
                         SCORECARD_CELERY_BROKER/_BACKEND): `. .cluster/env.sh`
    secrets/             0700: the PostgreSQL and Redis passwords, pgpass, redis.conf
    postgres/data        PostgreSQL's data directory; postgres/postgres.log
    dagster_home/        DAGSTER_HOME: dagster.yaml (storage: postgres), celery.yaml
    run/                 PID files of Redis and the workers
    logs/                redis.log, worker-K.log

Passwords: generated per directory (never in the repository), kept in 0600
files and never on a command line, where `ps` would show them. Dagster reads
PostgreSQL's from a pgpass file named in dagster.yaml, so neither dagster.yaml
nor the instance reference Dagster sends to every worker carries it. Redis's
is in the broker URL, which Celery prints masked.

As root: PostgreSQL refuses to run as root, so initdb, pg_ctl and the server
run as the `postgres` user the Debian package creates (else `nobody`), through
`runuser`; that user must be able to reach the cluster directory (a directory
under a 0700 one, like pytest's /tmp/pytest-of-root, is refused with why).
Redis and the workers run as the caller: the workers write the warehouse.

The workers are started with the caller's environment, SCORECARD_* included:
the definitions they load must match the launcher's (SCORECARD_REPO_SHARDS,
SCORECARD_CLUSTER_SHARDS), and a run that does not name its config file in
its run config reads SCORECARD_CONFIG on the worker. Set them before `up`; to
change them, `down` and `up` again.

Launching runs on it: `. .cluster/env.sh`, then `dagster dev -w workspace.yaml`
(runs launched there execute their steps on the workers) or `dagster job
execute -m pipelines.definitions -a defs -j crawl_and_score_job -c run.yaml
--tags '{"dagster/partition": "<date>"}'`. `scorecard run` always executes in
one process (it runs the job in-process, whatever the executor).
"""

from __future__ import annotations

import dataclasses
import json
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from secrets import token_urlsafe

from pipelines import processes

DEFAULT_DIR = ".cluster"
DEFAULT_PG_PORT = 15432  # not 5432/6379: the Debian packages' own servers may be running there
DEFAULT_REDIS_PORT = 16379
PG_USER_NAME = "dagster"  # the database role Dagster connects as (not an OS user)
PG_DB_NAME = "dagster"
# Where the Debian packages put the PostgreSQL server binaries (they are not on PATH).
PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"
REDIS_FALLBACK = Path("/usr/bin/redis-server")  # the Debian package's, when /usr/bin is not on PATH
REDIS_DB = 0

ENV_DIR = "SCORECARD_CLUSTER_DIR"
ENV_WORKERS = "SCORECARD_CLUSTER_WORKERS"
ENV_PG_PORT = "SCORECARD_CLUSTER_PG_PORT"
ENV_REDIS_PORT = "SCORECARD_CLUSTER_REDIS_PORT"
ENV_PG_OS_USER = "SCORECARD_CLUSTER_PG_OS_USER"  # as root: the OS user PostgreSQL runs as

WORKER_READY_SECONDS = 180.0  # N workers importing Dagster and the pipelines on 2 cores
STOP_SECONDS = 30.0


class ClusterError(RuntimeError):
    """The cluster cannot start or stop; the message says what is missing or wrong, and what to do."""


@dataclasses.dataclass(frozen=True)
class ClusterSpec:
    """Where the cluster lives and what `up` starts."""

    root: Path
    workers: int = 2
    pg_port: int = DEFAULT_PG_PORT
    redis_port: int = DEFAULT_REDIS_PORT
    # Modules each worker imports before it takes a task (forked into its pool process once,
    # instead of imported by the first step it runs).
    preload: tuple[str, ...] = ("pipelines.definitions",)

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ClusterError(f"workers must be at least 1, got {self.workers}")
        for name, port in (("PostgreSQL port", self.pg_port), ("Redis port", self.redis_port)):
            if not 1024 <= port <= 65535:
                raise ClusterError(f"{name} must be between 1024 and 65535, got {port}")
        if self.pg_port == self.redis_port:
            raise ClusterError(f"PostgreSQL and Redis cannot share port {self.pg_port}")

    @classmethod
    def from_env(cls, root: str | Path | None = None, workers: int | None = None, pg_port: int | None = None,
                 redis_port: int | None = None, environ: Mapping[str, str] = os.environ) -> ClusterSpec:
        """Flags win, then SCORECARD_CLUSTER_* variables, then the defaults."""
        return cls(
            root=Path(root or environ.get(ENV_DIR) or DEFAULT_DIR).resolve(),
            workers=workers if workers is not None else _int_env(environ, ENV_WORKERS, os.cpu_count() or 2),
            pg_port=pg_port if pg_port is not None else _int_env(environ, ENV_PG_PORT, DEFAULT_PG_PORT),
            redis_port=redis_port if redis_port is not None else _int_env(environ, ENV_REDIS_PORT, DEFAULT_REDIS_PORT),
        )


def _int_env(environ: Mapping[str, str], name: str, default: int) -> int:
    text = environ.get(name, "").strip()
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        raise ClusterError(f"{name}={text!r} is not a number") from None


@dataclasses.dataclass(frozen=True)
class Component:
    name: str
    pid: int | None
    detail: str

    @property
    def running(self) -> bool:
        return self.pid is not None

    def line(self) -> str:
        state = f"running (pid {self.pid})" if self.running else "stopped"
        return f"{self.name:<10} {state:<22} {self.detail}".rstrip()


# ---------------------------------------------------------------- layout


class Layout:
    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.state = self.root / "cluster.json"
        self.env_file = self.root / "env.sh"
        self.secrets = self.root / "secrets"
        self.pg_password = self.secrets / "postgres-password"
        self.redis_password = self.secrets / "redis-password"
        self.pgpass = self.secrets / "pgpass"
        self.redis_conf = self.secrets / "redis.conf"
        self.postgres = self.root / "postgres"
        self.pgdata = self.postgres / "data"
        self.pg_log = self.postgres / "postgres.log"
        self.home = self.root / "dagster_home"
        self.dagster_yaml = self.home / "dagster.yaml"
        self.celery_yaml = self.home / "celery.yaml"
        # dagster-celery writes the broker settings (with the URL, password included) here at each worker start.
        self.celery_config_dirs = self.home / "dagster_celery"
        self.run = self.root / "run"
        self.logs = self.root / "logs"

    def worker_pid(self, k: int) -> Path:
        return self.run / f"worker-{k}.pid"

    def worker_log(self, k: int) -> Path:
        return self.logs / f"worker-{k}.log"

    def worker_pids(self) -> list[tuple[int, Path]]:
        found = []
        for path in self.run.glob("worker-*.pid"):
            m = re.fullmatch(r"worker-(\d+)\.pid", path.name)
            if m:
                found.append((int(m.group(1)), path))
        return sorted(found)


# ---------------------------------------------------------------- binaries


def postgres_binaries() -> tuple[Path, Path]:
    """initdb and pg_ctl: on PATH, else the newest /usr/lib/postgresql/<version>/bin."""
    search = PG_BIN_GLOB
    on_path = [shutil.which(name) for name in ("initdb", "pg_ctl")]
    if all(on_path):
        return Path(on_path[0]), Path(on_path[1])  # type: ignore[arg-type]
    dirs = sorted(Path("/").glob(search.lstrip("/")), key=lambda p: _version_key(p.parent.name), reverse=True)
    for d in dirs:
        if (d / "initdb").is_file() and (d / "pg_ctl").is_file():
            return d / "initdb", d / "pg_ctl"
    raise ClusterError(
        f"PostgreSQL's initdb and pg_ctl were not found (on PATH or in {search}): install the Debian package "
        "postgresql (apt-get install -y postgresql)"
    )


def _version_key(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", text)) or (0,)


def redis_binary() -> Path:
    found = shutil.which("redis-server") or (str(REDIS_FALLBACK) if REDIS_FALLBACK.is_file() else None)
    if not found:
        raise ClusterError("redis-server was not found: install the Debian package redis-server "
                           "(apt-get install -y redis-server)")
    return Path(found)


def worker_command() -> Path:
    """dagster-celery's CLI in the environment running this code (the workers must run the same code)."""
    path = Path(sys.executable).parent / "dagster-celery"
    if not path.is_file():
        raise ClusterError(f"dagster-celery is not installed in {Path(sys.executable).parent.parent} "
                           "(it is a project dependency: `uv sync`)")
    return path


def check_binaries() -> None:
    """Every binary `up` needs, before it starts anything: one error naming what to install."""
    problems = []
    for find in (postgres_binaries, redis_binary, worker_command):
        try:
            find()
        except ClusterError as exc:
            problems.append(str(exc))
    if problems:
        raise ClusterError("; ".join(problems))


def _pg_os_user() -> str | None:
    """As root, the OS user PostgreSQL runs as (it refuses root); None: the caller's own user."""
    if os.geteuid() != 0:
        return None
    wanted = os.environ.get(ENV_PG_OS_USER, "").strip()
    for name in ([wanted] if wanted else ["postgres", "nobody"]):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise ClusterError(
        f"running as root, PostgreSQL needs an unprivileged user to run as, and {wanted or 'postgres or nobody'} "
        f"does not exist: create one, or name one in {ENV_PG_OS_USER}"
    )


def _runuser() -> str:
    """util-linux's runuser: in /usr/sbin, which a non-login root shell or CI may not have on PATH."""
    found = shutil.which("runuser") or shutil.which("runuser", path="/usr/sbin:/sbin")
    if found is None:
        raise ClusterError("running as root, PostgreSQL must run as another user, and runuser (Debian package "
                           "util-linux) was not found on PATH, in /usr/sbin or in /sbin")
    return found


def _as_pg_user(user: str | None, cmd: list[str]) -> list[str]:
    return [_runuser(), "-u", user, "--", *cmd] if user else cmd


# ---------------------------------------------------------------- processes


def _alive(pid: int) -> bool:
    """Whether pid runs (a zombie child of ours does not: it is reaped here)."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:
        pass
    return processes.alive(pid)


def _group_alive(pgid: int) -> bool:
    _alive(pgid)  # reap our own zombie leader, which would keep the group "alive"
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _pid_from(path: Path, marker: str) -> int | None:
    """The PID in a PID file, if that process still runs and is the one we started (a PID can be reused)."""
    try:
        pid = int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    if not _alive(pid):
        return None
    if Path("/proc").is_dir() and marker not in _cmdline(pid):
        return None
    return pid


def _stop_groups(pgids: list[int], seconds: float = STOP_SECONDS) -> None:
    """SIGTERM to each process group (a worker's wrapper, Celery and its pool), SIGKILL to what lingers.

    All groups are signalled first, then waited for together: N workers stop in the time of one.
    """
    for sig, wait in ((signal.SIGTERM, seconds), (signal.SIGKILL, 5.0)):
        for pgid in pgids:
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            pgids = [g for g in pgids if _group_alive(g)]
            if not pgids:
                return
            time.sleep(0.1)


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _require_free(port: int, what: str, flag: str, env: str) -> None:
    if not _port_free(port):
        raise ClusterError(f"port {port} on 127.0.0.1 is in use (another {what}?): choose another with {flag} "
                           f"or {env}")


def _secret(path: Path) -> str:
    """The password stored at path, created (random, 0600) the first time."""
    if path.exists():
        return path.read_text().strip()
    value = token_urlsafe(24)  # URL-safe: it goes into the broker URL unescaped
    _write_private(path, value + "\n")
    return value


def _write_private(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _redact(text: str, layout: Layout) -> str:
    for path in (layout.pg_password, layout.redis_password):
        try:
            secret = path.read_text().strip()
        except OSError:
            continue
        if secret:
            text = text.replace(secret, "***")
    return text


def _tail(path: Path, layout: Layout, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return _redact("\n".join(text.splitlines()[-lines:]), layout)


# ---------------------------------------------------------------- state


def _read_state(layout: Layout) -> dict:
    try:
        return json.loads(layout.state.read_text())
    except (OSError, ValueError):
        return {}


def broker_url(layout: Layout, port: int) -> str:
    return f"redis://:{_secret(layout.redis_password)}@127.0.0.1:{port}/{REDIS_DB}"


def client_env(root: str | Path) -> dict[str, str]:
    """What a process launching runs on the cluster needs in its environment (contains the Redis password)."""
    layout = Layout(Path(root))
    state = _read_state(layout)
    if not state:
        raise ClusterError(f"no cluster in {layout.root}: run `scorecard cluster up --dir {layout.root}` first")
    url = broker_url(layout, int(state["redis_port"]))
    return {
        "DAGSTER_HOME": str(layout.home),
        "SCORECARD_EXECUTOR": "celery",
        "SCORECARD_CELERY_BROKER": url,
        "SCORECARD_CELERY_BACKEND": url,
    }


# ---------------------------------------------------------------- PostgreSQL


def _pg_pid(layout: Layout) -> int | None:
    return _pid_from(layout.pgdata / "postmaster.pid", "postgres")


def _init_postgres(layout: Layout, user: str | None, initdb: Path) -> None:
    layout.postgres.mkdir(mode=0o700, exist_ok=True)
    if user:
        shutil.chown(layout.postgres, user)
        # PostgreSQL opens paths under the cluster directory as `user`: each parent must be searchable by it.
        probe = subprocess.run(_as_pg_user(user, ["test", "-w", str(layout.postgres)]), check=False)
        if probe.returncode != 0:
            raise ClusterError(
                f"PostgreSQL runs as the user {user!r} (it refuses to run as root), and {user!r} cannot reach "
                f"{layout.postgres}: a parent directory is not searchable by it. Put the cluster directory "
                "under a path every user can traverse (e.g. the repository, or a directory made with mode 0711)"
            )
    password = _secret(layout.pg_password)
    # initdb reads the superuser's password from a file (never a command line); the file must be
    # readable by the user initdb runs as, and lives only as long as initdb does.
    pwfile = layout.postgres / ".initdb-password"
    _write_private(pwfile, password + "\n")
    try:
        if user:
            shutil.chown(pwfile, user)
        done = subprocess.run(
            _as_pg_user(user, [str(initdb), "-D", str(layout.pgdata), "-U", PG_USER_NAME, "--auth=scram-sha-256",
                               f"--pwfile={pwfile}", "-E", "UTF8", "--no-locale", "--no-sync"]),
            capture_output=True, text=True, check=False,
        )
    finally:
        pwfile.unlink(missing_ok=True)
    if done.returncode != 0:
        raise ClusterError(f"initdb failed:\n{_redact(done.stderr.strip() or done.stdout.strip(), layout)}")
    # TCP on loopback only: no Unix socket (its default directory, /var/run/postgresql, belongs to the
    # Debian package's own server). The port is given at each start.
    with (layout.pgdata / "postgresql.conf").open("a") as f:
        f.write("\n# scorecard cluster\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\n")


def _start_postgres(spec: ClusterSpec, layout: Layout, log: Callable[[str], None]) -> None:
    initdb, pg_ctl = postgres_binaries()
    user = _pg_os_user()
    if not (layout.pgdata / "PG_VERSION").exists():
        log(f"PostgreSQL: initialising {layout.pgdata}")
        _init_postgres(layout, user, initdb)
    if _pg_pid(layout) is None:
        layout.pg_log.touch()
        if user:
            shutil.chown(layout.pg_log, user)
        done = subprocess.run(
            _as_pg_user(user, [str(pg_ctl), "-D", str(layout.pgdata), "-l", str(layout.pg_log), "-w", "-t", "60",
                               "-o", f"-p {spec.pg_port}", "start"]),
            capture_output=True, text=True, check=False,
        )
        if done.returncode != 0:
            raise ClusterError(f"PostgreSQL did not start (log {layout.pg_log}):\n{_tail(layout.pg_log, layout)}")
    _write_private(layout.pgpass, f"127.0.0.1:{spec.pg_port}:*:{PG_USER_NAME}:{_secret(layout.pg_password)}\n")
    _create_database(spec, layout)
    log(f"PostgreSQL: 127.0.0.1:{spec.pg_port}, database {PG_DB_NAME}")


def _create_database(spec: ClusterSpec, layout: Layout) -> None:
    import psycopg2  # dagster-postgres's driver

    con = psycopg2.connect(host="127.0.0.1", port=spec.pg_port, user=PG_USER_NAME, dbname="postgres",
                           passfile=str(layout.pgpass), connect_timeout=10)
    try:
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [PG_DB_NAME])
            if cur.fetchone() is None:
                cur.execute(f"CREATE DATABASE {PG_DB_NAME}")  # a module constant: identifiers cannot be parameters
    finally:
        con.close()


def _stop_postgres(layout: Layout) -> bool:
    pid = _pg_pid(layout)
    if pid is None:
        return False
    user = _pg_os_user()
    try:
        _, pg_ctl = postgres_binaries()
    except ClusterError:
        pg_ctl = None
    if pg_ctl is not None:
        for mode in ("fast", "immediate"):
            done = subprocess.run(_as_pg_user(user, [str(pg_ctl), "-D", str(layout.pgdata), "-m", mode, "-w", "-t",
                                                     "30", "stop"]), capture_output=True, check=False)
            if done.returncode == 0:
                return True
    os.kill(pid, signal.SIGQUIT)  # the binaries are gone: PostgreSQL's immediate shutdown
    return True


# ---------------------------------------------------------------- Dagster instance


def _write_dagster_yaml(spec: ClusterSpec, layout: Layout) -> None:
    import yaml

    layout.home.mkdir(mode=0o700, exist_ok=True)
    config = {
        "telemetry": {"enabled": False},
        # dagster-postgres: one database for run, event-log and schedule storage.
        "storage": {"postgres": {"postgres_db": {
            "username": PG_USER_NAME, "hostname": "127.0.0.1", "db_name": PG_DB_NAME, "port": spec.pg_port,
            # No password here: libpq reads it from the pgpass file, so it is not in the instance
            # reference Dagster hands to every worker with each step.
            "params": {"passfile": str(layout.pgpass)},
            # SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3; dagster-postgres installs psycopg2.
            "scheme": "postgresql+psycopg2",
        }}},
        # As `make dev` configures its instance: one scorecard run per warehouse at a time.
        "concurrency": {"runs": {"tag_concurrency_limits": [{"key": "scorecard/warehouse", "limit": 1}]}},
    }
    layout.dagster_yaml.write_text(yaml.safe_dump(config, sort_keys=False))
    # The workers' executor config (dagster-celery's -y): the URLs come from the environment,
    # so this file holds no password.
    celery = {"execution": {"config": {"broker": {"env": "SCORECARD_CELERY_BROKER"},
                                       "backend": {"env": "SCORECARD_CELERY_BACKEND"}}}}
    layout.celery_yaml.write_text(yaml.safe_dump(celery, sort_keys=False))


def _create_instance_tables(layout: Layout) -> None:
    """Create Dagster's tables once, before N workers would race to."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(layout.home)):
        pass


# ---------------------------------------------------------------- Redis


def _redis_pid(layout: Layout, port: int) -> int | None:
    return _pid_from(layout.run / "redis.pid", f":{port}")


def _start_redis(spec: ClusterSpec, layout: Layout, log: Callable[[str], None]) -> None:
    if _redis_pid(layout, spec.redis_port) is not None:
        return
    _require_free(spec.redis_port, "Redis", "--redis-port", ENV_REDIS_PORT)
    server = redis_binary()
    # In a 0600 file, not on the command line; loopback only, protected, nothing written to disk
    # (the queue holds only the steps of runs in flight).
    _write_private(layout.redis_conf, "\n".join([
        "bind 127.0.0.1", f"port {spec.redis_port}", "protected-mode yes",
        f"requirepass {_secret(layout.redis_password)}",
        'save ""', "appendonly no", "daemonize no", f"dir {layout.run}", "",
    ]))
    with (layout.logs / "redis.log").open("ab") as out:
        proc = subprocess.Popen([str(server), str(layout.redis_conf)], stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True, cwd=layout.run)
    (layout.run / "redis.pid").write_text(f"{proc.pid}\n")
    import redis

    client = redis.Redis(host="127.0.0.1", port=spec.redis_port, password=_secret(layout.redis_password),
                         socket_connect_timeout=1)
    deadline = time.monotonic() + 20
    while True:
        try:
            client.ping()
            break
        except redis.exceptions.RedisError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise ClusterError(f"Redis did not start:\n{_tail(layout.logs / 'redis.log', layout)}") from None
            time.sleep(0.1)
        finally:
            client.close()
    log(f"Redis: 127.0.0.1:{spec.redis_port} (loopback, password, no persistence)")


# ---------------------------------------------------------------- workers


def _worker_marker(layout: Layout) -> str:
    return str(layout.celery_yaml)  # on every worker's command line: tells ours from a reused PID


def _code_root() -> Path:
    """The directory holding the `pipelines` package this process runs."""
    import pipelines

    return Path(pipelines.__file__).resolve().parents[1]


def _worker_env(spec: ClusterSpec, layout: Layout) -> dict[str, str]:
    repo = str(_code_root())
    env = {**os.environ, **client_env(layout.root)}
    bindir = str(Path(sys.executable).parent)
    # dagster-celery starts `celery` from PATH: this environment's. The workers import the code this
    # process runs (a worktree's, not whatever the venv has installed).
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (repo, env.get("PYTHONPATH", "")) if p)
    return env


def _start_worker(spec: ClusterSpec, layout: Layout, k: int, env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    """Start worker k; returns its process and where its log stood (what it logs from now on is this start's)."""
    cmd = [str(worker_command()), "worker", "start", "-A", "dagster_celery.app", "-y", str(layout.celery_yaml),
           "-n", f"worker-{k}", "-l", "INFO"]
    for module in spec.preload:
        cmd += ["-i", module]
    # One step at a time per worker (N workers = N steps at once); no gossip or mingle (workers
    # talking to each other): nothing here uses them.
    cmd += ["--", "--concurrency=1", "--without-gossip", "--without-mingle"]
    with layout.worker_log(k).open("ab") as out:
        offset = out.tell()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                cwd=_code_root(), start_new_session=True)
    layout.worker_pid(k).write_text(f"{proc.pid}\n")
    return proc, offset


def _wait_workers_ready(layout: Layout, started: dict[int, tuple[subprocess.Popen, int]], seconds: float) -> None:
    waiting = dict(started)
    deadline = time.monotonic() + seconds
    ready = re.compile(r"worker-(\d+)@\S+ ready\.")
    while waiting:
        for k in list(waiting):
            proc, offset = waiting[k]
            with layout.worker_log(k).open("rb") as f:
                f.seek(offset)
                text = f.read().decode(errors="replace")
            if any(m.group(1) == str(k) for m in ready.finditer(text)):
                del waiting[k]
            elif proc.poll() is not None:
                raise ClusterError(f"worker-{k} exited during start-up (log {layout.worker_log(k)}):\n"
                                   f"{_tail(layout.worker_log(k), layout)}")
        if waiting and time.monotonic() > deadline:
            raise ClusterError(f"workers {sorted(waiting)} not ready after {seconds:.0f} s (logs in {layout.logs})")
        if waiting:
            time.sleep(0.2)


def _stop_workers(layout: Layout, keep: int = 0) -> list[str]:
    stopping: dict[str, int] = {}
    for k, path in layout.worker_pids():
        if k <= keep:
            continue
        pid = _pid_from(path, _worker_marker(layout))
        if pid is not None:
            stopping[f"worker-{k}"] = pid
    _stop_groups(list(stopping.values()))
    for k, path in layout.worker_pids():
        if k > keep:
            path.unlink(missing_ok=True)
    return list(stopping)


# ---------------------------------------------------------------- the commands


def up(spec: ClusterSpec, log: Callable[[str], None] = lambda _: None) -> list[Component]:
    """Start PostgreSQL, Redis and spec.workers workers in spec.root (what already runs is kept)."""
    check_binaries()
    layout = Layout(spec.root)
    previous = _read_state(layout)
    running = [c.name for c in status(layout.root) if c.running]
    if running and previous and (previous.get("pg_port"), previous.get("redis_port")) != (spec.pg_port,
                                                                                           spec.redis_port):
        raise ClusterError(
            f"the cluster in {layout.root} runs on ports {previous.get('pg_port')}/{previous.get('redis_port')}; "
            f"run `scorecard cluster down --dir {layout.root}` before changing them"
        )
    if _pg_pid(layout) is None:
        _require_free(spec.pg_port, "PostgreSQL", "--pg-port", ENV_PG_PORT)
    if _redis_pid(layout, spec.redis_port) is None:
        _require_free(spec.redis_port, "Redis", "--redis-port", ENV_REDIS_PORT)
    user = _pg_os_user()
    layout.root.mkdir(parents=True, exist_ok=True)
    # Private, but searchable by PostgreSQL's own user when it is not ours (root's case).
    os.chmod(layout.root, 0o711 if user else 0o700)
    for d in (layout.secrets, layout.run, layout.logs):
        d.mkdir(mode=0o700, exist_ok=True)
    _write_private(layout.state, json.dumps({"pg_port": spec.pg_port, "redis_port": spec.redis_port,
                                             "workers": spec.workers, "pg_os_user": user}, indent=2) + "\n")
    try:
        _start_postgres(spec, layout, log)
        _write_dagster_yaml(spec, layout)
        _create_instance_tables(layout)
        _start_redis(spec, layout, log)
        env = client_env(layout.root)
        _write_private(layout.env_file, "".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items()))
        stopped = _stop_workers(layout, keep=spec.workers)
        if stopped:
            log(f"stopped {', '.join(stopped)} (beyond {spec.workers} workers)")
        worker_env = _worker_env(spec, layout)
        started = {k: _start_worker(spec, layout, k, worker_env) for k in range(1, spec.workers + 1)
                   if _pid_from(layout.worker_pid(k), _worker_marker(layout)) is None}
        if started:
            log(f"workers: starting {len(started)} (logs in {layout.logs})")
        _wait_workers_ready(layout, started, WORKER_READY_SECONDS)
    except BaseException:
        down(layout.root)  # no half-started cluster left behind
        raise
    return status(layout.root)


def down(root: str | Path, log: Callable[[str], None] = lambda _: None) -> list[str]:
    """Stop the workers, Redis and PostgreSQL of the cluster in root; what was stopped (empty: nothing ran)."""
    layout = Layout(Path(root))
    state = _read_state(layout)
    stopped = _stop_workers(layout)
    redis_port = state.get("redis_port")
    pid = _redis_pid(layout, int(redis_port)) if redis_port else None
    if pid is not None:
        _stop_groups([pid], 10.0)
        stopped.append("redis")
    (layout.run / "redis.pid").unlink(missing_ok=True)
    if layout.pgdata.exists() and _stop_postgres(layout):
        stopped.append("postgres")
    # dagster-celery's per-start config modules hold the broker URL with its password.
    shutil.rmtree(layout.celery_config_dirs, ignore_errors=True)
    log(f"stopped {', '.join(stopped)}" if stopped else f"nothing was running in {layout.root}")
    return stopped


def status(root: str | Path) -> list[Component]:
    layout = Layout(Path(root))
    state = _read_state(layout)
    pg_port, redis_port = state.get("pg_port"), state.get("redis_port")
    components = [
        Component("postgres", _pg_pid(layout) if layout.pgdata.exists() else None,
                  f"127.0.0.1:{pg_port}, DAGSTER_HOME={layout.home}" if pg_port else ""),
        Component("redis", _redis_pid(layout, int(redis_port)) if redis_port else None,
                  f"127.0.0.1:{redis_port}" if redis_port else ""),
    ]
    wanted = int(state.get("workers", 0))
    seen = {k for k, _ in layout.worker_pids()} | set(range(1, wanted + 1))
    for k in sorted(seen):
        components.append(Component(f"worker-{k}", _pid_from(layout.worker_pid(k), _worker_marker(layout)),
                                    str(layout.worker_log(k))))
    return components
