"""The simulated broker on real bars: BarMarket's prices, the fill rules, and the sample script."""

from __future__ import annotations

import datetime
import logging
import pickle
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sample_support import write_sample

from jqtrade.clock import MARKET_TZ
from jqtrade.data import BarCache, CacheSource
from jqtrade.data.models import Bar, BarUnit
from jqtrade.data.sessions import bar_times
from jqtrade.model.orders import OrderAction, OrderStatus
from jqtrade.model.reports import OrderReport, TradeReport
from jqtrade.model.rules import day_limits, tick_size
from jqtrade.sim import NewOrder, PriceFeed, SimBroker
from jqtrade.sim.bars import BarMarket, market_for_run

BUY, SELL = OrderAction.open, OrderAction.close
CODE = "600000.XSHG"
DAY = datetime.date(2024, 6, 4)  # a Tuesday; the day before closed at 10.00: limits 9.00 / 11.00
PREV = datetime.date(2024, 6, 3)
MINUTES = bar_times(DAY, BarUnit.m1)


def at(hh: int, mm: int, ss: int = 0, day: datetime.date = DAY) -> pendulum.DateTime:
    return pendulum.datetime(day.year, day.month, day.day, hh, mm, ss, tz=MARKET_TZ)


def bar(
    unit: str, when: pendulum.DateTime, o: str, h: str, lo: str, c: str, volume: int = 100_000
) -> Bar:
    return Bar.create(
        code=CODE, unit=unit, time=when, open=o, high=h, low=lo, close=c, volume=volume
    )


def minute_day(
    special: dict[int, tuple[str, str, str, str, int]], base: str = "10.00"
) -> list[Bar]:
    """A day of flat minute bars at ``base`` (volume 100,000), with ``special`` ones by index."""
    out = []
    for i, end in enumerate(MINUTES):
        o, h, lo, c, v = special.get(i, (base, base, base, base, 100_000))
        out.append(bar("1m", end, o, h, lo, c, v))
    return out


@pytest.fixture
def cache(tmp_path: Path):  # type: ignore[no-untyped-def]
    with BarCache(tmp_path / "bars.sqlite") as opened:
        opened.write([bar("1d", at(15, 0, day=PREV), "10", "10", "10", "10")], source="test")
        yield opened


def broker_on(cache: BarCache, cash: float = 1_000_000, **options: Any) -> SimBroker:
    broker = SimBroker(BarMarket(cache, PriceFeed(volatility=0)), cash, **options)
    broker.open_day(DAY)
    return broker


def order(
    order_id: str, action: OrderAction, amount: int, price: str = "0", code: str = CODE
) -> NewOrder:
    return NewOrder(
        order_id=order_id, code=code, action=action, amount=amount, price=Decimal(price)
    )


def trades(broker: SimBroker) -> list[TradeReport]:
    return [u for u in broker.drain() if isinstance(u, TradeReport)]


def run(broker: SimBroker, *orders: NewOrder, at_time: pendulum.DateTime, until: pendulum.DateTime):  # type: ignore[no-untyped-def]
    for o in orders:
        assert broker.submit(o, at_time) == ""
    broker.advance(at_time)
    now = at_time
    while now < until:
        now = now.add(minutes=1)
        broker.advance(now)


# -- BarMarket ------------------------------------------------------------------------------


def test_prices_come_from_the_minute_bars_ended_by_now(cache: BarCache) -> None:
    cache.write(
        minute_day(
            {
                0: ("10.10", "10.20", "10.05", "10.15", 1000),
                29: ("10.30", "10.40", "10.30", "10.35", 1000),
            }
        )
    )
    market = BarMarket(cache, PriceFeed())
    assert market.prev_close(CODE, DAY) == Decimal("10.00")
    assert market.price(CODE, at(9, 0)) == Decimal("10.00")  # before the open: the previous close
    assert market.price(CODE, at(9, 30)) == Decimal("10.10")  # the open, before the first bar ends
    assert market.price(CODE, at(9, 31)) == Decimal("10.15")
    assert market.price(CODE, at(10, 0)) == Decimal("10.35")  # the bar ending 10:00
    assert market.price(CODE, at(10, 0, 59)) == Decimal("10.35")
    day = market.day(CODE, DAY)
    assert day is not None and (day.low_limit, day.high_limit) == day_limits(CODE, Decimal(10), DAY)


def test_with_only_daily_bars_the_day_is_its_open_then_its_close(cache: BarCache) -> None:
    cache.write([bar("1d", at(15, 0), "10.20", "10.50", "9.90", "10.40")])
    market = BarMarket(cache, PriceFeed())
    assert [market.price(CODE, t) for t in (at(9, 0), at(9, 30), at(14, 59), at(15, 0))] == [
        Decimal("10.00"),
        Decimal("10.20"),
        Decimal("10.20"),
        Decimal("10.40"),
    ]
    friday = datetime.date(2024, 6, 7)
    cache.write([bar("1d", at(15, 0, day=friday), "10.40", "10.60", "10.30", "10.55")])
    saturday = pendulum.datetime(2024, 6, 8, 12, tz=MARKET_TZ)
    assert BarMarket(cache, PriceFeed()).price(CODE, saturday) == Decimal("10.55")  # Friday's close


def test_the_broker_sees_the_prices_the_strategy_sees(tmp_path: Path) -> None:
    sample = write_sample(
        tmp_path / "bars.sqlite",
        codes=["600000.XSHG", "511880.XSHG"],
        start=datetime.date(2024, 6, 3),
        end=datetime.date(2024, 6, 7),
        minute=[datetime.date(2024, 6, 5)],
    )
    with BarCache(sample.path) as cache:
        market, source = BarMarket(cache, PriceFeed()), CacheSource(cache)
        for code in sample.codes:
            for day in sample.days[1:]:
                for hh, mm in ((9, 0), (9, 30), (9, 45), (11, 30), (13, 1), (14, 59), (15, 0)):
                    now = at(hh, mm, day=day)
                    quote = source.get_quotes([code], now=now)[code]
                    assert market.price(code, now) == quote.last, (code, now)
                    assert market.prev_close(code, day) == quote.pre_close
                    limits = market.day(code, day)
                    assert limits is not None and limits.high_limit == quote.high_limit


def test_a_code_without_bars_falls_back_with_one_warning(
    cache: BarCache, caplog: pytest.LogCaptureFixture
) -> None:
    feed = PriceFeed(seed=3)
    market = BarMarket(cache, feed)
    with caplog.at_level(logging.WARNING, logger="jqtrade.sim"):
        for minute in range(5):
            assert market.price("000001.XSHE", at(10, minute)) == feed.price(
                "000001.XSHE", at(10, minute)
            )
        assert market.prev_close("000001.XSHE", DAY) == feed.prev_close("000001.XSHE", DAY)
        market.price("300750.XSHE", at(10, 0))
    warned = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [("000001.XSHE" in r.getMessage(), "300750.XSHE" in r.getMessage()) for r in warned] == [
        (True, False),
        (False, True),
    ]


def test_market_for_run_says_when_it_falls_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log = logging.getLogger("test.sim.bars")
    with caplog.at_level(logging.INFO, logger="test.sim.bars"):
        assert market_for_run(tmp_path / "missing.sqlite", DAY, DAY, logger=log) is None
        assert not (tmp_path / "missing.sqlite").exists()  # looking does not create it
        write_sample(tmp_path / "bars.sqlite", codes=[CODE], start=PREV, end=DAY)
        assert (
            market_for_run(
                tmp_path / "bars.sqlite",
                datetime.date(2025, 1, 2),
                datetime.date(2025, 1, 3),
                logger=log,
            )
            is None
        )
        market = market_for_run(
            tmp_path / "bars.sqlite", DAY, datetime.date(2024, 12, 31), logger=log
        )
    assert market is not None
    market.cache.close()
    assert [r.levelno for r in caplog.records] == [logging.WARNING, logging.WARNING, logging.INFO]


# -- fill rules -----------------------------------------------------------------------------


def test_a_limit_buy_fills_at_its_limit_when_a_bar_trades_through_it(cache: BarCache) -> None:
    # 10:01 opens 10.05 and dips to 9.95: a buy at 9.98 fills at 9.98
    cache.write(minute_day({30: ("10.05", "10.06", "9.95", "10.00", 100_000)}, base="10.05"))
    broker = broker_on(cache)
    run(broker, order("b", BUY, 1000, "9.98"), at_time=at(10, 0), until=at(10, 5))
    assert [(t.amount, t.price, t.time) for t in trades(broker)] == [
        (1000, Decimal("9.98"), at(10, 1))
    ]


def test_a_bar_opening_through_the_limit_fills_at_its_open(cache: BarCache) -> None:
    cache.write(minute_day({30: ("9.90", "9.92", "9.85", "9.90", 100_000)}, base="10.05"))
    broker = broker_on(cache)
    run(broker, order("b", BUY, 1000, "9.98"), at_time=at(10, 0), until=at(10, 2))
    assert [t.price for t in trades(broker)] == [Decimal("9.90")]


def test_a_sell_fills_when_the_high_reaches_its_limit(cache: BarCache) -> None:
    cache.write(
        minute_day(
            {
                30: ("10.00", "10.12", "10.00", "10.02", 100_000),
                31: ("10.20", "10.20", "10.15", "10.15", 100_000),
            }
        )
    )
    broker = SimBroker(BarMarket(cache, PriceFeed()), 100_000, positions={CODE: 2000})
    broker.open_day(DAY)
    run(
        broker,
        order("s1", SELL, 1000, "10.10"),
        order("s2", SELL, 1000, "10.18"),
        at_time=at(10, 0),
        until=at(10, 3),
    )
    assert [(t.order_id, t.price, t.time) for t in trades(broker)] == [
        ("s1", Decimal("10.10"), at(10, 1)),
        ("s2", Decimal("10.20"), at(10, 2)),  # opened above its limit: the better price
    ]


def test_a_priced_at_best_order_fills_at_the_next_bar_open(cache: BarCache) -> None:
    cache.write(
        minute_day(
            {
                29: ("10.00", "10.08", "10.00", "10.08", 100_000),
                30: ("10.11", "10.15", "10.02", "10.04", 100_000),
            }
        )
    )
    broker = broker_on(cache)
    run(broker, order("b", BUY, 500), at_time=at(10, 0), until=at(10, 3))
    assert [(t.price, t.time) for t in trades(broker)] == [(Decimal("10.11"), at(10, 1))]


def test_each_bar_fills_at_most_its_share_of_volume_across_orders(cache: BarCache) -> None:
    cache.write([bar("1m", end, "10.00", "10.00", "10.00", "10.00", 1000) for end in MINUTES])
    broker = broker_on(cache, volume_ratio=0.5)
    run(
        broker,
        order("a", BUY, 700, "10.00"),
        order("b", BUY, 300, "10.00"),
        at_time=at(10, 0),
        until=at(10, 4),
    )
    fills = [(t.order_id, t.amount, t.time.minute) for t in trades(broker)]
    # 500 a bar: "a" takes 500, then the rest 200 and "b" 300 share the next bar
    assert fills == [("a", 500, 1), ("a", 200, 2), ("b", 300, 2)]


def test_a_cap_below_one_lot_waits_for_a_bigger_bar(cache: BarCache) -> None:
    cache.write(minute_day({30: ("10", "10", "10", "10", 300), 31: ("10", "10", "10", "10", 4000)}))
    broker = broker_on(
        cache
    )  # 0.25: 75 shares of the first bar (less than a lot), 1000 of the next
    run(broker, order("b", BUY, 400, "10.00"), at_time=at(10, 0), until=at(10, 2))
    assert [(t.amount, t.time.minute) for t in trades(broker)] == [(400, 2)]


def test_no_buy_fills_at_the_limit_up_and_no_sell_at_the_limit_down(cache: BarCache) -> None:
    sealed_up = ("11.00", "11.00", "11.00", "11.00", 100_000)
    sealed_down = ("9.00", "9.00", "9.00", "9.00", 100_000)
    cache.write(minute_day({30: sealed_up, 31: sealed_up, 32: sealed_down, 33: sealed_down}))
    broker = SimBroker(BarMarket(cache, PriceFeed()), 1_000_000, positions={CODE: 1000})
    broker.open_day(DAY)
    assert broker.submit(order("b", BUY, 100, "11.00"), at(10, 0)) == ""
    for minute in range(6):
        if minute == 2:  # after the limit-up bars, before the limit-down ones
            assert broker.submit(order("s", SELL, 100, "9.00"), at(10, 2)) == ""
        broker.advance(at(10, minute))
    fills = [(t.order_id, t.price, t.time.minute) for t in trades(broker)]
    # the buy waits out 10:01 and 10:02 (sealed at the limit-up) and buys in the first bar at the
    # limit-down; the sell waits out 10:03 and 10:04 (sealed at the limit-down)
    assert fills == [("b", Decimal("9.00"), 3), ("s", Decimal("10.00"), 5)]


def test_nothing_trades_on_a_paused_day(cache: BarCache) -> None:
    cache.write([bar("1d", at(15, 0, day=datetime.date(2024, 6, 5)), "10", "10", "10", "10")])
    broker = broker_on(cache)  # 2024-06-04: no bars between two days with bars
    run(broker, order("b", BUY, 100, "10.50"), at_time=at(10, 0), until=at(10, 10))
    updates = broker.drain()
    assert not [u for u in updates if isinstance(u, TradeReport)]
    final = [u for u in updates if isinstance(u, OrderReport)][-1]
    assert final.status is OrderStatus.rejected and "停牌" in final.err_msg


def test_fees_follow_the_options(cache: BarCache) -> None:
    cache.write(minute_day({}))
    broker = SimBroker(
        BarMarket(cache, PriceFeed()),
        1_000_000,
        positions={CODE: 10_000},
        commission_rate=0.0003,
        min_commission=1,
        stamp_tax_rate=0.001,
    )
    broker.open_day(DAY)
    run(
        broker,
        order("b", BUY, 1000, "10.00"),
        order("s", SELL, 5000, "10.00"),
        at_time=at(10, 0),
        until=at(10, 1),
    )
    fees = {t.order_id: t.commission for t in trades(broker)}
    assert fees == {"b": Decimal("3.00"), "s": Decimal("15.00") + Decimal("50.00")}
    assert broker.cash == Decimal(1_000_000) - 10_000 - 3 + 50_000 - 65


def test_a_daily_bar_is_met_once_at_its_open_price(cache: BarCache) -> None:
    cache.write([bar("1d", at(15, 0), "10.20", "10.50", "9.90", "10.40", 1_000_000)])
    broker = broker_on(cache)
    run(
        broker,
        order("best", BUY, 1000),
        order("low", BUY, 1000, "9.95"),
        order("never", BUY, 100, "9.80"),
        at_time=at(9, 35),
        until=at(14, 0),
    )
    assert [(t.order_id, t.price) for t in trades(broker)] == [
        ("best", Decimal("10.20")),
        ("low", Decimal("9.95")),
    ]


def test_without_a_bar_market_the_random_walk_matching_is_unchanged() -> None:
    broker = SimBroker(PriceFeed(0, {CODE: 10.0}, volatility=0), 100_000)
    broker.open_day(DAY)
    run(broker, order("b", BUY, 300, "10.5"), at_time=at(10, 0), until=at(10, 0))
    assert [(t.amount, t.price) for t in trades(broker)] == [(300, Decimal("10.01"))]


# -- properties -----------------------------------------------------------------------------


@st.composite
def day_of_bars(draw: st.DrawFn) -> list[Bar]:
    bars = []
    price = 1000  # cents
    for end in MINUTES[25:45]:
        o = min(max(price + draw(st.integers(-15, 15)), 900), 1100)
        c = min(max(o + draw(st.integers(-15, 15)), 900), 1100)
        h = min(max(o, c) + draw(st.integers(0, 10)), 1100)
        lo = max(min(o, c) - draw(st.integers(0, 10)), 900)
        volume = draw(st.sampled_from([0, 100, 350, 1000, 5000, 40_000]))
        bars.append(bar("1m", end, *(str(Decimal(x) / 100) for x in (o, h, lo, c)), volume))
        price = c
    return bars


orders_st = st.lists(
    st.tuples(
        st.integers(0, 19),  # the minute (from 09:55) it is sent
        st.booleans(),  # buy
        st.integers(1, 30).map(lambda lots: lots * 100),
        st.one_of(st.just(0), st.integers(920, 1080)),  # 0: priced at best
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(bars=day_of_bars(), sent=orders_st, ratio=st.sampled_from([0.1, 0.25, 1.0]))
def test_fills_stay_inside_bars_volume_and_cash(
    tmp_path_factory: pytest.TempPathFactory,
    bars: list[Bar],
    sent: list[tuple[int, bool, int, int]],
    ratio: float,
) -> None:
    folder = tmp_path_factory.mktemp("bars")
    with BarCache(folder / "bars.sqlite") as cache:
        cache.write([bar("1d", at(15, 0, day=PREV), "10", "10", "10", "10")])
        cache.write(bars)
        start_cash, start_shares = Decimal(200_000), 2000
        broker = SimBroker(
            BarMarket(cache, PriceFeed()),
            200_000,
            positions={CODE: start_shares},
            volume_ratio=ratio,
        )
        broker.open_day(DAY)
        by_end = {b.time: b for b in bars}
        schedule = defaultdict(list)
        for n, (minute, buy, amount, cents) in enumerate(sent):
            schedule[minute].append(
                order(f"o{n}", BUY if buy else SELL, amount, str(Decimal(cents) / 100))
            )
        fills: list[TradeReport] = []
        now = at(9, 55)
        for minute in range(25):
            for o in schedule.get(minute, []):
                broker.submit(o, now)
            broker.advance(now)
            fills += [u for u in broker.drain() if isinstance(u, TradeReport)]
            assert broker.available_cash >= 0
            now = now.add(minutes=1)
        taken: dict[pendulum.DateTime, int] = defaultdict(int)
        cash = start_cash
        shares = start_shares
        for t in fills:
            source = by_end[t.time]
            assert source.low <= t.price <= source.high
            taken[t.time] += t.amount
            value = t.price * t.amount
            if t.action is BUY:
                cash -= value + t.commission
                shares += t.amount
            else:
                cash += value - t.commission
                shares -= t.amount
        for end, amount in taken.items():
            assert amount <= int(Decimal(str(ratio)) * by_end[end].volume)
        assert broker.cash == cash
        held = broker.positions.get(CODE)
        assert (held.total if held else 0) == shares


# -- the sample script ----------------------------------------------------------------------


def test_the_sample_is_deterministic_consistent_and_inside_the_limits(tmp_path: Path) -> None:
    days = dict(start=datetime.date(2024, 1, 2), end=datetime.date(2024, 2, 9))
    one = write_sample(tmp_path / "a.sqlite", minute=True, **days)
    two = write_sample(tmp_path / "b.sqlite", minute=[datetime.date(2024, 1, 15)], **days)
    assert one.limit_up and one.paused
    with BarCache(one.path) as a, BarCache(two.path) as b:
        end = at(15, 0, day=days["end"])
        for code in one.codes:
            daily = a.read(code, "1d", end=end, count=1000)
            assert daily == b.read(
                code, "1d", end=end, count=1000
            )  # the minute flag changes nothing
            tick = tick_size(code)
            prev = None
            for d in daily:
                minutes = a.read(code, "1m", start=d.time.subtract(hours=6), end=d.time)
                assert len(minutes) == 240
                assert (d.open, d.high, d.low, d.close, d.volume) == (
                    minutes[0].open,
                    max(m.high for m in minutes),
                    min(m.low for m in minutes),
                    minutes[-1].close,
                    sum(m.volume for m in minutes),
                )
                for m in minutes:
                    assert all(p % tick == 0 for p in (m.open, m.high, m.low, m.close))
                if prev is not None:
                    low, high = day_limits(code, prev.close, d.time.date())
                    assert low <= d.low and d.high <= high
                prev = d
        for code, day in one.limit_up.items():
            d = a.read(code, "1d", end=at(15, 0, day=day), count=1)[0]
            before = a.read(code, "1d", end=at(15, 0, day=day).subtract(days=1), count=1)[0]
            assert d.close == day_limits(code, before.close, day)[1]
        for code, day in one.paused.items():
            assert not a.read(
                code, "1d", start=at(15, 0, day=day).subtract(days=1), end=at(15, 0, day=day)
            )
            assert CacheSource(a).get_quotes([code], now=at(10, 0, day=day))[code].paused


def test_a_broker_on_bars_survives_being_saved(cache: BarCache) -> None:
    """The simulated miniQMT pickles its broker into its state file and reads it back."""
    cache.write(minute_day({30: ("10.05", "10.06", "9.95", "10.00", 100_000)}, base="10.05"))
    broker = broker_on(cache)
    assert broker.submit(order("b", BUY, 1000, "9.98"), at(10, 0)) == ""
    broker.advance(at(10, 0))
    copy = pickle.loads(pickle.dumps(broker))
    try:
        copy.advance(at(10, 1))
        assert [(t.amount, t.price) for t in trades(copy)][-1:] == [(1000, Decimal("9.98"))]
    finally:
        copy.feed.cache.close()
