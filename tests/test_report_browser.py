"""The production report in a real browser: Chromium from the system's packages (.ci/chromium,
TUTORSIM_CHROMIUM), driven by Playwright (executable_path; Playwright's own browser downloads are
never used). The page loads with no console error and no request beyond itself, every section is
there, every figure is decoded and drawn at a non-zero size, the checks' filter works, and with
scripts off every check is still listed.

Locally, without Chromium or Playwright, the test skips and says why; under CI=true (.ci/run
installs Chromium) a missing one fails it instead.
"""
from __future__ import annotations

import importlib.util
import os
import shutil

import pytest

from tests.test_report_html import SECTIONS

CHROMIUM = os.environ.get("TUTORSIM_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
HAVE_PLAYWRIGHT = importlib.util.find_spec("playwright") is not None
NO_BROWSER = ("no Chromium to test the HTML report in (.ci/chromium installs it: apt-get install chromium; or set "
              "TUTORSIM_CHROMIUM to its executable)" if not CHROMIUM else
              "playwright is not installed (pip install -e '.[test]')")
READY = bool(CHROMIUM) and HAVE_PLAYWRIGHT
# Locally the browser test skips without Chromium; in CI (CI=true) .ci/run must have installed it,
# so a missing browser fails the test instead of letting it pass unseen.
needs_chromium = (pytest.mark.skipif(not READY, reason=NO_BROWSER) if os.environ.get("CI") != "true" else
                  pytest.mark.usefixtures("chromium_required"))


@pytest.fixture
def chromium_required():
    if not READY:
        pytest.fail(f"CI=true and {NO_BROWSER}")


def launch(playwright):
    """The system's Chromium, headless (no sandbox: CI runs as root)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])


@needs_chromium
def test_production_report_in_chromium(production_run, tmp_path):
    from playwright.sync_api import sync_playwright
    url = (production_run / "report.html").resolve().as_uri()
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            problems, requests = [], []
            page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(url, wait_until="load")
            assert not problems, problems
            beyond = [u for u in requests if u != url and not u.startswith("data:")]
            assert not beyond, f"the page asked for {beyond[:3]}"
            for sid in SECTIONS:
                assert page.locator(f"section#{sid}").count() == 1, sid
                assert page.locator(f"section#{sid} h2").first.is_visible()
            figures = page.locator("img.figure")
            assert figures.count() >= 8
            for i in range(figures.count()):
                img = figures.nth(i)
                img.scroll_into_view_if_needed()
                decoded = img.evaluate("i => i.complete && i.naturalWidth > 0 && i.naturalHeight > 0")
                box = img.bounding_box()
                what = img.get_attribute("alt")[:60]
                assert decoded, f"figure not decoded: {what}"
                assert box and box["width"] > 50 and box["height"] > 50, f"figure drawn at {box}: {what}"
            # the checks' filter: by status, then by text
            rows = page.locator("#checks tbody tr")
            total = rows.count()
            passed = page.locator('#checks tbody tr[data-status="PASS"]').count()
            assert page.locator("#check-filter").is_visible()
            page.select_option("#check-status", "PASS")
            assert page.locator("#checks tbody tr:visible").count() == passed
            page.select_option("#check-status", "")
            page.fill("#check-text", "churn_probability")
            shown = page.locator("#checks tbody tr:visible").count()
            assert 0 < shown < total
            assert f"{shown} of {total}" in page.locator("#check-count").inner_text()
            page.screenshot(path=str(tmp_path / "report.png"))
            # scripts off: the same page, every check listed, no filter to mislead
            quiet = browser.new_context(java_script_enabled=False).new_page()
            quiet.goto(url, wait_until="load")
            assert quiet.locator("#checks tbody tr:visible").count() == total
            assert not quiet.locator("#check-filter").is_visible()
            assert all(quiet.locator(f"section#{sid}").count() == 1 for sid in SECTIONS)
        finally:
            browser.close()
