"""Prices for the simulated broker: a seeded random walk or a CSV, inside the day's limits.

Nothing here knows a broker protocol: codes are jqtrade's (``600000.XSHG``; ``600000.SH`` is
accepted too), prices are ``Decimal``, and the time is whatever ``now`` the caller passes.
Price limits, ticks and rounding come from :mod:`jqtrade.model.rules`.
"""

from __future__ import annotations

import bisect
import csv
import datetime
import logging
import math
import os
import random
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Protocol, Union

import pendulum

from jqtrade.clock import MARKET_TZ
from jqtrade.errors import OrderRejectedError
from jqtrade.model.rules import (
    MAX_LIMIT_PRICE,
    Board,
    board_of,
    normalize_code,
    price_limits,
    round_tick,
    tick_size,
)
from jqtrade.model.sessions import TRADING_SESSIONS

log = logging.getLogger("jqtrade.sim")

#: Minutes of continuous trading in a day (09:30-11:30 and 13:00-15:00).
TRADING_MINUTES = 240

PricesArg = Union[Mapping[str, float], str, "os.PathLike[str]", None]

#: Base prices of the random walk by kind: yuan per share or per 张, a rate in % for repos.
_BASE_RANGES = {Board.convertible: (100.0, 130.0), Board.repo: (1.5, 3.0)}


def number_in(
    name: str, value: object, low: float, high: float, *, low_open: bool = False
) -> float:
    """``value`` as a float in [low, high] (or (low, high]); a Chinese ``ValueError`` otherwise."""
    try:
        number = float(value)  # type: ignore[arg-type]  # anything float() takes
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or number > high or number < low or (low_open and number == low):
        left = "(" if low_open else "["
        bounds = [f"{int(x):,}" if float(x).is_integer() else f"{x:g}" for x in (low, high)]
        raise ValueError(
            f"{name} 的值 {value!r} 不合法：应为 {left}{bounds[0]}, {bounds[1]}] 之间的有限数"
        )
    return number


def trading_minute(now: pendulum.DateTime) -> int:
    """Minutes of continuous trading elapsed at ``now`` (0 before the open, 240 after the close)."""
    t = now.time()
    (am_open, am_close), (pm_open, pm_close) = TRADING_SESSIONS
    seconds = t.hour * 3600 + t.minute * 60 + t.second
    if t < am_open:
        return 0
    if t < am_close:
        return (seconds - (am_open.hour * 3600 + am_open.minute * 60)) // 60
    if t < pm_open:
        return 120
    if t < pm_close:
        return 120 + (seconds - (pm_open.hour * 3600 + pm_open.minute * 60)) // 60
    return TRADING_MINUTES


def in_session(now: pendulum.DateTime) -> bool:
    """Whether ``now`` (market time) is in continuous trading, when orders can fill."""
    t = now.time()
    return any(start <= t < end for start, end in TRADING_SESSIONS)


_codes: dict[str, str] = {}


def as_code(text: str) -> str:
    """A code in either form as jqtrade's ``600000.XSHG``; a Chinese ``ValueError`` otherwise."""
    code = _codes.get(text)
    if code is None:
        try:
            code = normalize_code(text)
        except OrderRejectedError:
            raise ValueError(
                f"无法识别的证券代码 {text!r}（应为 600000.XSHG 或 600000.SH 这样的写法）"
            ) from None
        if len(_codes) < 100_000:
            _codes[text] = code
    return code


def _parse_when(text: str, fmt: str) -> datetime.datetime:
    """A CSV time; seconds may be left out (``09:31`` / ``2024-06-03 09:31``)."""
    text = text.replace("T", " ").replace("/", "-")
    try:
        return datetime.datetime.strptime(text, fmt)
    except ValueError:
        return datetime.datetime.strptime(text, fmt.replace(":%S", ""))


class Market(Protocol):
    """What the matching engine asks of its prices: the random walk, real bars or live quotes."""

    def price(self, code: str, now: pendulum.DateTime) -> Decimal: ...

    def prev_close(self, code: str, day: datetime.date) -> Decimal: ...

    def base_price(self, code: str) -> Decimal: ...


class PriceFeed:
    """Deterministic prices: a seeded per-minute random walk per code and day, or a CSV.

    The walk depends only on (seed, code, date, trading minute), so the same seed and the same
    times give the same prices however often they are asked. It starts each day at a previous
    close derived from the code's base price and stays inside the day's price limits. A CSV
    (``code,time,price``; time ``HH:MM:SS`` for every day or a full ``YYYY-MM-DD HH:MM:SS``)
    overrides the walk for the codes it lists: the last row at or before ``now`` applies.
    """

    def __init__(self, seed: int = 0, prices: PricesArg = None, volatility: float = 0.002) -> None:
        self.seed = seed
        self.volatility = volatility
        self._base: dict[str, Decimal] = {}
        # per code: rows with a full "YYYY-MM-DD HH:MM:SS" time, and rows with "HH:MM:SS" only
        self._dated: dict[str, list[tuple[str, Decimal]]] = {}
        self._daily: dict[str, list[tuple[str, Decimal]]] = {}
        self._paths: dict[tuple[str, datetime.date], list[Decimal]] = {}
        self._prev_closes: dict[tuple[str, datetime.date], Decimal] = {}
        self._keys: dict[tuple[str, str], list[str]] = {}
        if isinstance(prices, Mapping):
            for code, price in prices.items():
                value = number_in(f"{code} 的价格", price, 0, MAX_LIMIT_PRICE, low_open=True)
                self._base[as_code(code)] = Decimal(str(value))
        elif prices is not None:
            self._load_csv(Path(prices))

    def _load_csv(self, path: Path) -> None:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                try:
                    code = as_code(row["code"])
                    when = row["time"].strip()
                    price = Decimal(row["price"].strip())
                    if not price.is_finite() or price <= 0 or price > MAX_LIMIT_PRICE:
                        raise ValueError(price)
                    if len(when) > 8:
                        key = _parse_when(when, "%Y-%m-%d %H:%M:%S").strftime("%Y-%m-%d %H:%M:%S")
                        self._dated.setdefault(code, []).append((key, price))
                    else:
                        key = _parse_when(when, "%H:%M:%S").strftime("%H:%M:%S")
                        self._daily.setdefault(code, []).append((key, price))
                except (KeyError, ValueError, ArithmeticError, AttributeError, TypeError):
                    log.warning("价格文件 %s 中跳过无法解析的一行：%r", path, row)
        for table in (self._dated, self._daily):
            for rows in table.values():
                rows.sort(key=lambda item: item[0])
        self._keys = {
            (kind, code): [key for key, _ in rows]
            for kind, table in (("dated", self._dated), ("daily", self._daily))
            for code, rows in table.items()
        }

    def base_price(self, code: str) -> Decimal:
        price = self._base.get(code)
        if price is None:
            rng = random.Random(f"{self.seed}|base|{code}")
            low, high = _BASE_RANGES.get(board_of(code), (5.0, 50.0))
            price = round_tick(Decimal(str(round(rng.uniform(low, high), 3))), tick_size(code))
            self._base[code] = price
        return price

    def prev_close(self, code: str, day: datetime.date) -> Decimal:
        """The reference price of the day's limits (the first table price of the day for a CSV)."""
        key = (code, day)
        price = self._prev_closes.get(key)
        if price is None:  # asked for every working order on every poll: seeding a Random is slow
            price = self._prev_closes[key] = self._prev_close(as_code(code), day)
        return price

    def _prev_close(self, code: str, day: datetime.date) -> Decimal:
        if code in self._dated or code in self._daily:
            return self._from_table(
                code, pendulum.datetime(day.year, day.month, day.day, 9, 0, tz=MARKET_TZ)
            )
        base = self.base_price(code)
        if self.volatility <= 0:
            return base
        rng = random.Random(f"{self.seed}|day|{code}|{day.isoformat()}")
        drift = Decimal(str(math.exp(rng.gauss(0, self.volatility * 5))))
        return round_tick(base * drift, tick_size(code))

    def price(self, code: str, now: pendulum.DateTime) -> Decimal:
        code = as_code(code)
        now = now.in_tz(MARKET_TZ)
        if code in self._dated or code in self._daily:
            return self._from_table(code, now)
        day = now.date()
        path = self._paths.get((code, day))
        if path is None:
            if any(
                key[1] != day for key in self._paths
            ):  # paths are deterministic: keep today's only
                self._paths = {key: value for key, value in self._paths.items() if key[1] == day}
            path = self._paths[(code, day)] = self._walk(code, day)
        return path[trading_minute(now)]

    def _walk(self, code: str, day: datetime.date) -> list[Decimal]:
        prev = self.prev_close(code, day)
        low, high = price_limits(code, prev)
        tick = tick_size(code)
        rng = random.Random(f"{self.seed}|walk|{code}|{day.isoformat()}")
        value = float(prev)
        path = [prev]
        for _ in range(TRADING_MINUTES):
            if self.volatility > 0:
                value *= 1 + rng.gauss(0, self.volatility)
                value = min(max(value, float(low + tick)), float(high - tick))
            path.append(round_tick(Decimal(str(value)), tick))
        return path

    def _from_table(self, code: str, now: pendulum.DateTime) -> Decimal:
        """Last dated row at or before ``now``; else the last time-of-day row; else the first row."""
        dated = self._dated.get(code, [])
        index = bisect.bisect_right(
            self._keys.get(("dated", code), []), now.strftime("%Y-%m-%d %H:%M:%S")
        )
        if index:
            return dated[index - 1][1]
        daily = self._daily.get(code, [])
        index = bisect.bisect_right(self._keys.get(("daily", code), []), now.strftime("%H:%M:%S"))
        if index:
            return daily[index - 1][1]
        return (daily or dated)[0][1]
