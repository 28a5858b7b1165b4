"""A gate on the dict contract (jqtrade 1.x: ``setup(options, **kwargs)``, dict rows) runs behind
the typed contract through ``DictGateAdapter``: every row is checked, a bad one is named and
skipped, never a crash.
"""

from __future__ import annotations

import datetime
import logging
from decimal import Decimal
from pathlib import Path
from typing import Any, Optional

import attrs
import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jqtrade.clock import MARKET_TZ, SimClock
from jqtrade.errors import GateConfigError, ReportFormatError
from jqtrade.gates import (
    build_gate,
    configure_gate,
    gate_kind,
    load_gate_class,
    options_config_class,
    wrap_gate,
)
from jqtrade.gates.base import AbsTradeGate, GateEnv
from jqtrade.gates.dict_adapter import DictGateAdapter
from jqtrade.gates.fake import FakeTradeGate
from jqtrade.gates.legacy_adapter import LegacyGateAdapter
from jqtrade.gates.onequant import OneQuantConfig
from jqtrade.model.orders import LimitOrderStyle, OrderAction, OrderRequest, OrderStatus
from jqtrade.model.reports import BalanceReport, OrderReport
from jqtrade.testing.gate_contract import GateContract

T0 = pendulum.datetime(2024, 6, 3, 10, 0, tz=MARKET_TZ)
HERE = __name__


class DictGate(AbsTradeGate):
    """A jqtrade 1.x gate: orders open on the next sync and rest until cancelled."""

    name = "dictgate"

    def __init__(self) -> None:
        self.options: Optional[dict[str, Any]] = None
        self.clock: Any = None
        self.orders: dict[str, dict[str, Any]] = {}
        self.extra_rows: list[Any] = []
        self.cash: Any = {
            "total_value": 100_000.0,
            "available_cash": 90_000.0,
            "locked_cash": 10_000.0,
        }
        self.positions: list[Any] = [
            {
                "code": "000001.XSHE",
                "total_amount": 300,
                "closeable_amount": 200,
                "avg_cost": 10.5,
                "last_price": 11.0,
                "position_value": 3300.0,
            },
        ]

    def setup(self, options: dict[str, Any], **kwargs: Any) -> None:
        self.options = options
        self.clock = kwargs.get("clock")

    def order(self, request: OrderRequest) -> None:  # type: ignore[override]
        self.orders[request.order_id] = {
            "order_id": request.order_id,
            "broker_order_id": f"B{len(self.orders) + 1}",
            "code": request.code,
            "action": request.action.value,
            "status": "new",
            "amount": request.amount,
            "price": float(request.price or 0),
            "filled_amount": 0,
            "canceled_amount": 0,
            "avg_price": 0.0,
            "deal_balance": 0.0,
            "commission": 0.0,
            "err_msg": "",
            "entrust_time": T0,
            "update_time": "100001",
        }

    def cancel_order(self, order_id: str) -> None:
        row = self.orders.get(order_id)
        if row is not None and row["status"] in ("new", "open"):
            row["status"] = "canceling"

    def sync_balance(self) -> dict[str, Any]:  # type: ignore[override]
        return {"cash": self.cash, "positions": list(self.positions)}

    def sync_orders(self) -> list[dict[str, Any]]:  # type: ignore[override]
        for row in self.orders.values():
            if row["status"] == "new":
                row["status"] = "open"
            elif row["status"] == "canceling":
                row["status"] = "canceled"
                row["canceled_amount"] = row["amount"]
        return [dict(row) for row in self.orders.values()] + list(self.extra_rows)


class ClockOnlyGate(DictGate):
    """Today's other spelling: ``setup(options, clock=None)``."""

    def setup(self, options: dict[str, Any], clock: Any = None) -> None:  # type: ignore[override]
        self.options, self.clock = options, clock

    def has_order(self, order_id: str) -> Optional[bool]:
        return order_id in self.orders

    @property
    def order_id_dir(self) -> Optional[Path]:
        return Path("shared-ids")


@attrs.frozen(kw_only=True)
class PaperConfig:
    paper_cash: float = attrs.field(
        default=1000.0, converter=float, metadata={"doc": "纸面资金", "type": "float"}
    )


class TypedGate(FakeTradeGate):
    config_class = PaperConfig


def env() -> GateEnv:
    return GateEnv(clock=SimClock(T0), runtime_dir=Path("runtime-unused"))


def adapted(cls: type = DictGate, options: Optional[dict[str, Any]] = None) -> DictGateAdapter:
    gate = build_gate(
        f"{HERE}:{cls.__name__}",
        options or {"account_no": "1", "gate_options": {"host": "x"}},
        env(),
    )
    assert type(gate) is DictGateAdapter
    return gate


class TestDictGateContract(GateContract):
    code = "600000.XSHG"
    price = 9.9

    @pytest.fixture
    def gate(self):
        gate = adapted()
        yield gate
        gate.close()

    def add_foreign_order(self, gate):
        gate.inner.extra_rows.append(
            {
                "order_id": None,
                "broker_order_id": "F1",
                "code": "000001.XSHE",
                "action": "close",
                "status": "open",
                "amount": 100,
                "price": 10.0,
            }
        )


# --- detection -----------------------------------------------------------------------------------


def test_which_contract_a_gate_speaks_is_read_from_its_methods():
    class Legacy(DictGate):
        def setup(self, options):  # type: ignore[override]
            pass

    assert gate_kind(DictGate) == "dict" and gate_kind(ClockOnlyGate) == "dict"
    assert gate_kind(Legacy) == "legacy"
    assert gate_kind(FakeTradeGate) == "typed" and gate_kind(TypedGate) == "typed"
    assert type(wrap_gate(DictGate())) is DictGateAdapter
    assert type(wrap_gate(Legacy())) is LegacyGateAdapter
    fake = FakeTradeGate()
    assert wrap_gate(fake) is fake


def test_typed_gates_declare_their_keys_and_older_gates_keep_the_1_x_keys():
    assert options_config_class(TypedGate) is PaperConfig
    assert options_config_class(FakeTradeGate) is FakeTradeGate.config_class
    assert options_config_class(DictGate) is OneQuantConfig  # 1.x gates read the whole dict
    assert load_gate_class("fake") is FakeTradeGate


def test_a_typed_gate_is_configured_from_its_config_class():
    gate = build_gate(f"{HERE}:TypedGate", {"paper_cash": "5", "sync_interval": 3}, env())
    assert isinstance(gate, TypedGate) and gate.config == PaperConfig(paper_cash=5.0)


def test_a_typed_gate_missing_a_required_key_names_it():
    @attrs.frozen(kw_only=True)
    class Needs:
        host: str = attrs.field(metadata={"doc": "主机", "type": "str"})

    class NeedsGate(FakeTradeGate):
        config_class = Needs

    with pytest.raises(GateConfigError, match="host"):
        configure_gate(NeedsGate(), {}, env())


# --- setup ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [DictGate, ClockOnlyGate])
def test_setup_gets_the_whole_options_dict_and_the_clock(cls):
    options = {"account_no": "1", "sync_interval": 2.0, "gate_options": {"host": "x"}}
    gate = adapted(cls, options)
    assert gate.inner.options == options and gate.inner.clock is gate._clock
    assert gate.inner.clock.now() == T0


def test_has_order_and_order_id_dir_are_the_gates_own_or_the_defaults():
    plain = adapted()
    assert plain.has_order("1") is False and plain.order_id_dir is None
    own = adapted(ClockOnlyGate)
    own.order(
        OrderRequest(
            order_id="7",
            code="600000.XSHG",
            action=OrderAction.open,
            amount=100,
            style=LimitOrderStyle(9.9),
        )
    )
    assert own.has_order("7") is True and own.has_order("8") is False
    assert own.order_id_dir == Path("shared-ids")


# --- reports -------------------------------------------------------------------------------------


def test_rows_become_typed_reports():
    gate = adapted()
    gate.order(
        OrderRequest(
            order_id="7",
            code="600000.XSHG",
            action=OrderAction.open,
            amount=100,
            style=LimitOrderStyle(9.9),
        )
    )
    [report] = gate.sync_orders()
    assert isinstance(report, OrderReport)
    assert (report.order_id, report.broker_order_id, report.status, report.action) == (
        "7",
        "B1",
        OrderStatus.open,
        OrderAction.open,
    )
    assert report.price == Decimal("9.9") and report.entrust_time == T0
    assert report.update_time == pendulum.datetime(
        2024, 6, 3, 10, 0, 1, tz=MARKET_TZ
    )  # "HHMMSS" on the clock's day
    balance = gate.sync_balance()
    assert isinstance(balance, BalanceReport)
    assert (balance.total_value, balance.available_cash, balance.locked_cash) == (
        Decimal(100000),
        Decimal(90000),
        Decimal(10000),
    )
    assert [(p.code, p.total_amount, p.closeable_amount) for p in balance.positions] == [
        ("000001.XSHE", 300, 200)
    ]


def test_a_report_that_already_is_typed_is_taken_as_is():
    gate = adapted()
    typed = OrderReport(order_id="", code="600000.XSHG", status=OrderStatus.open)
    gate.inner.extra_rows.append(typed)
    assert gate.sync_orders() == [typed]


def test_a_row_with_a_bad_key_is_named_once_and_skipped(caplog):
    gate = adapted()
    gate.order(
        OrderRequest(
            order_id="7",
            code="600000.XSHG",
            action=OrderAction.open,
            amount=100,
            style=LimitOrderStyle(9.9),
        )
    )
    gate.inner.extra_rows += [
        {"order_id": "8", "code": "600000.XSHG", "status": "open", "filled_amount": -5},
        {"order_id": "9", "code": "600000.XSHG"},  # no status
        "not a dict",
    ]
    with caplog.at_level(logging.ERROR, logger="jqtrade.gates.dict"):
        first = gate.sync_orders()
        second = gate.sync_orders()
    assert (
        [r.order_id for r in first] == [r.order_id for r in second] == ["7"]
    )  # the good row is used
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 3, errors  # once each, not at every sync
    assert any("filled_amount" in e and "-5" in e for e in errors)
    assert any("status" in e and "'9'" in e for e in errors)
    assert all("DictGate" in e and "已跳过" in e for e in errors)


def test_a_bad_position_is_named_and_left_out_and_bad_cash_is_an_error(caplog):
    gate = adapted()
    gate.inner.positions.append(
        {"code": "600000.XSHG", "total_amount": 100, "closeable_amount": 500}
    )
    with caplog.at_level(logging.ERROR, logger="jqtrade.gates.dict"):
        balance = gate.sync_balance()
    assert [p.code for p in balance.positions] == ["000001.XSHE"]
    assert any("closeable_amount" in r.getMessage() for r in caplog.records)
    gate.inner.cash = {"total_assert": 1.0, "available_cash": 1.0}
    with pytest.raises(ReportFormatError) as info:
        gate.sync_balance()
    assert info.value.key == "total_value"


def test_a_result_that_is_not_a_list_is_a_gate_error():
    gate = adapted()
    gate.inner.sync_orders = lambda: {"7": {}}
    with pytest.raises(Exception, match="sync_orders"):
        gate.sync_orders()


# --- malformed rows never escape -------------------------------------------------------------------

ORDER_KEYS = (
    "order_id",
    "broker_order_id",
    "code",
    "action",
    "status",
    "amount",
    "price",
    "filled_amount",
    "canceled_amount",
    "avg_price",
    "deal_balance",
    "commission",
    "err_msg",
    "entrust_time",
    "update_time",
)
values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(
        [
            "open",
            "filled",
            "close",
            "600000.XSHG",
            "000001.XSHE",
            "093000",
            "2024-06-03 09:30:00",
            "",
            "nan",
        ]
    ),
    st.datetimes(min_value=datetime.datetime(1990, 1, 1), max_value=datetime.datetime(2100, 1, 1)),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.just(OrderStatus.open),
    st.just(OrderAction.close),
)
rows = st.one_of(
    st.dictionaries(
        st.one_of(st.sampled_from(ORDER_KEYS), st.text(max_size=6)), values, max_size=12
    ),
    values,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(rows, max_size=6))
def test_malformed_rows_never_raise_out_of_sync_orders(bad_rows):
    gate = adapted()
    gate.order(
        OrderRequest(
            order_id="7",
            code="600000.XSHG",
            action=OrderAction.open,
            amount=100,
            style=LimitOrderStyle(9.9),
        )
    )
    gate.inner.extra_rows = bad_rows
    reports = gate.sync_orders()
    assert all(isinstance(r, OrderReport) for r in reports)
    assert "7" in [r.order_id for r in reports]  # the good row survives whatever is beside it
