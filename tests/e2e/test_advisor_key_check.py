"""--check-config checks the advisor's API key file offline: a missing file
or one readable by group or others is refused with exit 78 (ipad.conf(5))."""

import os

import pytest

from e2e_helpers import EX_CONFIG, EX_OK, ini


def conf(kubeconfig, key):
    text = ini(kubeconfig=kubeconfig, prometheus="http://127.0.0.1:9", advisor="openai",
               advisor_url="http://127.0.0.1:9")
    return text.replace("type = openai", "type = openai\nmodel = m\napi-key-file = %s" % key)


@pytest.mark.parametrize("mode,rc", [(0o600, EX_OK), (0o400, EX_OK), (0o644, EX_CONFIG),
                                     (0o640, EX_CONFIG), (None, EX_CONFIG)])
def test_key_file_checked_by_check_config(kubeconfig, run_ipad, tmp_path, mode, rc):
    key = tmp_path / "advisor.key"
    if mode is not None:
        key.write_text("sk-test-not-a-secret\n")
        os.chmod(key, mode)
    res = run_ipad(conf(kubeconfig, key), [], ["--check-config"])
    assert res.rc == rc, res
    if rc == EX_OK:
        assert res.stdout.strip() == "0 targets, 1 cluster, advisor openai", res
        return
    assert "[advisor] API key %s" % key in res.stderr, res
    assert "sk-test" not in res.stderr + res.stdout, res
    if mode is not None:
        assert "chmod 600" in res.stderr, res
