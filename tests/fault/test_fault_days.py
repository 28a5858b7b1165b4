"""Many simulated trading days across a holiday and a month end, with the embedded simulated broker.

2024-09-26..2024-10-09 holds five trading days around National Day (2024-10-01..07 closed,
and the make-up working Sunday 09-29 and Saturday 10-12 are closed for trading) and the
September month end. The bench runs 30 trading days (2024-09-20..2024-11-07).
"""

from __future__ import annotations

import datetime

import pytest
from fault_harness import EVERY_MINUTE_PER_DAY, run_many_days

pytestmark = pytest.mark.slow


def test_days_fire_only_when_open_switch_files_daily_and_keep_memory_flat(tmp_path):
    result = run_many_days(tmp_path, datetime.date(2024, 9, 26), datetime.date(2024, 10, 9))
    assert result.exit_code == 0
    assert len(result.trading_days) == 5
    assert result.fired_days == result.trading_days
    assert result.closed_day_firings == 0
    assert result.minutes_per_day == {EVERY_MINUTE_PER_DAY}
    assert result.month_ends == [datetime.date(2024, 9, 30)]
    assert (
        result.order_file_days
        == result.update_file_days
        == result.journal_days
        == result.trading_days
    )
    assert result.misfiled_updates == 0
    assert (
        result.orders > 0 and result.final_orders == result.orders
    )  # every day's orders ended that day
    assert len(result.rss_mb) == 5
    assert result.rss_growth_mb < 30, result.rss_mb  # generous: the bench reports the real figure
