"""How quickly `run.py live` makes a simulated moment visible in PostgreSQL, and how promptly it stops.

    python bench/live_bench.py --db postgresql://... [--seconds 20] [--scenarios dev,production]

For each scenario and speed (1, 60, 3600) a live run (dashboard target, a fresh schema) is driven
in this process for `--seconds` of wall-clock time after its history is loaded; every batch's
latency is the wall time from the moment the simulated clock passed the batch's first instant to
the batch's commit: the longest any row of it waited. Printed: batches, rows written, batch
latency median / 95th percentile / max, how far the database trailed the clock at the end, and the
longest wall-clock gap between two commits.
Then Ctrl-C: `run.py live` at speed 60 as a subprocess, SIGINT a few seconds in, the wall time
until it has exited (three times).
"""
from __future__ import annotations

import argparse
import math
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def fresh_schema(url: str):
    import psycopg
    name = f"live_bench_{uuid.uuid4().hex[:8]}"
    conn = psycopg.connect(url, autocommit=True)
    conn.execute(f"CREATE SCHEMA {name}")
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{name}", conn, name


def one(url: str, scenario: str, speed: float, seconds: float) -> dict:
    from output.live_sink import LiveSink
    from pipeline.live import Live
    from world.scenario import apply_overrides, read_document, validate_document
    doc = read_document(ROOT / "scenarios" / f"{scenario}.toml")
    fresh = apply_overrides(doc, ["calendar.window_end=now"])
    db, conn, name = fresh_schema(url)
    live = Live(validate_document(doc, scenario), doc, LiveSink(db, "dashboard"), speed)
    try:
        started = time.monotonic()
        live.start(fresh)
        history = time.monotonic() - started
        if speed == 1.0:            # the history ends at the hour: catch up with the wall clock first
            live.run(live.clock.now())
            live.progress.latencies.clear()
            live.progress.gaps.clear()
        rows0 = live.progress.rows
        live.run(live.clock.now() + speed * seconds / 60.0)
        lat = sorted(live.progress.latencies)
        return {"scenario": scenario, "speed": speed, "history_s": history, "batches": len(lat),
                "rows": live.progress.rows - rows0, "median": statistics.median(lat),
                "p95": lat[int(0.95 * (len(lat) - 1))], "max": lat[-1], "lag": live.lag_seconds(),
                "gap": max(live.progress.gaps, default=0.0)}
    finally:
        live.close()
        live.sink.close()
        conn.execute(f"DROP SCHEMA {name} CASCADE")
        conn.close()


def _ctrl_c_default() -> None:
    """In the child before exec: SIGINT as a terminal's foreground job gets it (a bench started in
    the background by a shell inherits it ignored, and so would the live run)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def stop_times(url: str, repeats: int = 3) -> list[float]:
    out = []
    for _ in range(repeats):
        db, conn, name = fresh_schema(url)
        proc = subprocess.Popen([sys.executable, "run.py", "live", "--mode", "dev", "--db", db, "--speed", "60",
                                 "--no-progress"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True, start_new_session=True, preexec_fn=_ctrl_c_default)
        try:
            time.sleep(8)
            sent = time.monotonic()
            os.killpg(proc.pid, signal.SIGINT)
            try:
                _, err = proc.communicate(timeout=60)
                out.append(time.monotonic() - sent)
            except subprocess.TimeoutExpired:
                os.system(f"py-spy dump --pid {proc.pid} 2>/dev/null")      # where it is stuck, if py-spy is there
                os.system(f"grep -E 'Sig(Blk|Ign|Cgt)' /proc/{proc.pid}/status")
                proc.kill()
                _, err = proc.communicate()
                print(f"did not exit within 60 s of SIGINT; its stderr ends: {err[-1500:]}", flush=True)
                out.append(math.inf)
        finally:
            if proc.poll() is None:
                proc.kill()
            conn.execute(f"DROP SCHEMA {name} CASCADE")
            conn.close()
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", default=os.environ.get("TUTORSIM_PG_URL"), help="postgresql:// URL (default: $TUTORSIM_PG_URL)")
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--scenarios", default="dev,production")
    args = p.parse_args()
    if not args.db:
        sys.exit("live_bench: give --db postgresql://... or set TUTORSIM_PG_URL")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"{'scenario':11s} {'speed':>6s} {'history':>8s} {'batches':>8s} {'rows':>8s} "
          f"{'median':>7s} {'p95':>7s} {'max':>7s} {'lag':>6s} {'gap':>6s}   (latency: wall s from a batch's "
          f"first moment to its commit; gap: the longest wall s between two commits)")
    for scenario in args.scenarios.split(","):
        for speed in (1.0, 60.0, 3600.0):
            r = one(args.db, scenario, speed, args.seconds)
            print(f"{r['scenario']:11s} {r['speed']:6g} {r['history_s']:7.1f}s {r['batches']:8d} {r['rows']:8,d} "
                  f"{r['median']:6.2f}s {r['p95']:6.2f}s {r['max']:6.2f}s {r['lag']:5.1f}s {r['gap']:5.2f}s", flush=True)
    times = stop_times(args.db)
    print("Ctrl-C to exit (dev, speed 60): " + ", ".join(f"{t:.2f} s" for t in times))
    return 0


if __name__ == "__main__":
    sys.exit(main())
