"""jqtrade's exceptions: one tree, every message in Chinese and built from the bad value.

    JqTradeError
     ├── ConfigError (ValueError)
     │    ├── UnknownOptionError            set_options 收到未知选项
     │    ├── OptionValueError              选项值类型或范围不对
     │    ├── AccountOptionLockedError      账户启动后又修改账户选项（类写法）
     │    └── ConfigFileError               --config TOML 文件无法读取
     ├── ScheduleError
     │    ├── TimeExpressionError (ValueError)   run_daily 的时间表达式不合法
     │    ├── ScheduleArgumentError (ValueError) run_weekly/run_monthly 的日序号等不合法
     │    └── NotInInitializeError (RuntimeError) 在 process_initialize 之外注册定时任务
     ├── CalendarError (ValueError)         交易日历文件/节假日配置不合法
     ├── StrategyLoadError                   策略文件不存在、无法导入或找不到策略
     ├── AccountError
     │    ├── AccountDisabledError (RuntimeError) 未开启账户模块却调用交易 API
     │    ├── AccountNotReadyError (RuntimeError) 只预览定时任务时调用交易 API
     │    ├── OrderRejectedError (ValueError)     下单前检查不通过（带 reason 代码）
     │    ├── OrderNotFoundError (KeyError)       订单号不存在（get_orders()[缺失的订单号] 也是它）
     │    ├── UnknownOrderStatusError (ValueError) 订单状态名称不存在（如 get_orders(status=...)）
     │    ├── IllegalOrderTransitionError (RuntimeError) 订单当前状态不允许该操作
     │    └── JournalError                         订单日志损坏或无法写入
     ├── GateError                            交易接口调用失败
     │    ├── GateConfigError (ValueError)         交易接口配置不对（如缺少 account_no）
     │    ├── GateLockTimeoutError (TimeoutError)  文件锁超时
     │    ├── GateWriteError (OSError)             写委托/撤单文件失败（磁盘满、无权限……），订单可能已部分写入
     │    ├── SnapshotUnusableError                资金/持仓快照不完整或格式不对（沿用上次完整快照并标记过期）
     │    └── ReportFormatError (ValueError)       交易接口的回报字段缺失或类型不对（这一行被跳过）
     ├── FileBusyError (PermissionError)    文件一直被其他程序占用（替换失败，重试后仍不行）
     └── TaskError
          ├── TaskAlreadyRunningError             同名任务已在运行
          ├── TaskNotFoundError (LookupError)     找不到要停止的任务
          ├── TaskNameError (ValueError)          任务名称为空、过长或含无法编码的字符
          └── TaskStateError (RuntimeError)       任务状态的非法转换

Leaves also subclass the matching built-in so that ``except ValueError`` in user code keeps
working. Each class builds its message in ``__init__`` so that raising sites stay short.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path
from typing import Any


class JqTradeError(Exception):
    """Root of every error jqtrade raises on purpose."""


# --- configuration -------------------------------------------------------------------------


class ConfigError(JqTradeError, ValueError):
    pass


class UnknownOptionError(ConfigError):
    def __init__(self, key: str, valid: Iterable[str]) -> None:
        valid = sorted(valid)
        close = difflib.get_close_matches(key, valid, n=1)
        hint = f"，你是不是想写 {close[0]!r}？" if close else ""
        super().__init__(f"未知选项 {key!r}{hint} 可用选项：{', '.join(valid)}")
        self.key = key
        self.suggestion = close[0] if close else None


class OptionValueError(ConfigError):
    def __init__(self, key: str, value: Any, expected: str) -> None:
        super().__init__(f"选项 {key} 的值 {value!r} 不合法：{expected}")
        self.key = key
        self.value = value


class AccountOptionLockedError(ConfigError):
    """``set_options`` changed an option the running account already used (class API)."""

    def __init__(self, keys: Iterable[str], started_by: str) -> None:
        keys = list(keys)
        super().__init__(
            f"账户已在调用 {started_by} 时启动，不能再修改 {'、'.join(keys)}；"
            "请把 set_options 放在使用账户（context.portfolio、order、get_orders 等）之前"
        )
        self.keys = keys
        self.started_by = started_by


class ConfigFileError(ConfigError):
    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"配置文件 {path} 无法使用：{reason}")
        self.path = path


# --- scheduling ----------------------------------------------------------------------------


class ScheduleError(JqTradeError):
    pass


TIME_EXPRESSION_FORMS = (
    "'HH:MM:SS' 或 'HH:MM'（如 '09:31:00'、'14:50'）",
    "'open'、'close'（按 market_period 的开盘/收盘时间）",
    "'before_open'（= open-30m）、'after_close'（= close+30m）",
    "带偏移的 'open-30m'、'close+1h30m'、'open+90s'（单位 h/m/s）",
    "'every_minute'（交易时段内每分钟，含首尾）",
)


class TimeExpressionError(ScheduleError, ValueError):
    def __init__(self, expression: object, reason: str = "") -> None:
        forms = "\n  ".join(TIME_EXPRESSION_FORMS)
        why = f"（{reason}）" if reason else ""
        super().__init__(f"时间表达式 {expression!r} 不合法{why}。支持的写法：\n  {forms}")
        self.expression = expression


class ScheduleArgumentError(ScheduleError, ValueError):
    def __init__(self, name: str, value: object, expected: str) -> None:
        super().__init__(f"参数 {name} 的值 {value!r} 不合法：{expected}")
        self.value = value


class NotInInitializeError(ScheduleError, RuntimeError):
    def __init__(self, api: str) -> None:
        super().__init__(f"{api} 只能在 process_initialize 中调用")
        self.api = api


# --- calendar and loading ------------------------------------------------------------------


class CalendarError(JqTradeError, ValueError):
    pass


class StrategyLoadError(JqTradeError):
    def __init__(self, path: str, reason: str, lineno: int | None = None) -> None:
        where = f"{path}:{lineno}" if lineno else path
        super().__init__(f"无法加载策略文件 {where}：{reason}")
        self.path = path
        self.lineno = lineno


# --- account and orders --------------------------------------------------------------------


class AccountError(JqTradeError):
    pass


class AccountDisabledError(AccountError, RuntimeError):
    def __init__(self, api: str) -> None:
        super().__init__(
            f"{api} 需要账户模块，但账户模块没有开启：请在 process_initialize 中"
            f"调用 set_options(account_no='你的资金账号') 或 set_options(use_account=True)"
        )
        self.api = api


class AccountNotReadyError(AccountError, RuntimeError):
    def __init__(self, api: str) -> None:
        super().__init__(
            f"{api} 在这里不可用：只预览定时任务（如 jqtrade schedule）时不连接券商账户；"
            f"实际运行（start_task）时 process_initialize 中第一次使用账户就会启动它"
        )
        self.api = api


class OrderRejectedError(AccountError, ValueError):
    """A pre-trade check refused the order before it reached the broker."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"[{reason}] {message}")
        self.reason = reason
        self.message = message


class OrderNotFoundError(AccountError, KeyError):
    """A KeyError (so a LookupError too): ``get_orders()[missing]`` behaves like a dict lookup."""

    def __init__(self, order_id: object) -> None:
        super().__init__(f"找不到订单 {order_id!r}（只能查询/撤销本任务今天下的订单）")
        self.order_id = order_id

    def __str__(self) -> str:  # KeyError would show the message quoted, as a repr
        return str(self.args[0])


class UnknownOrderStatusError(AccountError, ValueError):
    def __init__(self, value: object, valid: Iterable[str]) -> None:
        super().__init__(f"订单状态 {value!r} 不存在，可用的状态：{', '.join(valid)}")
        self.value = value


class IllegalOrderTransitionError(AccountError, RuntimeError):
    def __init__(self, order_id: str, status: str, action: str) -> None:
        super().__init__(f"订单 {order_id} 当前状态为 {status}，不能{action}")
        self.order_id = order_id
        self.status = status


class JournalError(AccountError):
    pass


# --- trade gates ---------------------------------------------------------------------------


class GateError(JqTradeError):
    pass


class GateConfigError(GateError, ValueError):
    pass


class GateLockTimeoutError(GateError, TimeoutError):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__(f"等待文件锁超时（{timeout} 秒）：{path}，可能有其他程序长时间占用该文件")
        self.path = path


class GateWriteError(GateError, OSError):
    """Writing an order or cancel line failed part way or entirely.

    Whether the broker saw the line is unknown, so the account settles the order from the
    broker's own files instead of declaring it rejected.
    """

    def __init__(self, path: str, cause: str) -> None:
        super().__init__(f"写入文件 {path} 失败：{cause}。该订单是否送达未知，将按券商回报确认")
        self.path = path
        self.cause = cause


class SnapshotUnusableError(GateError):
    """A cash or positions snapshot that must not be shown as the account's state."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- files ---------------------------------------------------------------------------------


class ReportFormatError(GateError, ValueError):
    """A gate's report row has a missing or malformed field; the row is skipped, the rest used."""

    def __init__(self, what: str, key: str, value: object, allowed: str) -> None:
        self.what, self.key, self.value = what, key, value
        super().__init__(f"{what}的字段 {key}={value!r} 不合法，应为{allowed}")


class FileBusyError(JqTradeError, PermissionError):
    """A file stayed held by another program (or unwritable) for the whole retry period."""

    def __init__(
        self, path: Path, action: str, seconds: float, attempts: int, cause: OSError
    ) -> None:
        super().__init__(
            cause.errno,
            f"无法{action}文件 {path}：重试 {seconds:g} 秒（{attempts} 次）后仍被拒绝，"
            f"文件可能被其他程序占用（杀毒软件、索引或备份程序，或用编辑器、Excel 打开了它），"
            f"或没有写入权限。请关闭占用它的程序后重试（系统错误：{cause.strerror or cause}）",
        )
        self.path = Path(path)
        self.action = action
        self.attempts = attempts

    def __str__(self) -> str:  # PermissionError would print "[Errno 13] ..." first
        return str(self.args[1])


# --- tasks ---------------------------------------------------------------------------------


class TaskError(JqTradeError):
    pass


class TaskAlreadyRunningError(TaskError):
    def __init__(self, name: str, pid: int | None) -> None:
        pid_text = f"（pid {pid}）" if pid else ""
        super().__init__(f"名为 {name!r} 的任务已在运行{pid_text}，任务名称不能重复")
        self.name = name
        self.pid = pid


class TaskNotFoundError(TaskError, LookupError):
    def __init__(self, what: str) -> None:
        super().__init__(f"找不到运行中的任务：{what}")


class TaskNameError(TaskError, ValueError):
    def __init__(self, name: object, reason: str) -> None:
        super().__init__(
            f"任务名称 {name!r} 不合法：{reason}。任务名称须为 1 到 64 个字符（可以用中文）"
        )
        self.name = name


class TaskStateError(TaskError, RuntimeError):
    """A task lifecycle step that the state table does not allow."""

    def __init__(self, name: str, current: str, requested: str, allowed: Iterable[str]) -> None:
        allowed = sorted(allowed)
        allowed_text = "、".join(allowed) if allowed else "无（已是终止状态）"
        super().__init__(
            f"任务 {name!r} 的状态不能从 {current} 变为 {requested}；可以变为：{allowed_text}"
        )
        self.current = current
        self.requested = requested
