"""A reusable pytest suite that checks a trade gate keeps the ``AbsTradeGate`` contract.

Use it for your own gate::

    import pytest
    from jqtrade.clock import SimClock
    from jqtrade.gates.base import GateEnv
    from jqtrade.gates import configure_gate
    from jqtrade.testing.gate_contract import GateContract

    class TestMyGate(GateContract):
        @pytest.fixture
        def gate(self, tmp_path):
            env = GateEnv(clock=SimClock(...), runtime_dir=tmp_path)
            gate = configure_gate(MyGate(), {"account_no": "123"}, env)
            yield gate
            gate.close()

        def broker_step(self, gate):
            ...  # let the broker (or its simulator) act once, e.g. sleep briefly

What is checked is the typed contract of :mod:`jqtrade.model.reports`: ``sync_orders``
returns a list of :class:`OrderReport` and ``sync_balance`` a :class:`BalanceReport` of
:class:`PositionReport`, each field of its declared type, quantities and money never
negative, filled + canceled never above the order's amount, and an order once reported final
never reported otherwise afterwards. A gate on the older dict contract runs the suite through
``jqtrade.gates.dict_adapter.DictGateAdapter``.

Hooks a subclass may override: ``code``, ``price`` and ``amount`` (an order that rests
without filling at once), ``broker_step(gate)`` (let time pass), ``settle_attempts``,
``make_order_id()`` (ids unique for the day at your broker), and
``add_foreign_order(gate)`` (make an order of another program appear; skipped by default).
Against a real account these tests place and cancel real orders: use a test account.
"""

from __future__ import annotations

import datetime
import itertools
import random
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any, Optional

import pytest

from jqtrade.gates.base import AbsTradeGate
from jqtrade.model.orders import (
    FINAL_STATUSES,
    LimitOrderStyle,
    OrderAction,
    OrderRequest,
    OrderStatus,
)
from jqtrade.model.reports import BalanceReport, OrderReport, PositionReport

Gate = AbsTradeGate[Any]

_CANCEL_END = frozenset({OrderStatus.canceled, OrderStatus.partly_canceled})


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_money(value: object) -> bool:
    return isinstance(value, Decimal) and value.is_finite() and value >= 0


def _check_optional(
    report: object, name: str, check: Callable[[object], bool], allowed: str
) -> None:
    value = getattr(report, name)
    assert value is None or check(value), f"{name}={value!r} 应为 {allowed} 或 None：{report!r}"


def check_order_report(report: object) -> None:
    """One item of ``sync_orders`` is an :class:`OrderReport` with sane fields."""
    assert isinstance(report, OrderReport), f"sync_orders 的每一项应为 OrderReport：{report!r}"
    assert isinstance(report.order_id, str), f'order_id 应为 str（其他程序的订单为 ""）：{report!r}'
    assert isinstance(report.code, str), f"code 应为 str：{report!r}"
    assert isinstance(report.status, OrderStatus), f"status 应为 OrderStatus：{report!r}"
    assert report.action is None or isinstance(report.action, OrderAction), (
        f"action 应为 OrderAction 或 None：{report!r}"
    )
    _check_optional(report, "broker_order_id", lambda v: isinstance(v, str), "str")
    for name in ("amount", "filled_amount", "canceled_amount"):
        _check_optional(report, name, _is_count, "非负 int")
    for name in ("price", "avg_price", "deal_balance", "commission"):
        _check_optional(report, name, _is_money, "非负有限 Decimal")
    assert isinstance(report.err_msg, str), f"err_msg 应为 str：{report!r}"
    for name in ("entrust_time", "update_time"):
        value = getattr(report, name)
        assert value is None or (
            isinstance(value, datetime.datetime) and value.tzinfo is not None
        ), f"{name}={value!r} 应为带时区的时间或 None：{report!r}"
    if report.amount is not None:
        done = (report.filled_amount or 0) + (report.canceled_amount or 0)
        assert done <= report.amount, f"成交+撤单超过委托：{report!r}"
        if report.status is OrderStatus.filled and report.filled_amount is not None:
            assert report.filled_amount == report.amount, f"filled 但没有全部成交：{report!r}"
    if report.status is OrderStatus.rejected:
        assert not report.filled_amount, f"rejected 的订单不应有成交：{report!r}"


def check_position_report(position: object) -> None:
    """One holding of a :class:`BalanceReport`."""
    assert isinstance(position, PositionReport), f"持仓应为 PositionReport：{position!r}"
    assert isinstance(position.code, str) and position.code, f"持仓缺少证券代码：{position!r}"
    assert _is_count(position.total_amount), f"total_amount 应为非负 int：{position!r}"
    assert _is_count(position.closeable_amount), f"closeable_amount 应为非负 int：{position!r}"
    assert position.closeable_amount <= position.total_amount, f"可卖数量不合理：{position!r}"
    for name in ("avg_cost", "last_price"):
        value = getattr(position, name)
        assert isinstance(value, Decimal) and value.is_finite(), (
            f"{name}={value!r} 应为有限 Decimal：{position!r}"
        )
    assert position.last_price >= 0, f"last_price 不能为负：{position!r}"
    _check_optional(position, "position_value", _is_money, "非负有限 Decimal")


def check_balance_report(balance: object) -> None:
    """A ``sync_balance`` result is a :class:`BalanceReport` with sane fields."""
    assert isinstance(balance, BalanceReport), f"sync_balance 应返回 BalanceReport：{balance!r}"
    for name in ("total_value", "available_cash", "locked_cash"):
        value = getattr(balance, name)
        assert isinstance(value, Decimal) and value.is_finite(), (
            f"{name}={value!r} 应为有限 Decimal：{balance!r}"
        )
    assert balance.locked_cash >= 0, f"locked_cash 不能为负：{balance!r}"
    assert isinstance(balance.positions, tuple), f"positions 应为 tuple：{balance!r}"
    for position in balance.positions:
        check_position_report(position)
    as_of = balance.as_of
    assert as_of is None or (isinstance(as_of, datetime.datetime) and as_of.tzinfo is not None), (
        f"as_of={as_of!r} 应为带时区的时间或 None"
    )


def _final_state(report: OrderReport) -> tuple[Any, ...]:
    return (report.status, report.filled_amount, report.canceled_amount)


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
    def gate(self) -> Gate:  # pragma: no cover - always overridden
        raise NotImplementedError("GateContract 的子类需要提供名为 gate 的 fixture")

    @pytest.fixture(autouse=True)
    def _watch_finals(self) -> Iterator[None]:
        """Every final report seen in a test, by order id: a later report must agree."""
        self._finals: dict[str, tuple[Any, ...]] = {}
        self._seen: dict[str, OrderReport] = {}
        yield

    # -- hooks --

    def broker_step(self, gate: Gate) -> None:
        """Let the broker act once (a simulator step, a short sleep). Default: nothing."""

    def make_order_id(self) -> str:
        """A decimal order id not used today at this broker."""
        return str(random.SystemRandom().randrange(10**8, 10**9) + next(self._ids))

    def add_foreign_order(self, gate: Gate) -> None:
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

    def sync(self, gate: Gate) -> list[OrderReport]:
        """``sync_orders``, each report checked, final states checked to stay final."""
        reports = gate.sync_orders()
        assert isinstance(reports, list), f"sync_orders 应返回 list：{reports!r}"
        for report in reports:
            check_order_report(report)
            if not report.order_id:
                continue
            final = self._finals.get(report.order_id)
            if final is not None:
                assert _final_state(report) == final, (
                    f"订单 {report.order_id} 已是最终状态 {final}，之后又报告为 {_final_state(report)}"
                )
            elif report.status in FINAL_STATUSES:
                self._finals[report.order_id] = _final_state(report)
        return reports

    def find(self, gate: Gate, order_id: str) -> Optional[OrderReport]:
        """The order's latest report: from this sync, else the last one seen (a gate may hand
        over only the orders that changed since the previous call)."""
        for report in self.sync(gate):  # reports of one order come in the broker's order
            if report.order_id:
                self._seen[report.order_id] = report
        return self._seen.get(order_id)

    def settle(
        self, gate: Gate, order_id: str, done: Callable[[OrderReport], bool], what: str
    ) -> OrderReport:
        """Step the broker until the order's report satisfies ``done``; fail saying ``what``."""
        report = None
        for _ in range(self.settle_attempts):
            report = self.find(gate, order_id)
            if report is not None and done(report):
                return report
            self.broker_step(gate)
        raise AssertionError(f"等待订单 {order_id} {what} 超时，最后一次回报：{report!r}")

    # -- the contract --

    def test_is_a_gate(self, gate: Gate) -> None:
        assert isinstance(gate, AbsTradeGate)

    def test_sync_orders_returns_a_list_of_reports(self, gate: Gate) -> None:
        self.sync(gate)

    def test_order_shows_in_sync_orders(self, gate: Gate) -> None:
        request = self.make_request()
        assert gate.order(request) is None
        report = self.settle(gate, request.order_id, lambda r: True, "出现在 sync_orders 中")
        assert report.code == request.code
        assert report.action is None or report.action is request.action
        assert report.amount is None or report.amount == request.amount
        assert report.status is not OrderStatus.rejected, f"测试订单被拒绝：{report.err_msg}"

    def test_cancel_open_order_ends_canceled(self, gate: Gate) -> None:
        request = self.make_request()
        gate.order(request)
        self.settle(gate, request.order_id, lambda r: r.status is not OrderStatus.new, "被券商受理")
        gate.cancel_order(request.order_id)
        report = self.settle(
            gate, request.order_id, lambda r: r.status in FINAL_STATUSES, "撤单完成"
        )
        if report.status is OrderStatus.filled:
            pytest.skip("订单在撤单前已全部成交，无法检查撤单结果")
        assert report.status in _CANCEL_END
        assert (report.filled_amount or 0) + (report.canceled_amount or 0) == request.amount
        for _ in range(2):  # final stays final (checked by sync)
            self.broker_step(gate)
            assert self.find(gate, request.order_id) == report

    def test_cancel_again_and_cancel_final_do_not_raise(self, gate: Gate) -> None:
        request = self.make_request()
        gate.order(request)
        self.settle(gate, request.order_id, lambda r: r.status is not OrderStatus.new, "被券商受理")
        gate.cancel_order(request.order_id)
        gate.cancel_order(request.order_id)  # a user retrying
        self.settle(gate, request.order_id, lambda r: r.status in FINAL_STATUSES, "撤单完成")
        gate.cancel_order(request.order_id)  # already final
        self.broker_step(gate)
        self.sync(gate)  # and it stays what it was

    def test_cancel_unknown_order_does_not_raise(self, gate: Gate) -> None:
        gate.cancel_order(self.make_order_id())

    def test_sync_balance_is_a_balance_report(self, gate: Gate) -> None:
        check_balance_report(gate.sync_balance())

    def test_has_order_answers_a_bool_or_none(self, gate: Gate) -> None:
        assert gate.has_order(self.make_order_id()) in (True, False, None)

    def test_foreign_orders_do_not_crash(self, gate: Gate) -> None:
        self.add_foreign_order(gate)
        reports = self.sync(gate)
        for report in reports:
            if not report.order_id and report.broker_order_id:
                gate.cancel_order(report.broker_order_id)  # must not raise either
