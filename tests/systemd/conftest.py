"""tests/systemd: each test's outcome on its item, for the step fixture of
test_unit_under_systemd.py (a step after a failed one is skipped)."""

import pytest


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call":
        item.rep_call = rep
