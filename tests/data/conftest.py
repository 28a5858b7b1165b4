"""Fixtures of the data tests: a cache filled with the sample market (tests/data/support.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import data_support as support
import pytest

from jqtrade.data.cache import BarCache
from jqtrade.data.cache_source import CacheSource


def fill_sample(cache: BarCache) -> None:
    for code in support.CODES:
        cache.write(support.minute_bars(code), source="sample")
        cache.write(support.daily_bars(code), source="sample")


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[BarCache]:
    with BarCache(tmp_path / "data" / "bars.sqlite", calendar=support.calendar()) as bar_cache:
        fill_sample(bar_cache)
        yield bar_cache


@pytest.fixture
def cache_source(cache: BarCache) -> CacheSource:
    return CacheSource(cache)
