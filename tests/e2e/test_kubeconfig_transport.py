"""End-to-end: how ipad reaches an API server as a kubeconfig cluster says:
tls-server-name (the name the server's certificate is checked against,
not the address) and proxy-url (an HTTP CONNECT proxy, tests/sim/connectproxy.py).
"""

import uuid

import pytest
import yaml

from connectproxy import ConnectProxy
from e2e_helpers import EX_OK, EX_TEMPFAIL, deployment, ini, ipa_yaml, namespace
from prometheus import free_port


@pytest.fixture(scope="module")
def ns(kubesim):
    n = "tr-" + uuid.uuid4().hex[:6]
    kubesim.apply(namespace(n))
    kubesim.apply(deployment(n, "web", 2))
    return n


def kubeconfig_with(kubesim, tmp_path, name, **cluster):
    """The simulator's token kubeconfig with cluster fields changed."""
    with open(kubesim.kubeconfig("token")) as f:
        doc = yaml.safe_load(f)
    doc["clusters"][0]["cluster"].update(cluster)
    p = tmp_path / (name + ".yaml")
    p.write_text(yaml.safe_dump(doc))
    return str(p)


def once(run_ipad, kc, ns, llmstub):
    """ipad --once --dry-run on the Deployment: the API is used (reads),
    metrics are missing (no Prometheus), so the record says why it held."""
    conf = ini(kubeconfig=kc, prometheus="http://127.0.0.1:%d" % free_port(),
               cluster="tr", log_target="stderr", log_format="json", dry_run=True,
               extra="request-timeout = 3s\n")
    return run_ipad(conf, [ipa_yaml("web", [{"deployment": "web", "namespace": ns}],
                                    "http://127.0.0.1:9", llmstub.url)], ["--once"])


def api_reads(kubesim, ns):
    return [r for r in kubesim.requests()
            if r["path"] == "/apis/apps/v1/namespaces/%s/deployments/web" % ns]


def test_tls_server_name(kubesim, ns, run_ipad, llmstub, tmp_path):
    # 127.0.0.1 is also in the certificate: a name it does not hold must fail,
    # so the name is what is verified, and one it holds must pass
    kubesim.clear_requests()
    res = once(run_ipad, kubeconfig_with(kubesim, tmp_path, "good",
                                         **{"tls-server-name": "kubernetes"}), ns, llmstub)
    assert res.rc in (EX_OK, EX_TEMPFAIL), res
    assert api_reads(kubesim, ns), res

    kubesim.clear_requests()
    res = once(run_ipad, kubeconfig_with(kubesim, tmp_path, "bad",
                                         **{"tls-server-name": "api.wrong.example"}),
               ns, llmstub)
    assert res.rc == EX_TEMPFAIL, res
    assert not api_reads(kubesim, ns), res
    assert "api.wrong.example" in res.stderr and "certificate" in res.stderr.lower(), res


def test_proxy_url(kubesim, ns, run_ipad, llmstub, tmp_path):
    with ConnectProxy() as proxy:
        kubesim.clear_requests()
        res = once(run_ipad, kubeconfig_with(kubesim, tmp_path, "proxied",
                                             **{"proxy-url": proxy.url}), ns, llmstub)
        assert res.rc in (EX_OK, EX_TEMPFAIL), res
        assert api_reads(kubesim, ns), res
        port = kubesim.api_url.rsplit(":", 1)[1]
        assert proxy.targets() and set(proxy.targets()) == {"127.0.0.1:" + port}, \
            proxy.targets()

    # the proxy is gone: the cluster is unreachable, with the proxy named
    kubesim.clear_requests()
    dead = "http://127.0.0.1:%d" % free_port()
    res = once(run_ipad, kubeconfig_with(kubesim, tmp_path, "dead-proxy",
                                         **{"proxy-url": dead}), ns, llmstub)
    assert res.rc == EX_TEMPFAIL, res
    assert not api_reads(kubesim, ns), res
    assert "proxy" in res.stderr.lower(), res
