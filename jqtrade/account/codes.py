"""Security codes: jqtrade's ``600000.XSHG`` form, the broker's ``600000.SH`` form, boards, ticks.

The exchange is always named explicitly: ``000001`` is both the SSE Composite index (XSHG) and
Ping An Bank (XSHE), so the number alone never decides the exchange.

Beijing Stock Exchange codes (``.BJ``, ``920xxx``/``8xxxxx``/``4xxxxx``) are refused: the
OneQuant DMA gate does not trade them.
"""

from __future__ import annotations

import enum
import re
from decimal import Decimal

from jqtrade.errors import OrderRejectedError

XSHG = "XSHG"
XSHE = "XSHE"

_SUFFIXES = {
    "XSHG": XSHG,
    "SH": XSHG,
    "XSHE": XSHE,
    "SZ": XSHE,
}
_BEIJING_SUFFIXES = frozenset({"BJ", "BSE", "XBSE"})
_BROKER_SUFFIX = {XSHG: "SH", XSHE: "SZ"}

_CODE_RE = re.compile(r"^\s*(\d+)\.([A-Za-z]+)\s*$")

_FORMS = "支持的写法：600000.XSHG、000001.XSHE，或 600000.SH、000001.SZ（6 位数字加交易所后缀）"

STOCK_TICK = Decimal("0.01")
FUND_TICK = Decimal("0.001")


class Board(str, enum.Enum):
    """Which trading rules apply to a security."""

    main = "main"  # 沪深主板
    chinext = "chinext"  # 创业板
    star = "star"  # 科创板
    fund = "fund"  # 场内基金：ETF、LOF、封闭式基金
    other = "other"  # 指数、债券、B 股等：交易规则未知，下单前检查会拒绝

    def __str__(self) -> str:
        return self.value

    @property
    def label(self) -> str:
        return _BOARD_LABELS[self]


_BOARD_LABELS = {
    Board.main: "主板",
    Board.chinext: "创业板",
    Board.star: "科创板",
    Board.fund: "场内基金",
    Board.other: "其他品种",
}


def _bad_code(code: object, why: str) -> OrderRejectedError:
    return OrderRejectedError("bad_code", f"证券代码 {code!r} 不合法：{why}。{_FORMS}")


def normalize_code(code: object) -> str:
    """Return ``code`` in jqtrade's form (``600000.XSHG``), or raise ``OrderRejectedError``.

    Accepts ``.XSHG``/``.XSHE`` and ``.SH``/``.SZ`` in any letter case, surrounding spaces
    ignored. Raises with reason ``bad_code`` for anything else, Beijing codes included.
    """
    if not isinstance(code, str):
        raise _bad_code(code, f"应为字符串，实际是 {type(code).__name__}")
    match = _CODE_RE.match(code)
    if match is None:
        if code.strip().isdigit():
            raise _bad_code(code, "缺少交易所后缀（上交所 .XSHG，深交所 .XSHE）")
        raise _bad_code(code, "格式应为 6 位数字 + '.' + 交易所后缀")
    digits, suffix = match.group(1), match.group(2).upper()
    if suffix in _BEIJING_SUFFIXES:
        raise _bad_code(code, "暂不支持北京证券交易所的股票（OneQuant DMA 文件单不支持北交所）")
    exchange = _SUFFIXES.get(suffix)
    if exchange is None:
        raise _bad_code(code, f"未知的交易所后缀 {suffix!r}")
    if len(digits) != 6:
        raise _bad_code(code, f"代码数字应为 6 位，实际是 {len(digits)} 位")
    return f"{digits}.{exchange}"


def split_code(code: str) -> tuple[str, str]:
    """``"600000.XSHG"`` -> ``("600000", "XSHG")`` after normalising."""
    digits, exchange = normalize_code(code).split(".")
    return digits, exchange


def to_broker_symbol(code: str) -> str:
    """``600000.XSHG`` -> ``600000.SH`` (the OneQuant ``symbol`` column)."""
    digits, exchange = split_code(code)
    return f"{digits}.{_BROKER_SUFFIX[exchange]}"


def from_broker_symbol(symbol: str) -> str:
    """``600000.SH`` -> ``600000.XSHG``; any form ``normalize_code`` accepts also works."""
    return normalize_code(symbol)


def board_of(code: str) -> Board:
    """The board whose lot and tick rules apply; ``Board.other`` when jqtrade does not know them."""
    digits, exchange = split_code(code)
    if exchange == XSHG:
        if digits.startswith(("688", "689")):
            return Board.star
        if digits.startswith(("600", "601", "603", "605")):
            return Board.main
        if digits.startswith("5"):
            return Board.fund
        return Board.other
    if digits.startswith(("000", "001", "002", "003")):
        return Board.main
    if digits.startswith(("300", "301", "302")):
        return Board.chinext
    if digits.startswith(("15", "16", "18")):
        return Board.fund
    return Board.other


def is_fund(code: str) -> bool:
    return board_of(code) is Board.fund


def tick_size(code: str) -> Decimal:
    """Minimum price step: 0.001 for exchange-traded funds, 0.01 otherwise."""
    return FUND_TICK if is_fund(code) else STOCK_TICK
