"""Security codes: jqtrade's ``600000.XSHG`` form, the broker's ``600000.SH`` form, boards, ticks.

The exchange is always named explicitly: ``000001`` is both the SSE Composite index (XSHG) and
Ping An Bank (XSHE), so the number alone never decides the exchange.

Beijing Stock Exchange codes (``.BJ``, ``920xxx``/``8xxxxx``/``4xxxxx``) are refused: the
OneQuant DMA gate does not trade them.

:func:`rules_of` gives the trading rules of a code's kind (lot, tick, T+0, unit); the
pre-trade checks and the simulated broker both decide with :func:`buy_lot_ok` and
:func:`sell_lot_ok`, so they cannot disagree. The rules and their sources are written down in
``docs/instruments.md``.
"""

from __future__ import annotations

import enum
import re
from decimal import Decimal
from typing import Optional

import attrs

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
#: Convertible bonds on both exchanges (SSE and SZSE convertible-bond trading rules, 2022).
BOND_TICK = Decimal("0.001")
#: Reverse repos are quoted as an annual rate in percent: steps of 0.005 on SSE, 0.001 on SZSE.
REPO_TICK = {XSHG: Decimal("0.005"), XSHE: Decimal("0.001")}
#: Face value of one 张 of a bond or a reverse repo, in yuan.
FACE_VALUE = Decimal(100)

#: Exchange reverse repos (国债逆回购) by code: (name, term in days).
REPO_TERMS: dict[str, tuple[str, int]] = {
    "204001.XSHG": ("GC001", 1),
    "204002.XSHG": ("GC002", 2),
    "204003.XSHG": ("GC003", 3),
    "204004.XSHG": ("GC004", 4),
    "204007.XSHG": ("GC007", 7),
    "204014.XSHG": ("GC014", 14),
    "204028.XSHG": ("GC028", 28),
    "204091.XSHG": ("GC091", 91),
    "204182.XSHG": ("GC182", 182),
    "131810.XSHE": ("R-001", 1),
    "131811.XSHE": ("R-002", 2),
    "131800.XSHE": ("R-003", 3),
    "131809.XSHE": ("R-004", 4),
    "131801.XSHE": ("R-007", 7),
    "131802.XSHE": ("R-014", 14),
    "131803.XSHE": ("R-028", 28),
    "131805.XSHE": ("R-091", 91),
    "131806.XSHE": ("R-182", 182),
}
_CONVERTIBLE_PREFIXES = {XSHG: ("110", "111", "113", "118"), XSHE: ("123", "127", "128")}


class Board(str, enum.Enum):
    """Which trading rules apply to a security."""

    main = "main"  # 沪深主板
    chinext = "chinext"  # 创业板
    star = "star"  # 科创板
    fund = "fund"  # 场内基金：ETF、LOF、封闭式基金
    convertible = "convertible"  # 可转换公司债券（沪 110/111/113/118，深 123/127/128）
    repo = "repo"  # 国债逆回购（沪 GC001 204001 等，深 R-001 131810 等）：只能卖出，即借出资金
    other = "other"  # 指数、其他债券、B 股等：交易规则未知，下单前检查会拒绝

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
    Board.convertible: "可转债",
    Board.repo: "国债逆回购",
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
    if f"{digits}.{exchange}" in REPO_TERMS:
        return Board.repo
    if digits.startswith(_CONVERTIBLE_PREFIXES[exchange]):
        return Board.convertible
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
    """Minimum price step: 0.001 for funds and convertible bonds, 0.005 (SSE) / 0.001 (SZSE)
    for the rate of a reverse repo, 0.01 otherwise."""
    return rules_of(code).tick


@attrs.frozen(kw_only=True)
class Rules:
    """How one kind of security trades (see ``docs/instruments.md`` for the sources).

    A buy is valid when ``amount >= min_buy`` and ``(amount - min_buy) % buy_step == 0``.
    ``t_plus_0``: bought today, sellable today. ``unit`` is what one of ``amount`` is called
    (股 or 张). ``face_value`` is set for reverse repos, whose price is an annual rate in
    percent: the cash an order needs is ``amount × face_value``, whatever the rate.
    """

    board: Board
    min_buy: int
    buy_step: int
    tick: Decimal
    t_plus_0: bool
    unit: str
    face_value: Optional[Decimal] = None

    @property
    def is_repo(self) -> bool:
        return self.board is Board.repo

    @property
    def round_lot(self) -> Optional[int]:
        """The lot when buys come in whole lots (100 股, 10 张); ``None`` for STAR's 200 + 1."""
        return self.min_buy if self.min_buy == self.buy_step else None


def _lots_of_100(board: Board, tick: Decimal = STOCK_TICK) -> Rules:
    return Rules(board=board, min_buy=100, buy_step=100, tick=tick, t_plus_0=False, unit="股")


_RULES = {
    Board.main: _lots_of_100(Board.main),
    Board.chinext: _lots_of_100(Board.chinext),
    Board.star: Rules(
        board=Board.star, min_buy=200, buy_step=1, tick=STOCK_TICK, t_plus_0=False, unit="股"
    ),
    # Some ETFs (bond, money-market, gold, cross-border) are T+0, but the code does not say
    # which: funds are treated as T+1, the conservative side.
    Board.fund: _lots_of_100(Board.fund, FUND_TICK),
    Board.convertible: Rules(
        board=Board.convertible, min_buy=10, buy_step=10, tick=BOND_TICK, t_plus_0=True, unit="张"
    ),
    # Board.other keeps the stock rules for messages; its orders are refused or left to the broker.
    Board.other: _lots_of_100(Board.other),
}
_REPO_RULES = {
    exchange: Rules(
        board=Board.repo,
        min_buy=10,
        buy_step=10,
        tick=tick,
        t_plus_0=False,
        unit="张",
        face_value=FACE_VALUE,
    )
    for exchange, tick in REPO_TICK.items()
}


def rules_of(code: str) -> Rules:
    """The trading rules of ``code``'s kind; ``Board.other`` codes get the stock rules."""
    board = board_of(code)
    if board is Board.repo:
        return _REPO_RULES[split_code(code)[1]]
    return _RULES[board]


def repo_term(code: str) -> tuple[str, int]:
    """``"204001.XSHG"`` -> ``("GC001", 1)``: the repo's name and term in days (KeyError if none)."""
    return REPO_TERMS[normalize_code(code)]


def buy_lot_ok(rules: Rules, amount: int) -> bool:
    """Whether a buy (for a reverse repo: a loan) of ``amount`` fits the lot rule."""
    return amount >= rules.min_buy and (amount - rules.min_buy) % rules.buy_step == 0


def sell_lot_ok(rules: Rules, amount: int, closeable: int) -> bool:
    """Whether a sell of ``amount`` (at most ``closeable``) fits the lot rule.

    Whole lots may be sold, and the odd remainder below one lot only all at once:
    ``amount % lot`` is 0 or equals ``closeable % lot``. STAR (buys of 200 + steps of 1):
    below 200 shares only the whole closeable amount. A reverse repo is never sold back.
    """
    lot = rules.round_lot
    if lot is None:
        return amount >= rules.min_buy or amount == closeable
    return amount % lot in (0, closeable % lot)
