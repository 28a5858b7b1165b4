"""Where bars fall in a trading day, and building longer bars from shorter ones.

The continuous sessions are :data:`jqtrade.model.sessions.TRADING_SESSIONS` (09:30-11:30 and
13:00-15:00). A day has 240 one-minute bars, stamped with their end times
09:31 ... 11:30 and 13:01 ... 15:00; some sources also send a 09:30 bar (the opening auction),
which belongs to the first bar. Five-minute bars end at 09:35 ... 11:30, 13:05 ... 15:00 (48 a
day), the daily bar at 15:00.

All functions here are pure: they take times and bars and return new ones.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Optional

import pendulum

from jqtrade.clock import MARKET_TZ
from jqtrade.data.models import Bar, BarUnit
from jqtrade.model.sessions import TRADING_SESSIONS

__all__ = [
    "BARS_PER_DAY",
    "bar_times",
    "bucket_end",
    "close_time",
    "in_session",
    "resample",
    "session_minute",
]

_MORNING, _AFTERNOON = TRADING_SESSIONS


def _minutes(t: datetime.time) -> int:
    return t.hour * 60 + t.minute


_OPEN = _minutes(_MORNING[0])
_LUNCH = _minutes(_MORNING[1])
_REOPEN = _minutes(_AFTERNOON[0])
_CLOSE = _minutes(_AFTERNOON[1])
_MORNING_BARS = _LUNCH - _OPEN
_DAY_MINUTES = _MORNING_BARS + (_CLOSE - _REOPEN)

#: Bars per full trading day.
BARS_PER_DAY = {BarUnit.m1: _DAY_MINUTES, BarUnit.m5: _DAY_MINUTES // 5, BarUnit.d1: 1}


def session_minute(t: datetime.time) -> Optional[int]:
    """The index of the one-minute bar ending at ``t``: 1..240; 0 for 09:30; None outside.

    Seconds are ignored only when zero: a bar stamped 09:31:30 is not a bar end.
    """
    if t.second or t.microsecond:
        return None
    m = _minutes(t)
    if _OPEN <= m <= _LUNCH:
        return m - _OPEN
    if _REOPEN < m <= _CLOSE:
        return _MORNING_BARS + m - _REOPEN
    return None


def _time_of(index: int) -> datetime.time:
    m = _OPEN + index if index <= _MORNING_BARS else _REOPEN + index - _MORNING_BARS
    return datetime.time(m // 60, m % 60)


def in_session(t: datetime.time) -> bool:
    """Whether ``t`` is the end time of a one-minute bar (09:30 included, see above)."""
    return session_minute(t) is not None


def close_time(day: datetime.date) -> pendulum.DateTime:
    """15:00 of ``day``: when its daily bar is stamped."""
    close = _AFTERNOON[1]
    return pendulum.datetime(day.year, day.month, day.day, close.hour, close.minute, tz=MARKET_TZ)


def bar_times(day: datetime.date, unit: BarUnit) -> list[pendulum.DateTime]:
    """The end times of ``day``'s bars of ``unit`` (``day`` is assumed a trading day)."""
    if unit is BarUnit.d1:
        return [close_time(day)]
    step = unit.minutes or 1
    times = []
    for index in range(step, _DAY_MINUTES + 1, step):
        t = _time_of(index)
        times.append(
            pendulum.datetime(day.year, day.month, day.day, t.hour, t.minute, tz=MARKET_TZ)
        )
    return times


def bucket_end(time: pendulum.DateTime, unit: BarUnit) -> Optional[pendulum.DateTime]:
    """The end of the ``unit`` bar that the one-minute bar ending at ``time`` belongs to."""
    local = time.in_tz(MARKET_TZ)
    if unit is BarUnit.d1:
        return close_time(local.date())
    index = session_minute(local.time())
    if index is None:
        return None
    step = unit.minutes or 1
    end_index = max(step, -(-index // step) * step)
    t = _time_of(end_index)
    return local.replace(hour=t.hour, minute=t.minute, second=0, microsecond=0)


def resample(bars: Iterable[Bar], unit: BarUnit) -> list[Bar]:
    """Longer bars from one-minute (or any shorter) bars of one code, oldest first.

    A bucket holds the bars that :func:`bucket_end` maps to it; the result is stamped with the
    bucket's end even when its last minutes are missing (a bar is only ever built from bars
    that exist). Open is the first bar's open, close the last one's close, volume and amount
    are sums. Bars outside the sessions are dropped.
    """
    out: list[Bar] = []
    group: list[Bar] = []
    current: Optional[pendulum.DateTime] = None
    for bar in bars:
        end = bucket_end(bar.time, unit)
        if end is None:
            continue
        if current is not None and end != current:
            out.append(_merge(group, unit, current))
            group = []
        current = end
        group.append(bar)
    if group and current is not None:
        out.append(_merge(group, unit, current))
    return out


def _merge(group: Sequence[Bar], unit: BarUnit, end: pendulum.DateTime) -> Bar:
    first = group[0]
    return Bar(
        code=first.code,
        unit=unit,
        time=end,
        open=first.open,
        high=max(b.high for b in group),
        low=min(b.low for b in group),
        close=group[-1].close,
        volume=sum(b.volume for b in group),
        amount=sum((b.amount for b in group), Decimal(0)),
    )
