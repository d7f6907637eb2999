"""The shipped manifests (packaging/manifests) against the API simulator with
the real kubectl: `kubectl apply -f` of the CRD and the RBAC, then
`kubectl get ipa` printing the CRD's printer columns.

Run: /usr/bin/python3 -m pytest tests/e2e/test_manifests.py -q
"""
import json
import os
import shutil
import subprocess
import sys

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
MANIFESTS = os.path.join(ROOT, "packaging", "manifests")
sys.path.insert(0, os.path.join(HERE, "..", "sim"))
from kubesim import KubeSim  # noqa: E402

KUBECTL = os.environ.get("KUBECTL") or shutil.which(
    "kubectl", path="/usr/bin:/usr/local/bin") or "/usr/bin/kubectl"

pytestmark = pytest.mark.skipif(not os.path.exists(KUBECTL),
                                reason="kubectl is not installed")

# The README's example of the original operator, verbatim but for names.
OLD_IPA = """\
apiVersion: ipa.shafinhasnat.me/v1alpha1
kind: IPA
metadata:
  name: shop-ipa
  namespace: shop
spec:
  metadata:
    prometheusUri: http://prometheus.monitoring.svc:9090
    llmAgent: https://ipaagent.example.org
    ipaGroup:
    - deployment: web
      namespace: shop
      ingress: web
"""


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    s = KubeSim(str(tmp_path_factory.mktemp("kubesim")), objects=[
        {"apiVersion": "v1", "kind": "Namespace",
         "metadata": {"name": "shop"}}])
    s.start()
    yield s
    s.stop()


def kubectl(sim, *args, stdin=None):
    cache = os.path.join(sim.state_dir, "kubectl-cache")
    p = subprocess.run([KUBECTL, "--kubeconfig", sim.kubeconfig("token"),
                        "--cache-dir", cache] + list(args), input=stdin,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, "kubectl %s: %s%s" % (" ".join(args), p.stdout,
                                                    p.stderr)
    return p.stdout


def test_manifests_are_what_the_issue_asks_for():
    crd = yaml.safe_load(open(os.path.join(MANIFESTS, "ipa-crd.yaml")))
    assert crd["metadata"]["name"] == "ipas.ipa.shafinhasnat.me"
    sp = crd["spec"]
    assert sp["group"] == "ipa.shafinhasnat.me" and sp["scope"] == "Namespaced"
    assert sp["names"]["kind"] == "IPA" and sp["names"]["plural"] == "ipas"
    assert sp["names"]["shortNames"] == ["ipa"]
    (v,) = sp["versions"]
    assert v["name"] == "v1alpha1" and v["served"] and v["storage"]
    assert v["subresources"] == {"status": {}}
    assert [c["name"] for c in v["additionalPrinterColumns"]] == \
        ["Targets", "Ready", "Last Action", "Age"]
    schema = v["schema"]["openAPIV3Schema"]
    md = schema["properties"]["spec"]["properties"]["metadata"]
    assert md["required"] == ["prometheusUri", "llmAgent", "ipaGroup"]
    item = md["properties"]["ipaGroup"]["items"]
    assert item["required"] == ["deployment", "namespace"]
    for f in ("deployment", "namespace", "ingress", "minReplicas",
              "maxReplicas", "container", "mode", "fallback", "behavior",
              "minAllowed", "maxAllowed", "controlledValues",
              "memoryMarginPercent", "resizeThresholdPercent",
              "resizeCooldownSeconds"):
        assert f in item["properties"], f
    # No field is left unchecked but the status items (ipad's own).
    assert "x-kubernetes-preserve-unknown-fields" not in json.dumps(
        schema["properties"]["spec"])
    roles = list(yaml.safe_load_all(open(os.path.join(MANIFESTS,
                                                      "ipad-rbac.yaml"))))
    assert [r["kind"] for r in roles] == ["ClusterRole", "ClusterRoleBinding"]
    rules = {(g, r): set(x["verbs"]) for x in roles[0]["rules"]
             for g in x["apiGroups"] for r in x["resources"]}
    assert rules[("apps", "deployments/scale")] == {"get", "patch"}
    assert rules[("", "events")] == {"create", "patch"}
    assert rules[("ipa.shafinhasnat.me", "ipas/status")] == {"update",
                                                             "patch"}
    assert not any("*" in v or "delete" in v for v in rules.values())


def test_kubectl_apply_and_get_ipa(sim):
    out = kubectl(sim, "apply", "-f", os.path.join(MANIFESTS, "ipa-crd.yaml"))
    assert "customresourcedefinition.apiextensions.k8s.io/" \
        "ipas.ipa.shafinhasnat.me created" in out
    out = kubectl(sim, "apply", "-f", os.path.join(MANIFESTS,
                                                   "ipad-rbac.yaml"))
    assert "clusterrole.rbac.authorization.k8s.io/ipad created" in out
    assert "clusterrolebinding.rbac.authorization.k8s.io/ipad created" in out
    # Applying again changes nothing.
    out = kubectl(sim, "apply", "-f", MANIFESTS)
    assert out.count("unchanged") == 3, out
    # An object written for the original operator is accepted as it is.
    kubectl(sim, "apply", "-f", "-", stdin=OLD_IPA)
    out = kubectl(sim, "get", "ipa", "-n", "shop")
    head, row = out.splitlines()[:2]
    assert head.split() == ["NAME", "TARGETS", "READY", "LAST", "ACTION", "AGE"], out
    assert row.split()[0] == "shop-ipa" and len(row.split()) == 2, out
    # Once ipad reports through the status subresource, the columns show it.
    kubectl(sim, "patch", "ipa", "shop-ipa", "-n", "shop", "--subresource",
            "status", "--type", "merge", "-p", json.dumps(
                {"status": {"status": "Success", "targets": 1,
                            "lastAction": "scale 2 -> 3",
                            "conditions": [{"type": "ScalingActive", "status": "False",
                                            "reason": "Paused", "message": "paused",
                                            "lastTransitionTime": "2026-11-30T00:00:00Z"},
                                           {"type": "Ready", "status": "True",
                                            "reason": "TargetsLoaded", "message": "1 item",
                                            "lastTransitionTime": "2026-11-30T00:00:00Z"}]}}))
    out = kubectl(sim, "get", "ipas.ipa.shafinhasnat.me", "-n", "shop")
    row = out.splitlines()[1].split()
    assert row[:6] == ["shop-ipa", "1", "True", "scale", "2", "->"], out
    out = kubectl(sim, "get", "crd", "ipas.ipa.shafinhasnat.me", "-o",
                  "jsonpath={.status.conditions[?(@.type==\"Established\")]"
                  ".status}")
    assert out == "True"
