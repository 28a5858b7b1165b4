"""An in-memory broker for tests and dry runs: ``FakeTradeGate``.

Public so that users can test their own strategies against it. It is deterministic (no
threads, no clock reads but the injected clock's, no randomness): orders wait until the test
moves them. It reports as every gate does, in :class:`~jqtrade.model.reports.OrderReport`
and :class:`~jqtrade.model.reports.BalanceReport` values with exact ``Decimal`` money.

Broker behaviour modelled:

- ``order`` records the order as ``new``. On the next ``sync_orders`` (or ``step()``) it is
  accepted (``open``) with cash frozen for a buy (limit price × amount plus commission; the
  last price for market or price-0 orders) or shares frozen for a sell, or rejected with a
  reason when cash, shares or a price are missing. ``auto_accept=False`` leaves that to
  :meth:`FakeTradeGate.accept` / :meth:`FakeTradeGate.reject`.
- :meth:`FakeTradeGate.fill` fills (partly or wholly) at a price; cash and positions move.
  Shares bought today are not closeable until :meth:`FakeTradeGate.new_day` (T+1).
- ``cancel_order`` moves a working order to ``canceling``; the next sync (or
  :meth:`FakeTradeGate.complete_cancel`) ends it ``canceled``/``partly_canceled``.
  ``auto_cancel=False`` and :meth:`FakeTradeGate.refuse_cancel` model a refused cancel.
- ``fail_next_orders`` / ``fail_next_syncs`` make calls raise :class:`GateError`.

With ``state_file`` the broker's state is saved as JSON after every change (written to a
temporary file and moved into place, so a killed process never leaves a torn file) and loaded
again by the next instance: orders outlive the process. One process at a time may use a state
file; saving is O(number of orders), so benchmarks should run without it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Optional, Union

import attrs
import pendulum

from jqtrade.clock import Clock
from jqtrade.errors import GateError, OrderNotFoundError
from jqtrade.fileio import read_retrying, write_atomic
from jqtrade.gates.base import AbsTradeGate, GateEnv
from jqtrade.model.orders import LimitOrderStyle, OrderAction, OrderRequest, OrderStatus
from jqtrade.model.reports import BalanceReport, OrderReport, PositionReport
from jqtrade.model.rules import normalize_code

logger = logging.getLogger("jqtrade.gate.fake")

_FINAL = frozenset({"filled", "partly_canceled", "canceled", "rejected"})
_STATE_VERSION = 1


_ZERO = Decimal(0)
_COST_PLACES = Decimal("0.0001")


def _dec(value: Union[float, int, str, Decimal]) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _parse_time(value: Optional[str]) -> Optional[pendulum.DateTime]:
    if not value:
        return None
    parsed = pendulum.parse(value)
    return parsed if isinstance(parsed, pendulum.DateTime) else None


@attrs.frozen(kw_only=True)
class FakeConfig:
    """The fake broker takes no ``set_options`` keys: everything it models is given to its
    constructor (cash, positions, prices, ...) or driven by the test."""


@attrs.define(kw_only=True)
class _FakeOrder:
    order_id: str
    broker_order_id: str
    code: str
    action: str
    amount: int
    price: float  # limit price; 0.0 for market or best-counterparty orders
    is_market: bool = False
    status: str = "new"
    filled_amount: int = 0
    canceled_amount: int = 0
    deal_balance: Decimal = Decimal(0)
    commission: Decimal = Decimal(0)
    err_msg: str = ""
    entrust_time: Optional[str] = None
    frozen_cash: Decimal = Decimal(0)
    frozen_shares: int = 0
    cancel_pending: bool = False
    accepted: bool = False
    update_time: Optional[str] = None  # when the broker last changed this order
    seen: Optional[tuple[str, int, int]] = None  # (status, filled, canceled) at update_time

    @property
    def is_buy(self) -> bool:
        return self.action == OrderAction.open.value

    @property
    def remaining(self) -> int:
        return self.amount - self.filled_amount - self.canceled_amount

    def to_json(self) -> dict[str, Any]:
        data = attrs.asdict(self)
        for key in ("deal_balance", "commission", "frozen_cash"):
            data[key] = str(data[key])
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> _FakeOrder:
        values = dict(data)
        for key in ("deal_balance", "commission", "frozen_cash"):
            values[key] = Decimal(values[key])
        if values.get("seen") is not None:
            values["seen"] = tuple(values["seen"])
        return cls(**values)

    def report(self) -> OrderReport:
        avg = self.deal_balance / self.filled_amount if self.filled_amount else _ZERO
        return OrderReport(
            order_id=self.order_id,
            broker_order_id=self.broker_order_id,
            code=self.code,
            action=OrderAction(self.action),
            status=OrderStatus(self.status),
            amount=self.amount,
            price=_dec(self.price) if self.price > 0 else None,
            filled_amount=self.filled_amount,
            canceled_amount=self.canceled_amount,
            avg_price=avg,
            deal_balance=self.deal_balance,
            commission=self.commission,
            err_msg=self.err_msg,
            entrust_time=_parse_time(self.entrust_time),
            update_time=_parse_time(self.update_time),
        )


@attrs.define(kw_only=True)
class _FakePosition:
    total: int = 0
    closeable: int = 0
    cost: Decimal = Decimal(0)  # total cost of the shares held, fees included


class FakeTradeGate(AbsTradeGate[FakeConfig]):
    """In-memory broker implementing the :class:`AbsTradeGate` contract.

    ``positions`` maps a code to a share count (all closeable) or to a dict with
    ``total_amount``, ``closeable_amount`` and ``avg_cost``. ``prices`` are last prices, used
    for position values, market-order fills and freezing cash for market buys.

    The clock stamps reports (``update_time``, ``as_of``): given here, or by :meth:`configure`
    (``configure_gate(FakeTradeGate(...), {}, GateEnv(clock=clock, runtime_dir=folder))``, what
    the runtime does). Without one, reports carry no times.
    """

    name = "fake"
    config_class = FakeConfig

    def __init__(
        self,
        *,
        cash: float = 1_000_000.0,
        positions: Optional[Mapping[str, Union[int, Mapping[str, Any]]]] = None,
        prices: Optional[Mapping[str, float]] = None,
        commission_rate: float = 0.0,
        auto_accept: bool = True,
        auto_cancel: bool = True,
        state_file: Union[str, Path, None] = None,
        clock: Optional[Clock] = None,
    ) -> None:
        self.auto_accept = auto_accept
        self.auto_cancel = auto_cancel
        self.commission_rate = _dec(commission_rate)
        self.clock = clock
        self.config = FakeConfig()
        self.state_file = Path(state_file) if state_file is not None else None
        self._fail_orders: list[str] = []
        self._fail_syncs: list[str] = []
        self._cash = _dec(cash)
        self._prices: dict[str, float] = {}
        self._positions: dict[str, _FakePosition] = {}
        self._orders: dict[str, _FakeOrder] = {}
        self._next_broker_id = 1
        if self.state_file is not None and self.state_file.exists():
            self._load(self.state_file)
            return
        for code, price in (prices or {}).items():
            self._prices[normalize_code(code)] = float(price)
        for code, spec in (positions or {}).items():
            self._positions[normalize_code(code)] = self._position_from_spec(spec)
        self._save()

    @staticmethod
    def _position_from_spec(spec: Union[int, Mapping[str, Any]]) -> _FakePosition:
        if isinstance(spec, Mapping):
            total = int(spec["total_amount"])
            closeable = int(spec.get("closeable_amount", total))
            avg_cost = _dec(spec.get("avg_cost", 0))
        else:
            total = closeable = int(spec)
            avg_cost = Decimal(0)
        return _FakePosition(total=total, closeable=closeable, cost=avg_cost * total)

    # -- the gate contract --

    def configure(self, config: FakeConfig, env: GateEnv) -> None:
        self.config = config
        self.clock = env.clock

    def order(self, request: OrderRequest) -> None:
        if self._fail_orders:
            raise GateError(self._fail_orders.pop(0))
        if request.order_id in self._orders:
            raise GateError(f"重复的订单号 {request.order_id}：jqtrade 不应重复发送同一订单")
        limit = request.style.price if isinstance(request.style, LimitOrderStyle) else 0.0
        entrust = self.clock.now() if self.clock is not None else request.create_time
        self._orders[request.order_id] = _FakeOrder(
            order_id=request.order_id,
            broker_order_id=self._new_broker_id(),
            code=request.code,
            action=request.action.value,
            amount=request.amount,
            price=float(limit),
            is_market=not isinstance(request.style, LimitOrderStyle),
            entrust_time=entrust.isoformat() if entrust is not None else None,
        )
        self._save(self._orders[request.order_id])

    def cancel_order(self, order_id: str) -> None:
        order = self._orders.get(str(order_id))
        if order is None:
            logger.info("撤单：订单 %s 不存在，已忽略", order_id)
            return
        if order.status in _FINAL:
            return
        order.cancel_pending = True
        order.status = "canceling"
        self._save(order)

    def sync_balance(self) -> BalanceReport:
        if self._fail_syncs:
            raise GateError(self._fail_syncs.pop(0))
        return self.peek_balance()

    def sync_orders(self) -> list[OrderReport]:
        if self._fail_syncs:
            raise GateError(self._fail_syncs.pop(0))
        self.step(accept=self.auto_accept, cancel=self.auto_cancel)
        return self.peek_orders()

    # -- reading without side effects --

    def peek_orders(self) -> list[OrderReport]:
        """Every order as ``sync_orders`` would report it, without letting the broker act."""
        return [order.report() for order in self._orders.values()]

    def peek_balance(self) -> BalanceReport:
        locked = sum((o.frozen_cash for o in self._orders.values()), _ZERO)
        positions = []
        market_value = _ZERO
        for code, pos in self._positions.items():
            if pos.total <= 0:
                continue
            avg_cost = (pos.cost / pos.total).quantize(_COST_PLACES)
            last = _dec(self._prices.get(code, float(avg_cost)))
            value = last * pos.total
            market_value += value
            positions.append(
                PositionReport(
                    code=code,
                    total_amount=pos.total,
                    closeable_amount=pos.closeable,
                    avg_cost=avg_cost,
                    last_price=last,
                    position_value=value,
                )
            )
        return BalanceReport(
            total_value=self._cash + market_value,
            available_cash=self._cash - locked,
            locked_cash=locked,
            positions=tuple(positions),
            # In memory: true at the moment it is read.
            as_of=self.clock.now() if self.clock is not None else None,
        )

    @property
    def cash(self) -> float:
        """Cash including the part frozen by working buy orders."""
        return float(self._cash)

    def order_report(self, order_id: str) -> OrderReport:
        """One order as ``sync_orders`` would report it."""
        return self._get(order_id).report()

    @staticmethod
    def read_state(path: Union[str, Path]) -> dict[str, Any]:
        """The saved state of a ``state_file`` (``"orders"`` is a list of dicts with
        ``order_id``, ``status``, ...), for a test process inspecting another's broker."""
        return json.loads(read_retrying(Path(path)).decode("utf-8"))

    # -- the broker acting --

    def set_price(self, code: str, price: float) -> None:
        self._prices[normalize_code(code)] = float(price)
        self._save()

    def step(self, *, accept: bool = True, cancel: bool = True) -> None:
        """Let the broker act once: accept new orders, complete pending cancels."""
        changed = []
        for order in self._orders.values():
            if accept and order.status == "new":
                self._accept(order)
                changed.append(order)
            if cancel and order.cancel_pending and order.status not in _FINAL:
                self._finish_cancel(order)
                changed.append(order)
        if changed:
            self._save(*changed)

    def accept(self, order_id: str) -> None:
        order = self._get(order_id)
        if order.status != "new":
            raise GateError(f"订单 {order_id} 状态为 {order.status}，只有 new 状态的订单可以受理")
        self._accept(order)
        self._save(order)

    def reject(self, order_id: str, reason: str = "券商拒绝") -> None:
        order = self._get(order_id)
        if order.status in _FINAL or order.filled_amount > 0:
            raise GateError(
                f"订单 {order_id} 状态为 {order.status}、已成交 {order.filled_amount}，不能拒绝"
            )
        self._release(order)
        order.status, order.err_msg, order.cancel_pending = "rejected", reason, False
        self._save(order)

    def fill(
        self, order_id: str, amount: Optional[int] = None, price: Optional[float] = None
    ) -> None:
        """Fill ``amount`` (default: all that is left) at ``price`` (default: the limit price,
        or the last price for market and price-0 orders)."""
        order = self._get(order_id)
        if not order.accepted and order.status not in _FINAL:
            self._accept(order)
            if order.status == "rejected":
                self._save(order)
                raise GateError(f"订单 {order_id} 被拒绝，不能成交：{order.err_msg}")
        if order.status in _FINAL:
            raise GateError(f"订单 {order_id} 已是最终状态 {order.status}，不能再成交")
        remaining = order.remaining
        qty = remaining if amount is None else int(amount)
        if not 0 < qty <= remaining:
            raise GateError(f"成交数量 {qty} 不合法：订单 {order_id} 还剩 {remaining} 股未成交")
        if price is None:
            if order.price > 0:
                price = order.price
            elif order.code in self._prices:
                price = self._prices[order.code]
            else:
                raise GateError(f"{order.code} 没有行情价格，请给 fill() 传入 price")
        deal = _dec(price) * qty
        fee = deal * self.commission_rate
        pos = self._positions.setdefault(order.code, _FakePosition())
        if order.is_buy:
            release = order.frozen_cash * qty / remaining
            order.frozen_cash -= release
            self._cash -= deal + fee
            pos.total += qty
            pos.cost += deal + fee
        else:
            order.frozen_shares -= min(qty, order.frozen_shares)
            if pos.total:
                pos.cost -= pos.cost * qty / pos.total
            pos.total -= qty
            self._cash += deal - fee
            if pos.total <= 0:
                del self._positions[order.code]
        order.filled_amount += qty
        order.deal_balance += deal
        order.commission += fee
        if order.filled_amount == order.amount:
            order.status, order.cancel_pending = "filled", False
            order.frozen_cash = Decimal(0)
        else:
            order.status = "canceling" if order.cancel_pending else "filling"
        self._save(order)

    def complete_cancel(self, order_id: str) -> None:
        order = self._get(order_id)
        if not order.cancel_pending:
            raise GateError(f"订单 {order_id} 没有待处理的撤单")
        self._finish_cancel(order)
        self._save(order)

    def refuse_cancel(self, order_id: str, reason: str = "当前时间不允许撤单") -> None:
        """The broker refuses a pending cancel; the order keeps working."""
        order = self._get(order_id)
        if not order.cancel_pending:
            raise GateError(f"订单 {order_id} 没有待处理的撤单")
        order.cancel_pending = False
        order.status = "filling" if order.filled_amount else ("open" if order.accepted else "new")
        order.err_msg = reason
        self._save(order)

    def new_day(self) -> None:
        """Close the trading day: working orders expire (canceled), the day's orders are
        dropped, and every share becomes closeable (T+1)."""
        for order in self._orders.values():
            if order.status not in _FINAL:
                self._finish_cancel(order)
        self._orders.clear()
        for pos in self._positions.values():
            pos.closeable = pos.total
        self._save()

    def add_external_order(
        self,
        code: str,
        action: str,
        amount: int,
        price: float,
        *,
        order_id: str = "",
        status: str = "open",
    ) -> str:
        """An order placed by another program on the same account; returns its broker id.
        It appears in ``sync_orders`` with ``order_id`` as given (``""``: not jqtrade's)."""
        broker_id = self._new_broker_id()
        key = order_id or f"external-{broker_id}"
        self._orders[key] = _FakeOrder(
            order_id=order_id,
            broker_order_id=broker_id,
            code=normalize_code(code),
            action=OrderAction(action).value,
            amount=int(amount),
            price=float(price),
            status=status,
            accepted=True,
        )
        self._save()
        return broker_id

    def fail_next_orders(self, count: int = 1, reason: str = "模拟：交易接口下单失败") -> None:
        self._fail_orders.extend([reason] * count)

    def fail_next_syncs(self, count: int = 1, reason: str = "模拟：交易接口同步失败") -> None:
        self._fail_syncs.extend([reason] * count)

    # -- internals --

    def _get(self, order_id: str) -> _FakeOrder:
        order = self._orders.get(str(order_id))
        if order is None:
            raise OrderNotFoundError(order_id)
        return order

    def _new_broker_id(self) -> str:
        broker_id = f"F{self._next_broker_id:06d}"
        self._next_broker_id += 1
        return broker_id

    def _available_cash(self) -> Decimal:
        return self._cash - sum((o.frozen_cash for o in self._orders.values()), Decimal(0))

    def _accept(self, order: _FakeOrder) -> None:
        if order.is_buy:
            unit = order.price if order.price > 0 else self._prices.get(order.code)
            if unit is None:
                self._reject_new(order, f"{order.code} 没有行情价格，无法冻结资金")
                return
            need = _dec(unit) * order.amount * (1 + self.commission_rate)
            if need > self._available_cash():
                self._reject_new(
                    order, f"可用资金不足：需要 {need:.2f}，可用 {self._available_cash():.2f}"
                )
                return
            order.frozen_cash = need
        else:
            pos = self._positions.get(order.code)
            closeable = pos.closeable if pos else 0
            if order.amount > closeable:
                self._reject_new(order, f"可卖数量不足：委托 {order.amount}，可卖 {closeable}")
                return
            assert pos is not None
            pos.closeable -= order.amount
            order.frozen_shares = order.amount
        order.accepted = True
        order.status = "canceling" if order.cancel_pending else "open"

    def _reject_new(self, order: _FakeOrder, reason: str) -> None:
        order.status, order.err_msg, order.cancel_pending = "rejected", reason, False

    def _release(self, order: _FakeOrder) -> None:
        order.frozen_cash = Decimal(0)
        if order.frozen_shares:
            pos = self._positions.get(order.code)
            if pos is not None:
                pos.closeable += order.frozen_shares
            order.frozen_shares = 0

    def _finish_cancel(self, order: _FakeOrder) -> None:
        self._release(order)
        order.canceled_amount = order.amount - order.filled_amount
        order.status = "partly_canceled" if order.filled_amount else "canceled"
        order.cancel_pending = False

    # -- persistence --

    def _stamp(self, orders: Iterable[_FakeOrder]) -> None:
        """Note when each order last changed (the broker's report time), from the clock."""
        if self.clock is None:
            return
        now: Optional[str] = None
        for order in orders:
            seen = (order.status, order.filled_amount, order.canceled_amount)
            if seen != order.seen:
                now = now or self.clock.now().isoformat()
                order.seen, order.update_time = seen, now

    def _save(self, *changed: _FakeOrder) -> None:
        """After a change: stamp the orders that changed (all of them if not said) and save."""
        self._stamp(changed or self._orders.values())
        if self.state_file is None:
            return
        state = {
            "version": _STATE_VERSION,
            "cash": str(self._cash),
            "prices": self._prices,
            "positions": {
                code: {"total": p.total, "closeable": p.closeable, "cost": str(p.cost)}
                for code, p in self._positions.items()
            },
            "orders": [o.to_json() for o in self._orders.values()],
            "next_broker_id": self._next_broker_id,
        }
        data = json.dumps(state, ensure_ascii=False, indent=1).encode("utf-8")
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.state_file, data, durable=True)

    def _load(self, path: Path) -> None:
        state = self.read_state(path)
        if state.get("version") != _STATE_VERSION:
            raise GateError(f"模拟券商状态文件 {path} 的版本 {state.get('version')!r} 不支持")
        self._cash = Decimal(state["cash"])
        self._prices = {k: float(v) for k, v in state["prices"].items()}
        self._positions = {
            code: _FakePosition(total=p["total"], closeable=p["closeable"], cost=Decimal(p["cost"]))
            for code, p in state["positions"].items()
        }
        self._orders = {}
        for data in state["orders"]:
            order = _FakeOrder.from_json(data)
            self._orders[order.order_id or f"external-{order.broker_order_id}"] = order
        self._next_broker_id = int(state["next_broker_id"])
