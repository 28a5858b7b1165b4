# -*- coding: utf-8 -*-
"""Place orders through an Account, then kill this process hard in the middle of one order.

Run by test_kill_recovery.py:

    python kill_during_order.py RUNTIME_DIR STATE_FILE TASK ISO_TIME KILL_POINT WARMUP

The broker is a ``FakeTradeGate`` keeping its orders in STATE_FILE, so they outlive the
process. WARMUP orders are placed and synced normally first. The next order dies at
KILL_POINT: ``before_gate`` (journal intent written, the broker never got the order) or
``after_gate`` (the broker saved the order, the journal's outcome record never written).
Each line of stdout is JSON, flushed at once, so the test knows the ids even after the kill.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import pendulum

from jqtrade.account.account import Account
from jqtrade.model.orders import LimitOrderStyle
from jqtrade.clock import SimClock
from jqtrade.gates.fake import FakeTradeGate
from jqtrade.options import Options

#: POSIX: SIGKILL. Windows has no SIGKILL; os.kill there calls TerminateProcess, just as hard.
HARD_KILL = getattr(signal, "SIGKILL", signal.SIGTERM)


def say(**data: object) -> None:
    sys.stdout.write(json.dumps(data) + "\n")
    sys.stdout.flush()


def die(point: str, order_id: str) -> None:
    say(dying=point, order_id=order_id)
    os.kill(os.getpid(), HARD_KILL)
    time.sleep(30)  # the signal may be delivered asynchronously; never return from here
    raise SystemExit("not killed")


class DyingGate(FakeTradeGate):
    def __init__(self, kill_point: str, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.kill_point = kill_point
        self.armed = False

    def order(self, request) -> None:
        if self.armed and self.kill_point == "before_gate":
            die(self.kill_point, request.order_id)
        super().order(request)  # with a state file: saved (fsynced, renamed) before returning
        if self.armed and self.kill_point == "after_gate":
            die(self.kill_point, request.order_id)


def main() -> None:
    runtime_dir, state_file, task, when, kill_point, warmup = sys.argv[1:7]
    clock = SimClock(pendulum.parse(when))
    gate = DyingGate(
        kill_point,
        cash=1_000_000,
        positions={"000001.XSHE": 5000},
        prices={"000001.XSHE": 10.0, "600000.XSHG": 8.0},
        state_file=Path(state_file),
        clock=clock,
    )
    options = Options().evolve({"runtime_dir": runtime_dir, "use_account": True})
    account = Account(
        gate=gate, clock=clock, options=options, runtime_dir=Path(runtime_dir), task_name=task
    )
    account.start()
    for _ in range(int(warmup)):
        say(placed=account.order("600000.XSHG", 100, LimitOrderStyle(8.0)))
        clock.advance(1)
    account.sync_orders()
    gate.armed = True
    account.order("000001.XSHE", -300, LimitOrderStyle(10.5))
    say(survived=True)


if __name__ == "__main__":
    main()
