"""The IPA informer (src/informer.c) against the simulator's list and watch:
a watch cut mid-stream resumes from the last resourceVersion, "too old"
(an ERROR 410 event, compactions in a row) lists again without a busy loop,
garbage and split lines neither stall nor crash it, ipa-namespaces lists
and watches only those namespaces, a missing CRD (404) and a missing
permission (403) are logged once each with what to apply. IPA objects
created, edited and deleted while ipad runs take effect at the next cycle.
The real ipad, kubesim (its request log and faults), Prometheus, the IPA
agent stub, journald.

Run: IPAD_BIN=$PWD/build/src/ipad unshare --mount --propagation private \
     /usr/bin/python3 -m pytest -q tests/e2e/test_informer.py
"""
import time

from e2e_helpers import (MSG_LIFECYCLE, delete_last_ipa, ipa_object, make_deployment,
                         namespace, wait_for_replicas, wait_until, watching_conf)

GV = "/apis/ipa.shafinhasnat.me/v1alpha1"


def ipa_requests(sim, ns, watch=None):
    """The simulator's logged GETs of namespace ns's IPA collection (watch
    True: only watches, False: only lists)."""
    path = "%s/namespaces/%s/ipas" % (GV, ns)
    out = [r for r in sim.requests() if r["method"] == "GET" and r["path"] == path]
    if watch is not None:
        out = [r for r in out if (r["query"].get("watch") == "1") == watch]
    return out


def listed(dm, lifecycle, ns, count):
    return lifecycle(dm, 1, timeout=15, MESSAGE="cluster sim: %d IPA objects listed in "
                     "namespace %s; watching them" % (count, ns))


def start_watching(start_ipad, lifecycle, kubeconfig, prometheus, ns, count):
    """ipad watching namespace ns, started and past its first list (count
    objects)."""
    dm = start_ipad(watching_conf(kubeconfig, prometheus, ns))
    listed(dm, lifecycle, ns, count)
    return dm


def post_ipa(sim, prometheus, llmstub, ns, name):
    """Creates IPA object ns/name (for Deployment web) with a POST; the
    object as created."""
    code, obj = sim.api("POST", "%s/namespaces/%s/ipas" % (GV, ns),
                        ipa_object(ns, name, [{"deployment": "web", "namespace": ns}],
                                   prometheus, llmstub))
    assert code == 201, obj
    return obj


def wait_for_watches(sim, ns, count, timeout=20):
    """The watches of namespace ns's IPA collection, once there are count."""
    return wait_until("%d watches" % count, lambda: (
        lambda w: w if len(w) >= count else None)(ipa_requests(sim, ns, watch=True)),
        timeout=timeout, step=0.1)


def test_dropped_watch_resumes_from_last_resource_version(
        sim, prometheus, llmstub, kubeconfig, start_ipad, decisions, lifecycle, unique):
    ns = unique("drop")
    make_deployment(sim, prometheus, ns)
    llmstub.mode("fixed", text={"replicas": 3})
    # the first watch is cut right after its first event
    sim.fault(watch=True, path_regex="/namespaces/%s/ipas$" % ns, drop_after=1, count=1)
    dm = start_watching(start_ipad, lifecycle, kubeconfig, prometheus, ns, 0)

    rv = post_ipa(sim, prometheus, llmstub, ns, "web-ipa")["metadata"]["resourceVersion"]
    watches = wait_for_watches(sim, ns, 2)
    first, second = watches[0]["query"], watches[1]["query"]
    assert second["resourceVersion"] == rv, (first, second)
    assert int(first["resourceVersion"]) < int(rv), first
    for q in (first, second):
        assert q["allowWatchBookmarks"] == "true", q
        assert 300 <= int(q["timeoutSeconds"]) <= 600, q
    # resumed, not listed again
    lists = ipa_requests(sim, ns, watch=False)
    assert len(lists) == 1 and lists[0]["query"]["limit"] == "500", lists

    # the object arrived before the cut: it is a target
    recs = decisions(dm, 1, timeout=20, IPA_NAME="web-ipa")
    assert recs[0]["IPA_DEPLOYMENT"] == "web", recs[0]
    # and the resumed watch delivers: an edit (maxReplicas 2) takes effect
    wait_for_replicas(sim, ns, 3, timeout=20, step=0.1)
    sim.apply(ipa_object(ns, "web-ipa", [{"deployment": "web", "namespace": ns,
                                          "maxReplicas": 2}], prometheus, llmstub))
    decisions(dm, 1, timeout=20, IPA_NAME="web-ipa", IPA_REPLICAS_TO="2")
    assert len(ipa_requests(sim, ns, watch=False)) == 1
    assert dm.stop() == 0, dm.stderr()[-4000:]


def test_watch_that_ends_is_started_again_from_the_last_resource_version(
        sim, kubeconfig, prometheus, llmstub, start_ipad, lifecycle, unique):
    ns = unique("ends")
    sim.apply(namespace(ns))
    # the first two watches end (normally) after a second, as at their
    # timeoutSeconds
    sim.fault(watch=True, path_regex="/namespaces/%s/ipas$" % ns, end_after=1, count=2)
    dm = start_watching(start_ipad, lifecycle, kubeconfig, prometheus, ns, 0)
    obj = post_ipa(sim, prometheus, llmstub, ns, "one")
    watches = wait_for_watches(sim, ns, 3, timeout=10)
    # at once (no backoff after a normal end), from the last version seen
    assert watches[2]["time"] - watches[0]["time"] < 3.5, watches
    rvs = [int(w["query"]["resourceVersion"]) for w in watches[:3]]
    assert rvs[0] < int(obj["metadata"]["resourceVersion"]) <= rvs[1] <= rvs[2], watches
    assert len(ipa_requests(sim, ns, watch=False)) == 1
    assert dm.stop() == 0, dm.stderr()[-4000:]


def test_too_old_relists_without_a_busy_loop(
        sim, prometheus, llmstub, kubeconfig, start_ipad, decisions, lifecycle, unique):
    ns = unique("gone")
    make_deployment(sim, prometheus, ns)
    llmstub.mode("fixed", text={"replicas": 2})
    sim.apply(ipa_object(ns, "web-ipa", [{"deployment": "web", "namespace": ns}],
                         prometheus, llmstub))
    # a storm: every watch is too old (as after compactions in a row), first
    # as an ERROR 410 event in the stream, then as HTTP 410 answers
    coll = "/namespaces/%s/ipas$" % ns
    sim.fault(watch=True, path_regex=coll, error410=True, count=2)
    sim.fault(watch=True, path_regex=coll, status=410, reason="Expired",
              message="too old resource version: 1 (2)", count=-1)
    dm = start_watching(start_ipad, lifecycle, kubeconfig, prometheus, ns, 1)
    started = time.monotonic()
    # the store stays usable: the target runs
    decisions(dm, 1, timeout=20, IPA_NAME="web-ipa")
    time.sleep(max(0, 4 - (time.monotonic() - started)))
    lists = ipa_requests(sim, ns, watch=False)
    watches = ipa_requests(sim, ns, watch=True)
    # relisted after each, at once and then backing off (0.5 s doubling):
    # a handful, not a busy loop
    assert 3 <= len(lists) <= 9, len(lists)
    assert len(watches) in (len(lists), len(lists) - 1), (len(lists), len(watches))
    assert [w["status"] for w in watches[:3]] == [200, 200, 410], watches
    assert all(not q["query"].get("resourceVersion") for q in lists), lists

    # over: a change made now arrives (through the next relist)
    sim.clear_faults()
    sim.apply(ipa_object(ns, "web-ipa", [{"deployment": "web", "namespace": ns,
                                          "maxReplicas": 1}], prometheus, llmstub))
    decisions(dm, 1, timeout=30, IPA_NAME="web-ipa", IPA_REPLICAS_TO="1")
    after = len(ipa_requests(sim, ns, watch=False))
    time.sleep(2)
    assert len(ipa_requests(sim, ns, watch=False)) == after
    assert dm.stop() == 0, dm.stderr()[-4000:]


def test_garbage_and_split_lines_do_not_stall(
        sim, prometheus, llmstub, kubeconfig, start_ipad, decisions, lifecycle, unique):
    ns = unique("junk")
    make_deployment(sim, prometheus, ns)
    llmstub.mode("fixed", text={"replicas": 3})
    # every watch: a garbage line first, then each event in two chunks
    sim.fault(watch=True, path_regex="/namespaces/%s/ipas$" % ns, garbage=True,
              split=0.3, count=-1)
    dm = start_watching(start_ipad, lifecycle, kubeconfig, prometheus, ns, 0)
    warned = lifecycle(dm, 1, timeout=10, PRIORITY="4")
    assert [r["MESSAGE"] for r in warned] == [
        "cluster sim: watch of IPA objects: skipped a watch event line of 20 bytes "
        "(not JSON): \"<html>garbage</html>\""], warned

    sim.apply(ipa_object(ns, "web-ipa", [{"deployment": "web", "namespace": ns}],
                         prometheus, llmstub))
    decisions(dm, 1, timeout=20, IPA_NAME="web-ipa")
    wait_for_replicas(sim, ns, 3, timeout=20, step=0.1)
    sim.apply(ipa_object(ns, "web-ipa", [{"deployment": "web", "namespace": ns,
                                          "maxReplicas": 2}], prometheus, llmstub))
    decisions(dm, 1, timeout=20, IPA_NAME="web-ipa", IPA_REPLICAS_TO="2")

    # deleted: no more records for it
    delete_last_ipa(sim, dm, decisions, lifecycle, ns, "web-ipa")
    # one watch all along, and one list
    assert len(ipa_requests(sim, ns, watch=True)) == 1
    assert len(ipa_requests(sim, ns, watch=False)) == 1
    assert len(lifecycle(dm, 1, PRIORITY="4")) == 1
    assert dm.stop() == 0, dm.stderr()[-4000:]


def test_only_the_configured_namespaces(sim, kubeconfig, prometheus, llmstub, start_ipad,
                                         lifecycle, unique):
    a, b, other = unique("ns-a"), unique("ns-b"), unique("ns-c")
    for ns in (a, b, other):
        sim.apply(namespace(ns))
    sim.apply(ipa_object(a, "one", [{"deployment": "web", "namespace": a}],
                         prometheus, llmstub))
    sim.apply(ipa_object(other, "two", [{"deployment": "web", "namespace": other}],
                         prometheus, llmstub))
    dm = start_ipad(watching_conf(kubeconfig, prometheus, "%s, %s %s" % (a, b, a)))
    listed(dm, lifecycle, a, 1)
    listed(dm, lifecycle, b, 0)
    wait_until("two watches", lambda: ipa_requests(sim, a, True) and ipa_requests(sim, b, True),
               timeout=20, step=0.1)
    # lists and watches (the IPA objects' own paths are read for their status)
    paths = {r["path"] for r in sim.requests()
             if r["path"].endswith("/ipas") and r["method"] == "GET"}
    assert paths == {"%s/namespaces/%s/ipas" % (GV, a), "%s/namespaces/%s/ipas" % (GV, b)}, \
        paths
    assert dm.stop() == 0, dm.stderr()[-4000:]


def test_list_pages(sim, kubeconfig, prometheus, llmstub, start_ipad, lifecycle, unique):
    ns = unique("pages")
    sim.apply(namespace(ns))
    for name in ("c", "a", "b"):
        sim.apply(ipa_object(ns, name, [{"deployment": name, "namespace": ns}],
                             prometheus, llmstub))
    # the server answers pages of one object
    sim.fault(watch=False, path_regex="/namespaces/%s/ipas$" % ns, limit=1, count=-1)
    dm = start_watching(start_ipad, lifecycle, kubeconfig, prometheus, ns, 3)
    lists = ipa_requests(sim, ns, watch=False)
    assert [bool(r["query"].get("continue")) for r in lists] == [False, True, True], lists
    assert all(r["query"]["limit"] == "500" for r in lists), lists
    assert dm.stop() == 0, dm.stderr()[-4000:]


def test_unreachable_logged_once(sim, kubeconfig, prometheus, start_ipad, lifecycle, journald,
                                 unique):
    ns = unique("down")
    sim.apply(namespace(ns))
    # every list of the collection: the connection is closed unanswered
    sim.fault(path_regex="/namespaces/%s/ipas$" % ns, drop=True, count=-1)
    dm = start_ipad(watching_conf(kubeconfig, prometheus, ns))
    prefix = "cluster sim: cannot list IPA objects in namespace %s: GET " % ns
    lifecycle(dm, 1, timeout=10, PRIORITY="4")
    time.sleep(3.5)
    # the cluster counts as unreachable for 5 s (kube.h): the retries in
    # between fail at once, with a message that changes every time
    tries = ipa_requests(sim, ns)
    assert tries and all(r["status"] == 0 for r in tries), tries
    failed = [r for r in journald.read(MESSAGE_ID=MSG_LIFECYCLE, _PID=str(dm.pid))
              if r["MESSAGE"].startswith(prefix)]
    assert len(failed) == 1, failed
    assert failed[0]["PRIORITY"] == "4", failed
    sim.clear_faults()
    lifecycle(dm, 1, timeout=30, PRIORITY="5", MESSAGE="cluster sim: IPA objects in "
              "namespace %s are listed and watched again (0 objects)" % ns)
    assert dm.stop() == 0, dm.stderr()[-4000:]


def test_missing_crd_and_rbac_logged_once(sim, kubeconfig, prometheus, start_ipad, lifecycle,
                                          unique):
    ns = unique("perm")
    sim.apply(namespace(ns))
    sim.fault(path_regex="/namespaces/%s/ipas$" % ns, status=404, count=-1,
              message="the server could not find the requested resource")
    dm = start_ipad(watching_conf(kubeconfig, prometheus, ns))
    crd = ("cluster sim: the IPA CustomResourceDefinition is not installed in cluster sim; "
           "kubectl apply -f /usr/share/ipad/manifests/ipa-crd.yaml (GET %s/namespaces/%s/"
           "ipas: 404 NotFound: the server could not find the requested resource; IPA "
           "objects are not watched until then, retrying)" % (GV, ns))
    lifecycle(dm, 1, timeout=10, MESSAGE=crd, PRIORITY="4")
    time.sleep(3)
    # retried with a backoff (0.5 s doubling), logged once
    tries = len(ipa_requests(sim, ns))
    assert 3 <= tries <= 8, tries
    assert len(lifecycle(dm, 1, MESSAGE=crd)) == 1

    sim.clear_faults()
    sim.fault(path_regex="/namespaces/%s/ipas$" % ns, status=403, count=-1,
              message='ipas.ipa.shafinhasnat.me is forbidden: User "sim-user" cannot '
                      'list resource "ipas" in API group "ipa.shafinhasnat.me" in the '
                      'namespace "%s"' % ns)
    rbac = lifecycle(dm, 1, timeout=15, PRIORITY="4", MESSAGE=(
        "cluster sim: ipad may not list IPA objects in namespace %s; grant get, list and "
        "watch on ipas.ipa.shafinhasnat.me to its user: kubectl apply -f /usr/share/ipad/"
        "manifests/ipad-rbac.yaml (GET %s/namespaces/%s/ipas: 403 Forbidden: "
        "ipas.ipa.shafinhasnat.me is forbidden: User \"sim-user\" cannot list resource "
        "\"ipas\" in API group \"ipa.shafinhasnat.me\" in the namespace \"%s\"; retrying)"
        % (ns, GV, ns, ns)))
    assert len(rbac) == 1
    sim.clear_faults()
    lifecycle(dm, 1, timeout=40, PRIORITY="5", MESSAGE="cluster sim: IPA objects in "
              "namespace %s are listed and watched again (0 objects)" % ns)
    assert dm.stop() == 0, dm.stderr()[-4000:]
