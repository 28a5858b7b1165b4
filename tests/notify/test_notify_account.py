"""Events the account emits through a recording sink (a fake, not a mock): rejections by our
checks, a risk limit or the broker, fills, trading-state changes, and a stale broker link."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import account_support
import pendulum
import pytest
from account_support import T0, close_accounts  # noqa: F401 - close_accounts: autouse fixture

from jqtrade import LimitOrderStyle, OrderRejectedError
from jqtrade.account.account import Account
from jqtrade.account.risk import TradingStateChange
from jqtrade.clock import MARKET_TZ, SimClock
from jqtrade.errors import GateError
from jqtrade.gates.fake import FakeTradeGate
from jqtrade.notify import daily_summary

CODE = "600000.XSHG"


class Sink:
    """Records what the account emits, as a Notifier would queue it."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, str, Optional[str]]] = []

    def event(self, kind: Any, title: str, body: str = "", *, level: Any = None) -> bool:
        self.events.append((str(getattr(kind, "value", kind)), title, body, level))
        return True

    def kinds(self) -> list[str]:
        return [e[0] for e in self.events]


def make_account(
    tmp_path: Path, *, clock: Optional[SimClock] = None, **options: Any
) -> tuple[Account, FakeTradeGate, Sink]:
    broker = FakeTradeGate(
        cash=10**7,
        positions={CODE: {"total_amount": 10_000, "closeable_amount": 10_000, "avg_cost": 8}},
        prices={CODE: 10.0},
        auto_accept=False,
        auto_cancel=False,
    )
    sink = Sink()
    account = account_support.make_account(tmp_path, broker, clock=clock, notifier=sink, **options)
    return account, broker, sink


def test_a_refusal_by_our_checks_is_an_order_rejected_event(tmp_path):
    account, _, sink = make_account(tmp_path)
    with pytest.raises(OrderRejectedError) as info:
        account.order(CODE, 150, LimitOrderStyle(10.0))
    [(kind, title, body, _)] = sink.events
    assert kind == "order_rejected" and CODE in title and f"[{info.value.reason}]" in body


def test_a_risk_refusal_is_a_risk_limit_event_told_once_through_order_target(tmp_path):
    account, _, sink = make_account(tmp_path, risk_max_order_shares=1000)
    with pytest.raises(OrderRejectedError):
        account.order_target(CODE, 20_000, LimitOrderStyle(10.0))
    [(kind, title, body, _)] = sink.events
    assert kind == "risk_limit" and "风控" in title and "[risk_order_shares]" in body
    account.set_trading_state("halted", "测试")
    with pytest.raises(OrderRejectedError):
        account.order(CODE, 100, LimitOrderStyle(10.0))
    assert sink.kinds()[-2:] == ["trading_state", "risk_limit"]


def test_a_refused_cancel_is_a_risk_limit_event(tmp_path):
    account, _, sink = make_account(tmp_path, risk_max_cancels_per_day=1)
    first, second = (account.order(CODE, 100, LimitOrderStyle(10.0)) for _ in range(2))
    account.cancel_order(first)
    with pytest.raises(OrderRejectedError):
        account.cancel_order(second)
    assert sink.kinds() == ["risk_limit"] and "撤单" in sink.events[0][1]


def test_broker_rejections_send_failures_and_fills(tmp_path):
    account, broker, sink = make_account(tmp_path, sync_order=True)
    rejected = account.order(CODE, 100, LimitOrderStyle(10.0))
    broker.reject(rejected, "资金账户已冻结")
    account.sync_orders()
    assert sink.events[-1][0] == "order_rejected" and "资金账户已冻结" in sink.events[-1][2]
    broker.fail_next_orders(1, "模拟：连接断开")
    with pytest.raises(GateError):
        account.order(CODE, 100, LimitOrderStyle(10.0))
    assert sink.events[-1][0] == "order_rejected" and "连接断开" in sink.events[-1][2]
    filled = account.order(CODE, -200, LimitOrderStyle(10.0))
    broker.accept(filled)
    broker.fill(filled)
    account.sync_orders()
    assert sink.kinds() == ["order_rejected", "order_rejected", "fill"]
    assert CODE in sink.events[-1][1]


def test_a_state_change_is_told_and_the_strategy_listener_still_runs(tmp_path):
    account, _, sink = make_account(tmp_path)
    heard: list[TradingStateChange] = []
    account.on_trading_state_change = heard.append
    assert account.on_trading_state_change == heard.append
    account.set_trading_state("reducing", "手动减仓")
    account.set_trading_state("active", "恢复")
    assert [c.new.value for c in heard] == ["reducing", "active"]
    assert [(e[0], e[3]) for e in sink.events] == [
        ("trading_state", "warning"),
        ("trading_state", "info"),
    ]
    assert "手动减仓" in sink.events[0][2]


def test_the_daily_loss_switch_is_a_trading_state_event(tmp_path):
    account, broker, sink = make_account(tmp_path, risk_max_daily_loss_pct=5)
    broker.set_price(CODE, 1.0)  # 10,000 shares lose 90,000 yuan of 10.1 million: under 5 %
    account.sync_balance()
    assert sink.events == []
    broker.set_price(CODE, 0.0001)
    account._risk.on_snapshot(str(account.day), 1_000_000, T0.isoformat())  # a 90 % drop
    assert sink.kinds() == ["trading_state"] and "daily_loss" in sink.events[0][2]


def test_a_stale_link_is_told_once_after_n_seconds_and_its_recovery_once(tmp_path):
    clock = SimClock(T0)
    account, broker, sink = make_account(tmp_path, clock=clock, notify_stale_after=60)
    for _ in range(12):  # failing every 5 s for 60 s
        broker.fail_next_syncs(1, "模拟：positionInfo 文件不存在")
        account.sync_balance()
        clock.advance(5)
    assert sink.events == []
    for _ in range(3):
        broker.fail_next_syncs(1, "模拟：positionInfo 文件不存在")
        account.sync_balance()
        clock.advance(5)
    [(kind, title, body, _)] = sink.events
    assert kind == "link_stale" and "positionInfo" in body and "60 秒" in body
    account.sync_balance()
    assert sink.kinds() == ["link_stale", "link_recovered"]
    account.sync_balance()
    assert len(sink.events) == 2


def test_a_quiet_broker_after_the_close_is_no_outage(tmp_path):
    clock = SimClock(pendulum.datetime(2024, 6, 3, 15, 30, tz=MARKET_TZ))
    account, broker, sink = make_account(tmp_path, clock=clock, notify_stale_after=10)
    for _ in range(10):
        broker.fail_next_syncs(1)
        account.sync_balance()
        clock.advance(30)
    assert sink.events == []


def test_no_notifier_no_events_and_one_can_be_set_later(tmp_path):
    account, _, sink = make_account(tmp_path)
    account.notifier = None
    with pytest.raises(OrderRejectedError):
        account.order(CODE, 150, LimitOrderStyle(10.0))
    account.notifier = sink
    with pytest.raises(OrderRejectedError):
        account.order(CODE, 150, LimitOrderStyle(10.0))
    assert sink.kinds() == ["order_rejected"]


def test_the_daily_summary_reads_orders_and_the_portfolio(tmp_path):
    account, broker, _ = make_account(tmp_path, sync_order=True)
    sold = account.order(CODE, -1000, LimitOrderStyle(10.0))
    broker.accept(sold)
    broker.fill(sold)
    account.sync_orders()
    account.sync_balance()
    title, body = daily_summary(
        account.get_orders(), account.portfolio, open_value=account.portfolio.total_value + 500
    )
    assert title == "每日汇总"
    assert "订单 1 笔，有成交 1 笔" in body and "卖出成交 10,000.00 元" in body
    assert "今日变化 -500.00 元" in body and CODE in body
