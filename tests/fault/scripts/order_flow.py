"""An order flow for the kill -9 fault test: an Account with the OneQuant gate on a folder.

    python order_flow.py --runtime-dir R --order-dir D --offset S --plan N --seed K
                         --phase first|restart [--hook SITE:N] --result FILE

``first`` places the plan's orders (buys and sells priced to fill at once, others priced away
from the market and canceled two orders later, once the broker has acknowledged them), syncing
every third order, with short random pauses so the simulated broker (running in the parent
process) answers in between. It prints ``ready`` once
the account has started and ``done`` when the plan is through, then keeps syncing until it is
killed. ``--hook SITE:N`` makes it kill itself right after the N-th pass of a hook site (see
``fault_harness.HOOK_SITES``), as hard as the parent would.

``restart`` is the same task on the same day after the kill. Like a careful strategy it looks
at the orders the account restored and only places the plan items that have no order, or whose
order was interrupted before it could be sent (rejected with INTERRUPTED_MESSAGE); it cancels
resting orders that are still live (not those already being canceled), waits until every
order is final, syncs a few more times and writes the orders it knows to ``--result``.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fault_harness import (  # noqa: E402
    FLOW_TASK,
    HARD_KILL,
    PlanItem,
    ShiftedClock,
    flow_options,
    make_plan,
)

from jqtrade.account.account import Account  # noqa: E402
from jqtrade.account.journal import INTERRUPTED_MESSAGE, OrderJournal  # noqa: E402
from jqtrade.gates.base import GateEnv  # noqa: E402
from jqtrade.gates import configure_gate  # noqa: E402
from jqtrade.gates.onequant import OneQuantTradeGate  # noqa: E402

LIVE = ("new", "open", "filling")


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def arm(site: str, nth: int) -> None:
    """Kill this process right after the ``nth`` pass of ``site``."""
    cls, name = {
        "intent": (OrderJournal, "record_intent"),
        "order_line": (OneQuantTradeGate, "order"),
        "sent": (OrderJournal, "record_sent"),
        "state": (OrderJournal, "record_state"),
        "cancel_intent": (OrderJournal, "record_cancel_requested"),
        "cancel_line": (OneQuantTradeGate, "cancel_order"),
    }[site]
    original = getattr(cls, name)
    calls = [0]

    def wrapper(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        calls[0] += 1
        if calls[0] == nth:
            os.kill(os.getpid(), HARD_KILL)
            time.sleep(30)  # delivery may be asynchronous; never come back from here
        return result

    setattr(cls, name, wrapper)


def place(account: Account, items: list[PlanItem], rng: random.Random) -> None:
    placed: dict[int, str] = {}
    cancels: collections.deque[tuple[int, int]] = collections.deque()
    for step, item in enumerate(items):
        placed[item.index] = account.order(item.code, item.amount, item.style())
        if item.kind == "rest":
            cancels.append((step + 2, item.index))
        while cancels and cancels[0][0] <= step:
            cancel_when_seen(account, placed[cancels.popleft()[1]])
        if step % 3 == 2:
            account.sync_orders()
        if step % 10 == 9:
            account.sync_balance()
        time.sleep(rng.uniform(0.002, 0.03))
    for _, index in cancels:
        cancel_when_seen(account, placed[index])


def cancel_when_seen(account: Account, order_id: str) -> None:
    """Cancel once the broker has acknowledged the order, as a strategy that saw it open would."""
    deadline = time.monotonic() + 2
    while account.get_orders()[order_id].status.value == "new" and time.monotonic() < deadline:
        time.sleep(0.01)
        account.sync_orders()
    account.cancel_order(order_id)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runtime-dir", type=Path, required=True)
    parser.add_argument("--order-dir", type=Path, required=True)
    parser.add_argument("--offset", type=float, required=True)
    parser.add_argument("--plan", type=int, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--phase", choices=("first", "restart"), required=True)
    parser.add_argument("--hook", default="")
    parser.add_argument("--result", type=Path, required=True)
    args = parser.parse_args()

    clock = ShiftedClock(args.offset)
    options = flow_options(args.runtime_dir, args.order_dir)
    gate = configure_gate(
        OneQuantTradeGate(),
        options.as_dict(),
        GateEnv(clock=clock, runtime_dir=Path(args.runtime_dir)),
    )
    account = Account(
        gate=gate, clock=clock, options=options, runtime_dir=args.runtime_dir, task_name=FLOW_TASK
    )
    account.start()
    plan = make_plan(args.plan)
    rng = random.Random(f"{args.seed}|{args.phase}")
    if args.hook:
        site, _, nth = args.hook.partition(":")
        arm(site, int(nth))
    say("ready")

    if args.phase == "first":
        place(account, plan, rng)
        args.result.with_suffix(".done").touch()
        say("done")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # the parent kills us in here
            account.sync_orders()
            time.sleep(0.02)
        return 3

    restored = {
        (o.code, o.amount if o.action.value == "open" else -o.amount): o
        for o in account.get_orders()
    }
    missing = [
        item
        for item in plan
        if item.key not in restored
        or (
            restored[item.key].status.value == "rejected"
            and restored[item.key].err_msg == INTERRUPTED_MESSAGE
        )
    ]
    place(account, missing, rng)
    for order in account.get_orders():
        if order.status.value in LIVE and order.order_price not in (None, 0):
            account.cancel_order(order.order_id)
    deadline = time.monotonic() + 5
    all_final = False
    while time.monotonic() < deadline:
        account.sync_orders()
        if all(order.is_final for order in account.get_orders()):
            all_final = True
            break
        time.sleep(0.02)
    for _ in range(3):
        time.sleep(0.05)
        account.sync_orders()
    orders = {
        o.order_id: {
            "code": o.code,
            "amount": o.amount if o.action.value == "open" else -o.amount,
            "status": o.status.value,
            "filled": o.filled_amount,
            "err_msg": o.err_msg,
        }
        for o in account.get_orders()
    }
    args.result.write_text(
        json.dumps({"orders": orders, "all_final": all_final}, ensure_ascii=False), encoding="utf-8"
    )
    account.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
