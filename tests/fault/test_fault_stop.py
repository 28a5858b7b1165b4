"""A graceful stop (SIGTERM, the control channel, ``jqtrade stop_task``) while a callback places orders.

The callback runs to its end, nothing else runs after it, the stop hook runs, the task exits
0, its registry record is released and its final state reported; every order the callback
placed is journaled as sent and is at the broker exactly once.
"""

from __future__ import annotations

import sys

import pytest
from fault_harness import run_stop

pytestmark = pytest.mark.slow

HOWS = [
    pytest.param(
        "sigterm",
        marks=pytest.mark.skipif(
            sys.platform == "win32", reason="Windows 没有可捕获的 SIGTERM，用控制通道"
        ),
    ),
    "control",
    "stop_task",
]


@pytest.mark.parametrize("how", HOWS)
def test_stop_in_the_middle_of_a_callback_is_clean(tmp_path, how):
    result = run_stop(tmp_path, how, seed=1)
    assert result.requested_mid_callback, result
    assert result.exit_code == 0, result
    assert result.callback_finished and result.orders_placed == 20, result
    assert result.hook_ran and not result.later_job_ran, result
    assert result.record_released, result
    if how != "sigterm":
        assert result.stopper_ok and result.final_state == "stopped", result
    assert (result.orders_journaled, result.orders_interrupted, result.orders_at_broker) == (
        20,
        0,
        20,
    ), result
