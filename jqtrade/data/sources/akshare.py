"""akshare: free data scraped from Eastmoney (``pip install "jqtrade[akshare]"``).

Calls made (akshare 1.x), all unadjusted (``adjust=""``):

* daily bars: ``stock_zh_a_hist(symbol="600000", period="daily", start_date="YYYYMMDD",
  end_date="YYYYMMDD", adjust="")`` for stocks, ``fund_etf_hist_em(...)`` (same arguments) for
  exchange-traded funds; columns ``日期``, ``开盘``, ``收盘``, ``最高``, ``最低``, ``成交量``
  (lots, 手), ``成交额`` (yuan);
* minute bars: ``stock_zh_a_hist_min_em(symbol="600000", start_date="YYYY-MM-DD HH:MM:SS",
  end_date=..., period="1" or "5", adjust="")``, ``fund_etf_hist_min_em(...)`` for funds;
  columns ``时间`` (bar end), ``开盘``, ``收盘``, ``最高``, ``最低``, ``成交量`` (lots), ``成交额``.
  Eastmoney serves only the last five trading days of one-minute bars;
* quotes: ``stock_zh_a_spot_em()`` (columns ``代码``, ``最新价``, ``今开``, ``最高``, ``最低``,
  ``昨收``, ``成交量`` (lots), ``成交额``) and, when a fund is asked for, ``fund_etf_spot_em()``
  (``代码``, ``最新价``, ``开盘价``, ``最高价``, ``最低价``, ``昨收``, ``成交量``, ``成交额``).
  Each returns the whole market, so every quote is kept for the next lookups.

akshare's codes are six digits: the exchange is taken from them (6/5/9: SSE, 0/1/3: SZSE), so
indices are not served. A row without a latest price is a suspended security.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Optional

import pendulum

from jqtrade.calendar import TradingCalendar
from jqtrade.data.models import Bar, BarUnit, Quote, market_time, to_price
from jqtrade.data.sessions import close_time
from jqtrade.data.source import AbsDataSource
from jqtrade.data.sources._common import call, load, lot_size, missing, records
from jqtrade.model.rules import Board, board_of, day_limits, split_code

__all__ = ["AkshareSource"]

_BAR_COLUMNS = ("开盘", "收盘", "最高", "最低", "成交量", "成交额")
_STOCK_SPOT = {"last": "最新价", "open": "今开", "high": "最高", "low": "最低", "pre_close": "昨收"}
_FUND_SPOT = {
    "last": "最新价",
    "open": "开盘价",
    "high": "最高价",
    "low": "最低价",
    "pre_close": "昨收",
}


def _exchange_of(digits: str) -> Optional[str]:
    if digits.startswith(("6", "5", "9")):
        return "XSHG"
    if digits.startswith(("0", "1", "2", "3")):
        return "XSHE"
    return None  # Beijing (4, 8) and others


class AkshareSource(AbsDataSource):
    """Bars and quotes from Eastmoney through akshare."""

    name = "akshare"
    native_units = frozenset({BarUnit.m1, BarUnit.m5, BarUnit.d1})
    live = True

    def __init__(self, *, module: Any = None, calendar: Optional[TradingCalendar] = None) -> None:
        super().__init__(calendar=calendar)
        self._ak = module or load(self.name, "akshare", "akshare", "akshare")

    def fetch_bars(
        self, code: str, unit: BarUnit, start: pendulum.DateTime, end: pendulum.DateTime
    ) -> list[Bar]:
        digits, _ = split_code(code)
        fund = board_of(code) is Board.fund
        if unit is BarUnit.d1:
            func = self._ak.fund_etf_hist_em if fund else self._ak.stock_zh_a_hist
            table = call(
                self.name,
                func,
                symbol=digits,
                period="daily",
                start_date=start.format("YYYYMMDD"),
                end_date=end.format("YYYYMMDD"),
                adjust="",
            )
            time_column = "日期"
        else:
            func = self._ak.fund_etf_hist_min_em if fund else self._ak.stock_zh_a_hist_min_em
            table = call(
                self.name,
                func,
                symbol=digits,
                start_date=start.format("YYYY-MM-DD HH:mm:ss"),
                end_date=end.format("YYYY-MM-DD HH:mm:ss"),
                period=str(unit.minutes),
                adjust="",
            )
            time_column = "时间"
        bars = []
        for row in records(self.name, table, (time_column, *_BAR_COLUMNS), func.__name__):
            if any(missing(row[c]) for c in (time_column, *_BAR_COLUMNS)):
                continue
            when = row[time_column]
            time = (
                close_time(market_time(when).date())
                if unit is BarUnit.d1
                else market_time(when if not isinstance(when, str) else when.strip())
            )
            try:
                bars.append(
                    Bar.create(
                        code=code,
                        unit=unit,
                        time=time,
                        open=row["开盘"],
                        high=row["最高"],
                        low=row["最低"],
                        close=row["收盘"],
                        volume=float(row["成交量"]) * lot_size(code),
                        amount=row["成交额"],
                    )
                )
            except ValueError:
                continue
        return [b for b in bars if start < b.time <= end]

    def fetch_quotes(self, codes: Sequence[str], now: pendulum.DateTime) -> dict[str, Quote]:
        quotes: dict[str, Quote] = {}
        tables = [(self._ak.stock_zh_a_spot_em, _STOCK_SPOT)]
        if any(board_of(code) is Board.fund for code in codes):
            tables.append((self._ak.fund_etf_spot_em, _FUND_SPOT))
        for func, names in tables:
            table = call(self.name, func)
            required = ("代码", "成交量", "成交额", *names.values())
            for row in records(self.name, table, required, func.__name__):
                quote = self._quote(row, names, now)
                if quote is not None:
                    quotes[quote.code] = quote
        return quotes

    def _quote(
        self, row: dict[str, Any], names: dict[str, str], now: pendulum.DateTime
    ) -> Optional[Quote]:
        digits = str(row["代码"]).strip().zfill(6)
        exchange = _exchange_of(digits)
        if exchange is None or missing(row[names["pre_close"]]):
            return None
        code = f"{digits}.{exchange}"
        pre_close = to_price(row[names["pre_close"]])
        if pre_close <= 0:
            return None
        paused = missing(row[names["last"]]) or missing(row[names["open"]])

        def price(key: str) -> Any:
            value = row[names[key]]
            return 0 if missing(value) else value

        limits = day_limits(code, pre_close, now.date())
        return Quote.create(
            code=code,
            time=now,
            last=pre_close if paused else price("last"),
            open=price("open"),
            high=price("high"),
            low=price("low"),
            pre_close=pre_close,
            high_limit=limits[1] if limits else None,
            low_limit=limits[0] if limits else None,
            volume=0 if missing(row["成交量"]) else float(row["成交量"]) * lot_size(code),
            amount=0 if missing(row["成交额"]) else row["成交额"],
            paused=paused,
        )
