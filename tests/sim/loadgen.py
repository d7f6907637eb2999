#!/usr/bin/python3
"""Replay a request-rate trace into the Kubernetes simulator.

Reads a ``time,number_of_requests`` CSV (requests per minute, like
/work/shared/traces/nasa-http-1995-per-minute.csv; tests/data holds three days
of July 1995), compresses time (``--speedup N``: one trace minute every 60/N
seconds), turns requests/min into the simulator's requests/s

    rps = req_per_min / 60 * factor          (factor 10: 312 req/min -> 52.0 rps)

optionally smoothed (trailing mean over ``--smooth K`` trace minutes), and sets
it as the load of one or more Deployments, either through a ``KubeSim`` object
(``set_load(ns, name, rps)``) or the simulator's ``POST /_sim/load`` endpoint.

    loadgen.py --sim-url http://127.0.0.1:PORT --target shop/web \\
               --start "1995-07-01 14:00" --minutes 30 --speedup 60

prints one line per step:

    trace 1995-07-01 14:00  312 req/min -> 52.0 rps

Importable: ``load_trace``, ``steps`` (pure), ``replay``.
"""

import argparse
import csv
import json
import os
import sys
import time
import urllib.request
from collections import deque

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_TRACE = os.path.join(HERE, "..", "data", "nasa-1995-07-01-03.csv")


def load_trace(path=DEFAULT_TRACE):
    """[(time 'YYYY-MM-DD HH:MM', requests per minute int), ...] in file order.
    Accepts the NASA shape (time,number_of_requests) and any two-column
    time,count CSV with a header."""
    rows = []
    with open(path, newline="") as f:
        r = csv.reader(f)
        header = next(r, None)
        if header is None:
            return rows
        for lineno, rec in enumerate(r, start=2):
            if not rec or not rec[0].strip():
                continue
            try:
                rows.append((rec[0].strip()[:16], int(float(rec[1]))))
            except (IndexError, ValueError):
                raise ValueError("%s:%d: expected time,count, got %r" % (path, lineno, rec))
    return rows


def steps(rows, start=None, minutes=None, factor=10.0, smooth=1):
    """Yield (time, req_per_min, rps) from ``start`` (a 'YYYY-MM-DD HH:MM'
    prefix; default the first row) for ``minutes`` rows (default: to the end).
    ``smooth`` K > 1 uses the trailing mean of the last K minutes (including
    minutes before ``start`` when the trace has them)."""
    i0 = 0
    if start:
        for i, (t, _) in enumerate(rows):
            if t >= start[:16]:
                i0 = i
                break
        else:
            raise ValueError("trace has no minute at or after %r" % start)
    i1 = len(rows) if minutes is None else min(len(rows), i0 + int(minutes))
    k = max(1, int(smooth or 1))
    window = deque((c for _, c in rows[max(0, i0 - k + 1):i0]), maxlen=k)
    for t, c in rows[i0:i1]:
        window.append(c)
        rate = sum(window) / len(window)
        yield t, c, round(rate / 60.0 * factor, 3)


class HttpSink:
    """Sets the load through the simulator's ``POST /_sim/load`` endpoint."""

    def __init__(self, base_url, timeout=5.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def set_load(self, namespace, name, rps):
        body = json.dumps({"namespace": namespace, "name": name, "deployment": name,
                           "rps": rps}).encode()
        req = urllib.request.Request(self.base_url + "/_sim/load", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=self.timeout) as r:
            r.read()


def _parse_target(s):
    ns, sep, name = s.partition("/")
    if not sep or not ns or not name:
        raise argparse.ArgumentTypeError("target must be NAMESPACE/NAME, not %r" % s)
    return ns, name


def replay(sink, targets, rows=None, start=None, minutes=None, speedup=60.0,
           factor=10.0, smooth=1, out=sys.stdout, sleep=time.sleep,
           clock=time.monotonic, stop=None):
    """Replay ``rows`` (default: the bundled trace) into ``sink.set_load``
    for every (namespace, name) in ``targets``; one trace minute lasts
    60/speedup seconds of wall time (schedule kept against the clock, so no
    drift). ``stop``: an optional threading.Event ending the replay early.
    Returns the list of (time, req_per_min, rps) steps played."""
    if rows is None:
        rows = load_trace()
    if speedup <= 0:
        raise ValueError("speedup must be > 0")
    step = 60.0 / speedup
    played = []
    t0 = clock()
    for i, (t, c, rps) in enumerate(steps(rows, start, minutes, factor, smooth)):
        due = t0 + i * step
        wait = due - clock()
        if wait > 0:
            if stop is not None:
                if stop.wait(wait):
                    break
            else:
                sleep(wait)
        elif stop is not None and stop.is_set():
            break
        for ns, name in targets:
            sink.set_load(ns, name, rps)
        if out is not None:
            print("trace %s %4d req/min -> %.1f rps" % (t, c, rps), file=out, flush=True)
        played.append((t, c, rps))
    return played


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--trace", default=DEFAULT_TRACE, help="CSV time,requests_per_minute")
    ap.add_argument("--sim-url", help="simulator control URL (POST /_sim/load)")
    ap.add_argument("--sim-state-dir", help="or: the simulator's --state-dir "
                    "(its ready.json names the control URL)")
    ap.add_argument("--target", action="append", type=_parse_target, default=[],
                    metavar="NS/NAME", help="Deployment to drive (repeatable)")
    ap.add_argument("--start", help="first trace minute, 'YYYY-MM-DD HH:MM'")
    ap.add_argument("--minutes", type=int, help="number of trace minutes to play")
    ap.add_argument("--speedup", type=float, default=60.0,
                    help="trace minutes per wall minute (60: one trace minute per second)")
    ap.add_argument("--factor", type=float, default=10.0,
                    help="rps = requests_per_minute / 60 * FACTOR")
    ap.add_argument("--smooth", type=int, default=1, help="trailing mean over K minutes")
    ap.add_argument("--print-only", action="store_true",
                    help="print the steps without a simulator and without waiting")
    a = ap.parse_args(argv)
    rows = load_trace(a.trace)
    if a.print_only:
        for t, c, rps in steps(rows, a.start, a.minutes, a.factor, a.smooth):
            print("trace %s %4d req/min -> %.1f rps" % (t, c, rps))
        return 0
    if a.sim_state_dir and not a.sim_url:
        with open(os.path.join(a.sim_state_dir, "ready.json")) as f:
            a.sim_url = json.load(f)["metrics_url"]
    if not a.sim_url or not a.target:
        ap.error("--sim-url (or --sim-state-dir) and at least one --target are needed "
                 "(or --print-only)")
    try:
        replay(HttpSink(a.sim_url), a.target, rows, a.start, a.minutes, a.speedup,
               a.factor, a.smooth)
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
