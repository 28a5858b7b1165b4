"""Which sync jobs a running account gets, how often, and in which part of the day."""

from __future__ import annotations

import datetime

import pendulum

from jqtrade.account.sync_jobs import EventSync, SyncTiming, padded, sync_jobs, sync_plan
from jqtrade.calendar import TradingCalendar
from jqtrade.clock import MARKET_TZ
from jqtrade.loop import IntervalRule, Job
from jqtrade.options import Options

CAL = TradingCalendar.builtin()
T = datetime.time


class Counting:
    """Stands in for the account: counts the syncs it is asked for."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def sync_orders(self) -> None:
        self.calls.append("orders")

    def sync_balance(self) -> None:
        self.calls.append("balance")


def _rules(jobs: list[Job]) -> dict[str, IntervalRule]:
    rules = {}
    for job in jobs:
        assert job.internal and isinstance(job.rule, IntervalRule) and job.rule.calendar is CAL
        rules[job.name] = job.rule
    return rules


def _slot() -> pendulum.DateTime:
    return pendulum.datetime(2024, 6, 3, 10, tz=MARKET_TZ)


def test_a_live_clock_syncs_at_the_option_intervals_all_day():
    account = Counting()
    jobs = sync_jobs(account, Options(), calendar=CAL, simulated=False)
    rules = _rules(jobs)
    assert list(rules) == ["同步订单", "同步资金持仓"]
    assert (rules["同步订单"].seconds, rules["同步资金持仓"].seconds) == (0.5, 5.0)
    assert rules["同步订单"].periods is None
    for job in jobs:
        job.callback(_slot())
    assert account.calls == ["orders", "balance"]


def test_sync_options_switch_jobs_off_and_set_the_period():
    period = ((T(9, 15), T(15, 30)),)
    options = Options().evolve(
        {"sync_balance": False, "sync_period": [("09:15", "15:30")], "order_sync_interval": 2}
    )
    rules = _rules(sync_jobs(Counting(), options, calendar=CAL, simulated=False))
    assert (
        list(rules) == ["同步订单"]
        and rules["同步订单"].seconds == 2.0
        and rules["同步订单"].periods == period
    )


def test_a_simulated_clock_syncs_less_often_around_market_hours():
    timing = SyncTiming.of(Options(), simulated=True)
    assert (timing.order_every, timing.balance_every) == (10.0, 30.0)
    assert timing.period == ((T(9, 0), T(15, 30)),)
    slow = SyncTiming.of(
        Options().evolve({"order_sync_interval": 60, "sync_interval": 120}), simulated=True
    )
    assert (slow.order_every, slow.balance_every) == (60.0, 120.0)  # floors, not ceilings


def test_the_padding_stays_inside_the_day():
    assert padded(((T(0, 10), T(23, 50)),)) == ((T(0, 0), T(23, 59, 59)),)


def test_an_embedded_broker_is_polled_just_before_each_order_sync_on_a_simulated_clock():
    account, polled = Counting(), []

    def poll(slot: pendulum.DateTime) -> None:
        polled.append(slot)
        account.calls.append("poll")

    jobs = sync_jobs(account, Options(), calendar=CAL, simulated=True, broker_poll=poll)
    rules = _rules(jobs)
    assert (
        list(rules) == ["模拟券商与同步订单", "同步资金持仓"]
        and rules["模拟券商与同步订单"].seconds == 10.0
    )
    jobs[0].callback(_slot())
    assert account.calls == ["poll", "orders"] and polled == [_slot()]


def test_an_embedded_broker_has_a_job_of_its_own_otherwise():
    live = _rules(
        sync_jobs(
            Counting(), Options(), calendar=CAL, simulated=False, broker_poll=lambda slot: None
        )
    )
    assert (
        list(live) == ["模拟券商", "同步订单", "同步资金持仓"] and live["模拟券商"].seconds == 0.2
    )
    no_orders = Options().evolve({"sync_order": False})
    simulated = _rules(
        sync_jobs(
            Counting(), no_orders, calendar=CAL, simulated=True, broker_poll=lambda slot: None
        )
    )
    assert list(simulated) == ["模拟券商", "同步资金持仓"] and simulated["模拟券商"].seconds == 10.0


# -- event-driven syncs of a simulated embedded broker ---------------------------------------


class OpenOrder:
    """An order of the fake account: open until the broker poll at or after ``done_at``."""

    def __init__(self, done_at: pendulum.DateTime) -> None:
        self.done_at = done_at
        self.is_final = False


class EventAccount(Counting):
    def __init__(self) -> None:
        super().__init__()
        self.orders: list[OpenOrder] = []
        self.positions: dict[str, object] = {}

    @property
    def has_open_orders(self) -> bool:
        return any(not order.is_final for order in self.orders)

    def sync_balance(self) -> object:
        self.calls.append("balance")
        return type("Balance", (), {"long_positions": dict(self.positions)})()


def _event_run(
    user_jobs: list[Job], *, day: tuple[int, int, int] = (2024, 6, 3)
) -> tuple[EventAccount, list[pendulum.DateTime], list[datetime.date], EventSync]:
    """Run one simulated day of ``user_jobs`` over the event-driven syncs; return the account,
    the instants the broker was polled and the days the day-end listener saw."""
    from jqtrade.clock import SimClock
    from jqtrade.loop import EventLoop

    account, polls, ends = EventAccount(), [], []
    clock = SimClock(pendulum.datetime(*day, tz=MARKET_TZ))

    def poll(slot: pendulum.DateTime) -> None:
        polls.append(slot)
        account.calls.append("poll")
        for order in account.orders:
            if slot >= order.done_at:
                order.is_final = True

    plan = sync_plan(account, Options(), calendar=CAL, simulated=True, broker_poll=poll)
    assert plan.events is not None and [job.name for job in plan.jobs] == ["模拟券商与同步订单"]
    loop = EventLoop(clock)
    plan.events.attach(loop)
    plan.events.day_end.append(lambda d, portfolio: ends.append(d))
    for job in plan.jobs + user_jobs:
        loop.add_job(job)
    loop.run(until=pendulum.datetime(*day, 23, 59, tz=MARKET_TZ))
    return account, polls, ends, plan.events


def _at(h: int, m: int, s: int = 0) -> pendulum.DateTime:
    return pendulum.datetime(2024, 6, 3, h, m, s, tz=MARKET_TZ)


def _user(name: str, start: T, end: T, callback) -> Job:
    return Job(name=name, rule=IntervalRule(60, ((start, end),), CAL), callback=callback)


def test_with_nothing_open_a_simulated_broker_is_synced_only_at_the_start_and_end_of_the_day():
    account, polls, ends, events = _event_run([])
    assert polls == [_at(9, 0), _at(15, 30)]
    assert account.calls == ["poll", "orders", "balance"] * 2
    assert ends == [datetime.date(2024, 6, 3)]


def test_a_closed_day_has_no_sync_at_all():
    account, polls, ends, _ = _event_run([], day=(2024, 6, 8))  # a Saturday
    assert polls == [] and account.calls == [] and ends == []


def test_an_order_is_seen_at_the_next_grid_instant_and_open_orders_at_each_minute():
    events_box: list[EventSync] = []

    def place(slot: pendulum.DateTime) -> None:
        events_box[0].accessed("order")
        events_box[0].account.orders.append(OpenOrder(done_at=_at(10, 3)))  # type: ignore[attr-defined]

    job = _user("下单", T(10, 0), T(10, 0), place)
    # the user job needs the EventSync to tell it about the order: build it in two steps
    from jqtrade.clock import SimClock
    from jqtrade.loop import EventLoop

    account, polls = EventAccount(), []

    def poll(slot: pendulum.DateTime) -> None:
        polls.append(slot)
        for order in account.orders:
            if slot >= order.done_at:
                order.is_final = True

    plan = sync_plan(account, Options(), calendar=CAL, simulated=True, broker_poll=poll)
    assert plan.events is not None
    events_box.append(plan.events)
    loop = EventLoop(SimClock(_at(0, 0)))
    plan.events.attach(loop)
    for each in [*plan.jobs, job]:
        loop.add_job(each)
    loop.run(until=_at(23, 59))
    # 10:00:10 is where the 10-second order sync would first have seen the order; then one
    # wake a minute while it is open (prices move once a bar), none after it is done.
    assert polls == [
        _at(9, 0),
        _at(10, 0),  # the user's read before ordering refreshes the 09:00 balance
        _at(10, 0, 10),
        _at(10, 1),
        _at(10, 2),
        _at(10, 3),
        _at(15, 30),
    ]
    # The balance only where someone reads it: the day's edges and the user's read at 10:00;
    # the fill at 10:03 reaches it at the next read (here the day's end).
    assert account.calls == ["orders", "balance", "balance", *["orders"] * 5, "balance"]


def test_open_orders_wake_only_inside_the_market_sessions():
    account = EventAccount()
    plan = sync_plan(account, Options(), calendar=CAL, simulated=True, broker_poll=lambda s: None)
    events = plan.events
    assert events is not None
    events._open = True
    assert events.next_after(_at(11, 29, 30)) == _at(11, 30)
    assert events.next_after(_at(11, 30)) == _at(13, 0)  # the lunch break is skipped
    assert events.next_after(_at(15, 0)) == _at(15, 30)  # after the close: the day-end wake


def test_a_reading_callback_refreshes_the_balance_only_when_it_can_have_changed():
    boxes: list[EventSync] = []
    seen: list[pendulum.DateTime] = []

    def read(slot: pendulum.DateTime) -> None:
        seen.append(slot)
        boxes[0].accessed("context.portfolio")

    from jqtrade.clock import SimClock
    from jqtrade.loop import EventLoop

    account, refreshed = EventAccount(), []

    def poll(slot: pendulum.DateTime) -> None:
        refreshed.append(slot)

    plan = sync_plan(account, Options(), calendar=CAL, simulated=True, broker_poll=poll)
    assert plan.events is not None
    boxes.append(plan.events)
    loop = EventLoop(SimClock(_at(0, 0)))
    plan.events.attach(loop)
    for each in [*plan.jobs, _user("读取", T(10, 0), T(10, 4), read)]:
        loop.add_job(each)
    loop.run(until=_at(23, 59))
    assert len(seen) == 5
    # Nothing held, nothing ordered: only a snapshot older than max_snapshot_age (60 s) is
    # refreshed, so portfolio.is_stale reads as with the periodic syncs.
    assert refreshed == [_at(9, 0), _at(10, 0), _at(10, 2), _at(10, 4), _at(15, 30)]
    # Positions move with prices: then every read at least balance_every (30 s) later refreshes.
    account.positions = {"600000.XSHG": object()}
    refreshed.clear()
    plan.events._last_balance = None
    loop2 = EventLoop(SimClock(pendulum.datetime(2024, 6, 4, tz=MARKET_TZ)))
    plan.events.attach(loop2)
    for each in [*plan.jobs, _user("读取", T(10, 0), T(10, 4), read)]:
        loop2.add_job(each)
    loop2.run(until=pendulum.datetime(2024, 6, 4, 23, 59, tz=MARKET_TZ))
    assert [slot.strftime("%H:%M") for slot in refreshed] == [
        "09:00",
        "10:00",
        "10:01",
        "10:02",
        "10:03",
        "10:04",
        "15:30",
    ]


def test_a_live_clock_or_a_gate_without_orders_keeps_the_periodic_jobs():
    live = sync_plan(EventAccount(), Options(), calendar=CAL, simulated=False, broker_poll=print)
    assert live.events is None and [job.name for job in live.jobs][0] == "模拟券商"
    other = sync_plan(Counting(), Options(), calendar=CAL, simulated=True, broker_poll=print)
    assert other.events is None


def test_the_broker_writes_its_balance_right_before_each_read_and_only_then():
    from jqtrade.clock import SimClock
    from jqtrade.loop import EventLoop

    account, steps = EventAccount(), []

    def poll(slot: pendulum.DateTime) -> None:
        steps.append(("poll", slot.strftime("%H:%M:%S")))
        for order in account.orders:
            if slot >= order.done_at:
                order.is_final = True

    def publish(now: pendulum.DateTime) -> None:
        steps.append(("publish", now.strftime("%H:%M:%S")))

    plan = sync_plan(
        account,
        Options(),
        calendar=CAL,
        simulated=True,
        broker_poll=poll,
        broker_publish=publish,
    )
    events = plan.events
    assert events is not None

    def place(slot: pendulum.DateTime) -> None:
        events.accessed("order")
        account.orders.append(OpenOrder(done_at=_at(10, 2)))

    loop = EventLoop(SimClock(_at(0, 0)))
    events.attach(loop)
    for each in [*plan.jobs, _user("下单", T(10, 0), T(10, 0), place)]:
        loop.add_job(each)
    loop.run(until=_at(23, 59))
    assert steps == [
        ("poll", "09:00:00"),
        ("publish", "09:00:00"),  # the day's start: read
        ("poll", "10:00:00"),
        ("publish", "10:00:00"),  # the order call reads the balance first
        ("poll", "10:00:10"),  # the order reaches the broker; nobody reads the balance
        ("poll", "10:01:00"),
        ("poll", "10:02:00"),  # filled
        ("poll", "15:30:00"),
        ("publish", "15:30:00"),  # the day's end: read
    ]
    assert account.calls.count("balance") == 3


def test_a_hook_run_by_a_sync_reads_a_balance_that_may_be_behind_without_polling_again():
    from jqtrade.clock import SimClock
    from jqtrade.loop import EventLoop

    polls: list[str] = []

    class HookAccount(EventAccount):
        """Its sync runs the strategy's on_trade hook once the order is done; the hook reads
        the portfolio, as a strategy's hook may."""

        def sync_orders(self) -> None:
            super().sync_orders()
            done = [o for o in self.orders if o.is_final and not getattr(o, "told", False)]
            for order in done:
                order.told = True  # type: ignore[attr-defined]
                self.calls.append("hook")
                events.accessed("context.portfolio")

    account = HookAccount()

    def poll(slot: pendulum.DateTime) -> None:
        polls.append(slot.strftime("%H:%M:%S"))
        for order in account.orders:
            if slot >= order.done_at:
                order.is_final = True

    plan = sync_plan(account, Options(), calendar=CAL, simulated=True, broker_poll=poll)
    events = plan.events
    assert events is not None

    def place(slot: pendulum.DateTime) -> None:
        events.accessed("order")
        account.orders.append(OpenOrder(done_at=_at(10, 30)))  # rests half an hour

    loop = EventLoop(SimClock(_at(0, 0)))
    events.attach(loop)
    for each in [*plan.jobs, _user("下单", T(10, 0), T(10, 0), place)]:
        loop.add_job(each)
    loop.run(until=_at(23, 59))
    at_fill = account.calls.index("hook")
    # the hook at 10:30 finds the 10:00 balance half an hour behind: read again, no extra poll
    assert account.calls[at_fill - 1 : at_fill + 2] == ["orders", "hook", "balance"]
    assert polls.count("10:30:00") == 1
