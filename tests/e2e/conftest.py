"""Fixtures of the end-to-end suite: the Kubernetes simulator, a real
Prometheus scraping it, a real systemd-journald, the IPA agent stub, and
helpers that run the ipad binary.

Everything listens on 127.0.0.1 on free ports and is stopped at the end of
its scope, also when a test fails. Run (as tests/check.sh does):

    unshare --mount --propagation private /usr/bin/python3 -m pytest tests/e2e

IPAD_BIN selects the binary (default build/src/ipad). Without a private
mount namespace the journal tests skip (see tests/sim/journald.py).
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SIM = ROOT / "tests" / "sim"
for p in (str(SIM), str(Path(__file__).resolve().parent)):
    if p not in sys.path:
        sys.path.insert(0, p)

from e2e_helpers import (MSG_DECISION, MSG_LIFECYCLE, sanitizer_report)  # noqa: E402
from journald import Journald, JournaldUnavailable  # noqa: E402
from llmstub import LLMStub  # noqa: E402
from prometheus import Prometheus, free_port  # noqa: E402

# Variables that would make ipad talk to a service manager or journal that is
# not the test's.
_SCRUB_ENV = ("JOURNAL_STREAM", "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID",
              "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "INVOCATION_ID",
              "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY",
              "all_proxy", "ALL_PROXY")


# -- the binary ----------------------------------------------------------------------
@pytest.fixture(scope="session")
def ipad_bin():
    path = Path(os.environ.get("IPAD_BIN") or (ROOT / "build" / "src" / "ipad"))
    if not path.is_absolute():
        path = ROOT / path
    if not path.is_file() or not os.access(path, os.X_OK):
        pytest.fail("ipad binary not found or not executable: %s -- build it "
                    "(./autogen.sh && mkdir -p build && cd build && ../configure && make) "
                    "or point IPAD_BIN at it" % path, pytrace=False)
    return str(path)


def ipad_env(extra=None):
    env = {k: v for k, v in os.environ.items() if k not in _SCRUB_ENV}
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env.update(extra or {})
    return env


class IpadResult(tuple):
    """(rc, stdout, stderr) with .pid, .dir, .conf, .duration."""

    def __new__(cls, rc, stdout, stderr, **attrs):
        self = super().__new__(cls, (rc, stdout, stderr))
        self.__dict__.update(attrs)
        return self

    rc = property(lambda self: self[0])
    stdout = property(lambda self: self[1])
    stderr = property(lambda self: self[2])

    def __repr__(self):
        return "IpadResult(rc=%r, pid=%r, %.1fs)\n--- stdout\n%s\n--- stderr\n%s" % (
            self[0], getattr(self, "pid", None), getattr(self, "duration", 0),
            self[1][-3000:], self[2][-6000:])


def _write_run_dir(d, conf_text, ipa_yaml_texts):
    d = Path(d)
    (d / "ipa.d").mkdir(parents=True, exist_ok=True)
    (d / "state").mkdir(exist_ok=True)
    conf = d / "ipad.conf"
    conf.write_text(conf_text.replace("@DIR@", str(d)))
    if isinstance(ipa_yaml_texts, str):
        ipa_yaml_texts = [ipa_yaml_texts]
    if not isinstance(ipa_yaml_texts, dict):
        ipa_yaml_texts = {"%02d-ipa.yaml" % (10 * (i + 1)): t
                          for i, t in enumerate(ipa_yaml_texts or [])}
    for name, text in ipa_yaml_texts.items():
        (d / "ipa.d" / name).write_text(text.replace("@DIR@", str(d)))
    return conf


def _check_sanitizers(stderr, what):
    rep = sanitizer_report(stderr)
    if rep:
        pytest.fail("%s: sanitizer report:\n%s" % (what, rep), pytrace=False)


@pytest.fixture
def run_ipad(ipad_bin, tmp_path):
    """run_ipad(conf_text, ipa_yaml_texts, args=(), timeout=60) -> IpadResult.

    Writes DIR/ipad.conf (``@DIR@`` in the texts becomes DIR) and
    DIR/ipa.d/*.yaml (a list: 10-ipa.yaml, 20-ipa.yaml, ...; or a dict
    name -> text), runs ``ipad -c DIR/ipad.conf ARGS``; fails the test on a
    timeout or a sanitizer report (unless sanitizers=False)."""
    counter = [0]

    def run(conf_text, ipa_yaml_texts=(), args=(), timeout=60, sanitizers=True,
            env=None):
        counter[0] += 1
        d = tmp_path / ("run%d" % counter[0])
        conf = _write_run_dir(d, conf_text, ipa_yaml_texts)
        cmd = [ipad_bin, "-c", str(conf)] + list(args)
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, cwd=str(d), env=ipad_env(env),
                             universal_newlines=True, errors="replace")
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            pytest.fail("ipad %s did not finish within %ss\n--- stdout\n%s\n--- stderr\n%s"
                        % (" ".join(args), timeout, out[-3000:], err[-6000:]), pytrace=False)
        res = IpadResult(p.returncode, out, err, pid=p.pid, dir=d, conf=conf,
                         duration=time.monotonic() - t0, args=list(args))
        (d / "stdout").write_text(out)
        (d / "stderr").write_text(err)
        if sanitizers:
            _check_sanitizers(err, "ipad %s" % " ".join(args))
        return res

    return run


class IpadDaemon:
    """A long-running ipad (no --once); stop() sends SIGTERM and returns the
    exit status, failing the test on a hang or a sanitizer report."""

    def __init__(self, cmd, d, env):
        self.dir = Path(d)
        self.cmd = cmd
        self._out = open(self.dir / "stdout", "w")
        self._err = open(self.dir / "stderr", "w")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._out,
                                     stderr=self._err, cwd=str(self.dir), env=env)
        self.pid = self.proc.pid
        self.rc = None

    def alive(self):
        return self.proc.poll() is None

    def stderr(self):
        return (self.dir / "stderr").read_text(errors="replace")

    def stdout(self):
        return (self.dir / "stdout").read_text(errors="replace")

    def stop(self, sig=signal.SIGTERM, timeout=20, sanitizers=True):
        if self.rc is None:
            if self.proc.poll() is None:
                self.proc.send_signal(sig)
                try:
                    self.proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
                    self._close()
                    pytest.fail("ipad did not stop within %ss of %s\n--- stderr\n%s"
                                % (timeout, signal.Signals(sig).name, self.stderr()[-6000:]),
                                pytrace=False)
            self.rc = self.proc.returncode
            self._close()
            if sanitizers:
                _check_sanitizers(self.stderr(), "ipad daemon")
        return self.rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._close()

    def _close(self):
        for f in (self._out, self._err):
            if not f.closed:
                f.close()


@pytest.fixture
def start_ipad(ipad_bin, tmp_path):
    """start_ipad(conf_text, ipa_yaml_texts, args=()) -> IpadDaemon (running).
    Every daemon still running at the end of the test is killed."""
    daemons = []

    def start(conf_text, ipa_yaml_texts=(), args=(), env=None):
        d = tmp_path / ("daemon%d" % (len(daemons) + 1))
        conf = _write_run_dir(d, conf_text, ipa_yaml_texts)
        dm = IpadDaemon([ipad_bin, "-c", str(conf)] + list(args), d, ipad_env(env))
        daemons.append(dm)
        return dm

    yield start
    for dm in daemons:
        dm.kill()


# -- services --------------------------------------------------------------------------------
def _kubesim_class():
    try:
        from kubesim import KubeSim
    except ImportError as e:
        pytest.fail("tests/sim/kubesim.py cannot be imported: %s" % e, pytrace=False)
    return KubeSim


@pytest.fixture(scope="module")
def kubesim(tmp_path_factory):
    """A Kubernetes API simulator for the whole module; tests use their own
    namespaces so that they do not see each other's objects."""
    KubeSim = _kubesim_class()
    sim = KubeSim(str(tmp_path_factory.mktemp("kubesim")), objects=[])
    sim.start()
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def sim(kubesim):
    """The module's simulator with faults cleared and an empty request log."""
    kubesim.clear_faults()
    kubesim.clear_requests()
    yield kubesim
    kubesim.clear_faults()


@pytest.fixture(scope="module")
def kubeconfig(kubesim, tmp_path_factory):
    """Path of a bearer-token kubeconfig for the simulator."""
    return kubeconfig_path(kubesim, "token", tmp_path_factory)


def kubeconfig_path(kubesim, kind, tmp_path_factory):
    kc = kubesim.kubeconfig(kind)
    if isinstance(kc, (str, Path)) and os.path.isfile(str(kc)):
        return str(kc)
    p = tmp_path_factory.mktemp("kubeconfig") / ("kubeconfig-%s.yaml" % kind)
    if isinstance(kc, dict):
        import yaml
        kc = yaml.safe_dump(kc)
    p.write_text(str(kc))
    return str(p)


@pytest.fixture(scope="module")
def prometheus(kubesim, tmp_path_factory):
    """A real Prometheus scraping the simulator's metrics every second."""
    with Prometheus(str(tmp_path_factory.mktemp("prometheus")),
                    targets=[kubesim.metrics_url], scrape_interval="1s") as prom:
        yield prom


@pytest.fixture(scope="module")
def empty_prometheus(tmp_path_factory):
    """A real Prometheus that scrapes nothing: every query is empty."""
    with Prometheus(str(tmp_path_factory.mktemp("prometheus-empty")), targets=[]) as prom:
        yield prom


@pytest.fixture
def dead_url():
    """An http URL on 127.0.0.1 where nothing listens."""
    return "http://127.0.0.1:%d" % free_port()


@pytest.fixture(scope="session")
def journald(tmp_path_factory):
    """A real systemd-journald whose socket every ipad of the session uses."""
    j = Journald(str(tmp_path_factory.mktemp("journald")))
    try:
        j.start()
    except JournaldUnavailable as e:
        pytest.skip("no test journal: %s" % e)
    try:
        yield j
    finally:
        j.stop()


@pytest.fixture(scope="session")
def _llmstub_server(tmp_path_factory):
    with LLMStub(str(tmp_path_factory.mktemp("llmstub"))) as s:
        yield s


@pytest.fixture
def llmstub(_llmstub_server):
    """The IPA agent stub, reset to mode auto with an empty request log."""
    _llmstub_server.reset()
    yield _llmstub_server
    _llmstub_server.reset()


# -- records ---------------------------------------------------------------------------------------
@pytest.fixture
def decisions(journald):
    """decisions(run_or_daemon, count=1, timeout=10, **filters) -> records:
    the decision records (MESSAGE_ID of docs/contracts.md) written by that
    ipad process, waiting until ``count`` are there."""

    def get(who, count=1, timeout=10.0, **filters):
        return journald.wait_for(dict(filters, MESSAGE_ID=MSG_DECISION, _PID=str(who.pid)),
                                 count=count, timeout=timeout)

    return get


@pytest.fixture
def lifecycle(journald):
    def get(who, count=1, timeout=10.0, **filters):
        return journald.wait_for(dict(filters, MESSAGE_ID=MSG_LIFECYCLE, _PID=str(who.pid)),
                                 count=count, timeout=timeout)

    return get


@pytest.fixture
def unique():
    """A short unique suffix for namespaces and names (DNS-1123)."""
    return lambda prefix="t": "%s-%s" % (prefix, uuid.uuid4().hex[:6])
