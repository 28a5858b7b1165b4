"""The data-source contract: what jqtrade asks of a market-data source, and what it promises.

A source answers two questions, through two public methods of :class:`AbsDataSource`:

* :meth:`~AbsDataSource.get_bars` — bars of one code ending at or before a given time, either
  the last ``count`` of them or those in a time range;
* :meth:`~AbsDataSource.get_quotes` — the latest snapshot of several codes, as of a time.

An implementation (an adapter for a service, the local cache, a user's own source) writes the
two hooks :meth:`~AbsDataSource.fetch_bars` and :meth:`~AbsDataSource.fetch_quotes`; the public
methods validate the arguments, turn a count into a time range with the trading calendar,
build ``5m`` bars from ``1m`` bars when the source has none, and drop anything the hooks
returned outside the range asked for. ``jqtrade.data.contract.DataSourceContract`` checks the
whole contract; run it over your own source (see ``docs/data.md``).

What an implementation must guarantee:

* **Codes** are jqtrade's form at the boundary, in and out: ``600000.XSHG``, ``000001.XSHE``.
  The hooks receive normalised codes and must return them; converting to a service's own form
  (``600000.SH``, ``sh600000``, ``600000`` plus a market number) happens inside the adapter.
* **Never after the end.** ``fetch_bars(code, unit, start, end)`` returns bars with
  ``start < bar.time <= end``, oldest first, ``bar.time`` being the bar's *end* (see
  :mod:`jqtrade.data.models`). A bar still being formed at ``end`` is never returned: a daily
  bar is stamped 15:00, so a query ending at 10:00 does not see that day's bar. The base class
  filters again, but a source that leaks is still wrong (the contract suite calls the hook).
* **Quotes as of now.** ``fetch_quotes(codes, now)`` returns the snapshot of each code it has
  data for (a code it does not know is left out, not an error); it may return more codes than
  asked when one request of the service brings the whole market. A quote's ``time`` is never
  after ``now``: a live service's clock that runs ahead of ours is clamped to ``now`` by
  :meth:`get_quotes`. A store (``live = False``) answers for any past ``now``; a live service
  answers its latest snapshot.
* **Units and values.** Prices and amounts are ``Decimal`` in yuan, volumes ``int`` in shares
  (an adapter whose service counts lots of 100 converts), times pendulum ``DateTime`` in
  Asia/Shanghai. Bars and quotes are frozen values; each call returns new lists and dicts,
  which the caller may keep or change.
* **Failures** raise :class:`~jqtrade.data.errors.DataSourceError` subclasses with a Chinese
  message: :class:`~jqtrade.data.errors.DataSourceUnavailableError` (also a ``ConnectionError``)
  for network trouble, timeouts and service errors, :class:`~jqtrade.data.errors.DataSourceAuthError`
  for credentials, :class:`~jqtrade.data.errors.DataSourceResponseError` for an answer in the
  wrong shape. No other exception may escape a hook: the strategy API turns these into stale
  data with a reason instead of crashing the strategy.
* **Blocking and threads.** Calls block and return; a source should give up after a timeout
  (about 10 seconds) rather than hang. jqtrade calls a source from one thread at a time (the
  strategy's event loop, or the ``jqtrade data`` command), so a source needs no locking of its
  own, and it must not call back into jqtrade from threads it starts.
* **Secrets** (tokens, passwords) come from constructor arguments or environment variables and
  never appear in ``repr``, logs or error messages.
* **Optional libraries** are imported lazily, when the source is built, so that jqtrade imports
  without them; a missing one raises :class:`~jqtrade.data.errors.DataPackageMissingError`
  naming the pip extra.
"""

from __future__ import annotations

import abc
import datetime
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar, Optional, Union

import attrs
import pendulum

from jqtrade.calendar import TradingCalendar
from jqtrade.data.errors import BarUnitError, DataConfigError
from jqtrade.data.models import Bar, BarUnit, Quote, market_time, to_code
from jqtrade.data.sessions import BARS_PER_DAY, close_time, resample

__all__ = ["EARLIEST", "AbsDataSource", "TimeLike"]

TimeLike = Union[pendulum.DateTime, datetime.datetime, datetime.date, str]

#: No source is asked for bars before this day (the packaged calendar starts in 2005).
EARLIEST = datetime.date(2005, 1, 4)

#: How many times a count query widens its window when suspensions left it short.
_WIDEN_ATTEMPTS = 4

_shared_calendar: Optional[TradingCalendar] = None


def _builtin_calendar() -> TradingCalendar:
    global _shared_calendar
    if _shared_calendar is None:
        _shared_calendar = TradingCalendar.builtin()
    return _shared_calendar


class AbsDataSource(abc.ABC):
    """Base class of every market-data source; the contract is in the module docstring."""

    #: Short name used in messages and on the command line (``--source``).
    name: ClassVar[str] = "custom"
    #: The units :meth:`fetch_bars` answers; ``5m`` is built from ``1m`` when not listed.
    native_units: ClassVar[frozenset[BarUnit]] = frozenset({BarUnit.m1, BarUnit.d1})
    #: True for a live service (quotes only of the present); False for a store of history.
    live: ClassVar[bool] = True

    def __init__(self, *, calendar: Optional[TradingCalendar] = None) -> None:
        self._calendar = calendar

    @property
    def calendar(self) -> TradingCalendar:
        if self._calendar is None:
            self._calendar = _builtin_calendar()
        return self._calendar

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"

    # --- hooks -------------------------------------------------------------------------------

    @abc.abstractmethod
    def fetch_bars(
        self, code: str, unit: BarUnit, start: pendulum.DateTime, end: pendulum.DateTime
    ) -> list[Bar]:
        """Bars of ``code`` in a native ``unit`` with ``start < bar.time <= end``, oldest first."""

    @abc.abstractmethod
    def fetch_quotes(self, codes: Sequence[str], now: pendulum.DateTime) -> dict[str, Quote]:
        """The snapshot of each of ``codes`` the source knows, as of ``now``."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections; the source is not used afterwards. Default: nothing."""

    def __enter__(self) -> AbsDataSource:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # --- public API --------------------------------------------------------------------------

    def supports(self, unit: BarUnit) -> bool:
        return unit in self.native_units or (unit is BarUnit.m5 and BarUnit.m1 in self.native_units)

    def get_bars(
        self,
        code: str,
        unit: Union[BarUnit, str],
        *,
        end: TimeLike,
        count: Optional[int] = None,
        start: Optional[TimeLike] = None,
    ) -> list[Bar]:
        """The last ``count`` bars ending at or before ``end``, or those after ``start``.

        Exactly one of ``count`` and ``start`` is given. A date as ``end`` means 15:00 of that
        day; as ``start`` it means the bars after that day's close are wanted, so pass the day
        before the first one you want (or a datetime). Bars come oldest first. With ``count``,
        suspended days are skipped over: the window widens until ``count`` bars are found or
        :data:`EARLIEST` is reached.
        """
        code = to_code(code)
        bar_unit = self._unit(unit)
        end_time = market_time(end)
        if (count is None) == (start is None):
            raise DataConfigError("get_bars 需要 count 和 start 二者之一（且只能给一个）")
        if start is not None:
            return self._range(code, bar_unit, market_time(start), end_time)
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise DataConfigError(f"count 的值 {count!r} 不合法：应为 ≥ 1 的整数")
        days = -(-count // BARS_PER_DAY[bar_unit]) + 1
        earliest = close_time(EARLIEST)
        bars: list[Bar] = []
        for _ in range(_WIDEN_ATTEMPTS):
            window_start = self.window_start(end_time, days)
            bars = self._range(code, bar_unit, max(window_start, earliest), end_time)
            if len(bars) >= count or window_start <= earliest:
                break
            days *= 4
        return bars[-count:]

    def get_quotes(self, codes: Iterable[str], *, now: TimeLike) -> dict[str, Quote]:
        """Snapshots by code as of ``now`` (codes the source does not know are absent)."""
        wanted = list(dict.fromkeys(to_code(code) for code in codes))
        if not wanted:
            return {}
        at = market_time(now)
        result: dict[str, Quote] = {}
        for code, quote in self.fetch_quotes(wanted, at).items():
            if quote.time > at:
                quote = attrs.evolve(quote, time=at)
            result[code] = quote
        return result

    def window_start(self, end: pendulum.DateTime, days: int) -> pendulum.DateTime:
        """The close ``days`` trading days before ``end``'s day: bars after it cover the window."""
        day: datetime.date = end.date()
        calendar = self.calendar
        for _ in range(days):
            day = calendar.previous_trading_day(day)
            if day <= EARLIEST:
                break
        return close_time(day)

    # --- internals ---------------------------------------------------------------------------

    def _unit(self, unit: Union[BarUnit, str]) -> BarUnit:
        bar_unit = BarUnit.parse(unit)
        if not self.supports(bar_unit):
            allowed = [u.value for u in BarUnit if self.supports(u)]
            raise BarUnitError(f"{bar_unit.value}（行情源 {self.name} 不提供）", allowed)
        return bar_unit

    def _range(
        self, code: str, unit: BarUnit, start: pendulum.DateTime, end: pendulum.DateTime
    ) -> list[Bar]:
        if end <= start:
            return []
        if unit in self.native_units:
            bars = self.fetch_bars(code, unit, start, end)
            if unit is BarUnit.m1 and any(b.time.hour == 9 and b.time.minute == 30 for b in bars):
                bars = resample(bars, BarUnit.m1)  # fold a separate opening-auction bar in
        else:
            minutes = unit.minutes or 1
            bars = [
                b
                for b in resample(self.fetch_bars(code, BarUnit.m1, start, end), unit)
                if b.time.subtract(minutes=minutes) >= start
            ]
        return _clean(bars, code, start, end)


def _clean(
    bars: Iterable[Bar], code: str, start: pendulum.DateTime, end: pendulum.DateTime
) -> list[Bar]:
    """Bars of ``code`` inside ``(start, end]``, sorted, one per time."""
    by_time = {b.time: b for b in bars if b.code == code and start < b.time <= end}
    return [by_time[t] for t in sorted(by_time)]
