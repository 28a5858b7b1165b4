"""Whole simulated trading days through ``jqtrade start_task --simulate ... --broker sim``.

Real processes, real files: the embedded simulated OneQuant writes the broker's CSV files in a
folder under ``tmp_path``; the task's journal is in its ``--runtime-dir``. Afterwards the
journal is compared with the broker's files, read back independently with ``csv``.
"""

from __future__ import annotations

import csv
import datetime
import subprocess
from pathlib import Path

import pytest
from e2e_support import (
    FINAL_CODES,
    SCRIPTS,
    STRATEGIES,
    BrokerFiles,
    journal,
    journal_state,
    jqtrade,
    logged,
    read_text,
    sim_state_dir,
    state_of,
)
from support import cli_env

from jqtrade.account.ids import order_id_day
from jqtrade.tasks.summary import ORDER_ROWS

pytestmark = pytest.mark.slow

DAY1 = datetime.date(2024, 6, 3)
DAY2 = datetime.date(2024, 6, 4)
SIM_ACCOUNT = "SIM0001"  # the account the embedded simulator plays
SUMMARY_TITLE = "运行汇总 · 模拟券商（非真实交易） · 模拟时钟"


class SimRun:
    """One ``start_task --simulate ... --broker sim`` process and the folders it used."""

    def __init__(self, root: Path, name: str, code: Path, days: str) -> None:
        self.root, self.name = root, name
        self.runtime = root / "runtime"
        self.sim_dir = root / "onequant"
        self.log = root / f"{name}.log"
        root.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            jqtrade(
                "start_task",
                "-n",
                name,
                "-c",
                code,
                "--simulate",
                days,
                "--broker",
                "sim",
                "--sim-dir",
                self.sim_dir,
                "--runtime-dir",
                self.runtime,
                "-o",
                self.log,
            ),
            cwd=root,
            env=cli_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
        )
        self.stdout = self.stderr = ""
        self.returncode: int | None = None

    def wait(self, timeout: float = 90) -> SimRun:
        out, err = self.proc.communicate(timeout=timeout)
        self.stdout, self.stderr = out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
        self.returncode = self.proc.returncode
        return self

    @property
    def log_text(self) -> str:
        return read_text(self.log)

    def broker(self, day: datetime.date) -> BrokerFiles:
        return BrokerFiles(self.sim_dir, day)

    def listed_orders(self) -> list[dict[str, str]]:
        """The run's ``orders.csv`` (every order of the run, as the summary says)."""
        path = sim_state_dir(self.runtime, self.name) / "orders.csv"
        with open(path, encoding="utf-8-sig", newline="") as handle:
            return list(csv.DictReader(handle))

    def journal(self, day: datetime.date):
        """A simulated run keeps its journal in a state folder of its own, never the live one."""
        assert not (self.runtime / "journal").exists()
        return journal(sim_state_dir(self.runtime, self.name), self.name, day)


@pytest.fixture(scope="module")
def seed_runs(tmp_path_factory) -> dict[str, SimRun]:
    """The seed README strategy and its class twin, one simulated day each, run side by side."""
    base = tmp_path_factory.mktemp("seed")
    runs = {
        "function": SimRun(
            base / "function", "seed", SCRIPTS / "seed_strategy.py", DAY1.isoformat()
        ),
        "class": SimRun(base / "class", "seed_class", SCRIPTS / "seed_class.py", DAY1.isoformat()),
    }
    return {kind: run.wait() for kind, run in runs.items()}


def check_day_against_broker(run: SimRun, day: datetime.date) -> dict:
    """The checks every simulated day must pass; returns the day's journal."""
    recorded = run.journal(day)
    broker = run.broker(day)
    sent = broker.order_ids(SIM_ACCOUNT)
    assert len(sent) == len(set(sent)), "an order id appears twice in algoOrder"
    assert set(recorded) == set(sent), "the journal and algoOrder disagree about which orders exist"
    assert all(r.outcome == "sent" for r in recorded.values())
    latest = broker.latest(SIM_ACCOUNT)
    assert set(latest) == set(sent), "the broker did not answer every order"
    return recorded


@pytest.mark.parametrize("kind", ["function", "class"])
def test_seed_strategy_over_one_simulated_day(seed_runs, kind):
    run = seed_runs[kind]
    assert run.returncode == 0, run.stderr + run.log_text[-3000:]
    assert "Traceback" not in run.log_text and " ERROR " not in run.log_text

    # the summary: orders, positions and cash, labelled as simulated
    for part in (
        f"{SUMMARY_TITLE} · 订单",
        "持仓",
        "总资产",
        "可用资金",
    ):  # (narrow tables wrap titles)
        assert part in run.stdout

    recorded = check_day_against_broker(run, DAY1)
    assert len(recorded) >= 200  # every minute of the day, as the seed strategy does
    broker = run.broker(DAY1)
    latest = broker.latest(SIM_ACCOUNT)
    canceled_by_strategy = set(broker.cancel_ids())
    for order_id, recovered in recorded.items():
        row = latest[order_id]
        assert journal_state(recovered) == state_of(row), f"order {order_id}: journal vs broker"
        assert row["status"] in FINAL_CODES or order_id in canceled_by_strategy
    # the summary shows the last orders and lists every one, with its final status, in a file
    listed = run.listed_orders()
    assert sorted(row["订单号"] for row in listed) == sorted(recorded)
    assert {row["状态"] for row in listed} <= {"已撤", "已成交"}
    rows = [line for line in run.stdout.splitlines() if "000002.XSHE" in line]
    assert [line.split("│")[2].strip() for line in rows] == [
        row["订单号"] for row in listed[-ORDER_ROWS:]
    ]
    assert f"只列出最后 {ORDER_ROWS} 个订单" in run.stdout and "orders.csv" in run.stdout


def test_class_twin_trades_exactly_like_the_seed_script(seed_runs):
    def trades(run: SimRun) -> list[tuple]:
        return [
            (order_id, r.request.code, r.request.amount, journal_state(r))
            for order_id, r in run.journal(DAY1).items()
        ]

    assert trades(seed_runs["class"]) == trades(seed_runs["function"])


@pytest.fixture(scope="module")
def two_days(tmp_path_factory) -> SimRun:
    base = tmp_path_factory.mktemp("two_days")
    return SimRun(base, "two_days", STRATEGIES / "two_days.py", f"{DAY1}..{DAY2}").wait()


def test_crossing_midnight_switches_files_ids_and_orders(two_days):
    run = two_days
    assert run.returncode == 0, run.stderr + run.log_text[-3000:]
    assert "Traceback" not in run.log_text

    # new files are used on day 2, and they hold day-2 orders only
    for day in (DAY1, DAY2):
        files = run.broker(day).files
        for path in (
            files.algo_order,
            files.order_update,
            files.exec_result,
            files.asset_info,
            files.position_info,
        ):
            assert path.exists(), path
    day1 = check_day_against_broker(run, DAY1)
    day2 = check_day_against_broker(run, DAY2)
    day2_updates = run.broker(DAY2).updates(SIM_ACCOUNT)
    assert day2_updates and {row["orderDate"] for row in day2_updates} == {"20240604"}
    assert {row["custBatchNo"] for row in day2_updates} == set(day2)
    # ids restart per day (the files are per day) and never collide within one
    assert {order_id_day(i) for i in day2} == {DAY2} and min(int(i[6:]) for i in day2) == 1
    assert len(day1) > len(day2)

    # old offsets were not reused: day 2's much shorter files were read from their start
    assert (
        run.broker(DAY1).files.order_update.stat().st_size
        > 3 * run.broker(DAY2).files.order_update.stat().st_size
    )
    latest2 = run.broker(DAY2).latest(SIM_ACCOUNT)
    for order_id, recovered in day2.items():
        assert journal_state(recovered) == state_of(latest2[order_id]), f"day-2 order {order_id}"
    states2 = sorted(journal_state(r)[0] for r in day2.values())
    assert states2 == ["canceled", "canceled", "filled", "filled"]

    # day 1 as the task saw it; the order left open expires at the broker after the day change
    (kept,) = [r for r in logged(run.log_text, "kept_open") if r["day"] == DAY1.isoformat()]
    (open_id,) = kept["ids"]
    latest1 = run.broker(DAY1).latest(SIM_ACCOUNT)
    for order_id, recovered in day1.items():
        if order_id != open_id:
            assert journal_state(recovered) == state_of(latest1[order_id]), (
                f"day-1 order {order_id}"
            )
    assert journal_state(day1[open_id])[0] == "open"
    assert state_of(latest1[open_id]) == ("canceled", 0, 100)

    # get_orders shows today's orders only, from the first moment of day 2
    seen = {(r["day"], r["at"]): r for r in logged(run.log_text, "orders")}
    assert seen[(DAY2.isoformat(), "08:00:00")]["orders"] == []
    assert seen[(DAY2.isoformat(), "09:00:00")]["orders"] == []
    end_of_day2 = seen[(DAY2.isoformat(), "15:30:00")]["orders"]
    assert {o["order_id"] for o in end_of_day2} == set(day2)
    assert {o["created"] for o in end_of_day2} == {DAY2.isoformat()}
    end_of_day1 = seen[(DAY1.isoformat(), "15:30:00")]["orders"]
    assert {o["order_id"] for o in end_of_day1} == set(day1)

    # the summary covers both days: every order of each, not only the last day's
    listed = run.listed_orders()
    assert sorted((row["日期"], row["订单号"]) for row in listed) == sorted(
        [(DAY1.isoformat(), i) for i in day1] + [(DAY2.isoformat(), i) for i in day2]
    )
    summary_rows = [line for line in run.stdout.splitlines() if line.startswith("│ 2024-06-0")]
    assert [line.split("│")[2].strip() for line in summary_rows] == [
        row["订单号"] for row in listed[-ORDER_ROWS:]
    ], run.stdout
    assert f"共 {len(day1) + len(day2)} 个订单" in run.stdout

    # what day 1 bought is sellable on day 2 (T+1), and the sell went through
    assert seen[(DAY2.isoformat(), "09:00:00")]["positions"] == {"600000.XSHG": [1000, 1000]}
    sells = [r for r in day2.values() if r.request.code == "600000.XSHG" and not r.request.is_buy]
    assert [journal_state(r) for r in sells] == [("filled", 1000, 0)]
