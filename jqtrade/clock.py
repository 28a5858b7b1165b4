"""Clocks: the only place jqtrade reads the time.

Everything that needs "now" or has to wait takes a :class:`Clock`. Production uses
:class:`LiveClock`; tests and ``--simulate`` use :class:`SimClock`, which jumps straight to the
next due instant so that a whole trading day runs in milliseconds.

The live clock also watches its wall clock for steps: a reading that moved more than
:data:`STEP_TOLERANCE` seconds away from what the elapsed (monotonic) time explains is an NTP
correction, a manual change or a machine waking from sleep. A clock that can tell offers
``take_steps()``, which hands over the :class:`ClockStep` objects seen since the last call; the
event loop re-plans its jobs after a backward step (see :mod:`jqtrade.loop`).
"""

from __future__ import annotations

import datetime
import sys
import threading
import time
from typing import Callable, NamedTuple, Optional, Protocol, Union, cast, runtime_checkable

import pendulum

MARKET_TZ = pendulum.timezone("Asia/Shanghai")


def in_market(t: pendulum.DateTime) -> pendulum.DateTime:
    """``t`` in market time; itself when it already is (``in_tz`` converts anew every time)."""
    return t if t.tzinfo is MARKET_TZ else t.in_tz(MARKET_TZ)


def shift(t: pendulum.DateTime, delta: datetime.timedelta) -> pendulum.DateTime:
    """``t + delta``, in ``t``'s zone, some 15 times faster than pendulum's ``add`` (which a
    simulated run calls thousands of times a day). Exact for a zone whose offset is the same at
    both ends: market time (no daylight saving since 1991) and UTC, the zones jqtrade uses."""
    return cast(pendulum.DateTime, datetime.datetime.__add__(t, delta))


def seconds_between(start: datetime.datetime, end: datetime.datetime) -> float:
    """``end - start`` in seconds, without building pendulum's Interval (see :func:`shift`)."""
    return datetime.datetime.__sub__(end, start).total_seconds()


#: The live clock re-reads the wall clock at least this often while waiting, so a clock step,
#: a laptop sleep or a poll request is noticed within a second.
MAX_WAIT_SLICE = 1.0

#: The slice on Windows. There a lock wait with a timeout is not interrupted by Ctrl+C: Python
#: runs its SIGINT handler (which wakes the clock) only once the wait returns by itself, so the
#: slice bounds how late a signal is seen. A quarter second keeps a stop within half a second
#: even where no console handler wakes the clock at once (see ``jqtrade.tasks.runner``).
WINDOWS_WAIT_SLICE = 0.25


def default_wait_slice(platform: Optional[str] = None) -> float:
    """The longest single lock wait of a :class:`LiveClock` on ``platform`` (default: this one)."""
    return WINDOWS_WAIT_SLICE if (platform or sys.platform) == "win32" else MAX_WAIT_SLICE


#: A wall-clock reading more than this many seconds away from what the elapsed time explains
#: is a step, not drift or an NTP nudge.
STEP_TOLERANCE = 2.0

#: Read before any test can stand in for the ``time`` module: step detection needs real
#: elapsed time even when the wall clock is faked.
_monotonic = time.monotonic

TimeSource = Callable[[], Union[float, datetime.datetime]]


class ClockStep(NamedTuple):
    """A jump of the wall clock: what it would have read without the jump, and what it read."""

    before: pendulum.DateTime
    after: pendulum.DateTime

    @property
    def seconds(self) -> float:
        """Signed size of the jump; negative when the clock went back."""
        return (self.after - self.before).total_seconds()

    @property
    def backward(self) -> bool:
        return self.after < self.before


@runtime_checkable
class Clock(Protocol):
    """Market-time clock."""

    @property
    def is_simulated(self) -> bool: ...

    def now(self) -> pendulum.DateTime:
        """The current instant in the market time zone (Asia/Shanghai)."""

    def wait_until(self, deadline: pendulum.DateTime) -> bool:
        """Block until ``deadline``; return False if cut short (:meth:`wake`, a clock step)."""

    def wake(self) -> None:
        """Make the current (or next) wait return at once; safe from a signal handler."""


class LiveClock:
    """Wall-clock time, waiting in slices of at most one second (a quarter second on Windows).

    ``time_source`` returns the wall time as epoch seconds or as an aware datetime; it
    defaults to the system clock (``time.time``). It must move with real time, as a real wall
    clock does, apart from the steps it is meant to show: each reading is compared with the
    monotonic time elapsed since the previous one, and a difference beyond ``step_tolerance``
    seconds is recorded as a :class:`ClockStep` (see :meth:`take_steps`). A wait that sees a
    backward step returns False at once, within one slice of the step, so that the caller can
    re-plan against the new time; after a forward step it simply ends if its deadline passed.

    The wait blocks on a bare lock that :meth:`wake` releases. Unlike ``threading.Event.set``,
    which takes an internal lock, releasing a lock never blocks, so a signal handler that
    interrupts the waiting thread itself can wake it without risking a deadlock. ``max_slice``
    defaults to :func:`default_wait_slice` for this platform.
    """

    is_simulated = False

    #: Steps kept for a caller that never takes them (a clock read only for display).
    _MAX_KEPT_STEPS = 16

    def __init__(
        self,
        max_slice: Optional[float] = None,
        *,
        time_source: Optional[TimeSource] = None,
        step_tolerance: float = STEP_TOLERANCE,
    ) -> None:
        self._max_slice = default_wait_slice() if max_slice is None else max_slice
        self._source = time_source
        self._tolerance = step_tolerance
        self._offset: Optional[float] = None  # wall minus monotonic time at the last reading
        self._steps: list[ClockStep] = []
        self._backward_seen = 0  # backward steps ever seen: lets a wait spot a new one cheaply
        self._woken = False
        self._gate = threading.Lock()
        self._gate.acquire()  # held while no wake is pending

    def now(self) -> pendulum.DateTime:
        return pendulum.from_timestamp(self._read(), tz=MARKET_TZ)

    def take_steps(self) -> list[ClockStep]:
        """The wall-clock steps seen since the last call, oldest first."""
        steps, self._steps = self._steps, []
        return steps

    def _read(self) -> float:
        """The wall time in epoch seconds; records a step if it jumped since the last read."""
        raw = time.time() if self._source is None else self._source()
        wall = raw.timestamp() if isinstance(raw, datetime.datetime) else float(raw)
        offset = wall - _monotonic()
        previous, self._offset = self._offset, offset
        if previous is not None and abs(offset - previous) > self._tolerance:
            self._record(wall - (offset - previous), wall)
        return wall

    def _record(self, expected: float, wall: float) -> None:
        step = ClockStep(
            pendulum.from_timestamp(expected, tz=MARKET_TZ),
            pendulum.from_timestamp(wall, tz=MARKET_TZ),
        )
        self._steps = [*self._steps[-(self._MAX_KEPT_STEPS - 1) :], step]
        if step.backward:
            self._backward_seen += 1

    def wait_until(self, deadline: pendulum.DateTime) -> bool:
        target = deadline.timestamp()
        backward_seen = self._backward_seen
        while True:
            if self._woken:
                self._woken = False
                self._gate.acquire(blocking=False)
                return False
            remaining = target - self._read()
            if self._backward_seen != backward_seen:
                # The deadline now lies further off than planned: let the caller re-plan.
                return False
            if remaining <= 0:
                return True
            if self._gate.acquire(timeout=min(remaining, self._max_slice)):
                self._woken = False
                return False

    def wake(self) -> None:
        self._woken = True
        try:
            self._gate.release()
        except RuntimeError:  # already released: a wake is pending
            pass


class SimClock:
    """A clock that only moves when asked to wait: each wait jumps to its deadline."""

    is_simulated = True

    def __init__(self, start: pendulum.DateTime) -> None:
        self._now = start.in_tz(MARKET_TZ)
        self._woken = False

    def now(self) -> pendulum.DateTime:
        return self._now

    def wait_until(self, deadline: pendulum.DateTime) -> bool:
        if self._woken:
            self._woken = False
            return False
        if deadline > self._now:
            self._now = in_market(deadline)
        return True

    def advance(self, seconds: float) -> None:
        """Let simulated time pass, e.g. to model a slow callback in a test."""
        if not seconds >= 0:
            raise ValueError(f"SimClock only moves forward; cannot advance by {seconds!r} seconds")
        self._now = self._now.add(microseconds=int(seconds * 1_000_000))

    def wake(self) -> None:
        self._woken = True
