"""report.html (analysis/report_html/, `run.py report`, written by every run): one self-contained
page with every section, every check failing first, figures with their text alternatives,
headings in order, and the same bytes for the same scenario and seed, however it was made.

The page in a real browser: tests/test_report_browser.py.
"""
from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path


from tests.conftest import DEV_SEED, run_cli, simulate

SECTIONS = ("summary", "validate", "figures", "personas", "churn", "whatif", "traces")
STATUS_ORDER = {"FAIL": 0, "READING": 1, "SKIP": 2, "PASS": 3}


class Page(HTMLParser):
    """What the tests read of a page: ids, headings, tables, images, links and the checks' rows."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.ids, self.headings, self.images, self.urls = [], [], [], []
        self.tables = []            # per table: [header cells in thead, body cells]
        self.check_rows = []        # (data-status, text of the status cell) of #checks
        self._stack, self._heading, self._table, self._in_checks, self._status_cell = [], None, None, False, None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.append(a["id"])
        for key in ("src", "href"):
            if key in a:
                self.urls.append(a[key])
        if re.fullmatch(r"h[1-6]", tag):
            self._heading = [int(tag[1]), ""]
        elif tag == "table":
            self._table = [0, 0]
            self.tables.append(self._table)
            self._in_checks = a.get("id") == "checks"
        elif tag == "th" and self._table is not None and "thead" in self._stack:
            self._table[0] += 1
        elif tag == "td" and self._table is not None:
            self._table[1] += 1
            if self._in_checks and "status" in (a.get("class") or ""):
                self._status_cell = ""
        elif tag == "tr" and self._in_checks and "data-status" in a:
            self.check_rows.append([a["data-status"], None])
        elif tag == "img":
            self.images.append(a)
        self._stack.append(tag)

    def handle_endtag(self, tag):
        if self._heading and tag == f"h{self._heading[0]}":
            self.headings.append(tuple(self._heading))
            self._heading = None
        if tag == "td" and self._status_cell is not None:
            self.check_rows[-1][1] = self._status_cell.strip()
            self._status_cell = None
        if tag == "table":
            self._table, self._in_checks = None, False
        while self._stack and self._stack.pop() != tag:
            pass

    def handle_data(self, data):
        if self._heading:
            self._heading[1] += data
        if self._status_cell is not None:
            self._status_cell += data


def read(folder: Path) -> tuple[str, Page]:
    text = (folder / "report.html").read_text(encoding="utf-8")
    return text, Page(text)


def test_a_run_writes_its_report_and_names_it_and_no_report_skips_it(tmp_path):
    code, out, err = run_cli("--mode", "dev", "--seed", DEV_SEED, "--out", tmp_path / "with", "--no-progress")
    assert code == 0, err
    assert (tmp_path / "with" / "report.html").is_file()
    assert re.search(r"report: .*with/report\.html \([\d.]+ MB", out), out
    code, out, err = run_cli("--mode", "dev", "--seed", DEV_SEED, "--out", tmp_path / "without", "--no-progress",
                             "--no-report")
    assert code == 0, err
    assert not (tmp_path / "without" / "report.html").exists()
    assert "report.html" not in out


def test_the_page_is_self_contained_with_every_section_in_order(dev_run):
    text, page = read(dev_run)
    positions = [page.ids.index(s) for s in SECTIONS]
    assert positions == sorted(positions), "the sections are not in their order"
    # nothing from elsewhere: every URL is a fragment or a data URI; no external style or script
    external = [u for u in page.urls if not u.startswith(("#", "data:"))]
    assert not external, external[:5]
    assert not re.search(r"<script[^>]+src=|<link[^>]+stylesheet|@import|url\(\s*['\"]?http", text)
    assert "http://" not in text and "https://" not in text.replace("http://www.w3.org", "")
    # the folder it was made in is named nowhere (the same bytes wherever it is)
    assert str(dev_run) not in text and str(dev_run.parent) not in text and ".tmp-" not in text


def test_the_page_is_accessible(dev_run):
    _, page = read(dev_run)
    levels = [level for level, _ in page.headings]
    assert levels[0] == 1 and levels.count(1) == 1, "one h1, first"
    for before, after in zip(levels, levels[1:]):
        assert after <= before + 1, f"a heading level skipped: h{before} then h{after}"
    assert all(text.strip() for _, text in page.headings)
    assert page.tables and all(headers > 0 for headers, _ in page.tables), "a table without header cells"
    assert len(page.images) >= 8
    for img in page.images:
        assert img.get("alt", "").strip(), f"an image without a text alternative: {img.get('src', '')[:60]}"
        assert img["src"].startswith(("data:image/svg+xml;base64,", "data:image/png;base64,"))
    # pass/fail is said in words (and a mark), never by colour alone
    assert page.check_rows and all(status == text for status, text in page.check_rows)


def test_every_check_is_listed_failing_first(dev_run, tmp_path):
    code, out, err = run_cli("validate", dev_run, "--json", "--no-report")
    results = json.loads(out)["results"]
    _, page = read(dev_run)
    assert len(page.check_rows) == len(results)
    assert sorted(s for s, _ in page.check_rows) == sorted(r["status"] for r in results)
    # a folder with a failing check: it is the first row, FAIL in words
    broken = tmp_path / "broken"
    shutil.copytree(dev_run, broken)
    path = broken / "tutor_profiles.csv"
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    row = lines[1].split(",")
    row[header.index("reliability_score")] = "1.7"
    path.write_text("\n".join([lines[0], ",".join(row), *lines[2:]]) + "\n")
    code, out, err = run_cli("report", broken)
    assert code == 0, err
    _, page = read(broken)
    statuses = [s for s, _ in page.check_rows]
    assert statuses[0] == "FAIL" and page.check_rows[0][1] == "FAIL"
    assert [STATUS_ORDER[s] for s in statuses] == sorted(STATUS_ORDER[s] for s in statuses)


def test_the_same_scenario_and_seed_give_the_same_bytes_however_made(dev_run, tmp_path):
    """One process or two, the run or `run.py report` afterwards: the same page."""
    again = simulate(tmp_path / "again", "--mode", "dev", "--seed", DEV_SEED, "--jobs", "1", report=True)
    made = (dev_run / "report.html").read_bytes()
    assert (again / "report.html").read_bytes() == made
    code, out, err = run_cli("report", again, "--jobs", "2")
    assert code == 0, err
    assert (again / "report.html").read_bytes() == made


def test_whatif_section_shows_a_compare_it_holds_and_otherwise_the_command(dev_run, tmp_path):
    _, page = read(dev_run)
    text = (dev_run / "report.html").read_text()
    whatif = text[text.index('id="whatif"'):text.index('id="traces"')]
    assert "python run.py compare" in whatif and "<table" not in whatif
    folder = tmp_path / "data"
    shutil.copytree(dev_run, folder)
    code, out, err = run_cli("compare", "scenarios/dev.toml", "scenarios/dev.toml", "-n", "2",
                             "--set", "tutors.count=12", "--set", "calendar.window_days=5",
                             "--out", folder / "compare", "--no-progress", timeout=600)
    assert code == 0, err
    code, out, err = run_cli("report", folder)
    assert code == 0, err
    text = (folder / "report.html").read_text()
    whatif = text[text.index('id="whatif"'):text.index('id="traces"')]
    outcomes = (folder / "compare" / "compare.csv").read_text().strip().splitlines()[1:]
    assert "DATA/compare" in whatif and whatif.count("<tr>") >= len(outcomes)
    assert "95% CI (paired)" in whatif and whatif.count("data:image/png;base64,") == 1
    # the compare folder itself is a report of its own: the what-if and nothing else to say
    code, out, err = run_cli("report", folder / "compare")
    assert code == 0, err
    _, page = read(folder / "compare")
    assert all(s in page.ids for s in SECTIONS)


def test_traces_show_the_telling_tutors_and_trace_html_writes_one_agents_page(dev_run, tmp_path):
    text, page = read(dev_run)
    traces = text[text.index('id="traces"'):]
    picked = re.findall(r'id="fig-trace-(T\d{4})"', traces)
    assert 1 <= len(picked) <= 3 and len(set(picked)) == len(picked)
    assert "python run.py trace" in traces
    tutor = picked[0]
    out_file = tmp_path / "t.html"
    code, out, err = run_cli("trace", tutor, dev_run, "--html", "--out", out_file)
    assert code == 0, err
    one = Page(out_file.read_text())
    assert {"agent", "timeline", "events"} <= set(one.ids)
    code, out, err = run_cli("trace", tutor, dev_run, "--json")
    events = len(out.splitlines())
    assert one.tables[-1][1] == events * 6, "the page lists every event the text trace lists"
    assert one.images and one.images[0]["alt"]


def test_bad_folder_is_one_line(tmp_path):
    code, out, err = run_cli("report", tmp_path / "missing")
    assert code == 2 and err.count("\n") == 1 and "no such folder" in err


def test_production_report_is_under_five_megabytes(production_run):
    size = (production_run / "report.html").stat().st_size
    assert 100_000 < size < 5_000_000, size
