"""The broker syncs a running account needs, as loop jobs: which ones, how often, and when.

The runtime asks :func:`sync_jobs` for them once ``process_initialize`` has fixed the options
and adds them to its loop; nothing else here knows about the loop's internals.

* Orders are synced every ``order_sync_interval`` seconds, balances and positions every
  ``sync_interval``, both inside ``sync_period`` (default: all day) on trading days only:
  brokers publish nothing on closed days, so there is no sync and no warning then.
* On a simulated clock, days jump from event to event and sub-second polling would only burn
  CPU: orders are synced at most every 10 s (answers within the minute of an ``every_minute``
  job, with half the wake-ups of 5 s, the larger part of a simulated day's cost), balances at
  most every 30 s, and a missing ``sync_period`` becomes the market hours widened by 30 minutes
  each side.
* An embedded simulated broker (``--broker sim``) is polled by a job of its own: every 0.2 s on
  a live clock, and on a simulated clock at the order-sync instants, merged with the order sync
  into one job when that runs (the broker acts just before each sync; the same instants as two
  jobs, half the loop work over a simulated day).
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Callable, Optional, Protocol

import attrs
import pendulum

from jqtrade.loop import IntervalRule, Job

if TYPE_CHECKING:
    from jqtrade.calendar import TradingCalendar
    from jqtrade.options import Options

Periods = tuple[tuple[datetime.time, datetime.time], ...]
BrokerPoll = Callable[[pendulum.DateTime], None]

#: How often a live clock polls an embedded simulated broker (seconds).
LIVE_BROKER_POLL = 0.2
#: Floors of the sync intervals on a simulated clock (seconds).
SIMULATED_ORDER_EVERY = 10.0
SIMULATED_BALANCE_EVERY = 30.0
#: How far a simulated clock's default sync period reaches beyond the market hours.
SIMULATED_MARGIN = datetime.timedelta(minutes=30)


class Syncable(Protocol):
    """What the jobs drive: :class:`jqtrade.account.account.Account` is one."""

    def sync_orders(self) -> object: ...

    def sync_balance(self) -> object: ...


@attrs.frozen(kw_only=True)
class SyncTiming:
    """When the sync jobs run: intervals in seconds, and the periods of the day (None: all day)."""

    order_every: float
    balance_every: float
    period: Optional[Periods]

    @classmethod
    def of(cls, options: Options, *, simulated: bool) -> SyncTiming:
        order_every, balance_every, period = (
            options.order_sync_interval,
            options.sync_interval,
            options.sync_period,
        )
        if simulated:
            order_every = max(order_every, SIMULATED_ORDER_EVERY)
            balance_every = max(balance_every, SIMULATED_BALANCE_EVERY)
            period = period or padded(options.market_period)
        return cls(order_every=order_every, balance_every=balance_every, period=period)


def padded(periods: Periods) -> Periods:
    """Market hours widened by :data:`SIMULATED_MARGIN` each side (within the day)."""
    day = datetime.date(2000, 1, 3)
    start = datetime.datetime.combine(day, periods[0][0]) - SIMULATED_MARGIN
    end = datetime.datetime.combine(day, periods[-1][1]) + SIMULATED_MARGIN
    first, last = (
        datetime.datetime.combine(day, datetime.time(0)),
        datetime.datetime.combine(day, datetime.time(23, 59, 59)),
    )
    return ((max(start, first).time(), min(end, last).time()),)


def sync_jobs(
    account: Syncable,
    options: Options,
    *,
    calendar: TradingCalendar,
    simulated: bool,
    broker_poll: Optional[BrokerPoll] = None,
) -> list[Job]:
    """The internal jobs that keep ``account`` in sync (and drive ``broker_poll``, if given)."""
    timing = SyncTiming.of(options, simulated=simulated)

    def job(name: str, seconds: float, callback: Callable[[pendulum.DateTime], object]) -> Job:
        rule = IntervalRule(seconds, timing.period, calendar)
        return Job(name=name, rule=rule, internal=True, grace=1e9, callback=callback)

    jobs: list[Job] = []
    merged = broker_poll is not None and simulated and options.sync_order
    if broker_poll is not None and merged:
        poll = broker_poll

        def poll_and_sync(slot: pendulum.DateTime) -> None:
            try:
                poll(slot)
            finally:
                account.sync_orders()

        jobs.append(job("模拟券商与同步订单", timing.order_every, poll_and_sync))
    elif broker_poll is not None:
        jobs.append(
            job("模拟券商", timing.order_every if simulated else LIVE_BROKER_POLL, broker_poll)
        )
    if options.sync_order and not merged:
        jobs.append(job("同步订单", timing.order_every, lambda slot: account.sync_orders()))
    if options.sync_balance:
        jobs.append(job("同步资金持仓", timing.balance_every, lambda slot: account.sync_balance()))
    return jobs
