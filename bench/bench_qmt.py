"""Benchmarks of the QMT gate on the simulated xtquant; prints a table.

    python bench/bench_qmt.py            # everything
    python bench/bench_qmt.py --quick    # fewer repetitions

1. ``order()`` p50/p99: ``Account.order`` (checks, fsynced journal, gate) and the gate's own
   ``order`` (``order_stock_async`` on the simulated miniQMT), with the simulated miniQMT's state
   kept in memory and, separately, saved to its state file before each call returns (that
   save pickles the whole day, so it grows with the number of orders: a simulator cost).
2. Order to filled: wall time from ``Account.order`` to ``on_order_update`` with the order
   filled, with the simulated miniQMT stepping on its own thread every 5 ms and the account
   syncing in a 1 ms loop (live clock): the xtquant worker thread, the event queue and the
   drain are all in the path.
3. A sync with no events: ``QmtTradeGate.sync_orders()`` when nothing was pushed.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pendulum

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jqtrade.account.account import Account  # noqa: E402
from jqtrade.clock import MARKET_TZ, LiveClock, SimClock  # noqa: E402
from jqtrade.gates import configure_gate  # noqa: E402
from jqtrade.gates.base import GateEnv  # noqa: E402
from jqtrade.gates.qmt import QmtTradeGate  # noqa: E402
from jqtrade.model.orders import LimitOrderStyle, OrderAction, OrderRequest  # noqa: E402
from jqtrade.model.rules import price_limits  # noqa: E402
from jqtrade.options import Options  # noqa: E402
from jqtrade.sim.xtquant import SimMiniQmt  # noqa: E402

CODE = "000001.XSHE"
ACCOUNT = "8880000001"


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def build(
    folder: Path, clock: Any, *, market_hours: bool = True, persist: bool = True
) -> tuple[SimMiniQmt, QmtTradeGate, Account]:
    miniqmt = SimMiniQmt(
        folder / "userdata_mini",
        account_id=ACCOUNT,
        clock=clock,
        cash=1e9,
        market_hours=market_hours,
        persist=persist,
    )
    options = {
        "userdata_mini": str(folder / "userdata_mini"),
        "account_id": ACCOUNT,
        "xtquant_module": "jqtrade.sim.xtquant",
    }
    gate = configure_gate(
        QmtTradeGate(), options, GateEnv(clock=clock, runtime_dir=folder, task_name="bench")
    )
    account = Account(
        gate=gate,
        clock=clock,
        options=Options().evolve(
            {
                "runtime_dir": str(folder),
                "use_account": True,
                "risk_max_orders_per_second": 0,
                "risk_max_orders_per_minute": 0,
                "risk_max_orders_per_day": 0,
                "risk_max_active_orders": 0,
            }
        ),
        runtime_dir=folder / "runtime",
        task_name="bench",
        notify=lambda hook, value: None,
    )
    account.start()
    return miniqmt, gate, account


def limits(miniqmt: SimMiniQmt, day: Any) -> tuple[float, float]:
    low, high = price_limits(CODE, miniqmt.broker.feed.prev_close(CODE, day))
    return float(low), float(high)


def bench_order(n: int, persist: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        clock = SimClock(pendulum.datetime(2024, 6, 3, 10, 0, tz=MARKET_TZ))
        miniqmt, gate, account = build(Path(tmp), clock, persist=persist)
        low, _ = limits(miniqmt, clock.now().date())
        account_times, gate_times = [], []
        for i in range(n):
            t0 = time.perf_counter()
            account.order(CODE, 100, LimitOrderStyle(low))
            account_times.append(time.perf_counter() - t0)
            if i % 50 == 0:
                miniqmt.step()
                account.sync_orders()
        for i in range(n):
            request = OrderRequest(
                order_id=f"99{i:08d}",
                code=CODE,
                action=OrderAction.open,
                amount=100,
                style=LimitOrderStyle(low),
            )
            t0 = time.perf_counter()
            gate.order(request)
            gate_times.append(time.perf_counter() - t0)
        account.close()
        miniqmt.close()
    tag = "sim state saved" if persist else "sim state in memory"
    return {
        f"Account.order p50 (ms, {tag})": 1000 * statistics.median(account_times),
        f"Account.order p99 (ms, {tag})": 1000 * pct(account_times, 0.99),
        f"gate.order p50 (ms, {tag})": 1000 * statistics.median(gate_times),
        f"gate.order p99 (ms, {tag})": 1000 * pct(gate_times, 0.99),
    }


def bench_fill_latency(n: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        clock = LiveClock()
        miniqmt, gate, account = build(Path(tmp), clock, market_hours=False)
        filled: dict[str, float] = {}

        def notify(hook: str, value: Any) -> None:
            if hook == "on_order_update" and value.status.value == "filled":
                filled[value.order_id] = time.perf_counter()

        account._notify = notify
        miniqmt.start(interval=0.005)
        _, high = limits(miniqmt, clock.now().date())
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            order_id = account.order(CODE, 100, LimitOrderStyle(high))
            while order_id not in filled and time.perf_counter() - t0 < 5:
                account.sync_orders()
                time.sleep(0.001)
            times.append(filled.get(order_id, float("inf")) - t0)
        miniqmt.close()
        account.close()
    return {
        "order→filled p50 (ms)": 1000 * statistics.median(times),
        "order→filled p99 (ms)": 1000 * pct(times, 0.99),
    }


def bench_idle_sync(n: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        clock = SimClock(pendulum.datetime(2024, 6, 3, 10, 0, tz=MARKET_TZ))
        miniqmt, gate, account = build(Path(tmp), clock)
        gate.sync_orders()
        t0 = time.perf_counter()
        for _ in range(n):
            gate.sync_orders()
        per = (time.perf_counter() - t0) / n
        account.close()
        miniqmt.close()
    return {"idle sync_orders (µs)": 1e6 * per}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    n = 200 if args.quick else 1000
    results: dict[str, float] = {}
    results.update(bench_order(n, persist=False))
    results.update(bench_order(n // 5, persist=True))
    results.update(bench_fill_latency(50 if args.quick else 200))
    results.update(bench_idle_sync(20_000 if args.quick else 100_000))
    width = max(len(key) for key in results)
    for key, value in results.items():
        print(f"{key:<{width}}  {value:10.3f}")


if __name__ == "__main__":
    main()
