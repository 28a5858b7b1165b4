"""Market data values: :class:`Bar`, :class:`Quote`, :class:`Level` and the bar units.

Prices and amounts are ``Decimal`` inside jqtrade (exact, and sums of money stay exact); the
strategy API (:mod:`jqtrade.data.api`) hands floats to user code, like JoinQuant. Sources give
floats; :func:`to_price` turns one into a ``Decimal`` with at most :data:`PRICE_DECIMALS`
decimal places (enough for fund and bond ticks of 0.001 and index points of 0.0001), and
:func:`to_amount` rounds money to the fen. Volumes are ``int`` in shares (股; 张 for bonds),
whatever unit a source uses on the wire: each adapter converts lots (手) to shares itself.

Every time is a pendulum ``DateTime`` in Asia/Shanghai. A bar's ``time`` is the **end** of the
period it covers, as in JoinQuant and TDX: the first one-minute bar of a day is 09:31 (it holds
the opening auction as well), the morning ends with 11:30, the afternoon starts with 13:01,
and a daily bar is stamped 15:00 of its day. "Bars up to T" therefore means ``bar.time <= T``,
and a bar still being formed at T is never among them.

Values are frozen. Adapters build them through the named constructors (:meth:`Bar.create`,
:meth:`Quote.create`), which accept loose inputs (floats, strings) and check them; the cache
builds them directly from rows it wrote itself.
"""

from __future__ import annotations

import datetime
import enum
import math
import re
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Optional, Union

import attrs
import pendulum

from jqtrade.clock import MARKET_TZ
from jqtrade.data.errors import BarUnitError, DataCodeError
from jqtrade.errors import OrderRejectedError
from jqtrade.model.rules import normalize_code

__all__ = [
    "PRICE_DECIMALS",
    "Bar",
    "BarUnit",
    "Level",
    "Number",
    "Quote",
    "market_time",
    "to_amount",
    "to_code",
    "to_price",
]

#: Decimal places kept for a price (0.0001: index points; stock ticks are 0.01, funds 0.001).
PRICE_DECIMALS = 4
_PRICE_QUANTUM = Decimal(1).scaleb(-PRICE_DECIMALS)
_FEN = Decimal("0.01")
_TIME_RE = re.compile(
    r"^\s*(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*$"
)

Number = Union[int, float, str, Decimal]


class BarUnit(str, enum.Enum):
    """Bar periods. ``5m`` is built from ``1m`` bars wherever a source has no 5-minute bars."""

    m1 = "1m"
    m5 = "5m"
    d1 = "1d"

    def __str__(self) -> str:
        return self.value

    @property
    def minutes(self) -> Optional[int]:
        """Length in minutes of an intraday unit; ``None`` for ``1d``."""
        return {"1m": 1, "5m": 5}.get(self.value)

    @classmethod
    def parse(cls, value: object) -> BarUnit:
        """``"1m"`` / ``"5m"`` / ``"1d"`` (also ``"daily"``, ``"minute"``, as JoinQuant allows)."""
        if isinstance(value, BarUnit):
            return value
        text = str(value).strip().lower() if isinstance(value, str) else value
        text = {"daily": "1d", "minute": "1m", "day": "1d"}.get(text, text)  # type: ignore[call-overload]  # only str keys
        try:
            return cls(text)
        except ValueError:
            raise BarUnitError(value, [u.value for u in cls]) from None


def to_code(code: object) -> str:
    """``code`` in jqtrade's form (``600000.XSHG``); ``.SH``/``.SZ`` are accepted too."""
    try:
        return normalize_code(code)
    except OrderRejectedError as exc:
        raise DataCodeError(code, exc.message) from None


def to_price(value: Number) -> Decimal:
    """A price as a ``Decimal`` rounded (half up) to :data:`PRICE_DECIMALS` places."""
    return _to_decimal(value, _PRICE_QUANTUM, "价格")


def to_amount(value: Number) -> Decimal:
    """An amount of money in yuan, rounded (half up) to the fen."""
    return _to_decimal(value, _FEN, "金额")


def _to_decimal(value: Number, quantum: Decimal, what: str) -> Decimal:
    if isinstance(value, bool):
        raise ValueError(f"{what}不能是布尔值：{value!r}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{what}不是有限的数：{value!r}")
        value = repr(
            value
        )  # the shortest decimal that reads back as this float: 7.05, not 7.0499...
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError):
        raise ValueError(f"{what} {value!r} 不是数字") from None
    if not number.is_finite():
        raise ValueError(f"{what}不是有限的数：{value!r}")
    return number.quantize(quantum, rounding=ROUND_HALF_UP)


def market_time(value: Union[datetime.datetime, datetime.date, str]) -> pendulum.DateTime:
    """An instant in Asia/Shanghai: a naive datetime or a string is taken as Beijing time.

    A date alone (``datetime.date`` or ``"YYYY-MM-DD"``) means that day's close, 15:00: the
    time its daily bar is stamped with.
    """
    if isinstance(value, str):
        match = _TIME_RE.match(value)
        if match is None:
            raise ValueError(
                f"时间 {value!r} 无法识别：应为 YYYY-MM-DD 或 YYYY-MM-DD HH:MM:SS（北京时间）"
            )
        year, month, day, hour, minute, second = match.groups()
        try:
            if hour is None:
                return pendulum.datetime(int(year), int(month), int(day), 15, tz=MARKET_TZ)
            return pendulum.datetime(
                int(year),
                int(month),
                int(day),
                int(hour),
                int(minute),
                int(second or 0),
                tz=MARKET_TZ,
            )
        except ValueError as exc:
            raise ValueError(f"时间 {value!r} 不是有效的日期时间：{exc}") from None
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            return pendulum.instance(value.replace(tzinfo=MARKET_TZ)).in_tz(MARKET_TZ)
        return pendulum.instance(value).in_tz(MARKET_TZ)
    if isinstance(value, datetime.date):
        return pendulum.datetime(value.year, value.month, value.day, 15, tz=MARKET_TZ)
    raise TypeError(f"时间应为 datetime、date 或字符串，实际是 {type(value).__name__}")


@attrs.frozen(kw_only=True)
class Bar:
    """One bar: ``time`` is the end of its period (see the module docstring)."""

    code: str
    unit: BarUnit
    time: pendulum.DateTime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    #: Shares (股; 张 for bonds), not lots.
    volume: int
    #: Yuan.
    amount: Decimal

    @classmethod
    def create(
        cls,
        *,
        code: str,
        unit: Union[BarUnit, str],
        time: Union[datetime.datetime, datetime.date, str],
        open: Number,
        high: Number,
        low: Number,
        close: Number,
        volume: Number,
        amount: Number = 0,
    ) -> Bar:
        """A checked bar from loose values (floats, strings, naive Beijing times)."""
        bar = cls(
            code=to_code(code),
            unit=BarUnit.parse(unit),
            time=market_time(time),
            open=to_price(open),
            high=to_price(high),
            low=to_price(low),
            close=to_price(close),
            volume=_to_volume(volume),
            amount=to_amount(amount),
        )
        bar.check()
        return bar

    def check(self) -> None:
        """Raise ``ValueError`` unless low <= open, close <= high, all > 0 and volume >= 0."""
        if not (self.low <= self.open <= self.high and self.low <= self.close <= self.high):
            raise ValueError(
                f"{self.code} {self.time:%Y-%m-%d %H:%M} 的价格不一致：开 {self.open} 高 {self.high} "
                f"低 {self.low} 收 {self.close}（应满足 最低 ≤ 开盘、收盘 ≤ 最高）"
            )
        if self.low <= 0:
            raise ValueError(f"{self.code} {self.time:%Y-%m-%d %H:%M} 的最低价 {self.low} 不是正数")
        if self.volume < 0 or self.amount < 0:
            raise ValueError(f"{self.code} {self.time:%Y-%m-%d %H:%M} 的成交量或成交额为负")


def _to_volume(value: Number) -> int:
    if isinstance(value, bool):
        raise ValueError(f"成交量不能是布尔值：{value!r}")
    if isinstance(value, int):
        return value
    number = _to_decimal(value, Decimal(1), "成交量")
    return int(number)


@attrs.frozen
class Level:
    """One level of the order book: a price and the shares offered there."""

    price: Decimal
    volume: int


@attrs.frozen(kw_only=True)
class Quote:
    """The latest snapshot of one security.

    ``last`` is the latest trade price (``pre_close`` while paused or before the first trade);
    ``open``/``high``/``low`` are today's so far (``0`` before the first trade); ``volume``
    and ``amount`` are today's totals. ``high_limit``/``low_limit`` are ``None`` when the
    security has no daily price limit (reverse repos, indices, first days of a listing) or
    the source cannot tell. ``bids``/``asks`` are best first, empty when the source has none.
    """

    code: str
    time: pendulum.DateTime
    last: Decimal
    open: Decimal
    high: Decimal
    low: Decimal
    pre_close: Decimal
    high_limit: Optional[Decimal] = None
    low_limit: Optional[Decimal] = None
    volume: int = 0
    amount: Decimal = Decimal(0)
    bids: tuple[Level, ...] = ()
    asks: tuple[Level, ...] = ()
    paused: bool = False

    @classmethod
    def create(
        cls,
        *,
        code: str,
        time: Union[datetime.datetime, str],
        last: Number,
        open: Number,
        high: Number,
        low: Number,
        pre_close: Number,
        high_limit: Optional[Number] = None,
        low_limit: Optional[Number] = None,
        volume: Number = 0,
        amount: Number = 0,
        bids: Iterable[tuple[Number, Number]] = (),
        asks: Iterable[tuple[Number, Number]] = (),
        paused: bool = False,
    ) -> Quote:
        """A quote from loose values; levels with a zero price (empty book side) are dropped."""
        return cls(
            code=to_code(code),
            time=market_time(time),
            last=to_price(last),
            open=to_price(open),
            high=to_price(high),
            low=to_price(low),
            pre_close=to_price(pre_close),
            high_limit=None if high_limit is None else to_price(high_limit),
            low_limit=None if low_limit is None else to_price(low_limit),
            volume=_to_volume(volume),
            amount=to_amount(amount),
            bids=_levels(bids),
            asks=_levels(asks),
            paused=bool(paused),
        )


def _levels(pairs: Iterable[tuple[Number, Number]]) -> tuple[Level, ...]:
    levels = []
    for price, volume in pairs:
        level = Level(to_price(price), _to_volume(volume))
        if level.price > 0:
            levels.append(level)
    return tuple(levels)
