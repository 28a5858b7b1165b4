"""Kill the process hard in the middle of ``order()``, restart the same task the same day.

A subprocess (scripts/kill_during_order.py) places orders through an ``Account`` whose fake
broker keeps its orders in a file, then dies by SIGKILL (TerminateProcess on Windows) either
after the journal intent and before the broker got the order, or after the broker saved the
order and before the journal's outcome record. The test restarts the task and checks that the
broker never holds more than one order for the intent, that the local state says exactly what
happened, and that nothing is re-sent on its own.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

import pendulum
import pytest

from jqtrade import LimitOrderStyle
from jqtrade.account.account import Account
from jqtrade.account.journal import INTERRUPTED_MESSAGE, OrderJournal
from jqtrade.clock import MARKET_TZ, SimClock
from jqtrade.gates import configure_gate
from jqtrade.gates.base import GateEnv
from jqtrade.gates.fake import FakeTradeGate
from jqtrade.model.reports import OrderReport
from jqtrade.options import Options

SCRIPT = Path(__file__).parent / "scripts" / "kill_during_order.py"
TASK = "杀进程测试"
DAY = datetime.date(2024, 6, 3)
KILLED_AT = pendulum.datetime(2024, 6, 3, 10, 0, tz=MARKET_TZ)
RESTART_AT = KILLED_AT.add(minutes=5)
WARMUP = 2
HARD_KILL = getattr(signal, "SIGKILL", signal.SIGTERM)

pytestmark = pytest.mark.slow


class Killed:
    """What one killed run left behind: its folders and the ids it reported."""

    def __init__(self, base: Path, point: str) -> None:
        self.runtime_dir = base / "runtime"
        self.state_file = base / "broker.json"
        proc = subprocess.run(
            [
                sys.executable,
                str(SCRIPT),
                str(self.runtime_dir),
                str(self.state_file),
                TASK,
                KILLED_AT.isoformat(),
                point,
                str(WARMUP),
            ],
            capture_output=True,
            timeout=120,
        )
        lines = [json.loads(line) for line in proc.stdout.decode("utf-8").splitlines()]
        assert lines and lines[-1].get("dying") == point, proc.stderr.decode("utf-8", "replace")
        if os.name == "nt":
            assert proc.returncode != 0
        else:
            assert proc.returncode == -HARD_KILL
        self.warm_ids = [line["placed"] for line in lines if "placed" in line]
        self.order_id: str = lines[-1]["order_id"]

    def copy_to(self, target: Path) -> Killed:
        clone = object.__new__(Killed)
        clone.__dict__.update(self.__dict__)
        target.mkdir(parents=True)
        clone.runtime_dir = target / "runtime"
        clone.state_file = target / "broker.json"
        shutil.copytree(self.runtime_dir, clone.runtime_dir)
        shutil.copy2(self.state_file, clone.state_file)
        return clone

    def broker_ids(self) -> list[str]:
        return [o["order_id"] for o in FakeTradeGate.read_state(self.state_file)["orders"]]

    def journal(self) -> dict[str, Any]:
        return OrderJournal(self.runtime_dir / "journal", TASK, DAY).replay()


@pytest.fixture(scope="module")
def killed_runs(tmp_path_factory) -> dict[str, Killed]:
    """One real kill per point, shared; each test works on its own copy."""
    return {
        point: Killed(tmp_path_factory.mktemp(point), point)
        for point in ("before_gate", "after_gate")
    }


@pytest.fixture
def before_gate(killed_runs, tmp_path) -> Killed:
    return killed_runs["before_gate"].copy_to(tmp_path / "before_gate")


@pytest.fixture
def after_gate(killed_runs, tmp_path) -> Killed:
    return killed_runs["after_gate"].copy_to(tmp_path / "after_gate")


class Restarted:
    def __init__(
        self, killed: Killed, gate: Optional[FakeTradeGate] = None, **options: Any
    ) -> None:
        self.updates: list[Any] = []
        self.gate = gate or FakeTradeGate(state_file=killed.state_file)
        clock = SimClock(RESTART_AT)
        configure_gate(
            self.gate, {}, GateEnv(clock=clock, runtime_dir=killed.runtime_dir, task_name=TASK)
        )
        opts = Options().evolve(
            {"runtime_dir": str(killed.runtime_dir), "use_account": True, **options}
        )
        self.account = Account(
            gate=self.gate,
            clock=clock,
            options=opts,
            runtime_dir=killed.runtime_dir,
            task_name=TASK,
            notify=self._notify,
        )
        self.account.start()

    def _notify(self, hook: str, value: Any) -> None:
        self.updates.append((hook, value))

    def order(self, order_id: str) -> Any:
        return self.account.get_orders()[order_id]

    def gate_rows(self, order_id: str) -> list[OrderReport]:
        return [row for row in self.gate.peek_orders() if row.order_id == order_id]


def test_killed_before_the_gate_call_is_marked_not_sent_and_never_resent(before_gate):
    killed = before_gate
    assert killed.broker_ids() == killed.warm_ids  # the broker never saw the last order
    assert killed.journal()[killed.order_id].outcome == "interrupted"

    first = Restarted(killed)
    lost = first.order(killed.order_id)
    assert lost.status == "rejected" and lost.err_msg == INTERRUPTED_MESSAGE
    assert (lost.code, lost.amount, lost.action, lost.style) == (
        "000001.XSHE",
        300,
        "close",
        LimitOrderStyle(10.5),
    )
    assert [(hook, value.order_id, value.status) for hook, value in first.updates] == [
        ("on_order_update", killed.order_id, "rejected"),
    ]
    assert [first.order(i).status for i in killed.warm_ids] == ["open", "open"]
    for _ in range(3):
        first.account.sync_orders()
    assert first.gate_rows(killed.order_id) == []
    first.account.close()

    # A second restart: still rejected, now from the journal's own record; still not sent.
    second = Restarted(killed, sync_order=False, sync_balance=False)
    assert second.order(killed.order_id).status == "rejected"
    assert killed.journal()[killed.order_id].outcome == "failed"
    second.account.sync_orders()
    assert second.gate_rows(killed.order_id) == [] and second.updates == []

    # The strategy decides again: a new order with a new id; one order at the broker for it.
    again = second.account.order("000001.XSHE", -300, LimitOrderStyle(10.5))
    used = [*killed.warm_ids, killed.order_id]
    assert again not in used and int(again) > max(int(i) for i in used)
    assert [row.order_id for row in second.gate.peek_orders()] == [*killed.warm_ids, again]
    second.account.close()


def test_killed_after_the_gate_call_is_tracked_from_the_broker(after_gate):
    killed = after_gate
    assert killed.broker_ids() == [*killed.warm_ids, killed.order_id]
    assert killed.journal()[killed.order_id].outcome == "interrupted"

    first = Restarted(killed)
    sent = first.order(killed.order_id)
    assert sent.status == "open" and sent.err_msg == ""
    (row,) = first.gate_rows(killed.order_id)
    assert sent.broker_order_id == row.broker_order_id
    assert [(hook, value.status) for hook, value in first.updates] == [("on_order_update", "open")]
    first.gate.fill(killed.order_id, 100, 10.6)
    first.account.sync_orders()
    assert first.order(killed.order_id).filled_amount == 100
    first.account.close()

    second = Restarted(killed, sync_order=False, sync_balance=False)
    restored = second.order(killed.order_id)
    assert (restored.status, restored.filled_amount, restored.broker_order_id) == (
        "filling",
        100,
        row.broker_order_id,
    )
    second.account.sync_orders()
    assert len(second.gate_rows(killed.order_id)) == 1
    assert [r.order_id for r in second.gate.peek_orders()] == [*killed.warm_ids, killed.order_id]
    # The sell froze its shares at the broker exactly once.
    balance = second.gate.peek_balance()
    (position,) = [p for p in balance.positions if p.code == "000001.XSHE"]
    assert (position.total_amount, position.closeable_amount) == (4900, 4700)
    second.account.close()


def test_no_sync_no_verdict_an_interrupted_order_waits_for_the_broker(before_gate):
    """A failed first sync must not be mistaken for "the broker does not know the order"."""
    gate = FakeTradeGate(state_file=before_gate.state_file)
    gate.fail_next_syncs(1, "券商还没登录")
    restarted = Restarted(before_gate, gate=gate)
    waiting = restarted.order(before_gate.order_id)
    assert waiting.status == "new" and waiting.err_msg == ""
    restarted.account.sync_orders()
    assert restarted.order(before_gate.order_id).status == "rejected"
    restarted.account.close()


class SlowReporter(FakeTradeGate):
    """An incremental gate that has not reported some orders yet but can say it holds them."""

    def __init__(self, hidden: set[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hidden = hidden

    def sync_orders(self) -> list[OrderReport]:
        return [row for row in super().sync_orders() if row.order_id not in self.hidden]

    def has_order(self, order_id: str) -> bool:
        return any(row.order_id == order_id for row in self.peek_orders())


def test_gate_that_knows_the_order_keeps_it_pending_until_reported(after_gate, before_gate):
    hidden = {after_gate.order_id}
    restarted = Restarted(after_gate, gate=SlowReporter(hidden, state_file=after_gate.state_file))
    assert restarted.order(after_gate.order_id).status == "new"  # not wrongly rejected
    hidden.clear()
    restarted.account.sync_orders()
    assert restarted.order(after_gate.order_id).status == "open"
    restarted.account.close()

    # The same gate, asked about an order it never got, lets it be marked not sent.
    other = Restarted(before_gate, gate=SlowReporter(set(), state_file=before_gate.state_file))
    assert other.order(before_gate.order_id).status == "rejected"
    other.account.close()
