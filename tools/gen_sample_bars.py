"""Write a deterministic sample of A-share bars into a bar cache (for tests, docs and trying out).

    python tools/gen_sample_bars.py --out /tmp/rt/data/bars.sqlite
    python tools/gen_sample_bars.py --out bars.sqlite --start 2024-01-02 --end 2024-12-31 \
        --minute 2024-06-03..2024-06-07

The bars are invented but shaped like the real thing, in the cache's real schema (unadjusted
prices on the tick, volumes in shares, amounts in yuan, bar times at their ends): a seeded
random walk of daily closes per code, and for every day a path of 240 one-minute bars from
the day's open to its close. The daily bar is always the aggregate of that minute path (open of
the first minute, highest high, lowest low, last close, summed volume and amount), whether
or not the minute bars of the day are written, so daily and minute bars always agree. Every
price stays inside the day's limits from :func:`jqtrade.model.rules.day_limits`.

Two days exercise the trading rules (both also returned by :func:`write_sample`):

* a **limit-up day** for the first code (the 10th trading day of the range, by default): the
  price reaches the limit-up in the morning and stays there to the close, the bars after that
  having open = high = low = close = limit-up;
* a **paused day** for the second code (the 15th trading day): no bars at all, recorded in the
  cache's ``filled`` table as asked for, which is how a suspension looks in the cache.

The same arguments always give the same bars (the generator depends on nothing but them).
"""

from __future__ import annotations

import argparse
import datetime
import math
import random
import sys
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Union

import attrs
import pendulum

from jqtrade.calendar import TradingCalendar
from jqtrade.clock import MARKET_TZ
from jqtrade.data.cache import BarCache
from jqtrade.data.models import Bar, BarUnit
from jqtrade.data.sessions import bar_times
from jqtrade.model.rules import day_limits, tick_size

#: (first close, yearly drift, daily volatility, typical daily volume in shares) per code.
PROFILES = {
    "600000.XSHG": (7.05, 0.10, 0.014, 30_000_000),  # 浦发银行, main board, 10 %
    "000001.XSHE": (9.20, 0.05, 0.016, 90_000_000),  # 平安银行, main board, 10 %
    "511880.XSHG": (101.770, 0.018, 0.0002, 4_000_000),  # 银华日利, money-market ETF, 0.001 tick
    "300750.XSHE": (160.00, 0.15, 0.025, 20_000_000),  # 宁德时代, ChiNext, 20 %
}
DEFAULT_CODES = tuple(PROFILES)
DEFAULT_START = datetime.date(2024, 1, 2)
DEFAULT_END = datetime.date(2024, 12, 31)

Minute = Union[bool, Iterable[datetime.date]]


@attrs.frozen(kw_only=True)
class Sample:
    """What :func:`write_sample` wrote."""

    path: Path
    codes: tuple[str, ...]
    days: tuple[datetime.date, ...]
    #: Code -> its limit-up day (the close and every bar after the morning at the limit-up).
    limit_up: dict[str, datetime.date]
    #: Code -> its paused day (no bars; the day is recorded as filled).
    paused: dict[str, datetime.date]
    daily_bars: int
    minute_bars: int


def write_sample(
    cache_path: Union[str, Path],
    codes: Sequence[str] = DEFAULT_CODES,
    start: datetime.date = DEFAULT_START,
    end: datetime.date = DEFAULT_END,
    minute: Minute = False,
    *,
    seed: int = 0,
    limit_up_index: int = 9,
    paused_index: int = 14,
) -> Sample:
    """Write daily bars of ``codes`` for the trading days ``start..end`` into the cache at
    ``cache_path`` (the file is created when missing), and minute bars for every day
    (``minute=True``), none (``False``) or the listed days.

    The first code's ``limit_up_index``-th trading day (0-based) is a limit-up day and the
    second code's ``paused_index``-th is a paused day, when the range is long enough.
    Codes outside :data:`PROFILES` get a profile derived from the seed.
    """
    calendar = TradingCalendar.builtin()
    days = calendar.trading_days(start, end)
    minute_days = set(days) if minute is True else set() if minute is False else set(minute)
    codes = tuple(codes)
    limit_up = {codes[0]: days[limit_up_index]} if codes and len(days) > limit_up_index else {}
    paused = {codes[1]: days[paused_index]} if len(codes) > 1 and len(days) > paused_index else {}
    daily_count = minute_count = 0
    with BarCache(cache_path) as cache:
        for code in codes:
            daily: list[Bar] = []
            minutes: list[Bar] = []
            tick = tick_size(code)
            for day, rows in _code_days(code, days, seed, limit_up.get(code), paused):
                if not rows:
                    continue
                daily.append(_daily_bar(code, day, rows, tick))
                if day in minute_days:
                    minutes.extend(_minute_bars(code, day, rows, tick))
            daily_count += cache.write(daily, source="sample")
            minute_count += cache.write(minutes, source="sample")
            if code in paused:
                cache.mark_filled(code, BarUnit.d1, [paused[code]], "sample")
                if paused[code] in minute_days:
                    cache.mark_filled(code, BarUnit.m1, [paused[code]], "sample")
    return Sample(
        path=Path(cache_path),
        codes=codes,
        days=tuple(days),
        limit_up=limit_up,
        paused=paused,
        daily_bars=daily_count,
        minute_bars=minute_count,
    )


def _profile(code: str, seed: int) -> tuple[float, float, float, int]:
    if code in PROFILES:
        return PROFILES[code]
    rng = random.Random(f"{seed}|profile|{code}")
    return (round(rng.uniform(5, 50), 2), rng.uniform(-0.1, 0.2), 0.018, 20_000_000)


Row = tuple[int, int, int, int, int, int]  # open, high, low, close (ticks), shares, amount (fen)


def _code_days(
    code: str,
    days: Sequence[datetime.date],
    seed: int,
    limit_up_day: object,
    paused: dict[str, datetime.date],
) -> Iterable[tuple[datetime.date, list[Row]]]:
    """(day, its minute rows) for every day; a paused day has none and keeps the close."""
    first, drift, sigma, volume = _profile(code, seed)
    tick = tick_size(code)
    prev = round(first / float(tick))
    for day in days:
        if paused.get(code) == day:
            yield day, []
            continue
        rng = random.Random(f"{seed}|{code}|{day.isoformat()}")
        limits = day_limits(code, prev * tick, day)
        lo, hi = (int(x / tick) for x in limits) if limits else (1, 10**12)
        p = float(prev)
        limit_up = day == limit_up_day
        if limit_up:
            opening = min(p * (1 + abs(rng.gauss(0, sigma))), hi)
            closing: float = hi
        else:
            opening = min(max(p * (1 + rng.gauss(0, sigma / 4)), lo), hi)
            closing = min(max(p * math.exp(rng.gauss(drift / 242, sigma)), lo), hi)
        path = _path(rng, opening, closing, sigma, lo, hi, limit_up=limit_up)
        rows = _minute_rows(path, rng, volume, sigma, tick, lo, hi)
        prev = rows[-1][3]
        yield day, rows


def _path(
    rng: random.Random,
    opening: float,
    closing: float,
    sigma: float,
    lo: int,
    hi: int,
    *,
    limit_up: bool,
) -> list[int]:
    """241 prices in ticks: the open, then each minute's close; a Brownian bridge in limits."""
    n = 240
    step = sigma / math.sqrt(n) * 1.2
    r = rng.random
    walk = [0.0]
    for _ in range(n):  # a sum of three uniforms is close enough to normal, and much faster
        walk.append(walk[-1] + (r() + r() + r() - 1.5) * 2 * step)
    total = walk[-1]
    span = closing / opening
    path = [opening * span ** (i / n) * math.exp(w - total * i / n) for i, w in enumerate(walk)]
    if limit_up:  # reaches the limit-up by mid-morning and stays there
        reach = rng.randrange(30, 90)
        for i in range(1, n + 1):
            path[i] = hi if i >= reach else opening + (hi - opening) * i / reach
    return [min(max(round(x), lo), hi) for x in path]


_PROFILE = [1.0 + 2.5 * math.exp(-i / 20) + 1.5 * math.exp(-(239 - i) / 25) for i in range(240)]
_PROFILE_SUM = sum(_PROFILE)


def _minute_rows(
    path: list[int],
    rng: random.Random,
    volume: int,
    sigma: float,
    tick: Decimal,
    lo: int,
    hi: int,
) -> list[Row]:
    """Minute bars along ``path``: wiggles above and below it, inside [lo, hi] (ticks)."""
    day_volume = volume * math.exp(rng.gauss(0, 0.35)) / _PROFILE_SUM / 100
    tick_f = float(tick)
    r = rng.random
    rows = []
    for i in range(240):
        o, c = path[i], path[i + 1]
        if o == c == hi:  # sealed at the limit-up: one price, thin trading
            h = low = o
            lots = max(1, int(day_volume * _PROFILE[i] * 0.05))
        else:
            scale = o * sigma * 0.04
            h = min(max(o, c) + round(r() * r() * 2 * scale), hi)
            low = max(min(o, c) - round(r() * r() * 2 * scale), lo)
            lots = max(1, int(day_volume * _PROFILE[i] * (0.6 + 0.8 * r())))
        shares = lots * 100
        rows.append((o, h, low, c, shares, round((o + h + low + c) / 4 * tick_f * shares * 100)))
    return rows


def _minute_bars(code: str, day: datetime.date, rows: Sequence[Row], tick: Decimal) -> list[Bar]:
    return [
        Bar(
            code=code,
            unit=BarUnit.m1,
            time=pendulum.DateTime(
                day.year, day.month, day.day, t.hour, t.minute, tzinfo=MARKET_TZ
            ),
            open=o * tick,
            high=h * tick,
            low=low * tick,
            close=c * tick,
            volume=v,
            amount=Decimal(a).scaleb(-2),
        )
        for t, (o, h, low, c, v, a) in zip(bar_times(day, BarUnit.m1), rows)
    ]


def _daily_bar(code: str, day: datetime.date, rows: Sequence[Row], tick: Decimal) -> Bar:
    return Bar(
        code=code,
        unit=BarUnit.d1,
        time=pendulum.DateTime(day.year, day.month, day.day, 15, 0, tzinfo=MARKET_TZ),
        open=rows[0][0] * tick,
        high=max(r[1] for r in rows) * tick,
        low=min(r[2] for r in rows) * tick,
        close=rows[-1][3] * tick,
        volume=sum(r[4] for r in rows),
        amount=Decimal(sum(r[5] for r in rows)).scaleb(-2),
    )


def _day_range(text: str) -> list[datetime.date]:
    first, _, last = text.partition("..")
    start = datetime.date.fromisoformat(first)
    end = datetime.date.fromisoformat(last) if last else start
    return TradingCalendar.builtin().trading_days(start, end)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="把确定性的示例 K 线写入 K 线缓存（测试和试用）")
    parser.add_argument("--out", required=True, help="缓存文件，如 <运行时目录>/data/bars.sqlite")
    parser.add_argument("--codes", default=",".join(DEFAULT_CODES), help="代码，逗号分隔")
    parser.add_argument("--start", default=DEFAULT_START.isoformat(), help="开始日期 YYYY-MM-DD")
    parser.add_argument("--end", default=DEFAULT_END.isoformat(), help="结束日期 YYYY-MM-DD")
    parser.add_argument(
        "--minute",
        default="",
        help="写 1 分钟线的日期：all 表示全部，或 YYYY-MM-DD[..YYYY-MM-DD]，逗号分隔；默认不写",
    )
    parser.add_argument("--seed", type=int, default=0, help="随机种子，默认 0")
    args = parser.parse_args(argv)
    minute: Minute
    if args.minute == "all":
        minute = True
    else:
        minute = [d for part in args.minute.split(",") if part for d in _day_range(part)]
    sample = write_sample(
        args.out,
        codes=[c.strip() for c in args.codes.split(",") if c.strip()],
        start=datetime.date.fromisoformat(args.start),
        end=datetime.date.fromisoformat(args.end),
        minute=minute,
        seed=args.seed,
    )
    print(
        f"已写入 {sample.path}：{len(sample.codes)} 个代码，{len(sample.days)} 个交易日，"
        f"日线 {sample.daily_bars} 根，1 分钟线 {sample.minute_bars} 根；"
        f"涨停日 {sample.limit_up}，停牌日 {sample.paused}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
