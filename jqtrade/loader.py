"""Load a strategy file: a ``Strategy`` subclass, or a legacy function-style script."""

from __future__ import annotations

import ast
import logging
import re
import sys
import tokenize
import traceback
import types
from pathlib import Path
from typing import Optional

from jqtrade.errors import StrategyLoadError
from jqtrade.legacy import LegacyStrategy
from jqtrade.strategy import Strategy

logger = logging.getLogger("jqtrade.loader")


def load_strategy(path: str | Path, class_name: Optional[str] = None) -> Strategy:
    """Import ``path`` and return a ready (unbound) strategy instance.

    The file's folder goes on ``sys.path`` so it can import its own modules. Every failure is
    a :class:`StrategyLoadError` with the file and line in a short Chinese message.
    """
    file = Path(path).expanduser()
    shown = str(path)
    if not file.is_file():
        raise StrategyLoadError(shown, "文件不存在" if not file.exists() else "不是文件")
    try:
        with tokenize.open(file) as fh:  # honours a coding cookie and a UTF-8 BOM
            source = fh.read()
    except (SyntaxError, UnicodeDecodeError) as exc:
        raise StrategyLoadError(
            shown, f"无法按 UTF-8 读取（{exc}）；请把文件保存为 UTF-8 编码"
        ) from exc
    try:
        code = compile(source, str(file), "exec")
        tree = ast.parse(source, str(file))
    except SyntaxError as exc:
        raise StrategyLoadError(shown, f"语法错误：{exc.msg}", exc.lineno) from exc

    folder = str(file.resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    module_name = "jqtrade_strategy_" + re.sub(r"\W", "_", file.stem)
    module = types.ModuleType(module_name)
    module.__file__ = str(file)
    entry = _legacy_entry(tree, shown)
    strategy: Optional[Strategy] = None
    if entry is not None:
        strategy = LegacyStrategy(module, entry)
        module.__dict__.update(strategy.injected_globals())
    sys.modules[module_name] = module
    try:
        exec(code, module.__dict__)
    except Exception as exc:  # noqa: BLE001 - anything at import time is a load error
        sys.modules.pop(module_name, None)
        raise StrategyLoadError(
            shown, f"导入时出错：{type(exc).__name__}: {exc}", _line_in(exc, file)
        ) from exc
    if strategy is not None:
        return strategy
    return _instantiate(module, shown, class_name)


def _defines_function(tree: ast.Module, name: str) -> bool:
    return any(isinstance(node, ast.FunctionDef) and node.name == name for node in tree.body)


def _defines_strategy_class(tree: ast.Module) -> bool:
    return any(
        isinstance(node, ast.ClassDef)
        and any(ast.unparse(base).endswith("Strategy") for base in node.bases)
        for node in tree.body
    )


def _legacy_entry(tree: ast.Module, shown: str) -> Optional[str]:
    """The function a function-style script starts with, or ``None`` for a class-style file.

    A module-level ``process_initialize(context)`` makes a legacy script. A JoinQuant script
    with only ``initialize(context)`` (and no Strategy subclass) is one too: its ``initialize``
    runs once at process start, in the place of ``process_initialize``, with a warning. When
    both are defined, only ``process_initialize`` runs, and a warning says ``initialize`` does not.
    """
    has_initialize = _defines_function(tree, "initialize")
    if _defines_function(tree, "process_initialize"):
        if has_initialize:
            logger.warning(
                "%s 同时定义了 initialize 和 process_initialize：jqtrade 每次启动只运行 process_initialize，"
                "initialize 不会被调用（请把需要的初始化移到 process_initialize 中）",
                shown,
            )
        return "process_initialize"
    if has_initialize and not _defines_strategy_class(tree):
        logger.warning(
            "%s 没有 process_initialize(context)，只有聚宽的 initialize(context)：jqtrade 会在进程启动时"
            "把 initialize 当作 process_initialize 运行一次（建议把函数改名为 process_initialize）",
            shown,
        )
        return "initialize"
    return None


def _instantiate(module: types.ModuleType, shown: str, class_name: Optional[str]) -> Strategy:
    classes = {
        name: obj
        for name, obj in vars(module).items()
        if isinstance(obj, type)
        and issubclass(obj, Strategy)
        and obj is not Strategy
        and obj.__module__ == module.__name__
    }
    if class_name is not None:
        if class_name not in classes:
            found = "、".join(classes) or "无"
            raise StrategyLoadError(
                shown, f"找不到策略类 {class_name!r}（文件中的 Strategy 子类：{found}）"
            )
        cls = classes[class_name]
    elif not classes:
        raise StrategyLoadError(
            shown,
            "既没有 jqtrade.Strategy 的子类，也没有模块级的 process_initialize(context) 函数",
        )
    elif len(classes) > 1:
        raise StrategyLoadError(
            shown, f"有多个策略类：{'、'.join(classes)}；请用 --strategy-class 指定其中一个"
        )
    else:
        cls = next(iter(classes.values()))
    try:
        return cls()
    except Exception as exc:  # noqa: BLE001
        raise StrategyLoadError(
            shown, f"创建策略类 {cls.__name__} 时出错：{type(exc).__name__}: {exc}"
        ) from exc


def _line_in(exc: BaseException, file: Path) -> Optional[int]:
    target = str(file)
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == target:
            line = frame.lineno
    if line is None and isinstance(exc, SyntaxError) and exc.filename == target:
        line = exc.lineno
    return line
