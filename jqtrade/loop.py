"""The single-threaded event loop that fires jobs from an injected clock.

Jobs due at the same instant run in registration order (internal jobs such as broker sync
first). A user job whose instant passed while the loop was busy or the machine slept still
runs if it is at most ``grace`` seconds late; older slots are skipped with one warning.

Internal jobs never queue up: when several of an internal job's slots have passed (a sync
slower than its interval, a machine that slept), it runs once, for the latest of them. A user
job that fell due while an internal job ran goes next, before any further internal job, so
syncing delays a user callback by at most the one sync that was running (plus the internal
jobs due at the very same instant, which by the rule above go first).

Each job's next slot is computed from its previous *slot*, never from "now", so a clock that
merely reads earlier never runs a slot twice. A clock that reports its steps (``take_steps``,
as :class:`jqtrade.clock.LiveClock` does) is trusted instead: after a backward step the
internal jobs are re-planned from the new time, so broker syncs carry on at once instead of
waiting in silence for the old timeline to come back. A user job never runs a slot that time had
already reached (a second run could send the same orders again): it keeps its next slot, and
the warning says so. A forward step is only
logged; the grace rules above handle it.

One error policy covers all user code: a scheduled job, and a hook the account calls while a
job runs (``on_order_update``, ``on_trade``, ``on_trading_state_change``, run through
:meth:`EventLoop.call_user`). The error is logged with its traceback and counted in
``errors``; with ``stop_on_error`` (the ``on_callback_error="stop"`` option) the first one is
kept in ``failed`` and the loop stops with the reason ``"callback_error"``. An internal job's
error is logged and counted but never stops the loop.
"""

from __future__ import annotations

import datetime
import heapq
import itertools
import logging
import math
import time
from collections.abc import Sequence
from typing import Callable, Optional

import attrs
import pendulum

from jqtrade.clock import MARKET_TZ, Clock, ClockStep, shift
from jqtrade.schedule import Rule

logger = logging.getLogger("jqtrade.loop")

_EPSILON = pendulum.duration(microseconds=1)
#: The least wall time between two rounds of the watchers on a simulated clock (seconds).
SIMULATED_WATCH_EVERY = 0.05
_EPOCH = pendulum.datetime(1970, 1, 1, tz="UTC")


@attrs.frozen
class IntervalRule:
    """Every ``seconds`` (aligned to whole multiples of it), optionally only inside ``periods``.

    Used for internal work such as broker sync; runs on every day, trading or not, unless
    ``calendar`` is given.
    """

    seconds: float
    periods: Optional[Sequence[tuple]] = None  # ((time, time), ...) in market time
    calendar: Optional[object] = None
    description: str = ""

    def next_after(self, t: pendulum.DateTime) -> pendulum.DateTime:
        step = round(self.seconds * 1_000_000)  # exact integer microseconds: no float drift
        delta = datetime.datetime.__sub__(t, _EPOCH)
        now_us = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
        candidate = shift(_EPOCH, datetime.timedelta(microseconds=(now_us // step + 1) * step))
        candidate = candidate.in_tz(MARKET_TZ)
        if not self.periods and self.calendar is None:
            return candidate
        for _ in range(4000):  # bounded: at most a few years of closed days
            day = candidate.date()
            open_day = self.calendar is None or self.calendar.is_trading_day(day)  # type: ignore[attr-defined]
            if open_day:
                tod = candidate.time()
                for start, end in self.periods or (
                    (pendulum.time(0), pendulum.time(23, 59, 59, 999999)),
                ):
                    if tod <= end:
                        if tod < start:
                            candidate = candidate.set(
                                hour=start.hour,
                                minute=start.minute,
                                second=start.second,
                                microsecond=0,
                            )
                        return candidate
            candidate = candidate.add(days=1).start_of("day")
        raise RuntimeError("IntervalRule found no open period")


@attrs.define(eq=False)
class Job:
    """One scheduled callback. ``callback(slot)`` receives the scheduled instant."""

    name: str
    rule: Rule
    callback: Callable[[pendulum.DateTime], object]
    grace: Optional[float] = None
    internal: bool = False
    next_fire: Optional[pendulum.DateTime] = None
    last_fire: Optional[pendulum.DateTime] = None
    fired: int = 0
    skipped: int = 0
    coalesced: int = 0  # internal jobs: catch-ups that stood for several missed slots
    seq: int = 0
    #: The rule follows state the callback changes (see :meth:`EventLoop.replan`): the next
    #: slot is asked again once the callback returned.
    dynamic: bool = False


class StopLoop(Exception):
    """Raise it from a job or a hook to stop the loop once that callback returns.

    The message, if any, becomes :attr:`EventLoop.stop_reason` (default ``"stop"``); it is not
    an error (not logged, not counted, ``failed`` stays ``None``). The ``on_callback_error="stop"``
    policy does not use it: an error stops the loop with the reason ``"callback_error"``.
    """


class EventLoop:
    """Fires jobs in time order on ``clock`` until stopped (or ``until`` for simulations)."""

    def __init__(
        self,
        clock: Clock,
        *,
        grace: float = 60.0,
        stop_on_error: bool = False,
        poll_interval: float = 1.0,
        wall: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock = clock
        # An optional clock feature (LiveClock has it): the wall-clock steps seen since last asked.
        self._take_steps: Optional[Callable[[], list[ClockStep]]]
        self._take_steps = getattr(clock, "take_steps", None)
        self.grace = grace
        self.stop_on_error = stop_on_error
        self.poll_interval = poll_interval
        self._jobs: list[Job] = []
        self._heap: list[tuple[float, int, int, Job]] = []
        self._seq = itertools.count()
        self._watchers: list[Callable[[], None]] = []
        self._wall = wall
        self._watched_at = -math.inf  # wall time of the last watcher round
        self._stop_reason: Optional[str] = None
        self.current_job: Optional[Job] = None
        self._running = False
        self.errors = 0
        self.failed: Optional[BaseException] = None

    # -- setup ------------------------------------------------------------------------------

    def add_job(self, job: Job) -> Job:
        job.seq = next(self._seq)
        self._jobs.append(job)
        if self._running:
            self._push(job, job.rule.next_after(self.clock.now() - _EPSILON))
        return job

    def add_watcher(self, watcher: Callable[[], None]) -> None:
        """Call ``watcher()`` on every wake-up (at least every ``poll_interval`` on a live clock);
        on a simulated clock at most every :data:`SIMULATED_WATCH_EVERY` seconds of wall time."""
        self._watchers.append(watcher)

    @property
    def jobs(self) -> list[Job]:
        return list(self._jobs)

    def replan(self, job: Job) -> None:
        """Plan ``job`` again from now: its rule's answer changed (an event-driven internal job,
        see :mod:`jqtrade.account.sync_jobs`). A job that is running is planned when it returns."""
        if not self._running or job is self.current_job:
            return
        for entry in self._heap:
            if entry[3] is job:
                self._take(entry)
                break
        else:
            return
        self._push(job, job.rule.next_after(self.clock.now()))

    def next_user_job(self) -> Optional[Job]:
        """The user job that fires next (for ``get_tasks``)."""
        pending = [entry for entry in self._heap if not entry[3].internal]
        return min(pending)[3] if pending else None

    # -- stopping ---------------------------------------------------------------------------

    def request_stop(self, reason: str = "stop") -> None:
        """Ask the loop to stop after the running callback; safe from a signal handler."""
        if self._stop_reason is None:
            self._stop_reason = reason
        self.clock.wake()

    @property
    def stop_reason(self) -> Optional[str]:
        return self._stop_reason

    # -- running ----------------------------------------------------------------------------

    def run(self, until: Optional[pendulum.DateTime] = None) -> None:
        """Run until stopped, or until the next firing would be after ``until``."""
        if self._take_steps is not None:
            self._take_steps()  # steps before the start change nothing: the plan starts from now
        start = self.clock.now() - _EPSILON
        self._heap.clear()
        for job in self._jobs:
            self._push(job, job.rule.next_after(start))
        self._running = True
        try:
            self._run_until(until)
        finally:
            self._running = False

    def _run_until(self, until: Optional[pendulum.DateTime]) -> None:
        live = not self.clock.is_simulated
        while self._stop_reason is None:
            if not self._heap:
                if until is not None:
                    self.clock.wait_until(until)  # end where a run with jobs would end
                    if self._replanned():
                        continue
                    return
                if not live:
                    return
                self.clock.wait_until(self.clock.now().add(seconds=self.poll_interval))
                self._replanned()  # nothing to re-plan, but a step is still worth a log line
                self._poll_watchers()
                continue
            due = self._heap[0][3].next_fire
            assert due is not None
            if until is not None and due > until:
                self.clock.wait_until(until)
                if self._replanned():
                    continue
                return
            deadline = due
            if live and self._watchers:
                deadline = min(
                    due, self.clock.now().add(microseconds=int(self.poll_interval * 1e6))
                )
            self.clock.wait_until(deadline)
            self._poll_watchers()
            if self._stop_reason is not None:
                return
            if self._replanned():
                continue
            self._fire_due(self.clock.now(), until)

    def _fire_due(self, now: pendulum.DateTime, until: Optional[pendulum.DateTime] = None) -> None:
        # Set after an internal run during which a user job fell due: user jobs due by this
        # instant run before any further internal job.
        users_by: Optional[pendulum.DateTime] = None
        while self._heap and self._stop_reason is None:
            entry = self._heap[0]
            if users_by is not None and entry[3].internal:
                waiting = self._first_user_due(users_by)
                if waiting is None:
                    users_by = None
                else:
                    entry = waiting
            job = entry[3]
            slot = job.next_fire
            assert slot is not None
            if slot > now or (until is not None and slot > until):
                return
            self._take(entry)
            if job.internal:
                nxt = job.rule.next_after(slot)
                if nxt <= now:
                    # Several slots passed: one run, for the latest, in its place in the order.
                    job.coalesced += 1
                    self._push(job, _latest_due(job.rule, slot, nxt, now))
                    continue
                started = now
                self._run(job, slot)
                self._push(job, job.rule.next_after(slot) if job.dynamic else nxt)
                now = self.clock.now()
                if self._replanned():
                    return
                if now > started and self._user_due_between(started, now):
                    users_by = now
                continue
            grace = self.grace if job.grace is None else job.grace
            # One cut-off instant decides both "run late" and which slots to skip, so the two
            # can never disagree about a slot right at the edge of the grace window.
            limit = shift(now, -datetime.timedelta(microseconds=int(grace * 1e6)))
            if slot >= limit:
                self._run(job, slot)
                nxt = job.rule.next_after(slot)
            else:
                nxt = self._skip_missed(job, slot, limit, grace)
            self._push(job, nxt)
            now = self.clock.now()
            if self._replanned():
                return

    def _first_user_due(self, by: pendulum.DateTime) -> Optional[tuple[float, int, int, Job]]:
        due = [entry for entry in self._heap if not entry[3].internal and _slot(entry) <= by]
        return min(due) if due else None

    def _user_due_between(self, after: pendulum.DateTime, by: pendulum.DateTime) -> bool:
        return any(not entry[3].internal and after < _slot(entry) <= by for entry in self._heap)

    def _take(self, entry: tuple[float, int, int, Job]) -> None:
        if entry is self._heap[0]:
            heapq.heappop(self._heap)
        else:
            self._heap.remove(entry)
            heapq.heapify(self._heap)

    # -- wall-clock steps -------------------------------------------------------------------

    def _replanned(self) -> bool:
        """Log the clock's steps; after a backward one, re-plan every job and return True."""
        if self._take_steps is None:
            return False
        steps = self._take_steps()
        for step in steps:
            size = f"{round(abs(step.seconds), 1):g}"
            before = step.before.format("YYYY-MM-DD HH:mm:ss")
            after = step.after.format("YYYY-MM-DD HH:mm:ss")
            if step.backward:
                message = "系统时间向后跳了 %s 秒（从 %s 到 %s），重新计算定时任务：同步照常进行，已经运行过的定时任务时间点不会重复运行"
            else:
                message = (
                    "系统时间向前跳了 %s 秒（从 %s 到 %s），错过的定时任务按宽限时间补跑或跳过"
                )
            logger.warning(message, size, before, after)
        if not any(step.backward for step in steps):
            return False
        start = self.clock.now() - _EPSILON
        entries, self._heap = self._heap, []
        for entry in entries:
            job = entry[3]
            # A user job keeps its next slot, planned on the old timeline: a slot that time
            # already reached is never run again (it may place orders).
            self._push(
                job,
                job.rule.next_after(start)
                if job.internal
                else job.next_fire or job.rule.next_after(start),
            )
        return True

    def _skip_missed(
        self, job: Job, slot: pendulum.DateTime, limit: pendulum.DateTime, grace: float
    ) -> pendulum.DateTime:
        first, last, count, nxt = slot, slot, 0, slot
        while nxt < limit:
            count += 1
            last = nxt
            nxt = job.rule.next_after(nxt)
        job.skipped += count
        if not job.internal:
            span = (
                first.format("YYYY-MM-DD HH:mm:ss")
                if count == 1
                else (
                    f"{first.format('YYYY-MM-DD HH:mm:ss')} 至 {last.format('YYYY-MM-DD HH:mm:ss')} 共 {count} 次"
                )
            )
            logger.warning(
                "定时任务 %s 错过了预定时间 %s（超过宽限 %g 秒），已跳过", job.name, span, grace
            )
        return nxt

    def call_user(self, name: str, func: Callable[..., object], *args: object) -> None:
        """Run the user hook ``func(*args)`` under the loop's error policy (see the module doc).

        For callbacks that are not jobs: the account calls the strategy's hooks through this.
        ``name`` names the hook in the log. Never raises, except ``BaseException`` that is not
        an ``Exception`` (``KeyboardInterrupt``); a :class:`StopLoop` stops the loop.
        """
        try:
            func(*args)
        except StopLoop as exc:
            self.request_stop(str(exc) or "stop")
        except Exception as exc:  # noqa: BLE001 - user code may raise anything; the loop survives
            logger.exception("用户回调 %s 运行出错", name)
            self._user_code_failed(exc, stops=True)

    def _run(self, job: Job, slot: pendulum.DateTime) -> None:
        self.current_job = job
        try:
            job.callback(slot)
        except StopLoop as exc:
            self.request_stop(str(exc) or "stop")
        except Exception as exc:  # noqa: BLE001 - user code may raise anything; the loop survives
            logger.exception(
                "定时任务 %s（%s）运行出错", job.name, slot.format("YYYY-MM-DD HH:mm:ss")
            )
            self._user_code_failed(exc, stops=not job.internal)
        finally:
            self.current_job = None
            job.fired += 1
            job.last_fire = slot

    def _user_code_failed(self, exc: Exception, *, stops: bool) -> None:
        """The one error policy: count the error; under ``stop_on_error`` keep the first and stop."""
        self.errors += 1
        if self.stop_on_error and stops:
            if self.failed is None:
                self.failed = exc
            self.request_stop("callback_error")

    def _push(self, job: Job, when: pendulum.DateTime) -> None:
        job.next_fire = when
        order = -1 if job.internal else 0
        heapq.heappush(self._heap, (when.timestamp(), order, job.seq, job))

    def _poll_watchers(self) -> None:
        if self.clock.is_simulated:
            # A simulated clock wakes thousands of times a wall second; what watchers look for
            # (a stop request, a progress line) is on the wall clock's scale.
            wall = self._wall()
            if wall - self._watched_at < SIMULATED_WATCH_EVERY:
                return
            self._watched_at = wall
        for watcher in self._watchers:
            try:
                watcher()
            except Exception:  # noqa: BLE001 - a watcher must never take the loop down
                logger.exception("内部检查出错")


def _slot(entry: tuple[float, int, int, Job]) -> pendulum.DateTime:
    slot = entry[3].next_fire
    assert slot is not None  # set by _push for every job on the heap
    return slot


def _latest_due(
    rule: Rule, slot: pendulum.DateTime, nxt: pendulum.DateTime, now: pendulum.DateTime
) -> pendulum.DateTime:
    """The last firing of ``rule`` at or before ``now``, given ``slot`` and ``nxt``, two due ones."""
    for _ in range(8):  # the usual case: a sync that overran by a slot or two
        after = rule.next_after(nxt)
        if after > now:
            return nxt
        slot, nxt = nxt, after
    # Far behind (a machine that slept through a day of 0.2 s polls): bisect for the last
    # instant whose next firing is still due. Rules are monotonic, and exact to 1 µs.
    lo, hi = slot, now  # rule.next_after(lo) <= now < rule.next_after(hi)
    while True:
        delta = hi - lo
        span = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
        if span <= 1:
            return rule.next_after(lo)
        mid = lo + datetime.timedelta(microseconds=span // 2)
        if rule.next_after(mid) <= now:
            lo = mid
        else:
            hi = mid
