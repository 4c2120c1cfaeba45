"""The `whatif` section: when DATA is a `run.py compare` or `run.py sweep` folder, or holds one, its
outcome table with the paired 95% intervals and its figures (the PNGs the command drew: made
once, by it); otherwise the command that would make one (docs/whatif.md)."""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from analysis.report_html.html import code, esc, figure, table

MAX_SWEEP_FIGURES = 6
COMMAND = ("python run.py compare scenarios/production.toml scenarios/no_show_wave.toml "
           "--replications 3 --out DATA/compare")


def find(folder: Path) -> list[Path]:
    """`folder` itself if it is a compare or sweep folder, else those of its subfolders that are."""
    def is_whatif(f: Path) -> bool:
        return (f / "compare.csv").is_file() or (f / "sweep.csv").is_file()
    if is_whatif(folder):
        return [folder]
    return sorted(f for f in folder.iterdir() if f.is_dir() and is_whatif(f)) if folder.is_dir() else []


def read(folder: Path, root: Path) -> dict:
    """What the section shows of one compare or sweep folder: its tables and figures' bytes."""
    name = "DATA" if folder == root else f"DATA/{folder.relative_to(root).as_posix()}"
    if (folder / "compare.csv").is_file():
        png = folder / "compare.png"
        return {"kind": "compare", "name": name, "table": pd.read_csv(folder / "compare.csv"),
                "figures": {"compare.png": png.read_bytes()} if png.is_file() else {}}
    tidy = pd.read_csv(folder / "sweep.csv")
    baseline = folder / "sweep_baseline.csv"
    figures = {p.name: p.read_bytes() for p in sorted(folder.glob("sweep_*.png"))[:MAX_SWEEP_FIGURES]}
    return {"kind": "sweep", "name": name, "tidy": tidy, "figures": figures,
            "more_figures": max(0, len(list(folder.glob("sweep_*.png"))) - MAX_SWEEP_FIGURES),
            "baseline": pd.read_csv(baseline) if baseline.is_file() else None}


def _num(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    return f"{v:,.1f}" if abs(v) >= 10 else f"{v:.4f}" if abs(v) < 1 else f"{v:.3f}"


def _excludes_zero(row) -> bool:
    return not math.isnan(row.ci_low) and (row.ci_low > 0 or row.ci_high < 0)


def _differences(df: pd.DataFrame, caption: str, a: str, b: str, keys: list[str] = ()) -> str:
    rows = []
    for row in df.itertuples(index=False):
        ci = "n/a" if math.isnan(row.ci_low) else f"[{_num(row.ci_low)}, {_num(row.ci_high)}]"
        mark = "yes" if _excludes_zero(row) else "no"
        rows.append([*(esc(getattr(row, k)) for k in keys), esc(row.label), _num(getattr(row, a)),
                     _num(getattr(row, b)), _num(row.diff), ci, mark])
    n = len(keys)
    return table([*keys, "outcome", a.replace("_", " "), b.replace("_", " "), "difference", "95% CI (paired)",
                  "interval excludes 0"], rows, caption, numeric={n + 1, n + 2, n + 3})


def _one(w: dict, number: int) -> str:
    parts = [f"<h3>{esc(w['kind'])}: <code>{esc(w['name'])}</code></h3>"]
    if w["kind"] == "compare":
        df = w["table"]
        reps = int(df["n"].max()) if "n" in df and len(df) else 0
        parts.append(_differences(df, f"B - A over {reps} paired replications (common random numbers)",
                                  "mean_a", "mean_b"))
    else:
        from analysis.whatif import outcome_list, short_names, sweep_summary
        tidy = w["tidy"]
        outcomes = {o.key for o in outcome_list(tidy.columns)}
        keys = [c for c in tidy.columns if c not in outcomes and c not in ("replication", "seed")]
        if w["baseline"] is not None and len(w["baseline"]):
            base = w["baseline"].rename(columns={k: short_names(keys)[k] for k in keys})
            parts.append(_differences(base, "Every grid point against the baseline point, paired by seed",
                                      "mean_baseline", "mean", [short_names(keys)[k] for k in keys]))
        summary = sweep_summary(tidy, keys)
        labels = {o.key: o.label for o in outcome_list(tidy.columns)}
        shown = list(labels)[:8]
        rows = [[*(esc(row[k]) for k in keys), *(f"{_num(row[o])} [{_num(row[o + '_ci_low'])}, "
                                                f"{_num(row[o + '_ci_high'])}]" for o in shown)]
                for row in summary.to_dict("records")]
        parts.append(table([*(short_names(keys)[k] for k in keys), *(labels[o] for o in shown)], rows,
                           "Mean and 95% t-interval over replications at each grid point (the first outcomes; "
                           "sweep.csv has them all)"))
    for i, (name, png) in enumerate(w["figures"].items()):
        alt = ("Per outcome, every replication's B - A as a dot and the mean difference with its 95% interval; red "
               "where the interval excludes 0." if w["kind"] == "compare" else
               f"The outcome {name[6:-4]} (mean and 95% interval over replications) against the first grid value.")
        parts.append(figure(png, "image/png", alt, f"What-if figure {number}.{i + 1}. {esc(alt)} (<code>{esc(name)}</code>)",
                            f"fig-whatif-{number}-{i + 1}"))
    if w.get("more_figures"):
        parts.append(f"<p class=\"note\">{w['more_figures']} more figures in the folder (sweep_&lt;outcome&gt;.png).</p>")
    return "\n".join(parts)


def whatif_section(inp) -> str:
    if not inp.whatifs:
        return ("<p>This folder is not a what-if and holds none. A what-if runs two scenarios (or a grid) over the "
                "same seeds and reports paired differences with 95% intervals; put one in the folder and make the "
                "page again:</p>"
                f"<pre>{esc(COMMAND)}\npython run.py report DATA</pre>"
                f"<p class=\"note\">Or a grid: {code('python run.py sweep scenarios/production.toml --grid platform.coaching.effect=0,1,2 --out DATA/sweep')}"
                " (docs/whatif.md).</p>")
    return "\n".join(_one(w, i) for i, w in enumerate(inp.whatifs, start=1))
