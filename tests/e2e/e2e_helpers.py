"""Helpers shared by the end-to-end tests: builders for ipad.conf, IPA YAML,
IPA objects and Deployments, targets under load with their CPU series in
Prometheus, polling, Kubernetes quantities, the simulator's request log and
the contract's constants (docs/contracts.md)."""

import json
import re
import time
from fractions import Fraction

import yaml

# docs/contracts.md
MSG_DECISION = "c1166194fd7a4538b12ea45c58fa659e"
MSG_LIFECYCLE = "a6b97f6a62354b0da168fbece8b40327"
MSG_RELOADED = "95452230bc0c43fea0270ec9cd149f06"
MSG_RELOAD_FAILED = "594cd9fc2f6a428880737b891cd9def5"
EX_OK, EX_TEMPFAIL, EX_CONFIG = 0, 75, 78

# The stub's default resources (tests/sim/llmstub.py DEFAULT_TEXT): a
# Deployment created with these gets "scale only" advice from the auto mode.
STUB_RESOURCES = {"requests": {"cpu": "100m", "memory": "125Mi"},
                  "limits": {"cpu": "200m", "memory": "250Mi"}}


# -- ipad.conf ---------------------------------------------------------------------
def ini(*, kubeconfig, prometheus, advisor="ipa-agent", advisor_url=None,
        timeout="3s", interval="2s", log_target="journal", log_format=None,
        min_replicas=1, max_replicas=10, cluster="sim", dry_run=None,
        state="@DIR@/state", targets="@DIR@/ipa.d", extra="", defaults=None):
    """The daemon's INI in the layout of ipad.conf(5). @DIR@ is replaced by
    run_ipad/start_ipad with the run's directory; ``defaults`` adds keys to
    [defaults] (guardrails: {"fallback": "hold", ...})."""
    lines = ["[ipad]",
             "interval = %s" % interval,
             "state-directory = %s" % state,
             "targets = %s" % targets,
             "log-target = %s" % log_target]
    if log_format:
        lines.append("log-format = %s" % log_format)
    if dry_run is not None:
        lines.append("dry-run = %s" % ("true" if dry_run else "false"))
    lines += ["", "[defaults]",
              "min-replicas = %d" % min_replicas,
              "max-replicas = %d" % max_replicas]
    lines += ["%s = %s" % kv for kv in (defaults or {}).items()]
    lines += ["", "[advisor]",
              "type = %s" % advisor,
              "timeout = %s" % timeout]
    if advisor_url:
        lines.append("url = %s" % advisor_url)
    lines += ["", "[cluster %s]" % cluster,
              "kubeconfig = %s" % kubeconfig,
              "prometheus = %s" % prometheus]
    text = "\n".join(lines) + "\n"
    return text + extra


# -- IPA YAML ------------------------------------------------------------------------
def ipa_yaml(name, items, prometheus_uri, llm_agent):
    """One IPA object (ipa.shafinhasnat.me/v1alpha1) as YAML; ``items`` are
    ipaGroup entries: dicts with deployment, namespace, and optionally
    ingress, minReplicas, maxReplicas, container."""
    doc = {
        "apiVersion": "ipa.shafinhasnat.me/v1alpha1",
        "kind": "IPA",
        "metadata": {"name": name},
        "spec": {"metadata": {
            "prometheusUri": prometheus_uri,
            "llmAgent": llm_agent,
            "ipaGroup": [dict(i) for i in items],
        }},
    }
    return yaml.safe_dump(doc, sort_keys=False)


README_IPA_EXAMPLE = """\
apiVersion: ipa.shafinhasnat.me/v1alpha1
kind: IPA
metadata:
  name: <IPA name>
spec:
  metadata:
    prometheusUri: <Prometheus service FQDN>
    llmAgent: https://ipaagent.example.org
    ipaGroup:
    - deployment: <Deployment name>
      namespace: <Deployment namespace>
      ingress: <Ingress name>
"""


# -- Kubernetes objects ----------------------------------------------------------------
def container(name="app", image="nginx:1.25", resources=None):
    return {"name": name, "image": image,
            "ports": [{"containerPort": 8080, "protocol": "TCP"}],
            "resources": json.loads(json.dumps(resources if resources is not None
                                               else STUB_RESOURCES))}


def deployment(namespace, name, replicas=2, containers=None, annotations=None,
               ingress=None):
    """An apps/v1 Deployment for the simulator. Its pods get ready after
    0.2 s; ``ingress`` names the ingress-nginx Ingress whose request series
    the simulator exports for it (annotations ipad-sim/*, tests/sim/kubesim.py)."""
    labels = {"app": name}
    ann = {"ipad-sim/ready-delay-seconds": "0.2"}
    if ingress:
        ann["ipad-sim/ingress"] = ingress
    ann.update(annotations or {})
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels),
                     "annotations": ann},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": dict(labels)},
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": {"containers": containers or [container()]},
            },
        },
    }


def namespace(name):
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def ingress(namespace_, name, service):
    return {
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": name, "namespace": namespace_},
        "spec": {"ingressClassName": "nginx", "rules": [{
            "host": "%s.example.org" % name,
            "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {
                "service": {"name": service, "port": {"number": 80}}}}]}}]},
    }


def containers_of(dep):
    return {c["name"]: c for c in dep["spec"]["template"]["spec"]["containers"]}


# -- targets and IPA objects ------------------------------------------------------------
# Resources of the targets the IPA-object, status, leader-election, events and
# autoscaler tests scale, and an agent answer that keeps them as they are.
TARGET_RESOURCES = {"requests": {"cpu": "100m", "memory": "125Mi"},
                    "limits": {"cpu": "1", "memory": "250Mi"}}


def advice(replicas, **overrides):
    """The agent stub's answer (llmstub.mode("fixed", text=...)) for
    ``replicas`` with TARGET_RESOURCES as they are; ``overrides`` change a
    field (cpu_request="300m")."""
    answer = {"replicas": replicas, "cpu_request": "100m", "cpu_limit": "1",
              "memory_request": "125Mi", "memory_limit": "250Mi"}
    answer.update(overrides)
    return answer


def cpu_query(ns, name):
    """The per-pod CPU rate ipad asks Prometheus for, for Deployment ns/name."""
    return ('sum by (pod) (rate(container_cpu_usage_seconds_total{namespace="%s",'
            'pod=~"%s-.*",container!="",image!=""}[2m]))' % (ns, name))


def make_deployment(sim, prometheus, ns, name="web", replicas=2, annotations=None,
                    require_nonzero_cpu=False, timeout=60):
    """Namespace ns and a Deployment ns/name of ``replicas`` pods with one
    container "app" (TARGET_RESOURCES), under load (5 requests/s) in the
    simulator; returns when Prometheus has the CPU series of every pod
    (``require_nonzero_cpu``: and each of them is above 0)."""
    sim.apply(namespace(ns))
    sim.apply(deployment(ns, name, replicas, [container("app", resources=TARGET_RESOURCES)],
                         annotations=annotations))
    sim.set_load(ns, name, 5.0)
    if require_nonzero_cpu:
        def ready(r):
            return len(r) >= replicas and all(float(x["value"][1]) > 0 for x in r)
    else:
        def ready(r):
            return len(r) >= replicas
    prometheus.wait_for(cpu_query(ns, name), ready, timeout=timeout)


def ipa_object(ns, name, items, prometheus, llmstub, annotations=None):
    """An IPA custom resource in namespace ns, as a dict for the simulator
    (sim.apply, sim.api); ``annotations`` go to its metadata."""
    obj = yaml.safe_load(ipa_yaml(name, items, prometheus.url, llmstub.url))
    obj["metadata"]["namespace"] = ns
    if annotations:
        obj["metadata"]["annotations"] = dict(annotations)
    return obj


def delete_ipa(sim, ns, name):
    """Deletes the IPA custom resource ns/name from the simulator."""
    code, body = sim.api("DELETE", "/apis/ipa.shafinhasnat.me/v1alpha1/namespaces/%s/ipas/%s"
                         % (ns, name))
    assert code == 200, body


def delete_last_ipa(sim, dm, decisions, lifecycle, ns, name):
    """Deletes IPA object ns/name, the only target of the running ipad dm,
    and checks that dm takes it out (0 targets left) and records no decision
    for it any more."""
    delete_ipa(sim, ns, name)
    lifecycle(dm, 1, timeout=15, MESSAGE="IPA objects changed: now 0 targets, 0 of them "
              "from IPA objects; 0 claims refused")
    time.sleep(0.5)   # a cycle that had started already may still record
    before = len(decisions(dm, 1, IPA_NAME=name))
    time.sleep(2.5)
    assert len(decisions(dm, 1, IPA_NAME=name)) == before


# -- polling ------------------------------------------------------------------------------
def wait_until(what, predicate, timeout=30, step=0.2):
    """predicate()'s first true value, asked every ``step`` seconds for at
    most ``timeout`` seconds; AssertionError naming ``what`` after that."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))


def wait_for_replicas(sim, ns, replicas, name="web", timeout=30, step=0.2, what=None):
    """wait_until Deployment ns/name's spec.replicas is ``replicas``."""
    return wait_until(what or "%s/%s at %d replicas" % (ns, name, replicas),
                      lambda: replicas_of(sim, ns, name) == replicas,
                      timeout=timeout, step=step)


# -- quantities --------------------------------------------------------------------------
_Q = re.compile(r"^([+-]?[0-9.]+)([eE][+-]?[0-9]+|[numkMGTPE]|[KMGTPE]i)?$")
_SUFFIX = {None: Fraction(1), "n": Fraction(1, 10**9), "u": Fraction(1, 10**6),
           "m": Fraction(1, 1000), "k": Fraction(10**3), "M": Fraction(10**6),
           "G": Fraction(10**9), "T": Fraction(10**12), "P": Fraction(10**15),
           "E": Fraction(10**18), "Ki": Fraction(2**10), "Mi": Fraction(2**20),
           "Gi": Fraction(2**30), "Ti": Fraction(2**40), "Pi": Fraction(2**50),
           "Ei": Fraction(2**60)}


def quantity(s):
    """A Kubernetes quantity as an exact Fraction ("250m" -> 1/4)."""
    if isinstance(s, (int, float)):
        return Fraction(s)
    m = _Q.match(str(s).strip())
    if not m:
        raise ValueError("not a quantity: %r" % (s,))
    num, suf = Fraction(m.group(1)), m.group(2)
    if suf and suf[0] in "eE" and len(suf) > 1:
        return num * Fraction(10) ** int(suf[1:])
    return num * _SUFFIX[suf]


def same_quantity(a, b):
    return a is not None and b is not None and quantity(a) == quantity(b)


# -- the simulator's request log ------------------------------------------------------------
def _get(r, *names, default=None):
    for n in names:
        if isinstance(r, dict) and n in r:
            return r[n]
        if hasattr(r, n):
            return getattr(r, n)
    return default


def req_method(r):
    return str(_get(r, "method", "verb", default="")).upper()


def req_path(r):
    return str(_get(r, "path", "url", "uri", default="")).split("?", 1)[0]


def req_content_type(r):
    ct = _get(r, "content_type", "contentType")
    if ct is None:
        hdrs = _get(r, "headers", default={}) or {}
        for k, v in hdrs.items():
            if k.lower() == "content-type":
                ct = v
    return (ct or "").split(";")[0].strip().lower()


def req_body(r):
    b = _get(r, "body", "json")
    if isinstance(b, (bytes, bytearray)):
        b = b.decode("utf-8", "replace")
    if isinstance(b, str):
        try:
            return json.loads(b)
        except ValueError:
            return b
    return b


def writes(requests, ns=None, name=None, resource="deployments"):
    """Mutating requests (not GET/HEAD/OPTIONS) of the simulator's log to
    ``resource`` (optionally one object, its subresources included)."""
    out = []
    for r in requests:
        if req_method(r) in ("GET", "HEAD", "OPTIONS", ""):
            continue
        p = req_path(r)
        if resource and "/%s" % resource not in p:
            continue
        if ns and "/namespaces/%s/" % ns not in p:
            continue
        if name and not re.search(r"/%s/%s(/|$)" % (re.escape(resource), re.escape(name)), p):
            continue
        out.append(r)
    return out


def all_writes(requests):
    return [r for r in requests if req_method(r) not in ("GET", "HEAD", "OPTIONS", "")]


# -- sanitizers -------------------------------------------------------------------------------
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                     "SUMMARY: AddressSanitizer", "SUMMARY: UndefinedBehaviorSanitizer",
                     "runtime error:", "ThreadSanitizer")


def sanitizer_report(text):
    """The first sanitizer report in ``text`` (from its first marker), or None."""
    for m in SANITIZER_MARKERS:
        i = text.find(m)
        if i >= 0:
            start = text.rfind("\n", 0, max(0, text.rfind("==", 0, i) - 1)) + 1
            return text[start:start + 6000]
    return None


# -- stderr records (log-target = stderr) --------------------------------------------------------
_LOGFMT = re.compile(r'([A-Za-z0-9_]+)=("(?:[^"\\]|\\.)*"|\S*)')


def parse_logfmt(line):
    out = {}
    for k, v in _LOGFMT.findall(line):
        if v.startswith('"'):
            v = json.loads(v) if _valid_json_str(v) else v[1:-1]
        out[k] = v
    return out


def _valid_json_str(v):
    try:
        json.loads(v)
        return True
    except ValueError:
        return False


def stderr_records(stderr, fmt="json"):
    """Decision/lifecycle records ipad wrote to stderr, with the journald
    field names (upper case) whatever the format."""
    recs = []
    for line in stderr.splitlines():
        line = line.strip()
        if not line:
            continue
        if fmt == "json":
            if not line.startswith("{"):
                continue
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if isinstance(rec, dict) and "MESSAGE" in rec:
                recs.append({k: (v if isinstance(v, str) else json.dumps(v)) for k, v in rec.items()})
        else:
            if "message=" not in line:
                continue
            rec = parse_logfmt(line)
            if "message" in rec:
                recs.append({k.upper(): v for k, v in rec.items()})
    return recs

def conf_for(kubeconfig, prom_url, **kw):
    """ipad.conf for one simulated cluster; the agent URL comes from the
    IPA objects' llmAgent."""
    kw.setdefault("advisor", "ipa-agent")
    return ini(kubeconfig=kubeconfig, prometheus=prom_url, **kw)


def watching_conf(kubeconfig, prometheus, namespaces, **kw):
    """conf_for with interval 1s that watches the IPA objects of
    ``namespaces`` only ("a, b" for several; the simulator is shared by a
    module's tests); ``kw`` as for conf_for."""
    return conf_for(kubeconfig, prometheus.url, interval="1s",
                    extra="watch-ipas = true\nipa-namespaces = %s\n" % namespaces, **kw)

def replicas_of(sim, ns, name):
    return int(sim.deployment(ns, name)["spec"]["replicas"])

def only_record(recs, deployment_name):
    mine = [r for r in recs if r.get("IPA_DEPLOYMENT") == deployment_name]
    assert len(mine) == 1, "expected one decision record for %s, got %s" % (
        deployment_name, json.dumps(recs, indent=1))
    return mine[0]
