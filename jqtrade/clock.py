"""Clocks: the only place jqtrade reads the time.

Everything that needs "now" or has to wait takes a :class:`Clock`. Production uses
:class:`LiveClock`; tests and ``--simulate`` use :class:`SimClock`, which jumps straight to the
next due instant so that a whole trading day runs in milliseconds.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol, runtime_checkable

import pendulum

MARKET_TZ = pendulum.timezone("Asia/Shanghai")

#: The live clock re-reads the wall clock at least this often while waiting, so a clock step,
#: a laptop sleep or a poll request is noticed within a second.
MAX_WAIT_SLICE = 1.0


@runtime_checkable
class Clock(Protocol):
    """Market-time clock."""

    @property
    def is_simulated(self) -> bool: ...

    def now(self) -> pendulum.DateTime:
        """The current instant in the market time zone (Asia/Shanghai)."""

    def wait_until(self, deadline: pendulum.DateTime) -> bool:
        """Block until ``deadline``; return False if :meth:`wake` cut the wait short."""

    def wake(self) -> None:
        """Make the current (or next) wait return at once; safe from a signal handler."""


class LiveClock:
    """Wall-clock time, waiting in slices of at most one second.

    The wait blocks on a bare lock that :meth:`wake` releases. Unlike ``threading.Event.set``,
    which takes an internal lock, releasing a lock never blocks, so a signal handler that
    interrupts the waiting thread itself can wake it without risking a deadlock.
    """

    is_simulated = False

    def __init__(self, max_slice: float = MAX_WAIT_SLICE) -> None:
        self._max_slice = max_slice
        self._woken = False
        self._gate = threading.Lock()
        self._gate.acquire()  # held while no wake is pending

    def now(self) -> pendulum.DateTime:
        return pendulum.from_timestamp(time.time(), tz=MARKET_TZ)

    def wait_until(self, deadline: pendulum.DateTime) -> bool:
        target = deadline.timestamp()
        while True:
            if self._woken:
                self._woken = False
                self._gate.acquire(blocking=False)
                return False
            remaining = target - time.time()
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
            self._now = deadline.in_tz(MARKET_TZ)
        return True

    def advance(self, seconds: float) -> None:
        """Let simulated time pass, e.g. to model a slow callback in a test."""
        if not seconds >= 0:
            raise ValueError(f"SimClock only moves forward; cannot advance by {seconds!r} seconds")
        self._now = self._now.add(microseconds=int(seconds * 1_000_000))

    def wake(self) -> None:
        self._woken = True
