"""The bar cache as a data source: what a simulated run (``--simulate``) reads its prices from.

Bars come straight from the cache. A quote as of ``now`` is built from the bars finished by
then, so a simulated strategy sees only the past:

* with one-minute bars of the day: ``last`` is the close of the latest minute bar at or before
  ``now``, ``open`` the day's first open, ``high``/``low``/``volume``/``amount`` the day so far;
* with only daily bars: before 09:30 ``last`` is the previous close; from 09:30 to the close it
  is the day's open (the only price known by then); from 15:00 the day's close. High and low
  are the open until the close;
* ``pre_close`` is the previous trading day's daily close (or its last minute close);
* ``paused`` when the trading day has no bars in the cache although the code has bars before
  it (a suspension is announced before the open, so knowing it early is no look-ahead);
* ``high_limit``/``low_limit`` from :func:`jqtrade.model.rules.day_limits`.

A code without any bar at or before ``now`` has no quote.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import Decimal
from typing import Optional, Union

import pendulum

from jqtrade.calendar import TradingCalendar
from jqtrade.data.cache import BarCache
from jqtrade.data.models import Bar, BarUnit, Quote, market_time, to_code
from jqtrade.data.sessions import close_time
from jqtrade.data.source import AbsDataSource, TimeLike
from jqtrade.model.rules import day_limits

__all__ = ["CacheSource"]


class CacheSource(AbsDataSource):
    """Answers bars and quotes from a :class:`~jqtrade.data.cache.BarCache`, for any past time."""

    name = "cache"
    native_units = frozenset({BarUnit.m1, BarUnit.d1})
    live = False

    def __init__(self, cache: BarCache, *, calendar: Optional[TradingCalendar] = None) -> None:
        super().__init__(calendar=calendar or cache.calendar)
        self.cache = cache

    def fetch_bars(
        self, code: str, unit: BarUnit, start: pendulum.DateTime, end: pendulum.DateTime
    ) -> list[Bar]:
        return self.cache.read(code, unit, start=start, end=end)

    def get_bars(
        self,
        code: str,
        unit: Union[BarUnit, str],
        *,
        end: TimeLike,
        count: Optional[int] = None,
        start: Optional[TimeLike] = None,
    ) -> list[Bar]:
        bar_unit = BarUnit.parse(unit)
        if count is not None and start is None and bar_unit in self.native_units:
            # Straight from the index: the last `count` rows, suspensions skipped by nature.
            if not isinstance(count, int) or isinstance(count, bool) or count < 1:
                return super().get_bars(code, bar_unit, end=end, count=count)
            return self.cache.read(to_code(code), bar_unit, end=market_time(end), count=count)
        return super().get_bars(code, bar_unit, end=end, count=count, start=start)

    def fetch_quotes(self, codes: Sequence[str], now: pendulum.DateTime) -> dict[str, Quote]:
        quotes = {}
        for code in codes:
            quote = self._quote(code, now)
            if quote is not None:
                quotes[code] = quote
        return quotes

    def _quote(self, code: str, now: pendulum.DateTime) -> Optional[Quote]:
        calendar = self.calendar
        day: datetime.date = now.date()
        if not calendar.is_trading_day(day):  # weekend or holiday: the last trading day's close
            day = calendar.previous_trading_day(day)
            now = close_time(day)
        close = close_time(day)
        opening = close.replace(hour=9, minute=30)
        before = close_time(calendar.previous_trading_day(day))
        pre_close = self._pre_close(code, before)
        minutes = self.cache.read(code, BarUnit.m1, start=before, end=now)
        daily = self.cache.read(code, BarUnit.d1, start=before, end=close)
        today = daily[-1] if daily else None
        if minutes:
            first, last = minutes[0], minutes[-1]
            return self._make(
                code,
                day,
                pre_close or first.open,
                time=last.time,
                last=last.close,
                open=first.open,
                high=max(b.high for b in minutes),
                low=min(b.low for b in minutes),
                volume=sum(b.volume for b in minutes),
                amount=sum((b.amount for b in minutes), Decimal(0)),
            )
        if today is not None and now >= opening:
            if now >= today.time:
                return self._make(
                    code,
                    day,
                    pre_close or today.open,
                    time=today.time,
                    last=today.close,
                    open=today.open,
                    high=today.high,
                    low=today.low,
                    volume=today.volume,
                    amount=today.amount,
                )
            price = today.open
            return self._make(
                code,
                day,
                pre_close or price,
                time=opening,
                last=price,
                open=price,
                high=price,
                low=price,
                volume=0,
                amount=Decimal(0),
            )
        if pre_close is None:
            return None
        paused = (
            now >= opening
            and today is None
            and not self.cache.read(code, BarUnit.m1, start=before, end=close, count=None)
            and any(day in self.cache.filled_days(code, u, day, day) for u in self.native_units)
        )
        zero = Decimal(0)
        return self._make(
            code,
            day,
            pre_close,
            time=min(now, close),
            last=pre_close,
            open=zero,
            high=zero,
            low=zero,
            volume=0,
            amount=zero,
            paused=paused,
        )

    def _pre_close(self, code: str, before: pendulum.DateTime) -> Optional[Decimal]:
        for unit in (BarUnit.d1, BarUnit.m1):
            bars = self.cache.read(code, unit, end=before, count=1)
            if bars:
                return bars[0].close
        return None

    @staticmethod
    def _make(
        code: str,
        day: datetime.date,
        pre_close: Decimal,
        *,
        time: pendulum.DateTime,
        last: Decimal,
        open: Decimal,
        high: Decimal,
        low: Decimal,
        volume: int,
        amount: Decimal,
        paused: bool = False,
    ) -> Quote:
        limits = day_limits(code, pre_close, day)
        return Quote(
            code=code,
            time=time,
            last=last,
            open=open,
            high=high,
            low=low,
            pre_close=pre_close,
            high_limit=limits[1] if limits else None,
            low_limit=limits[0] if limits else None,
            volume=volume,
            amount=amount,
            paused=paused,
        )
