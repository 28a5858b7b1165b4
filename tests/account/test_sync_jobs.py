"""Which sync jobs a running account gets, how often, and in which part of the day."""

from __future__ import annotations

import datetime

import pendulum

from jqtrade.account.sync_jobs import SyncTiming, padded, sync_jobs
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
