"""Paper trading on live quotes: the simulated broker prices orders from a market-data source.

``QuoteMarket`` answers what the broker asks a :class:`~jqtrade.sim.market.PriceFeed`
(``price``, ``prev_close``, ``base_price``) from the last quote of each code, so a limit order
fills when the real last price trades through it and a priced-at-best order at the real last
price. A code the source cannot price now (not configured yet, a network failure, a code it
does not know) is priced by the random walk, with one warning per code: the log always says
which prices are made up.

The source is looked up through a callable, because the strategy names it (``data_source``)
in ``process_initialize``, after the broker exists.
"""

from __future__ import annotations

import datetime
import logging
from decimal import Decimal
from typing import Callable, Optional

import pendulum

from jqtrade.clock import MARKET_TZ
from jqtrade.data.errors import DataError
from jqtrade.data.models import Quote
from jqtrade.data.source import AbsDataSource
from jqtrade.sim.market import PriceFeed, as_code

log = logging.getLogger("jqtrade.sim")

#: How long a quote is used before the source is asked again (seconds of the clock's time).
QUOTE_TTL = 3.0


class QuoteMarket:
    """Live quotes from ``source()`` (``None``: none configured yet), ``fallback`` otherwise."""

    def __init__(
        self,
        source: Callable[[], Optional[AbsDataSource]],
        fallback: Optional[PriceFeed] = None,
        *,
        ttl: float = QUOTE_TTL,
    ) -> None:
        self._source = source
        self.fallback = fallback if fallback is not None else PriceFeed()
        self.ttl = ttl
        self._quotes: dict[str, tuple[pendulum.DateTime, Optional[Quote]]] = {}
        self._warned: set[str] = set()
        self._now: Optional[pendulum.DateTime] = None  # the latest time the broker asked about

    def price(self, code: str, now: pendulum.DateTime) -> Decimal:
        code = as_code(code)
        quote = self._quote(code, now)
        if quote is None or quote.last <= 0:
            return self._fall_back(code, "没有最新价").price(code, now)
        return quote.last

    def prev_close(self, code: str, day: datetime.date) -> Decimal:
        code = as_code(code)
        now = self._now
        if now is None or now.in_tz(MARKET_TZ).date() != day:
            now = pendulum.datetime(day.year, day.month, day.day, 9, 15, tz=MARKET_TZ)
        quote = self._quote(code, now)
        if quote is None or quote.pre_close <= 0 or quote.time.in_tz(MARKET_TZ).date() != day:
            return self.fallback.prev_close(code, day)
        return quote.pre_close

    def base_price(self, code: str) -> Decimal:
        return self.fallback.base_price(as_code(code))

    def _quote(self, code: str, now: pendulum.DateTime) -> Optional[Quote]:
        if self._now is None or now > self._now:
            self._now = now
        entry = self._quotes.get(code)
        if entry is not None and abs((now - entry[0]).total_seconds()) < self.ttl:
            return entry[1]
        source = self._source()
        quote: Optional[Quote] = None
        if source is not None:
            try:
                quote = source.get_quotes([code], now=now).get(code)
            except (DataError, OSError) as exc:  # a failing source prices nothing; say why once
                self._fall_back(code, f"行情源出错：{exc}")
        self._quotes[code] = (now, quote)
        return quote

    def _fall_back(self, code: str, why: str) -> PriceFeed:
        if code not in self._warned:
            self._warned.add(code)
            log.warning(
                "模拟券商拿不到 %s 的实时行情（%s）：该代码改用随机行情（模拟价格，不是真实行情）；"
                "请用 set_options(data_source=...) 设置行情源",
                code,
                why,
            )
        return self.fallback
