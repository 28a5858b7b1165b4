"""Load a strategy file: a ``Strategy`` subclass, or a legacy function-style script."""

from __future__ import annotations

import ast
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
        raise StrategyLoadError(shown, f"无法按 UTF-8 读取（{exc}）；请把文件保存为 UTF-8 编码") from exc
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
    legacy = _defines_function(tree, "process_initialize")
    strategy: Optional[Strategy] = None
    if legacy:
        strategy = LegacyStrategy(module)
        module.__dict__.update(strategy.injected_globals())
    sys.modules[module_name] = module
    try:
        exec(code, module.__dict__)
    except Exception as exc:  # noqa: BLE001 - anything at import time is a load error
        sys.modules.pop(module_name, None)
        raise StrategyLoadError(shown, f"导入时出错：{type(exc).__name__}: {exc}", _line_in(exc, file)) from exc
    if strategy is not None:
        return strategy
    return _instantiate(module, shown, class_name)


def _defines_function(tree: ast.Module, name: str) -> bool:
    return any(isinstance(node, ast.FunctionDef) and node.name == name for node in tree.body)


def _instantiate(module: types.ModuleType, shown: str, class_name: Optional[str]) -> Strategy:
    classes = {
        name: obj
        for name, obj in vars(module).items()
        if isinstance(obj, type) and issubclass(obj, Strategy) and obj is not Strategy
        and obj.__module__ == module.__name__
    }
    if class_name is not None:
        if class_name not in classes:
            found = "、".join(classes) or "无"
            raise StrategyLoadError(shown, f"找不到策略类 {class_name!r}（文件中的 Strategy 子类：{found}）")
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
        raise StrategyLoadError(shown, f"创建策略类 {cls.__name__} 时出错：{type(exc).__name__}: {exc}") from exc


def _line_in(exc: BaseException, file: Path) -> Optional[int]:
    target = str(file)
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == target:
            line = frame.lineno
    if line is None and isinstance(exc, SyntaxError) and exc.filename == target:
        line = exc.lineno
    return line
