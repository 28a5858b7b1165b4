"""Prices of the simulated broker: the seeded walk, CSV prices, the day's limits."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pendulum
from hypothesis import given, settings
from hypothesis import strategies as st
from sim_files import T0

from jqtrade.clock import MARKET_TZ
from jqtrade.model.rules import price_limits, round_tick
from jqtrade.sim import PriceFeed
from jqtrade.sim.market import in_session, trading_minute


@settings(max_examples=50, deadline=None)
@given(
    seed=st.integers(0, 1000),
    minutes=st.lists(st.integers(0, 6 * 60), min_size=1, max_size=20),
    code=st.sampled_from(["600000.XSHG", "300750.XSHE", "510300.XSHG", "688981.XSHG"]),
)
def test_random_walk_is_a_function_of_seed_code_and_time(
    seed: int, minutes: list[int], code: str
) -> None:
    start = pendulum.datetime(2024, 6, 3, 9, 15, tz=MARKET_TZ)
    times = [start.add(minutes=m) for m in minutes]
    first = PriceFeed(seed)
    second = PriceFeed(seed)
    a = [first.price(code, t) for t in times]
    b = [second.price(code, t) for t in reversed(times)][::-1]  # asked in another order
    assert a == b
    low, high = price_limits(code, first.prev_close(code, start.date()))
    tick = Decimal("0.001") if code.startswith("5") else Decimal("0.01")
    assert all(low <= p <= high and p % tick == 0 for p in a)


def test_volatility_zero_keeps_base_prices() -> None:
    feed = PriceFeed(7, {"600000.XSHG": 10.0}, volatility=0)
    assert {feed.price("600000.SH", T0.add(hours=h)) for h in range(5)} == {Decimal("10.0")}


def test_prices_from_csv(tmp_path: Path) -> None:
    path = tmp_path / "prices.csv"
    path.write_text(
        "code,time,price\n600000.XSHG,09:30:00,10.00\n600000.XSHG,10:00,10.50\n"
        "000001.SZ,2024-06-03 10:00:00,20.00\n000001.SZ,2024-06-04 10:00:00,21.00\nbad,row,x\n",
        encoding="utf-8",
    )
    feed = PriceFeed(0, path)
    assert feed.price("600000.XSHG", T0.subtract(minutes=1)) == Decimal("10.00")
    assert feed.price("600000.XSHG", T0) == Decimal("10.50")
    assert feed.price("600000.XSHG", T0.add(days=1)) == Decimal(
        "10.50"
    )  # time-of-day rows repeat daily
    assert feed.price("000001.XSHE", T0.add(hours=1)) == Decimal("20.00")
    assert feed.price("000001.XSHE", T0.add(days=2)) == Decimal("21.00")
    assert feed.price("000001.XSHE", T0.subtract(days=5)) == Decimal("20.00")


def test_walk_prices_of_bonds_and_repos_are_plausible() -> None:
    feed = PriceFeed(3)
    for code in ("113050.XSHG", "123001.XSHE", "110059.XSHG"):
        price = feed.price(code, T0)
        assert Decimal(90) <= price <= Decimal(140) and price % Decimal("0.001") == 0, (code, price)
        low, high = price_limits(code, feed.prev_close(code, T0.date()))
        assert low == round_tick(
            feed.prev_close(code, T0.date()) * Decimal("0.8"), Decimal("0.001")
        )
        assert high == round_tick(
            feed.prev_close(code, T0.date()) * Decimal("1.2"), Decimal("0.001")
        )
    for code, tick in (("204001.XSHG", "0.005"), ("131810.XSHE", "0.001")):
        rate = feed.price(code, T0)
        assert Decimal("1.2") <= rate <= Decimal("3.3") and rate % Decimal(tick) == 0, (code, rate)


def test_trading_minutes_follow_the_sessions() -> None:
    at = lambda h, m: pendulum.datetime(2024, 6, 3, h, m, tz=MARKET_TZ)  # noqa: E731
    assert [
        trading_minute(at(h, m)) for h, m in [(9, 0), (9, 31), (11, 30), (12, 0), (13, 1), (15, 0)]
    ] == [
        0,
        1,
        120,
        120,
        121,
        240,
    ]
    assert [
        in_session(at(h, m)) for h, m in [(9, 29), (9, 30), (11, 30), (13, 0), (14, 59), (15, 0)]
    ] == [
        False,
        True,
        False,
        True,
        True,
        False,
    ]
