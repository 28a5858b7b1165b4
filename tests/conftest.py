"""Shared test setup: hypothesis profiles, a foreign machine time zone, ``restore_sys_path``.

Tests run with the process time zone pinned to America/New_York so that anything that
accidentally uses the machine's local zone instead of market time fails loudly.

Plain helpers (``cli_env``, ``wait_for``) are in ``tests/support.py``.
"""

from __future__ import annotations

import os
import sys
import time

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile("thorough", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True, scope="session")
def _foreign_timezone():
    old = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    if hasattr(time, "tzset"):
        time.tzset()
    yield
    if old is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = old
    if hasattr(time, "tzset"):
        time.tzset()


#: Names of the modules a test brings in by loading strategy files: the loader's own names for
#: the files, and the ``jqt_`` prefix our test strategies' sibling helpers carry.
TEST_MODULE_PREFIXES = ("jqtrade_strategy_", "jqt_")


@pytest.fixture
def restore_sys_path():
    """Undo what loading a strategy file does to the interpreter: the loader puts the file's
    folder on ``sys.path`` and the module (and whatever it imports) in ``sys.modules``.

    ``sys.path`` comes back as it was. Of the modules imported meanwhile only the test's own
    are forgotten (see ``TEST_MODULE_PREFIXES``), never a jqtrade or stdlib module imported
    lazily during the test: a second copy of ``jqtrade.x`` made by a later import would hold
    classes of its own, and ``isinstance`` checks and module state in later tests would break.
    """
    saved_path, saved_modules = list(sys.path), set(sys.modules)
    yield
    sys.path[:] = saved_path
    for name in set(sys.modules) - saved_modules:
        if name.startswith(TEST_MODULE_PREFIXES):
            del sys.modules[name]
