#!/usr/bin/python3
"""The ipad demo: a day of real traffic (NASA-HTTP, July 1995) replayed into
a simulated cluster, a real Prometheus scraping it, and ipad scaling the
Deployment shop/web decision by decision. Everything runs on 127.0.0.1 and
stops at the end (or on Ctrl-C).

    tests/sim/demo.py --ipad build/src/ipad [--advisor builtin|ipa-agent]
                      [--start "1995-07-03 06:00"] [--hours 16] [--speedup 240]

Time is compressed: with --speedup 240 a trace minute lasts a quarter of a
second, a trace hour 15 s, so 16 hours of traffic pass in 4 minutes; ipad
runs every 5 s (20 trace minutes) and reads rates over 10 s of scrapes.
Each line shows the trace minute, the load the simulator offers (requests
per second: the trace's requests per minute / 60 x 10, smoothed over five
minutes) and ipad's decision record: what it did, the advisor and how long it
took to answer, and what it observed (request rate and CPU utilization as
Prometheus reports them, over the last 10 s of scrapes).

Ctrl-C stops everything. Exit status 0 when the run showed at least one
scale-up and one scale-down.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from kubesim import KubeSim            # noqa: E402
from llmstub import LLMStub            # noqa: E402
from loadgen import load_trace, replay  # noqa: E402
from prometheus import Prometheus      # noqa: E402

DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {
        "name": "web",
        "namespace": "shop",
        "annotations": {
            "ipad-sim/ingress": "web",
            "ipad-sim/rps": "5",
            "ipad-sim/cpu-per-request": "0.01",
            "ipad-sim/base-cpu": "0.005",
            "ipad-sim/ready-delay-seconds": "2",
        },
    },
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{
                "name": "web",
                "image": "registry.example/shop/web:1.0",
                "resources": {
                    "requests": {"cpu": "100m", "memory": "128Mi"},
                    "limits": {"cpu": "500m", "memory": "256Mi"},
                },
            }]},
        },
    },
}

IPA = """apiVersion: ipa.shafinhasnat.me/v1alpha1
kind: IPA
metadata:
  name: shop
spec:
  metadata:
    prometheusUri: {prometheus}
    llmAgent: {agent}
    ipaGroup:
    - deployment: web
      namespace: shop
      ingress: web
      minReplicas: 1
      maxReplicas: 12
"""

CONF = """[ipad]
interval = 5s
metrics-window = 10s
state-directory = {state}
targets = {ipa_dir}
log-target = stderr
log-format = json
[defaults]
; compressed time: 20 s here are 80 trace minutes (HPA's default is 5 min)
scale-down-stabilization = 20s
[advisor]
type = {advisor}
timeout = 3s
[cluster demo]
kubeconfig = {kubeconfig}
prometheus = {prometheus}
"""


class Trace:
    """The latest trace step, shared between the replay and the printer."""

    def __init__(self):
        self.lock = threading.Lock()
        self.now = ("", 0.0)

    def write(self, line):  # replay() prints its steps here
        parts = line.split()
        if len(parts) >= 5 and parts[0] == "trace":
            with self.lock:
                self.now = ("%s %s" % (parts[1], parts[2]), float(parts[6]))

    def flush(self):
        pass


def main():
    ap = argparse.ArgumentParser(description="ipad demo on 127.0.0.1")
    ap.add_argument("--ipad", default=os.path.join(HERE, "..", "..", "build", "src", "ipad"))
    ap.add_argument("--advisor", choices=("builtin", "ipa-agent"), default="builtin")
    ap.add_argument("--start", default="1995-07-03 04:00",
                    help="first trace minute (the bundled trace: 1-3 July 1995)")
    ap.add_argument("--hours", type=float, default=16.0)
    ap.add_argument("--speedup", type=float, default=240.0)
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    a = ap.parse_args()

    ipad = os.path.abspath(a.ipad)
    if not os.access(ipad, os.X_OK):
        sys.exit("demo: %s is not built; run tests/demo.sh" % ipad)
    work = tempfile.mkdtemp(prefix="ipad-demo-")
    procs, stop, broken = [], threading.Event(), threading.Event()
    # Ctrl-C (SIGINT to the whole terminal group) or SIGTERM: stop cleanly,
    # whichever process of the demo hears it first.
    interrupted = threading.Event()

    def on_signal(signum, frame):
        interrupted.set()
        stop.set()
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    sim = prom = stub = None
    ups = downs = 0
    try:
        print("demo: work directory %s" % work, flush=True)
        sim = KubeSim(os.path.join(work, "kubesim"), objects=[DEPLOYMENT]).start()
        prom = Prometheus(os.path.join(work, "prometheus"), targets=[sim.metrics_url],
                          scrape_interval="1s").start()
        agent = "http://127.0.0.1:9"  # unused by the builtin advisor
        if a.advisor == "ipa-agent":
            stub = LLMStub(os.path.join(work, "agent")).start()
            stub.mode("auto")
            agent = stub.url
        print("demo: Kubernetes API simulator %s, Prometheus %s%s" % (
            sim.api_url, prom.url, ", IPA agent stub " + agent if stub else ""), flush=True)
        ipa_dir = os.path.join(work, "ipa.d")
        os.makedirs(ipa_dir)
        with open(os.path.join(ipa_dir, "shop.yaml"), "w") as f:
            f.write(IPA.format(prometheus=prom.url, agent=agent))
        conf = os.path.join(work, "ipad.conf")
        with open(conf, "w") as f:
            f.write(CONF.format(state=os.path.join(work, "state"), ipa_dir=ipa_dir,
                                advisor=a.advisor, kubeconfig=sim.kubeconfig("token"),
                                prometheus=prom.url))
        print("demo: $ ipad -c %s --check-config" % conf, flush=True)
        subprocess.run([ipad, "-c", conf, "--check-config"], check=True)

        trace = Trace()
        minutes = int(a.hours * 60)
        rows = load_trace()
        def play():
            try:
                replay(sink=sim, targets=[("shop", "web")], rows=rows, start=a.start,
                       minutes=minutes, speedup=a.speedup, factor=10.0, smooth=5,
                       out=trace, stop=stop)
            except Exception as e:  # the simulator went away
                broken.set()
                if not stop.is_set():
                    print("demo: replay stopped: %s" % e, flush=True)

        player = threading.Thread(target=play, daemon=True)
        print("demo: replaying %s trace minutes from %s, one every %.2f s; "
              "ipad runs every 5 s" % (minutes, a.start, 60.0 / a.speedup), flush=True)
        # Let Prometheus fill one metrics window with the starting load first.
        sim.set_load("shop", "web", 5)
        if interrupted.wait(12):
            raise KeyboardInterrupt
        player.start()
        # ipad gets its own process group: Ctrl-C reaches the demo, which
        # stops ipad with SIGTERM like systemd would.
        p = subprocess.Popen([ipad, "-c", conf], stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
        procs.append(p)

        def pump():
            nonlocal ups, downs
            for line in p.stderr:
                try:
                    rec = json.loads(line)
                except ValueError:
                    print("ipad: " + line.rstrip(), flush=True)
                    continue
                with trace.lock:
                    when, rps = trace.now
                frm, to = rec.get("IPA_REPLICAS_FROM"), rec.get("IPA_REPLICAS_TO")
                if rec.get("IPA_ACTION") in ("scale", "scale+resize") and frm and to:
                    if int(to) > int(frm):
                        ups += 1
                    elif int(to) < int(frm):
                        downs += 1
                print("[%s load %5.1f/s] %s" % (when or "start", rps,
                                                rec.get("MESSAGE", line.strip())),
                      flush=True)

        printer = threading.Thread(target=pump, daemon=True)
        printer.start()
        while player.is_alive() and not interrupted.is_set():
            player.join(0.5)
        if interrupted.is_set() or broken.is_set():
            raise KeyboardInterrupt
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=20)
        printer.join(timeout=5)
        final = sim.deployment("shop", "web")["spec"]["replicas"]
        print("demo: done: %d scale-up%s, %d scale-down%s; shop/web now has %d replica%s"
              % (ups, "" if ups == 1 else "s", downs, "" if downs == 1 else "s",
                 final, "" if final == 1 else "s"), flush=True)
        return 0 if ups and downs else 1
    except KeyboardInterrupt:
        if interrupted.is_set() or not broken.is_set():
            print("\ndemo: interrupted, stopping", flush=True)
            return 130
        print("demo: the simulator went away, stopping", flush=True)
        return 1
    finally:
        stop.set()
        for p in procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
        for s in (stub, prom, sim):
            if s is not None:
                s.stop()
        if a.keep:
            print("demo: kept %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
