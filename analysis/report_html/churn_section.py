"""The `churn` section: the labels (who stopped after the window), the churn model's out-of-fold
metrics with its calibration and feature figures (the PNGs the model wrote into DATA/model/:
made once, by the model), and the realised churn by persona and by signal
(analysis/churn/causes.py, `run.py churn`)."""
from __future__ import annotations

from analysis.report_html.html import cards, code, esc, figure, table

MODEL_FIGURES = (
    ("calibration.png", "Calibration of the churn predictions",
     "Reliability diagram: the out-of-fold predicted churn probability (quantile bins) against the observed "
     "churn share, for the spec's formula and the learned models; the diagonal is perfect calibration."),
    ("feature_importance.png", "Churn model features",
     "Left: the logistic regression's coefficients per standard deviation (red: more churn). Right: the "
     "gradient-boosting model's impurity importances, the 15 largest of each."),
)
METRICS = (("roc_auc", "ROC AUC"), ("pr_auc", "PR AUC"), ("brier", "Brier score (lower is better)"))


def _pct(v) -> str:
    return "n/a" if v is None else f"{100 * v:.1f}%"


def _ci(d: dict) -> str:
    return "n/a" if d.get("lo") is None else f"{100 * d['lo']:.1f}-{100 * d['hi']:.1f}%"


def _model(inp) -> list[str]:
    m = inp.model
    if not m:
        return [f"<p>No churn model in this folder (<code>model/metrics.json</code>): train one with "
                f"{code('python run.py model DATA')}.</p>"]
    if m.get("status") != "trained":
        return [f"<p>The churn model was not trained: {esc(m.get('status'))}: {esc(m.get('reason'))}.</p>"]
    out = [cards([("population", esc(f"{m['rows']} tutors active at the window's end")),
                  ("churned within the horizon", esc(f"{m['positives']} ({_pct(m['base_rate'])})")),
                  ("horizon", esc(f"{m['horizon_days']} days")),
                  ("cross-validation", esc(f"{m['cv']['n_splits']} folds x {m['cv']['n_repeats']} repeats, out of fold")),
                  ("features", esc(len(m.get("features", []))))]),
           f"<p>{esc(m['label'][0].upper() + m['label'][1:])}; {esc(m['population'])}. The baseline is "
           f"{esc(m['baseline'])}.</p>"]
    rows = []
    for name, scores in m["models"].items():
        rows.append([code(name), *(f"{scores[k]['mean']:.3f} ± {scores[k]['sd']:.3f}" for k, _ in METRICS)])
    out.append(table(["model", *(label for _, label in METRICS)], rows,
                     "Out-of-fold metrics: mean ± SD over the repeats", numeric={1, 2, 3}, row_header=True))
    rows = [[code(name), *(f"{d[k]['mean']:+.3f} ({d[k]['repeats_better']} of {m['cv']['n_repeats']} repeats better)"
                           for k, _ in METRICS)] for name, d in m.get("comparison", {}).items()]
    if rows:
        out.append(table(["learned minus the formula", *(label for _, label in METRICS)], rows,
                         "Paired differences per repeat (same folds)", row_header=True))
    for i, (name, title, alt) in enumerate(MODEL_FIGURES, start=1):
        png = inp.model_figures.get(name)
        if png:
            out.append(f"<h4>{esc(title)}</h4>" + figure(png, "image/png", f"{title}. {alt}",
                                                         f"Churn figure {i}. {esc(alt)} (<code>model/{name}</code>)",
                                                         f"fig-{name.split('.')[0]}"))
    return out


def _causes(inp) -> list[str]:
    r = inp.causes
    if r is None:
        return [f"<p>Realised churn by cause not measured: {esc(inp.causes_note or 'no churn labels')}.</p>"]
    c, a = r["churn"], r["auc"]
    auc = (f"n/a ({a['note']})" if a.get("note") else f"{a['auc']:.3f} (95% CI {a['lo']:.3f}-{a['hi']:.3f})")
    out = [cards([("tutors", esc(r["tutors"])), ("active at the window's end", esc(f"{r['active']} ({_pct(r['active_share'])})")),
                  ("churned within the horizon", esc(f"{c['churned']} of {c['n']}: {_pct(c['share'])} (95% CI {_ci(c)})")),
                  ("reasons", esc(", ".join(f"{k} {v}" for k, v in r["reasons"].items()) or "none")),
                  ("ROC AUC of churn_probability", esc(auc))])]
    rows = []
    for p in r["personas"]:
        spec = f"{p['spec_range'][0]:.2f}-{p['spec_range'][1]:.2f}" if p["spec_range"] else ""
        every = p["stopped_by_horizon"]
        mean_p = p["mean_churn_probability"]
        rows.append([esc(p["persona"]), str(p["n"]), str(p["churned"]), esc(f"{_pct(p['share'])} ({_ci(p)})"),
                     "n/a" if mean_p is None else f"{mean_p:.3f}", esc(spec),
                     esc(f"{every['churned']}/{every['n']}: {_pct(every['share'])}")])
    out.append(table(["persona", "tutors", "churned", "realised share (95% CI)", "mean churn_probability",
                      "spec range", "all tutors: stopped by the horizon"], rows,
                     "Realised churn by persona (tutors active at the window's end)", numeric={1, 2, 4}, row_header=True))
    rows = []
    for s in r["signals"]:
        w, wo, d = s["with"], s["without"], s["difference"]
        diff = "n/a" if d["value"] is None else f"{100 * d['value']:+.1f} pp ({100 * d['lo']:+.1f} to {100 * d['hi']:+.1f})"
        rows.append([code(s["signal"]), esc(f"{w['churned']}/{w['n']}: {_pct(w['share'])} ({_ci(w)})"),
                     esc(f"{wo['churned']}/{wo['n']}: {_pct(wo['share'])} ({_ci(wo)})"), esc(diff),
                     "n/a" if s["risk_ratio"] is None else f"{s['risk_ratio']:.2f}"])
    out.append(table(["signal", "with the signal: churned", "without: churned", "difference (95% CI)", "risk ratio"],
                     rows, "Realised churn with and without each of the spec's churn signals (95% Wilson and "
                     "Newcombe intervals)", numeric={4}, row_header=True))
    out.append(f"<p class=\"note\">The same numbers, pooled over several runs: {code('python run.py churn DATA [DATA ...]')}.</p>")
    return out


def churn_section(inp) -> str:
    parts = ["<h3>The churn model</h3>", *_model(inp), "<h3>Realised churn by persona and signal</h3>", *_causes(inp)]
    return "\n".join(parts)
