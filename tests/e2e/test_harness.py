"""Self-tests of the e2e harness (journald, Prometheus, the IPA agent stub,
the trace replay): they do not need ipad, so a broken harness shows up as
such and not as a daemon bug."""

import io
import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid

import pytest

from e2e_helpers import (MSG_DECISION, deployment, namespace, parse_logfmt, quantity,
                         sanitizer_report, stderr_records)
import loadgen
from llmstub import auto_replicas


# -- journald --------------------------------------------------------------------------------------
def test_journald_reads_back_native_records_field_by_field(journald):
    tag = uuid.uuid4().hex
    sent = {"MESSAGE": "shop/web: replicas 3 \u2192 5 (ipa-agent, 4.1 s)",
            "MESSAGE_ID": MSG_DECISION, "PRIORITY": "6", "IPA_CLUSTER": "sim",
            "IPA_DEPLOYMENT": "web", "IPA_REASON": "advice 40 \u2192 12: maxReplicas",
            "IPA_ERROR": "line one\nline two", "IPA_HARNESS": tag}
    journald.send(**sent)
    rec = journald.wait_for({"IPA_HARNESS": tag}, count=1, timeout=5)[0]
    for k, v in sent.items():
        assert rec[k] == v, k
    assert rec["_TRANSPORT"] == "journal"
    # filters: AND across fields, the MESSAGE_ID one included
    assert len(journald.read(IPA_HARNESS=tag, MESSAGE_ID=MSG_DECISION)) == 1
    assert journald.read(IPA_HARNESS=tag, IPA_DEPLOYMENT="other") == []


def test_journald_sees_other_clients(journald):
    tag = uuid.uuid4().hex
    subprocess.run(["logger", "--journald"], check=True,
                   input=("MESSAGE=via logger\nIPA_HARNESS=%s\n" % tag).encode())
    p = subprocess.Popen(["systemd-cat", "-t", "harness-" + tag, "-p", "warning",
                          "echo", "via systemd-cat"])
    assert p.wait(10) == 0
    assert journald.wait_for({"IPA_HARNESS": tag}, 1, timeout=5)[0]["MESSAGE"] == "via logger"
    rec = journald.wait_for({"SYSLOG_IDENTIFIER": "harness-" + tag}, 1, timeout=5)[0]
    assert rec["MESSAGE"] == "via systemd-cat" and rec["PRIORITY"] == "4"
    # _PID filtering, as the decisions fixture uses it
    assert journald.read(SYSLOG_IDENTIFIER="harness-" + tag, _PID=str(p.pid))


def test_journald_cursor(journald):
    journald.send(MESSAGE="before")
    time.sleep(0.2)
    cur = journald.cursor()
    tag = uuid.uuid4().hex
    journald.send(MESSAGE="after", IPA_HARNESS=tag)
    journald.wait_for({"IPA_HARNESS": tag}, 1, timeout=5)
    after = journald.read(after_cursor=cur)
    assert [r["MESSAGE"] for r in after if r.get("IPA_HARNESS") == tag] == ["after"]
    assert all(r["MESSAGE"] != "before" for r in after)


# -- Prometheus --------------------------------------------------------------------------------------
def test_empty_prometheus_answers_empty(empty_prometheus):
    assert empty_prometheus.query("kube_deployment_spec_replicas") == []
    assert empty_prometheus.value("vector(2)") == 2.0


EXPORTED = ["container_cpu_usage_seconds_total", "container_memory_working_set_bytes",
            "kube_deployment_spec_replicas", "kube_deployment_status_replicas_available",
            "nginx_ingress_controller_requests", "kube_node_status_allocatable",
            "node_memory_MemAvailable_bytes"]


def test_prometheus_scrapes_the_simulator(sim, prometheus, unique):
    ns = unique("h")
    sim.apply(namespace(ns))
    sim.apply(deployment(ns, "web", replicas=2, ingress="web"))
    sim.set_load(ns, "web", 50.0)
    prometheus.wait_for('kube_deployment_spec_replicas{namespace="%s",deployment="web"}' % ns,
                        lambda r: r and r[0]["value"][1] == "2", timeout=30)
    for name in EXPORTED:
        prometheus.wait_for('count({__name__="%s"})' % name, bool, timeout=15)
    prometheus.wait_for('sum(rate(container_cpu_usage_seconds_total{namespace="%s",'
                        'container!="",image!=""}[2m]))' % ns,
                        lambda r: r and float(r[0]["value"][1]) > 0, timeout=30)
    # a short window: rate() divides by the whole window, and this series is young
    prometheus.wait_for('sum(rate(nginx_ingress_controller_requests{namespace="%s",'
                        'ingress="web"}[5s]))' % ns,
                        lambda r: r and 25 < float(r[0]["value"][1]) < 100, timeout=30)
    assert all(h == "up" for _, h, _ in prometheus.target_health())


# -- the IPA agent stub ---------------------------------------------------------------------------------
def _ask(url, body, ctype="application/json", timeout=5):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(url + "/askllm", data=data, method="POST",
                                 headers={"Content-Type": ctype})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode()


PROMPT = ("IPA shop/web-ipa, Deployment shop/web\n"
          "replicas: spec 3, ready 3, available 3, updated 3; rollout complete\n"
          "container app: cpu 0.273 cores (91% of request), request 300m, limit 600m\n"
          "container app: memory 100Mi\n"
          "request rate: 420.0/s (ingress web)\n")


def test_llmstub_auto_follows_the_prompt(llmstub):
    assert auto_replicas(PROMPT) == 4          # ceil(3 * 91 / 70)
    assert auto_replicas("replicas: spec 4, ready 4\n") == 4
    assert auto_replicas("replicas: spec 2\ncontainer a: (1% of request)") == 1
    st, ct, body = _ask(llmstub.url, {"metrics": PROMPT})
    assert st == 200 and ct.startswith("application/json")
    b = json.loads(body)
    assert b["status"] == "success" and b["text"]["replicas"] == 4
    assert set(b["text"]) == {"replicas", "cpu_request", "cpu_limit", "memory_request",
                              "memory_limit"}


@pytest.mark.parametrize("bad", [
    {"metrics": 1}, {"metrics": "x", "extra": 1}, [], "metrics", {"prompt": "x"}])
def test_llmstub_rejects_other_shapes(llmstub, bad):
    st, _, _ = _ask(llmstub.url, bad)
    assert st == 400
    assert llmstub.requests()[-1]["rejected"]


def test_llmstub_modes(llmstub):
    cases = [
        ({"mode": "fixed", "text": {"replicas": 7}}, 200,
         lambda b: json.loads(b)["text"]["replicas"] == 7),
        ({"mode": "error500"}, 500, lambda b: json.loads(b) == {}),
        ({"mode": "error-null"}, 200, lambda b: json.loads(b) == {"status": "error", "text": None}),
        ({"mode": "prose"}, 200, lambda b: isinstance(json.loads(b)["text"], str)),
        ({"mode": "prose", "variant": "plain"}, 200, lambda b: b.startswith("Looking")),
        ({"mode": "prose", "variant": "json-string"}, 200,
         lambda b: isinstance(json.loads(b), str)),
        ({"mode": "fence"}, 200, lambda b: "```json" in json.loads(b)["text"]),
        ({"mode": "bad-quantity"}, 200, lambda b: json.loads(b)["text"]["cpu_request"] == "lots"),
    ]
    for spec, status, check in cases:
        llmstub.mode(**spec)
        st, _, body = _ask(llmstub.url, {"metrics": PROMPT})
        assert st == status and check(body), (spec, st, body)
    assert len(llmstub.requests()) == len(cases)
    assert all(r["body"] == {"metrics": PROMPT} for r in llmstub.requests())


def test_llmstub_hang_does_not_block_others(llmstub):
    llmstub.script([{"mode": "hang", "seconds": 60}])
    t0 = time.monotonic()
    with pytest.raises(Exception):
        _ask(llmstub.url, {"metrics": PROMPT}, timeout=1)
    assert time.monotonic() - t0 < 3
    t0 = time.monotonic()
    st, _, _ = _ask(llmstub.url, {"metrics": PROMPT})   # script used up: auto
    assert st == 200 and time.monotonic() - t0 < 1


def test_llmstub_script_then_mode(llmstub):
    llmstub.mode("error500")
    llmstub.script([{"status": 503, "body": "overloaded"},
                    {"status": 200, "body": {"status": "success", "text": {"replicas": 2}},
                     "delay": 0.2}])
    assert _ask(llmstub.url, {"metrics": PROMPT})[:2] == (503, "text/plain; charset=utf-8")
    st, _, body = _ask(llmstub.url, {"metrics": PROMPT})
    assert st == 200 and json.loads(body)["text"] == {"replicas": 2}
    assert _ask(llmstub.url, {"metrics": PROMPT})[0] == 500
    assert [r["answer"]["status"] for r in llmstub.requests()] == [503, 200, 500]


def test_llmstub_cli_writes_ready_json(tmp_path):
    p = subprocess.Popen([sys.executable, str(loadgen.HERE + "/llmstub.py"), "--port", "0",
                          "--state-dir", str(tmp_path)], stdout=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while not (tmp_path / "ready.json").exists():
            assert time.monotonic() < deadline and p.poll() is None
            time.sleep(0.05)
        url = json.loads((tmp_path / "ready.json").read_text())["url"]
        assert _ask(url, {"metrics": PROMPT})[0] == 200
    finally:
        p.terminate()
        assert p.wait(10) == 0


# -- trace replay ---------------------------------------------------------------------------------------
def test_loadgen_steps_and_print_format():
    rows = loadgen.load_trace()
    assert len(rows) == 3 * 24 * 60 and rows[0][0] == "1995-07-01 00:00"
    steps = list(loadgen.steps([("1995-07-01 14:00", 312)], factor=10))
    assert steps == [("1995-07-01 14:00", 312, 52.0)]
    sm = list(loadgen.steps([("a", 60), ("b", 120), ("c", 0)], smooth=2, factor=60))
    assert [s[2] for s in sm] == [60.0, 90.0, 60.0]

    class Sink:
        calls = []

        def set_load(self, ns, name, rps):
            self.calls.append((ns, name, rps))

    out = io.StringIO()
    played = loadgen.replay(Sink(), [("shop", "web")], rows, start="1995-07-01 14:00",
                            minutes=3, speedup=6000, out=out)
    assert len(played) == 3 and len(Sink.calls) == 3
    first = out.getvalue().splitlines()[0]
    assert first.startswith("trace 1995-07-01 14:00 ") and first.endswith(" rps")


def test_loadgen_drives_the_simulator(sim, prometheus, unique):
    ns = unique("trace")
    sim.apply(namespace(ns))
    sim.apply(deployment(ns, "web", replicas=1))
    stop = threading.Event()
    out = io.StringIO()
    t = threading.Thread(target=loadgen.replay, args=(sim, [(ns, "web")]),
                         kwargs=dict(start="1995-07-01 14:00", minutes=20, speedup=600,
                                     out=out, stop=stop), daemon=True)
    t.start()
    t.join(10)
    stop.set()
    assert len(out.getvalue().splitlines()) == 20
    prometheus.wait_for('sum(rate(container_cpu_usage_seconds_total{namespace="%s",'
                        'container!="",image!=""}[2m]))' % ns,
                        lambda r: r and float(r[0]["value"][1]) > 0, timeout=30)


# -- helpers ------------------------------------------------------------------------------------------------
def test_helpers():
    assert quantity("250m") * 4 == 1 and quantity("1Gi") == 1024 * quantity("1Mi")
    assert quantity("1e3") == 1000 and quantity("0.5") == quantity("500m")
    assert parse_logfmt('message="a \\"b\\" c" priority=6 ipa_cluster=sim') == \
        {"message": 'a "b" c', "priority": "6", "ipa_cluster": "sim"}
    assert stderr_records('junk\n{"MESSAGE": "m", "PRIORITY": "6"}\n') == \
        [{"MESSAGE": "m", "PRIORITY": "6"}]
    assert stderr_records('message="m" priority=4 ipa_error="x y"', "logfmt") == \
        [{"MESSAGE": "m", "PRIORITY": "4", "IPA_ERROR": "x y"}]
    rep = sanitizer_report("ok\n==123==ERROR: AddressSanitizer: heap-use-after-free\n#0 x\n")
    assert rep and rep.startswith("==123==ERROR")
    assert sanitizer_report("src/x.c:10:5: runtime error: signed integer overflow")
    assert sanitizer_report("all good") is None
