"""Realised churn by cause: of the tutors active at the window's end, how many stopped within the
run's look-ahead (ground_truth/churn_labels.csv) with and without each of the spec's six churn
signals, by persona, and how well the spec's `churn_probability` ranks who stopped (ROC AUC);
`run.py churn DATA [DATA ...]` (commands/churn.py). The population and label are the churn model's
(`load_dataset`); the signals are recomputed from the published columns with the platform's rule
(`world.formulas.churn_signals`, thresholds: the run's scenario, `platform.churn`). Run folders
(e.g. seeds) are pooled: their tutors are distinct, rows keyed by (folder, tutor_id); they must
share one horizon. Intervals are 95%: Wilson score for a share, Newcombe's hybrid score (method 10
of Newcombe 1998) for a difference of two shares, Hanley & McNeil (1982) for the AUC.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.churn.features import load_dataset
from analysis.targets.personas import PERSONAS
from output.reading import BadInput, read_csv

Z = 1.959963984540054                     # two-sided 95% normal quantile
SPEC_ACTIVE_SHARE = 0.92                  # spec: active_status True (analysis/targets/profiles.py)
SPEC_RANGES = {p: m["churn_probability"] for p, m in PERSONAS.items() if "churn_probability" in m}
SIGNAL_INPUTS = {"rating_7d": "avg_rating_7d", "rating_30d": "avg_rating_30d",
                 "engagement": "avg_engagement_score", "reschedule_rate": "reschedule_rate",
                 "first_session_avg": "first_session_avg_rating", "no_show_count": "no_show_count",
                 "sessions_7d": "total_sessions_7d", "sessions_30d": "total_sessions_30d"}


# ------------------------------------------------------------------ intervals

def wilson(k: int, n: int, z: float = Z) -> tuple[float, float]:
    """Wilson score interval of the share k/n (NaN, NaN when n is 0)."""
    if n <= 0:
        return math.nan, math.nan
    p, z2 = k / n, z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe(k1: int, n1: int, k2: int, n2: int, z: float = Z) -> tuple[float, float, float]:
    """k1/n1 - k2/n2 and its hybrid-score interval (Newcombe 1998, method 10); NaNs when a
    group is empty."""
    if n1 <= 0 or n2 <= 0:
        return math.nan, math.nan, math.nan
    p1, p2 = k1 / n1, k2 / n2
    (l1, u1), (l2, u2) = wilson(k1, n1, z), wilson(k2, n2, z)
    d = p1 - p2
    return d, d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


def hanley_mcneil_se(auc: float, n_pos: int, n_neg: int) -> float:
    """Standard error of a ROC AUC (Hanley & McNeil 1982)."""
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc * auc) + (n_neg - 1) * (q2 - auc * auc)) / (n_pos * n_neg)
    return math.sqrt(max(var, 0.0))


def _share(k: int, n: int) -> dict:
    lo, hi = wilson(k, n)
    return {"n": int(n), "churned": int(k), "share": k / n if n else math.nan, "lo": lo, "hi": hi}


# ------------------------------------------------------------------ reading

def _churn_config(folder: Path) -> tuple[dict, object]:
    """run.json of a folder and the run's `platform.churn` thresholds: from the scenario rebuilt
    from its scenario_document, or (a run of another tutorsim version, whose document no longer
    validates as a whole) from that section alone."""
    from pydantic import ValidationError

    from world.scenario import ScenarioError, validate_document
    from world.scenario_schema import ChurnFormula
    path = folder / "run.json"
    if not path.is_file():
        raise BadInput(f"{path}: not found (not a run folder?)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        doc = manifest["scenario_document"]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as e:
        raise BadInput(f"{path}: not a run manifest ({type(e).__name__}: {e})") from None
    try:
        return manifest, validate_document(doc, f"{path}:scenario_document").platform.churn
    except ScenarioError as e:
        section = doc.get("platform", {}).get("churn") if isinstance(doc, dict) else None
        if not isinstance(section, dict):
            raise BadInput(str(e).splitlines()[0]) from None
    try:
        return manifest, ChurnFormula.model_validate(section)
    except ValidationError as e:
        raise BadInput(f"{path}: scenario_document.platform.churn: {e.errors()[0]['msg']}") from None


def _folder(folder: Path) -> tuple[pd.DataFrame, dict]:
    """One row per tutor of the population (signals, persona, label, score), and the header facts."""
    from world.formulas import churn_signals
    ds = load_dataset(folder)
    labels_path = folder / "ground_truth" / "churn_labels.csv"
    if ds["horizon_days"] <= 0:
        raise BadInput(f"{labels_path}: horizon_days is 0: the run has no look-ahead "
                       "(calendar.lookahead_days = 0), so no churn labels")
    manifest, cfg = _churn_config(folder)
    X, ids = ds["X"], ds["tutor_id"]
    signals = churn_signals(cfg,
                            **{arg: X[col].to_numpy("float64") for arg, col in SIGNAL_INPUTS.items()})
    traits_path = folder / "ground_truth" / "tutor_traits.csv"
    traits = read_csv(traits_path)
    if "persona" not in traits.columns or "tutor_id" not in traits.columns:
        raise BadInput(f"{traits_path}: has no column persona")
    persona = traits.set_index("tutor_id")["persona"].reindex(ids)
    if persona.isna().any():
        raise BadInput(f"{traits_path}: no persona for tutor {ids[persona.isna().to_numpy()][0]}")
    labels = read_csv(labels_path)
    reason = (labels.set_index("tutor_id")["reason"].reindex(ids) if "reason" in labels.columns
              else pd.Series(np.nan, index=ids))
    df = pd.DataFrame({"folder": str(folder), "tutor_id": ids, "persona": persona.to_numpy(str),
                       "churned": ds["y"], "reason": reason.fillna("").astype(str).to_numpy(),
                       "churn_probability": ds["baseline"], **signals})
    df["any_signal"] = np.logical_or.reduce([df[s] for s in signals])
    df["risk_high"] = X["risk_High"].to_numpy() == 1
    # every tutor, active at the window's end or not: who had stopped by the horizon
    churned_all = labels["churned"].astype(str).str.lower().isin(["true", "1"])
    everyone = pd.DataFrame({"persona": traits.set_index("tutor_id")["persona"].reindex(labels["tutor_id"]).to_numpy(str),
                             "stopped": churned_all.to_numpy(bool)})
    info = {"folder": str(folder), "scenario": manifest.get("scenario"), "seed": manifest.get("seed"),
            "horizon_days": ds["horizon_days"], "tutors": ds["tutors"],
            "active": ds["tutors"] - ds["stopped_before_end"], "signals": list(signals), "everyone": everyone}
    return df, info


# ------------------------------------------------------------------ measuring

def _signal_row(name: str, has: np.ndarray, y: np.ndarray) -> dict:
    k1, n1, k0, n0 = int((has & y).sum()), int(has.sum()), int((~has & y).sum()), int((~has).sum())
    d, lo, hi = newcombe(k1, n1, k0, n0)
    ratio = (k1 / n1) / (k0 / n0) if n1 and n0 and k0 else math.nan
    return {"signal": name, "with": _share(k1, n1), "without": _share(k0, n0),
            "difference": {"value": d, "lo": lo, "hi": hi}, "risk_ratio": ratio}


def _kendall(x: list[float], y: list[float]) -> float:
    """Kendall's tau-b: (concordant - discordant pairs) / sqrt(pairs untied in x * pairs untied in
    y). By hand: five personas make ten pairs, and scipy.stats would cost a second to import."""
    if len(x) < 2:
        return math.nan
    pairs = [(np.sign(x[i] - x[j]), np.sign(y[i] - y[j])) for i in range(len(x)) for j in range(i)]
    s, nx, ny = sum(a * b for a, b in pairs), sum(a != 0 for a, _ in pairs), sum(b != 0 for _, b in pairs)
    return float(s / math.sqrt(nx * ny)) if nx and ny else math.nan


def _personas(df: pd.DataFrame, everyone: pd.DataFrame) -> tuple[list[dict], dict]:
    """Per persona: churn of the population (active at the window's end) and, over every tutor of
    the persona, the share who had stopped by the horizon (`stopped_by_horizon`: warm-up and
    window included, so it counts the tutors a persona loses before the window ends)."""
    everyone = {p: g for p, g in everyone.groupby("persona", sort=True)}
    rows = [{"persona": p, **_share(int(g["churned"].sum()), len(g)),
             "mean_churn_probability": float(g["churn_probability"].mean()),
             "spec_range": list(SPEC_RANGES[p]) if p in SPEC_RANGES else None,
             "stopped_by_horizon": _share(int(everyone[p]["stopped"].sum()), len(everyone[p]))}
            for p, g in df.groupby("persona", sort=True)]
    return rows, rank_order({r["persona"]: r["share"] for r in rows})


def rank_order(share: dict[str, float]) -> dict:
    """The spec's personas (those present in `share`: persona -> realised churn share) from lowest
    to highest churn, and whether that order is the spec's wherever the spec gives one: for every
    two personas whose churn_probability ranges do not overlap (one's top at or below the other's
    bottom: rock_star < solid_performer < the three at-risk personas), the lower range churns
    less. The at-risk ranges (0.45-0.70, 0.50-0.75, 0.55-0.80) overlap, so their order is not the
    spec's to give (docs/churn_causes.md). None unless all five are present; Kendall's tau of the
    shares against the ranges' midpoints."""
    present = [p for p in SPEC_RANGES if p in share]
    verdict = None
    if len(present) == len(SPEC_RANGES):
        verdict = all(share[a] < share[b] for a in present for b in present
                      if SPEC_RANGES[a][1] <= SPEC_RANGES[b][0])
    tau = _kendall([share[p] for p in present], [sum(SPEC_RANGES[p]) / 2 for p in present])
    return {"order": sorted(present, key=lambda p: share[p]), "verdict": verdict, "kendall_tau": tau,
            "missing": [p for p in SPEC_RANGES if p not in share]}


def _auc(y: np.ndarray, score: np.ndarray) -> dict:
    ok = ~np.isnan(score)
    y, score = y[ok], score[ok]
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    out = {"positives": n_pos, "negatives": n_neg, "auc": math.nan, "lo": math.nan, "hi": math.nan, "note": None}
    if not n_pos or not n_neg:
        out["note"] = f"no {'churned' if not n_pos else 'retained'} tutor in the population: AUC undefined"
        return out
    auc = rank_auc(y, score)
    se = hanley_mcneil_se(auc, n_pos, n_neg)
    out.update(auc=auc, lo=max(0.0, auc - Z * se), hi=min(1.0, auc + Z * se), se=se)
    return out


def rank_auc(y: np.ndarray, score: np.ndarray) -> float:
    """The ROC AUC as the Mann-Whitney statistic: the chance that a churned tutor outscores a
    retained one, ties counting half (average ranks). The same number as scikit-learn's
    roc_auc_score, without its second of imports."""
    ranks = pd.Series(score).rank(method="average").to_numpy()
    n_pos = int(y.sum())
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * (len(y) - n_pos)))


def _clean(v):
    """JSON-able: numpy scalars as Python numbers, NaN as None."""
    if isinstance(v, (dict, list, tuple)):
        return {k: _clean(x) for k, x in v.items()} if isinstance(v, dict) else [_clean(x) for x in v]
    v = v.item() if isinstance(v, np.generic) else v
    return None if isinstance(v, float) and math.isnan(v) else v


def churn_by_cause(folders: list[Path]) -> dict:
    """Realised churn with and without each signal, by persona, and the formula's AUC, pooled over
    run folders (BadInput when they differ in horizon or have no labels)."""
    folders = [Path(f) for f in folders]
    if not folders:
        raise BadInput("no run folder given")
    twice = [f for i, f in enumerate(folders) if f.resolve() in {g.resolve() for g in folders[:i]}]
    if twice:
        raise BadInput(f"{twice[0]}: given twice (its tutors would be counted twice)")
    frames, infos = zip(*(_folder(f) for f in folders))
    for f, info in zip(folders, infos):
        if info["horizon_days"] != infos[0]["horizon_days"]:
            raise BadInput(f"{f}: horizon of {info['horizon_days']} days, but {folders[0]} has "
                           f"{infos[0]['horizon_days']}: folders pooled must share one horizon")
    df = pd.concat(frames, ignore_index=True)
    y = df["churned"].to_numpy(bool)
    tutors, active = sum(i["tutors"] for i in infos), sum(i["active"] for i in infos)
    churned = df.loc[y, "reason"]
    signals = [*infos[0]["signals"], "any_signal", "risk_high"]
    personas, rank = _personas(df, pd.concat([i.pop("everyone") for i in infos], ignore_index=True))
    return _clean({
        "folders": [i["folder"] for i in infos], "scenarios": sorted({str(i["scenario"]) for i in infos}),
        "seeds": [i["seed"] for i in infos], "horizon_days": infos[0]["horizon_days"],
        "tutors": tutors, "active": active, "active_share": active / tutors if tutors else math.nan,
        "spec_active_share": SPEC_ACTIVE_SHARE,
        "population": len(df), "churn": _share(int(y.sum()), len(df)),
        "reasons": {r or "unknown": int((churned == r).sum()) for r in sorted(set(churned))},
        "signals": [_signal_row(s, df[s].to_numpy(bool), y) for s in signals],
        "personas": personas, "rank": rank,
        "auc": _auc(y, df["churn_probability"].to_numpy("float64")),
    })


# ------------------------------------------------------------------ the report

def _pct(v) -> str:
    return "n/a" if v is None else f"{100 * v:.1f}%"


def _ci(d: dict) -> str:
    return "n/a" if d["lo"] is None else f"{100 * d['lo']:.1f}-{100 * d['hi']:.1f}%"


def _num(v, fmt=".2f") -> str:
    return "n/a" if v is None else format(v, fmt)


def describe_causes(r: dict) -> str:
    """The result of `churn_by_cause` as a Markdown report."""
    c = r["churn"]
    out = [f"# Realised churn by cause ({r['horizon_days']}-day horizon)", "",
           f"Folders pooled: {len(r['folders'])} ({', '.join(r['folders'])}); scenario "
           f"{', '.join(r['scenarios'])}; seeds {', '.join(map(str, r['seeds']))}.", "",
           f"- Tutors: {r['tutors']}; active at the window's end: {r['active']} "
           f"({_pct(r['active_share'])}; the spec implies {_pct(r['spec_active_share'])}).",
           f"- Population (active at the window's end): {r['population']}; churned within "
           f"{r['horizon_days']} days: {c['churned']} ({_pct(c['share'])}, 95% CI {_ci(c)}).",
           "- Reasons: " + (", ".join(f"{k} {v}" for k, v in r["reasons"].items()) or "none") + ".", "",
           "## Churn with and without each signal", "",
           "Signals recomputed from the tables with the platform's rule and the run's thresholds. "
           "Shares with 95% Wilson intervals; difference (with - without) with a 95% Newcombe "
           "hybrid-score interval.", "",
           "| signal | with: tutors | churned | share (95% CI) | without: tutors | churned | share (95% CI) "
           "| difference (95% CI) | risk ratio |",
           "|---|---:|---:|---|---:|---:|---|---|---:|"]
    for s in r["signals"]:
        w, wo, d = s["with"], s["without"], s["difference"]
        diff = "n/a" if d["value"] is None else (f"{100 * d['value']:+.1f} pp "
                                                 f"({100 * d['lo']:+.1f} to {100 * d['hi']:+.1f})")
        out.append(f"| {s['signal']} | {w['n']} | {w['churned']} | {_pct(w['share'])} ({_ci(w)}) "
                   f"| {wo['n']} | {wo['churned']} | {_pct(wo['share'])} ({_ci(wo)}) | {diff} "
                   f"| {_num(s['risk_ratio'])} |")
    out += ["", "## By persona", "",
            "Churn of the tutors active at the window's end; the last column counts every tutor of the "
            "persona, those who stopped during the warm-up and the window too.", "",
            "| persona | tutors | churned | realised share (95% CI) | mean churn_probability | spec range "
            "| all tutors: stopped by the horizon (95% CI) |",
            "|---|---:|---:|---|---:|---|---|"]
    for p in r["personas"]:
        spec = f"{p['spec_range'][0]:.2f}-{p['spec_range'][1]:.2f}" if p["spec_range"] else ""
        every = p["stopped_by_horizon"]
        out.append(f"| {p['persona']} | {p['n']} | {p['churned']} | {_pct(p['share'])} ({_ci(p)}) "
                   f"| {_num(p['mean_churn_probability'], '.3f')} | {spec} "
                   f"| {every['churned']}/{every['n']}: {_pct(every['share'])} ({_ci(every)}) |")
    rk = r["rank"]
    verdict = ("n/a (missing: " + ", ".join(rk["missing"]) + ")" if rk["verdict"] is None
               else "yes" if rk["verdict"] else "no")
    shares = {p["persona"]: p["share"] for p in r["personas"]}
    order = "".join((" = " if i and shares[p] == shares[rk["order"][i - 1]] else " < " if i else "")
                    + f"{p} {_pct(shares[p])}" for i, p in enumerate(rk["order"]))
    out += ["", f"Spec personas by realised churn, lowest first: {order or 'none'}.",
            f"Order as the spec's ranges give it (rock_star < solid_performer < the at-risk personas, "
            f"whose ranges overlap): **{verdict}**. Kendall's tau, realised share vs the spec "
            f"range's midpoint: {_num(rk['kendall_tau'])}.", "", "## The formula's ranking", ""]
    a = r["auc"]
    if a["note"]:
        out.append(f"ROC AUC of churn_probability: n/a ({a['note']}; {a['positives']} churned, "
                   f"{a['negatives']} retained).")
    else:
        out.append(f"ROC AUC of churn_probability against the realised label: {a['auc']:.3f} "
                   f"(95% CI {a['lo']:.3f}-{a['hi']:.3f}, Hanley-McNeil; {a['positives']} churned, "
                   f"{a['negatives']} retained).")
    return "\n".join(out)
