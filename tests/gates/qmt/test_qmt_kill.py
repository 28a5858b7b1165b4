"""kill -9 of an order flow through the QMT gate at chosen and random points, then a restart:
0 orders lost, 0 sent twice, nothing imagined, local state equal to miniQMT's.

The flow (``scripts/qmt_order_flow.py``) runs an ``Account`` with the QMT gate on a simulated
miniQMT whose state lives in a folder (saved before each call returns, as the real miniQMT
keeps its orders when the strategy dies). The restart here reloads that folder, lets the
account reconcile, places the plan items it has no live order for, and compares.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from qmt_support import DAY_START, Rig, plan_price

from jqtrade.account.account import Account
from jqtrade.gates.qmt import mapping
from jqtrade.model.orders import LimitOrderStyle, OrderStatus
from jqtrade.options import Options

SCRIPT = Path(__file__).parent / "scripts" / "qmt_order_flow.py"
PLAN = 12
HARD_KILL = getattr(signal, "SIGKILL", signal.SIGTERM)

pytestmark = pytest.mark.slow

POINTS = [
    ("hook", "before_send", 1, 1),
    ("hook", "before_send", 5, 2),
    ("hook", "after_send", 1, 3),
    ("hook", "after_send", 7, 4),
    ("hook", "cancel", 2, 5),
    ("delay", "", 1, 6),
    ("delay", "", 1, 7),
    ("delay", "", 1, 8),
]


def run_and_kill(tmp_path: Path, mode: str, site: str, k: int, seed: int) -> list[dict]:
    userdata, runtime = tmp_path / "userdata_mini", tmp_path / "runtime"
    proc = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            str(userdata),
            str(runtime),
            mode,
            site,
            str(k),
            str(seed),
            str(PLAN),
        ],
        capture_output=True,
        timeout=120,
    )
    lines = [json.loads(line) for line in proc.stdout.decode("utf-8").splitlines()]
    assert lines and "dying" in lines[-1], proc.stderr.decode("utf-8", "replace")
    assert proc.returncode != 0
    return lines


@pytest.mark.parametrize(
    ("mode", "site", "k", "seed"), POINTS, ids=[f"{m}-{s or 'random'}-{n}" for m, s, _, n in POINTS]
)
def test_kill_and_restart_loses_nothing_and_sends_nothing_twice(tmp_path, mode, site, k, seed):
    lines = run_and_kill(tmp_path, mode, site, k, seed)
    if mode == "hook":
        assert lines[-1].get("dying") == site
    clock_start = DAY_START.add(minutes=5)
    from jqtrade.clock import SimClock

    clock = SimClock(clock_start)
    rig = Rig(
        tmp_path / "userdata_mini", clock=clock, positions={"000001.XSHE": 5000}, task="qmt杀进程"
    )
    runtime = tmp_path / "runtime"
    account = Account(
        gate=rig.gate,
        clock=clock,
        options=Options().evolve({"runtime_dir": str(runtime), "use_account": True}),
        runtime_dir=runtime,
        task_name="qmt杀进程",
    )
    try:
        account.start()
        rig.step()
        account.sync_orders()
        # Place what the plan still needs: items with no order, or whose order never left.
        prices = [plan_price(rig.miniqmt, i) for i in range(PLAN)]
        have = Counter(
            o.order_price
            for o in account.get_orders().values()
            if o.status is not OrderStatus.rejected
        )
        for price in prices:
            if have[price] == 0:
                account.order("000001.XSHE", 100, LimitOrderStyle(price))
        rig.step()
        account.sync_orders()

        rows = rig.miniqmt.query_orders(rig.gate._account)
        at_broker = Counter(row.price for row in rows)
        lost = [p for p in prices if at_broker[p] == 0]
        twice = [p for p in prices if at_broker[p] > 1]
        ours = {o.order_id: o for o in account.get_orders().values()}
        phantom = [row.order_remark for row in rows if row.order_remark not in ours]
        never_sent = [
            o.order_id
            for o in ours.values()
            if o.status is not OrderStatus.rejected
            and o.order_id not in {r.order_remark for r in rows}
        ]
        assert (lost, twice, phantom, never_sent) == ([], [], [], [])
        for row in rows:
            expected = mapping.status_of(row.order_status)
            assert ours[row.order_remark].status is expected, (row, ours[row.order_remark])
    finally:
        account.close()
        rig.miniqmt.close()
