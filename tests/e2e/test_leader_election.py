"""High availability (src/lease.c): two ipad processes with different
identities against one simulated cluster elect a leader with a
coordination.k8s.io/v1 Lease; the other stands by (its records say so),
takes over after kill -9 within about the lease duration, and at once
after a SIGTERM (the leader releases). The simulator's request log tells
the processes apart: each uses its own bearer token (its own user).

Run: IPAD_BIN=$PWD/build/src/ipad unshare --mount --propagation private \
     /usr/bin/python3 -m pytest -q tests/e2e/test_leader_election.py
"""
import re
import signal
import socket
import time

import yaml

from e2e_helpers import (EX_OK, TARGET_RESOURCES, advice, conf_for, container, deployment,
                         ipa_yaml, make_deployment, namespace, wait_for_replicas, writes)


def user_kubeconfig(sim, kubeconfig, tmp_path, user):
    """A copy of the token kubeconfig with a token of its own for user."""
    token = "tok-%s-%s" % (user, tmp_path.name[-6:])
    sim.add_token(token, user)
    with open(kubeconfig) as f:
        kc = yaml.safe_load(f)
    for u in kc["users"]:
        u["user"]["token"] = token
    p = tmp_path / ("kubeconfig-%s.yaml" % user)
    p.write_text(yaml.safe_dump(kc))
    return str(p)


def conf(kc, prometheus, lease, identity):
    """identity None: the default (host name and a per-process suffix)."""
    text = conf_for(kc, prometheus.url, interval="1s", timeout="2s")
    return text.replace("[ipad]\n", "[ipad]\nleader-election = true\nlease-name = %s\n"
                        "lease-duration = 5s\n%s" % (
                            lease, "identity = %s\n" % identity if identity else ""), 1)


def lease(sim, name):
    code, body = sim.api("GET", "/apis/coordination.k8s.io/v1/namespaces/kube-system/"
                         "leases/%s" % name)
    assert code == 200, body
    return body["spec"]


def scale_writes(sim, ns, user):
    return [r for r in writes(sim.requests(), ns, "web") if r["user"] == user]


def b_took_over(sim, ns, lease_name, b):
    """After A is gone: B scales to 4 (the advice) and holds the Lease (5 s)
    after one transition, every write of A came before B's first; B stops
    cleanly."""
    wait_for_replicas(sim, ns, 4, timeout=10, step=0.05, what="B scales to 4")
    spec = lease(sim, lease_name)
    assert spec["holderIdentity"] == "host-b" and spec["leaseDurationSeconds"] == 5, spec
    assert spec["leaseTransitions"] == 1, spec
    wa, wb = scale_writes(sim, ns, "ipad-a"), scale_writes(sim, ns, "ipad-b")
    assert wa and wb
    assert max(r["time"] for r in wa) < min(r["time"] for r in wb), (wa, wb)
    assert b.stop() == EX_OK, b.stderr()[-3000:]


def pair(sim, prometheus, llmstub, kubeconfig, start_ipad, lifecycle, tmp_path, unique):
    """A target, then A started and leading, then B started."""
    ns = unique("ha")
    lease_name = unique("ipad")
    make_deployment(sim, prometheus, ns, require_nonzero_cpu=True)
    llmstub.mode("fixed", text=advice(3))
    item = ipa_yaml("ipa-" + ns, [{"deployment": "web", "namespace": ns}],
                    prometheus.url, llmstub.url)
    kca = user_kubeconfig(sim, kubeconfig, tmp_path, "ipad-a")
    kcb = user_kubeconfig(sim, kubeconfig, tmp_path, "ipad-b")
    a = start_ipad(conf(kca, prometheus, lease_name, "host-a"), [item])
    lifecycle(a, 1, timeout=10, MESSAGE="cluster sim: leading (Lease kube-system/%s, "
              "created)" % lease_name)
    b = start_ipad(conf(kcb, prometheus, lease_name, "host-b"), [item])
    return ns, lease_name, a, b


def standby_records(decisions, who, count, lease_name, holder):
    recs = decisions(who, count, timeout=15, IPA_DEPLOYMENT="web")
    why = "standby: Lease kube-system/%s in cluster sim is held by %s" % (lease_name, holder)
    for r in recs:
        assert r["PRIORITY"] == "6" and r["IPA_ACTION"] == "hold", r
        assert r.get("IPA_REASON") == why, r
        assert "IPA_READY_REPLICAS" not in r, r     # not even observed
    return recs


def test_one_leads_and_kill_9_hands_over_within_the_lease_duration(
        sim, prometheus, llmstub, kubeconfig, start_ipad, decisions, lifecycle, tmp_path,
        unique):
    ns, lease_name, a, b = pair(sim, prometheus, llmstub, kubeconfig, start_ipad,
                                lifecycle, tmp_path, unique)
    standby_records(decisions, b, 2, lease_name, "host-a")
    lifecycle(b, 1, MESSAGE="cluster sim: standby, Lease kube-system/%s is held by host-a"
              % lease_name)
    wait_for_replicas(sim, ns, 3, timeout=10, step=0.05, what="A scales to 3")
    spec = lease(sim, lease_name)
    assert spec["holderIdentity"] == "host-a" and spec["leaseDurationSeconds"] == 5, spec
    assert spec["leaseTransitions"] == 0, spec
    assert spec["acquireTime"].endswith("Z") and len(spec["renewTime"]) == 27, spec
    assert scale_writes(sim, ns, "ipad-a") and not scale_writes(sim, ns, "ipad-b")

    a.kill()   # SIGKILL: no release
    killed = time.monotonic()
    llmstub.mode("fixed", text=advice(4))
    lifecycle(b, 1, timeout=12, MESSAGE="cluster sim: leading (Lease kube-system/%s, "
              "taken over from host-a)" % lease_name)
    took = time.monotonic() - killed
    # expired by B's clock 5 s after it last saw A renew, plus its retry period
    assert 3.0 <= took <= 8.5, took
    b_took_over(sim, ns, lease_name, b)


def test_sigterm_releases_and_the_standby_takes_over_at_once(
        sim, prometheus, llmstub, kubeconfig, start_ipad, decisions, lifecycle, tmp_path,
        unique):
    ns, lease_name, a, b = pair(sim, prometheus, llmstub, kubeconfig, start_ipad,
                                lifecycle, tmp_path, unique)
    standby_records(decisions, b, 1, lease_name, "host-a")
    wait_for_replicas(sim, ns, 3, timeout=10, step=0.05, what="A scales to 3")
    llmstub.mode("fixed", text=advice(4))
    stopped = time.monotonic()
    assert a.stop(signal.SIGTERM) == EX_OK, a.stderr()[-3000:]
    lifecycle(a, 1, MESSAGE="cluster sim: released the Lease kube-system/%s" % lease_name)
    lifecycle(b, 1, timeout=6, MESSAGE="cluster sim: leading (Lease kube-system/%s)"
              % lease_name)
    took = time.monotonic() - stopped
    assert took < 3.5, took   # well before the 5 s duration: released
    b_took_over(sim, ns, lease_name, b)


def test_reload_keeps_leading_without_a_transition(
        sim, prometheus, llmstub, kubeconfig, start_ipad, decisions, lifecycle, tmp_path,
        unique):
    ns, lease_name, a, b = pair(sim, prometheus, llmstub, kubeconfig, start_ipad,
                                lifecycle, tmp_path, unique)
    standby_records(decisions, b, 1, lease_name, "host-a")
    before = lease(sim, lease_name)
    a.proc.send_signal(signal.SIGHUP)
    time.sleep(3)
    after = lease(sim, lease_name)
    assert after["holderIdentity"] == "host-a", after
    assert after["leaseTransitions"] == before["leaseTransitions"], (before, after)
    assert after["acquireTime"] == before["acquireTime"], (before, after)
    lost = [r for r in lifecycle(a, 1) if "lost the Lease" in r["MESSAGE"]]
    assert not lost, lost
    assert b.alive() and a.alive()
    assert b.stop() == EX_OK and a.stop() == EX_OK


def test_forbidden_lease_names_the_rbac_rule(sim, prometheus, llmstub, kubeconfig, run_ipad,
                                             decisions, lifecycle, unique):
    ns = unique("ha403")
    lease_name = unique("ipad")
    sim.apply(namespace(ns))
    sim.apply(deployment(ns, "web", 2, [container("app", resources=TARGET_RESOURCES)]))
    sim.fault(path_regex="^/apis/coordination.k8s.io/v1/namespaces/kube-system/leases",
              status=403, count=-1)
    try:
        res = run_ipad(conf(kubeconfig, prometheus, lease_name, "host-a"),
                       [ipa_yaml("ipa-" + ns, [{"deployment": "web", "namespace": ns}],
                                 prometheus.url, llmstub.url)], ["--once"])
    finally:
        sim.clear_faults()
    assert res.rc == EX_OK, res
    rec = [r for r in decisions(res) if r.get("IPA_DEPLOYMENT") == "web"][0]
    assert rec["PRIORITY"] == "6", rec
    assert rec["IPA_REASON"].startswith("standby: Lease kube-system/%s in cluster sim is "
                                        "not acquired yet: GET " % lease_name), rec
    err = lifecycle(res, 1, PRIORITY="3")
    assert any("403" in r["MESSAGE"] and "update on leases in API group coordination.k8s.io"
               in r["MESSAGE"] for r in err), err
    assert sim.deployment(ns, "web")["spec"]["replicas"] == 2


def test_default_identities_of_one_host_never_both_lead(sim, prometheus, llmstub, kubeconfig,
                                                       start_ipad, lifecycle, decisions,
                                                       tmp_path, unique):
    """Without [ipad] identity, two processes on one host (or cloned hosts
    sharing a name) get HOSTNAME_XXXXXXXX identities: one leads, the other
    stands by."""
    ns = unique("haid")
    lease_name = unique("ipad")
    make_deployment(sim, prometheus, ns)
    llmstub.mode("fixed", text=advice(2))
    item = ipa_yaml("ipa-" + ns, [{"deployment": "web", "namespace": ns}],
                    prometheus.url, llmstub.url)
    a = start_ipad(conf(kubeconfig, prometheus, lease_name, None), [item])
    lifecycle(a, 1, timeout=10, MESSAGE="cluster sim: leading (Lease kube-system/%s, "
              "created)" % lease_name)
    holder = lease(sim, lease_name)["holderIdentity"]
    assert re.fullmatch(re.escape(socket.gethostname()) + r"_[0-9a-f]{8}", holder), holder
    b = start_ipad(conf(kubeconfig, prometheus, lease_name, None), [item])
    standby_records(decisions, b, 2, lease_name, holder)
    assert lease(sim, lease_name)["holderIdentity"] == holder
    assert b.stop() == EX_OK and a.stop() == EX_OK
