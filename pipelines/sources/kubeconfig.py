"""How to reach and authenticate to one Kubernetes API server.

Two ways in, as `kubectl` has them: a kubeconfig context (token / tokenFile,
client certificate and key as files or ``-data``, certificate-authority,
insecure-skip-tls-verify, tls-server-name, proxy-url, basic auth, and ``exec``
credential plugins of ``client.authentication.k8s.io/v1`` and ``v1beta1``), or
the in-cluster service account.

Secrets (tokens, passwords, client keys, exec plugin output) are held in
fields excluded from ``repr`` and never put into an exception message: the
crawl records exception text in DuckDB, and DuckDB feeds the dashboard.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import os
import shutil
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipelines import secrets
from pipelines.parsers import ParseError, load_yaml

EXEC_API_VERSIONS = ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1")
# Re-run a plugin a little before its credential expires so a request never
# starts with a token that dies on the way...
EXPIRY_SKEW = dt.timedelta(seconds=10)
# ...but use a fresh credential for at least this long, even when its expiry
# already looks past (clock skew between us and the issuer): otherwise every
# request would run the plugin again.
MIN_CREDENTIAL_REUSE = dt.timedelta(seconds=10)
# Service-account tokens are rotated by the kubelet; client-go re-reads the file every minute too.
TOKEN_FILE_TTL_SECONDS = 60.0
MAX_KUBECONFIG_BYTES = 5_000_000
MAX_EXEC_OUTPUT_BYTES = 1_000_000


class KubeconfigError(Exception):
    """The cluster's connection settings cannot be used; the message says why (never a secret)."""


@dataclass(frozen=True, slots=True)
class ExecConfig:
    api_version: str
    command: str
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = field(default=(), repr=False)  # may carry secrets
    interactive_mode: str | None = None
    provide_cluster_info: bool = False
    install_hint: str | None = None
    base_dir: Path = Path(".")  # a relative command with a path separator resolves against the kubeconfig


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Everything needed to open an HTTPS connection to one API server and authenticate."""

    server: str
    source: str  # where the settings came from, for messages: "kubeconfig ~/.kube/config, context prod"
    ca_file: Path | None = None
    ca_data: bytes | None = None
    insecure: bool = False
    tls_server_name: str | None = None
    client_cert_file: Path | None = None
    client_key_file: Path | None = None
    client_cert_data: bytes | None = field(default=None, repr=False)
    client_key_data: bytes | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    token_file: Path | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    exec: ExecConfig | None = None
    proxy_url: str | None = None


# ------------------------------------------------------------------ kubeconfig


def default_kubeconfig_paths() -> list[Path]:
    """``$KUBECONFIG`` (a path list, merged as kubectl merges it), else ``~/.kube/config``."""
    env = os.environ.get("KUBECONFIG", "")
    paths = [Path(p).expanduser() for p in env.split(os.pathsep) if p]
    return paths or [Path("~/.kube/config").expanduser()]


def load_kubeconfig(paths: list[Path], context: str | None = None) -> Endpoint:
    """The endpoint of ``context`` (default: current-context) in the merged kubeconfig files.

    Merging follows kubectl: for each named cluster, user and context the first
    file that defines it wins, and so does the first ``current-context``.
    """
    clusters: dict[str, tuple[dict, Path]] = {}
    users: dict[str, tuple[dict, Path]] = {}
    contexts: dict[str, dict] = {}
    current: str | None = None
    read: list[Path] = []
    for path in paths:
        data = _read_kubeconfig(path, required=len(paths) == 1)
        if data is None:
            continue
        read.append(path)
        for key, target in (("clusters", clusters), ("users", users)):
            for entry in _named(data, key, path):
                target.setdefault(entry[0], (entry[1], path.parent))
        for name, value in _named(data, "contexts", path):
            contexts.setdefault(name, value)
        if current is None and isinstance(data.get("current-context"), str) and data["current-context"]:
            current = data["current-context"]
    where = ", ".join(str(p) for p in read) or ", ".join(str(p) for p in paths)
    if not read:
        raise KubeconfigError(f"no kubeconfig found at {where}")
    name = context or current
    if not name:
        raise KubeconfigError(f"kubeconfig {where} has no current-context; set `context:` for this cluster")
    if name not in contexts:
        known = ", ".join(sorted(contexts)) or "none"
        raise KubeconfigError(f"kubeconfig {where} has no context {name!r} (contexts: {known})")
    ctx = contexts[name]
    source = f"kubeconfig {where}, context {name}"
    cluster_name, user_name = ctx.get("cluster"), ctx.get("user")
    if not isinstance(cluster_name, str) or cluster_name not in clusters:
        raise KubeconfigError(f"{source}: cluster {cluster_name!r} is not defined")
    cluster, cluster_dir = clusters[cluster_name]
    user, user_dir = ({}, cluster_dir)
    if user_name:
        if not isinstance(user_name, str) or user_name not in users:
            raise KubeconfigError(f"{source}: user {user_name!r} is not defined")
        user, user_dir = users[user_name]
    return _endpoint(cluster, cluster_dir, user, user_dir, source)


def _read_kubeconfig(path: Path, *, required: bool) -> dict | None:
    try:
        if path.stat().st_size > MAX_KUBECONFIG_BYTES:
            raise KubeconfigError(f"kubeconfig {path} is larger than {MAX_KUBECONFIG_BYTES:,} bytes")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if required:
            raise KubeconfigError(f"kubeconfig {path} not found") from None
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise KubeconfigError(f"cannot read kubeconfig {path}: {_os_reason(exc)}") from None
    try:
        data = load_yaml(text, str(path))
    except ParseError as exc:
        # The parser's reasons name a line and column, never the text there.
        raise KubeconfigError(f"kubeconfig {path} is not valid YAML: {exc.reason}") from None
    if not isinstance(data, dict):
        raise KubeconfigError(f"kubeconfig {path} is not a mapping")
    return data


def _named(data: dict, key: str, path: Path) -> list[tuple[str, dict]]:
    entries = data.get(key) or []
    if not isinstance(entries, list):
        raise KubeconfigError(f"kubeconfig {path}: `{key}` must be a list")
    inner = key[:-1]  # clusters -> cluster
    out = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise KubeconfigError(f"kubeconfig {path}: {key}[{i}] has no name")
        value = entry.get(inner) or {}
        if not isinstance(value, dict):
            raise KubeconfigError(f"kubeconfig {path}: {key}[{i}].{inner} must be a mapping")
        out.append((entry["name"], value))
    return out


def _endpoint(cluster: dict, cluster_dir: Path, user: dict, user_dir: Path, source: str) -> Endpoint:
    server = cluster.get("server")
    if not isinstance(server, str) or not server.startswith(("https://", "http://")):
        raise KubeconfigError(f"{source}: cluster server must be an http(s) URL, got {server!r}")
    if "auth-provider" in user:
        provider = user["auth-provider"].get("name") if isinstance(user["auth-provider"], dict) else None
        raise KubeconfigError(
            f"{source}: auth-provider {provider!r} was removed from Kubernetes clients; "
            "use its exec credential plugin (e.g. gke-gcloud-auth-plugin, kubelogin)"
        )
    exec_config = _exec_config(user.get("exec"), user_dir, source) if user.get("exec") is not None else None
    return Endpoint(
        server=server.rstrip("/"),
        source=source,
        ca_file=_path(cluster, "certificate-authority", cluster_dir),
        ca_data=_data(cluster, "certificate-authority-data", source),
        insecure=cluster.get("insecure-skip-tls-verify") is True,
        tls_server_name=_str(cluster, "tls-server-name", source),
        client_cert_file=_path(user, "client-certificate", user_dir),
        client_key_file=_path(user, "client-key", user_dir),
        client_cert_data=_data(user, "client-certificate-data", source),
        client_key_data=_data(user, "client-key-data", source),
        token=_str(user, "token", source),
        token_file=_path(user, "tokenFile", user_dir),
        username=_str(user, "username", source),
        password=_str(user, "password", source),
        exec=exec_config,
        proxy_url=_str(cluster, "proxy-url", source),
    )


def _exec_config(raw: object, base_dir: Path, source: str) -> ExecConfig:
    if not isinstance(raw, dict):
        raise KubeconfigError(f"{source}: user.exec must be a mapping")
    api_version = raw.get("apiVersion")
    if api_version not in EXEC_API_VERSIONS:
        raise KubeconfigError(
            f"{source}: exec apiVersion {api_version!r} is not supported (use one of {', '.join(EXEC_API_VERSIONS)})"
        )
    command = raw.get("command")
    if not isinstance(command, str) or not command:
        raise KubeconfigError(f"{source}: exec.command is missing")
    args = raw.get("args") or []
    if not isinstance(args, list) or not all(isinstance(a, (str, int, float)) for a in args):
        raise KubeconfigError(f"{source}: exec.args must be a list of strings")
    env: list[tuple[str, str]] = []
    for i, item in enumerate(raw.get("env") or []):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise KubeconfigError(f"{source}: exec.env[{i}] needs name and value")
        env.append((item["name"], "" if item.get("value") is None else str(item["value"])))
    mode = raw.get("interactiveMode")
    if api_version.endswith("/v1") and mode is None:
        raise KubeconfigError(f"{source}: exec.interactiveMode is required for {api_version}")
    if mode is not None and mode not in ("Never", "IfAvailable", "Always"):
        raise KubeconfigError(f"{source}: exec.interactiveMode {mode!r} is not Never, IfAvailable or Always")
    if mode == "Always":
        raise KubeconfigError(
            f"{source}: exec plugin {command!r} needs an interactive terminal (interactiveMode: Always); "
            "the scorecard crawls unattended"
        )
    return ExecConfig(
        api_version=api_version,
        command=command,
        args=tuple(str(a) for a in args),
        env=tuple(env),
        interactive_mode=mode,
        provide_cluster_info=raw.get("provideClusterInfo") is True,
        install_hint=raw.get("installHint") if isinstance(raw.get("installHint"), str) else None,
        base_dir=base_dir,
    )


def _str(section: dict, key: str, source: str) -> str | None:
    value = section.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise KubeconfigError(f"{source}: {key} must be a string")
    return value


def _path(section: dict, key: str, base_dir: Path) -> Path | None:
    value = section.get(key)
    if not isinstance(value, str) or not value:
        return None
    # kubectl resolves relative paths against the kubeconfig file that names them.
    path = Path(value).expanduser()
    return path if path.is_absolute() else base_dir / path


def _data(section: dict, key: str, source: str) -> bytes | None:
    value = section.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise KubeconfigError(f"{source}: {key} must be base64 text")
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise KubeconfigError(f"{source}: {key} is not valid base64") from None


def _os_reason(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    return type(exc).__name__


# ------------------------------------------------------------------ in-cluster


def in_cluster_endpoint(token_path: Path, ca_path: Path, host: str | None = None, port: int | str | None = None) -> Endpoint:
    """The API server as seen from a pod, authenticated as the pod's service account."""
    host = host or os.environ.get("KUBERNETES_SERVICE_HOST")
    port = port or os.environ.get("KUBERNETES_SERVICE_PORT")
    if not host or not port:
        raise KubeconfigError(
            "in-cluster: KUBERNETES_SERVICE_HOST / KUBERNETES_SERVICE_PORT are not set (not running in a pod?)"
        )
    if not token_path.is_file():
        raise KubeconfigError(f"in-cluster: service-account token {token_path} not found")
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # IPv6 literal
    return Endpoint(
        server=f"https://{host}:{port}",
        source="in-cluster service account",
        ca_file=ca_path if ca_path.is_file() else None,
        token_file=token_path,
    )


# ----------------------------------------------------------------- credentials


@dataclass(frozen=True, slots=True)
class ExecCredential:
    token: str | None = field(default=None, repr=False)
    client_cert_data: bytes | None = field(default=None, repr=False)
    client_key_data: bytes | None = field(default=None, repr=False)
    expires_at: dt.datetime | None = None


class ExecPlugin:
    """Runs a client-go credential plugin and caches its answer until it expires."""

    def __init__(
        self,
        config: ExecConfig,
        cluster_info: dict | None = None,
        *,
        timeout: float = 60.0,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.config = config
        self.cluster_info = cluster_info
        self.timeout = timeout
        self._now = now
        self._cached: ExecCredential | None = None
        self._valid_until: dt.datetime | None = None  # None: until invalidated
        self._lock = threading.Lock()
        self.runs = 0

    def credential(self) -> ExecCredential:
        with self._lock:
            now = self._now()
            if self._cached is not None and (self._valid_until is None or now < self._valid_until):
                return self._cached
            fresh = self._run()
            self._cached = fresh
            self._valid_until = (
                None if fresh.expires_at is None else max(fresh.expires_at - EXPIRY_SKEW, now + MIN_CREDENTIAL_REUSE)
            )
            return fresh

    def invalidate(self) -> None:
        with self._lock:
            self._cached = None

    def _command(self) -> str:
        command = self.config.command
        if os.sep in command and not os.path.isabs(command):
            return str(self.config.base_dir / command)
        found = shutil.which(command)
        if found is None and not os.path.isabs(command):
            hint = f" ({self.config.install_hint.strip()})" if self.config.install_hint else ""
            raise KubeconfigError(f"exec plugin {command!r} not found on PATH{hint}")
        return found or command

    def _run(self) -> ExecCredential:
        command = self._command()
        name = os.path.basename(self.config.command)
        spec: dict = {"interactive": False}
        if self.config.provide_cluster_info and self.cluster_info is not None:
            spec["cluster"] = self.cluster_info
        exec_info = {"apiVersion": self.config.api_version, "kind": "ExecCredential", "spec": spec}
        env = {**os.environ, **dict(self.config.env), "KUBERNETES_EXEC_INFO": json.dumps(exec_info)}
        self.runs += 1
        try:
            done = subprocess.run(
                [command, *self.config.args], env=env, stdin=subprocess.DEVNULL,
                capture_output=True, timeout=self.timeout, check=False,
            )
        except subprocess.TimeoutExpired:
            raise KubeconfigError(f"exec plugin {name} did not answer within {self.timeout:g} s") from None
        except OSError as exc:
            raise KubeconfigError(f"exec plugin {name} could not be started: {_os_reason(exc)}") from None
        if done.returncode != 0:
            # The plugin's own stderr explains most failures ("token expired, run
            # az login"); its stdout may hold a credential, so it is never shown.
            last = (done.stderr or b"").decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            said = f": {secrets.redact(last[0])[:200]}" if last[0] else ""  # stderr may repeat a known token
            raise KubeconfigError(f"exec plugin {name} failed with exit code {done.returncode}{said}")
        return self._parse(done.stdout, name)

    def _parse(self, stdout: bytes, name: str) -> ExecCredential:
        if len(stdout) > MAX_EXEC_OUTPUT_BYTES:
            raise KubeconfigError(f"exec plugin {name} printed more than {MAX_EXEC_OUTPUT_BYTES:,} bytes")
        try:
            data = json.loads(stdout)
        except ValueError:
            raise KubeconfigError(f"exec plugin {name} did not print an ExecCredential (not JSON)") from None
        if not isinstance(data, dict) or data.get("kind") != "ExecCredential":
            raise KubeconfigError(f"exec plugin {name} did not print an ExecCredential")
        if data.get("apiVersion") != self.config.api_version:
            raise KubeconfigError(
                f"exec plugin {name} answered {data.get('apiVersion')!r}, expected {self.config.api_version}"
            )
        status = data.get("status")
        if not isinstance(status, dict):
            raise KubeconfigError(f"exec plugin {name}: ExecCredential has no status")
        token = status.get("token") if isinstance(status.get("token"), str) and status.get("token") else None
        cert = status.get("clientCertificateData")
        key = status.get("clientKeyData")
        if bool(cert) != bool(key):
            raise KubeconfigError(f"exec plugin {name}: clientCertificateData and clientKeyData come together")
        if token is None and not cert:
            raise KubeconfigError(f"exec plugin {name}: ExecCredential has neither token nor client certificate")
        expires_at = None
        if status.get("expirationTimestamp"):
            try:
                expires_at = dt.datetime.fromisoformat(str(status["expirationTimestamp"]).replace("Z", "+00:00"))
            except ValueError:
                raise KubeconfigError(f"exec plugin {name}: expirationTimestamp is not an RFC 3339 time") from None
            if expires_at.tzinfo is None:
                expires_at = expires_at.replace(tzinfo=dt.UTC)
        return ExecCredential(
            token=token,
            client_cert_data=cert.encode() if isinstance(cert, str) and cert else None,
            client_key_data=key.encode() if isinstance(key, str) and key else None,
            expires_at=expires_at,
        )


class BearerTokens:
    """Where one cluster's bearer token comes from: fixed, a file (re-read), or an exec plugin."""

    def __init__(self, endpoint: Endpoint, plugin: ExecPlugin | None = None) -> None:
        self.endpoint = endpoint
        self.plugin = plugin
        self._file_token: str | None = None
        self._file_read_at = float("-inf")
        self._lock = threading.Lock()

    @property
    def refreshable(self) -> bool:
        return self.plugin is not None or self.endpoint.token_file is not None

    def token(self) -> str | None:
        """The bearer token to send now; every token handed out is registered for redaction."""
        token = self._token()
        secrets.register(token)
        return token

    def _token(self) -> str | None:
        if self.plugin is not None:
            credential = self.plugin.credential()
            if credential.token:
                return credential.token
        if self.endpoint.token:
            return self.endpoint.token
        if self.endpoint.token_file is not None:
            return self._read_token_file()
        return None

    def invalidate(self) -> None:
        if self.plugin is not None:
            self.plugin.invalidate()
        with self._lock:
            self._file_read_at = float("-inf")

    def _read_token_file(self) -> str:
        path = self.endpoint.token_file
        assert path is not None
        with self._lock:
            if time.monotonic() - self._file_read_at < TOKEN_FILE_TTL_SECONDS and self._file_token:
                return self._file_token
            try:
                token = path.read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError) as exc:
                raise KubeconfigError(f"cannot read token file {path}: {_os_reason(exc)}") from None
            if not token:
                raise KubeconfigError(f"token file {path} is empty")
            self._file_token, self._file_read_at = token, time.monotonic()
            return token


# --------------------------------------------------------------------------- TLS


def ssl_context(endpoint: Endpoint, exec_credential: ExecCredential | None = None) -> ssl.SSLContext:
    """Server verification (CA, or none when insecure) and the client certificate, if any."""
    try:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        if endpoint.insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        elif endpoint.ca_data is not None or endpoint.ca_file is not None:
            # A cluster CA replaces the system roots, as in kubectl.
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.load_verify_locations(
                cafile=str(endpoint.ca_file) if endpoint.ca_data is None and endpoint.ca_file else None,
                cadata=endpoint.ca_data.decode("ascii", "replace") if endpoint.ca_data is not None else None,
            )
    except FileNotFoundError:
        raise KubeconfigError(f"{endpoint.source}: certificate-authority {endpoint.ca_file} not found") from None
    except (ssl.SSLError, OSError, ValueError):
        raise KubeconfigError(f"{endpoint.source}: certificate-authority is not a PEM certificate") from None
    cert_data, key_data = endpoint.client_cert_data, endpoint.client_key_data
    secrets.register(key_data)
    if exec_credential is not None and exec_credential.client_cert_data:
        cert_data, key_data = exec_credential.client_cert_data, exec_credential.client_key_data
        secrets.register(key_data)
    if cert_data is not None or key_data is not None:
        if cert_data is None and endpoint.client_cert_file is None:
            raise KubeconfigError(f"{endpoint.source}: client key given without a client certificate")
        if key_data is None and endpoint.client_key_file is None:
            raise KubeconfigError(f"{endpoint.source}: client certificate given without a client key")
        _load_client_pair(context, endpoint, cert_data, key_data)
    elif endpoint.client_cert_file is not None or endpoint.client_key_file is not None:
        if endpoint.client_cert_file is None or endpoint.client_key_file is None:
            raise KubeconfigError(f"{endpoint.source}: client-certificate and client-key come together")
        _load_cert_chain(context, endpoint, endpoint.client_cert_file, endpoint.client_key_file)
    return context


def _load_client_pair(context: ssl.SSLContext, endpoint: Endpoint, cert: bytes | None, key: bytes | None) -> None:
    # The ssl module loads key pairs from files only: write the in-memory ones
    # to a private directory for the moment it takes, then remove them.
    with tempfile.TemporaryDirectory(prefix="scorecard-tls-") as tmp:
        base = Path(tmp)
        cert_path = endpoint.client_cert_file
        key_path = endpoint.client_key_file
        if cert is not None:
            cert_path = base / "client.crt"
            _write_private(cert_path, cert)
        if key is not None:
            key_path = base / "client.key"
            _write_private(key_path, key)
        assert cert_path is not None and key_path is not None
        _load_cert_chain(context, endpoint, cert_path, key_path)


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _load_cert_chain(context: ssl.SSLContext, endpoint: Endpoint, cert: Path, key: Path) -> None:
    try:
        context.load_cert_chain(certfile=str(cert), keyfile=str(key))
    except FileNotFoundError:
        missing = cert if not Path(cert).exists() else key
        raise KubeconfigError(f"{endpoint.source}: client certificate file {missing} not found") from None
    except (ssl.SSLError, OSError, ValueError):
        raise KubeconfigError(
            f"{endpoint.source}: client certificate and key are not a matching PEM pair"
        ) from None
