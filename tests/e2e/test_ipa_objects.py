"""IPA custom resources as targets (src/registry.c, src/informer.c): an IPA
applied to the cluster becomes a target without a restart, a deleted one
stops being one, and one Deployment claimed twice (a file and an IPA, or
two IPAs) is held by its first claimant while the later claim is refused
with a record that names the holder. The real ipad, kubesim, Prometheus,
the IPA agent stub, journald.

Run: IPAD_BIN=$PWD/build/src/ipad unshare --mount --propagation private \
     /usr/bin/python3 -m pytest -q tests/e2e/test_ipa_objects.py
"""
import time

from e2e_helpers import (delete_ipa, delete_last_ipa, ipa_object, ipa_yaml, make_deployment,
                         wait_for_replicas, wait_until, watching_conf)


def test_ipa_objects_join_and_leave_without_restart(sim, prometheus, llmstub, kubeconfig,
                                                    start_ipad, decisions, lifecycle, unique):
    ns = unique("crs")
    make_deployment(sim, prometheus, ns)
    llmstub.mode("fixed", text={"replicas": 3})
    dm = start_ipad(watching_conf(kubeconfig, prometheus, ns))
    lifecycle(dm, 1, timeout=15, MESSAGE="ipad %s started: 0 targets, 1 cluster "
              "(IPA objects watched in 1), advisor ipa-agent, interval 1s" % _version(dm))

    sim.apply(ipa_object(ns, "web-ipa", [{"deployment": "web", "namespace": ns}],
                         prometheus, llmstub))
    recs = decisions(dm, 1, timeout=20, IPA_NAME="web-ipa")
    assert recs[0]["IPA_DEPLOYMENT"] == "web", recs[0]
    assert recs[0]["IPA_SOURCE"] == "cluster sim: IPA %s/web-ipa: spec.metadata.ipaGroup[0]" % ns
    wait_for_replicas(sim, ns, 3)

    # An edit (maxReplicas 2) takes effect at the next cycle: back to 2.
    obj = ipa_object(ns, "web-ipa", [{"deployment": "web", "namespace": ns,
                                      "maxReplicas": 2}], prometheus, llmstub)
    sim.apply(obj)
    recs = decisions(dm, 1, timeout=20, IPA_NAME="web-ipa", IPA_REPLICAS_TO="2")
    assert "maxReplicas" in recs[0]["IPA_REASON"], recs[0]

    # Deleted: no more records for it.
    delete_last_ipa(sim, dm, decisions, lifecycle, ns, "web-ipa")
    assert dm.stop() == 0, dm.stderr()[-4000:]


def _version(dm):
    import subprocess
    out = subprocess.run([dm.cmd[0], "--version"], capture_output=True, text=True).stdout
    return out.split()[1]


def test_first_claimant_keeps_the_deployment(sim, prometheus, llmstub, kubeconfig,
                                             start_ipad, decisions, unique):
    ns = unique("claim")
    make_deployment(sim, prometheus, ns, "web")
    make_deployment(sim, prometheus, ns, "api")
    llmstub.mode("fixed", text={"replicas": 2})
    # web: a file claims it, then an IPA object. api: two IPA objects.
    file_ipa = ipa_yaml("from-file", [{"deployment": "web", "namespace": ns}],
                        prometheus.url, llmstub.url)
    sim.apply(ipa_object(ns, "first", [{"deployment": "api", "namespace": ns}],
                         prometheus, llmstub))
    time.sleep(1.1)   # creationTimestamp has whole seconds
    sim.apply(ipa_object(ns, "second", [{"deployment": "api", "namespace": ns},
                                        {"deployment": "web", "namespace": ns}],
                         prometheus, llmstub))
    dm = start_ipad(watching_conf(kubeconfig, prometheus, ns), [file_ipa])

    refused = decisions(dm, 2, timeout=20, IPA_NAME="second")
    by_dep = {r["IPA_DEPLOYMENT"]: r for r in refused}
    assert by_dep["web"]["PRIORITY"] == "4", by_dep["web"]
    err = by_dep["web"]["IPA_ERROR"]
    assert err.startswith("Deployment %s/web in cluster sim is already managed by %s:"
                          % (ns, dm.dir / "ipa.d" / "10-ipa.yaml")), err
    assert err.endswith("; this claim is refused while that one holds it"), err
    assert by_dep["api"]["IPA_ERROR"] == (
        "Deployment %s/api in cluster sim is already managed by cluster sim: IPA %s/first: "
        "spec.metadata.ipaGroup[0]; this claim is refused while that one holds it"
        % (ns, ns)), by_dep["api"]
    assert decisions(dm, 1, timeout=10, IPA_NAME="first", IPA_DEPLOYMENT="api")
    assert decisions(dm, 1, timeout=10, IPA_NAME="from-file", IPA_DEPLOYMENT="web")
    # The refused claims observed and changed nothing.
    assert all("IPA_REPLICAS_FROM" not in r for r in refused), refused

    # The holder of api goes away: the waiting claim takes it over.
    delete_ipa(sim, ns, "first")
    wait_until("second holds api", lambda: [
        r for r in decisions(dm, 1, timeout=20, IPA_NAME="second", IPA_DEPLOYMENT="api")
        if "IPA_ERROR" not in r])
    # web stays with the file.
    last_web = decisions(dm, 1, IPA_NAME="second", IPA_DEPLOYMENT="web")[-1]
    assert "already managed by" in last_web["IPA_ERROR"], last_web
    assert dm.stop() == 0, dm.stderr()[-4000:]


def test_bad_ipa_object_is_reported_and_others_run(sim, prometheus, llmstub, kubeconfig,
                                                   start_ipad, decisions, lifecycle, unique):
    ns = unique("badcr")
    make_deployment(sim, prometheus, ns)
    llmstub.mode("fixed", text={"replicas": 2})
    bad = ipa_object(ns, "bad", [{"deployment": "web", "namespace": ns}], prometheus, llmstub)
    bad["spec"]["metadata"]["ipaGroup"][0]["maxReplicas"] = "many"
    sim.apply(bad)
    sim.apply(ipa_object(ns, "good", [{"deployment": "web", "namespace": ns}],
                         prometheus, llmstub))
    dm = start_ipad(watching_conf(kubeconfig, prometheus, ns))
    recs = lifecycle(dm, 1, timeout=15, PRIORITY="4")
    assert any(r["MESSAGE"] == (
        "cluster sim: IPA %s/bad: spec.metadata.ipaGroup[0].maxReplicas: \"many\" is not a "
        "whole number (it is quoted: write it without quotes); that IPA object is not used "
        "until it is fixed" % ns) for r in recs), recs
    assert decisions(dm, 1, timeout=20, IPA_NAME="good")
    assert not decisions(dm, 0, IPA_NAME="bad")

    # Where kubectl users look: the bad object's status says why.
    def bad_status():
        code, body = sim.api("GET", "/apis/ipa.shafinhasnat.me/v1alpha1/namespaces/%s/ipas/bad"
                             % ns)
        assert code == 200, body
        return body.get("status", {}).get("conditions") and body["status"]
    st = wait_until("the status of the bad IPA", bad_status, timeout=15)
    conds = {c["type"]: c for c in st["conditions"]}
    assert conds["Ready"]["status"] == "False", conds
    assert conds["Ready"]["reason"] == "InvalidSpec", conds
    assert conds["Ready"]["message"] == (
        "spec.metadata.ipaGroup[0].maxReplicas: \"many\" is not a whole number (it is "
        "quoted: write it without quotes)"), conds
    assert conds["ScalingActive"]["reason"] == "InvalidSpec", conds
    assert st["targets"] == 0 and st["status"] == conds["Ready"]["message"], st
    assert dm.stop() == 0, dm.stderr()[-4000:]
