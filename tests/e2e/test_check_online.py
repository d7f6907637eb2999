"""End-to-end: `ipad --check-config --online` (ipad(8)).

Per cluster: reachability, credentials and the permissions ipad needs in
each namespace it has targets in (SelfSubjectAccessReview for get and patch
of deployments and deployments/scale), printed as a table; exit 0 when all
is well, 69 when a cluster is unreachable or refuses the credentials, 77
when a permission is missing.
"""

import re
import time

import pytest
import yaml

from e2e_helpers import EX_CONFIG, EX_OK, ini, ipa_yaml

EX_USAGE, EX_UNAVAILABLE, EX_NOPERM = 64, 69, 77
HEADER = ["CLUSTER", "NAMESPACE", "SERVER", "VERSION", "GET", "PATCH", "GET-SCALE",
          "PATCH-SCALE"]


def conf_for(clusters, prom_url, extra=""):
    """[cluster NAME] per (name, kubeconfig); each cluster's targets are
    ipa.d/NAME-*.yaml."""
    (name, kc), rest = clusters[0], clusters[1:]
    text = ini(kubeconfig=kc, prometheus=prom_url, cluster=name, log_target="stderr",
               extra="targets = @DIR@/ipa.d/%s-*.yaml\nrequest-timeout = 2s\n" % name)
    for name, kc in rest:
        text += ("\n[cluster %s]\nkubeconfig = %s\nprometheus = %s\n"
                 "targets = @DIR@/ipa.d/%s-*.yaml\nrequest-timeout = 2s\n"
                 % (name, kc, prom_url, name))
    return text + extra


def files_for(clusters, prom_url, llm_url):
    return {"%s-web.yaml" % name: ipa_yaml("web-" + name, [
        {"deployment": "web", "namespace": "ns-" + name},
        {"deployment": "api", "namespace": "ns-" + name}], prom_url, llm_url)
        for name, _ in clusters}


def table(stdout):
    """{(cluster, namespace): row dict} and the problem lines."""
    lines = stdout.splitlines()
    start = next(i for i, l in enumerate(lines) if l.split()[:1] == ["CLUSTER"])
    assert lines[start].split() == HEADER, lines[start]
    rows, problems = {}, []
    for line in lines[start + 1:]:
        cols = line.split()
        if len(cols) == len(HEADER):
            row = dict(zip(HEADER, cols))
            rows[(row["CLUSTER"], row["NAMESPACE"])] = row
        else:
            problems.append(line)
    return rows, problems


@pytest.fixture
def dead_kubeconfig(kubesim, dead_url, tmp_path):
    """The token kubeconfig pointing at a port where nothing listens."""
    with open(kubesim.kubeconfig("token")) as f:
        doc = yaml.safe_load(f)
    doc["clusters"][0]["cluster"]["server"] = dead_url.replace("http://", "https://")
    p = tmp_path / "dead.yaml"
    p.write_text(yaml.safe_dump(doc))
    return str(p)


def test_all_allowed(kubesim, run_ipad, llmstub):
    clusters = [("one", kubesim.kubeconfig("token")), ("two", kubesim.kubeconfig("cert"))]
    kubesim.clear_requests()
    res = run_ipad(conf_for(clusters, "http://127.0.0.1:9"),
                   files_for(clusters, "http://127.0.0.1:9", llmstub.url),
                   ["--check-config", "--online"])
    assert res.rc == EX_OK, res
    assert res.stdout.splitlines()[0] == "4 targets, 2 clusters, advisor ipa-agent", res
    rows, problems = table(res.stdout)
    assert sorted(rows) == [("one", "ns-one"), ("two", "ns-two")], res.stdout
    for row in rows.values():
        assert row["SERVER"] == kubesim.api_url and row["VERSION"].startswith("v1."), row
        assert [row[c] for c in HEADER[4:]] == ["yes"] * 4, row
    assert problems == [], res.stdout
    # one review per permission and namespace (not per target), as
    # SelfSubjectAccessReviews
    reviews = [r for r in kubesim.requests() if r["path"].endswith("/selfsubjectaccessreviews")]
    assert len(reviews) == 8, len(reviews)


def test_forbidden_and_dead_clusters(kubesim, run_ipad, llmstub, dead_kubeconfig):
    clusters = [("good", kubesim.kubeconfig("token")),
                ("ro", kubesim.kubeconfig("forbidden"))]
    res = run_ipad(conf_for(clusters, "http://127.0.0.1:9"),
                   files_for(clusters, "http://127.0.0.1:9", llmstub.url),
                   ["--check-config", "--online"])
    assert res.rc == EX_NOPERM, res
    rows, problems = table(res.stdout)
    assert [rows[("good", "ns-good")][c] for c in HEADER[4:]] == ["yes"] * 4
    # the simulator's forbidden user may not patch or update
    assert [rows[("ro", "ns-ro")][c] for c in HEADER[4:]] == ["yes", "no", "yes", "no"]
    assert "ro: ns-ro: patch deployments: denied" in problems, problems
    assert "ro: ns-ro: patch deployments/scale: denied" in problems, problems

    clusters.append(("dead", dead_kubeconfig))
    t0 = time.monotonic()
    res = run_ipad(conf_for(clusters, "http://127.0.0.1:9"),
                   files_for(clusters, "http://127.0.0.1:9", llmstub.url),
                   ["--check-config", "--online"])
    assert res.rc == EX_UNAVAILABLE, res
    assert time.monotonic() - t0 < 10
    rows, problems = table(res.stdout)
    dead = rows[("dead", "ns-dead")]
    assert dead["VERSION"] == "unreachable", dead
    assert [dead[c] for c in HEADER[4:]] == ["?"] * 4, dead
    assert any(re.match(r"dead: GET https://127\.0\.0\.1:\d+/version: .*refused", p)
               for p in problems), problems
    # the other clusters are still checked
    assert [rows[("good", "ns-good")][c] for c in HEADER[4:]] == ["yes"] * 4


def test_online_needs_check_config_and_a_good_config(kubesim, run_ipad, llmstub, tmp_path):
    clusters = [("one", kubesim.kubeconfig("token"))]
    conf = conf_for(clusters, "http://127.0.0.1:9")
    files = files_for(clusters, "http://127.0.0.1:9", llmstub.url)
    res = run_ipad(conf, files, ["--online"])
    assert res.rc == EX_USAGE and "--online goes with --check-config" in res.stderr, res
    # a configuration error stops before anything is contacted
    res = run_ipad(conf.replace(kubesim.kubeconfig("token"), str(tmp_path / "none.yaml")),
                   files, ["--check-config", "--online"])
    assert res.rc == EX_CONFIG, res
    assert "CLUSTER" not in res.stdout, res


def test_watched_ipas_and_leases_are_checked(kubesim, run_ipad, llmstub):
    """With watch-ipas and leader-election, the IPA objects' and the Leases'
    permissions are asked too; a user who may not patch or update is told
    which one is missing."""
    clusters = [("good", kubesim.kubeconfig("token")),
                ("ro", kubesim.kubeconfig("forbidden"))]
    text = conf_for(clusters, "http://127.0.0.1:9")
    text = text.replace("[cluster ro]\n", "[cluster ro]\nwatch-ipas = true\n"
                        "ipa-namespaces = ns-a, ns-b\n")
    text = text.replace("[cluster good]\n", "[cluster good]\nwatch-ipas = true\n")
    text = text.replace("[ipad]\n", "[ipad]\nleader-election = true\n")
    kubesim.clear_requests()
    res = run_ipad(text, files_for(clusters, "http://127.0.0.1:9", llmstub.url),
                   ["--check-config", "--online"])
    assert res.rc == EX_NOPERM, res
    assert res.stdout.splitlines()[0] == ("4 targets in files, 2 clusters (IPA objects "
                                          "watched in 2), advisor ipa-agent"), res.stdout
    rows, problems = table(res.stdout)
    assert not [p for p in problems if p.startswith("good:")], problems
    for ns in ("ns-a", "ns-b"):
        assert "ro: IPA objects: patch ipas/status in namespace %s: denied" % ns in problems
    assert "ro: leader election: update leases in namespace kube-system: denied" in problems
    assert not [p for p in problems if "list ipas" in p or "get leases" in p], problems
    reviews = [r for r in kubesim.requests() if r["path"].endswith("/selfsubjectaccessreviews")]
    # 4 per target namespace, 3 per watched namespace (all = 1), 3 for leases
    assert len(reviews) == 2 * 4 + (1 + 2) * 3 + 2 * 3, len(reviews)


def test_watched_ipa_objects_give_their_namespaces(kubesim, run_ipad, llmstub):
    """The namespaces of the IPA objects' items get a row like the files'
    targets; a missing CustomResourceDefinition is named with its fix."""
    kubesim.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns-cr"}})
    kubesim.apply({"apiVersion": "ipa.shafinhasnat.me/v1alpha1", "kind": "IPA",
                   "metadata": {"name": "cr", "namespace": "ns-cr"},
                   "spec": {"metadata": {"prometheusUri": "http://127.0.0.1:9",
                                         "llmAgent": llmstub.url,
                                         "ipaGroup": [{"deployment": "web",
                                                       "namespace": "ns-apps"}]}}})
    clusters = [("one", kubesim.kubeconfig("token"))]
    text = conf_for(clusters, "http://127.0.0.1:9").replace(
        "[cluster one]\n", "[cluster one]\nwatch-ipas = true\nipa-namespaces = ns-cr\n")
    res = run_ipad(text, files_for(clusters, "http://127.0.0.1:9", llmstub.url),
                   ["--check-config", "--online"])
    assert res.rc == EX_OK, res
    rows, problems = table(res.stdout)
    assert sorted(rows) == [("one", "ns-apps"), ("one", "ns-one")], res.stdout
    assert problems == [], problems

    kubesim.fault(path_regex="/ipas$", status=404, reason="NotFound",
                  message="the server could not find the requested resource", count=-1)
    try:
        res = run_ipad(text, files_for(clusters, "http://127.0.0.1:9", llmstub.url),
                       ["--check-config", "--online"])
    finally:
        kubesim.clear_faults()
    assert res.rc == EX_NOPERM, res
    rows, problems = table(res.stdout)
    assert sorted(rows) == [("one", "ns-one")], res.stdout
    assert problems == [
        "one: IPA objects: the IPA CustomResourceDefinition is not installed (GET "
        "/apis/ipa.shafinhasnat.me/v1alpha1/namespaces/ns-cr/ipas: 404); kubectl apply -f "
        "/usr/share/ipad/manifests/ipa-crd.yaml"], problems
