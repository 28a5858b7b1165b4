"""Market data for strategies: sources, the local bar cache and the JoinQuant-style calls.

The names below are the data layer's public API; the modules behind them may move.
"""

from __future__ import annotations

from jqtrade.data.api import CurrentData, CurrentDataItem, get_bars, get_price
from jqtrade.data.cache import BarCache
from jqtrade.data.cache_source import CacheSource
from jqtrade.data.errors import (
    BarCacheError,
    BarUnitError,
    CsvImportError,
    DataCodeError,
    DataConfigError,
    DataError,
    DataPackageMissingError,
    DataSourceAuthError,
    DataSourceError,
    DataSourceResponseError,
    DataSourceUnavailableError,
    PandasMissingError,
    UnknownDataSourceError,
)
from jqtrade.data.models import Bar, BarUnit, Level, Quote
from jqtrade.data.quote_cache import TtlQuoteSource
from jqtrade.data.source import AbsDataSource
from jqtrade.data.sources import make_source
from jqtrade.model.rules import day_limits

__all__ = [
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
