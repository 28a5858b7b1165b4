"""Run one strategy task in this process: the body of ``jqtrade start_task``."""

from __future__ import annotations

import datetime
import logging
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Optional

import attrs
import pendulum

from jqtrade.clock import MARKET_TZ, Clock, LiveClock, SimClock
from jqtrade.errors import ConfigError, ConfigFileError
from jqtrade.loader import load_strategy
from jqtrade.logs import configure_logging
from jqtrade.options import Options
from jqtrade.runtime import Runtime

task_logger = logging.getLogger("jqtrade.task")


@attrs.frozen(kw_only=True)
class TaskSpec:
    """Everything ``start_task`` was asked to do."""

    name: str
    code: Path
    out: Optional[Path] = None
    env: tuple[tuple[str, str], ...] = ()
    config: Optional[Path] = None
    debug: bool = False
    simulate: Optional[tuple[datetime.date, datetime.date]] = None
    strategy_class: Optional[str] = None
    runtime_dir: Optional[str] = None


def parse_env(text: Optional[str]) -> tuple[tuple[str, str], ...]:
    """``'PYTHONPATH=./pkg;USER=test'`` -> pairs; a part without ``=`` is an error."""
    if not text:
        return ()
    pairs = []
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"-e 参数中的 {part!r} 不是 KEY=VALUE 形式；多个变量用分号分隔，如 -e 'PYTHONPATH=./pkg;USER=test'")
        pairs.append((key.strip(), value.strip()))
    return tuple(pairs)


def parse_simulate(text: str) -> tuple[datetime.date, datetime.date]:
    """``2024-06-03`` or ``2024-06-03..2024-06-07`` (inclusive)."""
    start_text, sep, end_text = text.partition("..")
    try:
        start = datetime.date.fromisoformat(start_text.strip())
        end = datetime.date.fromisoformat(end_text.strip()) if sep else start
    except ValueError:
        raise ConfigError(f"--simulate 的值 {text!r} 不合法：应为 YYYY-MM-DD 或 YYYY-MM-DD..YYYY-MM-DD") from None
    if end < start:
        raise ConfigError(f"--simulate 的值 {text!r} 不合法：结束日期早于开始日期")
    return start, end


def read_config(path: Path) -> dict[str, Any]:
    """Read option defaults from a TOML file (never executed as Python)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.9/3.10 only
        import tomli as tomllib
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigFileError(str(path), "文件不存在") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigFileError(str(path), f"TOML 格式错误：{exc}") from None
    unknown = set(data) - {"options"}
    if unknown:
        raise ConfigFileError(str(path), f"未知的表 {sorted(unknown)}；选项请写在 [options] 表中")
    options = data.get("options", {})
    if not isinstance(options, Mapping):
        raise ConfigFileError(str(path), "[options] 应为表")
    return dict(options)


def apply_env(pairs: tuple[tuple[str, str], ...]) -> None:
    for key, value in pairs:
        os.environ[key] = value
        if key == "PYTHONPATH":
            for entry in reversed([p for p in value.split(os.pathsep if os.pathsep in value else ":") if p]):
                full = str(Path(entry).expanduser().resolve())
                if full not in sys.path:
                    sys.path.insert(0, full)


def make_clock(spec: TaskSpec) -> Clock:
    if spec.simulate is None:
        return LiveClock()
    start = spec.simulate[0]
    return SimClock(pendulum.datetime(start.year, start.month, start.day, tz=MARKET_TZ))


def run_task(spec: TaskSpec) -> int:
    """Load, initialize and run the strategy until stopped; return the exit status."""
    apply_env(spec.env)
    base = Options()
    if spec.config is not None:
        base = base.evolve(read_config(spec.config))
    if spec.runtime_dir is not None:
        base = base.evolve({"runtime_dir": spec.runtime_dir})
    clock = make_clock(spec)
    stream = configure_logging(clock, out=spec.out, debug=spec.debug)
    try:
        strategy = load_strategy(spec.code, spec.strategy_class)
        runtime = Runtime(strategy, clock=clock, options=base)
        runtime.initialize()
        return _run(runtime, spec)
    finally:
        logging.shutdown() if stream is not None else None
        if stream is not None:
            sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
            stream.close()


def _run(runtime: Runtime, spec: TaskSpec) -> int:
    mode = "模拟时钟" if spec.simulate else "实时时钟"
    task_logger.info("任务 %s 已启动（%s，策略 %s，定时任务 %d 个）", spec.name, mode, spec.code, len(runtime.jobs))
    previous = _install_signal_handlers(runtime)
    try:
        until = None
        if spec.simulate is not None:
            end = spec.simulate[1]
            until = pendulum.datetime(end.year, end.month, end.day, 23, 59, 59, tz=MARKET_TZ)
        runtime.run(until)
    finally:
        _restore_signal_handlers(previous)
        reason = runtime.loop.stop_reason or ("simulation_end" if spec.simulate else "stop")
        task_logger.info("任务 %s 正在停止（原因：%s），运行停止回调", spec.name, reason)
        runtime.finish()
        task_logger.info("任务 %s 已停止", spec.name)
    return 1 if runtime.loop.failed is not None else 0


def _install_signal_handlers(runtime: Runtime) -> dict[int, Any]:
    previous: dict[int, Any] = {}

    def handler(signum: int, frame: Any) -> None:
        runtime.request_stop(signal.Signals(signum).name)

    for name in ("SIGINT", "SIGTERM", "SIGBREAK"):
        signum = getattr(signal, name, None)
        if signum is None:
            continue
        try:
            previous[signum] = signal.signal(signum, handler)
        except (ValueError, OSError):  # not the main thread, or not supported here
            pass
    return previous


def _restore_signal_handlers(previous: dict[int, Any]) -> None:
    for signum, old in previous.items():
        try:
            signal.signal(signum, old)
        except (ValueError, OSError):
            pass
