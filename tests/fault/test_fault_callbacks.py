"""User callbacks that raise, over and over: the task keeps running and logs every traceback."""

from __future__ import annotations

import pytest
from fault_harness import run_raising_callbacks

pytestmark = pytest.mark.slow


def test_every_raising_callback_is_logged_with_its_traceback_and_the_loop_goes_on(tmp_path):
    result = run_raising_callbacks(tmp_path, count=100)
    assert result.exit_code == 0, result
    assert result.error_records == 100, result
    assert result.with_traceback == 100, result
    assert result.calls == result.expected_calls, result  # every later firing still happened
    assert result.healthy_days == 1, result
