"""The live order and its state machine, plus the frozen values a user reads.

An :class:`Order` changes only through :meth:`Order.apply_report` (an
:class:`~jqtrade.model.reports.OrderReport`: what the broker says) and the
two local transitions :meth:`Order.mark_canceling` and :meth:`Order.mark_rejected`. Every status
change goes through one table, :data:`TRANSITIONS`. Broker reports that would move an order
backwards are ignored and logged, never applied: a gate may return stale or repeated lines.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Generic, Optional, Protocol, TypeVar, Union

import attrs
import pendulum

from jqtrade.errors import IllegalOrderTransitionError, OrderNotFoundError, UnknownOrderStatusError
from jqtrade.model.orders import (
    FINAL_STATUSES,
    LimitOrderStyle,
    MarketOrderStyle,
    OrderAction,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderStyle,
)
from jqtrade.model.reports import OrderReport
from jqtrade.model.rules import normalize_code

logger = logging.getLogger("jqtrade.account")

_S = OrderStatus

#: status -> statuses it may move to. A status listed in its own set may repeat with more
#: filled quantity (``filling`` -> ``filling``). Reports may skip states (a poll can see
#: ``new`` and next ``filled``), so jumps forward are legal; nothing leads back.
TRANSITIONS: Mapping[OrderStatus, frozenset[OrderStatus]] = MappingProxyType(
    {
        _S.new: frozenset(
            {
                _S.open,
                _S.filling,
                _S.filled,
                _S.canceling,
                _S.partly_canceled,
                _S.canceled,
                _S.rejected,
            }
        ),
        _S.open: frozenset(
            {_S.filling, _S.filled, _S.canceling, _S.partly_canceled, _S.canceled, _S.rejected}
        ),
        _S.filling: frozenset({_S.filling, _S.filled, _S.canceling, _S.partly_canceled}),
        _S.canceling: frozenset(
            {_S.canceling, _S.filled, _S.partly_canceled, _S.canceled, _S.rejected}
        ),
        _S.filled: frozenset(),
        _S.partly_canceled: frozenset(),
        _S.canceled: frozenset(),
        _S.rejected: frozenset(),
    }
)

StatusLike = Union[OrderStatus, str]


def can_transition(current: StatusLike, target: StatusLike) -> bool:
    """Whether the state table allows ``current`` -> ``target``."""
    return parse_status(target) in TRANSITIONS[parse_status(current)]


def parse_status(value: object) -> OrderStatus:
    """``OrderStatus`` or its name (any case) -> ``OrderStatus``; else ``UnknownOrderStatusError``."""
    if isinstance(value, OrderStatus):
        return value
    if isinstance(value, str):
        try:
            return OrderStatus(value.strip().lower())
        except ValueError:
            pass
    raise UnknownOrderStatusError(value, [s.value for s in OrderStatus])


def _fmt_price(value: float) -> str:
    return f"{value:.2f}" if round(value, 2) == value else f"{value:.3f}"


def _fmt_style(style: OrderStyle) -> str:
    if isinstance(style, LimitOrderStyle):
        return "对手方最优价" if style.price == 0 else f"限价 {_fmt_price(style.price)}"
    return "市价"


def _fmt_time(value: Optional[pendulum.DateTime]) -> str:
    return value.format("HH:mm:ss") if value is not None else "-"


# --- values a user reads -----------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Trade:
    """New filled quantity of one order, handed to ``on_trade``.

    ``price`` is the price of this increment, from the change in cumulative deal balance, so
    it differs from the order's running ``avg_price`` when fills happen at several prices.
    It is a ``float`` rounded to 4 places, for the user; the account computes it exactly
    (``Decimal``) from the broker's reports.
    """

    order_id: str
    code: str
    action: OrderAction
    amount: int
    price: float
    time: Optional[pendulum.DateTime] = None

    @property
    def is_buy(self) -> bool:
        return self.action is OrderAction.open

    def __str__(self) -> str:
        side = "买入" if self.is_buy else "卖出"
        return (
            f"成交(订单 {self.order_id} {side} {self.code} {self.amount} 股 "
            f"@ {_fmt_price(self.price)}, {_fmt_time(self.time)})"
        )


@attrs.frozen(kw_only=True, repr=False)
class OrderSnapshot:
    """An order as it was when read: what ``get_orders`` and ``on_order_update`` hand out.

    Money (``order_price``, ``avg_price`` rounded to 6 places, ``deal_balance``,
    ``commission``) is ``float``, for the user; the live order keeps it as exact ``Decimal``.
    """

    order_id: str
    code: str
    status: OrderStatus
    side: OrderSide
    action: OrderAction
    style: OrderStyle
    order_price: Optional[float]
    amount: int
    filled_amount: int
    canceled_amount: int
    avg_price: float
    deal_balance: float
    commission: float
    err_msg: str
    create_time: Optional[pendulum.DateTime]
    entrust_time: Optional[pendulum.DateTime]
    broker_order_id: Optional[str] = None

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def is_buy(self) -> bool:
        return self.action is OrderAction.open

    @property
    def unfilled_amount(self) -> int:
        return self.amount - self.filled_amount - self.canceled_amount

    def __str__(self) -> str:
        side = "买入" if self.is_buy else "卖出"
        text = (
            f"订单(id={self.order_id} {side} {self.code} {self.amount} 股 {_fmt_style(self.style)}"
            f", 状态 {self.status.value}/{self.status.label}"
        )
        if self.filled_amount:
            text += f", 已成交 {self.filled_amount} 股 均价 {_fmt_price(self.avg_price)}"
        if self.canceled_amount:
            text += f", 已撤 {self.canceled_amount} 股"
        if self.err_msg:
            text += f", 原因: {self.err_msg}"
        return text + ")"

    __repr__ = __str__


@attrs.frozen(kw_only=True)
class OrderChange:
    """What one applied report or local transition changed; ``None`` is returned instead when
    nothing did. The caller fires ``on_order_update`` (status or fill changed) and
    ``on_trade`` (``trade`` is set when the filled quantity grew)."""

    order_id: str
    previous_status: OrderStatus
    status: OrderStatus
    previous_filled: int
    filled_amount: int
    trade: Optional[Trade] = None

    @property
    def status_changed(self) -> bool:
        return self.previous_status is not self.status

    @property
    def filled_delta(self) -> int:
        return self.filled_amount - self.previous_filled


# --- report checks ------------------------------------------------------------------------


class _Ignored(Exception):
    """A report that must not be applied; the message says why (in Chinese, for the log)."""


class _Stale(_Ignored):
    """A report older than what we know (e.g. a gate re-reading its file after a restart):
    expected now and then, so it is logged at INFO rather than WARNING."""


def _count(value: Optional[int], key: str, default: int) -> int:
    """A reported quantity, or ``default`` when not reported. Typed reports can still carry
    a value no broker means (a negative count); such a report is not applied."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Ignored(f"{key}={value!r} 不是整数")
    if value < 0:
        raise _Ignored(f"{key}={value!r} 为负数")
    return value


def _money(value: Optional[Decimal], key: str) -> Optional[Decimal]:
    """A reported non-negative amount, or ``None`` when not reported."""
    if value is None:
        return None
    if not isinstance(value, Decimal):
        raise _Ignored(f"{key}={value!r} 不是 Decimal")
    if not value.is_finite():
        raise _Ignored(f"{key}={value!r} 不是有限数字")
    if value < 0:
        raise _Ignored(f"{key}={value!r} 为负数")
    return value


def _derive(
    reported: OrderStatus, filled: int, canceled: int, amount: int
) -> tuple[OrderStatus, int]:
    """The status (and canceled quantity) that the reported quantities support.

    Quantities win over the status word where they are unambiguous: everything filled is
    ``filled``; a final cancel is ``partly_canceled`` when anything was filled, else
    ``canceled``, and its canceled quantity is the rest of the order.
    """
    if reported is _S.rejected:
        if filled > 0:
            raise _Ignored(f"状态为 rejected 但已成交 {filled} 股")
        return _S.rejected, canceled
    if filled == amount:
        return _S.filled, canceled
    if reported is _S.filled:
        raise _Ignored(f"状态为 filled 但只成交了 {filled}/{amount} 股")
    if reported in (_S.canceled, _S.partly_canceled):
        rest = amount - filled
        return (_S.partly_canceled if filled > 0 else _S.canceled), rest
    if canceled > 0 and filled + canceled == amount:
        return (_S.partly_canceled if filled > 0 else _S.canceled), canceled
    if reported is _S.canceling:
        return _S.canceling, canceled
    if filled > 0:
        return _S.filling, canceled
    if reported is _S.new:
        return _S.new, canceled
    return _S.open, canceled


# --- the live order ------------------------------------------------------------------------


_FROZEN = attrs.setters.frozen
_ZERO = Decimal(0)


@attrs.define(kw_only=True, eq=False, on_setattr=_FROZEN)
class Order:
    """One order of this task. Fields are read-only from outside: state changes only through
    the methods below, each checked against :data:`TRANSITIONS`.

    Money (``avg_price``, ``deal_balance``, ``commission``) is exact ``Decimal`` here; the
    values a user reads (:class:`OrderSnapshot`, :class:`Trade`) carry it as ``float``."""

    order_id: str
    code: str
    action: OrderAction
    amount: int
    style: OrderStyle
    side: OrderSide = OrderSide.long
    create_time: Optional[pendulum.DateTime] = None
    status: OrderStatus = OrderStatus.new
    filled_amount: int = 0
    canceled_amount: int = 0
    avg_price: Decimal = _ZERO
    deal_balance: Decimal = _ZERO
    commission: Decimal = _ZERO
    err_msg: str = ""
    entrust_time: Optional[pendulum.DateTime] = None
    broker_order_id: Optional[str] = None

    @classmethod
    def from_request(cls, request: OrderRequest) -> Order:
        return cls(
            order_id=request.order_id,
            code=request.code,
            action=request.action,
            amount=request.amount,
            style=request.style,
            side=request.side,
            create_time=request.create_time,
        )

    # -- reading --

    @property
    def price(self) -> Optional[float]:
        """The limit price; ``None`` for a market order (0 means best counterparty price)."""
        return self.style.price if isinstance(self.style, LimitOrderStyle) else None

    order_price = price

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def is_buy(self) -> bool:
        return self.action is OrderAction.open

    def snapshot(self) -> OrderSnapshot:
        return OrderSnapshot(
            order_id=self.order_id,
            code=self.code,
            status=self.status,
            side=self.side,
            action=self.action,
            style=self.style,
            order_price=self.price,
            amount=self.amount,
            filled_amount=self.filled_amount,
            canceled_amount=self.canceled_amount,
            avg_price=round(float(self.avg_price), 6),
            deal_balance=float(self.deal_balance),
            commission=float(self.commission),
            err_msg=self.err_msg,
            create_time=self.create_time,
            entrust_time=self.entrust_time,
            broker_order_id=self.broker_order_id,
        )

    def state_report(self) -> OrderReport:
        """The order's current state in the shape a broker reports it: applying it to an order
        built from the same request restores this state (the journal's ``state`` record)."""
        return OrderReport(
            order_id=self.order_id,
            code=self.code,
            status=self.status,
            broker_order_id=self.broker_order_id,
            filled_amount=self.filled_amount,
            canceled_amount=self.canceled_amount,
            avg_price=self.avg_price,
            deal_balance=self.deal_balance,
            commission=self.commission,
            err_msg=self.err_msg,
            entrust_time=self.entrust_time,
        )

    # -- changing --

    def _set(self, **changes: Any) -> None:
        for name, value in changes.items():
            object.__setattr__(self, name, value)

    def _change(
        self, previous: OrderStatus, previous_filled: int, trade: Optional[Trade]
    ) -> OrderChange:
        return OrderChange(
            order_id=self.order_id,
            previous_status=previous,
            status=self.status,
            previous_filled=previous_filled,
            filled_amount=self.filled_amount,
            trade=trade,
        )

    def mark_canceling(self) -> Optional[OrderChange]:
        """A cancel was requested. ``None`` if already canceling; raises on a final order."""
        if self.status is _S.canceling:
            return None
        if _S.canceling not in TRANSITIONS[self.status]:
            raise IllegalOrderTransitionError(self.order_id, self.status.value, "撤单")
        previous = self.status
        self._set(status=_S.canceling)
        return self._change(previous, self.filled_amount, None)

    def mark_rejected(self, reason: str) -> OrderChange:
        """The order never reached the broker (send failed, or interrupted by a restart)."""
        if self.status is not _S.new:
            raise IllegalOrderTransitionError(self.order_id, self.status.value, "标记为废单")
        self._set(status=_S.rejected, err_msg=reason)
        return self._change(_S.new, self.filled_amount, None)

    def apply_report(
        self, report: OrderReport, *, at: Optional[pendulum.DateTime] = None
    ) -> Optional[OrderChange]:
        """Apply one report of ``sync_orders`` (the whole current state of this order).

        Returns what changed in status or filled quantity, or ``None``. Reports that would
        move the order backwards, or that contradict themselves, are logged and ignored.
        Fields that only inform (commission, broker id, entrust time, message) are taken from
        any report that is not ignored. ``at`` stamps the resulting :class:`Trade`.
        """
        try:
            return self._apply(report, at)
        except _Stale as why:
            logger.info("忽略订单 %s 的过时回报：%s（回报：%r）", self.order_id, why, report)
        except _Ignored as why:
            logger.warning("忽略订单 %s 的回报：%s（回报：%r）", self.order_id, why, report)
        return None

    def _apply(self, report: OrderReport, at: Optional[pendulum.DateTime]) -> Optional[OrderChange]:
        if not isinstance(report, OrderReport):
            raise _Ignored("回报不是 OrderReport")
        if report.order_id and report.order_id != self.order_id:
            raise _Ignored(f"回报的订单号 {report.order_id!r} 与本订单不符")
        reported = report.status
        if not isinstance(reported, OrderStatus):
            raise _Ignored(f"未知状态 {reported!r}")

        filled = _count(report.filled_amount, "filled_amount", self.filled_amount)
        canceled = _count(report.canceled_amount, "canceled_amount", self.canceled_amount)
        deal_balance = _money(report.deal_balance, "deal_balance")
        avg_price = _money(report.avg_price, "avg_price")
        commission = _money(report.commission, "commission")

        if filled < self.filled_amount:
            raise _Stale(f"成交数量从 {self.filled_amount} 减少到 {filled}")
        if filled + canceled > self.amount:
            raise _Ignored(f"成交 {filled} + 撤单 {canceled} 超过委托数量 {self.amount}")
        target, canceled = _derive(reported, filled, canceled, self.amount)
        if canceled < self.canceled_amount:
            raise _Stale(f"撤单数量从 {self.canceled_amount} 减少到 {canceled}")
        if self.status is _S.canceling and target in (_S.new, _S.open, _S.filling):
            # The broker has not processed the cancel yet (or refused it): stay canceling,
            # keep taking fills. A refused cancel can be sent again.
            target = _S.canceling

        quantities_changed = filled != self.filled_amount or canceled != self.canceled_amount
        if target is self.status and not quantities_changed:
            self._apply_info(report, commission)
            return None
        if target not in TRANSITIONS[self.status]:
            raise _Stale(f"状态不能从 {self.status.value} 变为 {target.value}")

        # Fill value: cumulative deal balance, derived from avg price when missing.
        if deal_balance is None or (deal_balance == 0 and filled > 0):
            deal_balance = avg_price * filled if avg_price else None
        if avg_price is None or (avg_price == 0 and filled > 0):
            avg_price = deal_balance / filled if deal_balance and filled else None

        trade = None
        delta = filled - self.filled_amount
        if delta > 0:
            trade = self._trade(delta, deal_balance, avg_price, at)

        previous, previous_filled = self.status, self.filled_amount
        self._set(status=target, filled_amount=filled, canceled_amount=canceled)
        if deal_balance is not None:
            self._set(deal_balance=deal_balance)
        if avg_price is not None:
            self._set(avg_price=avg_price)
        self._apply_info(report, commission)
        return self._change(previous, previous_filled, trade)

    def _trade(
        self,
        delta: int,
        deal_balance: Optional[Decimal],
        avg_price: Optional[Decimal],
        at: Optional[pendulum.DateTime],
    ) -> Trade:
        price: Optional[Decimal] = None
        if deal_balance is not None:
            price = (deal_balance - self.deal_balance) / delta
            if price <= 0:
                price = None
        if price is None:
            price = avg_price if avg_price else _ZERO
        return Trade(
            order_id=self.order_id,
            code=self.code,
            action=self.action,
            amount=delta,
            price=round(float(price), 4),
            time=at,
        )

    def _apply_info(self, report: OrderReport, commission: Optional[Decimal]) -> None:
        if commission is not None:
            self._set(commission=commission)
        if report.broker_order_id:
            self._set(broker_order_id=report.broker_order_id)
        if report.entrust_time is not None:
            self._set(entrust_time=report.entrust_time)
        if report.err_msg:
            self._set(err_msg=report.err_msg)


# --- what get_orders() returns -------------------------------------------------------------


def _status_set(status: object) -> frozenset[OrderStatus]:
    if isinstance(status, (str, OrderStatus)):
        return frozenset({parse_status(status)})
    if isinstance(status, Iterable):
        return frozenset(parse_status(item) for item in status)
    return frozenset({parse_status(status)})


class _OrderLike(Protocol):
    """What :class:`OrdersView` needs of the orders it holds (``OrderSnapshot`` or a wrapper)."""

    @property
    def order_id(self) -> str: ...

    @property
    def code(self) -> str: ...

    @property
    def status(self) -> OrderStatus: ...


_O = TypeVar("_O", bound=_OrderLike)

#: What the APIs taking "an order" accept: its id (``str``/``int``) or the order object itself.
OrderRef = Union[str, int, OrderSnapshot]


def order_id_of(order: object) -> str:
    """The order id of ``order``: an id (``str``/``int``) or any object with an ``order_id``.

    ``cancel_order(o)``, ``get_orders()[o]`` and ``o in get_orders()`` all go through here, so
    both loops of older scripts work: ``for o in get_orders(): cancel_order(o)`` (jqtrade 1.x
    iterated ids) and ``cancel_order(o.order_id)`` (the seed README).
    """
    if isinstance(order, str):
        return order
    if isinstance(order, int) and not isinstance(order, bool):
        return str(order)
    order_id = getattr(order, "order_id", None)
    if isinstance(order_id, str):
        return order_id
    raise OrderNotFoundError(order)


class OrdersView(Generic[_O]):
    """Today's orders, read-only.

    Iterating gives the orders themselves (:class:`OrderSnapshot` objects:
    ``for o in get_orders(): o.status``), and it is also a mapping from order id to order
    (``.items()``, ``.values()``, ``.keys()``, ``[order_id]``, ``order_id in view``) so that
    both styles of older scripts keep working. Wherever an id is taken, the order object (or
    an ``int`` id) does as well, see :func:`order_id_of`. A missing id raises
    :class:`~jqtrade.errors.OrderNotFoundError`, a ``KeyError``.
    """

    __slots__ = ("_orders",)

    def __init__(self, orders: Iterable[_O] = ()) -> None:
        self._orders: dict[str, _O] = {o.order_id: o for o in orders}

    def select(
        self,
        order_id: Optional[OrderRef] = None,
        code: Optional[str] = None,
        status: Union[StatusLike, Iterable[StatusLike], None] = None,
    ) -> OrdersView[_O]:
        """Orders matching every filter given (AND); ``status`` may be one status or several."""
        wanted = _status_set(status) if status is not None else None
        wanted_code = normalize_code(code) if code is not None else None
        wanted_id = order_id_of(order_id) if order_id is not None else None
        return OrdersView(
            s
            for s in self._orders.values()
            if (wanted_id is None or s.order_id == wanted_id)
            and (wanted_code is None or s.code == wanted_code)
            and (wanted is None or s.status in wanted)
        )

    def __iter__(self) -> Iterator[_O]:
        return iter(list(self._orders.values()))

    def __len__(self) -> int:
        return len(self._orders)

    def __bool__(self) -> bool:
        return bool(self._orders)

    def __contains__(self, item: object) -> bool:
        if isinstance(item, (str, int)) and not isinstance(item, bool):
            return str(item) in self._orders
        order_id = getattr(item, "order_id", None)
        if isinstance(order_id, str):  # an order object: this very state of the order
            return self._orders.get(order_id) == item
        return False

    def __getitem__(self, order: OrderRef) -> _O:
        order_id = order_id_of(order)
        try:
            return self._orders[order_id]
        except KeyError:
            raise OrderNotFoundError(order_id) from None

    def get(self, order: OrderRef, default: Optional[_O] = None) -> Optional[_O]:
        try:
            return self._orders.get(order_id_of(order), default)
        except OrderNotFoundError:
            return default

    def keys(self) -> list[str]:
        return list(self._orders)

    def values(self) -> list[_O]:
        return list(self._orders.values())

    def items(self) -> list[tuple[str, _O]]:
        return list(self._orders.items())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, OrdersView):
            return self._orders == other._orders
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        if not self._orders:
            return "OrdersView(无订单)"
        lines = "\n  ".join(str(s) for s in self._orders.values())
        return f"OrdersView({len(self._orders)} 个订单:\n  {lines})"


__all__ = [
    "TRANSITIONS",
    "LimitOrderStyle",  # re-exported: jqtrade 1.x scripts import the styles and enums from here
    "MarketOrderStyle",
    "Order",
    "OrderAction",
    "OrderChange",
    "OrderRef",
    "OrderSide",
    "OrderSnapshot",
    "OrderStatus",
    "OrdersView",
    "Trade",
    "can_transition",
    "order_id_of",
    "parse_status",
]
