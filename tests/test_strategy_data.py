"""Market data in strategies: ``get_bars``, ``get_price`` and ``context.current_data`` over the
runtime's source, as a class strategy and as a legacy script, on a simulated clock over a small
cache (``tests/bar_fixtures.py``); and the ``data_source`` / ``data_options`` options."""

from __future__ import annotations

import datetime
import importlib.util
import logging
import math
from pathlib import Path
from typing import Any, Callable

import bar_fixtures as bf
import pendulum
import pytest

from jqtrade import Context, OptionValueError, Strategy
from jqtrade.clock import MARKET_TZ, SimClock
from jqtrade.data import CacheSource, DataConfigError, PandasMissingError, TtlQuoteSource
from jqtrade.loader import load_strategy
from jqtrade.model.rules import day_limits
from jqtrade.options import Options
from jqtrade.runtime import Runtime

D = datetime.date
DAY = D(2024, 6, 5)


def at(day: datetime.date, hour: int, minute: int = 0, second: int = 0) -> pendulum.DateTime:
    return pendulum.datetime(day.year, day.month, day.day, hour, minute, second, tz=MARKET_TZ)


class LiveTestClock(SimClock):
    """A clock that stands still where the test puts it but says it is live (no --simulate)."""

    is_simulated = False  # type: ignore[assignment]  # a class constant on SimClock


class Probe(Strategy):
    """Runs ``body(self, context)`` at each of ``times`` and keeps what it returns."""

    def __init__(self, times: list[str], body: Callable[[Probe, Context], Any], **options: Any):
        self.times = times
        self.body = body
        self.options = options
        self.seen: list[tuple[pendulum.DateTime, Any]] = []

    def process_initialize(self, context: Context) -> None:
        if self.options:
            self.set_options(**self.options)
        for time in self.times:
            self.run_daily(self.fire, time, name=f"fire {time}")

    def fire(self, context: Context) -> None:
        self.seen.append((context.current_dt, self.body(self, context)))


@pytest.fixture
def runtime_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "runtime"
    bf.fill_runtime_dir(folder)
    return folder


def run_day(
    strategy: Strategy,
    runtime_dir: Path,
    *,
    day: datetime.date = DAY,
    clock: Any = None,
) -> Runtime:
    clock = clock or SimClock(at(day, 9, 0))
    runtime = Runtime(strategy, clock=clock, options=Options(runtime_dir=str(runtime_dir)))
    runtime.initialize()
    runtime.run(until=at(day, 15, 30))
    runtime.finish()
    return runtime


# --- the class API ---------------------------------------------------------------------------


def test_daily_bars_at_ten_do_not_include_today_and_have_joinquant_fields(runtime_dir: Path):
    strategy = Probe(["10:00"], lambda s, c: s.get_bars(bf.RISING, 3))
    run_day(strategy, runtime_dir)
    [(when, bars)] = strategy.seen
    assert when == at(DAY, 10)
    assert list(bars) == ["date", "open", "high", "low", "close"]  # JoinQuant's default fields
    assert bars["date"] == [D(2024, 5, 31), D(2024, 6, 3), D(2024, 6, 4)]
    assert bars["close"] == [float(bf.daily_close(bf.RISING, d)) for d in bars["date"]]
    assert all(isinstance(v, float) for v in bars["open"])


def test_no_answer_ever_includes_a_bar_after_the_simulated_time(runtime_dir: Path):
    def body(s: Probe, c: Context) -> Any:
        return (
            s.get_bars(bf.RISING, 5, "1m", fields=["date", "close"]),
            s.get_bars(bf.RISING, 2, "5m", fields=["date"], include_now=True),
            s.get_bars(bf.RISING, 2, "1d", fields=["date"], end_dt=at(DAY, 23)),
            s.get_price(bf.RISING, start_date="2024-06-01", end_date="2024-12-31"),
            c.current_data[bf.RISING],
        )

    strategy = Probe(["09:25", "open", "10:07", "11:30", "13:01", "14:59", "close", "15:10"], body)
    run_day(strategy, runtime_dir)
    assert len(strategy.seen) == 8
    for now, (minutes, fives, daily, prices, quote) in strategy.seen:
        assert all(t <= now for t in minutes["date"]), now
        assert all(t <= now.add(minutes=4) for t in fives["date"]), now  # a forming 5m bar's end
        before_close = now < at(DAY, 15)
        assert all(d < DAY if before_close else d <= DAY for d in daily["date"]), now
        assert all(d < DAY if before_close else d <= DAY for d in prices["date"]), now
        assert quote.time is not None and quote.time <= now
    last_minute = strategy.seen[2][1][0]  # 10:07: the minute bar that ended at 10:07
    assert last_minute["date"][-1] == at(DAY, 10, 7)
    index = 10 * 60 + 7 - (9 * 60 + 30) - 1
    assert last_minute["close"][-1] == float(bf.minute_close(DAY, index))
    assert strategy.seen[2][1][4].last_price == last_minute["close"][-1]
    after_close = strategy.seen[-1][1]
    assert after_close[2]["date"][-1] == DAY and after_close[3]["date"][-1] == DAY


def test_current_data_has_the_days_limits_and_pause(runtime_dir: Path):
    strategy = Probe(
        ["10:00"], lambda s, c: (c.current_data[bf.RISING], c.current_data["000001.SZ"])
    )
    runtime = run_day(strategy, runtime_dir)
    [(_, (rising, paused))] = strategy.seen
    pre_close = bf.daily_close(bf.RISING, D(2024, 6, 4))
    low, high = day_limits(bf.RISING, pre_close, DAY)
    assert (rising.pre_close, rising.high_limit, rising.low_limit) == (
        float(pre_close),
        float(high),
        float(low),
    )
    assert rising.paused is False and rising.stale is False
    assert paused.code == bf.PAUSED and paused.paused is True
    assert isinstance(runtime.market_data, TtlQuoteSource)
    assert runtime.market_data is runtime.market_data  # built once


def test_get_price_by_count_and_list_of_codes(runtime_dir: Path):
    def body(s: Probe, c: Context) -> Any:
        return s.get_price(
            [bf.RISING, bf.PAUSED], count=2, fields=["close", "pre_close", "high_limit"]
        )

    strategy = Probe(["close"], body)
    run_day(strategy, runtime_dir)
    [(_, prices)] = strategy.seen
    assert set(prices) == {bf.RISING, bf.PAUSED}
    rising = prices[bf.RISING]
    assert rising["date"] == [D(2024, 6, 4), DAY]
    assert rising["pre_close"][-1] == rising["close"][0]
    assert rising["high_limit"][-1] == float(
        day_limits(bf.RISING, bf.daily_close(bf.RISING, D(2024, 6, 4)), DAY)[1]
    )
    assert prices[bf.PAUSED]["date"] == [D(2024, 6, 3), D(2024, 6, 4)]  # suspended today: skipped


@pytest.mark.skipif(importlib.util.find_spec("pandas") is not None, reason="pandas is installed")
def test_df_true_without_pandas_says_so_in_chinese(runtime_dir: Path):
    def body(s: Probe, c: Context) -> Any:
        errors = []
        for call in (
            lambda: s.get_bars(bf.RISING, 3, df=True),
            lambda: s.get_price(bf.RISING, count=3, df=True),
        ):
            with pytest.raises(PandasMissingError) as info:
                call()
            errors.append(str(info.value))
        return errors

    strategy = Probe(["10:00"], body)
    run_day(strategy, runtime_dir)
    [(_, errors)] = strategy.seen
    assert all("pandas" in e and "pip install pandas" in e for e in errors)
    assert errors[0].startswith("get_bars(df=True)") and errors[1].startswith("get_price(df=True)")


def test_live_without_a_data_source_says_how_to_set_one(tmp_path: Path):
    strategy = Probe([], lambda s, c: None)
    clock = LiveTestClock(at(DAY, 10))
    runtime = Runtime(strategy, clock=clock, options=Options(runtime_dir=str(tmp_path)))
    runtime.initialize()
    assert runtime.market_data is None
    for call in (
        lambda: strategy.get_bars(bf.RISING, 3),
        lambda: strategy.get_price(bf.RISING, count=3),
        lambda: runtime.context.current_data,
    ):
        with pytest.raises(DataConfigError) as info:
            call()
        assert "data_source" in str(info.value) and "cache" in str(info.value)
    assert not (tmp_path / "data").exists()  # nothing was created


def test_live_with_the_cache_answers_as_of_the_clock(runtime_dir: Path):
    strategy = Probe([], lambda s, c: None, data_source="cache")
    clock = LiveTestClock(at(DAY, 10, 30))
    runtime = Runtime(strategy, clock=clock, options=Options(runtime_dir=str(runtime_dir)))
    runtime.initialize()
    bars = strategy.get_bars(bf.RISING, 1, "1m", fields=["date"])
    assert bars["date"] == [at(DAY, 10, 30)]
    assert isinstance(runtime.market_data, TtlQuoteSource)
    assert isinstance(runtime.market_data.inner, CacheSource)
    runtime.finish()


def test_simulated_run_with_a_live_source_warns_and_reads_the_cache(
    runtime_dir: Path, caplog: pytest.LogCaptureFixture
):
    strategy = Probe(
        ["10:00"], lambda s, c: s.get_bars(bf.RISING, 1)["date"], data_source="akshare"
    )
    with caplog.at_level(logging.WARNING, logger="jqtrade.runtime"):
        run_day(strategy, runtime_dir)
    assert strategy.seen[0][1] == [D(2024, 6, 4)]
    warnings = [r for r in caplog.records if r.name == "jqtrade.runtime"]
    assert len(warnings) == 1 and "akshare" in warnings[0].getMessage()


def test_a_source_that_cannot_be_built_raises_its_error_at_the_call(tmp_path: Path):
    strategy = Probe([], lambda s, c: None, data_source="tushare", data_options={"tok": "s3cret"})
    clock = LiveTestClock(at(DAY, 10))
    runtime = Runtime(strategy, clock=clock, options=Options(runtime_dir=str(tmp_path)))
    runtime.initialize()
    with pytest.raises(DataConfigError) as info:
        strategy.get_bars(bf.RISING, 3)
    # tushare is not installed here, or does not take `tok`: either way a Chinese data error
    assert "tushare" in str(info.value) and "s3cret" not in str(info.value)


# --- a legacy script -------------------------------------------------------------------------

LEGACY = """\
import datetime

seen = []


def process_initialize(context):
    run_daily(look, "10:05")


def look(context):
    bars = get_bars("600000.XSHG", 2, unit="1m", fields=["date", "close"])
    prices = get_price("600000.XSHG", end_date=context.current_dt, count=2, frequency="daily", panel=False)
    quote = context.current_data["600000.XSHG"]
    seen.append((context.current_dt, bars, prices, quote.last_price, quote.time, quote.paused))
"""


def test_a_legacy_script_gets_the_functions_and_naive_times(runtime_dir: Path, tmp_path: Path):
    script = tmp_path / "legacy_data.py"
    script.write_text(LEGACY, encoding="utf-8")
    strategy = load_strategy(script)
    run_day(strategy, runtime_dir)
    [(now, bars, prices, last, time, paused)] = strategy.module.seen
    assert now == datetime.datetime(2024, 6, 5, 10, 5)
    assert bars["date"] == [
        datetime.datetime(2024, 6, 5, 10, 4),
        datetime.datetime(2024, 6, 5, 10, 5),
    ]
    assert all(type(t) is datetime.datetime and t.tzinfo is None for t in bars["date"])
    assert prices["date"] == [D(2024, 6, 3), D(2024, 6, 4)]
    assert last == bars["close"][-1] and paused is False
    assert time == datetime.datetime(2024, 6, 5, 10, 5) and time.tzinfo is None


# --- options ---------------------------------------------------------------------------------


def test_data_options_never_show_their_values():
    options = Options().evolve(
        {"data_source": " JQDataSDK ", "data_options": {"username": "u1", "password": "s3cret"}}
    )
    assert options.data_source == "jqdatasdk"
    assert "s3cret" not in repr(options) and "u1" not in repr(options)
    assert "'password': '***'" in repr(options)


def test_a_bad_data_source_lists_the_allowed_ones():
    with pytest.raises(OptionValueError) as info:
        Options().evolve({"data_source": "wind"})
    for name in ("cache", "mootdx", "akshare", "tushare", "jqdatasdk", "xtdata"):
        assert name in str(info.value)


def test_nan_prices_of_an_unknown_code(runtime_dir: Path):
    strategy = Probe(["10:00"], lambda s, c: c.current_data["600001.XSHG"])
    run_day(strategy, runtime_dir)
    [(_, quote)] = strategy.seen
    assert math.isnan(quote.last_price) and quote.stale and quote.reason


def test_the_first_current_data_fetches_the_held_positions_too(runtime_dir: Path):
    from jqtrade.gates.fake import FakeTradeGate

    gate = FakeTradeGate(cash=100_000, positions={bf.RISING: 1000}, prices={bf.RISING: 7.0})

    def body(s: Probe, c: Context) -> Any:
        paused = c.current_data[bf.PAUSED].paused
        source = runtime.market_data
        assert isinstance(source, TtlQuoteSource)
        before = source.requests
        held = c.current_data[bf.RISING]  # already fetched: no request
        return paused, held.last_price, source.requests - before

    strategy = Probe(["10:00"], body, use_account=True)
    runtime = Runtime(
        strategy,
        clock=SimClock(at(DAY, 9)),
        options=Options(runtime_dir=str(runtime_dir)),
        gate_factory=lambda opts: gate,
    )
    runtime.initialize()
    runtime.run(until=at(DAY, 10, 0, 30))
    try:
        [(_, (paused, last, requests))] = strategy.seen
        assert paused is True and last == float(bf.minute_close(DAY, 29)) and requests == 0
        assert set(runtime.context.current_data) == {bf.RISING, bf.PAUSED}
    finally:
        runtime.finish()
