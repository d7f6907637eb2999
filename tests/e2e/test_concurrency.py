"""Targets run on a worker pool: a slow advisor for one target does not
delay the others (docs/contracts.md, ipad(8))."""

import pytest

from e2e_helpers import (EX_TEMPFAIL, conf_for, deployment, ipa_yaml, namespace,
                         only_record, replicas_of)
from llmstub import LLMStub

ADVISOR_TIMEOUT_S = 6


@pytest.fixture
def hanging_agent(tmp_path):
    with LLMStub(str(tmp_path / "hanging")) as s:
        s.mode("hang", seconds=60)
        yield s


def test_slow_advisor_does_not_delay_other_targets(sim, prometheus, llmstub, hanging_agent,
                                                   kubeconfig, run_ipad, decisions, unique):
    fast_ns, slow_ns = unique("fast"), unique("slow")
    for ns in (fast_ns, slow_ns):
        sim.apply(namespace(ns))
        sim.apply(deployment(ns, "web", 2))
    for ns in (fast_ns, slow_ns):  # no metrics at all would be a hold
        prometheus.wait_for('container_memory_working_set_bytes{namespace="%s",'
                            'container="app"}' % ns, lambda r: len(r) >= 2, timeout=30)
    llmstub.mode("fixed", text={"replicas": 3})
    # The slow target comes first, so a serial loop would wait for it.
    res = run_ipad(conf_for(kubeconfig, prometheus.url, timeout="%ds" % ADVISOR_TIMEOUT_S,
                            interval="60s"),
                   {"10-slow.yaml": ipa_yaml("slow", [{"deployment": "web", "namespace": slow_ns}],
                                             prometheus.url, hanging_agent.url),
                    "20-fast.yaml": ipa_yaml("fast", [{"deployment": "web", "namespace": fast_ns}],
                                             prometheus.url, llmstub.url)},
                   ["--once"])
    assert res.rc == EX_TEMPFAIL, res
    recs = decisions(res, 2)
    fast = only_record([r for r in recs if r["IPA_NAMESPACE"] == fast_ns], "web")
    slow = only_record([r for r in recs if r["IPA_NAMESPACE"] == slow_ns], "web")
    assert fast["IPA_ACTION"] == "scale" and fast["IPA_REPLICAS_TO"] == "3", fast
    assert replicas_of(sim, fast_ns, "web") == 3
    assert slow["IPA_ACTION"] == "hold" and slow["PRIORITY"] == "4", slow
    assert replicas_of(sim, slow_ns, "web") == 2
    # The fast decision was recorded while the slow advisor was still waited for.
    fast_t = int(fast["__REALTIME_TIMESTAMP"]) / 1e6
    slow_t = int(slow["__REALTIME_TIMESTAMP"]) / 1e6
    assert slow_t - fast_t > ADVISOR_TIMEOUT_S - 2.5, (fast_t, slow_t, fast, slow)
    assert int(slow["IPA_ADVISOR_LATENCY_MS"]) >= (ADVISOR_TIMEOUT_S - 1) * 1000, slow
