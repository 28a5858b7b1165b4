"""jqdatasdk: JoinQuant's data service, needs a JQData account (``pip install "jqtrade[jqdatasdk]"``).

The account comes from the ``username``/``password`` arguments or the ``JQDATA_USERNAME`` /
``JQDATA_PASSWORD`` environment variables; it is passed to ``jqdatasdk.auth(username,
password)`` before the first call and never logged or shown. JoinQuant's codes are jqtrade's
(``600000.XSHG``). Calls made (jqdatasdk 1.9):

* bars: ``get_price([code], start_date=..., end_date=..., frequency="1m" | "5m" | "daily",
  fields=["open", "close", "high", "low", "volume", "money"], skip_paused=True, fq=None,
  panel=False)``; columns ``time`` (naive Beijing time, a minute bar's end; midnight for daily
  bars), ``code``, the fields; ``volume`` in shares, ``money`` in yuan;
* quotes: ``get_price(codes, end_date=now, count=1, frequency="daily", fields=["open",
  "close", "high", "low", "volume", "money", "pre_close", "high_limit", "low_limit",
  "paused"], skip_paused=False, fq=None, panel=False)``: today's bar so far, whose ``close``
  is the latest price; limits and the suspension flag come from JoinQuant.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Sequence
from typing import Any, Optional

import pendulum

from jqtrade.calendar import TradingCalendar
from jqtrade.data.errors import DataConfigError
from jqtrade.data.models import Bar, BarUnit, Quote, market_time, to_price
from jqtrade.data.sessions import close_time
from jqtrade.data.source import AbsDataSource
from jqtrade.data.sources._common import call, chunks, load, mask, missing, records

__all__ = ["PASSWORD_ENV", "USERNAME_ENV", "JqdataSource"]

USERNAME_ENV = "JQDATA_USERNAME"
PASSWORD_ENV = "JQDATA_PASSWORD"

_FREQUENCY = {BarUnit.m1: "1m", BarUnit.m5: "5m", BarUnit.d1: "daily"}
_BAR_FIELDS = ["open", "close", "high", "low", "volume", "money"]
_QUOTE_FIELDS = [*_BAR_FIELDS, "pre_close", "high_limit", "low_limit", "paused"]


class JqdataSource(AbsDataSource):
    """Bars and quotes from JQData."""

    name = "jqdatasdk"
    native_units = frozenset({BarUnit.m1, BarUnit.m5, BarUnit.d1})
    live = True

    def __init__(
        self,
        username: Optional[str] = None,
        password: Optional[str] = None,
        *,
        module: Any = None,
        calendar: Optional[TradingCalendar] = None,
    ) -> None:
        super().__init__(calendar=calendar)
        self._username = username or os.environ.get(USERNAME_ENV) or None
        self._password = password or os.environ.get(PASSWORD_ENV) or None
        if not self._username or not self._password:
            raise DataConfigError(
                f"行情源 jqdatasdk 需要聚宽 JQData 账号：请设置环境变量 {USERNAME_ENV} 和 "
                f"{PASSWORD_ENV}，或在配置中提供 username 和 password"
            )
        self._jq = module or load(self.name, "jqdatasdk", "jqdatasdk", "jqdatasdk")
        self._authed = False

    def __repr__(self) -> str:
        return f"<JqdataSource username={mask(self._username)} password={mask(self._password)}>"

    def _ready(self) -> Any:
        if not self._authed:
            call(self.name, self._jq.auth, self._username, self._password)
            self._authed = True
        return self._jq

    def fetch_bars(
        self, code: str, unit: BarUnit, start: pendulum.DateTime, end: pendulum.DateTime
    ) -> list[Bar]:
        jq = self._ready()
        table = call(
            self.name,
            jq.get_price,
            [code],
            start_date=_naive(start),
            end_date=_naive(end),
            frequency=_FREQUENCY[unit],
            fields=list(_BAR_FIELDS),
            skip_paused=True,
            fq=None,
            panel=False,
        )
        bars = []
        for row in records(self.name, table, ("time", "code", *_BAR_FIELDS), "get_price"):
            if row["code"] != code or any(missing(row[f]) for f in _BAR_FIELDS):
                continue
            time = market_time(row["time"])
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
                        volume=row["volume"],
                        amount=row["money"],
                    )
                )
            except ValueError:
                continue
        return [b for b in bars if start < b.time <= end]

    def fetch_quotes(self, codes: Sequence[str], now: pendulum.DateTime) -> dict[str, Quote]:
        jq = self._ready()
        quotes: dict[str, Quote] = {}
        for batch in chunks(list(codes), 200):
            table = call(
                self.name,
                jq.get_price,
                list(batch),
                end_date=_naive(now),
                count=1,
                frequency="daily",
                fields=list(_QUOTE_FIELDS),
                skip_paused=False,
                fq=None,
                panel=False,
            )
            for row in records(self.name, table, ("time", "code", *_QUOTE_FIELDS), "get_price"):
                code = str(row["code"])
                if code not in batch or missing(row["pre_close"]):
                    continue
                quotes[code] = self._quote(code, row, now)
        return quotes

    @staticmethod
    def _quote(code: str, row: dict[str, Any], now: pendulum.DateTime) -> Quote:
        def value(name: str) -> Any:
            return 0 if missing(row[name]) else row[name]

        pre_close = to_price(row["pre_close"])
        paused = bool(value("paused"))
        last = to_price(value("close"))
        return Quote.create(
            code=code,
            time=now,
            last=last if last > 0 and not paused else pre_close,
            open=value("open"),
            high=value("high"),
            low=value("low"),
            pre_close=pre_close,
            high_limit=None if missing(row["high_limit"]) else row["high_limit"],
            low_limit=None if missing(row["low_limit"]) else row["low_limit"],
            volume=value("volume"),
            amount=value("money"),
            paused=paused,
        )


def _naive(moment: pendulum.DateTime) -> datetime.datetime:
    """A plain naive ``datetime`` in Beijing time, the form JoinQuant's functions take."""
    return datetime.datetime(
        moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second
    )
