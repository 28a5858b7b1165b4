"""Orders outside the hours the exchanges take them: sent, with one warning each."""

from __future__ import annotations

import datetime
import logging

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from jqtrade import LimitOrderStyle
from jqtrade.account.account import Account
from jqtrade.calendar import TradingCalendar
from jqtrade.clock import MARKET_TZ, SimClock
from jqtrade.gates.fake import FakeTradeGate
from jqtrade.model.sessions import ORDER_SESSIONS, outside_order_hours
from jqtrade.options import Options

CAL = TradingCalendar.builtin()
MONDAY = datetime.date(2024, 6, 3)


def at(day: datetime.date, hour: int, minute: int = 0) -> pendulum.DateTime:
    return pendulum.datetime(day.year, day.month, day.day, hour, minute, tz=MARKET_TZ)


@given(st.datetimes(datetime.datetime(2024, 1, 1), datetime.datetime(2024, 12, 31, 23, 59)))
def test_open_exactly_in_the_order_sessions_of_trading_days(moment):
    now = pendulum.instance(moment, tz=MARKET_TZ)
    inside = CAL.is_trading_day(now.date()) and any(
        start <= now.time() < end for start, end in ORDER_SESSIONS
    )
    note = outside_order_hours(CAL, now)
    assert (note is None) == inside
    if note is not None:
        assert now.format("HH:mm:ss") in note


@pytest.mark.parametrize(
    ("moment", "says"),
    [
        (at(MONDAY, 9, 0), "今天 09:15"),
        (at(MONDAY, 12, 0), "午间休市，交易所 今天 13:00"),
        (at(MONDAY, 15, 30), "已经收盘，交易所下一次接受委托是 2024-06-04 09:15"),
        (
            at(datetime.date(2024, 10, 1), 10, 0),
            "2024-10-01 不是交易日，交易所下一次接受委托是 2024-10-08 09:15",
        ),
    ],
)
def test_the_note_says_when_orders_are_taken_next(moment, says):
    assert says in (outside_order_hours(CAL, moment) or "")


def test_an_order_outside_hours_is_sent_with_one_warning(tmp_path, caplog):
    clock = SimClock(at(MONDAY, 12, 5))
    gate = FakeTradeGate(cash=100_000, prices={"600000.XSHG": 8.0}, clock=clock)
    options = Options().evolve({"runtime_dir": str(tmp_path), "use_account": True})
    account = Account(
        gate=gate, clock=clock, options=options, runtime_dir=tmp_path, task_name="t", calendar=CAL
    )
    account.start()
    with caplog.at_level(logging.WARNING, logger="jqtrade.account"):
        lunch = account.order("600000.XSHG", 100, LimitOrderStyle(8.0))
        clock.advance(3600)  # 13:05: open again
        account.order("600000.XSHG", 100, LimitOrderStyle(8.0))
    assert [row.order_id for row in gate.peek_orders()][0] == lunch  # sent all the same
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and lunch in warnings[0] and "午间休市" in warnings[0]
    account.close()
