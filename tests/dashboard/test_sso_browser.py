"""`scorecard serve` behind single sign-on, in headless Chromium, against a loopback OIDC provider.

Everything is real but the identity provider (tests/fakes/oidc_server.py):
the `scorecard serve` command as an operator runs it, Streamlit's own
``st.login`` / Authlib, the browser following the redirects, the cookie.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipelines import sso
from tests.dashboard.test_dashboard_browser import CHROMIUM, CHROMIUM_ARGS, VIEWPORT
from tests.fakes.oidc_server import FakeOidc
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "platform-scorecard"
CLIENT_SECRET = "fake-client-secret-6c1d0e9f8a7b6c5d4e3f"
COOKIE_SECRET = "fake-cookie-secret-" + "5e" * 24

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install -y chromium)"),
]


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _proc_text(pid: int, what: str) -> str:
    try:
        return Path(f"/proc/{pid}/{what}").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


@dataclass
class Served:
    url: str
    provider: FakeOidc
    proc: subprocess.Popen
    log: Path
    team: str
    other_teams: list[str]
    argv: str = ""  # every process's command line, read while they ran
    environ: str = ""  # the dashboard process's environment
    secrets_path: Path | None = None


@pytest.fixture(scope="module")
def served(built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    team = built.regression.team
    teams = sorted(built.at("services")["team"].dropna().unique())
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    provider = FakeOidc(
        CLIENT_ID, CLIENT_SECRET, [f"{url}/oauth2callback"],
        user={"sub": "u-42", "name": "Ada Lovelace", "email": "ada@example.com", "groups": [team, "everyone"]},
        claim_scopes={"groups": "groups"},  # as Dex does: SCORECARD_OIDC_SCOPES must reach the provider
    ).start()
    env = {
        **os.environ,
        sso.ISSUER: provider.issuer,
        sso.CLIENT_ID: CLIENT_ID,
        sso.CLIENT_SECRET: CLIENT_SECRET,
        sso.REDIRECT_URI: f"{url}/oauth2callback",
        sso.COOKIE_SECRET: COOKIE_SECRET,
        sso.TEAM_CLAIM: "groups",
        sso.SCOPES: "openid email profile groups",
    }
    env.pop(sso.ADMIN_TEAMS, None)
    log = tmp_path_factory.mktemp("sso") / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pipelines.cli", "serve", "--snapshot", str(built.serving), "--port", str(port)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    result = Served(url, provider, proc, log, team, [t for t in teams if t != team])
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, f"scorecard serve exited with {proc.returncode}: {log.read_text()}"
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline, "the dashboard never became healthy"
                time.sleep(0.3)
        dashboard = _children(proc.pid)
        result.argv = " ".join(_proc_text(pid, "cmdline") for pid in [proc.pid, *dashboard])
        result.environ = " ".join(_proc_text(pid, "environ") for pid in dashboard)
        found = re.search(r"--secrets\.files (\S+)", result.argv)
        result.secrets_path = Path(found.group(1)) if found else None
        yield result
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                for pid in _children(proc.pid):
                    os.kill(pid, signal.SIGKILL)
                proc.kill()
                proc.wait(timeout=10)
        provider.stop()


@pytest.fixture(scope="module")
def browser(served: Served):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _settled(page) -> None:
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=30_000)
    page.wait_for_timeout(500)


def _login_screen(page) -> None:
    page.get_by_role("button", name="Log in").wait_for(timeout=30_000)
    _settled(page)


def test_sign_in_team_scope_and_sign_out(served: Served, browser, built) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport=VIEWPORT)
    html: list[str] = []
    reg = built.regression

    # Not signed in: the login screen on every page, and nothing from the snapshot.
    for path in ("/", f"/teams?team={served.team}", f"/service?service={reg.service}"):
        page.goto(served.url + path)
        _login_screen(page)
        html.append(page.content())
        assert page.locator("[data-testid='stSidebar']").count() == 0
        for shown in ("Snapshot", "Golden-path adoption", served.team, reg.service):
            assert shown not in page.inner_text("body"), f"{shown!r} shown before sign-in on {path}"
    assert served.provider.logins == 0

    # Sign in: the provider signs Ada in and sends the browser back to the Adoption page.
    page.get_by_role("button", name="Log in").click()
    page.wait_for_selector("h1:has-text('Golden-path adoption')", timeout=30_000)
    _settled(page)
    assert served.provider.logins == 1
    sidebar = page.locator("[data-testid='stSidebar']")
    expect(sidebar.get_by_text("Signed in as Ada Lovelace")).to_be_visible()
    expect(sidebar.get_by_role("button", name="Log out")).to_be_visible()
    html.append(page.content())

    # The Teams page shows only Ada's team, even when the address asks for another.
    for path in ("/teams", f"/teams?team={served.other_teams[0]}"):
        page.goto(served.url + path)
        page.wait_for_selector("h1:has-text('Team scorecard')", timeout=30_000)
        _settled(page)
        expect(page.get_by_role("heading", name=f"Team {served.team}")).to_be_visible()
        main = page.locator("[data-testid='stMain']").inner_text()
        assert "Pick a team in the sidebar" not in main  # the all-teams overview
        html.append(page.content())
    sidebar.locator("[data-testid='stSelectbox']").filter(has_text="Team").click()
    options = page.locator("[role='option']")
    options.first.wait_for(timeout=10_000)
    assert options.all_inner_texts() == [served.team], "the team picker offers teams Ada is not in"
    page.keyboard.press("Escape")

    # Log out: the provider's end-session endpoint, then back to the login screen, which stays.
    sidebar.get_by_role("button", name="Log out").click()
    _login_screen(page)
    assert served.provider.logouts == 1
    page.goto(served.url + "/")
    _login_screen(page)
    assert "Signed in as" not in page.inner_text("body")
    html.append(page.content())
    page.close()

    for secret in (CLIENT_SECRET, COOKIE_SECRET):
        assert not any(secret in h for h in html), "a secret reached the page"
        assert secret not in served.argv, "a secret is on a command line"
        assert secret not in served.environ, "the dashboard process holds a secret in its environment"
    assert served.secrets_path is not None and served.secrets_path.exists()


def test_stopping_the_server_removes_the_secrets_and_logged_none(served: Served, browser) -> None:
    # Runs after the sign-in test (file order): stop the real command as Kubernetes would.
    served.proc.send_signal(signal.SIGTERM)
    assert served.proc.wait(timeout=20) == 0
    assert served.secrets_path is not None and not served.secrets_path.parent.exists()
    log = served.log.read_text()
    assert "Dashboard: http://127.0.0.1:" in log and "sign-in through" in log
    assert CLIENT_SECRET not in log and COOKIE_SECRET not in log
