"""`run.py report [DATA]`: the run's report as one self-contained HTML page, DATA/report.html
(analysis/report_html/). A run writes it too (unless --no-report); this makes it again from
what the folder holds: a run folder, a compare or sweep folder, or a folder holding them."""
from __future__ import annotations

import sys
from pathlib import Path

from analysis.cpus import default_jobs
from commands.cli import OneLineParser, positive_int


def main(argv: list[str]) -> int:
    p = OneLineParser(prog="run.py report",
                      description="Write DATA/report.html: one self-contained page (no network, readable with "
                                  "scripts off) with the run's summary, every validate check (failing first), the "
                                  "distributions against the spec's, the personas, churn and its model, what-ifs "
                                  "found in DATA, and a few tutors' timelines.")
    p.add_argument("data_dir", nargs="?", default="data", metavar="DATA",
                   help="a run folder, a compare or sweep folder, or a folder holding one (default: data)")
    p.add_argument("--jobs", type=positive_int, default=default_jobs(),
                   help="processes drawing the figures (default: %(default)s; the same page either way)")
    args = p.parse_args(argv)
    folder = Path(args.data_dir)
    if not folder.is_dir():
        sys.stderr.write(f"run.py report: error: {folder}: no such folder\n")
        return 2
    from analysis.report_html import write_report
    from analysis.validate import LoadError
    from output.reading import BadInput
    try:
        path = write_report(folder, args.jobs)
    except (LoadError, BadInput) as e:
        sys.stderr.write(f"run.py report: error: {e}\n")
        return 2
    except OSError as e:
        sys.stderr.write(f"run.py report: error: cannot write {folder}/report.html: {e.strerror or e}\n")
        return 2
    print(f"report: {path} ({path.stat().st_size / 1e6:.2f} MB)")
    return 0
