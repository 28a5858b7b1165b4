"""Pre-trade checks that need prices: ``security_paused``, ``beyond_price_limit``, and sizing
``order_value`` / ``order_target_value`` at the last price for orders priced at best.

First ``check_order`` on its own with a quote, then the account inside a runtime whose market
data is a small cache (``tests/bar_fixtures.py``) on a simulated clock: the prices come from the
cache as of the clock, and without data nothing is refused for want of it.
"""

from __future__ import annotations

import datetime
import logging
import math
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, Optional

import attrs
import bar_fixtures as bf
import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from jqtrade import LimitOrderStyle, MarketOrderStyle, OrderRejectedError, Strategy
from jqtrade.account.checks import check_order
from jqtrade.clock import MARKET_TZ, SimClock
from jqtrade.context import Context
from jqtrade.gates.fake import FakeTradeGate
from jqtrade.model.reasons import DISABLEABLE_CHECKS, REASONS
from jqtrade.model.rules import day_limits
from jqtrade.options import Options
from jqtrade.runtime import Runtime

DAY = datetime.date(2024, 6, 5)
NOW = pendulum.datetime(2024, 6, 5, 9, 35, tz=MARKET_TZ)
NAN = math.nan


@attrs.frozen
class Quote:
    """A hand-written quote in the shape the checks read (``PriceQuote``)."""

    last_price: float = 10.0
    high_limit: float = 11.0
    low_limit: float = 9.0
    paused: bool = False
    time: Optional[datetime.datetime] = NOW
    stale: bool = False
    reason: Optional[str] = None


def test_the_codes_are_reasons_and_can_be_turned_off():
    for code in ("security_paused", "beyond_price_limit"):
        assert code in REASONS and code in DISABLEABLE_CHECKS


# --- check_order with a quote ----------------------------------------------------------------


def test_a_limit_above_the_limit_up_is_refused_naming_price_limits_and_code():
    with pytest.raises(OrderRejectedError) as info:
        check_order("600000.XSHG", 100, LimitOrderStyle(11.01), quote=Quote())
    assert info.value.reason == "beyond_price_limit"
    message = str(info.value)
    assert "600000.XSHG" in message and "11.01" in message
    assert "9.0" in message and "11.0" in message and "涨停价" in message


def test_a_sell_below_the_limit_down_is_refused_too():
    with pytest.raises(OrderRejectedError) as info:
        check_order("600000.XSHG", -100, LimitOrderStyle(8.99), quote=Quote())
    assert info.value.reason == "beyond_price_limit" and "跌停价" in str(info.value)


def test_the_limits_themselves_and_orders_at_best_pass():
    for price in (9.0, 11.0, 10.0):
        check_order("600000.XSHG", 100, LimitOrderStyle(price), quote=Quote())
    check_order("600000.XSHG", 100, LimitOrderStyle(0), quote=Quote())
    check_order("600000.XSHG", 100, MarketOrderStyle(), quote=Quote())


def test_an_unknown_limit_skips_its_side_only():
    check_order("600000.XSHG", 100, LimitOrderStyle(50.0), quote=Quote(high_limit=NAN))
    with pytest.raises(OrderRejectedError):
        check_order("600000.XSHG", 100, LimitOrderStyle(5.0), quote=Quote(high_limit=NAN))


def test_a_paused_security_is_refused_for_buys_and_sells():
    for amount in (100, -100):
        with pytest.raises(OrderRejectedError) as info:
            check_order("000001.XSHE", amount, None, quote=Quote(paused=True))
        assert info.value.reason == "security_paused" and "000001.XSHE" in str(info.value)


def test_both_checks_can_be_disabled():
    disabled = frozenset({"security_paused", "beyond_price_limit"})
    check_order(
        "600000.XSHG", 100, LimitOrderStyle(20.0), quote=Quote(paused=True), disabled=disabled
    )


def test_no_quote_means_no_refusal():
    check_order("600000.XSHG", 100, LimitOrderStyle(999.0))


@given(
    low=st.integers(min_value=1, max_value=100_000),
    width=st.integers(min_value=0, max_value=100_000),
    price=st.integers(min_value=1, max_value=300_000),
)
def test_exactly_the_prices_outside_the_limits_are_refused(low: int, width: int, price: int):
    # Cents, so every price is on the tick: only the limit check can refuse.
    quote = Quote(low_limit=low / 100, high_limit=(low + width) / 100)
    outside = not low <= price <= low + width
    try:
        check_order("600000.XSHG", 100, LimitOrderStyle(price / 100), quote=quote)
        refused = False
    except OrderRejectedError as exc:
        assert exc.reason == "beyond_price_limit"
        refused = True
    assert refused == outside


# --- the account in a runtime over a cache ---------------------------------------------------


class Trader(Strategy):
    def __init__(self, **options: Any) -> None:
        self.options = options

    def process_initialize(self, context: Context) -> None:
        self.set_options(use_account=True, **self.options)


_RUNNING: list[Runtime] = []


@pytest.fixture(autouse=True)
def _finish_runtimes() -> Iterator[None]:
    yield
    while _RUNNING:
        _RUNNING.pop().finish()


def start(tmp_path: Path, *, cache: bool = True, **options: Any) -> tuple[Trader, FakeTradeGate]:
    """A running account at 09:35 on 2024-06-05 (finished after the test)."""
    runtime_dir = tmp_path / "runtime"
    if cache:
        bf.fill_runtime_dir(runtime_dir)
    gate = FakeTradeGate(
        cash=1_000_000, positions={bf.RISING: 1000}, prices={bf.RISING: 7.0, bf.PAUSED: 10.0}
    )
    strategy = Trader(**options)
    runtime = Runtime(
        strategy,
        clock=SimClock(NOW),
        options=Options(runtime_dir=str(runtime_dir)),
        gate_factory=lambda opts: gate,
    )
    _RUNNING.append(runtime)
    runtime.initialize()
    return strategy, gate


def limits_today() -> tuple[Decimal, Decimal]:
    limits = day_limits(bf.RISING, bf.daily_close(bf.RISING, datetime.date(2024, 6, 4)), DAY)
    assert limits is not None
    return limits


def test_the_account_refuses_a_limit_beyond_todays_limits(tmp_path: Path):
    strategy, gate = start(tmp_path)
    low, high = limits_today()
    with pytest.raises(OrderRejectedError) as info:
        strategy.order(bf.RISING, 100, LimitOrderStyle(round(float(high) + 0.01, 2)))
    assert info.value.reason == "beyond_price_limit" and str(high) in str(info.value)
    with pytest.raises(OrderRejectedError):
        strategy.order(bf.RISING, -100, LimitOrderStyle(round(float(low) - 0.01, 2)))
    strategy.order(bf.RISING, 100, LimitOrderStyle(float(high)))  # at the limit: sent
    assert len(strategy.get_orders()) == 1


def test_the_account_refuses_a_paused_security(tmp_path: Path):
    strategy, _ = start(tmp_path)
    with pytest.raises(OrderRejectedError) as info:
        strategy.order(bf.PAUSED, 100, LimitOrderStyle(10.2))
    assert info.value.reason == "security_paused"


def test_disabled_checks_let_the_broker_decide(tmp_path: Path):
    strategy, _ = start(tmp_path, disabled_checks=["beyond_price_limit", "security_paused"])
    strategy.order(bf.RISING, 100, LimitOrderStyle(99.0))
    strategy.order(bf.PAUSED, 100, LimitOrderStyle(10.2))
    assert len(strategy.get_orders()) == 2


def test_order_value_at_best_sizes_at_the_last_price(tmp_path: Path):
    strategy, _ = start(tmp_path)
    last = float(bf.minute_close(DAY, 4))  # the minute bar that ended at 09:35
    for style in (MarketOrderStyle(), LimitOrderStyle(0), None):
        order_id = strategy.order_value(bf.RISING, 10_000, style)
        assert order_id is not None
        assert strategy.get_orders()[order_id].amount == int(10_000 // last) // 100 * 100


def test_order_target_value_at_best_sizes_at_the_last_price(tmp_path: Path):
    strategy, _ = start(tmp_path)
    last = float(bf.minute_close(DAY, 4))
    target = strategy.order_target_value(bf.RISING, 1000 * last + 5000, MarketOrderStyle())
    assert target is not None
    wanted = int((1000 * last + 5000) // last) // 100 * 100  # holds 1000 shares
    assert strategy.get_orders()[target].amount == wanted - 1000


def test_without_data_nothing_is_refused_and_the_skip_is_said_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    strategy, _ = start(tmp_path, cache=False)
    with caplog.at_level(logging.INFO, logger="jqtrade.account"):
        strategy.order(bf.RISING, 100, LimitOrderStyle(99.0))
        strategy.order(bf.PAUSED, 100, LimitOrderStyle(10.2))
        with pytest.raises(OrderRejectedError) as info:
            strategy.order_value(bf.RISING, 10_000, MarketOrderStyle())
    assert info.value.reason == "need_limit_price"
    skipped = [
        r
        for r in caplog.records
        if r.name == "jqtrade.account" and r.levelno == logging.INFO and "跳过" in r.getMessage()
    ]
    assert len(skipped) == 1
    assert not (tmp_path / "runtime" / "data").exists()  # no empty cache was made
    assert strategy.order_value(bf.RISING, 7_000, LimitOrderStyle(7.0)) is not None


def test_a_code_the_cache_does_not_have_is_not_refused(tmp_path: Path):
    strategy, _ = start(tmp_path)
    strategy.order("600036.XSHG", 100, LimitOrderStyle(500.0))
    with pytest.raises(OrderRejectedError) as info:
        strategy.order_value("600036.XSHG", 10_000, MarketOrderStyle())
    assert info.value.reason == "need_limit_price" and "600036.XSHG" in str(info.value)
