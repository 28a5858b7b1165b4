from __future__ import annotations

import datetime
from decimal import Decimal

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from jqtrade.data.errors import BarUnitError, DataCodeError
from jqtrade.data.models import Bar, BarUnit, Quote, market_time, to_price
from jqtrade.data.sessions import BARS_PER_DAY, bar_times, bucket_end, resample, session_minute
from jqtrade.model.rules import day_limits

TZ = "Asia/Shanghai"
DAY = datetime.date(2024, 6, 4)


def test_prices_are_exact_decimals():
    assert to_price(7.05) == Decimal("7.05")
    assert to_price("3.0005") == Decimal("3.0005")
    assert to_price(0.1 + 0.2) == Decimal("0.3")
    with pytest.raises(ValueError):
        to_price(float("nan"))


def test_a_naive_time_is_beijing_time_and_a_date_is_the_close():
    assert market_time("2024-06-04 09:31") == pendulum.datetime(2024, 6, 4, 9, 31, tz=TZ)
    assert market_time(datetime.date(2024, 6, 4)) == pendulum.datetime(2024, 6, 4, 15, tz=TZ)
    assert market_time(datetime.datetime(2024, 6, 4, 10)) == pendulum.datetime(
        2024, 6, 4, 10, tz=TZ
    )
    with pytest.raises(ValueError, match="无法识别"):
        market_time("yesterday")


def test_bar_create_normalises_and_checks():
    bar = Bar.create(
        code="600000.SH",
        unit="1d",
        time="2024-06-04",
        open=7,
        high=7.2,
        low=6.9,
        close=7.1,
        volume=1000.0,
    )
    assert bar.code == "600000.XSHG" and bar.time.hour == 15 and bar.volume == 1000
    with pytest.raises(ValueError, match="价格不一致"):
        Bar.create(
            code="600000.XSHG",
            unit="1d",
            time="2024-06-04",
            open=7,
            high=6,
            low=6.9,
            close=7.1,
            volume=1,
        )
    with pytest.raises(DataCodeError, match="交易所后缀"):
        Bar.create(
            code="600000", unit="1d", time="2024-06-04", open=7, high=7, low=7, close=7, volume=1
        )
    with pytest.raises(BarUnitError, match="1m、5m、1d"):
        BarUnit.parse("7m")


def test_quote_drops_empty_book_levels():
    q = Quote.create(
        code="000001.SZ",
        time="2024-06-04 10:00",
        last=10,
        open=9.9,
        high=10.1,
        low=9.8,
        pre_close=9.95,
        bids=[(9.99, 100), (0, 0)],
        asks=[],
    )
    assert q.code == "000001.XSHE" and len(q.bids) == 1 and q.bids[0].price == Decimal("9.99")


def test_a_day_has_240_minutes_and_48_five_minute_bars():
    minutes = bar_times(DAY, BarUnit.m1)
    assert len(minutes) == BARS_PER_DAY[BarUnit.m1] == 240
    assert (minutes[0].time(), minutes[119].time(), minutes[120].time(), minutes[-1].time()) == (
        datetime.time(9, 31),
        datetime.time(11, 30),
        datetime.time(13, 1),
        datetime.time(15, 0),
    )
    fives = bar_times(DAY, BarUnit.m5)
    assert (
        len(fives) == 48
        and fives[0].time() == datetime.time(9, 35)
        and fives[24].time() == datetime.time(13, 5)
    )


@given(st.integers(min_value=0, max_value=240))
def test_every_minute_falls_in_the_bucket_that_ends_at_or_after_it(index):
    if index == 0:
        t = pendulum.datetime(2024, 6, 4, 9, 30, tz=TZ)
    else:
        t = bar_times(DAY, BarUnit.m1)[index - 1]
    end = bucket_end(t, BarUnit.m5)
    assert (
        end is not None
        and end >= t
        and (end - t).total_seconds() < 5 * 60 + (60 if index == 0 else 0)
    )
    assert session_minute(end.time()) % 5 == 0


def test_resample_folds_the_opening_auction_and_sums():
    def bar(h, m, price, volume):
        return Bar.create(
            code="600000.XSHG",
            unit="1m",
            time=f"2024-06-04 {h:02d}:{m:02d}",
            open=price,
            high=price + 0.1,
            low=price - 0.1,
            close=price,
            volume=volume,
            amount=price * volume,
        )

    one = [bar(9, 30, 7.0, 500), bar(9, 31, 7.1, 100), bar(9, 35, 7.2, 100), bar(9, 36, 7.3, 100)]
    folded = resample(one, BarUnit.m1)
    assert (
        [b.time.minute for b in folded] == [31, 35, 36]
        and folded[0].volume == 600
        and folded[0].open == Decimal("7")
    )
    five = resample(one, BarUnit.m5)
    assert [(b.time.minute, b.volume, b.close) for b in five] == [
        (35, 700, Decimal("7.2")),
        (40, 100, Decimal("7.3")),
    ]


@pytest.mark.parametrize(
    ("code", "pre_close", "day", "expected"),
    [
        ("600000.XSHG", "10.00", DAY, ("9.00", "11.00")),
        ("600000.XSHG", "7.05", DAY, ("6.35", "7.76")),  # 6.345 and 7.755 round half up
        ("300750.XSHE", "10.00", DAY, ("8.00", "12.00")),
        ("300750.XSHE", "10.00", datetime.date(2020, 8, 21), ("9.00", "11.00")),
        ("688981.XSHG", "50.00", DAY, ("40.00", "60.00")),
        ("511880.XSHG", "101.770", DAY, ("91.593", "111.947")),
        ("113050.XSHG", "120.000", DAY, ("96.000", "144.000")),
        ("113050.XSHG", "120.000", datetime.date(2022, 7, 29), None),
        ("204001.XSHG", "2.000", DAY, None),
    ],
)
def test_price_limits(code, pre_close, day, expected):
    got = day_limits(code, Decimal(pre_close), day)
    assert (None if got is None else tuple(str(x) for x in got)) == expected


def test_st_stocks_have_five_percent_limits():
    assert day_limits("600000.XSHG", Decimal("10"), DAY, st=True) == (
        Decimal("9.50"),
        Decimal("10.50"),
    )
    assert day_limits("600000.XSHG", Decimal("10"), DAY, unlimited=True) is None
