"""Another autoscaler on the same Deployment (src/autoscalers.c): an HPA
(so KEDA too) owns the replicas, a VPA the resources; ipad holds what they
own, with a warning record naming them and a ConflictingAutoscaler Event.

Run: IPAD_BIN=$PWD/build/src/ipad unshare --mount --propagation private \
     /usr/bin/python3 -m pytest -q tests/e2e/test_autoscalers.py
"""
import pytest

from e2e_helpers import (EX_OK, EX_TEMPFAIL, advice, conf_for, ipa_yaml, make_deployment,
                         req_method, req_path, writes)

# Replicas 2 -> 3; a new CPU request for the resize cases.
SCALE_TO_3 = advice(3)
RESIZE = advice(2, cpu_request="300m")


def hpa(ns, name, target, api_version="apps/v1", kind="Deployment"):
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"scaleTargetRef": {"apiVersion": api_version, "kind": kind,
                                        "name": target},
                     "minReplicas": 1, "maxReplicas": 10,
                     "metrics": [{"type": "Resource", "resource": {
                         "name": "cpu", "target": {"type": "Utilization",
                                                   "averageUtilization": 70}}}]}}


def vpa(ns, name, target, mode="Auto"):
    return {"apiVersion": "autoscaling.k8s.io/v1", "kind": "VerticalPodAutoscaler",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"targetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                   "name": target},
                     "updatePolicy": {"updateMode": mode}}}


def run(sim, prometheus, llmstub, kubeconfig, run_ipad, ns, items, advice):
    llmstub.mode("fixed", text=advice)
    sim.clear_requests()
    items = [dict(i, namespace=ns) for i in items]
    return run_ipad(conf_for(kubeconfig, prometheus.url),
                    [ipa_yaml("ipa-" + ns, items, prometheus.url, llmstub.url)], ["--once"])


def ipad_events(sim, ns, reason):
    code, body = sim.api("GET", "/api/v1/namespaces/%s/events" % ns)
    assert code == 200, body
    return [e for e in body["items"]
            if e.get("reportingComponent") == "ipad" and e["reason"] == reason]


def rec_of(decisions, res, name):
    return [r for r in decisions(res) if r.get("IPA_DEPLOYMENT") == name][0]


def test_hpa_holds_the_deployment(sim, prometheus, llmstub, kubeconfig, run_ipad,
                                  decisions, unique):
    ns = unique("hpa")
    make_deployment(sim, prometheus, ns, require_nonzero_cpu=True)
    sim.apply(hpa(ns, "keda-hpa-web", "web"))
    res = run(sim, prometheus, llmstub, kubeconfig, run_ipad, ns, [{"deployment": "web"}],
              SCALE_TO_3)
    assert res.rc == EX_TEMPFAIL, res   # a warning record, as any hold that needs a look
    assert sim.deployment(ns, "web")["spec"]["replicas"] == 2
    assert not writes(sim.requests(), ns, "web")
    rec = rec_of(decisions, res, "web")
    assert rec["PRIORITY"] == "4" and rec["IPA_ACTION"] == "hold", rec
    assert "HorizontalPodAutoscaler keda-hpa-web" in rec["IPA_REASON"], rec
    assert not llmstub.requests(), "a held target costs no advice"
    (ev,) = ipad_events(sim, ns, "ConflictingAutoscaler")
    assert ev["type"] == "Warning" and "keda-hpa-web" in ev["message"], ev
    assert ev["involvedObject"]["name"] == "web", ev


def test_hpa_with_resources_only_resizes(sim, prometheus, llmstub, kubeconfig, run_ipad,
                                         decisions, unique):
    ns = unique("hpares")
    make_deployment(sim, prometheus, ns, require_nonzero_cpu=True)
    sim.apply(hpa(ns, "web", "web"))
    res = run(sim, prometheus, llmstub, kubeconfig, run_ipad, ns,
              [{"deployment": "web", "mode": "ResourcesOnly"}], dict(RESIZE, replicas=5))
    assert res.rc == EX_OK, res
    dep = sim.deployment(ns, "web")
    assert dep["spec"]["replicas"] == 2
    assert dep["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"][
        "cpu"] == "300m"
    rec = rec_of(decisions, res, "web")
    assert rec["IPA_ACTION"] == "resize", rec
    assert not ipad_events(sim, ns, "ConflictingAutoscaler")


def test_vpa_holds_resources_and_replicas_only_scales(sim, prometheus, llmstub, kubeconfig,
                                                      run_ipad, decisions, unique):
    ns = unique("vpa")
    for name in ("web", "api"):
        make_deployment(sim, prometheus, ns, name, require_nonzero_cpu=True)
    sim.apply(vpa(ns, "web-vpa", "web"))
    sim.apply(vpa(ns, "api-vpa", "api"))
    res = run(sim, prometheus, llmstub, kubeconfig, run_ipad, ns,
              [{"deployment": "web"}, {"deployment": "api", "mode": "ReplicasOnly"}],
              dict(SCALE_TO_3, cpu_request="300m"))
    assert res.rc == EX_TEMPFAIL, res
    web, api = rec_of(decisions, res, "web"), rec_of(decisions, res, "api")
    assert web["IPA_ACTION"] == "hold" and web["PRIORITY"] == "4", web
    assert "VerticalPodAutoscaler web-vpa" in web["IPA_REASON"], web
    assert sim.deployment(ns, "web")["spec"]["replicas"] == 2
    assert api["IPA_ACTION"] == "scale", api
    api_dep = sim.deployment(ns, "api")
    assert api_dep["spec"]["replicas"] == 3
    assert api_dep["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"][
        "cpu"] == "100m"
    assert [e["involvedObject"]["name"] for e in
            ipad_events(sim, ns, "ConflictingAutoscaler")] == ["web"]
    # Both targets share the namespace: each list was read once this cycle.
    lists = [r for r in sim.requests() if req_method(r) == "GET" and
             req_path(r).endswith(("/horizontalpodautoscalers",
                                   "/verticalpodautoscalers"))]
    assert sorted(req_path(r).rsplit("/", 1)[1] for r in lists) == \
        ["horizontalpodautoscalers", "verticalpodautoscalers"], lists


@pytest.mark.parametrize("other", ["other-deployment", "statefulset", "core-group",
                                   "vpa-off"])
def test_autoscalers_of_something_else_do_not_hold(sim, prometheus, llmstub, kubeconfig,
                                                   run_ipad, decisions, unique, other):
    ns = unique("nohold")
    make_deployment(sim, prometheus, ns, require_nonzero_cpu=True)
    sim.apply({"other-deployment": hpa(ns, "h", "web-canary"),
               "statefulset": hpa(ns, "h", "web", kind="StatefulSet"),
               "core-group": hpa(ns, "h", "web", api_version="v1"),
               "vpa-off": vpa(ns, "v", "web", mode="Off")}[other])
    res = run(sim, prometheus, llmstub, kubeconfig, run_ipad, ns, [{"deployment": "web"}],
              SCALE_TO_3)
    assert res.rc == EX_OK, res
    assert sim.deployment(ns, "web")["spec"]["replicas"] == 3
    assert rec_of(decisions, res, "web")["IPA_ACTION"] == "scale"


def test_hpa_that_appears_while_ipad_runs_stops_it(sim, prometheus, llmstub, kubeconfig,
                                                   start_ipad, decisions, unique):
    """An HPA created while ipad runs is seen at the next cycle: from then on
    ipad holds, whatever the advice, and the replicas are the HPA's."""
    ns = unique("hpanew")
    make_deployment(sim, prometheus, ns, require_nonzero_cpu=True)
    llmstub.mode("fixed", text=SCALE_TO_3)
    dm = start_ipad(conf_for(kubeconfig, prometheus.url, interval="1s"),
                    [ipa_yaml("ipa-" + ns, [{"deployment": "web", "namespace": ns}],
                              prometheus.url, llmstub.url)])
    decisions(dm, 1, timeout=20, IPA_DEPLOYMENT="web", IPA_REPLICAS_TO="3")
    assert sim.deployment(ns, "web")["spec"]["replicas"] == 3
    sim.apply(hpa(ns, "web", "web"))
    held = decisions(dm, 1, timeout=20, IPA_DEPLOYMENT="web", IPA_ACTION="hold",
                     PRIORITY="4")
    assert "HorizontalPodAutoscaler web" in held[0]["IPA_REASON"], held[0]
    # The HPA scales to 5; ipad's advice (3) is not applied against it.
    sim.api("PATCH", "/apis/apps/v1/namespaces/%s/deployments/web/scale" % ns,
            {"spec": {"replicas": 5}}, content_type="application/merge-patch+json")
    n = len(decisions(dm, 1, IPA_DEPLOYMENT="web"))
    decisions(dm, n + 2, timeout=20, IPA_DEPLOYMENT="web")
    assert sim.deployment(ns, "web")["spec"]["replicas"] == 5
    assert ipad_events(sim, ns, "ConflictingAutoscaler")
    assert dm.stop() == 0, dm.stderr()[-4000:]
