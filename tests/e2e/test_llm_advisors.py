"""End-to-end tests of the LLM advisors (gemini, openai) against the LLM
stub's two dialects (tests/sim/llmstub.py), the Kubernetes simulator, a
real Prometheus and journald: the requests ipad sends (path, schema
dialect, key in a header and never in the body), each fault of the APIs
(hold or builtin fallback, never an out-of-bounds change), the API key
sources, and an adversarial corpus of answers through the OpenAI path."""

import json
import os

import pytest

from e2e_helpers import (EX_OK, EX_TEMPFAIL, STUB_RESOURCES, container, containers_of,
                         deployment, ini, ipa_yaml, namespace, only_record, quantity,
                         replicas_of, writes)

KEY = "sk-test-7f3a9c1e5b2d4068"
MODEL = {"gemini": "gemini-test", "openai": "qwen-test"}
PATH = {"gemini": "/v1beta/models/gemini-test:generateContent",
        "openai": "/v1/chat/completions"}
SCALE_TO_4 = {"mode": "fixed", "text": {"replicas": 4}}


def make_target(sim, prometheus, ns, replicas=2, containers=None):
    """A Deployment "web" with the stub's default resources (so that the
    stub's advice is "scale only") and CPU series in Prometheus."""
    sim.apply(namespace(ns))
    sim.apply(deployment(ns, "web", replicas, containers or [container("app")]))
    sim.set_load(ns, "web", 20.0)
    prometheus.wait_for('kube_deployment_spec_replicas{namespace="%s",deployment="web"}'
                        % ns, lambda r: bool(r), timeout=30)
    prometheus.wait_for(
        'sum by (pod) (rate(container_cpu_usage_seconds_total{namespace="%s",'
        'pod=~"web-.*",container!="",image!=""}[2m]))' % ns,
        lambda r: len(r) >= replicas and all(float(x["value"][1]) > 0 for x in r),
        timeout=30)


def key_file(tmp_path, mode=0o600, name="advisor.key"):
    p = tmp_path / name
    p.write_text("  %s\n" % KEY)
    os.chmod(p, mode)
    return str(p)


def llm_conf(kubeconfig, prometheus, stub, dialect, key="file", tmp_path=None,
             timeout="5s", defaults=None, max_replicas=10):
    """ipad.conf with [advisor] type = dialect at the stub."""
    text = ini(kubeconfig=kubeconfig, prometheus=prometheus.url, advisor=dialect,
               advisor_url=stub.url, timeout=timeout, max_replicas=max_replicas, interval="10s",
               defaults=defaults)
    keys = ["model = %s" % MODEL[dialect]]
    if key == "file":
        keys.append("api-key-file = %s" % key_file(tmp_path))
    elif key == "credential":
        keys.append("api-key-credential = advisor")
    return text.replace("[advisor]\n", "[advisor]\n" + "\n".join(keys) + "\n")


def targets(ns, stub, prometheus):
    return [ipa_yaml("ipa-" + ns, [{"deployment": "web", "namespace": ns}],
                     prometheus.url, stub.url)]


def assert_no_key(res, recs, stub):
    assert KEY not in res.stderr and KEY not in res.stdout
    assert KEY not in json.dumps(recs)
    for r in stub.requests(None):
        assert KEY not in json.dumps(r["body"]), "the key is in a request body"


def walk(schema):
    """Every object of a JSON schema tree."""
    yield schema
    for v in schema.values():
        if isinstance(v, dict):
            yield from walk(v)
        elif isinstance(v, list):
            for x in v:
                if isinstance(x, dict):
                    yield from walk(x)


# -- each dialect scales a Deployment ------------------------------------------------------
@pytest.mark.parametrize("dialect", ["gemini", "openai"])
def test_dialect_scales_deployment(sim, prometheus, llmstub, kubeconfig, run_ipad, decisions,
                                   unique, tmp_path, dialect):
    ns = unique(dialect[:3])
    make_target(sim, prometheus, ns)
    llmstub.mode(**SCALE_TO_4)
    res = run_ipad(llm_conf(kubeconfig, prometheus, llmstub, dialect, tmp_path=tmp_path),
                   targets(ns, llmstub, prometheus), ["--once"])
    assert res.rc == EX_OK, res
    rec = only_record(decisions(res), "web")
    assert rec["IPA_ADVISOR"] == dialect, rec
    assert rec["IPA_REPLICAS_TO"] == "4", rec
    assert rec["IPA_ADVISOR_TOKENS"] == ("460" if dialect == "gemini" else "470"), rec
    assert "confidence 0.90" in rec.get("IPA_RATIONALE", ""), rec
    assert replicas_of(sim, ns, "web") == 4

    reqs = llmstub.requests(PATH[dialect])
    assert len(reqs) == 1, reqs
    body, headers = reqs[0]["body"], {k.lower(): v for k, v in reqs[0]["headers"].items()}
    if dialect == "gemini":
        assert headers["x-goog-api-key"] == KEY
        assert "authorization" not in headers
        gen = body["generationConfig"]
        assert gen["temperature"] == 0
        assert gen["responseMimeType"] == "application/json"
        schema = gen["responseSchema"]
        assert schema["type"] == "OBJECT"
        assert schema["properties"]["replicas"]["type"] == "INTEGER"
        assert schema["properties"]["containers"]["items"]["properties"]["name"]["enum"] == ["app"]
        for o in walk(schema):
            assert not {"additionalProperties", "$schema", "title"} & set(o), o
            if "type" in o:
                assert o["type"] == o["type"].upper(), o
        assert "advice is for container app" in body["contents"][0]["parts"][0]["text"]
        assert body["systemInstruction"]["parts"][0]["text"]
    else:
        assert headers["authorization"] == "Bearer " + KEY
        assert body["model"] == "qwen-test" and body["stream"] is False
        assert body["temperature"] == 0 and body["max_tokens"] > 0
        assert [m["role"] for m in body["messages"]] == ["system", "user"]
        fmt = body["response_format"]
        assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
        objects = [o for o in walk(fmt["json_schema"]["schema"]) if o.get("type") == "object"]
        assert len(objects) == 2
        for o in objects:
            assert o["additionalProperties"] is False
            assert sorted(o["required"]) == sorted(o["properties"])
    assert_no_key(res, [rec], llmstub)


# -- faults ------------------------------------------------------------------------------------------
# (dialect, script, fallback, outcome, error text, stub requests)
FAULTS = [
    ("gemini", [{"mode": "rate-limit", "retry": 1}, SCALE_TO_4], "hold", 4, None, 2),
    ("gemini", [{"mode": "rate-limit", "retry": 60}], "hold", "hold",
     "does not fit", 1),
    ("gemini", [{"mode": "safety"}], "hold", "hold", "finishReason SAFETY", 1),
    ("gemini", [{"mode": "max-tokens"}], "hold", "hold", "finishReason MAX_TOKENS", 1),
    ("gemini", [{"mode": "blocked"}], "hold", "hold", "blockReason PROHIBITED_CONTENT", 1),
    ("gemini", [{"mode": "thought"}], "hold", "ok", None, 1),
    ("gemini", [{"mode": "prose"}], "builtin", "builtin", "advice rejected", 1),
    ("gemini", [{"mode": "error500"}], "builtin", "builtin", "HTTP 500", 1),
    ("openai", [{"mode": "schema-refusal"}], "hold", "ok", None, 2),
    ("openai", [{"mode": "rate-limit", "retry": 1}, SCALE_TO_4], "hold", 4, None, 2),
    ("openai", [{"mode": "loading", "retry": 1}, SCALE_TO_4], "hold", 4, None, 2),
    ("openai", [{"mode": "loading", "retry": 30}], "builtin", "builtin", "does not fit", 1),
    ("openai", [{"mode": "flat-error"}], "hold", "hold", "does not exist", 1),
    ("openai", [{"mode": "safety"}], "hold", "hold", "content_filter", 1),
    ("openai", [{"mode": "max-tokens"}], "hold", "hold", "finish_reason length", 1),
    ("openai", [{"mode": "thought"}], "hold", "ok", None, 1),
    ("openai", [{"mode": "fence"}], "builtin", "builtin", "advice rejected", 1),
    ("openai", [{"mode": "hang", "seconds": 30}], "hold", "hold", "timed out", 1),
]


@pytest.mark.parametrize("dialect,script,fallback,outcome,error,asks", FAULTS,
                         ids=["%s-%s-%s" % (f[0], f[1][0]["mode"], f[1][0].get("retry", ""))
                              for f in FAULTS])
def test_faults(sim, prometheus, llmstub, kubeconfig, run_ipad, decisions, unique, tmp_path,
                dialect, script, fallback, outcome, error, asks):
    ns = unique("f")
    make_target(sim, prometheus, ns, replicas=3)
    before = sim.deployment(ns, "web")
    llmstub.script(script)
    llmstub.mode(**SCALE_TO_4)   # what "ok" modes compute from (and after the script)
    if script[0]["mode"] in ("schema-refusal", "thought"):
        llmstub.mode(script[0]["mode"])
        llmstub.clear_requests()
    sim.clear_requests()
    res = run_ipad(llm_conf(kubeconfig, prometheus, llmstub, dialect, tmp_path=tmp_path,
                            timeout="4s", defaults={"fallback": fallback}, max_replicas=6),
                   targets(ns, llmstub, prometheus), ["--once"])
    rec = only_record(decisions(res), "web")
    reqs = llmstub.requests(PATH[dialect])
    assert len(reqs) == asks, [r["answer"] for r in reqs]
    if outcome == "hold":
        assert res.rc == EX_TEMPFAIL, res
        assert rec["PRIORITY"] == "4" and rec["IPA_ACTION"] == "hold", rec
        assert error in rec["IPA_ERROR"], rec
        assert sim.deployment(ns, "web")["spec"] == before["spec"]
        assert not writes(sim.requests(), ns, "web")
    elif outcome == "builtin":
        assert res.rc == EX_TEMPFAIL, res
        assert rec.get("IPA_FALLBACK") == "builtin", rec
        assert error in rec["IPA_ERROR"], rec
        assert 1 <= replicas_of(sim, ns, "web") <= 6
    else:
        assert res.rc == EX_OK, (res, rec)
        want = 4 if outcome == 4 else int(rec["IPA_REPLICAS_TO"])
        assert replicas_of(sim, ns, "web") == want, rec
        assert rec["IPA_REPLICAS_TO"] != "99"
        assert "IPA_FALLBACK" not in rec, rec
    if script[0]["mode"] == "schema-refusal":
        assert reqs[0]["body"]["response_format"]["type"] == "json_schema"
        assert reqs[1]["body"]["response_format"] == {"type": "json_object"}
    if asks == 2 and "retry" in script[0]:
        assert reqs[1]["time"] - reqs[0]["time"] >= 0.9, "the retry hint was not honoured"
    if script[0].get("retry", 0) >= 30:
        assert res.duration < 20, "ipad waited for a retry beyond its budget"
    assert_no_key(res, [rec], llmstub)


# -- API keys -----------------------------------------------------------------------------------------
def test_key_readable_by_others_is_refused(sim, prometheus, llmstub, kubeconfig, run_ipad,
                                           decisions, unique, tmp_path):
    ns = unique("key")
    make_target(sim, prometheus, ns)
    conf = llm_conf(kubeconfig, prometheus, llmstub, "openai", key=None,
                    defaults={"fallback": "hold"})
    conf = conf.replace("[advisor]\n", "[advisor]\napi-key-file = %s\n"
                        % key_file(tmp_path, 0o644))
    res = run_ipad(conf, targets(ns, llmstub, prometheus), ["--once"])
    assert res.rc == EX_TEMPFAIL, res
    rec = only_record(decisions(res), "web")
    assert "readable by others" in rec["IPA_ERROR"] and "chmod 600" in rec["IPA_ERROR"], rec
    assert not llmstub.requests(None), "asked the LLM without a usable key"
    assert replicas_of(sim, ns, "web") == 2
    assert_no_key(res, [rec], llmstub)


def test_key_from_systemd_credential(sim, prometheus, llmstub, kubeconfig, run_ipad,
                                     decisions, unique, tmp_path):
    ns = unique("cred")
    make_target(sim, prometheus, ns)
    creds = tmp_path / "creds"
    creds.mkdir()
    key_file(creds, 0o400, "advisor")
    llmstub.mode(**SCALE_TO_4)
    res = run_ipad(llm_conf(kubeconfig, prometheus, llmstub, "gemini", key="credential"),
                   targets(ns, llmstub, prometheus), ["--once"],
                   env={"CREDENTIALS_DIRECTORY": str(creds)})
    assert res.rc == EX_OK, res
    (req,) = llmstub.requests(PATH["gemini"])
    assert {k.lower(): v for k, v in req["headers"].items()}["x-goog-api-key"] == KEY
    assert replicas_of(sim, ns, "web") == 4


# -- adversarial corpus through the OpenAI path -----------------------------------------------
def adv(replicas=3, name="app", cpu=("200m", "400m"), mem=("128Mi", "256Mi"), **extra):
    c = {"name": name, "cpu_request": cpu[0], "cpu_limit": cpu[1],
         "memory_request": mem[0], "memory_limit": mem[1]}
    return json.dumps(dict({"replicas": replicas, "containers": [c], "rationale": "x"}, **extra))


GOOD = adv()
CORPUS = [  # (content, must be rejected)
    (adv(replicas=1000000000), False),
    (adv(replicas=-3), True),
    (adv(replicas="5"), True),
    (adv(replicas=2.7), True),
    (adv(cpu=("0", "1")), True),
    (adv(cpu=("-1", "1")), True),
    (adv(cpu=("1e12", "1e12")), False),
    (adv(mem=("1G", "1G")), False),
    (adv(mem=("256MB", "1Gi")), True),
    (adv(mem=("", "1Gi")), True),
    (adv(cpu=("2", "1")), True),
    (adv(mem=("2Gi", "1Gi")), True),
    (adv(extra_field=1), True),
    (json.dumps({"replicas": 3, "containers": []}), True),
    (json.dumps({"replicas": 3, "containers": [{"name": "app", "cpu_request": "1"}],
                 "rationale": "x"}), True),
    ("I would scale to 4 replicas with 250m CPU.", True),
    ("```json\n%s\n```" % GOOD, True),
    (adv(name="db"), True),
    (GOOD, False),
]
BOUNDS = {"min-allowed-cpu": "50m", "max-allowed-cpu": "1", "min-allowed-memory": "64Mi",
          "max-allowed-memory": "1Gi", "fallback": "hold", "resize-cooldown": "0s",
          "resize-threshold": "0"}


def test_adversarial_corpus_stays_within_guardrails(sim, prometheus, llmstub, kubeconfig,
                                                    run_ipad, decisions, unique, tmp_path):
    ns = unique("adv")
    make_target(sim, prometheus, ns, replicas=2)
    conf = llm_conf(kubeconfig, prometheus, llmstub, "openai", tmp_path=tmp_path,
                    defaults=BOUNDS, max_replicas=5)
    for content, rejected in CORPUS:
        before = sim.deployment(ns, "web")
        llmstub.mode("content", content=content)
        res = run_ipad(conf, targets(ns, llmstub, prometheus), ["--once"])
        rec = only_record(decisions(res), "web")
        after = sim.deployment(ns, "web")
        if rejected:
            assert rec["IPA_ACTION"] == "hold" and "advice rejected" in rec["IPA_ERROR"], \
                (content, rec)
            assert after["spec"] == before["spec"], content
        assert 1 <= after["spec"]["replicas"] <= 5, (content, rec)
        for c in containers_of(after).values():
            req, lim = c["resources"].get("requests", {}), c["resources"].get("limits", {})
            for kind, lo, hi in (("cpu", 0.05, 1.0), ("memory", 64 * 2**20, 2**30)):
                assert lo <= float(quantity(req[kind])) <= hi, (content, kind, req, rec)
                if kind in lim:
                    assert quantity(lim[kind]) >= quantity(req[kind]), (content, lim, rec)
