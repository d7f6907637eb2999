"""Memory across restarts (src/state.c): a daemon killed with SIGKILL,
between cycles or in the middle of one, starts again with its targets'
history, so stabilization windows and resize cooldowns survive; a corrupt
state file is set aside with a warning and ipad starts clean."""

import glob
import json
import os
import signal
import time

from e2e_helpers import (MSG_RELOADED, conf_for, container, deployment, ipa_yaml, namespace,
                         replicas_of)

STATE_RESOURCES = {"requests": {"cpu": "100m", "memory": "125Mi"},
                   "limits": {"cpu": "200m", "memory": "250Mi"}}


def make_target(sim, prometheus, ns, replicas):
    sim.apply(namespace(ns))
    sim.apply(deployment(ns, "web", replicas, [container("app", resources=STATE_RESOURCES)]))
    sim.set_load(ns, "web", 20.0)
    prometheus.wait_for('container_memory_working_set_bytes{namespace="%s",container="app"}'
                        % ns, lambda r: len(r) >= replicas, timeout=30)


def state_conf(kubeconfig, prometheus, state_dir, **defaults):
    return conf_for(kubeconfig, prometheus.url, interval="1s", state=str(state_dir),
                    defaults=defaults)


def state_file(state_dir, ns):
    return os.path.join(str(state_dir), "sim_%s_web.json" % ns)


def kill9(dm):
    dm.proc.send_signal(signal.SIGKILL)
    dm.proc.wait()
    dm.kill()  # closes its files


def rollout_done(sim, ns, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        d = sim.deployment(ns, "web")
        st, spec = d.get("status", {}), d["spec"]
        if (st.get("observedGeneration") == d["metadata"].get("generation") and
                st.get("updatedReplicas") == spec["replicas"] == st.get("availableReplicas")
                and st.get("replicas") == spec["replicas"]):
            return
        time.sleep(0.2)
    raise AssertionError("rollout of %s/web did not finish" % ns)


def test_scale_up_window_survives_kill9_between_cycles(sim, prometheus, llmstub, kubeconfig,
                                                       start_ipad, decisions, unique, tmp_path):
    """scale-up stabilization 300 s: the lowest recommendation of the
    window bounds a scale-up; without the saved history the second daemon
    would scale at once."""
    ns = unique("keepup")
    make_target(sim, prometheus, ns, 4)
    state_dir = tmp_path / "state"
    conf = state_conf(kubeconfig, prometheus, state_dir, **{"scale-up-stabilization": "300s"})
    ipa = [ipa_yaml("ipa-" + ns, [{"deployment": "web", "namespace": ns}],
                    prometheus.url, llmstub.url)]
    llmstub.mode("fixed", text={"replicas": 4})
    dm = start_ipad(conf, ipa)
    recs = decisions(dm, 2, timeout=20)
    assert all(r["IPA_ACTION"] == "none" for r in recs), recs
    kill9(dm)
    saved = json.load(open(state_file(state_dir, ns)))
    assert saved["target"] == "sim/%s/web" % ns and saved["recommendations"], saved

    llmstub.mode("fixed", text={"replicas": 8})
    dm2 = start_ipad(conf, ipa)
    rec = decisions(dm2, 1, timeout=20)[0]
    assert rec["IPA_ACTION"] == "hold", rec
    assert "advice 8 → 4: scale-up stabilization" in rec["IPA_REASON"], rec
    assert replicas_of(sim, ns, "web") == 4
    assert dm2.stop() == 0


def test_resize_cooldown_survives_kill9(sim, prometheus, llmstub, kubeconfig, start_ipad,
                                        decisions, unique, tmp_path):
    ns = unique("cool")
    make_target(sim, prometheus, ns, 2)
    state_dir = tmp_path / "state"
    conf = state_conf(kubeconfig, prometheus, state_dir)
    ipa = [ipa_yaml("ipa-" + ns, [{"deployment": "web", "namespace": ns}],
                    prometheus.url, llmstub.url)]
    llmstub.mode("fixed", text={"replicas": 2, "cpu_request": "200m", "cpu_limit": "400m"})
    dm = start_ipad(conf, ipa)
    rec = decisions(dm, 1, timeout=20, IPA_ACTION="resize")[0]
    assert rec["IPA_CPU_REQUEST_TO"] == "200m", rec
    kill9(dm)
    assert json.load(open(state_file(state_dir, ns)))["last_resize"] > 0
    rollout_done(sim, ns)

    llmstub.mode("fixed", text={"replicas": 2, "cpu_request": "400m", "cpu_limit": "800m"})
    dm2 = start_ipad(conf, ipa)
    recs = decisions(dm2, 3, timeout=20)
    assert any("cooldown 30m" in r.get("IPA_REASON", "") for r in recs), recs
    assert not any(r["IPA_ACTION"] in ("resize", "scale+resize") for r in recs), recs
    app = sim.deployment(ns, "web")["spec"]["template"]["spec"]["containers"][0]
    assert app["resources"]["requests"]["cpu"] == "200m", app
    assert dm2.stop() == 0


def test_kill9_mid_cycle_keeps_a_whole_state_file(sim, prometheus, llmstub, kubeconfig,
                                                  start_ipad, decisions, lifecycle, unique,
                                                  tmp_path):
    ns = unique("midcyc")
    make_target(sim, prometheus, ns, 2)
    state_dir = tmp_path / "state"
    conf = state_conf(kubeconfig, prometheus, state_dir)
    ipa = [ipa_yaml("ipa-" + ns, [{"deployment": "web", "namespace": ns}],
                    prometheus.url, llmstub.url)]
    llmstub.mode("fixed", text={"replicas": 2})
    dm = start_ipad(conf, ipa)
    decisions(dm, 2, timeout=20)
    llmstub.mode("fixed", text={"replicas": 2}, delay=2)   # the next cycle waits
    time.sleep(1.5)
    kill9(dm)                                             # inside the advisor call
    path = state_file(state_dir, ns)
    before = json.load(open(path))                        # whole JSON
    assert before["recommendations"], before

    llmstub.mode("fixed", text={"replicas": 2})
    dm2 = start_ipad(conf, ipa)
    decisions(dm2, 1, timeout=20)
    assert dm2.stop() == 0
    assert not glob.glob(path + ".corrupt-*")
    assert "set aside" not in dm2.stderr()
    after = json.load(open(path))
    assert len(after["recommendations"]) > len(before["recommendations"]), (before, after)


def test_corrupt_state_is_set_aside(sim, prometheus, llmstub, kubeconfig, start_ipad,
                                    decisions, lifecycle, unique, tmp_path):
    ns = unique("corrupt")
    make_target(sim, prometheus, ns, 2)
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    path = state_file(state_dir, ns)
    with open(path, "w") as f:
        f.write('{"version": 1, "target": "sim/%s/web", "recommendations": [[1, "x' % ns)
    llmstub.mode("fixed", text={"replicas": 2})
    dm = start_ipad(state_conf(kubeconfig, prometheus, state_dir),
                    [ipa_yaml("ipa-" + ns, [{"deployment": "web", "namespace": ns}],
                              prometheus.url, llmstub.url)])
    warn = lifecycle(dm, 1, timeout=20, PRIORITY="4")
    assert any("set aside as" in w["MESSAGE"] and "not JSON" in w["MESSAGE"] for w in warn), warn
    decisions(dm, 1, timeout=20)
    assert dm.stop() == 0
    assert len(glob.glob(path + ".corrupt-*")) == 1
    assert json.load(open(path))["target"] == "sim/%s/web" % ns


def test_dry_run_history_survives_a_reload(sim, prometheus, llmstub, kubeconfig, start_ipad,
                                           decisions, journald, unique, tmp_path):
    """In dry-run nothing is written to the state directory, yet a reload
    (or a change of the IPA objects) keeps each unchanged target's history
    in memory: the scale-up window still bounds the advice afterwards."""
    ns = unique("dryreload")
    make_target(sim, prometheus, ns, 4)
    state_dir = tmp_path / "state"
    conf = state_conf(kubeconfig, prometheus, state_dir, **{"scale-up-stabilization": "300s"})
    conf = conf.replace("[ipad]\n", "[ipad]\ndry-run = true\n", 1)
    ipa = [ipa_yaml("ipa-" + ns, [{"deployment": "web", "namespace": ns}],
                    prometheus.url, llmstub.url)]
    llmstub.mode("fixed", text={"replicas": 4})
    dm = start_ipad(conf, ipa)
    assert all(r["IPA_ACTION"] == "none" for r in decisions(dm, 2, timeout=20))
    llmstub.mode("fixed", text={"replicas": 8})
    dm.proc.send_signal(signal.SIGHUP)
    journald.wait_for({"MESSAGE_ID": MSG_RELOADED, "_PID": str(dm.pid)}, timeout=10)
    n = len(decisions(dm, 1, timeout=20))
    rec = decisions(dm, n + 1, timeout=20)[-1]
    assert rec["IPA_ACTION"] == "hold", rec
    assert "advice 8 → 4: scale-up stabilization" in rec["IPA_REASON"], rec
    assert not state_dir.exists() or not os.listdir(str(state_dir))
    assert dm.stop() == 0
