#!/usr/bin/python3
"""kubesim: a Kubernetes API server simulator for ipad's tests and demo.

One process, stdlib Python (+ python3-cryptography for the PKI, PyYAML for
manifests), threaded.  Files: kubesim.py (this), kubesim_patch.py (merge,
strategic merge and JSON patch), kubesim_quantity.py (quantities),
kubesim_proto.py (protobuf request bodies), pki.py.

CLI
  /usr/bin/python3 tests/sim/kubesim.py --state-dir DIR [--port 0]
      [--metrics-port 0] [--objects FILE.yaml ...] [--token T]
      [--forbidden-token T] [--forbidden-user sim-readonly]
      [--forbidden-verbs patch,update] [--tick 0.1]
  Port 0 = a free port.  When both ports listen, DIR/ready.json is written
  (atomically) and the same JSON is printed on one stdout line:
  {"api_url", "metrics_url", "token", "pid", "forbidden_token",
   "forbidden_user", "state_dir", "ca", "kubeconfig": {kind: path}}.
  SIGTERM/SIGINT stop it (exit 0).  One log line per request on stderr.

State dir
  ca.crt ca.key server.crt server.key client.crt client.key (client cert:
  CN=sim-cert-user, O=system:masters), token, forbidden-token,
  kubeconfig-token.yaml (certificate-authority-data + token),
  kubeconfig-cert.yaml (relative paths ca.crt, client.crt, client.key),
  kubeconfig-insecure.yaml (insecure-skip-tls-verify + token),
  kubeconfig-forbidden.yaml (CA data + the forbidden user's token).
  Context "sim", cluster "sim", user "sim-user", namespace "default".

API (HTTPS, 127.0.0.1)
  Authentication: bearer token (user "sim-user", groups system:masters) or
  a client certificate signed by the CA (user = CN, groups = O).  Nothing
  or a wrong token: 401 Status (except /healthz, /livez, /readyz,
  /version).  The forbidden token's user gets the real 403 Status for the
  denied verbs (default patch, update; see /_sim/rbac).
  Resources: namespaces, nodes (3 fake), pods, events (core/v1); apps/v1
  deployments (+ /scale as autoscaling/v1 Scale, + /status), replicasets;
  services; networking.k8s.io/v1 ingresses; autoscaling/v2 (and v1)
  horizontalpodautoscalers; coordination.k8s.io/v1 leases; custom resources
  (no strategic merge patch, status subresource): ipa.shafinhasnat.me/
  v1alpha1 ipas and autoscaling.k8s.io/v1 verticalpodautoscalers.  GET, LIST (namespaced and across
  namespaces, labelSelector, fieldSelector, limit/continue), WATCH (?watch=1,
  resourceVersion, timeoutSeconds, allowWatchBookmarks; ERROR 410 Expired
  after /_sim/compact), POST, PUT (stale resourceVersion: 409), PATCH
  (merge, strategic merge, JSON patch, apply-patch+yaml approximated as a
  strategic merge; needs fieldManager), DELETE (Status Success; pods return
  the object), deletecollection, ?dryRun=All.  No-op updates do not bump
  resourceVersion (as the real server); spec changes bump generation.
  Built-in defaulting (strategy, imagePullPolicy, ...), canonical
  quantities ("0.5" -> "500m", "1024Mi" -> "1Gi"), list items without
  kind/apiVersion, validation answered as 422 Invalid with causes[] and
  field paths; errors as Status objects shaped like the real ones.
  Discovery (/version says v1.32, /api, /apis, group versions), OpenAPI v3
  (enough for kubectl's fieldValidation check; /openapi/v2 is 404), Table
  output for `kubectl get` (also in watches).  Protobuf Accept is answered
  with JSON; protobuf request bodies (kubectl's typed clients: `kubectl
  create deployment`, `kubectl auth can-i`) are decoded for Deployment,
  Scale, Event, Namespace and SelfSubjectAccessReview (kubesim_proto.py),
  other kinds get 415.

Simulated cluster
  A deployment controller (ticker, --tick): ReplicaSets "<deploy>-<10 char
  template hash>", pods "<rs>-<5 chars>" following spec.replicas, rolling
  updates honouring maxSurge/maxUnavailable (and Recreate), status
  (observedGeneration, replicas, updatedReplicas, readyReplicas,
  availableReplicas, unavailableReplicas; zero fields omitted), conditions
  Available / Progressing (NewReplicaSetCreated, ReplicaSetUpdated,
  NewReplicaSetAvailable, ProgressDeadlineExceeded), the revision
  annotation, ScalingReplicaSet events.  Pods are Running at once, Ready
  after the ready delay; containerStatuses carry restartCount and lastState.
  Deployment annotations steering the model (defaults in brackets):
    ipad-sim/ready-delay-seconds [1]    pod readiness delay
    ipad-sim/never-ready ["false"]      new pods never become Ready
    ipad-sim/rps [10]                   offered load, requests/s
                                        (POST /_sim/load overrides)
    ipad-sim/cpu-per-request [0.01]     CPU seconds per request
    ipad-sim/base-cpu [0.01]            cores per container at rest
    ipad-sim/memory-base [64Mi]         bytes, first container at rest
    ipad-sim/memory-per-rps [1Mi]       bytes per (rps per ready pod)
    ipad-sim/sidecar-memory [16Mi]      bytes, every other container
    ipad-sim/oom-after-seconds [2]      a container over its memory limit
                                        is OOMKilled after being ready this
                                        long (restartCount+1, lastState)
    ipad-sim/ingress [none]             ingress name -> ingress-nginx series
                                        (an Ingress object whose backend is
                                        a Service named like the Deployment
                                        or selecting its pods does too)
    ipad-sim/ingress-label-shape [namespace]   or exported_namespace
    ipad-sim/latency-base [0.02]        seconds, request latency at rest
  CPU of a ready pod's first container = base + rps * cpu_per_request /
  ready pods, capped at its CPU limit (beyond 60 % of the limit, CFS
  throttling rises); other containers use base.  Pods not ready get no
  traffic.  Counters are integrated continuously.

Control + metrics port (plain HTTP, no auth)
  GET  /metrics          Prometheus text, computed at scrape time:
       container_cpu_usage_seconds_total, container_memory_working_set_bytes,
       container_memory_usage_bytes {namespace,pod,container,image}: one
         series per container, container="POD" (pause), and the pod cgroup
         with container="" image="" (= the sum: the double-count trap);
       container_cpu_cfs_periods_total, container_cpu_cfs_throttled_periods_
         total, container_spec_cpu_quota, container_spec_memory_limit_bytes
         (containers with limits);
       kube_pod_container_resource_requests|limits {namespace,pod,container,
         node,resource,unit}, kube_pod_container_status_restarts_total,
         kube_pod_container_status_ready, kube_pod_container_status_last_
         terminated_reason {..,reason}, .._last_terminated_exitcode,
         kube_pod_status_ready {namespace,pod,condition};
       kube_deployment_spec_replicas, kube_deployment_status_replicas,
         .._available, .._ready, .._updated, .._unavailable,
         kube_deployment_metadata_generation,
         kube_deployment_status_observed_generation {namespace,deployment};
       nginx_ingress_controller_requests {controller_class,
         controller_namespace, controller_pod, [exported_namespace], host,
         ingress, method, namespace, path, service, status} (503 while no pod
         is ready), nginx_ingress_controller_request_duration_seconds
         histogram;
       kube_node_status_allocatable|capacity {node,resource,unit},
         node_memory_MemAvailable_bytes, node_memory_MemTotal_bytes
         {instance,node} for sim-node-1 (4 cores, 16Gi), -2, -3 (8, 32Gi).
  POST /_sim/load {"namespace","deployment","rps"}    GET /_sim/load
  GET  /_sim/requests[?since=T]  [{time,method,path,query,content_type,body,
       user,status,accept,user_agent}]            DELETE /_sim/requests
       (a watch is logged when it starts, with status 200)
  POST /_sim/fault {"method"?, "path_regex"?, "status"?, "count": 1 (-1 =
       forever), "retry_after"?, "delay"? (s), "message"?, "reason"?,
       "drop"? (close the connection)}; GET lists; DELETE clears
       "watch": true|false limits the fault to watch requests or to the
       others.  Faults of a watch's stream (with "watch": true):
         "split": S     each event line goes out as two chunks, S seconds
                        apart (a line split across reads)
         "garbage": L   the line L (true: "<html>garbage</html>") first
         "error410": true   an ERROR event (Status 410 Expired) first, then
                        the watch ends (as after a compaction)
         "drop_after": N    the connection is cut (no last chunk) after N
                        events (0: right after the headers)
         "end_after": S     the watch ends normally after S seconds (as
                        at its timeoutSeconds)
       and of a list: "limit": N   pages of at most N items (a server may
                        answer fewer than the client's limit)
  POST /_sim/objects  object, list of objects, a List or YAML documents:
       create or replace (uid kept)
  GET  /_sim/deployments/{ns}/{name}              the stored object
  GET|DELETE /_sim/objects/{group|core}/{plural}/{ns}/{name}
  GET  /_sim/pods[?namespace=&deployment=]        runtime view of pods
  POST /_sim/crash {"namespace","deployment"?,"pod"?,"container"?,
       "reason": "OOMKilled", "exit_code": 137, "count": 1}
  POST /_sim/rbac {"deny": [{"verbs": [...], "resources": ["deployments/
       scale", "*", ...]}]}                       rules for the forbidden user
  POST /_sim/tokens {"add": {"TOKEN": "user"}, "remove": ["TOKEN"]}
                                                  rotate bearer tokens
  POST /_sim/compact                              forget watch history (410)
  POST /_sim/crd {"group","version","plural","kind","namespaced","status"}

Python: `from kubesim import KubeSim` (tests/sim on sys.path); see the class
at the end of this file.
"""
import argparse
import base64
import collections
import copy
import hashlib
import http.server
import json
import math
import os
import random
import re
import secrets
import signal
import socket
import ssl
import sys
import threading
import time
import traceback
import uuid
from urllib.parse import parse_qsl, unquote, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kubesim_quantity as quantity  # noqa: E402
import kubesim_patch as patchlib  # noqa: E402
import kubesim_proto as kproto  # noqa: E402

try:
    import yaml
except ImportError:  # pragma: no cover
    yaml = None

SIM_PREFIX = "ipad-sim/"
K8S_VERSION = {"major": "1", "minor": "32", "gitVersion": "v1.32.0-kubesim",
               "gitCommit": "0000000000000000000000000000000000000000",
               "gitTreeState": "clean", "buildDate": "2024-12-11T00:00:00Z",
               "goVersion": "go1.23.3", "compiler": "gc",
               "platform": "linux/amd64"}

NODES = [  # name, cores, memory bytes, internal IP
    ("sim-node-1", 4, 16 * 1024 ** 3, "10.0.0.11"),
    ("sim-node-2", 8, 32 * 1024 ** 3, "10.0.0.12"),
    ("sim-node-3", 8, 32 * 1024 ** 3, "10.0.0.13"),
]
PAUSE_IMAGE = "registry.k8s.io/pause:3.9"
PAUSE_CPU = 0.0002          # cores
PAUSE_MEMORY = 786432       # bytes
NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


# ======================================================================
# small helpers
# ======================================================================
def now_rfc3339(t=None):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(
        time.time() if t is None else t))


def now_micro(t=None):
    t = time.time() if t is None else t
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + \
        ".%06dZ" % int((t % 1) * 1e6)


def parse_rfc3339(s):
    try:
        import calendar
        base = s[:19]
        return calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S"))
    except Exception:
        return time.time()


def human_duration(sec):
    sec = int(sec)
    if sec < 0:
        return "0s"
    if sec < 120:
        return "%ds" % sec
    m = sec // 60
    if m < 10:
        s = sec % 60
        return "%dm%ds" % (m, s) if s else "%dm" % m
    if m < 180:
        return "%dm" % m
    h = m // 60
    if h < 8:
        mm = m % 60
        return "%dh%dm" % (h, mm) if mm else "%dh" % h
    if h < 48:
        return "%dh" % h
    d = h // 24
    if d < 8:
        hh = h % 24
        return "%dd%dh" % (d, hh) if hh else "%dd" % d
    if d < 730:
        return "%dd" % d
    return "%dy%dd" % (d // 365, d % 365)


def rand_suffix(n=5):
    return "".join(random.choice(NAME_ALPHABET) for _ in range(n))


def json_bytes(obj):
    return (json.dumps(obj, separators=(",", ":")) + "\n").encode()


def jcopy(o):
    return copy.deepcopy(o)


def jequal(a, b):
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def go_map_str(d):
    return "map[string]string{" + ", ".join(
        '"%s":"%s"' % (k, d[k]) for k in sorted(d)) + "}"


def go_quote(s):
    return json.dumps(s, ensure_ascii=False)


def fmt_num(v):
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "+Inf" if v > 0 else "-Inf"
        if v == int(v) and abs(v) < 1e15:
            return str(int(v))
        return repr(v)
    return str(v)


def annot(obj, key, default=None):
    a = (obj.get("metadata") or {}).get("annotations") or {}
    return a.get(SIM_PREFIX + key, default)


def annot_float(obj, key, default):
    v = annot(obj, key)
    if v is None:
        return float(default)
    try:
        return float(quantity.value(v)) if isinstance(v, str) and \
            re.search(r'[a-zA-Z]', v) else float(v)
    except Exception:
        return float(default)


# ======================================================================
# Status errors
# ======================================================================
class ApiError(Exception):
    """Carries a Status object (and extra response headers)."""

    def __init__(self, code, reason, message, details=None, headers=None):
        Exception.__init__(self, message)
        self.code = code
        self.status = {"kind": "Status", "apiVersion": "v1", "metadata": {},
                       "status": "Failure", "message": message,
                       "reason": reason, "code": code}
        if details:
            self.status["details"] = details
        self.headers = headers or {}


def _details(res, name):
    d = {}
    if name:
        d["name"] = name
    if res is not None:
        if res.group:
            d["group"] = res.group
        d["kind"] = res.plural
    return d


def err_not_found(res, name):
    return ApiError(404, "NotFound", '%s "%s" not found' % (res.qualified,
                    name), _details(res, name))


def err_already_exists(res, name):
    return ApiError(409, "AlreadyExists", '%s "%s" already exists'
                    % (res.qualified, name), _details(res, name))


def err_conflict(res, name):
    return ApiError(
        409, "Conflict", 'Operation cannot be fulfilled on %s "%s": the '
        'object has been modified; please apply your changes to the latest '
        'version and try again' % (res.qualified, name), _details(res, name))


def err_bad_request(msg):
    return ApiError(400, "BadRequest", msg)


def err_method_not_allowed(verb):
    return ApiError(405, "MethodNotAllowed", "the server does not allow "
                    "this method on the requested resource")


class FieldErr:
    """One field.Error: kind is Invalid, Required, Duplicate, NotSupported,
    Forbidden, TooLong."""
    REASONS = {"Invalid": "FieldValueInvalid", "Required":
               "FieldValueRequired", "Duplicate": "FieldValueDuplicate",
               "NotSupported": "FieldValueNotSupported",
               "Forbidden": "FieldValueForbidden"}

    def __init__(self, kind, field, value=None, detail=""):
        self.kind, self.field, self.value, self.detail = \
            kind, field, value, detail

    def body(self):
        if self.kind == "Invalid":
            s = "Invalid value: %s" % self._val()
            if self.detail:
                s += ": " + self.detail
        elif self.kind == "Required":
            s = "Required value"
            if self.detail:
                s += ": " + self.detail
        elif self.kind == "Duplicate":
            s = "Duplicate value: %s" % self._val()
        elif self.kind == "NotSupported":
            s = "Unsupported value: %s" % self._val()
            if self.detail:
                s += ": " + self.detail
        else:
            s = "Forbidden"
            if self.detail:
                s += ": " + self.detail
        return s

    def _val(self):
        v = self.value
        if isinstance(v, str):
            return go_quote(v)
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, dict):
            return go_map_str(v)
        if v is None:
            return "null"
        return str(v)

    def text(self):
        return "%s: %s" % (self.field, self.body())

    def cause(self):
        return {"reason": self.REASONS.get(self.kind, "FieldValueInvalid"),
                "message": self.body(), "field": self.field}


def err_invalid(kind, group, name, errs):
    """422 Invalid, like errors.NewInvalid(GroupKind{group, kind}, name)."""
    qk = kind + ("." + group if group else "")
    if len(errs) == 1:
        agg = errs[0].text()
    else:
        agg = "[" + ", ".join(e.text() for e in errs) + "]"
    det = {}
    if name:
        det["name"] = name
    if group:
        det["group"] = group
    if kind:
        det["kind"] = kind
    det["causes"] = [e.cause() for e in errs]
    return ApiError(422, "Invalid", '%s "%s" is invalid: %s'
                    % (qk, name, agg), det)


def err_patch_decode(value_text, err):
    """What the server answers when a patched object cannot be decoded."""
    fe = FieldErr("Invalid", "patch", value_text, err)
    return err_invalid("", "", "", [fe])


def status_for_code(code, message=None, retry_after=None):
    reasons = {400: ("BadRequest", "the server rejected our request for an "
                     "unknown reason"),
               401: ("Unauthorized", "Unauthorized"),
               403: ("Forbidden", "forbidden"),
               404: ("NotFound", "the server could not find the requested "
                     "resource"),
               405: ("MethodNotAllowed", "the server does not allow this "
                     "method on the requested resource"),
               409: ("Conflict", "the object has been modified; please "
                     "apply your changes to the latest version and try "
                     "again"),
               410: ("Expired", "too old resource version"),
               415: ("UnsupportedMediaType", "the body of the request was "
                     "in an unknown format"),
               422: ("Invalid", "the server rejected our request due to an "
                     "error in our request"),
               429: ("TooManyRequests", "Too many requests, please try "
                     "again later."),
               500: ("InternalError", "Internal error occurred: injected "
                     "fault"),
               503: ("ServiceUnavailable", "the server is currently unable "
                     "to handle the request"),
               504: ("Timeout", "the server was unable to return a response "
                     "in the time allotted, but may still be processing the "
                     "request")}
    reason, msg = reasons.get(code, ("", "the server responded with the "
                                     "status code %d but did not return "
                                     "more information" % code))
    det = None
    headers = {}
    if retry_after is not None:
        det = {"retryAfterSeconds": int(retry_after)}
        headers["Retry-After"] = str(int(retry_after))
    e = ApiError(code, reason, message or msg, det, headers)
    return e


# ======================================================================
# resource registry
# ======================================================================
ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch",
             "update", "watch"]


class Res:
    def __init__(self, group, version, plural, kind, namespaced=True,
                 short=(), singular=None, subresources=(), categories=(),
                 verbs=ALL_VERBS, builtin=True, generation=False,
                 extra_versions=()):
        self.group, self.version, self.plural, self.kind = \
            group, version, plural, kind
        self.namespaced = namespaced
        self.short = list(short)
        self.singular = singular or kind.lower()
        self.subresources = list(subresources)
        self.categories = list(categories)
        self.verbs = list(verbs)
        self.builtin = builtin
        self.generation = generation
        self.versions = [version] + list(extra_versions)
        self.printer = None     # a CRD's additionalPrinterColumns

    @property
    def qualified(self):
        return self.plural + ("." + self.group if self.group else "")

    @property
    def api_version(self):
        return (self.group + "/" if self.group else "") + self.version

    def gv(self, version=None):
        return (self.group + "/" if self.group else "") + \
            (version or self.version)


def default_resources():
    return [
        Res("", "v1", "namespaces", "Namespace", namespaced=False,
            short=["ns"], subresources=["status"]),
        Res("", "v1", "nodes", "Node", namespaced=False, short=["no"],
            subresources=["status"]),
        Res("", "v1", "pods", "Pod", short=["po"], categories=["all"],
            subresources=["status"]),
        Res("", "v1", "events", "Event", short=["ev"]),
        Res("apps", "v1", "deployments", "Deployment", short=["deploy"],
            categories=["all"], subresources=["scale", "status"],
            generation=True),
        Res("apps", "v1", "replicasets", "ReplicaSet", short=["rs"],
            categories=["all"], subresources=["scale", "status"],
            generation=True),
        Res("autoscaling", "v2", "horizontalpodautoscalers",
            "HorizontalPodAutoscaler", short=["hpa"], categories=["all"],
            subresources=["status"], generation=True,
            extra_versions=["v1"]),
        Res("", "v1", "services", "Service", short=["svc"],
            categories=["all"], subresources=["status"]),
        Res("networking.k8s.io", "v1", "ingresses", "Ingress", short=["ing"],
            subresources=["status"], generation=True),
        Res("coordination.k8s.io", "v1", "leases", "Lease"),
        Res("authorization.k8s.io", "v1", "selfsubjectaccessreviews",
            "SelfSubjectAccessReview", namespaced=False, verbs=["create"]),
        Res("autoscaling.k8s.io", "v1", "verticalpodautoscalers",
            "VerticalPodAutoscaler", short=["vpa"], subresources=["status"],
            builtin=False, generation=True),
        Res("ipa.shafinhasnat.me", "v1alpha1", "ipas", "IPA",
            subresources=["status"], builtin=False, generation=True),
        Res("apiextensions.k8s.io", "v1", "customresourcedefinitions",
            "CustomResourceDefinition", namespaced=False, short=["crd",
                                                                 "crds"],
            subresources=["status"], generation=True),
        Res("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole",
            namespaced=False),
        Res("rbac.authorization.k8s.io", "v1", "clusterrolebindings",
            "ClusterRoleBinding", namespaced=False),
    ]


# ======================================================================
# labels and fields
# ======================================================================
def parse_label_selector(s):
    """Parse a label selector string into a list of (key, op, values)."""
    reqs = []
    if not s:
        return reqs
    parts, depth, cur = [], 0, ""
    for ch in s:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    for p in parts:
        p = p.strip()
        if not p:
            continue
        m = re.match(r'^([^\s!=]+)\s+(in|notin)\s+\((.*)\)$', p)
        if m:
            vals = [v.strip() for v in m.group(3).split(",") if v.strip()]
            reqs.append((m.group(1), m.group(2), vals))
            continue
        m = re.match(r'^([^\s!=]+)\s*(==|=|!=)\s*(\S*)$', p)
        if m:
            op = {"==": "=", "=": "=", "!=": "!="}[m.group(2)]
            reqs.append((m.group(1), op, [m.group(3)]))
            continue
        if p.startswith("!"):
            reqs.append((p[1:].strip(), "!exists", []))
            continue
        if re.match(r'^[^\s!=(),]+$', p):
            reqs.append((p, "exists", []))
            continue
        raise err_bad_request("unable to parse requirement: found '%s', "
                              "expected: identifier" % p)
    return reqs


def labels_match(reqs, labels):
    labels = labels or {}
    for key, op, vals in reqs:
        has = key in labels
        v = labels.get(key)
        if op == "=" and not (has and v == vals[0]):
            return False
        if op == "!=" and has and v == vals[0]:
            return False
        if op == "in" and not (has and v in vals):
            return False
        if op == "notin" and has and v in vals:
            return False
        if op == "exists" and not has:
            return False
        if op == "!exists" and has:
            return False
    return True


def selector_match(sel, labels):
    """metav1.LabelSelector against labels."""
    if not sel:
        return False
    labels = labels or {}
    for k, v in (sel.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in sel.get("matchExpressions") or []:
        k, op, vals = e.get("key"), e.get("operator"), e.get("values") or []
        if op == "In" and labels.get(k) not in vals:
            return False
        if op == "NotIn" and k in labels and labels[k] in vals:
            return False
        if op == "Exists" and k not in labels:
            return False
        if op == "DoesNotExist" and k in labels:
            return False
    return True


def selector_string(sel):
    parts = []
    ml = (sel or {}).get("matchLabels") or {}
    for k in sorted(ml):
        parts.append("%s=%s" % (k, ml[k]))
    for e in (sel or {}).get("matchExpressions") or []:
        op = e.get("operator")
        vals = ",".join(sorted(e.get("values") or []))
        if op == "In":
            parts.append("%s in (%s)" % (e.get("key"), vals))
        elif op == "NotIn":
            parts.append("%s notin (%s)" % (e.get("key"), vals))
        elif op == "Exists":
            parts.append(e.get("key"))
        elif op == "DoesNotExist":
            parts.append("!" + e.get("key"))
    return ",".join(parts)


def parse_field_selector(s):
    reqs = []
    if not s:
        return reqs
    for p in s.split(","):
        p = p.strip()
        if not p:
            continue
        m = re.match(r'^([^!=]+)(==|=|!=)(.*)$', p)
        if not m:
            raise err_bad_request("invalid selector: '%s'; can't understand "
                                  "'%s'" % (s, p))
        reqs.append((m.group(1).strip(), "!=" if m.group(2) == "!="
                     else "=", m.group(3).strip()))
    return reqs


def fields_match(reqs, obj):
    for path, op, val in reqs:
        cur = obj
        for k in path.split("."):
            cur = cur.get(k) if isinstance(cur, dict) else None
        if cur is None:
            cur = ""
        if isinstance(cur, bool):
            cur = "true" if cur else "false"
        cur = str(cur)
        if op == "=" and cur != val:
            return False
        if op == "!=" and cur == val:
            return False
    return True


# ======================================================================
# decoding, defaulting and validation of built-in kinds
# ======================================================================
STANDARD_RESOURCES = {"cpu", "memory", "ephemeral-storage", "storage", "pods"}
OVERCOMMIT_OK = {"cpu", "memory", "ephemeral-storage", "storage"}
DNS1123_LABEL = re.compile(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')
DNS1123_SUBDOMAIN = re.compile(
    r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')
MSG_SUBDOMAIN = ("a lowercase RFC 1123 subdomain must consist of lower case "
                 "alphanumeric characters, '-' or '.', and must start and "
                 "end with an alphanumeric character (e.g. 'example.com', "
                 "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?"
                 "(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
MSG_LABEL = ("a lowercase RFC 1123 label must consist of lower case "
             "alphanumeric characters or '-', and must start and end with an "
             "alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
             "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")


def _jtype(v):
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return "null"


def decode_check(kind, obj):
    """Errors the API server's typed JSON decoding would report (wrong
    types, bad quantities), as text, or None."""
    if not isinstance(obj, dict):
        return "json: cannot unmarshal %s into Go value of type " \
               "struct" % _jtype(obj)
    md = obj.get("metadata")
    if md is not None and not isinstance(md, dict):
        return ("json: cannot unmarshal %s into Go struct field %s.metadata "
                "of type v1.ObjectMeta" % (_jtype(md), kind))
    for f in ("labels", "annotations"):
        v = (md or {}).get(f)
        if v is not None and (not isinstance(v, dict) or any(
                not isinstance(x, str) for x in v.values())):
            return ("json: cannot unmarshal %s into Go struct field "
                    "ObjectMeta.metadata.%s of type map[string]string"
                    % (_jtype(v) if not isinstance(v, dict) else "number", f))
    spec = obj.get("spec")
    if kind in ("Deployment", "ReplicaSet", "Scale"):
        if spec is not None and not isinstance(spec, dict):
            return ("json: cannot unmarshal %s into Go struct field %s.spec "
                    "of type v1.%sSpec" % (_jtype(spec), kind, kind))
        spec = spec or {}
        r = spec.get("replicas")
        if r is not None and (isinstance(r, bool) or not isinstance(
                r, (int, float)) or r != int(r) or abs(r) > 2 ** 31 - 1):
            if isinstance(r, (int, float)) and not isinstance(r, bool):
                return ("json: cannot unmarshal number %s into Go struct "
                        "field %sSpec.spec.replicas of type int32"
                        % (fmt_num(r), kind))
            return ("json: cannot unmarshal %s into Go struct field "
                    "%sSpec.spec.replicas of type int32" % (_jtype(r), kind))
        if kind == "Scale":
            return None
        tmpl = spec.get("template")
        if tmpl is not None and not isinstance(tmpl, dict):
            return ("json: cannot unmarshal %s into Go struct field "
                    "%sSpec.spec.template of type v1.PodTemplateSpec"
                    % (_jtype(tmpl), kind))
        pspec = (tmpl or {}).get("spec")
        prefix = "spec.template.spec"
    elif kind == "Pod":
        pspec = spec
        prefix = "spec"
    else:
        return None
    if pspec is None:
        return None
    if not isinstance(pspec, dict):
        return ("json: cannot unmarshal %s into Go struct field "
                "PodTemplateSpec.spec.template.spec of type v1.PodSpec"
                % _jtype(pspec))
    for lf in ("containers", "initContainers"):
        cs = pspec.get(lf)
        if cs is None:
            continue
        if not isinstance(cs, list):
            return ("json: cannot unmarshal %s into Go struct field "
                    "PodSpec.%s.%s of type []v1.Container"
                    % (_jtype(cs), prefix, lf))
        for c in cs:
            if not isinstance(c, dict):
                return ("json: cannot unmarshal %s into Go struct field "
                        "PodSpec.%s.%s of type v1.Container"
                        % (_jtype(c), prefix, lf))
            res = c.get("resources")
            if res is None:
                continue
            if not isinstance(res, dict):
                return ("json: cannot unmarshal %s into Go struct field "
                        "Container.%s.%s.resources of type "
                        "v1.ResourceRequirements" % (_jtype(res), prefix, lf))
            for rk in ("limits", "requests"):
                m = res.get(rk)
                if m is None:
                    continue
                if not isinstance(m, dict):
                    return ("json: cannot unmarshal %s into Go struct field "
                            "ResourceRequirements.%s.%s.resources.%s of type "
                            "v1.ResourceList" % (_jtype(m), prefix, lf, rk))
                for q in m.values():
                    try:
                        quantity.parse(q)
                    except quantity.QuantityError as e:
                        return str(e)
    return None


def canonicalize_resources(pspec):
    for lf in ("containers", "initContainers"):
        for c in (pspec or {}).get(lf) or []:
            res = c.get("resources")
            if not isinstance(res, dict):
                continue
            for rk in ("limits", "requests", "claims"):
                m = res.get(rk)
                if isinstance(m, dict):
                    for k in list(m):
                        try:
                            m[k] = quantity.canonical(m[k])
                        except quantity.QuantityError:
                            pass


def default_pod_spec(ps):
    ps.setdefault("restartPolicy", "Always")
    ps.setdefault("terminationGracePeriodSeconds", 30)
    ps.setdefault("dnsPolicy", "ClusterFirst")
    ps.setdefault("securityContext", {})
    ps.setdefault("schedulerName", "default-scheduler")
    for lf in ("containers", "initContainers"):
        for c in ps.get(lf) or []:
            if not isinstance(c, dict):
                continue
            if c.get("resources") is None:
                c["resources"] = {}
            c.setdefault("terminationMessagePath", "/dev/termination-log")
            c.setdefault("terminationMessagePolicy", "File")
            img = c.get("image") or ""
            if "imagePullPolicy" not in c:
                tag = img.rsplit("/", 1)[-1]
                latest = "@" not in tag and (":" not in tag or
                                             tag.endswith(":latest"))
                c["imagePullPolicy"] = "Always" if latest else "IfNotPresent"
            for p in c.get("ports") or []:
                if isinstance(p, dict):
                    p.setdefault("protocol", "TCP")
    canonicalize_resources(ps)


def default_deployment(d):
    spec = d.setdefault("spec", {})
    if spec.get("replicas") is None:
        spec["replicas"] = 1
    spec["replicas"] = int(spec["replicas"])
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    st = spec.setdefault("strategy", {})
    st.setdefault("type", "RollingUpdate")
    if st["type"] == "RollingUpdate":
        ru = st.setdefault("rollingUpdate", {})
        ru.setdefault("maxUnavailable", "25%")
        ru.setdefault("maxSurge", "25%")
    tmpl = spec.setdefault("template", {})
    tm = tmpl.setdefault("metadata", {})
    tm.setdefault("creationTimestamp", None)
    default_pod_spec(tmpl.setdefault("spec", {}))


def validate_name(name, required=True, label=False):
    errs = []
    if not name:
        if required:
            errs.append(FieldErr("Required", "metadata.name", None,
                                 "name or generateName is required"))
        return errs
    if not isinstance(name, str):
        return [FieldErr("Invalid", "metadata.name", str(name), "")]
    rx, msg = (DNS1123_LABEL, MSG_LABEL) if label else \
        (DNS1123_SUBDOMAIN, MSG_SUBDOMAIN)
    if len(name) > (63 if label else 253) or not rx.match(name):
        errs.append(FieldErr("Invalid", "metadata.name", name, msg))
    return errs


def validate_metadata(md, namespaced):
    errs = validate_name((md or {}).get("name"))
    for f in ("labels", "annotations"):
        for k in ((md or {}).get(f) or {}):
            if not re.match(r'^([a-z0-9.-]+/)?[A-Za-z0-9]([-A-Za-z0-9_.]*'
                            r'[A-Za-z0-9])?$', k):
                errs.append(FieldErr(
                    "Invalid", "metadata.%s" % f, k,
                    "name part must consist of alphanumeric characters, "
                    "'-', '_' or '.', and must start and end with an "
                    "alphanumeric character (e.g. 'MyName',  or 'my.name',  "
                    "or '123-abc', regex used for validation is "
                    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"))
    return errs


def validate_resource_reqs(res, path):
    errs = []
    lim = res.get("limits") or {}
    req = res.get("requests") or {}
    for kind, m in (("limits", lim), ("requests", req)):
        for rn, q in m.items():
            fp = "%s.%s[%s]" % (path, kind, rn)
            if rn not in STANDARD_RESOURCES and "/" not in rn and \
                    not rn.startswith("hugepages-"):
                errs.append(FieldErr("Invalid", fp, rn, "must be a standard "
                                     "resource type or fully qualified"))
                continue
            v = quantity.value(q)
            if v < 0:
                errs.append(FieldErr("Invalid", fp, quantity.go_string(q),
                                     "must be greater than or equal to 0"))
            if rn not in OVERCOMMIT_OK and not rn.startswith("hugepages-") \
                    and v.denominator != 1:
                errs.append(FieldErr("Invalid", fp, quantity.go_string(q),
                                     "must be an integer"))
    for rn, q in req.items():
        if rn in lim:
            rv, lv = quantity.value(q), quantity.value(lim[rn])
            if rn not in OVERCOMMIT_OK and not rn.startswith("hugepages-"):
                if rv != lv:
                    errs.append(FieldErr(
                        "Invalid", path + ".requests", quantity.go_string(q),
                        "must be equal to %s limit of %s"
                        % (rn, quantity.go_string(lim[rn]))))
            elif rv > lv:
                errs.append(FieldErr(
                    "Invalid", path + ".requests", quantity.go_string(q),
                    "must be less than or equal to %s limit of %s"
                    % (rn, quantity.go_string(lim[rn]))))
        elif rn not in OVERCOMMIT_OK and "/" in rn:
            errs.append(FieldErr("Forbidden", path + ".limits", None,
                                 "Limit must be set for non overcommitable "
                                 "resources"))
    return errs


def validate_pod_spec(ps, path):
    errs = []
    cs = ps.get("containers")
    if not cs:
        errs.append(FieldErr("Required", path + ".containers"))
        return errs
    seen = set()
    for lf in ("initContainers", "containers"):
        for i, c in enumerate(ps.get(lf) or []):
            cp = "%s.%s[%d]" % (path, lf, i)
            name = c.get("name")
            if not name:
                errs.append(FieldErr("Required", cp + ".name"))
            elif not isinstance(name, str) or not DNS1123_LABEL.match(name) \
                    or len(name) > 63:
                errs.append(FieldErr("Invalid", cp + ".name", name,
                                     MSG_LABEL))
            elif name in seen:
                errs.append(FieldErr("Duplicate", cp + ".name", name))
            else:
                seen.add(name)
            if not c.get("image"):
                errs.append(FieldErr("Required", cp + ".image"))
            res = c.get("resources") or {}
            errs.extend(validate_resource_reqs(res, cp + ".resources"))
    return errs


def _int_or_percent(v, total, round_up):
    if isinstance(v, str) and v.endswith("%"):
        try:
            p = int(v[:-1])
        except ValueError:
            return None
        x = p * total / 100.0
        return int(math.ceil(x)) if round_up else int(math.floor(x))
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def validate_deployment(d, old=None):
    errs = validate_metadata(d.get("metadata"), True)
    spec = d.get("spec") or {}
    r = spec.get("replicas")
    if r is not None and r < 0:
        errs.append(FieldErr("Invalid", "spec.replicas", r,
                             "must be greater than or equal to 0"))
    sel = spec.get("selector")
    tmpl = spec.get("template") or {}
    tlabels = (tmpl.get("metadata") or {}).get("labels") or {}
    if not sel:
        errs.append(FieldErr("Required", "spec.selector"))
    elif not (sel.get("matchLabels") or sel.get("matchExpressions")):
        errs.append(FieldErr("Invalid", "spec.selector", "v1.LabelSelector{"
                             "MatchLabels:map[string]string(nil), Match"
                             "Expressions:[]v1.LabelSelectorRequirement(nil)}",
                             "empty selector is invalid for deployment"))
    elif not selector_match(sel, tlabels):
        fe = FieldErr("Invalid", "spec.template.metadata.labels", tlabels,
                      "`selector` does not match template `labels`")
        errs.append(fe)
    if old is not None and sel and not jequal(
            sel, (old.get("spec") or {}).get("selector")):
        errs.append(FieldErr("Invalid", "spec.selector", "v1.LabelSelector{"
                             "MatchLabels:%s}" % go_map_str(
                                 sel.get("matchLabels") or {}),
                             "field is immutable"))
    errs.extend(validate_pod_spec(tmpl.get("spec") or {},
                                  "spec.template.spec"))
    st = spec.get("strategy") or {}
    if st.get("type") not in (None, "RollingUpdate", "Recreate"):
        errs.append(FieldErr("NotSupported", "spec.strategy.type",
                             st.get("type"), 'supported values: "Recreate", '
                             '"RollingUpdate"'))
    ru = st.get("rollingUpdate") or {}
    if st.get("type") == "RollingUpdate" and ru:
        ms = _int_or_percent(ru.get("maxSurge", "25%"), 100, True)
        mu = _int_or_percent(ru.get("maxUnavailable", "25%"), 100, False)
        if ms == 0 and mu == 0:
            errs.append(FieldErr("Invalid",
                                 "spec.strategy.rollingUpdate.maxUnavailable",
                                 ru.get("maxUnavailable"),
                                 "may not be 0 when `maxSurge` is 0"))
    if st.get("type") == "Recreate" and st.get("rollingUpdate"):
        errs.append(FieldErr("Forbidden", "spec.strategy.rollingUpdate",
                             None, "may not be specified when strategy "
                             "`type` is 'Recreate'"))
    return errs


def validate_scale(s):
    r = (s.get("spec") or {}).get("replicas")
    if r is not None and r < 0:
        return [FieldErr("Invalid", "spec.replicas", r,
                         "must be greater than or equal to 0")]
    return []


def template_hash(tmpl):
    h = hashlib.sha256(json.dumps(tmpl, sort_keys=True).encode()).digest()
    return "".join(NAME_ALPHABET[b % len(NAME_ALPHABET)] for b in h[:10])


# ======================================================================
# the simulated workload: pods, containers, load, counters
# ======================================================================
def _q(v):
    try:
        return float(quantity.value(v)) if v is not None else None
    except Exception:
        return None


class ContainerRT:
    def __init__(self, spec, t, delay, first):
        self.name = spec.get("name")
        self.image = spec.get("image", "")
        res = spec.get("resources") or {}
        lim, req = res.get("limits") or {}, res.get("requests") or {}
        self.cpu_limit = _q(lim.get("cpu"))
        self.mem_limit = _q(lim.get("memory"))
        self.cpu_request = _q(req.get("cpu", lim.get("cpu")))
        self.mem_request = _q(req.get("memory", lim.get("memory")))
        self.first = first
        self.cpu = 0.0          # counter of the current container
        self.periods = 0.0
        self.throttled = 0.0
        self.restarts = 0
        self.started = t
        self.ready_at = t + delay
        self.ready = False
        self.ready_since = None
        self.last_terminated = None
        self.cid = "containerd://" + secrets.token_hex(32)
        self.waiting = None     # reason while not running

    def restart(self, t, delay, reason, code):
        self.last_terminated = {"exitCode": code, "reason": reason,
                                "startedAt": now_rfc3339(self.started),
                                "finishedAt": now_rfc3339(t),
                                "containerID": self.cid}
        self.restarts += 1
        self.started = t
        self.ready = False
        self.ready_since = None
        self.ready_at = t + delay
        self.cpu = 0.0
        self.cid = "containerd://" + secrets.token_hex(32)


class PodRT:
    def __init__(self, ns, name, dep, h, node, ip, t, delay, containers,
                 never_ready=False):
        self.ns, self.name, self.dep, self.hash = ns, name, dep, h
        self.node, self.ip, self.created = node, ip, t
        self.delay = delay
        self.never_ready = never_ready
        self.containers = [ContainerRT(c, t, delay, i == 0)
                           for i, c in enumerate(containers)]
        self.cpu_pod = 0.0
        self.cpu_pause = 0.0
        self.ready_since = None

    @property
    def ready(self):
        return all(c.ready for c in self.containers)

    def available(self, t, min_ready):
        return self.ready and self.ready_since is not None and \
            t - self.ready_since >= min_ready


class DepModel:
    """Load and resource model of one Deployment at one instant."""

    def __init__(self, sim, dep, pods):
        self.rps = sim.load.get(_key(dep), None)
        if self.rps is None:
            self.rps = annot_float(dep, "rps", 10)
        self.cpr = annot_float(dep, "cpu-per-request", 0.01)
        self.base = annot_float(dep, "base-cpu", 0.01)
        self.mem_base = annot_float(dep, "memory-base", 64 * 1024 ** 2)
        self.mem_per_rps = annot_float(dep, "memory-per-rps", 1024 ** 2)
        self.side_mem = annot_float(dep, "sidecar-memory", 16 * 1024 ** 2)
        self.latency = annot_float(dep, "latency-base", 0.02)
        self.oom_after = annot_float(dep, "oom-after-seconds", 2)
        self.ingresses = sim.ingresses_for(_key(dep), dep)
        self.shape = annot(dep, "ingress-label-shape", "namespace")
        self.ready = [p for p in pods if p.ready]
        self.n_ready = len(self.ready)

    def share(self):
        return self.rps / self.n_ready if self.n_ready else 0.0

    def cpu_demand(self, pod, c):
        d = self.base
        if c.first and pod.ready and self.n_ready:
            d += self.rps * self.cpr / self.n_ready
        return d

    def cpu_usage(self, pod, c):
        d = self.cpu_demand(pod, c)
        if c.cpu_limit is not None:
            return min(d, c.cpu_limit)
        return d

    def throttle_fraction(self, pod, c):
        if not c.cpu_limit:
            return 0.0
        x = self.cpu_demand(pod, c) / c.cpu_limit
        return max(0.0, min(1.0, (x - 0.6) / 0.6))

    def mem_demand(self, pod, c):
        if not c.first:
            return self.side_mem
        m = self.mem_base
        if pod.ready and self.n_ready:
            m += self.mem_per_rps * self.rps / self.n_ready
        return m

    def mem(self, pod, c):
        m = self.mem_demand(pod, c)
        if c.mem_limit is not None:
            m = min(m, c.mem_limit)
        return m

    def utilization(self):
        """Per-pod CPU demand of the first container over its capacity."""
        if not self.ready:
            return 1.0
        p = self.ready[0]
        c = p.containers[0]
        cap = c.cpu_limit or c.cpu_request or 1.0
        return self.cpu_demand(p, c) / cap


def _key(obj):
    md = obj.get("metadata") or {}
    return (md.get("namespace") or "", md.get("name"))


LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]


class IngressRT:
    def __init__(self):
        self.requests = collections.defaultdict(float)   # status -> count
        self.buckets = [0.0] * (len(LATENCY_BUCKETS) + 1)
        self.sum = 0.0
        self.count = 0.0


class Simulation:
    """The deployment + replicaset controller, kubelet and the metric
    sources, run from one ticker thread under the cluster lock."""

    def __init__(self, cluster, tick=0.1):
        self.c = cluster
        self.tick_s = tick
        self.pods = {}                 # (ns, pod name) -> PodRT
        self.by_dep = collections.defaultdict(dict)   # (ns, dep) -> {name: rt}
        self.rs = {}                   # (ns, dep) -> {hash: info}
        self.load = {}                 # (ns, dep) -> rps
        self.ingress = {}              # (ns, dep) -> IngressRT
        self.last = time.time()
        self.ip_counter = 1
        self.wake = threading.Event()
        self.stop_ev = threading.Event()
        self.progress = {}             # (ns, dep) -> new-RS flag
        self.last_progress = {}        # (ns, dep) -> time of last progress

    # ---------------------------------------------------------- counters
    def advance(self, t=None):
        t = time.time() if t is None else t
        dt = t - self.last
        if dt <= 0:
            return
        self.last = t
        for dk, dep in self.c.objs_of("apps", "deployments").items():
            pods = self.pods_of(dk)
            m = DepModel(self, dep, pods)
            for p in pods:
                tot = 0.0
                for c in p.containers:
                    u = m.cpu_usage(p, c)
                    c.cpu += u * dt
                    tot += u
                    if c.cpu_limit:
                        per = 10.0 * dt
                        c.periods += per
                        c.throttled += per * m.throttle_fraction(p, c)
                p.cpu_pause += PAUSE_CPU * dt
                p.cpu_pod += (tot + PAUSE_CPU) * dt
            for iname, _host, _svc in m.ingresses:
                ing = self.ingress.setdefault((dk, iname), IngressRT())
                n = m.rps * dt / len(m.ingresses)
                if n <= 0:
                    continue
                if m.n_ready == 0:
                    ing.requests["503"] += n
                    continue
                ing.requests["200"] += n
                u = min(m.utilization(), 0.95)
                mean = m.latency / max(0.05, 1.0 - u)
                for i, le in enumerate(LATENCY_BUCKETS):
                    ing.buckets[i] += n * (1.0 - math.exp(-le / mean))
                ing.buckets[-1] += n
                ing.sum += n * mean
                ing.count += n

    def ingresses_for(self, dk, dep):
        """[(ingress name, host, service)] of the ingress-nginx Ingresses in front of
        a Deployment: the ipad-sim/ingress annotation, and Ingress objects
        whose backend service is named like the Deployment or is a Service
        selecting its pods."""
        out = []
        a = annot(dep, "ingress")
        if a:
            out.append((a, "%s.example.com" % a, dk[1]))
        ns = dk[0]
        tlabels = ((dep.get("spec") or {}).get("template") or {}).get(
            "metadata", {}).get("labels") or {}
        for (ins, iname), ing in sorted(self.c.objs_of(
                "networking.k8s.io", "ingresses").items()):
            if ins != ns or any(x[0] == iname for x in out):
                continue
            spec = ing.get("spec") or {}
            backends = [(None, spec.get("defaultBackend"))]
            for rule in spec.get("rules") or []:
                for path in ((rule or {}).get("http") or {}).get(
                        "paths") or []:
                    backends.append(((rule or {}).get("host"),
                                     (path or {}).get("backend")))
            for host, b in backends:
                svc = ((b or {}).get("service") or {}).get("name")
                if not svc:
                    continue
                sobj = self.c.raw_get("", "services", ns, svc)
                sel = ((sobj or {}).get("spec") or {}).get("selector")
                if svc == dk[1] or (sel and all(tlabels.get(k) == v
                                                for k, v in sel.items())):
                    out.append((iname, host or "%s.example.com" % iname, svc))
                    break
        return out

    def pods_of(self, dk):
        return list(self.by_dep.get(dk, {}).values())

    def set_load(self, ns, name, rps):
        with self.c.lock:
            self.advance()
            self.load[(ns, name)] = float(rps)

    # ---------------------------------------------------------- ticker
    def run(self):
        while not self.stop_ev.is_set():
            self.wake.wait(self.tick_s)
            self.wake.clear()
            try:
                with self.c.lock:
                    self.tick()
            except Exception:
                traceback.print_exc()

    def tick(self):
        t = time.time()
        self.advance(t)
        deps = self.c.objs_of("apps", "deployments")
        for dk in list(self.rs):
            if dk not in deps:
                self.forget_deployment(dk)
        for pk in list(self.pods):
            p = self.pods[pk]
            if (p.ns, p.dep) not in deps:
                self.delete_pod(p)
        for dk, dep in list(deps.items()):
            self.reconcile(dk, dep, t)

    def forget_deployment(self, dk):
        for p in self.pods_of(dk):
            self.delete_pod(p)
        for h, info in self.rs.pop(dk, {}).items():
            self.c.sim_delete("apps", "replicasets", dk[0], info["name"])
        for k in [k for k in self.ingress if k[0] == dk]:
            del self.ingress[k]
        self.progress.pop(dk, None)
        self.last_progress.pop(dk, None)

    # ---------------------------------------------------------- pods
    def node_for(self):
        counts = {n[0]: 0 for n in NODES}
        for p in self.pods.values():
            counts[p.node] = counts.get(p.node, 0) + 1
        return min(NODES, key=lambda n: (counts[n[0]] / n[1], n[0]))

    def create_pod(self, dk, dep, h, info, t):
        ns, dname = dk
        tmpl = dep["spec"]["template"]
        for _ in range(20):
            name = "%s-%s-%s" % (dname, h, rand_suffix())
            if (ns, name) not in self.pods:
                break
        node = self.node_for()
        self.ip_counter += 1
        ip = "10.244.%d.%d" % (NODES.index(node) + 1,
                               (self.ip_counter % 250) + 2)
        delay = annot_float(dep, "ready-delay-seconds", 1)
        never = str(annot(dep, "never-ready", "false")).lower() == "true"
        spec = jcopy(tmpl.get("spec") or {})
        for cont in spec.get("containers") or []:
            res = cont.setdefault("resources", {})
            lim = res.get("limits") or {}
            req = res.get("requests")
            if lim:
                req = res.setdefault("requests", {})
                for k, v in lim.items():
                    req.setdefault(k, v)
        spec["nodeName"] = node[0]
        spec.setdefault("serviceAccountName", "default")
        spec.setdefault("enableServiceLinks", True)
        spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
        spec.setdefault("priority", 0)
        spec.setdefault("tolerations", [
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists",
             "effect": "NoExecute", "tolerationSeconds": 300},
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists",
             "effect": "NoExecute", "tolerationSeconds": 300}])
        labels = dict((tmpl.get("metadata") or {}).get("labels") or {})
        labels["pod-template-hash"] = h
        md = {"name": name, "generateName": "%s-%s-" % (dname, h),
              "namespace": ns, "labels": labels,
              "ownerReferences": [{
                  "apiVersion": "apps/v1", "kind": "ReplicaSet",
                  "name": info["name"], "uid": info["uid"],
                  "controller": True, "blockOwnerDeletion": True}]}
        ann = (tmpl.get("metadata") or {}).get("annotations")
        if ann:
            md["annotations"] = dict(ann)
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": md,
               "spec": spec, "status": {}}
        rt = PodRT(ns, name, dname, h, node[0], ip, t, delay,
                   spec.get("containers") or [], never)
        self.pods[(ns, name)] = rt
        self.by_dep[dk][name] = rt
        pod["status"] = self.pod_status(rt, pod)
        self.c.sim_put("", "pods", pod, create=True)
        return rt

    def qos(self, pod):
        cs = pod["spec"].get("containers") or []
        anyset, guaranteed = False, True
        for c in cs:
            r = c.get("resources") or {}
            lim, req = r.get("limits") or {}, r.get("requests") or {}
            if lim or req:
                anyset = True
            for k in ("cpu", "memory"):
                if k not in lim or req.get(k, lim.get(k)) != lim.get(k):
                    guaranteed = False
        if not anyset:
            return "BestEffort"
        return "Guaranteed" if guaranteed else "Burstable"

    def pod_status(self, rt, pod):
        t0 = now_rfc3339(rt.created)
        ready = rt.ready
        cstat = []
        for c in rt.containers:
            s = {"name": c.name, "image": c.image,
                 "imageID": "docker.io/library/%s@sha256:%s" % (
                     c.image.split(":")[0].split("/")[-1],
                     hashlib.sha256(c.image.encode()).hexdigest()),
                 "containerID": c.cid, "ready": c.ready, "started": True,
                 "restartCount": c.restarts,
                 "state": {"running": {"startedAt": now_rfc3339(c.started)}},
                 "lastState": {}}
            if c.last_terminated:
                s["lastState"] = {"terminated": dict(c.last_terminated)}
            cstat.append(s)
        rtime = now_rfc3339(rt.ready_since) if ready and rt.ready_since \
            else t0
        conds = [
            {"type": "PodReadyToStartContainers", "status": "True",
             "lastProbeTime": None, "lastTransitionTime": t0},
            {"type": "Initialized", "status": "True", "lastProbeTime": None,
             "lastTransitionTime": t0},
            {"type": "Ready", "status": "True" if ready else "False",
             "lastProbeTime": None, "lastTransitionTime": rtime},
            {"type": "ContainersReady", "status": "True" if ready else
             "False", "lastProbeTime": None, "lastTransitionTime": rtime},
            {"type": "PodScheduled", "status": "True", "lastProbeTime": None,
             "lastTransitionTime": t0}]
        if not ready:
            notready = [c.name for c in rt.containers if not c.ready]
            for cd in conds[2:4]:
                cd["reason"] = "ContainersNotReady"
                cd["message"] = "containers with unready status: [%s]" % \
                    " ".join(notready)
        hostip = [n[3] for n in NODES if n[0] == rt.node][0]
        return {"phase": "Running", "conditions": conds, "hostIP": hostip,
                "hostIPs": [{"ip": hostip}], "podIP": rt.ip,
                "podIPs": [{"ip": rt.ip}], "startTime": t0,
                "containerStatuses": cstat, "qosClass": self.qos(pod)}

    def sync_pod(self, rt):
        pod = self.c.raw_get("", "pods", rt.ns, rt.name)
        if pod is None:
            return
        st = self.pod_status(rt, pod)
        if not jequal(st, pod.get("status")):
            pod = jcopy(pod)
            pod["status"] = st
            self.c.sim_put("", "pods", pod)

    def delete_pod(self, rt):
        self.pods.pop((rt.ns, rt.name), None)
        self.by_dep.get((rt.ns, rt.dep), {}).pop(rt.name, None)
        self.c.sim_delete("", "pods", rt.ns, rt.name)

    def pod_deleted_via_api(self, ns, name):
        rt = self.pods.pop((ns, name), None)
        if rt is not None:
            self.by_dep.get((rt.ns, rt.dep), {}).pop(rt.name, None)

    def crash(self, ns, dep=None, pod=None, container=None,
              reason="OOMKilled", exit_code=137, count=1):
        """Restart containers as if they had died; returns pod names."""
        with self.c.lock:
            self.advance()
            done = []
            cands = sorted(self.pods.values(), key=lambda p: p.name)
            for p in cands:
                if p.ns != ns or (dep and p.dep != dep) or \
                        (pod and p.name != pod):
                    continue
                if len(done) >= count:
                    break
                for c in p.containers:
                    if container is None and not c.first:
                        continue
                    if container is not None and c.name != container:
                        continue
                    c.restart(time.time(), p.delay, reason, exit_code)
                done.append(p.name)
                self.sync_pod(p)
            self.wake.set()
            return done

    # ---------------------------------------------------------- controller
    def reconcile(self, dk, dep, t):
        ns, dname = dk
        spec = dep.get("spec") or {}
        desired = int(spec.get("replicas", 1))
        tmpl = spec.get("template") or {}
        h = template_hash(tmpl)
        rsmap = self.rs.setdefault(dk, {})
        pods = self.pods_of(dk)
        before = collections.Counter(p.hash for p in pods)
        paused = bool(spec.get("paused"))
        events = []
        if h not in rsmap and not (paused and rsmap):
            rev = max([i["revision"] for i in rsmap.values()] or [0]) + 1
            rsmap[h] = {"name": "%s-%s" % (dname, h), "uid": str(uuid.uuid4()),
                        "revision": rev, "template": jcopy(tmpl),
                        "created": t}
            self.progress[dk] = ("NewReplicaSetCreated", t)
            self.c.sim_put("apps", "replicasets",
                           self.rs_object(dk, dep, h, rsmap[h], 0),
                           create=True)
        elif h in rsmap and not paused:
            top = max(i["revision"] for i in rsmap.values())
            if rsmap[h]["revision"] != top and any(
                    p.hash != h for p in pods) or \
                    (rsmap[h]["revision"] != top and not pods):
                rsmap[h]["revision"] = top + 1
        if paused and h not in rsmap:
            h = max(rsmap, key=lambda x: rsmap[x]["revision"])
        min_ready = float(spec.get("minReadySeconds") or 0)

        # kubelet: readiness and OOM
        m = DepModel(self, dep, pods)
        for p in pods:
            changed = False
            for c in p.containers:
                if not c.ready and not p.never_ready and t >= c.ready_at:
                    c.ready = True
                    c.ready_since = t
                    changed = True
                if c.ready and c.mem_limit is not None and \
                        m.mem_demand(p, c) > c.mem_limit and \
                        t - c.ready_since >= m.oom_after:
                    c.restart(t, p.delay, "OOMKilled", 137)
                    changed = True
            if changed:
                was = p.ready_since
                p.ready_since = t if p.ready else None
                if p.ready and was:
                    p.ready_since = was
                self.sync_pod(p)

        new = [p for p in pods if p.hash == h]
        old = [p for p in pods if p.hash != h]
        st = spec.get("strategy") or {}

        def order_for_delete(ps):
            return sorted(ps, key=lambda p: (p.ready, -p.created))

        if st.get("type") == "Recreate" and old:
            for p in old:
                self.delete_pod(p)
            old = []
        elif not old or paused:
            if paused and old:
                groups = collections.defaultdict(list)
                for p in pods:
                    groups[p.hash].append(p)
                h = max(groups, key=lambda x: rsmap.get(x, {}).get(
                    "revision", 0))
                new = groups[h]
            if len(new) < desired:
                for _ in range(desired - len(new)):
                    new.append(self.create_pod(dk, dep, h, rsmap[h], t))
            elif len(new) > desired:
                for p in order_for_delete(new)[:len(new) - desired]:
                    self.delete_pod(p)
                    new.remove(p)
        else:
            ru = st.get("rollingUpdate") or {}
            surge = _int_or_percent(ru.get("maxSurge", "25%"), desired, True)
            unav = _int_or_percent(ru.get("maxUnavailable", "25%"), desired,
                                   False)
            surge = 1 if surge is None else surge
            unav = 0 if unav is None else unav
            if surge == 0 and unav == 0:
                unav = 1
            total = len(new) + len(old)
            if len(new) < desired:
                room = desired + surge - total
                for _ in range(max(0, min(room, desired - len(new)))):
                    new.append(self.create_pod(dk, dep, h, rsmap[h], t))
            elif len(new) > desired:
                for p in order_for_delete(new)[:len(new) - desired]:
                    self.delete_pod(p)
                    new.remove(p)
            total = len(new) + len(old)
            min_avail = desired - unav
            new_unavail = len([p for p in new
                               if not p.available(t, min_ready)])
            budget = total - min_avail - new_unavail
            for p in order_for_delete(old):
                unhealthy = not p.available(t, min_ready)
                if budget <= 0 and not unhealthy:
                    break
                if budget <= 0 and unhealthy and \
                        len(new) + len(old) <= desired:
                    break
                self.delete_pod(p)
                old.remove(p)
                budget -= 1

        pods = self.pods_of(dk)
        after = collections.Counter(p.hash for p in pods)
        for hh in set(before) | set(after):
            if before[hh] != after[hh] and hh in rsmap:
                events.append((hh, before[hh], after[hh]))
        for hh, a, b in events:
            self.c.sim_event(dep, "ScalingReplicaSet", "Scaled %s replica set "
                             "%s from %d to %d" % ("up" if b > a else "down",
                                                   rsmap[hh]["name"], a, b))
        # replica sets
        limit = int(spec.get("revisionHistoryLimit", 10))
        old_rs = sorted([x for x in rsmap if x != h and after[x] == 0],
                        key=lambda x: rsmap[x]["revision"])
        while len(old_rs) > limit:
            x = old_rs.pop(0)
            self.c.sim_delete("apps", "replicasets", ns, rsmap[x]["name"])
            del rsmap[x]
        for hh, info in rsmap.items():
            obj = self.rs_object(dk, dep, hh, info, after[hh])
            cur = self.c.raw_get("apps", "replicasets", ns, info["name"])
            if cur is None:
                self.c.sim_put("apps", "replicasets", obj, create=True)
            elif not jequal({k: obj[k] for k in ("spec", "status")},
                            {k: cur.get(k) for k in ("spec", "status")}) or \
                    not jequal(obj["metadata"].get("annotations"),
                               cur["metadata"].get("annotations")):
                cur = jcopy(cur)
                cur["spec"], cur["status"] = obj["spec"], obj["status"]
                cur["metadata"]["annotations"] = \
                    obj["metadata"]["annotations"]
                self.c.sim_put("apps", "replicasets", cur)
        self.update_status(dk, dep, h, rsmap, pods, t, min_ready)

    def rs_object(self, dk, dep, h, info, n):
        ns, dname = dk
        pods = [p for p in self.pods_of(dk) if p.hash == h]
        tmpl = jcopy(info["template"])
        labels = dict((tmpl.get("metadata") or {}).get("labels") or {})
        labels["pod-template-hash"] = h
        tmpl.setdefault("metadata", {})["labels"] = labels
        sel = jcopy(dep["spec"].get("selector") or {})
        sel.setdefault("matchLabels", {})["pod-template-hash"] = h
        status = {"replicas": len(pods),
                  "fullyLabeledReplicas": len(pods),
                  "readyReplicas": len([p for p in pods if p.ready]),
                  "availableReplicas": len([p for p in pods if p.available(
                      time.time(), float(dep["spec"].get(
                          "minReadySeconds") or 0))]),
                  "observedGeneration": 1}
        status = {k: v for k, v in status.items() if v}
        status["replicas"] = len(pods)
        return {"apiVersion": "apps/v1", "kind": "ReplicaSet",
                "metadata": {
                    "name": info["name"], "namespace": ns,
                    "uid": info["uid"],
                    "labels": labels,
                    "annotations": {
                        "deployment.kubernetes.io/desired-replicas":
                            str(dep["spec"].get("replicas", 1)),
                        "deployment.kubernetes.io/max-replicas":
                            str(dep["spec"].get("replicas", 1) + 1),
                        "deployment.kubernetes.io/revision":
                            str(info["revision"])},
                    "ownerReferences": [{
                        "apiVersion": "apps/v1", "kind": "Deployment",
                        "name": dname, "uid": dep["metadata"].get("uid"),
                        "controller": True, "blockOwnerDeletion": True}]},
                "spec": {"replicas": n, "selector": sel, "template": tmpl},
                "status": status}

    def update_status(self, dk, dep, h, rsmap, pods, t, min_ready):
        spec = dep["spec"]
        desired = int(spec.get("replicas", 1))
        new = [p for p in pods if p.hash == h]
        ready = [p for p in pods if p.ready]
        avail = [p for p in pods if p.available(t, min_ready)]
        st = spec.get("strategy") or {}
        ru = st.get("rollingUpdate") or {}
        unav = _int_or_percent(ru.get("maxUnavailable", "25%"), desired,
                               False) if st.get("type") != "Recreate" else 0
        unav = unav or 0
        status = {"observedGeneration": dep["metadata"].get("generation", 1),
                  "replicas": len(pods), "updatedReplicas": len(new),
                  "readyReplicas": len(ready),
                  "availableReplicas": len(avail),
                  "unavailableReplicas": max(0, desired - len(avail))}
        status = {k: v for k, v in status.items() if v}
        old = (dep.get("status") or {})
        oldconds = {c.get("type"): c for c in old.get("conditions") or []}
        now = now_rfc3339(t)
        rsname = rsmap[h]["name"] if h in rsmap else dname_of(dk)
        complete = len(new) == desired and len(pods) == desired and \
            len([p for p in new if p.available(t, min_ready)]) == desired
        # Available
        if len(avail) >= desired - unav:
            a = ("True", "MinimumReplicasAvailable",
                 "Deployment has minimum availability.")
        else:
            a = ("False", "MinimumReplicasUnavailable",
                 "Deployment does not have minimum availability.")
        # Progressing (deployment_util: DeploymentComplete,
        # DeploymentProgressing, DeploymentTimedOut)
        flag = self.progress.pop(dk, None)
        deadline = spec.get("progressDeadlineSeconds")
        prev = oldconds.get("Progressing")
        progressed = status.get("updatedReplicas", 0) > old.get(
            "updatedReplicas", 0) or status.get("replicas", 0) < old.get(
            "replicas", 0) or status.get("readyReplicas", 0) > old.get(
            "readyReplicas", 0) or status.get("availableReplicas", 0) > \
            old.get("availableReplicas", 0)
        if spec.get("paused"):
            p = ("Unknown", "DeploymentPaused", "Deployment is paused")
        elif complete:
            p = ("True", "NewReplicaSetAvailable",
                 'ReplicaSet "%s" has successfully progressed.' % rsname)
        elif flag and flag[0] == "NewReplicaSetCreated":
            self.last_progress[dk] = t
            p = ("True", "NewReplicaSetCreated",
                 'Created new replica set "%s"' % rsname)
        elif progressed or flag or prev is None:
            p = ("True", "ReplicaSetUpdated",
                 'ReplicaSet "%s" is progressing.' % rsname)
            self.last_progress[dk] = t
            if prev is not None and prev.get("reason") == "ReplicaSetUpdated":
                prev = dict(prev, lastUpdateTime=None)
        elif prev.get("reason") in ("NewReplicaSetAvailable",
                                    "ProgressDeadlineExceeded"):
            p = (prev["status"], prev["reason"], prev["message"])
        elif deadline is not None and t - self.last_progress.get(
                dk, parse_rfc3339(prev.get("lastUpdateTime") or now)) > \
                float(deadline):
            p = ("False", "ProgressDeadlineExceeded",
                 'ReplicaSet "%s" has timed out progressing.' % rsname)
        else:
            p = (prev["status"], prev["reason"], prev["message"])
        oldconds["Progressing"] = prev
        conds = []
        for typ, (s, r, msg) in (("Available", a), ("Progressing", p)):
            o = oldconds.get(typ)
            c = {"type": typ, "status": s, "lastUpdateTime": now,
                 "lastTransitionTime": now, "reason": r, "message": msg}
            if o:
                if o.get("status") == s and o.get("lastTransitionTime"):
                    c["lastTransitionTime"] = o.get("lastTransitionTime", now)
                if o.get("status") == s and o.get("reason") == r and \
                        o.get("message") == msg and o.get("lastUpdateTime"):
                    c["lastUpdateTime"] = o["lastUpdateTime"]
            conds.append(c)
        status["conditions"] = conds
        if not jequal(status, old):
            d = jcopy(dep)
            d["status"] = status
            rev = str(rsmap[h]["revision"]) if h in rsmap else "1"
            ann = d["metadata"].setdefault("annotations", {})
            ann["deployment.kubernetes.io/revision"] = rev
            self.c.sim_put("apps", "deployments", d)
        else:
            rev = str(rsmap[h]["revision"]) if h in rsmap else "1"
            ann = (dep["metadata"].get("annotations") or {})
            if ann.get("deployment.kubernetes.io/revision") != rev:
                d = jcopy(dep)
                d["metadata"].setdefault("annotations", {})[
                    "deployment.kubernetes.io/revision"] = rev
                self.c.sim_put("apps", "deployments", d)


_FILTER = re.compile(r'^([^\[]*)\[\?\(@\.([A-Za-z0-9_]+)\s*==\s*"([^"]*)"\)\]$')


def printer_jsonpath(obj, path):
    """The value of a CRD printer column's jsonPath in obj, or None: dotted
    fields, and a list filtered by one field, as the API server allows
    (.status.conditions[?(@.type=="Ready")].status)."""
    v = obj
    for k in re.findall(r'[^.\[]+(?:\[[^\]]*\])?', path):
        m = _FILTER.match(k)
        if m:
            lst = v.get(m.group(1)) if isinstance(v, dict) else None
            v = next((x for x in lst or [] if isinstance(x, dict)
                      and str(x.get(m.group(2))) == m.group(3)), None)
        else:
            v = v.get(k) if isinstance(v, dict) else None
    return v


def dname_of(dk):
    return dk[1]


# ======================================================================
# Table output (what `kubectl get` shows)
# ======================================================================
def _col(name, typ="string", fmt="", desc="", priority=0):
    return {"name": name, "type": typ, "format": fmt, "description": desc,
            "priority": priority}


NONE = object()     # a printer column without a value (null cell)


def table_for(res, objs, rv):
    t = time.time()
    kind = res.kind
    if kind == "Deployment":
        cols = [_col("Name", fmt="name", desc="Name must be unique within a "
                     "namespace."),
                _col("Ready", desc="Number of the pod with ready state"),
                _col("Up-to-date", "integer", desc="Total number of non-"
                     "terminated pods targeted by this deployment that have "
                     "the desired template spec."),
                _col("Available", "integer", desc="Total number of available "
                     "pods (ready for at least minReadySeconds) targeted by "
                     "this deployment."),
                _col("Age", desc="CreationTimestamp is a timestamp "
                     "representing the server time when this object was "
                     "created."),
                _col("Containers", desc="Names of each container in the "
                     "template.", priority=1),
                _col("Images", desc="Images referenced by each container in "
                     "the template.", priority=1),
                _col("Selector", desc="Label selector for pods.",
                     priority=1)]

        def row(o):
            st, sp = o.get("status") or {}, o.get("spec") or {}
            cs = ((sp.get("template") or {}).get("spec") or {}).get(
                "containers") or []
            return ["%d/%d" % (st.get("readyReplicas", 0),
                               sp.get("replicas", 0)),
                    st.get("updatedReplicas", 0),
                    st.get("availableReplicas", 0),
                    None,
                    ",".join(c.get("name", "") for c in cs),
                    ",".join(c.get("image", "") for c in cs),
                    selector_string(sp.get("selector"))]
    elif kind == "ReplicaSet":
        cols = [_col("Name", fmt="name"), _col("Desired", "integer"),
                _col("Current", "integer"), _col("Ready", "integer"),
                _col("Age")]

        def row(o):
            st, sp = o.get("status") or {}, o.get("spec") or {}
            return [sp.get("replicas", 0), st.get("replicas", 0),
                    st.get("readyReplicas", 0), None]
    elif kind == "Pod":
        cols = [_col("Name", fmt="name"), _col("Ready"), _col("Status"),
                _col("Restarts"), _col("Age"),
                _col("IP", priority=1), _col("Node", priority=1),
                _col("Nominated Node", priority=1),
                _col("Readiness Gates", priority=1)]

        def row(o):
            st = o.get("status") or {}
            cs = st.get("containerStatuses") or []
            n = len((o.get("spec") or {}).get("containers") or [])
            r = sum(1 for c in cs if c.get("ready"))
            restarts = sum(c.get("restartCount", 0) for c in cs)
            rtxt = str(restarts)
            lasts = [c["lastState"]["terminated"].get("finishedAt")
                     for c in cs if (c.get("lastState") or {}).get(
                         "terminated")]
            if restarts and lasts:
                rtxt += " (%s ago)" % human_duration(
                    t - parse_rfc3339(max(lasts)))
            phase = st.get("phase", "Pending")
            if (o.get("metadata") or {}).get("deletionTimestamp"):
                phase = "Terminating"
            return ["%d/%d" % (r, n), phase, rtxt, None,
                    st.get("podIP", "<none>"),
                    (o.get("spec") or {}).get("nodeName", "<none>"),
                    "<none>", "<none>"]
    elif kind == "Namespace":
        cols = [_col("Name", fmt="name"), _col("Status"), _col("Age")]

        def row(o):
            return [(o.get("status") or {}).get("phase", "Active"), None]
    elif kind == "Event":
        cols = [_col("Last Seen"), _col("Type"), _col("Reason"),
                _col("Object"), _col("Message")]

        def row(o):
            io = o.get("involvedObject") or {}
            ts = o.get("lastTimestamp") or o.get("eventTime") or \
                o["metadata"].get("creationTimestamp")
            return [human_duration(t - parse_rfc3339(ts or now_rfc3339())),
                    o.get("type", ""), o.get("reason", ""),
                    "%s/%s" % ((io.get("kind") or "").lower(),
                               io.get("name", "")), o.get("message", "")]
    elif not res.builtin and res.printer:   # a CRD's printer columns
        cols = [_col("Name", fmt="name", desc="Name must be unique within a "
                     "namespace.")] + [
            _col(c.get("name", ""), c.get("type", "string"),
                 c.get("format", ""), c.get("description", ""),
                 c.get("priority", 0)) for c in res.printer]

        def row(o):
            out = []
            for c in res.printer:
                v = printer_jsonpath(o, c.get("jsonPath") or "")
                if v is not None and c.get("type") == "date":
                    v = human_duration(t - parse_rfc3339(v))
                out.append(NONE if v is None else v)
            return out
    elif not res.builtin:   # a CRD without additionalPrinterColumns
        cols = [_col("Name", fmt="name"), _col("Age", "date")]

        def row(o):
            return [None]
    else:
        cols = [_col("Name", fmt="name"), _col("Created At", "date")]

        def row(o):
            return [o["metadata"].get("creationTimestamp")]
    rows = []
    for o in objs:
        cells = row(o)
        md = o.get("metadata") or {}
        age = human_duration(t - parse_rfc3339(
            md.get("creationTimestamp") or now_rfc3339()))
        cells = [age if c is None else None if c is NONE else c
                 for c in cells]
        if kind == "Event":
            cells = cells
        elif kind == "Pod" or kind != "Event":
            cells = [md.get("name")] + cells
        pom = {"kind": "PartialObjectMetadata",
               "apiVersion": "meta.k8s.io/v1", "metadata": jcopy(md)}
        rows.append({"cells": cells, "object": pom})
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1",
            "metadata": {"resourceVersion": str(rv)},
            "columnDefinitions": cols, "rows": rows}


# ======================================================================
# the cluster: storage and REST semantics
# ======================================================================
PATCH_TYPES_BUILTIN = ["application/json-patch+json",
                       "application/merge-patch+json",
                       "application/strategic-merge-patch+json",
                       "application/apply-patch+yaml"]
PATCH_TYPES_CR = ["application/json-patch+json",
                  "application/merge-patch+json",
                  "application/apply-patch+yaml"]
BODY_TYPES = ["application/json", "application/yaml",
              "application/vnd.kubernetes.protobuf"]


def err_media(types):
    return ApiError(415, "UnsupportedMediaType", "the body of the request "
                    "was in an unknown format - accepted media types "
                    "include: " + ", ".join(types))


def go_json_error(raw):
    """Go encoding/json's text for a body that is not JSON."""
    txt = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    if not txt.strip():
        return "unexpected end of JSON input"
    try:
        json.loads(txt)
    except json.JSONDecodeError as e:
        if e.pos >= len(txt):
            return "unexpected end of JSON input"
        ch = txt[e.pos]
        if e.pos == len(txt) - len(txt.lstrip()):
            return "invalid character %s looking for beginning of value" % \
                _go_char(ch)
        return "invalid character %s after top-level value" % _go_char(ch) \
            if "Extra data" in e.msg else \
            "invalid character %s looking for beginning of value" % \
            _go_char(ch)
    return "invalid JSON"


def _go_char(ch):
    if ch == "'":
        return "'\\''"
    if ch.isprintable():
        return "'%s'" % ch
    return "'\\x%02x'" % ord(ch)


class Request:
    def __init__(self, method, path, query, headers, body, user):
        self.method, self.path, self.query = method, path, query
        self.headers, self.body, self.user = headers, body, user

    @property
    def content_type(self):
        return (self.headers.get("content-type") or "").split(";")[0] \
            .strip().lower()

    def wants_table(self):
        return "as=table" in (self.headers.get("accept") or "").lower(). \
            replace(" ", "")


class Cluster:
    def __init__(self, token, forbidden_token, forbidden_user="sim-readonly",
                 forbidden_verbs=("patch", "update"), tick=0.1,
                 server_addr="127.0.0.1:0"):
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.rv = 1000
        self.objs = collections.defaultdict(dict)
        self.history = collections.deque()
        self.history_max = 20000
        self.compacted = self.rv
        self.resources = default_resources()
        self.token = token
        self.forbidden_token = forbidden_token
        self.forbidden_user = forbidden_user
        self.deny = [{"verbs": set(forbidden_verbs), "resources": {"*"}}]
        self.tokens = {token: "sim-user", forbidden_token: forbidden_user}
        self.requests = []
        self.faults = []
        self.server_addr = server_addr
        self.sim = Simulation(self, tick)
        for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
            self.ensure_namespace(ns)
        for name, cores, mem, ip in NODES:
            self.sim_put("", "nodes", self.node_object(name, cores, mem, ip),
                         create=True)

    # ------------------------------------------------------------ storage
    def objs_of(self, group, plural):
        return self.objs[(group, plural)]

    def raw_get(self, group, plural, ns, name):
        return self.objs[(group, plural)].get((ns or "", name))

    def find_res(self, group, version, plural):
        for r in self.resources:
            if r.group == group and r.plural == plural and \
                    version in r.versions:
                return r
        return None

    def res_of(self, group, plural):
        for r in self.resources:
            if r.group == group and r.plural == plural:
                return r
        return None

    def res_for_kind(self, api_version, kind):
        group = api_version.split("/")[0] if "/" in (api_version or "") \
            else ""
        for r in self.resources:
            if r.group == group and r.kind == kind:
                return r
        return None

    def _write(self, res_key, obj, etype):
        with self.lock:
            return self._write_locked(res_key, obj, etype)

    def _write_locked(self, res_key, obj, etype):
        self.rv += 1
        md = obj.setdefault("metadata", {})
        md["resourceVersion"] = str(self.rv)
        key = (md.get("namespace") or "", md.get("name"))
        if etype == "DELETED":
            self.objs[res_key].pop(key, None)
        else:
            self.objs[res_key][key] = obj
            if res_key == ("apiextensions.k8s.io",
                           "customresourcedefinitions"):
                self._register_crd(obj)
        self.history.append((self.rv, etype, res_key, jcopy(obj)))
        while len(self.history) > self.history_max:
            self.compacted = self.history.popleft()[0]
        self.cond.notify_all()
        return obj

    def _register_crd(self, crd):
        """Serve (or update) the resource a CustomResourceDefinition
        defines: names, scope, the status subresource and the printer
        columns of its storage version.  No schema validation."""
        sp = crd.get("spec") or {}
        names = sp.get("names") or {}
        group, plural = sp.get("group"), names.get("plural")
        vers = [v for v in sp.get("versions") or [] if v.get("served", True)]
        if not group or not plural or not names.get("kind") or not vers:
            return
        stor = next((v for v in vers if v.get("storage")), vers[0])
        r = self.res_of(group, plural)
        if r is None:
            r = Res(group, stor["name"], plural, names["kind"],
                    builtin=False, generation=True)
            self.resources.append(r)
        r.version = stor["name"]
        r.versions = [stor["name"]] + [v["name"] for v in vers
                                       if v is not stor]
        r.kind = names["kind"]
        r.namespaced = sp.get("scope", "Namespaced") == "Namespaced"
        r.singular = names.get("singular") or r.kind.lower()
        r.short = list(names.get("shortNames") or [])
        r.categories = list(names.get("categories") or [])
        r.subresources = ["status"] if "status" in (
            stor.get("subresources") or {}) else []
        r.printer = stor.get("additionalPrinterColumns") or None
        crd["status"] = {
            "acceptedNames": dict(names, listKind=names.get(
                "listKind", names["kind"] + "List")),
            "storedVersions": [stor["name"]],
            "conditions": [{"type": t, "status": "True",
                            "lastTransitionTime": now_rfc3339(),
                            "reason": rs, "message": m} for t, rs, m in (
                ("NamesAccepted", "NoConflicts", "no conflicts found"),
                ("Established", "InitialNamesAccepted",
                 "the initial names have been accepted"))]}

    def _new_meta(self, res, obj):
        md = obj["metadata"]
        md["uid"] = str(uuid.uuid4())
        md["creationTimestamp"] = now_rfc3339()
        if res.generation:
            md["generation"] = 1
        for k in ("deletionTimestamp", "deletionGracePeriodSeconds",
                  "resourceVersion", "managedFields", "selfLink"):
            md.pop(k, None)

    def sim_put(self, group, plural, obj, create=False):
        res = self.res_of(group, plural)
        obj = jcopy(obj)
        obj.setdefault("apiVersion", res.api_version)
        obj.setdefault("kind", res.kind)
        if create:
            self._new_meta(res, obj)
            if res.namespaced:
                self.ensure_namespace(obj["metadata"].get("namespace"))
        return self._write((group, plural), obj, "ADDED" if create
                           else "MODIFIED")

    def sim_delete(self, group, plural, ns, name):
        cur = self.raw_get(group, plural, ns, name)
        if cur is not None:
            self._write((group, plural), jcopy(cur), "DELETED")

    def sim_event(self, obj, reason, message, etype="Normal",
                  component="deployment-controller"):
        md = obj["metadata"]
        t = time.time()
        ev = {"apiVersion": "v1", "kind": "Event",
              "metadata": {"name": "%s.%x" % (md["name"], int(t * 1e9)),
                           "namespace": md.get("namespace")},
              "involvedObject": {"apiVersion": obj.get("apiVersion"),
                                 "kind": obj.get("kind"),
                                 "name": md["name"],
                                 "namespace": md.get("namespace"),
                                 "uid": md.get("uid"),
                                 "resourceVersion": md.get(
                                     "resourceVersion")},
              "reason": reason, "message": message,
              "source": {"component": component},
              "firstTimestamp": now_rfc3339(t),
              "lastTimestamp": now_rfc3339(t), "count": 1, "type": etype,
              "eventTime": None, "reportingComponent": component,
              "reportingInstance": ""}
        self.sim_put("", "events", ev, create=True)

    def ensure_namespace(self, ns):
        if ns and self.raw_get("", "namespaces", "", ns) is None:
            self.sim_put("", "namespaces", {
                "apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": ns, "labels": {
                    "kubernetes.io/metadata.name": ns}},
                "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": "Active"}}, create=True)

    def node_object(self, name, cores, mem, ip):
        alloc = {"cpu": str(cores), "memory": "%dKi" % (mem // 1024),
                 "pods": "110", "ephemeral-storage": "95491281146"}
        return {"apiVersion": "v1", "kind": "Node",
                "metadata": {"name": name, "labels": {
                    "kubernetes.io/hostname": name,
                    "kubernetes.io/os": "linux",
                    "kubernetes.io/arch": "amd64"}},
                "spec": {"podCIDR": "10.244.%d.0/24" % (
                    [n[0] for n in NODES].index(name) + 1)},
                "status": {"capacity": dict(alloc), "allocatable": alloc,
                           "addresses": [{"type": "InternalIP",
                                          "address": ip},
                                         {"type": "Hostname",
                                          "address": name}],
                           "conditions": [{
                               "type": "Ready", "status": "True",
                               "reason": "KubeletReady",
                               "message": "kubelet is posting ready status",
                               "lastHeartbeatTime": now_rfc3339(),
                               "lastTransitionTime": now_rfc3339()}],
                           "nodeInfo": {"kubeletVersion": "v1.32.0",
                                        "containerRuntimeVersion":
                                            "containerd://1.7.22",
                                        "operatingSystem": "linux",
                                        "architecture": "amd64"}}}

    def output(self, res, obj, version=None):
        o = jcopy(obj)
        o["apiVersion"] = res.gv(version)
        o["kind"] = res.kind
        return o

    # ------------------------------------------------------------ auth
    def authorize(self, user, verb, res, sub, ns, name):
        if user.get("name") != self.forbidden_user:
            return
        rname = res.plural + ("/" + sub if sub else "")
        for rule in self.deny:
            if verb in rule["verbs"] or "*" in rule["verbs"]:
                if "*" in rule["resources"] or rname in rule["resources"] \
                        or res.plural in rule["resources"] and not sub:
                    where = ('in the namespace "%s"' % ns) if ns else \
                        "at the cluster scope"
                    who = '%s "%s"' % (res.qualified, name) if name else \
                        res.qualified
                    raise ApiError(
                        403, "Forbidden", '%s is forbidden: User "%s" cannot '
                        '%s resource "%s" in API group "%s" %s'
                        % (who, user["name"], verb, rname, res.group, where),
                        _details(res, name))

    def access_review(self, req, res):
        body = self.decode_body(req)
        if not isinstance(body, dict):
            raise err_bad_request("SelfSubjectAccessReview: object expected")
        ra = (body.get("spec") or {}).get("resourceAttributes") or {}
        allowed = True
        target = self.res_of(ra.get("group") or "", ra.get("resource") or "")
        if target is not None:
            try:
                self.authorize(req.user, ra.get("verb") or "get", target,
                               ra.get("subresource") or None,
                               ra.get("namespace") or None,
                               ra.get("name") or None)
            except ApiError:
                allowed = False
        out = {"kind": res.kind, "apiVersion": res.api_version,
               "metadata": {"creationTimestamp": None},
               "spec": body.get("spec") or {}, "status": {"allowed": allowed}}
        if allowed:
            out["status"]["reason"] = "RBAC: allowed by ClusterRoleBinding " \
                "\"cluster-admin\" of ClusterRole \"cluster-admin\" to Group " \
                "\"system:masters\""
        return out

    # ------------------------------------------------------------ routing
    def handle(self, req):
        """Returns (code, body, content_type, headers) or ("watch", args)."""
        parts = [unquote(p) for p in req.path.split("/") if p]
        if req.path in ("/healthz", "/livez", "/readyz") or \
                req.path.startswith("/healthz/"):
            return 200, b"ok", "text/plain; charset=utf-8", {}
        if parts == ["version"]:
            return 200, dict(K8S_VERSION), None, {}
        if parts == ["api"]:
            return 200, {"kind": "APIVersions", "versions": ["v1"],
                         "serverAddressByClientCIDRs": [{
                             "clientCIDR": "0.0.0.0/0",
                             "serverAddress": self.server_addr}]}, None, {}
        if parts == ["apis"]:
            return 200, self.group_list(), None, {}
        if parts[:1] == ["openapi"]:
            return self.openapi(parts, req)
        if len(parts) == 2 and parts[0] == "api" and parts[1] == "v1":
            return 200, self.resource_list("", "v1"), None, {}
        if len(parts) == 2 and parts[0] == "apis":
            g = self.group_entry(parts[1])
            if g is None:
                return 404, b"404 page not found\n", "text/plain", {}
            g = dict(g, kind="APIGroup", apiVersion="v1")
            return 200, g, None, {}
        if len(parts) == 3 and parts[0] == "apis":
            rl = self.resource_list(parts[1], parts[2])
            if rl is None:
                return 404, b"404 page not found\n", "text/plain", {}
            return 200, rl, None, {}
        if len(parts) >= 3 and parts[0] == "api" and parts[1] == "v1":
            group, version, rest = "", "v1", parts[2:]
        elif len(parts) >= 4 and parts[0] == "apis":
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            return 404, b"404 page not found\n", "text/plain", {}
        if self.resource_list(group, version) is None:
            return 404, b"404 page not found\n", "text/plain", {}
        ns = None
        if rest[0] == "namespaces" and len(rest) >= 3 and \
                self.find_res(group, version, rest[2]) is not None and \
                self.find_res(group, version, rest[2]).namespaced:
            ns, rest = rest[1], rest[2:]
        if len(rest) > 3:
            raise ApiError(404, "NotFound", "the server could not find the "
                           "requested resource", {})
        plural = rest[0]
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        res = self.find_res(group, version, plural)
        if res is None or (res.namespaced is False and ns is not None) or \
                (res.namespaced and ns is None and name is not None) or \
                (sub is not None and sub not in res.subresources):
            raise ApiError(404, "NotFound", "the server could not find the "
                           "requested resource", {})
        m = req.method
        if m == "GET":
            verb = "get" if name else ("watch" if req.query.get("watch") in
                                       ("1", "true") else "list")
        elif m == "POST":
            verb = "create"
        elif m == "PUT":
            verb = "update"
        elif m == "PATCH":
            verb = "patch"
        elif m == "DELETE":
            verb = "delete" if name else "deletecollection"
        else:
            raise err_method_not_allowed(m)
        if (verb == "create" and name) or (verb in ("update", "patch") and
                                           not name):
            raise err_method_not_allowed(m)
        self.authorize(req.user, verb, res, sub, ns, name)
        dry = req.query.get("dryRun") == "All"
        with self.lock:
            if verb == "get":
                return self.do_get(req, res, version, ns, name, sub)
            if verb == "list":
                return self.do_list(req, res, version, ns)
            if verb == "watch":
                return "watch", (res, version, ns, req)
            if verb == "create" and res.kind == "SelfSubjectAccessReview":
                return 201, self.access_review(req, res), None, {}
            if verb == "create":
                body = self.decode_body(req)
                obj = self.create(res, ns, body, dry)
                return 201, self.output(res, obj, version), None, {}
            if verb == "update":
                body = self.decode_body(req)
                if sub == "scale":
                    return 200, self.update_scale(res, ns, name, body, dry), \
                        None, {}
                obj = self.update(res, ns, name, body, sub, dry)
                return 200, self.output(res, obj, version), None, {}
            if verb == "patch":
                return self.do_patch(req, res, version, ns, name, sub, dry)
            if verb == "delete":
                return self.do_delete(req, res, version, ns, name, dry)
            if verb == "deletecollection":
                for o in self.select(req, res, ns):
                    self.do_delete(req, res, version, o["metadata"].get(
                        "namespace"), o["metadata"]["name"], dry)
                return 200, {"kind": "Status", "apiVersion": "v1",
                             "metadata": {}, "status": "Success"}, None, {}
        raise err_method_not_allowed(m)

    # ------------------------------------------------------------ discovery
    def group_entry(self, group):
        vs = []
        for r in self.resources:
            if r.group == group:
                for v in r.versions:
                    if v not in vs:
                        vs.append(v)
        if not vs or group == "":
            return None
        pref = vs[0]
        return {"name": group,
                "versions": [{"groupVersion": "%s/%s" % (group, v),
                              "version": v} for v in vs],
                "preferredVersion": {"groupVersion": "%s/%s" % (group, pref),
                                     "version": pref}}

    def group_list(self):
        groups = []
        for r in self.resources:
            if r.group and r.group not in groups:
                groups.append(r.group)
        return {"kind": "APIGroupList", "apiVersion": "v1",
                "groups": [self.group_entry(g) for g in groups]}

    def resource_list(self, group, version):
        rs = [r for r in self.resources
              if r.group == group and version in r.versions]
        if not rs:
            return None
        out = []
        for r in rs:
            e = {"name": r.plural, "singularName": r.singular,
                 "namespaced": r.namespaced, "kind": r.kind,
                 "verbs": list(r.verbs),
                 "storageVersionHash": base64.b64encode(hashlib.sha256(
                     r.qualified.encode()).digest()[:8]).decode()}
            if r.short:
                e["shortNames"] = list(r.short)
            if r.categories:
                e["categories"] = list(r.categories)
            out.append(e)
            for s in r.subresources:
                se = {"name": r.plural + "/" + s, "singularName": "",
                      "namespaced": r.namespaced, "kind": r.kind,
                      "verbs": ["get", "patch", "update"]}
                if s == "scale":
                    se.update(group="autoscaling", version="v1", kind="Scale")
                out.append(se)
        return {"kind": "APIResourceList", "apiVersion": "v1",
                "groupVersion": (group + "/" if group else "") + version,
                "resources": out}

    def openapi(self, parts, req):
        if parts == ["openapi", "v3"]:
            paths = {"api/v1": {"serverRelativeURL":
                                "/openapi/v3/api/v1?hash=%s" % self.oa_hash(
                                    "", "v1")}}
            for r in self.resources:
                if r.group:
                    for v in r.versions:
                        paths["apis/%s/%s" % (r.group, v)] = {
                            "serverRelativeURL": "/openapi/v3/apis/%s/%s?"
                            "hash=%s" % (r.group, v, self.oa_hash(r.group, v))}
            return 200, {"paths": paths}, None, {}
        if len(parts) >= 4 and parts[1] == "v3":
            if parts[2] == "api":
                gv = ("", parts[3])
            elif len(parts) >= 5:
                gv = (parts[3], parts[4])
            else:
                gv = None
            if gv and self.resource_list(*gv) is not None:
                return 200, openapi_v3_doc(self, gv[0], gv[1]), None, {
                    "Cache-Control": "public, immutable",
                    "Etag": '"%s"' % self.oa_hash(*gv)}
        return 404, b"404 page not found\n", "text/plain", {}

    def oa_hash(self, group, version):
        return hashlib.sha512(("%s/%s/%d" % (group, version, len(
            self.resources))).encode()).hexdigest().upper()[:128]

    # ------------------------------------------------------------ bodies
    def decode_body(self, req):
        ct = req.content_type
        if ct == "application/vnd.kubernetes.protobuf":
            try:
                return kproto.decode(req.body)[2]
            except Exception as e:
                raise ApiError(415, "UnsupportedMediaType", "kubesim cannot "
                               "decode this protobuf body (%s); send "
                               "application/json" % e)
        if ct not in ("application/json", "application/yaml", ""):
            raise err_media(BODY_TYPES)      # "" is JSON, as the real one
        if ct == "application/yaml":
            try:
                return yaml.safe_load(req.body.decode("utf-8"))
            except Exception as e:
                raise err_bad_request("error converting YAML to JSON: %s" %
                                      str(e).splitlines()[0])
        try:
            return json.loads(req.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise err_bad_request("couldn't get version/kind; json parse "
                                  "error: " + go_json_error(req.body))

    def check_kind(self, res, obj):
        if not isinstance(obj, dict):
            raise err_bad_request("couldn't get version/kind; json parse "
                                  "error: json: cannot unmarshal %s into Go "
                                  "value of type struct { APIVersion string "
                                  "\"json:\\\"apiVersion,omitempty\\\"\"; Kind "
                                  "string \"json:\\\"kind,omitempty\\\"\" }"
                                  % _jtype(obj))
        av, kind = obj.get("apiVersion"), obj.get("kind")
        if kind and kind != res.kind:
            raise err_bad_request("%s in version \"%s\" cannot be handled as "
                                  "a %s: no kind \"%s\" is registered for "
                                  "version \"%s\" in scheme" % (
                                      kind, res.version, res.kind, kind,
                                      av or res.api_version))
        if av and av not in [res.gv(v) for v in res.versions]:
            raise err_bad_request("the API version in the data (%s) does not "
                                  "match the expected API version (%s)"
                                  % (av, res.api_version))

    def decode_error(self, res, obj):
        if not res.builtin:
            return None
        return decode_check(res.kind, obj)

    def prepare(self, res, obj, old=None):
        """Defaulting and validation; raises 422."""
        kind = res.kind
        md = obj["metadata"]
        if kind == "Deployment":
            default_deployment(obj)
            errs = validate_deployment(obj, old)
        elif kind == "Pod":
            default_pod_spec(obj.setdefault("spec", {}))
            errs = validate_metadata(md, True) + validate_pod_spec(
                obj["spec"], "spec")
        elif kind == "Namespace":
            errs = validate_name(md.get("name"), label=True)
            if md.get("name"):
                md.setdefault("labels", {})["kubernetes.io/metadata.name"] = \
                    md["name"]
            obj.setdefault("spec", {}).setdefault("finalizers",
                                                  ["kubernetes"])
            if old is None or not obj.get("status"):
                obj["status"] = {"phase": "Active"}
        else:
            errs = validate_metadata(md, res.namespaced)
        if errs:
            raise err_invalid(kind, res.group, md.get("name") or "", errs)

    # ------------------------------------------------------------ verbs
    def do_get(self, req, res, version, ns, name, sub):
        obj = self.raw_get(res.group, res.plural, ns, name)
        if obj is None:
            raise err_not_found(res, name)
        if sub == "scale":
            return 200, self.scale_of(res, obj), None, {}
        if req.wants_table() and sub is None:
            return 200, table_for(res, [obj], self.rv), None, {}
        return 200, self.output(res, obj, version), None, {}

    def select(self, req, res, ns):
        lsel = parse_label_selector(req.query.get("labelSelector", ""))
        fsel = parse_field_selector(req.query.get("fieldSelector", ""))
        items = []
        for (ons, oname), o in sorted(self.objs_of(res.group,
                                                   res.plural).items()):
            if ns is not None and ons != ns:
                continue
            if lsel and not labels_match(lsel, o["metadata"].get("labels")):
                continue
            if fsel and not fields_match(fsel, o):
                continue
            items.append(o)
        return items

    def do_list(self, req, res, version, ns):
        items = self.select(req, res, ns)
        meta = {"resourceVersion": str(self.rv)}
        cont = req.query.get("continue")
        if cont:
            try:
                c = json.loads(base64.b64decode(cont).decode())
                start, crv = c["start"], c["rv"]
            except Exception:
                raise err_bad_request("continue key is not valid: "
                                      "incorrect encoded start "
                                      "resourceVersion (version meta.k8s.io"
                                      "/v1)")
            if crv < self.compacted:
                raise ApiError(410, "Expired", "The provided continue "
                               "parameter is too old to display a consistent "
                               "list result. You can start a new list "
                               "without the continue parameter, or use the "
                               "continue token in this response to retrieve "
                               "the remainder of the results.", None)
            items = [o for o in items if [o["metadata"].get(
                "namespace") or "", o["metadata"]["name"]] > start]
        limit = req.query.get("limit")
        try:
            limit = int(limit) if limit else 0
        except ValueError:
            limit = 0
        cap = (getattr(req, "stream_fault", None) or {}).get("limit")
        if cap:
            limit = min(limit, int(cap)) if limit > 0 else int(cap)
        if limit > 0 and len(items) > limit:
            last = items[limit - 1]["metadata"]
            meta["continue"] = base64.b64encode(json.dumps({
                "rv": self.rv, "start": [last.get("namespace") or "",
                                         last["name"]]}).encode()).decode()
            meta["remainingItemCount"] = len(items) - limit
            items = items[:limit]
        if req.wants_table():
            t = table_for(res, items, self.rv)
            t["metadata"] = meta
            return 200, t, None, {}
        out = []
        for o in items:
            o = self.output(res, o, version)
            if res.builtin:
                o.pop("apiVersion", None)
                o.pop("kind", None)
            out.append(o)
        return 200, {"kind": res.kind + "List", "apiVersion": res.gv(version),
                     "metadata": meta, "items": out}, None, {}

    def create(self, res, ns, body, dry=False):
        self.check_kind(res, body)
        obj = jcopy(body)
        md = obj.get("metadata")
        if md is None:
            md = obj["metadata"] = {}
        err = self.decode_error(res, obj)
        if err:
            raise err_bad_request('%s in version "%s" cannot be handled as a '
                                  '%s: %s' % (res.kind, res.version, res.kind,
                                              err))
        if res.namespaced:
            if md.get("namespace") and ns and md["namespace"] != ns:
                raise err_bad_request("the namespace of the provided object "
                                      "does not match the namespace sent on "
                                      "the request")
            md["namespace"] = ns or md.get("namespace") or "default"
        else:
            md.pop("namespace", None)
        if not md.get("name") and md.get("generateName"):
            md["name"] = md["generateName"] + rand_suffix()
        obj["apiVersion"], obj["kind"] = res.api_version, res.kind
        self.prepare(res, obj)
        if self.raw_get(res.group, res.plural, md.get("namespace"),
                        md["name"]) is not None:
            raise err_already_exists(res, md["name"])
        self._new_meta(res, obj)
        if res.kind in ("Deployment", "ReplicaSet"):
            obj["status"] = {}
        if dry:
            md["resourceVersion"] = str(self.rv)
            return obj
        if res.namespaced:
            self.ensure_namespace(md["namespace"])
        self._write((res.group, res.plural), obj, "ADDED")
        if res.kind == "Deployment":
            self.sim.wake.set()
        return obj

    def update(self, res, ns, name, body, sub=None, dry=False,
               patched=False):
        cur = self.raw_get(res.group, res.plural, ns, name)
        if cur is None:
            raise err_not_found(res, name)
        self.check_kind(res, body)
        obj = jcopy(body)
        md = obj.get("metadata")
        if not isinstance(md, dict):
            md = obj["metadata"] = {}
        if not patched:
            err = self.decode_error(res, obj)
            if err:
                raise err_bad_request('%s in version "%s" cannot be handled '
                                      'as a %s: %s' % (res.kind, res.version,
                                                       res.kind, err))
        if md.get("name") != name:
            raise err_bad_request("the name of the object (%s) does not match "
                                  "the name on the URL (%s)"
                                  % (md.get("name") or "", name))
        if res.namespaced and md.get("namespace") and md["namespace"] != ns:
            raise err_bad_request("the namespace of the provided object does "
                                  "not match the namespace sent on the "
                                  "request")
        rv = md.get("resourceVersion")
        if rv not in (None, "") and rv != cur["metadata"]["resourceVersion"]:
            raise err_conflict(res, name)
        cmd = cur["metadata"]
        for k in ("uid", "creationTimestamp", "generation",
                  "deletionTimestamp"):
            if k in cmd:
                md[k] = cmd[k]
            else:
                md.pop(k, None)
        if res.namespaced:
            md["namespace"] = ns
        obj["apiVersion"], obj["kind"] = res.api_version, res.kind
        has_status = "status" in res.subresources
        if sub == "status":
            new = jcopy(cur)
            if "status" in obj:
                new["status"] = obj["status"]
            else:
                new.pop("status", None)
            obj = new
        elif has_status:
            if "status" in cur:
                obj["status"] = jcopy(cur["status"])
            else:
                obj.pop("status", None)
        self.prepare(res, obj, old=cur)
        if res.generation:
            a = {k: v for k, v in obj.items() if k not in
                 ("metadata", "status", "apiVersion", "kind")}
            b = {k: v for k, v in cur.items() if k not in
                 ("metadata", "status", "apiVersion", "kind")}
            if not jequal(a, b):
                md["generation"] = cmd.get("generation", 1) + 1
        md["resourceVersion"] = cmd["resourceVersion"]
        if jequal(obj, cur) or dry:
            return obj
        self._write((res.group, res.plural), obj, "MODIFIED")
        if res.kind == "Deployment":
            self.sim.wake.set()
        return obj

    def scale_of(self, res, obj):
        md = obj["metadata"]
        st = obj.get("status") or {}
        sp = obj.get("spec") or {}
        return {"kind": "Scale", "apiVersion": "autoscaling/v1",
                "metadata": {"name": md["name"],
                             "namespace": md.get("namespace"),
                             "uid": md.get("uid"),
                             "resourceVersion": md.get("resourceVersion"),
                             "creationTimestamp": md.get(
                                 "creationTimestamp")},
                "spec": {"replicas": sp.get("replicas", 1)},
                "status": {"replicas": st.get("replicas", 0),
                           "selector": selector_string(sp.get("selector"))}}

    def update_scale(self, res, ns, name, body, dry=False, patched=False):
        cur = self.raw_get(res.group, res.plural, ns, name)
        if cur is None:
            raise err_not_found(res, name)
        if not isinstance(body, dict):
            raise err_bad_request("couldn't get version/kind; json parse "
                                  "error: json: cannot unmarshal %s into Go "
                                  "value of type struct" % _jtype(body))
        err = decode_check("Scale", body)
        if err:
            if patched:
                raise err_patch_decode(json.dumps(body, separators=(",", ":")),
                                       err)
            raise err_bad_request('Scale in version "v1" cannot be handled '
                                  'as a Scale: %s' % err)
        md = body.get("metadata") or {}
        if md.get("name") not in (None, "", name) or \
                (not patched and md.get("name") != name):
            raise err_bad_request("the name of the object (%s) does not match "
                                  "the name on the URL (%s)"
                                  % (md.get("name") or "", name))
        rv = md.get("resourceVersion")
        if rv not in (None, "") and rv != cur["metadata"]["resourceVersion"]:
            raise err_conflict(res, name)
        errs = validate_scale(body)
        if errs:
            raise err_invalid("Scale", "autoscaling", name, errs)
        replicas = (body.get("spec") or {}).get("replicas")
        new = jcopy(cur)
        new["spec"]["replicas"] = int(replicas or 0)
        if new["spec"]["replicas"] != cur["spec"].get("replicas"):
            new["metadata"]["generation"] = \
                cur["metadata"].get("generation", 1) + 1
            if not dry:
                self._write((res.group, res.plural), new, "MODIFIED")
                self.sim.wake.set()
        return self.scale_of(res, new)

    def do_patch(self, req, res, version, ns, name, sub, dry):
        ct = req.content_type
        types = PATCH_TYPES_BUILTIN if res.builtin else PATCH_TYPES_CR
        if ct not in types:
            raise err_media(types)
        cur = self.raw_get(res.group, res.plural, ns, name)
        if ct == "application/apply-patch+yaml":
            if not req.query.get("fieldManager"):
                raise ApiError(400, "BadRequest", "PATCH %s: fieldManager is "
                               "required for apply patch" % req.path)
            try:
                patch = yaml.safe_load(req.body.decode("utf-8"))
            except Exception as e:
                raise err_bad_request("error decoding YAML: %s"
                                      % str(e).splitlines()[0])
            if not isinstance(patch, dict):
                raise err_bad_request("error decoding YAML: object expected")
            if cur is None and sub is None:
                obj = self.create(res, ns, patch, dry)
                return 201, self.output(res, obj, version), None, {}
        else:
            try:
                patch = json.loads(req.body.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                if ct == "application/merge-patch+json":
                    raise err_bad_request("Invalid JSON Patch")
                raise err_bad_request(go_json_error(req.body))
        if cur is None:
            raise err_not_found(res, name)
        if sub == "scale":
            original = self.scale_of(res, cur)
        else:
            original = self.output(res, cur)
        try:
            if ct == "application/merge-patch+json":
                if not isinstance(patch, dict) and patch is not None:
                    patched = patch
                else:
                    patched = patchlib.merge_patch(original, patch)
            elif ct == "application/json-patch+json":
                patched = patchlib.json_patch(original, patch)
            elif ct == "application/strategic-merge-patch+json":
                patched = patchlib.strategic_merge(original, patch)
            else:  # apply (approximation: strategic merge of the intent)
                patched = patchlib.strategic_merge(original, patch) if \
                    res.builtin else patchlib.merge_patch(original, patch)
        except patchlib.PatchError as e:
            if e.code == 400:
                raise err_bad_request(e.message)
            if e.code == 500:
                raise ApiError(500, "InternalError", "Internal error "
                               "occurred: %s" % e.message,
                               {"causes": [{"message": e.message}]})
            raise ApiError(422, "Invalid", "the server rejected our request "
                           "due to an error in our request", {"causes": [{
                               "reason": "UnexpectedServerResponse",
                               "message": e.message}]})
        if sub == "scale":
            return 200, self.update_scale(res, ns, name, patched, dry,
                                          patched=True), None, {}
        if not isinstance(patched, dict):
            raise err_patch_decode(json.dumps(patched), "json: cannot "
                                   "unmarshal %s into Go value of type "
                                   "struct" % _jtype(patched))
        err = self.decode_error(res, patched)
        if err:
            if ct == "application/strategic-merge-patch+json":
                shown = patchlib._go_fmt(patch)
            else:
                shown = json.dumps(patched, separators=(",", ":"))
            raise err_patch_decode(shown, err)
        pmd = patched.get("metadata")
        if isinstance(pmd, dict):
            pmd["name"] = name
            if res.namespaced:
                pmd["namespace"] = ns
        obj = self.update(res, ns, name, patched, sub, dry, patched=True)
        return 200, self.output(res, obj, version), None, {}

    def do_delete(self, req, res, version, ns, name, dry):
        cur = self.raw_get(res.group, res.plural, ns, name)
        if cur is None:
            raise err_not_found(res, name)
        opts = {}
        if req.body:
            try:
                opts = json.loads(req.body.decode("utf-8")) or {}
            except ValueError:
                raise err_bad_request(go_json_error(req.body))
        pre = (opts.get("preconditions") or {}) if isinstance(opts, dict) \
            else {}
        if pre.get("resourceVersion") and pre["resourceVersion"] != \
                cur["metadata"]["resourceVersion"]:
            raise ApiError(409, "Conflict", 'Operation cannot be fulfilled on '
                           '%s "%s": Precondition failed: ResourceVersion in '
                           'precondition: %s, ResourceVersion in object meta: '
                           '%s' % (res.qualified, name,
                                   pre["resourceVersion"],
                                   cur["metadata"]["resourceVersion"]),
                           _details(res, name))
        if pre.get("uid") and pre["uid"] != cur["metadata"].get("uid"):
            raise ApiError(409, "Conflict", 'Operation cannot be fulfilled on '
                           '%s "%s": Precondition failed: UID in '
                           'precondition: %s, UID in object meta: %s'
                           % (res.qualified, name, pre["uid"],
                              cur["metadata"].get("uid")),
                           _details(res, name))
        out = self.output(res, cur, version)
        if dry:
            return 200, out, None, {}
        if res.kind == "Namespace":
            for (g, p), objs in list(self.objs.items()):
                r = self.res_of(g, p)
                if r is not None and r.namespaced:
                    for (ons, oname) in list(objs):
                        if ons == name:
                            self.sim_delete(g, p, ons, oname)
            self._write(("", "namespaces"), jcopy(cur), "DELETED")
            out["status"] = {"phase": "Terminating"}
            out["metadata"]["deletionTimestamp"] = now_rfc3339()
            return 200, out, None, {}
        self._write((res.group, res.plural), jcopy(cur), "DELETED")
        if res.kind == "Pod":
            self.sim.pod_deleted_via_api(ns, name)
            out["metadata"]["deletionTimestamp"] = now_rfc3339()
            out["metadata"]["deletionGracePeriodSeconds"] = 30
            return 200, out, None, {}
        if res.kind == "Deployment":
            self.sim.wake.set()
        return 200, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                     "status": "Success",
                     "details": dict(_details(res, name),
                                     uid=cur["metadata"].get("uid"))}, \
            None, {}

    # ------------------------------------------------------------ watch
    def watch_events(self, res, version, ns, req, write, deadline):
        """Stream watch events by calling write(dict); returns at the
        deadline or when write raises."""
        lsel = parse_label_selector(req.query.get("labelSelector", ""))
        fsel = parse_field_selector(req.query.get("fieldSelector", ""))
        bookmarks = req.query.get("allowWatchBookmarks") in ("1", "true")
        rv = req.query.get("resourceVersion", "")
        key = (res.group, res.plural)
        if req.wants_table():
            plain_write = write

            def write(ev):
                o = ev.get("object") or {}
                if ev.get("type") in ("ADDED", "MODIFIED", "DELETED") and \
                        o.get("kind") == res.kind:
                    ev = dict(ev, object=table_for(res, [o], o.get(
                        "metadata", {}).get("resourceVersion", self.rv)))
                plain_write(ev)

        def match(o):
            if ns is not None and o["metadata"].get("namespace") != ns:
                return False
            if lsel and not labels_match(lsel, o["metadata"].get("labels")):
                return False
            return not fsel or fields_match(fsel, o)

        initial = []
        with self.lock:
            if rv in ("", "0"):
                initial = [{"type": "ADDED",
                            "object": self.output(res, o, version)}
                           for o in self.select(req, res, ns)]
                pos = self.rv
            else:
                try:
                    pos = int(rv)
                except ValueError:
                    raise err_bad_request('resourceVersion: Invalid value: '
                                          '"%s": must be a number' % rv)
                if pos < self.compacted:
                    initial = None
        if initial is None:
            write({"type": "ERROR", "object": {
                "kind": "Status", "apiVersion": "v1", "metadata": {},
                "status": "Failure", "message": "too old resource "
                "version: %d (%d)" % (pos, self.compacted),
                "reason": "Expired", "code": 410}})
            return
        for ev in initial:
            write(ev)
        last_bm = time.time()
        while True:
            with self.lock:
                if pos < self.compacted:
                    evs = None
                else:
                    evs = [(r, t, o) for (r, t, k, o) in self.history
                           if r > pos and k == key and match(o)]
                    pos = self.rv
                if evs is not None and not evs:
                    remaining = deadline - time.time()
                    if remaining <= 0:
                        return
                    self.cond.wait(min(remaining, 1.0))
                    evs = [(r, t, o) for (r, t, k, o) in self.history
                           if r > pos and k == key and match(o)]
                    pos = self.rv
            if evs is None:
                write({"type": "ERROR", "object": {
                    "kind": "Status", "apiVersion": "v1", "metadata": {},
                    "status": "Failure", "message": "too old resource "
                    "version: %d (%d)" % (pos, self.compacted),
                    "reason": "Expired", "code": 410}})
                return
            for r, t, o in evs:
                write({"type": t, "object": self.output(res, o, version)})
            if bookmarks and time.time() - last_bm > 5:
                last_bm = time.time()
                write({"type": "BOOKMARK", "object": {
                    "kind": res.kind, "apiVersion": res.gv(version),
                    "metadata": {"resourceVersion": str(pos)}}})
            if time.time() >= deadline:
                return

    # ------------------------------------------------------------ control
    def apply_object(self, obj):
        """Create or replace (keeping uid and status) from /_sim/objects or
        --objects."""
        if not isinstance(obj, dict) or "kind" not in obj:
            raise err_bad_request("object without kind")
        if obj.get("kind") == "List":
            return [self.apply_object(o) for o in obj.get("items") or []]
        res = self.res_for_kind(obj.get("apiVersion", ""), obj["kind"])
        if res is None:
            raise err_bad_request('no matches for kind "%s" in version "%s"'
                                  % (obj["kind"], obj.get("apiVersion")))
        md = obj.setdefault("metadata", {})
        ns = (md.get("namespace") or "default") if res.namespaced else None
        with self.lock:
            cur = self.raw_get(res.group, res.plural, ns, md.get("name"))
            if cur is None:
                return self.create(res, ns, obj)
            body = jcopy(obj)
            body["metadata"].pop("resourceVersion", None)
            if "status" in body and "status" in res.subresources:
                self.update(res, ns, md["name"], body, "status")
            return self.update(res, ns, md["name"], body)


def openapi_v3_doc(cluster, group, version):
    """A small OpenAPI v3 document: paths with their parameters (kubectl
    checks for fieldValidation/dryRun) and schemas with GVK extensions."""
    schemas = {}
    paths = {}
    prefix = "/api/v1" if not group else "/apis/%s/%s" % (group, version)
    for r in cluster.resources:
        if r.group != group or version not in r.versions:
            continue
        gvk = [{"group": group, "version": version, "kind": r.kind}]
        sname = "io.k8s.api.%s.%s.%s" % (group.split(".")[0] or "core",
                                         version, r.kind)
        schemas[sname] = {"type": "object", "x-kubernetes-group-version-kind":
                          gvk, "properties": {
                              "apiVersion": {"type": "string"},
                              "kind": {"type": "string"},
                              "metadata": {"type": "object"},
                              "spec": {"type": "object"},
                              "status": {"type": "object"}}}
        params = [{"name": n, "in": "query", "schema": {"type": "string"},
                   "uniqueItems": True}
                  for n in ("dryRun", "fieldManager", "fieldValidation")]
        base = prefix + ("/namespaces/{namespace}" if r.namespaced else "") \
            + "/" + r.plural
        ref = {"$ref": "#/components/schemas/" + sname}
        op = {"responses": {"200": {"content": {"application/json": {
            "schema": ref}}}}, "x-kubernetes-group-version-kind": gvk[0],
            "parameters": params}
        paths[base] = {"get": dict(op, operationId="list" + r.kind),
                       "post": dict(op, operationId="create" + r.kind)}
        paths[base + "/{name}"] = {
            "get": dict(op, operationId="read" + r.kind),
            "put": dict(op, operationId="replace" + r.kind),
            "patch": dict(op, operationId="patch" + r.kind),
            "delete": dict(op, operationId="delete" + r.kind)}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes",
                                         "version": "v1.32.0"},
            "paths": paths, "components": {"schemas": schemas}}


# ======================================================================
# metrics (Prometheus text exposition, computed at scrape time)
# ======================================================================
def _esc(v):
    return str(v).replace("\\", "\\\\").replace("\"", "\\\"") \
        .replace("\n", "\\n")


class Families:
    def __init__(self):
        self.f = collections.OrderedDict()

    def add(self, name, typ, help_, labels, value):
        fam = self.f.setdefault(name, (typ, help_, []))
        fam[2].append((labels, value))

    def render(self):
        out = []
        for name, (typ, help_, samples) in self.f.items():
            base = name
            out.append("# HELP %s %s" % (base, help_))
            out.append("# TYPE %s %s" % (base, typ))
            for labels, value in samples:
                sname = labels.pop("__name__", name)
                lab = ",".join('%s="%s"' % (k, _esc(v))
                               for k, v in labels.items())
                out.append("%s{%s} %s" % (sname, lab, fmt_num(float(value))))
        return "\n".join(out) + "\n"


def render_metrics(cluster):
    sim = cluster.sim
    F = Families()
    with cluster.lock:
        t = time.time()
        sim.advance(t)
        deps = cluster.objs_of("apps", "deployments")
        node_mem = collections.defaultdict(float)
        for dk in sorted(deps):
            dep = deps[dk]
            pods = sorted(sim.pods_of(dk), key=lambda p: p.name)
            m = DepModel(sim, dep, pods)
            for p in pods:
                base = collections.OrderedDict(namespace=p.ns, pod=p.name)
                pod_mem = PAUSE_MEMORY
                for c in p.containers:
                    lab = collections.OrderedDict(base)
                    lab["container"] = c.name
                    lab["image"] = c.image
                    F.add("container_cpu_usage_seconds_total", "counter",
                          "Cumulative cpu time consumed in seconds.",
                          dict(lab), c.cpu)
                    mem = int(m.mem(p, c))
                    pod_mem += mem
                    F.add("container_memory_working_set_bytes", "gauge",
                          "Current working set in bytes.", dict(lab), mem)
                    F.add("container_memory_usage_bytes", "gauge",
                          "Current memory usage in bytes, including all "
                          "memory regardless of when it was accessed.",
                          dict(lab), int(mem * 1.15))
                    if c.cpu_limit:
                        F.add("container_cpu_cfs_periods_total", "counter",
                              "Number of elapsed enforcement period "
                              "intervals.", dict(lab), int(c.periods))
                        F.add("container_cpu_cfs_throttled_periods_total",
                              "counter", "Number of throttled period "
                              "intervals.", dict(lab), int(c.throttled))
                        F.add("container_spec_cpu_quota", "gauge",
                              "CPU quota of the container.", dict(lab),
                              int(c.cpu_limit * 100000))
                    if c.mem_limit:
                        F.add("container_spec_memory_limit_bytes", "gauge",
                              "Memory limit for the container.", dict(lab),
                              int(c.mem_limit))
                plab = collections.OrderedDict(base)
                plab["container"] = "POD"
                plab["image"] = PAUSE_IMAGE
                F.add("container_cpu_usage_seconds_total", "counter", "",
                      dict(plab), p.cpu_pause)
                F.add("container_memory_working_set_bytes", "gauge", "",
                      dict(plab), PAUSE_MEMORY)
                F.add("container_memory_usage_bytes", "gauge", "",
                      dict(plab), PAUSE_MEMORY)
                plab["container"] = ""
                plab["image"] = ""
                F.add("container_cpu_usage_seconds_total", "counter", "",
                      dict(plab), p.cpu_pod)
                F.add("container_memory_working_set_bytes", "gauge", "",
                      dict(plab), pod_mem)
                F.add("container_memory_usage_bytes", "gauge", "",
                      dict(plab), int(pod_mem * 1.15))
                node_mem[p.node] += pod_mem
            # kube-state-metrics: pods
            for p in pods:
                for c in p.containers:
                    lab = collections.OrderedDict(
                        namespace=p.ns, pod=p.name, container=c.name)
                    for fam, val, unit, res in (
                            ("requests", c.cpu_request, "core", "cpu"),
                            ("requests", c.mem_request, "byte", "memory"),
                            ("limits", c.cpu_limit, "core", "cpu"),
                            ("limits", c.mem_limit, "byte", "memory")):
                        if val is not None:
                            F.add("kube_pod_container_resource_" + fam,
                                  "gauge", "The number of requested %s "
                                  "resource by a container." % fam,
                                  dict(lab, node=p.node, resource=res,
                                       unit=unit), val)
                    F.add("kube_pod_container_status_restarts_total",
                          "counter", "The number of container restarts per "
                          "container.", dict(lab), c.restarts)
                    F.add("kube_pod_container_status_ready", "gauge",
                          "Describes whether the containers readiness check "
                          "succeeded.", dict(lab), 1 if c.ready else 0)
                    if c.last_terminated:
                        F.add("kube_pod_container_status_last_terminated_"
                              "reason", "gauge", "Describes the last reason "
                              "the container was in terminated state.",
                              dict(lab, reason=c.last_terminated["reason"]),
                              1)
                        F.add("kube_pod_container_status_last_terminated_"
                              "exitcode", "gauge", "Describes the exit code "
                              "for the last container in terminated state.",
                              dict(lab), c.last_terminated["exitCode"])
                for cond in ("true", "false", "unknown"):
                    v = 1 if (cond == "true") == p.ready and \
                        cond != "unknown" else 0
                    F.add("kube_pod_status_ready", "gauge", "Describes "
                          "whether the pod is ready to serve requests.",
                          collections.OrderedDict(namespace=p.ns, pod=p.name,
                                                  condition=cond), v)
            # kube-state-metrics: deployment
            sp, st = dep.get("spec") or {}, dep.get("status") or {}
            dl = collections.OrderedDict(namespace=dk[0], deployment=dk[1])
            for name, val, help_ in (
                    ("kube_deployment_spec_replicas", sp.get("replicas", 1),
                     "Number of desired pods for a deployment."),
                    ("kube_deployment_status_replicas", st.get("replicas", 0),
                     "The number of replicas per deployment."),
                    ("kube_deployment_status_replicas_available",
                     st.get("availableReplicas", 0),
                     "The number of available replicas per deployment."),
                    ("kube_deployment_status_replicas_ready",
                     st.get("readyReplicas", 0),
                     "The number of ready replicas per deployment."),
                    ("kube_deployment_status_replicas_updated",
                     st.get("updatedReplicas", 0),
                     "The number of updated replicas per deployment."),
                    ("kube_deployment_status_replicas_unavailable",
                     st.get("unavailableReplicas", 0),
                     "The number of unavailable replicas per deployment."),
                    ("kube_deployment_metadata_generation",
                     dep["metadata"].get("generation", 1),
                     "Sequence number representing a specific generation of "
                     "the desired state."),
                    ("kube_deployment_status_observed_generation",
                     st.get("observedGeneration", 0),
                     "The generation observed by the deployment "
                     "controller.")):
                F.add(name, "gauge", help_, dict(dl), val)
            # ingress-nginx
            for iname, host, svc in m.ingresses:
                ing = sim.ingress.setdefault((dk, iname), IngressRT())
                lab = collections.OrderedDict()
                lab["controller_class"] = "k8s.io/ingress-nginx"
                lab["controller_namespace"] = "ingress-nginx"
                lab["controller_pod"] = "ingress-nginx-controller-" \
                    "5c8d66c76d-4vxqf"
                if m.shape == "exported_namespace":
                    lab["exported_namespace"] = dk[0]
                lab["host"] = host
                lab["ingress"] = iname
                lab["method"] = "GET"
                lab["namespace"] = "ingress-nginx" if \
                    m.shape == "exported_namespace" else dk[0]
                lab["path"] = "/"
                lab["service"] = svc
                statuses = sorted(set(["200"]) | set(ing.requests))
                for s in statuses:
                    F.add("nginx_ingress_controller_requests", "counter",
                          "The total number of client requests",
                          dict(lab, status=s), ing.requests.get(s, 0.0))
                hl = dict(lab, status="200")
                for i, le in enumerate(LATENCY_BUCKETS + ["+Inf"]):
                    F.add("nginx_ingress_controller_request_duration_seconds",
                          "histogram", "The request processing time in "
                          "milliseconds", dict(hl, le=str(le), __name__=
                                               "nginx_ingress_controller_"
                                               "request_duration_seconds_"
                                               "bucket"), ing.buckets[i])
                F.add("nginx_ingress_controller_request_duration_seconds",
                      "histogram", "", dict(hl, __name__="nginx_ingress_"
                                            "controller_request_duration_"
                                            "seconds_sum"), ing.sum)
                F.add("nginx_ingress_controller_request_duration_seconds",
                      "histogram", "", dict(hl, __name__="nginx_ingress_"
                                            "controller_request_duration_"
                                            "seconds_count"), ing.count)
        # nodes
        for name, cores, mem, ip in NODES:
            for fam in ("allocatable", "capacity"):
                F.add("kube_node_status_" + fam, "gauge", "The %s for "
                      "different resources of a node." % fam,
                      collections.OrderedDict(node=name, resource="cpu",
                                              unit="core"), cores)
                F.add("kube_node_status_" + fam, "gauge", "",
                      collections.OrderedDict(node=name, resource="memory",
                                              unit="byte"), mem)
            F.add("node_memory_MemTotal_bytes", "gauge", "Memory information "
                  "field MemTotal_bytes.", collections.OrderedDict(
                      instance=ip + ":9100", node=name), mem)
            F.add("node_memory_MemAvailable_bytes", "gauge", "Memory "
                  "information field MemAvailable_bytes.",
                  collections.OrderedDict(instance=ip + ":9100", node=name),
                  max(0, int(mem - 1024 ** 3 - node_mem[name])))
    return F.render()


# ======================================================================
# HTTP servers
# ======================================================================
def log(msg):
    try:
        sys.stderr.write("kubesim %s %s\n" % (time.strftime("%H:%M:%S"), msg))
        sys.stderr.flush()
    except Exception:
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        e = sys.exc_info()[1]
        log("connection error from %s: %s: %s" % (
            client_address[0], type(e).__name__, e))


class BaseHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kubesim"
    sys_version = ""
    timeout = 300

    def log_message(self, fmt, *args):
        pass

    def read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            data = b""
            while True:
                line = self.rfile.readline()
                n = int(line.strip().split(b";")[0] or b"0", 16)
                if n == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                data += self.rfile.read(n)
                self.rfile.readline()
            return data
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def send(self, code, body, ctype="application/json", headers=None):
        if isinstance(body, (dict, list)):
            body = json_bytes(body)
        elif isinstance(body, str):
            body = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype or "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache, private")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET


class ApiHandler(BaseHandler):
    def setup(self):
        self.request.settimeout(10)
        self.request = self.server.ssl_ctx.wrap_socket(self.request,
                                                       server_side=True)
        http.server.BaseHTTPRequestHandler.setup(self)

    def authenticate(self):
        cl = self.server.cluster
        auth = self.headers.get("Authorization")
        if auth:
            if auth[:7].lower() == "bearer ":
                tok = auth[7:].strip()
                with cl.lock:
                    u = cl.tokens.get(tok) if tok else None
                if u is not None:
                    return {"name": u, "groups": (
                        ["system:authenticated"] if u == cl.forbidden_user
                        else ["system:masters", "system:authenticated"])}
        try:
            cert = self.connection.getpeercert()
        except Exception:
            cert = None
        if cert:
            cn, orgs = None, []
            for rdn in cert.get("subject", ()):
                for k, v in rdn:
                    if k == "commonName":
                        cn = v
                    elif k == "organizationName":
                        orgs.append(v)
            if cn:
                return {"name": cn, "groups": orgs + ["system:authenticated"]}
        return None

    def dispatch(self):
        t0 = time.time()
        cl = self.server.cluster
        try:
            body = self.read_body()
        except Exception as e:
            log("bad request body: %s" % e)
            self.close_connection = True
            return
        u = urlsplit(self.path)
        query = dict(parse_qsl(u.query, keep_blank_values=True))
        headers = {k.lower(): v for k, v in self.headers.items()}
        user = self.authenticate()
        req = Request(self.command, u.path, query, headers, body, user or {})
        entry = {"time": t0, "method": self.command, "path": u.path,
                 "query": query, "content_type": headers.get("content-type"),
                 "body": _body_for_log(body),
                 "user": (user or {}).get("name"),
                 "accept": headers.get("accept"),
                 "user_agent": headers.get("user-agent"), "status": None}
        code = 500
        recorded = False
        try:
            if user is None and u.path not in ("/healthz", "/livez",
                                               "/readyz", "/version"):
                raise ApiError(401, "Unauthorized", "Unauthorized")
            fault = cl.match_fault(self.command, u.path,
                                   query.get("watch") in ("1", "true"))
            if fault is not None:
                req.stream_fault = fault
                if fault.get("delay"):
                    time.sleep(float(fault["delay"]))
                if fault.get("drop"):
                    code = 0
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                if fault.get("status"):
                    e = status_for_code(int(fault["status"]),
                                        fault.get("message"),
                                        fault.get("retry_after"))
                    if fault.get("reason"):
                        e.status["reason"] = fault["reason"]
                    raise e
            result = cl.handle(req)
            if result[0] == "watch":
                code = 200
                # logged as it starts: a watch may last for minutes
                entry["status"] = code
                cl.record(entry)
                recorded = True
                self.stream_watch(*result[1])
                return
            code, payload, ctype, hdrs = result
            self.send(code, payload, ctype, hdrs)
        except ApiError as e:
            code = e.code
            self.send(e.code, e.status, "application/json", e.headers)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError,
                socket.timeout) as e:
            code = 0
            self.close_connection = True
            log("client went away: %s" % e)
        except Exception as e:
            code = 500
            traceback.print_exc()
            try:
                self.send(500, ApiError(500, "InternalError",
                                        "Internal error occurred: %s"
                                        % e).status)
            except Exception:
                self.close_connection = True
        finally:
            entry["status"] = code
            if not recorded:
                cl.record(entry)
            log("%s %s %s %s%s %d %.1fms" % (
                self.client_address[0], (user or {}).get("name", "-"),
                self.command, u.path, "?" + u.query if u.query else "",
                code, (time.time() - t0) * 1000))

    def stream_watch(self, res, version, ns, req):
        cl = self.server.cluster
        try:
            ts = int(req.query.get("timeoutSeconds") or 1800)
        except ValueError:
            ts = 1800
        deadline = time.time() + max(0, ts)
        state = {"sent": False, "events": 0}
        fault = getattr(req, "stream_fault", None) or {}
        if fault.get("end_after") is not None:
            deadline = min(deadline, time.time() + float(fault["end_after"]))

        def start():
            if not state["sent"]:
                state["sent"] = True
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Transfer-Encoding", "chunked")
                self.send_header("Cache-Control", "no-cache, private")
                self.end_headers()

        def chunk(data):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

        def write(ev):
            start()
            data = json_bytes(ev)
            if fault.get("split"):
                chunk(data[:len(data) // 2])
                time.sleep(float(fault["split"]))
                chunk(data[len(data) // 2:])
            else:
                chunk(data)
            state["events"] += 1
            if fault.get("drop_after") is not None and \
                    state["events"] >= int(fault["drop_after"]):
                raise _WatchDropped()
        try:
            if fault.get("garbage"):
                start()
                g = fault["garbage"]
                chunk((g if isinstance(g, str) else "<html>garbage</html>")
                      .encode() + b"\n")
            if fault.get("drop_after") is not None and \
                    int(fault["drop_after"]) <= 0:
                start()
                raise _WatchDropped()
            if fault.get("error410"):
                write({"type": "ERROR", "object": {
                    "kind": "Status", "apiVersion": "v1", "metadata": {},
                    "status": "Failure", "message": "too old resource "
                    "version: %s (%d)" % (req.query.get("resourceVersion"),
                                          cl.rv), "reason": "Expired",
                    "code": 410}})
            else:
                cl.watch_events(res, version, ns, req, write, deadline)
            start()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except _WatchDropped:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        except ApiError:
            if state["sent"]:
                self.close_connection = True
                return
            raise
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError,
                socket.timeout, OSError):
            self.close_connection = True


class _WatchDropped(Exception):
    """A fault: cut a watch's connection mid-stream."""


def _body_for_log(body):
    if not body:
        return None
    try:
        return json.loads(body.decode("utf-8"))
    except Exception:
        return body.decode("utf-8", "replace")


class ControlHandler(BaseHandler):
    def dispatch(self):
        cl = self.server.cluster
        u = urlsplit(self.path)
        path = u.path.rstrip("/") or "/"
        query = dict(parse_qsl(u.query, keep_blank_values=True))
        m = self.command
        try:
            body = self.read_body()
            data = None
            if body:
                try:
                    data = json.loads(body.decode("utf-8"))
                except ValueError:
                    data = list(yaml.safe_load_all(body.decode("utf-8")))
            if m in ("GET", "HEAD") and path == "/metrics":
                return self.send(200, render_metrics(cl),
                                 "text/plain; version=0.0.4; charset=utf-8")
            if path in ("/healthz", "/"):
                return self.send(200, "ok\n", "text/plain")
            if path == "/_sim/load" and m == "POST":
                cl.sim.set_load(data["namespace"], data["deployment"],
                                float(data["rps"]))
                return self.send(200, {"ok": True})
            if path == "/_sim/load" and m == "GET":
                with cl.lock:
                    return self.send(200, [{"namespace": k[0],
                                            "deployment": k[1], "rps": v}
                                           for k, v in cl.sim.load.items()])
            if path == "/_sim/requests":
                if m == "DELETE":
                    with cl.lock:
                        cl.requests = []
                    return self.send(200, {"ok": True})
                with cl.lock:
                    reqs = list(cl.requests)
                since = query.get("since")
                if since:
                    reqs = [r for r in reqs if r["time"] > float(since)]
                return self.send(200, reqs)
            if path == "/_sim/fault":
                if m == "DELETE":
                    with cl.lock:
                        cl.faults = []
                    return self.send(200, {"ok": True})
                if m == "POST":
                    f = cl.add_fault(data or {})
                    return self.send(200, {"ok": True, "fault": f})
                with cl.lock:
                    return self.send(200, [{k: v for k, v in f.items()
                                            if k != "_rx"}
                                           for f in cl.faults])
            if path == "/_sim/objects" and m in ("POST", "PUT"):
                objs = data if isinstance(data, list) else [data]
                out = []
                for o in objs:
                    if o is None:
                        continue
                    r = cl.apply_object(o)
                    out.extend(r if isinstance(r, list) else [r])
                return self.send(200, {"kind": "List", "apiVersion": "v1",
                                       "items": out})
            mo = re.match(r'^/_sim/deployments/([^/]+)/([^/]+)$', path)
            if mo and m == "GET":
                with cl.lock:
                    o = cl.raw_get("apps", "deployments", mo.group(1),
                                   mo.group(2))
                    if o is None:
                        raise err_not_found(cl.res_of("apps", "deployments"),
                                            mo.group(2))
                    return self.send(200, cl.output(cl.res_of(
                        "apps", "deployments"), o))
            mo = re.match(r'^/_sim/objects/([^/]*)/([^/]+)/([^/]*)/([^/]+)$',
                          path)
            if mo and m in ("GET", "DELETE"):
                g, p, ns, name = mo.groups()
                g = "" if g in ("core", "") else g
                with cl.lock:
                    res = cl.res_of(g, p)
                    o = cl.raw_get(g, p, ns, name) if res else None
                    if o is None:
                        raise ApiError(404, "NotFound", "not found")
                    if m == "DELETE":
                        cl.sim_delete(g, p, ns, name)
                    return self.send(200, cl.output(res, o))
            if path == "/_sim/pods" and m == "GET":
                with cl.lock:
                    out = []
                    for p in sorted(cl.sim.pods.values(),
                                    key=lambda x: (x.ns, x.name)):
                        if query.get("namespace") not in (None, p.ns):
                            continue
                        if query.get("deployment") not in (None, p.dep):
                            continue
                        out.append({"namespace": p.ns, "name": p.name,
                                    "deployment": p.dep, "hash": p.hash,
                                    "node": p.node, "ready": p.ready,
                                    "containers": [{
                                        "name": c.name, "ready": c.ready,
                                        "restarts": c.restarts,
                                        "cpu_seconds": c.cpu,
                                        "cpu_limit": c.cpu_limit,
                                        "memory_limit": c.mem_limit}
                                        for c in p.containers]})
                return self.send(200, out)
            if path == "/_sim/crash" and m == "POST":
                d = data or {}
                done = cl.sim.crash(d.get("namespace", "default"),
                                    d.get("deployment"), d.get("pod"),
                                    d.get("container"),
                                    d.get("reason", "OOMKilled"),
                                    int(d.get("exit_code", 137)),
                                    int(d.get("count", 1)))
                return self.send(200, {"pods": done})
            if path == "/_sim/rbac" and m == "POST":
                d = data or {}
                with cl.lock:
                    cl.deny = [{"verbs": set(r.get("verbs") or []),
                                "resources": set(r.get("resources") or
                                                 ["*"])}
                               for r in (d.get("deny") or [d])]
                return self.send(200, {"ok": True})
            if path == "/_sim/tokens" and m == "POST":
                d = data or {}
                with cl.lock:
                    for t, u in (d.get("add") or {}).items():
                        cl.tokens[t] = u
                    for t in d.get("remove") or []:
                        cl.tokens.pop(t, None)
                    n = len(cl.tokens)
                return self.send(200, {"tokens": n})
            if path == "/_sim/compact" and m == "POST":
                with cl.lock:
                    cl.history.clear()
                    cl.compacted = cl.rv + 1
                return self.send(200, {"compacted": cl.compacted})
            if path == "/_sim/crd" and m == "POST":
                d = data or {}
                with cl.lock:
                    r = Res(d["group"], d["version"], d["plural"], d["kind"],
                            namespaced=d.get("namespaced", True),
                            short=d.get("shortNames") or (),
                            subresources=["status"] if d.get("status", True)
                            else [], builtin=False, generation=True)
                    cl.resources.append(r)
                return self.send(200, {"ok": True})
            return self.send(404, {"error": "no such control endpoint: %s %s"
                                   % (m, path)})
        except ApiError as e:
            return self.send(e.code, e.status)
        except Exception as e:
            traceback.print_exc()
            return self.send(400, {"error": "%s: %s" % (type(e).__name__, e)})


def _cluster_add_fault(self, f):
    f = dict(f)
    f.setdefault("count", 1)
    f["_rx"] = re.compile(f.get("path_regex") or ".*")
    with self.lock:
        self.faults.append(f)
    return {k: v for k, v in f.items() if k != "_rx"}


def _cluster_match_fault(self, method, path, watch=False):
    with self.lock:
        for f in self.faults:
            if f.get("method") and f["method"].upper() != method:
                continue
            if f.get("watch") is not None and bool(f["watch"]) != watch:
                continue
            if not f["_rx"].search(path):
                continue
            if f["count"] == 0:
                continue
            if f["count"] > 0:
                f["count"] -= 1
            return f
    return None


def _cluster_record(self, entry):
    with self.lock:
        self.requests.append(entry)
        if len(self.requests) > 20000:
            del self.requests[:5000]


Cluster.add_fault = _cluster_add_fault
Cluster.match_fault = _cluster_match_fault
Cluster.record = _cluster_record


# ======================================================================
# kubeconfigs, CLI
# ======================================================================
def write_kubeconfigs(d, api_url, token, forbidden_token):
    with open(os.path.join(d, "ca.crt"), "rb") as f:
        ca_data = base64.b64encode(f.read()).decode()

    def kc(cluster, user):
        return {"apiVersion": "v1", "kind": "Config", "preferences": {},
                "clusters": [{"name": "sim", "cluster": dict(
                    server=api_url, **cluster)}],
                "users": [{"name": "sim-user", "user": user}],
                "contexts": [{"name": "sim", "context": {
                    "cluster": "sim", "user": "sim-user",
                    "namespace": "default"}}],
                "current-context": "sim"}
    files = {
        "kubeconfig-token.yaml": kc({"certificate-authority-data": ca_data},
                                    {"token": token}),
        "kubeconfig-cert.yaml": kc({"certificate-authority": "ca.crt"},
                                   {"client-certificate": "client.crt",
                                    "client-key": "client.key"}),
        "kubeconfig-insecure.yaml": kc({"insecure-skip-tls-verify": True},
                                       {"token": token}),
        "kubeconfig-forbidden.yaml": kc(
            {"certificate-authority-data": ca_data},
            {"token": forbidden_token}),
    }
    for name, doc in files.items():
        p = os.path.join(d, name)
        with open(p, "w") as f:
            yaml.safe_dump(doc, f, default_flow_style=False, sort_keys=False)
        os.chmod(p, 0o600)


def load_manifests(paths):
    objs = []
    for p in paths:
        with open(p) as f:
            for doc in yaml.safe_load_all(f):
                if doc is None:
                    continue
                if isinstance(doc, list):
                    objs.extend(doc)
                else:
                    objs.append(doc)
    return objs


def main(argv=None):
    ap = argparse.ArgumentParser(description="Kubernetes API simulator")
    ap.add_argument("--state-dir", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--metrics-port", type=int, default=0)
    ap.add_argument("--objects", action="append", nargs="+", default=[],
                    help="YAML/JSON manifests (multi-document) to load")
    ap.add_argument("--token", help="bearer token (default: generated)")
    ap.add_argument("--forbidden-token",
                    help="token of a user denied --forbidden-verbs")
    ap.add_argument("--forbidden-user", default="sim-readonly")
    ap.add_argument("--forbidden-verbs", default="patch,update")
    ap.add_argument("--tick", type=float, default=0.1,
                    help="controller period in seconds")
    args = ap.parse_args(argv)

    d = os.path.abspath(args.state_dir)
    os.makedirs(d, exist_ok=True)
    try:
        os.unlink(os.path.join(d, "ready.json"))
    except FileNotFoundError:
        pass
    import pki
    pki.make_pki(d)
    token = args.token or secrets.token_hex(24)
    ftoken = args.forbidden_token or secrets.token_hex(24)
    with open(os.path.join(d, "token"), "w") as f:
        f.write(token + "\n")
    with open(os.path.join(d, "forbidden-token"), "w") as f:
        f.write(ftoken + "\n")

    cluster = Cluster(token, ftoken, args.forbidden_user,
                      [v for v in args.forbidden_verbs.split(",") if v],
                      args.tick)
    for o in load_manifests([p for grp in args.objects for p in grp]):
        try:
            cluster.apply_object(o)
        except ApiError as e:
            log("--objects: %s/%s: %s" % (
                o.get("kind") if isinstance(o, dict) else "?",
                ((o.get("metadata") or {}).get("name") if isinstance(o, dict)
                 else "?"), e.status["message"]))
            return 1

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(d, "server.crt"),
                        os.path.join(d, "server.key"))
    ctx.load_verify_locations(os.path.join(d, "ca.crt"))
    ctx.verify_mode = ssl.CERT_OPTIONAL
    ctx.set_alpn_protocols(["http/1.1"])
    api = Server(("127.0.0.1", args.port), ApiHandler)
    api.ssl_ctx = ctx
    api.cluster = cluster
    met = Server(("127.0.0.1", args.metrics_port), ControlHandler)
    met.cluster = cluster
    port, mport = api.server_address[1], met.server_address[1]
    cluster.server_addr = "127.0.0.1:%d" % port
    api_url = "https://127.0.0.1:%d" % port
    metrics_url = "http://127.0.0.1:%d" % mport
    write_kubeconfigs(d, api_url, token, ftoken)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    threads = [threading.Thread(target=api.serve_forever, daemon=True),
               threading.Thread(target=met.serve_forever, daemon=True),
               threading.Thread(target=cluster.sim.run, daemon=True)]
    for t in threads:
        t.start()
    ready = {"api_url": api_url, "metrics_url": metrics_url, "token": token,
             "pid": os.getpid(), "forbidden_token": ftoken,
             "forbidden_user": args.forbidden_user, "state_dir": d,
             "ca": os.path.join(d, "ca.crt"),
             "kubeconfig": {k: os.path.join(d, "kubeconfig-%s.yaml" % k)
                            for k in ("token", "cert", "insecure",
                                      "forbidden")}}
    tmp = os.path.join(d, "ready.json.tmp")
    with open(tmp, "w") as f:
        json.dump(ready, f)
    os.rename(tmp, os.path.join(d, "ready.json"))
    print(json.dumps(ready), flush=True)
    log("listening: api %s metrics %s" % (api_url, metrics_url))
    while not stop.wait(0.2):
        pass
    log("stopping")
    cluster.sim.stop_ev.set()
    cluster.sim.wake.set()
    api.shutdown()
    met.shutdown()
    api.server_close()
    met.server_close()
    return 0


# ======================================================================
# Python harness
# ======================================================================
class KubeSim:
    """Start/stop the simulator as a subprocess and talk to it.

        with KubeSim(tmpdir, objects=[deployment_dict]) as sim:
            sim.kubeconfig("token"); sim.set_load("shop", "web", 50)
    """
    PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") \
        else sys.executable

    def __init__(self, state_dir, objects=None, port=0, metrics_port=0,
                 args=()):
        self.state_dir = os.path.abspath(str(state_dir))
        self.objects = list(objects or [])
        self.port, self.metrics_port = port, metrics_port
        self.args = list(args)
        self.proc = None
        self.info = {}
        self._log = None

    # lifecycle
    def start(self, timeout=10.0):
        import subprocess
        os.makedirs(self.state_dir, exist_ok=True)
        ready = os.path.join(self.state_dir, "ready.json")
        try:
            os.unlink(ready)
        except FileNotFoundError:
            pass
        cmd = [self.PYTHON, os.path.abspath(__file__), "--state-dir",
               self.state_dir, "--port", str(self.port), "--metrics-port",
               str(self.metrics_port)] + self.args
        if self.objects:
            p = os.path.join(self.state_dir, "objects.json")
            with open(p, "w") as f:
                json.dump(self.objects, f)
            cmd += ["--objects", p]
        self._log = open(os.path.join(self.state_dir, "kubesim.log"), "ab")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                     stderr=self._log,
                                     stdin=subprocess.DEVNULL)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if os.path.exists(ready):
                with open(ready) as f:
                    self.info = json.load(f)
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        tail = ""
        try:
            with open(os.path.join(self.state_dir, "kubesim.log")) as f:
                tail = f.read()[-3000:]
        except OSError:
            pass
        raise RuntimeError("kubesim did not become ready:\n" + tail)

    def stop(self):
        p, self.proc = self.proc, None
        if p is not None and p.poll() is None:
            try:
                p.terminate()
                p.wait(5)
            except Exception:
                p.kill()
                p.wait(5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # facts
    @property
    def api_url(self):
        return self.info["api_url"]

    @property
    def metrics_url(self):
        return self.info["metrics_url"]

    @property
    def token(self):
        return self.info["token"]

    @property
    def forbidden_token(self):
        return self.info["forbidden_token"]

    @property
    def ca_path(self):
        return os.path.join(self.state_dir, "ca.crt")

    def kubeconfig(self, kind="token"):
        return os.path.join(self.state_dir, "kubeconfig-%s.yaml" % kind)

    # control port
    def _ctl(self, method, path, body=None):
        import urllib.request
        import urllib.error
        data = json.dumps(body).encode() if body is not None else None
        r = urllib.request.Request(self.metrics_url + path, data=data,
                                   method=method, headers={
                                       "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(r, timeout=10) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as e:
            raise RuntimeError("kubesim %s %s: %d %s" % (
                method, path, e.code, e.read().decode("utf-8", "replace")))
        ct = resp.headers.get("Content-Type", "")
        return json.loads(raw) if "json" in ct else raw.decode()

    def metrics(self):
        return self._ctl("GET", "/metrics")

    def set_load(self, ns, name, rps):
        return self._ctl("POST", "/_sim/load", {"namespace": ns,
                                                "deployment": name,
                                                "rps": rps})

    def requests(self, since=None):
        return self._ctl("GET", "/_sim/requests" + (
            "?since=%f" % since if since else ""))

    def clear_requests(self):
        return self._ctl("DELETE", "/_sim/requests")

    def fault(self, **kw):
        return self._ctl("POST", "/_sim/fault", kw)

    def clear_faults(self):
        return self._ctl("DELETE", "/_sim/fault")

    def deployment(self, ns, name):
        return self._ctl("GET", "/_sim/deployments/%s/%s" % (ns, name))

    def apply(self, obj):
        return self._ctl("POST", "/_sim/objects", obj)

    def pods(self, ns=None, deployment=None):
        q = []
        if ns:
            q.append("namespace=" + ns)
        if deployment:
            q.append("deployment=" + deployment)
        return self._ctl("GET", "/_sim/pods" + ("?" + "&".join(q) if q
                                                 else ""))

    def crash(self, ns, deployment=None, **kw):
        kw.update(namespace=ns, deployment=deployment)
        return self._ctl("POST", "/_sim/crash", kw)

    def rbac(self, deny):
        return self._ctl("POST", "/_sim/rbac", {"deny": deny})

    def add_token(self, token, user="sim-user"):
        """Accept one more bearer token (for credential rotation tests)."""
        return self._ctl("POST", "/_sim/tokens", {"add": {token: user}})

    def revoke_token(self, token):
        """Stop accepting a bearer token (the next request gets 401)."""
        return self._ctl("POST", "/_sim/tokens", {"remove": [token]})

    def compact(self):
        return self._ctl("POST", "/_sim/compact", {})

    # API port
    def api(self, method, path, body=None, content_type="application/json",
            token=None, headers=None, timeout=10):
        """One HTTPS request to the API; returns (status, parsed body)."""
        import http.client
        ctx = ssl.create_default_context(cafile=self.ca_path)
        u = urlsplit(self.api_url)
        conn = http.client.HTTPSConnection(u.hostname, u.port, context=ctx,
                                           timeout=timeout)
        h = {"Accept": "application/json"}
        tok = self.token if token is None else token
        if tok:
            h["Authorization"] = "Bearer " + tok
        if body is not None:
            if not isinstance(body, (bytes, str)):
                body = json.dumps(body)
            if isinstance(body, str):
                body = body.encode()
            h["Content-Type"] = content_type
        h.update(headers or {})
        try:
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            raw = r.read()
        finally:
            conn.close()
        try:
            return r.status, json.loads(raw)
        except ValueError:
            return r.status, raw.decode("utf-8", "replace")


if __name__ == "__main__":
    sys.exit(main())
