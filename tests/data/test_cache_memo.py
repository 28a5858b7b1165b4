"""What the bar cache and its data source remember between reads: the same answers as a fresh
read, and nothing remembered once the stored bars change (through any connection)."""

from __future__ import annotations

import datetime
from pathlib import Path

import data_support as support
import pendulum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jqtrade.data.cache import BarCache
from jqtrade.data.cache_source import CacheSource
from jqtrade.data.models import Bar, BarUnit

CODE = "600000.XSHG"


def _minute(day: datetime.date, hour: int, minute: int, price: str) -> Bar:
    value = support.Decimal(price)
    return Bar(
        code=CODE,
        unit=BarUnit.m1,
        time=pendulum.datetime(day.year, day.month, day.day, hour, minute, tz=support.TZ),
        open=value,
        high=value,
        low=value,
        close=value,
        volume=100,
        amount=value * 100,
    )


def test_a_read_after_another_connection_wrote_sees_the_new_bars(tmp_path: Path):
    path = tmp_path / "bars.sqlite"
    day = support.DAY
    with BarCache(path, calendar=support.calendar()) as reader:
        reader.write([_minute(day, 9, 31, "7.00")])
        end = pendulum.datetime(day.year, day.month, day.day, 15, tz=support.TZ)
        start = end.subtract(days=1)
        assert [b.close for b in reader.read(CODE, "1m", start=start, end=end)] == [
            support.Decimal("7.00")
        ]
        with BarCache(path, calendar=support.calendar()) as writer:
            writer.write([_minute(day, 9, 32, "7.01")])
        after = reader.read(CODE, "1m", start=start, end=end)
        assert [b.close for b in after] == [support.Decimal("7.00"), support.Decimal("7.01")]
        reader.write([_minute(day, 9, 31, "6.99")])  # its own write replaces a bar
        again = reader.read(CODE, "1m", start=start, end=end)
        assert [b.close for b in again] == [support.Decimal("6.99"), support.Decimal("7.01")]


def test_a_quote_follows_bars_written_into_the_cache_during_the_day(tmp_path: Path):
    path = tmp_path / "bars.sqlite"
    day = support.DAY
    with BarCache(path, calendar=support.calendar()) as cache:
        cache.write([_minute(day - datetime.timedelta(days=1), 15, 0, "6.90")])
        cache.write([_minute(day, 9, 31, "7.00")])
        source = CacheSource(cache)
        now = pendulum.datetime(day.year, day.month, day.day, 9, 45, tz=support.TZ)
        assert source.get_quotes([CODE], now=now)[CODE].last == support.Decimal("7.00")
        with BarCache(path, calendar=support.calendar()) as other:  # jqtrade data import, say
            other.write([_minute(day, 9, 40, "7.20")])
        quote = source.get_quotes([CODE], now=now)[CODE]
        assert quote.last == support.Decimal("7.20") and quote.volume == 200
        assert quote.high == support.Decimal("7.20") and quote.pre_close == support.Decimal("6.90")


_TIMES = st.builds(
    lambda d, minutes: pendulum.datetime(d.year, d.month, d.day, 8, tz=support.TZ).add(
        minutes=minutes
    ),
    st.sampled_from(support.trading_days()[1:]),
    st.integers(min_value=0, max_value=14 * 60),  # 08:00 to 22:00
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(times=st.lists(_TIMES, min_size=1, max_size=6))
def test_quotes_from_remembered_days_are_those_of_the_bars_done_by_then(
    cache: BarCache, times: list[pendulum.DateTime]
):
    source = CacheSource(cache)  # one source asked several times, as a strategy does
    for now in times:
        quote = source.get_quotes([CODE], now=now)[CODE]
        shown = support.snapshot(CODE, now)
        if shown is None:  # before the day's first bar: the previous close, nothing traded
            assert quote.volume == 0 and quote.time <= now
            continue
        assert (quote.last, quote.open, quote.high, quote.low) == (
            shown["last"],
            shown["open"],
            shown["high"],
            shown["low"],
        )
        assert (quote.volume, quote.amount, quote.pre_close, quote.time) == (
            shown["volume"],
            shown["amount"],
            shown["pre_close"],
            shown["time"],
        )
        assert (quote.high_limit, quote.low_limit) == (shown["high_limit"], shown["low_limit"])


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    day=st.sampled_from(support.trading_days()[1:]),
    picks=st.lists(st.integers(min_value=-260, max_value=260), max_size=8),
    cut=st.tuples(st.integers(-300, 300) | st.none(), st.integers(-300, 300) | st.none()),
)
def test_lazy_rows_decode_to_the_bars_a_full_read_gives(
    cache: BarCache, day: datetime.date, picks: list[int], cut: tuple
):
    before = pendulum.instance(datetime.datetime.combine(day, datetime.time(15)), tz=support.TZ)
    start, end = before.subtract(days=1), before
    rows = cache.read_rows(CODE, "1m", start=start, end=end)
    expected = [b for b in support.minute_bars(CODE) if start < b.time <= end]
    for i in picks:  # in any order, some out of range
        if -len(expected) <= i < len(expected):
            assert rows[i] == expected[i]
        else:
            try:
                rows[i]
            except IndexError:
                pass
            else:
                raise AssertionError(f"index {i} of {len(expected)} bars did not raise")
    assert rows[cut[0] : cut[1]] == tuple(expected[cut[0] : cut[1]])
    assert list(rows) == expected == cache.read(CODE, "1m", start=start, end=end)
    assert rows.ends == tuple(int(b.time.timestamp()) for b in expected)
    for count in range(1, len(expected) + 1, 37):
        done = expected[:count]
        assert rows.totals(count) == (
            max(b.high for b in done),
            min(b.low for b in done),
            sum(b.volume for b in done),
            sum(b.amount for b in done),
        )


def test_a_simulated_run_reads_market_data_through_the_brokers_open_cache(tmp_path: Path):
    from jqtrade import Strategy
    from jqtrade.clock import SimClock
    from jqtrade.data.cache import CACHE_FILE
    from jqtrade.options import Options
    from jqtrade.runtime import Runtime

    class Idle(Strategy):
        def process_initialize(self, context) -> None:
            pass

    def runtime_with(shared: BarCache) -> Runtime:
        options = Options().evolve({"runtime_dir": str(tmp_path)})
        clock = SimClock(pendulum.datetime(2024, 6, 4, 10, tz=support.TZ))
        return Runtime(Idle(), clock=clock, options=options, bar_cache=shared)

    with BarCache(tmp_path / CACHE_FILE, calendar=support.calendar()) as shared:
        shared.write([_minute(support.DAY, 9, 31, "7.00")])
        runtime = runtime_with(shared)
        assert runtime._market().source.inner.cache is shared  # type: ignore[union-attr]
        assert runtime.context.current_data[CODE].last_price == 7.0
        runtime._market().close()
        assert shared.read(CODE, "1m", end=pendulum.now()) != []  # still open: the caller's
    with BarCache(tmp_path / "elsewhere.sqlite") as other:
        runtime = runtime_with(other)
        assert runtime._market().source.inner.cache is not other  # type: ignore[union-attr]
        runtime._market().close()
