"""What-if analysis: the outcomes of a run, and what compare and sweep make of many runs.

    outcomes(data_dir)       the key outcomes of one run's tables, as a dict (used by both)
    difference_table(...)    compare's B - A per outcome: the mean difference and its 95%
                             t-interval (paired under common random numbers, else Welch's)
    sweep_summary(...)       sweep's mean and 95% t-interval of every outcome per grid point
    format_*, *_figure(s)    the printed tables and the PNGs

Nothing here runs a simulation: pipeline/replications.py runs the replications (and reads each
run's outcomes with outcomes()). The command line is commands/compare.py and commands/sweep.py.
"""
from __future__ import annotations

import json
import math
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from output.reading import has_table, read_table


@dataclass(frozen=True)
class Outcome:
    key: str
    label: str
    about: str


OUTCOMES = (
    Outcome("sessions_per_day", "held sessions per day", "completed sessions in the window / window days"),
    Outcome("mean_rating", "mean rating", "mean student_rating of completed sessions"),
    Outcome("first_session_failure_share", "first-session failure share",
            "completed first sessions rated < 3.5 / completed first sessions"),
    Outcome("mean_churn_probability", "mean churn probability", "mean churn_probability of tutor_aggregates"),
    Outcome("stopped_in_window", "tutors who stopped in the window",
            "tutors who quit or were suspended during the window (ground_truth/churn_labels.csv)"),
    Outcome("expected_quits_in_window", "expected quits in the window",
            "the sum over the window's days of every active tutor's quit hazard (daily.csv expected_quits): "
            "the number of quits by decision the causes imply, of which stopped_in_window is one draw"),
    Outcome("no_show_share", "tutor no-show share", "sessions the tutor did not show up for / sessions"),
    Outcome("evening_mean_rating", "mean rating 18-21 h", "mean rating of completed sessions starting 18:00-20:59"),
    Outcome("evening_poor_fair_share", "Poor/Fair connections 18-21 h",
            "completed sessions 18:00-20:59 with a Poor or Fair connection / those sessions"),
    Outcome("weekend_session_share", "weekend session share", "completed sessions on Saturday or Sunday / completed sessions"),
    Outcome("interventions", "emails sent", "rows of interventions.csv: emails the platform decided to send in the window"),
    Outcome("emails_per_tutor", "emails per tutor",
            "emails sent / tutors on the platform at the window's start (not stopped before it)"),
    Outcome("coaching_hours", "coaching hours",
            "coaching calls attended in the window x their length (engagement_events.csv: "
            "coaching_attended, duration_min)"),
    Outcome("teaching_hours_given_up", "teaching hours given up",
            "coaching calls booked in the window in an hour the tutor offers students: each holds that "
            "hour, which students cannot book (engagement_events.csv, coaching_scheduled)"),
    Outcome("email_open_share", "email open share",
            "delivered interventions opened / delivered (interventions.csv): falls as tutors tire of email"),
    Outcome("unsubscribed", "tutors who unsubscribed",
            "tutors who unsubscribed from the platform's emails in the window (ground_truth/unsubscribes.csv)"),
    Outcome("intervention_success_share", "intervention success share",
            "delivered interventions clicked or responded to / delivered (interventions.csv)"),
    Outcome("coached_engagement_lift", "engagement lift of coached tutors",
            "mean engagement_after - engagement_before (7 days after vs before the email) of delivered "
            "non-technical interventions whose link the tutor followed, i.e. booked coaching "
            "(interventions.csv); includes regression to the mean: compare with coaching effect 0"),
)
OUTCOME_KEYS = tuple(o.key for o in OUTCOMES)
# counts: their means and intervals are never below 0, a difference never below minus the baseline's
COUNTS = {"stopped_in_window", "interventions", "coaching_hours", "teaching_hours_given_up", "unsubscribed"}


def churn_outcomes(horizon_days: int) -> tuple[Outcome, ...]:
    """The churn after the window, named by the look-ahead's horizon (churned_30d): none without
    a look-ahead."""
    if horizon_days <= 0:
        return ()
    h = f"churned_{horizon_days}d"
    after = (f"tutors active at the window's end who stop within {horizon_days} days after it "
             "(ground_truth/churn_labels.csv, from the look-ahead)")
    return (Outcome(h, f"churned within {horizon_days} d", after),
            Outcome(f"{h}_quit", f"  of which quit", f"{after}, by their own decision"),
            Outcome(f"{h}_suspended", f"  of which suspended", f"{after}, suspended by the platform"))


def outcome_list(keys) -> list[Outcome]:
    """The outcomes among `keys` (a runs table's columns), in their canonical order: the churn
    outcomes after the in-window quits."""
    known = {o.key: o for o in OUTCOMES}
    for key in keys:
        horizon = re.fullmatch(r"churned_(\d+)d", key)
        if horizon:
            known.update({o.key: o for o in churn_outcomes(int(horizon.group(1)))})
    order = []
    for o in OUTCOMES:
        order.append(o)
        if o.key == "stopped_in_window":
            order += [c for k, c in known.items() if k.startswith("churned_")]
    return [o for o in order if o.key in set(keys)]


def is_count(key: str) -> bool:
    return key in COUNTS or key.startswith("churned_")


FIRST_SESSION_FAIL = 3.5
EVENING_HOURS = (18, 19, 20)


def _mean(values) -> float:
    values = pd.Series(values, dtype="float64").dropna()
    return float(values.mean()) if len(values) else math.nan


def outcomes(data_dir) -> dict[str, float]:
    """The key outcomes of one run's output folder (see OUTCOMES); NaN where a table is missing
    or has nothing to measure."""
    d = Path(data_dir)
    manifest = json.loads((d / "run.json").read_text(encoding="utf-8"))
    days = manifest["window_days"]
    s = read_table(d / "sessions.csv", usecols=["session_datetime", "is_first_session", "session_completed",
                                                 "tutor_showed", "connection_quality", "student_rating"])
    held = s[s["session_completed"].astype(bool)]
    rating = held["student_rating"].astype("float64")
    first = held["is_first_session"].astype(bool)
    hour = held["session_datetime"].str.slice(11, 13).astype(int)
    evening = hour.isin(EVENING_HOURS)
    weekday = pd.to_datetime(held["session_datetime"].str.slice(0, 10)).dt.day_of_week
    out = {
        "sessions_per_day": len(held) / days,
        "mean_rating": _mean(rating),
        "first_session_failure_share": _mean((rating[first] < FIRST_SESSION_FAIL).astype(float)),
        "mean_churn_probability": _mean(read_table(d / "tutor_aggregates.csv", usecols=["churn_probability"])["churn_probability"]),
        "no_show_share": _mean((~s["tutor_showed"].astype(bool)).astype(float)),
        "evening_mean_rating": _mean(rating[evening]),
        "evening_poor_fair_share": _mean(held.loc[evening, "connection_quality"].isin(["Poor", "Fair"]).astype(float)),
        "weekend_session_share": _mean((weekday >= 5).astype(float)),
    }
    out["expected_quits_in_window"] = expected_quits(d, manifest)
    out.update(intervention_outcomes(d / "interventions.csv"))
    labels = read_table(d / "ground_truth" / "churn_labels.csv", usecols=["churned_at", "reason"])
    stopped_at = pd.to_datetime(labels["churned_at"])
    out.update(stop_outcomes(stopped_at, labels["reason"], manifest))
    out.update(cost_outcomes(d, stopped_at, manifest, out["interventions"]))
    keys = [o.key for o in outcome_list(list(OUTCOME_KEYS) + list(out))]
    return {k: out.get(k, math.nan) for k in keys}


def _window_bounds(manifest: dict) -> tuple[pd.Timestamp, pd.Timestamp]:
    end = pd.Timestamp(str(manifest["window_end"]))
    return end - pd.Timedelta(days=int(manifest["window_days"])), end


def expected_quits(d: Path, manifest: dict) -> float:
    """The window's expected quits by decision: daily.csv's expected_quits over the window's days."""
    if not has_table(d / "daily.csv"):
        return math.nan
    daily = read_table(d / "daily.csv")
    if "expected_quits" not in daily:
        return math.nan
    window = daily["day"] >= int(manifest["warmup_days"])
    return float(daily.loc[window, "expected_quits"].sum())


def stop_outcomes(at: pd.Series, reason: pd.Series, manifest: dict) -> dict[str, float]:
    """Tutors who stopped in the window, and after it within the look-ahead (quit or suspended),
    from the churn labels' times `at` (NaT: did not stop) and reasons."""
    start, end = _window_bounds(manifest)
    out = {"stopped_in_window": float(((at >= start) & (at < end)).sum())}
    horizon = int(manifest.get("lookahead_days", 0))
    if horizon > 0:
        after = at >= end
        key = f"churned_{horizon}d"
        out[key] = float(after.sum())
        out[f"{key}_quit"] = float((after & (reason == "quit")).sum())
        out[f"{key}_suspended"] = float((after & (reason == "suspended")).sum())
    return out


def cost_outcomes(d: Path, stopped_at: pd.Series, manifest: dict, emails: float) -> dict[str, float]:
    """What the intervention policy costs: emails per tutor on the platform at the window's
    start (`stopped_at`: the labels' times), the coaching hours and the teaching hours given up."""
    start, _ = _window_bounds(manifest)
    present = int((stopped_at.isna() | (stopped_at >= start)).sum())
    out = {"emails_per_tutor": emails / present if present and not math.isnan(emails) else math.nan,
           "coaching_hours": math.nan, "teaching_hours_given_up": math.nan}
    if has_table(d / "engagement_events.csv"):
        events = read_table(d / "engagement_events.csv", usecols=["event_type", "event_data"])
        attended = events.loc[events["event_type"] == "coaching_attended", "event_data"]
        out["coaching_hours"] = sum(json.loads(text)["duration_min"] for text in attended) / 60.0
        booked = events.loc[events["event_type"] == "coaching_scheduled", "event_data"]
        out["teaching_hours_given_up"] = float(sum(bool(json.loads(text).get("teaching_hour")) for text in booked))
    return out


def intervention_outcomes(path: Path) -> dict[str, float]:
    """Success share and the engagement lift of coached tutors, from interventions.csv."""
    nan = {"interventions": math.nan, "intervention_success_share": math.nan, "coached_engagement_lift": math.nan,
           "email_open_share": math.nan, "unsubscribed": math.nan}
    if not has_table(path):
        return nan
    iv = read_table(path, usecols=["intervention_type", "status", "opened_at", "clicked_at", "responded_at",
                                    "engagement_before", "engagement_after"])
    delivered = ~iv["status"].isin(["pending", "sent", "failed"])
    success = iv["clicked_at"].notna() | iv["responded_at"].notna()
    change = iv["engagement_after"] - iv["engagement_before"]
    teaching = delivered & (iv["intervention_type"] != "technical")
    coached = teaching & iv["clicked_at"].notna()           # followed the link: coaching booked
    lift = _mean(change[coached])
    unsubscribes = path.parent / "ground_truth" / "unsubscribes.csv"
    return {"interventions": float(len(iv)),
            "intervention_success_share": float(success[delivered].mean()) if delivered.any() else math.nan,
            "coached_engagement_lift": lift,
            "email_open_share": float(iv["opened_at"].notna()[delivered].mean()) if delivered.any() else math.nan,
            "unsubscribed": float(len(read_table(unsubscribes, usecols=["tutor_id"])))
            if has_table(unsubscribes) else math.nan}


# --- statistics ------------------------------------------------------------------------------------

def t_interval(values, level: float = 0.95, count: bool = False, floor: float = math.nan) -> tuple[float, float, float]:
    """Mean and its t-interval (NaN bounds with fewer than two values). The interval is cut where
    nothing is possible: at 0 for the mean of a count (`count`), at `floor` for a difference (a
    count's difference is never below minus the baseline's count)."""
    from scipy import stats

    v = pd.Series(values, dtype="float64").dropna().to_numpy()
    if len(v) == 0:
        return math.nan, math.nan, math.nan
    m = float(v.mean())
    if len(v) < 2:
        return m, math.nan, math.nan
    half = float(stats.t.ppf(0.5 + level / 2, len(v) - 1) * v.std(ddof=1) / math.sqrt(len(v)))
    low = max(m - half, 0.0) if count else m - half
    if not math.isnan(floor):
        low = max(low, floor)
    return m, low, m + half


def difference_table(a: pd.DataFrame, b: pd.DataFrame, paired: bool, level: float = 0.95) -> pd.DataFrame:
    """Per outcome: A's and B's means, B - A and its t-interval. Paired (common random numbers:
    replication r of A and of B share a seed): the interval of the per-replication differences.
    Independent seeds: Welch's interval for a difference of two means. `sd_diff` is the standard
    deviation of the per-replication differences B_r - A_r in both cases (with independent seeds
    it estimates sd(A) and sd(B) combined), for comparing the variance of the two designs."""
    from scipy import stats

    rows = []
    for o in outcome_list(a.columns):
        x = a[o.key].to_numpy("float64")
        y = b[o.key].to_numpy("float64")
        d = y - x
        d = d[~np.isnan(d)]
        xs, ys = x[~np.isnan(x)], y[~np.isnan(y)]
        row = {"outcome": o.key, "label": o.label, "mean_a": _mean(xs), "mean_b": _mean(ys),
               "diff": math.nan, "ci_low": math.nan, "ci_high": math.nan, "p_value": math.nan,
               "sd_diff": float(d.std(ddof=1)) if len(d) >= 2 else math.nan, "n": int(len(d))}
        floor = -row["mean_a"] if is_count(o.key) else math.nan      # B >= 0: B - A >= -A
        if paired:
            row["diff"], row["ci_low"], row["ci_high"] = t_interval(d, level, floor=floor)
            if len(d) >= 2:
                with warnings.catch_warnings():      # near-identical differences: precision note
                    warnings.simplefilter("ignore", RuntimeWarning)
                    row["p_value"] = 1.0 if np.all(d == 0) else float(stats.ttest_1samp(d, 0.0).pvalue)
        elif len(xs) and len(ys):
            row["diff"] = float(ys.mean() - xs.mean())
            if len(xs) >= 2 and len(ys) >= 2:
                va, vb = xs.var(ddof=1) / len(xs), ys.var(ddof=1) / len(ys)
                se = math.sqrt(va + vb)
                if se > 0:
                    df = (va + vb) ** 2 / (va ** 2 / (len(xs) - 1) + vb ** 2 / (len(ys) - 1))
                    half = float(stats.t.ppf(0.5 + level / 2, df) * se)
                    row["p_value"] = float(2 * stats.t.sf(abs(row["diff"]) / se, df))
                else:
                    half = 0.0
                row["ci_low"], row["ci_high"] = row["diff"] - half, row["diff"] + half
                if not math.isnan(floor):
                    row["ci_low"] = max(row["ci_low"], floor)
        rows.append(row)
    return pd.DataFrame(rows)


# --- compare ---------------------------------------------------------------------------------------

@dataclass
class Arm:
    """One side of a comparison: a merged scenario document and where it came from."""
    name: str
    source: str
    document: dict


def _fmt(v: float, key: str) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    if key == "sessions_per_day" or is_count(key):
        return f"{v:,.1f}"
    return f"{v:.4f}" if abs(v) < 1 else f"{v:.3f}"


def format_table(table: pd.DataFrame, a_name: str = "A", b_name: str = "B") -> str:
    head = f"{'outcome':34s} {a_name:>10s} {b_name:>10s} {b_name + ' - ' + a_name:>10s}   95% CI of the difference"
    lines = [head, "-" * len(head)]
    for row in table.itertuples(index=False):
        ci = "n/a" if math.isnan(row.ci_low) else f"[{_fmt(row.ci_low, row.outcome)}, {_fmt(row.ci_high, row.outcome)}]"
        diff = _fmt(row.diff, row.outcome)
        if not math.isnan(row.diff) and row.diff > 0 and diff != "n/a":
            diff = "+" + diff
        mark = ""
        if not math.isnan(row.ci_low) and (row.ci_low > 0 or row.ci_high < 0):
            mark = "  *"
        lines.append(f"{row.label:34s} {_fmt(row.mean_a, row.outcome):>10s} {_fmt(row.mean_b, row.outcome):>10s} "
                     f"{diff:>10s}   {ci}{mark}")
    return "\n".join(lines)


def compare_figure(runs: pd.DataFrame, table: pd.DataFrame, a: Arm, b: Arm, path: Path, title: str = "") -> None:
    """Per outcome: the difference B - A with its 95% interval (the table's: paired under common
    random numbers, Welch's with independent seeds), every replication's B_r - A_r as a dot, and
    A's and B's means in the panel's title; red when the interval excludes 0."""
    from analysis.chart.mpl import pyplot
    plt = pyplot()

    listed = outcome_list(runs.columns)
    n = len(listed)
    cols = 4
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.7 * rows), squeeze=False)
    xa = runs[runs["arm"] == a.name].reset_index(drop=True)
    xb = runs[runs["arm"] == b.name].reset_index(drop=True)
    for ax, o, row in zip(axes.flat, listed, table.itertuples(index=False)):
        significant = not math.isnan(row.ci_low) and (row.ci_low > 0 or row.ci_high < 0)
        colour = "#b00020" if significant else "#4C72B0"
        ax.axhline(0.0, color="grey", lw=1, ls="--")
        d = (xb[o.key] - xa[o.key]).dropna().to_numpy()
        if len(d):
            ax.plot(np.linspace(-0.12, 0.12, len(d)) if len(d) > 1 else [0.0], d, "o", color="grey",
                    alpha=0.5, markersize=4, label="B_r - A_r")
        if not math.isnan(row.diff):
            err = None if math.isnan(row.ci_low) else [[row.diff - row.ci_low], [row.ci_high - row.diff]]
            ax.errorbar([0.4], [row.diff], yerr=err, fmt="D", color=colour, capsize=7, markersize=7, lw=2.2)
        ax.set_xlim(-0.5, 0.9)
        ax.set_xticks([0.0, 0.4], ["replications", "mean, 95% CI"], fontsize=7)
        ax.set_title(f"{o.label}\nA {_fmt(row.mean_a, o.key)} -> B {_fmt(row.mean_b, o.key)}", fontsize=9,
                     color=colour if significant else "black")
        ax.tick_params(axis="y", labelsize=8)
        ax.grid(axis="y", alpha=0.3)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.suptitle(title or f"B - A   (A = {a.source}, B = {b.source}; {len(xa)} replications)\n"
                          f"diamond: mean difference and its 95% t-interval; red: the interval excludes 0",
                 fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


# --- sweep ------------------------------------------------------------------------------------------

def sweep_summary(tidy: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Mean and 95% t-interval of every outcome per grid point."""
    rows = []
    for values, group in tidy.groupby(keys, sort=False, dropna=False):
        values = values if isinstance(values, tuple) else (values,)
        row = dict(zip(keys, values))
        row["n"] = len(group)
        for o in outcome_list(tidy.columns):
            row[o.key], row[f"{o.key}_ci_low"], row[f"{o.key}_ci_high"] = t_interval(group[o.key], count=is_count(o.key))
        rows.append(row)
    return pd.DataFrame(rows)


def baseline_table(tidy: pd.DataFrame, keys: list[str], baseline: dict) -> pd.DataFrame:
    """Every grid point against its baseline point (the same values of the other keys, the
    baseline's of `baseline`'s keys), replication by replication on the same seeds: per point and
    outcome, both means, the paired difference and its 95% t-interval (a count's difference never
    below minus the baseline's count). The baseline points themselves are left out."""
    def same(v):        # a grid value as the tidy table holds it (1 in a column with 0.5 is 1.0)
        return float(v) if isinstance(v, (int, float, np.number)) and not isinstance(v, (bool, np.bool_)) else repr(v)

    def key_of(row) -> tuple:
        return tuple(same(row[k]) for k in keys)

    groups = {key_of(g.iloc[0]): g.sort_values("replication").reset_index(drop=True)
              for _, g in tidy.groupby(keys, sort=False, dropna=False)}
    rows = []
    for point, group in groups.items():
        first = group.iloc[0]
        base_point = tuple(same(baseline[k]) if k in baseline else point[i] for i, k in enumerate(keys))
        if base_point == point:
            continue
        base = groups[base_point]
        if list(base["seed"]) != list(group["seed"]):
            raise ValueError("the baseline point and a grid point were run on other seeds")
        table = difference_table(base, group, paired=True)
        for k in reversed(keys):
            table.insert(0, k, first[k])
        rows.append(table.rename(columns={"mean_a": "mean_baseline", "mean_b": "mean"}))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def format_baseline(table: pd.DataFrame, keys: list[str], max_outcomes: int = 6) -> str:
    """A few outcomes per point: the difference from the baseline and its interval."""
    short = short_names(keys)
    shown = list(dict.fromkeys(table["outcome"]))[:max_outcomes]
    lines = []
    for _, group in table.groupby(keys, sort=False, dropna=False):
        first = group.iloc[0]
        lines.append("  " + ", ".join(f"{short[k]}={first[k]}" for k in keys))
        for row in group[group["outcome"].isin(shown)].itertuples(index=False):
            ci = "n/a" if math.isnan(row.ci_low) else f"[{_fmt(row.ci_low, row.outcome)}, {_fmt(row.ci_high, row.outcome)}]"
            diff = "n/a" if math.isnan(row.diff) else ("+" if row.diff > 0 else "") + _fmt(row.diff, row.outcome)
            mark = "  *" if not math.isnan(row.ci_low) and (row.ci_low > 0 or row.ci_high < 0) else ""
            lines.append(f"    {row.label.strip():32s} {diff:>10s}   {ci}{mark}")
    return "\n".join(lines)


def short_names(keys: list[str]) -> dict[str, str]:
    """The shortest dotted suffix of each key that tells it from the others: effect, weekend_load,
    no_show_problem.share."""
    out = {}
    for key in keys:
        parts = key.split(".")
        for n in range(1, len(parts) + 1):
            name = ".".join(parts[-n:])
            if sum(other.endswith(name) for other in keys) == 1 or n == len(parts):
                out[key] = name
                break
    return out


def format_sweep(summary: pd.DataFrame, keys: list[str], outcome_keys=None) -> str:
    short = short_names(keys)
    labels = {o.key: o.label.strip() for o in outcome_list(summary.columns)}
    outcome_keys = list(labels)[:6] if outcome_keys is None else outcome_keys
    widths = {k: max(8, len(short[k]), *(len(str(v)) for v in summary[k])) for k in keys}
    header = " ".join(f"{short[k]:>{widths[k]}s}" for k in keys) + " " + \
        " ".join(f"{labels[o][:22]:>22s}" for o in outcome_keys)
    lines = [header, "-" * len(header)]
    for row in summary.to_dict("records"):
        cells = [f"{str(row[k]):>{widths[k]}s}" for k in keys]
        for o in outcome_keys:
            m, lo, hi = row[o], row[f"{o}_ci_low"], row[f"{o}_ci_high"]
            text = _fmt(m, o) + ("" if math.isnan(lo) else f" ±{_fmt(hi - m, o)}")
            cells.append(f"{text:>22s}")
        lines.append(" ".join(cells))
    return "\n".join(lines)


def sweep_figures(tidy: pd.DataFrame, keys: list[str], out: Path, source: str = "", processes: int = 2) -> list[Path]:
    """One PNG per outcome: mean and 95% interval over replications against the first grid
    parameter, one line per combination of the others; drawn by `processes` processes
    (analysis/report_html/jobs.py: a forked helper shares them out where forking is safe)."""
    from analysis.report_html.jobs import run_jobs

    summary = sweep_summary(tidy, keys)
    short = short_names(keys)
    x_key, others = keys[0], keys[1:]
    xs = list(dict.fromkeys(summary[x_key].tolist()))
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in xs)
    position = {v: (float(v) if numeric else i) for i, v in enumerate(xs)}
    groups = list(summary.groupby(others, sort=False)) if others else [((), summary)]
    span = (max(position.values()) - min(position.values())) or 1.0

    def draw(o) -> bytes:
        from analysis.figure_bytes import png, pyplot
        fig, ax = pyplot().subplots(figsize=(6.4, 4.2))
        for j, (values, group) in enumerate(groups):
            values = values if isinstance(values, tuple) else (values,)
            label = ", ".join(f"{short[k]}={v}" for k, v in zip(others, values)) or None
            dodge = (j - (len(groups) - 1) / 2) * 0.012 * span     # keep the interval bars apart
            x = np.array([position[v] for v in group[x_key]]) + dodge
            m = group[o.key].to_numpy("float64")
            lo = group[f"{o.key}_ci_low"].to_numpy("float64")
            hi = group[f"{o.key}_ci_high"].to_numpy("float64")
            err = np.vstack([m - lo, hi - m])
            err = np.where(np.isnan(err), 0.0, err)
            ax.errorbar(x, m, yerr=err, marker="o", capsize=4, label=label)
        if not numeric:
            ax.set_xticks(list(position.values()), [str(v) for v in xs])
        ax.set_xlabel(x_key)
        ax.set_ylabel(o.label)
        ax.set_title(f"{o.label}: mean and 95% t-interval over replications\n{source}", fontsize=9)
        ax.grid(alpha=0.3)
        if others:
            ax.legend(fontsize=8)
        # fixed margins, room for a y label's numbers: tight_layout would draw every figure twice
        fig.subplots_adjust(left=0.15, right=0.97, bottom=0.12, top=0.86)
        return png(fig, 100)

    figures = outcome_list(tidy.columns)
    drawn = run_jobs({o.key: (lambda o=o: draw(o)) for o in figures}, processes)
    paths = []
    for o in figures:
        if not isinstance(drawn[o.key], bytes):
            raise RuntimeError(f"sweep figure {o.key}: {drawn[o.key]}")
        path = Path(out) / f"sweep_{o.key}.png"
        path.write_bytes(drawn[o.key])
        paths.append(path)
    return paths
