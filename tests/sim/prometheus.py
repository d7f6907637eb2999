#!/usr/bin/python3
"""A real Prometheus (Debian's /usr/bin/prometheus) for the end-to-end tests.

    with Prometheus(state_dir, targets=[kubesim.metrics_url]) as prom:
        prom.wait_for('kube_deployment_spec_replicas{deployment="web"}',
                      lambda r: r and float(r[0]["value"][1]) == 3)
        prom.url  # give this to ipad

Scrapes every target URL (``http://127.0.0.1:PORT/metrics``) every
``scrape_interval``; with ``targets=[]`` it is an empty Prometheus (every
query answers success with no data). Listens on 127.0.0.1 on a free port;
``stop()`` always ends the process (SIGTERM, then SIGKILL).
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

PROMETHEUS = os.environ.get("PROMETHEUS_BIN", "/usr/bin/prometheus")


class PrometheusError(RuntimeError):
    pass


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def _yaml_str(s):
    return json.dumps(str(s))  # a JSON string is a valid YAML flow scalar


class Prometheus:
    def __init__(self, state_dir, targets=(), scrape_interval="1s",
                 target_labels=None, honor_labels=True, retention="2h"):
        self.state_dir = os.path.abspath(state_dir)
        self.targets = list(targets)
        self.scrape_interval = scrape_interval
        self.target_labels = dict(target_labels or {})
        self.honor_labels = honor_labels
        self.retention = retention
        self.proc = None
        self.port = None
        self.url = None
        self._log = None

    # -- configuration ------------------------------------------------------
    def config_text(self):
        lines = [
            "# written by tests/sim/prometheus.py",
            "global:",
            "  scrape_interval: %s" % self.scrape_interval,
            "  scrape_timeout: %s" % self.scrape_interval,
            "  evaluation_interval: %s" % self.scrape_interval,
            "scrape_configs:",
        ]
        for i, t in enumerate(self.targets):
            u = urllib.parse.urlsplit(t)
            if u.scheme not in ("http", "https") or not u.netloc:
                raise ValueError("target must be an http(s) URL: %r" % t)
            lines += [
                "  - job_name: %s" % _yaml_str("target%d" % i),
                "    scheme: %s" % u.scheme,
                "    metrics_path: %s" % _yaml_str(u.path or "/metrics"),
                "    honor_labels: %s" % ("true" if self.honor_labels else "false"),
            ]
            if u.query:
                lines.append("    params:")
                for k, vs in urllib.parse.parse_qs(u.query).items():
                    lines.append("      %s: [%s]" % (_yaml_str(k), ", ".join(map(_yaml_str, vs))))
            if u.scheme == "https":
                lines += ["    tls_config:", "      insecure_skip_verify: true"]
            lines += ["    static_configs:",
                      "      - targets: [%s]" % _yaml_str(u.netloc)]
            if self.target_labels:
                lines.append("        labels:")
                for k, v in self.target_labels.items():
                    lines.append("          %s: %s" % (k, _yaml_str(v)))
        if not self.targets:
            lines[-1] = "scrape_configs: []"
        return "\n".join(lines) + "\n"

    # -- lifecycle ------------------------------------------------------------
    def start(self, timeout=30.0):
        if not os.access(PROMETHEUS, os.X_OK):
            raise PrometheusError("%s is missing (apt-get install prometheus)" % PROMETHEUS)
        os.makedirs(self.state_dir, exist_ok=True)
        conf = os.path.join(self.state_dir, "prometheus.yml")
        with open(conf, "w") as f:
            f.write(self.config_text())
        data = os.path.join(self.state_dir, "data")
        shutil.rmtree(data, ignore_errors=True)
        last = None
        for _attempt in range(3):  # a free port can be taken between probe and bind
            self.port = free_port()
            self.url = "http://127.0.0.1:%d" % self.port
            self._log = open(os.path.join(self.state_dir, "prometheus.log"), "ab")
            cmd = [
                PROMETHEUS,
                "--config.file=" + conf,
                "--storage.tsdb.path=" + data,
                "--storage.tsdb.retention.time=" + self.retention,
                "--web.listen-address=127.0.0.1:%d" % self.port,
                "--web.enable-lifecycle",
                "--web.console.templates=/nonexistent",
                "--web.console.libraries=/nonexistent",
                "--query.max-concurrency=4",
                "--log.level=warn",
            ]
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                         stdout=self._log, stderr=self._log,
                                         start_new_session=True)
            try:
                self._wait_ready(timeout)
                return self
            except PrometheusError as e:
                last = e
                self.stop()
                if "address already in use" not in str(e):
                    break
        raise last

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise PrometheusError("prometheus exited with %s: %s"
                                      % (self.proc.returncode, self.log_tail()))
            try:
                with urllib.request.urlopen(self.url + "/-/ready", timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise PrometheusError("prometheus not ready after %.0fs: %s"
                                      % (timeout, self.log_tail()))
            time.sleep(0.1)

    def log_tail(self, n=3000):
        try:
            with open(os.path.join(self.state_dir, "prometheus.log"), "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                try:
                    os.killpg(self.proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    try:
                        os.killpg(self.proc.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    self.proc.wait(5)
            self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- queries ----------------------------------------------------------------
    def api(self, path, **params):
        """GET /api/v1/<path>; the ``data`` of a success, else PrometheusError."""
        q = urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen("%s/api/v1/%s?%s" % (self.url, path, q),
                                        timeout=10) as r:
                env = json.load(r)
        except urllib.error.HTTPError as e:
            env = json.loads(e.read() or b"{}")
        if env.get("status") != "success":
            raise PrometheusError("%s %r: %s %s" % (path, params, env.get("errorType"),
                                                    env.get("error")))
        return env["data"]

    def query(self, promql, time_=None):
        """Instant query; the ``result`` list (vector: [{metric, value:[t,"v"]}])."""
        params = {"query": promql}
        if time_ is not None:
            params["time"] = time_
        return self.api("query", **params)["result"]

    def value(self, promql):
        """The single value of an instant vector as a float, None when empty."""
        r = self.query(promql)
        if not r:
            return None
        return float(r[0]["value"][1])

    def wait_for(self, promql, predicate=bool, timeout=30.0, interval=0.25):
        """Poll ``promql`` until ``predicate(result)`` is true; return the result."""
        deadline = time.monotonic() + timeout
        r = None
        while True:
            try:
                r = self.query(promql)
                if predicate(r):
                    return r
            except PrometheusError as e:
                r = e
            if time.monotonic() > deadline:
                raise AssertionError("prometheus: %s not satisfied after %.0fs; last %r; targets %s"
                                     % (promql, timeout, r, self.target_health()))
            time.sleep(interval)

    def target_health(self):
        try:
            return [(t["scrapeUrl"], t["health"], t.get("lastError"))
                    for t in self.api("targets")["activeTargets"]]
        except Exception as e:  # diagnostics only
            return "unknown (%s)" % e


if __name__ == "__main__":
    import argparse
    import tempfile
    ap = argparse.ArgumentParser(description="run a test Prometheus until interrupted")
    ap.add_argument("targets", nargs="*")
    ap.add_argument("--state-dir", default=None)
    ap.add_argument("--scrape-interval", default="1s")
    a = ap.parse_args()
    p = Prometheus(a.state_dir or tempfile.mkdtemp(prefix="prom-"), a.targets,
                   a.scrape_interval)
    t0 = time.monotonic()
    p.start()
    print("%s ready in %.1fs" % (p.url, time.monotonic() - t0), flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while p.proc.poll() is None:
            time.sleep(0.5)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        p.stop()
