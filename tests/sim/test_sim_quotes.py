"""Paper trading on live quotes: the simulated broker prices orders from a data source."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from decimal import Decimal
from typing import Optional

import pendulum

from jqtrade.clock import MARKET_TZ
from jqtrade.data.errors import DataSourceUnavailableError
from jqtrade.data.models import Bar, BarUnit, Quote
from jqtrade.data.source import AbsDataSource
from jqtrade.model.orders import OrderAction, OrderStatus
from jqtrade.model.reports import OrderReport, TradeReport
from jqtrade.sim import PriceFeed, SimBroker
from jqtrade.sim.broker import NewOrder
from jqtrade.sim.quotes import QuoteMarket

T0 = pendulum.datetime(2024, 6, 3, 10, 0, tz=MARKET_TZ)
CODE = "600000.XSHG"


class Quotes(AbsDataSource):
    """A live source whose last price the test sets; ``down`` makes it fail like a network."""

    name = "test"
    native_units = frozenset({BarUnit.d1})

    def __init__(self) -> None:
        self.last: dict[str, Decimal] = {CODE: Decimal("10.00")}
        self.down = False
        self.asked = 0

    def fetch_bars(
        self, code: str, unit: BarUnit, start: pendulum.DateTime, end: pendulum.DateTime
    ) -> list[Bar]:
        return []

    def fetch_quotes(self, codes: Sequence[str], now: pendulum.DateTime) -> dict[str, Quote]:
        self.asked += 1
        if self.down:
            raise DataSourceUnavailableError(self.name, "连接超时")
        return {
            code: Quote(
                code=code,
                time=now,
                last=self.last[code],
                open=Decimal("9.90"),
                high=Decimal("10.20"),
                low=Decimal("9.80"),
                pre_close=Decimal("9.95"),
            )
            for code in codes
            if code in self.last
        }


def _broker(source: Optional[AbsDataSource]) -> SimBroker:
    return SimBroker(QuoteMarket(lambda: source, PriceFeed(seed=1)), cash=100_000)


def _fills(broker: SimBroker) -> list[TradeReport]:
    return [u for u in broker.drain() if isinstance(u, TradeReport)]


def test_a_limit_buy_fills_only_when_the_live_price_comes_down_to_it() -> None:
    source = Quotes()
    broker = _broker(source)
    broker.submit(
        NewOrder(
            order_id="1", code=CODE, action=OrderAction.open, amount=100, price=Decimal("9.50")
        ),
        T0,
    )
    broker.advance(T0.add(seconds=1))
    assert _fills(broker) == []
    source.last[CODE] = Decimal("9.40")
    broker.advance(T0.add(seconds=10))  # past the quote's 3 s life: asked again
    fills = _fills(broker)
    assert [(f.amount, f.price) for f in fills] == [
        (100, Decimal("9.41"))
    ]  # the ask: last + a tick


def test_the_balance_is_valued_at_the_live_price_and_prev_close_is_the_quotes() -> None:
    source = Quotes()
    market = QuoteMarket(lambda: source, PriceFeed(seed=1))
    assert market.price(CODE, T0) == Decimal("10.00")
    assert market.prev_close(CODE, T0.date()) == Decimal("9.95")


def test_quotes_are_kept_for_a_few_seconds() -> None:
    source = Quotes()
    market = QuoteMarket(lambda: source, PriceFeed(seed=1))
    for second in range(3):
        market.price(CODE, T0.add(seconds=second))
    assert source.asked == 1
    market.price(CODE, T0.add(seconds=3))
    assert source.asked == 2


def test_without_a_source_or_when_it_fails_the_walk_prices_and_the_log_says_so(caplog) -> None:
    walk = PriceFeed(seed=1)
    with caplog.at_level(logging.WARNING, logger="jqtrade.sim"):
        none = QuoteMarket(lambda: None, PriceFeed(seed=1))
        assert none.price(CODE, T0) == walk.price(CODE, T0)
        source = Quotes()
        source.down = True
        failing = QuoteMarket(lambda: source, PriceFeed(seed=1))
        assert failing.price(CODE, T0) == walk.price(CODE, T0)
        failing.price(CODE, T0.add(seconds=5))
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2  # once per market and code, not once per price
    assert "随机行情" in warnings[0] and "连接超时" in warnings[1]


def test_a_source_named_later_is_used_from_then_on() -> None:
    holder: dict[str, AbsDataSource] = {}
    broker = SimBroker(QuoteMarket(lambda: holder.get("source"), PriceFeed(seed=1)), cash=100_000)
    holder["source"] = Quotes()
    broker.submit(
        NewOrder(
            order_id="1", code=CODE, action=OrderAction.open, amount=100, price=Decimal("10.01")
        ),
        T0,
    )
    broker.advance(T0.add(seconds=1))
    reports = [u for u in broker.drain() if isinstance(u, OrderReport)]
    assert reports[-1].status is OrderStatus.filled
    assert reports[-1].avg_price == Decimal("10.01")


def test_a_live_sim_broker_without_todays_bars_trades_on_the_strategys_quotes(tmp_path) -> None:
    from jqtrade.clock import SimClock
    from jqtrade.tasks.runner import TaskSpec, _sim_market

    source = Quotes()
    spec = TaskSpec(name="paper", code=tmp_path / "s.py", broker="sim")
    market = _sim_market(spec, SimClock(T0), tmp_path, lambda: source)
    assert isinstance(market, QuoteMarket)
    assert market.price(CODE, T0) == Decimal("10.00")
    simulated = TaskSpec(
        name="paper", code=tmp_path / "s.py", broker="sim", simulate=(T0.date(), T0.date())
    )
    assert (
        _sim_market(simulated, SimClock(T0), tmp_path, lambda: source) is None
    )  # the walk, said in the log
