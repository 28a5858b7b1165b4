"""Foundation benchmarks (issue 2): live-clock lateness, a simulated every_minute day, import cost.

Run: python bench/bench_foundation.py [--firings 200]
Prints a table of figures with their targets; nothing here asserts (figures, not tests).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

import pendulum


def live_lateness(firings: int, interval: float) -> list[float]:
    from jqtrade.clock import LiveClock
    from jqtrade.loop import EventLoop, IntervalRule, Job

    clock = LiveClock()
    loop = EventLoop(clock)
    late: list[float] = []

    def fire(slot: pendulum.DateTime) -> None:
        late.append((time.time() - slot.timestamp()) * 1000)
        if len(late) >= firings:
            loop.request_stop("done")

    loop.add_job(Job(name="bench", rule=IntervalRule(interval), callback=fire))
    loop.run()
    return late


def simulated_day() -> tuple[float, int]:
    from jqtrade.calendar import TradingCalendar
    from jqtrade.clock import MARKET_TZ, SimClock
    from jqtrade.loop import EventLoop, Job
    from jqtrade.schedule import DEFAULT_MARKET_PERIOD, daily_rule

    calendar = TradingCalendar.builtin()
    clock = SimClock(pendulum.datetime(2024, 6, 3, tz=MARKET_TZ))
    loop = EventLoop(clock)
    count = [0]
    loop.add_job(
        Job(
            name="tick",
            rule=daily_rule(calendar, "every_minute", DEFAULT_MARKET_PERIOD),
            callback=lambda slot: count.__setitem__(0, count[0] + 1),
        )
    )
    start = time.perf_counter()
    loop.run(until=pendulum.datetime(2024, 6, 3, 23, 59, 59, tz=MARKET_TZ))
    return time.perf_counter() - start, count[0]


def import_cost(repeats: int = 7) -> tuple[float, float]:
    code = (
        "import time,sys; t=time.perf_counter(); import jqtrade; d=time.perf_counter()-t; "
        "import psutil; print(d, psutil.Process().memory_info().rss)"
    )
    times, rss = [], []
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.split()
        times.append(float(out[0]) * 1000)
        rss.append(int(out[1]) / 2**20)
    return statistics.median(times), statistics.median(rss)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--firings", type=int, default=200)
    parser.add_argument("--interval", type=float, default=0.05)
    args = parser.parse_args()

    late = sorted(live_lateness(args.firings, args.interval))
    p50, p99, worst = late[len(late) // 2], late[int(len(late) * 0.99) - 1], late[-1]
    day_s, day_n = simulated_day()
    imp_ms, rss_mb = import_cost()
    rows = [
        (f"live clock lateness p50 ({len(late)} firings)", f"{p50:.3f} ms", ""),
        ("live clock lateness p99", f"{p99:.3f} ms", "<= 1 ms"),
        ("live clock lateness max", f"{worst:.3f} ms", ""),
        (f"simulated day, every_minute ({day_n} firings)", f"{day_s * 1000:.1f} ms", "<= 200 ms"),
        ("import jqtrade (median of 7)", f"{imp_ms:.1f} ms", "<= 150 ms"),
        ("RSS after import", f"{rss_mb:.1f} MB", "<= 40 MB"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'value':>12}  target")
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:>12}  {target}")


if __name__ == "__main__":
    main()
