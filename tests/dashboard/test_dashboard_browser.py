"""The real app in headless Chromium: what a person sees, plus a screenshot of every page.

Screenshots land in ``data/screenshots/`` (git-ignored) so a reviewer can
look at them. Streamlit scrolls inside its own container, so a page longer
than the viewport is captured as ``<page>.png``, ``<page>-2.png``, ...
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "data" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1400, "height": 2100}


def pages(built) -> list[tuple[str, str, int]]:
    """Page name, path, and the Plotly charts it draws with the built history (every chart has data)."""
    reg = built.regression
    return [
        ("adoption", "/", 4),
        ("teams", f"/teams?team={reg.team}", 2),
        ("service", f"/service?service={reg.service}", 1),
        ("checks", "/checks", 1),
        ("compare", "/compare", 1),
    ]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install -y chromium)"),
]


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 45) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"streamlit did not become healthy at {url}")


@pytest.fixture(scope="module")
def base_url(built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("logs") / "streamlit.log"
    env = {**os.environ, "SCORECARD_SNAPSHOT": str(built.serving)}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "streamlit", "run", "dashboard/app.py",
                "--server.headless", "true",
                "--server.port", str(port),
                "--server.address", "127.0.0.1",
                "--browser.gatherUsageStats", "false",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
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


@pytest.fixture(scope="module")
def browser_page(base_url: str):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            yield page
        finally:
            browser.close()


def _open(page, url: str, charts: int = 0) -> None:
    page.goto(url)
    page.wait_for_selector("h1", timeout=30_000)
    # The status widget shows while the script runs; charts draw after it.
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=30_000)
    if charts:
        page.wait_for_function(
            f"() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= {charts}", timeout=30_000
        )
    page.wait_for_timeout(500)


def test_service_page_shows_the_remediation_hint(browser_page, base_url: str, built) -> None:
    from playwright.sync_api import expect

    reg = built.regression
    results = built.at("check_results", service=reg.service).set_index("check_id")
    snippet = results.loc[built.blockers(service=reg.service)["check_id"], "snippet"].dropna().iloc[0]
    _open(browser_page, f"{base_url}/service?service={reg.service}", charts=1)
    expect(browser_page.get_by_text(f"Needed for {reg.next_level.title()}")).to_be_visible()
    # Code spans render as code: the words are on the page without their backticks.
    expect(browser_page.get_by_text(reg.remediation.replace("`", ""))).to_be_visible()
    expect(browser_page.get_by_text(snippet.strip().splitlines()[-1].strip()).first).to_be_visible()


def test_filters_carry_across_pages_in_the_url(browser_page, base_url: str, built) -> None:
    team = built.regression.team
    _open(browser_page, f"{base_url}/teams?team={team}&category=reliability", charts=2)
    browser_page.locator("[data-testid='stSidebarNav'] a", has_text="Checks").click()
    browser_page.wait_for_selector("h1:has-text('Check catalogue')", timeout=30_000)
    browser_page.wait_for_function(f"() => location.search.includes('team={team}')", timeout=10_000)
    href = browser_page.evaluate("location.href")
    assert "/checks" in href and "category=reliability" in href


def test_screenshot_every_page(browser_page, base_url: str, built) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, path, charts in pages(built):
        for old in SCREENSHOTS.glob(f"{name}*.png"):
            old.unlink()
        _open(browser_page, base_url + path, charts)
        assert browser_page.locator("[data-testid='stException']").count() == 0, f"{name} shows an exception"
        browser_page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
        total = browser_page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
        step = VIEWPORT["height"] - 200
        for part, offset in enumerate(range(step, total - 200, step), start=2):
            browser_page.evaluate(f"document.querySelector('[data-testid=\"stMain\"]').scrollTo(0, {offset})")
            browser_page.wait_for_timeout(300)
            browser_page.screenshot(path=str(SCREENSHOTS / f"{name}-{part}.png"))
        assert (SCREENSHOTS / f"{name}.png").stat().st_size > 20_000, f"{name} screenshot looks blank"
