"""Task management end to end: real ``python -m jqtrade`` processes on a live clock.

Every task runs in a temporary runtime folder (``--runtime-dir``) and logs to a file (``-o``).
Graceful stops must go through the control channel (the log says "收到停止请求（stop_task）"),
which is the path Windows users get too. Conditions are polled, never waited for with fixed
sleeps.
"""

from __future__ import annotations

import csv
import datetime
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Optional

import pendulum
import psutil
import pytest
from support import cli_env, wait_for
from tasks_support import gone

import jqtrade
from jqtrade.calendar import TradingCalendar
from jqtrade.clock import MARKET_TZ, LiveClock
from jqtrade.gates.onequant.files import DayFiles
from jqtrade.tasks.registry import TaskRecord, TaskRegistry

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
STRATEGIES = Path(__file__).parent / "strategies"
IDLE = STRATEGIES / "idle.py"
LONG = STRATEGIES / "long_callback.py"
PREVIEW = STRATEGIES / "schedule_preview.py"
BUYER = STRATEGIES / "daily_buyer.py"
IDLE_ACCOUNT = STRATEGIES / "idle_account.py"

POSIX = sys.platform != "win32"
posix_only = pytest.mark.skipif(not POSIX, reason="POSIX signals and sessions")
HARD_KILL = getattr(signal, "SIGKILL", signal.SIGTERM)  # SIGTERM is TerminateProcess on Windows

TIMEOUT = 30.0  # generous: a loaded CI machine may start Python slowly
CONTROL_STOP = "收到停止请求（stop_task）"
STOPPED = "已停止"
HOOK = "STOP HOOK RAN"
NO_TASKS = "当前没有运行中的任务"


def error_lines(proc: subprocess.CompletedProcess) -> list[str]:
    return [line for line in proc.stderr.splitlines() if line.strip()]


class Task:
    """One ``start_task`` process started by a test (foreground, output in a log file)."""

    def __init__(self, bench: Bench, name: str, proc: subprocess.Popen, log: Path) -> None:
        self.bench, self.name, self.proc, self.log = bench, name, proc, log

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log_text(self) -> str:
        try:
            return self.log.read_text(encoding="utf-8")
        except FileNotFoundError:
            return ""

    def wait_log(self, text: str, timeout: float = TIMEOUT) -> None:
        def seen() -> bool:
            if text in self.log_text():
                return True
            if self.proc.poll() is not None and text not in self.log_text():
                raise AssertionError(
                    f"task {self.name} exited ({self.proc.returncode}) before logging {text!r}:\n{self.log_text()}"
                )
            return False

        wait_for(seen, f"{text!r} in the log of {self.name}", timeout)

    def wait_running(self, timeout: float = TIMEOUT) -> TaskRecord:
        def running() -> Optional[TaskRecord]:
            if self.proc.poll() is not None:
                stderr = self.bench.stderr_of(self.name)
                raise AssertionError(
                    f"task {self.name} exited ({self.proc.returncode}):\n{self.log_text()}\n{stderr}"
                )
            for record in self.bench.registry.find(name=self.name):
                if record.pid == self.pid and record.state == "running":
                    return record
            return None

        return wait_for(running, f"task {self.name} running", timeout)  # type: ignore[return-value]

    def wait_exit(self, timeout: float = TIMEOUT) -> int:
        return self.proc.wait(timeout)


class Bench:
    """A runtime folder plus the processes a test started in it; cleans up after the test."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.runtime = root / "runtime"
        self.registry = TaskRegistry(self.runtime)
        self.tasks: list[Task] = []

    def run(
        self,
        *args: object,
        timeout: float = 60,
        cwd: Optional[Path] = None,
        encoding: str = "utf-8",
        **env: str,
    ) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "jqtrade", *map(str, args)],
            cwd=cwd or self.root,
            env=cli_env(**env),
            capture_output=True,
            text=True,
            encoding=encoding,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    def cmd(self, command: str, *args: object, **kwargs: object) -> subprocess.CompletedProcess:
        """A subcommand that takes ``--runtime-dir``, pointed at this bench's folder."""
        return self.run(command, *args, "--runtime-dir", self.runtime, **kwargs)  # type: ignore[arg-type]

    def start(self, name: str, code: Path = IDLE, *extra: object, **env: str) -> Task:
        log = self.root / f"{name}.log"
        with open(self.root / f"{name}.stderr", "wb") as err:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "jqtrade",
                    "start_task",
                    "-n",
                    name,
                    "-c",
                    str(code),
                    "-o",
                    str(log),
                    "--runtime-dir",
                    str(self.runtime),
                    *map(str, extra),
                ],
                cwd=self.root,
                env=cli_env(**env),
                stdin=subprocess.DEVNULL,
                stdout=err,
                stderr=subprocess.STDOUT,
            )
        task = Task(self, name, proc, log)
        self.tasks.append(task)
        return task

    def stderr_of(self, name: str) -> str:
        return (self.root / f"{name}.stderr").read_text(encoding="utf-8", errors="replace")

    def listed(self) -> list[dict]:
        proc = self.cmd("get_tasks", "--json")
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    def cleanup(self) -> None:
        for task in self.tasks:
            if task.proc.poll() is None:
                task.proc.kill()
            task.proc.wait(TIMEOUT)
        for record in self.registry.list():  # detached tasks are not our children
            try:
                psutil.Process(record.pid).kill()
            except psutil.NoSuchProcess:
                pass
        wait_for(lambda: not self.registry.list(), "all tasks gone")


@pytest.fixture
def bench(tmp_path: Path) -> Iterator[Bench]:
    b = Bench(tmp_path)
    try:
        yield b
    finally:
        b.cleanup()


def assert_graceful(task: Task) -> None:
    """Exit 0 after a stop through the control channel, with the stop hook run."""
    assert task.wait_exit() == 0, task.log_text()
    log = task.log_text()
    assert CONTROL_STOP in log, log
    assert HOOK in log, log
    assert f"任务 {task.name} {STOPPED}" in log, log
    assert log.index(CONTROL_STOP) < log.index(HOOK) < log.index(f"任务 {task.name} {STOPPED}")


# --- listing --------------------------------------------------------------------------------


def test_nothing_running(bench: Bench):
    plain = bench.cmd("get_tasks")
    assert plain.returncode == 0 and plain.stdout.strip() == NO_TASKS
    assert bench.listed() == []
    stop_all = bench.cmd("stop_task", "--all")
    assert stop_all.returncode == 0 and NO_TASKS in stop_all.stdout


# --- starting -------------------------------------------------------------------------------


def test_duplicate_name_is_refused_naming_the_running_pid(bench: Bench):
    first = bench.start("dup")
    first.wait_running()
    second = bench.cmd("start_task", "-n", "dup", "-c", IDLE, "-o", bench.root / "second.log")
    assert second.returncode == 2
    lines = error_lines(second)
    assert len(lines) == 1 and "Traceback" not in second.stderr, second.stderr
    assert "已在运行" in lines[0] and f"pid {first.pid}" in lines[0] and "dup" in lines[0]
    assert not (bench.root / "second.log").exists() or "已启动" not in (
        bench.root / "second.log"
    ).read_text(encoding="utf-8")
    # The first task is untouched and still the one listed.
    assert first.proc.poll() is None
    assert [(t["name"], t["pid"]) for t in bench.listed()] == [("dup", first.pid)]


def test_a_killed_task_leaves_nothing_blocking(bench: Bench):
    dead = bench.start("phoenix")
    dead.wait_running()
    os.kill(dead.pid, HARD_KILL)
    assert dead.wait_exit() != 0
    assert bench.registry.record_path("phoenix").exists()  # stale record left behind by the kill

    reborn = bench.start("phoenix")
    reborn.wait_running()
    listed = bench.listed()
    assert [(t["name"], t["pid"]) for t in listed] == [("phoenix", reborn.pid)]
    assert dead.pid not in [t["pid"] for t in listed]

    os.kill(reborn.pid, HARD_KILL)
    reborn.wait_exit()
    plain = bench.cmd("get_tasks")
    assert plain.returncode == 0 and plain.stdout.strip() == NO_TASKS
    assert not bench.registry.record_path("phoenix").exists()  # the stale record was cleaned


# --- graceful stops -------------------------------------------------------------------------


@pytest.mark.parametrize("selector", ["name", "pid"])
def test_stop_one_task_gracefully(bench: Bench, selector: str):
    target = bench.start("target")
    other = bench.start("other")
    target.wait_running()
    other.wait_running()
    args = ["-n", "target"] if selector == "name" else ["-p", target.pid]
    stop = bench.cmd("stop_task", *args)
    assert stop.returncode == 0, stop.stdout + stop.stderr
    assert f"target（pid {target.pid}）" in stop.stdout and "已正常停止" in stop.stdout
    assert_graceful(target)
    # Only the selected task stopped.
    assert other.proc.poll() is None
    assert [t["name"] for t in bench.listed()] == ["other"]


def test_stop_all_gracefully(bench: Bench):
    tasks = [bench.start(name) for name in ("alpha", "beta", "甲乙")]
    for task in tasks:
        task.wait_running()
    stop = bench.cmd("stop_task", "--all", "-n", "alpha")  # --all wins over -n
    assert stop.returncode == 0, stop.stdout + stop.stderr
    for task in tasks:
        assert f"{task.name}（pid {task.pid}）：已正常停止" in stop.stdout
        assert_graceful(task)
    assert bench.listed() == []


def _stop_during_long_callback(bench: Bench, task: Task) -> None:
    task.wait_log("LONG STARTED")
    stopper = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jqtrade",
            "stop_task",
            "-n",
            "slow",
            "--runtime-dir",
            str(bench.runtime),
        ],
        cwd=bench.root,
        env=cli_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    stop_file = bench.registry.control_path("slow").with_name("slow.control.stop")
    wait_for(stop_file.exists, "the stop request on the control channel")
    assert "LONG FINISHED" not in task.log_text()  # the request came while the callback ran
    out, err = stopper.communicate(timeout=TIMEOUT)
    assert stopper.returncode == 0, out + err
    assert "已正常停止" in out
    assert_graceful(task)
    log = task.log_text()
    assert (
        log.index("LONG STARTED")
        < log.index("LONG FINISHED")
        < log.index(CONTROL_STOP)
        < log.index(HOOK)
    )
    assert "LATER JOB RAN" not in log  # nothing else runs once the stop was seen


def test_graceful_stop_lets_the_running_callback_finish_simulated_clock(bench: Bench):
    # A multi-day simulation would run on without the stop; the callback sleeps in real time.
    task = bench.start("slow", LONG, "--simulate", "2024-06-03..2024-06-07", JQT_LONG_SECONDS="2")
    _stop_during_long_callback(bench, task)


def test_graceful_stop_lets_the_running_callback_finish_live_clock(bench: Bench):
    now = LiveClock().now().in_tz(MARKET_TZ)
    slot = now.add(seconds=6).replace(microsecond=0)
    if (
        not TradingCalendar.builtin().is_trading_day(now.date())
        or slot.add(minutes=1).date() != now.date()
    ):
        pytest.skip(
            "today (Asia/Shanghai) is not a trading day, or the job would fall after midnight"
        )
    task = bench.start(
        "slow",
        LONG,
        JQT_LONG_AT=slot.format("HH:mm:ss"),
        JQT_LATER_AT=slot.add(seconds=30).format("HH:mm:ss"),
        JQT_LONG_SECONDS="2",
    )
    record = wait_for(
        lambda: next((r for r in bench.registry.find(name="slow") if r.next_job), None),
        "the task's next job",
    )
    if not record.next_job.startswith(slot.format("YYYY-MM-DD HH:mm:ss")):  # type: ignore[attr-defined]
        pytest.skip(f"the task started after its job time {slot} (a very slow machine)")
    _stop_during_long_callback(bench, task)


def test_stop_timeout_is_reported_and_the_request_stays(bench: Bench):
    task = bench.start(
        "stubborn", LONG, "--simulate", "2024-06-03..2024-06-07", JQT_LONG_SECONDS="4"
    )
    task.wait_log("LONG STARTED")
    stop = bench.cmd("stop_task", "-n", "stubborn", "--timeout", "0.3")
    assert stop.returncode == 1, stop.stdout + stop.stderr
    assert "stubborn" in stop.stdout and "仍在运行" in stop.stdout
    assert_graceful(task)  # the pending request still stops it once the callback returns
    assert "LATER JOB RAN" not in task.log_text()


@posix_only
def test_ctrl_c_in_the_foreground_stops_gracefully(bench: Bench):
    task = bench.start("fg")
    task.wait_running()
    task.proc.send_signal(signal.SIGINT)
    assert task.wait_exit() == 0, task.log_text()
    log = task.log_text()
    assert "原因：SIGINT" in log and HOOK in log and f"任务 fg {STOPPED}" in log
    assert bench.listed() == []


# --- forced stops ---------------------------------------------------------------------------


@pytest.mark.parametrize("how", [("-s", "SIGKILL"), ("-f",)], ids=["sigkill", "force"])
def test_forced_stop_kills(bench: Bench, how: tuple[str, ...]):
    task = bench.start("doomed")
    task.wait_running()
    stop = bench.cmd("stop_task", "-n", "doomed", *how)
    assert stop.returncode == 0, stop.stdout + stop.stderr
    assert f"doomed（pid {task.pid}）" in stop.stdout and "已强制结束" in stop.stdout
    code = task.wait_exit()
    assert code != 0
    if POSIX:
        assert code == -signal.SIGKILL
    log = task.log_text()
    assert HOOK not in log and STOPPED not in log  # killed, not stopped
    assert bench.listed() == []


# --- selector errors ------------------------------------------------------------------------


def test_stop_task_needs_a_selector_and_a_known_task(bench: Bench):
    bare = bench.cmd("stop_task")
    assert bare.returncode == 2
    assert error_lines(bare) == ["错误：请用 -n 名称、-p PID 或 --all 指定要停止的任务"]

    unknown = bench.cmd("stop_task", "-n", "ghost")
    assert unknown.returncode != 0
    lines = error_lines(unknown)
    assert len(lines) == 1 and "ghost" in lines[0] and "找不到" in lines[0], unknown.stderr

    unknown_pid = bench.cmd("stop_task", "-p", "999999")
    assert unknown_pid.returncode != 0 and "999999" in unknown_pid.stderr


# --- background runs ------------------------------------------------------------------------


def test_detached_task_survives_its_starter_and_is_listed_and_stopped(bench: Bench):
    options: dict = {"start_new_session": True} if POSIX else {}
    starter = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jqtrade",
            "start_task",
            "-n",
            "bg",
            "-c",
            str(IDLE),
            "--detach",
            "--runtime-dir",
            str(bench.runtime),
        ],
        cwd=bench.root,
        env=cli_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        **options,
    )
    out, err = starter.communicate(timeout=TIMEOUT)
    assert starter.returncode == 0, out + err
    match = re.search(r"任务 bg 已在后台启动：pid (\d+)", out)
    assert match, out
    pid = int(match.group(1))
    if POSIX:
        # Whatever is left in the starter's process group (its "shell") is killed: not the task.
        try:
            os.killpg(starter.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        assert os.getsid(pid) == pid  # its own session: no SIGHUP when the terminal closes

    record = wait_for(
        lambda: next(
            (r for r in bench.registry.find(name="bg") if r.state == "running" and r.next_job), None
        ),
        "the detached task running",
    )
    assert record.pid == pid  # type: ignore[attr-defined]
    default_log = bench.runtime / "logs" / "bg.log"
    assert Path(record.log_file) == default_log.resolve()  # type: ignore[attr-defined]

    again = bench.cmd("start_task", "-n", "bg", "-c", IDLE, "--detach")
    assert again.returncode == 2 and error_lines(again) == [
        f"错误：名为 'bg' 的任务已在运行（pid {pid}），任务名称不能重复"
    ]

    plain = bench.cmd("get_tasks")  # stdout is a pipe: aligned plain text
    assert plain.returncode == 0
    header, *rows = plain.stdout.splitlines()
    assert header.split()[:3] == ["名称", "PID", "状态"]
    assert len(rows) == 1 and rows[0].split()[:3] == ["bg", str(pid), "运行中"]
    assert "Idle.after_close" in rows[0] and str(IDLE) in rows[0]

    (entry,) = bench.listed()
    assert {
        "name",
        "pid",
        "state",
        "next_job",
        "start_time",
        "strategy_file",
        "log_file",
        "gate",
        "last_sync",
    } <= set(entry)
    assert (entry["name"], entry["pid"], entry["state"]) == ("bg", pid, "running")
    assert entry["next_job"].endswith("Idle.after_close")
    assert (
        pendulum.parse(entry["next_job"].split(" ")[0]).date()
        >= LiveClock().now().in_tz(MARKET_TZ).date()
    )

    stop = bench.cmd("stop_task", "-n", "bg")
    assert stop.returncode == 0 and "已正常停止" in stop.stdout, stop.stdout + stop.stderr
    log = default_log.read_text(encoding="utf-8")
    assert CONTROL_STOP in log and HOOK in log and f"任务 bg {STOPPED}" in log
    wait_for(lambda: gone(pid), "the detached task gone")
    assert bench.listed() == []


@posix_only
def test_get_tasks_on_a_terminal_draws_a_table(bench: Bench):
    import pty

    task = bench.start("shown")
    task.wait_running()
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jqtrade", "get_tasks", "--runtime-dir", str(bench.runtime)],
            cwd=bench.root,
            env=cli_env(COLUMNS="250", TERM="xterm"),
            stdin=subprocess.DEVNULL,
            stdout=slave,
            stderr=subprocess.PIPE,
        )
        os.close(slave)
        chunks = []
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert proc.wait(TIMEOUT) == 0, proc.stderr.read() if proc.stderr else ""
        if proc.stderr:
            proc.stderr.close()
    finally:
        os.close(master)
    screen = b"".join(chunks).decode("utf-8", errors="replace")
    assert "运行中的任务" in screen  # the rich table's title
    assert "┃" in screen or "│" in screen
    assert "shown" in screen and str(task.pid) in screen and "名称" in screen


def test_a_gbk_pipe_gets_readable_output_for_any_name(bench: Bench):
    """Chinese Windows pipes are GBK: a name GBK cannot encode must not crash the commands."""
    task = bench.start("任务😀")
    task.wait_running()
    gbk = {"PYTHONIOENCODING": "gbk", "encoding": "gbk"}
    (entry,) = json.loads(bench.cmd("get_tasks", "--json", **gbk).stdout)
    assert (entry["name"], entry["pid"]) == ("任务😀", task.pid)
    plain = bench.cmd("get_tasks", **gbk)
    # what GBK cannot hold is written as an escape, readable and unambiguous
    assert plain.returncode == 0 and plain.stdout.splitlines()[1].split()[:2] == [
        "任务\\U0001f600",
        str(task.pid),
    ]
    stop = bench.cmd("stop_task", "-n", "任务😀", **gbk)
    assert (
        stop.returncode == 0
        and "任务\\U0001f600（pid" in stop.stdout
        and "已正常停止" in stop.stdout
    ), stop.stdout + stop.stderr
    assert_graceful(task)


def test_every_spelling_of_detach_starts_exactly_one_task(bench: Bench):
    # argparse also takes "-dn NAME" and "--det"; the background child must not detach again.
    pids = {}
    for name, argv in (("combined", ["-dn", "combined"]), ("abbrev", ["-n", "abbrev", "--det"])):
        proc = bench.cmd("start_task", *argv, "-c", IDLE)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        pids[name] = int(re.search(r"pid (\d+)", proc.stdout).group(1))  # type: ignore[union-attr]

    def all_running() -> bool:
        running = {(r.name, r.pid) for r in bench.registry.list() if r.state == "running"}
        return running == set(pids.items())

    wait_for(all_running, "both detached tasks running, each under the pid it printed")
    stop = bench.cmd("stop_task", "--all")
    assert stop.returncode == 0 and stop.stdout.count("已正常停止") == 2, stop.stdout + stop.stderr
    for name in pids:
        log = (bench.runtime / "logs" / f"{name}.log").read_text(encoding="utf-8")
        assert log.count("已启动") == 1 and "已在后台启动" not in log and "错误" not in log, log


# --- simulation is not live ---------------------------------------------------------------


RECOVERED = "从订单日志恢复"


def sim_state_dirs(bench: Bench, name: str) -> list[Path]:
    """The state folders simulated runs of ``name`` kept under ``<runtime>/sim``, oldest first."""
    return sorted((bench.runtime / "sim").glob(f"{name}-*"))


def filled_rows(text: str, code: str = "600000.XSHG") -> list[str]:
    return [line for line in text.splitlines() if code in line and "已成交" in line]


def assert_live_state_untouched(bench: Bench) -> None:
    assert not (bench.runtime / "journal").exists() and not (bench.runtime / "order_ids").exists()


def test_repeated_simulations_keep_away_from_live_state_and_from_each_other(bench: Bench):
    for _run in (1, 2):
        proc = bench.cmd(
            "start_task",
            "-n",
            "buyer",
            "-c",
            BUYER,
            "--simulate",
            "2024-06-03",
            "--broker",
            "sim",
            "--sim-dir",
            bench.root / "onequant",
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert RECOVERED not in proc.stdout + proc.stderr
        assert len(filled_rows(proc.stdout)) == 1, proc.stdout  # this run's own order, filled
    assert_live_state_untouched(bench)
    folders = sim_state_dirs(bench, "buyer")
    assert len(folders) == 2  # a fresh folder per run, kept to be read afterwards
    for folder in folders:
        (journal_file,) = (folder / "journal").glob("*.jsonl")
        assert journal_file.name == "orders_buyer_20240603.jsonl"
    # Both runs shared the broker folder: their order ids must differ there (the simulator
    # ignores a custBatchNo it has already answered).
    algo_order = DayFiles(bench.root / "onequant", datetime.date(2024, 6, 3)).algo_order
    with open(algo_order, encoding="gbk", newline="") as fh:
        sent = [row["custBatchNo"] for row in csv.DictReader(fh) if row.get("custBatchNo")]
    assert len(sent) == 2 and len(set(sent)) == 2, sent


def test_demo_twice_in_one_runtime_dir_recovers_nothing(bench: Bench):
    for _run in (1, 2):
        proc = bench.run("demo", "--runtime-dir", bench.runtime)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert RECOVERED not in proc.stdout + proc.stderr
        assert "运行汇总" in proc.stdout
    assert_live_state_untouched(bench)
    assert len(sim_state_dirs(bench, "demo")) == 2


def test_the_simulated_broker_on_the_live_clock_keeps_its_state_apart(bench: Bench):
    task = bench.start("paper", IDLE_ACCOUNT, "--broker", "sim")
    task.wait_running()
    (entry,) = bench.listed()
    assert entry["mode"] == "sim_broker" and entry["simulated"] is False
    assert Path(entry["state_dir"]).parent == bench.runtime / "sim"
    assert_live_state_untouched(bench)  # the account has started: ids were reserved by now
    stop = bench.cmd("stop_task", "-n", "paper")
    assert stop.returncode == 0, stop.stdout + stop.stderr
    assert_graceful(task)
    assert_live_state_untouched(bench)


def test_simulated_clock_on_the_real_gate_is_refused(bench: Bench):
    real = bench.root / "real_onequant"
    real.mkdir()
    proc = bench.cmd(
        "start_task",
        "-n",
        "danger",
        "-c",
        BUYER,
        "--simulate",
        "2024-06-03",
        JQT_ORDER_DIR=str(real),
        JQT_ACCOUNT_NO="12345678",
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = error_lines(proc)
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "--simulate" in lines[0] and "--broker sim" in lines[0] and "OneQuant" in lines[0]
    assert list(real.iterdir()) == []  # not one file in the real broker folder
    assert bench.listed() == []
    assert_live_state_untouched(bench)


MODES = {  # name: (extra start_task arguments, mode, simulated, label in the table)
    "live": ((), "live", False, "实盘"),
    "paper": (("--broker", "sim"), "sim_broker", False, "模拟券商"),
    "clock": (("--simulate", "2024-06-03..2024-06-07"), "sim_clock", True, "模拟时钟"),
    "both": (
        ("--simulate", "2024-06-03..2024-06-07", "--broker", "sim"),
        "sim_clock_sim_broker",
        True,
        "模拟时钟+模拟券商",
    ),
}


def test_get_tasks_tells_real_money_from_the_simulator(bench: Bench):
    tasks = {}
    for name, (extra, _, simulated, _) in MODES.items():
        # Simulated clocks would run through their days at once: hold them in a long callback.
        code = LONG if simulated else IDLE
        tasks[name] = bench.start(name, code, *extra, JQT_LONG_SECONDS="120")
    for name, task in tasks.items():
        if MODES[name][2]:
            task.wait_log("LONG STARTED")
        else:
            task.wait_running()
    listed = {entry["name"]: entry for entry in bench.listed()}
    assert {name: (e["mode"], e["simulated"]) for name, e in listed.items()} == {
        name: (mode, simulated) for name, (_, mode, simulated, _) in MODES.items()
    }
    assert Path(listed["live"]["state_dir"]) == bench.runtime
    for name in ("paper", "clock", "both"):
        assert Path(listed[name]["state_dir"]).parent == bench.runtime / "sim"

    plain = bench.cmd("get_tasks")
    assert plain.returncode == 0, plain.stderr
    header, *rows = plain.stdout.splitlines()
    column = header.split().index("模式")
    assert {row.split()[0]: row.split()[column] for row in rows} == {
        name: m[3] for name, m in MODES.items()
    }


@pytest.mark.parametrize(
    ("days", "said"),
    [
        ("2024-10-01", "2024-10-01 不是交易日（休市），没有运行任何定时任务"),
        (
            "2024-10-01..2024-10-07",
            "2024-10-01..2024-10-07 没有交易日（全部休市），没有运行任何定时任务",
        ),
    ],
    ids=["day", "range"],
)
def test_simulating_closed_days_says_so(bench: Bench, days: str, said: str):
    proc = bench.cmd(
        "start_task", "-n", "closed", "-c", BUYER, "--simulate", days, "--broker", "sim"
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert said in proc.stdout, proc.stdout
    assert "数据可能过期" not in proc.stdout + proc.stderr and "订单号" not in proc.stdout


def test_the_summary_of_several_days_covers_every_day(bench: Bench):
    # Thu 09-26, Fri 09-27 and Mon 09-30 trade; the range ends on 10-01, National Day.
    proc = bench.cmd(
        "start_task",
        "-n",
        "days",
        "-c",
        BUYER,
        "--simulate",
        "2024-09-26..2024-10-01",
        "--broker",
        "sim",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = filled_rows(proc.stdout)
    assert [
        day for day in ("2024-09-26", "2024-09-27", "2024-09-30") for row in rows if day in row
    ] == ["2024-09-26", "2024-09-27", "2024-09-30"], proc.stdout
    assert len(rows) == 3
    (held,) = [
        line for line in proc.stdout.splitlines() if "600000.XSHG" in line and "已成交" not in line
    ]
    assert " 300 " in held, held  # all three days' buys are held at the end
    assert "期初总资产 1,000,000.00" in proc.stdout and "期末总资产" in proc.stdout, proc.stdout
    assert "共 3 个订单" in proc.stdout, proc.stdout
    assert "数据可能过期" not in proc.stdout, proc.stdout


# --- new strategy ---------------------------------------------------------------------------


def test_new_strategy_writes_templates_that_run_as_is(bench: Bench):
    folder = bench.root / "D"
    made = bench.run("new", "strategy", "demo", "--dir", folder)
    assert made.returncode == 0, made.stderr
    demo = folder / "demo.py"
    text = demo.read_text(encoding="utf-8")
    assert "class Demo(Strategy):" in text and "TemplateStrategy" not in text
    assert "def on_strategy_end" in text and "run_daily" in text

    legacy = bench.run("new", "strategy", "old_style", "--legacy", "--dir", folder)
    assert legacy.returncode == 0, legacy.stderr
    old = folder / "old_style.py"
    assert "def process_initialize(context):" in old.read_text(encoding="utf-8")
    assert "class " not in old.read_text(encoding="utf-8")

    # A name that is also a name the template imports gets a class name of its own.
    clash = bench.run("new", "strategy", "LimitOrderStyle", "--dir", folder)
    assert clash.returncode == 0, clash.stderr
    clashing = folder / "LimitOrderStyle.py"
    assert "class LimitOrderStyleStrategy(Strategy):" in clashing.read_text(encoding="utf-8")
    snake = bench.run("new", "strategy", "my_fast_one", "--dir", folder)
    assert snake.returncode == 0 and "class MyFastOne(Strategy):" in (
        folder / "my_fast_one.py"
    ).read_text(encoding="utf-8")

    # They run as they are, on the simulated clock against the embedded simulated broker.
    runs = {
        path.stem: subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jqtrade",
                "start_task",
                "-n",
                path.stem,
                "-c",
                str(path),
                "--simulate",
                "2024-06-03",
                "--broker",
                "sim",
                "--sim-dir",
                str(bench.root / f"sim_{path.stem}"),
                "--runtime-dir",
                str(bench.runtime),
            ],
            cwd=bench.root,
            env=cli_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        for path in (demo, old, clashing)
    }
    for name, proc in runs.items():
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, out + err
        assert "Traceback" not in out + err and "运行出错" not in out + err, out + err
        assert "运行汇总" in out and "600000.XSHG" in out and "已成交" in out, out
        assert "策略停止" in out + err and f"任务 {name} {STOPPED}" in out + err


def test_new_strategy_refuses_overwrite_and_bad_names(bench: Bench):
    folder = bench.root / "D"
    folder.mkdir()
    existing = folder / "demo.py"
    existing.write_text("# mine\n", encoding="utf-8")
    again = bench.run("new", "strategy", "demo", "--dir", folder)
    assert again.returncode == 2 and len(error_lines(again)) == 1 and "已存在" in again.stderr
    assert existing.read_text(encoding="utf-8") == "# mine\n"
    again_legacy = bench.run("new", "strategy", "demo", "--legacy", "--dir", folder)
    assert again_legacy.returncode == 2 and existing.read_text(encoding="utf-8") == "# mine\n"

    not_a_folder = bench.run("new", "strategy", "demo", "--dir", existing)
    assert not_a_folder.returncode == 2 and len(error_lines(not_a_folder)) == 1, not_a_folder.stderr

    for bad in ("1abc", "class", "my-strategy"):
        proc = bench.run("new", "strategy", bad, "--dir", folder)
        assert proc.returncode == 2, bad
        lines = error_lines(proc)
        assert len(lines) == 1 and repr(bad) in lines[0] and "标识符" in lines[0], proc.stderr
        assert not (folder / f"{bad}.py").exists()


# --- schedule preview -----------------------------------------------------------------------


def table_rows(text: str) -> list[list[str]]:
    """Cells of the body rows of a rich table (lines drawn with │)."""
    rows = []
    for line in text.splitlines():
        if line.startswith("│"):
            rows.append([cell.strip() for cell in line.strip("│").split("│")])
    return rows


def test_schedule_preview_lists_firings(bench: Bench):
    proc = bench.cmd("schedule", "-c", PREVIEW, "--date", "2024-06-03", "--days", "2")
    assert proc.returncode == 0, proc.stderr
    rows = [row[:2] for row in table_rows(proc.stdout)]
    assert rows == [
        ["2024-06-03 09:00:00", "Preview.morning"],
        ["2024-06-03 09:30:00", "Preview.weekly"],
        ["2024-06-03 10:15:30", "Preview.mid"],
        ["2024-06-03 14:55:00", "Preview.late"],
        ["2024-06-04 09:00:00", "Preview.morning"],
        ["2024-06-04 10:15:30", "Preview.mid"],
        ["2024-06-04 14:55:00", "Preview.late"],
    ]
    assert "不是交易日" not in proc.stdout
    assert not (bench.runtime / "tasks").exists()  # a preview is not a task


def test_schedule_preview_on_a_holiday(bench: Bench):
    proc = bench.cmd("schedule", "-c", PREVIEW, "--date", "2024-10-01")
    assert proc.returncode == 0, proc.stderr
    assert "2024-10-01 不是交易日" in proc.stdout
    days = {row[0][:10] for row in table_rows(proc.stdout)}
    assert days == {"2024-10-08"}  # the next trading day after the National Day holiday


@pytest.mark.parametrize(
    "args", [("--date", "2024-13-01"), ("--days", "0")], ids=["bad-date", "zero-days"]
)
def test_schedule_preview_rejects_bad_arguments(bench: Bench, args: tuple[str, str]):
    proc = bench.cmd("schedule", "-c", PREVIEW, *args)
    assert proc.returncode == 2
    lines = error_lines(proc)
    assert len(lines) == 1 and args[1] in lines[0] and "Traceback" not in proc.stderr, proc.stderr


# --- CLI manners ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command", ["", "start_task", "get_tasks", "stop_task", "new", "schedule", "sim", "demo"]
)
def test_help_is_chinese(bench: Bench, command: str):
    proc = bench.run(*([command] if command else []), "-h")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("用法：")
    assert "显示帮助并退出" in proc.stdout
    for english in ("usage:", "show this help", "positional arguments", "options:"):
        assert english not in proc.stdout


def test_sim_help_is_the_simulators_own(bench: Bench):
    proc = bench.run("sim", "-h")
    assert proc.returncode == 0
    assert "--dir" in proc.stdout and "--account" in proc.stdout


def test_user_errors_are_one_line_and_debug_shows_the_traceback(bench: Bench):
    missing = bench.root / "nope.py"
    plain = bench.cmd("start_task", "-n", "x", "-c", missing)
    assert plain.returncode == 2
    assert error_lines(plain) == [f"错误：无法加载策略文件 {missing}：文件不存在"]
    assert bench.listed() == []  # the name was given back

    for debug in (["--debug", "start_task"], ["start_task", "--debug"]):
        proc = bench.run(*debug, "-n", "x", "-c", missing, "--runtime-dir", bench.runtime)
        assert proc.returncode != 0
        assert (
            "Traceback (most recent call last)" in proc.stderr
            and "StrategyLoadError" in proc.stderr
        )

    usage = bench.run("start_task", "-n", "x")
    assert (
        usage.returncode == 2
        and "错误：缺少必需的参数" in usage.stderr
        and "Traceback" not in usage.stderr
    )

    no_command = bench.run()
    assert no_command.returncode == 2 and "用法：" in no_command.stdout


def test_version(bench: Bench):
    proc = bench.run("-V")
    assert proc.returncode == 0 and proc.stdout.strip() == f"jqtrade {jqtrade.__version__}"
