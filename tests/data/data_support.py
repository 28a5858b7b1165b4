"""A small deterministic market and hand-written fakes of the five libraries the adapters call.

The fakes return what the libraries document: the same function names and arguments, the
same column names, units (lots where the service counts lots) and code formats. They read
the sample market below, so every adapter can be checked against the same bars.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, Optional

import pendulum

from jqtrade.calendar import TradingCalendar
from jqtrade.data.models import Bar, BarUnit
from jqtrade.data.sessions import bar_times, close_time, resample
from jqtrade.model.rules import day_limits

TZ = "Asia/Shanghai"
CODES = ("600000.XSHG", "000001.XSHE", "510300.XSHG")
FIRST_DAY = datetime.date(2024, 5, 27)
LAST_DAY = datetime.date(2024, 6, 7)
#: The contract suite's day, and when it asks for quotes.
DAY = datetime.date(2024, 6, 4)
QUOTE_NOW = pendulum.datetime(2024, 6, 4, 10, 30, tz=TZ)
_BASE = {
    "600000.XSHG": Decimal("7.00"),
    "000001.XSHE": Decimal("10.00"),
    "510300.XSHG": Decimal("3.500"),
}


@functools.lru_cache(maxsize=1)
def calendar() -> TradingCalendar:
    return TradingCalendar.builtin()


def trading_days() -> list[datetime.date]:
    return calendar().trading_days(FIRST_DAY, LAST_DAY)


@functools.cache
def minute_bars(code: str) -> tuple[Bar, ...]:
    """240 bars a trading day: a slow zigzag, two ticks wide, volumes in whole lots."""
    tick = Decimal("0.001") if code.startswith("5") else Decimal("0.01")
    bars = []
    for d, day in enumerate(trading_days()):
        for i, end in enumerate(bar_times(day, BarUnit.m1)):
            step = (i % 20) - 10 if (i // 20) % 2 == 0 else 10 - (i % 20)
            close = _BASE[code] + tick * (d * 3 + step)
            open_ = close - tick
            volume = 100 * (10 + (i * 7 + d) % 30)
            bars.append(
                Bar(
                    code=code,
                    unit=BarUnit.m1,
                    time=end,
                    open=open_,
                    high=close + tick,
                    low=open_ - tick,
                    close=close,
                    volume=volume,
                    amount=(close * volume).quantize(Decimal("0.01")),
                )
            )
    return tuple(bars)


@functools.cache
def daily_bars(code: str) -> tuple[Bar, ...]:
    return tuple(resample(minute_bars(code), BarUnit.d1))


def bars(code: str, unit: BarUnit) -> tuple[Bar, ...]:
    if unit is BarUnit.d1:
        return daily_bars(code)
    if unit is BarUnit.m5:
        return tuple(resample(minute_bars(code), BarUnit.m5))
    return minute_bars(code)


def between(code: str, unit: BarUnit, start: Any, end: Any) -> list[Bar]:
    """Bars with start <= time <= end (the libraries' ranges include both ends)."""
    return [b for b in bars(code, unit) if start <= b.time <= end]


def snapshot(code: str, now: pendulum.DateTime) -> Optional[dict[str, Any]]:
    """What a live service shows at ``now``: today's open/high/low so far, volume, pre_close."""
    day = now.date()
    today = [b for b in minute_bars(code) if b.time.date() == day and b.time <= now]
    before = [b for b in daily_bars(code) if b.time.date() < day]
    if not today or not before:
        return None
    pre_close = before[-1].close
    low_limit, high_limit = day_limits(code, pre_close, day) or (None, None)
    return {
        "last": today[-1].close,
        "open": today[0].open,
        "high": max(b.high for b in today),
        "low": min(b.low for b in today),
        "pre_close": pre_close,
        "volume": sum(b.volume for b in today),
        "amount": sum(b.amount for b in today),
        "time": today[-1].time,
        "high_limit": high_limit,
        "low_limit": low_limit,
    }


def code_of_digits(digits: str) -> Optional[str]:
    return next((c for c in CODES if c.startswith(digits)), None)


class FakeFrame:
    """The two members of a pandas DataFrame the adapters use: ``columns`` and ``to_dict``."""

    def __init__(
        self, rows: Sequence[dict[str, Any]], columns: Optional[Sequence[str]] = None
    ) -> None:
        self._rows = [dict(r) for r in rows]
        self.columns = list(
            columns if columns is not None else (self._rows[0] if self._rows else [])
        )

    @property
    def empty(self) -> bool:
        return not self._rows

    def __len__(self) -> int:
        return len(self._rows)

    def to_dict(self, orient: str) -> list[dict[str, Any]]:
        assert orient == "records", orient
        return [dict(r) for r in self._rows]


class Switch:
    """A fake's network: ``broken = True`` makes every call raise as requests would."""

    def __init__(self) -> None:
        self.broken = False
        self.calls: list[str] = []

    def hit(self, name: str) -> None:
        self.calls.append(name)
        if self.broken:
            raise ConnectionError("Max retries exceeded with url (Caused by NewConnectionError)")


def _f(value: Decimal) -> float:
    return float(value)


def _lots(code: str, volume: int) -> float:
    return volume / 100


# --- mootdx ---------------------------------------------------------------------------------


class FakeMootdxClient(Switch):
    """``mootdx.quotes.Quotes.factory(market="std")``: ``bars`` pages back from the latest bar."""

    def __init__(self, now: pendulum.DateTime = QUOTE_NOW) -> None:
        super().__init__()
        self.now = now

    def bars(
        self,
        symbol: str = "000001",
        frequency: int = 9,
        start: int = 0,
        offset: int = 800,
        **kwargs: Any,
    ) -> FakeFrame:
        self.hit("bars")
        code = code_of_digits(symbol)
        unit = {8: BarUnit.m1, 0: BarUnit.m5, 9: BarUnit.d1}[frequency]
        series = list(bars(code, unit)) if code else []
        stop = len(series) - start
        page = series[max(0, stop - min(offset, 800)) : max(0, stop)]
        rows = []
        for b in page:
            stamp = b.time.replace(hour=15, minute=0) if unit is BarUnit.d1 else b.time
            rows.append(
                {
                    "open": _f(b.open),
                    "close": _f(b.close),
                    "high": _f(b.high),
                    "low": _f(b.low),
                    "vol": _lots(b.code, b.volume),
                    "amount": _f(b.amount),
                    "year": stamp.year,
                    "month": stamp.month,
                    "day": stamp.day,
                    "hour": stamp.hour,
                    "minute": stamp.minute,
                    "datetime": stamp.format("YYYY-MM-DD HH:mm"),
                    "volume": _lots(b.code, b.volume),
                }
            )
        return FakeFrame(rows)

    def quotes(self, symbol: Any = None, **kwargs: Any) -> FakeFrame:
        self.hit("quotes")
        rows = []
        for digits in [symbol] if isinstance(symbol, str) else list(symbol):
            code = code_of_digits(digits)
            snap = snapshot(code, self.now) if code else None
            if snap is None:
                continue
            row = {
                "market": 1 if code.endswith("XSHG") else 0,
                "code": digits,
                "active1": 1,
                "price": _f(snap["last"]),
                "last_close": _f(snap["pre_close"]),
                "open": _f(snap["open"]),
                "high": _f(snap["high"]),
                "low": _f(snap["low"]),
                "servertime": snap["time"].format("HH:mm:ss.SSS"),
                "vol": snap["volume"] / 100,
                "cur_vol": 10,
                "amount": _f(snap["amount"]),
            }
            for i in range(1, 6):
                row[f"bid{i}"] = _f(snap["last"]) - 0.01 * i
                row[f"ask{i}"] = _f(snap["last"]) + 0.01 * (i - 1)
                row[f"bid_vol{i}"] = 10 * i
                row[f"ask_vol{i}"] = 12 * i
            rows.append(row)
        return FakeFrame(rows)


class FakeMootdxModule:
    """The ``mootdx.quotes`` module: ``Quotes.factory`` returns the fake client."""

    def __init__(self, client: FakeMootdxClient) -> None:
        outer = self

        class Quotes:
            @staticmethod
            def factory(market: str = "std", **kwargs: Any) -> FakeMootdxClient:
                outer.factory_args = {"market": market, **kwargs}
                return client

        self.Quotes = Quotes
        self.factory_args: dict[str, Any] = {}


# --- akshare --------------------------------------------------------------------------------


class FakeAkshare(Switch):
    """akshare's Eastmoney functions: Chinese column names, volumes in lots, 6-digit codes."""

    def __init__(self, now: pendulum.DateTime = QUOTE_NOW) -> None:
        super().__init__()
        self.now = now

    def _daily(self, symbol: str, start_date: str, end_date: str, with_code: bool) -> FakeFrame:
        code = code_of_digits(symbol)
        first = datetime.datetime.strptime(start_date, "%Y%m%d").date()
        last = datetime.datetime.strptime(end_date, "%Y%m%d").date()
        rows = []
        for b in daily_bars(code) if code else ():
            if first <= b.time.date() <= last:
                row = {"日期": b.time.date()}
                if with_code:
                    row["股票代码"] = symbol
                row.update(
                    {
                        "开盘": _f(b.open),
                        "收盘": _f(b.close),
                        "最高": _f(b.high),
                        "最低": _f(b.low),
                        "成交量": b.volume // 100,
                        "成交额": _f(b.amount),
                        "振幅": 1.0,
                        "涨跌幅": 0.5,
                        "涨跌额": 0.01,
                        "换手率": 0.2,
                    }
                )
                rows.append(row)
        return FakeFrame(rows)

    def stock_zh_a_hist(
        self,
        symbol: str = "000001",
        period: str = "daily",
        start_date: str = "19700101",
        end_date: str = "20500101",
        adjust: str = "",
        timeout: Any = None,
    ) -> FakeFrame:
        self.hit("stock_zh_a_hist")
        assert period == "daily" and adjust == ""
        return self._daily(symbol, start_date, end_date, True)

    def fund_etf_hist_em(
        self,
        symbol: str = "159707",
        period: str = "daily",
        start_date: str = "19700101",
        end_date: str = "20500101",
        adjust: str = "",
    ) -> FakeFrame:
        self.hit("fund_etf_hist_em")
        return self._daily(symbol, start_date, end_date, False)

    def _minutes(self, symbol: str, start_date: str, end_date: str, period: str) -> FakeFrame:
        code = code_of_digits(symbol)
        unit = BarUnit.m1 if period == "1" else BarUnit.m5
        first = pendulum.parse(start_date, tz=TZ)
        last = pendulum.parse(end_date, tz=TZ)
        rows = []
        for b in between(code, unit, first, last) if code else ():
            row = {
                "时间": b.time.format("YYYY-MM-DD HH:mm:ss"),
                "开盘": _f(b.open),
                "收盘": _f(b.close),
                "最高": _f(b.high),
                "最低": _f(b.low),
                "成交量": b.volume // 100,
                "成交额": _f(b.amount),
            }
            row.update(
                {"均价": _f(b.close)}
                if unit is BarUnit.m1
                else {"振幅": 0.1, "涨跌幅": 0.1, "涨跌额": 0.01, "换手率": 0.01}
            )
            rows.append(row)
        return FakeFrame(rows)

    def stock_zh_a_hist_min_em(
        self,
        symbol: str = "000001",
        start_date: str = "1979-09-01 09:32:00",
        end_date: str = "2222-01-01 09:32:00",
        period: str = "5",
        adjust: str = "",
    ) -> FakeFrame:
        self.hit("stock_zh_a_hist_min_em")
        return self._minutes(symbol, start_date, end_date, period)

    def fund_etf_hist_min_em(
        self,
        symbol: str = "159707",
        start_date: str = "1979-09-01 09:32:00",
        end_date: str = "2222-01-01 09:32:00",
        period: str = "5",
        adjust: str = "",
    ) -> FakeFrame:
        self.hit("fund_etf_hist_min_em")
        return self._minutes(symbol, start_date, end_date, period)

    def _spot(self, fund: bool) -> FakeFrame:
        rows = []
        for n, code in enumerate(c for c in CODES if c.startswith("5") == fund):
            snap = snapshot(code, self.now)
            if snap is None:
                continue
            names = ("开盘价", "最高价", "最低价") if fund else ("今开", "最高", "最低")
            rows.append(
                {
                    "序号": n + 1,
                    "代码": code[:6],
                    "名称": "样本",
                    "最新价": _f(snap["last"]),
                    "涨跌幅": 0.1,
                    "涨跌额": 0.01,
                    "成交量": snap["volume"] / 100,
                    "成交额": _f(snap["amount"]),
                    names[0]: _f(snap["open"]),
                    names[1]: _f(snap["high"]),
                    names[2]: _f(snap["low"]),
                    "昨收": _f(snap["pre_close"]),
                }
            )
        # a suspended stock: no latest price, no open (Eastmoney's "-" read as NaN)
        rows.append(
            {
                "序号": 99,
                "代码": "600001" if not fund else "510001",
                "名称": "停牌",
                "最新价": float("nan"),
                "涨跌幅": float("nan"),
                "涨跌额": float("nan"),
                "成交量": 0.0,
                "成交额": 0.0,
                ("开盘价" if fund else "今开"): float("nan"),
                ("最高价" if fund else "最高"): float("nan"),
                ("最低价" if fund else "最低"): float("nan"),
                "昨收": 5.0,
            }
        )
        return FakeFrame(rows)

    def stock_zh_a_spot_em(self) -> FakeFrame:
        self.hit("stock_zh_a_spot_em")
        return self._spot(False)

    def fund_etf_spot_em(self) -> FakeFrame:
        self.hit("fund_etf_spot_em")
        return self._spot(True)


# --- tushare --------------------------------------------------------------------------------


class FakeTusharePro:
    def __init__(self, switch: Switch) -> None:
        self._switch = switch

    def daily(
        self, ts_code: str = "", trade_date: str = "", start_date: str = "", end_date: str = ""
    ) -> FakeFrame:
        self._switch.hit("daily")
        code = _from_ts(ts_code)
        first = datetime.datetime.strptime(start_date, "%Y%m%d").date()
        last = datetime.datetime.strptime(end_date, "%Y%m%d").date()
        rows = []
        series = list(daily_bars(code)) if code else []
        for i, b in enumerate(series):
            if first <= b.time.date() <= last:
                pre = series[i - 1].close if i else b.open
                rows.append(
                    {
                        "ts_code": ts_code,
                        "trade_date": b.time.format("YYYYMMDD"),
                        "open": _f(b.open),
                        "high": _f(b.high),
                        "low": _f(b.low),
                        "close": _f(b.close),
                        "pre_close": _f(pre),
                        "change": 0.0,
                        "pct_chg": 0.0,
                        "vol": b.volume / 100,
                        "amount": _f(b.amount) / 1000,
                    }
                )
        return FakeFrame(
            list(reversed(rows)),
            columns=[
                "ts_code",
                "trade_date",
                "open",
                "high",
                "low",
                "close",
                "pre_close",
                "change",
                "pct_chg",
                "vol",
                "amount",
            ],
        )

    def stk_mins(
        self, ts_code: str = "", freq: str = "1min", start_date: str = "", end_date: str = ""
    ) -> FakeFrame:
        self._switch.hit("stk_mins")
        code = _from_ts(ts_code)
        unit = {"1min": BarUnit.m1, "5min": BarUnit.m5}[freq]
        rows = [
            {
                "ts_code": ts_code,
                "trade_time": b.time.format("YYYY-MM-DD HH:mm:ss"),
                "close": _f(b.close),
                "open": _f(b.open),
                "high": _f(b.high),
                "low": _f(b.low),
                "vol": float(b.volume),
                "amount": _f(b.amount),
            }
            for b in (
                between(
                    code, unit, pendulum.parse(start_date, tz=TZ), pendulum.parse(end_date, tz=TZ)
                )
                if code
                else ()
            )
        ]
        assert len(rows) <= 8000, "stk_mins returns at most 8000 rows"
        return FakeFrame(list(reversed(rows)))


def _from_ts(ts_code: str) -> Optional[str]:
    digits, _, suffix = ts_code.partition(".")
    code = f"{digits}.{'XSHG' if suffix == 'SH' else 'XSHE'}"
    return code if code in CODES else None


class FakeTushare(Switch):
    """The ``tushare`` module: ``pro_api(token)`` and ``realtime_quote`` (upper-case columns)."""

    def __init__(self, now: pendulum.DateTime = QUOTE_NOW) -> None:
        super().__init__()
        self.now = now
        self.tokens: list[str] = []

    def pro_api(self, token: str = "", timeout: int = 30) -> FakeTusharePro:
        self.hit("pro_api")
        self.tokens.append(token)
        return FakeTusharePro(self)

    def realtime_quote(self, ts_code: str = "688553.SH", src: str = "sina") -> FakeFrame:
        self.hit("realtime_quote")
        symbols = ts_code.split(",")
        assert len(symbols) <= 50, "sina: at most 50 codes a call"
        rows = []
        for symbol in symbols:
            code = _from_ts(symbol)
            snap = snapshot(code, self.now) if code else None
            if snap is None:
                continue
            row = {
                "NAME": "样本",
                "TS_CODE": symbol,
                "DATE": snap["time"].format("YYYYMMDD"),
                "TIME": snap["time"].format("HH:mm:ss"),
                "OPEN": _f(snap["open"]),
                "PRE_CLOSE": _f(snap["pre_close"]),
                "PRICE": _f(snap["last"]),
                "HIGH": _f(snap["high"]),
                "LOW": _f(snap["low"]),
                "BID": _f(snap["last"]) - 0.01,
                "ASK": _f(snap["last"]),
                "VOLUME": float(snap["volume"]),
                "AMOUNT": _f(snap["amount"]),
            }
            for i in range(1, 6):
                row[f"B{i}_V"], row[f"B{i}_P"] = 5.0 * i, _f(snap["last"]) - 0.01 * i
                row[f"A{i}_V"], row[f"A{i}_P"] = 6.0 * i, _f(snap["last"]) + 0.01 * (i - 1)
            rows.append(row)
        return FakeFrame(rows)


# --- jqdatasdk ------------------------------------------------------------------------------


class FakeJqdata(Switch):
    """The ``jqdatasdk`` module: ``auth`` and ``get_price(..., panel=False)`` (long table)."""

    def __init__(self, now: pendulum.DateTime = QUOTE_NOW) -> None:
        super().__init__()
        self.now = now
        self.auth_calls: list[tuple[str, str]] = []

    def auth(self, username: str, password: str, host: Any = None, port: Any = None) -> None:
        self.hit("auth")
        self.auth_calls.append((username, password))

    def get_price(
        self,
        security: Any,
        start_date: Any = None,
        end_date: Any = None,
        frequency: str = "daily",
        fields: Optional[Iterable[str]] = None,
        skip_paused: bool = False,
        fq: Any = "pre",
        count: Optional[int] = None,
        panel: bool = True,
        fill_paused: bool = True,
        round: bool = True,
    ) -> FakeFrame:
        self.hit("get_price")
        assert not self.auth_calls or panel is False
        assert fq is None, "jqtrade asks for unadjusted prices"
        names = list(fields or ["open", "close", "high", "low", "volume", "money"])
        rows = []
        for code in security:
            if code not in CODES:
                continue
            if count is not None:  # the quote call: today's bar so far
                assert frequency == "daily" and count == 1
                snap = snapshot(code, _aware(end_date))
                if snap is None:
                    continue
                values = {
                    "open": snap["open"],
                    "close": snap["last"],
                    "high": snap["high"],
                    "low": snap["low"],
                    "volume": snap["volume"],
                    "money": snap["amount"],
                    "pre_close": snap["pre_close"],
                    "high_limit": snap["high_limit"],
                    "low_limit": snap["low_limit"],
                    "paused": 0,
                }
                rows.append(
                    {
                        "time": datetime.datetime.combine(end_date.date(), datetime.time()),
                        "code": code,
                        **{n: float(values[n]) for n in names},
                    }
                )
                continue
            unit = {"1m": BarUnit.m1, "5m": BarUnit.m5, "daily": BarUnit.d1}[frequency]
            first, last = _aware(start_date), _aware(end_date)
            if unit is BarUnit.d1:
                first, last = first.replace(hour=0, minute=0), last.replace(hour=23, minute=59)
            for b in between(code, unit, first, last):
                stamp = b.time.naive()
                if unit is BarUnit.d1:
                    stamp = datetime.datetime.combine(b.time.date(), datetime.time())
                values = {
                    "open": b.open,
                    "close": b.close,
                    "high": b.high,
                    "low": b.low,
                    "volume": b.volume,
                    "money": b.amount,
                }
                rows.append({"time": stamp, "code": code, **{n: float(values[n]) for n in names}})
        return FakeFrame(rows, columns=["time", "code", *names])


def _aware(naive: datetime.datetime) -> pendulum.DateTime:
    assert type(naive) is datetime.datetime and naive.tzinfo is None, (
        "JoinQuant takes naive datetimes"
    )
    return pendulum.instance(naive.replace(tzinfo=pendulum.timezone(TZ)))


# --- xtdata ---------------------------------------------------------------------------------


class FakeXtdata(Switch):
    """``xtquant.xtdata``: ``download_history_data``, ``get_market_data_ex``, ``get_full_tick``."""

    def __init__(self, now: pendulum.DateTime = QUOTE_NOW) -> None:
        super().__init__()
        self.now = now
        self.downloads: list[tuple[str, str]] = []

    def download_history_data(
        self,
        stock_code: str,
        period: str,
        start_time: str = "",
        end_time: str = "",
        incrementally: Any = None,
    ) -> None:
        self.hit("download_history_data")
        self.downloads.append((stock_code, period))

    def get_market_data_ex(
        self,
        field_list: Sequence[str] = (),
        stock_list: Sequence[str] = (),
        period: str = "1d",
        start_time: str = "",
        end_time: str = "",
        count: int = -1,
        dividend_type: str = "none",
        fill_data: bool = True,
    ) -> dict[str, FakeFrame]:
        self.hit("get_market_data_ex")
        unit = BarUnit(period)
        first = pendulum.from_format(start_time, "YYYYMMDDHHmmss", tz=TZ)
        last = pendulum.from_format(end_time, "YYYYMMDDHHmmss", tz=TZ)
        result = {}
        for symbol in stock_list:
            code = _from_ts(symbol)
            rows = []
            for b in between(code, unit, first, last) if code else ():
                stamp = b.time.replace(hour=0, minute=0) if unit is BarUnit.d1 else b.time
                values = {
                    "time": int(stamp.timestamp() * 1000),
                    "open": _f(b.open),
                    "high": _f(b.high),
                    "low": _f(b.low),
                    "close": _f(b.close),
                    "volume": b.volume // 100,
                    "amount": _f(b.amount),
                }
                rows.append({f: values[f] for f in field_list})
            result[symbol] = FakeFrame(rows, columns=list(field_list))
        return result

    def get_full_tick(self, code_list: Sequence[str]) -> dict[str, dict[str, Any]]:
        self.hit("get_full_tick")
        ticks = {}
        for symbol in code_list:
            code = _from_ts(symbol)
            snap = snapshot(code, self.now) if code else None
            if snap is None:
                continue
            last = _f(snap["last"])
            ticks[symbol] = {
                "timetag": snap["time"].format("YYYYMMDD HH:mm:ss"),
                "lastPrice": last,
                "open": _f(snap["open"]),
                "high": _f(snap["high"]),
                "low": _f(snap["low"]),
                "lastClose": _f(snap["pre_close"]),
                "amount": _f(snap["amount"]),
                "volume": snap["volume"] // 100,
                "pvolume": snap["volume"],
                "stockStatus": 0,
                "openInt": 13,
                "askPrice": [last + 0.01 * i for i in range(5)],
                "bidPrice": [last - 0.01 * (i + 1) for i in range(5)],
                "askVol": [3, 4, 5, 6, 7],
                "bidVol": [2, 3, 4, 5, 6],
            }
        return ticks


def closes(code: str, unit: BarUnit, end: pendulum.DateTime, count: int) -> list[float]:
    """The expected closes of the last ``count`` bars ending at or before ``end``."""
    return [float(b.close) for b in bars(code, unit) if b.time <= end][-count:]


def day_close(day: datetime.date) -> pendulum.DateTime:
    return close_time(day)
