"""The JoinQuant-style data calls a strategy makes: ``get_bars``, ``get_price``, ``current_data``.

These are pure functions of a source and a time: ``now`` (the strategy's current time, from
its clock) is always passed in, and nothing is answered that happened after it, so a
simulated run on the cache sees exactly what a live run would have seen at that moment.

Results are plain Python: ``get_bars`` and ``get_price`` return a dict of lists (one list per
field, oldest first; prices and money as ``float``), or, for a list of codes, a dict of those
by code. With ``df=True`` they return a pandas ``DataFrame`` in JoinQuant's shape when pandas
is installed. Fields use JoinQuant's names: ``date``, ``open``, ``close``, ``high``, ``low``,
``volume`` (shares), ``money`` (yuan); ``get_price`` also knows ``pre_close``, ``high_limit``,
``low_limit`` and ``paused`` for daily bars. ``date`` is a ``datetime.date`` for daily bars
and a pendulum ``DateTime`` (Beijing time, the bar's end) for minute bars.

Prices are not adjusted for dividends and splits (``fq=None``): the cache keeps the prices
that were traded, which is what fills and price limits need.
"""

from __future__ import annotations

import datetime
import logging
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, Optional, Union

import attrs
import pendulum

from jqtrade.clock import Clock
from jqtrade.data.errors import DataConfigError, DataSourceError, PandasMissingError
from jqtrade.data.models import Bar, BarUnit, Quote, market_time, to_code
from jqtrade.data.quote_cache import DEFAULT_TTL, TtlQuoteSource
from jqtrade.data.sessions import bucket_end, close_time, in_session
from jqtrade.data.source import AbsDataSource, TimeLike
from jqtrade.model.rules import day_limits

__all__ = [
    "BAR_FIELDS",
    "PRICE_FIELDS",
    "CurrentData",
    "CurrentDataItem",
    "get_bars",
    "get_price",
]

#: Fields ``get_bars`` knows, and its default selection (JoinQuant's).
BAR_FIELDS = ("date", "open", "close", "high", "low", "volume", "money")
_DEFAULT_BAR_FIELDS = ("date", "open", "high", "low", "close")
#: Fields ``get_price`` knows, and its default selection (JoinQuant's).
PRICE_FIELDS = (*BAR_FIELDS, "pre_close", "high_limit", "low_limit", "paused")
_DEFAULT_PRICE_FIELDS = ("open", "close", "high", "low", "volume", "money")

Codes = Union[str, Sequence[str]]
Columns = dict[str, list[Any]]

logger = logging.getLogger("jqtrade.data")


# --- get_bars ------------------------------------------------------------------------------


def get_bars(
    source: AbsDataSource,
    security: Codes,
    count: int,
    unit: str = "1d",
    fields: Optional[Iterable[str]] = None,
    include_now: bool = False,
    end_dt: Optional[TimeLike] = None,
    fq_ref_date: None = None,
    df: bool = False,
    *,
    now: TimeLike,
) -> Any:
    """The last ``count`` bars of ``security`` ending at ``end_dt`` (default and at most ``now``).

    ``include_now=True`` adds the bar still being formed at that time, built from the minute
    bars finished by then (for ``1d`` and ``5m``; a minute bar is never partial). Suspended
    days have no bars and are skipped, so ``count`` bars reach further back. Returns
    ``{field: [values...]}`` (or ``{code: {...}}`` for a list of codes); ``df=True`` returns
    a DataFrame with one column per field.
    """
    if fq_ref_date is not None:
        raise DataConfigError("jqtrade 的行情不复权：get_bars 不支持 fq_ref_date，请去掉该参数")
    names = _fields(fields, _DEFAULT_BAR_FIELDS, BAR_FIELDS, "get_bars")
    bar_unit = BarUnit.parse(unit)
    at = _cap(end_dt, now)
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise DataConfigError(f"count 的值 {count!r} 不合法：应为 ≥ 1 的整数")

    def one(code: str) -> Columns:
        bars = source.get_bars(code, bar_unit, end=at, count=count)
        if include_now:
            forming = _forming_bar(source, code, bar_unit, at)
            if forming is not None:
                bars = [*bars, forming][-count:]
        return _columns(bars, names, bar_unit)

    if isinstance(security, str):
        columns = one(to_code(security))
        return _frame(columns, "get_bars") if df else columns
    result = {to_code(code): one(to_code(code)) for code in security}
    if df:
        return {code: _frame(cols, "get_bars") for code, cols in result.items()}
    return result


def _forming_bar(
    source: AbsDataSource, code: str, unit: BarUnit, at: pendulum.DateTime
) -> Optional[Bar]:
    """The ``unit`` bar under way at ``at``, from the minute bars finished by then."""
    if unit is BarUnit.m1 or not source.supports(BarUnit.m1):
        return None
    if unit is BarUnit.d1:
        if at >= close_time(at.date()):
            return None  # the day's bar is finished, and already counted
        start = at.replace(hour=0, minute=0, second=0, microsecond=0)
    else:
        minute = at.replace(second=0, microsecond=0)
        end = bucket_end(minute, unit) if in_session(minute.time()) else None
        if end is None or end == at:
            return None
        start = end.subtract(minutes=unit.minutes or 5)
    minutes = source.get_bars(code, BarUnit.m1, start=start, end=at)
    if not minutes:
        return None
    stamp = close_time(at.date()) if unit is BarUnit.d1 else bucket_end(minutes[-1].time, unit)
    assert stamp is not None
    return attrs.evolve(
        minutes[0],
        unit=unit,
        time=stamp,
        high=max(b.high for b in minutes),
        low=min(b.low for b in minutes),
        close=minutes[-1].close,
        volume=sum(b.volume for b in minutes),
        amount=sum((b.amount for b in minutes), Decimal(0)),
    )


# --- get_price -----------------------------------------------------------------------------


def get_price(
    source: AbsDataSource,
    security: Codes,
    start_date: Optional[TimeLike] = None,
    end_date: Optional[TimeLike] = None,
    frequency: str = "daily",
    fields: Optional[Iterable[str]] = None,
    skip_paused: bool = True,
    fq: Optional[str] = None,
    count: Optional[int] = None,
    panel: bool = False,
    fill_paused: bool = True,
    df: bool = False,
    *,
    now: TimeLike,
) -> Any:
    """Bars of ``security`` between ``start_date`` and ``end_date`` (or the last ``count``).

    ``end_date`` defaults to ``now`` and is capped at it; a date means that whole day (its
    daily bar counts once the day has closed). ``start_date`` and ``count`` are exclusive.
    Only existing bars are returned (as ``skip_paused=True``); ``fq`` must be ``None``.
    For one code: ``{"date": [...], field: [...]}``; for a list: ``{code: {...}}``. With
    ``df=True``: a DataFrame indexed by time for one code, or the long table with ``time``
    and ``code`` columns (JoinQuant's ``panel=False`` shape) for a list.
    """
    if fq is not None:
        raise DataConfigError(
            f"fq={fq!r} 不支持：jqtrade 的行情是不复权价格（实际成交价），请使用 fq=None"
        )
    if not skip_paused:
        raise DataConfigError("skip_paused=False 不支持：停牌日没有 K 线，结果总是跳过停牌日")
    names = _fields(fields, _DEFAULT_PRICE_FIELDS, PRICE_FIELDS, "get_price")
    bar_unit = BarUnit.parse(frequency)
    end = _cap(_end_of_day(end_date, bar_unit) if end_date is not None else None, now)
    if (start_date is None) == (count is None):
        raise DataConfigError("get_price 需要 start_date 和 count 二者之一（且只能给一个）")
    extra = any(n in names for n in ("pre_close", "high_limit", "low_limit"))

    def one(code: str) -> Columns:
        if count is not None:
            bars = source.get_bars(code, bar_unit, end=end, count=count + (1 if extra else 0))
        else:
            first = market_time(start_date)  # type: ignore[arg-type]  # checked above
            begin = (
                first.replace(hour=0, minute=0)
                if bar_unit is BarUnit.d1
                else first.subtract(minutes=1)
            )
            bars = source.get_bars(code, bar_unit, end=end, start=begin)
            if extra and bars:
                before = source.get_bars(
                    code, bar_unit, end=bars[0].time.subtract(seconds=1), count=1
                )
                bars = [*before, *bars]
        return _price_columns(bars, names, bar_unit, count, extra)

    if isinstance(security, str):
        columns = one(to_code(security))
        return _frame(columns, "get_price", index="date") if df else columns
    result = {to_code(code): one(to_code(code)) for code in security}
    if df:
        return _long_frame(result)
    return result


def _end_of_day(value: TimeLike, unit: BarUnit) -> TimeLike:
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return close_time(value)
    if isinstance(value, str) and len(value.strip()) == 10:
        return close_time(market_time(value).date())
    return value


def _price_columns(
    bars: list[Bar], names: Sequence[str], unit: BarUnit, count: Optional[int], extra: bool
) -> Columns:
    previous: list[Optional[Bar]] = [None, *bars[:-1]]
    rows = list(zip(bars, previous))
    if extra:
        rows = rows[1:] if count is None or len(bars) > count else rows
        if count is not None:
            rows = rows[-count:]
    wanted = [n for n in ("date", *names) if n in PRICE_FIELDS]
    columns: Columns = {name: [] for name in dict.fromkeys(wanted)}
    for bar, before in rows:
        base = _bar_values(bar, unit)
        pre = float(before.close) if before is not None else math.nan
        limits = (
            day_limits(bar.code, before.close, bar.time.date())
            if before is not None and unit is BarUnit.d1
            else None
        )
        base["pre_close"] = pre
        base["high_limit"] = float(limits[1]) if limits else math.nan
        base["low_limit"] = float(limits[0]) if limits else math.nan
        base["paused"] = 0.0
        for name in columns:
            columns[name].append(base[name])
    return columns


# --- shared helpers ------------------------------------------------------------------------


def _cap(end: Optional[TimeLike], now: TimeLike) -> pendulum.DateTime:
    at = market_time(now)
    if end is None:
        return at
    return min(market_time(end), at)


def _fields(
    fields: Optional[Iterable[str]], default: Sequence[str], known: Sequence[str], api: str
) -> list[str]:
    names = list(default if fields is None else ([fields] if isinstance(fields, str) else fields))
    unknown = [n for n in names if n not in known]
    if unknown:
        raise DataConfigError(
            f"{api} 的 fields 中 {unknown} 不存在，可用的字段：{', '.join(known)}"
        )
    return names


def _bar_values(bar: Bar, unit: BarUnit) -> dict[str, Any]:
    return {
        "date": bar.time.date() if unit is BarUnit.d1 else bar.time,
        "open": float(bar.open),
        "close": float(bar.close),
        "high": float(bar.high),
        "low": float(bar.low),
        "volume": float(bar.volume),
        "money": float(bar.amount),
    }


_GETTERS: dict[str, Any] = {
    "open": lambda b: float(b.open),
    "close": lambda b: float(b.close),
    "high": lambda b: float(b.high),
    "low": lambda b: float(b.low),
    "volume": lambda b: float(b.volume),
    "money": lambda b: float(b.amount),
}


def _columns(bars: Sequence[Bar], names: Sequence[str], unit: BarUnit) -> Columns:
    columns: Columns = {}
    for name in names:
        if name == "date":
            columns[name] = [b.time.date() if unit is BarUnit.d1 else b.time for b in bars]
        else:
            getter = _GETTERS[name]
            columns[name] = [getter(b) for b in bars]
    return columns


def _pandas(api: str) -> Any:
    try:
        import pandas
    except ImportError:
        raise PandasMissingError(api) from None
    return pandas


def _frame(columns: Columns, api: str, index: Optional[str] = None) -> Any:
    pandas = _pandas(api)
    frame = pandas.DataFrame(columns)
    if index is not None and index in frame.columns:
        frame = frame.set_index(index)
    return frame


def _long_frame(result: Mapping[str, Columns]) -> Any:
    pandas = _pandas("get_price")
    rows = []
    for code, columns in result.items():
        names = [n for n in columns if n != "date"]
        for i, when in enumerate(columns.get("date", [])):
            rows.append({"time": when, "code": code, **{n: columns[n][i] for n in names}})
    return pandas.DataFrame(rows)


# --- current_data --------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class CurrentDataItem:
    """``context.current_data[code]``: prices as floats, ``nan`` where unknown.

    ``stale`` is True when the source failed and this is the last known snapshot (or
    nothing: all prices ``nan``); ``reason`` then says why.
    """

    code: str
    last_price: float
    high_limit: float
    low_limit: float
    pre_close: float
    day_open: float
    paused: bool
    time: Optional[pendulum.DateTime]
    stale: bool = False
    reason: Optional[str] = None

    @classmethod
    def from_quote(
        cls, quote: Quote, *, stale: bool = False, reason: Optional[str] = None
    ) -> CurrentDataItem:
        def price(value: Any) -> float:
            return float(value) if value is not None and value > 0 else math.nan

        return cls(
            code=quote.code,
            last_price=price(quote.last),
            high_limit=price(quote.high_limit),
            low_limit=price(quote.low_limit),
            pre_close=price(quote.pre_close),
            day_open=price(quote.open),
            paused=quote.paused,
            time=quote.time,
            stale=stale,
            reason=reason,
        )

    @classmethod
    def unknown(cls, code: str, reason: Optional[str]) -> CurrentDataItem:
        nan = math.nan
        return cls(
            code=code,
            last_price=nan,
            high_limit=nan,
            low_limit=nan,
            pre_close=nan,
            day_open=nan,
            paused=False,
            time=None,
            stale=True,
            reason=reason,
        )


class CurrentData(Mapping[str, CurrentDataItem]):
    """``context.current_data``: a lazy mapping from code to :class:`CurrentDataItem`.

    Nothing is fetched until a code is looked up. A lookup that misses fetches, in one
    request, that code and every code looked up before whose quote has expired (after
    ``ttl`` seconds of the clock's time), so a callback walking the same 300 codes each
    minute makes one request per minute; :meth:`prefetch` asks for a list at once. When the
    source fails, the last known snapshot is answered with ``stale=True`` and the reason (all
    prices ``nan`` if there was none); the failure is logged once and the source is not asked
    again within ``ttl``. A code the source does not know answers ``nan`` prices as well
    (``stale=True``, with a reason). Iteration covers the codes looked up so far.
    """

    def __init__(
        self,
        source: AbsDataSource,
        clock: Clock,
        *,
        ttl: float = DEFAULT_TTL,
        log: Optional[logging.Logger] = None,
    ) -> None:
        self._quotes = (
            source if isinstance(source, TtlQuoteSource) else TtlQuoteSource(source, ttl=ttl)
        )
        self._clock = clock
        self._known: dict[str, None] = {}
        self._failure: Optional[tuple[pendulum.DateTime, str]] = None
        self._log = log or logger

    def __getitem__(self, code: str) -> CurrentDataItem:
        key = to_code(code)
        self._known[key] = None
        now = self._clock.now()
        fresh, quote = self._quotes.peek(key, now)
        if fresh:
            return self._item(key, quote, None)
        reason = self._recent_failure(now)
        if reason is None:
            reason = self._fetch([key, *(c for c in self._known if c != key)], now)
            if reason is None:
                fresh, quote = self._quotes.peek(key, now)
                return self._item(key, quote, None)
        return self._item(key, self._quotes.peek(key, now)[1], reason)

    def prefetch(self, codes: Iterable[str]) -> None:
        """Look up ``codes`` together (one request for all that are not fresh)."""
        keys = [to_code(code) for code in codes]
        for key in keys:
            self._known[key] = None
        now = self._clock.now()
        if self._recent_failure(now) is None:
            self._fetch(keys, now)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._known))

    def __len__(self) -> int:
        return len(self._known)

    def __contains__(self, code: object) -> bool:
        try:
            return to_code(code) in self._known
        except DataConfigError:
            return False

    def _fetch(self, codes: Sequence[str], now: pendulum.DateTime) -> Optional[str]:
        try:
            self._quotes.get_quotes(codes, now=now)
        except DataSourceError as exc:
            reason = str(exc)
            if self._failure is None or self._failure[1] != reason:
                self._log.warning("行情获取失败，使用上次的行情（已过期）：%s", reason)
            self._failure = (now, reason)
            return reason
        self._failure = None
        return None

    def _recent_failure(self, now: pendulum.DateTime) -> Optional[str]:
        if self._failure is None:
            return None
        age = (now - self._failure[0]).total_seconds()
        return self._failure[1] if 0 <= age < self._quotes.ttl else None

    def _item(self, code: str, quote: Optional[Quote], reason: Optional[str]) -> CurrentDataItem:
        if quote is None:
            return CurrentDataItem.unknown(
                code, reason or f"行情源 {self._quotes.name} 没有 {code} 的行情"
            )
        return CurrentDataItem.from_quote(quote, stale=reason is not None, reason=reason)
