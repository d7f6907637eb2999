"""End-to-end: kubeconfigs shaped like the ones the providers write.

For each shape of tests/unit/data/kubeconfig/providers/ -- EKS (exec `aws eks
get-token`, v1beta1, AWS_PROFILE), GKE (exec gke-gcloud-auth-plugin), AKS
(exec `kubelogin get-token`, and the admin user with client-certificate-data,
client-key-data and a token), k3s and kind (certificate-authority-data,
client-certificate-data, client-key-data), minikube (absolute file paths,
extensions) and OpenShift (token, insecure-skip-tls-verify) -- the fixture is
pointed at the module's simulator (its server, CA, client certificate and
tokens; the names and accounts stay the placeholders of the fixture), one
`ipad --once` scales one Deployment with it, and no token or key appears in
ipad's output or records. The exec shapes also run with a plugin that exits
1: the target holds and the record's IPA_ERROR names the command.
"""

import base64
import os
import uuid
from pathlib import Path

import pytest
import yaml

from e2e_helpers import EX_OK, EX_TEMPFAIL, deployment, ini, ipa_yaml, namespace
from test_clusters import replicas, wait_metrics
from test_exec_plugins import all_text

HERE = Path(__file__).resolve().parent
PLUGINS = HERE / "plugins"
PROVIDERS = HERE.parent / "unit" / "data" / "kubeconfig" / "providers"

SHAPES = ("eks", "gke", "aks", "aks-admin", "k3s", "kind", "minikube", "openshift")
EXEC = {"eks": "aws", "gke": "gke-gcloud-auth-plugin", "aks": "kubelogin"}
BROKEN = tuple("%s-fail" % s for s in EXEC)


@pytest.fixture(scope="module")
def spaces(kubesim, prometheus):
    """{shape: namespace}, each with a Deployment web (2 replicas) under
    load and its metrics in Prometheus."""
    suffix = uuid.uuid4().hex[:5]
    ns = {s: "p%s-%s" % (s.replace("-", ""), suffix) for s in SHAPES + BROKEN}
    for n in ns.values():
        kubesim.apply(namespace(n))
        kubesim.apply(deployment(n, "web", 2))
        kubesim.set_load(n, "web", 20.0)
    for n in ns.values():
        wait_metrics(prometheus, n, timeout=90)
    return ns


def b64(path):
    with open(path, "rb") as f:
        return base64.b64encode(f.read()).decode()


def new_token(sim, prefix):
    tok = prefix + uuid.uuid4().hex + uuid.uuid4().hex[:8]
    sim.add_token(tok, "sim-user")
    return tok


def provider_kubeconfig(shape, sim, d):
    """(kubeconfig path, {secret texts}, plugin bin dir or None) for a shape,
    written into directory d."""
    sd = sim.state_dir
    secrets = {}
    bindir = None
    base = shape.replace("-fail", "")
    if base == "minikube":
        mk = d / "minikube"
        mk.mkdir()
        for f in ("ca.crt", "client.crt", "client.key"):
            (mk / f).write_bytes(Path(sd, f).read_bytes())
        text = (PROVIDERS / "minikube.yaml.in").read_text().replace("@DIR@", str(mk))
        doc = yaml.safe_load(text)
        assert doc["users"][0]["user"]["client-key"] == str(mk / "client.key")
    else:
        doc = yaml.safe_load((PROVIDERS / ("aks.yaml" if base == "aks-admin"
                                           else base + ".yaml")).read_text())
    cluster = doc["clusters"][0]["cluster"]
    cluster["server"] = sim.api_url
    if "certificate-authority-data" in cluster:
        cluster["certificate-authority-data"] = b64(sim.ca_path)
    if base == "aks-admin":
        doc["current-context"] = "example-aks-admin"
    ctx = [c["context"] for c in doc["contexts"] if c["name"] == doc["current-context"]][0]
    user = [u["user"] for u in doc["users"] if u["name"] == ctx["user"]][0]
    if "client-key-data" in user:
        user["client-certificate-data"] = b64(os.path.join(sd, "client.crt"))
        user["client-key-data"] = b64(os.path.join(sd, "client.key"))
        secrets["key-data"] = user["client-key-data"]
    if "token" in user:
        user["token"] = new_token(sim, "sha256~" if base == "openshift" else "")
        secrets["token"] = user["token"]
    if "exec" in user:
        bindir = d / "bin"
        bindir.mkdir()
        cmd = EXEC[base]
        assert user["exec"]["command"] == cmd
        src = PLUGINS / ("fake-credential-plugin" if base == "gke" else cmd)
        if shape.endswith("-fail") and base == "gke":
            (bindir / cmd).write_text(
                "#!/bin/sh\necho run >> \"$(dirname \"$0\")/runs\"\n"
                "echo 'ERROR: (gcloud.auth.application-default.print-access-token) "
                "Reauthentication failed.' >&2\nexit 1\n")
            (bindir / cmd).chmod(0o755)
        else:
            os.symlink(str(src), str(bindir / cmd))
        if shape.endswith("-fail"):
            (bindir / "fail").write_text("")
        tok = new_token(sim, "k8s-aws-v1." if base == "eks" else "")
        (bindir / "token").write_text(tok + "\n")
        secrets["token"] = tok
    with open(os.path.join(sd, "client.key")) as f:
        key = f.read()
    secrets["key"] = "".join(l for l in key.splitlines() if "-----" not in l)[:40]
    p = d / ("%s.yaml" % shape)
    p.write_text(yaml.safe_dump(doc, sort_keys=False))
    return str(p), secrets, bindir


def run_shape(shape, sim, spaces, prometheus, run_ipad, llmstub, tmp_path):
    kc, secrets, bindir = provider_kubeconfig(shape, sim, tmp_path)
    conf = ini(kubeconfig=kc, prometheus=prometheus.url, cluster=shape, interval="2s",
               timeout="3s")
    files = [ipa_yaml("web-" + shape, [{"deployment": "web", "namespace": spaces[shape]}],
                      prometheus.url, llmstub.url)]
    env = {"PATH": "%s:%s" % (bindir, os.environ.get("PATH", ""))} if bindir else None
    res = run_ipad(conf, files, ["--once"], env=env)
    return res, kc, secrets, bindir


def assert_no_secrets(res, journald, secrets):
    text = res.stdout + all_text(res, journald)
    for what, s in secrets.items():
        assert s not in text, "%s leaked" % what
    assert "BEGIN" not in text


@pytest.mark.parametrize("shape", SHAPES)
def test_provider_shape_connects_and_scales(shape, sim, spaces, prometheus, run_ipad,
                                            llmstub, decisions, journald, tmp_path):
    llmstub.mode("fixed", text={"replicas": 3})
    res, kc, secrets, bindir = run_shape(shape, sim, spaces, prometheus, run_ipad,
                                         llmstub, tmp_path)
    assert res.rc == EX_OK, res
    rec = decisions(res, 1)[0]
    assert rec["PRIORITY"] == "6" and rec["IPA_ACTION"] == "scale", rec
    assert rec["IPA_CLUSTER"] == shape, rec
    assert replicas(sim, spaces[shape]) == 3
    assert_no_secrets(res, journald, secrets)
    if bindir is not None:
        runs = (bindir / "runs").read_text().splitlines()
        assert len(runs) == 1, runs
        if shape == "eks":
            assert runs == ["AWS_PROFILE=example-profile --region eu-west-1 eks get-token "
                            "--cluster-name example --output json"], runs
        elif shape == "aks":
            assert runs[0].startswith("get-token --environment AzurePublicCloud "
                                      "--server-id 6dae42f8-"), runs
    # the requests of this run were made with the shape's credentials
    reqs = [r for r in sim.requests() if ("/namespaces/%s/" % spaces[shape]) in r["path"]]
    assert reqs and all(r["status"] < 400 for r in reqs), reqs[:3]
    want_user = "sim-cert-user" if shape in ("k3s", "kind", "minikube") else "sim-user"
    assert all(r["user"] == want_user for r in reqs), reqs[:3]


@pytest.mark.parametrize("shape", BROKEN)
def test_failing_provider_plugin_holds_with_named_error(shape, sim, spaces, prometheus,
                                                        run_ipad, llmstub, decisions,
                                                        journald, tmp_path):
    llmstub.mode("fixed", text={"replicas": 3})
    res, kc, secrets, bindir = run_shape(shape, sim, spaces, prometheus, run_ipad,
                                         llmstub, tmp_path)
    assert res.rc == EX_TEMPFAIL, res
    rec = decisions(res, 1)[0]
    assert rec["PRIORITY"] == "4" and rec["IPA_ACTION"] == "hold", rec
    err = rec.get("IPA_ERROR", "")
    cmd = EXEC[shape.replace("-fail", "")]
    assert "kubeconfig %s" % kc in err, err
    assert ("exec plugin %s: exited with status 1" % cmd) in err, err
    assert replicas(sim, spaces[shape]) == 2
    assert_no_secrets(res, journald, secrets)
