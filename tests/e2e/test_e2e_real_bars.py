"""A year simulated on real bars: a moving-average cross trades on the bars of the cache.

``write_sample`` fills the cache of the task's runtime directory with a year of daily bars;
the strategy reads them through ``get_bars`` and ``current_data``, the embedded simulated
broker fills on the same bars (``jqtrade.sim.bars``), and every fill in the broker's files is
compared with the cache: on a day with only daily bars an order through the price fills at
the day's open.
"""

from __future__ import annotations

import datetime
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from e2e_support import STRATEGIES, BrokerFiles, jqtrade, read_text
from sample_support import write_sample
from support import cli_env

from jqtrade.calendar import TradingCalendar
from jqtrade.data import BarCache
from jqtrade.data.sessions import close_time
from jqtrade.gates.onequant.protocol import symbol_to_code

pytestmark = pytest.mark.slow

FIRST, LAST = datetime.date(2024, 1, 2), datetime.date(2024, 12, 31)
CODES = ["600000.XSHG", "000001.XSHE", "300750.XSHE"]


def test_a_moving_average_cross_fills_at_prices_of_the_cached_bars(tmp_path: Path) -> None:
    runtime = tmp_path / "runtime"
    sample = write_sample(runtime / "data" / "bars.sqlite", codes=CODES, start=FIRST, end=LAST)
    sim_dir, log = tmp_path / "onequant", tmp_path / "ma.log"
    proc = subprocess.run(
        jqtrade(
            "start_task",
            "-n",
            "ma",
            "-c",
            STRATEGIES / "ma_cross.py",
            "--simulate",
            f"{FIRST}..{LAST}",
            "--broker",
            "sim",
            "--sim-dir",
            sim_dir,
            "--runtime-dir",
            runtime,
            "-o",
            log,
        ),
        cwd=tmp_path,
        env=cli_env(),
        capture_output=True,
        timeout=600,
    )
    text = read_text(log)
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace") + text[-3000:]
    assert "Traceback" not in text and " ERROR " not in text
    assert "按 K 线缓存" in text and "真实 K 线撮合" in text
    assert "改用随机行情" not in text and "模拟券商使用随机行情" not in text  # no fallback

    fills = []
    for day in TradingCalendar.builtin().trading_days(FIRST, LAST):
        for row in BrokerFiles(sim_dir, day).rows(BrokerFiles(sim_dir, day).files.trade_update):
            fills.append((day, symbol_to_code(row["symbol"]), row["tradeSide"], row))
    assert len(fills) >= 6  # the cross fires several times a year on each code
    sides = {side for _, _, side, _ in fills}
    assert len(sides) == 2  # bought and sold

    with BarCache(sample.path) as cache:
        for day, code, _side, row in fills:
            assert code is not None
            (bar,) = cache.read(code, "1d", end=close_time(day), count=1)
            assert bar.time.date() == day
            price = Decimal(row["filledPrice"])
            assert price == bar.open, (day, code, price, bar)  # through the price: at the open
            assert int(row["filledQty"]) <= bar.volume // 4
        paused = sample.paused["000001.XSHE"]
        assert all(not (code == "000001.XSHE" and day == paused) for day, code, _, _ in fills)
