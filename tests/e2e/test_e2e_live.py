"""Live-clock tasks against ``jqtrade sim`` running as its own process, over real files.

Each test starts the simulated OneQuant (``--any-time``, so it fills outside market hours too,
with a constant 10.00 price from a CSV) and real ``start_task`` processes whose jobs fire a
few seconds ahead. Jobs fire only on trading days, so these tests skip when today in Shanghai
is not one. Conditions are polled, never waited for with fixed sleeps.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any, Optional

import pytest
from e2e_support import (
    FINAL_CODES,
    STRATEGIES,
    BrokerFiles,
    Proc,
    clock_text,
    journal,
    journal_state,
    jqtrade,
    logged,
    market_now,
    read_text,
    skip_unless_trading_day,
    snapshot_state,
    state_of,
    write_prices,
)
from support import cli_env, wait_for

from jqtrade.account.journal import INTERRUPTED_MESSAGE

pytestmark = pytest.mark.slow

TRADER = STRATEGIES / "live_trader.py"
ACCOUNT = "123"


class LiveBench:
    """A folder with ``jqtrade sim`` running on it and the tasks a test started."""

    def __init__(self, root: Path, *sim_args: object) -> None:
        self.root = root
        self.sim_dir = root / "onequant"
        self.sim_dir.mkdir()
        self.runtime = root / "runtime"
        self.procs: list[Proc] = []
        prices = write_prices(root / "prices.csv", {"600000.XSHG": 10.00})
        self.sim = self._start(
            "sim",
            jqtrade(
                "sim",
                "--dir",
                self.sim_dir,
                "--account",
                ACCOUNT,
                "--any-time",
                "--prices",
                prices,
                "--snapshot-interval",
                "1",
                "--poll-interval",
                "0.1",
                "--latency",
                "0.5",
                *sim_args,
            ),
        )
        wait_for(
            lambda: "模拟 OneQuant 已启动" in self.sim.output() or self._died(self.sim),
            "the simulator to start",
        )

    def _start(self, name: str, args: list[str], **env: str) -> Proc:
        proc = Proc(args, self.root, name, cli_env(**env))
        self.procs.append(proc)
        return proc

    @staticmethod
    def _died(proc: Proc) -> bool:
        if not proc.alive():
            raise AssertionError(
                f"{proc.name} exited ({proc.proc.returncode}):\n{proc.output()[-3000:]}"
            )
        return False

    def start_task(self, name: str, run: int = 1, **env: str) -> Task:
        log = self.root / f"{name}.log"
        proc = self._start(
            f"{name}-{run}",
            jqtrade(
                "start_task", "-n", name, "-c", TRADER, "--runtime-dir", self.runtime, "-o", log
            ),
            E2E_ACCOUNT=ACCOUNT,
            E2E_DIR=str(self.sim_dir),
            **env,
        )
        return Task(self, name, proc, log)

    def stop_task(self, name: str) -> None:
        done = subprocess.run(
            jqtrade("stop_task", "-n", name, "--runtime-dir", self.runtime),
            cwd=self.root,
            env=cli_env(),
            capture_output=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
        assert done.returncode == 0, done.stdout.decode("utf-8", "replace") + done.stderr.decode(
            "utf-8", "replace"
        )

    @property
    def broker(self) -> BrokerFiles:
        return BrokerFiles(self.sim_dir, market_now().date())

    def close(self) -> None:
        for proc in reversed(self.procs):
            proc.kill()


class Task:
    def __init__(self, bench: LiveBench, name: str, proc: Proc, log: Path) -> None:
        self.bench, self.name, self.proc, self.log = bench, name, proc, log

    def events(self, event: Optional[str] = None) -> list[dict[str, Any]]:
        return logged(read_text(self.log), event)

    def placed(self) -> list[str]:
        return [e["id"] for e in self.events("placed")]

    def wait_placed(self, count: int) -> list[str]:
        def enough() -> bool:
            LiveBench._died(self.proc)
            return len(self.placed()) >= count

        wait_for(enough, f"{count} orders placed by {self.name}")
        return self.placed()

    def seen(self) -> dict[str, str]:
        """The last status ``on_order_update`` reported per order."""
        return {e["id"]: e["status"] for e in self.events("update")}

    def wait_in_step_with_broker(self, ids: list[str], final: bool = False) -> None:
        """Until the broker has answered every order (finally, if asked) and the task saw it."""

        def in_step() -> bool:
            LiveBench._died(self.proc)
            latest = self.bench.broker.latest(ACCOUNT)
            rows = [latest.get(i) for i in ids]
            if any(
                row is None or row["status"] == "7" or (final and row["status"] not in FINAL_CODES)
                for row in rows
            ):
                return False
            seen = self.seen()
            return all(seen.get(i) == state_of(row)[0] for i, row in zip(ids, rows))

        wait_for(in_step, f"the broker and task {self.name} to agree on {ids}")

    def end_orders(self) -> dict[str, dict[str, Any]]:
        (end,) = self.events("end")
        return {o["order_id"]: o for o in end["orders"]}


@pytest.fixture
def live_bench(tmp_path):
    """``live_bench(*sim_args)`` starts the simulator; everything is killed after the test."""
    skip_unless_trading_day(pytest)
    made: list[LiveBench] = []

    def make(*sim_args: object) -> LiveBench:
        made.append(LiveBench(tmp_path, *sim_args))
        return made[-1]

    yield make
    for bench in made:
        bench.close()


@pytest.fixture
def live(live_bench):
    return live_bench()


def test_two_tasks_share_one_folder_and_account(live):
    at = clock_text(market_now().add(seconds=4))  # the same second for both: concurrent appends
    tasks = [live.start_task(name, E2E_PLACE_AT=at, E2E_BURST="6") for name in ("alpha", "beta")]
    placed = {task.name: task.wait_placed(6) for task in tasks}
    for task in tasks:
        task.wait_in_step_with_broker(placed[task.name])
    for task in tasks:
        live.stop_task(task.name)
        assert task.proc.proc.wait(10) == 0

    broker = live.broker
    sent = broker.order_ids(ACCOUNT)
    assert len(sent) == 12 and len(set(sent)) == 12, f"ids collide in algoOrder: {sent}"
    assert set(sent) == set(placed["alpha"]) | set(placed["beta"])
    assert not set(placed["alpha"]) & set(placed["beta"])
    assert all(row["status"] == "0" for row in broker.exec_results()), (
        "the broker refused an instruction"
    )
    latest = broker.latest(ACCOUNT)
    day = market_now().date()
    for task in tasks:
        own = set(placed[task.name])
        assert set(journal(live.runtime, task.name, day)) == own, f"journal of {task.name}"
        orders = task.end_orders()
        assert set(orders) == own, f"get_orders of {task.name} shows other orders"
        for order_id, order in orders.items():
            assert snapshot_state(order) == state_of(latest[order_id])
        assert sorted(o["status"] for o in orders.values()) == ["filled"] * 3 + ["open"] * 3


def test_restart_in_the_middle_of_the_day(live):
    """Killed (SIGKILL) while placing orders one by one; restarted with the same name."""
    first = live.start_task(
        "restart",
        E2E_PLACE_AT=clock_text(market_now().add(seconds=3)),
        E2E_BURST="8",
        E2E_PACE="0.25",
    )
    first.wait_placed(3)
    first.proc.kill()  # SIGKILL on POSIX, TerminateProcess on Windows: no stop hook, no flush
    assert first.proc.proc.returncode != 0
    before_events = first.events("placed")  # the log file is shared with the restarted run
    before = [e["id"] for e in before_events]
    resting = {e["id"] for e in before_events if e["resting"]}
    assert 3 <= len(before) < 8

    second = live.start_task(
        "restart", run=2, E2E_CANCEL_AT=clock_text(market_now().add(seconds=3)), E2E_AFTER="2"
    )
    wait_for(
        lambda: len(second.placed()) >= len(before) + 2 or LiveBench._died(second.proc),
        "the restarted task to trade",
    )
    after = second.placed()[len(before) :]
    broker = live.broker
    sent = broker.order_ids(ACCOUNT)
    second.wait_in_step_with_broker(sent, final=True)
    live.stop_task("restart")
    assert second.proc.proc.wait(10) == 0

    # none sent twice: one algoOrder line per order, and the restarted task used new ids
    sent = broker.order_ids(ACCOUNT)
    assert len(sent) == len(set(sent)), f"an order was sent twice: {sent}"
    assert not set(after) & set(before)
    assert set(before) | set(after) <= set(sent)
    # an order whose process died inside order() may or may not have reached the file
    assert len(set(sent) - set(before) - set(after)) <= 1

    # no order lost: the restarted task knows every order of the day, with the broker's status
    day = market_now().date()
    recorded = journal(live.runtime, "restart", day)
    orders = second.end_orders()
    assert set(orders) == set(recorded) and set(sent) <= set(orders)
    latest = broker.latest(ACCOUNT)
    for order_id, order in orders.items():
        if order_id in latest:
            assert snapshot_state(order) == state_of(latest[order_id]), f"order {order_id}"
            assert journal_state(recorded[order_id]) == state_of(latest[order_id])
        else:  # the journal had the intent, the broker never got it: not re-sent, marked rejected
            assert (order["status"], order["err_msg"]) == ("rejected", INTERRUPTED_MESSAGE)
    # the resting orders of the first run were canceled by the second: restored orders are live
    assert resting and all(orders[i]["status"] == "canceled" for i in resting)
    assert resting <= set(broker.cancel_ids())
    assert all(orders[i]["status"] == "filled" for i in set(before) - resting)


def test_fault_mode_simulator_process(live_bench):
    """``jqtrade sim --fault-mode``: half lines, broken snapshots, garbage, foreign orders."""
    live = live_bench("--fault-mode")
    task = live.start_task(
        "faulty", E2E_PLACE_AT=clock_text(market_now().add(seconds=3)), E2E_BURST="6"
    )
    placed = task.wait_placed(6)
    task.wait_in_step_with_broker(placed)
    live.stop_task("faulty")
    assert task.proc.proc.wait(10) == 0

    text = read_text(task.log)
    assert "Traceback" not in text and " ERROR " not in text
    assert "跳过" in text  # the gate met lines it could not use, and went on
    broker = live.broker
    latest = broker.latest(ACCOUNT)
    # lines of another fund account reusing our ids (status 5) must not have been applied
    orders = task.end_orders()
    assert set(orders) == set(placed)
    for order_id, order in orders.items():
        assert snapshot_state(order) == state_of(latest[order_id]), f"order {order_id}"
    assert sorted(o["status"] for o in orders.values()) == ["filled"] * 3 + ["open"] * 3
