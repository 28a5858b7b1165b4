"""A jqtrade 1.0 custom gate runs behind today's contract through ``LegacyGateAdapter``.

``OldGate`` is written the way 1.0's ``AbsTradeGate`` docstring and ``Account`` asked for: a plain
class, ``setup(self, options)``, 1.0's balance and order dicts, times as strings or naive
datetimes. The contract suite runs over the adapted gate like over any other gate.
"""

from __future__ import annotations

import datetime
import logging
from decimal import Decimal
from pathlib import Path
from typing import Any, Optional

import pendulum
import pytest

from jqtrade.clock import MARKET_TZ, SimClock
from jqtrade.errors import GateConfigError, GateError
from jqtrade.gates import configure_gate, gate_name, load_gate
from jqtrade.gates.base import AbsTradeGate, GateEnv
from jqtrade.gates.fake import FakeTradeGate
from jqtrade.gates.legacy_adapter import LegacyGateAdapter, LegacyOrder, is_legacy_gate_class
from jqtrade.gates.onequant import OneQuantTradeGate
from jqtrade.model.orders import (
    LimitOrderStyle,
    MarketOrderStyle,
    OrderAction,
    OrderRequest,
    OrderStatus,
)
from jqtrade.model.reports import BalanceReport, PositionReport
from jqtrade.testing.gate_contract import GateContract, check_balance_report, check_order_report

T0 = pendulum.datetime(2024, 6, 3, 10, 0, tz=MARKET_TZ)
HERE = __name__


class OldGate:
    """A 1.0 gate: orders open on the next sync and rest until cancelled."""

    def __init__(self) -> None:
        self._options: Optional[dict[str, Any]] = None
        self.orders: dict[str, dict[str, Any]] = {}
        self.received: list[Any] = []
        self.cash: dict[str, Any] = {
            "total_asset": 511000.0,
            "available_cash": 500000.0,
            "locked_cash": 0.0,
        }
        self.positions: list[dict[str, Any]] = [
            {
                "code": "000001.XSHE",
                "amount": 1000,
                "available_amount": 800,
                "avg_cost": 10.5,
                "side": "long",
                "last_price": 11.0,
                "position_value": 11000.0,
            },
        ]

    def setup(self, options):
        self._options = options

    def order(self, sys_order):
        self.received.append(sys_order)
        self.orders[sys_order.order_id] = {
            "order_id": sys_order.order_id,
            "code": sys_order.code,
            "price": sys_order.price,
            "amount": sys_order.amount,
            "action": sys_order.action,  # the enum, as 1.0's Order.action was
            "status": "new",
            "style": sys_order.style.value,
            "create_time": sys_order.create_time,
            "entrust_time": "2024-06-03 10:00:01",
            "side": "long",
            "confirm_id": 7000 + len(self.orders),
            "filled_amount": 0,
            "canceled_amount": 0,
            "deal_balance": 0,
            "avg_cost": None,
            "commission": 0,
            "err_msg": None,
        }

    def cancel_order(self, order_id):
        row = self.orders.get(str(order_id))
        if row is not None and row["status"] in ("new", "open"):
            row["status"] = "canceling"

    def sync_balance(self):
        return {"cash": dict(self.cash), "positions": [dict(p) for p in self.positions]}

    def sync_orders(self):
        for row in self.orders.values():
            if row.get("status") == "new":
                row["status"] = "open"
            elif row.get("status") == "canceling":
                row["status"] = "canceled"
                row["canceled_amount"] = row["amount"]
        return [dict(row) for row in self.orders.values()]


class SubclassedOldGate(AbsTradeGate):
    """A 1.0 gate written against ``jqtrade.account.trade_gate.AbsTradeGate`` (today's base)."""

    def setup(self, options):
        self.options = options

    def order(self, sys_order):
        pass

    def cancel_order(self, order_id):
        pass

    def sync_balance(self):
        return {
            "cash": {"total_asset": 1.0, "available_cash": 1.0, "locked_cash": 0.0},
            "positions": [],
        }

    def sync_orders(self):
        return []


class TotalAssertGate(OldGate):
    """Follows the 1.0 docstring's typo."""

    def sync_balance(self):
        cash = {"total_assert": 511000.0, "available_cash": 500000.0, "locked_cash": 0.0}
        return {"cash": cash, "positions": []}


class NotAGate:
    def setup(self, options):
        pass


def env() -> GateEnv:
    return GateEnv(clock=SimClock(T0), runtime_dir=Path("runtime-unused"))


def adapted(cls: type = OldGate, options: Optional[dict[str, Any]] = None) -> LegacyGateAdapter:
    gate = load_gate(f"{HERE}:{cls.__name__}")
    assert isinstance(gate, LegacyGateAdapter)
    assert configure_gate(gate, options or {"account_no": "8888"}, env()) is gate
    return gate


def request(order_id: str = "2406030001", style: Any = None, amount: int = 100) -> OrderRequest:
    return OrderRequest(
        order_id=order_id,
        code="600000.XSHG",
        action=OrderAction.open,
        amount=amount,
        style=style or LimitOrderStyle(9.9),
        create_time=T0,
    )


class TestAdaptedLegacyGateContract(GateContract):
    code = "600000.XSHG"
    price = 9.9

    @pytest.fixture
    def gate(self):
        gate = adapted()
        yield gate
        gate.close()

    def add_foreign_order(self, gate):
        gate.inner.orders["x"] = dict(
            order_id=None,
            code="000001.XSHE",
            price=10,
            amount=100,
            action="close",
            status="open",
            style="limit",
            create_time="2024-06-03 09:31:00.5",
            confirm_id="F1",
        )


# --- detection and loading -------------------------------------------------------------------


def test_a_gate_whose_setup_takes_only_options_is_a_legacy_gate():
    assert is_legacy_gate_class(OldGate) and is_legacy_gate_class(SubclassedOldGate)
    assert not is_legacy_gate_class(FakeTradeGate) and not is_legacy_gate_class(OneQuantTradeGate)
    assert isinstance(load_gate(f"{HERE}:SubclassedOldGate"), LegacyGateAdapter)
    assert isinstance(load_gate("fake"), FakeTradeGate)
    assert load_gate(f"{HERE}:OldGate").name == "OldGate"


def test_a_class_without_the_gate_methods_is_refused():
    with pytest.raises(GateConfigError, match="NotAGate"):
        load_gate(f"{HERE}:NotAGate")


def test_jqtrade_1_dotted_paths_load():
    assert isinstance(load_gate(f"{HERE}.OldGate"), LegacyGateAdapter)  # 1.0: module.Class
    assert isinstance(load_gate("jqtrade.gates.fake.FakeTradeGate"), FakeTradeGate)
    assert isinstance(load_gate("jqtrade.account.trade_gate.AnXinDMATradeGate"), OneQuantTradeGate)
    assert gate_name("jqtrade.account.trade_gate.AnXinDMATradeGate") == "onequant"
    assert gate_name(None) == "onequant" and gate_name("my.mod:Gate") == "my.mod:Gate"
    with pytest.raises(GateConfigError, match="jqtrade.gates.fake.NoSuchGate"):
        load_gate("jqtrade.gates.fake.NoSuchGate")
    with pytest.raises(GateConfigError, match="no_such_pkg_xyz"):
        load_gate("no_such_pkg_xyz.mod.Gate")


# --- setup -------------------------------------------------------------------------------------


def test_setup_gets_the_options_1_0_gates_read():
    options = {
        "account_no": "8888",
        "order_dir": None,
        "sync_interval": 2.0,
        "gate_options": {"my_broker_host": "127.0.0.1", "account_no": "not this"},
    }
    gate = adapted(options=options)
    got = gate.inner._options
    assert got["my_broker_host"] == "127.0.0.1"  # gate keys at the top level, as 1.0 passed them
    assert got["account_no"] == "8888"  # a known option is not overwritten by gate_options
    assert "order_dir" not in got  # unset: options.get("order_dir", default) keeps working
    assert got["sync_internal"] == 2.0 == got["sync_interval"]


def test_the_generic_open_gate_works_too():
    gate = configure_gate(load_gate(f"{HERE}:OldGate"), {"account_no": "1"}, env())
    check_balance_report(gate.sync_balance())


def test_an_error_in_a_1_0_setup_names_the_gate():
    class Failing(OldGate):
        def setup(self, options):
            raise ValueError("缺少 my_broker_host")

    with pytest.raises(GateConfigError, match=r"Failing.*缺少 my_broker_host"):
        LegacyGateAdapter(Failing()).configure({}, env())


# --- sync_balance ------------------------------------------------------------------------------


def test_a_1_0_balance_becomes_todays():
    balance = adapted().sync_balance()
    check_balance_report(balance)
    assert isinstance(balance, BalanceReport)
    cash = (balance.total_value, balance.available_cash, balance.locked_cash)
    assert cash == (Decimal(511000), Decimal(500000), Decimal(0))
    assert balance.positions == (
        PositionReport(
            code="000001.XSHE",
            total_amount=1000,
            closeable_amount=800,
            avg_cost=Decimal("10.5"),
            last_price=Decimal(11),
            position_value=Decimal(11000),
        ),
    )


def test_todays_keys_from_a_1_0_gate_are_accepted():
    gate = adapted()
    gate.sync_balance()
    gate.inner.cash = {
        "total_value": "100.5",
        "available_cash": 100,
    }  # numeric text, no locked_cash
    gate.inner.positions = [
        {"code": "600000.XSHG", "total_amount": 200, "closeable_amount": 0, "last_price": 9.0}
    ]
    balance = gate.sync_balance()
    check_balance_report(balance)
    cash = (balance.total_value, balance.available_cash, balance.locked_cash)
    assert cash == (Decimal("100.5"), Decimal(100), Decimal(0))
    assert balance.positions[0].position_value == Decimal(1800)


def test_total_assert_stops_the_start_naming_the_key():
    with pytest.raises(GateConfigError) as info:
        adapted(TotalAssertGate)
    text = str(info.value)
    assert "total_assert" in text and "total_asset" in text and "TotalAssertGate" in text


def test_keys_we_do_not_understand_later_are_an_error_never_zeros(caplog):
    gate = adapted()
    gate.sync_balance()
    gate.inner.cash = {"zong_zi_chan": 1.0, "keyong": 1.0}
    with caplog.at_level(logging.ERROR, logger="jqtrade.gates.legacy"):
        for _ in range(2):
            with pytest.raises(GateError) as info:
                gate.sync_balance()
    text = str(info.value)
    assert (
        "zong_zi_chan" in text
        and "keyong" in text
        and "total_asset" in text
        and "available_cash" in text
    )
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1  # said once, not at every sync


def test_a_position_without_its_amounts_is_an_error():
    gate = adapted()
    gate.inner.positions = [{"code": "000001.XSHE", "qty": 1000}]
    with pytest.raises(GateError, match=r"amount.*available_amount.*qty|qty"):
        gate.sync_balance()
        gate.sync_balance()  # the first call may be the snapshot read during setup


def test_short_positions_and_extra_keys_are_said_and_left_out(caplog):
    gate = adapted()
    gate.sync_balance()
    gate.inner.positions = [
        {
            "code": "000001.XSHE",
            "amount": 100,
            "available_amount": 100,
            "avg_cost": 1,
            "side": "short",
        },
        {
            "code": "600000.XSHG",
            "amount": 100,
            "available_amount": 100,
            "avg_cost": 1,
            "side": "long",
            "mkt": 5,
        },
    ]
    with caplog.at_level(logging.WARNING, logger="jqtrade.gates.legacy"):
        balance = gate.sync_balance()
    assert [p.code for p in balance.positions] == ["600000.XSHG"]
    text = " ".join(r.getMessage() for r in caplog.records)
    assert "short" in text and "mkt" in text


def test_a_balance_that_is_not_1_0s_shape_is_an_error():
    gate = adapted()
    gate.sync_balance()
    gate.inner.sync_balance = lambda: {"cash": {"total_asset": 1, "available_cash": 1}}
    with pytest.raises(GateError, match="positions"):
        gate.sync_balance()


# --- orders ------------------------------------------------------------------------------------


def test_order_receives_1_0s_order_object():
    gate = adapted()
    gate.order(request(style=LimitOrderStyle(9.9)))
    gate.order(request("2406030002", style=MarketOrderStyle()))
    limit, market = gate.inner.received
    assert isinstance(limit, LegacyOrder)
    assert (limit.order_id, limit.code, limit.amount, limit.price) == (
        "2406030001",
        "600000.XSHG",
        100,
        9.9,
    )
    assert limit.action == OrderAction.open and limit.action.value == "open"
    assert limit.status == OrderStatus.new and limit.side.value == "long"
    assert (
        limit.style.price == 9.9
        and limit.style.value == "limit"
        and isinstance(limit.style, LimitOrderStyle)
    )
    assert market.price == 0 and market.style.price == 0 and market.style.value == "market"
    assert (
        isinstance(market.style, MarketOrderStyle)
        and type(market.style).__name__ == "MarketOrderStyle"
    )
    # naive Beijing time, whatever the machine's zone (the tests run in New York)
    assert (
        market.create_time == datetime.datetime(2024, 6, 3, 10, 0)
        and market.create_time.tzinfo is None
    )
    assert type(market.create_time) is datetime.datetime
    assert (
        market.json()["create_time"] == "2024-06-03 10:00:00.000000"
        and market.json()["style"] == "market"
    )
    assert not market.has_finished()


def test_an_exception_from_a_1_0_order_means_not_sent():
    gate = adapted()

    def broken(sys_order):
        raise RuntimeError("柜台断开")

    gate.inner.order = broken
    with pytest.raises(GateError, match="柜台断开"):
        gate.order(request())


def test_1_0_order_dicts_become_todays_reports():
    gate = adapted()
    gate.order(request())
    gate.inner.orders["2406030001"].update(
        filled_amount=40,
        deal_balance=396.0,
        avg_cost=9.9,
        commission=5,
        status=OrderStatus.filling,
        entrust_time=datetime.datetime(2024, 6, 3, 10, 0, 1),
    )
    [row] = gate.sync_orders()
    check_order_report(row)
    assert row.order_id == "2406030001" and row.broker_order_id == "7000"
    assert (
        row.status is OrderStatus.filling and row.action is OrderAction.open and row.amount == 100
    )
    assert (
        row.avg_price == Decimal("9.9")
        and row.deal_balance == Decimal(396)
        and row.commission == Decimal(5)
    )
    assert row.err_msg == ""
    assert row.entrust_time == pendulum.datetime(
        2024, 6, 3, 10, 0, 1, tz=MARKET_TZ
    )  # naive = Beijing time


def test_entrust_time_strings_of_1_0_are_read_as_beijing_time():
    gate = adapted()
    gate.order(request())
    [row] = gate.sync_orders()  # the gate wrote "2024-06-03 10:00:01"
    assert row.entrust_time == pendulum.datetime(2024, 6, 3, 10, 0, 1, tz=MARKET_TZ)


def test_an_order_row_we_do_not_understand_is_named_and_skipped(caplog):
    gate = adapted()
    gate.order(request())
    gate.inner.orders["bad"] = {"id": "1", "qty": 100}
    gate.inner.orders["bad status"] = dict(
        gate.inner.orders["2406030001"], order_id="2", status="weird"
    )
    with caplog.at_level(logging.ERROR, logger="jqtrade.gates.legacy"):
        rows = gate.sync_orders()
        gate.sync_orders()
    assert [r.order_id for r in rows] == ["2406030001"]
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 2, errors  # once each
    assert any("qty" in e and "code" in e for e in errors) and any("weird" in e for e in errors)
