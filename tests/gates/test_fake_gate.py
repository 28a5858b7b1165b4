from __future__ import annotations

from decimal import Decimal

import pendulum
import pytest

from jqtrade.account.order import Order
from jqtrade.account.portfolio import Portfolio
from jqtrade.clock import SimClock
from jqtrade.errors import GateError, OrderNotFoundError
from jqtrade.gates import configure_gate
from jqtrade.gates.base import GateEnv
from jqtrade.gates.fake import FakeTradeGate
from jqtrade.model.orders import LimitOrderStyle, MarketOrderStyle, OrderAction, OrderRequest
from jqtrade.model.reports import OrderReport
from jqtrade.testing.gate_contract import GateContract, check_balance_report, check_order_report

T0 = pendulum.datetime(2025, 3, 3, 9, 31, tz="Asia/Shanghai")


class TestFakeGateContract(GateContract):
    code = "000001.XSHE"
    price = 10.0

    @pytest.fixture
    def gate(self, tmp_path):
        gate = FakeTradeGate(
            cash=100_000, positions={"600000.XSHG": 1000}, prices={"600000.XSHG": 8.0}
        )
        configure_gate(gate, {}, GateEnv(clock=SimClock(T0), runtime_dir=tmp_path))
        yield gate
        gate.close()

    def add_foreign_order(self, gate):
        gate.add_external_order("600000.XSHG", "close", 100, 8.0)


class TestFakeGateContractWithStateFile(TestFakeGateContract):
    @pytest.fixture
    def gate(self, tmp_path):
        gate = FakeTradeGate(cash=100_000, state_file=tmp_path / "broker.json")
        yield gate
        gate.close()


def req(
    order_id: str, code: str = "000001.XSHE", amount: int = 100, price=10.0, action=OrderAction.open
):
    style = LimitOrderStyle(price) if price is not None else MarketOrderStyle()
    return OrderRequest(
        order_id=order_id, code=code, action=action, amount=amount, style=style, create_time=T0
    )


def row(gate: FakeTradeGate, order_id: str) -> OrderReport:
    return gate.order_report(order_id)


def test_new_then_open_on_sync_with_cash_frozen():
    gate = FakeTradeGate(cash=10_000)
    gate.order(req("1", amount=500, price=10.0))
    assert row(gate, "1").status == "new"
    assert gate.sync_balance().available_cash == 10_000
    rows = gate.sync_orders()
    assert rows[0].status == "open" and rows[0].broker_order_id
    cash = gate.sync_balance()
    assert cash.available_cash == 5000 and cash.locked_cash == 5000 and cash.total_value == 10_000


def test_buy_without_cash_is_rejected_with_reason():
    gate = FakeTradeGate(cash=500)
    gate.order(req("1", amount=100, price=10.0))
    r = gate.sync_orders()[0]
    assert r.status == "rejected" and "可用资金不足" in r.err_msg
    assert gate.sync_balance().locked_cash == 0


def test_fill_in_parts_moves_cash_and_position_t_plus_1():
    gate = FakeTradeGate(cash=10_000, commission_rate=0.001)
    gate.order(req("1", amount=300, price=10.0))
    gate.sync_orders()
    gate.fill("1", 100, price=9.9)
    r = row(gate, "1")
    assert r.status == "filling" and r.filled_amount == 100 and r.avg_price == Decimal("9.9")
    assert r.commission == Decimal("0.99")
    gate.fill("1")
    r = row(gate, "1")
    assert r.status == "filled" and r.filled_amount == 300
    assert r.deal_balance == 990 + 2000
    balance = gate.sync_balance()
    pos = balance.positions[0]
    assert pos.total_amount == 300 and pos.closeable_amount == 0  # bought today
    assert balance.locked_cash == 0
    assert gate.cash == pytest.approx(10_000 - 2990 * 1.001)
    gate.new_day()
    assert gate.sync_balance().positions[0].closeable_amount == 300
    assert gate.sync_orders() == []


def test_sell_freezes_shares_and_fill_pays_cash():
    gate = FakeTradeGate(
        cash=0,
        positions={"600000.XSHG": {"total_amount": 500, "closeable_amount": 300, "avg_cost": 7}},
    )
    gate.order(req("1", code="600000.XSHG", amount=400, price=8.0, action=OrderAction.close))
    assert gate.sync_orders()[0].status == "rejected"  # only 300 closeable
    gate.order(req("2", code="600000.XSHG", amount=200, price=8.0, action=OrderAction.close))
    gate.sync_orders()
    assert gate.sync_balance().positions[0].closeable_amount == 100
    gate.fill("2", 50)
    gate.cancel_order("2")
    assert row(gate, "2").status == "canceling"
    gate.sync_orders()
    r = row(gate, "2")
    assert r.status == "partly_canceled" and r.canceled_amount == 150
    pos = gate.sync_balance().positions[0]
    assert pos.total_amount == 450 and pos.closeable_amount == 250 and pos.avg_cost == 7
    assert gate.cash == 400


def test_market_orders_use_last_price():
    gate = FakeTradeGate(cash=10_000, prices={"000001.XSHE": 12.5})
    gate.order(req("1", price=None))
    gate.sync_orders()
    assert gate.sync_balance().locked_cash == 1250
    gate.fill("1")
    assert row(gate, "1").avg_price == 12.5
    gate.order(req("2", code="000002.XSHE", price=None))
    assert gate.sync_orders()[-1].status == "rejected"


def test_reject_and_manual_accept():
    gate = FakeTradeGate(auto_accept=False)
    gate.order(req("1"))
    gate.order(req("2"))
    gate.sync_orders()
    assert row(gate, "1").status == "new"
    gate.accept("1")
    gate.reject("2", "价格超出涨跌停")
    assert row(gate, "1").status == "open"
    assert row(gate, "2").status == "rejected" and row(gate, "2").err_msg == "价格超出涨跌停"
    gate.fill("1", 50)
    with pytest.raises(GateError):
        gate.reject("1")
    with pytest.raises(GateError):
        gate.accept("1")


def test_refused_cancel_keeps_order_working():
    gate = FakeTradeGate(auto_cancel=False)
    gate.order(req("1"))
    gate.sync_orders()
    gate.cancel_order("1")
    gate.sync_orders()
    assert row(gate, "1").status == "canceling"
    gate.refuse_cancel("1")
    assert row(gate, "1").status == "open" and row(gate, "1").err_msg
    gate.cancel_order("1")
    gate.complete_cancel("1")
    assert row(gate, "1").status == "canceled"


def test_cancel_before_acceptance():
    gate = FakeTradeGate()
    gate.order(req("1"))
    gate.cancel_order("1")
    gate.sync_orders()
    assert row(gate, "1").status == "canceled"
    assert gate.sync_balance().locked_cash == 0


def test_misuse_raises_clearly():
    gate = FakeTradeGate()
    gate.order(req("1"))
    with pytest.raises(GateError):
        gate.order(req("1"))  # jqtrade never sends an id twice
    with pytest.raises(OrderNotFoundError):
        gate.fill("9")
    with pytest.raises(GateError):
        gate.fill("1", 1000)
    gate.fill("1")
    with pytest.raises(GateError):
        gate.fill("1")
    with pytest.raises(GateError):
        gate.complete_cancel("1")


def test_failures_on_demand():
    gate = FakeTradeGate()
    gate.fail_next_orders(1, "断线")
    with pytest.raises(GateError, match="断线"):
        gate.order(req("1"))
    gate.order(req("1"))  # not recorded the first time, so the same id is fine
    gate.fail_next_syncs(2)
    with pytest.raises(GateError):
        gate.sync_balance()
    with pytest.raises(GateError):
        gate.sync_orders()
    check_balance_report(gate.sync_balance())


def test_entrust_time_from_clock():
    clock = SimClock(T0.add(minutes=5))
    gate = FakeTradeGate(clock=clock)
    gate.order(req("1"))
    r = gate.sync_orders()[0]
    check_order_report(r)
    assert r.entrust_time == T0.add(minutes=5)


def test_external_orders_appear_without_our_id():
    gate = FakeTradeGate()
    broker_id = gate.add_external_order("600000.SH", "open", 100, 8.0)
    rows = gate.sync_orders()
    assert rows[0].order_id == "" and rows[0].broker_order_id == broker_id
    check_order_report(rows[0])


def test_state_file_persists_across_instances(tmp_path):
    path = tmp_path / "broker.json"
    gate = FakeTradeGate(cash=10_000, state_file=path)
    gate.order(req("1", amount=200))
    gate.sync_orders()
    gate.fill("1", 100)
    gate.add_external_order("600000.XSHG", "open", 100, 8.0)

    again = FakeTradeGate(cash=1, state_file=path)  # the file wins over arguments
    assert again.peek_orders() == gate.peek_orders()
    assert again.peek_balance() == gate.peek_balance()
    with pytest.raises(GateError):
        again.order(req("1"))
    state = FakeTradeGate.read_state(path)
    assert [o["order_id"] for o in state["orders"]] == ["1", ""]
    assert not list(tmp_path.glob("*.tmp"))


def test_reports_drive_the_order_model_consistently():
    """Every state the fake reports is one the order model accepts, in order."""
    gate = FakeTradeGate(cash=100_000)
    order = Order.from_request(req("1", amount=300))
    gate.order(req("1", amount=300))
    statuses = []

    def sync():
        for r in gate.sync_orders():
            change = order.apply_report(r)
            if change is not None:
                statuses.append(change.status.value)

    sync()
    gate.fill("1", 100)
    sync()
    order.mark_canceling()
    gate.cancel_order("1")
    sync()
    assert statuses == ["open", "filling", "partly_canceled"]
    assert order.canceled_amount == 200 and order.filled_amount == 100


def test_portfolio_from_fake_balance():
    gate = FakeTradeGate(cash=1000, positions={"600000.XSHG": 100}, prices={"600000.XSHG": 8.0})
    p = Portfolio.from_balance(gate.sync_balance(), T0)
    assert p.total_value == 1800 and p.long_positions["600000.SH"].value == 800


def test_state_file_held_by_another_program_is_waited_for(tmp_path, monkeypatch):
    from held_files import hold_replace

    path = tmp_path / "broker.json"
    gate = FakeTradeGate(cash=10_000, state_file=path)
    held, _ = hold_replace(monkeypatch, 5, match=lambda p: p == path)
    gate.order(req("1", amount=200))
    assert len(held.refused) == 5
    assert [o["order_id"] for o in FakeTradeGate.read_state(path)["orders"]] == ["1"]


def test_state_file_held_too_long_fails_naming_it(tmp_path, monkeypatch):
    from held_files import hold_replace

    from jqtrade.fileio import FileBusyError

    path = tmp_path / "broker.json"
    gate = FakeTradeGate(cash=10_000, state_file=path)
    hold_replace(monkeypatch, None, match=lambda p: p == path)
    with pytest.raises(FileBusyError, match="broker.json"):
        gate.set_price("600000.XSHG", 9.0)
    assert not list(tmp_path.glob("*.tmp"))
