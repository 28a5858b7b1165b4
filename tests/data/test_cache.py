from __future__ import annotations

import datetime
import sqlite3
from decimal import Decimal

import data_support as support
import pendulum
import pytest

from jqtrade.data.cache import BarCache
from jqtrade.data.errors import BarCacheError, DataConfigError
from jqtrade.data.models import BarUnit
from jqtrade.data.sources.mootdx import MootdxSource

TZ = "Asia/Shanghai"


def test_reads_round_trip_exactly(cache):
    end = pendulum.datetime(2024, 6, 4, 15, tz=TZ)
    got = cache.read("600000.XSHG", BarUnit.m1, end=end, count=240)
    want = [b for b in support.minute_bars("600000.XSHG") if b.time <= end][-240:]
    assert got == want
    assert got[0].time == pendulum.datetime(2024, 6, 4, 9, 31, tz=TZ)
    assert isinstance(got[0].close, Decimal) and got[0].time.timezone_name == TZ


def test_reads_never_return_bars_after_end(cache):
    end = pendulum.datetime(2024, 6, 4, 10, 0, 30, tz=TZ)
    bars = cache.read("600000.XSHG", BarUnit.m1, end=end, count=1000)
    assert bars[-1].time == pendulum.datetime(2024, 6, 4, 10, 0, tz=TZ)
    daily = cache.read("600000.XSHG", BarUnit.d1, end=end, count=3)
    assert [b.time.date() for b in daily] == [
        datetime.date(2024, 5, 30),
        datetime.date(2024, 5, 31),
        datetime.date(2024, 6, 3),
    ]


def test_range_read_excludes_start_and_includes_end(cache):
    start = pendulum.datetime(2024, 6, 3, 15, tz=TZ)
    end = pendulum.datetime(2024, 6, 5, 15, tz=TZ)
    days = cache.read("000001.XSHE", BarUnit.d1, start=start, end=end)
    assert [b.time.date() for b in days] == [datetime.date(2024, 6, 4), datetime.date(2024, 6, 5)]


def test_file_is_wal_and_versioned(cache):
    db = sqlite3.connect(cache.path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == "1"
    keys = db.execute("SELECT name FROM pragma_index_list('bars')").fetchall()
    assert keys, "the (code, unit, ts) primary key"
    db.close()


def test_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "bars.sqlite"
    BarCache(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value='9' WHERE key='schema_version'")
    db.commit()
    db.close()
    with pytest.raises(BarCacheError, match="版本为 9"):
        BarCache(path)


def test_a_file_that_is_not_sqlite_is_refused(tmp_path):
    path = tmp_path / "bars.sqlite"
    path.write_bytes(b"not a database" * 100)
    with pytest.raises(BarCacheError, match="损坏"):
        BarCache(path)


def test_writing_the_same_bars_twice_keeps_one_copy(cache):
    bars = support.daily_bars("600000.XSHG")
    cache.write(bars)
    assert cache.extent("600000.XSHG", BarUnit.d1)[2] == len(bars)


def _mootdx():
    client = support.FakeMootdxClient()
    return client, MootdxSource(client=client, calendar=support.calendar())


def test_fill_fetches_only_missing_days(tmp_path):
    client, source = _mootdx()
    now = pendulum.datetime(2024, 6, 7, 16, tz=TZ)
    with BarCache(tmp_path / "bars.sqlite", calendar=support.calendar()) as cache:
        first = cache.fill(
            source,
            "600000.XSHG",
            "1d",
            datetime.date(2024, 5, 27),
            datetime.date(2024, 6, 5),
            now=now,
        )
        assert (first.days_fetched, first.days_cached, first.bars_written) == (8, 0, 8)
        calls = len(client.calls)
        again = cache.fill(
            source,
            "600000.XSHG",
            "1d",
            datetime.date(2024, 5, 27),
            datetime.date(2024, 6, 5),
            now=now,
        )
        assert (again.days_fetched, again.days_cached) == (0, 8)
        assert len(client.calls) == calls, "nothing missing: no request"
        more = cache.fill(
            source,
            "600000.XSHG",
            "1d",
            datetime.date(2024, 5, 27),
            datetime.date(2024, 6, 7),
            now=now,
        )
        assert (more.days_fetched, more.bars_written) == (2, 2)
        assert cache.extent("600000.XSHG", "1d")[2] == 10


def test_fill_does_not_record_a_day_that_is_not_over(tmp_path):
    client, source = _mootdx()
    now = pendulum.datetime(2024, 6, 4, 10, 30, tz=TZ)
    with BarCache(tmp_path / "bars.sqlite", calendar=support.calendar()) as cache:
        report = cache.fill(
            source,
            "600000.XSHG",
            "1m",
            datetime.date(2024, 6, 3),
            datetime.date(2024, 6, 4),
            now=now,
        )
        assert report.error is None
        bars = cache.read("600000.XSHG", "1m", end=pendulum.datetime(2024, 6, 5, tz=TZ), count=1000)
        assert bars[-1].time == now, "today only up to now"
        assert cache.filled_days(
            "600000.XSHG", BarUnit.m1, datetime.date(2024, 6, 1), datetime.date(2024, 6, 7)
        ) == {datetime.date(2024, 6, 3)}


def test_fill_reports_a_failure_and_keeps_what_it_had(tmp_path):
    client, source = _mootdx()
    client.broken = True
    now = pendulum.datetime(2024, 6, 7, 16, tz=TZ)
    progress = []
    with BarCache(tmp_path / "bars.sqlite", calendar=support.calendar()) as cache:
        report = cache.fill(
            source,
            "600000.XSHG",
            "1d",
            datetime.date(2024, 5, 27),
            datetime.date(2024, 6, 7),
            now=now,
            progress=lambda done, total: progress.append((done, total)),
        )
        assert report.error is not None and "mootdx" in report.error
        assert report.bars_written == 0
        assert progress == [(0, 10)]


def test_fill_refuses_five_minute_bars(cache):
    with pytest.raises(DataConfigError, match="5m"):
        cache.fill(
            None,
            "600000.XSHG",
            "5m",
            datetime.date(2024, 6, 3),
            datetime.date(2024, 6, 4),
            now=pendulum.now(TZ),
        )


def test_codes_lists_what_is_stored(cache):
    stored = {(c, u): n for c, u, n in cache.codes()}
    assert stored[("600000.XSHG", BarUnit.m1)] == 240 * 10
    assert stored[("510300.XSHG", BarUnit.d1)] == 10


def test_in_runtime_dir_uses_the_documented_path(tmp_path):
    with BarCache.in_runtime_dir(tmp_path) as cache:
        assert cache.path == tmp_path / "data" / "bars.sqlite"


def test_remembered_bars_stay_bounded_and_reads_stay_right(cache, monkeypatch):
    """A long simulation reads every bar of a year: what is kept for warm reads must not grow."""
    import jqtrade.data.cache as cache_module

    monkeypatch.setattr(cache_module, "MEMO_BARS", 500)
    every = support.minute_bars("600000.XSHG")
    days = sorted({b.time.date() for b in every})
    for _ in range(2):
        for day in days:  # 10 days of 240 bars: 2,400 distinct bars
            end = pendulum.datetime(day.year, day.month, day.day, 15, tz=TZ)
            want = [b for b in every if b.time <= end][-240:]
            assert cache.read("600000.XSHG", BarUnit.m1, end=end, count=240) == want
            assert len(cache._memo) <= 500 + 240
