"""xtquant ``xtdata``: the market data of a running QMT / miniQMT client on Windows
(``pip install "jqtrade[xtquant]"``, or use the xtquant that comes with QMT).

No account is passed: xtdata talks to the QMT client on the same machine, which must be
running and logged in. QMT's codes are ``600000.SH``. Calls made:

* bars: ``xtdata.download_history_data("600000.SH", period, start_time="YYYYMMDDhhmmss",
  end_time=...)`` to bring the range into QMT's local store, then
  ``xtdata.get_market_data_ex(field_list=["time", "open", "high", "low", "close", "volume",
  "amount"], stock_list=["600000.SH"], period="1m" | "5m" | "1d", start_time=..., end_time=...,
  count=-1, dividend_type="none", fill_data=False)``, a dict of one DataFrame per code;
  ``time`` is a Unix time in milliseconds (the bar's end for minute bars), ``volume`` in lots;
* quotes: ``xtdata.get_full_tick(["600000.SH", ...])``, a dict by code of dicts with
  ``timetag`` ("YYYYMMDD HH:MM:SS"), ``lastPrice``, ``open``, ``high``, ``low``, ``lastClose``,
  ``amount``, ``volume`` (lots), ``pvolume`` (shares), ``askPrice``/``bidPrice`` and
  ``askVol``/``bidVol`` (five levels each, volumes in lots).

Limits are computed from the previous close; a code with no trade and no open after 09:30 is
taken as paused.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Optional

import pendulum

from jqtrade.calendar import TradingCalendar
from jqtrade.clock import MARKET_TZ
from jqtrade.data.errors import DataSourceResponseError
from jqtrade.data.models import Bar, BarUnit, Quote, market_time, to_price
from jqtrade.data.sessions import close_time
from jqtrade.data.source import AbsDataSource
from jqtrade.data.sources._common import (
    call,
    from_broker_code,
    load,
    lot_size,
    missing,
    paused_by_heuristic,
    records,
)
from jqtrade.model.rules import day_limits, suffix_code

__all__ = ["XtdataSource"]

_FIELDS = ["time", "open", "high", "low", "close", "volume", "amount"]


class XtdataSource(AbsDataSource):
    """Bars and quotes from the local QMT client."""

    name = "xtdata"
    native_units = frozenset({BarUnit.m1, BarUnit.m5, BarUnit.d1})
    live = True

    def __init__(self, *, module: Any = None, calendar: Optional[TradingCalendar] = None) -> None:
        super().__init__(calendar=calendar)
        self._xt = module or load(self.name, "xtquant.xtdata", "xtquant", "xtquant")

    def fetch_bars(
        self, code: str, unit: BarUnit, start: pendulum.DateTime, end: pendulum.DateTime
    ) -> list[Bar]:
        symbol = suffix_code(code)
        first, last = start.format("YYYYMMDDHHmmss"), end.format("YYYYMMDDHHmmss")
        call(
            self.name,
            self._xt.download_history_data,
            symbol,
            unit.value,
            start_time=first,
            end_time=last,
        )
        result = call(
            self.name,
            self._xt.get_market_data_ex,
            field_list=list(_FIELDS),
            stock_list=[symbol],
            period=unit.value,
            start_time=first,
            end_time=last,
            count=-1,
            dividend_type="none",
            fill_data=False,
        )
        if not isinstance(result, dict):
            raise DataSourceResponseError(
                self.name, f"get_market_data_ex 应返回 dict，实际是 {type(result).__name__}"
            )
        bars = []
        for row in records(self.name, result.get(symbol), _FIELDS, "get_market_data_ex"):
            if any(missing(row[f]) for f in _FIELDS):
                continue
            time = pendulum.from_timestamp(int(row["time"]) / 1000, tz=MARKET_TZ)
            if unit is BarUnit.d1:
                time = close_time(time.date())
            try:
                bars.append(
                    Bar.create(
                        code=code,
                        unit=unit,
                        time=time,
                        open=row["open"],
                        high=row["high"],
                        low=row["low"],
                        close=row["close"],
                        volume=float(row["volume"]) * lot_size(code),
                        amount=row["amount"],
                    )
                )
            except ValueError:
                continue
        return [b for b in bars if start < b.time <= end]

    def fetch_quotes(self, codes: Sequence[str], now: pendulum.DateTime) -> dict[str, Quote]:
        ticks = call(self.name, self._xt.get_full_tick, [suffix_code(c) for c in codes])
        if not isinstance(ticks, dict):
            raise DataSourceResponseError(
                self.name, f"get_full_tick 应返回 dict，实际是 {type(ticks).__name__}"
            )
        quotes = {}
        for symbol, tick in ticks.items():
            code = from_broker_code(symbol)
            if code is None or code not in codes or not isinstance(tick, dict):
                continue
            quote = self._quote(code, tick, now)
            if quote is not None:
                quotes[code] = quote
        return quotes

    @staticmethod
    def _quote(code: str, tick: dict[str, Any], now: pendulum.DateTime) -> Optional[Quote]:
        if missing(tick.get("lastClose")) or to_price(tick["lastClose"]) <= 0:
            return None
        pre_close = to_price(tick["lastClose"])
        tag = str(tick.get("timetag") or "")
        try:
            time = (
                market_time(f"{tag[:4]}-{tag[4:6]}-{tag[6:8]} {tag[9:17]}")
                if len(tag) >= 17
                else now
            )
        except ValueError:
            time = now
        lot = lot_size(code)
        volume = (
            int(tick["pvolume"])
            if not missing(tick.get("pvolume"))
            else int(float(tick.get("volume") or 0) * lot)
        )
        open_ = to_price(tick.get("open") or 0)
        last = to_price(tick.get("lastPrice") or 0)
        limits = day_limits(code, pre_close, time.date())

        def side(prices: str, volumes: str) -> list[tuple[Any, float]]:
            return [
                (p, float(v) * lot) for p, v in zip(tick.get(prices) or [], tick.get(volumes) or [])
            ]

        return Quote.create(
            code=code,
            time=time,
            last=last if last > 0 else pre_close,
            open=open_,
            high=tick.get("high") or 0,
            low=tick.get("low") or 0,
            pre_close=pre_close,
            high_limit=limits[1] if limits else None,
            low_limit=limits[0] if limits else None,
            volume=volume,
            amount=tick.get("amount") or 0,
            bids=side("bidPrice", "bidVol"),
            asks=side("askPrice", "askVol"),
            paused=paused_by_heuristic(open_, volume, time.hour * 60 + time.minute),
        )
