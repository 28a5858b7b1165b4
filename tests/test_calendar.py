"""Trading calendar: the packaged table against chinese_calendar, and the lookup rules.

Everything here works on dates only; no test reads the system clock or depends on the
machine's time zone.
"""

from __future__ import annotations

import datetime
import logging

import chinese_calendar
import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jqtrade import _calendar_table
from jqtrade.calendar import HOLIDAYS_FILE_NAME, TradingCalendar, parse_closure_dates
from jqtrade.errors import CalendarError

D = datetime.date

# Weekdays the exchanges closed although they were official working days (chinese_calendar
# counts them as workdays). Each is a known exchange-only closure.
EXCHANGE_ONLY_CLOSURES = {
    D(2005, 2, 7), D(2005, 2, 8),    # Spring Festival 2005, extended by the exchanges
    D(2006, 1, 26), D(2006, 1, 27),  # Spring Festival 2006, extended by the exchanges
    D(2024, 2, 9),                   # Spring Festival eve 2024 (除夕), a working day
}  # fmt: skip

SESSIONS_PER_YEAR = {2020: 243, 2021: 243, 2022: 242, 2023: 242, 2024: 242, 2025: 243, 2026: 242}

CHINESE_CALENDAR_LAST_YEAR = 2026

settings_fast = settings(max_examples=150, deadline=None)


@pytest.fixture(scope="module")
def cal() -> TradingCalendar:
    return TradingCalendar.builtin()


def all_days(first_year: int, last_year: int):
    day = D(first_year, 1, 1)
    while day.year <= last_year:
        yield day
        day += datetime.timedelta(days=1)


# --- the packaged table ----------------------------------------------------------------------


def test_table_covers_2005_to_2026(cal: TradingCalendar) -> None:
    assert cal.first_year == _calendar_table.FIRST_YEAR <= 2005
    assert cal.last_year == _calendar_table.LAST_YEAR >= 2026
    assert set(_calendar_table.WEEKDAY_CLOSURES) == set(range(cal.first_year, cal.last_year + 1))


def test_table_lists_only_weekdays() -> None:
    for year, text in _calendar_table.WEEKDAY_CLOSURES.items():
        for mmdd in text.split():
            assert D(year, int(mmdd[:2]), int(mmdd[2:])).weekday() < 5, (year, mmdd)


def test_table_agrees_with_chinese_calendar_except_exchange_only_closures(cal) -> None:
    differences = set()
    for day in all_days(cal.first_year, min(cal.last_year, CHINESE_CALENDAR_LAST_YEAR)):
        if day.weekday() < 5 and cal.is_trading_day(day) != chinese_calendar.is_workday(day):
            differences.add(day)
    assert differences <= EXCHANGE_ONLY_CLOSURES
    for day in EXCHANGE_ONLY_CLOSURES:
        assert not cal.is_trading_day(day)
        assert chinese_calendar.is_workday(day)


@pytest.mark.parametrize("day", [D(2024, 2, 4), D(2024, 2, 18), D(2024, 10, 12), D(2026, 1, 4)])
def test_make_up_working_weekends_are_not_trading_days(cal, day) -> None:
    assert chinese_calendar.is_workday(day)  # an official working day ...
    assert not cal.is_trading_day(day)  # ... but the exchanges stay closed


def test_weekends_never_trade(cal) -> None:
    for day in all_days(cal.first_year - 1, cal.last_year + 1):
        if day.weekday() >= 5:
            assert not cal.is_trading_day(day), day


@pytest.mark.parametrize(("year", "count"), sorted(SESSIONS_PER_YEAR.items()))
def test_sessions_per_year(cal, year, count) -> None:
    assert len(cal.trading_days(D(year, 1, 1), D(year, 12, 31))) == count


def test_known_days(cal) -> None:
    assert cal.next_trading_day(D(2024, 2, 8)) == D(2024, 2, 19)
    assert cal.previous_trading_day(D(2024, 2, 19)) == D(2024, 2, 8)
    assert cal.next_trading_day(D(2025, 9, 30)) == D(2025, 10, 9)
    # A Sunday belongs to the week that started the Monday before.
    assert cal.week_trading_days(D(2024, 2, 4)) == cal.trading_days(D(2024, 1, 29), D(2024, 2, 2))
    assert len(cal.week_trading_days(D(2024, 2, 4))) == 5
    assert cal.week_trading_days(D(2024, 2, 14)) == []
    assert cal.week_trading_days(D(2024, 2, 7)) == [D(2024, 2, d) for d in (5, 6, 7, 8)]
    assert cal.month_trading_days(D(2026, 10, 20))[0] == D(2026, 10, 8)


# --- properties --------------------------------------------------------------------------

known_days = st.dates(min_value=D(2005, 1, 10), max_value=D(2026, 12, 20))
any_days = st.dates(min_value=D(1990, 1, 1), max_value=D(2040, 12, 31))


@settings_fast
@given(day=any_days)
def test_next_is_the_first_trading_day_after(day) -> None:
    cal = TradingCalendar.builtin(logger=logging.getLogger("test.calendar.quiet"))
    nxt = cal.next_trading_day(day)
    assert type(nxt) is D
    assert nxt > day
    assert cal.is_trading_day(nxt)
    assert cal.trading_days(day + datetime.timedelta(days=1), nxt) == [nxt]
    assert cal.previous_trading_day(nxt) <= day or not cal.is_trading_day(day)
    if cal.is_trading_day(day):
        assert cal.previous_trading_day(nxt) == day


@settings_fast
@given(day=any_days)
def test_previous_is_the_last_trading_day_before(day) -> None:
    cal = TradingCalendar.builtin(logger=logging.getLogger("test.calendar.quiet"))
    prev = cal.previous_trading_day(day)
    assert type(prev) is D
    assert prev < day
    assert cal.is_trading_day(prev)
    assert cal.trading_days(prev, day - datetime.timedelta(days=1)) == [prev]
    if cal.is_trading_day(day):
        assert cal.next_trading_day(prev) == day


@settings_fast
@given(a=known_days, b=known_days)
def test_next_and_previous_are_monotonic(cal, a, b) -> None:
    if a < b:
        assert cal.next_trading_day(a) <= cal.next_trading_day(b)
        assert cal.previous_trading_day(a) <= cal.previous_trading_day(b)


@settings_fast
@given(start=known_days, length=st.integers(min_value=-3, max_value=60))
def test_trading_days_filters_by_is_trading_day(cal, start, length) -> None:
    end = start + datetime.timedelta(days=length)
    expected = [
        d
        for d in (start + datetime.timedelta(days=i) for i in range(length + 1))
        if cal.is_trading_day(d)
    ]
    assert cal.trading_days(start, end) == expected
    assert all(type(d) is D for d in expected)


@settings_fast
@given(day=known_days)
def test_week_and_month_lists(cal, day) -> None:
    monday = day - datetime.timedelta(days=day.weekday())
    week = cal.week_trading_days(day)
    assert week == cal.trading_days(monday, monday + datetime.timedelta(days=6))
    assert cal.week_trading_days(day) == week  # cached answer is the same
    week.clear()  # callers may mutate what they get back ...
    assert cal.week_trading_days(day) == cal.trading_days(
        monday, monday + datetime.timedelta(days=6)
    )

    month = cal.month_trading_days(day)
    assert month and all(d.year == day.year and d.month == day.month for d in month)
    assert month == [
        d
        for d in cal.trading_days(
            day.replace(day=1), day.replace(day=28) + datetime.timedelta(days=4)
        )
        if d.month == day.month
    ]
    assert cal.month_trading_days(day.replace(day=1)) == month


@settings_fast
@given(day=known_days)
def test_pendulum_dates_are_accepted(cal, day) -> None:
    p = pendulum.date(day.year, day.month, day.day)
    assert cal.is_trading_day(p) == cal.is_trading_day(day)
    assert type(cal.next_trading_day(p)) is D
    assert cal.next_trading_day(p) == cal.next_trading_day(day)
    assert cal.week_trading_days(p) == cal.week_trading_days(day)


# --- past the table ----------------------------------------------------------------------


def _warnings(caplog) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "jqtrade.calendar" and r.levelno == logging.WARNING
    ]


def test_weekdays_after_the_table_trade_and_warn_once(caplog) -> None:
    cal = TradingCalendar.builtin()
    year = cal.last_year + 1
    with caplog.at_level(logging.WARNING, logger="jqtrade.calendar"):
        days = cal.trading_days(D(year, 1, 1), D(year, 12, 31))
        cal.next_trading_day(D(year, 5, 1))
        cal.month_trading_days(D(year, 2, 1))
    assert days == [d for d in all_days(year, year) if d.weekday() < 5]
    messages = _warnings(caplog)
    assert len(messages) == 1
    assert str(year) in messages[0]
    assert "extra_holidays" in messages[0] and HOLIDAYS_FILE_NAME in messages[0]


def test_years_before_the_table_warn_once_each(caplog) -> None:
    cal = TradingCalendar.builtin()
    with caplog.at_level(logging.WARNING, logger="jqtrade.calendar"):
        cal.trading_days(D(cal.first_year - 2, 1, 1), D(cal.first_year - 1, 12, 31))
        cal.is_trading_day(D(cal.first_year - 1, 3, 3))
    messages = _warnings(caplog)
    assert len(messages) == 2
    assert str(cal.first_year - 2) in messages[0] and str(cal.first_year - 1) in messages[1]


def test_known_years_do_not_warn(caplog) -> None:
    cal = TradingCalendar.builtin()
    with caplog.at_level(logging.WARNING, logger="jqtrade.calendar"):
        cal.trading_days(D(cal.first_year, 1, 1), D(cal.last_year, 12, 31))
    assert _warnings(caplog) == []


def test_warning_goes_to_the_given_logger(caplog) -> None:
    logger = logging.getLogger("test.calendar.custom")
    cal = TradingCalendar.builtin(logger=logger)
    with caplog.at_level(logging.WARNING):
        cal.is_trading_day(D(2027, 3, 3))
    assert [r.name for r in caplog.records] == ["test.calendar.custom"]


def test_extra_closures_are_honoured_and_silence_their_year(caplog) -> None:
    cal = TradingCalendar.builtin(
        extra_closures=["2027-01-01", D(2027, 2, 8), pendulum.date(2025, 3, 3)]
    )
    with caplog.at_level(logging.WARNING, logger="jqtrade.calendar"):
        assert not cal.is_trading_day(D(2027, 1, 1))
        assert not cal.is_trading_day(D(2027, 2, 8))
        assert cal.is_trading_day(D(2027, 1, 4))
        assert cal.next_trading_day(D(2026, 12, 31)) == D(2027, 1, 4)
        assert not cal.is_trading_day(D(2025, 3, 3))  # an ad hoc closure in a known year
        assert cal.previous_trading_day(D(2025, 3, 4)) == D(2025, 2, 28)
    assert _warnings(caplog) == []


def test_constructor_with_a_custom_table() -> None:
    cal = TradingCalendar([D(2030, 1, 1)], 2030, 2030, extra_closures=[D(2030, 1, 2)])
    assert cal.first_year == cal.last_year == 2030
    assert cal.trading_days(D(2030, 1, 1), D(2030, 1, 6)) == [D(2030, 1, 3), D(2030, 1, 4)]
    with pytest.raises(CalendarError):
        TradingCalendar([], 2031, 2030)


# --- user closures: option values and holidays.txt ------------------------------------------


@settings_fast
@given(day=st.dates(min_value=D(1900, 1, 1), max_value=D(9999, 12, 31)))
def test_parse_round_trips_iso_dates(day) -> None:
    assert parse_closure_dates([day.isoformat(), f"  {day.isoformat()} "], "test") == [day, day]
    assert parse_closure_dates(day.isoformat(), "test") == [day]


@pytest.mark.parametrize(
    "bad", ["2027-02-30", "20270101", "2027/01/01", "2027-1-1", "", "元旦", 20270101, None]
)
def test_parse_rejects_bad_values(bad) -> None:
    with pytest.raises(CalendarError) as info:
        parse_closure_dates(["2027-01-01", bad], "选项 extra_holidays")
    assert "选项 extra_holidays" in str(info.value)
    assert repr(bad) in str(info.value)
    assert "YYYY-MM-DD" in str(info.value)


def test_bad_option_value_fails_builtin() -> None:
    with pytest.raises(CalendarError, match="2027-13-01"):
        TradingCalendar.builtin(extra_closures=["2027-13-01"])


def test_holidays_file_is_read(tmp_path) -> None:
    text = "\ufeff# 2027 年休市安排\n\n2027-01-01\n  2027-02-08   # 春节\r\n2027-02-09\n"
    (tmp_path / HOLIDAYS_FILE_NAME).write_bytes(text.encode("utf-8"))
    cal = TradingCalendar.builtin(runtime_dir=tmp_path, extra_closures=["2027-02-10"])
    assert cal.week_trading_days(D(2027, 2, 8)) == [D(2027, 2, 11), D(2027, 2, 12)]
    assert not cal.is_trading_day(D(2027, 1, 1))


def test_missing_holidays_file_is_fine(tmp_path) -> None:
    cal = TradingCalendar.builtin(runtime_dir=str(tmp_path))
    assert cal.is_trading_day(D(2026, 1, 5))


def test_bad_holidays_file_line_names_file_line_and_text(tmp_path) -> None:
    path = tmp_path / HOLIDAYS_FILE_NAME
    path.write_bytes(b"# comment\n2027-01-01\n\n2027-02-3O\n")
    with pytest.raises(CalendarError) as info:
        TradingCalendar.builtin(runtime_dir=tmp_path)
    message = str(info.value)
    assert str(path) in message
    assert "第 4 行" in message
    assert "2027-02-3O" in message


def test_holidays_file_not_utf8(tmp_path) -> None:
    (tmp_path / HOLIDAYS_FILE_NAME).write_bytes("# 春节\n2027-02-08\n".encode("gbk"))
    with pytest.raises(CalendarError, match="UTF-8"):
        TradingCalendar.builtin(runtime_dir=tmp_path)
