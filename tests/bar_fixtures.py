"""A tiny market written straight into a bar cache, for the tests of data in strategies and of
the price checks (``tests/test_strategy_data.py``, ``tests/account/test_checks_prices.py``).

``RISING`` (600000.XSHG) has daily bars from 2024-05-06 to 2024-06-07, each close one tick
above the one before, and minute bars on 2024-06-05 and 2024-06-06. ``PAUSED`` (000001.XSHE)
has daily bars up to 2024-06-04 and is suspended from 2024-06-05 (days fetched, no bars).
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path
from typing import Union

from jqtrade.calendar import TradingCalendar
from jqtrade.data import Bar, BarCache, BarUnit
from jqtrade.data.sessions import bar_times, close_time

RISING = "600000.XSHG"
PAUSED = "000001.XSHE"
FIRST = datetime.date(2024, 5, 6)
LAST = datetime.date(2024, 6, 7)
MINUTE_DAYS = (datetime.date(2024, 6, 5), datetime.date(2024, 6, 6))
PAUSED_FROM = datetime.date(2024, 6, 5)
TICK = Decimal("0.01")


def calendar() -> TradingCalendar:
    return TradingCalendar.builtin()


def days() -> list[datetime.date]:
    return calendar().trading_days(FIRST, LAST)


def daily_close(code: str, day: datetime.date) -> Decimal:
    """The close of ``code`` on ``day`` (7.00 / 10.00 on the first day, one tick more a day)."""
    base = Decimal("7.00") if code == RISING else Decimal("10.00")
    return base + TICK * days().index(day)


def minute_close(day: datetime.date, index: int) -> Decimal:
    """The close of RISING's ``index``-th minute bar of ``day``: a small zigzag above the
    previous close, never reaching the limits."""
    previous = daily_close(RISING, calendar().previous_trading_day(day))
    return previous + TICK * (index % 7)


def _bar(code: str, unit: BarUnit, time: object, close: Decimal) -> Bar:
    return Bar(
        code=code,
        unit=unit,
        time=time,  # type: ignore[arg-type]  # a pendulum DateTime
        open=close - TICK,
        high=close + TICK,
        low=close - 2 * TICK,
        close=close,
        volume=10_000,
        amount=close * 10_000,
    )


def fill(cache: BarCache) -> None:
    bars = [_bar(RISING, BarUnit.d1, close_time(d), daily_close(RISING, d)) for d in days()]
    for day in MINUTE_DAYS:
        bars += [
            _bar(RISING, BarUnit.m1, end, minute_close(day, i))
            for i, end in enumerate(bar_times(day, BarUnit.m1))
        ]
    trading = [d for d in days() if d < PAUSED_FROM]
    bars += [_bar(PAUSED, BarUnit.d1, close_time(d), daily_close(PAUSED, d)) for d in trading]
    cache.write(bars, source="test")
    cache.mark_filled(PAUSED, BarUnit.d1, [d for d in days() if d >= PAUSED_FROM], "test")


def fill_runtime_dir(runtime_dir: Union[str, Path]) -> Path:
    """Write the market into ``<runtime_dir>/data/bars.sqlite``; returns the file."""
    with BarCache.in_runtime_dir(runtime_dir) as cache:
        fill(cache)
        return cache.path
