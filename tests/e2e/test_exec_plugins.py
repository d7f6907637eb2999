"""End-to-end: kubeconfig users with exec credential plugins (client-go's
client.authentication.k8s.io v1 and v1beta1).

A fake plugin (plugins/fake-credential-plugin) hands out the simulator's
token or client certificate, in the shapes real plugins print, or breaks in
the ways real ones do. Each plugin gets a cluster of its own in one ipad:
the plugin-authenticated clusters are scaled, a rotated token (401) and an
expiring one make the plugin run again, and every broken plugin holds its
own targets with a named error while the other clusters are unaffected.
Tokens and keys never appear in ipad's output or records.
"""

import json
import os
import shutil
import time
import uuid

import pytest
import yaml

from e2e_helpers import EX_OK, EX_TEMPFAIL, deployment, ini, ipa_yaml, namespace
from test_clusters import replicas, wait_metrics, wait_replicas

PLUGIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "plugins",
                      "fake-credential-plugin")
V1 = "client.authentication.k8s.io/v1"
V1BETA1 = "client.authentication.k8s.io/v1beta1"

GOOD = ("token", "gke", "cert", "rotate", "expire")
BROKEN = ("fail", "hang", "garbage", "wrong-api", "neither", "missing")


@pytest.fixture(scope="module")
def spaces(kubesim, prometheus):
    """{cluster name: namespace}, each namespace with a Deployment web
    (2 replicas) under load and its metrics in Prometheus."""
    suffix = uuid.uuid4().hex[:5]
    ns = {name: "x%s-%s" % (name.replace("-", ""), suffix) for name in GOOD + BROKEN}
    for n in ns.values():
        kubesim.apply(namespace(n))
        kubesim.apply(deployment(n, "web", 2))
        kubesim.set_load(n, "web", 20.0)
    for n in ns.values():
        wait_metrics(prometheus, n, timeout=90)
    return ns


def plugin_home(tmp_path, sim, name, token=None):
    """A directory for one plugin: its token, the client certificate."""
    d = tmp_path / ("plugin-" + name)
    d.mkdir()
    (d / "token").write_text((token or sim.token) + "\n")
    for f in ("client.crt", "client.key"):
        shutil.copy(os.path.join(sim.state_dir, f), str(d / f))
    return d


def exec_kubeconfig(path, sim, exec_cfg, cluster_extra=None):
    """A kubeconfig whose only user runs exec_cfg (the `exec` mapping)."""
    cluster = {"server": sim.api_url, "certificate-authority": sim.ca_path}
    cluster.update(cluster_extra or {})
    doc = {"apiVersion": "v1", "kind": "Config", "current-context": "plugin",
           "clusters": [{"name": "sim", "cluster": cluster}],
           "users": [{"name": "plugin-user", "user": {"exec": exec_cfg}}],
           "contexts": [{"name": "plugin", "context": {"cluster": "sim",
                                                       "user": "plugin-user"}}]}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return str(path)


def plugin_exec(home, mode, api=V1, **extra):
    cfg = {"apiVersion": api, "command": PLUGIN, "args": [mode],
           "env": [{"name": "PLUGIN_DIR", "value": str(home)}]}
    if api == V1:
        cfg["interactiveMode"] = "Never"
    cfg.update(extra)
    return cfg


def conf_for(clusters, prom, interval="2s"):
    """ipad.conf with one [cluster NAME] per (name, kubeconfig, extra)."""
    first, rest = clusters[0], clusters[1:]
    text = ini(kubeconfig=first[1], prometheus=prom.url, cluster=first[0],
               interval=interval, timeout="3s",
               extra="targets = @DIR@/ipa.d/%s-*.yaml\n%s" % (first[0], first[2]))
    for name, kc, extra in rest:
        text += ("\n[cluster %s]\nkubeconfig = %s\nprometheus = %s\n"
                 "targets = @DIR@/ipa.d/%s-*.yaml\n%s" % (name, kc, prom.url, name, extra))
    return text


def files_for(names, spaces, prom, llm_url):
    return {"%s-web.yaml" % n: ipa_yaml("web-" + n, [{"deployment": "web",
                                                     "namespace": spaces[n]}],
                                        prom.url, llm_url)
            for n in names}


def all_text(res_or_dm, journald):
    """Everything the ipad process wrote: its stderr and all its records."""
    err = res_or_dm.stderr if isinstance(res_or_dm.stderr, str) else res_or_dm.stderr()
    return err + json.dumps(journald.read(_PID=str(res_or_dm.pid)))


def runs(home):
    p = home / "runs"
    return p.read_text().split() if p.exists() else []


def test_plugins_authenticate_and_scale(sim, spaces, prometheus, run_ipad, llmstub,
                                        decisions, journald, tmp_path):
    # token: v1, absolute command, args and env
    tok = plugin_home(tmp_path, sim, "token")
    kc_token = exec_kubeconfig(tmp_path / "token.yaml", sim, plugin_exec(tok, "token"))
    # gke: the shape of a GKE kubeconfig: v1beta1, a bare command found in
    # PATH, args and env null, provideClusterInfo, multi-line output
    gke = plugin_home(tmp_path, sim, "gke")
    os.symlink(PLUGIN, str(gke / "gke-gcloud-auth-plugin"))
    kc_gke = exec_kubeconfig(tmp_path / "gke.yaml", sim, {
        "apiVersion": V1BETA1, "command": "gke-gcloud-auth-plugin", "args": None,
        "env": None, "installHint": "Install gke-gcloud-auth-plugin for use with kubectl",
        "interactiveMode": "IfAvailable", "provideClusterInfo": True},
        cluster_extra={"extensions": [{"name": "client.authentication.k8s.io/exec",
                                       "extension": {"audience": "example"}}]})
    # cert: a client certificate and key (the simulator's user sim-cert-user),
    # the command relative to the kubeconfig's directory
    cert = plugin_home(tmp_path, sim, "cert")
    shutil.copy(PLUGIN, str(cert / "plugin"))
    cfg = plugin_exec(cert, "cert")
    cfg["command"] = "./plugin-cert/plugin"
    kc_cert = exec_kubeconfig(tmp_path / "cert.yaml", sim, cfg)

    llmstub.mode("fixed", text={"replicas": 3})
    conf = conf_for([("token", kc_token, ""), ("gke", kc_gke, ""), ("cert", kc_cert, "")],
                    prometheus)
    res = run_ipad(conf, files_for(["token", "gke", "cert"], spaces, prometheus, llmstub.url),
                   ["--once"], env={"PATH": "%s:%s" % (gke, os.environ.get("PATH", ""))})
    assert res.rc == EX_OK, res
    recs = {r["IPA_CLUSTER"]: r for r in decisions(res, 3)}
    for name in ("token", "gke", "cert"):
        assert recs[name]["PRIORITY"] == "6", recs[name]
        assert replicas(sim, spaces[name]) == 3, name

    # one run each (no run per request)
    assert (runs(tok), runs(gke), runs(cert)) == (["token"], ["gke"], ["cert"])

    info = json.loads((gke / "exec-info.json").read_text())
    assert info["apiVersion"] == V1BETA1 and info["kind"] == "ExecCredential"
    assert info["spec"]["interactive"] is False
    cl = info["spec"]["cluster"]
    assert cl["server"] == sim.api_url
    with open(sim.ca_path, "rb") as f:
        import base64
        assert base64.b64decode(cl["certificate-authority-data"]) == f.read()
    assert cl["config"] == {"audience": "example"}
    assert "cluster" not in json.loads((tok / "exec-info.json").read_text())["spec"]

    cert_reqs = [r for r in sim.requests() if ("/namespaces/%s/" % spaces["cert"]) in r["path"]]
    assert cert_reqs and all(r["user"] == "sim-cert-user" for r in cert_reqs), cert_reqs[:3]
    text = all_text(res, journald)
    assert sim.token not in text
    assert "BEGIN" not in text


def test_broken_plugins_hold_with_named_errors(sim, spaces, prometheus, run_ipad, llmstub,
                                               decisions, lifecycle, journald, tmp_path):
    good = plugin_home(tmp_path, sim, "token")
    clusters = [("token", exec_kubeconfig(tmp_path / "token.yaml", sim,
                                          plugin_exec(good, "token")), "")]
    for mode in BROKEN:
        home = plugin_home(tmp_path, sim, mode)
        cfg = plugin_exec(home, mode)
        if mode == "missing":
            cfg["command"] = "ipad-no-such-credential-plugin"
            cfg["installHint"] = "install it from example.org"
        clusters.append((mode, exec_kubeconfig(tmp_path / (mode + ".yaml"), sim, cfg),
                         "request-timeout = 1s\n" if mode == "hang" else ""))
    llmstub.mode("fixed", text={"replicas": 4})
    t0 = time.monotonic()
    res = run_ipad(conf_for(clusters, prometheus),
                   files_for(["token"] + list(BROKEN), spaces, prometheus, llmstub.url),
                   ["--once"], timeout=60)
    took = time.monotonic() - t0
    assert res.rc == EX_TEMPFAIL, res
    recs = {r["IPA_CLUSTER"]: r for r in decisions(res, 1 + len(BROKEN))}
    assert recs["token"]["PRIORITY"] == "6", recs["token"]
    assert replicas(sim, spaces["token"]) == 4
    want = {
        "fail": "exited with status 1",
        "hang": "timed out after 5s",
        "garbage": "is not a JSON object",
        "wrong-api": 'invalid apiVersion "client.authentication.k8s.io/v1alpha1"',
        "neither": "returned an ExecCredential with neither token nor client certificate",
        "missing": "executable ipad-no-such-credential-plugin not found; "
                   "install it from example.org",
    }
    for mode in BROKEN:
        r = recs[mode]
        assert r["PRIORITY"] == "4" and r["IPA_ACTION"] == "hold", r
        err = r.get("IPA_ERROR", "")
        assert want[mode] in err, (mode, err)
        assert 'user "plugin-user": exec plugin ' in err, err
        assert (tmp_path / (mode + ".yaml")).name in err, err
        assert replicas(sim, spaces[mode]) == 2, mode
    # the hanging plugin is killed at its limit; the cycle does not wait longer
    assert took < 25, took
    # stderr of the plugins is in the log, prefixed with the plugin
    msgs = [r["MESSAGE"] for r in lifecycle(res, 1)]
    assert any("exec plugin %s" % PLUGIN in m and "AccessDenied" in m for m in msgs), msgs
    text = all_text(res, journald)
    assert sim.token not in text


def test_rotated_and_expiring_tokens_run_the_plugin_again(sim, spaces, prometheus, start_ipad,
                                                          llmstub, decisions, tmp_path):
    first = "rot-" + uuid.uuid4().hex
    sim.add_token(first, "plugin-rotate")
    rot = plugin_home(tmp_path, sim, "rotate", token=first)
    exp = plugin_home(tmp_path, sim, "expire")
    clusters = [
        ("rotate", exec_kubeconfig(tmp_path / "rotate.yaml", sim, plugin_exec(rot, "token")), ""),
        ("expire", exec_kubeconfig(tmp_path / "expire.yaml", sim, plugin_exec(
            exp, "expiring", env=[{"name": "PLUGIN_DIR", "value": str(exp)},
                                  {"name": "PLUGIN_LIFETIME", "value": "12"}])), ""),
    ]
    llmstub.mode("fixed", text={"replicas": 3})
    dm = start_ipad(conf_for(clusters, prometheus),
                    files_for(["rotate", "expire"], spaces, prometheus, llmstub.url))
    for name in ("rotate", "expire"):
        assert wait_replicas(sim, spaces[name], 3, 30), (name, dm.stderr()[-3000:])
    # cached: no run per request while the token is accepted
    time.sleep(4)
    assert runs(rot) == ["token"], runs(rot)

    # the token is rotated: the old one gets 401, the plugin runs again and
    # the request is retried with the new token
    second = "rot-" + uuid.uuid4().hex
    sim.add_token(second, "plugin-rotate")
    (rot / "token").write_text(second + "\n")
    sim.revoke_token(first)
    since = time.time()
    llmstub.mode("fixed", text={"replicas": 4})
    assert wait_replicas(sim, spaces["rotate"], 4, 30), dm.stderr()[-3000:]
    assert runs(rot) == ["token", "token"], runs(rot)
    assert any(r["status"] == 401 for r in sim.requests(since=since)
               if spaces["rotate"] in r["path"])

    # the expiring token (12 s) was renewed before it expired
    assert wait_replicas(sim, spaces["expire"], 4, 30)
    deadline = time.monotonic() + 30
    while len(runs(exp)) < 3 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert len(runs(exp)) >= 3, runs(exp)
    held = [r for r in decisions(dm, 1, IPA_CLUSTER="rotate") if r["PRIORITY"] != "6"]
    held += [r for r in decisions(dm, 1, IPA_CLUSTER="expire") if r["PRIORITY"] != "6"]
    assert not held, held
    assert first not in dm.stderr() and second not in dm.stderr()
    assert dm.stop() == 0, dm.stderr()[-3000:]
