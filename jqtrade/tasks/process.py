"""Process helpers for the CLI: start a task in the background, stop tasks, kill one.

This is command-line side code, not scheduling code, so it waits with ``time.sleep`` and
measures with ``time.monotonic``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Callable

import attrs

from jqtrade.tasks.control import ControlChannel
from jqtrade.tasks.registry import TaskRecord, TaskRegistry

__all__ = [
    "STOP_OUTCOMES",
    "StopResult",
    "kill_process",
    "spawn_detached",
    "stop_tasks",
    "task_interpreter",
    "wait_released",
]

STOP_OUTCOMES = ("stopped", "killed", "timeout", "not_running")

# Popen objects of detached children. Keeping them stops Python from warning that a child is
# "still running" when the object is collected, and lets us reap children that have exited.
_detached: list[subprocess.Popen[bytes]] = []


def task_interpreter() -> tuple[str, dict[str, str]]:
    """The Python to run a background task with, and the variables it needs in its environment.

    In a Windows virtual environment ``sys.executable`` (``.venv\\Scripts\\python.exe``) is
    only a launcher: it starts the base interpreter as its child and waits for it. A task
    started through it would run under another pid than the one we started, and the launcher,
    a console program of its own, stands between the task and its console. So we start the
    base interpreter (``sys._base_executable``) directly and tell it, as the launcher itself
    does, which environment it runs for: ``__PYVENV_LAUNCHER__`` names the launcher, and the
    interpreter then reads the venv's ``pyvenv.cfg`` and uses its site-packages. This is what
    ``multiprocessing`` does on Windows since Python 3.7.3 (bpo-35797). Elsewhere a venv's
    ``python`` is a link to the interpreter itself and ``sys.executable`` is used as it is.
    """
    base = getattr(sys, "_base_executable", None)
    if (
        sys.platform == "win32"
        and base
        and os.path.normcase(base) != os.path.normcase(sys.executable)
        and os.path.isfile(base)
    ):
        return base, {"__PYVENV_LAUNCHER__": sys.executable}
    return sys.executable, {}


def spawn_detached(
    argv: Sequence[str],
    log_file: Path,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> int:
    """Start ``argv`` in the background so that it outlives the shell that started it.

    stdin reads from the null device; stdout and stderr append to ``log_file``. On POSIX the
    child gets its own session (no terminal, no SIGHUP when the shell closes); on Windows it
    gets a console of its own that has no window, in a new process group. Python output is
    made UTF-8 and unbuffered unless ``env`` says otherwise, so the log is readable at once.
    Returns the child's pid (which is not the task's own if ``argv`` starts a launcher).
    """
    _detached[:] = [p for p in _detached if p.poll() is None]
    child_env = dict(os.environ if env is None else env)
    child_env.setdefault("PYTHONIOENCODING", "utf-8")
    child_env.setdefault("PYTHONUNBUFFERED", "1")
    log_file = Path(log_file)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    options: dict[str, object] = {}
    if sys.platform == "win32":
        # CREATE_NO_WINDOW, not DETACHED_PROCESS: a detached process has no console at all,
        # so every console program it starts (a venv launcher's interpreter, a tool the
        # strategy runs) gets a new console with a visible window, and closing that window
        # ends the program. CREATE_NO_WINDOW gives the child a console of its own without a
        # window: its children share it and stay invisible, and it is not the starter's
        # console, so closing the starter's window sends the task nothing. (Windows ignores
        # CREATE_NO_WINDOW when DETACHED_PROCESS is also given.) Nobody can type Ctrl+C into
        # that console; stop_task stops the task through its control file.
        options["creationflags"] = getattr(subprocess, "CREATE_NO_WINDOW", 0) | getattr(
            subprocess, "CREATE_NEW_PROCESS_GROUP", 0
        )
    else:
        options["start_new_session"] = True
    with open(log_file, "ab") as log, open(os.devnull, "rb") as devnull:
        child = subprocess.Popen(  # type: ignore[call-overload]
            list(argv),
            stdin=devnull,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=None if cwd is None else str(cwd),
            env=child_env,
            close_fds=True,
            **options,
        )
    _detached.append(child)
    return int(child.pid)


def detached_exit_code(pid: int) -> int | None:
    """Exit status of a child started by :func:`spawn_detached` here, or None while it runs.

    A launcher waits for the interpreter it starts and exits with its status, so for a task
    started through one this is still the task's exit status.
    """
    for child in _detached:
        if child.pid == pid:
            return child.poll()
    return None


def kill_process(pid: int) -> bool:
    """Kill ``pid`` at once (SIGKILL; TerminateProcess on Windows).

    Returns False when there is no such process (it has already exited).
    """
    hard = (
        signal.SIGTERM if sys.platform == "win32" else signal.SIGKILL
    )  # SIGTERM = Terminate on Windows
    try:
        os.kill(pid, hard)
    except ProcessLookupError:
        return False
    except OSError as exc:
        # Windows reports a vanished pid as "invalid parameter" (winerror 87).
        if getattr(exc, "winerror", None) == 87:
            return False
        raise
    return True


def wait_released(
    registry: TaskRegistry,
    name: str,
    timeout: float,
    poll: float = 0.1,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Wait until no process holds ``name``; True when released, False after ``timeout``."""
    deadline = time.monotonic() + timeout
    while registry.is_held(name):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        sleep(min(poll, remaining))
    return True


@attrs.frozen(kw_only=True)
class StopResult:
    """What happened to one task that ``stop_task`` was asked to stop."""

    name: str
    pid: int
    outcome: str = attrs.field(validator=attrs.validators.in_(STOP_OUTCOMES))
    #: The state the task recorded on its way out ("stopped"/"failed"); None when killed,
    #: still running, or it did not report.
    final_state: str | None
    detail: str

    @property
    def ok(self) -> bool:
        """Whether the task is gone (stopped, killed or already not running)."""
        return self.outcome != "timeout"


def stop_tasks(
    registry: TaskRegistry,
    records: Sequence[TaskRecord],
    *,
    force: bool,
    timeout: float,
    clock_sleep: Callable[[float], None] = time.sleep,
    poll: float = 0.1,
) -> list[StopResult]:
    """Stop tasks and report what happened to each, in the order given.

    Graceful: write a stop request on each task's control channel, then wait (for all of them
    together, at most ``timeout`` seconds) until each lock is released. A task that does not
    stop in time keeps its request and will still stop when its running callback returns.
    Forced: kill each process, wait for its lock to go, and remove its record.
    Either way a ``--restart`` supervisor of the task is told first not to restart it.
    """
    from jqtrade.tasks.supervisor import request_no_restart

    results: dict[int, StopResult] = {}
    pending: list[int] = []
    for index, record in enumerate(records):
        # Before the stop: a --restart supervisor must see the request when its task exits.
        request_no_restart(registry.supervisor_path(record.name))
        if not registry.is_held(record.name):
            registry.remove_if_stale(record.name)
            results[index] = _result(record, "not_running", None, "任务已不在运行")
        elif force:
            kill_process(record.pid)
            pending.append(index)
        else:
            ControlChannel(Path(record.control_path)).request_stop("stop_task")
            pending.append(index)

    deadline = time.monotonic() + timeout
    while pending:
        for index in list(pending):
            record = records[index]
            if registry.is_held(record.name):
                continue
            pending.remove(index)
            results[index] = _finished(registry, record, force=force)
        if not pending:
            break
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        clock_sleep(min(poll, remaining))

    for index in pending:
        record = records[index]
        if force:
            detail = f"已发送强制结束信号，但 {timeout:g} 秒内锁仍未释放（pid {record.pid}）"
        else:
            detail = (
                f"等待 {timeout:g} 秒后任务仍在运行（可能有回调尚未执行完）；"
                f"停止请求仍然有效，也可以用 -f 强制结束"
            )
        results[index] = _result(record, "timeout", None, detail)
    return [results[i] for i in range(len(records))]


def _finished(registry: TaskRegistry, record: TaskRecord, *, force: bool) -> StopResult:
    channel = ControlChannel(Path(record.control_path))
    final_state = channel.result()
    channel.clear()
    registry.remove_if_stale(record.name)
    if force:
        return _result(record, "killed", None, f"已强制结束（pid {record.pid}）")
    if final_state is None:
        return _result(record, "stopped", None, "任务已退出（未报告最终状态）")
    if final_state == "failed":
        return _result(record, "stopped", final_state, "任务已退出，但最终状态为失败，请查看日志")
    return _result(record, "stopped", final_state, "已正常停止")


def _result(record: TaskRecord, outcome: str, final_state: str | None, detail: str) -> StopResult:
    return StopResult(
        name=record.name, pid=record.pid, outcome=outcome, final_state=final_state, detail=detail
    )
