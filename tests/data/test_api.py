from __future__ import annotations

import datetime
import math
import sys

import data_support as support
import pendulum
import pytest

from jqtrade.clock import SimClock
from jqtrade.data.api import CurrentData, get_bars, get_price
from jqtrade.data.cache_source import CacheSource
from jqtrade.data.errors import DataConfigError, DataSourceUnavailableError, PandasMissingError
from jqtrade.data.models import BarUnit
from jqtrade.data.sources.tushare import TushareSource

TZ = "Asia/Shanghai"
CODE = "600000.XSHG"


def daily(day):
    return next(b for b in support.daily_bars(CODE) if b.time.date() == datetime.date(2024, 6, day))


def at(day, hour, minute=0):
    return pendulum.datetime(2024, 6, day, hour, minute, tz=TZ)


def test_get_bars_daily_excludes_today_until_the_close(cache_source):
    bars = get_bars(cache_source, CODE, 3, "1d", now=at(4, 10))
    assert bars["date"] == [
        datetime.date(2024, 5, 30),
        datetime.date(2024, 5, 31),
        datetime.date(2024, 6, 3),
    ]
    assert bars["close"] == support.closes(CODE, BarUnit.d1, at(4, 10), 3)
    assert set(bars) == {"date", "open", "high", "low", "close"}
    assert get_bars(cache_source, CODE, 1, "1d", now=at(4, 15))["date"] == [
        datetime.date(2024, 6, 4)
    ]


def test_get_bars_include_now_builds_the_day_so_far(cache_source):
    bars = get_bars(
        cache_source,
        CODE,
        2,
        "1d",
        fields=["date", "open", "close", "volume"],
        include_now=True,
        now=at(4, 10),
    )
    minutes = [b for b in support.minute_bars(CODE) if at(4, 9) < b.time <= at(4, 10)]
    assert bars["date"][-1] == datetime.date(2024, 6, 4)
    assert bars["close"][-1] == float(minutes[-1].close) and bars["open"][-1] == float(
        minutes[0].open
    )
    assert bars["volume"][-1] == sum(b.volume for b in minutes)
    five = get_bars(
        cache_source, CODE, 1, "5m", fields=["date", "volume"], include_now=True, now=at(4, 10, 2)
    )
    assert five["date"] == [at(4, 10, 5)]
    assert five["volume"][0] == sum(
        b.volume for b in support.minute_bars(CODE) if at(4, 10) < b.time <= at(4, 10, 2)
    )


def test_end_dt_is_capped_at_now(cache_source):
    later = get_bars(
        cache_source, CODE, 1, "1m", fields=["date"], end_dt="2024-06-07 15:00", now=at(4, 10, 17)
    )
    assert later["date"] == [at(4, 10, 17)]


def test_get_bars_for_several_codes_and_fields(cache_source):
    result = get_bars(
        cache_source, [CODE, "000001.SZ"], 2, "1m", fields=["money", "volume"], now=at(4, 9, 33)
    )
    assert set(result) == {CODE, "000001.XSHE"}
    assert len(result["000001.XSHE"]["money"]) == 2
    with pytest.raises(DataConfigError, match="不存在"):
        get_bars(cache_source, CODE, 2, fields=["vwap"], now=at(4, 10))


def test_get_price_by_range_with_limits(cache_source):
    prices = get_price(
        cache_source,
        CODE,
        start_date="2024-06-03",
        end_date="2024-06-05",
        fields=["close", "pre_close", "high_limit", "low_limit"],
        now=at(7, 16),
    )
    daily = support.daily_bars(CODE)
    assert prices["date"] == [
        datetime.date(2024, 6, 3),
        datetime.date(2024, 6, 4),
        datetime.date(2024, 6, 5),
    ]
    index = [b.time.date() for b in daily].index(datetime.date(2024, 6, 4))
    assert prices["pre_close"][1] == float(daily[index - 1].close)
    assert prices["high_limit"][1] == round(float(daily[index - 1].close) * 1.1, 2)


def test_get_price_by_count_and_refusals(cache_source):
    prices = get_price(
        cache_source, [CODE], count=2, frequency="1m", fields=["close"], now=at(4, 13, 2)
    )
    assert prices[CODE]["date"] == [at(4, 13, 1), at(4, 13, 2)]
    with pytest.raises(DataConfigError, match="不复权"):
        get_price(cache_source, CODE, count=1, fq="pre", now=at(4, 10))
    with pytest.raises(DataConfigError, match="二者之一"):
        get_price(cache_source, CODE, now=at(4, 10))


def test_df_needs_pandas(cache_source, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now fails
    with pytest.raises(PandasMissingError, match="pip install pandas"):
        get_bars(cache_source, CODE, 1, df=True, now=at(4, 10))


def test_current_data_in_a_simulated_run(cache_source):
    clock = SimClock(at(4, 10, 30))
    data = CurrentData(cache_source, clock)
    item = data[CODE]
    snap = support.snapshot(CODE, at(4, 10, 30))
    assert (item.last_price, item.pre_close, item.day_open) == (
        float(snap["last"]),
        float(snap["pre_close"]),
        float(snap["open"]),
    )
    assert item.high_limit == float(snap["high_limit"]) and not item.paused and not item.stale
    clock.wait_until(at(4, 15))
    assert data[CODE].last_price == float(daily(4).close)


def test_current_data_before_the_open_shows_the_previous_close(cache_source):
    item = CurrentData(cache_source, SimClock(at(4, 9, 0)))[CODE]
    assert item.last_price == item.pre_close and math.isnan(item.day_open)


def test_current_data_batches_known_codes_into_one_request():
    fake = support.FakeTushare()
    source = TushareSource("token", module=fake, calendar=support.calendar())
    clock = SimClock(support.QUOTE_NOW)
    data = CurrentData(source, clock, ttl=3)
    codes = list(support.CODES)
    data.prefetch(codes)
    assert fake.calls.count("realtime_quote") == 1
    for code in codes * 3:
        assert data[code].last_price > 0
    assert fake.calls.count("realtime_quote") == 1, "fresh for 3 s: no new request"
    clock.advance(60)
    for code in codes:
        data[code]
    assert fake.calls.count("realtime_quote") == 2, (
        "the first miss refreshes every known code at once"
    )


def test_current_data_turns_failures_into_stale_answers(caplog):
    fake = support.FakeTushare()
    source = TushareSource("token", module=fake, calendar=support.calendar())
    clock = SimClock(support.QUOTE_NOW)
    data = CurrentData(source, clock, ttl=3)
    good = data[CODE]
    fake.broken = True
    clock.advance(10)
    stale = data[CODE]
    assert stale.stale and stale.last_price == good.last_price and "tushare" in stale.reason
    never = data["000001.XSHE"]
    assert never.stale and math.isnan(never.last_price)
    assert fake.calls.count("realtime_quote") == 2, "no retry within ttl after a failure"
    assert sum("行情获取失败" in r.getMessage() for r in caplog.records) == 1


def test_current_data_unknown_code_has_nan_prices(cache_source):
    item = CurrentData(cache_source, SimClock(at(4, 10)))["600999.XSHG"]
    assert math.isnan(item.last_price) and item.reason


def test_ttl_source_errors_propagate():
    fake = support.FakeTushare()
    fake.broken = True
    from jqtrade.data.quote_cache import TtlQuoteSource

    ttl = TtlQuoteSource(TushareSource("token", module=fake, calendar=support.calendar()))
    with pytest.raises(DataSourceUnavailableError):
        ttl.get_quotes([CODE], now=support.QUOTE_NOW)


def test_cache_source_quotes_from_daily_bars_only(tmp_path):
    from jqtrade.data.cache import BarCache

    with BarCache(tmp_path / "d.sqlite", calendar=support.calendar()) as cache:
        cache.write(support.daily_bars(CODE), source="sample")
        source = CacheSource(cache)
        today = daily(4)
        midday = source.get_quotes([CODE], now=at(4, 11))[CODE]
        assert midday.last == today.open and midday.volume == 0
        closed = source.get_quotes([CODE], now=at(4, 16))[CODE]
        assert closed.last == today.close and closed.high == today.high
        weekend = source.get_quotes([CODE], now=pendulum.datetime(2024, 6, 8, 12, tz=TZ))[CODE]
        assert weekend.last == support.daily_bars(CODE)[-1].close


def test_cache_source_marks_a_filled_day_without_bars_as_paused(tmp_path):
    from jqtrade.data.cache import BarCache

    with BarCache(tmp_path / "p.sqlite", calendar=support.calendar()) as cache:
        cache.write(
            [b for b in support.daily_bars(CODE) if b.time.date() != datetime.date(2024, 6, 4)],
            source="sample",
        )
        cache.mark_filled(CODE, BarUnit.d1, [datetime.date(2024, 6, 4)], "sample")
        quote = CacheSource(cache).get_quotes([CODE], now=at(4, 10))[CODE]
        assert quote.paused and quote.last == daily(3).close
