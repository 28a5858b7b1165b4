"""Windows conditions emulated on Linux: a venv launcher between starter and task, console
events, and waits that a signal cannot interrupt.

* On Windows ``.venv\\Scripts\\python.exe`` is a launcher that starts the real interpreter as a
  child and waits for it. Here a small Python script does the same and is handed to
  ``start_detached`` as the executable.
* Windows calls a console handler on a thread of its own; here a test thread does.
* On Windows a lock wait with a timeout is not interrupted by Ctrl+C: Python's handler runs
  when the wait returns. Here a time source delivers a "signal" only when the waiting thread
  next reads the clock, that is, when its wait slice is over.
"""

from __future__ import annotations

import ctypes
import json
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable, Optional

import pendulum
import psutil
import pytest
from support import cli_env, wait_for
from tasks_support import gone

import jqtrade.tasks.process as process_module
from jqtrade.clock import MAX_WAIT_SLICE, WINDOWS_WAIT_SLICE, LiveClock, default_wait_slice
from jqtrade.loop import EventLoop, Job
from jqtrade.tasks.commands import start_detached
from jqtrade.tasks.process import detached_exit_code, spawn_detached, task_interpreter
from jqtrade.tasks.registry import TaskRegistry
from jqtrade.tasks.runner import (
    CTRL_BREAK_EVENT,
    CTRL_C_EVENT,
    CTRL_CLOSE_EVENT,
    CTRL_LOGOFF_EVENT,
    CTRL_SHUTDOWN_EVENT,
    ConsoleEvents,
)

STRATEGIES = Path(__file__).parent / "strategies"
IDLE = STRATEGIES / "idle.py"
HOOK = "STOP HOOK RAN"
TIMEOUT = 30.0

# What a Windows venv's Scripts\python.exe does: run the real interpreter with our arguments
# as a child process, wait for it, and exit with its status.
LAUNCHER = """#!{python}
import subprocess, sys
sys.exit(subprocess.call([{python!r}, *sys.argv[1:]]))
"""


# A task that also tells whether the start token reached the strategy's environment.
TOKEN_TELLER = """
import os
from jqtrade import Context, Strategy


class TokenTeller(Strategy):
    def process_initialize(self, context: Context) -> None:
        self.log.info("TOKEN IN ENV: %s", os.environ.get("JQTRADE_START_TOKEN"))
        self.run_daily(self.after_close, "after_close")

    def after_close(self, context: Context) -> None:
        pass

    def on_strategy_end(self, context: Context) -> None:
        self.log.info("STOP HOOK RAN")
"""


# --- the start token and the launcher ------------------------------------------------------


@pytest.fixture
def launcher(tmp_path: Path) -> Path:
    path = tmp_path / "venv-launcher"
    path.write_text(LAUNCHER.format(python=sys.executable), encoding="utf-8")
    path.chmod(0o755)
    return path


@pytest.fixture
def runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A runtime folder; the starter runs in this process, with the environment of a CLI run."""
    folder = tmp_path / "runtime"
    monkeypatch.chdir(tmp_path)
    for key, value in cli_env().items():
        monkeypatch.setenv(key, value)
    try:
        yield folder
    finally:
        for record in TaskRegistry(folder).list():  # detached tasks are nobody's children here
            try:
                psutil.Process(record.pid).kill()
            except psutil.NoSuchProcess:
                pass
        wait_for(lambda: not TaskRegistry(folder).list(), "all tasks gone")


def cli(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jqtrade", *map(str, args)],
        env=cli_env(),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def start_through_launcher(
    runtime: Path, launcher: Path, name: str, code: Path
) -> tuple[int, float]:
    """``start_task -n NAME -c CODE -d`` with ``launcher`` as the Python; (status, seconds taken)."""
    argv = ["start_task", "-n", name, "-c", str(code), "-d", "--runtime-dir", str(runtime)]
    started = time.monotonic()
    status = start_detached(
        argv, name=name, out=None, runtime_dir=str(runtime), executable=str(launcher)
    )
    return status, time.monotonic() - started


@pytest.mark.slow
def test_a_detached_start_through_a_launcher_finds_the_task_and_prints_its_own_pid(
    runtime: Path, launcher: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    code = tmp_path / "token_teller.py"
    code.write_text(TOKEN_TELLER, encoding="utf-8")
    status, took = start_through_launcher(runtime, launcher, "bg", code)
    out, err = capsys.readouterr()
    assert status == 0, out + err
    assert "秒内还没有进入运行状态" not in err, err
    assert took < 20, f"the start took {took:.1f} s: it waited for a record that never came"
    match = re.search(r"任务 bg 已在后台启动：pid (\d+)", out)
    assert match, out
    pid = int(match.group(1))

    # The emulation is real: the task runs as the launcher's child, under a pid of its own.
    parent = psutil.Process(pid).parent()
    assert parent is not None and str(launcher) in parent.cmdline()
    launcher_pid = parent.pid
    assert launcher_pid != pid

    (record,) = TaskRegistry(runtime).find(name="bg")
    assert record.pid == pid and record.state == "running"
    assert record.start_token is not None and re.fullmatch(r"[0-9a-f]{32}", record.start_token)
    listed = cli("get_tasks", "--json", "--runtime-dir", runtime)
    assert listed.returncode == 0, listed.stderr
    assert [(t["name"], t["pid"]) for t in json.loads(listed.stdout)] == [("bg", pid)]

    stop = cli("stop_task", "-p", pid, "--runtime-dir", runtime)
    assert stop.returncode == 0, stop.stdout + stop.stderr
    assert f"bg（pid {pid}）：已正常停止" in stop.stdout
    log = (runtime / "logs" / "bg.log").read_text(encoding="utf-8")
    assert "收到停止请求（stop_task）" in log and HOOK in log, log
    assert "TOKEN IN ENV: None" in log  # taken out before the strategy runs
    wait_for(lambda: gone(pid), "the task gone")
    # The launcher waited for its interpreter and passed on its status.
    assert (
        wait_for(lambda: detached_exit_code(launcher_pid) is not None, "the launcher gone") is True
    )
    assert detached_exit_code(launcher_pid) == 0


@pytest.mark.slow
def test_a_task_that_fails_behind_a_launcher_is_reported_at_once(
    runtime: Path, launcher: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    missing = tmp_path / "nope.py"
    status, took = start_through_launcher(runtime, launcher, "broken", missing)
    out, err = capsys.readouterr()
    assert status == 2, out + err
    assert took < 20
    assert "任务 broken 启动失败（退出状态 2）" in err and "文件不存在" in err, err
    assert "已在后台启动" not in out


# --- the interpreter and the creation flags on Windows -------------------------------------


def test_a_windows_venv_starts_its_base_interpreter_directly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    venv_launcher = tmp_path / "venv" / "Scripts" / "python.exe"
    base = tmp_path / "Python311" / "python.exe"
    for path in (venv_launcher, base):
        path.parent.mkdir(parents=True)
        path.write_bytes(b"")
    monkeypatch.setattr(sys, "executable", str(venv_launcher))
    monkeypatch.setattr(sys, "_base_executable", str(base), raising=False)

    monkeypatch.setattr(sys, "platform", "win32")
    # The base interpreter, told which venv it runs for (as the launcher would tell it).
    assert task_interpreter() == (str(base), {"__PYVENV_LAUNCHER__": str(venv_launcher)})

    base.unlink()  # e.g. a base that is not a plain file: run what we were run with
    assert task_interpreter() == (str(venv_launcher), {})

    monkeypatch.setattr(sys, "platform", "linux")  # a POSIX venv's python is the interpreter
    base.write_bytes(b"")
    assert task_interpreter() == (str(venv_launcher), {})


class RecordingPopen:
    """Stands in for subprocess.Popen where only the arguments it was given matter."""

    calls: list[dict[str, Any]] = []

    def __init__(self, args: list[str], **kwargs: Any) -> None:
        RecordingPopen.calls.append(kwargs)
        self.pid = 4242

    def poll(self) -> Optional[int]:
        return None


def test_on_windows_the_background_child_gets_a_console_without_a_window(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    flags = {
        "DETACHED_PROCESS": 0x8,
        "CREATE_NEW_PROCESS_GROUP": 0x200,
        "CREATE_NO_WINDOW": 0x08000000,
    }
    for name, value in flags.items():
        monkeypatch.setattr(subprocess, name, value, raising=False)
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(process_module.subprocess, "Popen", RecordingPopen)
    monkeypatch.setattr(process_module, "_detached", [])  # keep the fake out of the real list
    RecordingPopen.calls.clear()
    assert spawn_detached(["python", "-c", "pass"], tmp_path / "x.log") == 4242
    monkeypatch.undo()
    (kwargs,) = RecordingPopen.calls
    # No DETACHED_PROCESS: with it the console programs the task starts (a launcher's
    # interpreter) would each get a visible console window, and Windows ignores
    # CREATE_NO_WINDOW next to it.
    assert kwargs["creationflags"] == flags["CREATE_NO_WINDOW"] | flags["CREATE_NEW_PROCESS_GROUP"]
    assert "start_new_session" not in kwargs


# --- console events ------------------------------------------------------------------------


class StopRecorder:
    def __init__(self) -> None:
        self.reasons: list[str] = []

    def request_stop(self, reason: str) -> None:
        self.reasons.append(reason)

    def stopping(self) -> bool:
        return bool(self.reasons)


def call_in_thread(func: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    """Run ``func`` on a new thread, as Windows runs a console handler; its result lands in the list."""
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(func()), daemon=True)
    thread.start()
    return thread, result


def test_ctrl_c_and_ctrl_break_request_the_stop_and_a_second_one_is_passed_on():
    stops = StopRecorder()
    events = ConsoleEvents(stops.request_stop, stops.stopping)
    assert events(CTRL_C_EVENT) is True  # handled here: no wait for the main thread
    assert stops.reasons == ["SIGINT"]
    # Stopping already: passed on, so Python's SIGINT handler raises KeyboardInterrupt.
    assert events(CTRL_C_EVENT) is False and events(CTRL_BREAK_EVENT) is False
    assert stops.reasons == ["SIGINT"]

    other = StopRecorder()
    assert ConsoleEvents(other.request_stop, other.stopping)(CTRL_BREAK_EVENT) is True
    assert other.reasons == ["SIGBREAK"]
    assert ConsoleEvents(other.request_stop, other.stopping)(3) is False  # no such event


@pytest.mark.parametrize(
    "event, name",
    [
        (CTRL_CLOSE_EVENT, "CTRL_CLOSE_EVENT"),
        (CTRL_LOGOFF_EVENT, "CTRL_LOGOFF_EVENT"),
        (CTRL_SHUTDOWN_EVENT, "CTRL_SHUTDOWN_EVENT"),
    ],
)
def test_an_ending_event_holds_the_process_until_the_task_is_done(event: int, name: str):
    stops = StopRecorder()
    events = ConsoleEvents(stops.request_stop, stops.stopping, grace=TIMEOUT)
    thread, result = call_in_thread(lambda: events(event))
    wait_for(lambda: stops.reasons, "the stop request")
    assert stops.reasons == [name]
    thread.join(0.2)
    assert thread.is_alive() and result == []  # returning would let Windows end the process
    events.close()
    thread.join(TIMEOUT)
    assert result == [True]


def test_an_ending_event_gives_up_after_the_grace_period():
    stops = StopRecorder()
    events = ConsoleEvents(stops.request_stop, stops.stopping, grace=0.05)
    assert events(CTRL_CLOSE_EVENT) is True
    assert stops.reasons == ["CTRL_CLOSE_EVENT"]


class FakeKernel32:
    """SetConsoleCtrlHandler as Windows keeps it: a list of routines, the last added called first."""

    def __init__(self) -> None:
        self.routines: list[Any] = []

    def SetConsoleCtrlHandler(self, routine: Any, add: int) -> int:  # noqa: N802 - the Windows name
        if add:
            self.routines.append(routine)
        else:
            self.routines.remove(routine)
        return 1

    def send(self, event: int) -> int:
        return int(self.routines[-1](event))


def test_the_handler_is_registered_through_ctypes_and_removed_on_close():
    kernel32 = FakeKernel32()
    stops = StopRecorder()
    events = ConsoleEvents(stops.request_stop, stops.stopping, grace=TIMEOUT)
    events.register(kernel32=kernel32, functype=ctypes.CFUNCTYPE)  # WINFUNCTYPE's look-alike here
    assert len(kernel32.routines) == 1
    thread, result = call_in_thread(lambda: kernel32.send(CTRL_CLOSE_EVENT))  # through C
    wait_for(lambda: stops.reasons, "the stop request")
    events.close()
    thread.join(TIMEOUT)
    assert result == [1] and kernel32.routines == []


def test_an_error_in_the_handler_passes_the_event_on():
    kernel32 = FakeKernel32()

    def broken(reason: str) -> None:
        raise RuntimeError("boom")

    events = ConsoleEvents(broken, lambda: False)
    events.register(kernel32=kernel32, functype=ctypes.CFUNCTYPE)
    try:
        assert kernel32.send(CTRL_C_EVENT) == 0
    finally:
        events.close()


# --- stopping a running loop within half a second -------------------------------------------


class Tomorrow:
    """A rule that is never due during a test."""

    description = "tomorrow"

    def next_after(self, t: pendulum.DateTime) -> pendulum.DateTime:
        return t.add(days=1)


class WindowsSignals:
    """A time source for the live clock that delivers signals as Windows does to a lock wait.

    A signal sent while the loop's thread waits is only marked; its handler runs on that
    thread the next time it reads the clock, which is right after its wait slice returned.
    """

    def __init__(self) -> None:
        self.handler: Callable[[str], None] = lambda name: None
        self.pending: Optional[str] = None
        self.read = threading.Event()

    def send(self, name: str) -> None:
        self.pending = name

    def __call__(self) -> float:
        pending, self.pending = self.pending, None
        if pending is not None:
            self.handler(pending)
        self.read.set()
        return time.time()


def stop_latency(
    max_slice: float,
    sender: Callable[[WindowsSignals, EventLoop], None],
    *,
    after_a_slice: bool = True,
) -> float:
    """Seconds from ``sender`` sending a stop to the loop (waiting for a far job) returning.

    With ``after_a_slice`` the stop is sent right after a wait slice began, the worst moment
    for a signal; otherwise a moment into the loop's first wait.
    """
    signals = WindowsSignals()
    loop = EventLoop(LiveClock(max_slice=max_slice, time_source=signals))
    loop.add_job(Job(name="far", rule=Tomorrow(), callback=lambda slot: None))
    signals.handler = loop.request_stop
    sent: list[float] = []

    def send() -> None:
        time.sleep(0.1)  # the loop waits by now
        if after_a_slice:
            signals.read.clear()
            signals.read.wait(TIMEOUT)  # a slice just ended and the next one begins
        sent.append(time.monotonic())
        sender(signals, loop)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    loop.run()
    stopped = time.monotonic()
    thread.join(TIMEOUT)
    assert loop.stop_reason == "SIGINT"
    return stopped - sent[0]


def python_handler_only(signals: WindowsSignals, loop: EventLoop) -> None:
    signals.send("SIGINT")


def test_the_wait_slice_on_windows_is_a_quarter_second():
    assert default_wait_slice("win32") == WINDOWS_WAIT_SLICE <= 0.25
    assert default_wait_slice("linux") == MAX_WAIT_SLICE == 1.0
    assert default_wait_slice() == (
        WINDOWS_WAIT_SLICE if sys.platform == "win32" else MAX_WAIT_SLICE
    )


def test_a_live_clock_on_windows_rereads_the_time_every_quarter_second():
    reads = [0]

    def source() -> float:
        reads[0] += 1
        return time.time()

    clock = LiveClock(max_slice=default_wait_slice("win32"), time_source=source)
    deadline = clock.now().add(seconds=1)
    reads[0] = 0
    assert clock.wait_until(deadline) is True
    assert reads[0] >= 4  # the slice, not the deadline, bounds each lock wait


def test_ctrl_c_left_to_python_is_seen_within_a_windows_slice():
    # Without the console handler only the slice bounds the delay; the old one-second slice
    # would not keep Ctrl+C within half a second (shown by the same emulation).
    assert stop_latency(default_wait_slice("win32"), python_handler_only) < 0.5
    assert stop_latency(MAX_WAIT_SLICE, python_handler_only) >= 0.5


def test_the_console_handler_stops_the_loop_at_once_whatever_the_slice():
    def console_ctrl_c(signals: WindowsSignals, loop: EventLoop) -> None:
        events = ConsoleEvents(loop.request_stop, lambda: loop.stop_reason is not None)
        assert events(CTRL_C_EVENT) is True

    # A 30 s slice: only the handler's own stop request (which wakes the clock) can be this quick.
    assert stop_latency(TIMEOUT, console_ctrl_c, after_a_slice=False) < 0.5


def test_closing_the_window_lets_the_running_callback_finish_and_the_stop_hook_run():
    """The whole sequence on a live loop: a close event comes while a callback runs."""
    events_seen: list[str] = []
    in_callback = threading.Event()
    loop = EventLoop(LiveClock(max_slice=default_wait_slice("win32")))

    def slow(slot: pendulum.DateTime) -> None:
        events_seen.append("callback started")
        in_callback.set()
        time.sleep(0.3)
        events_seen.append("callback finished")

    class Soon:
        description = "soon"

        def next_after(self, t: pendulum.DateTime) -> pendulum.DateTime:
            return t.add(microseconds=50_000)

    loop.add_job(Job(name="slow", rule=Soon(), callback=slow))
    console = ConsoleEvents(loop.request_stop, lambda: loop.stop_reason is not None, grace=TIMEOUT)

    def close_window() -> bool:
        in_callback.wait(TIMEOUT)
        handled = console(CTRL_CLOSE_EVENT)
        events_seen.append("handler returned")  # Windows would end the process here
        return handled

    thread, result = call_in_thread(close_window)
    loop.run()
    events_seen.append("on_strategy_end")  # what run_task does next: finish, release, then close
    console.close()
    thread.join(TIMEOUT)
    assert result == [True] and loop.stop_reason == "CTRL_CLOSE_EVENT"
    assert events_seen == [
        "callback started",
        "callback finished",
        "on_strategy_end",
        "handler returned",
    ]


# --- a foreground task under SIGINT --------------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigint_stops_a_foreground_task_promptly(tmp_path: Path):
    runtime, log = tmp_path / "runtime", tmp_path / "fg.log"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jqtrade",
            "start_task",
            "-n",
            "fg",
            "-c",
            str(IDLE),
            "-o",
            str(log),
            "--runtime-dir",
            str(runtime),
        ],
        cwd=tmp_path,
        env=cli_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        registry = TaskRegistry(runtime)
        wait_for(
            lambda: any(r.state == "running" and r.next_job for r in registry.find(name="fg")),
            "fg running",
        )
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        wait_for(
            lambda: "原因：SIGINT" in log.read_text(encoding="utf-8"),
            "the stop in the log",
            step=0.01,
        )
        took = time.monotonic() - sent
        assert proc.wait(TIMEOUT) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(TIMEOUT)
    text = log.read_text(encoding="utf-8")
    assert text.index("原因：SIGINT") < text.index(HOOK) < text.index("任务 fg 已停止")
    assert took < 5, f"the stop began {took:.2f} s after SIGINT"  # generous: a loaded machine
