"""Adapter details the contract suite does not see: units, secrets, missing libraries, batching."""

from __future__ import annotations

import builtins
from decimal import Decimal

import data_support as support
import pytest

from jqtrade.data import __all__ as public_names
from jqtrade.data.errors import (
    DataCodeError,
    DataConfigError,
    DataPackageMissingError,
    UnknownDataSourceError,
)
from jqtrade.data.models import BarUnit
from jqtrade.data.sources import SOURCES, make_source
from jqtrade.data.sources.akshare import AkshareSource
from jqtrade.data.sources.jqdatasdk import JqdataSource
from jqtrade.data.sources.mootdx import MootdxSource
from jqtrade.data.sources.tushare import TushareSource
from jqtrade.data.sources.xtdata import XtdataSource

END = support.day_close(support.DAY)
LIBRARIES = {
    "mootdx": "mootdx",
    "akshare": "akshare",
    "tushare": "tushare",
    "jqdatasdk": "jqdatasdk",
    "xtdata": "xtquant",
}


@pytest.fixture
def no_libraries(monkeypatch):
    real = builtins.__import__

    def refuse(name, *args, **kwargs):
        if name.split(".")[0] in LIBRARIES.values():
            raise ImportError(f"No module named {name!r}")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", refuse)
    monkeypatch.setenv("TUSHARE_TOKEN", "x")
    monkeypatch.setenv("JQDATA_USERNAME", "u")
    monkeypatch.setenv("JQDATA_PASSWORD", "p")


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_a_missing_library_is_one_line_naming_the_extra(no_libraries, name):
    with pytest.raises(DataPackageMissingError) as info:
        make_source(name)
    message = str(info.value)
    extra = "xtquant" if name == "xtdata" else name
    assert f'pip install "jqtrade[{extra}]"' in message and "\n" not in message
    assert isinstance(info.value, ImportError)


def test_unknown_source_name():
    with pytest.raises(UnknownDataSourceError, match="mootdx"):
        make_source("wind")


def test_tushare_token_from_the_environment_is_never_shown(monkeypatch):
    monkeypatch.setenv("TUSHARE_TOKEN", "s3cret-token-value")
    fake = support.FakeTushare()
    source = TushareSource(module=fake, calendar=support.calendar())
    source.get_bars("600000.XSHG", "1d", end=END, count=1)
    assert fake.tokens == ["s3cret-token-value"]
    assert "s3cret" not in repr(source) and "***" in repr(source)
    monkeypatch.delenv("TUSHARE_TOKEN")
    with pytest.raises(DataConfigError, match="TUSHARE_TOKEN"):
        TushareSource(module=fake)


def test_jqdata_account_is_masked_and_authenticated_once(monkeypatch):
    fake = support.FakeJqdata()
    source = JqdataSource("13800000000", "pa55word", module=fake, calendar=support.calendar())
    assert "pa55word" not in repr(source) and "13800000000" not in repr(source)
    source.get_bars("600000.XSHG", "1d", end=END, count=2)
    source.get_quotes(["600000.XSHG"], now=support.QUOTE_NOW)
    assert fake.auth_calls == [("13800000000", "pa55word")]
    monkeypatch.delenv("JQDATA_USERNAME", raising=False)
    with pytest.raises(DataConfigError, match="JQDATA_USERNAME"):
        JqdataSource(module=fake)


@pytest.mark.parametrize(
    "make",
    [
        lambda: MootdxSource(client=support.FakeMootdxClient(), calendar=support.calendar()),
        lambda: AkshareSource(module=support.FakeAkshare(), calendar=support.calendar()),
        lambda: TushareSource("t", module=support.FakeTushare(), calendar=support.calendar()),
        lambda: JqdataSource("u", "p", module=support.FakeJqdata(), calendar=support.calendar()),
        lambda: XtdataSource(module=support.FakeXtdata(), calendar=support.calendar()),
    ],
    ids=["mootdx", "akshare", "tushare", "jqdatasdk", "xtdata"],
)
def test_every_adapter_gives_the_sample_in_shares_and_yuan(make):
    source = make()
    for unit in (BarUnit.m1, BarUnit.d1):
        got = source.get_bars("600000.XSHG", unit, end=END, count=3)
        want = [b for b in support.bars("600000.XSHG", unit) if b.time <= END][-3:]
        assert got == want, f"{source.name} {unit}"
    quote = source.get_quotes(["510300.XSHG"], now=support.QUOTE_NOW)["510300.XSHG"]
    snap = support.snapshot("510300.XSHG", support.QUOTE_NOW)
    assert (quote.last, quote.pre_close, quote.volume) == (
        snap["last"],
        snap["pre_close"],
        snap["volume"],
    )
    assert quote.high_limit == snap["high_limit"] and quote.low_limit == Decimal(snap["low_limit"])


def test_mootdx_pages_back_and_refuses_codes_tdx_would_misread():
    client = support.FakeMootdxClient()
    source = MootdxSource(client=client, calendar=support.calendar())
    bars = source.get_bars("600000.XSHG", "1m", start=support.day_close(support.FIRST_DAY), end=END)
    assert len(bars) == 240 * 6
    assert client.calls.count("bars") == 3, (
        "from the latest bar back to 5-27: 2160 bars, 800 a page"
    )
    with pytest.raises(DataCodeError, match="mootdx"):
        source.get_bars("000001.XSHG", "1d", end=END, count=1)
    quote = source.get_quotes(["600000.XSHG"], now=support.QUOTE_NOW)["600000.XSHG"]
    assert quote.bids[0].volume == 1000 and quote.time == support.QUOTE_NOW


def test_akshare_keeps_the_whole_market_and_sees_suspensions():
    fake = support.FakeAkshare()
    source = AkshareSource(module=fake, calendar=support.calendar())
    quotes = source.get_quotes(["600000.XSHG"], now=support.QUOTE_NOW)
    assert {"600000.XSHG", "000001.XSHE", "600001.XSHG"} <= set(quotes)
    assert quotes["600001.XSHG"].paused and quotes["600001.XSHG"].last == Decimal("5")
    assert fake.calls == ["stock_zh_a_spot_em"], "no fund asked: no fund table"


def test_tushare_asks_for_at_most_50_codes_a_call():
    fake = support.FakeTushare()
    source = TushareSource("t", module=fake, calendar=support.calendar())
    codes = [f"600{n:03d}.XSHG" for n in range(120)]
    source.get_quotes(codes, now=support.QUOTE_NOW)
    assert fake.calls.count("realtime_quote") == 3


def test_xtdata_downloads_before_reading():
    fake = support.FakeXtdata()
    XtdataSource(module=fake, calendar=support.calendar()).get_bars(
        "000001.XSHE", "5m", end=END, count=2
    )
    assert fake.downloads == [("000001.SZ", "5m")]
    assert fake.calls == ["download_history_data", "get_market_data_ex"]


def test_public_api_is_pinned():
    assert sorted(public_names) == sorted(
        [
            "AbsDataSource",
            "Bar",
            "BarCache",
            "BarCacheError",
            "BarUnit",
            "BarUnitError",
            "CacheSource",
            "CsvImportError",
            "CurrentData",
            "CurrentDataItem",
            "DataCodeError",
            "DataConfigError",
            "DataError",
            "DataPackageMissingError",
            "DataSourceAuthError",
            "DataSourceError",
            "DataSourceResponseError",
            "DataSourceUnavailableError",
            "Level",
            "PandasMissingError",
            "Quote",
            "TtlQuoteSource",
            "UnknownDataSourceError",
            "get_bars",
            "get_price",
            "make_source",
            "day_limits",
        ]
    )
