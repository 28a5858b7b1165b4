"""Risk limits through the real Account and FakeTradeGate: each refusal, its reason and message,
the trading states, risk.toml defaults, restarts, and a runaway loop stopped at the limits."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Optional

import account_support
import pytest
from account_support import T0, close_accounts  # noqa: F401 - close_accounts: autouse fixture

from jqtrade import LimitOrderStyle, MarketOrderStyle, OrderRejectedError
from jqtrade.account.account import Account
from jqtrade.account.checks import REASONS
from jqtrade.account.risk import RiskLimits, TradingState, TradingStateChange
from jqtrade.clock import SimClock
from jqtrade.errors import ConfigFileError
from jqtrade.gates.fake import FakeTradeGate
from jqtrade.options import RISK_DEFAULTS

CODE = "600000.XSHG"


def gate(**kwargs: Any) -> FakeTradeGate:
    defaults: dict[str, Any] = dict(
        cash=10**8,
        positions={CODE: {"total_amount": 10_000, "closeable_amount": 10_000, "avg_cost": 8}},
        prices={CODE: 10.0, "000001.XSHE": 10.0},
        auto_accept=False,
        auto_cancel=False,
    )
    defaults.update(kwargs)
    return FakeTradeGate(**defaults)


def make_account(tmp_path: Path, broker: Optional[FakeTradeGate] = None, **kwargs: Any) -> Account:
    return account_support.make_account(tmp_path, broker or gate(), **kwargs)


def refused(account: Account, *args: Any) -> OrderRejectedError:
    with pytest.raises(OrderRejectedError) as info:
        account.order(*args)
    assert info.value.reason in REASONS
    return info.value


def limit(price: float = 10.0) -> LimitOrderStyle:
    return LimitOrderStyle(price)


# --- defaults and resolution -----------------------------------------------------------------


def test_defaults_apply_when_nothing_sets_a_limit(tmp_path):
    account = make_account(tmp_path)
    assert account.risk_limits == RiskLimits.from_values(RISK_DEFAULTS)
    assert (
        account.risk_limits.orders_per_second == 200 and account.risk_limits.orders_per_day == 2000
    )
    assert account.trading_state == "active"


def test_risk_toml_sets_account_wide_defaults_and_the_strategy_overrides_them(tmp_path):
    (tmp_path / "risk.toml").write_text(
        "risk_max_orders_per_day = 50\nrisk_max_order_shares = 5000\n"
        '[accounts."880001"]\nrisk_max_orders_per_day = 30\n',
        encoding="utf-8",
    )
    plain = make_account(tmp_path, task="a")
    assert plain.risk_limits.orders_per_day == 50 and plain.risk_limits.order_shares == 5000
    own = make_account(tmp_path, task="b", account_no="880001")
    assert own.risk_limits.orders_per_day == 30 and own.risk_limits.order_shares == 5000
    strategy = make_account(tmp_path, task="c", risk_max_orders_per_day=7, risk_max_order_shares=0)
    assert (
        strategy.risk_limits.orders_per_day == 7 and strategy.risk_limits.order_shares == 0
    )  # 0: off


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("risk_max_orders_per_day = -1\n", "risk_max_orders_per_day"),
        ("risk_max_order_shares = 'many'\n", "risk_max_order_shares"),
        ("sync_interval = 3\n", "sync_interval"),
        ("risk_max_orders_per_day = \n", "TOML"),
    ],
)
def test_a_bad_risk_toml_stops_the_account_naming_the_file_and_key(tmp_path, text, needle):
    (tmp_path / "risk.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigFileError) as info:
        make_account(tmp_path)
    assert "risk.toml" in str(info.value) and needle in str(info.value)


# --- each limit --------------------------------------------------------------------------------


def test_order_rate_per_second_and_per_minute(tmp_path):
    clock = SimClock(T0)
    account = make_account(
        tmp_path, clock=clock, risk_max_orders_per_second=3, risk_max_orders_per_minute=5
    )
    for _ in range(3):
        account.order(CODE, 100, limit())
    error = refused(account, CODE, 100, limit())
    assert error.reason == "risk_order_rate"
    assert (
        "risk_max_orders_per_second=3" in error.message
        and CODE in error.message
        and "100 股" in error.message
    )
    clock.advance(1)
    account.order(CODE, 100, limit())
    account.order(CODE, 100, limit())
    error = refused(account, CODE, 100, limit())
    assert "risk_max_orders_per_minute=5" in error.message
    clock.advance(60)
    account.order(CODE, 100, limit())


def test_orders_per_day(tmp_path):
    account = make_account(tmp_path, risk_max_orders_per_day=3)
    for _ in range(3):
        account.order(CODE, 100, limit())
    error = refused(account, CODE, 100, limit())
    assert error.reason == "risk_orders_per_day" and "risk_max_orders_per_day=3" in error.message


def test_cancels_per_day(tmp_path):
    account = make_account(tmp_path, risk_max_cancels_per_day=2)
    ids = [account.order(CODE, 100, limit()) for _ in range(3)]
    account.cancel_order(ids[0])
    account.cancel_order(ids[1])
    with pytest.raises(OrderRejectedError) as info:
        account.cancel_order(ids[2])
    assert info.value.reason == "risk_cancels_per_day" and ids[2] in info.value.message
    assert account.get_orders()[ids[2]].status == "new"  # not canceling: the cancel was not sent


def test_active_orders_count_only_unfinished_ones(tmp_path):
    broker = gate()
    account = make_account(tmp_path, broker, risk_max_active_orders=2)
    first = account.order(CODE, 100, limit())
    account.order(CODE, 100, limit())
    error = refused(account, CODE, 100, limit())
    assert error.reason == "risk_active_orders" and "2 个" in error.message
    broker.accept(first)
    broker.fill(first, 100, 10.0)
    account.sync_orders()
    assert account.get_orders()[first].status == "filled"
    account.order(CODE, 100, limit())


def test_order_shares_and_value(tmp_path):
    account = make_account(tmp_path, risk_max_order_shares=1000, risk_max_order_value=5000)
    assert refused(account, CODE, 1100, limit()).reason == "risk_order_shares"
    error = refused(account, CODE, 600, limit(10.0))
    assert (
        error.reason == "risk_order_value"
        and "6,000.00" in error.message
        and "5,000.00" in error.message
    )
    # A best-price order is valued at the position's last price (10.0).
    assert refused(account, CODE, 600, MarketOrderStyle()).reason == "risk_order_value"
    # Sells count too: a fat-fingered sell is as bad as a fat-fingered buy.
    assert refused(account, CODE, -600, limit(10.0)).reason == "risk_order_value"
    account.order(CODE, 400, limit(10.0))
    # No price known (not held, at best): the value limits cannot judge it.
    account.order("000001.XSHE", 900, MarketOrderStyle())


def test_position_value_after_the_order_counts_working_buys(tmp_path):
    account = make_account(
        tmp_path, risk_max_position_value=110_000
    )  # holds 10,000 × 10.0 = 100,000
    account.order(CODE, 500, limit(10.0))
    error = refused(account, CODE, 600, limit(10.0))
    assert error.reason == "risk_position_value" and "11,100" in error.message
    account.order(CODE, -1000, limit(10.0))  # sells are never refused by it


def test_turnover_per_day_is_the_sum_of_order_values(tmp_path):
    account = make_account(tmp_path, risk_max_turnover=3000)
    account.order(CODE, 100, limit(10.0))
    account.order(CODE, -100, limit(10.0))
    error = refused(account, CODE, 200, limit(10.0))
    assert error.reason == "risk_turnover" and "3,000.00" in error.message
    account.order(CODE, 100, limit(10.0))  # exactly reaches 3,000
    assert refused(account, CODE, 100, limit(10.0)).reason == "risk_turnover"


def test_duplicate_guard(tmp_path):
    clock = SimClock(T0)
    account = make_account(tmp_path, clock=clock, risk_duplicate_window=5)
    account.order(CODE, 100, limit(10.0))
    error = refused(account, CODE, 100, limit(10.0))
    assert error.reason == "risk_duplicate" and "risk_duplicate_window=5 秒" in error.message
    account.order(CODE, 100, limit(10.01))  # another price is another order
    account.order(CODE, 200, limit(10.0))
    account.order(CODE, -100, limit(10.0))
    clock.advance(5)
    account.order(CODE, 100, limit(10.0))


def test_a_refused_order_reaches_neither_the_gate_nor_the_journal(tmp_path):
    broker = gate()
    account = make_account(tmp_path, broker, risk_max_orders_per_day=1)
    account.order(CODE, 100, limit())
    refused(account, CODE, 100, limit())
    assert len(broker.peek_orders()) == 1 and len(account.get_orders()) == 1


# --- trading states ----------------------------------------------------------------------------


def test_halted_refuses_every_order_but_allows_cancels(tmp_path):
    account = make_account(tmp_path)
    working = account.order(CODE, 100, limit())
    changes: list[TradingStateChange] = []
    account.on_trading_state_change = changes.append
    change = account.set_trading_state("halted", "测试")
    assert change is not None and changes == [change]
    assert (change.old, change.new, change.source) == (
        TradingState.active,
        TradingState.halted,
        "command",
    )
    assert account.set_trading_state("halted", "again") is None  # no change, no callback
    assert refused(account, CODE, -100, limit()).reason == "trading_halted"
    account.cancel_order(working)
    account.set_trading_state(TradingState.active, "恢复")
    account.order(CODE, 100, limit())
    assert [c.new for c in changes] == ["halted", "active"]


def test_reducing_allows_only_sells_of_held_securities(tmp_path):
    account = make_account(tmp_path)
    account.set_trading_state("reducing", "测试")
    assert refused(account, CODE, 100, limit()).reason == "trading_reducing"
    assert (
        refused(account, "204001.XSHG", -10, LimitOrderStyle(2.0)).reason == "trading_reducing"
    )  # repo lends cash
    account.order(CODE, -100, limit())


@pytest.mark.parametrize("action", ["reducing", "halted"])
def test_daily_loss_switches_the_state_once_with_an_error_line(tmp_path, caplog, action):
    broker = gate(
        cash=100_000,
        positions={CODE: {"total_amount": 10_000, "closeable_amount": 10_000, "avg_cost": 8}},
    )
    account = make_account(
        tmp_path, broker, risk_max_daily_loss_pct=5, risk_daily_loss_action=action
    )
    changes: list[TradingStateChange] = []
    account.on_trading_state_change = changes.append
    broker.set_price(CODE, 9.5)  # 200,000 -> 195,000: -2.5 %
    account.sync_balance()
    assert account.trading_state == "active"
    with caplog.at_level(logging.ERROR, logger="jqtrade.account"):
        broker.set_price(CODE, 8.9)  # -> 189,000: -5.5 %
        account.sync_balance()
        broker.set_price(CODE, 8.0)
        account.sync_balance()
    assert account.trading_state == action
    assert [(c.new.value, c.source) for c in changes] == [(action, "daily_loss")]
    assert "5.50%" in changes[0].reason
    assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 1
    # Resumed by the user: the same day does not switch it again.
    account.set_trading_state("active", "用户恢复")
    broker.set_price(CODE, 7.0)
    account.sync_balance()
    assert account.trading_state == "active"


def test_daily_loss_in_yuan_is_measured_from_the_accounts_first_snapshot_of_the_day(tmp_path):
    broker = gate(
        cash=100_000,
        positions={CODE: {"total_amount": 10_000, "closeable_amount": 10_000, "avg_cost": 8}},
    )
    first = make_account(tmp_path, broker, task="a")  # records the first value: 200,000
    broker.set_price(CODE, 9.0)  # 190,000
    late = make_account(tmp_path, broker, task="b", risk_max_daily_loss_value=5000)
    assert (
        late.trading_state == "reducing"
    )  # 10,000 below the account's first snapshot, not its own
    assert first.trading_state == "active"


def test_a_restart_restores_todays_daily_loss_switch_unless_resumed(tmp_path):
    broker = gate(
        cash=100_000,
        positions={CODE: {"total_amount": 10_000, "closeable_amount": 10_000, "avg_cost": 8}},
    )
    account = make_account(
        tmp_path, broker, risk_max_daily_loss_value=1000, risk_daily_loss_action="halted"
    )
    broker.set_price(CODE, 9.0)
    account.sync_balance()
    assert account.trading_state == "halted"
    account_support.close_account(account)
    again = make_account(
        tmp_path, broker, risk_max_daily_loss_value=1000, risk_daily_loss_action="halted"
    )
    assert again.trading_state == "halted"
    again.set_trading_state("active", "用户恢复")
    account_support.close_account(again)
    third = make_account(
        tmp_path, broker, risk_max_daily_loss_value=1000, risk_daily_loss_action="halted"
    )
    assert third.trading_state == "active"


# --- shared counts: across tasks, restarts, and live vs simulated --------------------------------


def test_orders_per_day_count_across_tasks_of_one_account(tmp_path):
    broker = gate()
    a = make_account(tmp_path, broker, task="a", risk_max_orders_per_day=5)
    b = make_account(tmp_path, broker, task="b", risk_max_orders_per_day=5)
    sent = 0
    for _ in range(10):
        for account in (a, b):
            try:
                account.order(CODE, 100, limit())
                sent += 1
            except OrderRejectedError as exc:
                assert exc.reason == "risk_orders_per_day"
    assert sent == 5 and len(broker.peek_orders()) == 5


def test_a_restarted_task_continues_todays_counts(tmp_path):
    broker = gate()
    account = make_account(tmp_path, broker, risk_max_orders_per_day=4, risk_max_turnover=10_000)
    account.order(CODE, 100, limit(10.0))
    account.order(CODE, 300, limit(10.0))
    account_support.close_account(account)
    again = make_account(tmp_path, broker, risk_max_orders_per_day=4, risk_max_turnover=10_000)
    again.order(CODE, 500, limit(10.0))  # 1,000 + 3,000 + 5,000
    assert refused(again, CODE, 200, limit(10.0)).reason == "risk_turnover"
    again.order(CODE, 100, limit(10.0))
    assert refused(again, CODE, 100, limit(1.0)).reason == "risk_orders_per_day"


def test_a_new_trading_day_starts_new_counts(tmp_path):
    clock = SimClock(T0)
    broker = gate()
    account = make_account(tmp_path, broker, clock=clock, risk_max_orders_per_day=1)
    account.order(CODE, 100, limit())
    refused(account, CODE, 100, limit())
    clock.advance(24 * 3600)
    broker.new_day()
    account.order(CODE, 100, limit())


def test_separate_runtime_dirs_never_share_counts(tmp_path):
    """A simulated run's Account gets its own state folder as runtime_dir (Runtime.state_dir)."""
    live = make_account(tmp_path, gate(), task="t", risk_max_orders_per_day=1)
    sim = make_account(
        tmp_path,
        gate(),
        task="t",
        runtime_dir=tmp_path / "sim" / "t-run",
        risk_max_orders_per_day=1,
    )
    live.order(CODE, 100, limit())
    sim.order(CODE, 100, limit())
    assert (tmp_path / "risk.sqlite3").exists() and (
        tmp_path / "sim" / "t-run" / "risk.sqlite3"
    ).exists()


# --- fault: a runaway loop -----------------------------------------------------------------------


def test_a_tight_order_loop_is_stopped_with_at_most_the_configured_orders_at_the_gate(tmp_path):
    clock = SimClock(T0)
    broker = gate()
    account = make_account(
        tmp_path,
        broker,
        clock=clock,
        risk_max_orders_per_second=20,
        risk_max_orders_per_minute=50,
        risk_max_orders_per_day=120,
        risk_max_active_orders=0,
    )
    reasons: dict[str, int] = {}
    for step in range(20_000):  # a bug: the same order every 10 ms for 200 simulated seconds
        try:
            account.order(CODE, 100, limit())
        except OrderRejectedError as exc:
            reasons[exc.reason] = reasons.get(exc.reason, 0) + 1
        clock.advance(0.01)
        if step % 50 == 0:
            account.sync_orders()
    assert len(broker.peek_orders()) == 120
    assert set(reasons) == {"risk_order_rate", "risk_orders_per_day"}


def test_active_orders_stop_a_loop_whose_orders_never_fill(tmp_path):
    broker = gate()
    account = make_account(tmp_path, broker)  # defaults only
    sent = 0
    for _ in range(1000):
        try:
            account.order(CODE, 100, limit())
            sent += 1
        except OrderRejectedError as exc:
            assert exc.reason == "risk_active_orders"
    assert sent == RISK_DEFAULTS["risk_max_active_orders"] == len(broker.peek_orders())


def test_an_unusable_store_refuses_new_orders_but_not_the_account(tmp_path, caplog):
    (tmp_path / "risk.sqlite3").write_bytes(b"this is not a database" * 100)
    with caplog.at_level(logging.ERROR, logger="jqtrade.account"):
        account = make_account(tmp_path)
        error = refused(account, CODE, 100, limit())
    assert error.reason == "risk_store_unavailable" and "risk.sqlite3" in error.message
    assert any(
        "risk.sqlite3" in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR
    )
