from __future__ import annotations

import datetime
import itertools

import pendulum
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from jqtrade.calendar import TradingCalendar
from jqtrade.clock import MARKET_TZ
from jqtrade.errors import OptionValueError, ScheduleArgumentError, TimeExpressionError
from jqtrade.schedule import (
    DEFAULT_MARKET_PERIOD,
    DailyRule,
    MonthlyRule,
    Rule,
    TimeExpression,
    WeeklyRule,
    daily_rule,
    firings_on,
    monthly_rule,
    parse_market_period,
    parse_time_expression,
    weekly_rule,
)

CAL = TradingCalendar.builtin()
D = datetime.date
T = datetime.time
SETTINGS = settings(max_examples=120, deadline=None)


def at(day: datetime.date, hour: int, minute: int = 0, second: int = 0) -> pendulum.DateTime:
    return pendulum.datetime(day.year, day.month, day.day, hour, minute, second, tz=MARKET_TZ)


def secs(t: datetime.time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def from_secs(s: int) -> datetime.time:
    return T(s // 3600, s // 60 % 60, s % 60)


# --- strategies ----------------------------------------------------------------------------

case = st.sampled_from([str.lower, str.upper, str.title, str.swapcase])
pad = st.sampled_from(["", " ", "\t", "  \n"])


@st.composite
def market_periods(
    draw: st.DrawFn, max_gap: int = 86399
) -> tuple[tuple[datetime.time, datetime.time], ...]:
    """Up to three sorted, non-overlapping periods; each boundary at most max_gap after the last."""
    count = draw(st.integers(1, 3))
    step = min(max_gap, 86399 // (2 * count))
    points = [draw(st.integers(0, step - 1))]
    for _ in range(2 * count - 1):
        points.append(points[-1] + draw(st.integers(1, step)))
    return tuple((from_secs(a), from_secs(b)) for a, b in zip(points[::2], points[1::2]))


@st.composite
def clock_texts(draw: st.DrawFn) -> tuple[str, int]:
    h, m, s = draw(st.integers(0, 23)), draw(st.integers(0, 59)), draw(st.integers(0, 59))
    hour = f"{h:02d}" if draw(st.booleans()) else str(h)
    with_seconds = draw(st.booleans())
    text = f"{hour}:{m:02d}:{s:02d}" if with_seconds else f"{hour}:{m:02d}"
    return draw(pad) + text + draw(pad), h * 3600 + m * 60 + (s if with_seconds else 0)


@st.composite
def offset_texts(draw: st.DrawFn) -> tuple[str, str, int]:
    """(text, anchor, signed offset in seconds) built from the grammar."""
    anchor = draw(st.sampled_from(["open", "close"]))
    sign = draw(st.sampled_from(["+", "-"]))
    units = draw(st.lists(st.sampled_from("hms"), min_size=1, max_size=3, unique=True))
    offset, body = 0, ""
    for unit, size in (("h", 3600), ("m", 60), ("s", 1)):
        if unit in units:
            value = draw(st.integers(0, 30 if unit == "h" else 200))
            body += f"{value}{unit}"
            offset += value * size
    text = draw(case)(f"{anchor}{sign}{body}")
    return draw(pad) + text + draw(pad), anchor, offset if sign == "+" else -offset


def expected_every_minute(periods) -> tuple[datetime.time, ...]:
    minutes = {
        s for start, end in periods for s in range(0, 86400, 60) if secs(start) <= s <= secs(end)
    }
    return tuple(from_secs(s) for s in sorted(minutes))


# --- market period -------------------------------------------------------------------------


def test_default_market_period() -> None:
    assert DEFAULT_MARKET_PERIOD == ((T(9, 30), T(11, 30)), (T(13, 0), T(15, 0)))
    assert (
        parse_market_period([("09:30:00", "11:30:00"), ("13:00", "15:00")]) == DEFAULT_MARKET_PERIOD
    )
    assert parse_market_period(DEFAULT_MARKET_PERIOD) == DEFAULT_MARKET_PERIOD
    assert parse_market_period([[" 9:30", T(11, 30)]]) == ((T(9, 30), T(11, 30)),)
    # touching periods are not overlapping
    assert parse_market_period([("09:30", "11:30"), ("11:30", "12:00")])[1] == (T(11, 30), T(12))


@pytest.mark.parametrize(
    "value",
    [
        [],
        (),
        None,
        "09:30-15:00",
        ("09:30", "15:00"),
        [("09:30", "11:30", "12:00")],
        [("11:30", "09:30")],
        [("09:30", "09:30")],
        [("13:00", "15:00"), ("09:30", "11:30")],
        [("09:30", "13:30"), ("13:00", "15:00")],
        [("09:30", "24:00")],
        [("9:3", "15:00")],
        [(930, 1500)],
        [(T(9, 30, 0, 5), T(15))],
        [(T(9, 30, tzinfo=datetime.timezone.utc), T(15))],
    ],
)
def test_bad_market_period(value: object) -> None:
    with pytest.raises(OptionValueError) as info:
        parse_market_period(value)
    assert "market_period" in str(info.value)
    assert isinstance(info.value, ValueError)


@SETTINGS
@given(market_periods(), st.booleans())
def test_market_period_round_trip(periods, as_text: bool) -> None:
    value = [(a.isoformat(), b.isoformat()) for a, b in periods] if as_text else list(periods)
    assert parse_market_period(value) == periods


# --- time expressions ----------------------------------------------------------------------


def test_expression_forms_with_default_period() -> None:
    def resolve(text: str) -> tuple[datetime.time, ...]:
        return parse_time_expression(text).resolve(DEFAULT_MARKET_PERIOD)

    assert resolve("09:00:00") == (T(9),)
    assert resolve("9:30") == (T(9, 30),)
    assert resolve(" 14:50 ") == (T(14, 50),)
    assert resolve("open") == (T(9, 30),)
    assert resolve("CLOSE") == (T(15),)
    assert resolve("before_open") == resolve("open-30m") == (T(9),)
    assert resolve("after_close") == resolve("close+30m") == (T(15, 30),)
    assert resolve("close+1h30m") == (T(16, 30),)
    assert resolve("open+90s") == (T(9, 31, 30),)
    assert resolve("open - 1h") == (T(8, 30),)
    assert resolve("open-9h30m") == (T(0),)
    assert resolve("close+8h59m59s") == (T(23, 59, 59),)


def test_every_minute_default() -> None:
    times = parse_time_expression("every_minute").resolve(DEFAULT_MARKET_PERIOD)
    assert len(times) == 242
    assert times[0] == T(9, 30) and times[-1] == T(15)
    assert T(11, 30) in times and T(13) in times and T(12) not in times
    assert list(times) == sorted(set(times))


def test_every_minute_partial_minutes() -> None:
    times = parse_time_expression("every_minute").resolve([("09:30:30", "09:33:10")])
    assert times == (T(9, 31), T(9, 32), T(9, 33))
    with pytest.raises(TimeExpressionError, match="every_minute"):
        parse_time_expression("every_minute").resolve([("09:30:10", "09:30:50")])


@pytest.mark.parametrize(
    "bad",
    [
        "25:00",
        "09:60",
        "09:30:60",
        "opne",
        "open-",
        "close+1x",
        "",
        "  ",
        None,
        930,
        "open-10h",
        "every minute",
        "open+30m1h",
        "09：30",
        "9",
        "9:5",
        "09:30:00:00",
        "before_open+5m",
        "close+1000000000h",
    ],
)
def test_bad_expressions(bad: object) -> None:
    with pytest.raises(TimeExpressionError) as info:
        parse_time_expression(bad).resolve(DEFAULT_MARKET_PERIOD)
    message = str(info.value)
    assert repr(bad) in message
    assert "every_minute" in message  # the accepted forms are listed
    assert isinstance(info.value, ValueError)
    assert info.value.expression == bad


def test_out_of_day_message() -> None:
    with pytest.raises(TimeExpressionError, match="超出当天"):
        parse_time_expression("open-10h").resolve(DEFAULT_MARKET_PERIOD)
    with pytest.raises(TimeExpressionError, match="超出当天"):
        parse_time_expression("close+9h").resolve(DEFAULT_MARKET_PERIOD)


def test_syntax_check_does_not_need_period() -> None:
    expr = parse_time_expression("open-10h")
    assert isinstance(expr, TimeExpression) and expr.offset == -36000
    assert expr.resolve([("11:00", "15:00")]) == (T(1),)
    assert parse_time_expression(expr) is expr


@SETTINGS
@given(clock_texts(), market_periods())
def test_clock_round_trip(item: tuple[str, int], periods) -> None:
    text, seconds = item
    expr = parse_time_expression(text)
    assert expr.text == text and expr.kind == "clock"
    assert expr.resolve(periods) == (from_secs(seconds),)
    assert expr.canonical == from_secs(seconds).isoformat()


@SETTINGS
@given(offset_texts(), market_periods())
def test_offset_round_trip(item: tuple[str, str, int], periods) -> None:
    text, anchor, offset = item
    expr = parse_time_expression(text)
    assert (expr.kind, expr.anchor, expr.offset) == ("anchor", anchor, offset)
    base = secs(periods[0][0] if anchor == "open" else periods[-1][1])
    if 0 <= base + offset < 86400:
        assert expr.resolve(periods) == (from_secs(base + offset),)
    else:
        with pytest.raises(TimeExpressionError, match="超出当天") as info:
            expr.resolve(periods)
        assert repr(text) in str(info.value)


@SETTINGS
@given(market_periods())
def test_named_expressions_follow_period(periods) -> None:
    opened, closed = secs(periods[0][0]), secs(periods[-1][1])
    for text, value in [
        ("open", opened),
        ("close", closed),
        ("before_open", opened - 1800),
        ("after_close", closed + 1800),
    ]:
        if 0 <= value < 86400:
            assert parse_time_expression(text).resolve(periods) == (from_secs(value),)
        else:
            with pytest.raises(TimeExpressionError):
                parse_time_expression(text).resolve(periods)
    expected = expected_every_minute(periods)
    if expected:
        assert parse_time_expression(" Every_Minute ").resolve(periods) == expected
    else:
        with pytest.raises(TimeExpressionError):
            parse_time_expression("every_minute").resolve(periods)


near_grammar = st.one_of(
    st.text(max_size=20),
    st.from_regex(
        r"\s?(open|close|OPEN|opne|every_minute|before_open)?[+\- ]{0,2}([0-9]{0,3}[hmsx]?){0,4}\s?",
        fullmatch=True,
    ),
    st.from_regex(r"[0-9]{0,3}(:[0-9]{0,3}){0,3}", fullmatch=True),
)


@SETTINGS
@given(near_grammar, market_periods())
def test_any_text_parses_or_raises_documented_error(text: str, periods) -> None:
    try:
        times = parse_time_expression(text).resolve(periods)
    except TimeExpressionError as error:
        assert repr(text) in str(error)
        return
    assert times and list(times) == sorted(set(times))
    assert all(t.microsecond == 0 and t.tzinfo is None for t in times)


# --- rules: an independent model -----------------------------------------------------------


def pick(days: list[datetime.date], n: int) -> datetime.date:
    if n > 0:
        return days[-1] if n > len(days) else days[n - 1]
    return days[0] if -n > len(days) else days[n]


def model_days(kind: str, n: int, first: datetime.date, last: datetime.date) -> list[datetime.date]:
    """Firing days between first and last by enumerating dates and grouping them."""
    span = [first + datetime.timedelta(days=i) for i in range((last - first).days + 1)]
    open_days = [d for d in span if CAL.is_trading_day(d)]
    if kind == "daily":
        return open_days
    key = (lambda d: d.isocalendar()[:2]) if kind == "weekly" else (lambda d: (d.year, d.month))
    return [pick(list(group), n) for _, group in itertools.groupby(open_days, key=key)]


def build(kind: str, n: int, expression: str, periods=DEFAULT_MARKET_PERIOD) -> Rule:
    if kind == "daily":
        return daily_rule(CAL, expression, periods)
    if kind == "weekly":
        return weekly_rule(CAL, n, expression, periods)
    return monthly_rule(CAL, n, expression, periods)


def iterate(
    rule: Rule, start: pendulum.DateTime, until: pendulum.DateTime
) -> list[pendulum.DateTime]:
    out = []
    cursor = start
    while True:
        cursor = rule.next_after(cursor)
        if cursor > until:
            return out
        out.append(cursor)


starts = st.datetimes(
    min_value=datetime.datetime(2005, 3, 1), max_value=datetime.datetime(2026, 9, 30)
)
zones = st.sampled_from(["Asia/Shanghai", "UTC", "America/New_York", "Europe/London", "Asia/Tokyo"])
expressions = st.one_of(
    st.sampled_from(
        [
            "open",
            "close",
            "before_open",
            "after_close",
            "09:00",
            "0:00",
            "23:59:59",
            "open+1m",
            "close-1s",
        ]
    ),
    clock_texts().map(lambda item: item[0]),
)
rule_specs = st.one_of(
    st.tuples(st.just("daily"), st.just(1), st.just(7)),
    st.tuples(st.just("weekly"), st.integers(1, 5) | st.integers(-5, -1), st.just(35)),
    st.tuples(st.just("monthly"), st.integers(1, 31) | st.integers(-31, -1), st.just(100)),
)


def check_against_model(rule: Rule, kind: str, n: int, start: pendulum.DateTime, days: int) -> None:
    until = start.add(days=days)
    got = iterate(rule, start, until)
    local = start.in_tz(MARKET_TZ)
    times = rule.times  # type: ignore[attr-defined]
    margin = datetime.timedelta(days=40)
    expected = [
        at(day, t.hour, t.minute, t.second)
        for day in model_days(
            kind, n, local.date() - margin, until.in_tz(MARKET_TZ).date() + margin
        )
        for t in times
    ]
    expected = [e for e in expected if start < e <= until]
    assert got == expected
    assert all(a < b for a, b in zip(got, got[1:]))
    for firing in got:
        assert firing.timezone_name == "Asia/Shanghai"
        assert CAL.is_trading_day(firing.date())


@SETTINGS
@given(starts, zones, rule_specs, st.lists(expressions, min_size=1, max_size=3))
def test_rules_match_model(naive: datetime.datetime, zone: str, spec, texts: list[str]) -> None:
    kind, n, days = spec
    start = pendulum.instance(naive, tz=zone)
    rules = [build(kind, n, text) for text in texts]
    for rule in rules:
        check_against_model(rule, kind, n, start, days)
    # the same instant seen from New York gives the same firings
    assert [r.next_after(start.in_tz("America/New_York")) for r in rules] == [
        r.next_after(start.in_tz(MARKET_TZ)) for r in rules
    ]


@SETTINGS
@given(starts, rule_specs, market_periods(max_gap=2400))
def test_rules_with_random_periods(naive: datetime.datetime, spec, periods) -> None:
    kind, n, days = spec
    expected_times = expected_every_minute(periods)
    assume(expected_times)
    rule = build(kind, n, "every_minute", periods)
    assert rule.times == expected_times  # type: ignore[attr-defined]
    check_against_model(rule, kind, n, pendulum.instance(naive, tz=MARKET_TZ), min(days, 35))


@SETTINGS
@given(starts, rule_specs, expressions)
def test_firing_instants_are_strict(naive: datetime.datetime, spec, text: str) -> None:
    kind, n, _ = spec
    rule = build(kind, n, text)
    firing = rule.next_after(pendulum.instance(naive, tz=MARKET_TZ))
    assert rule.next_after(firing) > firing
    assert rule.next_after(firing.subtract(microseconds=1)) == firing
    assert rule.next_after(firing.in_tz("America/New_York").subtract(seconds=1)) == firing


@settings(max_examples=20, deadline=None)
@given(st.dates(min_value=D(2005, 1, 10), max_value=D(2026, 12, 20)))
def test_every_minute_daily_count(day: datetime.date) -> None:
    rule = daily_rule(CAL, "every_minute", DEFAULT_MARKET_PERIOD)
    firings = firings_on(rule, day)
    if not CAL.is_trading_day(day):
        assert firings == []
        return
    assert len(firings) == 242
    clock = [f.time() for f in firings]
    assert clock[0] == T(9, 30) and clock[-1] == T(15)
    assert T(11, 30) in clock and T(13) in clock and T(12) not in clock


# --- rules: known weeks and months ---------------------------------------------------------


def firing_days(rule: Rule, first: datetime.date, last: datetime.date) -> list[datetime.date]:
    start = at(first, 0).subtract(microseconds=1)
    return [f.date() for f in iterate(rule, start, at(last, 23, 59, 59))]


def test_weekly_around_national_day_2024() -> None:
    # 2024-09-30 (Mon) is the only trading day of its week; 10-07 (Mon) is closed too.
    first, last = D(2024, 9, 23), D(2024, 10, 13)
    assert firing_days(weekly_rule(CAL, 1, "open", DEFAULT_MARKET_PERIOD), first, last) == [
        D(2024, 9, 23),
        D(2024, 9, 30),
        D(2024, 10, 8),
    ]
    assert firing_days(weekly_rule(CAL, -1, "open", DEFAULT_MARKET_PERIOD), first, last) == [
        D(2024, 9, 27),
        D(2024, 9, 30),
        D(2024, 10, 11),
    ]
    assert firing_days(weekly_rule(CAL, 5, "open", DEFAULT_MARKET_PERIOD), first, last) == [
        D(2024, 9, 27),
        D(2024, 9, 30),
        D(2024, 10, 11),
    ]
    assert firing_days(weekly_rule(CAL, -5, "open", DEFAULT_MARKET_PERIOD), first, last) == [
        D(2024, 9, 23),
        D(2024, 9, 30),
        D(2024, 10, 8),
    ]
    assert firing_days(weekly_rule(CAL, 2, "close", DEFAULT_MARKET_PERIOD), first, last) == [
        D(2024, 9, 24),
        D(2024, 9, 30),
        D(2024, 10, 9),
    ]


def test_weekly_spring_festival_2024() -> None:
    # 02-09 (Fri) closed; 02-12..02-16 closed: that week fires nothing.
    rule = weekly_rule(CAL, -1, "14:50", DEFAULT_MARKET_PERIOD)
    assert firing_days(rule, D(2024, 2, 5), D(2024, 2, 25)) == [D(2024, 2, 8), D(2024, 2, 23)]
    assert rule.next_after(at(D(2024, 2, 8), 14, 50)) == at(D(2024, 2, 23), 14, 50)
    rule = weekly_rule(CAL, 1, "open", DEFAULT_MARKET_PERIOD)
    assert rule.next_after(at(D(2024, 2, 5), 9, 30)) == at(D(2024, 2, 19), 9, 30)


def test_monthly_known_months() -> None:
    rule = monthly_rule(CAL, 1, "open", DEFAULT_MARKET_PERIOD)
    assert firing_days(rule, D(2024, 9, 1), D(2024, 11, 30)) == [
        D(2024, 9, 2),
        D(2024, 10, 8),
        D(2024, 11, 1),
    ]
    rule = monthly_rule(CAL, 31, "close", DEFAULT_MARKET_PERIOD)
    assert firing_days(rule, D(2024, 1, 1), D(2024, 3, 31)) == [
        D(2024, 1, 31),
        D(2024, 2, 29),
        D(2024, 3, 29),
    ]
    rule = monthly_rule(CAL, -31, "close", DEFAULT_MARKET_PERIOD)
    assert firing_days(rule, D(2024, 1, 1), D(2024, 3, 31)) == [
        D(2024, 1, 2),
        D(2024, 2, 1),
        D(2024, 3, 1),
    ]
    rule = monthly_rule(CAL, 15, "open", DEFAULT_MARKET_PERIOD)
    # February 2024 has 15 trading days: the 15th is the last one.
    assert len(CAL.month_trading_days(D(2024, 2, 1))) == 15
    assert firing_days(rule, D(2024, 2, 1), D(2024, 2, 29)) == [D(2024, 2, 29)]


def test_daily_skips_holidays_and_weekends() -> None:
    rule = daily_rule(CAL, "open", DEFAULT_MARKET_PERIOD)
    assert rule.next_after(at(D(2024, 9, 30), 9, 30)) == at(D(2024, 10, 8), 9, 30)
    assert rule.next_after(at(D(2024, 10, 12), 8)) == at(
        D(2024, 10, 14), 9, 30
    )  # make-up Sat closed
    new_york = pendulum.datetime(
        2024, 9, 29, 21, 29, 59, tz="America/New_York"
    )  # 09:29:59 Shanghai
    assert rule.next_after(new_york) == at(D(2024, 9, 30), 9, 30)


def test_descriptions() -> None:
    assert daily_rule(CAL, "9:00", DEFAULT_MARKET_PERIOD).description == "每个交易日 09:00:00"
    assert (
        weekly_rule(CAL, 1, " OPEN ", DEFAULT_MARKET_PERIOD).description == "每周第1个交易日 open"
    )
    assert (
        weekly_rule(CAL, -2, "close-5m", DEFAULT_MARKET_PERIOD).description
        == "每周倒数第2个交易日 close-5m"
    )
    assert (
        monthly_rule(CAL, 3, "every_minute", DEFAULT_MARKET_PERIOD).description
        == "每月第3个交易日 every_minute"
    )
    for rule in (
        daily_rule(CAL, "open", DEFAULT_MARKET_PERIOD),
        weekly_rule(CAL, 1, "open", DEFAULT_MARKET_PERIOD),
    ):
        assert isinstance(rule, Rule)


@pytest.mark.parametrize("value", [0, 6, -6, True, False, 1.0, "1", None])
def test_bad_weekday(value: object) -> None:
    with pytest.raises(ScheduleArgumentError) as info:
        weekly_rule(CAL, value, "open", DEFAULT_MARKET_PERIOD)  # type: ignore[arg-type]
    assert repr(value) in str(info.value)
    with pytest.raises(ScheduleArgumentError):
        WeeklyRule(CAL, value, (T(9),))  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [0, 32, -32, True, 2.0])
def test_bad_monthday(value: object) -> None:
    with pytest.raises(ScheduleArgumentError) as info:
        monthly_rule(CAL, value, "open", DEFAULT_MARKET_PERIOD)  # type: ignore[arg-type]
    assert repr(value) in str(info.value)
    with pytest.raises(ScheduleArgumentError):
        MonthlyRule(CAL, value, (T(9),))  # type: ignore[arg-type]


def test_rule_models_validate_times() -> None:
    assert DailyRule(CAL, [T(9), T(10)]).times == (T(9), T(10))
    for times in [(), (T(10), T(9)), (T(9), T(9)), (T(9, 0, 0, 1),)]:
        with pytest.raises(ValueError):
            DailyRule(CAL, times)


def test_naive_instant_rejected() -> None:
    rule = daily_rule(CAL, "open", DEFAULT_MARKET_PERIOD)
    with pytest.raises(ScheduleArgumentError):
        rule.next_after(datetime.datetime(2024, 9, 30, 9))  # type: ignore[arg-type]
    aware = datetime.datetime(2024, 9, 30, 1, tzinfo=datetime.timezone.utc)  # 09:00 Shanghai
    assert rule.next_after(aware) == at(D(2024, 9, 30), 9, 30)  # type: ignore[arg-type]
