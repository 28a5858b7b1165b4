"""Data-layer benchmarks (issue 14): reads from the local bar cache, warm.

Run: python bench/bench_data.py [--years 2] [--repeat 200]
Fills a temporary cache with synthetic bars in the real schema (a year of minute bars and 20
years of daily bars for one code), then times, warm (connection open, pages cached):

* a day of one-minute bars for one code (240 bars, ``BarCache.read`` by range);
* a year of daily bars (about 243 bars, by count);
* ``get_bars(..., 20, "1d")`` through ``CacheSource`` as a strategy calls it;
* a quote as of a time from the cache (``CacheSource.get_quotes``, one code).

Figures are for warm reads: the same read again is answered from the reads the cache
remembers (until the stored bars change), as when the simulated broker and the strategy's quotes
read the same day. "首次" is the first read of rows: from SQLite, every bar decoded.

Prints a table of figures with their targets; nothing here asserts (figures, not tests).
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pendulum  # noqa: E402  (after the path tweak, so the checkout's jqtrade is used)

from jqtrade.calendar import TradingCalendar  # noqa: E402
from jqtrade.data.api import get_bars  # noqa: E402
from jqtrade.data.cache import BarCache  # noqa: E402
from jqtrade.data.cache_source import CacheSource  # noqa: E402
from jqtrade.data.models import Bar, BarUnit  # noqa: E402
from jqtrade.data.sessions import bar_times, close_time  # noqa: E402

CODE = "600000.XSHG"


def synthetic(days: list[datetime.date], unit: BarUnit) -> list[Bar]:
    bars = []
    price = Decimal("10.00")
    for d, day in enumerate(days):
        for i, end in enumerate(bar_times(day, unit)):
            close = price + Decimal((i + d) % 17 - 8) / 100
            bars.append(
                Bar(
                    code=CODE,
                    unit=unit,
                    time=end,
                    open=close,
                    high=close + Decimal("0.02"),
                    low=close - Decimal("0.02"),
                    close=close,
                    volume=100 * (i % 50 + 1),
                    amount=close * 100 * (i % 50 + 1),
                )
            )
    return bars


def timed(func: Callable[[], object], repeat: int) -> tuple[float, float]:
    func()  # warm up
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), max(sorted(samples)[: int(len(samples) * 0.95)] or samples)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--years", type=int, default=1, help="years of minute bars to store (default 1)"
    )
    parser.add_argument(
        "--repeat", type=int, default=200, help="timed repetitions per figure (default 200)"
    )
    args = parser.parse_args()
    calendar = TradingCalendar.builtin()
    last = datetime.date(2024, 12, 31)
    minute_days = calendar.trading_days(datetime.date(last.year - args.years + 1, 1, 1), last)
    daily_days = calendar.trading_days(datetime.date(2005, 1, 4), last)
    with tempfile.TemporaryDirectory() as folder:
        cache = BarCache(Path(folder) / "data" / "bars.sqlite", calendar=calendar)
        start = time.perf_counter()
        written = cache.write(synthetic(minute_days, BarUnit.m1)) + cache.write(
            synthetic(daily_days, BarUnit.d1)
        )
        fill_s = time.perf_counter() - start
        size_mb = sum(p.stat().st_size for p in cache.path.parent.glob("bars.sqlite*")) / 1e6
        source = CacheSource(cache)
        day = datetime.date(2024, 6, 4)
        now = pendulum.datetime(2024, 6, 5, 10, 30, tz="Asia/Shanghai")
        minute_day = {
            "start": close_time(calendar.previous_trading_day(day)),
            "end": close_time(day),
        }

        def first_read() -> object:
            cache._memo.clear()  # forget decoded bars and remembered reads: a first read's cost
            cache._reads.clear()
            return cache.read(CODE, BarUnit.m1, **minute_day)

        def query_again() -> object:
            cache._reads.clear()  # the rows from SQLite again; their bars were decoded before
            return cache.read(CODE, BarUnit.m1, **minute_day)

        rows = [
            ("一天的 1m K 线（首次解码）", timed(first_read, args.repeat), "-"),
            ("一天的 1m K 线（再次查询 SQLite）", timed(query_again, args.repeat), "≤ 2 ms"),
            (
                "一天的 1m K 线（240 根，按时间范围）",
                timed(
                    lambda: cache.read(
                        CODE,
                        BarUnit.m1,
                        start=close_time(calendar.previous_trading_day(day)),
                        end=close_time(day),
                    ),
                    args.repeat,
                ),
                "≤ 2 ms",
            ),
            (
                "一年的 1d K 线（243 根，按数量）",
                timed(
                    lambda: cache.read(CODE, BarUnit.d1, end=close_time(day), count=243),
                    args.repeat,
                ),
                "≤ 2 ms",
            ),
            (
                "get_bars(code, 20, '1d')",
                timed(lambda: get_bars(source, CODE, 20, "1d", now=now), args.repeat),
                "-",
            ),
            (
                "get_bars(code, 240, '1m')",
                timed(lambda: get_bars(source, CODE, 240, "1m", now=now), args.repeat),
                "-",
            ),
            (
                "CacheSource 行情（1 个代码）",
                timed(lambda: source.get_quotes([CODE], now=now), args.repeat),
                "-",
            ),
        ]
        cache.close()
    print(
        f"缓存：{written:,} 根 K 线（{len(minute_days)} 个交易日的 1m、{len(daily_days)} 个交易日的 1d），"
        f"写入 {fill_s:.1f} 秒，文件 {size_mb:.0f} MB"
    )
    print(f"{'项目':<34}{'中位数 ms':>10}{'p95 ms':>10}  目标")
    for name, (median, p95), target in rows:
        print(f"{name:<34}{median:>10.3f}{p95:>10.3f}  {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
