"""Positions and the portfolio: frozen snapshots built from the gate's ``BalanceReport``.

A new complete snapshot replaces the old one after each successful sync; a failed sync keeps
the last good snapshot, its ``as_of`` and ``last_sync_time``, and marks it stale
(:meth:`Portfolio.mark_stale`). What a strategy reads is the snapshot with its own orders laid
over it (:meth:`Portfolio.overlaid`, see ``jqtrade.account.overlay``).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any, Optional

import attrs
import pendulum

from jqtrade.errors import GateError, OrderRejectedError
from jqtrade.model.orders import OrderSide
from jqtrade.model.reports import BalanceReport, PositionReport
from jqtrade.model.rules import normalize_code

logger = logging.getLogger("jqtrade.account")

NOT_SYNCED_REASON = "尚未从券商同步资金和持仓"


def _finite_float(value: Decimal, name: str) -> float:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValueError(f"{name}={value!r} 不是有限的 Decimal")
    return float(value)


@attrs.frozen(kw_only=True)
class Position:
    """One holding as last reported by the broker (long side only).

    Prices and values are ``float``, for the user, converted once from the gate's exact
    :class:`~jqtrade.model.reports.PositionReport`.
    """

    code: str
    total_amount: int = 0
    closeable_amount: int = 0
    avg_cost: float = 0.0
    last_price: float = 0.0
    position_value: float = 0.0
    side: OrderSide = OrderSide.long

    @classmethod
    def empty(cls, code: str) -> Position:
        """The zero position a lookup of a code not held returns."""
        return cls(code=code)

    @classmethod
    def from_report(cls, report: PositionReport) -> Position:
        """Build from a gate's :class:`PositionReport`; ``ValueError`` if it is unusable."""
        if not isinstance(report, PositionReport):
            raise ValueError(f"持仓不是 PositionReport：{report!r}")
        try:
            code = normalize_code(report.code)
        except OrderRejectedError as exc:
            raise ValueError(exc.message) from None
        total, closeable = report.total_amount, report.closeable_amount
        for name, count in (("total_amount", total), ("closeable_amount", closeable)):
            if isinstance(count, bool) or not isinstance(count, int):
                raise ValueError(f"{name}={count!r} 不是整数")
        if total < 0 or closeable < 0:
            raise ValueError(f"持仓数量为负：total_amount={total}, closeable_amount={closeable}")
        if closeable > total:
            raise ValueError(f"可卖数量 {closeable} 大于持仓数量 {total}")
        return cls(
            code=code,
            total_amount=total,
            closeable_amount=closeable,
            avg_cost=_finite_float(report.avg_cost, "avg_cost"),
            last_price=_finite_float(report.last_price, "last_price"),
            position_value=_finite_float(report.value, "position_value"),
        )

    @property
    def security(self) -> str:
        return self.code

    @property
    def amount(self) -> int:
        """Same as ``total_amount`` (the jqtrade 1.x / JoinQuant spelling)."""
        return self.total_amount

    @property
    def available_amount(self) -> int:
        return self.closeable_amount

    @property
    def hold_cost(self) -> float:
        """Same as ``avg_cost``, the broker's cost price.

        JoinQuant's ``hold_cost`` is a cost re-based at each daily settlement; an A-share
        broker reports no such figure, so the broker's cost price stands in for it.
        """
        return self.avg_cost

    @property
    def acc_avg_cost(self) -> float:
        return self.avg_cost

    @property
    def price(self) -> float:
        return self.last_price

    @property
    def value(self) -> float:
        return self.position_value

    @property
    def locked_amount(self) -> int:
        """Held but not sellable now (bought today, or frozen by a working sell order)."""
        return self.total_amount - self.closeable_amount

    def __str__(self) -> str:
        return (
            f"持仓({self.code} 持有 {self.total_amount} 股, 可卖 {self.closeable_amount} 股, "
            f"成本 {self.avg_cost:.3f}, 现价 {self.last_price:.3f}, 市值 {self.position_value:.2f})"
        )


def _merge(first: Position, second: Position) -> Position:
    total = first.total_amount + second.total_amount
    cost = (
        (
            Decimal(str(first.avg_cost)) * first.total_amount
            + Decimal(str(second.avg_cost)) * second.total_amount
        )
        / total
        if total
        else Decimal(0)
    )
    return attrs.evolve(
        first,
        total_amount=total,
        closeable_amount=first.closeable_amount + second.closeable_amount,
        avg_cost=round(float(cost), 6),
        last_price=second.last_price or first.last_price,
        position_value=float(
            Decimal(str(first.position_value)) + Decimal(str(second.position_value))
        ),
    )


class Positions(Mapping[str, Position]):
    """Read-only mapping code -> :class:`Position` of the codes held.

    ``positions["600000.XSHG"]`` of a code not held gives an empty position (zeros) instead of
    a ``KeyError``, yet ``in`` is False for it and iteration lists held codes only. Lookups
    accept ``.SH``/``.SZ`` too. ``get`` keeps dict semantics (``default`` when not held).
    """

    __slots__ = ("_items",)

    def __init__(self, positions: Iterable[Position] = ()) -> None:
        items: dict[str, Position] = {}
        for position in positions:
            held = items.get(position.code)
            items[position.code] = _merge(held, position) if held else position
        self._items = items

    @staticmethod
    def _key(code: object) -> Optional[str]:
        try:
            return normalize_code(code)
        except OrderRejectedError:
            return None

    def __getitem__(self, code: str) -> Position:
        key = normalize_code(code)  # a malformed code is an error, not an empty position
        return self._items.get(key) or Position.empty(key)

    def get(self, code: str, default: Any = None) -> Any:  # type: ignore[override]
        key = self._key(code)
        return self._items.get(key, default) if key else default

    def __contains__(self, code: object) -> bool:
        key = self._key(code)
        return key is not None and key in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        if not self._items:
            return "Positions(无持仓)"
        body = ", ".join(
            f"{p.code}: {p.total_amount}股(可卖{p.closeable_amount})" for p in self._items.values()
        )
        return f"Positions({body})"


@attrs.frozen(kw_only=True)
class Portfolio:
    """Cash and positions of the broker snapshot produced at ``as_of`` (read at
    ``last_sync_time``), plus the effect of this task's orders since then.

    ``is_stale`` when the latest sync did not get a complete snapshot, or the snapshot is
    older than ``max_snapshot_age``; ``stale_reason`` then says why, in Chinese.

    Cash and values are ``float``, for the user: converted once from the gate's exact
    :class:`~jqtrade.model.reports.BalanceReport`, and the overlay of the task's own orders
    (:meth:`overlaid`) is summed in ``Decimal`` before it is converted back.
    """

    total_value: float = 0.0
    available_cash: float = 0.0
    locked_cash: float = 0.0
    long_positions: Positions = attrs.field(factory=Positions)
    short_positions: Positions = attrs.field(factory=Positions)
    last_sync_time: Optional[pendulum.DateTime] = None
    stale_reason: Optional[str] = None
    as_of: Optional[pendulum.DateTime] = None

    @classmethod
    def empty(cls) -> Portfolio:
        """Before the first successful sync: zeros, and stale with a reason saying so."""
        return cls(stale_reason=NOT_SYNCED_REASON)

    @classmethod
    def from_balance(cls, balance: BalanceReport, sync_time: pendulum.DateTime) -> Portfolio:
        """Build from the gate's :class:`BalanceReport`, read at ``sync_time``.

        Unusable positions are logged and skipped; unusable cash (not a ``BalanceReport``, a
        number that is not finite) raises :class:`GateError` (the caller keeps the old
        snapshot). ``as_of`` is the report's, or ``sync_time`` when the gate gives none.
        """
        if not isinstance(balance, BalanceReport):
            raise GateError(f"sync_balance 返回的不是 BalanceReport：{balance!r}")
        try:
            total = _finite_float(balance.total_value, "total_value")
            available = _finite_float(balance.available_cash, "available_cash")
            locked = _finite_float(balance.locked_cash, "locked_cash")
        except ValueError as exc:
            raise GateError(f"sync_balance 返回的资金数据不对：{exc}") from None

        positions = []
        for report in balance.positions:
            try:
                position = Position.from_report(report)
            except (TypeError, ValueError) as exc:
                logger.warning("跳过无法识别的持仓行：%s（%r）", exc, report)
                continue
            if position.total_amount > 0:
                positions.append(position)
        as_of = balance.as_of
        if isinstance(as_of, datetime.datetime) and not isinstance(as_of, pendulum.DateTime):
            as_of = pendulum.instance(as_of)
        if not isinstance(as_of, pendulum.DateTime):
            as_of = sync_time  # the gate says nothing better: it was true when read
        return cls(
            total_value=total,
            available_cash=available,
            locked_cash=locked,
            long_positions=Positions(positions),
            last_sync_time=sync_time,
            as_of=as_of,
        )

    def mark_stale(self, reason: str) -> Portfolio:
        """The same numbers, flagged: the latest sync failed for ``reason``."""
        return attrs.evolve(self, stale_reason=reason)

    def overlaid(
        self,
        codes: Mapping[str, tuple[int, int]],
        cash: Decimal,
        locked: Decimal,
        stale_reason: Optional[str],
    ) -> Portfolio:
        """This snapshot with (held, sellable) deltas per code and cash deltas applied.

        Quantities are clamped to 0 <= sellable <= held; cash to >= 0. Total value moves by
        the cash change plus the held change valued at the last price.
        """
        if not codes and not cash and not locked and stale_reason == self.stale_reason:
            return self
        items = dict(self.long_positions.items())
        value_change = cash + locked
        for code, (held_delta, sellable_delta) in codes.items():
            position = items.get(code) or Position.empty(code)
            held = max(0, position.total_amount + held_delta)
            sellable = min(held, max(0, position.closeable_amount + sellable_delta))
            price = Decimal(repr(position.last_price))
            value_change += (held - position.total_amount) * price
            if held == 0:
                items.pop(code, None)
                continue
            items[code] = attrs.evolve(
                position,
                total_amount=held,
                closeable_amount=sellable,
                position_value=float(price * held)
                if held != position.total_amount
                else position.position_value,
            )
        available = Decimal(repr(self.available_cash)) + cash
        return attrs.evolve(
            self,
            total_value=float(Decimal(repr(self.total_value)) + value_change),
            available_cash=float(max(available, Decimal(0))),
            locked_cash=float(max(Decimal(repr(self.locked_cash)) + locked, Decimal(0))),
            long_positions=Positions(items.values()),
            stale_reason=stale_reason,
        )

    @property
    def is_stale(self) -> bool:
        return self.stale_reason is not None

    @property
    def total_assert(self) -> float:
        """Spelling kept from jqtrade 1.x scripts."""
        return self.total_value

    @property
    def positions(self) -> Positions:
        return self.long_positions

    @property
    def positions_value(self) -> float:
        return float(
            sum((Decimal(str(p.position_value)) for p in self.long_positions.values()), Decimal(0))
        )

    @property
    def position_value(self) -> float:
        """Same as ``positions_value`` (the jqtrade 1.x / JoinQuant spelling)."""
        return self.positions_value

    def __str__(self) -> str:
        moment = self.as_of or self.last_sync_time
        when = moment.format("YYYY-MM-DD HH:mm:ss") if moment else "未同步"
        stale = f", 已过期: {self.stale_reason}" if self.stale_reason else ""
        return (
            f"账户(总资产 {self.total_value:.2f}, 可用 {self.available_cash:.2f}, "
            f"冻结 {self.locked_cash:.2f}, 持仓 {len(self.long_positions)} 只, 快照时间 {when}{stale})"
        )
