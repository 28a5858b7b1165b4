"""Trading states and restart on crash, end to end: ``halt_task`` / ``reduce_task`` /
``resume_task`` and ``start_task -d --restart on-failure`` on real ``python -m jqtrade``
processes, on the live clock against the embedded simulated broker (``--broker sim``).

The fixture strategies order on request whatever the day and the hour (outside the session
the simulated broker keeps orders open), so nothing here depends on when the tests run.
"""

from __future__ import annotations

import collections
import csv
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from support import wait_for
from tasks_support import gone
from test_cli_tasks import HARD_KILL, STRATEGIES, TIMEOUT, Bench, Task

from jqtrade.clock import MARKET_TZ, LiveClock
from jqtrade.gates.onequant.files import DayFiles
from jqtrade.tasks.supervisor import request_no_restart, supervisor_running

pytestmark = pytest.mark.slow

PROBE = STRATEGIES / "trading_probe.py"
PLAN = STRATEGIES / "plan_flow.py"


class StateBench(Bench):
    """A Bench whose probe tasks share a request file and a simulated broker folder."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.requests = root / "requests.txt"
        self.requests.touch()
        self.sim_dir = root / "onequant"
        self.supervised: list[str] = []

    def probe(self, name: str = "probe") -> Task:
        task = self.start(
            name,
            PROBE,
            "--broker",
            "sim",
            "--sim-dir",
            self.sim_dir,
            JQT_REQUESTS=str(self.requests),
        )
        task.wait_running()
        return task

    def request(self, *kinds: str) -> int:
        """Append order requests; the number of the last one."""
        with open(self.requests, "a", encoding="utf-8") as fh:
            fh.writelines(f"{kind}\n" for kind in kinds)
        return len(self.requests.read_text(encoding="utf-8").split())

    def state(self, command: str, *args: object) -> subprocess.CompletedProcess:
        proc = self.cmd(command, *args)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc

    def detach(self, name: str, code: Path, log: Path, *extra: object, **env: str) -> int:
        self.supervised.append(name)
        proc = self.run(
            "start_task",
            "-n",
            name,
            "-c",
            code,
            "-o",
            log,
            "--runtime-dir",
            self.runtime,
            "--broker",
            "sim",
            "--sim-dir",
            self.sim_dir,
            "-d",
            "--restart",
            "on-failure",
            *extra,
            **env,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        (record,) = self.registry.find(name=name)
        return record.pid

    def cleanup(self) -> None:
        for name in self.supervised:  # no restart of what the cleanup kills
            request_no_restart(self.registry.supervisor_path(name))
        super().cleanup()
        for path in [self.registry.supervisor_path(name) for name in self.supervised]:
            wait_for(lambda path=path: not supervisor_running(path), "the supervisor gone")


@pytest.fixture
def sbench(tmp_path: Path) -> Iterator[StateBench]:
    b = StateBench(tmp_path)
    try:
        yield b
    finally:
        b.cleanup()


def listed_state(bench: Bench, name: str) -> str:
    (entry,) = [e for e in bench.listed() if e["name"] == name]
    return entry["trading_state"]


# --- section 2: the kill switch ----------------------------------------------------------------


def test_halt_reduce_resume_reach_the_running_task(sbench: StateBench):
    task = sbench.probe()
    task.wait_log("PROBE READY state=active")
    assert listed_state(sbench, "probe") == "active"

    out = sbench.state("halt_task", "-n", "probe", "--reason", "盘中检查").stdout
    assert "halted" in out and "暂停交易" in out
    task.wait_log("STATE active -> halted (盘中检查) context=halted")
    n = sbench.request("buy")
    task.wait_log(f"REFUSED {n} trading_halted")
    assert listed_state(sbench, "probe") == "halted"
    table = sbench.cmd("get_tasks").stdout
    assert "交易状态" in table and "暂停交易" in table

    sbench.state("resume_task", "-n", "probe")
    task.wait_log("STATE halted -> active (resume_task) context=active")
    n = sbench.request("buy")
    task.wait_log(f"ORDER {n} ")

    sbench.state("reduce_task", "-p", task.pid)
    task.wait_log("STATE active -> reducing (reduce_task) context=reducing")
    n = sbench.request("buy")
    task.wait_log(f"REFUSED {n} trading_reducing")
    assert listed_state(sbench, "probe") == "reducing"
    # A sell is not refused for the state (the probe holds nothing, so the position check does).
    n = sbench.request("sell")
    wait_for(
        lambda: f"REFUSED {n} " in task.log_text() or f"ORDER {n} " in task.log_text(),
        "the sell handled",
    )
    assert f"REFUSED {n} trading_reducing" not in task.log_text()

    sbench.state("resume_task", "--all")
    task.wait_log("STATE reducing -> active")
    assert listed_state(sbench, "probe") == "active"


def test_the_state_change_arrives_within_a_second(sbench: StateBench):
    task = sbench.probe()
    before = LiveClock().now()
    sbench.state("halt_task", "-n", "probe", "--timeout", "1")
    assert (
        LiveClock().now() - before
    ).total_seconds() < 1.0 + 3.0  # + starting a Python for the command
    task.wait_log("context=halted")


def test_a_halted_task_stays_halted_after_a_restart(sbench: StateBench):
    task = sbench.probe()
    sbench.state("halt_task", "-n", "probe")
    task.wait_log("context=halted")
    assert sbench.cmd("stop_task", "-n", "probe").returncode == 0
    assert task.wait_exit() == 0

    again = sbench.probe()
    again.wait_log("PROBE READY state=halted")
    assert "恢复之前保存的交易状态 halted" in again.log_text()
    assert listed_state(sbench, "probe") == "halted"
    n = sbench.request("buy")
    again.wait_log(f"REFUSED {n} trading_halted")
    sbench.state("resume_task", "-n", "probe")
    n = sbench.request("buy")
    again.wait_log(f"ORDER {n} ")


def test_a_state_saved_for_a_task_that_is_not_running_applies_at_its_start(sbench: StateBench):
    out = sbench.state("reduce_task", "-n", "later").stdout
    assert "当前未运行" in out and "reducing" in out
    task = sbench.probe("later")
    task.wait_log("PROBE READY state=reducing")
    missing = sbench.cmd("halt_task", "-p", "999999")
    assert missing.returncode == 2 and "pid=999999" in missing.stderr


def test_cancel_open_cancels_every_open_order(sbench: StateBench):
    task = sbench.probe()
    n = sbench.request("rest", "rest")
    task.wait_log(f"ORDER {n} ")
    ids = [line.split()[-1] for line in task.log_text().splitlines() if " ORDER " in line]
    assert len(ids) == 2
    sbench.state("halt_task", "-n", "probe", "--cancel-open")
    task.wait_log("已请求撤销全部未完成订单：2 笔")
    today = LiveClock().now().in_tz(MARKET_TZ).date()
    stops = DayFiles(sbench.sim_dir, today).algo_order_stop

    def stopped() -> list[str]:
        if not stops.exists():
            return []
        with open(stops, encoding="gbk", newline="") as fh:
            return sorted(row["custBatchNo"] for row in csv.DictReader(fh))

    wait_for(lambda: stopped() == sorted(ids), "both orders canceled at the broker")


# --- section 4: restart on crash ----------------------------------------------------------------


def test_a_killed_task_is_restarted_and_stop_task_stops_it_for_good(sbench: StateBench):
    log = sbench.root / "probe.log"
    first = sbench.detach("probe", PROBE, log, JQT_REQUESTS=str(sbench.requests))
    n = sbench.request("buy")
    wait_for(lambda: f"ORDER {n} " in log.read_text(encoding="utf-8"), "the first order")
    psutil.Process(first).send_signal(HARD_KILL)

    def restarted() -> object:
        return next(
            (
                r
                for r in sbench.registry.find(name="probe")
                if r.pid != first and r.state == "running"
            ),
            None,
        )

    record = wait_for(restarted, "the task running again under a new pid", TIMEOUT)
    assert record.restarts == 1 and listed_state(sbench, "probe") == "active"
    text = log.read_text(encoding="utf-8")
    assert (
        "任务 probe 异常退出（状态 -9），第 1 次重启（1 秒后）" in text or sys.platform == "win32"
    ), text
    n = sbench.request("buy")  # it goes on: the next request, not the old ones again
    wait_for(lambda: f"ORDER {n} " in log.read_text(encoding="utf-8"), "an order after the restart")
    assert log.read_text(encoding="utf-8").count("ORDER 1 ") == 1

    stop = sbench.cmd("stop_task", "-n", "probe")
    assert stop.returncode == 0, stop.stdout + stop.stderr
    supervisor = sbench.registry.supervisor_path("probe")
    wait_for(lambda: not supervisor_running(supervisor), "the supervisor gone")
    assert gone(record.pid) and sbench.listed() == []
    assert "已由 stop_task 停止" in log.read_text(encoding="utf-8")


def test_the_restart_limit_gives_up_with_a_clear_line(sbench: StateBench):
    log = sbench.root / "probe.log"
    pid = sbench.detach(
        "probe", PROBE, log, "--max-restarts", "0", JQT_REQUESTS=str(sbench.requests)
    )
    psutil.Process(pid).send_signal(HARD_KILL)
    supervisor = sbench.registry.supervisor_path("probe")
    wait_for(lambda: not supervisor_running(supervisor), "the supervisor gone")
    assert "已重启 0 次达到上限 --max-restarts，不再重启" in log.read_text(encoding="utf-8")
    assert sbench.listed() == []


def test_restart_needs_detach(sbench: StateBench):
    proc = sbench.cmd("start_task", "-n", "x", "-c", PROBE, "--restart", "on-failure")
    assert proc.returncode == 2 and "-d" in proc.stderr
    proc = sbench.cmd("start_task", "-n", "x", "-c", PROBE, "-d", "--max-restarts", "3")
    assert proc.returncode == 2 and "--restart on-failure" in proc.stderr


def test_kill_9_mid_day_with_restart_loses_and_repeats_no_order(sbench: StateBench):
    size = 30
    log = sbench.root / "plan.log"
    first = sbench.detach("plan", PLAN, log, JQT_PLAN_SIZE=str(size))
    wait_for(
        lambda: log.read_text(encoding="utf-8").count("PLAN SENT") >= 8, "a third of the plan sent"
    )
    psutil.Process(first).send_signal(HARD_KILL)
    wait_for(
        lambda: "PLAN DONE" in log.read_text(encoding="utf-8"),
        "the plan done after the restart",
        60,
    )
    (record,) = sbench.registry.find(name="plan")
    assert record.pid != first and record.restarts == 1

    today = LiveClock().now().in_tz(MARKET_TZ).date()
    with open(DayFiles(sbench.sim_dir, today).algo_order, encoding="gbk", newline="") as fh:
        rows = [row for row in csv.DictReader(fh) if row.get("custBatchNo")]
    per_batch = collections.Counter(row["custBatchNo"] for row in rows)
    per_amount = collections.Counter(int(float(row["targetQty"])) for row in rows)
    duplicated = [b for b, count in per_batch.items() if count > 1]
    lost = [k for k in range(size) if per_amount[100 * (k + 1)] == 0]
    repeated = [amount for amount, count in per_amount.items() if count > 1]
    assert (lost, duplicated, repeated) == ([], [], []), (lost, duplicated, repeated)
    assert len(rows) == size


def test_help_of_the_new_commands_is_chinese(sbench: StateBench):
    for command in ("halt_task", "reduce_task", "resume_task"):
        proc = sbench.run(command, "-h")
        assert proc.returncode == 0 and "用法" in proc.stdout and "交易状态" in proc.stdout
    assert "--cancel-open" not in sbench.run("resume_task", "-h").stdout
    assert "on-failure" in sbench.run("start_task", "-h").stdout
