"""What the risk limits add to ``Account.order()``: p50/p99 with the default limits vs all off.

Runs the real Account on FakeTradeGate (no state file) with a simulated clock that moves 110 ms
per order, so the rate limits see a realistic stream; the shared store is a real sqlite3 file
in a temporary folder. Prints microseconds per order::

    python bench/bench_risk.py [orders]
"""

from __future__ import annotations

import gc
import sys
import tempfile
import time
from pathlib import Path

import pendulum

from jqtrade import LimitOrderStyle
from jqtrade.account.account import Account
from jqtrade.clock import MARKET_TZ, SimClock
from jqtrade.gates.fake import FakeTradeGate
from jqtrade.options import RISK_DEFAULTS, Options

OFF = {name: (0 if name != "risk_daily_loss_action" else None) for name in RISK_DEFAULTS}
ALL_ON = {
    "risk_max_position_value": 10**9,
    "risk_max_turnover": 10**10,
    "risk_duplicate_window": 0.01,
    "risk_max_daily_loss_pct": 50,
    "risk_max_orders_per_day": 100_000,
    "risk_max_active_orders": 100_000,
}
#: Orders never fill in this bench, so every order stays active: risk_max_position_value then
#: scans up to all of them (in real use at most risk_max_active_orders, 200 by default).


def run(folder: Path, orders: int, options: dict[str, object]) -> list[float]:
    clock = SimClock(pendulum.datetime(2024, 6, 3, 9, 35, tz=MARKET_TZ))
    gate = FakeTradeGate(
        cash=10**10,
        prices={"600000.XSHG": 10.0},
        positions={"600000.XSHG": 1000},
        auto_accept=False,
        clock=clock,
    )
    opts = Options().evolve(
        {"runtime_dir": str(folder), "use_account": True, "sync_order": False, **options}
    )
    account = Account(gate=gate, clock=clock, options=opts, runtime_dir=folder, task_name="bench")
    account.start()
    times: list[float] = []
    hook: list[float] = []
    check = account._risk.check_order

    def timed(*args: object, **kwargs: object) -> None:
        t = time.perf_counter()
        try:
            check(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            hook.append(time.perf_counter() - t)

    account._risk.check_order = timed  # type: ignore[method-assign]
    style = LimitOrderStyle(10.0)
    gc.disable()
    try:
        for i in range(orders):
            t = time.perf_counter()
            account.order("600000.XSHG", 100 + 100 * (i % 7), style)
            times.append(time.perf_counter() - t)
            clock.advance(0.11)
            if i % 5 == 4:  # a sync about every 0.5 s, as order_sync_interval does
                account.sync_orders()
    finally:
        gc.enable()
        account.close()
    return sorted(times), sorted(hook)


def pct(times: list[float], p: float) -> float:
    return times[min(len(times) - 1, int(len(times) * p))] * 1e6


def main() -> None:
    orders = int(sys.argv[1]) if len(sys.argv) > 1 else 1500
    rows = {}
    hooks = {}
    # The default limits, with the per-day and active counts raised so that no order is refused.
    defaults = {"risk_max_orders_per_day": 100_000, "risk_max_active_orders": 100_000}
    for label, options in (("limits off", OFF), ("defaults", defaults), ("all limits on", ALL_ON)):
        best: list[float] = []
        for _ in range(3):  # best of three runs: the machine may be busy
            with tempfile.TemporaryDirectory() as tmp:
                times, hook = run(Path(tmp), orders, options)
            if not best or pct(times, 0.5) < pct(best, 0.5):
                best = times
            if label not in hooks or pct(hook, 0.99) < pct(hooks[label], 0.99):
                hooks[label] = hook
        rows[label] = best
    base = rows["limits off"]
    print(f"order() over {orders} orders, microseconds (best of 3 runs)")
    print("(order() itself is dominated by the fsynced journal: its spread hides the risk checks;")
    print(" 'risk hook' times the risk checks alone, inside order(), including the store leases)")
    print(
        f"{'':16}{'order p50':>10}{'order p99':>10}{'hook p50':>10}{'hook p99':>10}{'hook max':>10}"
    )
    for label, times in rows.items():
        hook = hooks[label]
        print(
            f"{label:16}{pct(times, 0.5):10.1f}{pct(times, 0.99):10.1f}"
            f"{pct(hook, 0.5):10.1f}{pct(hook, 0.99):10.1f}{hook[-1] * 1e6:10.1f}"
        )
    del base


if __name__ == "__main__":
    main()
