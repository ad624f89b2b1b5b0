"""Every way a kubeconfig (or a pod) authenticates, against a TLS fake API server."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import stat
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

from pipelines.config import InCluster, LiveCluster
from pipelines.sources.kubeconfig import (
    Endpoint,
    ExecConfig,
    ExecCredential,
    KubeconfigError,
    load_kubeconfig,
)
from pipelines.sources.kubernetes import KubernetesSource
from tests.fakes.k8s_server import PKI, FakeKubernetes, deployment

TOKEN = "k8s-bearer-6f1c0a5e-do-not-leak"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return PKI(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def server_cert(pki):
    return pki.issue("apiserver", hosts=("127.0.0.1", "localhost"))


@pytest.fixture(scope="module")
def client_cert(pki):
    return pki.issue("scorecard-reader", client=True)


def cluster_of(**kwargs) -> FakeKubernetes:
    return FakeKubernetes(**kwargs).add(deployment("payments", "payments"))


def write_kubeconfig(path: Path, server: str, cluster: dict | None = None, user: dict | None = None,
                     *, context: str = "prod", current: bool = True) -> Path:
    doc: dict = {
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": server, **(cluster or {})}}],
        "users": [{"name": "u", "user": user or {}}],
        "contexts": [{"name": context, "context": {"cluster": "c", "user": "u"}}],
    }  # fmt: skip
    if current:
        doc["current-context"] = context
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc))
    return path


def crawl(kubeconfig: Path, **kwargs):
    source = KubernetesSource.from_config(LiveCluster(cluster="prod-eu", kubeconfig=kubeconfig, **kwargs))
    return source.crawl()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def assert_ok(result) -> None:
    assert result.error is None, result.error
    assert [w.name for w in result.inventory.workloads] == ["payments"]


# ------------------------------------------------------------------ tokens


def test_bearer_token_with_a_ca_file_relative_to_the_kubeconfig(tmp_path, pki, server_cert):
    (tmp_path / "kube" / "certs").mkdir(parents=True)
    (tmp_path / "kube" / "certs" / "ca.crt").write_bytes(pki.ca_pem)
    with cluster_of(tokens={TOKEN}, tls=server_cert) as k8s:
        config = write_kubeconfig(tmp_path / "kube" / "config", k8s.url,
                                  {"certificate-authority": "certs/ca.crt"}, {"token": TOKEN})
        assert_ok(crawl(config))
    assert {r.token for r in k8s.requests} == {TOKEN}


def test_token_file_and_ca_data(tmp_path, pki, server_cert):
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    with cluster_of(tokens={TOKEN}, tls=server_cert) as k8s:
        config = write_kubeconfig(tmp_path / "config", k8s.url,
                                  {"certificate-authority-data": b64(pki.ca_pem)}, {"tokenFile": str(token_file)})
        assert_ok(crawl(config))


def test_a_rotated_token_file_is_read_again(tmp_path, pki, server_cert):
    token_file = tmp_path / "token"
    token_file.write_text("revoked-token")
    with cluster_of(tokens={TOKEN}, tls=server_cert) as k8s:
        config = write_kubeconfig(tmp_path / "config", k8s.url, {"certificate-authority": str(pki.ca)},
                                  {"tokenFile": str(token_file)})
        source = KubernetesSource.from_config(LiveCluster(cluster="prod-eu", kubeconfig=config))
        refused = source.crawl()
        assert refused.error == f"unauthorized (401): the API server at {k8s.url} rejected the credentials"
        token_file.write_text(TOKEN)
        assert_ok(source.crawl())


def test_basic_auth(tmp_path, pki, server_cert):
    with cluster_of(basic=("admin", "hunter2-basic"), tls=server_cert) as k8s:
        config = write_kubeconfig(tmp_path / "config", k8s.url, {"certificate-authority": str(pki.ca)},
                                  {"username": "admin", "password": "hunter2-basic"})
        assert_ok(crawl(config))
    assert {r.authorization for r in k8s.requests} == {"Basic"}


def test_a_wrong_token_is_a_readable_cluster_error_without_the_token(tmp_path, pki, server_cert):
    with cluster_of(tokens={"the-right-one"}, tls=server_cert) as k8s:
        config = write_kubeconfig(tmp_path / "config", k8s.url, {"certificate-authority": str(pki.ca)}, {"token": TOKEN})
        result = crawl(config)
    assert result.error.startswith("unauthorized (401)")
    assert TOKEN not in result.error


# ------------------------------------------------------- client certificates


def test_client_certificate_and_key_files(tmp_path, pki, server_cert, client_cert):
    with cluster_of(tls=server_cert, client_ca=pki.ca, require_client_cert=True) as k8s:
        config = write_kubeconfig(tmp_path / "config", k8s.url, {"certificate-authority": str(pki.ca)},
                                  {"client-certificate": str(client_cert.cert), "client-key": str(client_cert.key)})
        assert_ok(crawl(config))
    assert {r.client_cert for r in k8s.requests} == {"scorecard-reader"}
    assert {r.authorization for r in k8s.requests} == {None}


def test_client_certificate_and_key_data_leave_no_key_on_disk(tmp_path, pki, server_cert, client_cert, monkeypatch):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    with cluster_of(tls=server_cert, client_ca=pki.ca, require_client_cert=True) as k8s:
        config = write_kubeconfig(tmp_path / "config", k8s.url, {"certificate-authority-data": b64(pki.ca_pem)},
                                  {"client-certificate-data": b64(client_cert.cert_pem),
                                   "client-key-data": b64(client_cert.key_pem)})
        assert_ok(crawl(config))
    assert {r.client_cert for r in k8s.requests} == {"scorecard-reader"}
    assert list(scratch.iterdir()) == []  # the key's temporary copy is gone


def test_a_server_that_requires_a_client_certificate_refuses_a_token(tmp_path, pki, server_cert):
    with cluster_of(tokens={TOKEN}, tls=server_cert, client_ca=pki.ca, require_client_cert=True) as k8s:
        url = k8s.url
        config = write_kubeconfig(tmp_path / "config", url, {"certificate-authority": str(pki.ca)}, {"token": TOKEN})
        result = crawl(config)
    assert result.error is not None and url in result.error
    assert TOKEN not in result.error


def test_a_mismatched_client_key_is_a_readable_error(tmp_path, pki, server_cert, client_cert):
    other = pki.issue("someone-else", client=True)
    config = write_kubeconfig(tmp_path / "config", "https://127.0.0.1:1", {"certificate-authority": str(pki.ca)},
                              {"client-certificate": str(client_cert.cert), "client-key": str(other.key)})
    result = crawl(config)
    assert result.error.endswith("client certificate and key are not a matching PEM pair")
    assert other.key_pem.decode().splitlines()[1] not in result.error


# ------------------------------------------------------------ server trust


def test_an_untrusted_server_certificate_is_refused(tmp_path, server_cert):
    with cluster_of(tokens={TOKEN}, tls=server_cert) as k8s:
        url = k8s.url
        config = write_kubeconfig(tmp_path / "config", url, {}, {"token": TOKEN})  # system roots only
        result = crawl(config)
    assert result.error.startswith(f"cannot connect to {url}: TLS: the server's certificate is not trusted")


def test_insecure_skip_tls_verify(tmp_path, server_cert):
    with cluster_of(tokens={TOKEN}, tls=server_cert) as k8s:
        config = write_kubeconfig(tmp_path / "config", k8s.url, {"insecure-skip-tls-verify": True}, {"token": TOKEN})
        assert_ok(crawl(config))


def test_tls_server_name_verifies_against_another_name(tmp_path, pki):
    named = pki.issue("named-apiserver", hosts=("kubernetes.internal",))
    with cluster_of(tokens={TOKEN}, tls=named) as k8s:
        plain = write_kubeconfig(tmp_path / "a" / "config", k8s.url, {"certificate-authority": str(pki.ca)}, {"token": TOKEN})
        mismatch = crawl(plain)
        named_config = write_kubeconfig(tmp_path / "b" / "config", k8s.url,
                                        {"certificate-authority": str(pki.ca), "tls-server-name": "kubernetes.internal"},
                                        {"token": TOKEN})
        assert_ok(crawl(named_config))
    assert "not trusted" in mismatch.error and "127.0.0.1" in mismatch.error


# ------------------------------------------------------------ exec plugins


PLUGIN = """#!{python}
import json, os, pathlib, sys
state = pathlib.Path(os.environ["PLUGIN_STATE"])
info = json.loads(os.environ["KUBERNETES_EXEC_INFO"])
(state / "exec-info.json").write_text(json.dumps({{"info": info, "argv": sys.argv[1:]}}))
count = state / "count"
n = int(count.read_text()) + 1 if count.exists() else 1
count.write_text(str(n))
mode = (state / "mode").read_text().strip() if (state / "mode").exists() else "token"
if mode == "fail":
    print("exec-token-leaked-on-stdout")
    print("error: refresh token has expired; run `az login`", file=sys.stderr)
    sys.exit(3)
if mode == "garbage":
    print("Please open https://login.example.com/device and enter code ABCD")
    sys.exit(0)
status = {{}}
if mode == "cert":
    status["clientCertificateData"] = (state / "client.crt").read_text()
    status["clientKeyData"] = (state / "client.key").read_text()
else:
    status["token"] = "exec-token-%d" % n
if (state / "expiry").exists():
    status["expirationTimestamp"] = (state / "expiry").read_text().strip()
print(json.dumps({{"apiVersion": info["apiVersion"], "kind": "ExecCredential", "status": status}}))
"""


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def plugin(tmp_path):
    """A credential plugin script at bin/kube-login, its state directory, and a run counter."""
    bin_dir = tmp_path / "kube" / "bin"
    bin_dir.mkdir(parents=True)
    script = bin_dir / "kube-login"
    script.write_text(PLUGIN.format(python=sys.executable))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    state = tmp_path / "state"
    state.mkdir()

    class Plugin:
        def __init__(self) -> None:
            self.state = state

        @property
        def runs(self) -> int:
            count = state / "count"
            return int(count.read_text()) if count.exists() else 0

        def set(self, name: str, value: str) -> None:
            (state / name).write_text(value)

        def exec_info(self) -> dict:
            return json.loads((state / "exec-info.json").read_text())

    return Plugin()


def exec_user(state: Path, api_version: str = "client.authentication.k8s.io/v1", **extra) -> dict:
    user = {
        "apiVersion": api_version,
        "command": "bin/kube-login",  # relative: resolved against the kubeconfig's directory
        "args": ["--cluster", "prod-eu"],
        "env": [{"name": "PLUGIN_STATE", "value": str(state)}],
        "provideClusterInfo": True,
        **extra,
    }
    if api_version.endswith("/v1") and "interactiveMode" not in extra:
        user["interactiveMode"] = "Never"
    return {"exec": user}


def test_exec_plugin_credential_is_cached_until_it_expires(tmp_path, pki, server_cert, plugin):
    clock = Clock()
    plugin.set("expiry", (clock.now + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    with cluster_of(tokens={"exec-token-1", "exec-token-2"}, tls=server_cert) as k8s:
        url = k8s.url
        config = write_kubeconfig(tmp_path / "kube" / "config", url,
                                  {"certificate-authority": str(pki.ca)}, exec_user(plugin.state))
        source = KubernetesSource("prod-eu", "production", lambda: load_kubeconfig([config]), now=clock)
        assert_ok(source.crawl())
        assert_ok(source.crawl())
        assert plugin.runs == 1  # cached: not expired
        clock.now += dt.timedelta(hours=2)
        plugin.set("expiry", (clock.now + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"))
        assert_ok(source.crawl())
        assert plugin.runs == 2  # expired: the plugin ran again
    assert {r.token for r in k8s.requests} == {"exec-token-1", "exec-token-2"}
    sent = plugin.exec_info()
    assert sent["argv"] == ["--cluster", "prod-eu"]
    assert sent["info"]["apiVersion"] == "client.authentication.k8s.io/v1"
    assert sent["info"]["spec"]["interactive"] is False
    assert sent["info"]["spec"]["cluster"]["server"] == url
    assert base64.b64decode(sent["info"]["spec"]["cluster"]["certificate-authority-data"]) == pki.ca_pem


def test_exec_plugin_v1beta1_without_expiry_runs_once(tmp_path, pki, server_cert, plugin):
    with cluster_of(tokens={"exec-token-1"}, tls=server_cert) as k8s:
        config = write_kubeconfig(tmp_path / "kube" / "config", k8s.url, {"certificate-authority": str(pki.ca)},
                                  exec_user(plugin.state, "client.authentication.k8s.io/v1beta1"))
        source = KubernetesSource.from_config(LiveCluster(cluster="prod-eu", kubeconfig=config))
        assert_ok(source.crawl())
        assert_ok(source.crawl())
    assert plugin.runs == 1


def test_a_401_reruns_the_plugin_once(tmp_path, pki, server_cert, plugin):
    # The cached credential was revoked before its expiry: client-go re-runs the plugin.
    with cluster_of(tokens={"exec-token-2"}, tls=server_cert) as k8s:
        config = write_kubeconfig(tmp_path / "kube" / "config", k8s.url,
                                  {"certificate-authority": str(pki.ca)}, exec_user(plugin.state))
        assert_ok(crawl(config))
    assert plugin.runs == 2


def test_exec_plugin_can_hand_out_a_client_certificate(tmp_path, pki, server_cert, client_cert, plugin):
    plugin.set("mode", "cert")
    plugin.set("client.crt", client_cert.cert_pem.decode())
    plugin.set("client.key", client_cert.key_pem.decode())
    with cluster_of(tls=server_cert, client_ca=pki.ca, require_client_cert=True) as k8s:
        config = write_kubeconfig(tmp_path / "kube" / "config", k8s.url,
                                  {"certificate-authority": str(pki.ca)}, exec_user(plugin.state))
        assert_ok(crawl(config))
    assert {r.client_cert for r in k8s.requests} == {"scorecard-reader"}


def test_a_failing_plugin_reports_its_stderr_never_its_stdout(tmp_path, plugin):
    plugin.set("mode", "fail")
    config = write_kubeconfig(tmp_path / "kube" / "config", "https://127.0.0.1:1", {}, exec_user(plugin.state))
    result = crawl(config)
    assert result.error == (
        "exec plugin kube-login failed with exit code 3: error: refresh token has expired; run `az login`"
    )


def test_a_plugin_that_prints_no_credential(tmp_path, plugin):
    plugin.set("mode", "garbage")
    config = write_kubeconfig(tmp_path / "kube" / "config", "https://127.0.0.1:1", {}, exec_user(plugin.state))
    assert crawl(config).error == "exec plugin kube-login did not print an ExecCredential (not JSON)"


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        (exec_user(Path("/nowhere"), "client.authentication.k8s.io/v1alpha1"),
         "exec apiVersion 'client.authentication.k8s.io/v1alpha1' is not supported"),
        ({"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "kube-login"}},
         "exec.interactiveMode is required for client.authentication.k8s.io/v1"),
        (exec_user(Path("/nowhere"), interactiveMode="Always"), "needs an interactive terminal"),
        ({"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": "no-such-plugin-xyz",
                   "installHint": "install it with: brew install no-such-plugin"}},
         "exec plugin 'no-such-plugin-xyz' not found on PATH (install it with: brew install no-such-plugin)"),
        ({"auth-provider": {"name": "gcp", "config": {"access-token": TOKEN}}},
         "auth-provider 'gcp' was removed from Kubernetes clients"),
    ],
    ids=["v1alpha1", "v1-without-interactive-mode", "interactive-always", "not-installed", "auth-provider"],
)
def test_unusable_credential_settings_are_readable_errors(tmp_path, user, expected):
    config = write_kubeconfig(tmp_path / "config", "https://127.0.0.1:1", {}, user)
    result = crawl(config)
    assert expected in result.error
    assert TOKEN not in result.error


# ------------------------------------------------------------- in-cluster


def test_in_cluster_service_account(tmp_path, pki, server_cert, monkeypatch):
    sa = tmp_path / "serviceaccount"
    sa.mkdir()
    (sa / "token").write_text(TOKEN)
    (sa / "ca.crt").write_bytes(pki.ca_pem)
    with cluster_of(tokens={TOKEN}, tls=server_cert) as k8s:
        monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
        monkeypatch.setenv("KUBERNETES_SERVICE_PORT", k8s.url.rsplit(":", 1)[1])
        cfg = LiveCluster(cluster="self", in_cluster=InCluster(token_path=sa / "token", ca_path=sa / "ca.crt"))
        assert_ok(KubernetesSource.from_config(cfg).crawl())


def test_in_cluster_outside_a_pod_says_so(tmp_path, monkeypatch):
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    cfg = LiveCluster(cluster="self", in_cluster=InCluster(token_path=tmp_path / "token", ca_path=tmp_path / "ca.crt"))
    assert "KUBERNETES_SERVICE_HOST / KUBERNETES_SERVICE_PORT are not set" in KubernetesSource.from_config(cfg).crawl().error


# --------------------------------------------------------- kubeconfig files


def test_kubeconfig_env_list_is_merged_first_file_wins(tmp_path, pki, server_cert, monkeypatch):
    with cluster_of(tokens={TOKEN}, tls=server_cert) as k8s:
        first = write_kubeconfig(tmp_path / "a.yaml", k8s.url, {"certificate-authority": str(pki.ca)}, {"token": TOKEN},
                                 context="prod")
        second = write_kubeconfig(tmp_path / "b.yaml", "https://127.0.0.1:1", {}, {"token": "wrong"}, context="other")
        monkeypatch.setenv("KUBECONFIG", os.pathsep.join([str(tmp_path / "missing.yaml"), str(first), str(second)]))
        assert_ok(KubernetesSource.from_config(LiveCluster(cluster="prod-eu")).crawl())  # current-context of a.yaml
        other = KubernetesSource.from_config(LiveCluster(cluster="prod-eu", context="other")).crawl()
    # `other` names cluster "c" and user "u", which a.yaml defined first.
    assert other.error is None


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        (lambda p: None, "kubeconfig {p} not found"),
        (lambda p: p.write_text("clusters: [\n"), "kubeconfig {p} is not valid YAML: line"),
        (lambda p: write_kubeconfig(p, "https://x", current=False), "has no current-context; set `context:`"),
        (lambda p: write_kubeconfig(p, "https://x", {"certificate-authority-data": "not base64!"}),
         "certificate-authority-data is not valid base64"),
        (lambda p: write_kubeconfig(p, "https://x", {"certificate-authority": "missing-ca.crt"}),
         "certificate-authority {d}/missing-ca.crt not found"),
        (lambda p: write_kubeconfig(p, "ftp://x"), "cluster server must be an http(s) URL"),
    ],
    ids=["missing", "bad-yaml", "no-current-context", "bad-base64", "missing-ca", "bad-server"],
)
def test_kubeconfig_problems_are_readable(tmp_path, setup, expected):
    path = tmp_path / "config"
    setup(path)
    result = crawl(path)
    assert expected.format(p=path, d=tmp_path) in result.error


def test_an_unknown_context_lists_the_known_ones(tmp_path):
    path = write_kubeconfig(tmp_path / "config", "https://x", context="prod")
    assert "has no context 'staging' (contexts: prod)" in crawl(path, context="staging").error


def test_credentials_never_show_in_repr():
    endpoint = Endpoint(server="https://x", source="t", token=TOKEN, password="hunter2-basic",
                        client_key_data=b"-----BEGIN PRIVATE KEY-----secret", client_cert_data=b"cert")
    credential = ExecCredential(token=TOKEN, client_key_data=b"-----BEGIN PRIVATE KEY-----secret")
    config = ExecConfig(api_version="client.authentication.k8s.io/v1", command="x", env=(("SECRET", TOKEN),))
    for text in (repr(endpoint), repr(credential), repr(config), str(KubeconfigError("x"))):
        assert TOKEN not in text and "hunter2" not in text and "PRIVATE KEY" not in text


def test_a_credential_that_looks_expired_on_arrival_is_still_used_briefly(tmp_path, pki, server_cert, plugin):
    # Clock skew between us and the issuer must not turn every request into a plugin run.
    clock = Clock()
    plugin.set("expiry", (clock.now - dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    with cluster_of(tokens={"exec-token-1"}, tls=server_cert) as k8s:
        config = write_kubeconfig(tmp_path / "kube" / "config", k8s.url,
                                  {"certificate-authority": str(pki.ca)}, exec_user(plugin.state))
        source = KubernetesSource("prod-eu", "production", lambda: load_kubeconfig([config]), now=clock)
        assert_ok(source.crawl())
    assert plugin.runs == 1


def test_a_kubeconfig_under_home_is_expanded(tmp_path, pki, server_cert, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    from pipelines.config import parse_config
    from pipelines.stages import cluster_sources

    with cluster_of(tokens={TOKEN}, tls=server_cert) as k8s:
        write_kubeconfig(tmp_path / ".kube" / "config", k8s.url, {"certificate-authority": str(pki.ca)}, {"token": TOKEN})
        config = parse_config({"sources": {"kubernetes": [{"cluster": "prod-eu", "kubeconfig": "~/.kube/config"}]}},
                              "scorecard.yaml", tmp_path / "elsewhere")
        (source,) = cluster_sources(config)
        assert_ok(source.crawl())
