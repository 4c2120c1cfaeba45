#!/usr/bin/env python3
"""docs/report_screenshot.png: the top of the production report (DATA/report.html) in Chromium.

    .venv/bin/python docs/report_screenshot.py            # a production run (seed 42) in a temporary folder
    .venv/bin/python docs/report_screenshot.py DATA       # the report.html of a run folder already made

Chromium from the system's packages (bash .ci/chromium installs it and prints its path; or set
TUTORSIM_CHROMIUM), driven by Playwright as tests/test_report_browser.py drives it.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "report_screenshot.png"


def main(argv: list[str]) -> int:
    chromium = os.environ.get("TUTORSIM_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        sys.stderr.write("report_screenshot: no Chromium (bash .ci/chromium installs it)\n")
        return 2
    from playwright.sync_api import sync_playwright
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(argv[0]) if argv else Path(tmp) / "data"
        if not argv:
            subprocess.run([sys.executable, "run.py", "--no-progress", "--out", str(data)], cwd=ROOT, check=True,
                           stdout=subprocess.DEVNULL)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto((data / "report.html").resolve().as_uri(), wait_until="load")
            page.screenshot(path=str(OUT))
            browser.close()
    print(f"report_screenshot: {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
