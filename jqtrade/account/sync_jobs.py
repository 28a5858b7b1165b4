"""The broker syncs a running account needs, as loop jobs: which ones, how often, and when.

The runtime asks :func:`sync_plan` for them once ``process_initialize`` has fixed the options
and adds them to its loop; nothing else here knows about the loop's internals.

* Orders are synced every ``order_sync_interval`` seconds, balances and positions every
  ``sync_interval``, both inside ``sync_period`` (default: all day) on trading days only:
  brokers publish nothing on closed days, so there is no sync and no warning then.
* On a simulated clock, days jump from event to event and sub-second polling would only burn
  CPU: orders are synced at most every 10 s (answers within the minute of an ``every_minute``
  job, with half the wake-ups of 5 s, the larger part of a simulated day's cost), balances at
  most every 30 s, and a missing ``sync_period`` becomes the market hours widened by 30 minutes
  each side.
* An embedded simulated broker (``--broker sim``) is polled by a job of its own every 0.2 s on
  a live clock. On a simulated clock it is event-driven (:class:`EventSync`): nothing changes
  in that broker unless it is polled, so the broker is polled, and the account synced, only
  when something can have changed -- see :class:`EventSync` for the instants and for what a
  strategy can tell from it. A simulated clock over another gate keeps the intervals above
  (such a gate may change on its own).
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Callable, Optional, Protocol

import attrs
import pendulum

from jqtrade.clock import MARKET_TZ, in_market, shift
from jqtrade.loop import EventLoop, IntervalRule, Job

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


class EventSyncable(Syncable, Protocol):
    """What :class:`EventSync` also reads: whether any of today's orders is open."""

    @property
    def has_open_orders(self) -> bool: ...


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


#: The account calls of a strategy that send something to the broker.
TRADING_APIS = frozenset(
    {
        "order",
        "order_target",
        "order_value",
        "cancel_order",
        "batch_submit_orders",
        "batch_cancel_orders",
    }
)
#: How often prices can move: the simulated markets answer per minute bar.
BAR_SECONDS = 60

_EPSILON = datetime.timedelta(microseconds=1)


def _nothing(now: pendulum.DateTime) -> None:
    return None


DayEnd = Callable[[datetime.date, object], None]


class EventSync:
    """Event-driven syncs of an account over an embedded simulated broker, on a simulated clock.

    One internal job (``模拟券商与同步订单``) polls the broker, syncs the orders and, when due,
    the balance. It wakes only at instants of today's order-sync grid (whole multiples of the
    order interval, inside the sync period, on trading days), and only at these:

    * the first and the last instant of each trading day's sync period (day start: the broker
      rolls its day and the account its journal; day end: the day's final state), with a
      balance sync each time, then the :attr:`day_end` listeners at the last one;
    * the first grid instant after a strategy's order or cancel call (where the periodic job
      would first have seen it);
    * while any of today's orders is open, the first grid instant at or after each minute
      boundary inside the market sessions (prices move once a bar, so a working order can only
      fill at those instants, where the periodic job would also first have seen it).

    The balance is synced at the day's first and last wake, and when a strategy callback uses
    the account (``context.portfolio``, ``order_target`` ... through :meth:`accessed`): then a
    balance at least ``balance_every`` seconds old is refreshed (the broker polled first, so its
    snapshot is current) if something can have changed since: fills or orders, positions whose
    prices move, or an age beyond ``max_snapshot_age`` (so ``portfolio.is_stale`` reads as
    before). Such a refresh happens only inside the sync period of a trading day, also in a hook
    run by a sync (``on_trade`` ...), there without another poll (the sync has just polled).
    Between those instants no one reads the balance, so a fill reaches it, and the daily-loss
    check, at the next use of the account: before any further order, at the latest at the
    day's end. Each balance read is preceded by ``publish`` (when given): the simulated broker
    then writes its balance files only for a reader, as of the instant of the read.

    What a strategy can tell from the periodic syncs of before: order updates and fills reach
    ``on_order_update`` / ``on_trade`` at the same simulated instants, as long as prices change
    only at minute boundaries (the random walk and minute bars; a ``prices`` CSV with times
    inside a minute would fill at the next minute's first grid instant instead) and the broker
    has no latency or per-poll partial fills (what ``--broker sim`` under ``--simulate`` uses).
    The portfolio holds the same amounts and prices; its snapshot time (``as_of``,
    ``last_sync_time``) is the instant of the last refresh rather than the last half minute.
    """

    def __init__(
        self,
        account: EventSyncable,
        options: Options,
        *,
        calendar: TradingCalendar,
        poll: BrokerPoll,
        publish: Optional[BrokerPoll] = None,
    ) -> None:
        timing = SyncTiming.of(options, simulated=True)
        assert timing.period is not None
        self.account = account
        self.calendar = calendar
        self.poll = poll
        self.publish = publish if publish is not None else _nothing
        self.sync_order, self.sync_balance = options.sync_order, options.sync_balance
        self.balance_every = timing.balance_every
        self.max_age = options.max_snapshot_age
        self.grid = IntervalRule(timing.order_every, timing.period, calendar)
        self.day_start, self.day_stop = timing.period[0][0], timing.period[-1][1]
        self.sessions = tuple(options.market_period)
        self.job = Job(
            name="模拟券商与同步订单",
            rule=_EventRule(self),
            internal=True,
            grace=1e9,
            callback=self.wake,
            dynamic=True,
        )
        #: Called with the day and the synced portfolio after each trading day's last sync.
        self.day_end: list[DayEnd] = []
        self._loop: Optional[EventLoop] = None
        self._poked: Optional[pendulum.DateTime] = None  # grid instant owed to an order call
        self._open = False  # some order of today's is not final
        self._last_balance: Optional[float] = None  # timestamp of the last balance sync
        self._changed = True  # something may have changed since the last balance sync
        self._holds = False  # the last balance held positions (their prices move)
        self._edge: Optional[tuple[float, pendulum.DateTime]] = None  # (asked at, next edge)
        self._trading: dict[datetime.date, bool] = {}

    def attach(self, loop: EventLoop) -> None:
        """The loop that runs :attr:`job` (to re-plan it after an order call)."""
        self._loop = loop

    # -- planning ----------------------------------------------------------------------------

    def next_after(self, t: pendulum.DateTime) -> pendulum.DateTime:
        best = self._next_edge(t)
        if self._poked is not None and t < self._poked < best:
            best = self._poked
        if self._open:
            bar = self._next_bar(t)
            if bar is not None and bar < best:
                best = bar
        return best

    def _is_trading(self, day: datetime.date) -> bool:
        known = self._trading.get(day)
        if known is None:
            if len(self._trading) > 64:
                self._trading.clear()
            known = self._trading[day] = self.calendar.is_trading_day(day)
        return known

    def _next_edge(self, t: pendulum.DateTime) -> pendulum.DateTime:
        stamp = t.timestamp()
        if self._edge is not None and self._edge[0] <= stamp < self._edge[1].timestamp():
            return self._edge[1]
        day = in_market(t).date()
        for _ in range(4000):  # bounded: a few years of closed days
            if self._is_trading(day):
                for tod in (self.day_start, self.day_stop):
                    at = pendulum.instance(datetime.datetime.combine(day, tod), tz=MARKET_TZ)
                    if at > t:
                        self._edge = (stamp, at)
                        return at
            day += datetime.timedelta(days=1)
        raise RuntimeError("EventSync found no trading day")

    def _next_bar(self, t: pendulum.DateTime) -> Optional[pendulum.DateTime]:
        """The first grid instant at or after the next minute boundary inside a session."""
        local = in_market(t)
        boundary = shift(
            local.replace(second=0, microsecond=0), datetime.timedelta(seconds=BAR_SECONDS)
        )
        tod = boundary.time()
        for start, end in self.sessions:
            if tod < start:
                boundary = pendulum.instance(
                    datetime.datetime.combine(boundary.date(), start), tz=MARKET_TZ
                )
                break
            if tod <= end:
                break
        else:
            return None  # after the last session: the day-end wake comes next
        return self.grid.next_after(shift(boundary, -_EPSILON))

    def _in_period(self, now: pendulum.DateTime) -> bool:
        local = in_market(now)
        return self._is_trading(local.date()) and self.day_start <= local.time() <= self.day_stop

    # -- running -----------------------------------------------------------------------------

    def wake(self, slot: pendulum.DateTime) -> None:
        """The job: poll the broker, sync the orders, and the balance at the day's edges."""
        local = in_market(slot)
        tod = local.time()
        edge = tod in (self.day_start, self.day_stop) and self._is_trading(local.date())
        if self._poked is not None and self._poked <= slot:
            self._poked = None
        try:
            self.poll(slot)
        finally:
            if self.sync_order:
                self.account.sync_orders()
            self._open = self.account.has_open_orders
            if self.sync_balance and (edge or self._last_balance is None):
                self._balance(slot)
            else:
                self._changed = True
        if edge and tod == self.day_stop:
            portfolio = getattr(self.account, "portfolio", None)
            for listener in self.day_end:
                listener(local.date(), portfolio)

    def _refresh_due(self, now: pendulum.DateTime) -> bool:
        """Whether a use of the account at ``now`` refreshes the balance (class docstring)."""
        if not self.sync_balance or not self._in_period(now):
            return False
        if self._last_balance is None:
            return True
        age = now.timestamp() - self._last_balance
        return age >= self.balance_every and (
            self._changed or self._holds or (self.max_age is not None and age > self.max_age)
        )

    def _balance(self, now: pendulum.DateTime) -> None:
        self.publish(now)  # the broker's balance as of now, for the read just below
        result = self.account.sync_balance()
        self._last_balance = now.timestamp()
        self._changed = False
        self._holds = bool(getattr(result, "long_positions", None))

    def accessed(self, api: str) -> None:
        """A strategy callback is about to use the account through ``api``."""
        loop = self._loop
        job = loop.current_job if loop is not None else None
        if job is None:
            return  # process_initialize: it reads what is there
        now = loop.clock.now()  # type: ignore[union-attr]  # job is set only by a loop
        if job.internal:
            # A hook run by a sync (on_trade ...): the broker was polled just now; read its
            # balance if ours may be behind, without another round of the broker.
            if self._refresh_due(now):
                self._balance(now)
            return
        if self._refresh_due(now):
            if self._poked is None:  # an order sent at this instant waits for its slot
                self.poll(now)
            self._balance(now)
        if api in TRADING_APIS:
            self._changed = True
            slot = self.grid.next_after(now)
            if self._poked is None or slot < self._poked:
                self._poked = slot
                if loop is not None:
                    loop.replan(self.job)


@attrs.frozen
class _EventRule:
    """The loop's view of :class:`EventSync`: the next wake after ``t`` (not a pure rule: it
    follows the orders, which is why an order call re-plans the job)."""

    events: EventSync
    description: str = "事件驱动的模拟同步"

    def next_after(self, t: pendulum.DateTime) -> pendulum.DateTime:
        return self.events.next_after(t)


@attrs.frozen
class SyncPlan:
    """The sync jobs, and the :class:`EventSync` behind them on a simulated embedded broker."""

    jobs: list[Job]
    events: Optional[EventSync] = None


def sync_plan(
    account: Syncable,
    options: Options,
    *,
    calendar: TradingCalendar,
    simulated: bool,
    broker_poll: Optional[BrokerPoll] = None,
    broker_publish: Optional[BrokerPoll] = None,
) -> SyncPlan:
    """The jobs that keep ``account`` in sync (event-driven on a simulated embedded broker).

    ``broker_publish``: makes the embedded broker write its balance as of the time given (a
    broker that writes it only when asked: see :class:`EventSync`)."""
    if simulated and broker_poll is not None and hasattr(account, "has_open_orders"):
        events = EventSync(
            account,  # type: ignore[arg-type]  # checked just above
            options,
            calendar=calendar,
            poll=broker_poll,
            publish=broker_publish,
        )
        return SyncPlan([events.job], events)
    return SyncPlan(
        sync_jobs(account, options, calendar=calendar, simulated=simulated, broker_poll=broker_poll)
    )


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
