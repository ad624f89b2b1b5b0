"""A Kubernetes-API-shaped HTTP(S) server for tests: real sockets on loopback, a thread.

It serves List responses the way an API server does (``DeploymentList``
with ``metadata.resourceVersion``, items without ``kind``/``apiVersion``,
``limit``/``continue`` pagination with ``remainingItemCount``), cluster-wide
and per namespace, and answers errors as ``Status`` objects.

Authentication as configured: bearer tokens, basic auth, and client
certificates verified against a CA (TLS with certificates made by :class:`PKI`
in the test). Faults are injected per resource (plural name): 403, slow
responses, truncated bodies, garbage, 503s, expiring continue tokens (410),
and CRDs that are not installed (404). Every request is recorded in
``requests``, so tests can see what the client really sent.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import json
import multiprocessing
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PLURALS = {
    "Deployment": "deployments", "StatefulSet": "statefulsets", "DaemonSet": "daemonsets",
    "ReplicaSet": "replicasets", "Service": "services", "PodDisruptionBudget": "poddisruptionbudgets",
    "HorizontalPodAutoscaler": "horizontalpodautoscalers", "ServiceMonitor": "servicemonitors",
    "PodMonitor": "podmonitors", "ExternalSecret": "externalsecrets", "CronJob": "cronjobs", "Job": "jobs",
    "Rollout": "rollouts", "Pod": "pods",
    "SecretProviderClass": "secretproviderclasses", "SealedSecret": "sealedsecrets",
    "CompositeResourceDefinition": "compositeresourcedefinitions", "Composition": "compositions",
    "CompositionRevision": "compositionrevisions",
    "Application": "applications", "Kustomization": "kustomizations", "HelmRelease": "helmreleases",
    "GitRepository": "gitrepositories",
}  # fmt: skip
# What every API server serves whether or not objects exist: (path prefix, plural).
BUILT_IN = {
    ("apis/apps/v1", "deployments"), ("apis/apps/v1", "statefulsets"), ("apis/apps/v1", "daemonsets"),
    ("apis/apps/v1", "replicasets"), ("api/v1", "services"), ("apis/policy/v1", "poddisruptionbudgets"),
    ("apis/autoscaling/v2", "horizontalpodautoscalers"), ("apis/batch/v1", "cronjobs"), ("apis/batch/v1", "jobs"),
    ("api/v1", "pods"),
}  # fmt: skip
_ROUTE = re.compile(r"^/(api/v1|apis/[^/]+/[^/]+)(?:/namespaces/([^/]+))?/([^/]+)$")


def prefix_of(api_version: str) -> str:
    return f"apis/{api_version}" if "/" in api_version else f"api/{api_version}"


# ------------------------------------------------------------------------ PKI


@dataclass
class Issued:
    cert: Path
    key: Path

    @property
    def cert_pem(self) -> bytes:
        return self.cert.read_bytes()

    @property
    def key_pem(self) -> bytes:
        return self.key.read_bytes()


class PKI:
    """A throwaway CA issuing server and client certificates into ``directory`` (EC keys: fast)."""

    def __init__(self, directory: Path, name: str = "test-ca") -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = dt.datetime.now(dt.UTC)
        self._cert = (
            x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(self._key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                              key_encipherment=False, data_encipherment=False, key_agreement=False,
                              encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self._key.public_key()), critical=False)
            .sign(self._key, hashes.SHA256())
        )  # fmt: skip
        self.ca = self.directory / f"{name}.crt"
        self.ca.write_bytes(self._cert.public_bytes(serialization.Encoding.PEM))

    @property
    def ca_pem(self) -> bytes:
        return self.ca.read_bytes()

    def issue(self, name: str, *, hosts: tuple[str, ...] = (), client: bool = False) -> Issued:
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(self._cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()), critical=False)
            .add_extension(x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        )  # fmt: skip
        if hosts:
            names: list[x509.GeneralName] = []
            for host in hosts:
                try:
                    names.append(x509.IPAddress(ipaddress.ip_address(host)))
                except ValueError:
                    names.append(x509.DNSName(host))
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        cert = builder.sign(self._key, hashes.SHA256())
        issued = Issued(self.directory / f"{name}.crt", self.directory / f"{name}.key")
        issued.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        issued.key.write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        issued.key.chmod(0o600)
        return issued


# --------------------------------------------------------------------- server


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    authorization: str | None  # the scheme only ("Bearer", "Basic"), never the credential
    token: str | None  # the bearer token, so tests can tell which credential was sent
    client_cert: str | None  # common name of a verified client certificate


@dataclass
class FakeKubernetes:
    """The cluster's objects and the faults to inject; ``start()`` serves them."""

    tokens: set[str] = field(default_factory=set)
    basic: tuple[str, str] | None = None
    anonymous: bool = False  # accept requests with no credentials at all
    tls: Issued | None = None  # server certificate; None = plain HTTP
    client_ca: Path | None = None  # verify client certificates against this CA
    require_client_cert: bool = False
    forbidden: set[str] = field(default_factory=set)  # plurals answered 403
    slow: dict[str, float] = field(default_factory=dict)  # plural -> seconds before answering
    truncate: set[str] = field(default_factory=set)  # plural -> body cut off mid-way
    garbage: set[str] = field(default_factory=set)  # plural -> 200 with an HTML error page
    echo: dict[str, int] = field(default_factory=dict)  # plural -> status of an error page repeating the request's headers
    unavailable: dict[str, int] = field(default_factory=dict)  # plural -> next N requests get 503
    expire_continue: int = 0  # the next N requests that carry a continue token get 410 Gone
    max_limit: int = 500  # the server's own page cap
    requests: list[Seen] = field(default_factory=list)
    tls_errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.xrd_plurals: dict[str, str] = {}  # claim and composite kinds of the XRDs added
        self.served: set[tuple[str, str]] = set(BUILT_IN)
        self.objects: dict[tuple[str, str], list[dict]] = {}
        self.resource_version = 4242
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------ contents

    def add(self, *objects: dict) -> FakeKubernetes:
        """Objects as `kubectl get -o yaml` shows them (with kind and apiVersion)."""
        for obj in objects:
            # A kind an XRD serves is named by that XRD (`spec.names` / `spec.claimNames`).
            route = (prefix_of(obj["apiVersion"]), PLURALS.get(obj["kind"]) or self.xrd_plurals[obj["kind"]])
            self.served.add(route)  # a CRD's objects imply the CRD is installed
            self.objects.setdefault(route, []).append(obj)
            self.resource_version += 1
        return self

    def add_xrd(self, xrd: dict) -> FakeKubernetes:
        """An XRD, and the claim and composite kinds it makes the API server serve (empty lists)."""
        spec = xrd["spec"]
        for names in (spec["names"], spec.get("claimNames")):
            if names:
                self.xrd_plurals[names["kind"]] = names["plural"]
                for version in spec["versions"]:
                    self.install(f"{spec['group']}/{version['name']}", names["plural"])
        return self.add(xrd)

    def install(self, api_version: str, plural: str) -> None:
        self.served.add((prefix_of(api_version), plural))

    def uninstall(self, api_version: str, plural: str) -> None:
        self.served.discard((prefix_of(api_version), plural))

    def all_objects(self) -> list[dict]:
        return [obj for items in self.objects.values() for obj in items]

    def requests_for(self, plural: str) -> list[Seen]:
        return [r for r in self.requests if r.path.rstrip("/").endswith("/" + plural)]

    # ------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the server first"
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeKubernetes:
        context = None
        if self.tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(self.tls.cert, self.tls.key)
            if self.client_ca is not None:
                context.load_verify_locations(cafile=str(self.client_ca))
                context.verify_mode = ssl.CERT_REQUIRED if self.require_client_cert else ssl.CERT_OPTIONAL
        self._server = _Server(("127.0.0.1", 0), _Handler, fake=self, ssl_context=context)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stopping = True
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeKubernetes:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------- answers

    def _authenticated(self, handler: _Handler) -> tuple[bool, str | None, str | None, str | None]:
        header = handler.headers.get("Authorization") or ""
        scheme, _, credential = header.partition(" ")
        token = credential if scheme == "Bearer" else None
        cert_name = None
        if isinstance(handler.connection, ssl.SSLSocket):
            peer = handler.connection.getpeercert()
            if peer:
                cert_name = next((v for rdn in peer.get("subject", ()) for k, v in rdn if k == "commonName"), None)
        ok = (
            self.anonymous
            or (token is not None and token in self.tokens)
            or (scheme == "Basic" and self.basic is not None
                and credential == base64.b64encode(f"{self.basic[0]}:{self.basic[1]}".encode()).decode())
            or cert_name is not None
        )  # fmt: skip
        return ok, scheme or None, token, cert_name

    def answer(self, handler: _Handler) -> None:
        url = urlsplit(handler.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        ok, scheme, token, cert_name = self._authenticated(handler)
        with self._lock:
            self.requests.append(Seen("GET", url.path, query, scheme, token, cert_name))
        if not ok:
            return handler.send_json(401, _status(401, "Unauthorized", "Unauthorized"))
        match = _ROUTE.match(url.path)
        if match is None:
            return handler.send_json(404, _status(404, "NotFound", "the server could not find the requested resource"))
        prefix, namespace, plural = match.groups()
        if (prefix, plural) not in self.served:
            return handler.send_json(404, _status(404, "NotFound", "the server could not find the requested resource"))
        if plural in self.forbidden:
            group = prefix.split("/")[1] if prefix.startswith("apis/") else ""
            what = f"{plural}.{group}" if group else plural
            scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
            return handler.send_json(403, _status(403, "Forbidden", (
                f'{what} is forbidden: User "system:serviceaccount:scorecard:scorecard-reader" cannot list '
                f'resource "{plural}" in API group "{group}" {scope}')))
        delay = self.slow.get(plural, 0.0)
        end = time.monotonic() + delay
        while time.monotonic() < end and not handler.server.stopping:
            time.sleep(0.02)
        with self._lock:
            if self.unavailable.get(plural, 0) > 0:
                self.unavailable[plural] -= 1
                return handler.send_json(503, _status(503, "ServiceUnavailable", "the server is currently unable to handle the request"))
        if plural in self.echo:  # a proxy's error page that prints the request headers back
            auth = handler.headers.get("Authorization", "")
            return handler.send_json(self.echo[plural], _status(self.echo[plural], "InternalError",
                                                                f"upstream rejected request with Authorization: {auth}"))
        if plural in self.garbage:
            return handler.send_body(200, b"<html><body>502 Bad Gateway (nginx)</body></html>", "text/html")
        try:
            offset = _offset(query.get("continue"))
        except ValueError:
            return handler.send_json(400, _status(400, "BadRequest", "continue key is not valid"))
        if query.get("continue"):
            with self._lock:
                if self.expire_continue > 0:
                    self.expire_continue -= 1
                    return handler.send_json(410, _status(410, "Expired", (
                        "The provided continue parameter is too old to display a consistent list result. "
                        "You can start a new list without the continue parameter.")))
        items = self.objects.get((prefix, plural), [])
        if namespace:
            items = [o for o in items if o.get("metadata", {}).get("namespace") == namespace]
        limit = min(int(query.get("limit") or self.max_limit), self.max_limit)
        page = items[offset:offset + limit]
        rest = len(items) - offset - len(page)
        metadata: dict = {"resourceVersion": str(self.resource_version)}
        if rest > 0:
            metadata["continue"] = _token(offset + len(page), self.resource_version)
            metadata["remainingItemCount"] = rest
        kind = next((k for k, p in PLURALS.items() if p == plural), plural)
        body = {
            "kind": f"{kind}List",
            "apiVersion": prefix.split("/", 1)[1],
            "metadata": metadata,
            "items": [{k: v for k, v in o.items() if k not in ("kind", "apiVersion")} for o in page],
        }
        data = json.dumps(body, separators=(",", ":")).encode()
        if plural in self.truncate:
            return handler.send_truncated(data)
        handler.send_body(200, data, "application/json")


def _status(code: int, reason: str, message: str) -> dict:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}  # fmt: skip


def _token(offset: int, resource_version: int) -> str:
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": resource_version, "start": offset}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        return int(json.loads(base64.urlsafe_b64decode(token))["start"])
    except Exception as exc:  # noqa: BLE001 - any bad token is a 400
        raise ValueError(str(exc)) from None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, handler, *, fake: FakeKubernetes, ssl_context: ssl.SSLContext | None) -> None:
        super().__init__(address, handler)
        self.fake = fake
        self.ssl_context = ssl_context
        self.stopping = False

    def finish_request(self, request, client_address) -> None:
        # The TLS handshake runs in the connection's own thread, so one bad
        # client never blocks the accept loop.
        if self.ssl_context is not None:
            try:
                request = self.ssl_context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError) as exc:
                self.fake.tls_errors.append(str(exc))
                return
        try:
            self.RequestHandlerClass(request, client_address, self)
        finally:
            if self.ssl_context is not None:
                request.close()

    def handle_error(self, request, client_address) -> None:
        return None  # clients that hang up mid-response are part of the tests


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real API server
    disable_nagle_algorithm = True  # headers and body go out as separate writes
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.server.fake.answer(self)

    def send_json(self, code: int, body: dict) -> None:
        self.send_body(code, json.dumps(body).encode(), "application/json")

    def send_body(self, code: int, data: bytes, content_type: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_truncated(self, data: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[: len(data) // 2])
        self.wfile.flush()
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's signature
        return None


def closed_port() -> int:
    """A loopback port nothing listens on (for "cluster is down")."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -------------------------------------------------------- in another process


def _serve_child(factory, conn) -> None:
    fake = factory().start()
    conn.send(fake.url)
    conn.recv()  # any message: stop
    fake.stop()


def serve_in_process(factory: Callable[[], FakeKubernetes]) -> tuple[str, Callable[[], None]]:
    """Run ``factory()``'s server in a forked process (so a benchmark measures only the client)."""
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe()
    process = ctx.Process(target=_serve_child, args=(factory, child), daemon=True)
    process.start()
    url = parent.recv()

    def stop() -> None:
        parent.send("stop")
        process.join(10)

    return url, stop


# ---------------------------------------------------------- object builders


def _meta(name: str, namespace: str, labels: dict | None = None, annotations: dict | None = None, **extra) -> dict:
    meta = {"name": name, "namespace": namespace, "uid": f"uid-{namespace}-{name}",
            "resourceVersion": "1", "creationTimestamp": extra.pop("created", "2026-11-01T10:00:00Z")}  # fmt: skip
    if labels:
        meta["labels"] = labels
    if annotations:
        meta["annotations"] = annotations
    meta.update(extra)
    return meta


def _pod_template(app: str, image: str, *, probes: bool = True, labels: dict | None = None) -> dict:
    container: dict = {
        "name": app, "image": image, "ports": [{"name": "http", "containerPort": 8080}],
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
    }
    if probes:
        container["readinessProbe"] = {"httpGet": {"path": "/readyz", "port": "http"}}
        container["livenessProbe"] = {"httpGet": {"path": "/livez", "port": "http"}}
    return {
        "metadata": {"labels": {"app.kubernetes.io/name": app, **(labels or {})}},
        "spec": {"containers": [container], "securityContext": {"runAsNonRoot": True}},
    }


def deployment(app: str, namespace: str = "default", *, replicas: int = 2, image: str | None = None,
               probes: bool = True, annotations: dict | None = None, created: str = "2026-11-01T10:00:00Z") -> dict:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": _meta(app, namespace, {"app.kubernetes.io/name": app}, annotations, created=created,
                          generation=3),
        "spec": {"replicas": replicas, "revisionHistoryLimit": 10,
                 "selector": {"matchLabels": {"app.kubernetes.io/name": app}},
                 "template": _pod_template(app, image or f"registry.example.com/{app}:1.0.0", probes=probes)},
        "status": {"replicas": replicas, "readyReplicas": replicas},
    }  # fmt: skip


def statefulset(app: str, namespace: str = "default", *, replicas: int = 1) -> dict:
    obj = deployment(app, namespace, replicas=replicas)
    obj["kind"] = "StatefulSet"
    obj["spec"]["serviceName"] = app
    return obj


def daemonset(app: str, namespace: str = "kube-system") -> dict:
    obj = deployment(app, namespace)
    obj["kind"] = "DaemonSet"
    del obj["spec"]["replicas"]
    return obj


def cronjob(app: str, namespace: str = "default", *, schedule: str = "0 3 * * *") -> dict:
    template = deployment(app, namespace)["spec"]["template"]
    return {
        "apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": _meta(app, namespace, {"app.kubernetes.io/name": app}, None, created="2026-11-01T10:00:00Z"),
        "spec": {"schedule": schedule, "jobTemplate": {"spec": {"template": template}}},
    }  # fmt: skip


def job_of(cron: dict, run: int) -> dict:
    """A Job the CronJob created: owned by it, so never a workload of its own."""
    meta = cron["metadata"]
    return {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {**_meta(f"{meta['name']}-{run}", meta["namespace"], {}, None, created="2026-11-02T03:00:00Z"),
                     "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob", "name": meta["name"],
                                          "controller": True}]},
        "spec": {"template": cron["spec"]["jobTemplate"]["spec"]["template"]},
    }  # fmt: skip


def rollout(app: str, namespace: str = "default", *, replicas: int = 3) -> dict:
    obj = deployment(app, namespace, replicas=replicas)
    obj["apiVersion"], obj["kind"] = "argoproj.io/v1alpha1", "Rollout"
    return obj


def replica_set(app: str, namespace: str, revision: int, image: str, *, created: str,
                annotations: dict | None = None, pod_labels: dict | None = None) -> dict:
    pod_hash = hashlib.sha1(f"{app}/{revision}/{image}".encode()).hexdigest()[:10]
    name = f"{app}-{pod_hash}"
    notes = {"deployment.kubernetes.io/revision": str(revision), **(annotations or {})}
    template = _pod_template(app, image, labels={"pod-template-hash": pod_hash, **(pod_labels or {})})
    return {
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": _meta(name, namespace, template["metadata"]["labels"], notes, created=created,
                          ownerReferences=[{"apiVersion": "apps/v1", "kind": "Deployment", "name": app,
                                            "uid": f"uid-{namespace}-{app}", "controller": True}]),
        "spec": {"replicas": 0, "selector": {"matchLabels": {"pod-template-hash": pod_hash}}, "template": template},
    }  # fmt: skip


def service(app: str, namespace: str = "default") -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": _meta(app, namespace, {"app.kubernetes.io/name": app}),
            "spec": {"selector": {"app.kubernetes.io/name": app}, "ports": [{"port": 80, "targetPort": "http"}]}}  # fmt: skip


def pdb(app: str, namespace: str = "default") -> dict:
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": _meta(app, namespace),
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": app}}}}  # fmt: skip


def hpa(app: str, namespace: str = "default", *, minimum: int = 2) -> dict:
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": _meta(app, namespace),
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": app},
                     "minReplicas": minimum, "maxReplicas": 10}}  # fmt: skip


def service_monitor(app: str, namespace: str = "default") -> dict:
    return {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": _meta(app, namespace),
            "spec": {"selector": {"matchLabels": {"app.kubernetes.io/name": app}}, "endpoints": [{"port": "http"}]}}  # fmt: skip


def pod_monitor(app: str, namespace: str = "default") -> dict:
    obj = service_monitor(app, namespace)
    obj["kind"] = "PodMonitor"
    obj["spec"] = {"selector": obj["spec"]["selector"], "podMetricsEndpoints": [{"port": "http"}]}
    return obj


def external_secret(name: str, namespace: str = "default", *, api_version: str = "external-secrets.io/v1") -> dict:
    return {"apiVersion": api_version, "kind": "ExternalSecret", "metadata": _meta(name, namespace),
            "spec": {"secretStoreRef": {"kind": "ClusterSecretStore", "name": "vault"},
                     "target": {"name": f"{name}-env"}, "dataFrom": [{"extract": {"key": name}}]}}  # fmt: skip


def sample_cluster(fake: FakeKubernetes) -> FakeKubernetes:
    """A small but complete cluster: every kind the source reads, some failing checks."""
    fake.add(
        deployment("payments", "payments", replicas=3, image="registry.example.com/payments:sha-3f2a9c1"),
        deployment("checkout", "shop", replicas=1, probes=False),
        statefulset("ledger", "payments", replicas=1),
        daemonset("node-agent"),
        replica_set("payments", "payments", 1, "registry.example.com/payments:sha-1a2b3c4", created="2026-11-20T09:00:00Z"),
        replica_set("payments", "payments", 2, "registry.example.com/payments:sha-3f2a9c1", created="2026-11-24T15:30:00Z"),
        replica_set("checkout", "shop", 1, "registry.example.com/checkout:1.0.0", created="2026-11-01T10:00:00Z"),
        service("payments", "payments"), service("checkout", "shop"),
        pdb("payments", "payments"),
        hpa("payments", "payments", minimum=3),
        service_monitor("payments", "payments"),
        pod_monitor("checkout", "shop"),
        external_secret("payments-db", "payments"),
    )
    return fake
