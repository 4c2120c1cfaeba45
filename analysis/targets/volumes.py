"""Section 17: data volumes, row counts against the run's size."""
from __future__ import annotations

from functools import partial

from analysis.targets.checks import Measured, Skip, metric
from analysis.targets.columns import E, G, I, P, S, X
from analysis.targets.measures import run_info

VOLUMES: dict[str, dict[str, tuple[float, float]]] = {
    # section 17; sessions +/-5% in production, +/-15% around "~1,000" in dev
    "production": {"tutors": (150, 150), "sessions": (22500 * 0.95, 22500 * 1.05),
                   "events": (4500, 9000), "interventions": (50, 100), "experiments": (4, 5),
                   "assignments": (150, 400)},
    "dev": {"tutors": (25, 25), "sessions": (1000 * 0.85, 1000 * 1.15),
            "events": (700, 1400), "interventions": (10, 20), "experiments": (3, 4),
            "assignments": (25, 80)},
}


def volume(d, what: str, table: str):
    """Rows of `table`, against run.json (tutors; sessions = sessions_per_day x window_days
    ± 5%), else the mode's VOLUMES, else production's scaled by the run's tutors x days."""
    info = run_info(d)
    n = len(d.table(table))
    if what == "tutors":
        if info["manifest"] and info["tutors"] is not None:
            t = info["tutors"]
            return Measured(n, lo=t, hi=t, target_text=f"{t} (run.json)")
        if info["mode"] == "custom":
            raise Skip("tutor count is neither 150 nor 25 and there is no run.json")
        lo, hi = VOLUMES[info["mode"]]["tutors"]
        return Measured(n, lo=lo, hi=hi, target_text=f"{lo:.0f} ({info['mode']})")
    if what == "sessions" and info["spd"] and info["days"]:
        exp = float(info["spd"]) * float(info["days"])
        return Measured(n, lo=exp * 0.95, hi=exp * 1.05,
                        target_text=f"{exp:,.0f} ± 5% (run.json)")
    if info["mode"] in VOLUMES:
        lo, hi = VOLUMES[info["mode"]][what]
        return Measured(n, lo=lo, hi=hi, target_text=f"[{lo:,.0f}, {hi:,.0f}] ({info['mode']})")
    if what == "sessions" or info["tutors"] is None or info["days"] is None:
        raise Skip("custom run without run.json: no expected volume")
    # custom run: scale the production ranges by the run's size
    scale = {"events": info["tutors"] * info["days"] / (150 * 30),
             "interventions": info["tutors"] * info["days"] / (150 * 30),
             "assignments": info["tutors"] / 150}.get(what)
    lo, hi = VOLUMES["production"][what]
    if scale is None:
        lo, hi = 3, 5
    else:
        lo, hi = lo * scale, hi * scale
    return Measured(n, lo=lo, hi=hi,
                    target_text=f"[{lo:,.0f}, {hi:,.0f}] (production scaled)")


metric(17, "tutors", level="table", needs=P,
       fn=partial(volume, what="tutors", table="profiles"))
metric(17, "sessions (~750 per day)", level="table", needs=S,
       fn=partial(volume, what="sessions", table="sessions"), key="volume_sessions")
metric(17, "engagement events", level="table", needs=E,
       fn=partial(volume, what="events", table="events"))
metric(17, "interventions", level="table", needs=I,
       fn=partial(volume, what="interventions", table="interventions"))
metric(17, "experiments", level="table", needs=X,
       fn=partial(volume, what="experiments", table="experiments"))
metric(17, "experiment assignments", level="table", needs=G,
       fn=partial(volume, what="assignments", table="assignments"))
