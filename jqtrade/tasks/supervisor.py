"""Restart a crashed task: the small process ``start_task -d --restart on-failure`` leaves behind.

``start_detached`` starts this module in the background (``python -m jqtrade.tasks.supervisor``)
instead of the task; it starts the task as its own child and waits for it. When the task exits:

* with status 0 (``stop_task``, the end of a simulation): the supervisor ends too;
* after ``stop_task`` asked for the stop (also ``stop_task -f``, which kills): it ends too.
  ``stop_task`` leaves ``<tasks>/<stem>.supervisor.stop`` before it stops the task, whenever the
  supervisor's lock ``<stem>.supervisor`` is held;
* otherwise (non-zero status, killed) it starts the task again after 1, 2, 4 ... s (at most
  60 s; back to 1 s after a run of 5 minutes), at most ``--max-restarts`` times, logging each
  restart into the task's log (:func:`report_restart`, :func:`report_gave_up`).

A task that fails before it ever ran its loop on the first start (a syntax error, a bad
option) is not restarted: the supervisor exits with its status and ``start_task -d`` shows the
log. The supervisor does not register itself: ``get_tasks`` shows the task, whose record
counts its restarts (``restarts``). A restarted run with a simulated broker keeps the run's
state folder (:data:`RESUME_STATE_DIR_ENV`), so it reads the journal the killed run wrote and
neither loses nor repeats an order.

Command-line side code, like :mod:`jqtrade.tasks.process`: it waits with ``time.sleep``.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Optional

from jqtrade.fileio import unlink_quietly, write_atomic

__all__ = [
    "BACKOFF_CAP",
    "DEFAULT_MAX_RESTARTS",
    "RESTARTS_ENV",
    "RESUME_STATE_DIR_ENV",
    "backoff",
    "main",
    "report_gave_up",
    "report_restart",
    "request_no_restart",
    "supervisor_running",
]

#: How often the task was restarted, handed to each start (written into its record).
RESTARTS_ENV = "JQTRADE_RESTARTS"
#: The state folder of the run being restarted (simulated-broker runs have one of their own).
RESUME_STATE_DIR_ENV = "JQTRADE_RESUME_STATE_DIR"
DEFAULT_MAX_RESTARTS = 10
BACKOFF_CAP = 60.0
#: A run this long counts as healthy: the next crash waits 1 s again.
HEALTHY_RUN = 300.0
_POLL = 0.2

logger = logging.getLogger("jqtrade.supervisor")


def backoff(failures: int) -> float:
    """Seconds to wait before the restart after ``failures`` quick crashes in a row (≥ 1)."""
    return min(BACKOFF_CAP, 2.0 ** max(0, failures - 1))


# --- what the notifications can hook into -----------------------------------------------------


def report_restart(name: str, status: int, attempt: int, delay: float) -> None:
    """The task ``name`` died with ``status`` and is restarted (the ``attempt``-th time) in ``delay`` s."""
    message = f"任务 {name} 异常退出（状态 {status}），第 {attempt} 次重启（{delay:g} 秒后）"
    logger.error("%s", message)
    _alert(name, f"任务 {name} 异常退出，正在重启", message)


def report_gave_up(name: str, status: int, restarts: int) -> None:
    """The task ``name`` died again after ``restarts`` restarts: no more restarts."""
    message = f"任务 {name} 异常退出（状态 {status}），已重启 {restarts} 次达到上限 --max-restarts，不再重启"
    logger.error("%s", message)
    _alert(name, f"任务 {name} 异常退出，不再重启", message)


def _alert(name: str, title: str, body: str) -> None:
    """The supervisor knows no strategy options: it alerts the targets of ``JQTRADE_NOTIFY``."""
    if not os.environ.get("JQTRADE_NOTIFY"):
        return
    from jqtrade.notify import Notifier
    from jqtrade.options import Options

    try:
        notifier = Notifier.from_options(Options(), name)
    except Exception as exc:  # noqa: BLE001 - an alert must never stop the supervisor
        logger.warning("无法发送重启通知：%s", exc)
        return
    if notifier is not None:
        notifier.event("task_failed", title, body)
        notifier.close(timeout=10.0)


# --- the stop_task side -----------------------------------------------------------------------


def supervisor_running(supervisor_path: Path) -> bool:
    """Whether a supervisor holds the lock at ``supervisor_path`` (``TaskRegistry.supervisor_path``)."""
    from jqtrade.tasks.registry import _lock_exclusive, _unlock_and_close

    try:
        fh = _lock_exclusive(supervisor_path, create=False)
    except OSError:
        return False
    if fh is None:
        return True
    _unlock_and_close(fh)
    return False


def request_no_restart(supervisor_path: Path) -> bool:
    """Tell a running supervisor not to restart its task again; False when there is none."""
    if not supervisor_running(supervisor_path):
        return False
    write_atomic(_stop_path(supervisor_path), f"{os.getpid()}\n".encode("ascii"))
    return True


def _stop_path(supervisor_path: Path) -> Path:
    return supervisor_path.with_name(supervisor_path.name + ".stop")


# --- the supervisor ---------------------------------------------------------------------------


class Supervisor:
    """Start ``argv`` (a ``start_task`` without ``--detach``) and restart it when it crashes."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        *,
        runtime_dir: Path,
        log_file: Path,
        max_restarts: int,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        from jqtrade.tasks.registry import TaskRegistry

        self.name = name
        self.argv = argv
        self.registry = TaskRegistry(runtime_dir)
        self.log_file = log_file
        self.max_restarts = max_restarts
        self.lock_path = self.registry.supervisor_path(name)
        self.stop_path = _stop_path(self.lock_path)
        self._sleep = sleep

    def stop_requested(self) -> bool:
        return self.stop_path.exists()

    def run(self) -> int:
        from jqtrade.tasks.registry import START_TOKEN_ENV, _lock_exclusive, _remove_locked

        self.registry.tasks_dir.mkdir(parents=True, exist_ok=True)
        fh = _lock_exclusive(self.lock_path, create=True)
        if fh is None:
            logger.error("任务 %s 已有一个守护进程在运行，本守护进程退出", self.name)
            return 2
        try:
            unlink_quietly(self.stop_path)  # a request left for an earlier supervisor is void
            token = os.environ.pop(START_TOKEN_ENV, "") or secrets.token_hex(16)
            return self._loop(token, START_TOKEN_ENV)
        finally:
            unlink_quietly(self.stop_path)
            _remove_locked(fh, self.lock_path)

    def _loop(self, token: str, token_env: str) -> int:
        restarts = failures = 0
        state_dir: Optional[str] = None
        while True:
            env = dict(os.environ)
            env[token_env] = token
            env[RESTARTS_ENV] = str(restarts)
            if state_dir is not None:
                env[RESUME_STATE_DIR_ENV] = state_dir
            started = time.monotonic()
            status, ran, seen_dir = self._run_once(env, token)
            state_dir = seen_dir or state_dir
            if self.stop_requested():
                logger.info(
                    "任务 %s 已由 stop_task 停止（状态 %s），守护进程不再重启它", self.name, status
                )
                return 0
            if status == 0:
                logger.info("任务 %s 已正常退出，守护进程结束", self.name)
                return 0
            if not ran and restarts == 0:
                logger.error(
                    "任务 %s 启动失败（状态 %s），没有进入运行状态，不重启；请查看上面的日志",
                    self.name,
                    status,
                )
                return status if status > 0 else 1
            if restarts >= self.max_restarts:
                report_gave_up(self.name, status, restarts)
                return status if status > 0 else 1
            failures = 1 if time.monotonic() - started >= HEALTHY_RUN else failures + 1
            restarts += 1
            delay = backoff(failures)
            report_restart(self.name, status, restarts, delay)
            if self._wait(delay):
                logger.info("任务 %s 在等待重启时被 stop_task 停止，不再重启", self.name)
                return 0
            token = secrets.token_hex(16)

    def _run_once(self, env: dict[str, str], token: str) -> tuple[int, bool, Optional[str]]:
        """Run the task once; its status, whether it reached "running", its state folder."""
        with open(self.log_file, "ab") as log, open(os.devnull, "rb") as devnull:
            # A plain child: on POSIX it shares our session (we have no terminal); on Windows
            # it shares our console, which has no window (see process.spawn_detached).
            child = subprocess.Popen(
                self.argv,
                stdin=devnull,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                close_fds=True,
            )
        ran, state_dir = False, None
        while True:
            try:
                status = child.wait(_POLL)
                break
            except subprocess.TimeoutExpired:
                pass
            if not ran:
                ran, state_dir = self._ran(token)
        if not ran:
            # Killed right after it began running, between two polls: a killed task's record
            # is still there (only a free lock lets the registry clean it).
            ran, state_dir = self._ran(token, cleaned=False)
        return int(status), ran, state_dir

    def _ran(self, token: str, *, cleaned: bool = True) -> tuple[bool, Optional[str]]:
        """Whether the run with ``token`` reached "running", and its state folder."""
        if cleaned:
            records = self.registry.find(name=self.name, start_token=token)
        else:
            record = self.registry.read(self.name)
            records = [record] if record is not None and record.start_token == token else []
        for record in records:
            if record.state in ("running", "stopping"):
                return True, record.state_dir if record.mode != "live" else None
        return False, None

    def _wait(self, seconds: float) -> bool:
        """Sleep ``seconds``; True as soon as a stop is requested."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.stop_requested():
                return True
            self._sleep(min(_POLL, max(0.0, deadline - time.monotonic())))
        return self.stop_requested()


def _configure_logging(log_file: Path) -> None:
    from jqtrade.clock import LiveClock
    from jqtrade.logs import FORMAT, MarketTimeFilter

    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.addFilter(MarketTimeFilter(LiveClock()))
    handler.setFormatter(logging.Formatter(FORMAT))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def main(argv: Optional[list[str]] = None) -> int:
    """``python -m jqtrade.tasks.supervisor --name N --runtime-dir R --log L --max-restarts K -- ARGV``."""
    raw = list(sys.argv[1:] if argv is None else argv)
    if "--" not in raw:
        print(
            "用法：python -m jqtrade.tasks.supervisor --name 名称 --runtime-dir 目录 --log 日志 "
            "--max-restarts N -- 任务命令行",
            file=sys.stderr,
        )
        return 2
    split = raw.index("--")
    parser = argparse.ArgumentParser(prog="jqtrade.tasks.supervisor")
    parser.add_argument("--name", required=True)
    parser.add_argument("--runtime-dir", required=True, type=Path)
    parser.add_argument("--log", required=True, type=Path)
    parser.add_argument("--max-restarts", type=int, default=DEFAULT_MAX_RESTARTS)
    args = parser.parse_args(raw[:split])
    _configure_logging(args.log)
    supervisor = Supervisor(
        args.name,
        raw[split + 1 :],
        runtime_dir=args.runtime_dir,
        log_file=args.log,
        max_restarts=args.max_restarts,
    )
    logger.info(
        "任务 %s 的守护进程已启动（pid %d，异常退出时自动重启，最多 %d 次）",
        args.name,
        os.getpid(),
        args.max_restarts,
    )
    return supervisor.run()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
