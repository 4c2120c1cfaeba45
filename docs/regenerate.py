#!/usr/bin/env python3
"""Regenerate every page block of the manual that shows output, and the figures the pages show.

    .venv/bin/python docs/regenerate.py                  # everything (several minutes on two cores)
    .venv/bin/python docs/regenerate.py --only trace-example compare-no-show-wave
    .venv/bin/python docs/regenerate.py --check          # no runs: markers and links only
    .venv/bin/python docs/regenerate.py --list           # the blocks, their pages and commands

A page shows output only between two markers:

    <!-- generated: NAME -->
    ... written by this script, never by hand ...
    <!-- end generated -->

Everything outside the markers is hand-written and left as it is. Each block starts with a line
"Made by `COMMAND` at commit `SHA`" (SHA from `git rev-parse --short HEAD`, with "+ uncommitted
changes" when the code outside docs/ and README.md differs from that commit).

What it runs, in a temporary folder (nothing is written into the repository until every command
has succeeded; then the blocks and the figures are replaced together):

    run.py --out data                                    production scenario, seed 42
    run.py validate data                                 its table, report and figures
    run.py --seed N --out seedN, run.py validate --json  the other production seeds (1-9)
    run.py scenarios/churn_study.toml --seed N           the churn study (seeds 1-3)
    run.py trace T0073 data ...                          the trace example and its plot
    run.py compare production no_show_wave -n 3          the what-if example
    run.py churn data seed1 ... seed9                    churn by cause, production seeds pooled
    run.py scenarios/platform_1m.toml && run.py churn    churn by cause at platform scale
    run.py sweep ... --grid behaviour.quit_<cause>=...   one what-if per cause of churn (x4, -n 4)
    run.py sweep scenarios/email_frequency.toml ...      the email-frequency question

Figures copied: data/figures/*.png -> docs/validate/, the trace plot -> docs/trace_example.png,
compare.png -> docs/compare_no_show_wave.png. At the end every relative link and image of
README.md and docs/*.md, and every `folder/file` path they name outside code blocks, is checked
to exist (exit 1 if one does not).
"""
from __future__ import annotations

import argparse
import csv
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from regenerate_pages import DOCS, ROOT, check_links, check_markers, rewrite  # noqa: E402

THIS = "`.venv/bin/python docs/regenerate.py`"

OTHER_SEEDS = (1, 2, 3, 4, 5, 6, 7, 8, 9)     # production seeds beside the default 42
CALIBRATION_SEEDS = (1, 2, 3)                  # the seeds production was calibrated on (4-9: out of sample)
STUDY_SEEDS = (1, 2, 3)                        # scenarios/churn_study.toml
MODEL_PRODUCTION_SEEDS = (42, 1, 2, 3)         # production rows of the churn model's table
COMPARE_REPLICATIONS = 3
TRACE_ID = "T0073"                             # a burned-out veteran of production seed 42
TRACE_ARGS = ["--since", "2026-10-26", "--until", "2026-10-27",
              "--type", "session,no_show,rescheduled,decision,intervention,email,daily"]
HALF_NO_SHOWS_REPLICATIONS = 10               # the churn question: ten paired replications
PLATFORM = "scenarios/platform_1m.toml"        # churn by cause at platform scale (~5 min, ~3 GiB)
X4 = ["--set", "tutors.count=600", "--set", "demand.sessions_per_day=3000"]
WHATIF_REPLICATIONS = 4
# one what-if per cause of churn: (cause, key, the factor that strengthens it), from production's value
SUSPENSION = "platform.no_show_suspension"
CAUSE_WHATIFS = [(cause.replace("_", " "), f"behaviour.quit_{gain}_gain", 3) for cause, gain in (
    ("burnout", "burnout"), ("low_rating", "low_rating"), ("declining_rating", "rating_decline"),
    ("poor_first_sessions", "poor_first"), ("no-shows", "no_show"), ("rescheduling", "reschedule"),
    ("low_engagement", "low_engagement"), ("declining_activity", "activity"), ("idleness", "idle"),
    ("email_annoyance", "email"))] + [("suspension (policy)", SUSPENSION, 0.5)]
# the email what-ifs: block -> (key, values, the baseline value)
EMAIL_SWEEPS = {"email-frequency": ("platform.interventions.min_days_between", "28,14,7,3,1", "14"),
                "email-earlier": ("platform.interventions.churn_probability", "0.5,0.4,0.3,0.2", "0.5")}
EMAIL_REPLICATIONS = 6
EMAIL_OUTCOMES = ["churned_30d", "stopped_in_window", "expected_quits_in_window", "mean_rating", "interventions", "email_open_share",
                  "unsubscribed", "coaching_hours", "teaching_hours_given_up"]
TRACE_WIDTH = 160                              # trace lines are cut to this many characters

# validate's figures (analysis/report.py), in the order the report shows them
FIGURES = [("distributions_sessions.png", "Session-level distributions (completed sessions) beside the spec's targets"),
           ("distributions_tutors.png", "Tutor-level distributions beside the spec's targets"),
           ("categorical.png", "Categorical shares against the spec's"),
           ("correlations.png", "Section 8 correlations and rating gaps"),
           ("time_patterns.png", "Sessions by hour of day and by weekday"),
           ("personas.png", "Persona means against section 10's ranges")]

# block -> (page, the steps it needs)
BLOCKS = {
    "run-summary": ("running.md", {"production"}),
    "validate-summary": ("realism.md", {"production"}),
    "validate-seeds": ("realism.md", {"production", "seeds"}),
    "validate-figures": ("realism.md", {"production"}),
    "validate-full": ("realism.md", {"production"}),
    "trace-example": ("trace.md", {"production", "trace"}),
    "compare-no-show-wave": ("whatif.md", {"compare"}),
    "compare-half-no-shows": ("whatif.md", {"half_no_shows"}),
    "model-metrics": ("churn_model.md", {"production", "seeds", "study"}),
    "churn-causes-production": ("churn_causes.md", {"production", "seeds"}),
    "churn-causes-platform": ("churn_causes.md", {"platform"}),
    "cause-whatifs": ("churn_causes.md", {"cause_whatifs"}),
    "email-frequency": ("churn_causes.md", {"email"}),
    "email-earlier": ("churn_causes.md", {"email"}),
}
STEP_ORDER = ("production", "seeds", "study", "trace", "compare", "half_no_shows", "platform", "cause_whatifs", "email")



# ------------------------------------------------------------------------------------ helpers

def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run_py(args: list[str], cwd: Path, ok=(0,)) -> str:
    """`python run.py ARGS` in cwd; its stdout. Stops the script on an unexpected exit code."""
    cmd = [sys.executable, str(ROOT / "run.py"), *args]
    started = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    say(f"  run.py {' '.join(args)}  ({time.perf_counter() - started:.0f} s, exit {p.returncode})")
    if p.returncode not in ok:
        say(p.stdout[-3000:] + p.stderr[-3000:])
        raise SystemExit(f"regenerate: `run.py {' '.join(args)}` exited {p.returncode}; nothing was written")
    return p.stdout


def commit() -> str:
    sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--", ".", ":(exclude)docs", ":(exclude)README.md"],
                           cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    return f"`{sha}`" + (" + uncommitted changes" if dirty else "")


def made_by(command: str, sha: str, note: str = "") -> str:
    return f"Made by `{command}` at commit {sha}{note}; regenerated by {THIS}.\n"


def fence(text: str, lang: str = "text") -> str:
    return f"```{lang}\n{text.rstrip()}\n```\n"


def cut(line: str, width: int) -> str:
    return line if len(line) <= width else line[:width - 1] + "…"


# ------------------------------------------------------------------------------------ steps

def step_production(tmp: Path, r: dict) -> None:
    out = run_py(["--out", "data", "--no-progress"], tmp)
    r["run_summary"] = "\n".join(l for l in out.splitlines() if not l.strip().startswith("files in:"))
    text = run_py(["validate", "data"], tmp, ok=(0, 1))
    r["validate_text"] = "\n".join(l for l in text.splitlines() if not l.startswith("report:"))
    r["validate_json"] = {42: json.loads(run_py(["validate", "data", "--json", "--no-report"], tmp, ok=(0, 1)))}
    r["metrics"] = {("production", 42): json.loads((tmp / "data/model/metrics.json").read_text())}


def step_seeds(tmp: Path, r: dict) -> None:
    for n in OTHER_SEEDS:
        run_py(["--seed", str(n), "--out", f"seed{n}", "--no-progress", "--no-event-log"], tmp)
        r["validate_json"][n] = json.loads(run_py(["validate", f"seed{n}", "--json", "--no-report"], tmp, ok=(0, 1)))
        r["metrics"][("production", n)] = json.loads((tmp / f"seed{n}/model/metrics.json").read_text())
    r["churn_production_text"] = run_py(["churn", "data", *(f"seed{n}" for n in OTHER_SEEDS)], tmp)


def step_study(tmp: Path, r: dict) -> None:
    for n in STUDY_SEEDS:
        run_py(["scenarios/churn_study.toml", "--seed", str(n), "--out", f"study{n}", "--no-progress",
                "--no-event-log"], tmp)
        r["metrics"][("churn_study", n)] = json.loads((tmp / f"study{n}/model/metrics.json").read_text())


def step_trace(tmp: Path, r: dict) -> None:
    r["trace_text"] = run_py(["trace", TRACE_ID, "data", *TRACE_ARGS], tmp)
    run_py(["trace", TRACE_ID, "data", "--plot", "--out", "trace_example.png"], tmp)
    r["figures"]["trace_example.png"] = tmp / "trace_example.png"


def step_compare(tmp: Path, r: dict) -> None:
    out = run_py(["compare", "scenarios/production.toml", "scenarios/no_show_wave.toml",
                  "--replications", str(COMPARE_REPLICATIONS), "--out", "compare", "--no-progress",
                  "--workers", str(r["workers"])], tmp)
    r["compare_text"] = "\n".join(l for l in out.splitlines()
                                  if not l.strip().startswith(("files in:", "wall time:")))
    with open(tmp / "compare/compare_runs.csv", newline="") as f:
        r["compare_runs"] = list(csv.DictReader(f))
    with open(tmp / "compare/compare.csv", newline="") as f:
        r["compare_table"] = list(csv.DictReader(f))
    r["figures"]["compare_no_show_wave.png"] = tmp / "compare/compare.png"


def step_half_no_shows(tmp: Path, r: dict) -> None:
    out = run_py(["compare", "scenarios/production.toml", "scenarios/half_no_shows.toml",
                  "--replications", str(HALF_NO_SHOWS_REPLICATIONS), "--seed", "1", "--out", "half", "--no-progress",
                  "--workers", str(r["workers"])], tmp)
    r["half_text"] = "\n".join(l for l in out.splitlines() if not l.strip().startswith(("files in:", "wall time:")))


def step_platform(tmp: Path, r: dict) -> None:
    run_py([PLATFORM, "--out", "platform", "--no-progress", "--no-model", "--no-event-log"], tmp)
    r["platform_text"] = run_py(["churn", "platform"], tmp)


def _baseline_rows(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _production_value(key: str):
    sys.path.insert(0, str(ROOT))
    from world.scenario import read_document
    value = read_document(ROOT / "scenarios" / "production.toml")
    for part in key.split("."):
        value = value[part]
    return value


def step_cause_whatifs(tmp: Path, r: dict) -> None:
    r["cause_whatifs"] = []
    for i, (cause, key, factor) in enumerate(CAUSE_WHATIFS):
        base = _production_value(key)
        raised = type(base)(base * factor) if isinstance(base, int) else round(base * factor, 6)
        run_py(["sweep", "scenarios/production.toml", *X4, "--grid", f"{key}={base},{raised}",
                "--baseline", f"{key}={base}", "--replications", str(WHATIF_REPLICATIONS), "--seed", "1",
                "--out", f"cause{i}", "--no-progress", "--workers", str(r["workers"])], tmp)
        rows = {x["outcome"]: x for x in _baseline_rows(tmp / f"cause{i}/sweep_baseline.csv")}
        r["cause_whatifs"].append((cause, key, base, raised, rows["churned_30d"], rows["expected_quits_in_window"]))


def _email_sweep(tmp: Path, r: dict, name: str, key: str, values: str, base: str) -> None:
    run_py(["sweep", "scenarios/email_frequency.toml", "--grid", f"{key}={values}", "--baseline", f"{key}={base}",
            "--replications", str(EMAIL_REPLICATIONS), "--seed", "1", "--out", name, "--no-progress",
            "--workers", str(r["workers"])], tmp)
    with open(tmp / name / "sweep.csv", newline="") as f:
        r[name] = (_baseline_rows(tmp / name / "sweep_baseline.csv"), list(csv.DictReader(f)))


def step_email(tmp: Path, r: dict) -> None:
    for name, (key, values, base) in EMAIL_SWEEPS.items():
        _email_sweep(tmp, r, name, key, values, base)


STEPS = {"production": step_production, "seeds": step_seeds, "study": step_study,
         "trace": step_trace, "compare": step_compare, "half_no_shows": step_half_no_shows,
         "platform": step_platform, "cause_whatifs": step_cause_whatifs, "email": step_email}


# ------------------------------------------------------------------------------------ blocks

RUN = "python run.py --out data"
VALIDATE = "python run.py --out data && python run.py validate data"


def block_run_summary(r, sha):
    return made_by(RUN, sha, " (production scenario, seed 42; the wall time is that moment's)") + "\n" + fence(r["run_summary"])


def block_validate_summary(r, sha):
    lines = [l for l in r["validate_text"].splitlines()
             if l.startswith("§") or re.match(r"\d+ passed", l)]
    return made_by(VALIDATE, sha, " (production scenario, seed 42)") + "\n" + fence("\n".join(lines))


def block_validate_full(r, sha):
    return ("<details><summary>The full validate table (production, seed 42)</summary>\n\n"
            + made_by(VALIDATE, sha) + "\n" + fence(r["validate_text"]) + "\n</details>\n")


def block_validate_figures(r, sha):
    lines = [made_by(VALIDATE, sha, " (the figures of `data/report.md`, copied to docs/validate/)"), ""]
    for name, title in FIGURES:
        lines += [f"![{title}](validate/{name})", ""]
    return "\n".join(lines)


def _failing(result: dict, status: str = "FAIL") -> list[dict]:
    return [c for c in result["results"] if c["status"] == status]


def _sample(n: int) -> str:
    return "calibration" if n in CALIBRATION_SEEDS else "default seed" if n == 42 else "out of sample"


def block_validate_seeds(r, sha):
    vj = r["validate_json"]
    seeds = [*OTHER_SEEDS, 42]
    rows = ["| seed | sample | passed | failed | readings | the failing checks: measured against target |",
            "|---|---|---|---|---|---|"]
    tally: dict[str, list[int]] = {}
    for n in seeds:
        fails = _failing(vj[n])
        for c in fails:
            tally.setdefault(c["id"], []).append(n)
        text = "; ".join(f"{c['id']} {c['claim']}: {c['measured_text']} against {c['target_text']}" for c in fails)
        readings = ", ".join(c["id"] for c in _failing(vj[n], "READING"))
        rows.append(f"| {n} | {_sample(n)} | {vj[n]['passed']} | {vj[n]['failed']} | {readings} "
                    f"| {text.replace('|', '/')} |")
    claims = {c["id"]: c["claim"] for c in vj[42]["results"]}
    total = sum(vj[n]["failed"] for n in seeds)
    clean = sum(1 for n in seeds if vj[n]["failed"] == 0)
    checks = len(vj[42]["results"])
    worst = max(vj[n]["failed"] for n in seeds if n not in CALIBRATION_SEEDS and n != 42)
    again = sorted((ids for ids in tally.items() if len(ids[1]) > 1), key=lambda kv: (-len(kv[1]), kv[0]))
    summary = (f"{total} failing checks over the {len(seeds)} seeds ({checks} checks each); "
               f"{clean} of {len(seeds)} seeds pass every check (readings aside); calibration seeds "
               f"{', '.join(map(str, CALIBRATION_SEEDS))}: "
               f"{sum(vj[n]['failed'] for n in CALIBRATION_SEEDS)} failing; out of sample at most "
               f"{worst} on a seed ({100 * worst / checks:.1f}% of the checks).")
    if again:
        summary += " Checks that fail on more than one seed: " + "; ".join(
            f"{cid} ({claims.get(cid, '')}): seeds {', '.join(map(str, ns))}" for cid, ns in again) + "."
    cmd = "python run.py --seed N --out seedN && python run.py validate seedN --json"
    return (made_by(cmd, sha, f" for N = {', '.join(map(str, seeds))} (production scenario; one command: "
                    f"`.venv/bin/python docs/regenerate.py --only validate-seeds`)") + "\n"
            + "\n".join(rows) + "\n\n" + summary + "\n")


def _fmt_model(m: dict, name: str, sd: bool) -> str:
    x = m["models"][name]
    roc = f"{x['roc_auc']['mean']:.3f}" + (f" ± {x['roc_auc']['sd']:.3f}" if sd else "")
    return f"{roc} / {x['pr_auc']['mean']:.3f} / {x['brier']['mean']:.3f}"


def block_model_metrics(r, sha):
    rows = ["| run | positives / rows (base rate) | spec formula | logistic regression | gradient boosting |",
            "|---|---|---|---|---|"]
    keys = [("churn_study", n) for n in STUDY_SEEDS] + [("production", n) for n in MODEL_PRODUCTION_SEEDS]
    for scen, n in keys:
        m = r["metrics"][(scen, n)]
        if m.get("status") != "trained":
            pos = m.get("positives")
            why = ("fewer than 5 positives" if isinstance(pos, int) and pos < 5 else m.get("reason", ""))
            rows.append(f"| {scen} seed {n} | {pos if pos is not None else '?'} / {m.get('rows', '?')} | "
                        f"{m.get('status')} ({why}) | | |")
            continue
        rows.append(f"| {scen} seed {n} | {m['positives']} / {m['rows']} ({m['base_rate']:.3f}) | "
                    f"{_fmt_model(m, 'spec_formula', False)} | {_fmt_model(m, 'logistic', True)} | "
                    f"{_fmt_model(m, 'gradient_boosting', True)} |")
    diffs = []
    for scen, n in keys:
        m = r["metrics"][(scen, n)]
        if m.get("status") == "trained":
            c = m["comparison"]
            diffs.append(f"{scen} {n}: {c['logistic_minus_spec_formula']['roc_auc']['mean']:+.3f} / "
                         f"{c['gradient_boosting_minus_spec_formula']['roc_auc']['mean']:+.3f}")
    cmd = "python run.py scenarios/churn_study.toml --seed N; python run.py --seed N"
    return (made_by(cmd, sha, f" (churn study N = {', '.join(map(str, STUDY_SEEDS))}; production N = "
                              f"{', '.join(map(str, MODEL_PRODUCTION_SEEDS))}; each run's `model/metrics.json`)")
            + "\nOut of fold, mean over 5 repeats of 5-fold CV: ROC AUC (± sd across repeats for the learned "
              "models) / PR AUC / Brier score.\n\n"
            + "\n".join(rows)
            + "\n\nROC AUC, learned minus formula (logistic / boosting): " + "; ".join(diffs) + ".\n")


def block_trace_example(r, sha):
    cmd = f"python run.py trace {TRACE_ID} data {' '.join(TRACE_ARGS)}"
    lines = [cut(l.rstrip(), TRACE_WIDTH) for l in r["trace_text"].splitlines()]
    plot = f"python run.py trace {TRACE_ID} data --plot --out docs/trace_example.png"
    return (made_by(cmd, sha, f" on `{RUN}` (production, seed 42; lines cut at {TRACE_WIDTH} characters)")
            + "\n" + fence("\n".join(lines)) + "\n"
            + made_by(plot, sha) + "\n"
            + f"![{TRACE_ID}'s timeline in production seed 42: sessions coloured by rating with the rolling 7-day "
              "mean, no-shows, reschedules, emails and coaching, the platform's churn probability, burnout and "
              "reliability](trace_example.png)\n")


def block_compare(r, sha):
    from analysis.whatif import is_count
    cmd = (f"python run.py compare scenarios/production.toml scenarios/no_show_wave.toml "
           f"--replications {COMPARE_REPLICATIONS}")
    labels = {row["outcome"]: row["label"] for row in r["compare_table"]}
    runs = {(row["arm"], row["replication"]): row for row in r["compare_runs"]}
    reps = sorted({row["replication"] for row in r["compare_runs"]}, key=int)
    head = "| outcome | " + " | ".join(f"B - A, replication {int(x) + 1}" for x in reps) + " |"
    rows = [head, "|---" * (len(reps) + 1) + "|"]
    for key, label in labels.items():
        cells = []
        for x in reps:
            a, b = runs[("A", x)].get(key, ""), runs[("B", x)].get(key, "")
            try:
                d = float(b) - float(a)
            except ValueError:
                cells.append("n/a")
                continue
            if d != d:
                cells.append("n/a")
            elif abs(d) < 1e-9:
                cells.append("0")
            else:
                cells.append(f"{d:+.1f}" if key == "sessions_per_day" or is_count(key) else f"{d:+.4f}")
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    return (made_by(cmd, sha) + "\n" + fence(r["compare_text"]) + "\n"
            + "Each replication's difference (`compare_runs.csv`):\n\n" + "\n".join(rows) + "\n\n"
            + "![B - A per outcome for the no-show wave: each replication's difference and the mean difference "
              "with its 95% interval](compare_no_show_wave.png)\n")


def block_half_no_shows(r, sha):
    cmd = (f"python run.py compare scenarios/production.toml scenarios/half_no_shows.toml "
           f"--replications {HALF_NO_SHOWS_REPLICATIONS} --seed 1")
    return made_by(cmd, sha) + "\n" + fence(r["half_text"]) + "\n"


def _churn_report(text: str) -> str:
    """`run.py churn`'s Markdown, its headings one level down to sit under the page's."""
    return "\n".join(("#" + line if line.startswith("## ") else line) for line in text.splitlines()
                     if not line.startswith("# ")).strip() + "\n"


def block_churn_production(r, sha):
    seeds = ", ".join(map(str, [42, *OTHER_SEEDS]))
    return (made_by("python run.py churn data seed1 ... seed9", sha, f" (production seeds {seeds}, the runs of "
                    "the validate-seeds block)") + "\n" + _churn_report(r["churn_production_text"]))


def block_churn_platform(r, sha):
    cmd = f"python run.py {PLATFORM} --no-model --out platform && python run.py churn platform"
    return made_by(cmd, sha) + "\n" + _churn_report(r["platform_text"])


def block_cause_whatifs(r, sha):
    from scipy import stats
    cmd = (f"python run.py sweep scenarios/production.toml {' '.join(X4)} --grid KEY=BASE,RAISED --baseline "
           f"KEY=BASE --replications {WHATIF_REPLICATIONS} --seed 1")
    rows = ["| cause | key: production -> raised | expected quits in the window: difference (95% CI) | "
            "churned_30d: baseline, difference (95% CI) | sd of the churned_30d difference | replications at x4 "
            "for an interval clear of 0 | scale at 4 replications |", "|---|---|---|---|---:|---:|---:|"]
    t3 = stats.t.ppf(0.975, WHATIF_REPLICATIONS - 1)
    for cause, key, base, raised, churn, hazard in r["cause_whatifs"]:
        sd, shown = float(churn["sd_diff"]), float(hazard["diff"])
        clear = lambda x: float(x["ci_low"]) > 0 or float(x["ci_high"]) < 0
        # the platform's rule, not the tutor's decision: its effect is the churn's own
        effect = float(churn["diff"]) if key == SUSPENSION else shown
        if effect <= 0 or not sd > 0:
            need_n = need_k = "no effect to detect" if effect <= 0 else "n/a"
        else:
            n = next((m for m in range(2, 1001) if stats.t.ppf(0.975, m - 1) * sd / m ** 0.5 < effect), None)
            need_n = str(n) if n else "more than 1,000"
            k = 4 * (t3 * sd / (effect * WHATIF_REPLICATIONS ** 0.5)) ** 2
            need_k = "x4" if k <= 4 else f"x{k:,.0f}" if k <= 1000 else "more than x1,000"
        rows.append(f"| {cause} | `{key}`: {base} -> {raised} "
                    f"| {shown:+.2f} [{float(hazard['ci_low']):+.2f}, {float(hazard['ci_high']):+.2f}]{' *' if clear(hazard) else ''} "
                    f"| {float(churn['mean_baseline']):.1f}, {float(churn['diff']):+.1f} [{float(churn['ci_low']):+.1f}, "
                    f"{float(churn['ci_high']):+.1f}]{' *' if clear(churn) else ''} | {sd:.1f} | {need_n} | {need_k} |")
    note = ("Each row: production x4 (600 tutors, ~3,000 sessions a day), one cause strengthened (its gain x3; the "
            f"suspension threshold halved) against production's value on the same {WHATIF_REPLICATIONS} seeds, "
            "paired; * marks an interval clear of 0. The expected quits in the window (the sum of the tutors' daily "
            "quit hazards) measure the cause's effect with little noise; the realised churn after the window is a "
            "draw from such hazards. (A suspension is the platform's rule, not the tutor's decision: a stricter "
            "rule lowers the expected quits by decision, since it removes tutors first; its effect is read from "
            "churned_30d itself.) Replications needed: the smallest n whose 95% t-interval half-width, "
            "t(n-1) x sd / sqrt(n), is below the effect, taking the effect from the expected quits (30 days of "
            "hazard, as the look-ahead is 30 days) and the noise from churned_30d's paired sd. Scale needed at "
            f"{WHATIF_REPLICATIONS} replications: the effect grows with the number of tutors and the sd with their "
            "square root, so the platform must be (t(3) x sd / (effect x 2))^2 times x4.\n")
    return made_by(cmd, sha) + "\n" + "\n".join(rows) + "\n\n" + note


def block_email(name: str):
    key, values, base = EMAIL_SWEEPS[name]

    def render(r, sha):
        cmd = (f"python run.py sweep scenarios/email_frequency.toml --grid {key}={values} --baseline {key}={base} "
               f"--replications {EMAIL_REPLICATIONS} --seed 1")
        diffs, runs = r[name]
        labels = {x["outcome"]: x["label"] for x in diffs}
        rows = [f"| `{key.split('.')[-1]}` | " + " | ".join(labels.get(o, o) for o in EMAIL_OUTCOMES) + " |",
                "|---" * (len(EMAIL_OUTCOMES) + 1) + "|"]
        for value in values.split(","):
            at = [x for x in runs if float(x[key]) == float(value)]
            cells = []
            for o in EMAIL_OUTCOMES:
                vals = [float(x[o]) for x in at if x.get(o) not in (None, "")]
                fmt = ".3f" if o in ("mean_rating", "email_open_share") else ".2f" if o.startswith("expected") else ".1f"
                cell = format(sum(vals) / len(vals) if vals else float("nan"), fmt)
                d = next((x for x in diffs if float(x[key]) == float(value) and x["outcome"] == o), None)
                if d is not None:
                    clear = float(d["ci_low"]) > 0 or float(d["ci_high"]) < 0
                    cell += (f" ({float(d['diff']):+{fmt}} [{float(d['ci_low']):+{fmt}}, "
                             f"{float(d['ci_high']):+{fmt}}]{' *' if clear else ''})")
                cells.append(cell)
            rows.append(f"| {value}{' (production)' if value == base else ''} | " + " | ".join(cells) + " |")
        note = (f"Means over {EMAIL_REPLICATIONS} seeds; in brackets the paired difference from production's "
                f"value ({base}) with its 95% t-interval, * where it is clear of 0.\n")
        return made_by(cmd, sha) + "\n" + "\n".join(rows) + "\n\n" + note
    return render


RENDER = {"compare-half-no-shows": block_half_no_shows, "run-summary": block_run_summary, "validate-summary": block_validate_summary,
          "validate-seeds": block_validate_seeds, "validate-figures": block_validate_figures,
          "validate-full": block_validate_full, "trace-example": block_trace_example,
          "compare-no-show-wave": block_compare, "model-metrics": block_model_metrics,
          "churn-causes-production": block_churn_production, "churn-causes-platform": block_churn_platform,
          "cause-whatifs": block_cause_whatifs, "email-frequency": block_email("email-frequency"),
          "email-earlier": block_email("email-earlier")}


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="docs/regenerate.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--only", nargs="+", choices=sorted(BLOCKS), metavar="BLOCK",
                   help="regenerate only these blocks (default: all): " + ", ".join(BLOCKS))
    p.add_argument("--check", action="store_true", help="run nothing: check the markers and the links")
    p.add_argument("--list", action="store_true", help="list the blocks and their pages")
    p.add_argument("--workers", type=int, default=1, help="compare's parallel runs (default 1: a shared machine)")
    args = p.parse_args(argv)

    if args.list:
        for name, (page, steps) in BLOCKS.items():
            print(f"{name:22s} docs/{page:16s} needs: {', '.join(s for s in STEP_ORDER if s in steps)}")
        return 0
    problems = check_markers(BLOCKS)
    if problems or args.check:
        problems += check_links()
        for line in problems:
            say(line)
        if args.check and not problems:
            say("regenerate --check: markers and links are in order")
        return 1 if problems else 0

    wanted = args.only or list(BLOCKS)
    steps = {s for name in wanted for s in BLOCKS[name][1]}
    sha = commit()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tutorsim-docs-") as d:
        tmp = Path(d)
        (tmp / "scenarios").symlink_to(ROOT / "scenarios", target_is_directory=True)
        r = {"figures": {}, "workers": args.workers, "validate_json": {}, "metrics": {}}
        for s in STEP_ORDER:
            if s in steps:
                say(f"{s}:")
                STEPS[s](tmp, r)
        if "validate-figures" in wanted:
            for name, _ in FIGURES:
                r["figures"][f"validate/{name}"] = tmp / "data/figures" / name
        blocks = {name: RENDER[name](r, sha) for name in wanted}
        # everything made: now replace the figures and the blocks
        for dest, src in r["figures"].items():
            (DOCS / dest).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, DOCS / dest)
        for page in sorted({BLOCKS[name][0] for name in wanted}):
            rewrite(DOCS / page, {n: b for n, b in blocks.items() if BLOCKS[n][0] == page})
    elapsed = time.perf_counter() - started
    say(f"regenerated {len(wanted)} blocks ({', '.join(wanted)}) at commit {sha.replace('`', '')} in {elapsed:.0f} s")
    problems = check_links()
    for line in problems:
        say(line)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
