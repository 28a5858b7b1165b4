"""What a trade gate tells the account: typed reports of orders, fills and the balance.

One definition of the gate boundary, read by mypy, the contract suite and the account alike.
Money and prices are exact ``Decimal``; quantities are ``int`` shares (张 for bonds). Reports
are plain frozen values: a gate builds them, the account reads them, nobody changes them.

Gates written against the older dict contract go through :func:`order_report_from_mapping`
and :func:`balance_report_from_mapping`, which check each field and name the bad one.
"""

from __future__ import annotations

import datetime
import operator
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Optional

import attrs
import pendulum

from jqtrade.clock import MARKET_TZ
from jqtrade.errors import OrderRejectedError, ReportFormatError
from jqtrade.model.orders import OrderAction, OrderStatus
from jqtrade.model.rules import normalize_code

ZERO = Decimal(0)


# No __weakref__ slot: a gate may then build reports by filling a mutable twin of the same
# layout (see jqtrade.gates.onequant.parsing.TrustedBuilder), twice as fast for a first read.
@attrs.frozen(kw_only=True, weakref_slot=False)
class OrderReport:
    """The whole current state of one order as the broker knows it.

    ``None`` in a quantity or money field means "not reported": the account keeps what it
    knew. ``update_time`` is the broker's time of this state; the account uses it to tell
    whether a balance snapshot (its ``as_of``) already contains the state.
    """

    order_id: str  #: jqtrade's id; "" for another program's order
    code: str  #: jqtrade form: 600000.XSHG / 000001.XSHE
    status: OrderStatus
    broker_order_id: Optional[str] = None
    action: Optional[OrderAction] = None
    amount: Optional[int] = None  #: ordered quantity
    price: Optional[Decimal] = None  #: limit price; None for priced-at-best orders
    filled_amount: Optional[int] = None  #: cumulative
    canceled_amount: Optional[int] = None
    avg_price: Optional[Decimal] = None
    deal_balance: Optional[Decimal] = None  #: cumulative filled value, yuan
    commission: Optional[Decimal] = None
    err_msg: str = ""
    entrust_time: Optional[pendulum.DateTime] = None
    update_time: Optional[pendulum.DateTime] = None


@attrs.frozen(kw_only=True)
class TradeReport:
    """One fill. ``trade_id`` is unique per broker and day, so a replayed fill is recognised."""

    trade_id: str
    order_id: str
    code: str
    action: OrderAction
    amount: int
    price: Decimal
    broker_order_id: Optional[str] = None
    commission: Optional[Decimal] = None
    time: Optional[pendulum.DateTime] = None


@attrs.frozen(kw_only=True, weakref_slot=False)  # see OrderReport
class PositionReport:
    """One holding. ``position_value`` ``None`` means ``last_price × total_amount``."""

    code: str
    total_amount: int
    closeable_amount: int
    avg_cost: Decimal = ZERO
    last_price: Decimal = ZERO
    position_value: Optional[Decimal] = None

    @property
    def value(self) -> Decimal:
        if self.position_value is not None:
            return self.position_value
        return self.last_price * self.total_amount


@attrs.frozen(kw_only=True)
class BalanceReport:
    """Cash and holdings as of one moment.

    ``as_of`` is when the broker produced the numbers (OneQuant: the snapshot's own update
    time); ``None`` means "now", which is only right for a gate that asks synchronously.
    """

    total_value: Decimal
    available_cash: Decimal
    locked_cash: Decimal = ZERO
    positions: tuple[PositionReport, ...] = ()
    as_of: Optional[pendulum.DateTime] = None


# --- the dict contract ------------------------------------------------------------------------

_ALLOWED_COUNT = "非负整数"
_ALLOWED_MONEY = "非负的有限数字"
_ALLOWED_STATUS = "、".join(s.value for s in OrderStatus)


def _count(row: Mapping[str, Any], key: str, what: str) -> Optional[int]:
    value = row.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, bool):
        try:
            number = operator.index(value)
        except TypeError:
            try:
                as_float = float(value)
            except (TypeError, ValueError):
                as_float = float("nan")
            number = int(as_float) if as_float.is_integer() else -1
        if number >= 0:
            return number
    raise ReportFormatError(what, key, value, _ALLOWED_COUNT)


def _money(row: Mapping[str, Any], key: str, what: str) -> Optional[Decimal]:
    value = row.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, bool):
        number = _decimal(value)
        if number.is_finite() and number >= 0:
            return number
    raise ReportFormatError(what, key, value, _ALLOWED_MONEY)


def _decimal(value: Any) -> Decimal:
    """``value`` as an exact ``Decimal``; NaN when it is not a number."""
    try:
        return value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Decimal("NaN")


def _text(row: Mapping[str, Any], key: str) -> Optional[str]:
    value = row.get(key)
    if value is None or value == "":
        return None
    return str(value)


_CLOCK_TIME = re.compile(r"^(\d{2})(\d{2})(\d{2})(?:\.(\d{1,6}))?$")


def parse_broker_time(value: object, day: Optional[datetime.date]) -> Optional[pendulum.DateTime]:
    """A datetime, an ISO string, or the broker's ``HHMMSS[.ffffff]`` on ``day``; else ``None``.

    Naive datetimes are market time (Asia/Shanghai).
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            return pendulum.instance(value, tz=MARKET_TZ)
        return pendulum.instance(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    match = _CLOCK_TIME.match(text)
    if match is not None:
        if day is None:
            return None
        hour, minute, second = (int(part) for part in match.group(1, 2, 3))
        micro = int((match.group(4) or "0").ljust(6, "0"))
        try:
            return pendulum.datetime(
                day.year, day.month, day.day, hour, minute, second, micro, tz=MARKET_TZ
            )
        except ValueError:
            return None
    try:
        parsed = pendulum.parse(text, tz=MARKET_TZ)
    except (ValueError, TypeError, pendulum.parsing.exceptions.ParserError):
        return None
    return parsed if isinstance(parsed, pendulum.DateTime) else None


def _enum(
    row: Mapping[str, Any], key: str, what: str, parse: Callable[[Any], Any], allowed: str
) -> Any:
    value = row.get(key)
    try:
        return parse(value)
    except (ValueError, TypeError):
        raise ReportFormatError(what, key, value, allowed) from None


def _status(value: Any) -> OrderStatus:
    return OrderStatus(str(getattr(value, "value", value)).strip())


def _action(value: Any) -> Optional[OrderAction]:
    if value is None or value == "":
        return None
    return OrderAction(str(getattr(value, "value", value)).strip())


def _code(value: Any) -> str:
    if value is None or value == "":
        return ""
    try:
        return normalize_code(value)
    except OrderRejectedError as exc:
        raise ValueError(str(exc)) from None


def order_report_from_mapping(row: Any, *, day: Optional[datetime.date] = None) -> OrderReport:
    """Read one row of the dict contract; :class:`ReportFormatError` names the bad key.

    ``day`` resolves an ``update_time`` / ``entrust_time`` given as ``"HHMMSS"``.
    """
    what = "订单回报"
    if not isinstance(row, Mapping):
        raise ReportFormatError(what, "(整行)", row, "dict")
    if "status" not in row:
        raise ReportFormatError(what, "status", None, _ALLOWED_STATUS)
    status = _enum(row, "status", what, _status, _ALLOWED_STATUS)
    return OrderReport(
        order_id=_text(row, "order_id") or "",
        broker_order_id=_text(row, "broker_order_id"),
        code=_enum(row, "code", what, _code, "600000.XSHG 形式的证券代码"),
        status=status,
        action=_enum(row, "action", what, _action, "open 或 close"),
        amount=_count(row, "amount", what),
        price=_money(row, "price", what),
        filled_amount=_count(row, "filled_amount", what),
        canceled_amount=_count(row, "canceled_amount", what),
        avg_price=_money(row, "avg_price", what),
        deal_balance=_money(row, "deal_balance", what),
        commission=_money(row, "commission", what),
        err_msg=str(row.get("err_msg") or ""),
        entrust_time=parse_broker_time(row.get("entrust_time"), day),
        update_time=parse_broker_time(row.get("update_time"), day),
    )


def _finite(
    row: Mapping[str, Any], key: str, what: str, *, default: Optional[Decimal] = None
) -> Decimal:
    """A finite number that may be negative (total value after a loss can't, but cash can be
    shown negative by some counters while a buy settles)."""
    value = row.get(key)
    if value is None and default is not None:
        return default
    if not isinstance(value, bool) and value is not None:
        number = _decimal(value)
        if number.is_finite():
            return number
    raise ReportFormatError(what, key, value, "有限数字")


def position_report_from_mapping(row: Any) -> PositionReport:
    what = "持仓"
    if not isinstance(row, Mapping):
        raise ReportFormatError(what, "(整行)", row, "dict")
    total = _count(row, "total_amount", what)
    if total is None:
        raise ReportFormatError(what, "total_amount", row.get("total_amount"), _ALLOWED_COUNT)
    closeable = _count(row, "closeable_amount", what)
    closeable = total if closeable is None else closeable
    if closeable > total:
        raise ReportFormatError(what, "closeable_amount", closeable, f"不大于持仓数量 {total}")
    return PositionReport(
        code=_enum(row, "code", what, _required_code, "600000.XSHG 形式的证券代码"),
        total_amount=total,
        closeable_amount=closeable,
        avg_cost=_finite(row, "avg_cost", what, default=ZERO),
        last_price=_money(row, "last_price", what) or ZERO,
        position_value=_money(row, "position_value", what),
    )


def _required_code(value: Any) -> str:
    code = _code(value)
    if not code:
        raise ValueError("缺少证券代码")
    return code


def balance_report_from_mapping(
    data: Any, *, on_bad_position: Optional[Callable[[ReportFormatError, Any], None]] = None
) -> BalanceReport:
    """Read a ``sync_balance`` dict. A bad cash part raises; a bad position row is handed to
    ``on_bad_position`` (default: raise) and left out, so one bad line never hides the rest."""
    what = "资金"
    if not isinstance(data, Mapping):
        raise ReportFormatError("资金持仓", "(整体)", data, "dict")
    cash = data.get("cash")
    if not isinstance(cash, Mapping):
        raise ReportFormatError("资金持仓", "cash", cash, "dict")
    rows = data.get("positions") or []
    if not isinstance(rows, (list, tuple)):
        raise ReportFormatError("资金持仓", "positions", rows, "list")
    positions = []
    for row in rows:
        try:
            position = position_report_from_mapping(row)
        except ReportFormatError as exc:
            if on_bad_position is None:
                raise
            on_bad_position(exc, row)
            continue
        if position.total_amount > 0:
            positions.append(position)
    as_of = data.get("as_of")
    return BalanceReport(
        total_value=_finite(cash, "total_value", what),
        available_cash=_finite(cash, "available_cash", what),
        locked_cash=_finite(cash, "locked_cash", what, default=ZERO),
        positions=tuple(positions),
        as_of=parse_broker_time(as_of, None) if isinstance(as_of, datetime.datetime) else None,
    )
