"""Faults that make an account show wrong state, injected the way real machines produce them.

Used by ``tests/fault/test_fault_truth.py`` (small sizes, in CI) and ``bench/bench_faults.py``
(``--only truth``, full sizes, figures for docs/reliability.md). Everything runs in this
process on real files: the account, the OneQuant gate and the simulated broker.

* :func:`run_torn_snapshots` — the incident: the simulator's cash and positions files are left
  half-written at random, sometimes for many minutes, while a strategy calls
  ``order_target`` every minute and moves its target during the day. Counts syncs that
  reported a torn file as fresh and shares bought or sold beyond the target.
* :func:`run_disk_full` — the order file and the journal fail writes at random (``ENOSPC``
  part way through a line); a strategy keeps placing orders. Counts orders lost, sent twice,
  or never settled.
* :func:`run_shared_folder` — several tasks with different runtime folders write into one
  order folder; counts ids sent twice.
* :func:`run_rewrites` — an orderUpdate file rewritten in place with other content of the same
  size; counts rewrites the reader did not notice.
* :func:`run_runaway` — a runaway strategy: one callback calls ``order`` in a tight loop; counts
  what reached the broker and what the default risk limits refused.
"""

from __future__ import annotations

import datetime
import errno
import random
import tempfile
from pathlib import Path
from typing import Any, Callable, Optional

import attrs
import pendulum

from jqtrade import Context, LimitOrderStyle, OrderRejectedError, Strategy
from jqtrade.account.journal import OrderJournal
from jqtrade.clock import MARKET_TZ, SimClock
from jqtrade.errors import GateError, SnapshotUnusableError
from jqtrade.gates.onequant.files import AppendedFileReader, DayFiles, LockedAppender, encode_rows
from jqtrade.gates.onequant.protocol import ORDER_UPDATE_HEADER
from jqtrade.gates.onequant.snapshot import read_snapshot_rows
from jqtrade.options import Options
from jqtrade.runtime import Runtime
from jqtrade.sim import SimulatedOneQuant

DAY = datetime.date(2024, 6, 3)
ACCOUNT = "SIM0001"
CODE = "600000.XSHG"
SYMBOL = "600000.SH"


def at(hour: int, minute: int = 0, day: datetime.date = DAY) -> pendulum.DateTime:
    return pendulum.datetime(day.year, day.month, day.day, hour, minute, tz=MARKET_TZ)


def _runtime(
    folder: Path,
    strategy: Strategy,
    sim: SimulatedOneQuant,
    poll: Callable[[pendulum.DateTime], None],
    start: pendulum.DateTime,
    name: str = "truth",
) -> Runtime:
    runtime = Runtime(
        strategy,
        clock=SimClock(start),
        options=Options().evolve({"runtime_dir": str(folder / "runtime")}),
        task_name=name,
        overrides={
            "trade_gate": "onequant",
            "order_dir": str(sim.directory),
            "account_no": ACCOUNT,
            "file_encoding": "gbk",
        },
        broker_poll=poll,
    )
    runtime.initialize()
    return runtime


def _complete(path: Path) -> bool:
    try:
        read_snapshot_rows(path, "gbk")
    except SnapshotUnusableError:
        return False
    return True


def _net_bought(sim: SimulatedOneQuant) -> int:
    """Shares bought minus sold at the broker, from its own orderUpdate lines."""
    assert sim.files is not None
    reader = AppendedFileReader(sim.files.order_update, "gbk", default_header=ORDER_UPDATE_HEADER)
    last: dict[str, dict[str, str]] = {}
    for row in reader.iter_rows():
        last[row["custBatchNo"]] = row
    net = 0
    for row in last.values():
        filled = int(float(row["filledQty"] or 0))
        net += filled if row["tradeSide"] == "1" else -filled
    return net


# --- torn snapshots --------------------------------------------------------------------------


@attrs.define
class TornResult:
    syncs: int = 0
    torn_reads: int = 0
    reported_fresh_while_torn: int = 0
    orders: int = 0
    overshoot: int = 0  # shares held beyond the largest target (or the start) at any check
    final_held: int = 0
    final_target: int = 0
    stale_minutes: int = 0


class _Targeter(Strategy):
    """order_target every minute; the target moves during the day."""

    #: From 2,000 shares held since yesterday: sell, sell, buy, then sell what is sellable.
    START = 2000
    TARGETS = ((at(9, 30), 1000), (at(10, 30), 400), (at(13, 0), 1500), (at(14, 0), 1100))

    def __init__(self) -> None:
        self.stale_minutes = 0

    def process_initialize(self, context: Context) -> None:
        self.set_options(use_account=True, max_snapshot_age=120)
        self.run_daily(self.trade, "every_minute")

    @classmethod
    def target_at(cls, now: pendulum.DateTime) -> int:
        return [amount for start, amount in cls.TARGETS if start <= now][-1]

    def trade(self, context: Context) -> None:
        if context.portfolio.is_stale:
            self.stale_minutes += 1
            return
        try:
            self.order_target(CODE, self.target_at(context.current_dt), LimitOrderStyle(0))
        except OrderRejectedError:
            pass


def run_torn_snapshots(
    seed: int, *, tear_rate: float = 0.3, folder: Optional[Path] = None
) -> TornResult:
    """One simulated day; each snapshot write is left torn with ``tear_rate``, and a torn file
    stays torn for 1-20 minutes of writes."""
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="jqtrade-torn-") as temp:
        base = folder or Path(temp)
        sim = SimulatedOneQuant(
            base / "broker",
            ACCOUNT,
            cash=1_000_000,
            encoding="gbk",
            latency=0.0,
            snapshot_interval=30.0,
            seed=seed,
            positions={CODE: _Targeter.START},
        )
        result = TornResult()
        torn_until: list[pendulum.DateTime] = [at(0)]

        def poll(now: pendulum.DateTime) -> None:
            sim.poll(now)
            files = sim.files
            if files is None or not files.position_info.exists():
                return
            if now >= torn_until[0] and rng.random() < tear_rate / 10:
                torn_until[0] = now.add(minutes=rng.randint(1, 20))
            if now < torn_until[0]:
                for path in (files.position_info, files.asset_info):
                    data = path.read_bytes()
                    if _complete(path):
                        path.write_bytes(data[: rng.randrange(0, max(1, len(data) - 1))])

        strategy = _Targeter()
        runtime = _runtime(base, strategy, sim, poll, at(9, 0))
        account = runtime.account
        assert account is not None
        sync = account.sync_balance
        largest = [0]

        def checked_sync(**kwargs: Any) -> Any:
            files = sim.files
            torn = (
                files is not None
                and files.position_info.exists()
                and not (_complete(files.position_info) and _complete(files.asset_info))
            )
            now = runtime.clock.now()
            portfolio = sync(**kwargs)
            result.syncs += 1
            if torn:
                result.torn_reads += 1
                if not portfolio.is_stale or portfolio.last_sync_time == now:
                    result.reported_fresh_while_torn += 1
            largest[0] = max(largest[0], strategy.target_at(now) if now >= at(9, 30) else 0)
            held = _Targeter.START + (
                _net_bought(sim) if sim.files is not None and sim.files.order_update.exists() else 0
            )
            result.overshoot = max(result.overshoot, held - max(largest[0], _Targeter.START))
            return portfolio

        account.sync_balance = checked_sync  # type: ignore[method-assign]
        runtime.run(until=at(15, 10))
        result.orders = len(account.get_orders())
        result.final_held = _Targeter.START + _net_bought(sim)
        result.final_target = strategy.target_at(at(15, 0))
        result.stale_minutes = strategy.stale_minutes
        runtime.finish()
        return result


# --- disk full -------------------------------------------------------------------------------


@attrs.define
class DiskResult:
    orders: int = 0  # order() calls that returned an id or raised after the journal intent
    write_failures: int = 0
    journal_failures: int = 0
    refused_journal: int = 0
    lost: int = 0  # an id order() returned (or raised for) that the account does not know
    sent_twice: int = 0  # a custBatchNo twice in algoOrder
    unsettled: int = 0  # orders still "new" at the end of the day
    mismatched: int = 0  # account and broker disagree on an order's status or fills
    examples: list[str] = attrs.field(factory=list)  # the first few disagreements, for the log


class _FlakyHandle:
    """A file handle whose write fails with ENOSPC part way, now and then."""

    def __init__(self, handle: Any, rng: random.Random, rate: float, counter: list[int]) -> None:
        self._handle, self._rng, self._rate, self._counter = handle, rng, rate, counter

    def write(self, data: Any) -> int:
        if self._rng.random() < self._rate:
            self._counter[0] += 1
            cut = self._rng.randrange(0, len(data))
            if cut:
                self._handle.write(bytes(data[:cut]))
            raise OSError(errno.ENOSPC, "No space left on device")
        return self._handle.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)


class _Orderer(Strategy):
    """Places an order every minute; after a failed write it waits for the broker's word."""

    def __init__(self) -> None:
        self.placed: list[str] = []
        self.failures = 0
        self.refused = 0

    def process_initialize(self, context: Context) -> None:
        self.set_options(use_account=True)
        self.run_daily(self.trade, "every_minute")

    def trade(self, context: Context) -> None:
        if any(o.status.value == "new" for o in self.get_orders()):
            return  # a cautious strategy: nothing new while an order is unsettled
        amount = 100 if len(self.placed) % 2 == 0 else -100
        try:
            self.placed.append(
                self.order(CODE, amount if amount > 0 or self.placed else 100, LimitOrderStyle(0))
            )
        except OrderRejectedError as exc:
            if exc.reason == "journal_unwritable":
                self.refused += 1
        except GateError:
            self.failures += 1


def run_disk_full(seed: int, *, write_rate: float = 0.15, journal_rate: float = 0.1) -> DiskResult:
    rng = random.Random(seed)
    result = DiskResult()
    writes = [0]
    journal = [0]
    original_open = LockedAppender._open
    original_write_all = OrderJournal._write_all

    def flaky_open(self: LockedAppender) -> Any:
        handle = original_open(self)
        if "algoOrder_" in self.path.name and "Stop" not in self.path.name:
            return _FlakyHandle(handle, rng, write_rate, writes)
        return handle

    def flaky_journal(handle: Any, data: bytes) -> None:
        if (b'"t":"sent"' in data or b'"t":"state"' in data) and rng.random() < journal_rate:
            journal[0] += 1
            raise OSError(errno.ENOSPC, "No space left on device")
        original_write_all(handle, data)

    LockedAppender._open = flaky_open  # type: ignore[method-assign]
    OrderJournal._write_all = staticmethod(flaky_journal)  # type: ignore[method-assign]
    try:
        with tempfile.TemporaryDirectory(prefix="jqtrade-disk-") as temp:
            base = Path(temp)
            sim = SimulatedOneQuant(
                base / "broker",
                ACCOUNT,
                cash=10_000_000,
                encoding="gbk",
                latency=0.0,
                snapshot_interval=30.0,
                seed=seed,
                positions={CODE: 100_000},
            )
            strategy = _Orderer()
            runtime = _runtime(base, strategy, sim, sim.poll, at(9, 0))
            account = runtime.account
            assert account is not None
            runtime.run(until=at(15, 10))
            orders = {o.order_id: o for o in account.get_orders()}
            assert sim.files is not None
            sent = [
                line.split(",")[1]
                for line in sim.files.algo_order.read_bytes()
                .decode("gbk", "replace")
                .splitlines()[1:]
                if line.count(",") == 11
            ]
            result.orders = len(orders)
            result.write_failures = writes[0]
            result.journal_failures = journal[0]
            result.refused_journal = strategy.refused
            result.lost = sum(1 for oid in strategy.placed if oid not in orders)
            result.sent_twice = len(sent) - len(set(sent))
            result.unsettled = sum(1 for o in orders.values() if o.status.value == "new")
            broker = _broker_states(sim)
            for oid, order in orders.items():
                state = broker.get(oid)
                theirs = (state["status"], state["filled"]) if state else ("rejected", 0)
                if theirs != (order.status.value, order.filled_amount):
                    result.mismatched += 1
                    if len(result.examples) < 5:
                        result.examples.append(
                            f"{oid}: 券商 {theirs}，账户 {(order.status.value, order.filled_amount)}"
                        )
            runtime.finish()
    finally:
        LockedAppender._open = original_open  # type: ignore[method-assign]
        OrderJournal._write_all = staticmethod(original_write_all)  # type: ignore[method-assign]
    return result


_STATUS = {
    "7": "new",
    "0": "open",
    "1": "filling",
    "2": "filled",
    "8": "canceling",
    "3": "partly_canceled",
    "4": "canceled",
    "5": "rejected",
}


def _broker_states(sim: SimulatedOneQuant) -> dict[str, dict[str, Any]]:
    assert sim.files is not None
    states: dict[str, dict[str, Any]] = {}
    if sim.files.order_update.exists():
        reader = AppendedFileReader(
            sim.files.order_update, "gbk", default_header=ORDER_UPDATE_HEADER
        )
        for row in reader.iter_rows():
            states[row["custBatchNo"]] = {
                "status": _STATUS.get(row["status"], "?"),
                "filled": int(float(row["filledQty"] or 0)),
            }
    if sim.files.exec_result.exists():
        reader = AppendedFileReader(sim.files.exec_result, "gbk")
        for row in reader.iter_rows():
            if row.get("resultType") == "1" and row.get("status") == "1":
                states.setdefault(row["custBatchNo"], {"status": "rejected", "filled": 0})
    return states


# --- shared order folder -------------------------------------------------------------------


def run_shared_folder(tasks: int, orders: int) -> tuple[int, int]:
    """``tasks`` accounts, each with its own runtime folder, one order folder; returns
    (ids sent, ids sent twice)."""
    with tempfile.TemporaryDirectory(prefix="jqtrade-ids-") as temp:
        base = Path(temp)
        sim = SimulatedOneQuant(base / "broker", ACCOUNT, cash=10**9, encoding="gbk", latency=0.0)
        sim.poll(at(9, 31))

        class Idle(Strategy):
            def process_initialize(self, context: Context) -> None:
                # hundreds of open orders per task on purpose: the risk limits are not tested here
                self.set_options(
                    use_account=True,
                    risk_max_active_orders=0,
                    risk_max_orders_per_second=0,
                    risk_max_orders_per_minute=0,
                )

        runtimes = [
            _runtime(base / f"task{i}", Idle(), sim, sim.poll, at(9, 31), name=f"task{i}")
            for i in range(tasks)
        ]
        for _ in range(orders):
            for runtime in runtimes:
                assert runtime.account is not None
                runtime.account.order(CODE, 100, LimitOrderStyle(10.0))
        for runtime in runtimes:
            runtime.finish()
        assert sim.files is not None
        ids = [
            line.split(",")[1]
            for line in sim.files.algo_order.read_bytes().decode("gbk").splitlines()[1:]
        ]
        return len(ids), len(ids) - len(set(ids))


# --- rewritten files ------------------------------------------------------------------------


def run_rewrites(count: int, seed: int) -> tuple[int, int]:
    """Rewrite an orderUpdate file in place ``count`` times (same size, other orders);
    returns (rewrites, rewrites the reader missed)."""
    rng = random.Random(seed)
    missed = 0
    with tempfile.TemporaryDirectory(prefix="jqtrade-rewrite-") as temp:
        path = DayFiles(Path(temp), DAY).order_update
        reader = AppendedFileReader(path, "gbk", default_header=ORDER_UPDATE_HEADER)

        def content(tag: int) -> bytes:
            rows = [
                [
                    "093000.000000",
                    "20240603",
                    "093000",
                    "UM0",
                    ACCOUNT,
                    SYMBOL,
                    "1",
                    "0",
                    "100",
                    "10.00",
                    "AT",
                    "0",
                    "0",
                    "0",
                    "0",
                    f"B{tag:06d}{i}",
                    "",
                    f"{tag:06d}{i:04d}",
                    "",
                    "",
                ]
                for i in range(rng.randint(1, 20))
            ]
            return encode_rows([ORDER_UPDATE_HEADER, *rows], "gbk")

        path.write_bytes(content(0))
        reader.read_rows()
        for n in range(1, count + 1):
            data = content(n)
            with open(path, "r+b") as handle:  # in place: the same inode
                handle.truncate(0)
                handle.write(data)
            rows = reader.read_rows()
            ids = {row["custBatchNo"] for row in rows}
            if (
                not ids
                or not all(i.startswith(f"{n:06d}") for i in ids)
                or len(rows) != data.count(b"\n") - 1
            ):
                missed += 1
    return count, missed


# --- runaway strategy -----------------------------------------------------------------------


class _Runaway(Strategy):
    """One callback that calls ``order`` ``attempts`` times in a tight loop (a bug, not a plan)."""

    def __init__(self, attempts: int) -> None:
        self.attempts = attempts
        self.placed = 0
        self.refused: dict[str, int] = {}

    def process_initialize(self, context: Context) -> None:
        self.set_options(use_account=True)
        self.run_daily(self.trade, "10:00")

    def trade(self, context: Context) -> None:
        for _ in range(self.attempts):
            try:
                self.order(CODE, 100, LimitOrderStyle(0))
                self.placed += 1
            except OrderRejectedError as exc:
                self.refused[exc.reason] = self.refused.get(exc.reason, 0) + 1


def run_runaway(attempts: int) -> tuple[int, int, int]:
    """A strategy orders ``attempts`` times in one callback under the default risk limits;
    returns (attempts, orders that reached the broker = lines in algoOrder, refusals).

    The refusals by reason are left in :data:`last_runaway_refusals` for the caller to check."""
    with tempfile.TemporaryDirectory(prefix="jqtrade-runaway-") as temp:
        base = Path(temp)
        sim = SimulatedOneQuant(
            base / "broker",
            ACCOUNT,
            cash=10**9,
            encoding="gbk",
            latency=0.0,
            snapshot_interval=30.0,
            seed=1,
        )
        strategy = _Runaway(attempts)
        runtime = _runtime(base, strategy, sim, sim.poll, at(9, 0), name="runaway")
        runtime.run(until=at(10, 5))
        assert sim.files is not None
        lines = (
            sim.files.algo_order.read_bytes().decode("gbk").splitlines()[1:]
            if sim.files.algo_order.exists()
            else []
        )
        runtime.finish()
    last_runaway_refusals.clear()
    last_runaway_refusals.update(strategy.refused)
    last_runaway_placed[0] = strategy.placed
    return attempts, len([line for line in lines if line.strip()]), sum(strategy.refused.values())


#: Refusals by reason of the last :func:`run_runaway`, and the orders ``order`` accepted.
last_runaway_refusals: dict[str, int] = {}
last_runaway_placed = [0]
