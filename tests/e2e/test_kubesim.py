"""Tests of the Kubernetes API simulator (tests/sim/kubesim.py).

Run: /usr/bin/python3 -m pytest tests/e2e/test_kubesim.py -q
"""
import http.client
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import time
from urllib.parse import urlsplit

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "sim"))
from kubesim import KubeSim  # noqa: E402

KUBECTL = os.environ.get("KUBECTL") or shutil.which("kubectl", path="/usr/bin:/usr/local/bin") or \
    "/usr/bin/kubectl"
GPU = "nvidia.com/gpu"


def deployment(name, ns="shop", replicas=2, containers=None, annotations=None,
               strategy=None):
    ann = {"ipad-sim/ready-delay-seconds": "0.3"}
    ann.update(annotations or {})
    if containers is None:
        containers = [{"name": "app", "image": "nginx:1.27", "resources": {
            "requests": {"cpu": "250m", "memory": "128Mi", GPU: "1"},
            "limits": {"cpu": "500m", "memory": "256Mi", GPU: "1"}}},
            {"name": "sidecar", "image": "envoy:1.30", "resources": {
                "requests": {"cpu": "50m", "memory": "32Mi"}}}]
    d = {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": name, "namespace": ns, "annotations": ann},
         "spec": {"replicas": replicas,
                  "selector": {"matchLabels": {"app": name}},
                  "template": {"metadata": {"labels": {"app": name}},
                               "spec": {"containers": containers}}}}
    if strategy:
        d["spec"]["strategy"] = strategy
    return d


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    d = tmp_path_factory.mktemp("kubesim")
    objs = [{"apiVersion": "v1", "kind": "Namespace",
             "metadata": {"name": "shop"}},
            deployment("web", annotations={"ipad-sim/ingress": "web",
                                           "ipad-sim/rps": "20"}),
            deployment("mix"), deployment("edge", ns="edge-ns", annotations={
                "ipad-sim/ingress": "edge-ing",
                "ipad-sim/ingress-label-shape": "exported_namespace"})]
    s = KubeSim(str(d), objects=objs)
    s.start()
    yield s
    s.stop()


def wait_for(fn, timeout=10.0, interval=0.1, what="condition"):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("timed out waiting for %s (last: %r)" % (what, last))


def raw_request(sim, method, path, body=None, headers=None, context=None):
    u = urlsplit(sim.api_url)
    ctx = context or ssl.create_default_context(cafile=sim.ca_path)
    conn = http.client.HTTPSConnection(u.hostname, u.port, context=ctx,
                                       timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        hdrs = dict(r.getheaders())
    finally:
        conn.close()
    try:
        data = json.loads(data)
    except ValueError:
        pass
    return r.status, data, hdrs


DEP = "/apis/apps/v1/namespaces/shop/deployments"
MERGE = "application/merge-patch+json"
SMP = "application/strategic-merge-patch+json"
JSONP = "application/json-patch+json"


def kubectl(sim, *args, kind="token"):
    cache = os.path.join(sim.state_dir, "kubectl-cache")
    p = subprocess.run([KUBECTL, "--kubeconfig", sim.kubeconfig(kind),
                        "--cache-dir", cache] + list(args),
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, "kubectl %s: %s%s" % (" ".join(args), p.stdout,
                                                    p.stderr)
    return p.stdout


# ---------------------------------------------------------------- auth
def test_unauthorized_without_and_with_wrong_token(sim):
    for headers in ({}, {"Authorization": "Bearer not-the-token"},
                    {"Authorization": "Basic dXNlcjpwYXNz"}):
        code, body, _ = raw_request(sim, "GET", DEP + "/web", headers=headers)
        assert code == 401
        assert body == {"kind": "Status", "apiVersion": "v1", "metadata": {},
                        "status": "Failure", "message": "Unauthorized",
                        "reason": "Unauthorized", "code": 401}


def test_client_certificate_auth(sim):
    ctx = ssl.create_default_context(cafile=sim.ca_path)
    ctx.load_cert_chain(os.path.join(sim.state_dir, "client.crt"),
                        os.path.join(sim.state_dir, "client.key"))
    code, body, _ = raw_request(sim, "GET", DEP + "/web", context=ctx)
    assert code == 200 and body["metadata"]["name"] == "web"
    reqs = [r for r in sim.requests() if r["path"] == DEP + "/web"]
    assert reqs[-1]["user"] == "sim-cert-user"


def test_kubeconfig_files(sim):
    import yaml
    with open(sim.kubeconfig("cert")) as f:
        kc = yaml.safe_load(f)
    assert kc["current-context"] == "sim"
    assert kc["contexts"][0]["context"] == {"cluster": "sim",
                                            "user": "sim-user",
                                            "namespace": "default"}
    assert kc["clusters"][0]["cluster"]["certificate-authority"] == "ca.crt"
    assert kc["users"][0]["user"] == {"client-certificate": "client.crt",
                                      "client-key": "client.key"}
    with open(sim.kubeconfig("insecure")) as f:
        kc = yaml.safe_load(f)
    assert kc["clusters"][0]["cluster"]["insecure-skip-tls-verify"] is True
    assert kc["users"][0]["user"]["token"] == sim.token
    with open(sim.kubeconfig("token")) as f:
        kc = yaml.safe_load(f)
    assert "certificate-authority-data" in kc["clusters"][0]["cluster"]
    with open(os.path.join(sim.state_dir, "ready.json")) as f:
        ready = json.load(f)
    assert set(ready) >= {"api_url", "metrics_url", "token", "pid"}


def test_forbidden_user(sim):
    code, body = sim.api("GET", DEP + "/web", token=sim.forbidden_token)
    assert code == 200
    code, body = sim.api("PATCH", DEP + "/web/scale",
                         {"spec": {"replicas": 2}}, MERGE,
                         token=sim.forbidden_token)
    assert code == 403
    assert body["reason"] == "Forbidden"
    assert body["message"] == (
        'deployments.apps "web" is forbidden: User "sim-readonly" cannot '
        'patch resource "deployments/scale" in API group "apps" in the '
        'namespace "shop"')
    assert body["details"] == {"name": "web", "group": "apps",
                               "kind": "deployments"}


# ---------------------------------------------------------------- reads
def test_get_and_not_found(sim):
    code, d = sim.api("GET", DEP + "/web")
    assert code == 200
    assert d["kind"] == "Deployment" and d["apiVersion"] == "apps/v1"
    assert isinstance(d["metadata"]["resourceVersion"], str)
    assert d["metadata"]["generation"] >= 1
    assert d["spec"]["template"]["spec"]["containers"][0]["resources"][
        "requests"]["cpu"] == "250m"
    code, body = sim.api("GET", DEP + "/nope")
    assert code == 404
    assert body == {"kind": "Status", "apiVersion": "v1", "metadata": {},
                    "status": "Failure",
                    "message": 'deployments.apps "nope" not found',
                    "reason": "NotFound",
                    "details": {"name": "nope", "group": "apps",
                                "kind": "deployments"}, "code": 404}
    code, lst = sim.api("GET", "/apis/apps/v1/deployments")
    assert code == 200 and lst["kind"] == "DeploymentList"
    names = {(i["metadata"]["namespace"], i["metadata"]["name"])
             for i in lst["items"]}
    assert ("shop", "web") in names and ("edge-ns", "edge") in names
    code, ns = sim.api("GET", "/api/v1/namespaces/shop")
    assert code == 200 and ns["status"]["phase"] == "Active"
    code, ns = sim.api("GET", "/api/v1/namespaces/edge-ns")
    assert code == 200
    code, body = sim.api("GET", "/api/v1/namespaces/nope")
    assert code == 404 and body["message"] == 'namespaces "nope" not found'


def test_quantities_are_canonical(sim):
    d = deployment("quant", containers=[{
        "name": "app", "image": "nginx", "resources": {
            "requests": {"cpu": 0.5, "memory": "1024Mi"},
            "limits": {"cpu": "2000m", "memory": "1.5Gi"}}}])
    code, body = sim.api("POST", DEP, d)
    assert code == 201, body
    res = body["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert res == {"requests": {"cpu": "500m", "memory": "1Gi"},
                   "limits": {"cpu": "2", "memory": "1536Mi"}}
    code, body = sim.api("POST", DEP, d)
    assert code == 409 and body["reason"] == "AlreadyExists"
    assert body["message"] == 'deployments.apps "quant" already exists'


# ---------------------------------------------------------------- scale
def test_scale_subresource(sim):
    code, s = sim.api("GET", DEP + "/web/scale")
    assert code == 200
    assert s["kind"] == "Scale" and s["apiVersion"] == "autoscaling/v1"
    assert s["spec"]["replicas"] == 2
    assert s["status"]["selector"] == "app=web"
    gen = sim.deployment("shop", "web")["metadata"]["generation"]
    code, s = sim.api("PATCH", DEP + "/web/scale", {"spec": {"replicas": 3}},
                      MERGE)
    assert code == 200 and s["spec"]["replicas"] == 3
    d = sim.deployment("shop", "web")
    assert d["spec"]["replicas"] == 3
    assert d["metadata"]["generation"] == gen + 1
    code, s = sim.api("PATCH", DEP + "/web/scale", {"spec": {"replicas": 4}},
                      SMP)
    assert code == 200 and s["spec"]["replicas"] == 4
    code, s = sim.api("PATCH", DEP + "/web/scale", [
        {"op": "test", "path": "/spec/replicas", "value": 4},
        {"op": "replace", "path": "/spec/replicas", "value": 2}], JSONP)
    assert code == 200 and s["spec"]["replicas"] == 2
    code, body = sim.api("PATCH", DEP + "/web/scale", [
        {"op": "test", "path": "/spec/replicas", "value": 9}], JSONP)
    assert code == 422, body
    # PUT with a stale resourceVersion
    code, s = sim.api("GET", DEP + "/web/scale")
    stale = dict(s, spec={"replicas": 2})
    code, _ = sim.api("PATCH", DEP + "/web", {"metadata": {"labels": {
        "touched": "yes"}}}, MERGE)
    assert code == 200
    code, body = sim.api("PUT", DEP + "/web/scale", stale)
    assert code == 409 and body["reason"] == "Conflict"
    code, s = sim.api("PATCH", DEP + "/web/scale", {"spec": {"replicas": -1}},
                      MERGE)
    assert code == 422
    assert s["message"] == ('Scale.autoscaling "web" is invalid: '
                            'spec.replicas: Invalid value: -1: must be '
                            'greater than or equal to 0')


# ---------------------------------------------------------------- patches
def test_strategic_merge_keeps_other_container_and_resources(sim):
    code, d = sim.api("PATCH", DEP + "/mix", {"spec": {"template": {"spec": {
        "containers": [{"name": "app", "resources": {
            "requests": {"cpu": "300m"}, "limits": {"cpu": "600m"}}}]}}}},
        SMP)
    assert code == 200, d
    cs = d["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in cs] == ["app", "sidecar"]
    assert cs[0]["resources"] == {
        "requests": {"cpu": "300m", "memory": "128Mi", GPU: "1"},
        "limits": {"cpu": "600m", "memory": "256Mi", GPU: "1"}}
    assert cs[1]["resources"] == {"requests": {"cpu": "50m",
                                               "memory": "32Mi"}}
    # null deletes a key
    code, d = sim.api("PATCH", DEP + "/mix", {"spec": {"template": {"spec": {
        "containers": [{"name": "sidecar", "resources": {
            "requests": {"memory": None}}}]}}}}, SMP)
    assert code == 200
    assert d["spec"]["template"]["spec"]["containers"][1]["resources"] == \
        {"requests": {"cpu": "50m"}}
    # merge patch replaces the list
    code, d = sim.api("PATCH", DEP + "/mix", {"spec": {"template": {"spec": {
        "containers": [{"name": "app", "image": "nginx:1.28"}]}}}}, MERGE)
    assert code == 200, d
    cs = d["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in cs] == ["app"]
    assert cs[0]["resources"] == {}


def test_json_patch(sim):
    code, d = sim.api("PATCH", DEP + "/web", [
        {"op": "add", "path": "/metadata/labels", "value": {"tier": "fe"}},
        {"op": "replace", "path": "/spec/template/spec/containers/1/image",
         "value": "envoy:1.31"},
        {"op": "remove", "path": "/spec/template/spec/containers/0/resources"
         "/limits/memory"}], JSONP)
    assert code == 200, d
    assert d["metadata"]["labels"] == {"tier": "fe"}
    cs = d["spec"]["template"]["spec"]["containers"]
    assert cs[1]["image"] == "envoy:1.31"
    assert "memory" not in cs[0]["resources"]["limits"]


def test_unsupported_media_type(sim):
    code, body = sim.api("PATCH", DEP + "/web", {"spec": {}}, "text/plain")
    assert code == 415
    assert body["reason"] == "UnsupportedMediaType"
    assert body["message"] == (
        "the body of the request was in an unknown format - accepted media "
        "types include: application/json-patch+json, "
        "application/merge-patch+json, application/strategic-merge-patch+json"
        ", application/apply-patch+yaml")
    # custom resources do not take strategic merge patches
    ipa = {"apiVersion": "ipa.shafinhasnat.me/v1alpha1", "kind": "IPA",
           "metadata": {"name": "shop-ipa", "namespace": "shop"},
           "spec": {"metadata": {"prometheusUri": "http://p",
                                 "llmAgent": "http://a", "ipaGroup": []}}}
    code, _ = sim.api("POST", "/apis/ipa.shafinhasnat.me/v1alpha1/namespaces/"
                      "shop/ipas", ipa)
    assert code == 201
    code, body = sim.api("PATCH", "/apis/ipa.shafinhasnat.me/v1alpha1/"
                         "namespaces/shop/ipas/shop-ipa", {"spec": {}}, SMP)
    assert code == 415
    assert body["message"] == (
        "the body of the request was in an unknown format - accepted media "
        "types include: application/json-patch+json, "
        "application/merge-patch+json, application/apply-patch+yaml")


def test_bad_json_is_400(sim):
    for ct in (MERGE, SMP, JSONP):
        code, body = sim.api("PATCH", DEP + "/web", "{not json", ct)
        assert code == 400, (ct, body)
        assert body["kind"] == "Status" and body["reason"] == "BadRequest"
    code, body = sim.api("POST", DEP, "nope")
    assert code == 400 and body["reason"] == "BadRequest"


def test_invalid_values_are_422(sim):
    code, body = sim.api("PATCH", DEP + "/web", {"spec": {"replicas": -1}},
                         MERGE)
    assert code == 422
    assert body["reason"] == "Invalid"
    assert body["message"] == ('Deployment.apps "web" is invalid: '
                               'spec.replicas: Invalid value: -1: must be '
                               'greater than or equal to 0')
    assert body["details"] == {
        "name": "web", "group": "apps", "kind": "Deployment",
        "causes": [{"reason": "FieldValueInvalid",
                    "message": "Invalid value: -1: must be greater than or "
                    "equal to 0", "field": "spec.replicas"}]}
    # requests above limits
    code, body = sim.api("PATCH", DEP + "/web", {"spec": {"template": {
        "spec": {"containers": [{"name": "app", "resources": {
            "requests": {"cpu": "2"}}}]}}}}, SMP)
    assert code == 422
    assert body["details"]["causes"] == [{
        "reason": "FieldValueInvalid",
        "message": 'Invalid value: "2": must be less than or equal to cpu '
                   'limit of 500m',
        "field": "spec.template.spec.containers[0].resources.requests"}]
    # a bad quantity: the patched object cannot be decoded
    code, body = sim.api("PATCH", DEP + "/web", {"spec": {"template": {
        "spec": {"containers": [{"name": "app", "resources": {
            "limits": {"memory": "lots"}}}]}}}}, SMP)
    assert code == 422
    assert body["details"]["causes"][0]["field"] == "patch"
    assert "quantities must match the regular expression" in body["message"]
    # a container without a name, an empty container list
    code, body = sim.api("PATCH", DEP + "/web", {"spec": {"template": {
        "spec": {"containers": [{"image": "x"}]}}}}, MERGE)
    assert code == 422
    assert body["details"]["causes"] == [{
        "reason": "FieldValueRequired", "message": "Required value",
        "field": "spec.template.spec.containers[0].name"}]
    code, body = sim.api("PATCH", DEP + "/web", {"spec": {"template": {
        "spec": {"containers": []}}}}, MERGE)
    assert code == 422
    assert body["details"]["causes"][0]["field"] == \
        "spec.template.spec.containers"
    # nothing was stored
    d = sim.deployment("shop", "web")
    assert d["spec"]["replicas"] >= 0
    assert d["spec"]["template"]["spec"]["containers"][0]["name"] == "app"


def test_stale_put_is_409(sim):
    # the controller may update status between our GET and PUT (a 409 that
    # a real client retries): retry until one read-modify-write goes through
    for _ in range(50):
        code, d = sim.api("GET", DEP + "/web")
        rv = d["metadata"]["resourceVersion"]
        d["metadata"].setdefault("annotations", {})["note"] = "one"
        code, d2 = sim.api("PUT", DEP + "/web", d)
        if code != 409:
            break
        time.sleep(0.1)
    assert code == 200
    assert int(d2["metadata"]["resourceVersion"]) > int(rv)
    d["metadata"]["annotations"]["note"] = "two"
    code, body = sim.api("PUT", DEP + "/web", d)
    assert code == 409
    assert body["reason"] == "Conflict"
    assert body["message"] == (
        'Operation cannot be fulfilled on deployments.apps "web": the object '
        'has been modified; please apply your changes to the latest version '
        'and try again')
    assert body["details"] == {"name": "web", "group": "apps",
                               "kind": "deployments"}


# ---------------------------------------------------------------- controller
def pods_of(sim, name, ns="shop"):
    code, lst = sim.api("GET", "/api/v1/namespaces/%s/pods?labelSelector="
                        "app%%3D%s" % (ns, name))
    assert code == 200
    return lst["items"]


def ready(pod):
    return any(c["type"] == "Ready" and c["status"] == "True"
               for c in pod["status"]["conditions"])


def test_pods_follow_replicas_and_become_ready(sim):
    sim.apply(deployment("follow", replicas=3))
    pods = wait_for(lambda: [p for p in pods_of(sim, "follow")
                             if ready(p)] if len([
                                 p for p in pods_of(sim, "follow")
                                 if ready(p)]) == 3 else None,
                    what="3 ready pods")
    for p in pods:
        assert re.match(r"^follow-[a-z0-9]{10}-[a-z0-9]{5}$",
                        p["metadata"]["name"])
        cs = p["status"]["containerStatuses"]
        assert cs[0]["restartCount"] == 0 and cs[0]["lastState"] == {}
        assert p["metadata"]["labels"]["pod-template-hash"] in \
            p["metadata"]["name"]
    st = wait_for(lambda: (lambda s: s if s.get("readyReplicas") == 3 and
                           s.get("availableReplicas") == 3 else None)(
        sim.deployment("shop", "follow")["status"]), what="status")
    assert st["replicas"] == 3 and st["updatedReplicas"] == 3
    conds = {c["type"]: c for c in st["conditions"]}
    assert conds["Available"]["status"] == "True"
    assert conds["Progressing"]["reason"] == "NewReplicaSetAvailable"
    code, _ = sim.api("PATCH", DEP + "/follow/scale",
                      {"spec": {"replicas": 1}}, MERGE)
    assert code == 200
    wait_for(lambda: len(pods_of(sim, "follow")) == 1, what="scale down")
    wait_for(lambda: sim.deployment("shop", "follow")["status"].get(
        "replicas") == 1, what="status.replicas 1")


def test_rollout_on_template_change(sim):
    sim.apply(deployment("roll", replicas=2))
    wait_for(lambda: sim.deployment("shop", "roll")["status"].get(
        "availableReplicas") == 2, what="initial rollout")
    old = {p["metadata"]["labels"]["pod-template-hash"]
           for p in pods_of(sim, "roll")}
    assert len(old) == 1
    gen = sim.deployment("shop", "roll")["metadata"]["generation"]
    code, d = sim.api("PATCH", DEP + "/roll", {"spec": {"template": {"spec": {
        "containers": [{"name": "app", "resources": {
            "requests": {"cpu": "300m"}}}]}}}}, SMP)
    assert code == 200 and d["metadata"]["generation"] == gen + 1
    seen_progress = []

    def done():
        d = sim.deployment("shop", "roll")
        st = d["status"]
        in_progress = st.get("observedGeneration", 0) < \
            d["metadata"]["generation"] or st.get("updatedReplicas", 0) < \
            st.get("replicas", 0) or st.get("availableReplicas", 0) < \
            st.get("updatedReplicas", 0)
        seen_progress.append(in_progress)
        hashes = {p["metadata"]["labels"]["pod-template-hash"]
                  for p in pods_of(sim, "roll")}
        return not in_progress and st.get("updatedReplicas") == 2 and \
            st.get("availableReplicas") == 2 and len(pods_of(sim, "roll")) \
            == 2 and hashes.isdisjoint(old) and len(hashes) == 1
    wait_for(done, timeout=15, interval=0.05, what="rollout")
    assert any(seen_progress), "never saw the rollout in progress"
    d = sim.deployment("shop", "roll")
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] \
        == "2"
    for p in pods_of(sim, "roll"):
        assert p["spec"]["containers"][0]["resources"]["requests"]["cpu"] == \
            "300m"
    code, rs = sim.api("GET", "/apis/apps/v1/namespaces/shop/replicasets")
    names = {r["metadata"]["name"]: r["spec"]["replicas"] for r in rs["items"]
             if r["metadata"]["name"].startswith("roll-")}
    assert sorted(names.values()) == [0, 2]


def test_oom_kill_sets_last_state(sim):
    sim.apply(deployment("oom", replicas=1, containers=[{
        "name": "app", "image": "nginx", "resources": {
            "limits": {"cpu": "1", "memory": "100Mi"}}}],
        annotations={"ipad-sim/rps": "100", "ipad-sim/oom-after-seconds":
                     "0.3"}))

    def oomed():
        ps = pods_of(sim, "oom")
        if not ps:
            return None
        cs = ps[0]["status"]["containerStatuses"][0]
        return cs if cs["restartCount"] >= 1 else None
    cs = wait_for(oomed, what="OOM kill")
    assert cs["lastState"]["terminated"]["reason"] == "OOMKilled"
    assert cs["lastState"]["terminated"]["exitCode"] == 137
    m = sim.metrics()
    assert re.search(r'kube_pod_container_status_last_terminated_reason\{'
                     r'namespace="shop",pod="oom-[^"]+",container="app",'
                     r'reason="OOMKilled"\} 1', m)
    sim.apply({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {
        "name": "oom", "namespace": "shop"}, "spec": {"replicas": 0,
        "selector": {"matchLabels": {"app": "oom"}}, "template": {
            "metadata": {"labels": {"app": "oom"}}, "spec": {"containers": [
                {"name": "app", "image": "nginx"}]}}}})


# ---------------------------------------------------------------- metrics
def parse_metrics(text):
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\} (\S+)$', line)
        assert m, line
        labels = dict(re.findall(r'([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"',
                                 m.group(2)))
        out.append((m.group(1), labels, float(m.group(3))))
    return out


def series(ms, name, **want):
    return [(lab, v) for n, lab, v in ms if n == name and
            all(lab.get(k) == v2 for k, v2 in want.items())]


def cpu_by_pod(ms, ns, prefix):
    per = {}
    for lab, v in series(ms, "container_cpu_usage_seconds_total",
                         namespace=ns):
        if lab["pod"].startswith(prefix) and lab["container"] == "app":
            per[lab["pod"]] = v
    return per


def test_metrics_shapes(sim):
    ms = parse_metrics(sim.metrics())
    web_pods = {p["metadata"]["name"] for p in pods_of(sim, "web")}
    assert web_pods
    for pod in web_pods:
        rows = series(ms, "container_cpu_usage_seconds_total",
                      namespace="shop", pod=pod)
        containers = {lab["container"] for lab, _ in rows}
        assert containers == {"app", "sidecar", "POD", ""}
        assert all(set(lab) == {"namespace", "pod", "container", "image"}
                   for lab, _ in rows)
        total = sum(v for lab, v in rows if lab["container"] != "")
        podlevel = [v for lab, v in rows if lab["container"] == ""][0]
        assert podlevel == pytest.approx(total, rel=1e-6)
        pause = [v for lab, v in rows if lab["container"] == "POD"][0]
        assert pause < 0.01 * max(total, 1e-9) + 0.01
        mem = series(ms, "container_memory_working_set_bytes",
                     namespace="shop", pod=pod)
        assert sum(v for lab, v in mem if lab["container"] != "") == \
            [v for lab, v in mem if lab["container"] == ""][0]
    assert series(ms, "kube_deployment_spec_replicas", namespace="shop",
                  deployment="web")
    assert series(ms, "kube_deployment_status_replicas_available",
                  namespace="shop", deployment="web")
    ing = series(ms, "nginx_ingress_controller_requests", ingress="web")
    assert ing and all(lab["namespace"] == "shop" and "exported_namespace"
                       not in lab for lab, _ in ing)
    assert [v for lab, v in ing if lab["status"] == "200"][0] > 0
    ing = series(ms, "nginx_ingress_controller_requests", ingress="edge-ing")
    assert ing and all(lab["namespace"] == "ingress-nginx" and
                       lab["exported_namespace"] == "edge-ns"
                       for lab, _ in ing)
    # an Ingress object in front of a Service that selects the pods
    sim.apply({"apiVersion": "v1", "kind": "Service", "metadata": {
        "name": "front", "namespace": "shop"}, "spec": {
        "selector": {"app": "mix"}, "ports": [{"port": 80}]}})
    sim.apply({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
               "metadata": {"name": "mix-ing", "namespace": "shop"},
               "spec": {"rules": [{"host": "mix.example.org", "http": {
                   "paths": [{"path": "/", "pathType": "Prefix", "backend": {
                       "service": {"name": "front",
                                   "port": {"number": 80}}}}]}}]}})
    ing = series(parse_metrics(sim.metrics()),
                 "nginx_ingress_controller_requests", ingress="mix-ing")
    assert ing and ing[0][0]["service"] == "front" and \
        ing[0][0]["host"] == "mix.example.org"
    cpu = series(ms, "kube_node_status_allocatable", resource="cpu",
                 unit="core")
    assert sorted(v for _, v in cpu) == [4, 8, 8]
    mem = series(ms, "kube_node_status_allocatable", resource="memory",
                 unit="byte")
    assert sorted(v for _, v in mem)[0] == 16 * 1024 ** 3
    assert len(series(ms, "node_memory_MemAvailable_bytes")) == 3


def test_cpu_per_pod_falls_when_replicas_rise(sim):
    sim.apply(deployment("load", replicas=1, annotations={
        "ipad-sim/ready-delay-seconds": "0.2"}, containers=[
        {"name": "app", "image": "nginx", "resources": {
            "requests": {"cpu": "1"}, "limits": {"cpu": "2"}}},
        {"name": "sidecar", "image": "envoy"}]))
    sim.set_load("shop", "load", 100)
    wait_for(lambda: sim.deployment("shop", "load")["status"].get(
        "readyReplicas") == 1, what="1 ready")

    def scrape():
        t0 = time.time()
        text = sim.metrics()
        return (t0 + time.time()) / 2, cpu_by_pod(parse_metrics(text), "shop",
                                                  "load-")

    def rates(interval=1.5):
        ta, a = scrape()
        time.sleep(interval)
        tb, b = scrape()
        return {p: (b[p] - a[p]) / (tb - ta) for p in b if p in a}
    r1 = rates()
    assert len(r1) == 1
    # base 0.01 + 100 rps * 0.01 s / 1 pod
    assert list(r1.values())[0] == pytest.approx(1.01, rel=0.15)
    code, _ = sim.api("PATCH", DEP + "/load/scale", {"spec": {"replicas": 4}},
                      MERGE)
    assert code == 200
    wait_for(lambda: sim.deployment("shop", "load")["status"].get(
        "readyReplicas") == 4, what="4 ready")
    r4 = rates()
    assert len(r4) == 4
    for v in r4.values():
        assert v == pytest.approx(0.26, rel=0.15)
    # load changes take effect at once
    sim.set_load("shop", "load", 0)
    r0 = rates(1.0)
    for v in r0.values():
        assert v == pytest.approx(0.01, abs=0.005)


# ---------------------------------------------------------------- faults
def test_faults(sim):
    sim.fault(method="PATCH", path_regex=r"/deployments/web/scale$",
              status=429, retry_after=3, count=1)
    code, body, hdrs = raw_request(
        sim, "PATCH", DEP + "/web/scale",
        json.dumps({"spec": {"replicas": 2}}),
        {"Authorization": "Bearer " + sim.token, "Content-Type": MERGE})
    assert code == 429
    assert hdrs.get("Retry-After") == "3"
    assert body["reason"] == "TooManyRequests"
    assert body["message"] == "Too many requests, please try again later."
    assert body["details"]["retryAfterSeconds"] == 3
    code, _ = sim.api("PATCH", DEP + "/web/scale", {"spec": {"replicas": 2}},
                      MERGE)
    assert code == 200
    sim.fault(path_regex="/deployments/web$", status=500, count=-1)
    for _ in range(2):
        code, body = sim.api("GET", DEP + "/web")
        assert code == 500 and body["reason"] == "InternalError"
    sim.clear_faults()
    code, _ = sim.api("GET", DEP + "/web")
    assert code == 200
    sim.fault(method="GET", path_regex="/deployments/web$", delay=0.5)
    t0 = time.time()
    code, _ = sim.api("GET", DEP + "/web")
    assert code == 200 and time.time() - t0 >= 0.5
    sim.clear_faults()


def test_request_log(sim):
    sim.clear_requests()
    sim.api("PATCH", DEP + "/web/scale", {"spec": {"replicas": 2}}, MERGE)
    reqs = sim.requests()
    assert len(reqs) == 1
    r = reqs[0]
    assert r["method"] == "PATCH" and r["path"] == DEP + "/web/scale"
    assert r["content_type"] == MERGE
    assert r["body"] == {"spec": {"replicas": 2}}
    assert r["user"] == "sim-user" and r["status"] == 200


def test_events_and_watch(sim):
    ev = {"apiVersion": "v1", "kind": "Event",
          "metadata": {"name": "web.17a", "namespace": "shop"},
          "involvedObject": {"apiVersion": "apps/v1", "kind": "Deployment",
                             "name": "web", "namespace": "shop"},
          "reason": "SuccessfulRescale", "message": "New size: 2",
          "type": "Normal", "source": {"component": "ipad"}, "count": 1}
    code, body = sim.api("POST", "/api/v1/namespaces/shop/events", ev)
    assert code == 201
    code, lst = sim.api("GET", "/api/v1/namespaces/shop/events?fieldSelector="
                        "involvedObject.name%3Dweb,reason%3DSuccessfulRescale")
    assert code == 200 and [e["message"] for e in lst["items"]] == \
        ["New size: 2"]
    # watch from a resourceVersion sees a later change
    rv = sim.deployment("shop", "web")["metadata"]["resourceVersion"]
    sim.api("PATCH", DEP + "/web", {"metadata": {"labels": {
        "w": "1"}}}, MERGE)
    code, body = sim.api("GET", DEP + "?watch=1&timeoutSeconds=1&"
                         "fieldSelector=metadata.name%3Dweb&resourceVersion="
                         + rv)
    assert code == 200
    events = [json.loads(line) for line in body.splitlines() if line] \
        if isinstance(body, str) else [body]
    assert any(e["type"] == "MODIFIED" and
               e["object"]["metadata"]["labels"].get("w") == "1"
               for e in events)


# ---------------------------------------------------------------- kubectl
def test_real_kubectl(sim):
    out = kubectl(sim, "get", "deployments", "-n", "shop")
    assert re.search(r"^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE", out,
                     re.M)
    assert re.search(r"^web\s+\d+/\d+", out, re.M)
    out = kubectl(sim, "scale", "deployment/web", "--replicas=4", "-n", "shop")
    assert "scaled" in out
    assert sim.deployment("shop", "web")["spec"]["replicas"] == 4
    out = kubectl(sim, "patch", "deployment", "web", "-n", "shop",
                  "--type=strategic", "-p", json.dumps({"spec": {"template": {
                      "spec": {"containers": [{"name": "app", "resources": {
                          "limits": {"cpu": "700m"}}}]}}}}))
    assert "patched" in out
    d = sim.deployment("shop", "web")
    cs = d["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in cs] == ["app", "sidecar"]
    assert cs[0]["resources"]["limits"]["cpu"] == "700m"
    assert cs[0]["resources"]["limits"][GPU] == "1"
    out = kubectl(sim, "patch", "deployment", "web", "-n", "shop",
                  "--type=merge", "-p", '{"metadata":{"labels":{"k":"v"}}}')
    assert sim.deployment("shop", "web")["metadata"]["labels"]["k"] == "v"
    out = kubectl(sim, "patch", "deployment", "web", "-n", "shop",
                  "--type=json", "-p",
                  '[{"op":"replace","path":"/spec/replicas","value":3}]')
    assert sim.deployment("shop", "web")["spec"]["replicas"] == 3
    out = kubectl(sim, "get", "pods", "-n", "shop", "-l", "app=web", "-o",
                  "name", kind="cert")
    assert "pod/web-" in out
    out = kubectl(sim, "get", "deployment", "web", "-n", "shop", "-o",
                  "jsonpath={.spec.replicas}", kind="insecure")
    assert out.strip() == "3"


# ---------------------------------------------------------------- generic
def test_leases_custom_resource_status_and_watch_expiry(sim):
    base = "/apis/coordination.k8s.io/v1/namespaces/shop/leases"
    code, body = sim.api("GET", base + "/ipad")
    assert code == 404 and body["message"] == \
        'leases.coordination.k8s.io "ipad" not found'
    lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
             "metadata": {"name": "ipad", "namespace": "shop"},
             "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15}}
    code, l1 = sim.api("POST", base, lease)
    assert code == 201
    l1["spec"]["holderIdentity"] = "b"
    code, l2 = sim.api("PUT", base + "/ipad", l1)
    assert code == 200 and l2["spec"]["holderIdentity"] == "b"
    code, body = sim.api("PUT", base + "/ipad", l1)   # stale: 409
    assert code == 409 and body["reason"] == "Conflict"
    # IPA custom resource: status subresource leaves spec alone
    ipas = "/apis/ipa.shafinhasnat.me/v1alpha1/namespaces/shop/ipas"
    ipa = {"apiVersion": "ipa.shafinhasnat.me/v1alpha1", "kind": "IPA",
           "metadata": {"name": "st", "namespace": "shop"},
           "spec": {"metadata": {"prometheusUri": "http://p",
                                 "llmAgent": "http://a", "ipaGroup": [
                                     {"deployment": "web",
                                      "namespace": "shop"}]}}}
    code, obj = sim.api("POST", ipas, ipa)
    assert code == 201 and obj["metadata"]["generation"] == 1
    code, obj = sim.api("PATCH", ipas + "/st/status", {
        "status": {"status": "Success"}, "spec": {"x": 1}}, MERGE)
    assert code == 200 and obj["status"] == {"status": "Success"}
    assert "x" not in obj["spec"] and obj["metadata"]["generation"] == 1
    code, lst = sim.api("GET", "/apis/ipa.shafinhasnat.me/v1alpha1/ipas")
    assert code == 200 and lst["items"][0]["kind"] == "IPA"
    rv = lst["metadata"]["resourceVersion"]
    # a compacted history answers an old watch with ERROR 410 Expired
    sim.compact()
    code, body = sim.api("GET", ipas + "?watch=1&timeoutSeconds=1&"
                         "resourceVersion=" + rv)
    assert code == 200
    ev = json.loads(body.splitlines()[0] if isinstance(body, str) else
                    json.dumps(body))
    assert ev["type"] == "ERROR" and ev["object"]["code"] == 410
    # deleting a Deployment removes its pods
    sim.apply(deployment("gone", replicas=2))
    wait_for(lambda: len(pods_of(sim, "gone")) == 2, what="2 pods")
    code, body = sim.api("DELETE", DEP + "/gone")
    assert code == 200 and body["status"] == "Success"
    wait_for(lambda: not pods_of(sim, "gone"), what="pods deleted")


def test_kubectl_typed_clients_protobuf_bodies(sim):
    out = kubectl(sim, "create", "deployment", "pb", "--image=nginx:1.27",
                  "--replicas=2", "--port=8080", "-n", "shop")
    assert "created" in out
    d = sim.deployment("shop", "pb")
    assert d["spec"]["replicas"] == 2
    assert d["spec"]["selector"] == {"matchLabels": {"app": "pb"}}
    c = d["spec"]["template"]["spec"]["containers"][0]
    assert c["image"] == "nginx:1.27" and c["ports"][0]["containerPort"] == \
        8080
    assert kubectl(sim, "auth", "can-i", "patch", "deployments/scale", "-n",
                   "shop").strip() == "yes"
    p = subprocess.run([KUBECTL, "--kubeconfig", sim.kubeconfig("forbidden"),
                        "--cache-dir", os.path.join(sim.state_dir, "kc2"),
                        "auth", "can-i", "patch", "deployments/scale", "-n",
                        "shop"], capture_output=True, text=True, timeout=60)
    assert p.stdout.strip() == "no"
    # kubectl scale --current-replicas reads and PUTs the Scale
    kubectl(sim, "scale", "deployment/pb", "--current-replicas=2",
            "--replicas=3", "-n", "shop")
    assert sim.deployment("shop", "pb")["spec"]["replicas"] == 3


def test_token_rotation(sim):
    sim.add_token("rotated-token", "rotated-user")
    code, _ = sim.api("GET", DEP + "/web", token="rotated-token")
    assert code == 200
    sim.revoke_token("rotated-token")
    code, body = sim.api("GET", DEP + "/web", token="rotated-token")
    assert code == 401 and body["reason"] == "Unauthorized"
