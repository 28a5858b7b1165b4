"""Several processes append orders to one algoOrder file at once through LockedAppender."""

from __future__ import annotations

import pytest
from fault_harness import run_appenders

pytestmark = pytest.mark.slow


def test_concurrent_appenders_leave_whole_lines_and_one_header(tmp_path):
    result = run_appenders(tmp_path, processes=4, per_process=200)
    assert result.headers == 1
    assert (result.data_lines, result.well_formed) == (800, 800), result
    assert (result.missing, result.duplicated, result.out_of_order) == (0, 0, 0), result
