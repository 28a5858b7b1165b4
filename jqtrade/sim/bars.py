"""Prices for the simulated broker from real bars: the local bar cache, as of the ``now`` given.

:class:`BarMarket` answers what the broker asks a :class:`~jqtrade.sim.market.PriceFeed`
(``price(code, now)``, ``prev_close(code, day)``) from the bars in a
:class:`~jqtrade.data.cache.BarCache`, with the same conventions as the cache's data source
(:mod:`jqtrade.data.cache_source`), so the broker's prices are the ones a strategy reads in
``current_data``:

* with one-minute bars of the day, the price at ``now`` is the close of the last bar ending at
  or before ``now``; before the first one (09:31) it is the day's open from 09:30, the previous
  close before;
* with only the daily bar, it is the previous close before 09:30, the day's open from 09:30 to
  the close (the only price known during the day) and the day's close from 15:00;
* the previous close is the previous trading day's daily close (the last close before the day
  when the code did not trade then); the day's limits come from
  :func:`jqtrade.model.rules.day_limits`;
* a trading day without bars inside the range the cache holds for the code is a paused day.

A code, or a day outside the cache's range for it, has no bars: the market asks ``fallback``
(the random walk) instead and logs one Chinese warning per code saying so.

The matching engine reads the bars themselves through :meth:`BarMarket.day`: a
:class:`DayBars` lists the bars an order meets after a given time (see :meth:`DayBars.due`).
Only one trading day of bars per code is kept in memory, so a year-long run stays flat.
"""

from __future__ import annotations

import bisect
import datetime
import logging
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Optional, Union

import attrs
import pendulum

from jqtrade.calendar import TradingCalendar
from jqtrade.clock import in_market
from jqtrade.data.cache import BarCache
from jqtrade.data.errors import BarCacheError
from jqtrade.data.models import Bar, BarUnit
from jqtrade.data.sessions import close_time
from jqtrade.model.rules import price_limits
from jqtrade.sim.market import PriceFeed, as_code

__all__ = ["BarMarket", "DayBars", "market_for_run"]

log = logging.getLogger("jqtrade.sim")


@attrs.frozen(kw_only=True)
class DayBars:
    """One code's bars of one trading day, as the matching engine sees them.

    ``bars`` are the day's one-minute bars, or the daily bar alone when the cache has no
    minute bars of the day, or nothing on a paused day. ``low_limit``/``high_limit`` are the
    day's limits (one tick and :data:`~jqtrade.model.rules.MAX_LIMIT_PRICE` for a security
    without limits).
    """

    code: str
    day: datetime.date
    bars: Sequence[Bar]
    prev_close: Decimal
    low_limit: Decimal
    high_limit: Decimal
    _ends: Sequence[int] = attrs.field(alias="ends")

    @property
    def paused(self) -> bool:
        return not self.bars

    @property
    def minute(self) -> bool:
        return bool(self.bars) and self.bars[0].unit is BarUnit.m1

    def due(self, after: pendulum.DateTime, now: pendulum.DateTime) -> tuple[Bar, ...]:
        """The bars an order met up to ``after`` meets by ``now``, oldest first.

        A minute bar is met once it has ended: its end is after ``after`` and at or before
        ``now``. The daily bar (a day without minute bars) stands for the whole session: it
        is met once, at the first call from 09:30 on, by an order that has not met it yet.
        """
        if not self.bars:
            return ()
        if not self.minute:
            daily = self.bars[0]
            opening = daily.time.replace(hour=9, minute=30)
            return (daily,) if after < daily.time and now >= opening else ()
        first = bisect.bisect_right(self._ends, int(after.timestamp()))
        last = bisect.bisect_right(self._ends, int(now.timestamp()))
        return tuple(self.bars[first:last])

    def price(self, now: pendulum.DateTime) -> Decimal:
        """The price at ``now`` (see the module docstring)."""
        if not self.bars:
            return self.prev_close
        if self.minute:
            index = bisect.bisect_right(self._ends, int(now.timestamp()))
            if index:
                return self.bars[index - 1].close
            opening = self.bars[0].time.replace(hour=9, minute=30)
            return self.bars[0].open if now >= opening else self.prev_close
        daily = self.bars[0]
        if now >= daily.time:
            return daily.close
        return daily.open if now >= daily.time.replace(hour=9, minute=30) else self.prev_close


class BarMarket:
    """Prices and bars from ``cache``, ``fallback`` for what it lacks (module docstring)."""

    def __init__(
        self,
        cache: BarCache,
        fallback: Optional[PriceFeed] = None,
        *,
        calendar: Optional[TradingCalendar] = None,
    ) -> None:
        self.cache = cache
        self.fallback = fallback if fallback is not None else PriceFeed()
        self.calendar = calendar or cache.calendar
        self._ranges: dict[str, Optional[tuple[datetime.date, datetime.date]]] = {}
        self._days: dict[tuple[str, datetime.date], DayBars] = {}
        self._warned: set[str] = set()

    def __repr__(self) -> str:
        return f"<BarMarket {self.cache.path}>"

    def __getstate__(self) -> dict[str, object]:
        """A simulated client saving its broker (the miniQMT state file) keeps the cache's
        path, not its connection; the copy read back opens the file again."""
        return {"path": self.cache.path, "fallback": self.fallback, "warned": self._warned}

    def __setstate__(self, state: dict[str, object]) -> None:
        path, fallback, warned = state["path"], state["fallback"], state["warned"]
        assert isinstance(path, Path) and isinstance(fallback, PriceFeed)
        assert isinstance(warned, set)
        self.__init__(BarCache(path), fallback)  # type: ignore[misc]  # the one constructor
        self._warned = warned

    # -- what the broker asks a PriceFeed ------------------------------------------------

    def price(self, code: str, now: pendulum.DateTime) -> Decimal:
        code = as_code(code)
        now = in_market(now)
        day = now.date()
        if not self.calendar.is_trading_day(day):
            if self.covers(code, self.calendar.previous_trading_day(day)):
                bars = self.cache.read(code, BarUnit.d1, end=now, count=1)
                if bars:
                    return bars[0].close
            return self._fall_back(code, day).price(code, now)
        today = self.day(code, day)
        if today is None:
            return self._fall_back(code, day).price(code, now)
        return today.price(now)

    def prev_close(self, code: str, day: datetime.date) -> Decimal:
        code = as_code(code)
        bars = self.day(code, day) if self.calendar.is_trading_day(day) else None
        if bars is None:
            return self._fall_back(code, day).prev_close(code, day)
        return bars.prev_close

    def base_price(self, code: str) -> Decimal:
        return self.fallback.base_price(as_code(code))

    # -- bars --------------------------------------------------------------------------

    def covers(self, code: str, day: datetime.date) -> bool:
        """Whether ``day`` is inside the range of days the cache holds bars of ``code`` for."""
        if code not in self._ranges:
            ends = [self.cache.extent(code, unit) for unit in (BarUnit.d1, BarUnit.m1)]
            found = [e for e in ends if e is not None]
            self._ranges[code] = (
                (min(e[0] for e in found).date(), max(e[1] for e in found).date())
                if found
                else None
            )
        span = self._ranges[code]
        return span is not None and span[0] <= day <= span[1]

    def has_bars(self, code: str, first: datetime.date, last: datetime.date) -> bool:
        """Whether the cache holds any bar of ``code`` on the days ``first..last``."""
        code = as_code(code)
        if code not in self._ranges:
            self.covers(code, first)
        span = self._ranges[code]
        return span is not None and span[0] <= last and first <= span[1]

    def day(self, code: str, day: datetime.date) -> Optional[DayBars]:
        """``code``'s bars of the trading day ``day``; ``None`` outside the cache's range."""
        key = (code, day)
        found = self._days.get(key)
        if found is not None:
            return found
        if not self.covers(code, day):
            return None
        if any(k[1] != day for k in self._days):  # one day in memory: a long run stays flat
            self._days = {k: v for k, v in self._days.items() if k[1] == day}
        before = close_time(self.calendar.previous_trading_day(day))
        close = close_time(day)
        bars = self.cache.read_rows(code, BarUnit.m1, start=before, end=close)
        if not bars:
            bars = self.cache.read_rows(code, BarUnit.d1, start=before, end=close)
        prev = self._last_close(code, before)
        if prev is None:  # the first day the cache has: the day opens at its reference price
            prev = bars[0].open if bars else Decimal(0)
        low, high = price_limits(code, prev, day)
        found = self._days[key] = DayBars(
            code=code,
            day=day,
            bars=bars,
            prev_close=prev,
            low_limit=low,
            high_limit=high,
            ends=bars.ends,
        )
        return found

    def _last_close(self, code: str, before: pendulum.DateTime) -> Optional[Decimal]:
        for unit in (BarUnit.d1, BarUnit.m1):
            bars = self.cache.read(code, unit, end=before, count=1)
            if bars:
                return bars[0].close
        return None

    def _fall_back(self, code: str, day: datetime.date) -> PriceFeed:
        if code not in self._warned:
            self._warned.add(code)
            log.warning(
                "K 线缓存 %s 中没有 %s 在 %s 的 K 线：该代码改用随机行情（模拟价格，不是真实行情）；"
                "可以用 jqtrade data fetch 或 jqtrade data import 补充 K 线",
                self.cache.path,
                code,
                day,
            )
        return self.fallback


def market_for_run(
    cache_path: Union[str, Path],
    first: datetime.date,
    last: datetime.date,
    fallback: Optional[PriceFeed] = None,
    *,
    logger: logging.Logger = log,
    warn: bool = True,
) -> Optional[BarMarket]:
    """A :class:`BarMarket` over the cache file at ``cache_path`` when it holds bars of any
    code on the days ``first..last``; else ``None``, with a warning (unless ``warn`` is off:
    the caller has other prices) that the simulated broker falls back to the random walk.
    The caller closes ``market.cache`` when done.
    """
    path = Path(cache_path).expanduser()
    why = ""
    if not path.is_file():
        why = f"没有 K 线缓存文件 {path}"
    else:
        try:
            cache = BarCache(path)
        except BarCacheError as exc:
            why = str(exc)
        else:
            market = BarMarket(cache, fallback)
            codes = sorted({code for code, _unit, _count in cache.codes()})
            covered = [code for code in codes if market.has_bars(code, first, last)]
            if covered:
                shown = "、".join(covered[:5]) + (
                    f" 等 {len(covered)} 个代码" if len(covered) > 5 else ""
                )
                logger.info(
                    "模拟券商按 K 线缓存 %s 中的真实 K 线撮合（%s）；缓存中没有的代码使用随机行情",
                    path,
                    shown,
                )
                return market
            cache.close()
            why = f"K 线缓存 {path} 中没有 {first} 至 {last} 的 K 线"
    if not warn:
        return None
    logger.warning(
        "%s：模拟券商使用随机行情（模拟价格，不是真实行情）；"
        "用 jqtrade data fetch 或 jqtrade data import 把 K 线存入缓存后，模拟券商会按真实 K 线撮合",
        why,
    )
    return None
