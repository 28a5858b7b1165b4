"""Time expressions ("open-30m", "every_minute") and pure "next firing after T" rules.

A rule answers one question: given an instant ``t``, when is its first firing strictly after
``t``?  Rules never read the clock, so the event loop, previews and tests all drive them the
same way.  Every firing is a :class:`pendulum.DateTime` in the market time zone
(Asia/Shanghai), built from a trading date plus a time of day; an instant given in another zone
is converted to market time first.  Shanghai has had no daylight-saving time since 1991, so a
time of day always exists exactly once.

Holidays: daily rules skip non-trading days; weekly/monthly rules count trading days only, so
"the 1st trading day of the week" after a holiday Monday is the Tuesday (JoinQuant semantics).
"""

from __future__ import annotations

import datetime
import difflib
import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from typing import Callable, Protocol, Union, runtime_checkable

import attrs
import pendulum

from jqtrade.clock import MARKET_TZ
from jqtrade.errors import OptionValueError, ScheduleArgumentError, TimeExpressionError
from jqtrade.model.sessions import TRADING_SESSIONS

__all__ = [
    "DEFAULT_MARKET_PERIOD",
    "CalendarLike",
    "DailyRule",
    "MonthlyRule",
    "Rule",
    "TimeExpression",
    "WeeklyRule",
    "daily_rule",
    "firings_on",
    "monthly_rule",
    "parse_market_period",
    "parse_time_expression",
    "weekly_rule",
]

MarketPeriod = tuple[tuple[datetime.time, datetime.time], ...]

DEFAULT_MARKET_PERIOD: MarketPeriod = TRADING_SESSIONS

_SECONDS_PER_DAY = 24 * 3600
#: before_open / after_close are open-30m / close+30m, as in JoinQuant.
_NAMED_OFFSETS = {"before_open": ("open", -30 * 60), "after_close": ("close", 30 * 60)}
_KEYWORDS = ("open", "close", "before_open", "after_close", "every_minute")

_CLOCK_RE = re.compile(r"([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?")
_OFFSET_RE = re.compile(r"(open|close)\s*([+-])\s*(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?")
#: Offsets beyond a day can never resolve inside the day; this also keeps int() away from
#: absurdly long digit strings.
_MAX_OFFSET_DIGITS = 6


class CalendarLike(Protocol):
    """What a rule needs from a trading calendar (``jqtrade.calendar.TradingCalendar``)."""

    def is_trading_day(self, day: datetime.date) -> bool: ...

    def next_trading_day(self, day: datetime.date) -> datetime.date: ...

    def week_trading_days(self, day: datetime.date) -> list[datetime.date]: ...

    def month_trading_days(self, day: datetime.date) -> list[datetime.date]: ...


# --- clock times ---------------------------------------------------------------------------


def _seconds(t: datetime.time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def _from_seconds(seconds: int) -> datetime.time:
    return datetime.time(seconds // 3600, seconds // 60 % 60, seconds % 60)


def _format_time(t: datetime.time) -> str:
    return f"{t.hour:02d}:{t.minute:02d}:{t.second:02d}"


def _parse_clock(text: str) -> tuple[datetime.time | None, str]:
    """Parse "H:MM[:SS]"; return (time, "") or (None, reason)."""
    match = _CLOCK_RE.fullmatch(text)
    if match is None:
        return None, ""
    hour, minute = int(match.group(1)), int(match.group(2))
    second = int(match.group(3) or 0)
    if hour > 23:
        return None, "小时应为 0~23"
    if minute > 59:
        return None, "分钟应为 00~59"
    if second > 59:
        return None, "秒应为 00~59"
    return datetime.time(hour, minute, second), ""


# --- market period -------------------------------------------------------------------------

_PERIOD_EXAMPLE = '[("09:30:00", "11:30:00"), ("13:00:00", "15:00:00")]'


def _period_time(value: object, key: str, raw: object) -> datetime.time:
    if isinstance(value, datetime.time):
        if value.tzinfo is not None or value.microsecond:
            raise OptionValueError(
                key, raw, f"时间 {value!r} 不能带时区或微秒，请精确到秒，如 {_PERIOD_EXAMPLE}"
            )
        return datetime.time(value.hour, value.minute, value.second)
    if isinstance(value, str):
        parsed, reason = _parse_clock(value.strip())
        if parsed is not None:
            return parsed
        why = f"（{reason}）" if reason else ""
        raise OptionValueError(
            key,
            raw,
            f"时间 {value!r} 不合法{why}，应为 'HH:MM:SS' 或 'HH:MM'，如 {_PERIOD_EXAMPLE}",
        )
    raise OptionValueError(
        key,
        raw,
        f"时间 {value!r} 应为 'HH:MM:SS'/'HH:MM' 字符串或 datetime.time，如 {_PERIOD_EXAMPLE}",
    )


def parse_market_period(value: object) -> MarketPeriod:
    """Validate the ``market_period`` option; the result is what rules and expressions use.

    Periods must be listed in time order and must not overlap (touching is fine), so that
    ``open`` (first start) and ``close`` (last end) mean what the user sees written.
    """
    key = "market_period"
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise OptionValueError(
            key, value, f"应为 (开始, 结束) 时间对组成的列表，如 {_PERIOD_EXAMPLE}"
        )
    if len(value) == 0:
        raise OptionValueError(key, value, f"至少需要一个交易时段，如 {_PERIOD_EXAMPLE}")
    periods: list[tuple[datetime.time, datetime.time]] = []
    for index, pair in enumerate(value, start=1):
        if isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise OptionValueError(
                key,
                value,
                f"第 {index} 个时段 {pair!r} 应为 (开始, 结束) 两个时间，如 {_PERIOD_EXAMPLE}",
            )
        start = _period_time(pair[0], key, value)
        end = _period_time(pair[1], key, value)
        if start >= end:
            raise OptionValueError(
                key,
                value,
                f"第 {index} 个时段的开始时间 {_format_time(start)} 必须早于结束时间 {_format_time(end)}",
            )
        if periods and start < periods[-1][1]:
            raise OptionValueError(
                key,
                value,
                f"各时段须按时间先后排列且互不重叠：第 {index} 个时段从 {_format_time(start)} 开始，"
                f"早于第 {index - 1} 个时段的结束时间 {_format_time(periods[-1][1])}",
            )
        periods.append((start, end))
    return tuple(periods)


# --- time expressions ----------------------------------------------------------------------

_KINDS = ("clock", "anchor", "every_minute")


@attrs.frozen
class TimeExpression:
    """A syntactically valid time expression; :meth:`resolve` turns it into times of day.

    ``kind`` is "clock" (``clock`` holds the time), "anchor" (``anchor`` is "open" or "close",
    ``offset`` is signed seconds) or "every_minute".  Resolution needs the market period, which
    is only known once the strategy's options are set, hence the two steps.
    """

    text: str
    kind: str = attrs.field(default="clock", validator=attrs.validators.in_(_KINDS))
    clock: datetime.time | None = None
    anchor: str = ""
    offset: int = 0

    @property
    def canonical(self) -> str:
        """The expression as shown in descriptions: "09:30:00", "open-30m", "every_minute"."""
        if self.kind == "clock" and self.clock is not None:
            return _format_time(self.clock)
        return "".join(self.text.split()).lower()

    def resolve(self, market_period: object) -> tuple[datetime.time, ...]:
        """Sorted distinct times of day (second precision) for this market period."""
        periods = parse_market_period(market_period)
        if self.kind == "clock":
            assert self.clock is not None
            return (self.clock,)
        if self.kind == "anchor":
            base = periods[0][0] if self.anchor == "open" else periods[-1][1]
            seconds = _seconds(base) + self.offset
            if not 0 <= seconds < _SECONDS_PER_DAY:
                raise TimeExpressionError(
                    self.text,
                    f"以 {self.anchor} = {_format_time(base)} 为基准计算后结果超出当天 "
                    f"00:00:00~23:59:59 的范围",
                )
            return (_from_seconds(seconds),)
        minutes: set[int] = set()
        for start, end in periods:
            first = -(-_seconds(start) // 60) * 60  # round up to a whole minute
            minutes.update(range(first, _seconds(end) + 1, 60))
        if not minutes:
            raise TimeExpressionError(
                self.text, f"交易时段 {_format_periods(periods)} 中没有任何整分钟时刻"
            )
        return tuple(_from_seconds(s) for s in sorted(minutes))


def _format_periods(periods: MarketPeriod) -> str:
    return ", ".join(f"{_format_time(a)}~{_format_time(b)}" for a, b in periods)


def _offset_seconds(text: object, match: re.Match[str]) -> int:
    sign = -1 if match.group(2) == "-" else 1
    parts = match.group(3, 4, 5)
    if all(p is None for p in parts):
        raise TimeExpressionError(text, "偏移量缺少数值和单位，如 open-30m、close+1h30m")
    total = 0
    for digits, unit in zip(parts, (3600, 60, 1)):
        if digits is None:
            continue
        if len(digits.lstrip("0")) > _MAX_OFFSET_DIGITS:
            raise TimeExpressionError(text, "偏移量过大，结果会超出当天")
        total += int(digits) * unit
    return sign * total


def parse_time_expression(text: object) -> TimeExpression:
    """Check the syntax of a ``run_daily`` time; case-insensitive, outer whitespace ignored."""
    if isinstance(text, TimeExpression):
        return text
    if not isinstance(text, str):
        raise TimeExpressionError(text, f"应为字符串，而不是 {type(text).__name__}")
    body = text.strip().lower()
    if not body:
        raise TimeExpressionError(text, "不能为空")
    if body == "every_minute":
        return TimeExpression(text, kind="every_minute")
    if body in ("open", "close"):
        return TimeExpression(text, kind="anchor", anchor=body)
    if body in _NAMED_OFFSETS:
        anchor, offset = _NAMED_OFFSETS[body]
        return TimeExpression(text, kind="anchor", anchor=anchor, offset=offset)
    clock, reason = _parse_clock(body)
    if clock is not None:
        return TimeExpression(text, kind="clock", clock=clock)
    if reason:
        raise TimeExpressionError(text, reason)
    match = _OFFSET_RE.fullmatch(body)
    if match is not None:
        return TimeExpression(
            text, kind="anchor", anchor=match.group(1), offset=_offset_seconds(text, match)
        )
    raise TimeExpressionError(text, _guess_reason(body))


def _guess_reason(body: str) -> str:
    if body == "every_bar":
        return "聚宽的 every_bar 在 jqtrade 中写作 'every_minute'（交易时段内每分钟运行）"
    if "：" in body:
        return "请使用英文半角冒号 ':'"
    if body.startswith(("open", "close")) and body not in _KEYWORDS:
        return "偏移量应为 + 或 - 后跟 <整数>h<整数>m<整数>s（按 h、m、s 顺序，至少一项）"
    close = difflib.get_close_matches(body, _KEYWORDS, n=1, cutoff=0.6)
    if close:
        return f"你是不是想写 {close[0]!r}？"
    return ""


# --- rules ---------------------------------------------------------------------------------


@runtime_checkable
class Rule(Protocol):
    """A pure schedule: the first firing strictly after any instant."""

    @property
    def description(self) -> str:
        """Readable in Chinese, e.g. "每个交易日 09:00:00" or "每周第1个交易日 open"."""

    def next_after(self, t: pendulum.DateTime) -> pendulum.DateTime:
        """First firing strictly after ``t``, in the market time zone."""


def _to_times(value: Iterable[datetime.time]) -> tuple[datetime.time, ...]:
    return tuple(value)


def _check_times(instance: object, attribute: attrs.Attribute, value: tuple) -> None:  # type: ignore[type-arg]
    if not value:
        raise ValueError("a rule needs at least one time of day")
    for t in value:
        if not isinstance(t, datetime.time) or t.tzinfo is not None or t.microsecond:
            raise ValueError(f"times must be naive second-precision datetime.time, got {t!r}")
    if any(a >= b for a, b in zip(value, value[1:])):
        raise ValueError(f"times must be sorted and distinct, got {value!r}")


def _to_market(t: datetime.datetime) -> datetime.datetime:
    if not isinstance(t, datetime.datetime):
        raise ScheduleArgumentError("t", t, "应为带时区的 datetime（如 pendulum.DateTime）")
    if t.tzinfo is None or t.utcoffset() is None:
        raise ScheduleArgumentError("t", t, "应为带时区的 datetime，不能是无时区的本地时间")
    return t if t.tzinfo is MARKET_TZ else t.astimezone(MARKET_TZ)


def _at(day: datetime.date, t: datetime.time) -> pendulum.DateTime:
    # The constructor, not pendulum.datetime(): the market's zone has one offset since 1991, so
    # there is no ambiguous or skipped time to resolve, and it is several times faster.
    return pendulum.DateTime(
        day.year, day.month, day.day, t.hour, t.minute, t.second, tzinfo=MARKET_TZ
    )


def _next_firing(
    calendar: CalendarLike,
    times: tuple[datetime.time, ...],
    t: datetime.datetime,
    target_in_period: Callable[[datetime.date], datetime.date | None],
    period_end: Callable[[datetime.date], datetime.date],
) -> pendulum.DateTime:
    """Shared walk: the firing day of t's period if still ahead, else of the next period."""
    local = _to_market(t)
    day = local.date()
    target = target_in_period(day)
    if target is not None and target > day:
        return _at(target, times[0])
    if target == day:
        tod = datetime.time(local.hour, local.minute, local.second, local.microsecond)
        index = bisect_right(times, tod)
        if index < len(times):
            return _at(day, times[index])
    # The first trading day after this period is the first of its own period, so the target
    # there is on or after it: no loop over empty weeks or months is needed.
    following = calendar.next_trading_day(period_end(day))
    target = target_in_period(following)
    assert target is not None and target >= following
    return _at(target, times[0])


def _nth(days: list[datetime.date], n: int) -> datetime.date | None:
    """The nth day (1-based, negative from the end), clamped to the days there are."""
    if not days:
        return None
    if n > 0:
        return days[min(n, len(days)) - 1]
    return days[max(n, -len(days))]


def _week_end(day: datetime.date) -> datetime.date:
    return day + datetime.timedelta(days=6 - day.weekday())


def _month_end(day: datetime.date) -> datetime.date:
    first_next = (day.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
    return first_next - datetime.timedelta(days=1)


@attrs.frozen
class DailyRule:
    """Fires at each time on every trading day."""

    calendar: CalendarLike
    times: tuple[datetime.time, ...] = attrs.field(converter=_to_times, validator=_check_times)
    description: str = ""

    def next_after(self, t: pendulum.DateTime) -> pendulum.DateTime:
        def target(day: datetime.date) -> datetime.date | None:
            return day if self.calendar.is_trading_day(day) else None

        return _next_firing(self.calendar, self.times, t, target, lambda day: day)


def _check_ordinal(limit: int) -> Callable[[object, attrs.Attribute, object], None]:  # type: ignore[type-arg]
    def check(instance: object, attribute: attrs.Attribute, value: object) -> None:  # type: ignore[type-arg]
        _validate_ordinal(attribute.name, value, limit)

    return check


def _validate_ordinal(name: str, value: object, limit: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= abs(value) <= limit:
        raise ScheduleArgumentError(
            name,
            value,
            f"应为 1~{limit} 的整数（第几个交易日）或 -1~-{limit}（倒数第几个交易日），不能为 0",
        )
    return value


@attrs.frozen
class WeeklyRule:
    """Fires on the Nth trading day of each Mon..Sun week (negative N counts from the end).

    A week with fewer trading days than |N| fires on its last (N > 0) or first (N < 0)
    trading day; a week without trading days fires nothing.
    """

    calendar: CalendarLike
    weekday: int = attrs.field(validator=_check_ordinal(5))
    times: tuple[datetime.time, ...] = attrs.field(converter=_to_times, validator=_check_times)
    description: str = ""

    def next_after(self, t: pendulum.DateTime) -> pendulum.DateTime:
        def target(day: datetime.date) -> datetime.date | None:
            return _nth(self.calendar.week_trading_days(day), self.weekday)

        return _next_firing(self.calendar, self.times, t, target, _week_end)


@attrs.frozen
class MonthlyRule:
    """Fires on the Nth trading day of each month (negative N counts from the end).

    N beyond the month's trading days falls on its last (N > 0) or first (N < 0) trading day.
    """

    calendar: CalendarLike
    monthday: int = attrs.field(validator=_check_ordinal(31))
    times: tuple[datetime.time, ...] = attrs.field(converter=_to_times, validator=_check_times)
    description: str = ""

    def next_after(self, t: pendulum.DateTime) -> pendulum.DateTime:
        def target(day: datetime.date) -> datetime.date | None:
            return _nth(self.calendar.month_trading_days(day), self.monthday)

        return _next_firing(self.calendar, self.times, t, target, _month_end)


ExpressionInput = Union[str, TimeExpression]


def _ordinal_text(n: int) -> str:
    return f"第{n}个交易日" if n > 0 else f"倒数第{-n}个交易日"


def daily_rule(
    calendar: CalendarLike, expression: ExpressionInput, market_period: object
) -> DailyRule:
    parsed = parse_time_expression(expression)
    times = parsed.resolve(market_period)
    return DailyRule(calendar, times, f"每个交易日 {parsed.canonical}")


def weekly_rule(
    calendar: CalendarLike, weekday: int, expression: ExpressionInput, market_period: object
) -> WeeklyRule:
    _validate_ordinal("weekday", weekday, 5)
    parsed = parse_time_expression(expression)
    times = parsed.resolve(market_period)
    return WeeklyRule(calendar, weekday, times, f"每周{_ordinal_text(weekday)} {parsed.canonical}")


def monthly_rule(
    calendar: CalendarLike, monthday: int, expression: ExpressionInput, market_period: object
) -> MonthlyRule:
    _validate_ordinal("monthday", monthday, 31)
    parsed = parse_time_expression(expression)
    times = parsed.resolve(market_period)
    return MonthlyRule(
        calendar, monthday, times, f"每月{_ordinal_text(monthday)} {parsed.canonical}"
    )


def firings_on(rule: Rule, day: datetime.date) -> list[pendulum.DateTime]:
    """All firings of ``rule`` on one market-time date, e.g. for a schedule preview."""
    result: list[pendulum.DateTime] = []
    cursor = pendulum.datetime(day.year, day.month, day.day, tz=MARKET_TZ).subtract(microseconds=1)
    while True:
        cursor = rule.next_after(cursor)
        if cursor.date() != day:
            return result
        result.append(cursor)
