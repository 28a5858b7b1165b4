"""The data-source contract suite, run over the cache and every adapter with its library's fake."""

from __future__ import annotations

import data_support as support
import pytest

from jqtrade.data.cache_source import CacheSource
from jqtrade.data.contract import DataSourceContract
from jqtrade.data.source import AbsDataSource
from jqtrade.data.sources.akshare import AkshareSource
from jqtrade.data.sources.jqdatasdk import JqdataSource
from jqtrade.data.sources.mootdx import MootdxSource
from jqtrade.data.sources.tushare import TushareSource
from jqtrade.data.sources.xtdata import XtdataSource


class _Sample(DataSourceContract):
    code = "600000.XSHG"
    other_code = "000001.XSHE"
    unknown_code = "600999.XSHG"
    day = support.DAY
    quote_now = support.QUOTE_NOW


class TestCacheSource(_Sample):
    @pytest.fixture
    def source(self, cache):
        return CacheSource(cache)


class TestMootdx(_Sample):
    @pytest.fixture
    def source(self):
        self.fake = support.FakeMootdxClient()
        return MootdxSource(
            quotes_module=support.FakeMootdxModule(self.fake), calendar=support.calendar()
        )

    def break_source(self, source: AbsDataSource) -> None:
        self.fake.broken = True


class TestAkshare(_Sample):
    @pytest.fixture
    def source(self):
        self.fake = support.FakeAkshare()
        return AkshareSource(module=self.fake, calendar=support.calendar())

    def break_source(self, source: AbsDataSource) -> None:
        self.fake.broken = True


class TestTushare(_Sample):
    @pytest.fixture
    def source(self):
        self.fake = support.FakeTushare()
        return TushareSource("t0ken-secret", module=self.fake, calendar=support.calendar())

    def break_source(self, source: AbsDataSource) -> None:
        self.fake.broken = True


class TestJqdatasdk(_Sample):
    @pytest.fixture
    def source(self):
        self.fake = support.FakeJqdata()
        return JqdataSource(
            "13800000000", "pa55word", module=self.fake, calendar=support.calendar()
        )

    def break_source(self, source: AbsDataSource) -> None:
        self.fake.broken = True


class TestXtdata(_Sample):
    @pytest.fixture
    def source(self):
        self.fake = support.FakeXtdata()
        return XtdataSource(module=self.fake, calendar=support.calendar())

    def break_source(self, source: AbsDataSource) -> None:
        self.fake.broken = True
