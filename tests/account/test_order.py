from __future__ import annotations

import logging
from decimal import Decimal

import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from jqtrade.account.order import (
    TRANSITIONS,
    Order,
    OrdersView,
    can_transition,
    parse_status,
)
from jqtrade.errors import (
    IllegalOrderTransitionError,
    OrderNotFoundError,
    OrderRejectedError,
    ReportFormatError,
    UnknownOrderStatusError,
)
from jqtrade.model.orders import (
    FINAL_STATUSES,
    LimitOrderStyle,
    MarketOrderStyle,
    OrderAction,
    OrderRequest,
    OrderStatus,
)
from jqtrade.model.reports import OrderReport, order_report_from_mapping

S = OrderStatus
T0 = pendulum.datetime(2025, 3, 3, 10, 0, tz="Asia/Shanghai")


def make_order(
    amount: int = 1000, order_id: str = "7", price: float = 10.0, action=OrderAction.open
) -> Order:
    return Order.from_request(
        OrderRequest(
            order_id=order_id,
            code="000001.XSHE",
            action=action,
            amount=amount,
            style=LimitOrderStyle(price),
            create_time=T0,
        )
    )


def _money(value):
    return (
        Decimal(str(value))
        if isinstance(value, (int, float)) and not isinstance(value, bool)
        else value
    )


def _status(word):
    try:
        return OrderStatus(word)
    except ValueError:
        return word  # a status no gate may report: the order must refuse it


def report(status, filled=0, canceled=0, deal=None, avg=None, **extra) -> OrderReport:
    """A typed report as a gate builds it; values are taken as given (even wrong types), so
    the order's own guards are tested, not the dict contract's (tests/model/test_reports.py)."""
    fields = {
        "order_id": "7",
        "code": "",
        "status": _status(status),
        "filled_amount": filled,
        "canceled_amount": canceled,
    }
    fields["deal_balance"] = _money(deal)
    fields["avg_price"] = _money(avg)
    for key, value in extra.items():
        fields[key] = _money(value) if key == "commission" else value
    return OrderReport(**fields)


def typed(row) -> OrderReport:
    """A dict-contract row as the dict adapter would hand it over, or, when the dict contract
    refuses it, the same values pushed into a typed report anyway (a careless gate)."""
    try:
        return order_report_from_mapping(row)
    except ReportFormatError:
        return OrderReport(
            order_id="",
            code="",
            status=_status(row.get("status")),
            filled_amount=row.get("filled_amount"),
            canceled_amount=row.get("canceled_amount"),
            avg_price=_money(row.get("avg_price")),
            deal_balance=_money(row.get("deal_balance")),
        )


# --- the state table --------------------------------------------------------------------


def test_final_states_have_no_way_out():
    for status in FINAL_STATUSES:
        assert TRANSITIONS[status] == frozenset()


def test_nothing_leads_back_to_new():
    for targets in TRANSITIONS.values():
        assert S.new not in targets


def test_every_status_in_table():
    assert set(TRANSITIONS) == set(OrderStatus)
    assert can_transition("new", "open")
    assert not can_transition("filled", "open")


def test_parse_status_accepts_strings_and_refuses_unknown():
    assert parse_status("open") is S.open
    assert parse_status(" Filled ") is S.filled
    assert parse_status(S.canceled) is S.canceled
    with pytest.raises(UnknownOrderStatusError) as info:
        parse_status("opened")
    assert "opened" in str(info.value) and "partly_canceled" in str(info.value)
    assert isinstance(info.value, ValueError)


# --- applying reports ---------------------------------------------------------------------


def test_open_then_partial_fill_then_filled_gives_trades_with_increment_prices():
    order = make_order(amount=300)
    change = order.apply_report(report("open", broker_order_id="B1"))
    assert change is not None and change.previous_status is S.new and change.status is S.open
    assert change.trade is None and order.broker_order_id == "B1"

    change = order.apply_report(report("filling", filled=100, deal=1000.0), at=T0)
    assert change.status is S.filling and change.filled_delta == 100
    assert change.trade.amount == 100 and change.trade.price == 10.0 and change.trade.time == T0

    change = order.apply_report(report("filled", filled=300, deal=3040.0))
    assert change.status is S.filled
    assert change.trade.amount == 200 and change.trade.price == pytest.approx(10.2)
    assert float(order.avg_price) == pytest.approx(3040 / 300, abs=1e-6)
    assert order.snapshot().avg_price == round(3040 / 300, 6)
    assert order.is_final


def test_same_state_again_is_no_change():
    order = make_order()
    order.apply_report(report("open"))
    assert order.apply_report(report("open")) is None
    assert order.status is S.open


def test_more_fill_in_same_status_is_a_change():
    order = make_order()
    order.apply_report(report("filling", filled=100, deal=1000))
    change = order.apply_report(report("filling", filled=200, deal=2000))
    assert change is not None and not change.status_changed and change.filled_delta == 100


def test_backwards_status_is_ignored_and_logged(caplog):
    order = make_order()
    order.apply_report(report("filled", filled=1000, deal=10000))
    with caplog.at_level(logging.INFO, logger="jqtrade.account"):
        assert order.apply_report(report("open")) is None
    assert order.status is S.filled and order.filled_amount == 1000
    assert caplog.records  # the reason is logged


def test_filled_amount_shrinking_is_ignored():
    order = make_order()
    order.apply_report(report("filling", filled=500, deal=5000))
    assert order.apply_report(report("filling", filled=400, deal=4000)) is None
    assert order.filled_amount == 500


@pytest.mark.parametrize(
    "bad",
    [
        report("filling", filled=-1),
        report("open", canceled=-5),
        report("filling", filled=600, canceled=500),
        report("filling", filled=1001),
        report("filling", filled=100, deal=-1.0),
        report("filling", filled="abc"),
        report("filling", filled=1.5),
        report("filling", filled=True),
        report("filling", filled=100, avg=float("nan")),
        report("opened"),
        report("filled", filled=10),
        report("rejected", filled=10),
        {"status": "filled", "filled_amount": 10},  # a dict: gates hand over typed reports
        report("open", order_id="8"),
        ["not", "a", "dict"],
    ],
)
def test_garbage_reports_are_ignored(bad, caplog):
    order = make_order()
    with caplog.at_level(logging.WARNING, logger="jqtrade.account"):
        assert order.apply_report(bad) is None
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    assert order.status is S.new and order.filled_amount == 0 and order.canceled_amount == 0


def test_canceled_with_fills_is_partly_canceled_and_cancel_quantity_derived():
    order = make_order()
    order.apply_report(report("filling", filled=300, deal=3000))
    change = order.apply_report(report("canceled", filled=300))
    assert change.status is S.partly_canceled
    assert order.canceled_amount == 700


def test_cancel_quantity_completing_the_order_means_final():
    order = make_order()
    change = order.apply_report(report("open", filled=0, canceled=1000))
    assert change.status is S.canceled
    order2 = make_order()
    change = order2.apply_report(report("filling", filled=400, canceled=600, deal=4000))
    assert change.status is S.partly_canceled


def test_all_filled_means_filled_whatever_the_word():
    order = make_order()
    change = order.apply_report(report("filling", filled=1000, deal=10000))
    assert change.status is S.filled


def test_canceling_is_sticky_against_open_reports_but_takes_fills():
    order = make_order()
    order.apply_report(report("open"))
    change = order.mark_canceling()
    assert change.previous_status is S.open and change.status is S.canceling
    assert order.apply_report(report("open")) is None
    assert order.status is S.canceling
    change = order.apply_report(report("filling", filled=200, deal=2000))
    assert change.status is S.canceling and change.trade.amount == 200
    change = order.apply_report(report("canceled", filled=200))
    assert change.status is S.partly_canceled and order.canceled_amount == 800


def test_mark_canceling_twice_is_none_and_on_final_raises():
    order = make_order()
    assert order.mark_canceling() is not None
    assert order.mark_canceling() is None
    order.apply_report(report("canceled"))
    with pytest.raises(IllegalOrderTransitionError):
        order.mark_canceling()


def test_mark_rejected_only_from_new():
    order = make_order()
    change = order.mark_rejected("发送失败")
    assert change.status is S.rejected and order.err_msg == "发送失败"
    other = make_order()
    other.apply_report(report("open"))
    with pytest.raises(IllegalOrderTransitionError) as info:
        other.mark_rejected("x")
    assert "open" in str(info.value)


def test_info_fields_are_taken_without_a_change():
    order = make_order()
    order.apply_report(report("filled", filled=1000, deal=10000))
    assert (
        order.apply_report(
            report("filled", filled=1000, deal=10000, commission=5.0, entrust_time=T0)
        )
        is None
    )
    assert order.commission == 5.0 and order.entrust_time == T0


def test_avg_price_only_report_gives_trade_price():
    order = make_order(amount=200)
    change = order.apply_report(report("filling", filled=100, avg=9.5))
    assert change.trade.price == 9.5 and order.deal_balance == pytest.approx(950)


def test_order_fields_are_read_only():
    order = make_order()
    with pytest.raises(AttributeError):
        order.status = S.filled  # type: ignore[misc]


# --- snapshots and the orders view ------------------------------------------------------


def test_snapshot_has_user_fields_and_reads_well():
    order = make_order(amount=200)
    order.apply_report(report("filling", filled=100, deal=1000, broker_order_id="B9"))
    snap = order.snapshot()
    assert snap.order_id == "7" and snap.status is S.filling and snap.status == "filling"
    assert snap.order_price == 10.0 and snap.amount == 200 and snap.filled_amount == 100
    assert snap.action is OrderAction.open and snap.broker_order_id == "B9"
    text = str(snap)
    assert "000001.XSHE" in text and "买入" in text and "filling" in text and "100" in text
    assert repr(snap) == text
    order.apply_report(report("filled", filled=200, deal=2000))
    assert snap.status is S.filling  # the snapshot does not move


def test_market_order_snapshot_has_no_price():
    order = Order.from_request(
        OrderRequest(
            order_id="1",
            code="600000.XSHG",
            action=OrderAction.close,
            amount=100,
            style=MarketOrderStyle(),
        )
    )
    snap = order.snapshot()
    assert snap.order_price is None and "市价" in str(snap) and "卖出" in str(snap)


def _view():
    a = make_order(order_id="1")
    b = make_order(order_id="2")
    c = Order.from_request(
        OrderRequest(
            order_id="3",
            code="600000.XSHG",
            action=OrderAction.open,
            amount=100,
            style=MarketOrderStyle(),
        )
    )
    b.apply_report(OrderReport(order_id="2", code="000001.XSHE", status=S.open))
    return OrdersView([a.snapshot(), b.snapshot(), c.snapshot()])


def test_orders_view_iterates_orders_and_is_a_mapping():
    view = _view()
    assert [o.order_id for o in view] == ["1", "2", "3"]
    assert [o.status for o in view if o.status in ("new", "open")] == [S.new, S.open, S.new]
    assert view.keys() == ["1", "2", "3"]
    assert [k for k, _ in view.items()] == ["1", "2", "3"]
    assert view["2"].status is S.open and view[2].order_id == "2"
    assert "1" in view and 1 in view and "9" not in view
    assert len(view) == 3 and view.get("9") is None
    with pytest.raises(OrderNotFoundError):
        view["9"]
    with pytest.raises(LookupError):
        view["9"]


def test_orders_view_filters_combine():
    view = _view()
    assert [o.order_id for o in view.select(status="new")] == ["1", "3"]
    assert [o.order_id for o in view.select(status=S.open)] == ["2"]
    assert [o.order_id for o in view.select(status=["open", "new"], code="000001.SZ")] == ["1", "2"]
    assert [o.order_id for o in view.select(order_id=3)] == ["3"]
    assert len(view.select(order_id="3", status="open")) == 0
    with pytest.raises(UnknownOrderStatusError):
        view.select(status="opened")
    with pytest.raises(OrderRejectedError):
        view.select(code="600000")


# --- the state machine ---------------------------------------------------------------------

STATUS_WORDS = st.sampled_from([s.value for s in OrderStatus] + ["garbage", "", "OPEN"])


class OrderMachine(RuleBasedStateMachine):
    """Random, often nonsensical broker reports and local actions on one order."""

    @initialize(amount=st.integers(min_value=1, max_value=2000))
    def start(self, amount):
        self.amount = amount
        self.order = make_order(amount=amount)
        self.was_final = None  # (status, filled, canceled) once final

    def _check_change(self, before, change):
        status, filled, canceled = before
        if change is None:
            return
        assert change.previous_status is status
        assert change.status is self.order.status
        assert change.filled_delta == self.order.filled_amount - filled
        if change.trade is not None:
            assert change.trade.amount == change.filled_delta > 0
            assert change.trade.price >= 0

    def _state(self):
        return self.order.status, self.order.filled_amount, self.order.canceled_amount

    @rule(
        status=STATUS_WORDS,
        filled=st.one_of(st.none(), st.integers(min_value=-3, max_value=2100)),
        canceled=st.one_of(st.none(), st.integers(min_value=-3, max_value=2100)),
        price=st.one_of(st.none(), st.floats(min_value=-1, max_value=100), st.just(float("nan"))),
    )
    def random_report(self, status, filled, canceled, price):
        row = {"status": status}
        if filled is not None:
            row["filled_amount"] = filled
        if canceled is not None:
            row["canceled_amount"] = canceled
        if price is not None:
            row["avg_price"] = price
        self._apply(typed(row))

    @rule(data=st.data())
    def plausible_progress(self, data):
        """A report that moves forward from the current state (so the machine reaches deep
        states), with a status word that may or may not fit."""
        left = self.amount - self.order.filled_amount - self.order.canceled_amount
        more = data.draw(st.integers(min_value=0, max_value=max(left, 0)))
        filled = self.order.filled_amount + more
        status = data.draw(st.sampled_from(list(OrderStatus)))
        self._apply(
            typed({"status": status, "filled_amount": filled, "deal_balance": filled * 10.0})
        )

    def _apply(self, row):
        before = self._state()
        last_status = self.order.status
        change = self.order.apply_report(row)
        self._check_change(before, change)
        if self.order.status is not last_status:
            assert self.order.status in TRANSITIONS[last_status]

    @rule()
    def cancel(self):
        before = self._state()
        try:
            change = self.order.mark_canceling()
        except IllegalOrderTransitionError:
            assert self.order.is_final
            return
        self._check_change(before, change)

    @precondition(lambda self: self.order.status is S.new)
    @rule()
    def reject_locally(self):
        change = self.order.mark_rejected("测试")
        assert change.status is S.rejected

    @invariant()
    def quantities_are_sane(self):
        order = self.order
        assert order.filled_amount >= 0 and order.canceled_amount >= 0
        assert order.filled_amount + order.canceled_amount <= order.amount
        assert order.avg_price >= 0 and order.deal_balance >= 0
        if order.status is S.filled:
            assert order.filled_amount == order.amount
        if order.status in (S.partly_canceled, S.canceled):
            assert order.filled_amount + order.canceled_amount == order.amount
        if order.status is S.canceled or order.status is S.rejected:
            assert order.filled_amount == 0

    @invariant()
    def final_stays_final(self):
        if self.was_final is not None:
            assert self._state() == self.was_final
        elif self.order.is_final:
            self.was_final = self._state()


OrderMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)
TestOrderMachine = OrderMachine.TestCase


@given(st.integers(min_value=1, max_value=10_000), st.lists(st.integers(0, 10_000), max_size=10))
def test_trades_sum_to_filled_amount(amount, steps):
    order = make_order(amount=amount)
    total = 0
    for step in sorted(steps):
        filled = min(step, amount)
        change = order.apply_report(
            OrderReport(
                order_id="7",
                code="000001.XSHE",
                status=S.filling,
                filled_amount=filled,
                deal_balance=Decimal(filled) * 10,
            )
        )
        if change is not None and change.trade is not None:
            total += change.trade.amount
            assert change.trade.price == pytest.approx(10.0)
    assert total == order.filled_amount
