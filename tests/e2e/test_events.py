"""Events on the Deployment (src/events.c): what `kubectl describe
deployment` lists after ipad acts or fails, aggregated warnings, nothing in
--dry-run. The real ipad, kubesim, Prometheus, the IPA agent stub, journald.

Run: IPAD_BIN=$PWD/build/src/ipad unshare --mount --propagation private \
     /usr/bin/python3 -m pytest -q tests/e2e/test_events.py
"""
import os
import shutil
import subprocess
import time

import pytest

from e2e_helpers import EX_OK, advice, conf_for, ipa_yaml, make_deployment

KUBECTL = os.environ.get("KUBECTL") or shutil.which(
    "kubectl", path="/usr/bin:/usr/local/bin") or "/usr/bin/kubectl"
# Replicas 2 -> 3, resources as they are.
SCALE_TO_3 = advice(3)


def ipad_events(sim, ns):
    code, body = sim.api("GET", "/api/v1/namespaces/%s/events" % ns)
    assert code == 200, body
    return [e for e in body["items"] if e.get("reportingComponent") == "ipad"]


def item_yaml(ns, prometheus, llmstub):
    return ipa_yaml("ipa-" + ns, [{"deployment": "web", "namespace": ns}],
                    prometheus.url, llmstub.url)


def test_scale_posts_successful_rescale_shown_by_describe(sim, prometheus, llmstub,
                                                          kubeconfig, run_ipad, unique):
    ns = unique("events")
    make_deployment(sim, prometheus, ns, require_nonzero_cpu=True)
    llmstub.mode("fixed", text=SCALE_TO_3)
    res = run_ipad(conf_for(kubeconfig, prometheus.url),
                   [item_yaml(ns, prometheus, llmstub)], ["--once"])
    assert res.rc == EX_OK, res
    dep = sim.deployment(ns, "web")
    assert dep["spec"]["replicas"] == 3
    evs = ipad_events(sim, ns)
    assert [e["reason"] for e in evs] == ["SuccessfulRescale"], evs
    ev = evs[0]
    assert ev["type"] == "Normal" and ev["count"] == 1, ev
    assert ev["message"].startswith("New size: 3; reason: ipa-agent advice"), ev
    assert ev["involvedObject"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                    "name": "web", "namespace": ns,
                                    "uid": dep["metadata"]["uid"]}, ev
    assert ev["metadata"]["name"].startswith("web.")
    int(ev["metadata"]["name"][4:], 16)
    assert ev["firstTimestamp"] == ev["lastTimestamp"], ev
    assert ev["source"] == {"component": "ipad"}, ev
    assert ev["reportingInstance"] == os.uname().nodename, ev

    if not os.path.exists(KUBECTL):
        pytest.skip("kubectl is not installed")
    p = subprocess.run([KUBECTL, "--kubeconfig", sim.kubeconfig("token"), "--cache-dir",
                        os.path.join(sim.state_dir, "kubectl-cache"), "describe",
                        "deployment", "web", "-n", ns],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    line = [ln for ln in p.stdout.splitlines() if "SuccessfulRescale" in ln]
    assert line and "ipad" in line[0] and "New size: 3" in line[0], p.stdout


def test_dry_run_posts_no_event(sim, prometheus, llmstub, kubeconfig, run_ipad, unique):
    ns = unique("evdry")
    make_deployment(sim, prometheus, ns, require_nonzero_cpu=True)
    llmstub.mode("fixed", text={"replicas": 3})
    res = run_ipad(conf_for(kubeconfig, prometheus.url),
                   [item_yaml(ns, prometheus, llmstub)], ["--once", "--dry-run"])
    assert res.rc == EX_OK, res
    assert ipad_events(sim, ns) == []


def test_repeated_advisor_failure_is_one_event_counted(sim, prometheus, llmstub, kubeconfig,
                                                       start_ipad, decisions, unique):
    ns = unique("evagg")
    make_deployment(sim, prometheus, ns, require_nonzero_cpu=True)
    llmstub.mode("error500")
    dm = start_ipad(conf_for(kubeconfig, prometheus.url, interval="1s", timeout="2s"),
                    [item_yaml(ns, prometheus, llmstub)])
    decisions(dm, 3, timeout=40, PRIORITY="4")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        evs = [e for e in ipad_events(sim, ns) if e["reason"] == "AdvisorFailed"]
        if evs and evs[0]["count"] >= 3:
            break
        time.sleep(0.2)
    assert dm.stop() == 0, dm.stderr()[-4000:]
    assert len(evs) == 1, evs
    ev = evs[0]
    assert ev["type"] == "Warning" and ev["count"] >= 3, ev
    assert ev["lastTimestamp"] > ev["firstTimestamp"], ev
    assert "500" in ev["message"], ev
    assert sim.deployment(ns, "web")["spec"]["replicas"] == 2


def test_event_failure_never_fails_the_decision(sim, prometheus, llmstub, kubeconfig,
                                                run_ipad, decisions, lifecycle, unique):
    ns = unique("evfail")
    make_deployment(sim, prometheus, ns, require_nonzero_cpu=True)
    llmstub.mode("fixed", text=SCALE_TO_3)
    sim.fault(method="POST", path_regex="^/api/v1/namespaces/%s/events" % ns, status=403,
              count=-1)
    try:
        res = run_ipad(conf_for(kubeconfig, prometheus.url),
                       [item_yaml(ns, prometheus, llmstub)], ["--once"])
    finally:
        sim.clear_faults()
    assert res.rc == EX_OK, res
    assert sim.deployment(ns, "web")["spec"]["replicas"] == 3
    rec = [r for r in decisions(res) if r.get("IPA_DEPLOYMENT") == "web"][0]
    assert rec["PRIORITY"] == "6" and rec["IPA_ACTION"] == "scale", rec
    warn = lifecycle(res, 1, PRIORITY="4")
    assert any("event SuccessfulRescale not recorded" in r["MESSAGE"] and "403" in r["MESSAGE"]
               for r in warn), warn
    assert ipad_events(sim, ns) == []
