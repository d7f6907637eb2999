"""The .deb and its unit under a real systemd: a clean Debian 12 booted in a
container, where the host's PID 1 need not be systemd (issue 6).

A Debian 12 root file system (``debootstrap --variant=minbase`` with systemd,
systemd-sysv and dbus: a clean machine that boots, nothing of ipad's) is
built once and cached (IPAD_TEST_ROOTFS, default
/var/cache/ipad-test/bookworm-systemd; IPAD_TEST_MIRROR, default
deb.debian.org, with bookworm-updates and bookworm-security).
``systemd-nspawn --boot --volatile=overlay`` boots it with systemd as PID 1
of the container: every write goes to a tmpfs, the cached tree never
changes. The container shares the host's network, so the demo environment
of tests/sim/demo.py runs on the host's 127.0.0.1: the Kubernetes API
simulator with the Deployment shop/web, a real Prometheus scraping it and
the IPA agent stub (``demo.sh --advisor ipa-agent``).

Commands run inside with ``nsenter --all --target <container PID 1>``
(no machined needed), as a user would type them:

  apt-get update && apt-get install ./ipad_*.deb   the dependencies come
                                 from the mirror; the postinst enables (and
                                 starts) ipad.service
  /etc/ipad/ipad.conf, /etc/ipad/kubeconfig (0640 root:ipad),
  /etc/ipad/ipa.d/shop.yaml      demo.py's configuration, at the shipped
                                 paths: no drop-in, the unit is the package's
  systemctl restart ipad         Type=notify: returns after READY=1;
                                 systemctl is-active says active
  journalctl -u ipad -o json     decision records (MESSAGE_ID c1166194...)
                                 with their IPA_* fields, from user ipad
  systemctl reload ipad          a changed configuration: ipad's reloaded
                                 record, systemd's "Reloaded" job record, the
                                 same main PID; a broken one: the reload-failed
                                 record and the old configuration runs on
  systemctl stop ipad            exit status 0, Result=success
  /etc/ipad/credentials/openai   the advisor key through LoadCredential=
                                 (advisor_openai), sent to the stub's OpenAI
                                 dialect after a start

The .deb is IPAD_DEB, else build/package/deb/ipad_*.deb (tests/package.sh
leaves it there; tests/check.sh runs this file after it). Each step is a
test; a step whose predecessor failed is skipped with that reason.

Skips, with the reason, when: not root, no systemd-nspawn (package
systemd-container) or debootstrap, no .deb, the root file system cannot be
built (no mirror), the container does not boot, or apt-get update fails in it. Timings of every step go
to IPAD_TEST_LOG (default build/systemd-unit-test.log) and stdout.
"""

import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "sim"))
import demo  # noqa: E402  (the demo's Deployment, IPA file and ipad.conf)
from kubesim import KubeSim  # noqa: E402
from llmstub import LLMStub  # noqa: E402
from prometheus import Prometheus  # noqa: E402

MSG_DECISION = "c1166194fd7a4538b12ea45c58fa659e"
MSG_LIFECYCLE = "a6b97f6a62354b0da168fbece8b40327"
MSG_RELOADED = "95452230bc0c43fea0270ec9cd149f06"
MSG_RELOAD_FAILED = "594cd9fc2f6a428880737b891cd9def5"
SD_MSG_UNIT_RELOADED = "7b05ebc668384222baa8881179cfda54"  # systemd: a reload job finished

ROOTFS = Path(os.environ.get("IPAD_TEST_ROOTFS", "/var/cache/ipad-test/bookworm-systemd"))
MIRROR = os.environ.get("IPAD_TEST_MIRROR", "http://deb.debian.org/debian")
ROOTFS_PACKAGES = "systemd,systemd-sysv,dbus"
SECURITY = os.environ.get("IPAD_TEST_SECURITY_MIRROR",
                          "http://deb.debian.org/debian-security"
                          if MIRROR == "http://deb.debian.org/debian" else "")
SOURCES = "deb %s bookworm main\ndeb %s bookworm-updates main\n" % (MIRROR, MIRROR) + (
    "deb %s bookworm-security main\n" % SECURITY if SECURITY else "")
ROOTFS_STAMP = "debootstrap --variant=minbase --include=%s bookworm %s; %s" % (
    ROOTFS_PACKAGES, MIRROR, SOURCES.strip().replace("\n", "; "))
LOG = Path(os.environ.get("IPAD_TEST_LOG", ROOT / "build" / "systemd-unit-test.log"))
STAGE_IN = "/mnt/ipad-test"  # the host's stage directory, read-only, in the container


def log(msg):
    line = "%s %s" % (time.strftime("%H:%M:%S"), msg)
    print(line, flush=True)
    try:
        LOG.parent.mkdir(parents=True, exist_ok=True)
        with open(LOG, "a") as f:
            f.write(line + "\n")
    except OSError:
        pass


class Timed:
    def __init__(self, what):
        self.what = what

    def __enter__(self):
        self.t0 = time.monotonic()
        return self

    def __exit__(self, *exc):
        self.seconds = time.monotonic() - self.t0
        log("%-48s %6.1f s%s" % (self.what, self.seconds, " (failed)" if exc[0] else ""))


def _wait(pred, timeout, what, step=0.5):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))
        time.sleep(step)


# -- what the host must offer -----------------------------------------------------------
def _find_deb():
    if os.environ.get("IPAD_DEB"):
        return os.environ["IPAD_DEB"]
    debs = [d for d in sorted((ROOT / "build" / "package" / "deb").glob("ipad_*.deb"))
            if "dbgsym" not in d.name]
    return str(debs[-1]) if debs else None


def _environment_problem():
    if os.geteuid() != 0:
        return "needs root (systemd-nspawn boots a container)"
    if not shutil.which("systemd-nspawn"):
        return "no systemd-nspawn: apt-get install systemd-container"
    if not shutil.which("nsenter"):
        return "no nsenter: apt-get install util-linux"
    if not (ROOTFS / ".ipad-rootfs").exists() and not shutil.which("debootstrap"):
        return "no cached root file system at %s and no debootstrap: apt-get install " \
               "debootstrap" % ROOTFS
    return None


def _ensure_rootfs():
    """The cached Debian 12 tree; built with debootstrap when missing or made
    with other parameters. Returns (path, seconds spent building)."""
    stamp = ROOTFS / ".ipad-rootfs"
    if stamp.exists() and stamp.read_text().strip() == ROOTFS_STAMP:
        return ROOTFS, 0.0
    ROOTFS.parent.mkdir(parents=True, exist_ok=True)
    with open(str(ROOTFS) + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one builder at a time
        if stamp.exists() and stamp.read_text().strip() == ROOTFS_STAMP:
            return ROOTFS, 0.0
        tmp = Path("%s.tmp-%d" % (ROOTFS, os.getpid()))
        shutil.rmtree(tmp, ignore_errors=True)
        t0 = time.monotonic()
        out = tmp.with_suffix(".log")
        with open(out, "w") as f:
            try:
                rc = subprocess.call(["debootstrap", "--variant=minbase",
                                      "--include=" + ROOTFS_PACKAGES, "bookworm", str(tmp),
                                      MIRROR], stdout=f, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, timeout=900)
            except subprocess.TimeoutExpired:
                rc = "timeout, 900 s"
        if rc != 0:
            tail = out.read_text(errors="replace")[-1500:]
            shutil.rmtree(tmp, ignore_errors=True)
            out.unlink()
            pytest.skip("debootstrap of Debian 12 from %s failed (exit %s; no mirror?):\n%s"
                        % (MIRROR, rc, tail))
        # apt inside: the mirror, its updates and (for Debian's own) security
        (tmp / "etc/apt/sources.list").write_text(SOURCES)
        (tmp / "etc" / "hostname").write_text("ipad-test\n")
        (tmp / ".ipad-rootfs").write_text(ROOTFS_STAMP + "\n")
        shutil.rmtree(ROOTFS, ignore_errors=True)
        os.rename(tmp, ROOTFS)
        out.unlink()
        return ROOTFS, time.monotonic() - t0


# -- the booted container ----------------------------------------------------------------
class Box:
    """systemd-nspawn --boot of the cached tree (volatile: nothing it writes
    stays), commands through nsenter."""

    def __init__(self, rootfs, stage, work):
        self.name = "ipad-test-%s" % uuid.uuid4().hex[:8]
        self.console = open(os.path.join(work, "console.log"), "w+")
        self.proc = subprocess.Popen(
            ["systemd-nspawn", "--quiet", "--boot", "--directory", str(rootfs),
             "--volatile=overlay", "--register=no", "--keep-unit",
             "--machine", self.name, "--bind-ro=%s:%s" % (stage, STAGE_IN)],
            stdin=subprocess.DEVNULL, stdout=self.console, stderr=subprocess.STDOUT,
            start_new_session=True)
        self.leader = None
        self.env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
                    "DEBIAN_FRONTEND": "noninteractive", "SYSTEMD_PAGER": "",
                    "SYSTEMD_COLORS": "0"}
        for k in ("http_proxy", "https_proxy", "no_proxy"):
            if os.environ.get(k):
                self.env[k] = os.environ[k]

    def console_text(self):
        self.console.flush()
        return Path(self.console.name).read_text(errors="replace")

    def _find_leader(self):
        if self.proc.poll() is not None:
            raise AssertionError("systemd-nspawn exited with %s:\n%s"
                                 % (self.proc.returncode, self.console_text()[-3000:]))
        try:
            kids = Path("/proc/%d/task/%d/children" % (self.proc.pid, self.proc.pid)
                        ).read_text().split()
        except OSError:
            return None
        for k in kids:
            try:
                if Path("/proc/%s/comm" % k).read_text().strip() == "systemd":
                    return int(k)
            except OSError:
                pass
        return None

    def boot(self, timeout=90):
        self.leader = _wait(self._find_leader, 30, "the container's PID 1", step=0.1)
        deadline = time.monotonic() + timeout
        state = ""
        while time.monotonic() < deadline:
            p = self.run("systemctl", "is-system-running", "--wait", check=False,
                         timeout=max(1, deadline - time.monotonic()))
            state = p.stdout.strip()
            if state in ("running", "degraded"):
                return state
            time.sleep(0.2)
        raise AssertionError("the container did not boot in %ss (state %r):\n%s"
                             % (timeout, state, self.console_text()[-3000:]))

    def run(self, *cmd, check=True, timeout=120, input=None):
        p = subprocess.run(["nsenter", "--all", "--target", str(self.leader), "--"]
                           + list(cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, env=self.env, timeout=timeout, input=input)
        if check and p.returncode != 0:
            raise AssertionError("in the container: %s: exit %d\n%s%s"
                                 % (" ".join(cmd), p.returncode, p.stdout[-3000:],
                                    p.stderr[-3000:]))
        return p

    def sh(self, script, **kw):
        return self.run("/bin/sh", "-ec", script, **kw)

    def write(self, path, text, mode="0644", group="root"):
        self.run("install", "-D", "-m", mode, "-g", group, "/dev/stdin", path, input=text)

    def systemctl(self, *args, check=True):
        return self.run("systemctl", "--no-pager", *args, check=check)

    def show(self, *props):
        out = self.systemctl("show", "ipad.service",
                             *["--property=" + p for p in props]).stdout
        return dict(l.split("=", 1) for l in out.splitlines() if "=" in l)

    def journal(self, *matches, unit="ipad.service"):
        args = ["journalctl", "-o", "json", "--no-pager", "-q"]
        if unit:
            args += ["-u", unit]
        p = self.run(*(args + list(matches)), check=False)
        seen, out = set(), []
        for line in p.stdout.splitlines():
            if line.strip():
                rec = json.loads(line)
                if rec.get("__CURSOR") not in seen:
                    seen.add(rec.get("__CURSOR"))
                    out.append(rec)
        return out

    def diagnostics(self):
        parts = []
        for cmd in (("systemctl", "--no-pager", "status", "ipad.service"),
                    ("journalctl", "--no-pager", "-o", "short-precise", "-n", "60")):
            try:
                p = self.run(*cmd, check=False, timeout=20)
                parts.append("$ %s\n%s%s" % (" ".join(cmd), p.stdout, p.stderr))
            except Exception as e:  # the container is gone
                parts.append("$ %s: %s" % (" ".join(cmd), e))
        parts.append("---- console (end)\n" + self.console_text()[-2000:])
        return "\n".join(parts)

    def poweroff(self):
        if self.proc.poll() is None:
            # systemd-nspawn turns SIGTERM into an orderly shutdown of the container
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.console.close()


# -- the scenario, step by step ------------------------------------------------------------
class Scenario:
    def __init__(self):
        self.failed = None   # the first step that failed
        self.box = None
        self.facts = {}


@pytest.fixture(scope="module")
def sc(tmp_path_factory):
    reason = _environment_problem()
    if reason:
        pytest.skip(reason)
    deb = _find_deb()
    if not deb or not os.path.isfile(deb):
        pytest.skip("no .deb: set IPAD_DEB or run tests/package.sh build first "
                    "(it leaves build/package/deb/ipad_*.deb)")
    try:
        LOG.unlink()
    except OSError:
        pass
    log("the .deb: %s" % deb)
    with Timed("root file system (debootstrap or cache)"):
        rootfs, built = _ensure_rootfs()
    log("root file system %s: %s" % (rootfs, "built in %.0f s" % built if built
                                     else "cached"))

    work = tmp_path_factory.mktemp("unit")
    stage = Path(tempfile.mkdtemp(prefix="ipad-unit-stage-"))
    os.chmod(stage, 0o755)
    shutil.copy(deb, stage / os.path.basename(deb))

    s = Scenario()
    s.deb_in = "%s/%s" % (STAGE_IN, os.path.basename(deb))
    sim = prom = stub = None
    try:
        with Timed("demo environment (kubesim, Prometheus, agent stub)"):
            sim = KubeSim(str(work / "kubesim"), objects=[demo.DEPLOYMENT]).start()
            prom = Prometheus(str(work / "prometheus"), targets=[sim.metrics_url],
                              scrape_interval="1s").start()
            stub = LLMStub(str(work / "agent")).start()
            stub.mode("auto")
            sim.set_load("shop", "web", 5)
        s.sim, s.prom, s.stub = sim, prom, stub
        s.kubeconfig = Path(sim.kubeconfig("token")).read_text()
        conf = demo.CONF.format(state="/var/lib/ipad", ipa_dir="/etc/ipad/ipa.d",
                                advisor="ipa-agent", kubeconfig="/etc/ipad/kubeconfig",
                                prometheus=prom.url)
        # records to the journal, as the shipped ipad.conf has it (log-target auto)
        s.conf = conf.replace("log-target = stderr\nlog-format = json\n", "")
        assert s.conf != conf
        s.ipa = demo.IPA.format(prometheus=prom.url, agent=stub.url)

        with Timed("boot Debian 12 (systemd-nspawn --boot)"):
            s.box = Box(rootfs, stage, str(work))
            try:
                state = s.box.boot()
            except AssertionError as e:
                # the tree is a stock Debian 12, ipad is not in it yet: a
                # container that does not boot is this host's limit
                pytest.skip("systemd-nspawn cannot boot Debian 12 here: %s" % e)
        log("container %s: PID 1 is host PID %d, systemd says %s"
            % (s.box.name, s.box.leader, state))
        s.facts["systemd"] = s.box.run("systemctl", "--version").stdout.splitlines()[0]
        yield s
    finally:
        if s.box is not None:
            if s.failed:
                print("---- diagnostics after %s failed\n%s" % (s.failed, s.box.diagnostics()))
            with Timed("power off the container"):
                s.box.poweroff()
        for x in (stub, prom, sim):
            if x is not None:
                x.stop()
        shutil.rmtree(stage, ignore_errors=True)


@pytest.fixture
def step(sc, request):
    """Skips when an earlier step failed; marks the scenario failed when this
    one does."""
    if sc.failed:
        pytest.skip("an earlier step failed: %s" % sc.failed)
    yield sc
    rep = getattr(request.node, "rep_call", None)
    if rep is None or rep.failed:
        sc.failed = request.node.name


def test_1_install_the_deb(step):
    b = step.box
    with Timed("apt-get update (in the container)"):
        p = b.run("apt-get", "update", "-q", timeout=300, check=False)
    if p.returncode != 0 or "\nErr:" in "\n" + p.stdout or "\nE: " in "\n" + p.stderr:
        step.failed = "apt-get update"  # the later steps need the package
        pytest.skip("apt-get update in the container failed (no Debian mirror?): %s%s"
                    % (p.stdout[-1500:], p.stderr[-1500:]))
    with Timed("apt-get install ./ipad.deb"):
        p = b.run("apt-get", "install", "-y", "-q", "--no-install-recommends",
                  step.deb_in, timeout=600)
    log("apt-get install: %s" % " | ".join(l for l in p.stdout.splitlines()
                                          if l.startswith(("Setting up", "Unpacking")))[:800])
    assert b.systemctl("is-enabled", "ipad.service").stdout.strip() == "enabled"
    assert b.run("getent", "passwd", "ipad").stdout.startswith("ipad:")
    # the postinst started ipad with the shipped, unedited configuration
    st = b.show("ActiveState", "SubState", "Result", "ExecMainStatus", "StatusText")
    log("after install, with the shipped ipad.conf: %s" % st)
    step.facts["after-install"] = st
    assert st["ActiveState"] in ("active", "inactive", "failed"), st
    if st["ActiveState"] == "failed":
        # a configuration error, not retried (RestartPreventExitStatus=78)
        assert st["ExecMainStatus"] == "78", st


def test_2_start_reaches_ready(step):
    b = step.box
    b.write("/etc/ipad/ipad.conf", step.conf)
    b.write("/etc/ipad/kubeconfig", step.kubeconfig, mode="0640", group="ipad")
    b.write("/etc/ipad/ipa.d/shop.yaml", step.ipa)
    out = b.run("runuser", "-u", "ipad", "--", "/usr/sbin/ipad", "--check-config").stdout
    assert "1 target, 1 cluster, advisor ipa-agent" in out, out
    # the unit is the package's, with no drop-in
    unit = b.show("FragmentPath", "DropInPaths")
    assert unit == {"FragmentPath": "/lib/systemd/system/ipad.service", "DropInPaths": ""}, unit
    with Timed("systemctl restart ipad (until READY=1)"):
        b.systemctl("restart", "ipad.service")  # Type=notify: returns after READY=1
    assert b.systemctl("is-active", "ipad.service").stdout.strip() == "active"
    st = b.show("MainPID", "StatusText", "NRestarts", "WatchdogUSec", "Type")
    log("started: %s" % st)
    assert st["Type"] == "notify"
    assert st["StatusText"].startswith("1 target, 1 cluster, advisor ipa-agent"), st
    step.pid = st["MainPID"]
    started = b.journal("MESSAGE_ID=" + MSG_LIFECYCLE, "_PID=" + step.pid)
    assert started and "started" in started[0]["MESSAGE"], started


def test_3_decisions_in_the_journal(step):
    b = step.box
    step.sim.set_load("shop", "web", 40)  # a busy shop: the advice is to scale up
    with Timed("the first decision records in the journal"):
        recs = _wait(lambda: b.journal("MESSAGE_ID=" + MSG_DECISION), 40,
                     "a decision record (journalctl -u ipad MESSAGE_ID=%s)" % MSG_DECISION)
    uid = b.run("id", "-u", "ipad").stdout.strip()
    for r in recs:
        assert r["_SYSTEMD_UNIT"] == "ipad.service", r
        assert r["_UID"] == uid, r  # User=ipad
        assert r["IPA_DEPLOYMENT"] == "web" and r["IPA_NAMESPACE"] == "shop", r
        assert r["IPA_CLUSTER"] == "demo", r
        for f in ("IPA_ACTION", "IPA_ADVISOR", "IPA_REPLICAS_FROM", "IPA_REPLICAS_TO",
                  "IPA_SOURCE"):
            assert f in r, (f, r)
    log("decision: %s" % recs[0]["MESSAGE"])
    # the agent stub answered from the host, and a scale-up reached the simulator
    with Timed("a scale-up applied to shop/web"):
        up = _wait(lambda: [r for r in b.journal("MESSAGE_ID=" + MSG_DECISION,
                                                 "IPA_ADVISOR=ipa-agent")
                            if r["IPA_ACTION"].startswith("scale")
                            and int(r["IPA_REPLICAS_TO"]) > int(r["IPA_REPLICAS_FROM"])],
                   60, "a scale-up record from the ipa-agent advisor")
    log("decision: %s" % up[-1]["MESSAGE"])
    assert step.stub.requests("/askllm"), "the agent stub was never asked"
    replicas = step.sim.deployment("shop", "web")["spec"]["replicas"]
    assert replicas >= int(up[0]["IPA_REPLICAS_TO"]), (replicas, up[0])


def test_4_reload(step):
    b = step.box
    before = len(b.journal("MESSAGE_ID=" + MSG_DECISION))
    b.write("/etc/ipad/ipad.conf", step.conf.replace("interval = 5s", "interval = 2s"))
    with Timed("systemctl reload ipad"):
        b.systemctl("reload", "ipad.service")
    assert b.systemctl("is-active", "ipad.service").stdout.strip() == "active"
    st = b.show("MainPID", "NRestarts", "StatusText")
    assert st["MainPID"] == step.pid and st["NRestarts"] == "0", ("reload restarted ipad", st)
    rec = _wait(lambda: b.journal("MESSAGE_ID=" + MSG_RELOADED), 10, "ipad's reloaded record")
    log("reloaded: %s" % rec[-1]["MESSAGE"])
    assert "interval 2s" in rec[-1]["MESSAGE"], rec[-1]
    job = b.journal("MESSAGE_ID=" + SD_MSG_UNIT_RELOADED, unit=None)
    job = [r for r in job if r.get("UNIT") == "ipad.service"]
    assert job and job[-1].get("JOB_RESULT") == "done", job
    # cycles go on, now every 2 s
    _wait(lambda: len(b.journal("MESSAGE_ID=" + MSG_DECISION)) >= before + 3, 30,
          "three more decision records after the reload")

    # a broken configuration: reported, the running one stays
    b.write("/etc/ipad/ipad.conf", step.conf + "[advisor]\ntype = no-such-advisor\n")
    b.systemctl("reload", "ipad.service", check=False)
    bad = _wait(lambda: b.journal("MESSAGE_ID=" + MSG_RELOAD_FAILED), 10,
                "ipad's reload-failed record")
    log("bad reload: %s" % bad[-1]["MESSAGE"])
    assert b.systemctl("is-active", "ipad.service").stdout.strip() == "active"
    assert b.show("MainPID")["MainPID"] == step.pid
    n = len(b.journal("MESSAGE_ID=" + MSG_DECISION))
    _wait(lambda: len(b.journal("MESSAGE_ID=" + MSG_DECISION)) > n, 15,
          "decisions after the failed reload")
    b.write("/etc/ipad/ipad.conf", step.conf)
    b.systemctl("reload", "ipad.service")


def test_5_stop_exits_clean(step):
    b = step.box
    with Timed("systemctl stop ipad"):
        b.systemctl("stop", "ipad.service")
    st = b.show("ActiveState", "Result", "ExecMainCode", "ExecMainStatus")
    log("stopped: %s" % st)
    assert st["ActiveState"] == "inactive" and st["Result"] == "success", st
    assert st["ExecMainCode"] == "1" and st["ExecMainStatus"] == "0", st  # exited 0
    last = b.journal("MESSAGE_ID=" + MSG_LIFECYCLE, "_PID=" + step.pid)
    assert last and "stopped" in last[-1]["MESSAGE"], last


def test_6_advisor_key_as_credential(step):
    """LoadCredential=advisor:/etc/ipad/credentials: a key file there reaches
    ipad as the credential advisor_openai and the OpenAI dialect as a bearer
    token, and it is never in the journal."""
    b = step.box
    key = "sk-test-%s" % uuid.uuid4().hex
    b.write("/etc/ipad/credentials/openai", key + "\n", mode="0600")
    conf = step.conf.replace(
        "type = ipa-agent\n",
        "type = openai\nurl = %s\nmodel = test-model\napi-key-credential = advisor_openai\n"
        % step.stub.url)
    b.write("/etc/ipad/ipad.conf", conf)
    step.stub.clear_requests()
    with Timed("systemctl start ipad (openai advisor)"):
        b.systemctl("start", "ipad.service")
    pid = b.show("MainPID")["MainPID"]
    recs = _wait(lambda: b.journal("MESSAGE_ID=" + MSG_DECISION, "_PID=" + pid,
                                   "IPA_ADVISOR=openai"), 40,
                 "a decision record from the openai advisor")
    log("decision: %s" % recs[-1]["MESSAGE"])
    reqs = step.stub.requests("/v1/chat/completions")
    assert reqs, "the stub's OpenAI dialect was never asked"
    auth = {k.lower(): v for k, v in reqs[-1]["headers"].items()}.get("authorization")
    assert auth == "Bearer " + key, auth
    text = b.run("journalctl", "--no-pager", "-o", "json", "-q", check=False).stdout
    assert key not in text, "the key is in the journal"
    b.systemctl("stop", "ipad.service")
    assert b.show("Result")["Result"] == "success"
