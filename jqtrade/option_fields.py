"""Converters for option fields, shared by the core options and every gate's config class.

Each strict converter raises :class:`jqtrade.errors.OptionValueError` naming the key; each
``loose_*`` reader is jqtrade 1.0's looser reading of the same key (function-style scripts
only), returning the value and, when the reading surprised, a warning.
"""

from __future__ import annotations

import math
import os
from typing import Any, Callable, Optional

from jqtrade.errors import OptionValueError

LegacyReader = Callable[[Any], tuple[Any, Optional[str]]]


# --- jqtrade 1.0's loose readings (function-style scripts only) --------------------------------


def loose_bool(name: str) -> LegacyReader:
    """1.0 used ``bool(x)``: ``1``/``0`` read silently; anything else read the same way, with a warning."""

    def read(value: Any) -> tuple[Any, Optional[str]]:
        if isinstance(value, bool):
            return value, None
        if isinstance(value, (int, float)) and value in (0, 1):
            return bool(value), None
        try:
            truth = bool(value)
        except Exception:  # noqa: BLE001 - e.g. an array; the strict converter names the value
            return value, None
        if isinstance(value, str):
            return truth, (
                f"选项 {name}={value!r} 是字符串：jqtrade 1.0 按 bool() 读取，非空字符串（包括 '0'、'False'）都是 True，"
                f"这里同样按 {truth} 处理；如果想要 {not truth}，请写 {name}={not truth}"
            )
        return (
            truth,
            f"选项 {name}={value!r} 不是 True/False：按 jqtrade 1.0 的 bool() 读作 {truth}；请写 {name}={truth}",
        )

    return read


def loose_number(name: str) -> LegacyReader:
    """1.0 used ``float(x)`` (sync_internal) or the raw value: numeric strings read silently."""

    def read(value: Any) -> tuple[Any, Optional[str]]:
        if isinstance(value, bool):
            return float(
                value
            ), f"选项 {name}={value!r} 不是秒数：按 jqtrade 1.0 的 float() 读作 {float(value):g} 秒"
        if isinstance(value, (int, float)) or value is None:
            return value, None
        if isinstance(value, str):
            try:
                return float(value.strip()), None
            except ValueError:
                return value, None  # refused by the strict converter, as float() refused it in 1.0
        try:
            return float(value), None  # Decimal, numpy numbers
        except (TypeError, ValueError):
            return value, None

    return read


def loose_path(value: Any) -> tuple[Any, Optional[str]]:
    """1.0 handed folders to ``os.path``, which takes ``pathlib.Path`` too."""
    return (os.fspath(value) if isinstance(value, os.PathLike) else value), None


def bool_option(name: str) -> Callable[[Any], bool]:
    def convert(value: Any) -> bool:
        if isinstance(value, bool):
            return value
        raise OptionValueError(name, value, "应为 True 或 False")

    return convert


def number_option(
    name: str, *, minimum: float = 0.0, allow_zero: bool = False
) -> Callable[[Any], float]:
    def convert(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise OptionValueError(name, value, "应为数字（单位：秒）")
        if not math.isfinite(value):
            raise OptionValueError(name, value, "应为有限的数字（单位：秒），不能是 nan 或 inf")
        if value < minimum or (value == minimum and not allow_zero):
            bound = f"≥ {minimum:g}" if allow_zero else f"> {minimum:g}"
            raise OptionValueError(name, value, f"应 {bound}")
        return float(value)

    return convert


def text_option(
    name: str, *, choices: Optional[tuple[str, ...]] = None, optional: bool = False
) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value.strip():
            raise OptionValueError(name, value, "应为非空字符串")
        value = value.strip()
        if choices is not None and value not in choices:
            raise OptionValueError(name, value, f"可选值：{', '.join(choices)}")
        return value

    return convert
