"""A reusable pytest suite that checks a data source keeps the ``AbsDataSource`` contract.

Use it for your own source (or an adapter with a fake of its library)::

    import pendulum
    import pytest
    from jqtrade.data.contract import DataSourceContract

    class TestMySource(DataSourceContract):
        code = "600000.XSHG"                        # a code the source has bars and a quote for
        day = pendulum.date(2024, 6, 4)             # a trading day it has bars for

        @pytest.fixture
        def source(self):
            source = MySource(...)
            yield source
            source.close()

Hooks a subclass may set or override: ``code``, ``other_code`` (a second code with data),
``unknown_code`` (a valid code without data), ``day`` (a trading day with bars, not the first
the source has), ``quote_now`` (when to ask for quotes; default 10:30 of ``day``), and
``break_source(source)`` (make the next call fail as the network would; skipped by default).
The suite only reads: it never writes to the source.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Optional

import pendulum
import pytest

from jqtrade.clock import MARKET_TZ
from jqtrade.data.errors import BarUnitError, DataCodeError, DataSourceError
from jqtrade.data.models import Bar, BarUnit, Quote
from jqtrade.data.sessions import bucket_end, close_time, session_minute
from jqtrade.data.source import AbsDataSource

__all__ = ["DataSourceContract", "check_bar", "check_quote"]


def check_bar(bar: Bar, code: str, unit: BarUnit) -> None:
    """One bar has the documented types, units and invariants."""
    assert isinstance(bar, Bar), f"应返回 Bar：{bar!r}"
    assert bar.code == code, f"代码应为 {code}：{bar!r}"
    assert bar.unit is unit, f"周期应为 {unit}：{bar!r}"
    assert isinstance(bar.time, pendulum.DateTime), f"time 应为 pendulum.DateTime：{bar!r}"
    assert bar.time.utcoffset() == datetime.timedelta(hours=8), f"time 应为北京时间：{bar!r}"
    for name in ("open", "high", "low", "close", "amount"):
        assert isinstance(getattr(bar, name), Decimal), f"{name} 应为 Decimal：{bar!r}"
    assert isinstance(bar.volume, int) and not isinstance(bar.volume, bool), (
        f"volume 应为 int：{bar!r}"
    )
    bar.check()
    local = bar.time.in_tz(MARKET_TZ)
    if unit is BarUnit.d1:
        assert local == close_time(local.date()), f"日线应标在 15:00：{bar!r}"
    else:
        index = session_minute(local.time())
        assert index is not None and index > 0, f"分钟线的时间应为交易时段内的结束时刻：{bar!r}"
        assert bucket_end(local, unit) == local, f"{unit} K 线的时间应在周期边界上：{bar!r}"


def check_quote(quote: Quote, code: str, now: pendulum.DateTime) -> None:
    """One quote has the documented types and invariants."""
    assert isinstance(quote, Quote), f"应返回 Quote：{quote!r}"
    assert quote.code == code, f"代码应为 {code}：{quote!r}"
    assert isinstance(quote.time, pendulum.DateTime), f"time 应为 pendulum.DateTime：{quote!r}"
    assert quote.time <= now, f"行情时间 {quote.time} 晚于查询时间 {now}"
    for name in ("last", "open", "high", "low", "pre_close", "amount"):
        assert isinstance(getattr(quote, name), Decimal), f"{name} 应为 Decimal：{quote!r}"
    assert isinstance(quote.volume, int) and quote.volume >= 0, f"volume 应为非负 int：{quote!r}"
    assert quote.last > 0 and quote.pre_close > 0, f"最新价和昨收应为正数：{quote!r}"
    if quote.high > 0 and not quote.paused:
        assert quote.low <= quote.last <= quote.high, f"最新价应在最低和最高之间：{quote!r}"
    if quote.high_limit is not None or quote.low_limit is not None:
        assert quote.high_limit is not None and quote.low_limit is not None, (
            f"涨跌停价应成对给出：{quote!r}"
        )
        assert quote.low_limit < quote.pre_close < quote.high_limit, (
            f"涨跌停价应在昨收两侧：{quote!r}"
        )
    for side in (quote.bids, quote.asks):
        assert all(level.price > 0 and level.volume >= 0 for level in side), (
            f"盘口不合理：{quote!r}"
        )
    if quote.bids and quote.asks:
        assert quote.bids[0].price <= quote.asks[0].price, f"买一价不应高于卖一价：{quote!r}"


class DataSourceContract:
    """Base class of a source's contract tests; subclass it and provide a ``source`` fixture."""

    code: str = "600000.XSHG"
    other_code: str = "000001.XSHE"
    unknown_code: str = "600999.XSHG"
    day: datetime.date = datetime.date(2024, 6, 4)
    quote_now: Optional[pendulum.DateTime] = None

    @pytest.fixture
    def source(self) -> AbsDataSource:  # pragma: no cover - always overridden
        raise NotImplementedError("DataSourceContract 的子类需要提供名为 source 的 fixture")

    # -- hooks --

    def break_source(self, source: AbsDataSource) -> None:
        """Make the next call of ``source`` fail as a network failure would."""
        pytest.skip("子类没有实现 break_source，跳过“网络失败”测试")

    def at(self, hour: int, minute: int) -> pendulum.DateTime:
        return pendulum.datetime(
            self.day.year, self.day.month, self.day.day, hour, minute, tz=MARKET_TZ
        )

    def units(self, source: AbsDataSource) -> list[BarUnit]:
        return [unit for unit in BarUnit if source.supports(unit)]

    # -- bars --

    def test_declares_its_units(self, source: AbsDataSource) -> None:
        assert source.native_units, "native_units 不能为空"
        assert all(isinstance(u, BarUnit) for u in source.native_units)

    def test_bars_by_count_end_at_or_before_end(self, source: AbsDataSource) -> None:
        end = self.at(10, 17)
        for unit in self.units(source):
            bars = source.get_bars(self.code, unit, end=end, count=5)
            assert bars, f"{unit} 没有返回 K 线（{self.code}，截至 {end}）"
            assert len(bars) <= 5
            assert all(b.time <= end for b in bars), f"{unit} 返回了 {end} 之后的 K 线"
            assert [b.time for b in bars] == sorted({b.time for b in bars}), (
                "K 线应按时间升序且不重复"
            )
            for bar in bars:
                check_bar(bar, self.code, unit)

    def test_daily_bar_appears_only_after_the_close(self, source: AbsDataSource) -> None:
        if not source.supports(BarUnit.d1):
            pytest.skip("不提供日线")
        before = source.get_bars(self.code, BarUnit.d1, end=self.at(14, 59), count=1)
        after = source.get_bars(self.code, BarUnit.d1, end=self.at(15, 0), count=1)
        assert before and before[-1].time.date() < self.day, "收盘前不应看到当天的日线"
        assert after and after[-1].time == close_time(self.day), "收盘后应看到当天的日线"

    def test_bars_by_range_stay_inside_it(self, source: AbsDataSource) -> None:
        for unit in self.units(source):
            start, end = (
                (self.at(9, 40), self.at(13, 10))
                if unit is not BarUnit.d1
                else (close_time(self.day).subtract(days=10), close_time(self.day))
            )
            bars = source.get_bars(self.code, unit, start=start, end=end)
            assert bars, f"{unit} 在 {start}..{end} 之间没有 K 线"
            assert all(start < b.time <= end for b in bars), f"{unit} 返回了范围之外的 K 线"
            for bar in bars:
                check_bar(bar, self.code, unit)

    def test_fetch_hook_never_leaks_after_end(self, source: AbsDataSource) -> None:
        end = self.at(10, 0)
        for unit in source.native_units:
            start = close_time(self.day).subtract(days=7)
            bars = source.fetch_bars(self.code, unit, start, end)
            assert all(start < b.time <= end for b in bars), (
                f"fetch_bars({unit}) 返回了范围之外的 K 线"
            )

    def test_count_gives_the_latest_bars(self, source: AbsDataSource) -> None:
        unit = BarUnit.d1 if source.supports(BarUnit.d1) else min(source.native_units)
        end = close_time(self.day)
        last3 = source.get_bars(self.code, unit, end=end, count=3)
        more = source.get_bars(self.code, unit, end=end, count=6)
        assert len(last3) == 3 and more[-3:] == last3

    def test_intraday_bars_follow_the_sessions(self, source: AbsDataSource) -> None:
        if not source.supports(BarUnit.m1):
            pytest.skip("不提供分钟线")
        bars = source.get_bars(self.code, BarUnit.m1, start=self.at(11, 20), end=self.at(13, 5))
        times = [b.time.in_tz(MARKET_TZ).time() for b in bars]
        assert all(t <= datetime.time(11, 30) or t > datetime.time(13, 0) for t in times), (
            "午休时间不应有 K 线"
        )
        five = source.get_bars(self.code, BarUnit.m5, end=self.at(10, 0), count=2)
        assert [b.time for b in five][-1] == self.at(10, 0)

    def test_five_minute_bars_add_up_the_minutes(self, source: AbsDataSource) -> None:
        if not source.supports(BarUnit.m1):
            pytest.skip("不提供分钟线")
        end = self.at(10, 30)
        ones = source.get_bars(self.code, BarUnit.m1, end=end, count=5)
        five = source.get_bars(self.code, BarUnit.m5, end=end, count=1)
        assert five and five[0].time == end
        assert five[0].volume == sum(b.volume for b in ones)
        assert five[0].close == ones[-1].close and five[0].high == max(b.high for b in ones)

    def test_bad_arguments_are_refused(self, source: AbsDataSource) -> None:
        with pytest.raises(BarUnitError):
            source.get_bars(self.code, "7m", end=self.at(10, 0), count=1)
        with pytest.raises(DataCodeError):
            source.get_bars("600000", BarUnit.d1, end=self.at(10, 0), count=1)

    def test_broker_form_codes_are_accepted(self, source: AbsDataSource) -> None:
        digits, exchange = self.code.split(".")
        short = f"{digits}.{'SH' if exchange == 'XSHG' else 'SZ'}"
        unit = min(source.native_units, key=lambda u: u.value)
        bars = source.get_bars(short, unit, end=close_time(self.day), count=1)
        assert bars and bars[0].code == self.code

    def test_results_are_new_lists(self, source: AbsDataSource) -> None:
        unit = min(source.native_units, key=lambda u: u.value)
        first = source.get_bars(self.code, unit, end=close_time(self.day), count=2)
        first.clear()
        assert source.get_bars(self.code, unit, end=close_time(self.day), count=2)

    # -- quotes --

    def _now(self) -> pendulum.DateTime:
        return self.quote_now or self.at(10, 30)

    def test_quotes_have_the_documented_shape(self, source: AbsDataSource) -> None:
        now = self._now()
        quotes = source.get_quotes([self.code, self.other_code], now=now)
        assert self.code in quotes and self.other_code in quotes, f"缺少行情：{sorted(quotes)}"
        for code in (self.code, self.other_code):
            check_quote(quotes[code], code, now)

    def test_quotes_accept_broker_form_and_skip_unknown_codes(self, source: AbsDataSource) -> None:
        digits, exchange = self.code.split(".")
        short = f"{digits}.{'SH' if exchange == 'XSHG' else 'SZ'}"
        quotes = source.get_quotes([short, self.unknown_code], now=self._now())
        assert self.code in quotes
        assert self.unknown_code not in quotes

    def test_no_codes_no_quotes(self, source: AbsDataSource) -> None:
        assert source.get_quotes([], now=self._now()) == {}

    def test_network_failure_is_a_data_source_error(self, source: AbsDataSource) -> None:
        self.break_source(source)
        with pytest.raises(DataSourceError) as info:
            source.get_quotes([self.code], now=self._now())
        assert source.name in str(info.value)
