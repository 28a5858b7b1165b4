"""Benchmark of ``Account.order()`` through the fake gate, journal (fsync) included.

    python bench/bench_account.py                 # 1,000 orders in a temporary folder
    python bench/bench_account.py --dir D:/jq     # measure on another disk
    python bench/bench_account.py --orders 5000 --runs 3

Every order is checked, journaled (intent record fsynced before the gate call, outcome record
written after) and handed to an in-memory ``FakeTradeGate`` (no state file). As in a running
task, the account's order sync runs between orders (every 10 here, untimed), which is where
the next block of order ids is reserved. The raw fsync time of one small append on the same
folder is the floor: one per order is unavoidable. Target (issue 3): p99 <= 1 ms, and the last
100 orders no slower than the first 100.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

import pendulum

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jqtrade.account.account import Account  # noqa: E402
from jqtrade.clock import MARKET_TZ, SimClock  # noqa: E402
from jqtrade.gates.fake import FakeTradeGate  # noqa: E402
from jqtrade.model.orders import LimitOrderStyle  # noqa: E402
from jqtrade.options import Options  # noqa: E402

DAY_START = pendulum.datetime(2024, 6, 3, 9, 30, tz=MARKET_TZ)
TARGET_P99_MS = 1.0


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def raw_fsync(directory: Path, count: int) -> list[float]:
    """Seconds per fsync of one journal-sized append, on the journal's disk."""
    path = directory / "fsync_probe.bin"
    line = b"x" * 180 + b"\n"
    times = []
    with open(path, "ab", buffering=0) as handle:
        for _ in range(count):
            handle.write(line)
            start = time.perf_counter()
            os.fsync(handle.fileno())
            times.append(time.perf_counter() - start)
    path.unlink()
    return times


def make_account(directory: Path, task: str = "bench") -> Account:
    clock = SimClock(DAY_START)
    gate = FakeTradeGate(cash=1e12, prices={"600000.XSHG": 10.0}, clock=clock)
    # 1,000 orders left open: the per-task count limits would refuse them (bench_risk.py times those)
    options = Options().evolve(
        {
            "runtime_dir": str(directory),
            "use_account": True,
            "risk_max_active_orders": 0,
            "risk_max_orders_per_second": 0,
            "risk_max_orders_per_minute": 0,
        }
    )
    account = Account(
        gate=gate, clock=clock, options=options, runtime_dir=directory, task_name=task
    )
    account.start()
    return account


def order_latencies(directory: Path, count: int) -> list[float]:
    """Seconds per ``order()`` call, the first call (opening the journal) included."""
    account = make_account(directory)
    style = LimitOrderStyle(10.0)
    times = []
    gc.collect()
    try:
        for i in range(count):
            amount = 100 if i % 2 == 0 else 200
            start = time.perf_counter()
            account.order("600000.XSHG", amount, style)
            times.append(time.perf_counter() - start)
            if i % 10 == 9:
                account.sync_orders()  # the loop's periodic sync, between orders
    finally:
        account.close()
    return times


def profile_orders(directory: Path, count: int) -> str:
    account = make_account(directory, "profile")
    style = LimitOrderStyle(10.0)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(count):
        account.order("600000.XSHG", 100, style)
    profiler.disable()
    account.close()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(15)
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument(
        "--runs", type=int, default=1, help="repeat the whole run; figures are per run"
    )
    parser.add_argument(
        "--dir", type=Path, default=None, help="folder on the disk to measure (default: temp)"
    )
    parser.add_argument("--profile", action="store_true", help="also print where the time goes")
    args = parser.parse_args()

    from rich.console import Console
    from rich.table import Table

    console = Console(width=100)
    ms = 1000.0
    table = Table(title=f"Account.order() through FakeTradeGate + journal, {args.orders} orders")
    table.add_column("measure")
    table.add_column("p50 ms", justify="right")
    table.add_column("p99 ms", justify="right")
    table.add_column("max ms", justify="right")
    table.add_column("target")
    failed = False
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        base = Path(tmp)
        floor = raw_fsync(base, 1000)
        table.add_row(
            "raw fsync of one append (floor)",
            f"{pct(floor, 50) * ms:.3f}",
            f"{pct(floor, 99) * ms:.3f}",
            f"{max(floor) * ms:.3f}",
            "1 per order",
        )
        for run in range(args.runs):
            times = order_latencies(base / f"run{run}", args.orders)
            head, tail = times[:100], times[-100:]
            p99 = pct(times, 99)
            failed |= p99 * ms > TARGET_P99_MS
            label = f"run {run + 1}: " if args.runs > 1 else ""
            table.add_row(
                f"{label}order() all {len(times)}",
                f"{pct(times, 50) * ms:.3f}",
                f"{p99 * ms:.3f}",
                f"{max(times) * ms:.3f}",
                f"p99 ≤ {TARGET_P99_MS:g}",
            )
            table.add_row(
                f"{label}order() first 100",
                f"{pct(head, 50) * ms:.3f}",
                f"{pct(head, 99) * ms:.3f}",
                f"{max(head) * ms:.3f}",
                "-",
            )
            table.add_row(
                f"{label}order() last 100",
                f"{pct(tail, 50) * ms:.3f}",
                f"{pct(tail, 99) * ms:.3f}",
                f"{max(tail) * ms:.3f}",
                "≈ first 100",
            )
            table.add_row(
                f"{label}first order (creates the journal file)",
                f"{times[0] * ms:.3f}",
                "-",
                "-",
                "-",
            )
        console.print(table)
        if args.profile:
            console.print(
                profile_orders(base / "profile", args.orders), markup=False, highlight=False
            )
    if failed:
        console.print(f"p99 above {TARGET_P99_MS:g} ms on this disk (see the fsync floor above)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
