"""Clocks: the simulated clock jumps forward only; the live clock waits and can be woken."""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pendulum
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import jqtrade.clock as clock_module
from jqtrade.clock import (
    MARKET_TZ,
    Clock,
    ClockStep,
    LiveClock,
    SimClock,
    seconds_between,
    shift,
)

ROOT = Path(__file__).resolve().parents[1]
START = pendulum.datetime(2024, 6, 3, 9, 0, tz=MARKET_TZ)


# --- SimClock ------------------------------------------------------------------------------


def test_sim_clock_reports_market_time_whatever_zone_it_was_given():
    clock = SimClock(pendulum.datetime(2024, 6, 3, 1, 0, tz="UTC"))
    now = clock.now()
    assert now.timezone_name == "Asia/Shanghai"
    assert (now.hour, now.minute) == (9, 0)
    assert now == pendulum.datetime(2024, 6, 3, 1, 0, tz="UTC")


def test_sim_clock_jumps_to_a_later_deadline_and_never_back():
    clock = SimClock(START)
    later = START.add(hours=2)
    assert clock.wait_until(later) is True
    assert clock.now() == later
    assert clock.wait_until(START) is True  # a deadline in the past: returns at once
    assert clock.now() == later


def test_sim_clock_converts_a_foreign_deadline_to_market_time():
    clock = SimClock(START)
    clock.wait_until(pendulum.datetime(2024, 6, 3, 5, 0, tz="UTC"))
    assert clock.now().timezone_name == "Asia/Shanghai"
    assert clock.now().hour == 13


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(min_value=-86_400, max_value=86_400), max_size=30))
def test_sim_clock_is_monotonic_and_at_the_latest_deadline(offsets):
    clock = SimClock(START)
    latest = START
    for seconds in offsets:
        before = clock.now()
        deadline = START.add(seconds=seconds)
        assert clock.wait_until(deadline) is True
        latest = max(latest, deadline)
        assert clock.now() >= before
        assert clock.now() == latest


def test_sim_clock_wake_makes_only_the_next_wait_return_false():
    clock = SimClock(START)
    clock.wake()
    clock.wake()  # two wakes before a wait still cut only one wait short
    assert clock.wait_until(START.add(hours=1)) is False
    assert clock.now() == START  # a cut wait does not move time
    assert clock.wait_until(START.add(hours=1)) is True
    assert clock.now() == START.add(hours=1)


def test_sim_clock_advance_moves_forward_only():
    clock = SimClock(START)
    clock.advance(1.5)
    assert clock.now() == START.add(seconds=1, microseconds=500_000)
    with pytest.raises(ValueError):
        clock.advance(-1)
    assert clock.now() == START.add(seconds=1, microseconds=500_000)


def test_both_clocks_satisfy_the_protocol():
    assert isinstance(SimClock(START), Clock)
    assert isinstance(LiveClock(), Clock)
    assert SimClock(START).is_simulated is True
    assert LiveClock().is_simulated is False


# --- LiveClock -----------------------------------------------------------------------------


def test_live_clock_now_is_market_time_close_to_the_wall_clock():
    now = LiveClock().now()
    assert now.timezone_name == "Asia/Shanghai"
    assert abs(now.timestamp() - time.time()) < 5


def test_live_clock_returns_true_at_or_after_the_deadline():
    clock = LiveClock()
    deadline = clock.now().add(microseconds=150_000)
    assert clock.wait_until(deadline) is True
    assert time.time() >= deadline.timestamp()


def test_live_clock_past_deadline_returns_true_at_once():
    clock = LiveClock()
    started = time.monotonic()
    assert clock.wait_until(clock.now().subtract(seconds=10)) is True
    assert time.monotonic() - started < 5


def test_live_clock_with_small_slices_still_waits_until_the_deadline():
    clock = LiveClock(max_slice=0.01)
    deadline = clock.now().add(microseconds=120_000)
    assert clock.wait_until(deadline) is True
    assert time.time() >= deadline.timestamp()


def test_live_clock_woken_from_another_thread():
    clock = LiveClock()
    timer = threading.Timer(0.1, clock.wake)
    started = time.monotonic()
    timer.start()
    try:
        assert clock.wait_until(clock.now().add(seconds=30)) is False
    finally:
        timer.cancel()
    assert time.monotonic() - started < 10
    # The wake was consumed: the next wait runs to its deadline.
    deadline = clock.now().add(microseconds=50_000)
    assert clock.wait_until(deadline) is True
    assert time.time() >= deadline.timestamp()


def test_live_clock_wake_before_the_wait_cuts_the_next_wait_short():
    clock = LiveClock()
    clock.wake()
    clock.wake()
    started = time.monotonic()
    assert clock.wait_until(clock.now().add(seconds=30)) is False
    assert time.monotonic() - started < 10
    deadline = clock.now().add(microseconds=50_000)
    assert clock.wait_until(deadline) is True


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs SIGALRM / setitimer (POSIX)")
def test_live_clock_woken_by_a_signal_handler_in_the_waiting_thread():
    clock = LiveClock()
    fired = []

    def handler(signum, frame):
        fired.append(signum)
        clock.wake()

    previous = signal.signal(signal.SIGALRM, handler)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.1)
        started = time.monotonic()
        assert clock.wait_until(clock.now().add(seconds=30)) is False
        assert time.monotonic() - started < 10
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert fired == [signal.SIGALRM]


_SIGNAL_STORM = """
import signal
from jqtrade.clock import LiveClock

clock = LiveClock(max_slice=0.005)
signal.signal(signal.SIGALRM, lambda signum, frame: clock.wake())
signal.setitimer(signal.ITIMER_REAL, 0.0002, 0.0002)
results = [clock.wait_until(clock.now().add(seconds=30)) for _ in range(2000)]
signal.setitimer(signal.ITIMER_REAL, 0)
print(results.count(False))
"""


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs SIGALRM / setitimer (POSIX)")
def test_live_clock_survives_signals_landing_anywhere_in_the_wait():
    """A wake from a signal handler must never deadlock the thread it interrupted.

    Run in a child process so that a deadlock fails the test instead of hanging the suite.
    """
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    proc = subprocess.run(
        [sys.executable, "-c", _SIGNAL_STORM], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["2000"]


class _SteppingTime:
    """Stands in for the ``time`` module: the wall clock steps forward by a day after a while."""

    def __init__(self, after: float) -> None:
        self._switch = time.monotonic() + after

    def time(self) -> float:
        real = time.time()
        return real + 86_400 if time.monotonic() >= self._switch else real


def test_live_clock_notices_a_wall_clock_step_within_a_slice(monkeypatch):
    clock = LiveClock(max_slice=0.02)
    deadline = clock.now().add(hours=1)
    monkeypatch.setattr(clock_module, "time", _SteppingTime(after=0.1))
    started = time.monotonic()
    assert clock.wait_until(deadline) is True
    assert time.monotonic() - started < 10  # not an hour: the step was seen


def test_default_slice_is_at_most_one_second():
    assert clock_module.MAX_WAIT_SLICE <= 1.0


# --- LiveClock: an injected time source and wall-clock steps -------------------------------


class ScriptedTime:
    """Real time, moved by ``jump`` seconds from the ``at``-th read on.

    A wait that misses the jump would last an hour; after ``give_up`` more reads the time
    leaps past every deadline instead, so such a failure is quick.
    """

    def __init__(self, jump: float, at: int, give_up: int = 200) -> None:
        self.jump, self.at, self.give_up = jump, at, give_up
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        offset = self.jump if self.reads >= self.at else 0.0
        if self.reads >= self.at + self.give_up:
            offset += 30 * 86_400
        return time.time() + offset


def test_live_clock_reads_an_injected_time_source():
    epoch = pendulum.datetime(2024, 6, 3, 2, 0, tz="UTC").timestamp()
    clock = LiveClock(time_source=lambda: epoch)
    assert clock.now() == pendulum.datetime(2024, 6, 3, 10, 0, tz=MARKET_TZ)
    assert clock.now().timezone_name == "Asia/Shanghai"
    moment = pendulum.datetime(2024, 6, 3, 9, 30, 15, 250_000, tz="Europe/London")
    clock = LiveClock(time_source=lambda: moment)
    assert clock.now() == moment
    assert clock.now().timezone_name == "Asia/Shanghai"


def test_live_clock_waits_on_the_injected_time():
    ahead = 3 * 86_400.0  # a source three days ahead: deadlines are read against it, not time.time
    clock = LiveClock(time_source=lambda: time.time() + ahead)
    deadline = clock.now().add(microseconds=50_000)
    assert deadline.timestamp() > time.time() + ahead - 5
    assert clock.wait_until(deadline) is True
    assert clock.take_steps() == []


def test_live_clock_notices_a_backward_step_at_the_first_read_after_it():
    source = ScriptedTime(jump=-3600, at=6)
    clock = LiveClock(max_slice=0.01, time_source=source)
    deadline = clock.now().add(seconds=30)
    assert clock.wait_until(deadline) is False  # cut short, so that the loop can re-plan
    assert source.reads == source.at  # the read that saw the step ended the wait
    steps = clock.take_steps()
    assert len(steps) == 1
    assert round(steps[0].seconds) == -3600
    assert steps[0].backward and steps[0].after < steps[0].before
    assert steps[0].after.timezone_name == "Asia/Shanghai"
    assert clock.take_steps() == []


def test_live_clock_tells_small_corrections_from_steps():
    offset = [0.0]
    clock = LiveClock(time_source=lambda: time.time() + offset[0])
    clock.now()
    offset[0] = -1.5  # within the 2 s tolerance: an NTP nudge, not a step
    clock.now()
    assert clock.take_steps() == []
    offset[0] = -4.0  # 2.5 s further back
    clock.now()
    steps = clock.take_steps()
    assert len(steps) == 1 and steps[0].backward and round(steps[0].seconds, 1) == -2.5


def test_live_clock_reports_a_forward_step_and_still_ends_the_wait_at_its_deadline():
    source = ScriptedTime(jump=3600, at=4)
    clock = LiveClock(max_slice=0.01, time_source=source)
    assert clock.wait_until(clock.now().add(seconds=30)) is True  # the deadline passed in the jump
    steps = clock.take_steps()
    assert len(steps) == 1 and not steps[0].backward and round(steps[0].seconds) == 3600


def test_a_step_seen_outside_a_wait_is_kept_for_the_loop_but_does_not_cut_later_waits():
    offset = [0.0]
    clock = LiveClock(max_slice=0.01, time_source=lambda: time.time() + offset[0])
    clock.now()
    offset[0] = -3600.0
    clock.now()  # e.g. a gate reading the time during a sync
    deadline = clock.now().add(microseconds=30_000)
    assert clock.wait_until(deadline) is True
    assert [round(step.seconds) for step in clock.take_steps()] == [-3600]


def test_clock_step_is_a_small_value():
    before = pendulum.datetime(2024, 6, 3, 10, 30, tz=MARKET_TZ)
    step = ClockStep(before, before.subtract(hours=1))
    assert step.seconds == -3600 and step.backward
    assert ClockStep(before, before.add(seconds=5)).backward is False


_INSTANTS = st.datetimes(
    min_value=datetime.datetime(1992, 1, 1), max_value=datetime.datetime(2100, 1, 1)
).map(lambda naive: pendulum.instance(naive, tz="UTC"))
_ZONES = st.sampled_from([MARKET_TZ, pendulum.timezone("UTC")])
_DELTAS = st.timedeltas(
    min_value=datetime.timedelta(days=-3000), max_value=datetime.timedelta(days=3000)
)


@given(instant=_INSTANTS, zone=_ZONES, delta=_DELTAS)
def test_shift_is_pendulums_exact_addition(instant, zone, delta):
    # exact where the zone's offset is the same at both ends: market time after 1991's DST
    assume(instant + delta >= pendulum.datetime(1992, 1, 1, tz="UTC"))
    t = instant.in_tz(zone)
    moved = shift(t, delta)
    expected = t.add(microseconds=delta // datetime.timedelta(microseconds=1))
    assert moved == expected and moved.utcoffset() == expected.utcoffset()
    assert isinstance(moved, pendulum.DateTime) and moved.tzinfo is t.tzinfo


@given(a=_INSTANTS, b=_INSTANTS, za=_ZONES, zb=_ZONES)
def test_seconds_between_is_the_exact_difference(a, b, za, zb):
    start, end = a.in_tz(za), b.in_tz(zb)
    assert seconds_between(start, end) == (end - start).total_seconds()
