"""End-to-end scenarios of ipad's main job, against docs/contracts.md: the
real ipad binary, the Kubernetes simulator, a real Prometheus scraping it,
the IPA agent stub and a real journald.

Every test works in its own namespace of the module's simulator, so they
can share one simulator and one Prometheus.

Time matters here: ipad reads CPU as ``rate(...[2m])``, and Prometheus
divides a rate by the whole window, so a series younger than two minutes
reads low (t/120 of the truth). The Deployments that must look busy are
therefore created once, when the module starts (the ``hot`` fixture, used
by every test), with CPU limits well above their requests, and the
configuration tests, which need no metrics, run first while they warm up.
"""

import math
import re
import time
import uuid

import pytest

from e2e_helpers import (EX_CONFIG, EX_OK, EX_TEMPFAIL, README_IPA_EXAMPLE,
                         all_writes, conf_for, container, containers_of, only_record,
                         replicas_of,
                         deployment, ini, ipa_yaml, namespace,
                         req_body, req_content_type, req_method, req_path,
                         same_quantity, stderr_records, writes)

# Offered load that takes a Deployment of 2 replicas with 100m CPU requests
# far above 70 % of its requests, and one that keeps it low.
HIGH_RPS = 400.0
LOW_RPS = 5.0
MAX_REPLICAS = 20

# Busy Deployments: requests as the stub's default advice, a CPU limit of one
# core so that usage can reach 10x the request, little memory per request
# (no OOM kills at HIGH_RPS).
HOT_RESOURCES = {"requests": {"cpu": "100m", "memory": "125Mi"},
                 "limits": {"cpu": "1", "memory": "250Mi"}}
HOT_ANNOTATIONS = {"ipad-sim/memory-per-rps": "10000"}
HOT_KEYS = ("rise-ipa-agent", "rise-builtin", "two", "dry")
HOT_CPU_QUERY = ('sum(rate(container_cpu_usage_seconds_total{namespace="%s",pod=~"web-.*",'
                 'container!="",container!="POD",image!=""}[2m]))')


@pytest.fixture(scope="module")
def hot(kubesim, prometheus):
    """namespace of each busy Deployment ("web", 2 replicas, ingress
    "web-ing"), created when the module starts."""
    suffix = uuid.uuid4().hex[:5]
    made = {}
    for key in HOT_KEYS:
        ns = "%s-%s" % (key, suffix)
        kubesim.apply(namespace(ns))
        kubesim.apply(deployment(ns, "web", 2, [container("app", resources=HOT_RESOURCES)],
                                 HOT_ANNOTATIONS, ingress="web-ing"))
        kubesim.set_load(ns, "web", HIGH_RPS)
        made[key] = ns
    return made


@pytest.fixture(autouse=True)
def _warm_up(hot):
    """Every test starts the busy Deployments (once per module)."""


def wait_hot(prometheus, ns, replicas=2, util=150.0, timeout=150):
    """Wait until ipad's own CPU query says more than ``util`` percent of
    the requests (100m per pod)."""
    prometheus.wait_for(HOT_CPU_QUERY % ns,
                        lambda r: r and 100 * float(r[0]["value"][1]) / (replicas * 0.1) > util,
                        timeout=timeout)


# -- scaffolding ------------------------------------------------------------------------------
def make_target(sim, prometheus, ns, name="web", replicas=2, rps=LOW_RPS,
                containers=None, annotations=None, wait_cpu=True, ingress=None):
    """Create namespace + Deployment in the simulator, offer ``rps``, and
    wait until Prometheus has its replicas and CPU series."""
    sim.apply(namespace(ns))
    sim.apply(deployment(ns, name, replicas, containers, annotations, ingress=ingress))
    sim.set_load(ns, name, rps)
    prometheus.wait_for('kube_deployment_spec_replicas{namespace="%s",deployment="%s"}'
                        % (ns, name), lambda r: bool(r), timeout=30)
    if wait_cpu:
        prometheus.wait_for(
            'sum by (pod) (rate(container_cpu_usage_seconds_total{namespace="%s",'
            'pod=~"%s-.*",container!="",image!=""}[2m]))' % (ns, name),
            lambda r: len(r) >= replicas and all(float(x["value"][1]) > 0 for x in r),
            timeout=30)




def yaml_for(ns, items, prom_url, llm_url, name=None):
    items = [dict(i, namespace=i.get("namespace", ns)) for i in items]
    return ipa_yaml(name or ("ipa-" + ns), items, prom_url, llm_url)




def assert_rc(res, *ok):
    assert res.rc in ok, "exit status %s, expected %s\n%r" % (res.rc, ok, res)




def brief(recs):
    """Decision records in a line each, for assertion messages."""
    return "\n".join("%s %s %s->%s %s%s" % (
        r.get("PRIORITY"), r.get("IPA_ACTION"), r.get("IPA_REPLICAS_FROM"),
        r.get("IPA_REPLICAS_TO"), r.get("IPA_ADVICE", ""),
        " | " + (r.get("IPA_ERROR") or r.get("IPA_REASON") or "")) for r in recs)


def assert_unchanged(sim, ns, name, before):
    after = sim.deployment(ns, name)
    assert after["spec"]["replicas"] == before["spec"]["replicas"]
    assert containers_of(after) == containers_of(before)
    w = writes(sim.requests(), ns, name)
    assert not w, "ipad wrote to the Deployment: %s" % w


# -- (f) bad configuration -> 78 with file and line --------------------------------------------------
def _bad_ini_unknown_key(kc, prom):
    text = ini(kubeconfig=kc, prometheus=prom, log_target="stderr")
    lines = text.splitlines()
    lines.insert(2, "intervall = 5s")  # line 3, a typo
    return "\n".join(lines) + "\n", None, ("ipad.conf", 3)


def _bad_ini_duration(kc, prom):
    text = ini(kubeconfig=kc, prometheus=prom, interval="soon", log_target="stderr")
    return text, None, ("ipad.conf", 2)


def _bad_ini_syntax(kc, prom):
    text = ini(kubeconfig=kc, prometheus=prom, log_target="stderr")
    lines = text.splitlines()
    idx = lines.index("[defaults]")
    lines.insert(idx + 1, "this line is not a key")
    return "\n".join(lines) + "\n", None, ("ipad.conf", idx + 2)


def _bad_ini_replicas(kc, prom):
    text = ini(kubeconfig=kc, prometheus=prom, min_replicas=5, max_replicas=2,
               log_target="stderr")
    lines = text.splitlines()
    return text, None, ("ipad.conf", [lines.index("min-replicas = 5") + 1,
                                      lines.index("max-replicas = 2") + 1])


def _bad_yaml_missing_deployment(kc, prom):
    y = ("apiVersion: ipa.shafinhasnat.me/v1alpha1\n"   # 1
         "kind: IPA\n"                                   # 2
         "metadata:\n"                                   # 3
         "  name: broken\n"                              # 4
         "spec:\n"                                       # 5
         "  metadata:\n"                                 # 6
         "    prometheusUri: %s\n"                       # 7
         "    llmAgent: http://127.0.0.1:1\n"            # 8
         "    ipaGroup:\n"                               # 9
         "    - deployment: web\n"                       # 10
         "      namespace: shop\n"                       # 11
         "    - namespace: shop\n"                       # 12  no deployment
         "      ingress: web\n" % prom)                  # 13
    return ini(kubeconfig=kc, prometheus=prom, log_target="stderr"), y, ("10-ipa.yaml", [12, 13])


def _bad_yaml_syntax(kc, prom):
    y = ("apiVersion: ipa.shafinhasnat.me/v1alpha1\n"
         "kind: IPA\n"
         "metadata:\n"
         "  name: broken\n"
         "spec:\n"
         "  metadata:\n"
         "    ipaGroup:\n"
         "    - deployment: web\n"
         "      namespace: [shop\n"                      # 9: unclosed flow sequence
         "    - deployment: api\n")
    return ini(kubeconfig=kc, prometheus=prom, log_target="stderr"), y, ("10-ipa.yaml", [9, 10, 11])


def _bad_yaml_replicas_type(kc, prom):
    y = ("apiVersion: ipa.shafinhasnat.me/v1alpha1\n"
         "kind: IPA\n"
         "metadata:\n"
         "  name: broken\n"
         "spec:\n"
         "  metadata:\n"
         "    ipaGroup:\n"
         "    - deployment: web\n"
         "      namespace: shop\n"
         "      maxReplicas: many\n")                    # 10
    return ini(kubeconfig=kc, prometheus=prom, log_target="stderr"), y, ("10-ipa.yaml", 10)


BAD_CONFIGS = [
    pytest.param(_bad_ini_unknown_key, id="ini-unknown-key"),
    pytest.param(_bad_ini_duration, id="ini-bad-duration"),
    pytest.param(_bad_ini_syntax, id="ini-syntax"),
    pytest.param(_bad_ini_replicas, id="ini-min-above-max"),
    pytest.param(_bad_yaml_missing_deployment, id="yaml-missing-deployment"),
    pytest.param(_bad_yaml_syntax, id="yaml-syntax"),
    pytest.param(_bad_yaml_replicas_type, id="yaml-maxreplicas-not-integer"),
]


@pytest.mark.parametrize("args", [["--check-config"], ["--once"]], ids=["check-config", "once"])
@pytest.mark.parametrize("make", BAD_CONFIGS)
def test_bad_config_exits_78_with_file_and_line(sim, kubeconfig, llmstub, run_ipad, dead_url,
                                                make, args):
    conf, y, (fname, lines) = make(kubeconfig, dead_url)
    good = ipa_yaml("ok", [{"deployment": "web", "namespace": "shop"}], dead_url, llmstub.url)
    res = run_ipad(conf, {"10-ipa.yaml": y or good}, args, timeout=30)
    assert_rc(res, EX_CONFIG)
    path = str(res.dir / (fname if fname == "ipad.conf" else "ipa.d/" + fname))
    found = [int(m) for m in re.findall(re.escape(path) + r":(\d+)", res.stderr)]
    lines = lines if isinstance(lines, list) else [lines]
    assert found and any(n in lines for n in found), \
        "stderr should name %s:%s\n%s" % (path, lines, res.stderr)
    assert not res.stdout.strip() or args != ["--check-config"], res.stdout
    assert not all_writes(sim.requests())
    assert not llmstub.requests()


# -- (g) --check-config summary ------------------------------------------------------------------
def test_check_config_prints_summary(sim, kubeconfig, llmstub, run_ipad, dead_url):
    y1 = ipa_yaml("shop", [{"deployment": "web", "namespace": "shop", "ingress": "web"},
                           {"deployment": "api", "namespace": "shop",
                            "minReplicas": 2, "maxReplicas": 6, "container": "api"}],
                  dead_url, llmstub.url)
    res = run_ipad(ini(kubeconfig=kubeconfig, prometheus=dead_url, log_target="stderr"),
                   [y1], ["--check-config"], timeout=30)
    assert_rc(res, EX_OK)
    assert res.stdout.strip() == "2 targets, 1 cluster, advisor ipa-agent", res
    assert not all_writes(sim.requests())
    assert not llmstub.requests()


def test_check_config_counts_documents_and_files(sim, kubeconfig, llmstub, run_ipad, dead_url):
    a = ipa_yaml("a", [{"deployment": "web", "namespace": "shop"}], dead_url, llmstub.url)
    b = ipa_yaml("b", [{"deployment": "api", "namespace": "shop"}], dead_url, llmstub.url)
    c = ipa_yaml("c", [{"deployment": "db", "namespace": "data"}], dead_url, llmstub.url)
    res = run_ipad(ini(kubeconfig=kubeconfig, prometheus=dead_url, log_target="stderr",
                       advisor="builtin"),
                   {"a.yaml": a + "---\n" + b, "b.yml": c, "notes.txt": "ignored"},
                   ["--check-config"], timeout=30)
    assert_rc(res, EX_OK)
    assert res.stdout.strip() == "3 targets, 1 cluster, advisor builtin", res


# -- (i) the original README example is accepted verbatim ----------------------------------------------
def test_readme_example_passes_check_config(kubeconfig, run_ipad, dead_url):
    res = run_ipad(ini(kubeconfig=kubeconfig, prometheus=dead_url, log_target="stderr"),
                   {"readme.yaml": README_IPA_EXAMPLE}, ["--check-config"], timeout=30)
    assert_rc(res, EX_OK)
    assert res.stdout.strip() == "1 target, 1 cluster, advisor ipa-agent", res


# -- (b) resources change on the right container only --------------------------------------------
SIDECAR_RESOURCES = {
    "requests": {"cpu": "50m", "memory": "64Mi", "nvidia.com/gpu": "1",
                 "ephemeral-storage": "2Gi"},
    "limits": {"cpu": "100m", "memory": "128Mi", "nvidia.com/gpu": "1",
               "ephemeral-storage": "4Gi"},
}
APP_RESOURCES = {
    "requests": {"cpu": "100m", "memory": "125Mi", "ephemeral-storage": "1Gi"},
    "limits": {"cpu": "200m", "memory": "250Mi", "ephemeral-storage": "2Gi"},
}
ADVICE = {"cpu_request": "150m", "cpu_limit": "300m",
          "memory_request": "192Mi", "memory_limit": "384Mi"}


@pytest.mark.parametrize("layout", ["app-first", "app-second-named"])
def test_resize_changes_only_the_main_container(sim, prometheus, llmstub, kubeconfig,
                                                run_ipad, decisions, unique, layout):
    ns = unique("resize")
    app = container("app", resources=APP_RESOURCES)
    side = container("gpu-sidecar", image="example.org/cuda-helper:1", resources=SIDECAR_RESOURCES)
    item = {"deployment": "web"}
    if layout == "app-first":
        containers = [app, side]
    else:  # the main container is the last one and is named in the IPA item
        containers = [side, app]
        item["container"] = "app"
    make_target(sim, prometheus, ns, replicas=2, rps=LOW_RPS * 4, containers=containers)
    before = sim.deployment(ns, "web")
    llmstub.mode("fixed", text=dict(ADVICE, replicas=2))

    res = run_ipad(conf_for(kubeconfig, prometheus.url),
                   [yaml_for(ns, [item], prometheus.url, llmstub.url)], ["--once"])
    assert_rc(res, EX_OK)

    after = sim.deployment(ns, "web")
    assert after["spec"]["replicas"] == 2
    c_before, c_after = containers_of(before), containers_of(after)
    assert [c["name"] for c in after["spec"]["template"]["spec"]["containers"]] == \
        [c["name"] for c in before["spec"]["template"]["spec"]["containers"]], "container order changed"
    # the sidecar is untouched, extra resources included
    assert c_after["gpu-sidecar"] == c_before["gpu-sidecar"]
    # the main container got the advice for cpu and memory, and kept the rest
    res_after = c_after["app"]["resources"]
    assert same_quantity(res_after["requests"]["cpu"], "150m"), res_after
    assert same_quantity(res_after["limits"]["cpu"], "300m"), res_after
    assert same_quantity(res_after["requests"]["memory"], "192Mi"), res_after
    assert same_quantity(res_after["limits"]["memory"], "384Mi"), res_after
    assert same_quantity(res_after["requests"]["ephemeral-storage"], "1Gi"), res_after
    assert same_quantity(res_after["limits"]["ephemeral-storage"], "2Gi"), res_after
    assert c_after["app"]["image"] == c_before["app"]["image"]

    # one strategic-merge patch naming only the main container, only cpu/memory
    w = [r for r in writes(sim.requests(), ns, "web") if not req_path(r).endswith("/scale")]
    assert len(w) == 1, w
    patch = w[0]
    assert req_method(patch) == "PATCH", patch
    assert req_content_type(patch) == "application/strategic-merge-patch+json", patch
    body = req_body(patch)
    assert set(body) == {"spec"} and set(body["spec"]) == {"template"}, body
    assert set(body["spec"]["template"]) == {"spec"}, body
    assert set(body["spec"]["template"]["spec"]) == {"containers"}, body
    pcs = body["spec"]["template"]["spec"]["containers"]
    assert [c.get("name") for c in pcs] == ["app"], body
    assert set(pcs[0]) <= {"name", "resources"}, body
    for kind in pcs[0]["resources"]:
        assert kind in ("requests", "limits"), body
        assert set(pcs[0]["resources"][kind]) <= {"cpu", "memory"}, body

    rec = only_record(decisions(res), "web")
    assert rec["IPA_ACTION"] == "resize", rec
    assert rec["PRIORITY"] == "6", rec
    assert rec["IPA_CONTAINER"] == "app", rec
    assert same_quantity(rec["IPA_CPU_REQUEST_FROM"], "100m"), rec
    assert same_quantity(rec["IPA_CPU_REQUEST_TO"], "150m"), rec
    assert same_quantity(rec["IPA_MEMORY_LIMIT_FROM"], "250Mi"), rec
    assert same_quantity(rec["IPA_MEMORY_LIMIT_TO"], "384Mi"), rec

    # the agent was told about the main container (and may mention the sidecar)
    prompt = llmstub.requests()[0]["body"]["metrics"]
    assert re.search(r"^container app:", prompt, re.M), prompt


# -- (c) agent failures of every kind ---------------------------------------------------------------
AGENT_FAILURES = [
    pytest.param({"mode": "error500"}, id="error500"),
    pytest.param({"mode": "error-null"}, id="error-null"),
    pytest.param({"mode": "prose"}, id="prose-in-text"),
    pytest.param({"mode": "prose", "variant": "plain"}, id="prose-text-plain"),
    pytest.param({"mode": "prose", "variant": "json-string"}, id="prose-json-string"),
    pytest.param({"mode": "fence"}, id="fence"),
    pytest.param({"mode": "bad-quantity"}, id="bad-quantity"),
    pytest.param({"mode": "hang", "seconds": 120}, id="hang"),
    pytest.param({"mode": "fixed", "status": 200, "body": "<html>502 Bad Gateway</html>",
                  "content_type": "text/html"}, id="html"),
]
ADVISOR_TIMEOUT_S = 2


@pytest.mark.parametrize("failure", AGENT_FAILURES)
def test_agent_failure_changes_nothing(sim, prometheus, llmstub, kubeconfig, run_ipad,
                                       decisions, unique, failure):
    ns = unique("agent")
    make_target(sim, prometheus, ns, replicas=3, rps=LOW_RPS * 4)
    before = sim.deployment(ns, "web")
    llmstub.mode(**failure)
    sim.clear_requests()

    res = run_ipad(conf_for(kubeconfig, prometheus.url, timeout="%ds" % ADVISOR_TIMEOUT_S,
                            defaults={"fallback": "hold"}),
                   [yaml_for(ns, [{"deployment": "web"}], prometheus.url, llmstub.url)],
                   ["--once"], timeout=60)
    assert_rc(res, EX_TEMPFAIL)
    assert llmstub.requests(), "the agent was not asked"
    if failure["mode"] == "hang":
        asks = len(llmstub.requests())
        assert res.duration < asks * ADVISOR_TIMEOUT_S + 15, \
            "the advisor timeout (%ss) was not kept: %.1fs" % (ADVISOR_TIMEOUT_S, res.duration)

    assert_unchanged(sim, ns, "web", before)
    rec = only_record(decisions(res), "web")
    assert rec["PRIORITY"] == "4", rec
    assert rec.get("IPA_ERROR"), rec
    assert rec["IPA_ACTION"] == "hold", rec
    assert rec.get("IPA_REPLICAS_FROM", "3") == "3", rec
    assert rec.get("IPA_REPLICAS_TO", "3") == "3", rec
    if failure["mode"] == "hang":
        assert re.search(r"tim(e|ed) ?out", rec["IPA_ERROR"], re.I), rec


def test_agent_failure_falls_back_to_builtin(sim, prometheus, llmstub, kubeconfig, run_ipad,
                                             decisions, unique):
    """The default fallback: the built-in policy decides, within the
    guardrails, and the record says the advisor failed."""
    ns = unique("fallback")
    make_target(sim, prometheus, ns, replicas=3, rps=LOW_RPS * 4)
    llmstub.mode("error500")
    res = run_ipad(conf_for(kubeconfig, prometheus.url, max_replicas=5),
                   [yaml_for(ns, [{"deployment": "web"}], prometheus.url, llmstub.url)],
                   ["--once"], timeout=60)
    assert_rc(res, EX_TEMPFAIL)
    rec = only_record(decisions(res), "web")
    assert rec["PRIORITY"] == "4", rec
    assert rec.get("IPA_FALLBACK") == "builtin", rec
    assert "(ipa-agent failed, builtin fallback, " in rec["MESSAGE"], rec
    assert "HTTP 500" in rec.get("IPA_ERROR", ""), rec
    assert rec.get("IPA_ADVICE", "").startswith("replicas="), rec
    assert 1 <= replicas_of(sim, ns, "web") <= 5
    assert replicas_of(sim, ns, "web") == int(rec["IPA_REPLICAS_TO"]), rec


def test_daemon_keeps_cycling_after_agent_failures(sim, prometheus, llmstub, kubeconfig,
                                                   start_ipad, decisions, lifecycle, unique):
    ns = unique("cycle")
    make_target(sim, prometheus, ns, replicas=3, rps=LOW_RPS * 4)
    conf = conf_for(kubeconfig, prometheus.url, interval="1s",
                    timeout="%ds" % ADVISOR_TIMEOUT_S)
    failures = ({"mode": "error500"}, {"mode": "hang", "seconds": 60},
                {"mode": "bad-quantity"}, {"mode": "prose"})
    llmstub.mode(**failures[0])  # before the first cycle
    dm = start_ipad(conf, [yaml_for(ns, [{"deployment": "web"}], prometheus.url, llmstub.url)])
    lifecycle(dm, 1, timeout=15)

    seen = 0
    for failure in failures:
        llmstub.mode(**failure)
        # two more failure records: at least one full cycle ran in this mode
        recs = decisions(dm, seen + 2, timeout=30, PRIORITY="4")
        seen = len(recs)
        assert dm.alive(), dm.stderr()[-4000:]
    assert replicas_of(sim, ns, "web") == 3, brief(decisions(dm, seen))
    assert not writes(sim.requests(), ns, "web")

    llmstub.mode("fixed", text={"replicas": 4})  # resources as they are
    ok = decisions(dm, 1, timeout=30, PRIORITY="6")
    deadline = time.monotonic() + 10
    while replicas_of(sim, ns, "web") != 4 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert replicas_of(sim, ns, "web") == 4, ok
    assert any(r["IPA_ACTION"] == "scale" and r["IPA_REPLICAS_TO"] == "4" for r in ok), ok

    assert dm.stop() == 0, dm.stderr()[-4000:]
    lifecycle(dm, 2, timeout=10)  # started ... stopping


# -- (d) Prometheus down or empty -> no scale-down -------------------------------------------------
@pytest.mark.parametrize("advisor", ["ipa-agent", "builtin"])
@pytest.mark.parametrize("prom", ["down", "empty"])
def test_missing_metrics_never_scale_down(sim, prometheus, empty_prometheus, dead_url, llmstub,
                                          kubeconfig, run_ipad, decisions, unique, prom, advisor):
    ns = unique("nometrics")
    sim.apply(namespace(ns))
    sim.apply(deployment(ns, "web", replicas=4))
    sim.set_load(ns, "web", 0.0)
    before = sim.deployment(ns, "web")
    # an advisor that would like to scale down to 1
    llmstub.mode("fixed", text={"replicas": 1})
    url = dead_url if prom == "down" else empty_prometheus.url
    res = run_ipad(conf_for(kubeconfig, url, advisor=advisor),
                   [yaml_for(ns, [{"deployment": "web"}], url, llmstub.url)], ["--once"])
    assert_rc(res, EX_TEMPFAIL)
    assert_unchanged(sim, ns, "web", before)
    rec = only_record(decisions(res), "web")
    assert rec["PRIORITY"] == "4", rec
    assert rec["IPA_ACTION"] == "hold", rec
    assert rec.get("IPA_REPLICAS_FROM", "4") == "4", rec
    assert rec.get("IPA_REPLICAS_TO", "4") == "4", rec
    why = " ".join(rec.get(k, "") for k in ("IPA_ERROR", "IPA_REASON", "IPA_METRICS_MISSING",
                                            "MESSAGE"))
    assert re.search(r"metric", why, re.I), rec
    assert "IPA_CPU_UTILIZATION" not in rec, rec
    if prom == "down":  # the record names the Prometheus that failed
        assert rec.get("IPA_METRICS_ERROR", "").startswith("Prometheus %s: " % url), rec
    else:  # an empty answer is no data, not an error
        assert "IPA_METRICS_ERROR" not in rec, rec


# -- records without a journal: stderr, logfmt and JSON ---------------------------------------------------
@pytest.mark.parametrize("fmt", ["json", "logfmt"])
def test_records_on_stderr(sim, prometheus, llmstub, kubeconfig, run_ipad, unique, fmt):
    ns = unique("stderr")
    make_target(sim, prometheus, ns, replicas=2, rps=LOW_RPS * 4)
    llmstub.mode("fixed", text={"replicas": 3})
    conf = conf_for(kubeconfig, prometheus.url, log_target="stderr",
                    log_format=fmt if fmt == "json" else None)
    res = run_ipad(conf, [yaml_for(ns, [{"deployment": "web"}], prometheus.url, llmstub.url)],
                   ["--once"])
    assert_rc(res, EX_OK)
    recs = [r for r in stderr_records(res.stderr, fmt) if r.get("IPA_DEPLOYMENT") == "web"]
    assert len(recs) == 1, res
    rec = recs[0]
    assert rec["IPA_NAMESPACE"] == ns and rec["PRIORITY"] == "6", rec
    assert rec["IPA_REPLICAS_FROM"] == "2" and rec["IPA_REPLICAS_TO"] == "3", rec
    assert rec["IPA_ACTION"] == "scale", rec
    assert replicas_of(sim, ns, "web") == 3
# -- (a) load rises -> scale up, and the journal says why ------------------------------------------
def assert_scaled_up_record(rec, after):
    assert rec["IPA_ACTION"] in ("scale", "scale+resize"), rec
    if after == MAX_REPLICAS:   # the advice may have been clamped
        assert rec["PRIORITY"] in ("6", "5"), rec
        if rec["PRIORITY"] == "5":
            assert "maxReplicas" in rec.get("IPA_REASON", ""), rec
    else:
        assert rec["PRIORITY"] == "6", rec
    assert rec["IPA_REPLICAS_FROM"] == "2", rec
    assert rec["IPA_REPLICAS_TO"] == str(after), rec


@pytest.mark.parametrize("advisor", ["ipa-agent", "builtin"])
def test_load_rise_scales_up_and_records_why(sim, prometheus, hot, llmstub, kubeconfig,
                                             run_ipad, decisions, advisor):
    ns = hot["rise-" + advisor]
    wait_hot(prometheus, ns)
    prometheus.wait_for('sum(rate(nginx_ingress_controller_requests{namespace="%s",'
                        'ingress="web-ing"}[2m]))' % ns, bool, timeout=30)
    # the stub's auto mode computes the replicas; resources as they are
    llmstub.mode("auto", text={"cpu_limit": "1"})
    # no scale-up rate limit: the advice is taken whole
    conf = conf_for(kubeconfig, prometheus.url, advisor=advisor, max_replicas=MAX_REPLICAS,
                    defaults={"scale-up-pods": 100})
    res = run_ipad(conf, [yaml_for(ns, [{"deployment": "web", "ingress": "web-ing"}],
                                   prometheus.url, llmstub.url)], ["--once"])
    assert_rc(res, EX_OK)

    after = replicas_of(sim, ns, "web")
    assert 2 < after <= MAX_REPLICAS, "replicas should rise from 2 under load, now %d\n%r" % (
        after, res)

    rec = only_record(decisions(res), "web")
    assert_scaled_up_record(rec, after)
    assert rec["IPA_NAMESPACE"] == ns and rec["IPA_CLUSTER"] == "sim", rec
    assert rec["IPA_ADVISOR"] == advisor, rec
    assert "IPA_DRY_RUN" not in rec, rec
    assert float(rec["IPA_CPU_UTILIZATION"]) > 70, rec
    assert float(rec["IPA_REQUEST_RATE"]) > 0, rec
    assert re.search(r"\b2\b.*\b%d\b" % after, rec["MESSAGE"]), rec
    assert int(rec.get("IPA_READY_REPLICAS", "2")) == 2, rec
    if advisor == "ipa-agent":
        assert int(rec["IPA_ADVISOR_LATENCY_MS"]) >= 0, rec

    # the scale went through the scale subresource or a patch of spec.replicas
    w = writes(sim.requests(), ns, "web")
    assert w and all(req_method(r) in ("PATCH", "PUT") for r in w), w

    if advisor == "ipa-agent":
        asks = llmstub.requests()
        assert len(asks) == 1, asks
        ask = asks[0]
        assert "rejected" not in ask, ask
        assert ask["headers"].get("Content-Type", "").startswith("application/json")
        prompt = ask["body"]["metrics"]
        assert re.search(r"^replicas: spec 2\b", prompt, re.M), prompt
        assert re.search(r"^request rate: \d+(\.\d+)?/s", prompt, re.M), prompt
        m = re.search(r"\((\d+(?:\.\d+)?)% of request\)", prompt)
        assert m, "the prompt should carry the CPU utilization:\n" + prompt
        advised = ask["answer"]["body"]["text"]["replicas"]
        assert advised == math.ceil(2 * float(m.group(1)) / 70 - 1e-9)
        assert after == min(advised, MAX_REPLICAS)
        assert rec["IPA_ADVICE"].startswith("replicas=%d" % advised), rec
    else:
        assert not llmstub.requests(), "the builtin advisor must not call the agent"


# -- (e) one failing target does not stop the others -----------------------------------------------
def test_failing_target_does_not_stop_the_others(sim, prometheus, hot, llmstub, kubeconfig,
                                                 run_ipad, decisions):
    ns = hot["two"]
    wait_hot(prometheus, ns)
    llmstub.mode("auto", text={"cpu_limit": "1"})
    # the missing Deployment comes first (IPA stopped at the first failure)
    items = [{"deployment": "ghost"}, {"deployment": "web"}]
    res = run_ipad(conf_for(kubeconfig, prometheus.url, max_replicas=MAX_REPLICAS,
                            defaults={"scale-up-pods": 100}),
                   [yaml_for(ns, items, prometheus.url, llmstub.url)], ["--once"])
    assert_rc(res, EX_TEMPFAIL)
    after = replicas_of(sim, ns, "web")
    assert after > 2, res
    recs = decisions(res, 2)
    ghost, web = only_record(recs, "ghost"), only_record(recs, "web")
    assert ghost["PRIORITY"] in ("4", "3"), ghost
    assert ghost.get("IPA_ERROR"), ghost
    assert ghost["IPA_ACTION"] in ("hold", "failed"), ghost
    assert_scaled_up_record(web, after)
    assert not writes(sim.requests(), ns, "ghost")


# -- (h) --dry-run ------------------------------------------------------------------------------------
def test_dry_run_changes_nothing_and_says_would(sim, prometheus, hot, llmstub, kubeconfig,
                                                run_ipad, decisions):
    ns = hot["dry"]
    wait_hot(prometheus, ns)
    llmstub.mode("auto", text={"cpu_limit": "1"})
    before = sim.deployment(ns, "web")
    sim.clear_requests()
    res = run_ipad(conf_for(kubeconfig, prometheus.url, max_replicas=MAX_REPLICAS),
                   [yaml_for(ns, [{"deployment": "web"}], prometheus.url, llmstub.url)],
                   ["--once", "--dry-run"])
    assert_rc(res, EX_OK)
    assert_unchanged(sim, ns, "web", before)
    assert not all_writes(sim.requests()), "dry run wrote: %s" % all_writes(sim.requests())
    rec = only_record(decisions(res), "web")
    assert rec.get("IPA_DRY_RUN") == "1", rec
    assert "would" in rec["MESSAGE"], rec
    assert int(rec["IPA_REPLICAS_TO"]) > int(rec["IPA_REPLICAS_FROM"]) == 2, rec
    assert rec["IPA_ACTION"] in ("scale", "scale+resize"), rec
    # nor the state directory (a trial run as root beside the service)
    assert list((res.dir / "state").iterdir()) == [], list((res.dir / "state").iterdir())
