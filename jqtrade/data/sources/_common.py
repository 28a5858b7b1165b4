"""What the adapters share: lazy imports, reading a service's table, errors, secrets, lots."""

from __future__ import annotations

import importlib
import math
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Callable, Optional, TypeVar

from jqtrade.data.errors import (
    DataError,
    DataPackageMissingError,
    DataSourceAuthError,
    DataSourceResponseError,
    DataSourceUnavailableError,
)
from jqtrade.errors import OrderRejectedError
from jqtrade.model.rules import Board, board_of, normalize_code

T = TypeVar("T")

#: Words in a library's error that mean "credentials", not "network".
_AUTH_WORDS = ("token", "auth", "password", "密码", "权限", "认证", "登录", "账号")


def load(source: str, module: str, package: str, extra: str) -> Any:
    """Import ``module`` now, or raise the one-line error naming the pip extra."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise DataPackageMissingError(source, package, extra) from None


def call(source: str, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call a library function; any failure becomes a ``DataSourceError`` of ``source``."""
    try:
        return func(*args, **kwargs)
    except DataError:
        raise
    except (
        Exception
    ) as exc:  # a library's own errors, requests', socket's ...: all are the service failing
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if any(word in text.lower() for word in _AUTH_WORDS):
            raise DataSourceAuthError(source, text) from exc
        raise DataSourceUnavailableError(source, text) from exc


def records(source: str, table: Any, required: Iterable[str], what: str) -> list[dict[str, Any]]:
    """The rows of a pandas DataFrame (or a list of dicts), checking that columns exist.

    ``None`` or an empty table gives ``[]``.
    """
    if table is None:
        return []
    if hasattr(table, "to_dict"):
        columns = [str(c) for c in getattr(table, "columns", [])]
        rows = table.to_dict("records")
    elif isinstance(table, Sequence):
        rows = [dict(r) for r in table]
        columns = list(rows[0]) if rows else []
    else:
        raise DataSourceResponseError(source, f"{what} 应返回表格，实际是 {type(table).__name__}")
    if not rows:
        return []
    missing = [c for c in required if c not in columns]
    if missing:
        raise DataSourceResponseError(
            source, f"{what} 返回的数据缺少列 {missing}（实际的列：{columns}）"
        )
    return list(rows)


def missing(value: Any) -> bool:
    """None, NaN or an empty string: a value the service did not have."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, str):
        return not value.strip()
    return False


def lot_size(code: str) -> int:
    """Shares (or 张) in one lot (手): 10 for bonds and reverse repos, 100 otherwise."""
    return 10 if board_of(code) in (Board.convertible, Board.repo) else 100


def from_broker_code(text: str) -> Optional[str]:
    """``600000.SH`` -> ``600000.XSHG``; None for a form we do not trade (``.BJ``)."""
    try:
        return normalize_code(text)
    except OrderRejectedError:
        return None


def mask(secret: Optional[str]) -> str:
    """What ``repr`` shows of a secret: whether it is set, never its value."""
    return "未设置" if not secret else "***"


def chunks(items: Sequence[T], size: int) -> Iterable[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def paused_by_heuristic(open_: Decimal, volume: int, minutes_into_day: int) -> bool:
    """No suspension flag: a code with no trade and no open after 09:30 is taken as paused."""
    return minutes_into_day >= 9 * 60 + 30 and volume == 0 and open_ == 0


def field(row: Mapping[str, Any], *names: str) -> Any:
    """The first of ``names`` present in ``row`` (services rename columns between versions)."""
    for name in names:
        if name in row:
            return row[name]
    return None
