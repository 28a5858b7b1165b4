"""When the exchanges take orders, and what to tell a strategy that orders outside those hours.

SSE and SZSE take orders from the opening call auction (09:15) to the close (15:00), except
during the lunch break (11:30-13:00); orders sent at other times wait at the broker for the
next session or are rejected, depending on the broker. jqtrade sends them anyway (the broker
decides) and says so once per order.
"""

from __future__ import annotations

import datetime
from typing import Optional

import pendulum

from jqtrade.calendar import TradingCalendar
from jqtrade.clock import in_market

#: Continuous trading, market time: what ``open``, ``close`` and ``every_minute`` mean by default.
TRADING_SESSIONS = (
    (datetime.time(9, 30), datetime.time(11, 30)),
    (datetime.time(13, 0), datetime.time(15, 0)),
)

#: Periods in which the exchanges take orders (call auction included), market time.
ORDER_SESSIONS = (
    (datetime.time(9, 15), datetime.time(11, 30)),
    (datetime.time(13, 0), datetime.time(15, 0)),
)


def outside_order_hours(calendar: TradingCalendar, now: pendulum.DateTime) -> Optional[str]:
    """``None`` when the exchanges take orders at ``now``; else why not and when they will."""
    local = in_market(now)
    day, moment = local.date(), local.time()
    if calendar.is_trading_day(day):
        for start, end in ORDER_SESSIONS:
            if start <= moment < end:
                return None
        later = [start for start, _ in ORDER_SESSIONS if moment < start]
        if later:
            when = f"今天 {later[0]:%H:%M}"
            why = "午间休市" if moment >= ORDER_SESSIONS[0][1] else "还没有开盘"
            return f"现在（{local:%H:%M:%S}）{why}，交易所 {when} 才接受委托"
        why = "已经收盘"
    else:
        why = f"{day} 不是交易日"
    following = calendar.next_trading_day(day)
    return f"现在（{local:%Y-%m-%d %H:%M:%S}）{why}，交易所下一次接受委托是 {following} {ORDER_SESSIONS[0][0]:%H:%M}"
