"""The fault suite's machinery, shared by ``tests/fault`` (small sizes) and ``bench/bench_faults.py``.

Each ``run_*`` function injects one kind of fault into real components over real files and
returns the counts the reliability page reports. Tests assert the targets; the bench prints
them at full size. Nothing here mocks jqtrade: faults come from killed processes, concurrent
writers, damaged bytes and raising user code.

1. :func:`run_kill_point`: an order flow (``scripts/order_flow.py``: an ``Account`` with the
   OneQuant gate) is killed hard at a random moment or hook point, restarted the same day,
   and compared with the simulated broker that kept running meanwhile.
2. :func:`run_appenders`: processes appending orders to one ``algoOrder`` file at once.
3. :func:`run_fuzz`: damaged and foreign broker lines fed to the gate's readers between syncs.
4. :func:`run_raising_callbacks`: a strategy whose callback raises, run by ``start_task``.
5. :func:`run_stop`: SIGTERM or ``stop_task`` while a callback is placing orders.
6. :func:`run_many_days`: ``start_task --simulate`` over many trading days with the embedded
   simulated broker.
"""

from __future__ import annotations

import collections
import datetime
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Optional

import attrs
import pendulum

from jqtrade.account.account import Account
from jqtrade.account.journal import INTERRUPTED_MESSAGE, OrderJournal
from jqtrade.account.models import LimitOrderStyle, MarketOrderStyle, OrderStatus, OrderStyle
from jqtrade.clock import MARKET_TZ, LiveClock, SimClock
from jqtrade.gates.onequant import OneQuantTradeGate
from jqtrade.gates.onequant_files import (
    ALGO_ORDER_HEADER,
    EXEC_RESULT_HEADER,
    ORDER_UPDATE_HEADER,
    STATUS_CODES,
    AppendedFileReader,
    DayFiles,
    LockedAppender,
    code_to_symbol,
    encode_rows,
    symbol_to_code,
)
from jqtrade.gates.sim import PriceFeed, SimulatedOneQuant, round_tick, tick_of
from jqtrade.options import Options
from jqtrade.tasks.control import ControlChannel
from jqtrade.tasks.registry import TaskRegistry

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SCRIPTS = HERE / "scripts"
STRATEGIES = HERE / "strategies"
ORDER_FLOW = SCRIPTS / "order_flow.py"
APPENDER = SCRIPTS / "append_orders.py"

ENCODING = "gbk"
HARD_KILL = getattr(signal, "SIGKILL", signal.SIGTERM)  # SIGTERM is TerminateProcess on Windows
TIMEOUT = 60.0


def cli_env(**extra: str) -> dict[str, str]:
    """The environment of a child process: this checkout first on the path, UTF-8 output."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    env["PYTHONIOENCODING"] = "utf-8"
    env.pop("JQTRADE_DEBUG", None)
    env.update(extra)
    return env


def wait_for(condition: Callable[[], object], what: str, timeout: float = TIMEOUT, step: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(step)


def jqtrade_command(*args: object) -> list[str]:
    return [sys.executable, "-m", "jqtrade", *map(str, args)]


# =============================================================================================
# 1. kill -9 in the middle of an order flow, restart the same day
# =============================================================================================

FLOW_ACCOUNT = "FAULT0001"
FLOW_TASK = "断电测试"
FLOW_DAY = datetime.date(2024, 6, 3)
#: The market time the flow's clock shows when a point starts (a trading morning).
FLOW_START = pendulum.datetime(2024, 6, 3, 10, 0, tz=MARKET_TZ)
POOL = (
    "600000.XSHG", "600036.XSHG", "601318.XSHG", "600519.XSHG", "601988.XSHG",
    "000001.XSHE", "000002.XSHE", "000858.XSHE", "002415.XSHE", "300750.XSHE",
)
PRICES = PriceFeed(seed=0, volatility=0.0)  # the simulated broker's prices: constant all day

#: Hook points: (class, method) wrapped so the flow kills itself right after the call returns.
HOOK_SITES = {
    "intent": "订单意图已写入日志，委托行还没写",
    "order_line": "委托行已写入 algoOrder，日志还没记“已发送”",
    "sent": "日志已记“已发送”，order() 尚未返回",
    "state": "同步中写了一条状态记录，本轮其余回报还没处理",
    "cancel_intent": "撤单请求已写入日志，撤单行还没写",
    "cancel_line": "撤单行已写入 algoOrderStop，订单还没标记为撤单中",
}


@attrs.frozen
class PlanItem:
    """One order of the flow's fixed plan. ``(code, amount)`` is unique in a plan, so an order
    can be traced to its plan item at the broker and in the restarted task."""

    index: int
    code: str
    amount: int  # > 0 buys, < 0 sells
    kind: str  # "fill": priced to fill at once; "rest": priced away from the market, canceled later

    @property
    def key(self) -> tuple[str, int]:
        return (self.code, self.amount)

    def style(self) -> OrderStyle:
        if self.kind == "fill":
            return MarketOrderStyle() if self.index % 2 else LimitOrderStyle(0)
        prev = PRICES.prev_close(self.code, FLOW_DAY)
        factor = Decimal("0.95") if self.amount > 0 else Decimal("1.05")
        return LimitOrderStyle(float(round_tick(prev * factor, tick_of(self.code))))


def make_plan(size: int) -> list[PlanItem]:
    plan = []
    for index in range(size):
        code = POOL[index % len(POOL)]
        quantity = 100 * (1 + index // len(POOL))
        amount = -quantity if index % 3 == 2 else quantity
        plan.append(PlanItem(index, code, amount, "rest" if index % 4 == 3 else "fill"))
    return plan


def site_calls(site: str, plan_size: int) -> int:
    """How often a hook site is passed in a full first run (the upper end of the random k)."""
    rests = sum(1 for item in make_plan(plan_size) if item.kind == "rest")
    return rests if site.startswith("cancel") else plan_size


class ShiftedClock:
    """Wall time moved by ``offset`` seconds, so that it reads a fixed trading morning.

    Every process given the same offset reads the same market time: the flow, its restart and
    the simulated broker agree on the date and the session, whatever the real date is.
    """

    is_simulated = False

    def __init__(self, offset: float) -> None:
        self.offset = offset
        self._live = LiveClock()

    def now(self) -> pendulum.DateTime:
        return pendulum.from_timestamp(time.time() + self.offset, tz=MARKET_TZ)

    def wait_until(self, deadline: pendulum.DateTime) -> bool:
        return self._live.wait_until(deadline.subtract(microseconds=int(self.offset * 1e6)))

    def wake(self) -> None:
        self._live.wake()


def flow_options(runtime_dir: Path, order_dir: Path) -> Options:
    return Options().evolve({
        "runtime_dir": str(runtime_dir), "account_no": FLOW_ACCOUNT, "order_dir": str(order_dir),
        "file_encoding": ENCODING,
    })


@attrs.define
class KillPoint:
    """What one kill-and-restart left: the counts of the reliability table."""

    seed: int
    mode: str  # "delay" (killed by the parent after a random delay) or "hook"
    site: str = ""  # hook site, or "" for a delay kill
    killed_in_flow: bool = True  # False: the flow ended before the kill (killed while syncing)
    interrupted: int = 0  # journal intents without an outcome when the process died
    at_broker: int = 0  # distinct orders in algoOrder
    lost: list[str] = attrs.Factory(list)  # at the broker, unknown or wrong in the task
    sent_twice: int = 0  # same custBatchNo twice, or a plan item (one intent) at the broker twice
    never_sent: list[int] = attrs.Factory(list)  # plan items that never reached the broker
    phantom: list[str] = attrs.Factory(list)  # the task thinks live, the broker never got it
    all_final: bool = True
    seconds: float = 0.0


def _flow_command(base: Path, offset: float, plan_size: int, seed: int, phase: str, hook: str = "") -> list[str]:
    return [
        sys.executable, str(ORDER_FLOW), "--runtime-dir", str(base / "runtime"), "--order-dir", str(base / "onequant"),
        "--offset", repr(offset), "--plan", str(plan_size), "--seed", str(seed), "--phase", phase,
        "--hook", hook, "--result", str(base / f"{phase}.json"),
    ]


def run_kill_point(
    base: Path, *, seed: int, mode: str, site: str = "", plan_size: int = 40, max_delay: float = 1.0
) -> KillPoint:
    """One point: start the broker, run the flow, kill it, restart it, compare. See module doc."""
    started = time.monotonic()
    rng = random.Random(f"kill|{seed}")
    order_dir = base / "onequant"
    order_dir.mkdir(parents=True)
    offset = FLOW_START.timestamp() - time.time()
    clock = ShiftedClock(offset)
    sim = SimulatedOneQuant(
        order_dir, FLOW_ACCOUNT, cash=1e9, encoding=ENCODING, seed=0, volatility=0.0,
        snapshot_interval=0.3, positions={code: 1_000_000 for code in POOL},
    )
    stop = threading.Event()
    broker = threading.Thread(target=sim.run_forever, args=(clock, stop, 0.01), daemon=True)
    broker.start()
    point = KillPoint(seed=seed, mode=mode, site=site)
    try:
        wait_for(lambda: sim.files is not None and sim.files.asset_info.exists(), "the broker's first snapshot")
        hook = f"{site}:{rng.randint(1, site_calls(site, plan_size))}" if mode == "hook" else ""
        with open(base / "first.stderr", "wb") as err:
            first = subprocess.Popen(
                _flow_command(base, offset, plan_size, seed, "first", hook),
                stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL, env=cli_env(),
            )
        try:
            assert first.stdout is not None
            ready = first.stdout.readline().decode("utf-8").strip()
            if ready != "ready":
                first.kill()
                first.wait(TIMEOUT)
                raise AssertionError(f"order flow did not start: {ready!r}\n{_text(base / 'first.stderr')}")
            if mode == "delay":
                time.sleep(rng.uniform(0, max_delay))
                point.killed_in_flow = first.poll() is None and not _said_done(base)
                first.kill()
            else:
                said = first.stdout.readline().decode("utf-8").strip()  # "done", or nothing: it died
                point.killed_in_flow = not said.startswith("done")
                if not point.killed_in_flow:
                    first.kill()
            code = first.wait(TIMEOUT)
        finally:
            if first.poll() is None:
                first.kill()
                first.wait(TIMEOUT)
        if code == 0:
            raise AssertionError(f"the order flow was not killed (exit 0)\n{_text(base / 'first.stderr')}")
        journal = OrderJournal(base / "runtime" / "journal", FLOW_TASK, FLOW_DAY).replay()
        point.interrupted = sum(1 for order in journal.values() if order.outcome == "interrupted")

        restart = subprocess.run(
            _flow_command(base, offset, plan_size, seed, "restart"),
            capture_output=True, stdin=subprocess.DEVNULL, env=cli_env(), timeout=TIMEOUT * 2,
        )
        if restart.returncode != 0:
            raise AssertionError(
                f"restart failed ({restart.returncode}):\n{restart.stderr.decode('utf-8', 'replace')}"
            )
    finally:
        stop.set()
        broker.join(TIMEOUT)
    _compare(point, base, sim, plan_size)
    point.seconds = time.monotonic() - started
    return point


def _said_done(base: Path) -> bool:
    return (base / "first.done").exists()


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[-4000:]
    except FileNotFoundError:
        return ""


def read_algo_orders(order_dir: Path, day: datetime.date, account: str) -> list[dict[str, str]]:
    """Our account's rows of the day's algoOrder file, in file order."""
    reader = AppendedFileReader(DayFiles(order_dir, day).algo_order, ENCODING, default_header=ALGO_ORDER_HEADER)
    return [row for row in reader.iter_rows() if row.get("acct", "").strip() == account]


def _compare(point: KillPoint, base: Path, sim: SimulatedOneQuant, plan_size: int) -> None:
    result = json.loads((base / "restart.json").read_text(encoding="utf-8"))
    task: dict[str, dict[str, Any]] = result["orders"]
    point.all_final = result["all_final"]
    rows = read_algo_orders(base / "onequant", FLOW_DAY, FLOW_ACCOUNT)
    ids = collections.Counter(row["custBatchNo"].strip() for row in rows)
    keys = collections.Counter(
        (symbol_to_code(row["symbol"].strip()), int(row["targetQty"]) * (1 if row["tradeSide"].strip() == "1" else -1))
        for row in rows
    )
    point.at_broker = len(ids)
    twice_ids = sum(count - 1 for count in ids.values())
    twice_keys = sum(count - 1 for count in keys.values())
    point.sent_twice = max(twice_ids, twice_keys)
    point.never_sent = [item.index for item in make_plan(plan_size) if keys[item.key] == 0]
    rejected_at_entry = _entry_rejections(base / "onequant", FLOW_DAY)
    for order_id in ids:
        mine = task.get(order_id)
        sim_order = sim.orders.get(order_id)
        if sim_order is not None:
            status, filled = STATUS_CODES[sim_order.status].value, sim_order.filled
        elif order_id in rejected_at_entry:
            status, filled = OrderStatus.rejected.value, 0
        else:
            status, filled = "unanswered", 0
        if mine is None or mine["status"] != status or mine["filled"] != filled:
            point.lost.append(f"{order_id}: 券商 {status}/{filled}，任务 {mine and (mine['status'], mine['filled'])}")
    for order_id, mine in task.items():
        if order_id not in ids and mine["status"] != OrderStatus.rejected.value:
            point.phantom.append(f"{order_id}: 任务 {mine['status']}，券商没有")


def _entry_rejections(order_dir: Path, day: datetime.date) -> set[str]:
    reader = AppendedFileReader(DayFiles(order_dir, day).exec_result, ENCODING, default_header=EXEC_RESULT_HEADER)
    return {
        row["custBatchNo"].strip() for row in reader.iter_rows()
        if row.get("resultType", "").strip() == "1" and row.get("status", "").strip() == "1"
    }


def summarize_kills(points: Sequence[KillPoint]) -> dict[str, Any]:
    return {
        "points": len(points),
        "hook": sum(1 for p in points if p.mode == "hook"),
        "delay": sum(1 for p in points if p.mode == "delay"),
        "interrupted": sum(p.interrupted for p in points),
        "orders": sum(p.at_broker for p in points),
        "lost": sum(len(p.lost) for p in points),
        "sent_twice": sum(p.sent_twice for p in points),
        "never_sent": sum(len(p.never_sent) for p in points),
        "phantom": sum(len(p.phantom) for p in points),
        "not_final": sum(1 for p in points if not p.all_final),
    }
