"""``Account`` against ``FakeTradeGate`` and a real journal folder: restore after a restart,
order ids shared between tasks, day change, unexpected gate failures, and a hypothesis state
machine driving random orders, broker events and syncs."""

from __future__ import annotations

import datetime
import shutil
import tempfile
from pathlib import Path
from typing import Any, Optional

import pendulum
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    rule,
)

from jqtrade import GateError, LimitOrderStyle, OrderRejectedError, OrderStatus
from jqtrade.account.account import UNKNOWN_SEND_MESSAGE, Account
from jqtrade.account.journal import OrderJournal
from jqtrade.account.order import OrderSnapshot, can_transition
from jqtrade.clock import MARKET_TZ, SimClock
from jqtrade.gates import configure_gate
from jqtrade.gates.base import GateEnv
from jqtrade.gates.fake import FakeTradeGate
from jqtrade.model.reports import OrderReport
from jqtrade.options import Options

DAY = datetime.date(2024, 6, 3)
T0 = pendulum.datetime(2024, 6, 3, 9, 35, tz=MARKET_TZ)

#: Options for accounts whose syncs the test drives by hand (start() does not sync).
MANUAL = {"use_account": True, "sync_order": False, "sync_balance": False}


def make_account(
    runtime_dir: Path,
    gate: FakeTradeGate,
    *,
    task: str = "t",
    clock: Optional[SimClock] = None,
    notify: Any = None,
    **options: Any,
) -> Account:
    clock = clock or SimClock(T0)
    configure_gate(gate, {}, GateEnv(clock=clock, runtime_dir=runtime_dir, task_name=task))
    opts = Options().evolve({"runtime_dir": str(runtime_dir), "use_account": True, **options})
    account = Account(
        gate=gate, clock=clock, options=opts, runtime_dir=runtime_dir, task_name=task, notify=notify
    )
    account.start()
    return account


def gate_with_stock(**kwargs: Any) -> FakeTradeGate:
    defaults: dict[str, Any] = dict(
        cash=1_000_000,
        positions={"600000.XSHG": 5000, "000001.XSHE": 3000},
        prices={"600000.XSHG": 8.0, "000001.XSHE": 10.0},
    )
    defaults.update(kwargs)
    return FakeTradeGate(**defaults)


def state_of(snapshot: OrderSnapshot) -> tuple:
    return (
        snapshot.order_id,
        snapshot.code,
        snapshot.action.value,
        snapshot.amount,
        snapshot.style,
        snapshot.status.value,
        snapshot.filled_amount,
        snapshot.canceled_amount,
        snapshot.avg_price,
        snapshot.deal_balance,
        snapshot.err_msg,
        snapshot.create_time,
        snapshot.broker_order_id,
    )


# --- restart the same day ------------------------------------------------------------------


def test_restart_restores_todays_orders_from_the_journal(tmp_path):
    gate = gate_with_stock(auto_cancel=False)
    first = make_account(tmp_path, gate)
    style = LimitOrderStyle(8.0)
    filled = first.order("600000.XSHG", 300, style)
    partly = first.order("600000.XSHG", 400, style)
    canceled = first.order("000001.XSHE", -500, LimitOrderStyle(10.5))
    canceling = first.order("600000.XSHG", 100, style)
    working = first.order("000001.XSHE", 200, LimitOrderStyle(9.9))
    gate.fail_next_orders(1, "柜台忙")
    with pytest.raises(GateError):
        first.order("600000.XSHG", 100, style)
    first.sync_orders()
    gate.fill(filled, 100, 7.99)
    gate.fill(filled)
    gate.fill(partly, 100)
    first.cancel_order(canceled)
    first.cancel_order(canceling)
    gate.complete_cancel(canceled)
    first.sync_orders()
    before = [state_of(o) for o in first.get_orders()]
    statuses = [o.status.value for o in first.get_orders()]
    assert statuses == ["filled", "filling", "canceled", "canceling", "open", "rejected"]
    first.close()

    updates: list = []

    def notify(hook: str, value: Any) -> None:
        updates.append((hook, value))

    second = make_account(tmp_path, gate, notify=notify, **MANUAL)
    assert [state_of(o) for o in second.get_orders()] == before  # from the journal alone
    second.sync_orders()  # the broker's reports agree: nothing changes, no hook fires
    assert [state_of(o) for o in second.get_orders()] == before and updates == []
    gate.complete_cancel(canceling)
    gate.fill(working)
    second.sync_orders()
    assert [(hook, value.order_id) for hook, value in updates] == [
        ("on_order_update", canceling),
        ("on_order_update", working),
        ("on_trade", working),
    ]
    assert [updates[0][1].status, updates[1][1].status, updates[2][1].amount] == [
        "canceled",
        "filled",
        200,
    ]

    # New ids continue after every id used so far; nothing was sent twice.
    new_id = second.order("600000.XSHG", 100, style)
    old_ids = {o[0] for o in before}
    assert new_id not in old_ids and int(new_id) > max(int(i) for i in old_ids)
    broker_ids = [row.order_id for row in gate.peek_orders()]
    assert len(broker_ids) == len(set(broker_ids)) == 6
    second.close()


def test_two_tasks_sharing_runtime_dir_and_account_never_share_an_id(tmp_path):
    gate = gate_with_stock()
    a = make_account(tmp_path, gate, task="甲")
    b = make_account(tmp_path, gate, task="乙")
    ids = []
    for _ in range(6):
        ids.append(a.order("600000.XSHG", 100, LimitOrderStyle(8.0)))
        ids.append(b.order("000001.XSHE", 100, LimitOrderStyle(10.0)))
    a.close()
    a = make_account(tmp_path, gate, task="甲")  # restart of one task the same day
    ids.append(a.order("600000.XSHG", 100, LimitOrderStyle(8.0)))
    assert len(set(ids)) == len(ids) == 13
    # Each task sees only its own orders, though the broker reports both tasks' orders.
    a.sync_orders()
    b.sync_orders()
    assert {o.code for o in a.get_orders()} == {"600000.XSHG"} and len(a.get_orders()) == 7
    assert {o.code for o in b.get_orders()} == {"000001.XSHE"} and len(b.get_orders()) == 6
    assert all(o.status == "open" for o in [*a.get_orders(), *b.get_orders()])
    assert (
        OrderJournal(tmp_path / "journal", "甲", DAY).path
        != OrderJournal(tmp_path / "journal", "乙", DAY).path
    )
    a.close()
    b.close()


def test_a_new_day_starts_a_new_journal_and_order_book(tmp_path):
    gate = gate_with_stock()
    clock = SimClock(T0)
    account = make_account(tmp_path, gate, clock=clock)
    yesterday = account.order("600000.XSHG", 100, LimitOrderStyle(8.0))
    gate.new_day()
    clock.advance(24 * 3600)
    today = account.order("600000.XSHG", 100, LimitOrderStyle(8.0))
    assert [o.order_id for o in account.get_orders()] == [today]
    assert account.day == DAY + datetime.timedelta(days=1)
    assert yesterday in OrderJournal(tmp_path / "journal", "t", DAY).replay()
    account.close()


def test_leaving_a_day_hands_its_orders_to_the_listeners_even_past_a_failing_one(tmp_path, caplog):
    gate = gate_with_stock()
    clock = SimClock(T0)
    account = make_account(tmp_path, gate, clock=clock)
    seen: list[tuple[datetime.date, list[str]]] = []

    def broken(day: datetime.date, orders: list) -> None:
        raise RuntimeError("summary broke")

    account.day_closed.extend(
        [broken, lambda day, orders: seen.append((day, [o.order_id for o in orders]))]
    )
    first = account.order("600000.XSHG", 100, LimitOrderStyle(8.0))
    second = account.order("600000.XSHG", 200, LimitOrderStyle(8.0))
    account.sync_orders()
    assert seen == []  # still the same day
    gate.new_day()
    clock.advance(24 * 3600)
    account.sync_orders()
    assert seen == [(DAY, [first, second])]
    assert "summary broke" in caplog.text and account.day == DAY + datetime.timedelta(days=1)
    clock.advance(24 * 3600)
    account.sync_orders()  # a day without orders hands nothing over
    assert len(seen) == 1
    account.close()


def test_unexpected_gate_exception_leaves_the_order_unconfirmed_until_the_broker_answers(tmp_path):
    class Flaky(FakeTradeGate):
        """Raises something that is not a GateError, after or before recording the order."""

        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.mode = ""

        def order(self, request) -> None:
            if self.mode == "after":
                super().order(request)
            if self.mode:
                raise OSError("网络连接被重置")
            super().order(request)

    gate = Flaky(cash=100_000)
    account = make_account(tmp_path, gate, **MANUAL)
    gate.mode = "after"
    with pytest.raises(GateError, match="待券商确认"):
        account.order("600000.XSHG", 100, LimitOrderStyle(8.0))
    gate.mode = "before"
    with pytest.raises(GateError, match="网络连接被重置"):
        account.order("600000.XSHG", 200, LimitOrderStyle(8.0))
    reached, lost = list(account.get_orders())
    assert reached.status == lost.status == "new"  # nobody knows yet
    account.sync_orders()
    assert account.get_orders()[reached.order_id].status == "open"
    gone = account.get_orders()[lost.order_id]
    assert gone.status == "rejected" and gone.err_msg == UNKNOWN_SEND_MESSAGE
    assert [row.order_id for row in gate.peek_orders()] == [reached.order_id]
    account.close()


def test_order_target_refuses_while_positions_are_unknown(tmp_path):
    gate = gate_with_stock()
    gate.fail_next_syncs(1, "持仓文件还没生成")
    account = make_account(tmp_path, gate, sync_order=False)
    assert account.portfolio.is_stale
    with pytest.raises(OrderRejectedError, match="600000.XSHG") as info:
        account.order_target("600000.XSHG", 5000, LimitOrderStyle(8.0))
    assert info.value.reason == "position_unknown"
    account.sync_balance()
    assert account.order_target("600000.XSHG", 5000, LimitOrderStyle(8.0)) is None
    assert gate.peek_orders() == []
    account.close()


# --- the state machine ---------------------------------------------------------------------

CODES = ("600000.XSHG", "000001.XSHE")
FINAL = ("filled", "partly_canceled", "canceled", "rejected")
PRICES = {"600000.XSHG": (7.9, 8.0, 8.1), "000001.XSHE": (9.9, 10.0, 10.1)}


class AccountMachine(RuleBasedStateMachine):
    """Random orders, cancels, broker events, syncs (some failing) and restarts.

    The broker acts only when a rule says so (no auto accept or cancel), so reports can skip
    states, arrive late, or contradict a pending cancel. Checked throughout: every status
    change is legal, final states stay final, no quantity is negative or shrinks, filled +
    canceled <= amount; after each successful sync the local orders match the broker's.
    """

    orders = Bundle("orders")

    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="jqtrade-sm-"))
        self.clock = SimClock(T0)
        self.gate = FakeTradeGate(
            cash=200_000,
            positions={"600000.XSHG": 3000, "000001.XSHE": 2000},
            prices={code: prices[1] for code, prices in PRICES.items()},
            auto_accept=False,
            auto_cancel=False,
            clock=self.clock,
        )
        self.options = Options().evolve(
            {
                "runtime_dir": str(self.dir),
                **MANUAL,
                "disabled_checks": [
                    "not_enough_cash",
                    "not_enough_closeable",
                ],  # let the broker refuse
            }
        )
        self.notified: dict[str, OrderSnapshot] = {}
        self.seen: dict[str, OrderSnapshot] = {}
        self.never_sent: set[str] = set()
        self.account = self._open()
        self.account.sync_balance()

    def _open(self) -> Account:
        account = Account(
            gate=self.gate,
            clock=self.clock,
            options=self.options,
            runtime_dir=self.dir,
            task_name="sm",
            notify=self._on_hook,
        )
        account.start()
        return account

    def _on_hook(self, hook: str, value: Any) -> None:
        if hook != "on_order_update":
            assert value.amount > 0
            return
        previous = self.notified.get(value.order_id)
        before = previous.status if previous else OrderStatus.new
        assert value.status == before or can_transition(before, value.status), (
            before,
            value.status,
        )
        if previous is not None:
            assert value.filled_amount >= previous.filled_amount
        self.notified[value.order_id] = value

    def teardown(self) -> None:
        self.account.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _row(self, order_id: str) -> Optional[OrderReport]:
        rows = [row for row in self.gate.peek_orders() if row.order_id == order_id]
        assert len(rows) <= 1  # never two orders at the broker for one id
        return rows[0] if rows else None

    # -- the strategy --

    @rule(
        target=orders,
        code=st.sampled_from(CODES),
        lots=st.integers(1, 12),
        sell=st.booleans(),
        tick=st.integers(0, 2),
        fail=st.booleans(),
    )
    def place(self, code: str, lots: int, sell: bool, tick: int, fail: bool) -> Any:
        if fail:
            self.gate.fail_next_orders(1)
        amount = -100 * lots if sell else 100 * lots
        self.clock.advance(1)
        try:
            order_id = self.account.order(code, amount, LimitOrderStyle(PRICES[code][tick]))
        except GateError:
            (refused,) = [o for o in self.account.get_orders() if o.order_id not in self.seen]
            assert refused.status == "rejected" and self._row(refused.order_id) is None
            self.never_sent.add(refused.order_id)
            return multiple()
        assert not fail
        return order_id

    @rule(order_id=orders)
    def cancel(self, order_id: str) -> None:
        self.account.cancel_order(order_id)

    # -- the broker --

    @rule(order_id=orders)
    def accept(self, order_id: str) -> None:
        if self._row(order_id).status == "new":
            self.gate.accept(order_id)

    @rule(order_id=orders, part=st.integers(1, 4))
    def fill(self, order_id: str, part: int) -> None:
        row = self._row(order_id)
        remaining = row.amount - row.filled_amount - row.canceled_amount
        if row.status in FINAL or remaining <= 0:
            return
        try:
            self.gate.fill(order_id, max(1, remaining * part // 4))
        except GateError:
            assert self._row(order_id).status == "rejected"  # refused on acceptance

    @rule(order_id=orders)
    def reject(self, order_id: str) -> None:
        row = self._row(order_id)
        if row.status not in FINAL and row.filled_amount == 0:
            self.gate.reject(order_id, "券商拒单")

    @rule(order_id=orders, refuse=st.booleans())
    def answer_cancel(self, order_id: str, refuse: bool) -> None:
        if self._row(order_id).status == "canceling":
            (self.gate.refuse_cancel if refuse else self.gate.complete_cancel)(order_id)

    # -- sync and restart --

    @rule()
    def sync_orders(self) -> None:
        self.account.sync_orders()
        self._check_converged()

    @rule()
    def sync_balance(self) -> None:
        portfolio = self.account.sync_balance()
        assert not portfolio.is_stale
        for position in portfolio.long_positions.values():
            assert position.total_amount >= position.closeable_amount >= 0
        assert portfolio.locked_cash >= 0

    @rule(balance=st.booleans())
    def failing_sync(self, balance: bool) -> None:
        before = [state_of(o) for o in self.account.get_orders()]
        last_good = self.account.portfolio
        self.gate.fail_next_syncs(1, "模拟断线")
        if balance:
            stale = self.account.sync_balance()
            assert stale.is_stale and stale.total_value == last_good.total_value
            assert stale.last_sync_time == last_good.last_sync_time
        else:
            self.account.sync_orders()
        assert [state_of(o) for o in self.account.get_orders()] == before

    @rule()
    def restart(self) -> None:
        before = [state_of(o) for o in self.account.get_orders()]
        self.account.close()
        self.account = self._open()
        assert [state_of(o) for o in self.account.get_orders()] == before
        self.account.sync_balance()

    def _check_converged(self) -> None:
        local = {o.order_id: o for o in self.account.get_orders()}
        rows = {row.order_id: row for row in self.gate.peek_orders()}
        assert set(local) == set(rows) | self.never_sent
        for order_id, row in rows.items():
            mine = local[order_id]
            assert (mine.filled_amount, mine.canceled_amount) == (
                row.filled_amount,
                row.canceled_amount,
            )
            if mine.status == "canceling" and row.status in ("new", "open", "filling"):
                continue  # a refused cancel: stays canceling locally until the order ends
            assert mine.status.value == row.status, (order_id, mine, row)

    # -- always --

    @invariant()
    def open_orders_are_known_without_a_snapshot(self) -> None:
        orders = self.account.get_orders()
        assert self.account.has_open_orders == any(not o.is_final for o in orders)

    @invariant()
    def orders_are_sane(self) -> None:
        for order in self.account.get_orders():
            assert order.amount > 0 and order.filled_amount >= 0 and order.canceled_amount >= 0
            assert order.filled_amount + order.canceled_amount <= order.amount
            if order.status == "filled":
                assert order.filled_amount == order.amount
            previous = self.seen.get(order.order_id)
            if previous is not None:
                if previous.is_final:
                    assert state_of(order) == state_of(previous)
                assert order.status == previous.status or can_transition(
                    previous.status, order.status
                )
                assert order.filled_amount >= previous.filled_amount
                assert order.canceled_amount >= previous.canceled_amount
            self.seen[order.order_id] = order


TestAccountMachine = AccountMachine.TestCase
TestAccountMachine.settings = settings(
    max_examples=60,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
