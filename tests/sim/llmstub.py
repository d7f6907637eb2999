#!/usr/bin/python3
"""An IPA agent and LLM API stub for the end-to-end tests (stdlib only).

Speaks the IPA agent protocol (see /work/shared/reference/ipa-original.md):
``POST /askllm`` with ``{"metrics": "<text>"}``; anything else gets 400.
On the same server, two LLM dialects (prometheus-and-llm.md):
``POST /v1beta/models/{model}:generateContent`` (Gemini) and
``POST /v1/chat/completions`` (OpenAI-compatible). Their answers carry the
advice ipad asks the LLMs for: {"replicas", "containers": [{"name",
"cpu_request", ...}], "rationale", "confidence"}.

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
                      LLM dialects only (on /askllm they answer HTTP 500):
                      {"mode": "content", "content": "<the model's text>"}
                      {"mode": "rate-limit", "retry": s}  429: Gemini RetryInfo
                                   retryDelay, OpenAI Retry-After header
                      {"mode": "safety"} {"mode": "max-tokens"}  (finishReason
                                   SAFETY / MAX_TOKENS; OpenAI: content_filter / length)
                      {"mode": "thought"}   Gemini thought part (99 replicas)
                                   before the answer; OpenAI reasoning_content
                      {"mode": "blocked"}   Gemini promptFeedback.blockReason
                      {"mode": "schema-refusal"}  400 for a json_schema
                                   response_format, the answer for json_object
                      {"mode": "flat-error"}  vLLM's {"object":"error",...}
                      {"mode": "loading", "retry": s}  503 "Loading model"
                      prose, fence, fixed (text = advice fields), auto, error500,
                      hang work in the dialects too
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
         "bad-quantity", "hang", "content", "rate-limit", "safety", "max-tokens",
         "thought", "blocked", "schema-refusal", "flat-error", "loading")
LLM_ONLY = ("content", "rate-limit", "safety", "max-tokens", "thought", "blocked",
            "schema-refusal", "flat-error", "loading")
RE_PRIMARY = re.compile(r"^advice is for container (\S+)", re.M)

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

    def _send(self, status, body, content_type=None, headers=None):
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
            for k, v in (headers or {}).items():
                self.send_header(k, v)
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
        if path == "/v1/chat/completions":
            return self._llm("openai")
        if path.startswith("/v1beta/models/") and path.endswith(":generateContent"):
            return self._llm("gemini")
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

    def _llm(self, dialect):
        raw = self._body()
        try:
            parsed = json.loads(raw.decode())
        except (UnicodeDecodeError, ValueError):
            parsed = None
        prompt, problem = llm_prompt(dialect, parsed)
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/json":
            problem = "Content-Type must be application/json, not %r" % ctype
        idx = self._record(raw, parsed, problem)
        if problem:
            body = {"error": {"code": 400, "message": problem, "status": "INVALID_ARGUMENT"}}
            self._set_answer(idx, 400, body)
            return self._send(400, body)
        with self.st.lock:
            spec = self.st.script.pop(0) if self.st.script else dict(self.st.mode)
        status, body, headers, delay, hang = llm_answer(dialect, spec, prompt, parsed)
        self._set_answer(idx, status if not hang else None, body if not hang else "hang")
        if delay:
            self.st.stopping.wait(delay)
        if hang:
            self.st.stopping.wait(hang)
            self.close_connection = True
            return
        self._send(status, body, None, headers)

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
        if mode in LLM_ONLY:
            return 500, {"status": "error", "message": "%s is an LLM dialect mode" % mode}, \
                None, delay, 0
        return 500, {"error": "unknown mode %r" % mode}, None, 0, 0


# -- the LLM dialects ----------------------------------------------------------------------
def llm_prompt(dialect, body):
    """(user text, problem) of a Gemini or OpenAI request body."""
    try:
        if dialect == "gemini":
            return "".join(p.get("text", "") for p in body["contents"][0]["parts"]), None
        return "".join(m["content"] for m in body["messages"] if m["role"] == "user"), None
    except (KeyError, IndexError, TypeError) as e:
        return None, "malformed %s request: %r" % (dialect, e)


def llm_advice(prompt, text=None):
    """The advice ``auto`` answers: replicas as for /askllm, the stub's
    default resources for the container the prompt names."""
    m = RE_PRIMARY.search(prompt or "")
    res = dict(DEFAULT_TEXT)
    res.update(text or {})
    replicas = res.pop("replicas")
    if text is None or "replicas" not in text:
        replicas = auto_replicas(prompt)
    return {"replicas": replicas,
            "containers": [dict(res, name=m.group(1) if m else "app")],
            "rationale": "stub: ceil(spec*util/70)", "confidence": 0.9}


def gemini_answer(parts, finish="STOP"):
    cand = {"finishReason": finish, "index": 0}
    if parts is not None:
        cand["content"] = {"role": "model", "parts": parts}
    return {"candidates": [cand], "modelVersion": "stub-gemini",
            "usageMetadata": {"promptTokenCount": 400, "candidatesTokenCount": 60,
                              "totalTokenCount": 460}}


def openai_answer(content, finish="stop", **message):
    msg = dict(message, role="assistant", content=content)
    return {"id": "chatcmpl-stub", "object": "chat.completion", "model": "stub",
            "choices": [{"index": 0, "message": msg, "finish_reason": finish}],
            "usage": {"prompt_tokens": 400, "completion_tokens": 70, "total_tokens": 470}}


def llm_answer(dialect, spec, prompt, body):
    """(status, body, headers, delay, hang_seconds) for a mode spec."""
    mode = spec.get("mode", "answer")
    delay = float(spec.get("delay", 0) or 0)
    gem = dialect == "gemini"
    if mode == "answer" or (mode == "fixed" and "body" in spec):
        return int(spec.get("status", 200)), spec.get("body", ""), spec.get("headers"), delay, 0
    if mode == "hang":
        return 200, None, None, delay, float(spec.get("seconds", 120))
    if mode == "error500":
        err = {"error": {"code": 500, "message": "internal error", "status": "INTERNAL"}}
        return 500, err, None, delay, 0
    if mode == "rate-limit":
        retry = spec.get("retry", 1)
        if gem:
            return 429, {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED",
                                   "message": "Resource has been exhausted (e.g. check quota).",
                                   "details": [{"@type": "type.googleapis.com/google.rpc.QuotaFailure"},
                                               {"@type": "type.googleapis.com/google.rpc.RetryInfo",
                                                "retryDelay": "%ss" % retry}]}}, None, delay, 0
        return 429, {"error": {"message": "Rate limit reached", "type": "requests",
                               "code": "rate_limit_exceeded"}}, \
            {"Retry-After": str(retry)}, delay, 0
    if mode == "loading":
        return 503, {"error": {"code": 503, "message": "Loading model",
                               "type": "unavailable_error"}}, \
            {"Retry-After": str(spec.get("retry", 1))}, delay, 0
    if mode == "flat-error":
        return 400, {"object": "error", "message": "The model `x` does not exist.",
                     "type": "NotFoundError", "param": None, "code": 404}, None, delay, 0
    if mode == "blocked":
        return 200, {"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"},
                     "usageMetadata": {"promptTokenCount": 400, "totalTokenCount": 400}}, \
            None, delay, 0
    if mode == "schema-refusal" and not gem and \
            (body.get("response_format") or {}).get("type") == "json_schema":
        return 400, {"error": {"message": "response_format type json_schema is not supported "
                               "by this server", "type": "invalid_request_error",
                               "param": "response_format", "code": None}}, None, delay, 0
    advice = llm_advice(prompt, spec.get("text") if mode == "fixed" else None)
    text = json.dumps(advice)
    if mode == "content":
        text = spec["content"]
    elif mode == "prose":
        text = PROSE
    elif mode == "fence":
        text = "Here is my recommendation:\n```json\n%s\n```\n" % json.dumps(advice, indent=2)
    elif mode == "bad-quantity":
        advice["containers"][0]["cpu_request"] = "lots"
        text = json.dumps(advice)
    if gem:
        if mode == "safety":
            return 200, gemini_answer(None, "SAFETY"), None, delay, 0
        if mode == "max-tokens":
            return 200, gemini_answer([{"text": text[:20]}], "MAX_TOKENS"), None, delay, 0
        parts = [{"text": text}]
        if mode == "thought":
            wild = dict(advice, replicas=99)
            parts = [{"text": json.dumps(wild), "thought": True},
                     {"text": text[:10]}, {"text": text[10:]}]
        return 200, gemini_answer(parts), None, delay, 0
    if mode == "safety":
        return 200, openai_answer(None, "content_filter"), None, delay, 0
    if mode == "max-tokens":
        return 200, openai_answer(text[:20], "length"), None, delay, 0
    extra = {"reasoning_content": "maybe 99 replicas"} if mode == "thought" else {}
    return 200, openai_answer(text, **extra), None, delay, 0


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
        """Received requests (all paths when ``path`` is None; a path ending
        in ``*`` matches by prefix)."""
        reqs = self._call("GET", "/_stub/requests")
        def match(p):
            p = p.split("?")[0]
            return path is None or p == path or (path.endswith("*") and
                                                 p.startswith(path[:-1]))
        return [r for r in reqs if match(r["path"])]

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
