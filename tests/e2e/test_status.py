"""What ipad reports and respects on the objects: the status of IPA custom
resources (src/status.c: observedGeneration, per-item entries, conditions,
the Targets and Last Action columns of `kubectl get ipa`), the pause
annotation ipa.shafinhasnat.me/paused on a Deployment or an IPA, and a
spec.replicas changed outside ipad (held one cycle, not overwritten). The
real ipad, kubesim, Prometheus, the IPA agent stub, journald.

Run: IPAD_BIN=$PWD/build/src/ipad unshare --mount --propagation private \
     /usr/bin/python3 -m pytest -q tests/e2e/test_status.py
"""
import os
import shutil
import subprocess
import time

import pytest
import yaml

from e2e_helpers import (EX_OK, advice, conf_for, delete_ipa, ipa_object, ipa_yaml,
                         make_deployment, req_method, req_path, wait_until, watching_conf)

KUBECTL = os.environ.get("KUBECTL") or shutil.which(
    "kubectl", path="/usr/bin:/usr/local/bin") or "/usr/bin/kubectl"
PAUSED = {"ipa.shafinhasnat.me/paused": "true"}
IPAS = "/apis/ipa.shafinhasnat.me/v1alpha1/namespaces/%s/ipas"
CRD = os.path.join(os.path.dirname(__file__), "..", "..", "packaging", "manifests",
                   "ipa-crd.yaml")


def file_ipa(name, ns, prometheus, llmstub, annotations=None, deployments=("web",)):
    doc = yaml.safe_load(ipa_yaml(name, [{"deployment": d, "namespace": ns}
                                         for d in deployments],
                                  prometheus.url, llmstub.url))
    if annotations:
        doc["metadata"]["annotations"] = dict(annotations)
    return yaml.safe_dump(doc, sort_keys=False)


def web_claimed_by_ipa(sim, prometheus, llmstub, ns, replicas, name="my-ipa",
                       annotations=None):
    """Deployment ns/web under load, the stub advising ``replicas`` (resources
    as they are), and IPA object ns/name (``annotations``) claiming web."""
    make_deployment(sim, prometheus, ns)
    llmstub.mode("fixed", text=advice(replicas))
    sim.apply(ipa_object(ns, name, [{"deployment": "web", "namespace": ns}],
                         prometheus, llmstub, annotations=annotations))


def ipa_status(sim, ns, name):
    code, body = sim.api("GET", IPAS % ns + "/" + name)
    assert code == 200, body
    return body.get("status") or {}


def status_with_last_action(sim, ns, name):
    """IPA ns/name's status once it has a lastAction."""
    return wait_until("the status with lastAction",
                      lambda: (lambda s: s if s.get("lastAction") else None)(
                          ipa_status(sim, ns, name)))


def condition(status, type_):
    for c in status.get("conditions", []):
        if c["type"] == type_:
            return c
    raise AssertionError("no condition %s in %s" % (type_, status))


def kubectl(sim, *args):
    if not os.path.exists(KUBECTL):
        pytest.skip("kubectl is not installed")
    p = subprocess.run([KUBECTL, "--kubeconfig", sim.kubeconfig("token"), "--cache-dir",
                        os.path.join(sim.state_dir, "kubectl-cache")] + list(args),
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout


# -- pause ---------------------------------------------------------------------------
def test_paused_deployment_is_observed_and_held(sim, prometheus, llmstub, kubeconfig,
                                                run_ipad, decisions, unique):
    ns = unique("pausedep")
    make_deployment(sim, prometheus, ns, annotations=PAUSED)
    llmstub.mode("fixed", text=advice(4))
    res = run_ipad(conf_for(kubeconfig, prometheus.url),
                   [file_ipa("ipa-" + ns, ns, prometheus, llmstub)], ["--once"])
    assert res.rc == EX_OK, res
    rec = decisions(res)[0]
    assert rec["PRIORITY"] == "6" and rec["IPA_ACTION"] == "hold", rec
    assert rec["IPA_REASON"] == ("paused by the annotation ipa.shafinhasnat.me/paused on "
                                 "Deployment %s/web" % ns), rec
    assert rec["IPA_REPLICAS_FROM"] == "2" and rec["IPA_READY_REPLICAS"], rec
    assert llmstub.requests() == []      # nothing to advise on
    assert sim.deployment(ns, "web")["spec"]["replicas"] == 2


def test_paused_ipa_file_holds_its_items(sim, prometheus, llmstub, kubeconfig,
                                         run_ipad, decisions, unique):
    ns = unique("pauseipa")
    make_deployment(sim, prometheus, ns)
    llmstub.mode("fixed", text=advice(4))
    res = run_ipad(conf_for(kubeconfig, prometheus.url),
                   [file_ipa("my-ipa", ns, prometheus, llmstub, annotations=PAUSED)],
                   ["--once"])
    assert res.rc == EX_OK, res
    rec = decisions(res)[0]
    assert rec["PRIORITY"] == "6" and rec["IPA_ACTION"] == "hold", rec
    assert rec["IPA_REASON"].startswith("paused by the annotation "
                                        "ipa.shafinhasnat.me/paused on IPA "), rec
    assert rec["IPA_REASON"].endswith("my-ipa"), rec
    assert sim.deployment(ns, "web")["spec"]["replicas"] == 2


# -- spec.replicas changed outside ipad ------------------------------------------------
def test_manual_scale_is_noticed_and_not_overwritten(sim, prometheus, llmstub, kubeconfig,
                                                     start_ipad, decisions, unique):
    ns = unique("manual")
    make_deployment(sim, prometheus, ns)
    llmstub.mode("fixed", text=advice(3))
    dm = start_ipad(conf_for(kubeconfig, prometheus.url, interval="2s"),
                    [file_ipa("ipa-" + ns, ns, prometheus, llmstub)])
    decisions(dm, 1, timeout=30, IPA_ACTION="scale", IPA_REPLICAS_TO="3")
    # Someone scales by hand between cycles.
    if os.path.exists(KUBECTL):
        kubectl(sim, "scale", "deployment", "web", "-n", ns, "--replicas=7")
    else:
        code, body = sim.api("PATCH", "/apis/apps/v1/namespaces/%s/deployments/web/scale" % ns,
                             {"spec": {"replicas": 7}}, "application/merge-patch+json")
        assert code == 200, body
    rec = decisions(dm, 1, timeout=30, IPA_REPLICAS_FROM="7")[0]
    assert rec["IPA_ACTION"] == "hold" and rec["PRIORITY"] == "5", rec
    assert rec["IPA_REASON"].startswith(
        "spec.replicas changed from 3 to 7 outside ipad since its last write at "), rec
    assert rec["IPA_REASON"].endswith("; holding this cycle"), rec
    assert sim.deployment(ns, "web")["spec"]["replicas"] == 7
    # The next cycle takes 7 as the baseline: no second such hold.
    llmstub.mode("fixed", text=advice(7))
    recs = decisions(dm, 3, timeout=30, IPA_REPLICAS_FROM="7")
    assert all("outside ipad" not in r.get("IPA_REASON", "") for r in recs[1:]), recs
    assert dm.stop() == 0, dm.stderr()[-4000:]


# -- IPA custom resources: the status subresource ------------------------------------------
def test_ipa_status_items_conditions_and_columns(sim, prometheus, llmstub, kubeconfig,
                                                 start_ipad, decisions, unique):
    ns = unique("status")
    make_deployment(sim, prometheus, ns, "web")
    make_deployment(sim, prometheus, ns, "api", annotations=PAUSED)
    llmstub.mode("fixed", text=advice(3))
    sim.apply(ipa_object(ns, "my-ipa", [{"deployment": "web", "namespace": ns},
                                        {"deployment": "api", "namespace": ns}],
                         prometheus, llmstub))
    dm = start_ipad(watching_conf(kubeconfig, prometheus, ns))
    decisions(dm, 1, timeout=30, IPA_NAME="my-ipa", IPA_ACTION="scale")

    st = status_with_last_action(sim, ns, "my-ipa")
    code, obj = sim.api("GET", IPAS % ns + "/my-ipa")
    assert st["observedGeneration"] == obj["metadata"]["generation"], st
    assert st["targets"] == 2, st
    assert st["status"] == "Success", st
    assert st["lastAction"].startswith("scaled %s/web 2→3 at " % ns), st
    web, api = st["items"]
    assert (web["deployment"], web["namespace"], api["deployment"]) == ("web", ns, "api"), st
    assert web["currentReplicas"] in (2, 3) and web["desiredReplicas"] == 3, web
    assert web["lastAction"] == "scaled %s/web 2→3" % ns, web
    assert web["lastAdvisor"] == "ipa-agent" and web["lastAdvisorLatencyMs"] >= 0, web
    assert "lastError" not in web, web
    assert api["state"] == "Paused" and api["currentReplicas"] == 2, api
    assert condition(st, "Ready")["status"] == "True", st
    active = condition(st, "ScalingActive")
    assert (active["status"], active["reason"]) == ("False", "Paused"), active
    assert active["observedGeneration"] == obj["metadata"]["generation"], active
    assert condition(st, "ScalingLimited")["status"] == "False", st

    kubectl(sim, "apply", "-f", CRD)      # the printer columns
    out = kubectl(sim, "get", "ipa", "my-ipa", "-n", ns)
    header, row = out.splitlines()[:2]
    assert header.split()[:5] == ["NAME", "TARGETS", "READY", "LAST", "ACTION"], out
    assert row.split()[1:3] == ["2", "True"] and "scaled" in row and "%s/web" % ns in row, out

    # Unpaused: ScalingActive turns True with a new lastTransitionTime,
    # Ready keeps its own.
    ready_since = condition(st, "Ready")["lastTransitionTime"]
    code, body = sim.api("PATCH", "/apis/apps/v1/namespaces/%s/deployments/api" % ns,
                         {"metadata": {"annotations": {"ipa.shafinhasnat.me/paused": None}}},
                         "application/merge-patch+json")
    assert code == 200, body
    st = wait_until("ScalingActive True", lambda: (lambda s: s if condition(
        s, "ScalingActive")["status"] == "True" else None)(ipa_status(sim, ns, "my-ipa")))
    assert condition(st, "Ready")["lastTransitionTime"] == ready_since, st
    assert condition(st, "ScalingActive")["reason"] == "ValidAdvice", st
    assert dm.stop() == 0, dm.stderr()[-4000:]


def test_paused_ipa_object(sim, prometheus, llmstub, kubeconfig, start_ipad, decisions,
                           unique):
    ns = unique("pausecr")
    web_claimed_by_ipa(sim, prometheus, llmstub, ns, 4, annotations=PAUSED)
    dm = start_ipad(watching_conf(kubeconfig, prometheus, ns))
    rec = decisions(dm, 1, timeout=30, IPA_NAME="my-ipa")[0]
    assert rec["PRIORITY"] == "6" and rec["IPA_ACTION"] == "hold", rec
    assert rec["IPA_REASON"] == ("paused by the annotation ipa.shafinhasnat.me/paused on "
                                 "IPA %s/my-ipa" % ns), rec
    st = wait_until("a status", lambda: ipa_status(sim, ns, "my-ipa").get("items"))
    st = ipa_status(sim, ns, "my-ipa")
    assert st["items"][0]["state"] == "Paused", st
    active = condition(st, "ScalingActive")
    assert (active["status"], active["reason"]) == ("False", "Paused"), active
    assert sim.deployment(ns, "web")["spec"]["replicas"] == 2
    assert dm.stop() == 0, dm.stderr()[-4000:]


def test_refused_item_status_and_event_on_the_ipa(sim, prometheus, llmstub, kubeconfig,
                                                  start_ipad, decisions, unique):
    ns = unique("refused")
    web_claimed_by_ipa(sim, prometheus, llmstub, ns, 2, "first")
    time.sleep(1.1)   # creationTimestamp has whole seconds
    sim.apply(ipa_object(ns, "second", [{"deployment": "web", "namespace": ns}],
                         prometheus, llmstub))
    dm = start_ipad(watching_conf(kubeconfig, prometheus, ns))
    decisions(dm, 1, timeout=30, IPA_NAME="second")
    st = wait_until("the status of second",
                    lambda: ipa_status(sim, ns, "second").get("conditions") and
                    ipa_status(sim, ns, "second"))
    assert st["targets"] == 0 and st["items"][0]["state"] == "Refused", st
    ready = condition(st, "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "ConflictingClaim"), ready
    assert "first" in ready["message"], ready
    assert condition(ipa_status(sim, ns, "first"), "Ready")["status"] == "True"

    def claim_events():
        code, body = sim.api("GET", "/api/v1/namespaces/%s/events" % ns)
        assert code == 200, body
        return [e for e in body["items"] if e["reason"] == "ConflictingClaim"]
    evs = wait_until("a ConflictingClaim Event", claim_events)
    code, obj = sim.api("GET", IPAS % ns + "/second")
    assert evs[0]["type"] == "Warning", evs
    assert evs[0]["involvedObject"] == {"apiVersion": "ipa.shafinhasnat.me/v1alpha1",
                                        "kind": "IPA", "name": "second", "namespace": ns,
                                        "uid": obj["metadata"]["uid"]}, evs
    # aggregated: one Event whose count grows
    wait_until("count 2", lambda: claim_events()[0]["count"] >= 2)
    assert len(claim_events()) == 1
    assert dm.stop() == 0, dm.stderr()[-4000:]


def test_status_is_never_written_in_dry_run(sim, prometheus, llmstub, kubeconfig,
                                            start_ipad, decisions, unique):
    ns = unique("statusdry")
    web_claimed_by_ipa(sim, prometheus, llmstub, ns, 3)
    dm = start_ipad(watching_conf(kubeconfig, prometheus, ns), args=["--dry-run"])
    decisions(dm, 2, timeout=30, IPA_NAME="my-ipa")
    assert dm.stop() == 0, dm.stderr()[-4000:]
    assert ipa_status(sim, ns, "my-ipa") == {}


def test_failed_status_write_is_a_warning_never_a_failed_decision(
        sim, prometheus, llmstub, kubeconfig, start_ipad, decisions, lifecycle, unique):
    ns = unique("statusfail")
    web_claimed_by_ipa(sim, prometheus, llmstub, ns, 2)
    sim.fault(method="PATCH", path_regex="^" + IPAS % ns + "/my-ipa/status", status=403,
              count=-1)
    try:
        dm = start_ipad(watching_conf(kubeconfig, prometheus, ns))
        rec = decisions(dm, 1, timeout=30, IPA_NAME="my-ipa")[0]
        warn = lifecycle(dm, 1, timeout=15, PRIORITY="4")
    finally:
        sim.clear_faults()
    assert rec["PRIORITY"] == "6", rec
    assert any(r["MESSAGE"].startswith("IPA %s/my-ipa (cluster sim): the status is not "
                                       "written: PATCH " % ns) and "403" in r["MESSAGE"]
               for r in warn), warn
    # Deleted meanwhile: no warning about its status.
    delete_ipa(sim, ns, "my-ipa")
    time.sleep(3)
    assert dm.stop() == 0, dm.stderr()[-4000:]
    assert not any("the status is not written" in r["MESSAGE"] and "404" in r["MESSAGE"]
                   for r in lifecycle(dm, 1, PRIORITY="4")), warn


def test_status_survives_a_restart(sim, prometheus, llmstub, kubeconfig, start_ipad,
                                   decisions, unique):
    ns = unique("statusrs")
    web_claimed_by_ipa(sim, prometheus, llmstub, ns, 3)
    conf = watching_conf(kubeconfig, prometheus, ns)
    dm = start_ipad(conf)
    st = status_with_last_action(sim, ns, "my-ipa")
    assert dm.stop() == 0, dm.stderr()[-4000:]
    time.sleep(1.1)   # timestamps have whole seconds
    sim.clear_requests()
    dm = start_ipad(conf)
    decisions(dm, 1, timeout=30, IPA_NAME="my-ipa")

    def status_written():
        return any(req_method(r) == "PATCH" and req_path(r).endswith(
            "/namespaces/%s/ipas/my-ipa/status" % ns) for r in sim.requests())
    wait_until("a status written after the restart", status_written)
    again = ipa_status(sim, ns, "my-ipa")
    assert dm.stop() == 0, dm.stderr()[-4000:]
    for type_ in ("Ready", "ScalingActive", "ScalingLimited"):
        assert condition(again, type_)["lastTransitionTime"] == \
            condition(st, type_)["lastTransitionTime"], (st, again)
    assert again["items"][0]["lastAction"] == "scaled %s/web 2→3" % ns, again
    assert again["items"][0]["lastActionTime"] == st["items"][0]["lastActionTime"], again
