#!/usr/bin/python3
"""An IPA agent stub for the end-to-end tests (stdlib only).

Speaks the IPA agent protocol (see /work/shared/reference/ipa-original.md):
``POST /askllm`` with ``{"metrics": "<text>"}``; anything else gets 400.

Behaviour is set with a mode, or with a script of answers consumed one per
/askllm request (then the mode applies again):

  POST /_stub/mode    {"mode": "auto"}                         (default)
                      {"mode": "fixed", "text": {"replicas": 5, ...}}
                      {"mode": "fixed", "status": 200, "body": <json|raw text>}
                      {"mode": "error500"}   HTTP 500 {}
                      {"mode": "error-null"} {"status":"error","text":null}
                      {"mode": "prose", "variant": "text-field"|"plain"|"json-string"}
                      {"mode": "fence"}      ```json fenced advice inside "text"
                      {"mode": "bad-quantity"}  cpu_request "lots"
                      {"mode": "hang", "seconds": 120}  answers nothing for long
                      any mode also takes "delay": seconds before answering
  POST /_stub/script  [{"status": 200, "body": <json|raw text>, "delay": s,
                        "content_type": "..."} | {"mode": "...", ...}, ...]
  GET  /_stub/script  what is left of the script
  GET  /_stub/requests   received requests: method, path, headers, body
                         (parsed JSON or text), the answer given
  DELETE /_stub/requests clears them
  GET  /_stub/health

``auto`` answers like the real agent, computing the replicas from the prompt:
the line ``replicas: spec N`` and the first ``(NN% of request)``;
N = ceil(spec * util / 70), at least 1; without a utilization it keeps spec.

CLI:  llmstub.py [--port 0] [--state-dir DIR]   writes DIR/ready.json {"url": ...}
Python: with LLMStub(state_dir) as s: s.url, s.mode("fixed", text={...}), ...
"""

import argparse
import copy
import json
import math
import os
import re
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODES = ("auto", "fixed", "error500", "error-null", "prose", "fence",
         "bad-quantity", "hang")

DEFAULT_TEXT = {
    "replicas": 1,
    "cpu_request": "100m",
    "cpu_limit": "200m",
    "memory_request": "125Mi",
    "memory_limit": "250Mi",
}

PROSE = ("Looking at the metrics, the deployment is under moderate load. "
         "I would recommend scaling to 4 replicas and raising the CPU request "
         "to 250m with a limit of 500m; memory can stay at 128Mi.")

RE_SPEC = re.compile(r"^\s*replicas:\s*spec\s+(\d+)", re.M)
RE_UTIL = re.compile(r"\((\d+(?:\.\d+)?)\s*% of request\b")


def auto_replicas(prompt):
    """The replica count ``auto`` answers for this prompt text."""
    m = RE_SPEC.search(prompt or "")
    spec = int(m.group(1)) if m else 1
    u = RE_UTIL.search(prompt or "")
    if not u:
        return max(spec, 1)
    util = float(u.group(1))
    return max(1, int(math.ceil(spec * util / 70.0 - 1e-9)))


def success(text, message="stub advice"):
    return {"status": "success", "text": text, "message": message}


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.mode = {"mode": "auto"}
        self.script = []
        self.requests = []
        self.stopping = threading.Event()


def validate_mode(spec):
    if not isinstance(spec, dict) or spec.get("mode", "answer") not in MODES + ("answer",):
        raise ValueError("mode must be one of %s" % ", ".join(MODES))
    if "delay" in spec and not isinstance(spec["delay"], (int, float)):
        raise ValueError("delay must be a number of seconds")
    return spec


class Handler(BaseHTTPRequestHandler):
    server_version = "ipa-agent-stub/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet; the request log is the record
        pass

    # -- helpers ---------------------------------------------------------------
    @property
    def st(self):
        return self.server.state

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _send(self, status, body, content_type=None):
        if isinstance(body, (bytes, bytearray)):
            data = bytes(body)
            content_type = content_type or "application/octet-stream"
        elif isinstance(body, str):
            data = body.encode()
            content_type = content_type or "text/plain; charset=utf-8"
        else:
            data = json.dumps(body).encode()
            content_type = content_type or "application/json"
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _json_arg(self):
        raw = self._body()
        try:
            return json.loads(raw.decode() or "null")
        except (UnicodeDecodeError, ValueError) as e:
            self._send(400, {"error": "invalid JSON: %s" % e})
            return ValueError

    # -- routes -------------------------------------------------------------------
    def do_GET(self):
        if self.path == "/_stub/requests":
            with self.st.lock:
                self._send(200, copy.deepcopy(self.st.requests))
        elif self.path == "/_stub/script":
            with self.st.lock:
                self._send(200, list(self.st.script))
        elif self.path == "/_stub/mode":
            with self.st.lock:
                self._send(200, dict(self.st.mode))
        elif self.path == "/_stub/health":
            self._send(200, {"status": "ok"})
        else:
            self._record(None, None, "no such endpoint")
            self._send(404, {"error": "not found"})

    def do_DELETE(self):
        if self.path == "/_stub/requests":
            with self.st.lock:
                self.st.requests.clear()
            self._send(204, b"")
        elif self.path == "/_stub/script":
            with self.st.lock:
                self.st.script.clear()
            self._send(204, b"")
        else:
            self._send(404, {"error": "not found"})

    def do_PUT(self):
        self.do_POST()

    def do_POST(self):
        path = self.path.split("?", 1)[0]
        if path == "/_stub/mode":
            arg = self._json_arg()
            if arg is ValueError:
                return
            try:
                spec = validate_mode(arg)
            except ValueError as e:
                return self._send(400, {"error": str(e)})
            with self.st.lock:
                self.st.mode = spec
            return self._send(200, spec)
        if path == "/_stub/script":
            arg = self._json_arg()
            if arg is ValueError:
                return
            if isinstance(arg, dict):
                arg = [arg]
            try:
                entries = [validate_mode(e) for e in arg]
            except (ValueError, TypeError) as e:
                return self._send(400, {"error": "script: %s" % e})
            with self.st.lock:
                self.st.script.extend(entries)
                left = len(self.st.script)
            return self._send(200, {"queued": left})
        if path == "/askllm":
            return self._askllm()
        raw = self._body()
        self._record(raw, None, "no such endpoint")
        self._send(404, {"error": "not found"})

    def _record(self, raw, parsed, rejected=None):
        entry = {
            "time": time.time(),
            "method": self.command,
            "path": self.path,
            "headers": {k: v for k, v in self.headers.items()},
            "body": parsed if parsed is not None else
                    (raw.decode("utf-8", "replace") if raw else None),
        }
        if rejected:
            entry["rejected"] = rejected
        with self.st.lock:
            self.st.requests.append(entry)
            return len(self.st.requests) - 1

    def _set_answer(self, idx, status, body):
        with self.st.lock:
            self.st.requests[idx]["answer"] = {"status": status, "body": body}

    def _askllm(self):
        raw = self._body()
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        try:
            parsed = json.loads(raw.decode())
        except (UnicodeDecodeError, ValueError):
            parsed = None
        problem = None
        if ctype != "application/json":
            problem = "Content-Type must be application/json, not %r" % ctype
        elif not isinstance(parsed, dict):
            problem = "body must be a JSON object {\"metrics\": \"...\"}"
        elif set(parsed) != {"metrics"}:
            problem = "body must have exactly one key, \"metrics\" (got %s)" % sorted(parsed)
        elif not isinstance(parsed["metrics"], str):
            problem = "\"metrics\" must be a string"
        idx = self._record(raw, parsed, problem)
        if problem:
            body = {"status": "error", "message": problem}
            self._set_answer(idx, 400, body)
            return self._send(400, body)
        with self.st.lock:
            spec = self.st.script.pop(0) if self.st.script else dict(self.st.mode)
        status, body, ctype, delay, hang = self._answer(spec, parsed["metrics"])
        self._set_answer(idx, status if not hang else None, body if not hang else "hang")
        if delay:
            self.st.stopping.wait(delay)
        if hang:
            # Hold the connection without answering; ThreadingHTTPServer keeps
            # other requests going. Ends early when the stub stops.
            self.st.stopping.wait(hang)
            self.close_connection = True
            return
        self._send(status, body, ctype)

    @staticmethod
    def _answer(spec, prompt):
        """(status, body, content_type, delay, hang_seconds) for a mode spec."""
        mode = spec.get("mode", "answer")
        delay = float(spec.get("delay", 0) or 0)
        status = int(spec.get("status", 200))
        ctype = spec.get("content_type")
        if mode == "answer" or (mode == "fixed" and "body" in spec):
            body = spec.get("body", "")
            if isinstance(body, str) and ctype is None:
                ctype = "text/plain; charset=utf-8"
            return status, body, ctype, delay, 0
        if mode == "auto":
            text = dict(DEFAULT_TEXT)
            text.update(spec.get("text") or {})
            text["replicas"] = auto_replicas(prompt)
            return 200, success(text, "auto: ceil(spec*util/70)"), None, delay, 0
        if mode == "fixed":
            text = dict(DEFAULT_TEXT)
            text.update(spec.get("text") or {})
            return status, success(text, "fixed answer"), None, delay, 0
        if mode == "error500":
            return 500, {}, None, delay, 0
        if mode == "error-null":
            return 200, {"status": "error", "text": None}, None, delay, 0
        if mode == "prose":
            variant = spec.get("variant", "text-field")
            if variant == "plain":
                return 200, PROSE, "text/plain; charset=utf-8", delay, 0
            if variant == "json-string":
                return 200, json.dumps(PROSE), "application/json", delay, 0
            return 200, success(PROSE), None, delay, 0
        if mode == "fence":
            text = dict(DEFAULT_TEXT, replicas=auto_replicas(prompt) + 1)
            fenced = ("Here is my recommendation:\n```json\n%s\n```\n"
                      % json.dumps(text, indent=2))
            return 200, success(fenced), None, delay, 0
        if mode == "bad-quantity":
            text = dict(DEFAULT_TEXT, replicas=auto_replicas(prompt), cpu_request="lots")
            return 200, success(text), None, delay, 0
        if mode == "hang":
            return 200, None, None, delay, float(spec.get("seconds", 120))
        return 500, {"error": "unknown mode %r" % mode}, None, 0, 0


class StubServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr):
        super().__init__(addr, Handler)
        self.state = State()


class LLMStub:
    """The stub in a background thread of the test process."""

    def __init__(self, state_dir=None, port=0):
        self.state_dir = state_dir
        self.port = port
        self.server = None
        self.thread = None
        self.url = None

    def start(self):
        self.server = StubServer(("127.0.0.1", self.port))
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.1},
                                       name="llmstub", daemon=True)
        self.thread.start()
        if self.state_dir:
            os.makedirs(self.state_dir, exist_ok=True)
            write_ready(self.state_dir, self.url)
        return self

    def stop(self):
        if self.server is not None:
            self.server.state.stopping.set()
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- control, through the HTTP endpoints (works the same for a CLI stub) -----
    def _call(self, method, path, arg=None):
        data = None if arg is None else json.dumps(arg).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            raw = r.read()
        return json.loads(raw) if raw else None

    def mode(self, mode=None, **params):
        """Set the mode (``mode("fixed", text={"replicas": 3})``); return it."""
        if mode is None:
            return self._call("GET", "/_stub/mode")
        return self._call("POST", "/_stub/mode", dict(params, mode=mode))

    def script(self, entries):
        """Queue answers, one per /askllm request."""
        return self._call("POST", "/_stub/script", list(entries))

    def requests(self, path="/askllm"):
        """Received requests (all paths when ``path`` is None)."""
        reqs = self._call("GET", "/_stub/requests")
        return [r for r in reqs if path is None or r["path"].split("?")[0] == path]

    def clear_requests(self):
        self._call("DELETE", "/_stub/requests")
        self._call("DELETE", "/_stub/script")

    def reset(self):
        self.clear_requests()
        self.mode("auto")


def write_ready(state_dir, url):
    tmp = os.path.join(state_dir, "ready.json.tmp")
    with open(tmp, "w") as f:
        json.dump({"url": url, "pid": os.getpid()}, f)
    os.replace(tmp, os.path.join(state_dir, "ready.json"))


def main(argv=None):
    ap = argparse.ArgumentParser(description="IPA agent stub")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--state-dir", default=None)
    ap.add_argument("--mode", default="auto", choices=MODES)
    a = ap.parse_args(argv)
    srv = StubServer(("127.0.0.1", a.port))
    srv.state.mode = {"mode": a.mode}
    url = "http://127.0.0.1:%d" % srv.server_address[1]
    if a.state_dir:
        os.makedirs(a.state_dir, exist_ok=True)
        write_ready(a.state_dir, url)
    print(url, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        srv.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        srv.state.stopping.set()
        srv.server_close()


if __name__ == "__main__":
    sys.exit(main())
