"""End-to-end: several clusters in one ipad (ipad.conf(5), [cluster NAME]).

Three simulated clusters, each with its own kind of credentials, share one
ipad and one Prometheus (each cluster's Deployments live in their own
namespace). One cluster is stopped in the middle of the run and started
again on the same address: its targets hold with a clear record meanwhile,
the other clusters are scaled on time throughout, and the one that comes
back is used again without a restart.
"""

import os
import shutil
import time
import uuid

import pytest

from e2e_helpers import EX_CONFIG, EX_OK, EX_TEMPFAIL, deployment, ini, ipa_yaml, namespace
from prometheus import Prometheus, free_port

INTERVAL_S = 2


def _start_sim(tmp_path_factory, name, ns, fixed_ports=False):
    from kubesim import KubeSim
    objs = [namespace(ns), deployment(ns, "web", 2)]
    ports = dict(port=free_port(), metrics_port=free_port()) if fixed_ports else {}
    sim = KubeSim(str(tmp_path_factory.mktemp("kubesim-" + name)), objects=objs, **ports)
    sim.start()
    return sim


@pytest.fixture(scope="module")
def three(tmp_path_factory):
    """{name: (sim, namespace)} for clusters a, b, c, and a Prometheus that
    scrapes all three; c listens on fixed ports, so it can be restarted."""
    suffix = uuid.uuid4().hex[:5]
    sims = {}
    try:
        for name in ("a", "b", "c"):
            ns = "%s-%s" % (name, suffix)
            sims[name] = (_start_sim(tmp_path_factory, name, ns, fixed_ports=name == "c"), ns)
        with Prometheus(str(tmp_path_factory.mktemp("prometheus-clusters")),
                        targets=[s.metrics_url for s, _ in sims.values()],
                        scrape_interval="1s") as prom:
            for sim, ns in sims.values():
                sim.set_load(ns, "web", 20.0)
            yield sims, prom
    finally:
        for sim, _ in sims.values():
            sim.stop()


def wait_metrics(prom, ns, timeout=60):
    prom.wait_for('sum by (pod) (rate(container_cpu_usage_seconds_total{namespace="%s",'
                  'pod=~"web-.*",container!="",image!=""}[2m]))' % ns,
                  lambda r: len(r) >= 2 and all(float(x["value"][1]) > 0 for x in r),
                  timeout=timeout)


def replicas(sim, ns):
    try:
        return int(sim.deployment(ns, "web")["spec"]["replicas"])
    except Exception:
        return None


def wait_replicas(sim, ns, want, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if replicas(sim, ns) == want:
            return True
        time.sleep(0.2)
    return False


def three_cluster_conf(sims, prom, extra="", interval_s=INTERVAL_S):
    (a, _), (b, _), (c, _) = sims["a"], sims["b"], sims["c"]
    conf = ini(kubeconfig=a.kubeconfig("token"), prometheus=prom.url, cluster="a",
               interval="%ds" % interval_s, timeout="3s",
               extra="targets = @DIR@/ipa.d/a-*.yaml\nconcurrency = 1\n")
    conf += ("\n[cluster b]\nkubeconfig = %s\nprometheus = %s\n"
             "targets = @DIR@/ipa.d/b-*.yaml\nconcurrency = 1\n"
             % (b.kubeconfig("cert"), prom.url))
    conf += ("\n[cluster c]\nkubeconfig = %s\nprometheus = %s\n"
             "targets = @DIR@/ipa.d/c-*.yaml\nconcurrency = 1\nrequest-timeout = 1s\n"
             % (c.kubeconfig("insecure"), prom.url))
    return conf + extra


def three_cluster_files(sims, prom, llm_url):
    return {"%s-web.yaml" % name: ipa_yaml("web-" + name, [{"deployment": "web", "namespace": ns}],
                                           prom.url, llm_url)
            for name, (_, ns) in sims.items()}


def test_check_config_counts_clusters_and_connects_to_nothing(three, run_ipad, llmstub):
    sims, prom = three
    before = {n: len(s.requests()) for n, (s, _) in sims.items()}
    res = run_ipad(three_cluster_conf(sims, prom).replace("log-target = journal",
                                                          "log-target = stderr"),
                   three_cluster_files(sims, prom, llmstub.url), ["--check-config"])
    assert res.rc == EX_OK, res
    assert res.stdout.strip() == "3 targets, 3 clusters, advisor ipa-agent", res
    after = {n: len(s.requests()) for n, (s, _) in sims.items()}
    assert after == before, "--check-config must not contact any cluster"


def test_broken_kubeconfig_fails_check_config_but_not_the_daemon(three, run_ipad, llmstub,
                                                                 decisions, tmp_path):
    sims, prom = three
    for _, ns in sims.values():
        wait_metrics(prom, ns)
    missing = str(tmp_path / "missing.yaml")
    conf = three_cluster_conf(sims, prom).replace(sims["b"][0].kubeconfig("cert"), missing)
    files = three_cluster_files(sims, prom, llmstub.url)
    res = run_ipad(conf, files, ["--check-config"])
    assert res.rc == EX_CONFIG, res
    assert "[cluster b] kubeconfig: kubeconfig %s: cannot read the file: No such file" % missing \
        in res.stderr, res

    llmstub.mode("fixed", text={"replicas": 2})
    res = run_ipad(conf, files, ["--once"])
    assert res.rc == EX_TEMPFAIL, res
    recs = {r["IPA_CLUSTER"]: r for r in decisions(res, 3)}
    assert recs["a"]["PRIORITY"] == "6" and recs["c"]["PRIORITY"] == "6", recs
    assert recs["b"]["PRIORITY"] == "4" and recs["b"]["IPA_ACTION"] == "hold", recs["b"]
    assert missing in recs["b"]["IPA_ERROR"], recs["b"]
    # several clusters: the message names the cluster (journalctl -u ipad)
    for name, rec in recs.items():
        assert rec["MESSAGE"].startswith("%s: %s/" % (name, rec["IPA_NAMESPACE"])), rec


def test_slow_cluster_does_not_delay_the_others(three, run_ipad, llmstub, decisions):
    sims, prom = three
    (b, bns), (a, ans) = sims["b"], sims["a"]
    for _, ns in sims.values():
        wait_metrics(prom, ns)
    llmstub.mode("fixed", text={"replicas": 2})
    # every answer of cluster b takes 20 s; its request timeout is 4 s
    b.fault(path_regex="^/api", delay=20, count=-1)
    try:
        conf = three_cluster_conf(sims, prom, interval_s=60).replace(
            "targets = @DIR@/ipa.d/b-*.yaml\n",
            "targets = @DIR@/ipa.d/b-*.yaml\nrequest-timeout = 4s\n")
        files = three_cluster_files(sims, prom, llmstub.url)
        # four more targets in b, all slow: they must not take every worker
        for i in range(4):
            files["b-more%d.yaml" % i] = ipa_yaml(
                "more%d" % i, [{"deployment": "web%d" % i, "namespace": bns}],
                prom.url, llmstub.url)
        t0 = time.monotonic()
        res = run_ipad(conf.replace("[ipad]\n", "[ipad]\nconcurrency = 2\n"), files,
                       ["--once"], timeout=60)
        took = time.monotonic() - t0
    finally:
        b.clear_faults()
    assert res.rc == EX_TEMPFAIL, res
    recs = decisions(res, 7)
    by = {}
    for r in recs:
        by.setdefault(r["IPA_CLUSTER"], []).append(r)
    assert [r["PRIORITY"] for r in by["a"]] == ["6"], by["a"]
    assert [r["PRIORITY"] for r in by["c"]] == ["6"], by["c"]
    assert len(by["b"]) == 5 and all(r["PRIORITY"] == "4" for r in by["b"]), by["b"]
    # one timeout, then b is known to be unreachable and fails at once
    assert took < 12, "the cycle took %.1f s\n%r" % (took, res)


def exec_plugin_kubeconfig(sim, tmp_path):
    """(kubeconfig, plugin dir): insecure-skip-tls-verify and an exec plugin
    (tests/e2e/plugins/fake-credential-plugin, v1) that hands out the
    simulator's current token (a symlink to its state dir's token file)."""
    import yaml
    home = tmp_path / "plugin-c"
    home.mkdir()
    os.symlink(os.path.join(sim.state_dir, "token"), str(home / "token"))
    plugin = os.path.join(os.path.dirname(os.path.abspath(__file__)), "plugins",
                          "fake-credential-plugin")
    doc = {"apiVersion": "v1", "kind": "Config", "current-context": "c",
           "clusters": [{"name": "c", "cluster": {"server": sim.api_url,
                                                  "insecure-skip-tls-verify": True}}],
           "users": [{"name": "c-plugin", "user": {"exec": {
               "apiVersion": "client.authentication.k8s.io/v1", "command": plugin,
               "args": ["token"], "interactiveMode": "Never",
               "env": [{"name": "PLUGIN_DIR", "value": str(home)}]}}}],
           "contexts": [{"name": "c", "context": {"cluster": "c", "user": "c-plugin"}}]}
    kc = tmp_path / "c-exec.yaml"
    kc.write_text(yaml.safe_dump(doc, sort_keys=False))
    return str(kc), home


def test_three_clusters_one_stopped_and_restarted(three, start_ipad, llmstub, decisions,
                                                  lifecycle, tmp_path):
    sims, prom = three
    for _, ns in sims.values():
        wait_metrics(prom, ns)
    llmstub.mode("fixed", text={"replicas": 3})
    # c authenticates with an exec credential plugin: after the restart its
    # token is refused (401) and the plugin runs again for the new one
    kc_c, plugin_home = exec_plugin_kubeconfig(sims["c"][0], tmp_path)
    conf = three_cluster_conf(sims, prom).replace(sims["c"][0].kubeconfig("insecure"), kc_c)
    assert kc_c in conf
    dm = start_ipad(conf, three_cluster_files(sims, prom, llmstub.url))
    lifecycle(dm, 1, timeout=15)
    for name, (sim, ns) in sims.items():
        assert wait_replicas(sim, ns, 3, 30), "cluster %s: replicas %s\n%s" % (
            name, replicas(sim, ns), dm.stderr()[-3000:])

    # c goes away; a and b keep being scaled on time
    c, cns = sims["c"]
    c.stop()
    llmstub.mode("fixed", text={"replicas": 4})
    t0 = time.monotonic()
    for name in ("a", "b"):
        sim, ns = sims[name]
        assert wait_replicas(sim, ns, 4, 4 * INTERVAL_S + 6), "cluster %s: replicas %s" % (
            name, replicas(sim, ns))
    assert time.monotonic() - t0 < 4 * INTERVAL_S + 6
    held = decisions(dm, 2, timeout=30, IPA_CLUSTER="c", PRIORITY="4")
    assert all(r["IPA_ACTION"] == "hold" and r.get("IPA_ERROR") for r in held), held
    assert any("refused" in r["IPA_ERROR"] or "unreachable" in r["IPA_ERROR"]
               for r in held), held
    # while c is down, a and b are evaluated every cycle
    time.sleep(3 * INTERVAL_S)
    since = time.monotonic()
    n_a = len(decisions(dm, 1, IPA_CLUSTER="a"))
    time.sleep(3 * INTERVAL_S)
    assert len(decisions(dm, n_a + 2, IPA_CLUSTER="a")) >= n_a + 2, since
    assert dm.alive(), dm.stderr()[-3000:]

    # c comes back (new certificates, a new token): used again, no restart
    c.start()
    c.set_load(cns, "web", 20.0)
    assert wait_replicas(c, cns, 4, 60), "cluster c not scaled after its restart: %s\n%s" % (
        replicas(c, cns), dm.stderr()[-3000:])
    for name in ("a", "b"):
        sim, ns = sims[name]
        assert replicas(sim, ns) == 4
    runs = (plugin_home / "runs").read_text().split()
    assert len(runs) >= 2, runs
    assert c.token not in dm.stderr()
    assert dm.stop() == 0, dm.stderr()[-4000:]
