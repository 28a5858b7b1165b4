"""Whole simulated days in this process: Runtime + SimClock + OneQuant gate + SimulatedOneQuant.

The same arrangement ``start_task --broker sim`` builds, but with the simulator in the test's
hands, so it can run in fault mode, or outlive a crashed task the way OneQuant outlives a
strategy. Real files in ``tmp_path``; the broker's side is read back with ``csv``.
"""

from __future__ import annotations

import datetime
import logging
from pathlib import Path
from typing import Any

import pendulum
import pytest
from e2e_support import BrokerFiles, journal, journal_state, state_of

from jqtrade import Context, LimitOrderStyle, Strategy
from jqtrade.clock import MARKET_TZ, SimClock
from jqtrade.options import Options
from jqtrade.runtime import Runtime
from jqtrade.sim import SimulatedOneQuant

DAY = datetime.date(2024, 6, 3)
ACCOUNT = "SIM0001"


def at(hour: int, minute: int = 0) -> pendulum.DateTime:
    return pendulum.datetime(DAY.year, DAY.month, DAY.day, hour, minute, tz=MARKET_TZ)


class Trader(Strategy):
    """Every minute: buys that fill (partly), sells of the opening position, resting buys that
    are canceled five minutes later. Records every ``on_order_update``."""

    def __init__(self) -> None:
        self.updates: list[Any] = []
        self.resting: dict[str, pendulum.DateTime] = {}
        self.minutes = 0

    def process_initialize(self, context: Context) -> None:
        self.run_daily(self.trade, "every_minute")

    def trade(self, context: Context) -> None:
        self.minutes += 1
        now = context.current_dt
        step = self.minutes % 3
        held = context.portfolio.long_positions
        if step == 0:
            self.order("600000.XSHG", 300, LimitOrderStyle(0))
        elif step == 1 and "000001.XSHE" in held and held["000001.XSHE"].closeable_amount >= 300:
            self.order("000001.XSHE", -300, LimitOrderStyle(0))
        elif step == 2 and "000001.XSHE" in held:
            price = round(held["000001.XSHE"].last_price * 0.97, 2)
            self.resting[self.order("000001.XSHE", 300, LimitOrderStyle(price))] = now
        for order_id, placed in list(self.resting.items()):
            if (now - placed).total_seconds() >= 300:
                del self.resting[order_id]
                if not self.get_orders()[order_id].is_final:
                    self.cancel_order(order_id)

    def on_order_update(self, context: Context, order: Any) -> None:
        self.updates.append(order)


def make_runtime(
    tmp_path: Path, sim: SimulatedOneQuant, strategy: Strategy, start: pendulum.DateTime
) -> Runtime:
    runtime = Runtime(
        strategy,
        clock=SimClock(start),
        options=Options().evolve({"runtime_dir": str(tmp_path / "runtime")}),
        task_name="e2e",
        overrides={
            "trade_gate": "onequant",
            "order_dir": str(sim.directory),
            "account_no": ACCOUNT,
            "file_encoding": "gbk",
        },
        broker_poll=sim.poll,
    )
    runtime.initialize()
    return runtime


def assert_account_matches_broker(runtime: Runtime, sim: SimulatedOneQuant) -> None:
    """Every order of the task has the state of its last good broker line, and the sim's own book."""
    account = runtime.account
    assert account is not None
    orders = {o.order_id: o for o in account.get_orders()}
    latest = BrokerFiles(sim.directory, DAY).latest(ACCOUNT)
    foreign = set(latest) - set(sim.orders)  # other programs' orders on the account (fault mode)
    assert all(order_id.startswith("other-") for order_id in foreign)
    assert set(orders) == set(sim.orders) == set(latest) - foreign
    for order_id, order in orders.items():
        mine = (order.status.value, order.filled_amount, order.canceled_amount)
        assert mine == state_of(latest[order_id]), f"order {order_id}: account vs file"
        booked = sim.orders[order_id]
        assert (order.filled_amount, order.canceled_amount) == (booked.filled, booked.cancel_qty)
    for order_id, recovered in journal(runtime.runtime_dir, runtime.task_name, DAY).items():
        assert journal_state(recovered) == state_of(latest[order_id]), (
            f"order {order_id}: journal vs file"
        )


def assert_balance_matches_broker(runtime: Runtime, sim: SimulatedOneQuant) -> None:
    assert runtime.account is not None
    portfolio = runtime.account.sync_balance()
    assert not portfolio.is_stale
    assert portfolio.available_cash == pytest.approx(float(sim.available_cash), abs=0.005)
    held = {
        code: (p.total_amount, p.closeable_amount) for code, p in portfolio.long_positions.items()
    }
    assert held == {code: (p.total, p.sellable) for code, p in sim.positions.items()}


def test_fault_mode_no_crash_every_good_line_applied_state_converges(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    sim = SimulatedOneQuant(
        tmp_path / "onequant",
        ACCOUNT,
        seed=11,
        fault_mode=True,
        fault_rate=0.3,
        partial_fills=True,
        positions={"000001.XSHE": 30_000},
        snapshot_interval=30.0,
    )
    strategy = Trader()
    runtime = make_runtime(tmp_path, sim, strategy, at(0))
    try:
        check_fault_day(runtime, sim, strategy, caplog)
    finally:
        runtime.finish()


def check_fault_day(
    runtime: Runtime, sim: SimulatedOneQuant, strategy: Trader, caplog: Any
) -> None:
    runtime.run(at(15, 10))

    # no crash: no callback failed, nothing logged as an error
    assert runtime.loop.errors == 0 and runtime.loop.failed is None
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    # the faults did happen: lines the gate had to skip, foreign orders, broken snapshots
    assert sum("跳过" in r.getMessage() or "无法" in r.getMessage() for r in caplog.records) > 20
    assert any("沿用上次完整的快照" in r.getMessage() for r in caplog.records)
    broker = BrokerFiles(sim.directory, DAY)
    assert any(
        row["custBatchNo"].startswith("other-") for row in broker.rows(broker.files.order_update)
    )

    # every update the strategy saw is a state the broker wrote for that order, in order:
    # nothing came from another account's line that reuses one of our ids, or from garbage
    lines: dict[str, list[tuple[str, int, int]]] = {}
    for row in broker.updates(ACCOUNT):
        lines.setdefault(row["custBatchNo"], []).append(state_of(row))
    for order_id in {u.order_id for u in strategy.updates}:
        seen = [
            (u.status.value, u.filled_amount, u.canceled_amount)
            for u in strategy.updates
            if u.order_id == order_id
        ]
        written = iter(lines[order_id])
        assert all(state in written for state in seen), (
            f"order {order_id}: {seen} vs {lines[order_id]}"
        )

    # after the faults stop, everything converges: orders, journal, cash and positions
    sim.fault_mode = False
    sim.poll(at(15, 10))  # finishes any half-written line and writes clean snapshots
    runtime.account.sync_orders()
    assert_account_matches_broker(runtime, sim)
    assert_balance_matches_broker(runtime, sim)
    assert {o.status.value for o in runtime.account.get_orders()} >= {"filled", "canceled"}
    assert "filling" in {u.status.value for u in strategy.updates}  # partial fills on the way
    assert len(runtime.account.get_orders()) > 150


def test_restart_on_the_simulated_clock_keeps_every_order_once(tmp_path):
    """The task dies at 10:30 (no stop hook), OneQuant keeps working, the task restarts at 10:40."""
    sim = SimulatedOneQuant(
        tmp_path / "onequant",
        ACCOUNT,
        seed=3,
        partial_fills=True,
        positions={"000001.XSHE": 30_000},
    )
    first = make_runtime(tmp_path, sim, Trader(), at(0))
    first.run(at(10, 30))
    assert first.account is not None
    before = {o.order_id: o for o in first.account.get_orders()}
    first.account.close()  # what the OS does for a killed process: handles closed, nothing else
    for minute in range(1, 11):  # the broker goes on while the task is down
        sim.poll(at(10, 30).add(minutes=minute))

    strategy = Trader()
    second = make_runtime(tmp_path, sim, strategy, at(10, 40))
    try:
        check_restarted(second, sim, before)
    finally:
        second.finish()


def check_restarted(second: Runtime, sim: SimulatedOneQuant, before: dict[str, Any]) -> None:
    assert second.account is not None
    restored = {o.order_id: o for o in second.account.get_orders()}
    assert set(restored) == set(before)  # no order lost
    changed = [i for i in before if restored[i].status != before[i].status]
    assert changed, "orders moved on at the broker while the task was down"
    second.run(at(15, 10))
    sim.poll(at(15, 10))
    second.account.sync_orders()

    broker = BrokerFiles(sim.directory, DAY)
    sent = broker.order_ids(ACCOUNT)
    assert len(sent) == len(set(sent)), "an order was sent twice"
    assert set(before) < set(sent)
    assert_account_matches_broker(second, sim)
    assert_balance_matches_broker(second, sim)
