"""ipad as a systemd service, without systemd: the sd_notify protocol
through a test NOTIFY_SOCKET (READY, STATUS, RELOADING, STOPPING, WATCHDOG),
reload on SIGHUP with a good and a bad configuration while cycles run, and
SIGTERM in the middle of a cycle (ipad(8) SIGNALS, src/runtime.h)."""

import fcntl
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import ipad_env
from e2e_helpers import (MSG_DECISION, MSG_RELOAD_FAILED, MSG_RELOADED, conf_for, deployment,
                         ipa_yaml, namespace, replicas_of, writes)

MSG_STALLED = "38a159b6a6ce497fac9c502b3e30a628"


class NotifySocket:
    """An AF_UNIX datagram socket standing in for systemd's NOTIFY_SOCKET;
    every message is kept as (monotonic time, {KEY: value})."""

    def __init__(self):
        # sun_path holds 108 bytes: keep it short, not under tmp_path
        self.dir = tempfile.mkdtemp(prefix="ipad-sdn-")
        self.path = os.path.join(self.dir, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self.messages = []
        self._lock = threading.Lock()
        self._stop = False
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        while not self._stop:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            fields = dict(line.split("=", 1) for line in
                          data.decode("utf-8", "replace").split("\n") if "=" in line)
            with self._lock:
                self.messages.append((time.monotonic(), fields))

    def env(self, watchdog_s=None):
        e = {"NOTIFY_SOCKET": self.path}
        if watchdog_s:
            e["WATCHDOG_USEC"] = str(int(watchdog_s * 1e6))
        return e

    def since(self, t0=0.0):
        with self._lock:
            return [(t, m) for t, m in self.messages if t >= t0]

    def wait(self, pred, timeout=15.0, t0=0.0, what="a message"):
        """The first message after t0 for which pred(fields) is true."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for t, m in self.since(t0):
                if pred(m):
                    return t, m
            time.sleep(0.05)
        raise AssertionError("no %s within %.0fs; got %s" % (what, timeout, self.dump(t0)))

    def statuses(self, t0=0.0):
        return [m["STATUS"] for _, m in self.since(t0) if "STATUS" in m]

    def pings(self, t0=0.0, t1=None):
        return [t for t, m in self.since(t0) if m.get("WATCHDOG") == "1"
                and (t1 is None or t <= t1)]

    def dump(self, t0=0.0):
        return "\n".join("%.2f %r" % (t, m) for t, m in self.since(t0))[-4000:]

    def close(self):
        self._stop = True
        self._thread.join(2)
        self.sock.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def notify():
    n = NotifySocket()
    yield n
    n.close()


def ghost_conf(kubeconfig, prom, **kw):
    kw.setdefault("advisor", "builtin")
    kw.setdefault("interval", "1s")
    return conf_for(kubeconfig, prom, **kw)


def ghost_yaml(ns, names, prom, llm="http://127.0.0.1:9"):
    """IPA items for Deployments that need not exist."""
    return ipa_yaml("ipa-" + ns, [{"deployment": n, "namespace": ns} for n in names],
                    prom, llm)


def test_ready_status_watchdog_stopping(sim, kubeconfig, dead_url, start_ipad, notify, unique):
    ns = unique("sdn")
    dm = start_ipad(ghost_conf(kubeconfig, dead_url, log_target="stderr"),
                    [ghost_yaml(ns, ["ghost"], dead_url)], env=notify.env(watchdog_s=1.0))
    _, ready = notify.wait(lambda m: m.get("READY") == "1", what="READY=1")
    assert ready["STATUS"].startswith("1 target, 1 cluster, advisor builtin"), ready
    _, st = notify.wait(lambda m: "last cycle" in m.get("STATUS", ""), what="a cycle's STATUS")
    assert re.search(r"last cycle \d+\.\d s: 0 changed, 1 failed; last error: %s/ghost: " % ns,
                     st["STATUS"]), st
    assert "\n" not in st["STATUS"]

    # WATCHDOG_USEC=1 s: a ping every half second, cycles or not
    t0 = time.monotonic()
    time.sleep(3.2)
    pings = notify.pings(t0)
    assert len(pings) >= 5, notify.dump(t0)
    gaps = [b - a for a, b in zip(pings, pings[1:])]
    assert max(gaps) < 0.8, (gaps, notify.dump(t0))

    t_stop = time.monotonic()
    assert dm.stop() == 0, dm.stderr()[-3000:]
    notify.wait(lambda m: m.get("STOPPING") == "1", t0=t_stop, timeout=1, what="STOPPING=1")


def test_no_watchdog_pings_without_watchdog_usec(sim, kubeconfig, dead_url, start_ipad, notify,
                                                 unique):
    ns = unique("sdn")
    dm = start_ipad(ghost_conf(kubeconfig, dead_url, log_target="stderr"),
                    [ghost_yaml(ns, ["ghost"], dead_url)], env=notify.env())
    notify.wait(lambda m: "last cycle" in m.get("STATUS", ""), what="a cycle's STATUS")
    time.sleep(1.5)
    assert not notify.pings(), notify.dump()
    assert dm.stop() == 0


def test_watchdog_pings_stop_while_a_cycle_is_wedged(sim, kubeconfig, dead_url, ipad_bin,
                                                     tmp_path, notify, unique):
    """A worker blocked for good (here: writing a record to a stderr pipe
    nobody reads) wedges the cycle: after two intervals without a finished
    target the pings stop, so that systemd would restart ipad; they come
    back when the work does."""
    ns = unique("wedge")
    d = tmp_path / "wedge"
    (d / "ipa.d").mkdir(parents=True)
    (d / "state").mkdir()
    conf = d / "ipad.conf"
    conf.write_text(ghost_conf(kubeconfig, dead_url, log_target="stderr")
                    .replace("@DIR@", str(d)))
    # 40 records of ~500 bytes: far more than a 4 KiB pipe holds
    (d / "ipa.d" / "10.yaml").write_text(
        ghost_yaml(ns, ["ghost-%02d" % i for i in range(40)], dead_url))
    p = subprocess.Popen([ipad_bin, "-c", str(conf)], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         env=ipad_env(notify.env(watchdog_s=1.0)))
    try:
        fcntl.fcntl(p.stderr.fileno(), 1031, 4096)  # F_SETPIPE_SZ
        notify.wait(lambda m: m.get("READY") == "1", what="READY=1")
        t0 = time.monotonic()
        time.sleep(5)
        assert p.poll() is None
        pings = notify.pings(t0)
        # the cycle started at READY and wedged at once: pings for about
        # two intervals (2 s), then none
        assert pings, notify.dump()
        assert time.monotonic() - pings[-1] > 2.0, notify.dump(t0)
        assert not any("last cycle" in s for s in notify.statuses()), notify.dump()

        # unblock: the cycle ends and the pings come back
        fl = fcntl.fcntl(p.stderr.fileno(), fcntl.F_GETFL)
        fcntl.fcntl(p.stderr.fileno(), fcntl.F_SETFL, fl | os.O_NONBLOCK)
        stderr = bytearray()
        t1 = time.monotonic()
        deadline = t1 + 10
        while time.monotonic() < deadline and not notify.pings(t1 + 0.5):
            try:
                stderr += p.stderr.read() or b""
            except BlockingIOError:
                pass
            time.sleep(0.05)
        assert notify.pings(t1 + 0.5), notify.dump(t1)
        text = stderr.decode("utf-8", "replace")
        assert MSG_STALLED in text, text[-3000:]
        p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        while p.poll() is None and time.monotonic() < deadline:
            try:
                stderr += p.stderr.read() or b""
            except BlockingIOError:
                pass
            time.sleep(0.05)
        assert p.poll() == 0, stderr.decode("utf-8", "replace")[-3000:]
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_reload_good_then_bad_while_cycles_run(sim, kubeconfig, dead_url, llmstub, journald,
                                               start_ipad, notify, decisions, unique):
    ns = unique("reload")
    sim.apply(namespace(ns))
    # a slow advisor: each cycle (interval 2 s) is in the middle of an
    # advisor call for most of its time
    llmstub.mode("fixed", text={"replicas": 2}, delay=1.2)
    conf = ghost_conf(kubeconfig, dead_url, advisor="ipa-agent", interval="2s",
                      timeout="5s")
    dm = start_ipad(conf, {"10.yaml": ghost_yaml(ns, ["one"], dead_url, llmstub.url)},
                    env=notify.env())
    notify.wait(lambda m: m.get("READY") == "1", what="READY=1")
    decisions(dm, 1, timeout=20, IPA_DEPLOYMENT="one")

    # good: a second IPA file, and another interval
    (dm.dir / "ipa.d" / "20.yaml").write_text(ghost_yaml(ns, ["two"], dead_url, llmstub.url))
    t0 = time.monotonic()
    dm.proc.send_signal(signal.SIGHUP)
    _, rl = notify.wait(lambda m: m.get("RELOADING") == "1", t0=t0, timeout=2,
                        what="RELOADING=1")
    assert re.fullmatch(r"[0-9]+", rl.get("MONOTONIC_USEC", "")), rl
    now_usec = time.clock_gettime(time.CLOCK_MONOTONIC) * 1e6
    assert abs(now_usec - int(rl["MONOTONIC_USEC"])) < 5e6, rl
    t_ready, ready = notify.wait(lambda m: m.get("READY") == "1", t0=t0, timeout=10,
                                 what="READY=1 after the reload")
    assert ready["STATUS"].startswith("2 targets, 1 cluster"), ready
    ok = journald.wait_for(dict(MESSAGE_ID=MSG_RELOADED, _PID=str(dm.pid)), timeout=5)
    assert "2 targets" in ok[0]["MESSAGE"], ok
    decisions(dm, 1, timeout=20, IPA_DEPLOYMENT="two")

    # no cycle was cut in half: every cycle recorded "one" exactly once
    # before the reload record, i.e. the reload came between two cycles
    recs = journald.read(pid=str(dm.pid))
    order = [r.get("MESSAGE_ID") for r in recs]
    i_reload = order.index(MSG_RELOADED)
    before = [r for r in recs[:i_reload] if r.get("MESSAGE_ID") == MSG_DECISION]
    assert before and all(r["IPA_DEPLOYMENT"] == "one" for r in before), before

    # bad: an INI error; the running configuration stays, cycles go on
    good_text = dm.dir.joinpath("ipad.conf").read_text()
    dm.dir.joinpath("ipad.conf").write_text(good_text.replace("interval = 2s",
                                                              "interval = soon"))
    n_two = len(journald.read(MESSAGE_ID=MSG_DECISION, IPA_DEPLOYMENT="two", pid=str(dm.pid)))
    t1 = time.monotonic()
    dm.proc.send_signal(signal.SIGHUP)
    notify.wait(lambda m: m.get("RELOADING") == "1", t0=t1, timeout=2, what="RELOADING=1")
    _, ready = notify.wait(lambda m: m.get("READY") == "1", t0=t1, timeout=10,
                           what="READY=1 after the failed reload")
    assert "reload failed" in ready["STATUS"], ready
    assert "ipad.conf:2" in ready["STATUS"], ready
    assert ready["STATUS"].startswith("2 targets, 1 cluster"), ready
    bad = journald.wait_for(dict(MESSAGE_ID=MSG_RELOAD_FAILED, _PID=str(dm.pid)), timeout=5)
    assert bad[0]["PRIORITY"] == "3", bad
    assert re.search(r"ipad\.conf:2: .*interval", bad[0]["MESSAGE"]), bad
    decisions(dm, n_two + 2, timeout=20, IPA_DEPLOYMENT="two")
    assert dm.alive()

    # fixed again: the next reload succeeds and clears the error
    dm.dir.joinpath("ipad.conf").write_text(good_text)
    t2 = time.monotonic()
    dm.proc.send_signal(signal.SIGHUP)
    _, ready = notify.wait(lambda m: m.get("READY") == "1", t0=t2, timeout=10,
                           what="READY=1 after the repaired reload")
    assert "error" not in ready["STATUS"], ready
    assert dm.stop() == 0, dm.stderr()[-3000:]


def test_sigterm_mid_cycle_abandons_the_step_and_exits_0(sim, kubeconfig, dead_url, llmstub,
                                                        journald, start_ipad, notify,
                                                        decisions, unique):
    ns = unique("term")
    sim.apply(namespace(ns))
    sim.apply(deployment(ns, "web", replicas=3))
    # the advisor would scale to 6, but answers only after 60 s
    llmstub.mode("fixed", text={"replicas": 6}, delay=60)
    conf = ghost_conf(kubeconfig, dead_url, advisor="ipa-agent", interval="120s",
                      timeout="60s")
    dm = start_ipad(conf, [ghost_yaml(ns, ["web"], dead_url, llmstub.url)], env=notify.env())
    notify.wait(lambda m: m.get("READY") == "1", what="READY=1")
    deadline = time.monotonic() + 15
    while not llmstub.requests() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert llmstub.requests(), "the advisor was never asked"
    t0 = time.monotonic()
    assert dm.stop(timeout=10) == 0, dm.stderr()[-3000:]
    took = time.monotonic() - t0
    assert took < 5, "ipad took %.1f s to stop" % took
    notify.wait(lambda m: m.get("STOPPING") == "1", t0=t0, timeout=1, what="STOPPING=1")
    rec = decisions(dm, 1, IPA_DEPLOYMENT="web")[0]
    assert rec["IPA_ACTION"] == "hold", rec
    assert "stopping" in rec.get("IPA_ERROR", ""), rec
    assert replicas_of(sim, ns, "web") == 3
    assert not writes(sim.requests(), ns, "web")
