"""Strategy + Runtime + the legacy shim, in process, on a simulated clock."""

from __future__ import annotations

import datetime
import logging
from pathlib import Path

import pendulum
import pytest

from jqtrade import (
    AccountDisabledError,
    Context,
    LimitOrderStyle,
    MarketOrderStyle,
    NotInInitializeError,
    OptionValueError,
    OrderStatus,
    ScheduleArgumentError,
    Strategy,
    TimeExpressionError,
    UnknownOptionError,
)
from jqtrade.clock import MARKET_TZ, SimClock
from jqtrade.legacy import LegacyStrategy
from jqtrade.loader import load_strategy
from jqtrade.options import Options
from jqtrade.runtime import Runtime

STRATEGIES = Path(__file__).parent / "strategies"
D = datetime.date


def at(day: datetime.date, hour: int = 0, minute: int = 0, second: int = 0) -> pendulum.DateTime:
    return pendulum.datetime(day.year, day.month, day.day, hour, minute, second, tz=MARKET_TZ)


def naive_at(day: datetime.date, hour: int = 0, minute: int = 0) -> datetime.datetime:
    """What a legacy script sees: a naive Beijing-time datetime, as in jqtrade 1.0."""
    return datetime.datetime(day.year, day.month, day.day, hour, minute)


@pytest.fixture
def options(tmp_path) -> Options:
    # A private runtime folder: never read the user's ~/jqtrade/holidays.txt in tests.
    return Options(runtime_dir=str(tmp_path / "runtime"))


MONDAY = at(D(2024, 6, 3))


def start(strategy: Strategy, options: Options, when: pendulum.DateTime = MONDAY) -> Runtime:
    runtime = Runtime(strategy, clock=SimClock(when), options=options)
    runtime.initialize()
    return runtime


class Recording(Strategy):
    """Registers ``self.plan`` (list of (method name, expression)) and records each call."""

    def __init__(self, plan=(), options=None, hook=None) -> None:
        self.plan = plan
        self.options = options or {}
        self.hook = hook
        self.calls: list[tuple[str, pendulum.DateTime, pendulum.DateTime]] = []
        self.ended = 0

    def process_initialize(self, context: Context) -> None:
        for method, expression in self.plan:
            self.run_daily(getattr(self, method), expression)
        if self.options:
            self.set_options(**self.options)

    def _note(self, name: str, context: Context) -> None:
        self.calls.append((name, context.strategy_dt, context.current_dt))
        if self.hook is not None:
            self.hook(self, context)

    def a(self, context: Context) -> None:
        self._note("a", context)

    def b(self, context: Context) -> None:
        self._note("b", context)

    def on_strategy_end(self, context: Context) -> None:
        self.ended += 1


# --- APIs that belong to process_initialize ------------------------------------------------

API_CALLS = {
    "run_daily": lambda s: s.run_daily(print, "10:00"),
    "run_weekly": lambda s: s.run_weekly(print, 1, "10:00"),
    "run_monthly": lambda s: s.run_monthly(print, 1, "10:00"),
    "set_options": lambda s: s.set_options(misfire_grace_time=5),
}


@pytest.mark.parametrize("api", sorted(API_CALLS))
def test_scheduling_apis_outside_initialize_raise_naming_the_api(api, options):
    unbound = Recording()
    with pytest.raises(NotInInitializeError) as info:
        API_CALLS[api](unbound)
    assert (
        info.value.api == api and api in str(info.value) and "process_initialize" in str(info.value)
    )

    bound = Recording()
    start(bound, options)  # after initialize: still refused
    with pytest.raises(NotInInitializeError):
        API_CALLS[api](bound)


@pytest.mark.parametrize("api", sorted(API_CALLS))
def test_scheduling_apis_inside_a_job_raise(api, options):
    errors = []

    def hook(strategy, context):
        try:
            API_CALLS[api](strategy)
        except NotInInitializeError as exc:
            errors.append(exc.api)

    runtime = start(Recording([("a", "10:00")], hook=hook), options)
    runtime.run(until=at(D(2024, 6, 3), 23))
    assert errors == [api]


@pytest.mark.parametrize(
    "expression", ["25:00", "opne", "open-", "10:61", "", "close+", "every minute", "９:30"]
)
def test_bad_expression_fails_at_initialize_naming_it(expression, options):
    runtime = Runtime(
        Recording([("a", expression)]), clock=SimClock(at(D(2024, 6, 3))), options=options
    )
    with pytest.raises(TimeExpressionError) as info:
        runtime.initialize()
    assert repr(expression) in str(info.value)
    assert "open-30m" in str(info.value)  # lists the accepted forms
    assert runtime.initializing is False


def test_expression_past_the_day_fails_at_initialize(options):
    runtime = Runtime(
        Recording([("a", "close+10h")]), clock=SimClock(at(D(2024, 6, 3))), options=options
    )
    with pytest.raises(TimeExpressionError) as info:
        runtime.initialize()
    assert "close+10h" in str(info.value)


def test_non_string_expression_fails(options):
    runtime = Runtime(Recording([("a", 930)]), clock=SimClock(at(D(2024, 6, 3))), options=options)
    with pytest.raises(TimeExpressionError) as info:
        runtime.initialize()
    assert "930" in str(info.value)


class Weekly(Strategy):
    def __init__(self, kind, n, func=None, grace=None) -> None:
        self.kind, self.n, self.func, self.grace = kind, n, func, grace

    def process_initialize(self, context: Context) -> None:
        func = self.func if self.func is not None else self.noop
        if self.kind == "weekly":
            self.run_weekly(func, self.n, "open", grace=self.grace)
        elif self.kind == "monthly":
            self.run_monthly(func, self.n, "open", grace=self.grace)
        else:
            self.run_daily(func, "open", grace=self.grace)

    def noop(self, context: Context) -> None:
        pass


@pytest.mark.parametrize(
    ("kind", "n", "label"),
    [
        ("weekly", 0, "weekday"),
        ("weekly", 6, "weekday"),
        ("weekly", -6, "weekday"),
        ("weekly", True, "weekday"),
        ("weekly", "1", "weekday"),
        ("weekly", 1.0, "weekday"),
        ("monthly", 0, "monthday"),
        ("monthly", 32, "monthday"),
        ("monthly", -32, "monthday"),
        ("monthly", None, "monthday"),
    ],
)
def test_bad_weekday_or_monthday(kind, n, label, options):
    with pytest.raises(ScheduleArgumentError) as info:
        start(Weekly(kind, n), options)
    assert label in str(info.value) and repr(n) in str(info.value)


@pytest.mark.parametrize("func", [None, "my_func", 42])
def test_non_callable_func(func, options):
    class NotCallable(Strategy):
        def process_initialize(self, context):
            self.run_daily(func, "open")

    with pytest.raises(ScheduleArgumentError) as info:
        start(NotCallable(), options)
    assert "func" in str(info.value) and repr(func) in str(info.value)


@pytest.mark.parametrize("grace", [-1, float("nan"), "5", True])
def test_bad_grace(grace, options):
    with pytest.raises(ScheduleArgumentError) as info:
        start(Weekly("daily", None, grace=grace), options)
    assert "grace" in str(info.value)


def test_bad_options_fail_at_initialize(options):
    with pytest.raises(UnknownOptionError) as info:
        start(Recording(options={"market_peroid": [("09:30", "11:30")]}), options)
    assert info.value.suggestion == "market_period"
    with pytest.raises(OptionValueError) as info2:
        start(Recording(options={"misfire_grace_time": -3}), options)
    assert info2.value.key == "misfire_grace_time"


# --- context and times ---------------------------------------------------------------------


def test_current_dt_is_market_time_and_strategy_dt_is_the_slot(options):
    def slow_first(strategy, context):
        if len(strategy.calls) == 1:
            context._runtime.clock.advance(30)  # the first job is slow

    strategy = Recording([("a", "10:00"), ("b", "10:00:10")], hook=slow_first)
    runtime = start(strategy, options, at(D(2024, 6, 3), 8))
    context = runtime.context
    assert context.current_dt == at(D(2024, 6, 3), 8)
    assert context.current_dt.timezone_name == "Asia/Shanghai"
    assert context.strategy_dt is None
    assert context.is_simulated is True
    runtime.run(until=at(D(2024, 6, 3), 23))
    assert strategy.calls == [
        ("a", at(D(2024, 6, 3), 10), at(D(2024, 6, 3), 10)),
        ("b", at(D(2024, 6, 3), 10, 0, 10), at(D(2024, 6, 3), 10, 0, 30)),
    ]
    for _, strategy_dt, current_dt in strategy.calls:
        assert strategy_dt.timezone_name == current_dt.timezone_name == "Asia/Shanghai"
    assert context.strategy_dt is None


def test_strategy_dt_is_reset_even_when_the_job_raises(options, caplog):
    def boom(strategy, context):
        raise ValueError("user bug")

    strategy = Recording([("a", "10:00")], hook=boom)
    runtime = start(strategy, options)
    runtime.run(until=at(D(2024, 6, 4), 23))
    assert len(strategy.calls) == 2  # the loop went on to the next day
    assert runtime.context.strategy_dt is None
    assert "user bug" in caplog.text


def test_trading_date_on_a_closed_day_is_the_next_trading_day(options):
    runtime = start(Recording(), options, at(D(2024, 10, 1), 12))
    assert runtime.context.trading_date == D(2024, 10, 8)
    runtime = start(Recording(), options, at(D(2024, 9, 30), 12))
    assert runtime.context.trading_date == D(2024, 9, 30)


def test_unknown_context_attribute_lists_the_known_ones(options):
    runtime = start(Recording(), options)
    with pytest.raises(AttributeError) as info:
        runtime.context.portfolio_value  # noqa: B018
    assert "current_dt" in str(info.value)


def test_set_options_market_period_moves_open_and_close_even_when_set_last(options):
    strategy = Recording(
        [("a", "open"), ("b", "close")],
        options={"market_period": [("10:00", "11:30"), ("13:00", "14:30")]},
    )
    runtime = start(strategy, options)
    runtime.run(until=at(D(2024, 6, 3), 23))
    assert [(n, s) for n, s, _ in strategy.calls] == [
        ("a", at(D(2024, 6, 3), 10)),
        ("b", at(D(2024, 6, 3), 14, 30)),
    ]


def test_set_options_extra_holidays_close_a_day(options):
    strategy = Recording([("a", "open")], options={"extra_holidays": ["2024-06-04"]})
    runtime = start(strategy, options)
    runtime.run(until=at(D(2024, 6, 5), 23))
    assert [s.date() for _, s, _ in strategy.calls] == [D(2024, 6, 3), D(2024, 6, 5)]


def test_holidays_file_in_the_runtime_dir_closes_a_day(tmp_path):
    folder = tmp_path / "rt"
    folder.mkdir()
    (folder / "holidays.txt").write_text("2024-06-04\n", encoding="utf-8")
    strategy = Recording([("a", "open")])
    runtime = start(strategy, Options(runtime_dir=str(folder)))
    runtime.run(until=at(D(2024, 6, 5), 23))
    assert [s.date() for _, s, _ in strategy.calls] == [D(2024, 6, 3), D(2024, 6, 5)]


def test_on_callback_error_stop_option(options, caplog):
    def boom(strategy, context):
        raise KeyError("bad")

    strategy = Recording(
        [("a", "10:00"), ("b", "11:00")], options={"on_callback_error": "stop"}, hook=boom
    )
    runtime = start(strategy, options)
    runtime.run(until=at(D(2024, 6, 5), 23))
    assert [n for n, _, _ in strategy.calls] == ["a"]
    assert isinstance(runtime.loop.failed, KeyError)


def test_misfire_grace_option_and_per_job_grace(options, caplog):
    def slow(strategy, context):
        if (
            context.strategy_dt.hour == 10
            and context.strategy_dt.minute == 0
            and context.strategy_dt.second == 0
        ):
            context._runtime.clock.advance(20)

    class Graced(Recording):
        def process_initialize(self, context):
            self.set_options(misfire_grace_time=10)
            self.run_daily(self.a, "10:00")
            self.run_daily(self.b, "10:00:05")
            self.run_daily(self.c, "10:00:05", grace=60, name="relaxed")

        def c(self, context):
            self._note("c", context)

    strategy = Graced(hook=slow)
    runtime = start(strategy, options)
    assert runtime.loop.grace == 10
    assert [job.name for job in runtime.jobs] == ["Recording.a", "Recording.b", "relaxed"]
    runtime.run(until=at(D(2024, 6, 3), 23))
    assert [n for n, _, _ in strategy.calls] == ["a", "c"]


def test_weekly_and_monthly_fire_on_the_right_trading_days(options):
    fired = {"weekly": [], "monthly": []}

    class Calendarish(Strategy):
        def process_initialize(self, context):
            self.run_weekly(lambda c: fired["weekly"].append(c.strategy_dt), 1, "open")
            self.run_monthly(lambda c: fired["monthly"].append(c.strategy_dt), -1, "close")

    runtime = start(Calendarish(), options, at(D(2024, 9, 23)))
    runtime.run(until=at(D(2024, 10, 31), 23))
    assert fired["weekly"] == [
        at(d, 9, 30)
        for d in (
            D(2024, 9, 23),
            D(2024, 9, 30),
            D(2024, 10, 8),
            D(2024, 10, 14),
            D(2024, 10, 21),
            D(2024, 10, 28),
        )
    ]
    assert fired["monthly"] == [at(D(2024, 9, 30), 15), at(D(2024, 10, 31), 15)]


def test_any_callable_of_context_can_be_scheduled(options):
    seen = []

    class WithLambda(Strategy):
        def process_initialize(self, context):
            self.run_daily(lambda ctx: seen.append(ctx.strategy_dt), "open")
            self.run_daily(seen.append, "close")

    start(WithLambda(), options).run(until=at(D(2024, 6, 3), 23))
    assert seen[0] == at(D(2024, 6, 3), 9, 30)
    assert isinstance(seen[1], Context)


def test_strategy_without_process_initialize():
    class Empty(Strategy):
        pass

    runtime = Runtime(
        Empty(),
        clock=SimClock(at(D(2024, 6, 3))),
        options=Options(runtime_dir="/nonexistent-jqtrade"),
    )
    with pytest.raises(NotImplementedError):
        runtime.initialize()


# --- stop hook ----------------------------------------------------------------------------


def test_stop_hook_runs_exactly_once(options):
    strategy = Recording([("a", "10:00")])
    runtime = start(strategy, options)
    runtime.run(until=at(D(2024, 6, 3), 23))
    runtime.finish()
    runtime.finish()
    assert strategy.ended == 1


def test_a_raising_stop_hook_is_logged_not_raised(options, caplog):
    class BadEnd(Strategy):
        def process_initialize(self, context):
            pass

        def on_strategy_end(self, context):
            raise RuntimeError("stop hook exploded")

    runtime = start(BadEnd(), options)
    runtime.finish()
    records = [r for r in caplog.records if r.name == "jqtrade.runtime" and r.exc_info]
    assert len(records) == 1
    assert "on_strategy_end" in records[0].getMessage()
    assert "stop hook exploded" in caplog.text


def test_default_hooks_do_nothing(options):
    class Minimal(Strategy):
        def process_initialize(self, context):
            pass

    strategy = Minimal()
    runtime = start(strategy, options)
    strategy.on_order_update(runtime.context, object())
    strategy.on_trade(runtime.context, object())
    runtime.finish()


def test_user_logger_is_separate_from_jqtrade_logger():
    log = Recording().log
    assert isinstance(log, logging.Logger)
    assert log.name == "strategy"
    assert not log.name.startswith("jqtrade")


# --- account APIs without the account module ----------------------------------------------

ACCOUNT_CALLS = {
    "order": lambda s: s.order("000001.XSHE", 100),
    "order_target": lambda s: s.order_target("000001.XSHE", 0),
    "order_value": lambda s: s.order_value("000001.XSHE", 10000, LimitOrderStyle(10)),
    "cancel_order": lambda s: s.cancel_order("x"),
    "batch_submit_orders": lambda s: s.batch_submit_orders(
        [{"code": "000001.XSHE", "amount": 100}]
    ),
    "batch_cancel_orders": lambda s: s.batch_cancel_orders(["x"]),
    "get_orders": lambda s: s.get_orders(),
    "sync_balance": lambda s: s.sync_balance(),
    "sync_orders": lambda s: s.sync_orders(),
}


@pytest.mark.parametrize("api", sorted(ACCOUNT_CALLS))
def test_account_apis_without_account_raise_account_disabled(api, options):
    raised = []

    def hook(strategy, context):
        try:
            ACCOUNT_CALLS[api](strategy)
        except AccountDisabledError as exc:
            raised.append(exc)

    start(Recording([("a", "10:00")], hook=hook), options).run(until=at(D(2024, 6, 3), 23))
    assert len(raised) == 1
    assert raised[0].api == api and api in str(raised[0]) and "use_account" in str(raised[0])


def test_portfolio_without_account_raises(options):
    runtime = start(Recording(), options)
    with pytest.raises(AccountDisabledError) as info:
        runtime.context.portfolio  # noqa: B018
    assert "portfolio" in str(info.value)


def test_account_apis_of_an_unbound_strategy_say_so():
    with pytest.raises(RuntimeError) as info:
        Recording().order("000001.XSHE", 100)
    assert "order" in str(info.value)


# --- legacy shim ---------------------------------------------------------------------------


def test_legacy_shim_injects_the_api_and_keeps_user_globals(options, restore_sys_path, caplog):
    strategy = load_strategy(STRATEGIES / "legacy_shim.py")
    assert isinstance(strategy, LegacyStrategy)
    module = strategy.module
    for name in (
        "run_daily",
        "run_weekly",
        "run_monthly",
        "set_options",
        "log",
        "order",
        "order_target",
        "order_value",
        "cancel_order",
        "get_orders",
        "sync_balance",
        "sync_orders",
        "LimitOrderStyle",
        "MarketOrderStyle",
        "OrderStatus",
    ):
        assert name in vars(module), name
    assert isinstance(module.log, logging.Logger) and module.log.name == "strategy"

    runtime = start(strategy, options, at(D(2024, 9, 26), 9))
    assert runtime.options.misfire_grace_time == 30  # the script's set_options applied
    assert module.g["init_dt"] == naive_at(D(2024, 9, 26), 9)
    runtime.run(until=at(D(2024, 10, 8), 23))

    days = [D(2024, 9, 26), D(2024, 9, 27), D(2024, 9, 30), D(2024, 10, 8)]
    assert module.g["seen"] == [(naive_at(d, 10), naive_at(d, 10)) for d in days]
    assert module.calls == 4  # a `global` counter persists between calls
    # 1st trading day of each week; the week of 9-23 started before the run.
    assert module.g["weekly"] == [naive_at(D(2024, 9, 30), 15), naive_at(D(2024, 10, 8), 15)]
    assert module.g["monthly"] == [naive_at(D(2024, 9, 30), 9, 30)]
    assert module.g["styles"] == (LimitOrderStyle, MarketOrderStyle, OrderStatus)

    # Legacy `order` without an account: logged on the user's logger, returns None.
    assert module.g["order_result"] is None
    refused = [r for r in caplog.records if r.name == "strategy" and r.levelno == logging.ERROR]
    assert len(refused) == 4 and "order" in refused[0].getMessage()

    runtime.finish()
    runtime.finish()
    assert module.g["ended"] == 1


def test_legacy_run_daily_inside_a_job_is_refused(options, restore_sys_path, caplog):
    strategy = load_strategy(STRATEGIES / "legacy_shim.py")
    strategy.module.g["try_run_daily_in_job"] = True
    runtime = start(strategy, options, at(D(2024, 6, 3), 9))
    runtime.run(until=at(D(2024, 6, 3), 23))
    errors = [r for r in caplog.records if r.name == "jqtrade.loop" and r.exc_info]
    assert len(errors) == 1 and errors[0].exc_info[0] is NotInInitializeError


def test_legacy_process_exit_is_the_stop_hook_when_on_strategy_end_is_missing(
    options, restore_sys_path
):
    strategy = load_strategy(STRATEGIES / "live_legacy.py")
    ended = []
    strategy.module.log = logging.getLogger("strategy")
    strategy.module.process_exit = lambda context: ended.append(context.current_dt)
    runtime = Runtime(strategy, clock=SimClock(at(D(2024, 6, 3))), options=options)
    runtime.finish()
    assert ended == [naive_at(D(2024, 6, 3))]
