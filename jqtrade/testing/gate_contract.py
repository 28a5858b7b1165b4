"""A reusable pytest suite that checks a trade gate keeps the ``AbsTradeGate`` contract.

Use it for your own gate::

    import pytest
    from jqtrade.testing.gate_contract import GateContract

    class TestMyGate(GateContract):
        @pytest.fixture
        def gate(self, tmp_path):
            gate = MyGate(...)
            gate.setup({"account_no": "123"})
            yield gate
            gate.close()

        def broker_step(self, gate):
            ...  # let the broker (or its simulator) act once, e.g. sleep briefly

Hooks a subclass may override: ``code``, ``price`` and ``amount`` (an order that rests
without filling at once), ``broker_step(gate)`` (let time pass), ``settle_attempts``,
``make_order_id()`` (ids unique for the day at your broker), and
``add_foreign_order(gate)`` (make an order of another program appear; skipped by default).
Against a real account these tests place and cancel real orders: use a test account.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Mapping
from typing import Any, Optional

import pendulum
import pytest

from jqtrade.account.models import LimitOrderStyle, OrderAction, OrderRequest, OrderStatus
from jqtrade.gates.base import AbsTradeGate

ORDER_KEYS = {
    "order_id": (str, type(None)),
    "broker_order_id": (str, type(None)),
    "code": (str,),
    "action": (str,),
    "status": (str,),
    "amount": (int,),
    "price": (int, float),
    "filled_amount": (int,),
    "canceled_amount": (int,),
    "avg_price": (int, float),
    "deal_balance": (int, float),
    "commission": (int, float),
    "err_msg": (str,),
    "entrust_time": (pendulum.DateTime, type(None)),
}
CASH_KEYS = ("total_value", "available_cash", "locked_cash")
POSITION_KEYS = {
    "code": (str,),
    "total_amount": (int,),
    "closeable_amount": (int,),
    "avg_cost": (int, float),
    "last_price": (int, float),
    "position_value": (int, float),
}
_CANCEL_END = {OrderStatus.canceled.value, OrderStatus.partly_canceled.value}
_FINAL = {
    s.value
    for s in (
        OrderStatus.filled,
        OrderStatus.partly_canceled,
        OrderStatus.canceled,
        OrderStatus.rejected,
    )
}


def _check_types(row: Mapping[str, Any], spec: Mapping[str, tuple[type, ...]], what: str) -> None:
    missing = sorted(set(spec) - set(row))
    assert not missing, f"{what} 缺少字段 {missing}：{row!r}"
    for key, types in spec.items():
        value = row[key]
        assert not isinstance(value, bool), f"{what} 的 {key} 不应是布尔值：{row!r}"
        assert isinstance(value, types), f"{what} 的 {key}={value!r} 类型应为 {types}：{row!r}"


def check_order_row(row: Mapping[str, Any]) -> None:
    """One ``sync_orders`` row has the documented keys, types and invariants."""
    assert isinstance(row, Mapping), f"sync_orders 的每一项应为 dict：{row!r}"
    _check_types(row, ORDER_KEYS, "订单")
    assert row["status"] in {s.value for s in OrderStatus}, f"未知状态 {row['status']!r}"
    assert row["action"] in ("open", "close"), f"action 应为 open/close：{row['action']!r}"
    for key in (
        "amount",
        "filled_amount",
        "canceled_amount",
        "avg_price",
        "deal_balance",
        "commission",
    ):
        assert row[key] >= 0, f"{key} 不能为负：{row!r}"
    assert row["filled_amount"] + row["canceled_amount"] <= row["amount"], (
        f"成交+撤单超过委托：{row!r}"
    )


def check_balance(balance: Mapping[str, Any]) -> None:
    """A ``sync_balance`` result has the documented keys and types."""
    assert isinstance(balance, Mapping), f"sync_balance 应返回 dict：{balance!r}"
    cash = balance.get("cash")
    assert isinstance(cash, Mapping), f"sync_balance 缺少 cash：{balance!r}"
    for key in CASH_KEYS:
        assert isinstance(cash.get(key), (int, float)) and not isinstance(cash.get(key), bool), (
            f"cash.{key} 应为数字：{cash!r}"
        )
    positions = balance.get("positions")
    assert isinstance(positions, list), f"positions 应为 list：{balance!r}"
    for row in positions:
        _check_types(row, POSITION_KEYS, "持仓")
        assert 0 <= row["closeable_amount"] <= row["total_amount"], f"可卖数量不合理：{row!r}"


class GateContract:
    """Base class of a gate's contract tests; subclass it and provide a ``gate`` fixture."""

    #: An order that the broker accepts and that does not fill at once.
    code: str = "000001.XSHE"
    price: float = 1.0
    amount: int = 100
    #: How many ``broker_step`` + ``sync_orders`` rounds ``settle`` tries.
    settle_attempts: int = 20

    _ids = itertools.count(1)

    @pytest.fixture
    def gate(self) -> AbsTradeGate:  # pragma: no cover - always overridden
        raise NotImplementedError("GateContract 的子类需要提供名为 gate 的 fixture")

    # -- hooks --

    def broker_step(self, gate: AbsTradeGate) -> None:
        """Let the broker act once (a simulator step, a short sleep). Default: nothing."""

    def make_order_id(self) -> str:
        """A decimal order id not used today at this broker."""
        return str(random.SystemRandom().randrange(10**8, 10**9) + next(self._ids))

    def add_foreign_order(self, gate: AbsTradeGate) -> None:
        """Make an order placed by another program show up in ``sync_orders``."""
        pytest.skip("子类没有实现 add_foreign_order，跳过“其他程序的订单”测试")

    def make_request(self, *, action: OrderAction = OrderAction.open) -> OrderRequest:
        return OrderRequest(
            order_id=self.make_order_id(),
            code=self.code,
            action=action,
            amount=self.amount,
            style=LimitOrderStyle(self.price),
        )

    # -- helpers --

    def find(self, gate: AbsTradeGate, order_id: str) -> Optional[dict[str, Any]]:
        for row in gate.sync_orders():
            check_order_row(row)
            if row["order_id"] == order_id:
                return row
        return None

    def settle(
        self, gate: AbsTradeGate, order_id: str, done: Callable[[dict[str, Any]], bool], what: str
    ) -> dict[str, Any]:
        """Step the broker until the order's row satisfies ``done``; fail saying ``what``."""
        row = None
        for _ in range(self.settle_attempts):
            row = self.find(gate, order_id)
            if row is not None and done(row):
                return row
            self.broker_step(gate)
        pytest.fail(f"等待订单 {order_id} {what} 超时，最后一次回报：{row!r}")

    # -- the contract --

    def test_is_a_gate(self, gate: AbsTradeGate) -> None:
        assert isinstance(gate, AbsTradeGate)

    def test_sync_orders_returns_a_list_of_rows(self, gate: AbsTradeGate) -> None:
        rows = gate.sync_orders()
        assert isinstance(rows, list)
        for row in rows:
            check_order_row(row)

    def test_order_shows_in_sync_orders(self, gate: AbsTradeGate) -> None:
        request = self.make_request()
        assert gate.order(request) is None
        row = self.settle(gate, request.order_id, lambda r: True, "出现在 sync_orders 中")
        assert row["code"] == request.code
        assert row["action"] == request.action.value
        assert row["amount"] == request.amount
        assert row["status"] != OrderStatus.rejected.value, f"测试订单被拒绝：{row['err_msg']}"

    def test_cancel_open_order_ends_canceled(self, gate: AbsTradeGate) -> None:
        request = self.make_request()
        gate.order(request)
        self.settle(gate, request.order_id, lambda r: r["status"] != "new", "被券商受理")
        gate.cancel_order(request.order_id)
        row = self.settle(gate, request.order_id, lambda r: r["status"] in _FINAL, "撤单完成")
        if row["status"] == OrderStatus.filled.value:
            pytest.skip("订单在撤单前已全部成交，无法检查撤单结果")
        assert row["status"] in _CANCEL_END
        assert row["filled_amount"] + row["canceled_amount"] == row["amount"]

    def test_cancel_again_and_cancel_final_do_not_raise(self, gate: AbsTradeGate) -> None:
        request = self.make_request()
        gate.order(request)
        self.settle(gate, request.order_id, lambda r: r["status"] != "new", "被券商受理")
        gate.cancel_order(request.order_id)
        gate.cancel_order(request.order_id)  # a user retrying
        self.settle(gate, request.order_id, lambda r: r["status"] in _FINAL, "撤单完成")
        gate.cancel_order(request.order_id)  # already final

    def test_cancel_unknown_order_does_not_raise(self, gate: AbsTradeGate) -> None:
        gate.cancel_order(self.make_order_id())

    def test_sync_balance_format(self, gate: AbsTradeGate) -> None:
        check_balance(gate.sync_balance())

    def test_foreign_orders_do_not_crash(self, gate: AbsTradeGate) -> None:
        self.add_foreign_order(gate)
        rows = gate.sync_orders()
        for row in rows:
            check_order_row(row)
        foreign = [row for row in rows if row["order_id"] in (None, "")]
        for row in foreign:
            if row.get("broker_order_id"):
                gate.cancel_order(row["broker_order_id"])  # must not raise either
