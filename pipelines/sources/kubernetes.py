"""Live clusters over the Kubernetes API, with one ``httpx.Client`` per cluster.

The objects are listed (all namespaces unless restricted), given back the
``kind``/``apiVersion`` that List items lack, and read by the same parser as
snapshot files, so a live cluster and a ``kubectl get -o json`` export of it
produce the same evidence.

Failure is graded (docs/kubernetes.md "Failure behaviour"):

* the cluster cannot be reached, authenticated to, answers too slowly, or the
  workloads themselves cannot be read: ``ClusterCrawl.error``, nothing else
  from this crawl is used;
* an optional resource is forbidden or unreadable (HPAs, PDBs, ...): the
  crawl is ``partial``, with a Problem naming the resource;
* a CRD that is not installed (Prometheus Operator, External Secrets): not a
  problem at all.
"""

from __future__ import annotations

import base64
import datetime as dt
import fnmatch
import json
import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx

from checks.evidence import Problem
from pipelines import secrets
from pipelines.config import LiveCluster
from pipelines.facts import K8sInventory
from pipelines.parsers import parse_k8s_documents
from pipelines.sources.base import ClusterCrawl
from pipelines.sources.kubeconfig import (
    BearerTokens,
    Endpoint,
    ExecConfig,
    ExecPlugin,
    KubeconfigError,
    default_kubeconfig_paths,
    in_cluster_endpoint,
    load_kubeconfig,
    ssl_context,
)

log = logging.getLogger(__name__)

MAX_RESPONSE_BYTES = 256 * 1024 * 1024
MAX_LIST_RESTARTS = 3  # a list whose continue token keeps expiring is churning too fast to page
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
RETRIES = 2
USER_AGENT = "platform-scorecard (kubernetes source)"


@dataclass(frozen=True, slots=True)
class Resource:
    kind: str
    group: str  # "" for the core group
    versions: tuple[str, ...]  # tried in order: newest served wins
    plural: str
    required: bool = False  # without it the cluster's crawl is worthless
    crd: bool = False  # installed by an operator; absence is normal

    def api_version(self, version: str) -> str:
        return f"{self.group}/{version}" if self.group else version

    def path(self, version: str, namespace: str | None) -> str:
        # Relative, so a server URL with a path prefix (Rancher, proxies) keeps it.
        root = f"apis/{self.group}/{version}" if self.group else f"api/{version}"
        where = f"/namespaces/{quote(namespace, safe='')}" if namespace else ""
        return f"{root}{where}/{self.plural}"

    @property
    def label(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural


RESOURCES: tuple[Resource, ...] = (
    Resource("Deployment", "apps", ("v1",), "deployments", required=True),
    Resource("StatefulSet", "apps", ("v1",), "statefulsets", required=True),
    Resource("DaemonSet", "apps", ("v1",), "daemonsets", required=True),
    # Jobs a CronJob created are its children (ownerReferences), not workloads of their own.
    Resource("CronJob", "batch", ("v1", "v1beta1"), "cronjobs"),
    Resource("Job", "batch", ("v1",), "jobs"),
    Resource("Rollout", "argoproj.io", ("v1alpha1",), "rollouts", crd=True),
    # Not Pods: a bare Pod is rare, listing pods reads every replica of every
    # Deployment, and the reader role deliberately has no access to pods.
    # Bare Pods in manifests and snapshot files are workloads all the same.
    Resource("ReplicaSet", "apps", ("v1",), "replicasets"),
    Resource("Service", "", ("v1",), "services"),
    Resource("PodDisruptionBudget", "policy", ("v1", "v1beta1"), "poddisruptionbudgets"),
    Resource("HorizontalPodAutoscaler", "autoscaling", ("v2", "v2beta2"), "horizontalpodautoscalers"),
    Resource("ServiceMonitor", "monitoring.coreos.com", ("v1",), "servicemonitors", crd=True),
    Resource("PodMonitor", "monitoring.coreos.com", ("v1",), "podmonitors", crd=True),
    Resource("ExternalSecret", "external-secrets.io", ("v1", "v1beta1"), "externalsecrets", crd=True),
    # Secrets managers other than External Secrets (checks/secret_managers.py).
    Resource("SecretProviderClass", "secrets-store.csi.x-k8s.io", ("v1", "v1alpha1"), "secretproviderclasses", crd=True),
    Resource("SealedSecret", "bitnami.com", ("v1alpha1",), "sealedsecrets", crd=True),
    # Crossplane (docs/crossplane.md): the XRDs say which claim and composite kinds to list next.
    Resource("CompositeResourceDefinition", "apiextensions.crossplane.io", ("v2", "v1"), "compositeresourcedefinitions", crd=True),
    Resource("Composition", "apiextensions.crossplane.io", ("v1",), "compositions", crd=True),
    Resource("CompositionRevision", "apiextensions.crossplane.io", ("v1", "v1beta1"), "compositionrevisions", crd=True),
    # GitOps controllers (docs/gitops.md): where each service is deployed from; most clusters run one or none.
    Resource("Application", "argoproj.io", ("v1alpha1",), "applications", crd=True),
    Resource("Kustomization", "kustomize.toolkit.fluxcd.io", ("v1", "v1beta2"), "kustomizations", crd=True),
    Resource("HelmRelease", "helm.toolkit.fluxcd.io", ("v2", "v2beta2", "v2beta1"), "helmreleases", crd=True),
    Resource("GitRepository", "source.toolkit.fluxcd.io", ("v1", "v1beta2"), "gitrepositories", crd=True),
    Resource("OCIRepository", "source.toolkit.fluxcd.io", ("v1", "v1beta2"), "ocirepositories", crd=True),
    Resource("HelmRepository", "source.toolkit.fluxcd.io", ("v1", "v1beta2"), "helmrepositories", crd=True),
)
MAX_XRD_RESOURCES = 400  # claim and composite kinds listed per crawl: a bound on what one cluster's XRDs can ask


def crossplane_resources(objects: Iterable) -> list[Resource]:
    """The claim and composite kinds the cluster's XRDs serve, to list after the XRDs themselves.

    Versions newest first (an XRD lists them oldest first); every one is a CRD
    Crossplane installs, so one not (yet) served is not a problem.
    """
    out: dict[tuple[str, str], Resource] = {}
    for obj in objects:
        spec = obj.spec
        if spec.get("crossplane") != "xrd" or not spec.get("group") or not spec.get("versions"):
            continue
        versions = tuple(reversed(spec["versions"]))
        for kind, plural in ((spec.get("claim_kind"), spec.get("claim_plural")), (spec.get("kind"), spec.get("plural"))):
            if kind and plural and "/" not in plural:
                out.setdefault((spec["group"], plural), Resource(kind, spec["group"], versions, plural, crd=True))
    return list(out.values())[:MAX_XRD_RESOURCES]


class _ClusterDown(Exception):
    """The cluster as a whole cannot be read (network, TLS, credentials, deadline)."""


class _ResourceFailed(Exception):
    """One resource cannot be read; fatal only when the resource is required."""


class _Absent(Exception):
    """The API server does not serve this group/version (404): a CRD that is not installed."""


class _Expired(Exception):
    """410 Gone: the continue token expired; the list must start again."""


class _ClusterAuth(httpx.Auth):
    """Bearer token (fixed, file or exec plugin) or basic auth; one retry after a 401
    with a fresh token, as client-go does when a plugin's credential was revoked early."""

    def __init__(self, tokens: BearerTokens, endpoint: Endpoint) -> None:
        self.tokens = tokens
        self.basic: str | None = None
        if endpoint.username and not (endpoint.token or endpoint.token_file or endpoint.exec):
            secrets.register(endpoint.password, users=(endpoint.username,))
            pair = f"{endpoint.username}:{endpoint.password or ''}".encode()
            self.basic = "Basic " + base64.b64encode(pair).decode("ascii")

    def _apply(self, request: httpx.Request) -> None:
        token = self.tokens.token()
        if token:
            request.headers["Authorization"] = f"Bearer {token}"
        elif self.basic is not None:
            request.headers["Authorization"] = self.basic

    def auth_flow(self, request: httpx.Request):
        self._apply(request)
        response = yield request
        if response.status_code == 401 and self.tokens.refreshable:
            self.tokens.invalidate()
            self._apply(request)
            yield request


class KubernetesSource:
    """One live cluster: a ClusterSource over the Kubernetes API."""

    def __init__(
        self,
        cluster: str,
        environment: str,
        endpoint: Callable[[], Endpoint],
        *,
        namespaces: Iterable[str] = (),
        exclude_namespaces: Iterable[str] = (),
        page_size: int = 500,
        connect_timeout: float = 5.0,
        request_timeout: float = 30.0,
        deadline: float = 300.0,
        exec_timeout: float = 60.0,
        resources: tuple[Resource, ...] = RESOURCES,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.cluster = cluster
        self.environment = environment
        self._endpoint = endpoint
        self.namespaces = list(namespaces)
        self.exclude_namespaces = list(exclude_namespaces)
        self.page_size = page_size
        self.connect_timeout = connect_timeout
        self.request_timeout = request_timeout
        self.deadline = deadline
        self.exec_timeout = exec_timeout
        self.resources = resources
        self._now = now
        # Kept across crawls so an exec credential is reused until it expires.
        self._plugins: dict[ExecConfig, ExecPlugin] = {}

    @classmethod
    def from_config(cls, cfg: LiveCluster, resolve: Callable[[Path], Path] = lambda p: p) -> KubernetesSource:
        if cfg.in_cluster is not None:
            ic = cfg.in_cluster

            def endpoint() -> Endpoint:
                return in_cluster_endpoint(resolve(ic.token_path), resolve(ic.ca_path), ic.host, ic.port)
        else:
            paths = [resolve(cfg.kubeconfig.expanduser())] if cfg.kubeconfig is not None else None

            def endpoint() -> Endpoint:
                # $KUBECONFIG / ~ are read at crawl time, never at import or config load.
                return load_kubeconfig(paths or default_kubeconfig_paths(), cfg.context)

        return cls(
            cfg.cluster, cfg.environment, endpoint,
            namespaces=cfg.namespaces, exclude_namespaces=cfg.exclude_namespaces, page_size=cfg.page_size,
            connect_timeout=cfg.connect_timeout_seconds, request_timeout=cfg.request_timeout_seconds,
            deadline=cfg.deadline_seconds, exec_timeout=cfg.exec_timeout_seconds,
        )

    # ------------------------------------------------------------------ crawl

    def crawl(self) -> ClusterCrawl:
        started = self._now()
        try:
            endpoint = self._endpoint()
            plugin = self._plugin(endpoint)
            # A plugin may hand out a client certificate, which must be in the TLS context up front.
            credential = plugin.credential() if plugin is not None else None
            context = ssl_context(endpoint, credential)
            tokens = BearerTokens(endpoint, plugin)
        except KubeconfigError as exc:
            return self._failed(str(exc))
        try:
            with httpx.Client(
                base_url=endpoint.server,
                timeout=httpx.Timeout(self.request_timeout, connect=self.connect_timeout),
                verify=context,
                auth=_ClusterAuth(tokens, endpoint),
                proxy=endpoint.proxy_url,
                headers={"Accept": "application/json", "User-Agent": USER_AGENT},
                follow_redirects=False,
            ) as client:
                session = _Session(client, endpoint, self.request_timeout, time.monotonic() + self.deadline, self.deadline)
                inventory, partial = self._crawl_resources(session)
        except _ClusterDown as exc:
            return self._failed(str(exc))
        except KubeconfigError as exc:  # a plugin re-run (expired credential) failed mid-crawl
            return self._failed(str(exc))
        log.info(
            "cluster %s: %d workloads, %d objects, %d replica sets%s", self.cluster, len(inventory.workloads),
            len(inventory.objects), len(inventory.replica_sets), f" (partial: {len(partial)} unreadable)" if partial else "",
        )
        return ClusterCrawl(self.cluster, self.environment, inventory, None, started, partial=partial)

    def _plugin(self, endpoint: Endpoint) -> ExecPlugin | None:
        if endpoint.exec is None:
            return None
        plugin = self._plugins.get(endpoint.exec)
        if plugin is None:
            plugin = ExecPlugin(endpoint.exec, _cluster_info(endpoint), timeout=self.exec_timeout, now=self._now)
            self._plugins = {endpoint.exec: plugin}
        return plugin

    def _failed(self, reason: str) -> ClusterCrawl:
        log.warning("cluster %s not crawled: %s", self.cluster, reason)
        return ClusterCrawl(self.cluster, self.environment, K8sInventory(), reason, None)

    def _crawl_resources(self, session: _Session) -> tuple[K8sInventory, list[str]]:
        inventory = K8sInventory()
        partial: list[str] = []
        for resource in self.resources:
            self._crawl_resource(session, resource, inventory, partial)
        for resource in crossplane_resources(inventory.objects):
            self._crawl_resource(session, resource, inventory, partial)
        return inventory, partial

    def _crawl_resource(self, session: _Session, resource: Resource, inventory: K8sInventory, partial: list[str]) -> None:
        try:
            part = self._list_resource(session, resource)
        except _Absent:
            if resource.required:
                raise _ClusterDown(
                    f"{resource.label} not found (404): is {session.server} a Kubernetes API server?"
                ) from None
            if not resource.crd:
                reason = f"{resource.label}: not served by this API server (tried {', '.join(resource.versions)})"
                partial.append(reason)
                inventory.problems.append(Problem(resource.label, reason))
            return
        except _ResourceFailed as exc:
            if resource.required:
                raise _ClusterDown(f"{resource.label}: {exc}") from None
            partial.append(f"{resource.label}: {exc}")
            inventory.problems.append(Problem(resource.label, f"{exc}; not used this run"))
            inventory.unreadable[resource.kind] = str(exc)
            return
        inventory.workloads.extend(part.workloads)
        inventory.objects.extend(part.objects)
        inventory.replica_sets.extend(part.replica_sets)
        inventory.problems.extend(part.problems)
        inventory.custom_objects.extend(part.custom_objects)
        inventory.gitops.extend(part.gitops)

    def _list_resource(self, session: _Session, resource: Resource) -> K8sInventory:
        """Every object of one resource, trying its versions newest first."""
        for version in resource.versions:
            try:
                if not self.namespaces:
                    return self._list(session, resource, version, None)
                merged = K8sInventory()
                for namespace in self.namespaces:
                    part = self._list(session, resource, version, namespace)
                    merged.workloads.extend(part.workloads)
                    merged.objects.extend(part.objects)
                    merged.replica_sets.extend(part.replica_sets)
                    merged.problems.extend(part.problems)
                    merged.custom_objects.extend(part.custom_objects)
                    merged.gitops.extend(part.gitops)
                return merged
            except _Absent:
                continue
        raise _Absent()

    def _list(self, session: _Session, resource: Resource, version: str, namespace: str | None) -> K8sInventory:
        path = resource.path(version, namespace)
        api_version = resource.api_version(version)
        label = f"{api_version} {resource.plural}"
        for _ in range(MAX_LIST_RESTARTS + 1):
            # Pages are parsed as they arrive (memory stays one page of JSON),
            # and thrown away together if the list has to start again.
            part = K8sInventory()
            token: str | None = None
            try:
                while True:
                    params: dict[str, str | int] = {"limit": self.page_size}
                    if token:
                        params["continue"] = token
                    page = session.list_page(path, params)
                    items = [item for item in page["items"] if self._wanted(item)]
                    for item in items:
                        if isinstance(item, dict):
                            item.setdefault("kind", resource.kind)
                            item.setdefault("apiVersion", api_version)
                    found = parse_k8s_documents(items, label, cluster=self.cluster, environment=self.environment)
                    part.workloads.extend(found.workloads)
                    part.objects.extend(found.objects)
                    part.replica_sets.extend(found.replica_sets)
                    part.problems.extend(found.problems)
                    part.custom_objects.extend(found.custom_objects)
                    part.gitops.extend(found.gitops)
                    token = page["metadata"].get("continue") or None
                    if not token:
                        return part
            except _Expired:
                continue
        raise _ResourceFailed(
            f"the list changed faster than it could be paged (continue token expired {MAX_LIST_RESTARTS + 1} times)"
        )

    def _wanted(self, item: object) -> bool:
        if not self.exclude_namespaces or not isinstance(item, dict):
            return True
        metadata = item.get("metadata")
        namespace = metadata.get("namespace") if isinstance(metadata, dict) else None
        return not (isinstance(namespace, str) and any(fnmatch.fnmatchcase(namespace, p) for p in self.exclude_namespaces))


def _cluster_info(endpoint: Endpoint) -> dict:
    """`spec.cluster` for plugins with provideClusterInfo (client.authentication.k8s.io Cluster)."""
    info: dict = {"server": endpoint.server}
    if endpoint.tls_server_name:
        info["tls-server-name"] = endpoint.tls_server_name
    if endpoint.insecure:
        info["insecure-skip-tls-verify"] = True
    ca = endpoint.ca_data
    if ca is None and endpoint.ca_file is not None:
        try:
            ca = endpoint.ca_file.read_bytes()
        except OSError:
            ca = None
    if ca is not None:
        info["certificate-authority-data"] = base64.b64encode(ca).decode("ascii")
    if endpoint.proxy_url:
        info["proxy-url"] = endpoint.proxy_url
    return info


class _Session:
    """GETs against one API server, with the deadline, size cap and error grading applied."""

    def __init__(self, client: httpx.Client, endpoint: Endpoint, timeout: float, deadline: float, budget: float) -> None:
        self.client = client
        self.server = endpoint.server
        self.timeout = timeout
        self.deadline = deadline
        self.budget = budget
        self.extensions = {"sni_hostname": endpoint.tls_server_name} if endpoint.tls_server_name else {}

    def list_page(self, path: str, params: dict) -> dict:
        for attempt in range(RETRIES + 1):
            self._check_deadline()
            status, body, retry_after = self._get(path, params)
            if status == 200:
                return self._decode_list(body)
            if status in RETRY_STATUSES and attempt < RETRIES:
                pause = min(retry_after if retry_after is not None else 0.2 * 2**attempt, 2.0)
                if time.monotonic() + pause < self.deadline:
                    time.sleep(pause)
                    continue
            if status == 404:
                raise _Absent()
            if status == 410:
                raise _Expired()
            if status == 401:
                raise _ClusterDown(f"unauthorized (401): the API server at {self.server} rejected the credentials")
            message = _status_message(body)
            if status == 403:
                raise _ResourceFailed(f"forbidden (403){message}")
            raise _ResourceFailed(f"HTTP {status} from the API server{message}")
        raise AssertionError("the last attempt always returns or raises")

    def _check_deadline(self) -> None:
        if time.monotonic() > self.deadline:
            raise _ClusterDown(f"crawl did not finish within its {self.budget:g} s deadline")

    def _get(self, path: str, params: dict) -> tuple[int, bytes, float | None]:
        what = path.rsplit("/", 1)[-1]
        try:
            with self.client.stream("GET", path, params=params, extensions=self.extensions) as response:
                limit = MAX_RESPONSE_BYTES if response.status_code == 200 else 65_536
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > limit:
                        if response.status_code != 200:
                            break
                        raise _ResourceFailed(f"response larger than {MAX_RESPONSE_BYTES // 2**20} MiB")
                    self._check_deadline()
                return response.status_code, bytes(body), _retry_after(response.headers.get("Retry-After"))
        except httpx.TimeoutException as exc:
            phase = "connecting to" if isinstance(exc, httpx.ConnectTimeout) else "waiting for"
            raise _ClusterDown(f"timed out {phase} {self.server} ({what}, {self.timeout:g} s timeout)") from None
        except httpx.ConnectError as exc:
            raise _ClusterDown(f"cannot connect to {self.server}: {_transport_reason(exc)}") from None
        except httpx.RemoteProtocolError as exc:
            raise _ResourceFailed(f"response cut off or malformed ({_transport_reason(exc)})") from None
        except httpx.DecodingError:
            raise _ResourceFailed("response body could not be decoded (bad gzip or charset)") from None
        except httpx.TransportError as exc:
            raise _ClusterDown(f"connection to {self.server} failed: {_transport_reason(exc)}") from None

    @staticmethod
    def _decode_list(body: bytes) -> dict:
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            raise _ResourceFailed("response is not valid JSON (cut off, or not a Kubernetes API server?)") from None
        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            raise _ResourceFailed("response is not a Kubernetes List (no `items`)")
        metadata = data.get("metadata")
        if metadata is None:
            data["metadata"] = {}
        elif not isinstance(metadata, dict):
            raise _ResourceFailed("response is not a Kubernetes List (`metadata` is not a mapping)")
        return data


def _status_message(body: bytes) -> str:
    """The API server's own explanation (a `Status` object), short, or nothing."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return ""
    message = data.get("message") if isinstance(data, dict) else None
    # The server's words, redacted: a proxy's error page may repeat our Authorization header.
    # Redact before cutting: a cut could leave half a token behind.
    return f": {secrets.redact(' '.join(str(message).split()))[:300]}" if message else ""


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _transport_reason(exc: Exception) -> str:
    text = re.sub(r"\s*\(_ssl\.c:\d+\)", "", " ".join(str(exc).split())) or type(exc).__name__
    if "CERTIFICATE_VERIFY_FAILED" in text:
        detail = text.split("certificate verify failed:", 1)[-1].strip(" .")
        return f"TLS: the server's certificate is not trusted ({detail})"
    if "CERTIFICATE_REQUIRED" in text:
        return "TLS: the server requires a client certificate and none was accepted"
    return text[:300]
