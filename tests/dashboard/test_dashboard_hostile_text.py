"""Repository text is shown as text: a hostile catalog entry makes no viewer's browser fetch anything.

An attacker who can commit to one repository writes Markdown and HTML into a
component's `spec.system`, `spec.type`, `spec.lifecycle`, `spec.owner`,
CODEOWNERS and a container image name, pointing at a loopback server that
records every request. The real pipeline scores it, the real app serves it,
headless Chromium opens every page: the server must see no request, the page
no image or link to it, and the text must still be readable on the page.
"""

from __future__ import annotations

import datetime as dt
import http.server
import os
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dashboard.test_dashboard_browser import CHROMIUM, CHROMIUM_ARGS, VIEWPORT, _open, _wait_healthy
from tests.gitrepo import commit, init
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install -y chromium)"),
]


class _Recorder(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args) -> None:
        return


@pytest.fixture(scope="module")
def recorder() -> Iterator[tuple[str, list[str]]]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}", _Recorder.requests
    finally:
        server.shutdown()


def hostile(host: str, tag: str) -> str:
    # An image, a link, raw HTML, a bare URL (GFM autolinks it), a scheme-relative-ish URL and KaTeX.
    return (f"![{tag}](http://{host}/{tag}.png) [{tag}-link](http://{host}/{tag}-link) "
            f"<img src='http://{host}/{tag}-html.png'> http://{host}/{tag}-auto www.example.com "
            f"$\\href{{http://{host}/{tag}-tex}}{{x}}$ <a href=http://{host}/{tag}-a>a</a> &#60;b&#62;")


@pytest.fixture(scope="module")
def hostile_org(tmp_path_factory, recorder) -> tuple[Path, str]:
    from pipelines.cli import run_job

    host, _ = recorder
    root = tmp_path_factory.mktemp("hostile")
    repo = init(root / "repos" / "evil")
    # YAML single quotes: no escapes inside, a quote is doubled.
    fields = {name: "'" + hostile(host, name).replace("'", "''") + "'"
              for name in ("type", "owner", "lifecycle", "system", "description")}
    image = "'registry.example.com/x/" + hostile(host, "image").replace("'", "''") + ":latest'"
    commit(repo, {
        "catalog-info.yaml": (
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: evil-svc\n"
            f"  description: {fields['description']}\n"
            f"spec:\n  type: {fields['type']}\n  owner: {fields['owner']}\n"
            f"  lifecycle: {fields['lifecycle']}\n  system: {fields['system']}\n"),
        "deploy/deployment.yaml": (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: evil-svc, labels: {app: evil-svc}}\n"
            "spec:\n  replicas: 1\n  selector: {matchLabels: {app: evil-svc}}\n  template:\n"
            "    metadata: {labels: {app: evil-svc}}\n    spec:\n      containers:\n        - name: app\n"
            f"          image: {image}\n"),
        "CODEOWNERS": f"* @acme/{hostile(host, 'codeowners').split()[0]}\n",
        "README.md": "# evil\n",
    }, when=dt.datetime.now(dt.UTC) - dt.timedelta(days=3))
    # A missing deploy log's path is echoed in its error on the data-freshness panel.
    cfg = root / "scorecard.yaml"
    cfg.write_text("sources:\n  repos: [{root: repos}]\n  delivery:\n"
                   f"    deployments: [\"events/![d](http:/{host}/deploys.png)\"]\n")
    os.environ.pop("DAGSTER_HOME", None)
    assert run_job(cfg, dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1), kind="backfill").success
    assert run_job(cfg).success
    return root / "serving" / "scorecard.duckdb", host


@pytest.fixture(scope="module")
def app_url(hostile_org, tmp_path_factory) -> Iterator[str]:
    serving, _ = hostile_org
    port = free_port()
    log = tmp_path_factory.mktemp("logs") / "streamlit.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "dashboard/app.py", "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env={**os.environ, "SCORECARD_SNAPSHOT": str(serving)}, stdout=out, stderr=subprocess.STDOUT,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_healthy(url, proc)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def _team(serving: Path) -> str:
    import duckdb

    con = duckdb.connect(str(serving), read_only=True)
    try:
        return con.execute("SELECT team FROM services WHERE service = 'evil-svc' ORDER BY snapshot DESC").fetchone()[0]
    finally:
        con.close()


def test_no_page_makes_the_browser_fetch_or_link_what_a_repository_wrote(hostile_org, app_url, recorder):
    from playwright.sync_api import sync_playwright

    serving, host = hostile_org
    _, requests = recorder
    team = urllib.parse.quote(_team(serving))
    pages = ["/", f"/teams?team={team}", "/teams", "/service?service=evil-svc",
             "/checks?check=no_latest_image_tags", "/checks?check=has_lifecycle", "/compare"]
    shown: dict[str, str] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            for path in pages:
                _open(page, app_url + path)
                page.wait_for_timeout(1500)  # charts draw, and any image or prefetch would fire
                assert page.locator("[data-testid='stException']").count() == 0, f"{path} shows an exception"
                for selector in (f"img[src*='{host}']", f"a[href*='{host}']", "a[href*='www.example.com']",
                                 f"iframe[src*='{host}']", f"[*|href*='{host}']"):
                    assert page.locator(selector).count() == 0, f"{path}: {selector}"
                shown[path] = page.locator("[data-testid='stMain']").inner_text()
        finally:
            browser.close()
    assert requests == [], f"the browser fetched what a repository wrote: {requests}"
    # ... and the text is still there for a person to read.
    service_page = shown["/service?service=evil-svc"].replace("\u2060", "")  # the word joiners that stop autolinks
    assert f"![system](http://{host}/system.png)" in service_page
    assert f"<img src='http://{host}/image-html.png'>" in service_page
    assert "![d](http:/" in shown["/"].replace("\u2060", "")  # the deploy log's error on the data-freshness panel
