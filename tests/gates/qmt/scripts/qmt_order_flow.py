# -*- coding: utf-8 -*-
"""Place a plan of orders through an Account with the QMT gate on the simulated miniQMT, and
die by SIGKILL somewhere in the flow. Run by test_qmt_kill.py:

    python qmt_order_flow.py USERDATA RUNTIME_DIR MODE SITE K SEED PLAN

MODE ``hook``: die at the K-th pass of SITE (``before_send``: journaled, order_stock_async not
called; ``after_send``: miniQMT saved the order, the journal's outcome not written;
``cancel``: a cancel journaled, not sent). MODE ``delay``: die after a random delay.
Each stdout line is JSON, flushed at once.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qmt_support import ACCOUNT, DAY_START, SIM, plan_price  # noqa: E402

from jqtrade.account.account import Account  # noqa: E402
from jqtrade.clock import SimClock  # noqa: E402
from jqtrade.gates.base import GateEnv  # noqa: E402
from jqtrade.gates import configure_gate  # noqa: E402
from jqtrade.gates.qmt import QmtTradeGate  # noqa: E402
from jqtrade.model.orders import LimitOrderStyle  # noqa: E402
from jqtrade.options import Options  # noqa: E402
from jqtrade.sim.xtquant import SimMiniQmt  # noqa: E402

HARD_KILL = getattr(signal, "SIGKILL", signal.SIGTERM)
TASK = "qmt杀进程"


def say(**data: object) -> None:
    sys.stdout.write(json.dumps(data) + "\n")
    sys.stdout.flush()


def die(where: str) -> None:
    say(dying=where)
    os.kill(os.getpid(), HARD_KILL)
    time.sleep(30)
    raise SystemExit("not killed")


class DyingGate(QmtTradeGate):
    def __init__(self, site: str, k: int) -> None:
        super().__init__()
        self.site, self.k, self.passes = site, k, 0

    def _hit(self, site: str) -> None:
        if site == self.site:
            self.passes += 1
            if self.passes == self.k:
                die(site)

    def order(self, request) -> None:
        self._hit("before_send")
        super().order(request)
        self._hit("after_send")

    def cancel_order(self, order_id: str) -> None:
        self._hit("cancel")
        super().cancel_order(order_id)


def main() -> None:
    userdata, runtime, mode, site, k, seed, plan = sys.argv[1:8]
    rng = random.Random(int(seed))
    clock = SimClock(DAY_START)
    miniqmt = SimMiniQmt(
        Path(userdata), account_id=ACCOUNT, clock=clock, positions={"000001.XSHE": 5000}
    )
    gate = DyingGate(site if mode == "hook" else "", int(k))
    configure_gate(
        gate,
        {"userdata_mini": userdata, "account_id": ACCOUNT, "xtquant_module": SIM},
        GateEnv(clock=clock, runtime_dir=Path(runtime), task_name=TASK),
    )
    options = Options().evolve({"runtime_dir": runtime, "use_account": True})
    account = Account(
        gate=gate, clock=clock, options=options, runtime_dir=Path(runtime), task_name=TASK
    )
    account.start()
    if mode == "delay":
        threading.Timer(rng.uniform(0.01, 0.4), die, args=("delay",)).start()
    for index in range(int(plan)):
        order_id = account.order("000001.XSHE", 100, LimitOrderStyle(plan_price(miniqmt, index)))
        say(placed=order_id, index=index)
        clock.advance(1)
        miniqmt.step()
        miniqmt.settle()
        account.sync_orders()
        if index % 3 == 2:
            account.cancel_order(order_id)
    say(survived=True)
    die("end")  # a delay longer than the flow: die at its end


if __name__ == "__main__":
    main()
