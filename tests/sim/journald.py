#!/usr/bin/python3
"""A real systemd-journald for the end-to-end tests, isolated from the host.

libsystemd hard-codes /run/systemd/journal/socket, so the daemon under test
can only be pointed at a test journal by changing what that path is. We do it
with a private mount namespace: the test runner (tests/check.sh) runs the whole
pytest session inside ``unshare --mount --propagation private``; this module
then mounts

  * a tmpfs on /run/systemd/journal (journald's sockets),
  * a tmpfs on /run/log             (the volatile journal files),
  * our own journald.conf over /etc/systemd/journald.conf (Storage=volatile,
    no rate limit, no kmsg/audit import, no forwarding), and an empty tmpfs
    over any journald.conf.d drop-in directory,

and starts /lib/systemd/systemd-journald. Every process of the test session
(the ipad binary included) sees these sockets; the host sees none of it. When
the session is not in a private mount namespace, ``Journald.start`` raises
``JournaldUnavailable`` with the reason and the pytest fixture skips.

Usage:
    with Journald(state_dir) as j:
        j.send(MESSAGE="hi", IPA_DEPLOYMENT="web")
        j.wait_for({"IPA_DEPLOYMENT": "web"}, count=1)

Self-test (must run as root, in a private mount namespace):
    unshare --mount --propagation private /usr/bin/python3 tests/sim/journald.py --selftest
"""

import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time
import uuid

JOURNALD = "/lib/systemd/systemd-journald"
JOURNALCTL = "journalctl"
SOCKET_DIR = "/run/systemd/journal"
SOCKET = SOCKET_DIR + "/socket"
LOG_DIR = "/run/log"
JOURNAL_DIR = LOG_DIR + "/journal"
CONF = "/etc/systemd/journald.conf"
DROPIN_DIRS = (
    "/etc/systemd/journald.conf.d",
    "/run/systemd/journald.conf.d",
    "/usr/local/lib/systemd/journald.conf.d",
    "/usr/lib/systemd/journald.conf.d",
)

JOURNALD_CONF = """\
# written by tests/sim/journald.py for an isolated test journal
[Journal]
Storage=volatile
Compress=no
Seal=no
RateLimitIntervalSec=0
RateLimitBurst=0
RuntimeMaxUse=64M
ReadKMsg=no
Audit=no
ForwardToSyslog=no
ForwardToKMsg=no
ForwardToConsole=no
ForwardToWall=no
MaxLevelStore=debug
"""


class JournaldUnavailable(RuntimeError):
    """The test journal cannot run here (reason in the message)."""


def _mount_ns(pid):
    return os.readlink("/proc/%s/ns/mnt" % pid)


def _mountinfo():
    """Rows of /proc/self/mountinfo as (mount_point, optional_fields)."""
    rows = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left = line.split(" - ", 1)[0].split()
            point = left[4].encode().decode("unicode_escape")
            rows.append((point, left[6:]))
    return rows


def _containing_mount(path):
    """The mount point and optional fields of the mount holding ``path``."""
    best = ("/", [])
    for point, opts in _mountinfo():
        if (path == point or path.startswith(point.rstrip("/") + "/")) and \
                len(point) >= len(best[0]):
            best = (point, opts)
    return best


def _ppid(pid):
    with open("/proc/%s/stat" % pid) as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def in_private_mount_namespace():
    """True when this process's mount namespace differs from PID 1's or from
    any ancestor's (PID 1's may be unreadable in containers and sandboxes:
    then the nearest readable ancestor in another namespace tells)."""
    mine = _mount_ns("self")
    try:
        return _mount_ns(1) != mine
    except OSError:
        pass
    pid = os.getpid()
    while pid > 1:
        try:
            pid = _ppid(pid)
            if _mount_ns(pid) != mine:
                return True
        except (OSError, ValueError, IndexError):
            return False
    return False


def isolation_problem():
    """None when we may mount over /run/systemd/journal, else the reason."""
    if not os.path.exists(JOURNALD):
        return "%s is missing (install the systemd package)" % JOURNALD
    if os.geteuid() != 0:
        return "the test journal needs root (mounts, journald)"
    if not in_private_mount_namespace():
        return ("not in a private mount namespace: run the tests as "
                "`unshare --mount --propagation private /usr/bin/python3 -m pytest ...` "
                "(tests/check.sh does) so that the test journald does not "
                "replace the host's /run/systemd/journal")
    return None


def _run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    if p.returncode != 0:
        raise JournaldUnavailable("%s: %s" % (" ".join(cmd), p.stderr.strip()))
    return p.stdout


def _field_value(v):
    """journalctl -o json prints non-UTF-8 or binary values as byte arrays."""
    if isinstance(v, list):
        if all(isinstance(b, int) for b in v):
            return bytes(v).decode("utf-8", "replace")
        return [_field_value(x) for x in v]
    return v


def encode_native(fields):
    """Encode fields in journald's native protocol (systemd.journal-fields)."""
    out = bytearray()
    for k, v in fields.items():
        if isinstance(v, (int, float)):
            v = str(v)
        if isinstance(v, str):
            v = v.encode()
        k = k.encode()
        if b"\n" in v:
            out += k + b"\n" + struct.pack("<Q", len(v)) + v + b"\n"
        else:
            out += k + b"=" + v + b"\n"
    return bytes(out)


class Journald:
    def __init__(self, state_dir):
        self.state_dir = os.path.abspath(state_dir)
        self.proc = None
        self._mounts = []
        self._log = None
        self.journal_dir = JOURNAL_DIR

    # -- lifecycle ---------------------------------------------------------
    def _mount(self, args, target):
        _run(["mount"] + args + [target])
        self._mounts.append(target)

    def start(self, timeout=10.0):
        reason = isolation_problem()
        if reason:
            raise JournaldUnavailable(reason)
        os.makedirs(self.state_dir, exist_ok=True)
        try:
            # Mounts below / must not propagate to the host even if the
            # namespace was made with --propagation unchanged.
            point, opts = _containing_mount(SOCKET_DIR)
            if any(o.startswith("shared:") for o in opts):
                _run(["mount", "--make-rprivate", "/"])
            for d in (SOCKET_DIR, LOG_DIR):
                os.makedirs(d, exist_ok=True)
            self._mount(["-t", "tmpfs", "-o", "mode=0755,size=64m",
                         "ipad-test-journal"], SOCKET_DIR)
            self._mount(["-t", "tmpfs", "-o", "mode=0755,size=128m",
                         "ipad-test-log"], LOG_DIR)
            conf = os.path.join(self.state_dir, "journald.conf")
            with open(conf, "w") as f:
                f.write(JOURNALD_CONF)
            if os.path.exists(CONF):
                self._mount(["--bind", conf], CONF)
            for d in DROPIN_DIRS:
                if os.path.isdir(d):
                    self._mount(["-t", "tmpfs", "-o", "mode=0755,size=1m",
                                 "ipad-test-empty"], d)
            os.makedirs(JOURNAL_DIR, exist_ok=True)
            self._log = open(os.path.join(self.state_dir, "journald.log"), "ab")
            env = {k: v for k, v in os.environ.items()
                   if k not in ("NOTIFY_SOCKET", "WATCHDOG_PID", "WATCHDOG_USEC",
                                "LISTEN_FDS", "LISTEN_PID", "JOURNAL_STREAM")}
            self.proc = subprocess.Popen([JOURNALD], stdin=subprocess.DEVNULL,
                                         stdout=self._log, stderr=self._log,
                                         env=env, start_new_session=True)
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while not os.path.exists(SOCKET):
            if self.proc.poll() is not None:
                raise JournaldUnavailable("systemd-journald exited with %s: %s"
                                          % (self.proc.returncode, self.log_tail()))
            if time.monotonic() > deadline:
                raise JournaldUnavailable("systemd-journald did not create %s" % SOCKET)
            time.sleep(0.02)
        probe = uuid.uuid4().hex
        while True:
            try:
                self.send(MESSAGE="test journal ready", IPAD_TEST_PROBE=probe,
                          SYSLOG_IDENTIFIER="ipad-test-harness")
            except OSError:
                pass
            if self.read(IPAD_TEST_PROBE=probe):
                return
            if self.proc.poll() is not None:
                raise JournaldUnavailable("systemd-journald exited with %s: %s"
                                          % (self.proc.returncode, self.log_tail()))
            if time.monotonic() > deadline:
                raise JournaldUnavailable("probe record never appeared in %s: %s"
                                          % (JOURNAL_DIR, self.log_tail()))
            time.sleep(0.1)

    def log_tail(self, n=2000):
        try:
            with open(os.path.join(self.state_dir, "journald.log"), "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(5)
            self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None
        while self._mounts:
            target = self._mounts.pop()
            subprocess.run(["umount", "--lazy", target], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- writing and reading -------------------------------------------------
    @staticmethod
    def send(**fields):
        """Send one record with the native protocol (what sd_journal_send does)."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            s.sendto(encode_native(fields), SOCKET)
        finally:
            s.close()

    def read(self, *, after_cursor=None, pid=None, **filters):
        """Records matching every FIELD=value in ``filters`` (a list value
        means any of them), oldest first, as dicts of str. ``pid`` matches
        ``_PID``; ``after_cursor`` only returns records after a ``cursor()``."""
        cmd = [JOURNALCTL, "--directory", self.journal_dir, "-o", "json",
               "--no-pager", "-q"]
        if after_cursor:
            cmd += ["--after-cursor", after_cursor]
        if pid is not None:
            filters["_PID"] = pid
        for k, v in filters.items():
            values = v if isinstance(v, (list, tuple, set)) else [v]
            for one in values:
                cmd.append("%s=%s" % (k, one))
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if p.returncode != 0:
            err = p.stderr.decode("utf-8", "replace").strip()
            if "No journal files were found" in err or "No data available" in err:
                return []
            raise RuntimeError("%s failed (%d): %s" % (" ".join(cmd), p.returncode, err))
        out = []
        for line in p.stdout.decode("utf-8", "replace").splitlines():
            line = line.strip()
            if line:
                rec = json.loads(line)
                out.append({k: _field_value(v) for k, v in rec.items()})
        return out

    def cursor(self):
        """The cursor of the newest record, to read only what follows."""
        p = subprocess.run([JOURNALCTL, "--directory", self.journal_dir, "-n", "1",
                            "-o", "json", "--no-pager", "-q"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        lines = p.stdout.decode("utf-8", "replace").strip().splitlines()
        return json.loads(lines[-1])["__CURSOR"] if lines else None

    def wait_for(self, filters=None, count=1, timeout=10.0, **kw):
        """Poll until at least ``count`` records match; return them all.
        Raises AssertionError with what was found on timeout."""
        filters = dict(filters or {})
        deadline = time.monotonic() + timeout
        while True:
            recs = self.read(**kw, **filters)
            if len(recs) >= count:
                return recs
            if time.monotonic() > deadline:
                raise AssertionError(
                    "journal: %d record(s) matching %r after %.1fs, wanted %d; got %s"
                    % (len(recs), filters, timeout, count,
                       json.dumps(recs, indent=1)[:4000]))
            time.sleep(0.1)


def _selftest(state_dir):
    with Journald(state_dir) as j:
        tag = uuid.uuid4().hex
        fields = {
            "MESSAGE": "shop/web: replicas 3 \u2192 5 (selftest)",
            "MESSAGE_ID": "c1166194fd7a4538b12ea45c58fa659e",
            "PRIORITY": "6",
            "IPA_DEPLOYMENT": "web",
            "IPA_SELFTEST": tag,
            "IPA_MULTILINE": "line one\nline two",
        }
        j.send(**fields)
        subprocess.run(["logger", "--journald"], check=True, input=(
            "MESSAGE=from logger\nIPA_SELFTEST=%s\nIPA_VIA=logger\n" % tag).encode())
        subprocess.run("echo from systemd-cat | systemd-cat -t ipad-selftest -p warning",
                       shell=True, check=True)
        recs = j.wait_for({"IPA_SELFTEST": tag}, count=2, timeout=5)
        native = [r for r in recs if r.get("IPA_DEPLOYMENT") == "web"][0]
        for k, v in fields.items():
            got = native.get(k)
            print("%-16s sent %-45r read %r %s" % (k, v, got, "ok" if got == v else "MISMATCH"))
            assert got == v, k
        assert any(r.get("IPA_VIA") == "logger" for r in recs)
        cat = j.wait_for({"SYSLOG_IDENTIFIER": "ipad-selftest"}, count=1, timeout=5)
        assert cat[0]["MESSAGE"] == "from systemd-cat" and cat[0]["PRIORITY"] == "4"
        print("MESSAGE_ID filter:", len(j.read(MESSAGE_ID=fields["MESSAGE_ID"])), "record(s)")
        print("journald self-test: ok")


if __name__ == "__main__":
    import argparse
    import tempfile
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--selftest", action="store_true")
    ap.add_argument("--state-dir", default=None)
    a = ap.parse_args()
    if a.selftest:
        d = a.state_dir or tempfile.mkdtemp(prefix="journald-")
        try:
            _selftest(d)
        except JournaldUnavailable as e:
            print("journald unavailable:", e, file=sys.stderr)
            sys.exit(77)
    else:
        ap.print_help()
