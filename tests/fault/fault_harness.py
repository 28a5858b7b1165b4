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
import logging
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Optional

import attrs
import pendulum

from jqtrade.account.account import Account
from jqtrade.account.journal import OrderJournal
from jqtrade.clock import MARKET_TZ, LiveClock, SimClock
from jqtrade.gates import configure_gate
from jqtrade.gates.base import GateEnv
from jqtrade.gates.onequant import OneQuantTradeGate
from jqtrade.gates.onequant.files import AppendedFileReader, DayFiles, encode_rows
from jqtrade.gates.onequant.protocol import (
    ALGO_ORDER_HEADER,
    EXEC_RESULT_HEADER,
    ORDER_FILE_LINE_END,
    ORDER_UPDATE_HEADER,
    STATUS_CODES,
    code_to_symbol,
    symbol_to_code,
)
from jqtrade.model.orders import LimitOrderStyle, MarketOrderStyle, OrderStatus, OrderStyle
from jqtrade.model.rules import round_tick, tick_size
from jqtrade.options import Options
from jqtrade.sim import PriceFeed, SimulatedOneQuant
from jqtrade.tasks.control import ControlChannel
from jqtrade.tasks.registry import TaskRegistry

# The helpers every test folder shares live in tests/support.py. pytest has tests/ on the path
# already; bench/bench_faults.py and this folder's scripts/ put only tests/fault there.
if str(Path(__file__).resolve().parents[1]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from support import cli_env, wait_for  # noqa: E402

HERE = Path(__file__).resolve().parent
SCRIPTS = HERE / "scripts"
STRATEGIES = HERE / "strategies"
ORDER_FLOW = SCRIPTS / "order_flow.py"
APPENDER = SCRIPTS / "append_orders.py"

ENCODING = "gbk"
HARD_KILL = getattr(signal, "SIGKILL", signal.SIGTERM)  # SIGTERM is TerminateProcess on Windows
TIMEOUT = 60.0


def _journal_dir(runtime: Path) -> Path:
    """The journal folder of the one run under ``runtime``: simulated runs keep theirs in
    ``sim/<run>/journal``, away from the live state."""
    runs = sorted(runtime.glob("sim/*/journal"))
    return runs[-1] if runs else runtime / "journal"


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
    "600000.XSHG",
    "600036.XSHG",
    "601318.XSHG",
    "600519.XSHG",
    "601988.XSHG",
    "000001.XSHE",
    "000002.XSHE",
    "000858.XSHE",
    "002415.XSHE",
    "300750.XSHE",
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
        return LimitOrderStyle(float(round_tick(prev * factor, tick_size(self.code))))


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
    return Options().evolve(
        {
            "runtime_dir": str(runtime_dir),
            "account_no": FLOW_ACCOUNT,
            "order_dir": str(order_dir),
            "file_encoding": ENCODING,
        }
    )


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
    #: of ``lost``: live at the broker, "canceling" in the task (the known defect of a kill
    #: between the journal's cancel record and the cancel line)
    stuck_canceling: list[str] = attrs.Factory(list)
    sent_twice: int = 0  # same custBatchNo twice, or a plan item (one intent) at the broker twice
    never_sent: list[int] = attrs.Factory(list)  # plan items that never reached the broker
    phantom: list[str] = attrs.Factory(list)  # the task thinks live, the broker never got it
    all_final: bool = True
    seconds: float = 0.0


def _flow_command(
    base: Path, offset: float, plan_size: int, seed: int, phase: str, hook: str = ""
) -> list[str]:
    return [
        sys.executable,
        str(ORDER_FLOW),
        "--runtime-dir",
        str(base / "runtime"),
        "--order-dir",
        str(base / "onequant"),
        "--offset",
        repr(offset),
        "--plan",
        str(plan_size),
        "--seed",
        str(seed),
        "--phase",
        phase,
        "--hook",
        hook,
        "--result",
        str(base / f"{phase}.json"),
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
        order_dir,
        FLOW_ACCOUNT,
        cash=1e9,
        encoding=ENCODING,
        seed=0,
        volatility=0.0,
        snapshot_interval=0.3,
        positions={code: 1_000_000 for code in POOL},
    )
    stop = threading.Event()
    broker = threading.Thread(target=sim.run_forever, args=(clock, stop, 0.01), daemon=True)
    broker.start()
    point = KillPoint(seed=seed, mode=mode, site=site)
    try:
        wait_for(
            lambda: sim.files is not None and sim.files.asset_info.exists(),
            "the broker's first snapshot",
            TIMEOUT,
            step=0.02,
        )
        hook = f"{site}:{rng.randint(1, site_calls(site, plan_size))}" if mode == "hook" else ""
        with open(base / "first.stderr", "wb") as err:
            first = subprocess.Popen(
                _flow_command(base, offset, plan_size, seed, "first", hook),
                stdout=subprocess.PIPE,
                stderr=err,
                stdin=subprocess.DEVNULL,
                env=cli_env(),
            )
        try:
            assert first.stdout is not None
            ready = first.stdout.readline().decode("utf-8").strip()
            if ready != "ready":
                first.kill()
                first.wait(TIMEOUT)
                raise AssertionError(
                    f"order flow did not start: {ready!r}\n{_text(base / 'first.stderr')}"
                )
            if mode == "delay":
                time.sleep(rng.uniform(0, max_delay))
                point.killed_in_flow = first.poll() is None and not _said_done(base)
                first.kill()
            else:
                said = (
                    first.stdout.readline().decode("utf-8").strip()
                )  # "done", or nothing: it died
                point.killed_in_flow = not said.startswith("done")
                if not point.killed_in_flow:
                    first.kill()
            code = first.wait(TIMEOUT)
        finally:
            if first.poll() is None:
                first.kill()
                first.wait(TIMEOUT)
            if first.stdout is not None:
                first.stdout.close()
        if code == 0:
            raise AssertionError(
                f"the order flow was not killed (exit 0)\n{_text(base / 'first.stderr')}"
            )
        journal = OrderJournal(base / "runtime" / "journal", FLOW_TASK, FLOW_DAY).replay()
        point.interrupted = sum(1 for order in journal.values() if order.outcome == "interrupted")

        restart = subprocess.run(
            _flow_command(base, offset, plan_size, seed, "restart"),
            capture_output=True,
            stdin=subprocess.DEVNULL,
            env=cli_env(),
            timeout=TIMEOUT * 2,
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
    reader = AppendedFileReader(
        DayFiles(order_dir, day).algo_order, ENCODING, default_header=ALGO_ORDER_HEADER
    )
    return [row for row in reader.iter_rows() if row.get("acct", "").strip() == account]


def _compare(point: KillPoint, base: Path, sim: SimulatedOneQuant, plan_size: int) -> None:
    result = json.loads((base / "restart.json").read_text(encoding="utf-8"))
    task: dict[str, dict[str, Any]] = result["orders"]
    point.all_final = result["all_final"]
    rows = read_algo_orders(base / "onequant", FLOW_DAY, FLOW_ACCOUNT)
    ids = collections.Counter(row["custBatchNo"].strip() for row in rows)
    keys = collections.Counter(
        (
            symbol_to_code(row["symbol"].strip()),
            int(row["targetQty"]) * (1 if row["tradeSide"].strip() == "1" else -1),
        )
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
            status, filled = sim_order.status.value, sim_order.filled
        elif order_id in rejected_at_entry:
            status, filled = OrderStatus.rejected.value, 0
        else:
            status, filled = "unanswered", 0
        if mine is None or mine["status"] != status or mine["filled"] != filled:
            point.lost.append(
                f"{order_id}: 券商 {status}/{filled}，任务 {mine and (mine['status'], mine['filled'])}"
            )
            if mine is not None and mine["status"] == "canceling" and status in ("open", "filling"):
                point.stuck_canceling.append(point.lost[-1])
    for order_id, mine in task.items():
        if order_id not in ids and mine["status"] != OrderStatus.rejected.value:
            point.phantom.append(f"{order_id}: 任务 {mine['status']}，券商没有")


def _entry_rejections(order_dir: Path, day: datetime.date) -> set[str]:
    reader = AppendedFileReader(
        DayFiles(order_dir, day).exec_result, ENCODING, default_header=EXEC_RESULT_HEADER
    )
    return {
        row["custBatchNo"].strip()
        for row in reader.iter_rows()
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


# =============================================================================================
# 2. processes appending to one order file at once
# =============================================================================================


def appended_row(process: int, index: int) -> list[str]:
    """The row process ``process`` appends as its ``index``-th order (lengths vary on purpose)."""
    code = POOL[(process + index) % len(POOL)]
    price = f"{5 + (index * 7919 + process) % 4000 / 100:.2f}"
    return [
        f"{93000 + index % 3000:06d}.{process:06d}",
        f"p{process}-{index}",
        "UM0",
        FLOW_ACCOUNT,
        code_to_symbol(code),
        "1" if index % 2 else "2",
        str(100 * (1 + index % 50)),
        "DMA",
        "AT",
        "0",
        price,
        price,
    ]


@attrs.define
class AppendResult:
    processes: int
    per_process: int
    data_lines: int = 0  # lines after the header
    well_formed: int = 0  # lines equal to a row some process appended
    headers: int = 0
    missing: int = 0  # rows appended but not in the file
    duplicated: int = 0
    out_of_order: int = 0  # rows of one process not in the order it appended them
    switches: int = 0  # neighbouring lines from different processes: the writers did contend
    seconds: float = 0.0


def run_appenders(base: Path, processes: int = 8, per_process: int = 1000) -> AppendResult:
    """``processes`` processes append ``per_process`` one-row orders each through LockedAppender."""
    base.mkdir(parents=True, exist_ok=True)
    path = DayFiles(base, FLOW_DAY).algo_order
    go = base / "go"
    children = [
        subprocess.Popen(
            [sys.executable, str(APPENDER), str(path), str(p), str(per_process), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=cli_env(),
        )
        for p in range(processes)
    ]
    try:
        for child in children:  # everyone imported and waits at the start line
            assert child.stdout is not None
            line = child.stdout.readline().decode("utf-8").strip()
            assert line == "ready", (
                f"appender did not start: {line!r} {child.stderr.read().decode('utf-8', 'replace') if child.stderr else ''}"
            )
        started = time.monotonic()
        go.touch()
        for child in children:
            _, err = child.communicate(timeout=TIMEOUT * 2)
            assert child.returncode == 0, err.decode("utf-8", "replace")
        seconds = time.monotonic() - started
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait(TIMEOUT)
    result = AppendResult(processes=processes, per_process=per_process, seconds=seconds)
    expected = {
        encode_rows([appended_row(p, i)], ENCODING, ORDER_FILE_LINE_END)[:-1]: (p, i)
        for p in range(processes)
        for i in range(per_process)
    }
    header = encode_rows([ALGO_ORDER_HEADER], ENCODING, ORDER_FILE_LINE_END)[:-1]
    data = path.read_bytes()
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    seen: collections.Counter[tuple[int, int]] = collections.Counter()
    last_index = [-1] * processes
    previous_process = -1
    for line in lines:
        if line == header:
            result.headers += 1
            continue
        result.data_lines += 1
        owner = expected.get(line)
        if owner is None:
            continue
        result.well_formed += 1
        seen[owner] += 1
        process, index = owner
        result.switches += previous_process not in (-1, process)
        previous_process = process
        if index < last_index[process]:
            result.out_of_order += 1
        last_index[process] = index
    result.duplicated = sum(count - 1 for count in seen.values())
    result.missing = len(expected) - len(seen)
    return result


# =============================================================================================
# 3. fuzzed broker lines
# =============================================================================================

FUZZ_ACCOUNT = "FUZZ0001"
FUZZ_TASK = "乱码测试"
FUZZ_START = pendulum.datetime(2024, 6, 3, 10, 0, tz=MARKET_TZ)

#: Damage done to orderUpdate / execResult lines; none of these may ever be applied.
NOISE_KINDS = (
    "truncated",  # a line cut short (fewer fields), ended by the next writer's line break
    "garbled",  # one field the gate needs replaced by junk bytes or text
    "bad_numbers",  # parseable but impossible: negative money, more filled than ordered
    "utf16",  # a whole line in another encoding
    "random_bytes",
    "other_account",  # one of our ids, reported for another fund account on the same client
    "unknown_status",
    "field_count",  # a field missing, or extra non-empty fields
    "blank",
    "header",  # the header repeated mid-file
)
#: Noise the gate drops before choosing each order's newest line, so it never needs the fallback
#: to older lines (which ``NOISE_KINDS`` as a whole also exercises).
DROPPED_NOISE_KINDS = (
    "truncated",
    "utf16",
    "random_bytes",
    "other_account",
    "field_count",
    "blank",
    "header",
)
#: Well-formed lines that are not ours: reported by the gate, ignored by the account.
FOREIGN_KINDS = ("foreign_id", "manual_order")
EXEC_NOISE_KINDS = (
    "exec_garbage",
    "exec_bad_type",
    "exec_foreign_reject",
    "exec_cancel_refused",
    "exec_accepted",
)
#: How a good line may be written: all of these must be applied.
GOOD_VARIANTS = ("plain", "quoted_text", "utf8_text", "crlf", "trailing_empty", "decimal_quantity")

_TEXTS = ("", "已报", "部分成交", "全部成交", "撤单成功")
_STATE_NAMES = {code: status.value for code, status in STATUS_CODES.items()}


@attrs.define
class _Story:
    """One order the gate placed, and the good states the broker reports for it, in order."""

    order_id: str
    code: str
    buy: bool
    qty: int
    price: Decimal
    order_no: str
    states: list[tuple[str, int, int]]  # (status code, filled, canceled)
    exec_only: bool = False  # refused by OneQuant: one execResult line, no orderUpdate
    next: int = 0

    @property
    def done(self) -> bool:
        return self.next >= (1 if self.exec_only else len(self.states))


def _story_states(rng: random.Random, qty: int) -> list[tuple[str, int, int]]:
    states = [("7", 0, 0)]
    if rng.random() < 0.1:
        return [*states, ("5", 0, qty)]
    states.append(("0", 0, 0))
    filled = 0
    for _ in range(rng.randint(0, 3)):
        lots = (qty - filled) // 100
        if lots < 2:
            break
        filled += 100 * rng.randint(1, lots - 1)
        states.append(("1", filled, 0))
    if rng.random() < 0.5:
        states.append(("2", qty, 0))
    else:
        states += [("8", filled, 0), ("3" if filled else "4", filled, qty - filled)]
    return states


@attrs.frozen
class _Line:
    """A line (bytes) to write, and what it means for the expectations."""

    data: bytes
    kind: str
    order_id: str = ""  # our order, for a good line
    expect: Optional[Mapping[str, Any]] = None  # the report a good line must produce


@attrs.define
class FuzzResult:
    lines: int = 0  # lines written to orderUpdate and execResult
    good: int = 0  # well-formed lines for orders the gate placed
    kinds: dict[str, int] = attrs.Factory(dict)  # lines written per kind
    syncs: int = 0
    torn: int = 0  # lines split across two writes
    crashes: int = 0  # exceptions out of the gate's sync, or a sync the account had to give up
    crash_notes: list[str] = attrs.Factory(list)
    reflected: int = 0  # good lines whose state reached the report of their sync
    missed: list[str] = attrs.Factory(list)
    wrong: list[str] = attrs.Factory(list)  # reports for our orders that no good line supports
    foreign_reports: int = 0
    account_wrong: list[str] = attrs.Factory(list)  # final account state or its notifications
    notifications: int = 0
    logged: int = 0  # warnings the gate logged about lines it skipped
    seconds: float = 0.0


class _FuzzWriter:
    """Builds the fuzzed lines; every good line carries the report it must produce."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.seq = 0

    def _upd(self) -> str:
        self.seq += 1
        return f"{100000 + self.seq % 50000:06d}.{self.seq % 1000000:06d}"

    def update_fields(
        self,
        story: _Story,
        state: tuple[str, int, int],
        *,
        text: str = "",
        acct: str = FUZZ_ACCOUNT,
        order_id: Optional[str] = None,
    ) -> list[str]:
        status, filled, canceled = state
        average = story.price if filled else Decimal(0)
        return [
            self._upd(),
            "20240603",
            "093000",
            "UM0",
            acct,
            code_to_symbol(story.code),
            "1" if story.buy else "2",
            status,
            str(story.qty),
            f"{story.price}",
            "0",
            str(filled),
            f"{average}",
            f"{story.price * filled}",
            str(canceled),
            story.order_no,
            story.order_no,
            story.order_id if order_id is None else order_id,
            text,
            "",
        ]

    def good(self, story: _Story) -> _Line:
        state = story.states[story.next]
        story.next += 1
        status, filled, canceled = state
        variant = self.rng.choice(GOOD_VARIANTS)
        text = self.rng.choice(_TEXTS)
        expect: dict[str, Any] = {
            "status": _STATE_NAMES[status],
            "filled_amount": filled,
            "canceled_amount": canceled,
            "amount": story.qty,
            "code": story.code,
            "action": "open" if story.buy else "close",
            "broker_order_id": story.order_no,
            "avg_price": float(story.price) if filled else 0.0,
            "deal_balance": float(story.price * filled),
            "err_msg": text,
        }
        if variant == "quoted_text":
            text = expect["err_msg"] = '含"引号",和逗号'
        fields = self.update_fields(story, state, text="@TEXT@" if variant == "utf8_text" else text)
        if variant == "decimal_quantity":
            for index in (8, 11, 14):
                fields[index] += ".0"
        data = encode_rows([fields], ENCODING)
        if variant == "utf8_text":
            data = data.replace(b"@TEXT@", "已报，等待成交".encode())  # UTF-8 in a GBK file
            del expect["err_msg"]  # decoded with replacement characters: only the text is lost
        elif variant == "crlf":
            data = data[:-1] + b"\r\n"
        elif variant == "trailing_empty":
            data = data[:-1] + b",,\n"
        return _Line(data, "good", story.order_id, expect)

    def exec_reject(self, story: _Story) -> _Line:
        story.next += 1
        fields = [self._upd(), "1", story.order_id, "1", "-1", "可用资金不足"]
        expect = {
            "status": "rejected",
            "filled_amount": 0,
            "canceled_amount": story.qty,
            "amount": story.qty,
            "code": story.code,
            "action": "open" if story.buy else "close",
            "err_msg": "可用资金不足",
        }
        return _Line(encode_rows([fields], ENCODING), "good", story.order_id, expect)

    def noise(self, kind: str, story: _Story) -> _Line:
        rng = self.rng
        state = rng.choice(story.states)
        fields = self.update_fields(story, state, text=rng.choice(_TEXTS))
        if kind == "truncated":
            data = encode_rows([fields], ENCODING)
            data = data[: rng.randrange(1, data.rindex(b","))] + b"\n"
        elif kind == "garbled":
            index = rng.choice((5, 6, 7, 8, 9, 11, 12, 13, 14))
            junk = rng.choice(
                (
                    b"\xff\xfe",
                    b"??",
                    "一百".encode(ENCODING),
                    b"1e999",
                    b"NaN",
                    b"0x1F",
                    b"inf",
                    b"1,2",
                )
            )
            fields[index] = "@JUNK@"
            data = encode_rows([fields], ENCODING).replace(b"@JUNK@", junk)
        elif kind == "bad_numbers":
            choice = rng.randrange(4)
            if choice == 0:
                fields[12] = "-5.00"  # avgPrice
            elif choice == 1:
                fields[13] = "-100.00"  # filledAmt
            elif choice == 2:
                fields[11] = str(story.qty * 10)  # filledQty beyond the order
            else:
                fields[7], fields[11] = "5", str(story.qty)  # rejected, yet filled
            data = encode_rows([fields], ENCODING)
        elif kind == "utf16":
            data = encode_rows([fields], ENCODING)[:-1].decode(ENCODING).encode("utf-16-le") + b"\n"
        elif kind == "random_bytes":
            data = (
                bytes(
                    b
                    for b in (rng.randrange(256) for _ in range(rng.randint(1, 80)))
                    if b not in (10, 13)
                )
                + b"\n"
            )
        elif kind == "other_account":
            fields = self.update_fields(
                story, rng.choice([*story.states, ("5", 0, story.qty)]), acct="OTHER0001"
            )
            data = encode_rows([fields], ENCODING)
        elif kind == "unknown_status":
            fields[7] = rng.choice(("6", "9", "A", "", "10", "-1", "２"))
            data = encode_rows([fields], ENCODING)
        elif kind == "field_count":
            if rng.random() < 0.5:
                del fields[rng.randrange(len(fields))]
            else:
                fields += ["x", "y"]
            data = encode_rows([fields], ENCODING)
        elif kind == "blank":
            data = rng.choice((b"\n", b",,,,\n", b"   \n", b"\r\n"))
        elif kind == "header":
            data = encode_rows([ORDER_UPDATE_HEADER], ENCODING)
        elif kind == "foreign_id":
            data = encode_rows(
                [self.update_fields(story, state, order_id=f"F{self.seq}")], ENCODING
            )
        elif kind == "manual_order":
            data = encode_rows([self.update_fields(story, state, order_id="")], ENCODING)
        else:
            raise ValueError(kind)
        return _Line(data, kind)

    def exec_noise(self, kind: str, story: _Story) -> _Line:
        rng = self.rng
        if kind == "exec_garbage":
            data = (
                bytes(
                    b
                    for b in (rng.randrange(256) for _ in range(rng.randint(1, 60)))
                    if b not in (10, 13)
                )
                + b"\n"
            )
            return _Line(data, kind)
        fields = {
            "exec_bad_type": [
                self._upd(),
                rng.choice(("3", "", "x")),
                story.order_id,
                "1",
                "-1",
                "未知类型",
            ],
            "exec_foreign_reject": [
                self._upd(),
                "1",
                f"F{self.seq}",
                "1",
                "-1",
                "其他程序的委托被拒绝",
            ],
            "exec_cancel_refused": [
                self._upd(),
                "2",
                story.order_id,
                "1",
                "-1",
                "撤单失败：委托已成交",
            ],
            "exec_accepted": [self._upd(), "1", story.order_id, "0", "0", ""],
        }[kind]
        return _Line(encode_rows([fields], ENCODING), kind)


def _same_report(report: Mapping[str, Any], expect: Mapping[str, Any]) -> bool:
    for key, want in expect.items():
        got = report.get(key)
        got = getattr(got, "value", got)  # OrderStatus / OrderAction -> their text
        if key in ("avg_price", "deal_balance"):
            if abs(float(got or 0) - want) > 1e-9:
                return False
        elif got != want:
            return False
    return True


def run_fuzz(
    base: Path,
    lines: int = 5000,
    *,
    seed: int = 0,
    chunk_max: int = 300,
    noise: Sequence[str] = NOISE_KINDS,
) -> FuzzResult:
    """Write ``lines`` fuzzed lines in random chunks, syncing the gate and an account after each.

    ``noise``: the kinds of damaged orderUpdate lines to mix in (default: all of them).
    """
    started = time.monotonic()
    rng = random.Random(f"fuzz|{seed}")
    order_dir, runtime = base / "onequant", base / "runtime"
    order_dir.mkdir(parents=True)
    clock = SimClock(FUZZ_START)
    options = Options().evolve(
        {
            "runtime_dir": str(runtime),
            "account_no": FUZZ_ACCOUNT,
            "order_dir": str(order_dir),
            "file_encoding": ENCODING,
            # thousands of orders left open on purpose: the risk limits are not what this tests
            "risk_max_active_orders": 0,
            "risk_max_orders_per_day": 0,
            "risk_max_orders_per_minute": 0,
            "risk_max_orders_per_second": 0,
        }
    )
    notified: dict[str, list[tuple[str, int]]] = collections.defaultdict(list)

    def notify(hook: str, value: Any) -> None:
        if hook == "on_order_update":
            notified[value.order_id].append((value.status.value, value.filled_amount))

    own_gate = configure_gate(
        OneQuantTradeGate(), options.as_dict(), GateEnv(clock=clock, runtime_dir=Path(runtime))
    )
    account = Account(
        gate=own_gate,
        clock=clock,
        options=options,
        runtime_dir=runtime,
        task_name=FUZZ_TASK,
        notify=notify,
    )
    account.start()
    # a second gate on the same folder, read only: its reports are checked line by line
    reader = configure_gate(
        OneQuantTradeGate(), options.as_dict(), GateEnv(clock=clock, runtime_dir=Path(runtime))
    )

    writer = _FuzzWriter(rng)
    stories: list[_Story] = []
    for number in range(max(lines // 9, 10)):
        code = POOL[number % len(POOL)]
        qty = 100 * rng.randint(1, 20)
        buy = rng.random() < 0.6
        price = round_tick(PRICES.prev_close(code, FUZZ_START.date()), tick_size(code))
        order_id = account.order(code, qty if buy else -qty, LimitOrderStyle(float(price)))
        stories.append(
            _Story(
                order_id,
                code,
                buy,
                qty,
                price,
                f"{700000 + number}",
                _story_states(rng, qty),
                exec_only=rng.random() < 0.03,
            )
        )
    ours = {story.order_id: story for story in stories}
    active = list(stories)

    result = FuzzResult()
    counting = _CountingHandler()
    gate_log = logging.getLogger("jqtrade.gates.onequant")
    gate_log.addHandler(counting)
    files = DayFiles(order_dir, FUZZ_START.date())
    files.order_update.write_bytes(
        encode_rows([ORDER_UPDATE_HEADER], ENCODING)
    )  # as OneQuant starts them
    files.exec_result.write_bytes(encode_rows([EXEC_RESULT_HEADER], ENCODING))
    carry: dict[Path, _Line] = {}  # the rest of a line torn at the end of the previous write
    expected_state: dict[str, tuple[str, int]] = {}
    expected_notes: dict[str, list[tuple[str, int]]] = collections.defaultdict(list)
    try:
        written = 0
        while written < lines:
            chunk: dict[Path, list[_Line]] = {files.order_update: [], files.exec_result: []}
            for path, line in carry.items():
                chunk[path].append(line)
            carry.clear()
            for _ in range(min(rng.randint(1, chunk_max), lines - written)):
                written += 1
                roll = rng.random()
                if roll < 0.5 and active:
                    story = rng.choice(active)
                    if story.exec_only:
                        chunk[files.exec_result].append(writer.exec_reject(story))
                    else:
                        chunk[files.order_update].append(writer.good(story))
                    if story.done:
                        active.remove(story)
                elif roll < 0.58:
                    chunk[files.exec_result].append(
                        writer.exec_noise(rng.choice(EXEC_NOISE_KINDS), rng.choice(stories))
                    )
                elif roll < 0.63:
                    chunk[files.order_update].append(
                        writer.noise(rng.choice(FOREIGN_KINDS), rng.choice(stories))
                    )
                else:
                    chunk[files.order_update].append(
                        writer.noise(rng.choice(noise), rng.choice(stories))
                    )
            # write each file; now and then tear its last line and finish it with the next write
            complete: list[_Line] = []
            for path, entries in chunk.items():
                body = b"".join(entry.data for entry in entries)
                if entries and len(entries[-1].data) > 1 and rng.random() < 0.3:
                    last = entries.pop()
                    cut = rng.randrange(1, len(last.data))
                    body = body[: len(body) - len(last.data) + cut]
                    carry[path] = attrs.evolve(last, data=last.data[cut:])
                    result.torn += 1
                with open(path, "ab") as handle:
                    handle.write(body)
                complete += entries
            for entry in complete:
                result.lines += 1
                result.kinds[entry.kind] = result.kinds.get(entry.kind, 0) + 1
            _check_sync(result, reader, account, complete, ours, expected_state, expected_notes)
            clock.advance(1)
        # the last torn lines: finish them and sync once more
        if carry:
            rest = list(carry.values())
            for path, line in list(carry.items()):
                with open(path, "ab") as handle:
                    handle.write(line.data)
            carry.clear()
            for entry in rest:
                result.lines += 1
                result.kinds[entry.kind] = result.kinds.get(entry.kind, 0) + 1
            _check_sync(result, reader, account, rest, ours, expected_state, expected_notes)
    finally:
        gate_log.removeHandler(counting)
        account.close()
    result.good = result.kinds.get("good", 0)
    result.logged = counting.count
    final = {snapshot.order_id: snapshot for snapshot in account.get_orders()}
    for order_id, (status, filled) in expected_state.items():
        snapshot = final[order_id]
        if (snapshot.status.value, snapshot.filled_amount) != (status, filled):
            result.account_wrong.append(
                f"{order_id}: 账户 {snapshot.status.value}/{snapshot.filled_amount}，应为 {status}/{filled}"
            )
    for order_id in ours:
        if notified.get(order_id, []) != expected_notes.get(order_id, []):
            result.account_wrong.append(
                f"{order_id}: 通知 {notified.get(order_id)}，应为 {expected_notes.get(order_id)}"
            )
    result.notifications = sum(len(v) for v in notified.values())
    result.seconds = time.monotonic() - started
    return result


class _CountingHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.count = 0

    def emit(self, record: Any) -> None:
        self.count += 1


def _check_sync(
    result: FuzzResult,
    reader: OneQuantTradeGate,
    account: Account,
    complete: list[_Line],
    ours: Mapping[str, _Story],
    expected_state: dict[str, tuple[str, int]],
    expected_notes: dict[str, list[tuple[str, int]]],
) -> None:
    result.syncs += 1
    goods: dict[str, list[_Line]] = collections.defaultdict(list)
    for entry in complete:
        if entry.kind == "good":
            goods[entry.order_id].append(entry)
    try:
        reports = [
            attrs.asdict(r, recurse=False) for r in reader.sync_orders()
        ]  # checked by field name below
    except Exception as exc:  # noqa: BLE001 - counted: the figure is "crashes"
        result.crashes += 1
        result.crash_notes.append(f"sync {result.syncs}: 交易接口同步崩溃 {exc!r}")
        reports = []
    try:
        account.sync_orders()
    except Exception as exc:  # noqa: BLE001
        result.crashes += 1
        result.crash_notes.append(f"sync {result.syncs}: 账户同步崩溃 {exc!r}")
    if account.last_order_sync != account.clock.now():
        result.crashes += 1  # the account's sync gave up (it logs "同步订单失败")
        result.crash_notes.append(f"sync {result.syncs}: 账户同步失败")
    reported: dict[str, Mapping[str, Any]] = {}
    for report in reports:
        order_id = str(report.get("order_id") or "")
        if order_id not in ours:
            result.foreign_reports += 1
            continue
        if order_id in reported:
            result.wrong.append(f"sync {result.syncs}: 订单 {order_id} 一次同步报告了两次")
        reported[order_id] = report
    for order_id, report in reported.items():
        lines = goods.get(order_id)
        if not lines:
            result.wrong.append(
                f"sync {result.syncs}: 订单 {order_id} 没有新的好行，却有回报 {_brief(report)}"
            )
        elif not _same_report(report, lines[-1].expect or {}):
            result.wrong.append(
                f"sync {result.syncs}: 订单 {order_id} 回报 {_brief(report)}，应为 {dict(lines[-1].expect or {})}"
            )
    for order_id, lines in goods.items():
        report = reported.get(order_id)
        if report is not None and _same_report(report, lines[-1].expect or {}):
            result.reflected += len(lines)
        else:
            result.missed.append(
                f"sync {result.syncs}: 订单 {order_id} 的 {len(lines)} 行好行没有体现"
            )
        expect = lines[-1].expect or {}
        state = (str(expect["status"]), int(expect["filled_amount"]))
        previous = expected_state.get(order_id, ("new", 0))
        if state != previous:
            expected_notes[order_id].append(state)
        expected_state[order_id] = state


def _brief(report: Mapping[str, Any]) -> str:
    keys = ("status", "filled_amount", "canceled_amount", "avg_price", "deal_balance")
    return (
        "{" + ", ".join(f"{k}={getattr(report.get(k), 'value', report.get(k))}" for k in keys) + "}"
    )


# =============================================================================================
# 4. raising user callbacks
# =============================================================================================

_RECORD_START = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} ", re.MULTILINE)


def log_records(text: str) -> list[str]:
    """A task log split into records (a record runs until the next timestamped line)."""
    starts = [match.start() for match in _RECORD_START.finditer(text)]
    return [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)])]


@attrs.define
class CallbackResult:
    raised: int  # callbacks that raised
    exit_code: int = -1
    error_records: int = 0  # "定时任务 … 运行出错" log records
    with_traceback: int = 0  # of those, records that carry the full traceback
    calls: int = 0  # firings of the callback the task counted (raising and not)
    expected_calls: int = 0  # every_minute firings in the simulated days
    healthy_days: int = 0  # days whose after-close job still ran
    seconds: float = 0.0


EVERY_MINUTE_PER_DAY = 242  # 09:30-11:30 and 13:00-15:00, both ends included


def run_raising_callbacks(base: Path, count: int = 100) -> CallbackResult:
    """``start_task --simulate`` a strategy whose every_minute callback raises ``count`` times."""
    started = time.monotonic()
    days = trading_days_from(FLOW_DAY, -(-count // EVERY_MINUTE_PER_DAY))
    base.mkdir(parents=True, exist_ok=True)
    log = base / "raising.log"
    proc = subprocess.run(
        jqtrade_command(
            "start_task",
            "-n",
            "raising",
            "-c",
            STRATEGIES / "raising.py",
            "--runtime-dir",
            base / "runtime",
            "--simulate",
            f"{days[0]}..{days[-1]}",
            "-o",
            log,
        ),
        capture_output=True,
        stdin=subprocess.DEVNULL,
        env=cli_env(JQT_RAISE_COUNT=str(count)),
        timeout=TIMEOUT * 5,
    )
    text = log.read_text(encoding="utf-8")
    result = CallbackResult(
        raised=count, exit_code=proc.returncode, expected_calls=len(days) * EVERY_MINUTE_PER_DAY
    )
    for record in log_records(text):
        if "Raising.boom" in record and "运行出错" in record:
            result.error_records += 1
            result.with_traceback += (
                "Traceback (most recent call last)" in record and "raising.py" in record
            )
    result.healthy_days = len(re.findall(r"HEALTHY \d{4}-\d{2}-\d{2}", text))
    ended = re.search(r"END calls=(\d+)", text)
    result.calls = int(ended.group(1)) if ended else 0
    result.seconds = time.monotonic() - started
    return result


def trading_days_from(first: datetime.date, count: int) -> list[datetime.date]:
    days, day = [], first
    while len(days) < count:
        if is_trading_day(day):
            days.append(day)
        day += datetime.timedelta(days=1)
    return days


def is_trading_day(day: datetime.date) -> bool:
    """An oracle independent of jqtrade's calendar: chinese_calendar's workdays, weekends excluded
    (make-up working weekends are closed for trading)."""
    import chinese_calendar

    return day.weekday() < 5 and chinese_calendar.is_workday(day)


# =============================================================================================
# 5. SIGTERM and stop_task in the middle of a callback
# =============================================================================================


@attrs.define
class StopResult:
    how: str  # "sigterm", "control" (ControlChannel.request_stop) or "stop_task" (the CLI)
    exit_code: int = -1
    stopper_ok: bool = True  # stop_task said the task stopped normally
    callback_finished: bool = False  # the callback ran to its end after the stop request
    requested_mid_callback: bool = False  # the request really came while it ran
    hook_ran: bool = False
    later_job_ran: bool = False
    record_released: bool = False  # registry record gone, name free again
    final_state: Optional[str] = None  # the final state the task reported on the control channel
    orders_placed: int = 0  # as the callback counted
    orders_journaled: int = 0  # in the order journal, all with the outcome "sent"
    orders_interrupted: int = 0
    orders_at_broker: int = 0  # rows in the simulated broker's algoOrder file
    seconds: float = 0.0


def run_stop(
    base: Path, how: str, *, seed: int = 0, orders: int = 20, pause: float = 0.05
) -> StopResult:
    """Stop a task at a random moment of a busy callback (``how``: see :class:`StopResult`)."""
    started = time.monotonic()
    rng = random.Random(f"stop|{how}|{seed}")
    base.mkdir(parents=True, exist_ok=True)
    name = f"busy-{how}-{seed}"
    runtime, sim_dir, log = base / "runtime", base / "onequant", base / "busy.log"
    registry = TaskRegistry(runtime)
    result = StopResult(how=how)
    with open(base / "busy.stderr", "wb") as err:
        proc = subprocess.Popen(
            jqtrade_command(
                "start_task",
                "-n",
                name,
                "-c",
                STRATEGIES / "busy_callback.py",
                "--runtime-dir",
                runtime,
                "--simulate",
                "2024-06-03..2024-06-07",
                "--broker",
                "sim",
                "--sim-dir",
                sim_dir,
                "-o",
                log,
            ),
            stdout=err,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=cli_env(JQT_BUSY_ORDERS=str(orders), JQT_BUSY_PAUSE=repr(pause)),
        )
    try:
        wait_for(
            lambda: "BUSY STARTED" in _text(log) or proc.poll() is not None,
            "the busy callback",
            TIMEOUT,
            step=0.02,
        )
        # stop_task needs a moment to start Python before its request lands: aim earlier
        time.sleep(rng.uniform(0, orders * pause * (0.3 if how == "stop_task" else 0.6)))
        channel = ControlChannel(registry.control_path(name))
        if how == "sigterm":
            result.requested_mid_callback = "BUSY FINISHED" not in _text(log)
            proc.send_signal(signal.SIGTERM)
        elif how == "control":
            result.requested_mid_callback = "BUSY FINISHED" not in _text(log)
            channel.request_stop("故障测试")
        else:
            stopper = subprocess.Popen(
                jqtrade_command("stop_task", "-n", name, "--runtime-dir", runtime),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                env=cli_env(),
            )
            # the request is on the control channel once its file exists: was the callback still running?
            wait_for(
                lambda: channel.stop_file.exists() or stopper.poll() is not None,
                "the stop request",
                TIMEOUT,
                step=0.005,
            )
            result.requested_mid_callback = (
                channel.stop_file.exists() and "BUSY FINISHED" not in _text(log)
            )
            out, _ = stopper.communicate(timeout=TIMEOUT)
            said = out.decode("utf-8", "replace")
            result.stopper_ok = stopper.returncode == 0 and "已正常停止" in said
            result.final_state = (
                "stopped" if result.stopper_ok else said.strip()
            )  # read from the channel by stop_task
        result.exit_code = proc.wait(TIMEOUT)
        if how == "control":
            result.final_state = channel.result()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(TIMEOUT)
    text = log.read_text(encoding="utf-8")
    finished = re.search(r"BUSY FINISHED (\d+)", text)
    result.callback_finished = finished is not None
    result.orders_placed = int(finished.group(1)) if finished else 0
    hook = re.search(r"STOP HOOK RAN orders=(\d+)", text)
    result.hook_ran = hook is not None and (
        finished is None or text.index(finished.group(0)) < text.index(hook.group(0))
    )
    result.later_job_ran = "LATER RAN" in text
    result.record_released = (
        not registry.record_path(name).exists()
        and not registry.is_held(name)
        and not registry.list()
    )
    journal = OrderJournal(_journal_dir(runtime), name, FLOW_DAY).replay()
    result.orders_journaled = sum(1 for order in journal.values() if order.outcome == "sent")
    result.orders_interrupted = sum(
        1 for order in journal.values() if order.outcome == "interrupted"
    )
    result.orders_at_broker = len(read_algo_orders(sim_dir, FLOW_DAY, "SIM0001"))
    result.seconds = time.monotonic() - started
    return result


# =============================================================================================
# 6. many simulated trading days
# =============================================================================================


@attrs.define
class DaysResult:
    start: datetime.date
    end: datetime.date
    exit_code: int = -1
    trading_days: list[datetime.date] = attrs.Factory(list)  # by the independent oracle
    fired_days: list[datetime.date] = attrs.Factory(list)  # days the every_minute job fired
    closed_day_firings: int = 0
    minutes_per_day: set[int] = attrs.Factory(set)
    month_ends: list[datetime.date] = attrs.Factory(list)  # days run_monthly(-1) fired
    order_file_days: list[datetime.date] = attrs.Factory(list)  # algoOrder_<day>.csv files
    update_file_days: list[datetime.date] = attrs.Factory(list)  # orderUpdate_<day>.csv files
    misfiled_updates: int = 0  # orderUpdate lines whose orderDate is not their file's day
    journal_days: list[datetime.date] = attrs.Factory(list)
    snapshot_days: int = (
        0  # days with an assetInfo file (the embedded broker also polls on closed days)
    )
    orders: int = 0
    final_orders: int = 0  # of those, in a final state at that day's close
    rss_mb: list[float] = attrs.Factory(
        list
    )  # resident memory at each day's close, inside the task
    seconds: float = 0.0

    @property
    def rss_growth_mb(self) -> float:
        return self.rss_mb[-1] - self.rss_mb[0] if self.rss_mb else 0.0


def run_many_days(base: Path, start: datetime.date, end: datetime.date) -> DaysResult:
    """``start_task --simulate start..end --broker sim`` with a strategy that trades every day."""
    started = time.monotonic()
    base.mkdir(parents=True, exist_ok=True)
    report, sim_dir = base / "report.jsonl", base / "onequant"
    proc = subprocess.run(
        jqtrade_command(
            "start_task",
            "-n",
            "many-days",
            "-c",
            STRATEGIES / "many_days.py",
            "--runtime-dir",
            base / "runtime",
            "--simulate",
            f"{start}..{end}",
            "--broker",
            "sim",
            "--sim-dir",
            sim_dir,
            "-o",
            base / "many_days.log",
        ),
        capture_output=True,
        stdin=subprocess.DEVNULL,
        env=cli_env(JQT_FAULT_REPORT=str(report)),
        timeout=TIMEOUT * 20,
    )
    result = DaysResult(start=start, end=end, exit_code=proc.returncode)
    day = start
    while day <= end:
        if is_trading_day(day):
            result.trading_days.append(day)
        day += datetime.timedelta(days=1)
    minutes: collections.Counter[datetime.date] = collections.Counter()
    for line in report.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record["kind"] == "minute":
            minutes[datetime.date.fromisoformat(record["at"][:10])] += 1
        elif record["kind"] == "month_end":
            result.month_ends.append(datetime.date.fromisoformat(record["at"][:10]))
        elif record["kind"] == "close":
            result.rss_mb.append(record["rss"] / 2**20)
            result.orders += record["orders"]
            result.final_orders += record["final"]
    result.fired_days = sorted(minutes)
    trading = set(result.trading_days)
    result.closed_day_firings = sum(count for day, count in minutes.items() if day not in trading)
    result.minutes_per_day = set(minutes.values())

    def days_of(prefix: str, folder: Path, pattern: str = "{}_*.csv") -> list[datetime.date]:
        return sorted(
            datetime.datetime.strptime(path.stem.rsplit("_", 1)[1], "%Y%m%d").date()
            for path in folder.glob(pattern.format(prefix))
        )

    result.order_file_days = days_of("algoOrder", sim_dir)
    result.update_file_days = days_of("orderUpdate", sim_dir)
    result.snapshot_days = len(days_of("assetInfo", sim_dir))
    result.journal_days = days_of("orders_many-days", _journal_dir(base / "runtime"), "{}_*.jsonl")
    for day in result.update_file_days:
        reader = AppendedFileReader(
            DayFiles(sim_dir, day).order_update, ENCODING, default_header=ORDER_UPDATE_HEADER
        )
        result.misfiled_updates += sum(
            1 for row in reader.iter_rows() if row["orderDate"] != f"{day:%Y%m%d}"
        )
    result.seconds = time.monotonic() - started
    return result
