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

import bisect
import datetime
from collections.abc import Sequence
from decimal import Decimal
from typing import Optional, Union

import attrs
import pendulum

from jqtrade.calendar import TradingCalendar
from jqtrade.data.cache import BarCache, BarRows
from jqtrade.data.models import Bar, BarUnit, Quote, market_time, to_code
from jqtrade.data.sessions import close_time
from jqtrade.data.source import AbsDataSource, TimeLike
from jqtrade.model.rules import day_limits

__all__ = ["CacheSource"]


@attrs.frozen
class _DayBars:
    """A trading day of one code: its minute bars, its daily bar, and the previous close."""

    version: tuple[int, int]  # of the cache when read
    pre_close: Optional[Decimal]
    daily: Optional[Bar]
    minutes: BarRows


class CacheSource(AbsDataSource):
    """Answers bars and quotes from a :class:`~jqtrade.data.cache.BarCache`, for any past time."""

    name = "cache"
    native_units = frozenset({BarUnit.m1, BarUnit.d1})
    live = False

    def __init__(self, cache: BarCache, *, calendar: Optional[TradingCalendar] = None) -> None:
        super().__init__(calendar=calendar or cache.calendar)
        self.cache = cache
        self._days: dict[tuple[str, datetime.date], _DayBars] = {}

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
        # Up to the close, the day as read once; after it, bars stamped later count too.
        known = (
            self._day(code, day, before, close) if now <= close else self._read(code, before, now)
        )
        pre_close, today = known.pre_close, known.daily
        done = bisect.bisect_right(
            known.minutes.ends, int(now.timestamp())
        )  # minute bars done by now
        if done:
            first, last = known.minutes[0], known.minutes[done - 1]
            high, low, volume, amount = known.minutes.totals(done)
            return self._make(
                code,
                day,
                pre_close or first.open,
                time=last.time,
                last=last.close,
                open=first.open,
                high=high,
                low=low,
                volume=volume,
                amount=amount,
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

    def _day(
        self, code: str, day: datetime.date, before: pendulum.DateTime, close: pendulum.DateTime
    ) -> _DayBars:
        """The trading day's bars of ``code``, read once: a strategy asks every minute, and the
        stored bars do not change until the cache does."""
        version = self.cache.version()
        key = (code, day)
        known = self._days.get(key)
        if known is not None and known.version == version:
            return known
        if len(self._days) > 256 or any(k[1] != day for k in self._days):
            self._days.clear()  # today's codes only: a long run stays flat
        known = self._days[key] = self._read(code, before, close, version)
        return known

    def _read(
        self,
        code: str,
        before: pendulum.DateTime,
        end: pendulum.DateTime,
        version: tuple[int, int] = (0, 0),
    ) -> _DayBars:
        """The bars of ``code`` after the previous close ``before`` up to ``end``."""
        close = close_time(end.date())
        daily = self.cache.read(code, BarUnit.d1, start=before, end=min(end, close))
        return _DayBars(
            version,
            self._pre_close(code, before),
            daily[-1] if daily else None,
            self.cache.read_rows(code, BarUnit.m1, start=before, end=end),
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
