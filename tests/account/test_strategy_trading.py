"""The trading API as strategies use it: Runtime + SimClock + a fake broker, in process.

Covers the seed README strategy (loaded unchanged) and its class-based twin over a simulated
trading day, the class and legacy forms of every refused input, ``get_orders`` both ways,
portfolio aliases, callbacks, sync switches and a failing broker.
"""

from __future__ import annotations

import datetime
import logging
import math
from pathlib import Path
from typing import Any

import attrs
import pendulum
import pytest

from jqtrade import (
    AccountDisabledError,
    GateError,
    LimitOrderStyle,
    MarketOrderStyle,
    OptionValueError,
    OrderNotFoundError,
    OrderRejectedError,
    OrderStatus,
    Strategy,
)
from jqtrade.account.order import OrderSnapshot, Trade
from jqtrade.clock import MARKET_TZ, SimClock
from jqtrade.errors import UnknownOrderStatusError
from jqtrade.gates.fake import FakeTradeGate
from jqtrade.loader import load_strategy
from jqtrade.model.reports import BalanceReport, OrderReport
from jqtrade.options import Options
from jqtrade.runtime import Runtime

SCRIPTS = Path(__file__).parent / "scripts"
DAY = datetime.date(2024, 6, 3)  # a Monday, trading day


def at(hour: int, minute: int = 0, second: int = 0, day: datetime.date = DAY) -> pendulum.DateTime:
    return pendulum.datetime(day.year, day.month, day.day, hour, minute, second, tz=MARKET_TZ)


# Loading a strategy file changes sys.path and sys.modules; tests/conftest.py undoes it.
pytestmark = pytest.mark.usefixtures("restore_sys_path")

_STARTED: list[Runtime] = []


@pytest.fixture(autouse=True)
def finish_runtimes():
    """Every runtime a test starts is finished (journal closed) even if the test fails."""
    yield
    while _STARTED:
        _STARTED.pop().finish()


class MatchingGate(FakeTradeGate):
    """A fake broker where a marketable order fills the moment it arrives (market orders at
    the quote, limit orders at their limit), with price moves scheduled on the market clock."""

    def __init__(self, *, moves: Any = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.quotes = {code: float(price) for code, price in (kwargs.get("prices") or {}).items()}
        self.moves = sorted(moves)

    def _apply_moves(self) -> None:
        now = self.clock.now()
        while self.moves and self.moves[0][0] <= now:
            _, code, price = self.moves.pop(0)
            self.set_price(code, price)
            self.quotes[code] = price

    def order(self, request) -> None:
        self._apply_moves()
        super().order(request)
        quote = self.quotes.get(request.code)
        limit = self.order_report(request.order_id).price or 0  # None: a market or best-price order
        if quote is None:
            return
        if limit == 0 or (quote <= limit if request.is_buy else quote >= limit):
            self.fill(request.order_id, price=quote if limit == 0 else limit)

    def sync_orders(self) -> list[OrderReport]:
        self._apply_moves()
        return super().sync_orders()


class CountingGate(FakeTradeGate):
    """Remembers when the account asked for balance and orders."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.balance_calls: list[pendulum.DateTime] = []
        self.order_calls: list[pendulum.DateTime] = []

    def sync_balance(self) -> BalanceReport:
        self.balance_calls.append(self.clock.now())
        return super().sync_balance()

    def sync_orders(self) -> list[OrderReport]:
        self.order_calls.append(self.clock.now())
        return super().sync_orders()


class Trader(Strategy):
    """Turns the account on (plus any options given) and records the order hooks."""

    def __init__(self, jobs: Any = (), **options: Any) -> None:
        self.jobs = jobs
        self.options = {"use_account": True, **options}
        self.updates: list[OrderSnapshot] = []
        self.trades: list[Trade] = []
        self.ran: list[pendulum.DateTime] = []

    def process_initialize(self, context) -> None:
        self.set_options(**self.options)
        for func, expression in self.jobs:
            self.run_daily(func, expression)

    def on_order_update(self, context, order) -> None:
        self.updates.append(order)

    def on_trade(self, context, trade) -> None:
        self.trades.append(trade)


BEFORE_OPEN = at(8, 50)


def make_runtime(
    strategy: Strategy,
    gate: FakeTradeGate,
    tmp_path: Path,
    *,
    start: pendulum.DateTime = BEFORE_OPEN,
    task: str = "t",
    **extra_options: Any,
) -> Runtime:
    options = Options().evolve({"runtime_dir": str(tmp_path / "runtime"), **extra_options})
    runtime = Runtime(
        strategy,
        clock=SimClock(start),
        options=options,
        gate_factory=lambda opts: gate,
        task_name=task,
    )
    _STARTED.append(runtime)
    runtime.initialize()
    return runtime


def standard_gate(**kwargs: Any) -> FakeTradeGate:
    """Cash 100,000; 000001.XSHE 1,050 shares (odd remainder 50); STAR 688001 250 shares."""
    defaults: dict[str, Any] = dict(
        cash=100_000,
        positions={
            "000001.XSHE": {"total_amount": 1550, "closeable_amount": 1050, "avg_cost": 9.5},
            "688001.XSHG": 250,
        },
        prices={"000001.XSHE": 10.0, "688001.XSHG": 50.0, "600000.XSHG": 8.0},
    )
    defaults.update(kwargs)
    return FakeTradeGate(**defaults)


LEGACY_TRADER = """\
# a legacy script that only turns the account on; the test calls its injected globals
def process_initialize(context):
    set_options(use_account=True)
"""


def legacy_runtime(
    tmp_path: Path, gate: FakeTradeGate, source: str = LEGACY_TRADER
) -> tuple[Runtime, Any]:
    path = tmp_path / "legacy_trader.py"
    path.write_text(source, encoding="utf-8")
    strategy = load_strategy(path)
    runtime = make_runtime(strategy, gate, tmp_path, start=at(9, 35))
    return runtime, strategy.module


# --- the seed strategy and its class twin over one simulated day ---------------------------


def seed_gate() -> MatchingGate:
    """Holds 1,000 shares of 000001 at 9.8 (under the seed's limit 10) until 10:00, when the
    price moves to 10.2 and the seed's sell at 10 fills; 000002 trades at 8.0."""
    return MatchingGate(
        cash=100_000,
        positions={"000001.XSHE": {"total_amount": 1000, "avg_cost": 9.5}},
        prices={"000001.XSHE": 9.8, "000002.XSHE": 8.0},
        moves=[(at(10, 0), "000001.XSHE", 10.2)],
    )


def run_seed_day(
    strategy: Strategy, tmp_path: Path, task: str
) -> tuple[Runtime, MatchingGate, list[OrderSnapshot]]:
    gate = seed_gate()
    # Order sync every 30 s (simulated) instead of 5 s: same story, a sixth of the work.
    runtime = make_runtime(strategy, gate, tmp_path, task=task, order_sync_interval=30)
    runtime.run(until=at(15, 30))
    orders = list(runtime.account.get_orders())
    return runtime, gate, orders


def check_seed_day(
    runtime: Runtime, gate: MatchingGate, orders: list[OrderSnapshot], g: dict
) -> None:
    sells = [o for o in orders if o.code == "000001.XSHE"]
    buys = [o for o in orders if o.code == "000002.XSHE"]
    assert len(orders) == len(sells) + len(buys) == 32
    assert len({o.order_id for o in orders}) == 32

    # One market buy of 000002, filled on arrival at 8.0 (then held, so never bought again).
    (buy,) = buys
    assert buy.status == OrderStatus.filled and buy.status == "filled"
    assert (buy.amount, buy.filled_amount, buy.avg_price, buy.deal_balance) == (
        100,
        100,
        8.0,
        800.0,
    )
    assert buy.style == MarketOrderStyle() and buy.order_price is None and buy.action == "open"
    assert buy.create_time == at(9, 30)
    assert g["order_id_000002"] == buy.order_id

    # Sells at 10 every minute 09:30..09:59 rest under the 9.8 price and are canceled by the
    # same job; the 10:00 one fills at 10; then nothing is left to sell.
    for minute, sell in zip(range(30), sells[:30]):
        assert sell.create_time == at(9, 30 + minute)
        assert (sell.status, sell.amount, sell.filled_amount, sell.canceled_amount) == (
            OrderStatus.canceled,
            1000,
            0,
            1000,
        )
        assert (
            sell.style == LimitOrderStyle(10)
            and sell.order_price == 10.0
            and sell.action == "close"
        )
    last = sells[30]
    assert last.create_time == at(10, 0)
    assert (last.status, last.filled_amount, last.avg_price, last.deal_balance) == (
        "filled",
        1000,
        10.0,
        10_000.0,
    )
    assert g["order_id_000001"] == last.order_id

    # The broker and the local state agree on every order.
    broker = {row.order_id: row for row in gate.peek_orders()}
    assert set(broker) == {o.order_id for o in orders}
    for o in orders:
        assert (o.status.value, o.filled_amount, o.canceled_amount) == (
            broker[o.order_id].status,
            broker[o.order_id].filled_amount,
            broker[o.order_id].canceled_amount,
        )

    # Portfolio after the last sync: 000001 sold, 000002 held (bought today: not closeable).
    portfolio = runtime.context.portfolio
    assert not portfolio.is_stale and portfolio.last_sync_time >= at(15, 0)
    assert portfolio.available_cash == 100_000 - 800 + 10_000 and portfolio.locked_cash == 0
    assert portfolio.total_value == portfolio.total_assert == 109_200 + 800
    assert "000001.XSHE" not in portfolio.long_positions
    assert portfolio.long_positions["000001.XSHE"].total_amount == 0
    held = portfolio.positions["000002.XSHE"]
    assert (held.total_amount, held.closeable_amount, held.available_amount) == (100, 0, 0)
    assert held.avg_cost == held.acc_avg_cost == 8.0 and held.value == held.position_value == 800.0
    assert len(portfolio.short_positions) == 0


def test_seed_strategy_runs_unchanged_over_a_simulated_day(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="strategy")
    strategy = load_strategy(SCRIPTS / "seed_strategy.py")
    runtime, gate, orders = run_seed_day(strategy, tmp_path, "seed")
    check_seed_day(runtime, gate, orders, strategy.module.g)
    # before_market_open read the portfolio synced at start: 100,000 cash + 1,000 × 9.8.
    assert any("当前总资产： 109800" in r.getMessage() for r in caplog.records)
    assert runtime.loop.errors == 0
    runtime.finish()


def test_class_twin_of_seed_strategy_gets_callbacks_with_right_values(tmp_path):
    strategy = load_strategy(SCRIPTS / "seed_class.py")
    runtime, gate, orders = run_seed_day(strategy, tmp_path, "seed_class")
    check_seed_day(runtime, gate, orders, strategy.g)
    assert strategy.open_totals == [109_800]
    assert runtime.loop.errors == 0

    # on_trade: exactly the two fills, with amount, price and the sync time that saw them.
    buy_id, sell_id = strategy.g["order_id_000002"], strategy.g["order_id_000001"]
    assert [(t.order_id, t.code, t.amount, t.price, t.is_buy) for t in strategy.trades] == [
        (buy_id, "000002.XSHE", 100, 8.0, True),
        (sell_id, "000001.XSHE", 1000, 10.0, False),
    ]
    assert strategy.trades[0].time == at(9, 30, 30) and strategy.trades[1].time == at(10, 0, 30)

    # on_order_update: one update per order, to its final state, as a frozen snapshot.
    final = {o.order_id: o for o in orders}
    assert [u.order_id for u in strategy.updates] == [o.order_id for o in orders]
    for update in strategy.updates:
        assert isinstance(update, OrderSnapshot)
        assert (update.status, update.filled_amount, update.canceled_amount) == (
            final[update.order_id].status,
            final[update.order_id].filled_amount,
            final[update.order_id].canceled_amount,
        )
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        strategy.updates[0].status = OrderStatus.open
    runtime.finish()


def test_legacy_script_hooks_receive_order_updates_and_trades(tmp_path):
    source = (
        LEGACY_TRADER
        + """
seen = []

def on_order_update(context, order):
    seen.append(("update", order.order_id, str(order.status), order.filled_amount))

def on_trade(context, trade):
    seen.append(("trade", trade.order_id, trade.amount, trade.price))
"""
    )
    gate = standard_gate()
    runtime, module = legacy_runtime(tmp_path, gate, source)
    oid = module.order("600000.XSHG", 300, LimitOrderStyle(8.0))
    module.sync_orders()
    gate.fill(oid, 100, 7.9)
    module.sync_orders()
    gate.fill(oid)
    module.sync_orders()
    assert module.seen == [
        ("update", oid, "open", 0),
        ("update", oid, "filling", 100),
        ("trade", oid, 100, 7.9),
        ("update", oid, "filled", 300),
        ("trade", oid, 200, 8.0),
    ]


# --- get_orders: iterable and mapping, filters ANDed ---------------------------------------


@pytest.fixture
def trading(tmp_path):
    """A class strategy with the account on, at 09:35, and its fake broker."""
    gate = standard_gate()
    strategy = Trader()
    runtime = make_runtime(strategy, gate, tmp_path, start=at(9, 35))
    yield strategy, gate, runtime
    runtime.finish()


def test_get_orders_is_iterable_and_a_mapping_with_anded_filters(trading):
    strategy, gate, _ = trading
    a = strategy.order("600000.XSHG", 100, LimitOrderStyle(8.0))
    b = strategy.order("000001.XSHE", 100, LimitOrderStyle(9.8))
    c = strategy.order("000001.SZ", -100, LimitOrderStyle(10.5))
    strategy.sync_orders()
    gate.fill(a)
    strategy.sync_orders()

    view = strategy.get_orders()
    assert [o.order_id for o in view] == [a, b, c]  # iterating gives orders
    assert [o.status for o in view] == ["filled", "open", "open"]
    assert list(view.keys()) == [a, b, c] and len(view) == 3
    assert dict(view.items())[a].filled_amount == 100
    assert [o.code for o in view.values()] == ["600000.XSHG", "000001.XSHE", "000001.XSHE"]
    assert view[a].status is OrderStatus.filled and view[int(b)].order_id == b
    assert a in view and "999999" not in view
    with pytest.raises(OrderNotFoundError, match="999999"):
        view["999999"]

    def ids(**filters: Any) -> list[str]:
        return [o.order_id for o in strategy.get_orders(**filters)]

    assert ids(code="000001.XSHE") == [b, c] == ids(code="000001.SZ")
    assert ids(status="open") == [b, c] == ids(status=OrderStatus.open) == ids(status="OPEN")
    assert ids(status=OrderStatus.filled) == [a] == ids(status="filled")
    assert ids(code="000001.XSHE", status="filled") == []  # AND, not OR
    assert ids(code="600000.XSHG", status="filled") == [a]
    assert ids(order_id=b) == [b] and ids(order_id=int(b)) == [b]
    assert ids(order_id=b, status="filled") == [] and ids(order_id=b, code="600000.XSHG") == []
    with pytest.raises(UnknownOrderStatusError, match="done"):
        strategy.get_orders(status="done")


def test_order_snapshot_has_every_user_attribute(trading):
    strategy, gate, _ = trading
    oid = strategy.order("600000.SH", 200, LimitOrderStyle(8.0))
    strategy.sync_orders()
    gate.fill(oid, 100, 7.95)
    strategy.sync_orders()
    o = strategy.get_orders()[oid]
    assert (o.order_id, o.code, o.side, o.action, o.style, o.order_price) == (
        oid,
        "600000.XSHG",
        "long",
        "open",
        LimitOrderStyle(8.0),
        8.0,
    )
    assert (o.status, o.amount, o.filled_amount, o.canceled_amount) == ("filling", 200, 100, 0)
    assert (o.avg_price, o.deal_balance, o.commission, o.err_msg) == (7.95, 795.0, 0.0, "")
    assert o.create_time == at(9, 35) and o.entrust_time == at(9, 35)
    assert o.broker_order_id == gate.order_report(oid).broker_order_id


# --- portfolio and positions ---------------------------------------------------------------


def test_portfolio_and_position_aliases(trading):
    strategy, gate, runtime = trading
    portfolio = runtime.context.portfolio
    assert portfolio.total_value == portfolio.total_assert == 100_000 + 1550 * 10.0 + 250 * 50.0
    assert (portfolio.available_cash, portfolio.locked_cash) == (100_000, 0)
    assert portfolio.positions is portfolio.long_positions and len(portfolio.short_positions) == 0
    assert sorted(portfolio.long_positions) == ["000001.XSHE", "688001.XSHG"]
    pos = portfolio.long_positions["000001.XSHE"]
    assert pos.security == pos.code == "000001.XSHE" and pos.side == "long"
    assert pos.total_amount == 1550 and pos.closeable_amount == pos.available_amount == 1050
    assert pos.avg_cost == pos.acc_avg_cost == 9.5
    assert pos.last_price == pos.price == 10.0 and pos.position_value == pos.value == 15_500.0
    assert portfolio.long_positions["000001.SZ"] == pos
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        pos.total_amount = 0

    # A code not held: zeros, not a KeyError; `in` and get() still say "not held".
    empty = portfolio.long_positions["600000.XSHG"]
    assert (empty.code, empty.total_amount, empty.closeable_amount, empty.available_amount) == (
        "600000.XSHG",
        0,
        0,
        0,
    )
    assert (empty.avg_cost, empty.acc_avg_cost, empty.price, empty.value) == (0, 0, 0, 0)
    assert (
        "600000.XSHG" not in portfolio.long_positions
        and portfolio.long_positions.get("600000.XSHG") is None
    )
    assert portfolio.short_positions["000001.XSHE"].total_amount == 0

    # Freezing cash by a working buy shows after the next balance sync.
    strategy.order("600000.XSHG", 1000, LimitOrderStyle(8.0))
    strategy.sync_orders()
    synced = strategy.sync_balance()
    assert synced is runtime.context.portfolio
    assert (synced.available_cash, synced.locked_cash) == (92_000, 8_000)


def test_order_target_and_order_value(trading):
    strategy, gate, _ = trading
    assert strategy.order_target("000001.XSHE", 1550, LimitOrderStyle(10)) is None  # already there
    sell = strategy.order_target("000001.XSHE", 1000, LimitOrderStyle(10))
    assert (
        strategy.get_orders()[sell].amount == 550 and strategy.get_orders()[sell].action == "close"
    )
    buy = strategy.order_target("600000.XSHG", 300, LimitOrderStyle(8))
    assert strategy.get_orders()[buy].amount == 300
    with pytest.raises(OrderRejectedError, match="-5") as info:
        strategy.order_target("600000.XSHG", -5)
    assert info.value.reason == "bad_amount"

    value_buy = strategy.order_value("600000.XSHG", 10_050, LimitOrderStyle(8.0))  # 1256 -> 1200
    assert strategy.get_orders()[value_buy].amount == 1200
    star = strategy.order_value(
        "688001.XSHG", 10_010, LimitOrderStyle(50.0)
    )  # STAR: 200, steps of 1
    assert strategy.get_orders()[star].amount == 200
    value_sell = strategy.order_value("000001.XSHE", -2_000, LimitOrderStyle(10.0))
    assert (
        strategy.get_orders()[value_sell].action == "close"
        and strategy.get_orders()[value_sell].amount == 200
    )
    for style in (None, MarketOrderStyle(), LimitOrderStyle(0)):
        with pytest.raises(OrderRejectedError, match="LimitOrderStyle") as info:
            strategy.order_value("600000.XSHG", 10_000, style)
        assert info.value.reason == "need_limit_price"
    with pytest.raises(OrderRejectedError, match="500") as info:
        strategy.order_value("600000.XSHG", 500, LimitOrderStyle(8.0))
    assert info.value.reason == "value_too_small"
    with pytest.raises(OrderRejectedError, match="nan") as info:
        strategy.order_value("600000.XSHG", math.nan, LimitOrderStyle(8.0))
    assert info.value.reason == "bad_amount"


# --- every refused input: class API raises, legacy API logs and returns None ---------------

#: (code, amount, style, side) -> reason, text the message must contain (the bad value).
BAD_ORDERS = [
    pytest.param(("600000", 100, None, "long"), "bad_code", "'600000'", id="no-suffix"),
    pytest.param(("600000.XSHX", 100, None, "long"), "bad_code", "XSHX", id="bad-suffix"),
    pytest.param(("60000.XSHG", 100, None, "long"), "bad_code", "60000.XSHG", id="five-digits"),
    pytest.param(("830799.BJ", 100, None, "long"), "bad_code", "830799.BJ", id="beijing"),
    pytest.param((600000, 100, None, "long"), "bad_code", "600000", id="int-code"),
    pytest.param(
        ("000001.XSHG", 100, LimitOrderStyle(10), "long"),
        "unsupported_security",
        "000001.XSHG",
        id="index",
    ),
    pytest.param(("600000.XSHG", 0, None, "long"), "bad_amount", "0", id="zero"),
    pytest.param(("600000.XSHG", 100.5, None, "long"), "bad_amount", "100.5", id="fraction"),
    pytest.param(("600000.XSHG", "100", None, "long"), "bad_amount", "'100'", id="str-amount"),
    pytest.param(("600000.XSHG", True, None, "long"), "bad_amount", "True", id="bool-amount"),
    pytest.param(("600000.XSHG", 150, LimitOrderStyle(8), "long"), "bad_lot", "150", id="main-lot"),
    pytest.param(
        ("300750.XSHE", 50, LimitOrderStyle(200), "long"), "bad_lot", "50", id="chinext-lot"
    ),
    pytest.param(
        ("688001.XSHG", 199, LimitOrderStyle(50), "long"), "bad_lot", "199", id="star-min"
    ),
    pytest.param(
        ("000001.XSHE", -30, LimitOrderStyle(10), "long"), "odd_lot_sell", "30", id="odd-sell"
    ),
    pytest.param(
        ("688001.XSHG", -150, LimitOrderStyle(50), "long"),
        "odd_lot_sell",
        "150",
        id="star-odd-sell",
    ),
    pytest.param(
        ("600000.XSHG", 100, LimitOrderStyle(-1), "long"), "bad_price", "-1", id="negative-price"
    ),
    pytest.param(
        ("600000.XSHG", 100, LimitOrderStyle(math.nan), "long"), "bad_price", "nan", id="nan-price"
    ),
    pytest.param(
        ("600000.XSHG", 100, LimitOrderStyle(8.001), "long"), "bad_tick", "8.001", id="stock-tick"
    ),
    pytest.param(
        ("510300.XSHG", 100, LimitOrderStyle(3.0005), "long"), "bad_tick", "3.0005", id="fund-tick"
    ),
    pytest.param(
        ("000001.XSHE", -1100, LimitOrderStyle(10), "long"),
        "not_enough_closeable",
        "1100",
        id="t-plus-1",
    ),
    pytest.param(
        ("600000.XSHG", 20_000, LimitOrderStyle(8), "long"),
        "not_enough_cash",
        "20000",
        id="cash-limit",
    ),
    pytest.param(
        ("000001.XSHE", 20_000, MarketOrderStyle(), "long"),
        "not_enough_cash",
        "20000",
        id="cash-market",
    ),
    pytest.param(("600000.XSHG", 100, None, "short"), "short_not_supported", "short", id="short"),
    pytest.param(("600000.XSHG", 100, None, "buy"), "bad_side", "buy", id="bad-side"),
    pytest.param(
        ("600000.XSHG", 100, 8.0, "long"), "bad_style", "LimitOrderStyle(8.0)", id="number-style"
    ),
]


@pytest.mark.parametrize("args, reason, shown", BAD_ORDERS)
def test_class_api_refuses_bad_order_with_reason_and_value(trading, args, reason, shown):
    strategy, gate, _ = trading
    with pytest.raises(OrderRejectedError) as info:
        strategy.order(*args)
    assert info.value.reason == reason
    assert shown in str(info.value) and f"[{reason}]" in str(info.value)
    assert isinstance(info.value, ValueError)
    assert gate.peek_orders() == [] and len(strategy.get_orders()) == 0  # nothing sent or recorded


def test_legacy_api_logs_and_returns_none_for_every_bad_order(tmp_path, caplog):
    gate = standard_gate()
    runtime, module = legacy_runtime(tmp_path, gate)
    for param in BAD_ORDERS:
        args, reason, shown = param.values
        caplog.clear()
        with caplog.at_level(logging.ERROR, logger="strategy"):
            assert module.order(*args) is None, param.id
        (record,) = [r for r in caplog.records if r.name == "strategy"]
        assert f"[{reason}]" in record.getMessage() and shown in record.getMessage(), param.id
    assert gate.peek_orders() == [] and len(module.get_orders()) == 0
    assert module.order_value("600000.XSHG", 10_000) is None
    assert "need_limit_price" in caplog.records[-1].getMessage()
    assert module.cancel_order("424242") is None
    assert "424242" in caplog.records[-1].getMessage()
    assert module.get_orders(status="done") is None
    runtime.finish()


def test_accepted_forms_are_normalised(trading):
    strategy, gate, _ = trading
    ids = [
        strategy.order("600000.SH", 100, LimitOrderStyle(8.0)),
        strategy.order(" 000001.sz ", -550, LimitOrderStyle(10)),  # sells the odd remainder too
        strategy.order("000001.XSHE", -500, LimitOrderStyle(0)),  # price 0: best counterparty
        strategy.order("688001.XSHG", 201, LimitOrderStyle(50.01)),
        strategy.order("510300.XSHG", 100, LimitOrderStyle(3.001)),
        strategy.order("300750.XSHE", 100, MarketOrderStyle(), side="LONG"),
        strategy.order("600000.XSHG", 100),  # no style: market
    ]
    rows = {row.order_id: row for row in gate.peek_orders()}
    assert [rows[i].code for i in ids] == [
        "600000.XSHG",
        "000001.XSHE",
        "000001.XSHE",
        "688001.XSHG",
        "510300.XSHG",
        "300750.XSHE",
        "600000.XSHG",
    ]
    assert [rows[i].amount for i in ids] == [100, 550, 500, 201, 100, 100, 100]
    assert strategy.get_orders()[ids[-1]].style == MarketOrderStyle()


def test_disabled_checks_option_turns_one_check_off(tmp_path):
    gate = standard_gate()
    strategy = Trader(disabled_checks=["bad_lot", "not_enough_cash"])
    make_runtime(strategy, gate, tmp_path, start=at(9, 35))
    odd = strategy.order("600000.XSHG", 150, LimitOrderStyle(8.0))
    big = strategy.order("600000.XSHG", 100_000, LimitOrderStyle(8.0))
    assert {row.order_id for row in gate.peek_orders()} == {odd, big}
    with pytest.raises(OrderRejectedError) as info:  # other checks still on
        strategy.order("000001.XSHE", -30, LimitOrderStyle(10))
    assert info.value.reason == "odd_lot_sell"
    strategy.sync_orders()  # the broker does the cash check now
    refused = strategy.get_orders()[big]
    assert refused.status == "rejected" and "可用资金不足" in refused.err_msg
    with pytest.raises(OptionValueError, match="bad_code"):
        Options().evolve({"disabled_checks": ["bad_code"]})


def test_side_short_is_refused_in_batch_too(trading):
    strategy, gate, _ = trading
    assert strategy.batch_submit_orders(
        [{"code": "600000.XSHG", "amount": 100, "side": "short"}]
    ) == [None]
    assert gate.peek_orders() == []


# --- batch and cancel ----------------------------------------------------------------------


def test_batch_submit_skips_bad_entries_and_keeps_going(trading, caplog):
    strategy, gate, _ = trading
    caplog.set_level(logging.ERROR, logger="jqtrade.account")
    ids = strategy.batch_submit_orders(
        [
            {"code": "600000.XSHG", "amount": 100, "style": LimitOrderStyle(8.0)},
            {"code": "600000.XSHG", "amount": 150, "style": LimitOrderStyle(8.0)},  # bad lot
            {"code": "000001.XSHE", "amount": -100, "style": LimitOrderStyle(10)},
            "600000.XSHG 100",  # not a dict
            {"code": "600000.XSHG"},  # no amount
            {"code": "600000.XSHG", "amount": 100, "price": 8.0},  # unknown key
            {"code": "600000.XSHG", "amount": 100, "side": "short"},
            {"code": "000001.SZ", "amount": 200},
        ]
    )
    assert [i is None for i in ids] == [False, True, False, True, True, True, True, False]
    good = [i for i in ids if i is not None]
    assert len(set(good)) == 3 and [row.order_id for row in gate.peek_orders()] == good
    messages = " ".join(r.getMessage() for r in caplog.records)
    for position in (2, 4, 5, 6, 7):
        assert f"第 {position} 项" in messages
    assert "price" in messages


def test_batch_submit_survives_a_gate_failure_in_the_middle(trading):
    strategy, gate, _ = trading
    first = strategy.order("600000.XSHG", 100, LimitOrderStyle(8.0))
    gate.fail_next_orders(1, "柜台断线")
    ids = strategy.batch_submit_orders(
        [
            {"code": "600000.XSHG", "amount": 100, "style": LimitOrderStyle(8.0)},
            {"code": "600000.XSHG", "amount": 200, "style": LimitOrderStyle(8.0)},
        ]
    )
    assert ids[0] is None and ids[1] is not None
    failed = [o for o in strategy.get_orders(status="rejected")]
    assert len(failed) == 1 and "柜台断线" in failed[0].err_msg and failed[0].amount == 100
    assert [row.order_id for row in gate.peek_orders()] == [first, ids[1]]


def test_batch_cancel_and_cancel_of_unknown_or_final_orders(trading, caplog):
    strategy, gate, _ = trading
    a = strategy.order("600000.XSHG", 100, LimitOrderStyle(8.0))
    b = strategy.order("600000.XSHG", 200, LimitOrderStyle(8.0))
    c = strategy.order("600000.XSHG", 300, LimitOrderStyle(8.0))
    strategy.sync_orders()
    gate.fill(c)
    strategy.sync_orders()
    with caplog.at_level(logging.ERROR, logger="jqtrade.account"):
        strategy.batch_cancel_orders([a, "777777", int(b), c])
    assert "777777" in caplog.text
    assert [o.status for o in strategy.get_orders()] == ["canceling", "canceling", "filled"]
    strategy.sync_orders()
    assert [o.status for o in strategy.get_orders()] == ["canceled", "canceled", "filled"]
    assert [u.status for u in strategy.updates if u.order_id == a] == [
        "open",
        "canceling",
        "canceled",
    ]
    strategy.cancel_order(c)  # final: nothing to do, no error
    with pytest.raises(OrderNotFoundError, match="888888"):
        strategy.cancel_order("888888")


def test_cancel_before_the_broker_answered(trading):
    strategy, gate, _ = trading
    oid = strategy.order("600000.XSHG", 100, LimitOrderStyle(8.0))
    strategy.cancel_order(oid)  # still "new" locally: the broker decides
    assert strategy.get_orders()[oid].status == "new"
    strategy.sync_orders()
    assert strategy.get_orders()[oid].status == "canceled"


def test_gate_error_on_order_raises_in_class_api_and_is_recorded(trading):
    strategy, gate, _ = trading
    gate.fail_next_orders(1, "交易接口未登录")
    with pytest.raises(GateError, match="交易接口未登录"):
        strategy.order("600000.XSHG", 100, LimitOrderStyle(8.0))
    (order,) = strategy.get_orders()
    assert order.status == "rejected" and "交易接口未登录" in order.err_msg
    assert strategy.updates[-1].status == "rejected"
    assert gate.peek_orders() == []


# --- account switched off ------------------------------------------------------------------


class NoAccount(Strategy):
    def process_initialize(self, context) -> None:
        pass


def test_account_api_without_account_says_how_to_turn_it_on(tmp_path):
    strategy = NoAccount()
    runtime = Runtime(
        strategy,
        clock=SimClock(at(9, 35)),
        options=Options().evolve({"runtime_dir": str(tmp_path)}),
    )
    runtime.initialize()
    calls = [
        lambda: strategy.order("600000.XSHG", 100),
        lambda: strategy.cancel_order("1"),
        lambda: strategy.get_orders(),
        lambda: strategy.batch_submit_orders([]),
        lambda: strategy.batch_cancel_orders([]),
        lambda: strategy.order_target("600000.XSHG", 100),
        lambda: strategy.order_value("600000.XSHG", 1000, LimitOrderStyle(8)),
        lambda: strategy.sync_balance(),
        lambda: strategy.sync_orders(),
        lambda: runtime.context.portfolio,
    ]
    for call in calls:
        with pytest.raises(AccountDisabledError) as info:
            call()
        assert "set_options(account_no=" in str(info.value) and "use_account=True" in str(
            info.value
        )


def test_legacy_api_without_account_logs_how_to_turn_it_on(tmp_path, caplog):
    path = tmp_path / "no_account.py"
    path.write_text("def process_initialize(context):\n    pass\n", encoding="utf-8")
    strategy = load_strategy(path)
    Runtime(
        strategy,
        clock=SimClock(at(9, 35)),
        options=Options().evolve({"runtime_dir": str(tmp_path)}),
    ).initialize()
    with caplog.at_level(logging.ERROR, logger="strategy"):
        assert strategy.module.order("600000.XSHG", 100) is None
    assert "use_account=True" in caplog.text


def test_builtin_fake_gate_by_option(tmp_path):
    strategy = Trader(trade_gate="fake")
    runtime = Runtime(
        strategy,
        clock=SimClock(at(9, 35)),
        options=Options().evolve({"runtime_dir": str(tmp_path)}),
    )
    _STARTED.append(runtime)
    runtime.initialize()
    assert isinstance(runtime.account.gate, FakeTradeGate)
    oid = strategy.order("600000.XSHG", 100, LimitOrderStyle(8.0))
    strategy.sync_orders()
    assert strategy.get_orders()[oid].status == "open"
    runtime.finish()


# --- sync in the loop ----------------------------------------------------------------------


def test_sync_interval_legacy_spelling_period_and_switches(tmp_path):
    gate = CountingGate(cash=10_000)
    strategy = Trader(sync_internal=120, sync_period=[("10:00:00", "10:30:00")])
    runtime = make_runtime(strategy, gate, tmp_path)
    assert runtime.options.sync_interval == 120
    runtime.run(until=at(15, 30))
    start, *balance = gate.balance_calls
    assert start == at(8, 50)  # the first sync when the account starts
    assert balance == [at(10, 0).add(seconds=120 * i) for i in range(16)]
    assert gate.order_calls[0] == at(8, 50)
    assert all(at(10, 0) <= t <= at(10, 30) for t in gate.order_calls[1:])
    runtime.finish()

    quiet = CountingGate(cash=10_000)
    make_runtime(Trader(sync_balance=False, sync_order=False), quiet, tmp_path / "quiet").run(
        until=at(15, 30)
    )
    assert quiet.balance_calls == [] and quiet.order_calls == []


def test_failing_sync_keeps_last_good_state_marked_stale(trading, caplog):
    strategy, gate, runtime = trading
    before = runtime.context.portfolio
    assert not before.is_stale and before.stale_reason is None
    oid = strategy.order("600000.XSHG", 100, LimitOrderStyle(8.0))

    gate.fail_next_syncs(2, "资金文件不存在")
    with caplog.at_level(logging.WARNING, logger="jqtrade.account"):
        stale = strategy.sync_balance()
        strategy.sync_orders()
    assert stale.is_stale and "资金文件不存在" in stale.stale_reason
    assert runtime.context.portfolio is stale
    # the same snapshot; only the order's reservation (100 x 8.00 + fees) is laid over it
    assert (stale.total_value, stale.as_of, stale.last_sync_time) == (
        before.total_value,
        before.as_of,
        before.last_sync_time,
    )
    assert stale.available_cash == pytest.approx(before.available_cash - 800 - 5 - 0.01)
    assert stale.long_positions["000001.XSHE"] == before.long_positions["000001.XSHE"]
    assert strategy.get_orders()[oid].status == "new"  # the failed order sync changed nothing
    assert caplog.text.count("资金文件不存在") == 2

    fresh = strategy.sync_balance()
    strategy.sync_orders()
    assert not fresh.is_stale and strategy.get_orders()[oid].status == "open"


def test_loop_survives_failing_syncs_and_orders_of_others(tmp_path):
    gate = standard_gate()

    def place(context) -> None:
        strategy.placed = strategy.order("600000.XSHG", 100, LimitOrderStyle(8.0))
        gate.add_external_order("600000.XSHG", "open", 300, 7.9)  # another program, no jqtrade id
        gate.add_external_order(
            "000001.XSHE", "close", 100, 10.5, order_id="OTHER-1", status="filled"
        )
        gate.fail_next_syncs(6)

    def fill(context) -> None:
        gate.fill(strategy.placed)

    strategy = Trader(
        jobs=[
            (place, "09:40"),
            (fill, "09:45"),
            (lambda c: strategy.ran.append(c.current_dt), "10:00"),
        ]
    )
    runtime = make_runtime(strategy, gate, tmp_path)
    runtime.run(until=at(10, 1))
    assert runtime.loop.errors == 0 and strategy.ran == [at(10, 0)]
    assert [o.order_id for o in strategy.get_orders()] == [strategy.placed]
    assert strategy.get_orders()[strategy.placed].status == "filled"
    assert not runtime.context.portfolio.is_stale
    assert len(gate.peek_orders()) == 3
    runtime.finish()


class Grumpy(Trader):
    def on_order_update(self, context, order) -> None:
        super().on_order_update(context, order)
        raise RuntimeError("用户回调出错了")


def test_exception_in_on_order_update_is_logged_and_the_loop_goes_on(tmp_path, caplog):
    gate = standard_gate()

    def place(context) -> None:
        strategy.placed = [
            strategy.order("600000.XSHG", 100, LimitOrderStyle(8.0)) for _ in range(2)
        ]

    def fill(context) -> None:
        for oid in strategy.placed:
            gate.fill(oid)

    strategy = Grumpy(
        jobs=[
            (place, "09:40"),
            (fill, "09:45"),
            (lambda c: strategy.ran.append(c.current_dt), "10:00"),
        ]
    )
    runtime = make_runtime(strategy, gate, tmp_path)
    with caplog.at_level(logging.ERROR, logger="jqtrade.loop"):
        runtime.run(until=at(10, 1))
    assert strategy.ran == [at(10, 0)]
    # Both orders were updated despite the hook raising on the first; on_trade still ran.
    assert [o.status for o in strategy.get_orders()] == ["filled", "filled"]
    assert [t.order_id for t in strategy.trades] == strategy.placed
    assert [u.status for u in strategy.updates] == ["open", "open", "filled", "filled"]
    errors = [
        r
        for r in caplog.records
        if r.name == "jqtrade.loop" and "on_order_update" in r.getMessage()
    ]
    assert len(errors) == 4 and errors[0].exc_info[0] is RuntimeError
    runtime.finish()


def test_on_callback_error_stop_stops_on_a_failing_order_hook(tmp_path):
    gate = standard_gate()

    def place(context) -> None:
        strategy.order("600000.XSHG", 100, LimitOrderStyle(8.0))

    strategy = Grumpy(
        jobs=[(place, "09:40"), (lambda c: strategy.ran.append(c.current_dt), "10:00")],
        on_callback_error="stop",
    )
    runtime = make_runtime(strategy, gate, tmp_path)
    runtime.run(until=at(10, 1))
    assert strategy.ran == [] and isinstance(runtime.loop.failed, RuntimeError)
    assert runtime.loop.stop_reason == "callback_error"
    runtime.finish()
