"""The event loop on a simulated clock: order, lateness, errors, stopping, days."""

from __future__ import annotations

import datetime
import logging
import signal
import threading
import time

import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jqtrade.calendar import TradingCalendar
from jqtrade.clock import MARKET_TZ, ClockStep, LiveClock, SimClock
from jqtrade.loop import EventLoop, IntervalRule, Job, StopLoop
from jqtrade.schedule import DEFAULT_MARKET_PERIOD, daily_rule, firings_on

CAL = TradingCalendar.builtin()
D = datetime.date


def at(day: datetime.date, hour: int = 0, minute: int = 0, second: int = 0) -> pendulum.DateTime:
    return pendulum.datetime(day.year, day.month, day.day, hour, minute, second, tz=MARKET_TZ)


def daily(expression: str):
    return daily_rule(CAL, expression, DEFAULT_MARKET_PERIOD)


class Recorder:
    """Collects (job name, slot, clock time when run)."""

    def __init__(self, clock: SimClock) -> None:
        self.clock = clock
        self.fired: list[tuple[str, pendulum.DateTime, pendulum.DateTime]] = []

    def job(self, name: str, rule, *, action=None, **kwargs) -> Job:
        def callback(slot: pendulum.DateTime) -> None:
            self.fired.append((name, slot, self.clock.now()))
            if action is not None:
                action(slot)

        return Job(name=name, rule=rule, callback=callback, **kwargs)

    def names(self) -> list[str]:
        return [name for name, _, _ in self.fired]

    def slots(self, name: str) -> list[pendulum.DateTime]:
        return [slot for n, slot, _ in self.fired if n == name]


def make(start: pendulum.DateTime, **kwargs) -> tuple[EventLoop, Recorder]:
    clock = SimClock(start)
    return EventLoop(clock, **kwargs), Recorder(clock)


def loop_warnings(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "jqtrade.loop" and r.levelno == logging.WARNING]


# --- order ---------------------------------------------------------------------------------


def test_jobs_fire_in_time_order_at_their_slots():
    loop, rec = make(at(D(2024, 6, 3)))
    for name, expr in (
        ("late", "14:50"),
        ("open", "open"),
        ("ten", "10:00"),
        ("early", "before_open"),
    ):
        loop.add_job(rec.job(name, daily(expr)))
    loop.run(until=at(D(2024, 6, 4), 23))
    assert rec.names() == ["early", "open", "ten", "late"] * 2
    for _, slot, ran in rec.fired:
        assert ran == slot  # nothing was busy, so nothing ran late
    assert rec.slots("early") == [at(D(2024, 6, 3), 9), at(D(2024, 6, 4), 9)]
    assert rec.slots("late") == [at(D(2024, 6, 3), 14, 50), at(D(2024, 6, 4), 14, 50)]


def test_same_instant_jobs_run_in_registration_order():
    loop, rec = make(at(D(2024, 6, 3)))
    for name in ("c", "a", "b"):
        loop.add_job(rec.job(name, daily("10:00")))
    loop.add_job(rec.job("open", daily("open")))
    loop.add_job(rec.job("0930", daily("09:30:00")))
    loop.run(until=at(D(2024, 6, 4), 23))
    assert rec.names() == ["open", "0930", "c", "a", "b"] * 2


def test_internal_jobs_run_before_user_jobs_at_the_same_instant():
    loop, rec = make(at(D(2024, 6, 3), 9, 45))
    loop.add_job(rec.job("user", daily("10:00")))
    sync = IntervalRule(
        1800, periods=((datetime.time(9, 30), datetime.time(11, 30)),), calendar=CAL
    )
    loop.add_job(rec.job("sync", sync, internal=True))
    loop.run(until=at(D(2024, 6, 3), 10, 45))
    assert rec.fired == [
        ("sync", at(D(2024, 6, 3), 10), at(D(2024, 6, 3), 10)),
        ("user", at(D(2024, 6, 3), 10), at(D(2024, 6, 3), 10)),
        ("sync", at(D(2024, 6, 3), 10, 30), at(D(2024, 6, 3), 10, 30)),
    ]


# --- errors --------------------------------------------------------------------------------


def _boom(slot):
    raise ZeroDivisionError("boom in user code")


def test_a_raising_job_is_logged_with_its_traceback_and_the_loop_goes_on(caplog):
    caplog.set_level(logging.INFO)
    loop, rec = make(at(D(2024, 6, 3)))
    loop.add_job(rec.job("bad_job", daily("10:00"), action=_boom))
    loop.add_job(rec.job("good", daily("10:00")))
    loop.run(until=at(D(2024, 6, 4), 23))
    assert rec.names() == ["bad_job", "good"] * 2
    assert loop.errors == 2
    assert loop.failed is None
    errors = [r for r in caplog.records if r.name == "jqtrade.loop" and r.levelno == logging.ERROR]
    assert len(errors) == 2
    assert "bad_job" in errors[0].getMessage()
    assert errors[0].exc_info is not None and errors[0].exc_info[0] is ZeroDivisionError
    assert "boom in user code" in caplog.text and "Traceback" in caplog.text


def test_stop_on_error_stops_the_loop_and_records_the_failure(caplog):
    loop, rec = make(at(D(2024, 6, 3)), stop_on_error=True)
    loop.add_job(rec.job("bad_job", daily("10:00"), action=_boom))
    loop.add_job(rec.job("after", daily("10:00")))
    loop.add_job(rec.job("later", daily("14:00")))
    loop.run(until=at(D(2024, 6, 5), 23))
    assert rec.names() == ["bad_job"]
    assert isinstance(loop.failed, ZeroDivisionError)
    assert loop.stop_reason == "callback_error"


def test_stop_on_error_ignores_internal_jobs(caplog):
    loop, rec = make(at(D(2024, 6, 3), 9, 59), stop_on_error=True)
    loop.add_job(rec.job("sync", IntervalRule(60), action=_boom, internal=True))
    loop.add_job(rec.job("user", daily("10:05")))
    loop.run(until=at(D(2024, 6, 3), 10, 5))
    assert loop.failed is None
    assert rec.slots("user") == [at(D(2024, 6, 3), 10, 5)]
    assert len(rec.slots("sync")) == 7  # 09:59 (the start instant) to 10:05


def test_stop_loop_raised_by_a_job_stops_after_it():
    loop, rec = make(at(D(2024, 6, 3)))

    def stop(slot):
        raise StopLoop("user_stop")

    loop.add_job(rec.job("stopper", daily("10:00"), action=stop))
    loop.add_job(rec.job("after", daily("10:00")))
    loop.run(until=at(D(2024, 6, 5), 23))
    assert rec.names() == ["stopper"]
    assert loop.stop_reason == "user_stop"
    assert loop.failed is None


class Hooks:
    """Hooks the account would call from inside a job (on_order_update, on_trade, ...)."""

    def __init__(self, loop: EventLoop) -> None:
        self.loop = loop
        self.seen: list[str] = []

    def fire(self, name: str, func) -> None:
        self.loop.call_user(name, func, name)

    def ok(self, name: str) -> None:
        self.seen.append(name)

    def bad(self, name: str) -> None:
        self.seen.append(name)
        raise KeyError(f"boom in {name}")


def test_a_raising_hook_gets_the_jobs_error_policy_log_and_go_on(caplog):
    caplog.set_level(logging.INFO)
    loop, rec = make(at(D(2024, 6, 3)))
    hooks = Hooks(loop)

    def sync(slot):
        hooks.fire("on_order_update", hooks.bad)
        hooks.fire("on_trade", hooks.ok)  # the next hook still runs

    loop.add_job(rec.job("sync", daily("10:00"), action=sync, internal=True))
    loop.add_job(rec.job("user", daily("10:00")))
    loop.run(until=at(D(2024, 6, 3), 23))
    assert hooks.seen == ["on_order_update", "on_trade"] and rec.names() == ["sync", "user"]
    assert loop.errors == 1 and loop.failed is None and loop.stop_reason is None
    [error] = [r for r in caplog.records if r.name == "jqtrade.loop" and r.levelno == logging.ERROR]
    assert "on_order_update" in error.getMessage()
    assert error.exc_info is not None and error.exc_info[0] is KeyError


def test_a_raising_hook_stops_the_loop_under_stop_on_error_even_inside_an_internal_job():
    loop, rec = make(at(D(2024, 6, 3)), stop_on_error=True)
    hooks = Hooks(loop)

    def sync(slot):
        hooks.fire("on_order_update", hooks.bad)
        hooks.fire("on_trade", lambda name: hooks.bad("second"))

    loop.add_job(rec.job("sync", daily("10:00"), action=sync, internal=True))
    loop.add_job(rec.job("user", daily("10:00")))
    loop.run(until=at(D(2024, 6, 5), 23))
    assert rec.names() == ["sync"]  # the user job due at the same instant never ran
    assert isinstance(loop.failed, KeyError) and "on_order_update" in str(
        loop.failed
    )  # the first error
    assert loop.stop_reason == "callback_error" and loop.errors == 2


def test_stop_loop_raised_by_a_hook_stops_without_an_error():
    loop, rec = make(at(D(2024, 6, 3)), stop_on_error=True)

    def stop(name):
        raise StopLoop("hook_stop")

    loop.add_job(
        rec.job(
            "job", daily("10:00"), action=lambda slot: loop.call_user("on_trade", stop, "on_trade")
        )
    )
    loop.add_job(rec.job("later", daily("14:00")))
    loop.run(until=at(D(2024, 6, 5), 23))
    assert rec.names() == ["job"]
    assert loop.stop_reason == "hook_stop" and loop.failed is None and loop.errors == 0


def test_a_raising_watcher_is_logged_and_the_loop_goes_on(caplog):
    loop, rec = make(at(D(2024, 6, 3)))
    calls = []

    def watcher():
        calls.append(1)
        raise RuntimeError("watcher broke")

    loop.add_watcher(watcher)
    loop.add_job(rec.job("ten", daily("10:00")))
    loop.run(until=at(D(2024, 6, 4), 23))
    assert rec.names() == ["ten", "ten"]
    assert calls
    assert "watcher broke" in caplog.text


def test_on_a_simulated_clock_watchers_run_at_most_every_50_ms_of_wall_time():
    wall = [0.0]
    loop, rec = make(at(D(2024, 6, 3)), wall=lambda: wall[0])
    seen: list[float] = []
    loop.add_watcher(lambda: seen.append(wall[0]))

    def tick(slot: pendulum.DateTime) -> None:
        wall[0] += 0.02  # each firing takes 20 ms of wall time

    loop.add_job(rec.job("minute", IntervalRule(60), action=tick))
    loop.run(until=at(D(2024, 6, 3), 1))  # 00:00 to 01:00: 61 firings, 1.22 s of wall time
    assert len(rec.fired) == 61
    assert seen[0] == 0.0  # the first wake-up is watched
    assert all(later - earlier >= 0.05 for earlier, later in zip(seen, seen[1:]))
    assert 20 <= len(seen) <= 25  # every third firing or so, not every one


# --- lateness and grace --------------------------------------------------------------------


def _slow(clock: SimClock, seconds: float):
    return lambda slot: clock.advance(seconds)


def test_a_job_late_within_the_grace_runs_late():
    day = D(2024, 6, 3)
    loop, rec = make(at(day), grace=60)
    loop.add_job(rec.job("slow", daily("10:00"), action=_slow(loop.clock, 30)))
    loop.add_job(rec.job("next", daily("10:00:10")))
    loop.run(until=at(day, 23))
    assert rec.fired[1] == ("next", at(day, 10, 0, 10), at(day, 10, 0, 30))


def test_a_job_late_beyond_the_grace_is_skipped_with_one_warning(caplog):
    day = D(2024, 6, 3)
    loop, rec = make(at(day), grace=60)
    slow = _slow(loop.clock, 120)
    loop.add_job(
        rec.job(
            "slow", daily("10:00"), action=lambda slot: slow(slot) if slot.date() == day else None
        )
    )
    missed = loop.add_job(rec.job("missed_job", daily("10:00:10")))
    loop.run(until=at(D(2024, 6, 4), 23))
    assert rec.slots("missed_job") == [at(D(2024, 6, 4), 10, 0, 10)]  # runs again the next day
    assert missed.skipped == 1
    warnings = loop_warnings(caplog)
    assert len(warnings) == 1
    text = warnings[0].getMessage()
    assert "missed_job" in text and "2024-06-03 10:00:10" in text


def test_many_skipped_slots_give_one_warning_with_a_count(caplog):
    day = D(2024, 6, 3)
    loop, rec = make(at(day), grace=60)
    loop.add_job(rec.job("slow", daily("10:00"), action=_slow(loop.clock, 600)))
    minute = loop.add_job(rec.job("minutely", daily("every_minute")))
    loop.run(until=at(day, 23))
    slots = rec.slots("minutely")
    expected = [
        s for s in firings_on(daily("every_minute"), day) if not at(day, 10) <= s <= at(day, 10, 8)
    ]
    assert slots == expected
    assert minute.skipped == 9
    warnings = loop_warnings(caplog)
    assert len(warnings) == 1
    assert "minutely" in warnings[0].getMessage() and "共 9 次" in warnings[0].getMessage()
    # 10:09 was exactly at the edge of the grace: it ran, late, at 10:10.
    late = [(slot, ran) for name, slot, ran in rec.fired if name == "minutely" and ran != slot]
    assert late == [(at(day, 10, 9), at(day, 10, 10))]


def test_per_job_grace_overrides_the_loop_grace(caplog):
    day = D(2024, 6, 3)
    loop, rec = make(at(day), grace=60)
    loop.add_job(rec.job("slow", daily("10:00"), action=_slow(loop.clock, 2)))
    loop.add_job(rec.job("strict", daily("10:00:01"), grace=0))
    loop.add_job(rec.job("relaxed", daily("10:00:01")))
    loop.run(until=at(day, 23))
    assert rec.slots("strict") == []
    assert rec.slots("relaxed") == [at(day, 10, 0, 1)]


class SteppingClock(SimClock):
    """A clock whose wall time can be stepped back, as after an NTP correction."""

    def step_to(self, when: pendulum.DateTime) -> None:
        self._now = when


def test_no_slot_runs_twice_even_if_the_clock_steps_back():
    clock = SteppingClock(at(D(2024, 6, 3)))
    loop = EventLoop(clock)
    rec = Recorder(clock)
    loop.add_job(
        rec.job("ten", daily("10:00"), action=lambda slot: clock.step_to(slot.subtract(hours=1)))
    )
    loop.add_job(rec.job("ten_thirty", daily("10:30")))
    loop.run(until=at(D(2024, 6, 5), 23))
    assert rec.slots("ten") == [at(D(2024, 6, d), 10) for d in (3, 4, 5)]
    assert rec.slots("ten_thirty") == [at(D(2024, 6, d), 10, 30) for d in (3, 4, 5)]
    pairs = [(name, slot) for name, slot, _ in rec.fired]
    assert len(pairs) == len(set(pairs))


# --- internal jobs never build a backlog ---------------------------------------------------

SYNC_WINDOW = ((datetime.time(9, 30), datetime.time(15, 0)),)


def sync_job(rec: Recorder, name: str, seconds: float, *, takes=None) -> Job:
    """A job shaped like the runtime's broker sync; ``takes(slot)`` is how long a run lasts."""
    clock = rec.clock

    def run(slot):
        if takes is not None:
            clock.advance(takes(slot))

    return rec.job(
        name, IntervalRule(seconds, SYNC_WINDOW, CAL), action=run, internal=True, grace=1e9
    )


class Shifted:
    """``rule`` moved later by ``seconds`` (e.g. every minute at second 7)."""

    def __init__(self, rule, seconds: float) -> None:
        self.rule, self.shift = rule, pendulum.duration(seconds=seconds)

    def next_after(self, t):
        return self.rule.next_after(t - self.shift) + self.shift


def test_a_slow_sync_runs_once_for_all_the_slots_it_missed():
    day = D(2024, 6, 3)
    loop, rec = make(at(day, 10))
    sync = loop.add_job(
        sync_job(rec, "sync", 5, takes=lambda slot: 12 if slot == at(day, 10) else 0)
    )
    loop.run(until=at(day, 10, 0, 30))
    assert [(slot, ran) for _, slot, ran in rec.fired] == [
        (at(day, 10), at(day, 10)),
        (at(day, 10, 0, 10), at(day, 10, 0, 12)),  # one run for 10:00:05 and 10:00:10
        (at(day, 10, 0, 15), at(day, 10, 0, 15)),
        (at(day, 10, 0, 20), at(day, 10, 0, 20)),
        (at(day, 10, 0, 25), at(day, 10, 0, 25)),
        (at(day, 10, 0, 30), at(day, 10, 0, 30)),
    ]
    assert sync.fired == 6
    assert sync.coalesced == 1


def test_a_sync_slower_than_its_interval_never_falls_behind():
    day = D(2024, 6, 3)
    loop, rec = make(at(day, 10))
    loop.add_job(sync_job(rec, "sync", 5, takes=lambda slot: 12))
    loop.run(until=at(day, 11))
    lags = [(ran - slot).total_seconds() for _, slot, ran in rec.fired]
    assert len(lags) <= 3600 // 12 + 1  # back to back at most, never a queue of old slots
    assert max(lags) < 5  # every run is for the latest slot that was due when it started
    slots = rec.slots("sync")
    assert slots == sorted(set(slots))


def test_a_user_job_due_during_a_long_sync_runs_right_after_it_before_more_syncs():
    day = D(2024, 6, 3)
    loop, rec = make(at(day, 10), grace=60)
    loop.add_job(sync_job(rec, "orders", 5, takes=lambda slot: 12 if slot == at(day, 10) else 0))
    loop.add_job(sync_job(rec, "balance", 30))
    loop.add_job(rec.job("user", daily("10:00:07")))
    loop.run(until=at(day, 10, 0, 20))
    assert rec.fired == [
        ("orders", at(day, 10), at(day, 10)),
        ("user", at(day, 10, 0, 7), at(day, 10, 0, 12)),  # right after the sync it waited for
        ("balance", at(day, 10), at(day, 10, 0, 12)),
        ("orders", at(day, 10, 0, 10), at(day, 10, 0, 12)),
        ("orders", at(day, 10, 0, 15), at(day, 10, 0, 15)),
        ("orders", at(day, 10, 0, 20), at(day, 10, 0, 20)),
    ]


def test_a_user_job_delayed_by_a_sync_keeps_its_own_grace(caplog):
    day = D(2024, 6, 3)
    loop, rec = make(at(day, 10), grace=60)
    loop.add_job(sync_job(rec, "orders", 5, takes=lambda slot: 12 if slot == at(day, 10) else 0))
    strict = loop.add_job(rec.job("strict", daily("10:00:07"), grace=4))  # 5 s late at 10:00:12
    loop.add_job(rec.job("relaxed", daily("10:00:07")))
    loop.run(until=at(day, 10, 0, 20))
    assert rec.slots("strict") == []
    assert strict.skipped == 1
    assert rec.slots("relaxed") == [at(day, 10, 0, 7)]
    assert len(loop_warnings(caplog)) == 1


def test_user_callbacks_wait_at_most_for_the_one_sync_that_was_running():
    day = D(2024, 6, 3)
    loop, rec = make(at(day), grace=60)
    loop.add_job(sync_job(rec, "orders", 5, takes=lambda slot: 12))
    loop.add_job(sync_job(rec, "balance", 30, takes=lambda slot: 3))
    user = loop.add_job(rec.job("user", Shifted(daily("every_minute"), 7)))
    loop.run(until=at(day, 23))
    assert user.skipped == 0
    assert len(rec.slots("user")) == 242
    for index, (name, slot, ran) in enumerate(rec.fired):
        if name != "user":
            continue
        assert (ran - slot).total_seconds() <= 12
        # No internal run started after the user's slot and before the user's run.
        assert not [n for n, _, r in rec.fired[:index] if n != "user" and r >= slot]


@settings(max_examples=40, deadline=None)
@given(
    seconds=st.sampled_from([0.2, 5.0, 7.0, 60.0]),
    start_offset=st.integers(0, 5 * 3600),
    late_ms=st.integers(0, 2 * 86_400 * 1000),
)
def test_a_late_internal_job_runs_for_exactly_the_latest_slot_that_passed(
    seconds, start_offset, late_ms
):
    late_ms = min(late_ms, int(seconds * 1000) * 500)  # keep the brute-force check below small
    rule = IntervalRule(seconds, SYNC_WINDOW, CAL)
    start = rule.next_after(at(D(2024, 9, 26), 9, 30).add(seconds=start_offset))
    clock = SimClock(start)
    loop = EventLoop(clock)
    runs: list[tuple[pendulum.DateTime, pendulum.DateTime]] = []
    landed = []

    def run(slot):
        runs.append((slot, clock.now()))
        if len(runs) == 1:
            clock.advance(late_ms / 1000)
            landed.append(clock.now())
        elif len(runs) == 2:
            loop.request_stop("seen")

    loop.add_job(Job(name="sync", rule=rule, callback=run, internal=True, grace=1e9))
    loop.run(until=start.add(days=10))
    (first, _), (second, ran) = runs
    latest, nxt = first, rule.next_after(first)
    while nxt <= landed[0]:
        latest, nxt = nxt, rule.next_after(nxt)
    assert second == (latest if latest > first else nxt)
    assert ran == max(second, landed[0])


# --- wall-clock steps ----------------------------------------------------------------------


class JumpingClock(SimClock):
    """A simulated clock whose wall time can jump either way, reported like the live clock does."""

    def __init__(self, start: pendulum.DateTime) -> None:
        super().__init__(start)
        self._steps: list[ClockStep] = []

    def jump(self, seconds: float) -> None:
        before = self._now
        self._now = before.add(microseconds=int(seconds * 1_000_000))
        self._steps.append(ClockStep(before, self._now))

    def take_steps(self) -> list[ClockStep]:
        steps, self._steps = self._steps, []
        return steps


def test_a_backward_clock_step_replans_the_jobs_from_the_new_time(caplog):
    day = D(2024, 6, 3)
    clock = JumpingClock(at(day, 10, 29, 50))
    loop, rec = EventLoop(clock), Recorder(clock)
    jumped = []

    def step_back(slot):
        if slot == at(day, 10, 30) and not jumped:
            jumped.append(slot)
            clock.jump(-3598)  # to 09:30:02

    loop.add_job(
        rec.job(
            "sync", IntervalRule(5, SYNC_WINDOW, CAL), action=step_back, internal=True, grace=1e9
        )
    )
    loop.add_job(rec.job("user", daily("every_minute")))
    loop.run(until=at(day, 10, 31))
    after = rec.fired[rec.fired.index(("sync", at(day, 10, 30), at(day, 10, 30))) + 1 :]
    assert after[:3] == [
        ("sync", at(day, 9, 30, 5), at(day, 9, 30, 5)),  # not 10:30:05, an hour away
        ("sync", at(day, 9, 30, 10), at(day, 9, 30, 10)),
        ("sync", at(day, 9, 30, 15), at(day, 9, 30, 15)),
    ]
    # the user job never runs a slot twice (it may place orders): it goes on after 10:29
    user_after = [slot for name, slot, _ in after if name == "user"]
    assert user_after[:2] == [at(day, 10, 30), at(day, 10, 31)]
    users = [slot for name, slot, _ in rec.fired if name == "user"]
    assert len(users) == len(set(users))
    assert all(slot == ran for _, slot, ran in after)
    warnings = loop_warnings(caplog)
    assert len(warnings) == 1
    text = warnings[0].getMessage()
    assert (
        "向后跳了 3598 秒" in text
        and "2024-06-03 10:30:00" in text
        and "2024-06-03 09:30:02" in text
    )


def test_a_forward_clock_step_keeps_the_grace_rules_and_is_logged_once(caplog):
    day = D(2024, 6, 3)
    clock = JumpingClock(at(day, 10, 29, 50))
    loop, rec = EventLoop(clock, grace=60), Recorder(clock)
    jumped = []

    def step_forward(slot):
        if slot == at(day, 10, 30) and not jumped:
            jumped.append(slot)
            clock.jump(1800)  # to 11:00:00, as after a laptop slept

    sync = loop.add_job(
        rec.job(
            "sync", IntervalRule(5, SYNC_WINDOW, CAL), action=step_forward, internal=True, grace=1e9
        )
    )
    user = loop.add_job(rec.job("user", daily("every_minute")))
    loop.run(until=at(day, 11, 0, 10))
    assert rec.fired[:3] == [
        ("sync", at(day, 10, 29, 50), at(day, 10, 29, 50)),
        ("sync", at(day, 10, 29, 55), at(day, 10, 29, 55)),
        ("sync", at(day, 10, 30), at(day, 10, 30)),  # jumps to 11:00 inside this run
    ]
    assert rec.fired[3:] == [
        ("user", at(day, 10, 59), at(day, 11)),  # at the edge of the grace: runs late
        ("sync", at(day, 11), at(day, 11)),  # one run for the half hour of sync slots
        ("user", at(day, 11), at(day, 11)),
        ("sync", at(day, 11, 0, 5), at(day, 11, 0, 5)),
        ("sync", at(day, 11, 0, 10), at(day, 11, 0, 10)),
    ]
    assert user.skipped == 29  # 10:30 to 10:58, beyond the 60 s grace
    assert sync.coalesced == 1
    texts = [r.getMessage() for r in loop_warnings(caplog)]
    assert len(texts) == 2
    assert "向前跳了 1800 秒" in texts[0]
    assert "user" in texts[1] and "共 29 次" in texts[1]


# --- start time, days, stopping ------------------------------------------------------------


def test_a_loop_started_at_ten_does_not_run_the_0930_job_that_day():
    loop, rec = make(at(D(2024, 6, 3), 10))
    loop.add_job(rec.job("open", daily("09:30")))
    loop.add_job(rec.job("afternoon", daily("14:00")))
    loop.run(until=at(D(2024, 6, 4), 23))
    assert rec.slots("open") == [at(D(2024, 6, 4), 9, 30)]
    assert rec.slots("afternoon") == [at(D(2024, 6, 3), 14), at(D(2024, 6, 4), 14)]


def test_a_job_due_exactly_at_the_start_instant_runs():
    loop, rec = make(at(D(2024, 6, 3), 9, 30))
    loop.add_job(rec.job("open", daily("open")))
    loop.run(until=at(D(2024, 6, 3), 23))
    assert rec.slots("open") == [at(D(2024, 6, 3), 9, 30)]


def test_runs_across_days_and_fires_nothing_on_closed_days():
    loop, rec = make(at(D(2024, 9, 26), 16))
    loop.add_job(rec.job("open", daily("open")))
    loop.add_job(rec.job("close", daily("close")))
    loop.run(until=at(D(2024, 10, 14), 23, 59, 59))
    trading = [
        D(2024, 9, 27),
        D(2024, 9, 30),
        D(2024, 10, 8),
        D(2024, 10, 9),
        D(2024, 10, 10),
        D(2024, 10, 11),
        D(2024, 10, 14),
    ]
    assert rec.slots("open") == [at(d, 9, 30) for d in trading]
    assert rec.slots("close") == [at(d, 15) for d in trading]
    fired_days = {slot.date() for _, slot, _ in rec.fired}
    # Weekend, the National Day week, and the make-up working Saturday 2024-10-12.
    for closed in (D(2024, 9, 28), D(2024, 9, 29), D(2024, 10, 12), D(2024, 10, 13)) + tuple(
        D(2024, 10, d) for d in range(1, 8)
    ):
        assert closed not in fired_days


def test_request_stop_from_a_callback_stops_after_it():
    day = D(2024, 6, 3)
    loop, rec = make(at(day))
    loop.add_job(rec.job("first", daily("10:00"), action=lambda slot: loop.request_stop("bye")))
    loop.add_job(rec.job("same_instant", daily("10:00")))
    loop.add_job(rec.job("later", daily("11:00")))
    loop.run(until=at(D(2024, 6, 5), 23))
    assert rec.names() == ["first"]
    assert loop.stop_reason == "bye"
    assert loop.clock.now() == at(day, 10)


def test_first_stop_reason_wins():
    loop, _ = make(at(D(2024, 6, 3)))
    loop.request_stop("SIGTERM")
    loop.request_stop("SIGINT")
    assert loop.stop_reason == "SIGTERM"


def test_until_ends_the_simulation_at_that_instant():
    day = D(2024, 6, 3)
    loop, rec = make(at(day))
    loop.add_job(rec.job("a", daily("14:50")))
    loop.add_job(rec.job("b", daily("14:51")))
    loop.run(until=at(day, 14, 50))
    assert rec.names() == ["a"]  # a slot exactly at `until` still fires
    assert loop.clock.now() == at(day, 14, 50)
    assert loop.stop_reason is None


def test_until_moves_the_clock_even_without_jobs():
    loop, _ = make(at(D(2024, 6, 3)))
    loop.run(until=at(D(2024, 6, 3), 23))
    assert loop.clock.now() == at(D(2024, 6, 3), 23)


def test_a_job_added_while_running_starts_from_now():
    day = D(2024, 6, 3)
    loop, rec = make(at(day))

    def add_more(slot):
        loop.add_job(rec.job("added_1030", daily("10:30")))
        loop.add_job(rec.job("added_0930", daily("09:30")))

    loop.add_job(
        rec.job(
            "adder",
            daily("10:00"),
            action=lambda slot: add_more(slot) if slot.date() == day else None,
        )
    )
    loop.run(until=at(D(2024, 6, 4), 12))
    assert rec.slots("added_1030") == [at(day, 10, 30), at(D(2024, 6, 4), 10, 30)]
    assert rec.slots("added_0930") == [at(D(2024, 6, 4), 9, 30)]


def test_job_bookkeeping():
    day = D(2024, 6, 3)
    loop, rec = make(at(day))
    job = loop.add_job(rec.job("ten", daily("10:00")))
    assert loop.jobs == [job]
    loop.run(until=at(D(2024, 6, 4), 12))
    assert job.fired == 2
    assert job.last_fire == at(D(2024, 6, 4), 10)
    assert job.next_fire == at(D(2024, 6, 5), 10)
    assert loop.next_user_job() is job


def test_next_user_job_ignores_internal_jobs():
    day = D(2024, 6, 3)
    loop, rec = make(at(day, 9, 59))
    user = loop.add_job(rec.job("user", daily("10:30")))
    loop.add_job(rec.job("sync", IntervalRule(60), internal=True))
    loop.run(until=at(day, 10, 5))
    assert loop.next_user_job() is user


# --- IntervalRule --------------------------------------------------------------------------


def test_interval_rule_is_aligned_and_strictly_after():
    rule = IntervalRule(5)
    t = at(D(2024, 6, 3), 10, 0, 2)
    assert rule.next_after(t) == at(D(2024, 6, 3), 10, 0, 5)
    assert rule.next_after(at(D(2024, 6, 3), 10, 0, 5)) == at(D(2024, 6, 3), 10, 0, 10)
    assert rule.next_after(t).timezone_name == "Asia/Shanghai"


def test_interval_rule_inside_periods_and_trading_days():
    periods = DEFAULT_MARKET_PERIOD
    rule = IntervalRule(60, periods=periods, calendar=CAL)
    assert rule.next_after(at(D(2024, 6, 3), 11, 30, 1)) == at(D(2024, 6, 3), 13)
    assert rule.next_after(at(D(2024, 6, 3), 11, 29, 30)) == at(D(2024, 6, 3), 11, 30)
    assert rule.next_after(at(D(2024, 6, 3), 8)) == at(D(2024, 6, 3), 9, 30)
    # Friday after the close -> Tuesday's open (Monday 2024-06-10 is the Dragon Boat holiday);
    # the National Day week is skipped entirely.
    assert rule.next_after(at(D(2024, 5, 31), 15, 0, 1)) == at(D(2024, 6, 3), 9, 30)
    assert rule.next_after(at(D(2024, 6, 7), 15, 0, 1)) == at(D(2024, 6, 11), 9, 30)
    assert rule.next_after(at(D(2024, 9, 30), 15, 0, 1)) == at(D(2024, 10, 8), 9, 30)


@settings(max_examples=200, deadline=None)
@given(
    step_us=st.one_of(
        st.sampled_from([50_000, 100_000, 200_000, 500_000, 5_000_000, 1_800_000_000]),
        st.integers(1, 10**8),
    ),
    offset_us=st.integers(0, 400 * 86_400 * 10**6),
)
def test_interval_rule_is_strictly_after_aligned_and_at_most_one_step_away(step_us, offset_us):
    """Regression: float division once returned ``t`` itself for steps like 0.2 s."""
    rule = IntervalRule(step_us / 1e6)
    t = at(D(2024, 1, 1)).add(microseconds=offset_us)
    nxt = rule.next_after(t)
    assert t < nxt <= t.add(microseconds=step_us)
    assert (nxt.int_timestamp * 10**6 + nxt.microsecond) % step_us == 0
    assert nxt.timezone_name == "Asia/Shanghai"


@settings(max_examples=150, deadline=None)
@given(step_ms=st.sampled_from([200, 500, 5000, 60_000]), offset_s=st.integers(0, 60 * 86_400))
def test_interval_rule_with_periods_lands_inside_a_period_of_a_trading_day(step_ms, offset_s):
    rule = IntervalRule(step_ms / 1000, periods=DEFAULT_MARKET_PERIOD, calendar=CAL)
    t = at(D(2024, 9, 1)).add(seconds=offset_s)
    nxt = rule.next_after(t)
    assert nxt > t
    assert CAL.is_trading_day(nxt.date())
    assert any(start <= nxt.time() <= end for start, end in DEFAULT_MARKET_PERIOD)


def test_interval_rule_without_calendar_runs_every_day():
    rule = IntervalRule(3600, periods=((datetime.time(9), datetime.time(10)),))
    assert rule.next_after(at(D(2024, 6, 8), 10, 0, 1)) == at(
        D(2024, 6, 9), 9
    )  # Saturday -> Sunday


def test_every_minute_fires_242_times_a_day_on_time():
    day = D(2024, 6, 3)
    loop, rec = make(at(day))
    loop.add_job(rec.job("m", daily("every_minute")))
    loop.run(until=at(day, 23))
    assert len(rec.fired) == 242
    assert all(slot == ran for _, slot, ran in rec.fired)


# --- property: the loop fires exactly what the rules say -----------------------------------

clock_times = st.builds(
    lambda h, m, s: f"{h:02d}:{m:02d}:{s:02d}",
    st.integers(0, 23),
    st.integers(0, 59),
    st.sampled_from([0, 0, 30, 59]),
)
expressions = st.one_of(
    st.sampled_from(
        ["open", "close", "before_open", "after_close", "open+1h", "close-5m", "10:00", "13:00:00"]
    ),
    clock_times,
)


@settings(max_examples=100, deadline=None)
@given(
    exprs=st.lists(expressions, min_size=1, max_size=6),
    start_offset=st.integers(0, 20 * 86_400),
    days=st.integers(1, 6),
)
def test_loop_fires_the_union_of_the_rules_in_order(exprs, start_offset, days):
    start = at(D(2024, 9, 20)).add(seconds=start_offset)
    until = start.add(days=days)
    clock = SimClock(start)
    loop = EventLoop(clock)
    fired: list[tuple[pendulum.DateTime, int]] = []
    rules = [daily(e) for e in exprs]
    for index, rule in enumerate(rules):

        def callback(slot, index=index):
            assert clock.now() == slot
            fired.append((slot, index))

        loop.add_job(Job(name=f"job{index}", rule=rule, callback=callback))
    loop.run(until=until)

    expected = []
    day = start.date()
    while day <= until.date():
        for index, rule in enumerate(rules):
            expected.extend(
                (slot, index) for slot in firings_on(rule, day) if start <= slot <= until
            )
        day += datetime.timedelta(days=1)
    expected.sort(key=lambda pair: (pair[0], pair[1]))
    assert fired == expected
    assert all(CAL.is_trading_day(slot.date()) for slot, _ in fired)


@pytest.mark.parametrize("grace", [0.0, 0.5, 60.0])
def test_skip_bookkeeping_never_loses_or_duplicates_slots(grace, caplog):
    """Every slot of a minutely job is either run once or counted as skipped once."""
    day = D(2024, 6, 3)
    loop, rec = make(at(day), grace=grace)
    loop.add_job(rec.job("slow", daily("10:00"), action=_slow(loop.clock, 61.5)))
    loop.add_job(rec.job("slow2", daily("14:00"), action=_slow(loop.clock, 1800)))
    minute = loop.add_job(rec.job("m", daily("every_minute")))
    loop.run(until=at(day, 23))
    slots = rec.slots("m")
    assert len(slots) == len(set(slots))
    assert len(slots) + minute.skipped == 242


@settings(max_examples=150, deadline=None)
@given(
    grace=st.one_of(st.floats(0, 0.01, allow_nan=False), st.just(0.00021799999999999999)),
    late_us=st.integers(0, 12_000),
)
def test_a_slot_at_the_edge_of_the_grace_either_runs_or_is_skipped(grace, late_us):
    """Regression: a grace whose float product rounds up once crashed the skip warning."""
    day = D(2024, 6, 3)
    loop, rec = make(at(day), grace=grace)
    loop.add_job(
        rec.job("slow", daily("10:00"), action=lambda slot: loop.clock.advance(late_us / 1e6))
    )
    target = loop.add_job(rec.job("target", daily("10:00")))
    loop.run(until=at(day, 23))
    assert len(rec.slots("target")) + target.skipped == 1
    if late_us == 0:
        assert target.skipped == 0


# --- the live clock and signals ------------------------------------------------------------


def test_live_loop_fires_in_order_and_stops_when_asked_from_another_thread():
    clock = LiveClock()
    loop = EventLoop(clock)
    fired: list[pendulum.DateTime] = []
    loop.add_job(Job(name="tick", rule=IntervalRule(0.05), callback=fired.append))
    loop.add_job(Job(name="far", rule=daily("before_open"), callback=fired.append))
    timer = threading.Timer(0.4, loop.request_stop, args=("test",))
    started = time.monotonic()
    timer.start()
    try:
        loop.run()
    finally:
        timer.cancel()
    assert loop.stop_reason == "test"
    assert time.monotonic() - started < 10
    assert fired and all(b > a for a, b in zip(fired, fired[1:]))
    assert all(slot.timezone_name == "Asia/Shanghai" for slot in fired)


class OffsetTime:
    """A wall clock for LiveClock: the real time, moved by ``jump`` seconds once ``after`` has passed."""

    def __init__(self, jump: float, after: float) -> None:
        self.jump, self.at = jump, time.monotonic() + after
        self.jumped = False

    def __call__(self) -> float:
        if not self.jumped and time.monotonic() >= self.at:
            self.jumped = True
        return time.time() + (self.jump if self.jumped else 0.0)


def test_a_live_loop_carries_on_in_the_new_time_after_the_wall_clock_steps_back(caplog):
    source = OffsetTime(-3600, after=0.15)
    clock = LiveClock(max_slice=0.05, time_source=source)
    loop = EventLoop(clock)
    start = clock.now()
    syncs: list[pendulum.DateTime] = []
    ticks: list[pendulum.DateTime] = []

    def tick(slot):
        ticks.append(slot)

    def sync(slot):
        syncs.append(slot)
        if sum(1 for t in syncs if t < start) >= 3:
            loop.request_stop("done")

    loop.add_job(Job(name="sync", rule=IntervalRule(0.05), callback=sync, internal=True, grace=1e9))
    loop.add_job(Job(name="tick", rule=IntervalRule(0.1), callback=tick))
    watchdog = threading.Timer(20, loop.request_stop, args=("watchdog",))
    watchdog.start()
    try:
        loop.run()
    finally:
        watchdog.cancel()
    assert loop.stop_reason == "done"  # not an hour of silence cut short by the watchdog
    assert source.jumped
    stepped = [slot for slot in syncs if slot < start]
    assert stepped and all(b > a for a, b in zip(stepped, stepped[1:]))
    assert all(slot < start.subtract(seconds=3500) for slot in stepped)
    assert ticks == sorted(set(ticks))  # no user slot ran twice
    warnings = [r.getMessage() for r in loop_warnings(caplog)]
    assert len(warnings) == 1 and "向后跳了 3600 秒" in warnings[0]


needs_itimer = pytest.mark.skipif(
    not hasattr(signal, "setitimer"), reason="needs SIGALRM / setitimer (POSIX)"
)


@needs_itimer
def test_a_signal_stops_a_live_loop_that_waits_for_a_far_job():
    loop = EventLoop(LiveClock())
    loop.add_job(Job(name="far", rule=IntervalRule(3600), callback=lambda slot: None))
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: loop.request_stop("SIGALRM"))
    started = time.monotonic()
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.1)
        loop.run()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert loop.stop_reason == "SIGALRM"
    assert time.monotonic() - started < 10


@needs_itimer
def test_a_signal_during_a_callback_lets_it_finish_then_stops():
    day = D(2024, 6, 3)
    loop, rec = make(at(day))
    finished = []

    def busy(slot):
        time.sleep(0.3)  # the signal arrives meanwhile
        finished.append(slot)

    loop.add_job(rec.job("busy", daily("10:00"), action=busy))
    loop.add_job(rec.job("same_instant", daily("10:00")))
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: loop.request_stop("SIGALRM"))
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        loop.run(until=at(D(2024, 6, 5), 23))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert finished == [at(day, 10)]
    assert rec.names() == ["busy"]
    assert loop.stop_reason == "SIGALRM"
