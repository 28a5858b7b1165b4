"""Bodies of the task-management commands: get_tasks, stop_task, halt/reduce/resume_task,
detached start (with an optional restart supervisor), new, schedule."""

from __future__ import annotations

import datetime
import json
import keyword
import os
import re
import secrets
import sys
import time
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Optional

from jqtrade.clock import MARKET_TZ, LiveClock
from jqtrade.errors import ConfigError, TaskAlreadyRunningError, TaskNotFoundError
from jqtrade.tasks.control import TradingStateFile
from jqtrade.tasks.process import detached_exit_code, spawn_detached, stop_tasks, task_interpreter
from jqtrade.tasks.registry import START_TOKEN_ENV, TaskRecord, TaskRegistry
from jqtrade.tasks.supervisor import DEFAULT_MAX_RESTARTS, request_no_restart

_STATE_ZH = {
    "starting": "启动中",
    "running": "运行中",
    "stopping": "停止中",
    "stopped": "已停止",
    "failed": "失败",
}
#: How get_tasks names each TASK_MODES entry: only "实盘" may trade real money.
MODE_ZH = {
    "live": "实盘",
    "sim_broker": "模拟券商",
    "sim_clock": "模拟时钟",
    "sim_clock_sim_broker": "模拟时钟+模拟券商",
}
#: How get_tasks names each trading state (TradingState.label; "-": no account module).
TRADING_ZH = {"active": "正常交易", "reducing": "只减仓", "halted": "暂停交易"}


def runtime_path(runtime_dir: Optional[str]) -> Path:
    return Path(runtime_dir or "~/jqtrade").expanduser()


# -- get_tasks ----------------------------------------------------------------------------


def _uptime(record: TaskRecord, now: datetime.datetime) -> str:
    seconds = max(0, int((now - record.started_at).total_seconds()))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


def _rows(records: Sequence[TaskRecord]) -> list[list[str]]:
    now = LiveClock().now()
    rows = []
    for r in records:
        started = r.started_at.astimezone(MARKET_TZ).strftime("%Y-%m-%d %H:%M:%S")
        rows.append(
            [
                r.name,
                str(r.pid),
                _STATE_ZH.get(r.state, r.state),
                MODE_ZH.get(r.mode, r.mode),
                TRADING_ZH.get(r.trading_state or "", r.trading_state or "-"),
                started,
                _uptime(r, now),
                r.strategy_file,
                r.log_file or "-",
                r.gate,
                r.next_job or "-",
                (r.last_sync or "-")[:19].replace("T", " "),
            ]
        )
    return rows


HEADERS = [
    "名称",
    "PID",
    "状态",
    "模式",
    "交易状态",
    "启动时间",
    "已运行",
    "策略文件",
    "日志文件",
    "交易接口",
    "下一个定时任务",
    "最近同步",
]


def _json_text(data: Any) -> str:
    text = json.dumps(data, ensure_ascii=False, indent=2)
    try:
        text.encode(getattr(sys.stdout, "encoding", None) or "utf-8")
    except (UnicodeEncodeError, LookupError):
        return json.dumps(data, ensure_ascii=True, indent=2)  # still the same JSON for a script
    return text


def get_tasks(runtime_dir: Optional[str], *, as_json: bool) -> int:
    records = TaskRegistry(runtime_path(runtime_dir)).list()
    if as_json:
        print(_json_text([r.to_json() for r in records]))
        return 0
    if not records:
        print("当前没有运行中的任务")
        return 0
    rows = _rows(records)
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(title="运行中的任务", title_justify="left")
        for header in HEADERS:
            table.add_column(header, overflow="fold")
        for row in rows:
            table.add_row(*row)
        Console().print(table)
    else:
        widths = [max(_width(x) for x in col) for col in zip(HEADERS, *rows)]
        for row in [HEADERS, *rows]:
            print(
                "  ".join(cell + " " * (w - _width(cell)) for cell, w in zip(row, widths)).rstrip()
            )
    return 0


def _width(text: str) -> int:
    """Display width: CJK characters take two columns."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _select(
    registry: TaskRegistry, name: Optional[str], pid: Optional[int], all_tasks: bool, what: str
) -> list[TaskRecord]:
    """The running tasks ``-n`` / ``-p`` / ``--all`` name; a ConfigError when none was given."""
    if all_tasks:
        return registry.list()
    if name is None and pid is None:
        raise ConfigError(f"请用 -n 名称、-p PID 或 --all 指定{what}")
    return registry.find(name=name, pid=pid)


# -- stop_task ----------------------------------------------------------------------------


def stop_task(
    runtime_dir: Optional[str],
    *,
    name: Optional[str],
    pid: Optional[int],
    all_tasks: bool,
    force: bool,
    timeout: float,
) -> int:
    registry = TaskRegistry(runtime_path(runtime_dir))
    records = _select(registry, name, pid, all_tasks, "要停止的任务")
    if not records:
        if all_tasks:
            print("当前没有运行中的任务")
            return 0
        else:
            if (
                name is not None
                and pid is None
                and request_no_restart(registry.supervisor_path(name))
            ):
                print(f"任务 {name} 当前未运行，正在等待自动重启：已取消重启")
                return 0
            raise TaskNotFoundError(_selector_text(name, pid))
    results = stop_tasks(registry, records, force=force, timeout=timeout)
    ok = True
    for result in results:
        print(f"{result.name}（pid {result.pid}）：{result.detail}")
        ok = ok and result.ok
    return 0 if ok else 1


def _selector_text(name: Optional[str], pid: Optional[int]) -> str:
    return " ".join(x for x in (f"名称={name}" if name else "", f"pid={pid}" if pid else "") if x)


# -- halt_task / reduce_task / resume_task ------------------------------------------------

#: command -> the trading state it asks for.
TRADING_COMMANDS = {"halt_task": "halted", "reduce_task": "reducing", "resume_task": "active"}


def set_trading_state(
    runtime_dir: Optional[str],
    command: str,
    *,
    name: Optional[str],
    pid: Optional[int],
    all_tasks: bool,
    cancel_open: bool = False,
    reason: Optional[str] = None,
    timeout: float = 10.0,
) -> int:
    """Save the state ``command`` asks for where each selected task polls it, and wait for each
    to acknowledge it (its record's ``trading_ack``); the saved state also survives a restart.

    A task named with ``-n`` that is not running gets the state saved for its next start."""
    state = TRADING_COMMANDS[command]
    registry = TaskRegistry(runtime_path(runtime_dir))
    why = reason or command
    records = _select(registry, name, pid, all_tasks, f" {command} 的任务")
    if not records:
        if all_tasks:
            print("当前没有运行中的任务")
            return 0
        else:
            if name is not None and pid is None:
                registry.tasks_dir.mkdir(parents=True, exist_ok=True)
                TradingStateFile(registry.trading_state_path(name)).write(
                    state, why, command=command
                )
                print(
                    f"任务 {name} 当前未运行：已保存交易状态 {state}（{TRADING_ZH[state]}），下次启动时生效"
                )
                return 0
            raise TaskNotFoundError(_selector_text(name, pid))
    waiting = {
        record.name: (
            record,
            TradingStateFile(registry.trading_state_path(record.name))
            .write(state, why, command=command, cancel_open=cancel_open)
            .id,
        )
        for record in records
    }
    done: dict[str, TaskRecord] = {}
    deadline = time.monotonic() + timeout
    while len(done) < len(waiting) and time.monotonic() < deadline:
        for record in registry.list():
            entry = waiting.get(record.name)
            if entry is not None and record.trading_ack == entry[1]:
                done[record.name] = record
        if len(done) < len(waiting):
            time.sleep(0.05)
    ok = True
    for task, (record, _) in waiting.items():
        seen = done.get(task)
        if seen is None:
            ok = False
            print(
                f"{task}（pid {record.pid}）：{timeout:g} 秒内没有确认（可能有回调尚未执行完）；交易状态 {state} 已保存，任务稍后会执行"
            )
        elif seen.trading_state is None:
            print(f"{task}（pid {seen.pid}）：任务没有开启账户模块，交易状态不起作用（已保存）")
        else:
            extra = "，并已请求撤销全部未完成订单（结果见任务日志）" if cancel_open else ""
            print(
                f"{task}（pid {seen.pid}）：交易状态为 {seen.trading_state}（{TRADING_ZH.get(seen.trading_state, '')}）{extra}"
            )
    return 0 if ok else 1


# -- start_task --detach ------------------------------------------------------------------


#: Set for the background child: a child that still saw a detach flag must not spawn again.
_DETACHED_ENV = "JQTRADE_DETACHED_CHILD"


def _without_detach(argv: Sequence[str]) -> list[str]:
    """``argv`` minus every spelling argparse takes as ``--detach``.

    That is ``-d``, ``-d`` at the head of combined short flags (``-dn NAME``) and the
    abbreviations ``--det`` .. ``--detach`` (shorter ones clash with ``--debug``).
    """
    kept = []
    for arg in argv:
        if arg.startswith("--"):
            if len(arg) > len("--de") and "--detach".startswith(arg):
                continue
        elif arg.startswith("-d"):
            rest = arg[1:].lstrip("d")
            if not rest:
                continue
            arg = "-" + rest
        kept.append(arg)
    return kept


def start_detached(
    argv: Sequence[str],
    *,
    name: str,
    out: Optional[Path],
    runtime_dir: Optional[str],
    executable: Optional[str] = None,
    restart: bool = False,
    max_restarts: int = DEFAULT_MAX_RESTARTS,
) -> int:
    """Re-run ``start_task`` without ``--detach`` in a new background process.

    With ``restart`` the background process is a supervisor (:mod:`jqtrade.tasks.supervisor`)
    that runs the task and starts it again when it crashes, at most ``max_restarts`` times.

    ``executable`` is the program to run ``-m jqtrade`` with (default: :func:`task_interpreter`).
    The child is told a fresh start token and writes it into its task record: that record, not
    the pid we started, tells us the task runs and which pid it has (a launcher in between has
    a pid of its own).
    """
    if os.environ.get(_DETACHED_ENV):
        raise ConfigError(
            "后台任务的子进程仍收到了 --detach 参数，已停止以免无限重复启动；请改用 -d 或 --detach 写法"
        )
    # The child would refuse a running name too, but only into its log while we print success.
    running = TaskRegistry(runtime_path(runtime_dir)).find(name=name)
    if running:
        raise TaskAlreadyRunningError(name, running[0].pid)
    log_file = (out or runtime_path(runtime_dir) / "logs" / f"{name}.log").expanduser().resolve()
    log_file.parent.mkdir(parents=True, exist_ok=True)
    python, python_env = (executable, {}) if executable is not None else task_interpreter()
    child = [python, "-m", "jqtrade", *_without_detach(argv)]
    if out is None:
        child += ["-o", str(log_file)]
    if restart:
        child = [
            python,
            "-m",
            "jqtrade.tasks.supervisor",
            "--name",
            name,
            "--log",
            str(log_file),
            "--runtime-dir",
            str(runtime_path(runtime_dir).resolve()),
            "--max-restarts",
            str(max_restarts),
            "--",
            *child,
        ]
    token = secrets.token_hex(16)
    env = {**os.environ, **python_env, _DETACHED_ENV: "1", START_TOKEN_ENV: token}
    spawned = spawn_detached(child, log_file, env=env, cwd=Path.cwd())
    pid = _wait_started(TaskRegistry(runtime_path(runtime_dir)), name, token, spawned, log_file)
    if pid is None:
        return 2
    print(f"任务 {name} 已在后台启动：pid {pid}，日志 {log_file}")
    if restart:
        print(
            f"异常退出时自动重启（守护进程 pid {spawned}，最多 {max_restarts} 次）；stop_task 停止后不再重启"
        )
    print("查看：jqtrade get_tasks    停止：jqtrade stop_task -n " + name)
    return 0


def _wait_started(
    registry: TaskRegistry,
    name: str,
    token: str,
    spawned: int,
    log_file: Path,
    timeout: float = 30.0,
) -> Optional[int]:
    """The task's own pid once it runs its loop; None (its log shown) if it died starting.

    The task is the one whose record carries ``token``; ``spawned`` is the process we started
    (the task itself, or a launcher that waits for it and exits with its status).
    """
    deadline = time.monotonic() + timeout
    seen: Optional[TaskRecord] = None
    while time.monotonic() < deadline:
        for record in registry.find(name=name, start_token=token):
            seen = record
            if record.state == "running":
                return record.pid
        code = detached_exit_code(spawned)
        if code is not None:
            tail = log_file.read_text(encoding="utf-8-sig", errors="replace").splitlines()[-5:]
            print(
                f"错误：任务 {name} 启动失败（退出状态 {code}），日志 {log_file} 的最后几行：",
                file=sys.stderr,
            )
            for line in tail:
                print("  " + line, file=sys.stderr)
            return None
        time.sleep(0.05)
    pid = seen.pid if seen is not None else spawned
    print(
        f"任务 {name}（pid {pid}）{timeout:g} 秒内还没有进入运行状态，请查看日志 {log_file}",
        file=sys.stderr,
    )
    return pid


# -- new strategy -------------------------------------------------------------------------


def new_strategy(name: str, *, legacy: bool, directory: Optional[Path]) -> int:
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ConfigError(
            f"策略名称 {name!r} 不是合法的 Python 标识符：只能包含字母、数字、下划线，且不能以数字开头或是关键字"
        )
    folder = (directory or Path.cwd()).expanduser()
    target = folder / f"{name}.py"
    if target.exists():
        raise ConfigError(f"文件 {target} 已存在，不会覆盖；请换一个名称或先移走该文件")
    template = "legacy_strategy.py" if legacy else "class_strategy.py"
    text = resources.files("jqtrade.templates").joinpath(template).read_text(encoding="utf-8")
    text = text.replace("TemplateStrategy", _class_name(name, text))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with open(target, "x", encoding="utf-8", newline="\n") as fh:  # "x": never overwrite
            fh.write(text)
    except FileExistsError:
        if target.exists():
            raise ConfigError(
                f"文件 {target} 已存在，不会覆盖；请换一个名称或先移走该文件"
            ) from None
        raise ConfigError(f"无法创建目录 {folder}：同名的文件已存在") from None
    except OSError as exc:
        raise ConfigError(f"无法写入策略文件 {target}：{exc.strerror or exc}") from None
    print(f"已创建策略文件 {target}")
    print(
        f"先在模拟时钟和模拟券商上试运行：jqtrade start_task -n {name} -c {target} --simulate 2024-06-03 --broker sim"
    )
    return 0


def _class_name(name: str, template: str) -> str:
    """``my_strategy`` -> ``MyStrategy``; never a name the template already uses (an import)."""
    class_name = "".join(part[:1].upper() + part[1:] for part in name.split("_"))
    if not class_name.isidentifier() or keyword.iskeyword(class_name):
        class_name = "MyStrategy"
    while re.search(rf"(?<!\w){re.escape(class_name)}(?!\w)", template):
        class_name += "Strategy"
    return class_name


# -- schedule preview ---------------------------------------------------------------------


def preview_schedule(
    code: Path,
    *,
    date: Optional[str],
    days: int,
    runtime_dir: Optional[str],
    strategy_class: Optional[str],
) -> int:
    from jqtrade.calendar import TradingCalendar
    from jqtrade.loader import load_strategy
    from jqtrade.options import Options
    from jqtrade.runtime import Runtime
    from jqtrade.schedule import firings_on

    live = LiveClock()
    try:
        start = datetime.date.fromisoformat(date) if date else live.now().date()
    except ValueError:
        raise ConfigError(
            f"--date 的值 {date!r} 不合法：应为 YYYY-MM-DD 格式的日期，如 2024-06-03"
        ) from None
    if days < 1:
        raise ConfigError(f"--days 的值 {days} 不合法：应为 ≥ 1 的整数")
    strategy = load_strategy(code, strategy_class)
    options = Options() if runtime_dir is None else Options().evolve({"runtime_dir": runtime_dir})
    runtime = Runtime(strategy, clock=live, options=options, gate_factory=_no_gate)
    runtime.initialize_schedule_only()
    calendar: TradingCalendar = runtime.calendar
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"{code} 的定时任务预览", title_justify="left")
    for column in ("时间（北京时间）", "任务", "规则"):
        table.add_column(column)
    day, shown = start, 0
    while shown < days:
        if not calendar.is_trading_day(day):
            if date is not None and shown == 0 and day == start:
                console.print(f"{day} 不是交易日（周末或休市），从下一个交易日开始显示")
            day = calendar.next_trading_day(day)
            continue
        firings = sorted(
            ((t, job.seq, job) for job in runtime.jobs for t in firings_on(job.rule, day)),
            key=lambda x: (x[0], x[1]),
        )
        for when, _, job in firings:
            table.add_row(when.format("YYYY-MM-DD HH:mm:ss"), job.name, job.rule.description)
        shown += 1
        day = calendar.next_trading_day(day)
    console.print(table)
    return 0


def _no_gate(options: Any) -> Any:
    raise ConfigError("schedule 预览不连接交易接口")
