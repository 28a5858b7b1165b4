"""jqtrade 1.0 and JoinQuant names, in process (issue 10, items 3, 4, 5 and 11).

Legacy (function-style) scripts get 1.0's behaviour; the class API stays typed and strict.
The end-to-end form of the same items is in ``tests/legacy`` (scripts run with the CLI).
"""

from __future__ import annotations

import datetime
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import pendulum
import pytest

from jqtrade import (
    LimitOrderStyle,
    MarketOrderStyle,
    OrderNotFoundError,
    OrderRejectedError,
    OrderSide,
    OrderStatus,
    Strategy,
    TimeExpressionError,
)
from jqtrade.account.order import OrderSnapshot, OrdersView
from jqtrade.account.portfolio import Portfolio, Position, Positions
from jqtrade.clock import MARKET_TZ, SimClock
from jqtrade.gates.fake import FakeTradeGate
from jqtrade.legacy import LegacyOrder, LegacyTrade, naive_beijing
from jqtrade.loader import load_strategy
from jqtrade.options import Options
from jqtrade.runtime import Runtime

DAY = datetime.date(2024, 6, 3)  # a Monday, a trading day


def at(hour: int, minute: int = 0, second: int = 0) -> pendulum.DateTime:
    return pendulum.datetime(DAY.year, DAY.month, DAY.day, hour, minute, second, tz=MARKET_TZ)


# Loading a strategy file changes sys.path and sys.modules; tests/conftest.py undoes it.
pytestmark = pytest.mark.usefixtures("restore_sys_path")

_STARTED: list[Runtime] = []


@pytest.fixture(autouse=True)
def finish_runtimes():
    yield
    while _STARTED:
        _STARTED.pop().finish()


def gate() -> FakeTradeGate:
    return FakeTradeGate(
        cash=1_000_000,
        positions={"000001.XSHE": {"total_amount": 1000, "avg_cost": 9.5}},
        prices={"000001.XSHE": 10.0, "600000.XSHG": 8.0, "601318.XSHG": 8.6, "000002.XSHE": 20.0},
    )


def run(
    strategy: Strategy, broker: FakeTradeGate, tmp_path: Path, start: pendulum.DateTime
) -> Runtime:
    options = Options().evolve({"runtime_dir": str(tmp_path / "runtime")})
    runtime = Runtime(
        strategy, clock=SimClock(start), options=options, gate_factory=lambda opts: broker
    )
    _STARTED.append(runtime)
    runtime.initialize()
    return runtime


ACCOUNT_SCRIPT = """\
updates = []
trades = []


def process_initialize(context):
    set_options(use_account=True)


def on_order_update(context, order):
    updates.append(order)


def on_trade(context, trade):
    trades.append(trade)
"""


def legacy(
    tmp_path: Path, source: str = ACCOUNT_SCRIPT, broker: Any = None, start: Any = None
) -> tuple[Runtime, Any]:
    """Load ``source`` as a strategy file and start it; returns the runtime and the script's globals."""
    path = tmp_path / "legacy_script.py"
    path.write_text(source, encoding="utf-8")
    strategy = load_strategy(path)
    runtime = run(strategy, broker or gate(), tmp_path, start or at(9, 35))
    return runtime, strategy.module  # type: ignore[attr-defined]


class Trader(Strategy):
    def process_initialize(self, context) -> None:
        self.set_options(use_account=True)


# --- item 3: get_orders() loops, order objects where ids go --------------------------------


def test_the_1x_loop_over_get_orders_cancels_every_order(tmp_path):
    runtime, script = legacy(tmp_path)
    ids = [
        script.order("000002.XSHE", 100, LimitOrderStyle(19.0)),
        script.order("600000.XSHG", 100, LimitOrderStyle(7.5)),
    ]
    script.sync_orders()
    for oid in script.get_orders():  # jqtrade 1.x: the loop gave ids
        script.cancel_order(oid)
    script.sync_orders()
    assert [script.get_orders()[oid].status for oid in ids] == [OrderStatus.canceled] * 2


def test_the_seed_loop_over_order_objects_cancels_every_order(tmp_path):
    runtime, script = legacy(tmp_path)
    ids = [
        script.order("000002.XSHE", 100, LimitOrderStyle(19.0)),
        script.order("600000.XSHG", 100, LimitOrderStyle(7.5)),
    ]
    for _order in script.get_orders():
        script.cancel_order(_order.order_id)
    script.sync_orders()
    assert all(script.get_orders()[oid].status == "canceled" for oid in ids)


def test_class_api_cancel_order_and_lookups_take_the_order_object(tmp_path):
    strategy = Trader()
    run(strategy, gate(), tmp_path, at(9, 35))
    first = strategy.order("000002.XSHE", 100, LimitOrderStyle(19.0))
    second = strategy.order("600000.XSHG", 100, LimitOrderStyle(7.5))
    orders = strategy.get_orders()
    snapshot = orders[first]
    assert orders[snapshot] is snapshot and orders.get(snapshot) is snapshot and snapshot in orders
    assert strategy.get_orders(order_id=snapshot).keys() == [first]
    strategy.cancel_order(snapshot)
    strategy.batch_cancel_orders([orders[second]])
    strategy.sync_orders()
    assert [strategy.get_orders()[oid].status for oid in (first, second)] == [
        OrderStatus.canceled
    ] * 2


def test_a_missing_order_is_a_key_error_with_a_readable_message(tmp_path):
    strategy = Trader()
    run(strategy, gate(), tmp_path, at(9, 35))
    with pytest.raises(KeyError) as info:
        strategy.get_orders()["no-such-order"]
    assert isinstance(info.value, OrderNotFoundError)
    assert str(info.value).startswith(
        "找不到订单 'no-such-order'"
    )  # not quoted like a plain KeyError
    with pytest.raises(LookupError):
        strategy.cancel_order("no-such-order")


def test_legacy_get_orders_keeps_the_mapping_api(tmp_path):
    runtime, script = legacy(tmp_path)
    oid = script.order("000002.XSHE", 100, LimitOrderStyle(19.0))
    orders = script.get_orders()
    assert orders.keys() == [oid] and len(orders) == 1 and oid in orders
    assert [o.order_id for o in orders.values()] == [oid] and orders.items()[0][0] == oid
    assert orders[orders[oid]] == orders[oid] and orders[oid] in orders
    try:
        orders["missing"]
    except KeyError:
        pass
    else:
        pytest.fail("get_orders()[missing] must raise a KeyError")


# --- item 4: naive Beijing datetimes in legacy scripts -------------------------------------


def test_naive_beijing_converts_from_any_zone():
    new_york = pendulum.datetime(2024, 6, 2, 22, 0, tz="America/New_York")
    value = naive_beijing(new_york)
    assert type(value) is datetime.datetime and value.tzinfo is None
    assert value == datetime.datetime(2024, 6, 3, 10, 0)
    assert naive_beijing(value) == value


TIMES_SCRIPT = """\
import datetime

seen = {}


def process_initialize(context):
    seen["init"] = context.current_dt
    run_daily(job, "10:00")


def job(context):
    seen["job_context_is_global"] = context is globals()["context"]
    seen["now"] = context.current_dt
    seen["strategy_dt"] = context.strategy_dt
    seen["minutes_since_open"] = (context.current_dt - datetime.datetime(2024, 6, 3, 9, 30)).total_seconds() // 60
"""


def test_legacy_context_times_are_naive_beijing_datetimes(tmp_path):
    runtime, script = legacy(tmp_path, TIMES_SCRIPT, start=at(9, 0))
    runtime.run(until=at(10, 1))
    seen = script.seen
    for key in ("init", "now", "strategy_dt"):
        assert type(seen[key]) is datetime.datetime and seen[key].tzinfo is None, key
    assert seen["init"] == datetime.datetime(2024, 6, 3, 9, 0)
    assert seen["strategy_dt"] == datetime.datetime(2024, 6, 3, 10, 0)
    assert seen["minutes_since_open"] == 30 and seen["job_context_is_global"] is True
    assert script.context.strategy_dt is None  # outside a job


def test_class_api_context_keeps_aware_pendulum_times(tmp_path):
    seen: dict[str, Any] = {}

    class Timed(Strategy):
        def process_initialize(self, context) -> None:
            self.run_daily(self.job, "10:00")

        def job(self, context) -> None:
            seen["now"], seen["strategy_dt"] = context.current_dt, context.strategy_dt

    runtime = Runtime(
        Timed(), clock=SimClock(at(9, 0)), options=Options().evolve({"runtime_dir": str(tmp_path)})
    )
    runtime.initialize()
    runtime.run(until=at(10, 1))
    assert isinstance(seen["now"], pendulum.DateTime) and seen["now"].tzinfo is not None
    assert seen["strategy_dt"] == at(10, 0)


def test_legacy_orders_and_trades_have_naive_times(tmp_path):
    broker = gate()
    runtime, script = legacy(tmp_path, broker=broker)
    oid = script.order("000002.XSHE", 100, LimitOrderStyle(20.0))
    order = script.get_orders()[oid]
    assert isinstance(order, LegacyOrder)
    assert type(order.create_time) is datetime.datetime and order.create_time == datetime.datetime(
        2024, 6, 3, 9, 35
    )
    broker.fill(oid)
    script.sync_orders()
    update, trade = script.updates[-1], script.trades[-1]
    assert isinstance(update, LegacyOrder) and update.status == "filled"
    assert update.create_time.tzinfo is None
    assert (
        isinstance(trade, LegacyTrade) and trade.amount == 100 and trade.security == "000002.XSHE"
    )
    assert trade.time is None or trade.time.tzinfo is None
    class_snapshot = runtime.account.get_orders()[oid]
    assert (
        isinstance(class_snapshot, OrderSnapshot) and class_snapshot.create_time.tzinfo is not None
    )


# --- item 5: names 1.0 injected or documented -----------------------------------------------


def test_market_and_limit_styles_speak_1x():
    assert MarketOrderStyle(0) == MarketOrderStyle(price=0) == MarketOrderStyle()
    assert MarketOrderStyle().price == 0 and MarketOrderStyle().value == "market"
    assert LimitOrderStyle(9.5).price == 9.5 and LimitOrderStyle(9.5).value == "limit"
    assert repr(MarketOrderStyle(0)) == "MarketOrderStyle()"


def test_a_market_style_with_a_price_warns_that_it_is_ignored(caplog):
    with caplog.at_level(logging.WARNING, logger="jqtrade"):
        style = MarketOrderStyle(10.5)
    assert style.price == 0
    assert any(
        "LimitOrderStyle" in r.getMessage() and "10.5" in r.getMessage() for r in caplog.records
    )


def test_position_and_portfolio_1x_names():
    position = Position(
        code="000001.XSHE",
        total_amount=300,
        closeable_amount=200,
        avg_cost=9.5,
        position_value=3000.0,
    )
    assert position.amount == 300 and position.hold_cost == 9.5
    portfolio = Portfolio(
        long_positions=Positions(
            [position, Position(code="600000.XSHG", total_amount=100, position_value=800.0)]
        )
    )
    assert portfolio.position_value == portfolio.positions_value == 3800.0


INJECTED_SCRIPT = """\
def helper():
    return context.current_dt  # the module-global context, as jqtrade 1.x injected it


def process_initialize(context):
    set_options(use_account=True)
    global seen
    seen = {"helper_now": helper(), "status": OrderStatus.open, "side": OrderSide.long}
"""


def test_legacy_scripts_get_context_order_status_and_side_as_globals(tmp_path):
    runtime, script = legacy(tmp_path, INJECTED_SCRIPT)
    assert script.seen["helper_now"] == datetime.datetime(2024, 6, 3, 9, 35)
    assert script.seen["status"] is OrderStatus.open and script.seen["side"] is OrderSide.long


def test_legacy_orders_have_1x_and_joinquant_names(tmp_path):
    broker = gate()
    runtime, script = legacy(tmp_path, broker=broker)
    market = script.order("600000.XSHG", 100, MarketOrderStyle(), side=None)  # side=None: long
    limit = script.order("000002.XSHE", 100, LimitOrderStyle(20.0))
    broker.fill(limit, price=19.9)
    script.sync_orders()
    orders = script.get_orders()
    assert orders[market].order_price == 0 and orders[market].side == "long"
    filled = orders[limit]
    assert (
        filled.order_price == 20.0 and filled.price == filled.avg_cost == filled.avg_price == 19.9
    )
    assert filled.filled == 100 and filled.security == "000002.XSHE"
    # the class API keeps its own meaning: no price for a market order
    assert runtime.account.get_orders()[market].order_price is None


def test_class_api_side_none_is_still_refused(tmp_path):
    strategy = Trader()
    run(strategy, gate(), tmp_path, at(9, 35))
    with pytest.raises(OrderRejectedError, match="side"):
        strategy.order("600000.XSHG", 100, LimitOrderStyle(8.0), side=None)  # type: ignore[arg-type]


def test_legacy_batch_orders_with_side_none_are_long(tmp_path):
    runtime, script = legacy(tmp_path)
    ids = script.batch_submit_orders(
        [{"code": "600000.XSHG", "amount": 100, "style": LimitOrderStyle(8.0), "side": None}]
    )
    assert ids[0] is not None and script.get_orders()[ids[0]].side == "long"


def test_1x_import_paths_work_in_a_fresh_interpreter():
    """Importing ``jqtrade.account.trade_gate`` first must not meet an import cycle."""
    code = (
        "from jqtrade.account.trade_gate import AbsTradeGate as A\n"
        "from jqtrade.account import AbsTradeGate as B\n"
        "from jqtrade.account.order import OrderStatus, OrderSide, LimitOrderStyle, MarketOrderStyle\n"
        "import jqtrade\n"
        "assert A is B is jqtrade.AbsTradeGate\n"
        "assert MarketOrderStyle is jqtrade.MarketOrderStyle and OrderSide.short.value == 'short'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


# --- item 11: JoinQuant habits --------------------------------------------------------------


def test_an_initialize_only_script_runs_initialize_once_with_a_warning(tmp_path, caplog):
    source = "def initialize(context):\n    g.ran = getattr(g, 'ran', 0) + 1\n    run_daily(tick, 'open')\n\n\ndef tick(context):\n    g.ticks = getattr(g, 'ticks', 0) + 1\n"
    with caplog.at_level(logging.WARNING, logger="jqtrade"):
        runtime, script = legacy(tmp_path, source, start=at(9, 0))
    runtime.run(until=at(9, 31))
    assert script.g.ran == 1 and script.g.ticks == 1
    assert any(
        "initialize" in r.getMessage() and "process_initialize" in r.getMessage()
        for r in caplog.records
    )


def test_initialize_beside_process_initialize_is_not_run_and_says_so(tmp_path, caplog):
    source = "ran = []\n\n\ndef initialize(context):\n    ran.append('initialize')\n\n\ndef process_initialize(context):\n    ran.append('process_initialize')\n"
    with caplog.at_level(logging.WARNING, logger="jqtrade"):
        runtime, script = legacy(tmp_path, source)
    assert script.ran == ["process_initialize"]
    assert any("initialize 不会被调用" in r.getMessage() for r in caplog.records)


def test_every_bar_suggests_every_minute_in_the_class_api(tmp_path):
    class Bars(Strategy):
        def process_initialize(self, context) -> None:
            self.run_daily(lambda ctx: None, "every_bar")

    with pytest.raises(TimeExpressionError, match="every_bar 在 jqtrade 中写作 'every_minute'"):
        Runtime(
            Bars(),
            clock=SimClock(at(9, 0)),
            options=Options().evolve({"runtime_dir": str(tmp_path)}),
        ).initialize()


def test_every_bar_runs_every_minute_in_a_legacy_script_with_a_warning(tmp_path, caplog):
    source = "bars = []\n\n\ndef process_initialize(context):\n    run_daily(bar, 'every_bar')\n\n\ndef bar(context):\n    bars.append(context.strategy_dt)\n"
    with caplog.at_level(logging.WARNING, logger="jqtrade"):
        runtime, script = legacy(tmp_path, source, start=at(9, 0))
    runtime.run(until=at(9, 40))
    assert script.bars[0] == datetime.datetime(2024, 6, 3, 9, 30) and len(script.bars) == 11
    assert [
        r
        for r in caplog.records
        if "every_bar" in r.getMessage() and "every_minute" in r.getMessage()
    ]


def test_reference_security_is_accepted_and_ignored_with_one_warning(tmp_path, caplog):
    ran: list[Any] = []

    class Referenced(Strategy):
        def process_initialize(self, context) -> None:
            self.run_daily(
                lambda ctx: ran.append(ctx.strategy_dt), "open", reference_security="000300.XSHG"
            )
            self.run_weekly(lambda ctx: None, 1, "close", reference_security="000300.XSHG")
            self.run_monthly(lambda ctx: None, 1, "close", reference_security="000300.XSHG")

    with caplog.at_level(logging.WARNING, logger="jqtrade"):
        runtime = Runtime(
            Referenced(),
            clock=SimClock(at(9, 0)),
            options=Options().evolve({"runtime_dir": str(tmp_path)}),
        )
        runtime.initialize()
    runtime.run(until=at(9, 31))
    assert ran == [at(9, 30)]
    assert len([r for r in caplog.records if "reference_security" in r.getMessage()]) == 1


def test_order_target_value_buys_whole_lots_up_to_the_value(tmp_path):
    strategy = Trader()
    run(strategy, gate(), tmp_path, at(9, 35))
    oid = strategy.order_target_value("601318.XSHG", 20000, LimitOrderStyle(8.6))
    assert (
        oid is not None and strategy.get_orders()[oid].amount == 2300
    )  # 20000 / 8.6 = 2325 -> 23 lots
    assert (
        strategy.order_target_value("601318.XSHG", 20000, LimitOrderStyle(8.6)) is None
    )  # already working
    sell = strategy.order_target_value(
        "000001.XSHE", 5000, LimitOrderStyle(10.0)
    )  # holds 1000, target 500
    assert (
        sell is not None
        and strategy.get_orders()[sell].amount == 500
        and not strategy.get_orders()[sell].is_buy
    )
    with pytest.raises(OrderRejectedError, match="need_limit_price"):
        strategy.order_target_value("601318.XSHG", 20000)


def test_legacy_order_functions_take_joinquant_argument_names(tmp_path):
    runtime, script = legacy(tmp_path)
    by_value = script.order_value(security="600000.XSHG", value=10000, style=LimitOrderStyle(8.0))
    by_target = script.order_target(security="000002.XSHE", amount=200, style=LimitOrderStyle(20.0))
    by_target_value = script.order_target_value(
        security="601318.XSHG", value=20000, style=LimitOrderStyle(8.6)
    )
    plain = script.order(security="600000.XSHG", amount=100, style=LimitOrderStyle(8.0))
    ours = script.order_target(code="000002.XSHE", target_amount=300, style=LimitOrderStyle(20.0))
    orders = script.get_orders()
    assert [orders[oid].amount for oid in (by_value, by_target, by_target_value, plain, ours)] == [
        1200,
        200,
        2300,
        100,
        100,
    ]
    with pytest.raises(TypeError, match="security"):
        script.order_value(
            code="600000.XSHG", security="600000.XSHG", value=1000, style=LimitOrderStyle(8.0)
        )


def test_orders_view_of_wrapped_orders_behaves_like_the_class_view(tmp_path):
    strategy = Trader()
    run(strategy, gate(), tmp_path, at(9, 35))
    oid = strategy.order("000002.XSHE", 100, LimitOrderStyle(19.0))
    view = OrdersView(LegacyOrder(s) for s in strategy.get_orders())
    assert view.select(status="new").keys() == [oid] and view.select(code="000002.XSHE").keys() == [
        oid
    ]
    assert view[oid] == view[strategy.get_orders()[oid]]


def test_a_class_file_with_an_initialize_function_stays_a_class_strategy(tmp_path):
    path = tmp_path / "class_with_initialize.py"
    path.write_text(
        "from jqtrade import Strategy\n\n\ndef initialize(context):\n    raise AssertionError('not run')\n\n\n"
        "class Mine(Strategy):\n    def process_initialize(self, context):\n        pass\n",
        encoding="utf-8",
    )
    strategy = load_strategy(path)
    assert type(strategy).__name__ == "Mine"
