"""mootdx: free TDX (通达信) quote servers, no account (``pip install "jqtrade[mootdx]"``).

Calls made (mootdx 0.11):

* ``mootdx.quotes.Quotes.factory(market="std", timeout=...)`` once, to connect;
* ``client.bars(symbol="600000", frequency=F, start=S, offset=800)`` for bars, ``F`` = 8 (1m),
  0 (5m), 9 (1d); ``S`` pages back from the latest bar, 800 bars per call. Columns used:
  ``datetime`` ("YYYY-MM-DD HH:MM", the bar's end), ``open``, ``high``, ``low``, ``close``,
  ``vol`` (lots, 手), ``amount`` (yuan);
* ``client.quotes(symbol=["600000", "000001"])`` for quotes, columns ``market`` (1 = SSE,
  0 = SZSE), ``code``, ``price``, ``last_close``, ``open``, ``high``, ``low``, ``vol`` (lots),
  ``amount``, ``servertime``, ``bid1..5``/``ask1..5`` and ``bid_vol1..5``/``ask_vol1..5`` (lots).

TDX picks the exchange from the digits (6/5/9... SSE, 0/1/3... SZSE), so codes whose digits
mean the other exchange (indices such as ``000001.XSHG``) are refused for bars. Limits are
computed from the previous close; TDX has no suspension flag, so a code with no trade and no
open after 09:30 is taken as paused.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any, Optional

import pendulum

from jqtrade.calendar import TradingCalendar
from jqtrade.data.errors import DataCodeError
from jqtrade.data.models import Bar, BarUnit, Quote, market_time, to_price
from jqtrade.data.sessions import close_time
from jqtrade.data.source import AbsDataSource
from jqtrade.data.sources._common import (
    call,
    chunks,
    load,
    lot_size,
    missing,
    paused_by_heuristic,
    records,
)
from jqtrade.model.rules import day_limits, split_code

__all__ = ["MootdxSource", "tdx_exchange"]

_FREQUENCY = {BarUnit.m1: 8, BarUnit.m5: 0, BarUnit.d1: 9}
_PAGE = 800
#: Pages of 800 bars at most per request (about 130 trading days of minute bars).
_MAX_PAGES = 40
_BAR_COLUMNS = ("datetime", "open", "high", "low", "close", "vol", "amount")
_QUOTE_COLUMNS = ("market", "code", "price", "last_close", "open", "high", "low", "vol", "amount")


def tdx_exchange(digits: str) -> str:
    """The exchange TDX (and mootdx) assumes for ``digits``."""
    if digits.startswith(("50", "51", "60", "68", "90", "110", "113", "132", "204")):
        return "XSHG"
    if digits.startswith(("00", "12", "13", "15", "16", "18", "20", "30", "39")):
        return "XSHE"
    return "XSHG" if digits.startswith(("5", "6", "9", "7")) else "XSHE"


class MootdxSource(AbsDataSource):
    """Bars and quotes from TDX servers through mootdx."""

    name = "mootdx"
    native_units = frozenset({BarUnit.m1, BarUnit.m5, BarUnit.d1})
    live = True

    def __init__(
        self,
        *,
        client: Any = None,
        quotes_module: Any = None,
        timeout: float = 10.0,
        calendar: Optional[TradingCalendar] = None,
    ) -> None:
        super().__init__(calendar=calendar)
        if client is None:
            module = quotes_module or load(self.name, "mootdx.quotes", "mootdx", "mootdx")
            client = call(self.name, module.Quotes.factory, market="std", timeout=timeout)
        self._client = client

    def close(self) -> None:
        closer = getattr(self._client, "close", None)
        if callable(closer):
            try:
                closer()
            except Exception:  # closing a dead socket is not worth an error
                pass

    def _symbol(self, code: str) -> str:
        digits, exchange = split_code(code)
        if tdx_exchange(digits) != exchange:
            raise DataCodeError(
                code,
                f"mootdx 按代码数字判断交易所，{code} 会被当作另一交易所的证券；请换用其他行情源",
            )
        return digits

    def fetch_bars(
        self, code: str, unit: BarUnit, start: pendulum.DateTime, end: pendulum.DateTime
    ) -> list[Bar]:
        symbol = self._symbol(code)
        bars: dict[pendulum.DateTime, Bar] = {}
        for page in range(_MAX_PAGES):
            table = call(
                self.name,
                self._client.bars,
                symbol=symbol,
                frequency=_FREQUENCY[unit],
                start=page * _PAGE,
                offset=_PAGE,
            )
            rows = records(self.name, table, _BAR_COLUMNS, "bars")
            page_bars = [b for b in (self._bar(code, unit, row) for row in rows) if b is not None]
            for bar in page_bars:
                if start < bar.time <= end:
                    bars[bar.time] = bar
            if len(rows) < _PAGE or not page_bars or min(b.time for b in page_bars) <= start:
                break
        return [bars[t] for t in sorted(bars)]

    @staticmethod
    def _bar(code: str, unit: BarUnit, row: dict[str, Any]) -> Optional[Bar]:
        if any(missing(row[c]) for c in _BAR_COLUMNS):
            return None
        time = market_time(str(row["datetime"]))
        if unit is BarUnit.d1:
            time = close_time(time.date())
        try:
            return Bar.create(
                code=code,
                unit=unit,
                time=time,
                open=row["open"],
                high=row["high"],
                low=row["low"],
                close=row["close"],
                volume=float(row["vol"]) * lot_size(code),
                amount=row["amount"],
            )
        except ValueError:
            return None

    def fetch_quotes(self, codes: Sequence[str], now: pendulum.DateTime) -> dict[str, Quote]:
        wanted = {}
        for code in codes:
            digits, exchange = split_code(code)
            if tdx_exchange(digits) == exchange:
                wanted[(1 if exchange == "XSHG" else 0, digits)] = code
        quotes: dict[str, Quote] = {}
        symbols = [digits for _, digits in wanted]
        for batch in chunks(symbols, 80):
            table = call(self.name, self._client.quotes, symbol=list(batch))
            for row in records(self.name, table, _QUOTE_COLUMNS, "quotes"):
                found = wanted.get((int(row["market"]), str(row["code"]).zfill(6)))
                if found is not None:
                    quote = self._quote(found, row, now)
                    if quote is not None:
                        quotes[found] = quote
        return quotes

    def _quote(self, code: str, row: dict[str, Any], now: pendulum.DateTime) -> Optional[Quote]:
        pre_close = to_price(row["last_close"])
        if pre_close <= 0:
            return None
        lot = lot_size(code)
        time = _server_time(row.get("servertime"), now)
        volume = int(float(row["vol"]) * lot)
        open_ = to_price(row["open"])
        price = to_price(row["price"])
        paused = paused_by_heuristic(open_, volume, time.hour * 60 + time.minute)
        limits = day_limits(code, pre_close, time.date())
        return Quote.create(
            code=code,
            time=time,
            last=price if price > 0 else pre_close,
            open=open_,
            high=row["high"],
            low=row["low"],
            pre_close=pre_close,
            high_limit=limits[1] if limits else None,
            low_limit=limits[0] if limits else None,
            volume=volume,
            amount=row["amount"],
            bids=[
                (row.get(f"bid{i}", 0), float(row.get(f"bid_vol{i}", 0)) * lot) for i in range(1, 6)
            ],
            asks=[
                (row.get(f"ask{i}", 0), float(row.get(f"ask_vol{i}", 0)) * lot) for i in range(1, 6)
            ],
            paused=paused,
        )


def _server_time(value: Any, now: pendulum.DateTime) -> pendulum.DateTime:
    """TDX's ``servertime`` ("14:59:59.990") on ``now``'s day; ``now`` when absent."""
    if missing(value):
        return now
    try:
        parts = str(value).split(":")
        t = datetime.time(
            int(parts[0]), int(parts[1]), int(float(parts[2])) if len(parts) > 2 else 0
        )
    except (ValueError, IndexError):
        return now
    return now.replace(hour=t.hour, minute=t.minute, second=t.second, microsecond=0)
