"""The churn model's figures: feature_importance.png and calibration.png, rendered to PNG
bytes (`FIGURES`), by this process or by the forked helper (processes.py)."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd

from analysis.chart.mpl import pyplot
from analysis.churn.models import BASELINE, boosting_model

DPI = 110
PNG_COMPRESS_LEVEL = 3      # zlib level: ~half the encoding time of the default 6, and no larger here


def _figure(*grid, figsize):
    """`plt.subplots` at the dpi the PNG is saved with, and with no layout engine (whatever the
    rcParams say): the margins are set by hand (`_margins`). At the saving dpi, the renderer that
    measures the tick labels for the margins is the one savefig draws with, and matplotlib keeps
    each text's measurement for it: measured once, not once for a layout and again at 110 dpi."""
    return pyplot().subplots(*grid, figsize=figsize, dpi=DPI, layout="none")


def _tick_label_width(ax) -> float:
    """Width in inches of the widest y tick label of `ax`, as savefig will draw it."""
    renderer = ax.get_figure().canvas.get_renderer()
    widths = [label.get_window_extent(renderer).width for label in ax.get_yticklabels()]
    return max(widths, default=0.0) / DPI


def _margins(fig, left: float, right: float, bottom: float, top: float, gap: float = 0.0) -> None:
    """Place the axes (one row) with these margins and `gap` between axes, in inches: what
    tight_layout would find, without its measuring every artist of the figure (a third of a
    figure's time). The callers add room for the tick labels they measured (`_tick_label_width`);
    the titles and axis labels are of a fixed size."""
    width, height = fig.get_size_inches()
    n = len(fig.axes)
    axes_width = (width - left - right - gap * (n - 1)) / n
    fig.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height,
                        top=1 - top / height, wspace=gap / axes_width if n > 1 else 0.0)


def _unhinted(render):
    """`render` (a function of FIGURES) with the text unhinted (`text.hinting` no_hinting, here
    only): FreeType draws each glyph as it is instead of first running the font's TrueType hinting
    program on it, a fifth of the feature figure's time (279 -> 219 ms) and a seventh of the
    calibration figure's; the text looks the same at 110 dpi, a shade smoother. The measurements
    for the margins are taken with the same setting as the drawing."""
    import functools

    @functools.wraps(render)
    def unhinted(*args) -> bytes:
        import matplotlib
        with matplotlib.rc_context({"text.hinting": "no_hinting"}):
            return render(*args)
    return unhinted


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, pil_kwargs={"compress_level": PNG_COMPRESS_LEVEL})
    pyplot().close(fig)
    return buffer.getvalue()


@_unhinted
def feature_importance_png(coef: list, inputs: list, importances, feature_names: list) -> bytes:
    """Standardized logistic coefficients (`inputs` names them) and the boosting model's
    importances (`feature_names`), the 15 largest of each."""
    coef = pd.Series(coef, index=inputs)
    top = coef.reindex(coef.abs().sort_values(ascending=False).index)[:15][::-1]
    gb = pd.Series(importances, index=feature_names)
    gb_top = gb.sort_values(ascending=False)[:15][::-1]
    fig, axes = _figure(1, 2, figsize=(12, 6))
    axes[0].barh(top.index, top.to_numpy(), color=np.where(top.to_numpy() > 0, "#c0392b", "#2e86c1"))
    axes[0].axvline(0, color="black", lw=0.8)
    axes[0].set_title("Logistic regression: coefficient per standard deviation\n(red: more churn)")
    axes[1].barh(gb_top.index, gb_top.to_numpy(), color="#7d8c8d")
    axes[1].set_title("Gradient boosting: impurity importance")
    fig.suptitle("Churn model features (fitted on every tutor active at the window's end)")
    # room for the feature names left of each axes; the top for the title and the two-line titles
    _margins(fig, left=_tick_label_width(axes[0]) + 0.3, right=0.25, bottom=0.4, top=0.9,
             gap=_tick_label_width(axes[1]) + 0.4)
    return _png(fig)


@_unhinted
def calibration_png(curves: dict, brier: dict, base_rate: float) -> bytes:
    """Reliability diagram of `calibration_curves`; `brier`: the mean Brier score of each model."""
    fig, ax = _figure(figsize=(6.5, 6))
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="perfectly calibrated")
    styles = {BASELINE: ("#7d8c8d", "s"), "logistic": ("#c0392b", "o"), "gradient_boosting": ("#2e86c1", "^")}
    top_p = 0.0
    for name, (mean_p, frac) in curves.items():
        top_p = max(top_p, float(mean_p.max()), float(frac.max()))
        color, marker = styles.get(name, ("black", "x"))
        ax.plot(mean_p, frac, marker=marker, color=color, label=f"{name} (Brier {brier[name]:.3f})")
    ax.axhline(base_rate, color="black", lw=0.6, ls=":", label=f"base rate {base_rate:.3f}")
    lim = min(1.0, max(0.2, top_p * 1.1))
    ax.set_xlim(0, lim)
    ax.set_ylim(0, lim)
    ax.set_xlabel("predicted churn probability (out of fold, quantile bins)")
    ax.set_ylabel("observed churn share")
    ax.set_title("Calibration of the churn predictions")
    ax.legend(loc="upper left", fontsize=8)
    # the y axis label and tick labels left, the x ones below, the title above
    _margins(fig, left=_tick_label_width(ax) + 0.45, right=0.25, bottom=0.6, top=0.35)
    return _png(fig)


def boosting_importances(Xv, y, seed: int):
    """The impurity importances of the boosting model fitted on every row: it is only drawn
    (`feature_figure`)."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return boosting_model(seed).fit(Xv, y).named_steps["model"].feature_importances_


def feature_figure(coef: list, inputs: list, importances, feature_names: list) -> bytes:
    """`feature_importance_png`, where `importances` may also be a callable that computes them
    (`functools.partial(boosting_importances, ...)`): the helper then fits the boosting model
    where it draws it, not the process about to start the cross-validation (`train`)."""
    return feature_importance_png(coef, inputs, importances() if callable(importances) else importances,
                                  feature_names)


FIGURES = {"feature_importance.png": feature_figure, "calibration.png": calibration_png}
