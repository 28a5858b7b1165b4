"""Reading ``--config`` files: TOML (the documented format) and jqtrade 1.0's Python files.

A 1.0 file is a Python module of ``SCHEDULER_*`` / ``ACCOUNT_*`` assignments; it is parsed with
``ast`` and never executed, so only literal values (and ``datetime.time(...)`` calls) are read.
"""

from __future__ import annotations

import ast
import datetime
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Optional

import attrs

from jqtrade.errors import ConfigError, ConfigFileError
from jqtrade.gates import gate_name
from jqtrade.options import Options


@attrs.frozen
class ConfigValues:
    """What ``--config`` gave: option defaults, and warnings to log once logging is set up."""

    options: dict[str, Any]
    warnings: tuple[str, ...] = ()


def read_config(path: Path) -> ConfigValues:
    """Read option defaults from a TOML file, or from a jqtrade 1.0 Python config file
    (``*.py``: parsed, never executed). Neither is ever run as code."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigFileError(str(path), "文件不存在") from None
    except OSError as exc:
        raise ConfigFileError(str(path), f"无法读取：{exc.strerror or exc}") from None
    if path.suffix.lower() == ".py":
        return read_legacy_config(path, _decode_config(raw))
    return ConfigValues(_read_toml(path, raw))


def _decode_config(raw: bytes) -> str:
    """UTF-8 (with or without BOM); else GBK, the code page 1.0 users' editors saved in."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("gbk", errors="replace")


def _read_toml(path: Path, raw: bytes) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.9/3.10 only
        import tomli as tomllib
    try:
        data = tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ConfigFileError(str(path), f"TOML 文件应为 UTF-8 编码（{exc}）") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigFileError(str(path), _toml_error_text(raw.decode("utf-8-sig"), exc)) from None
    unknown = set(data) - {"options"}
    if unknown:
        hint = (
            _LEGACY_HINT
            if any(str(key).startswith(("SCHEDULER_", "ACCOUNT_")) for key in unknown)
            else ""
        )
        raise ConfigFileError(
            str(path), f"未知的表 {sorted(unknown)}；选项请写在 [options] 表中{hint}"
        )
    options = data.get("options", {})
    if not isinstance(options, Mapping):
        raise ConfigFileError(str(path), "[options] 应为表")
    for key, value in options.items():
        if isinstance(value, str) and any(char in value for char in "\t\n\r\b\f"):
            raise ConfigFileError(
                str(path),
                f"选项 {key} 的值 {value!r} 含有制表符、换行等控制字符：双引号中的 \\t、\\n 等是转义符。"
                f"Windows 路径请用单引号，如 {key} = 'C:\\Ax\\...'",
            )
    return dict(options)


_TOML_LINE = re.compile(r"line (\d+)")
_TOML_KEY = re.compile(r"^\s*([A-Za-z0-9_.-]+)\s*=\s*\"(.*)")


def _toml_error_text(text: str, exc: Exception) -> str:
    """The parser's message, plus the likely fix for the usual mistakes of 1.0 users."""
    message = f"TOML 格式错误：{exc}"
    match = _TOML_LINE.search(str(exc))
    lines = text.splitlines()
    if match and 0 < int(match.group(1)) <= len(lines):
        number = int(match.group(1))
        found = _TOML_KEY.match(lines[number - 1])
        if found and "\\" in found.group(2):
            key, value = found.group(1), found.group(2).rsplit('"', 1)[0]
            return (
                f"{message}。第 {number} 行 {key} 的值写在双引号中，其中的反斜杠 \\ 会被当作转义符；"
                f"Windows 路径请改用单引号：{key} = '{value}'"
            )
    if re.search(r"^\s*(SCHEDULER|ACCOUNT)_\w+\s*=", text, re.MULTILINE):
        return message + _LEGACY_HINT
    return message


_LEGACY_HINT = "。这看起来是 jqtrade 1.0 的 Python 配置文件：请把扩展名改为 .py（jqtrade 只读取其中的赋值，不执行），或改写为 TOML"


#: jqtrade 1.0 config names and the options they set.
LEGACY_CONFIG_KEYS = {
    "SCHEDULER_MARKET_PERIOD": "market_period",
    "SCHEDULER_SETUP_ACCOUNT": "use_account",
    "SCHEDULER_RUNTIME_DIR": "runtime_dir",
    "ACCOUNT_SYNC_BALANCE": "sync_balance",
    "ACCOUNT_SYNC_ORDER": "sync_order",
    "ACCOUNT_SYNC_INTERNAL": "sync_interval",
    "ACCOUNT_SYNC_PERIOD": "sync_period",
    "ACCOUNT_TRADE_GATE": "trade_gate",
}
#: jqtrade 1.0 config names that mean nothing now, and why.
LEGACY_CONFIG_UNUSED = {
    "SCHEDULER_EVENT_DAYS_COUNT": "jqtrade 按交易日历逐日计算下一次运行时间，不再预先生成若干天的事件",
    "SCHEDULER_ENABLE_HISTORY_START": "jqtrade 不从历史时间开始生成事件；要试跑过去的日子，请用 start_task --simulate 日期",
}


def read_legacy_config(path: Path, text: str) -> ConfigValues:
    """A jqtrade 1.0 config file: module-level ``SCHEDULER_*`` / ``ACCOUNT_*`` assignments.

    Read with ``ast``, never executed: literal values and ``datetime.time(...)`` calls are
    understood; imports are skipped; anything else is named in a warning and ignored.
    """
    try:
        tree = ast.parse(text, filename=str(path))
    except SyntaxError as exc:
        raise ConfigFileError(
            str(path), f"Python 语法错误（第 {exc.lineno} 行）：{exc.msg}"
        ) from None
    reader = _LegacyConfigReader()
    options: dict[str, Any] = {}
    warnings: list[str] = []
    ignored_code: list[int] = []
    unprefixed: list[str] = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            reader.note_import(node)
            continue
        if (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            continue  # a docstring
        assignment = _assignment(node)
        if assignment is None:
            ignored_code.append(node.lineno)
            continue
        target, value = assignment
        if not target.startswith(("SCHEDULER_", "ACCOUNT_")):
            unprefixed.append(target)
            continue
        if target in LEGACY_CONFIG_UNUSED:
            warnings.append(
                f"配置文件 {path} 第 {node.lineno} 行：{target} 已不再使用（{LEGACY_CONFIG_UNUSED[target]}），已忽略"
            )
            continue
        key = LEGACY_CONFIG_KEYS.get(target)
        if key is None:
            warnings.append(
                f"配置文件 {path} 第 {node.lineno} 行：未知的 jqtrade 1.0 配置项 {target}，已忽略；"
                f"可用：{'、'.join(list(LEGACY_CONFIG_KEYS) + list(LEGACY_CONFIG_UNUSED))}"
            )
            continue
        try:
            literal = reader.literal(value)
        except ValueError as exc:
            warnings.append(
                f"配置文件 {path} 第 {node.lineno} 行：{target} 的值不是字面量（{exc}），已忽略；"
                "jqtrade 不执行配置文件中的代码，请写成字符串、数字、列表或 datetime.time(时, 分) 等字面量"
            )
            continue
        mapped = _legacy_config_value(
            target, key, literal, warnings, f"配置文件 {path} 第 {node.lineno} 行"
        )
        if mapped is _SKIP:
            continue
        try:
            Options().evolve({key: mapped})
        except ConfigError as exc:
            raise ConfigFileError(
                str(path), f"第 {node.lineno} 行 {target}（即选项 {key}）：{exc}"
            ) from None
        options[key] = mapped
    if ignored_code:
        warnings.append(
            f"配置文件 {path} 第 {'、'.join(map(str, ignored_code))} 行的语句没有执行：jqtrade 只读取配置文件中的赋值，不执行其中的代码"
        )
    if unprefixed:
        warnings.append(
            f"配置文件 {path} 中的 {'、'.join(unprefixed)} 不是 SCHEDULER_ 或 ACCOUNT_ 开头的配置项，已忽略"
        )
    return ConfigValues(options, tuple(warnings))


_SKIP = object()


def _legacy_config_value(target: str, key: str, value: Any, warnings: list[str], where: str) -> Any:
    """1.0's meaning of a config value in today's terms (``_SKIP``: leave the option alone)."""
    if key == "sync_period" and isinstance(value, (list, tuple)) and not value:
        return None  # 1.0's default []: sync the whole time, as sync_period=None does
    if key == "trade_gate":
        if value in (None, ""):
            warnings.append(
                f"{where}：{target} 为空在 1.0 中表示不加载账户模块；jqtrade 中请用 use_account / account_no 决定是否开启账户，已忽略"
            )
            return _SKIP
        if isinstance(value, str):
            name = gate_name(value)
            if ":" not in name and "." in name:
                module, _, cls = name.rpartition(".")
                name = f"{module}:{cls}"
            return name
    return value


class _LegacyConfigReader:
    """Evaluates the literal part of Python expressions, plus ``datetime.time(...)``."""

    def __init__(self) -> None:
        self.datetime_modules = {"datetime"}
        self.time_names: set[str] = set()

    def note_import(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "datetime":
                    self.datetime_modules.add(alias.asname or "datetime")
        elif node.module == "datetime":
            for alias in node.names:
                if alias.name == "time":
                    self.time_names.add(alias.asname or "time")

    def literal(self, node: ast.expr) -> Any:
        if isinstance(node, ast.Call) and self._is_time(node.func):
            args = [self.literal(arg) for arg in node.args]
            kwargs = {kw.arg: self.literal(kw.value) for kw in node.keywords if kw.arg}
            if len(kwargs) != len(node.keywords) or not all(
                isinstance(v, int) for v in [*args, *kwargs.values()]
            ):
                raise ValueError("datetime.time(...) 的参数应为整数")
            try:
                return datetime.time(*args, **kwargs)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"datetime.time 的参数不对：{exc}") from None
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            items = [self.literal(item) for item in node.elts]
            return tuple(items) if isinstance(node, ast.Tuple) else items
        if isinstance(node, ast.Dict):
            return {
                self.literal(k): self.literal(v)
                for k, v in zip(node.keys, node.values)
                if k is not None
            }
        try:
            return ast.literal_eval(node)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            raise ValueError(f"表达式 {ast.unparse(node)!r}") from None

    def _is_time(self, func: ast.expr) -> bool:
        if isinstance(func, ast.Name):
            return func.id in self.time_names
        return (
            isinstance(func, ast.Attribute)
            and func.attr == "time"
            and isinstance(func.value, ast.Name)
            and func.value.id in self.datetime_modules
        )


def _assignment(node: ast.stmt) -> Optional[tuple[str, ast.expr]]:
    """``NAME = value`` or ``NAME: type = value`` -> (NAME, value node); else ``None``."""
    if (
        isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
    ):
        return node.targets[0].id, node.value
    if (
        isinstance(node, ast.AnnAssign)
        and isinstance(node.target, ast.Name)
        and node.value is not None
    ):
        return node.target.id, node.value
    return None
