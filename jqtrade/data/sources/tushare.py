"""tushare Pro: needs a token (``pip install "jqtrade[tushare]"``).

The token comes from the ``token`` argument or the ``TUSHARE_TOKEN`` environment variable; it
is passed to ``tushare.pro_api(token)`` and never logged or shown. Calls made (tushare 1.4):

* daily bars: ``pro.daily(ts_code="600000.SH", start_date="YYYYMMDD", end_date="YYYYMMDD")``;
  columns ``trade_date``, ``open``, ``high``, ``low``, ``close``, ``vol`` (lots, 手),
  ``amount`` (thousands of yuan); at most 6000 rows a call, so long ranges are split;
* minute bars: ``pro.stk_mins(ts_code="600000.SH", freq="1min" or "5min",
  start_date="YYYY-MM-DD HH:MM:SS", end_date=...)`` (a separate minute permission); columns
  ``trade_time`` (bar end), ``open``, ``close``, ``high``, ``low``, ``vol`` (shares),
  ``amount`` (yuan); at most 8000 rows a call, so requests span 30 trading days;
* quotes: ``tushare.realtime_quote(ts_code="600000.SH,000001.SZ")`` (Sina, at most 50 codes a
  call); columns ``TS_CODE``, ``DATE``, ``TIME``, ``PRICE``, ``OPEN``, ``HIGH``, ``LOW``,
  ``PRE_CLOSE``, ``VOLUME`` (shares), ``AMOUNT`` (yuan), ``B1_P``..``B5_P``, ``B1_V``..``B5_V``
  and ``A1_P``..``A5_V`` (volumes in lots).

Limits are computed from the previous close; a code with no trade and no open after 09:30 is
taken as paused.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Optional

import pendulum

from jqtrade.calendar import TradingCalendar
from jqtrade.data.errors import DataConfigError
from jqtrade.data.models import Bar, BarUnit, Quote, market_time, to_price
from jqtrade.data.sessions import close_time
from jqtrade.data.source import AbsDataSource
from jqtrade.data.sources._common import (
    call,
    chunks,
    field,
    from_broker_code,
    load,
    lot_size,
    mask,
    missing,
    paused_by_heuristic,
    records,
)
from jqtrade.model.rules import day_limits, suffix_code

__all__ = ["TOKEN_ENV", "TushareSource"]

#: The environment variable the token is read from when not given.
TOKEN_ENV = "TUSHARE_TOKEN"

_DAILY_COLUMNS = ("trade_date", "open", "high", "low", "close", "vol", "amount")
_MINUTE_COLUMNS = ("trade_time", "open", "high", "low", "close", "vol", "amount")
_MINUTE_SPAN = 30  # trading days of minute bars per request (240 × 30 = 7200 < 8000 rows)
_DAILY_SPAN = 5000


class TushareSource(AbsDataSource):
    """Bars from tushare Pro, quotes from ``tushare.realtime_quote``."""

    name = "tushare"
    native_units = frozenset({BarUnit.m1, BarUnit.m5, BarUnit.d1})
    live = True

    def __init__(
        self,
        token: Optional[str] = None,
        *,
        module: Any = None,
        calendar: Optional[TradingCalendar] = None,
    ) -> None:
        super().__init__(calendar=calendar)
        self._token = token or os.environ.get(TOKEN_ENV) or None
        if not self._token:
            raise DataConfigError(
                f"行情源 tushare 需要 token：请设置环境变量 {TOKEN_ENV}，或在配置中提供 token"
            )
        self._ts = module or load(self.name, "tushare", "tushare", "tushare")
        self._pro: Any = None

    def __repr__(self) -> str:
        return f"<TushareSource token={mask(self._token)}>"

    def _api(self) -> Any:
        if self._pro is None:
            self._pro = call(self.name, self._ts.pro_api, self._token)
        return self._pro

    def fetch_bars(
        self, code: str, unit: BarUnit, start: pendulum.DateTime, end: pendulum.DateTime
    ) -> list[Bar]:
        pro = self._api()
        ts_code = suffix_code(code)
        bars: list[Bar] = []
        span = _DAILY_SPAN if unit is BarUnit.d1 else _MINUTE_SPAN
        for first, last in self._spans(start, end, span):
            if unit is BarUnit.d1:
                table = call(
                    self.name,
                    pro.daily,
                    ts_code=ts_code,
                    start_date=first.format("YYYYMMDD"),
                    end_date=last.format("YYYYMMDD"),
                )
                rows = records(self.name, table, _DAILY_COLUMNS, "daily")
            else:
                table = call(
                    self.name,
                    pro.stk_mins,
                    ts_code=ts_code,
                    freq=f"{unit.minutes}min",
                    start_date=first.format("YYYY-MM-DD HH:mm:ss"),
                    end_date=last.format("YYYY-MM-DD HH:mm:ss"),
                )
                rows = records(self.name, table, _MINUTE_COLUMNS, "stk_mins")
            for row in rows:
                bar = self._bar(code, unit, row)
                if bar is not None and start < bar.time <= end:
                    bars.append(bar)
        return sorted(bars, key=lambda b: b.time)

    def _spans(
        self, start: pendulum.DateTime, end: pendulum.DateTime, days: int
    ) -> list[tuple[pendulum.DateTime, pendulum.DateTime]]:
        trading = self.calendar.trading_days(start.date(), end.date())
        spans = []
        for group in chunks(trading, days):
            first = pendulum.datetime(
                group[0].year, group[0].month, group[0].day, 9, 0, tz=start.timezone
            )
            spans.append((max(first, start), min(close_time(group[-1]), end)))
        return spans

    @staticmethod
    def _bar(code: str, unit: BarUnit, row: dict[str, Any]) -> Optional[Bar]:
        columns = _DAILY_COLUMNS if unit is BarUnit.d1 else _MINUTE_COLUMNS
        if any(missing(row[c]) for c in columns):
            return None
        try:
            if unit is BarUnit.d1:
                text = str(row["trade_date"])
                time = close_time(market_time(f"{text[:4]}-{text[4:6]}-{text[6:8]}").date())
                volume = float(row["vol"]) * lot_size(code)
                amount = float(row["amount"]) * 1000
            else:
                time = market_time(str(row["trade_time"]))
                volume, amount = float(row["vol"]), float(row["amount"])
            return Bar.create(
                code=code,
                unit=unit,
                time=time,
                open=row["open"],
                high=row["high"],
                low=row["low"],
                close=row["close"],
                volume=volume,
                amount=amount,
            )
        except ValueError:
            return None

    def fetch_quotes(self, codes: Sequence[str], now: pendulum.DateTime) -> dict[str, Quote]:
        quotes: dict[str, Quote] = {}
        for batch in chunks(list(codes), 50):
            table = call(
                self.name, self._ts.realtime_quote, ts_code=",".join(suffix_code(c) for c in batch)
            )
            for row in records(self.name, table, (), "realtime_quote"):
                row = {str(k).upper(): v for k, v in row.items()}
                code = from_broker_code(str(row.get("TS_CODE", "")))
                if code is None or code not in batch:
                    continue
                quote = self._quote(code, row, now)
                if quote is not None:
                    quotes[code] = quote
        return quotes

    @staticmethod
    def _quote(code: str, row: dict[str, Any], now: pendulum.DateTime) -> Optional[Quote]:
        pre_close = field(row, "PRE_CLOSE")
        if missing(pre_close) or to_price(pre_close) <= 0:
            return None
        pre = to_price(pre_close)
        date, clock = str(row.get("DATE") or ""), str(row.get("TIME") or "")
        try:
            time = (
                market_time(f"{date[:4]}-{date[4:6]}-{date[6:8]} {clock}")
                if len(date) == 8 and clock
                else now
            )
        except ValueError:
            time = now
        lot = lot_size(code)
        volume = 0 if missing(row.get("VOLUME")) else int(float(row["VOLUME"]))
        open_ = to_price(row.get("OPEN") or 0)
        price = to_price(row.get("PRICE") or 0)
        limits = day_limits(code, pre, time.date())

        def level(side: str, i: int) -> tuple[Any, float]:
            p, v = row.get(f"{side}{i}_P"), row.get(f"{side}{i}_V")
            return (0 if missing(p) else p, 0.0 if missing(v) else float(v or 0) * lot)

        return Quote.create(
            code=code,
            time=time,
            last=price if price > 0 else pre,
            open=open_,
            high=row.get("HIGH") or 0,
            low=row.get("LOW") or 0,
            pre_close=pre,
            high_limit=limits[1] if limits else None,
            low_limit=limits[0] if limits else None,
            volume=volume,
            amount=0 if missing(row.get("AMOUNT")) else row["AMOUNT"],
            bids=[level("B", i) for i in range(1, 6)],
            asks=[level("A", i) for i in range(1, 6)],
            paused=paused_by_heuristic(open_, volume, time.hour * 60 + time.minute),
        )
