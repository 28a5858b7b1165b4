"""Helpers shared by the end-to-end tests: processes, polling, and reading what is on disk.

The broker's side is read here with the stdlib ``csv`` module, independently of the gate's own
readers, so a test compares the gate's view with a second reading of the same files.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional

import pendulum
from support import cli_env

from jqtrade.account.journal import OrderJournal, RecoveredOrder
from jqtrade.calendar import TradingCalendar
from jqtrade.clock import MARKET_TZ, LiveClock
from jqtrade.gates.onequant.files import DayFiles

HERE = Path(__file__).resolve().parent
SCRIPTS = HERE.parent / "account" / "scripts"  # the seed strategy and its class twin, shared
STRATEGIES = HERE / "strategies"
TIMEOUT = 30.0

#: OneQuant status codes -> jqtrade status names.
STATUS_BY_CODE = {
    "7": "new",
    "0": "open",
    "1": "filling",
    "2": "filled",
    "8": "canceling",
    "3": "partly_canceled",
    "4": "canceled",
    "5": "rejected",
}
FINAL_CODES = frozenset({"2", "3", "4", "5"})
#: Marker of the JSON lines the e2e strategies log.
TAG = "E2E-JSON "


def jqtrade(*args: object) -> list[str]:
    return [sys.executable, "-m", "jqtrade", *map(str, args)]


# --- live clock ----------------------------------------------------------------------------


def market_now() -> pendulum.DateTime:
    return LiveClock().now().in_tz(MARKET_TZ)


def skip_unless_trading_day(pytest: Any, lead: float = 60.0) -> None:
    """Live-clock tests need jobs to fire today: skip on closed days and just before midnight."""
    now = market_now()
    if not TradingCalendar.builtin().is_trading_day(now.date()):
        pytest.skip(f"上海今天 {now.date()} 不是交易日：实时时钟上的定时任务今天不会触发")
    if now.add(seconds=int(lead)).date() != now.date():
        pytest.skip("离上海午夜不到一分钟：定时任务的时间会跨日")


def clock_text(at: pendulum.DateTime) -> str:
    return at.in_tz(MARKET_TZ).format("HH:mm:ss")


# --- logs ------------------------------------------------------------------------------------


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""


def logged(text: str, event: Optional[str] = None) -> list[dict[str, Any]]:
    """The JSON records the e2e strategies log (``E2E-JSON {...}``), optionally of one event."""
    out = []
    for line in text.splitlines():
        _, sep, data = line.partition(TAG)
        if not sep:
            continue
        record = json.loads(data)
        if event is None or record.get("event") == event:
            out.append(record)
    return out


# --- broker files ----------------------------------------------------------------------------


def _complete_lines(path: Path, encoding: str) -> Iterator[list[str]]:
    """Complete, decodable lines of an appended file, split by csv; the header first."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return
    for raw in data.split(b"\n")[:-1]:  # the part after the last newline is not finished
        try:
            text = raw.decode(encoding).rstrip("\r")
        except UnicodeDecodeError:
            continue
        if not text.strip(", "):
            continue
        yield next(csv.reader(io.StringIO(text)))


class BrokerFiles:
    """One trading day of one folder, read back with ``csv`` (bad lines skipped)."""

    def __init__(self, directory: Path, day: datetime.date, encoding: str = "gbk") -> None:
        self.files = DayFiles(Path(directory), day)
        self.encoding = encoding

    def rows(self, path: Path) -> list[dict[str, str]]:
        lines = _complete_lines(path, self.encoding)
        header = next(lines, None)
        if header is None:
            return []
        return [dict(zip(header, fields)) for fields in lines if len(fields) == len(header)]

    def order_ids(self, account: Optional[str] = None) -> list[str]:
        """``custBatchNo`` of every line in ``algoOrder``, in file order (duplicates kept)."""
        return [
            row["custBatchNo"]
            for row in self.rows(self.files.algo_order)
            if account is None or row["acct"] == account
        ]

    def cancel_ids(self) -> list[str]:
        return [row["custBatchNo"] for row in self.rows(self.files.algo_order_stop)]

    def updates(self, account: str) -> list[dict[str, str]]:
        """Well-formed ``orderUpdate`` lines of ``account`` with a known status and numbers."""
        good = []
        for row in self.rows(self.files.order_update):
            if (
                row["acct"] != account
                or row["status"] not in STATUS_BY_CODE
                or not row["custBatchNo"]
            ):
                continue
            if not all(row[key].isdigit() for key in ("orderQty", "filledQty", "cancelQty")):
                continue
            good.append(row)
        return good

    def latest(self, account: str) -> dict[str, dict[str, str]]:
        """The last good line per order: the broker's current view of each order."""
        return {row["custBatchNo"]: row for row in self.updates(account)}

    def exec_results(self) -> list[dict[str, str]]:
        return self.rows(self.files.exec_result)


def state_of(row: dict[str, str]) -> tuple[str, int, int]:
    """(status, filled, canceled) of an ``orderUpdate`` line, in jqtrade's words."""
    return STATUS_BY_CODE[row["status"]], int(row["filledQty"]), int(row["cancelQty"])


def journal(runtime_dir: Path, task: str, day: datetime.date) -> dict[str, RecoveredOrder]:
    """The journal of a live task (its state is the runtime folder itself)."""
    return OrderJournal(Path(runtime_dir) / "journal", task, day).replay()


def sim_state_dir(runtime_dir: Path, task: str) -> Path:
    """The state folder of the only simulated run of ``task`` in ``runtime_dir``."""
    (folder,) = (Path(runtime_dir) / "sim").glob(f"{task}-*")
    return folder


def journal_state(recovered: RecoveredOrder) -> tuple[str, int, int]:
    order = recovered.to_order().snapshot()
    return order.status.value, order.filled_amount, order.canceled_amount


def snapshot_state(order: dict[str, Any]) -> tuple[str, int, int]:
    """The same triple from an order the strategies log (see strategies/live_trader.py)."""
    return order["status"], order["filled_amount"], order["canceled_amount"]


def write_prices(path: Path, prices: dict[str, float]) -> Path:
    """A ``code,time,price`` file with one constant price per code for the whole day."""
    lines = ["code,time,price"] + [f"{code},00:00:00,{price:.2f}" for code, price in prices.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class Proc:
    """A process started by a test, with its output in files; killed at teardown if still alive."""

    def __init__(
        self, args: list[str], root: Path, name: str, env: Optional[dict[str, str]] = None
    ) -> None:
        self.name = name
        self.stdout_path = root / f"{name}.stdout"
        self.stderr_path = root / f"{name}.stderr"
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                args,
                cwd=root,
                env=env or cli_env(),
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
            )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def output(self) -> str:
        return read_text(self.stdout_path) + read_text(self.stderr_path)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        if self.alive():
            self.proc.kill()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:  # pragma: no cover - a stuck kill is an OS problem
            pass
