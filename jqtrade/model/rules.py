"""A-share trading rules in one place: codes, boards, lots, ticks, T+1/T+0, price limits, repos.

The exchange is always named explicitly: ``000001`` is both the SSE Composite index (XSHG) and
Ping An Bank (XSHE), so the number alone never decides the exchange.

Beijing Stock Exchange codes (``.BJ``, ``920xxx``/``8xxxxx``/``4xxxxx``) are refused: the
OneQuant DMA gate does not trade them.

:func:`rules_of` gives the trading rules of a code's kind (lot, tick, T+0, unit). The pre-trade
checks (:mod:`jqtrade.account.checks`) and the simulated broker (:mod:`jqtrade.sim`) both
decide with the functions below -- :func:`buy_lot_ok`, :func:`sell_lot_ok`, :func:`tick_ok`,
:func:`price_limits` -- so they cannot disagree; a property test holds them to it. The rules
and their sources are written down in ``docs/instruments.md``.

The odd-lot sell rule, as the exchanges word it (SSE Trading Rules 3.1.5, SZSE Trading Rules
3.3.3: "卖出时，余额不足 100 股（份）的部分，应当一次性申报卖出"): the part of a holding below one
lot must leave in one order, and that order may also carry round lots. So of 250 closeable
shares of 600000 a sell of 50, 100, 150, 200 or 250 is valid (150 = one lot + the whole odd
50), but of 1,000 a sell of 150 is not (it would create an odd part that was not there).
STAR (SSE STAR Market special rules, art. 10): a sell of at least 200 shares, or all the
closeable shares when fewer than 200 remain.
"""

from __future__ import annotations

import datetime
import enum
import functools
import re
from decimal import ROUND_HALF_UP, Decimal
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

# Bounds no real order reaches: beyond them an amount or a price is a bug, not a market rule.
#: More shares than any A-share company has issued in a plausible single order (the largest
#: listed companies have a few 10**11 shares, a whole account rarely holds 10**8).
MAX_ORDER_AMOUNT = 10**9
#: No A-share or fund trades near a million yuan a share; a larger limit price is a unit bug.
MAX_LIMIT_PRICE = 10**6
#: Ten trillion yuan: more than the market value of any listed company, refused on either side.
MAX_ORDER_VALUE = 10**13

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


def suffix_code(code: str) -> str:
    """``600000.XSHG`` -> ``600000.SH``, ``000001.XSHE`` -> ``000001.SZ``: how QMT, tushare
    and most data vendors write a code."""
    digits, exchange = split_code(code)
    return f"{digits}.{'SH' if exchange == XSHG else 'SZ'}"


@functools.lru_cache(maxsize=4096)  # asked for every order on every poll of the simulator
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


@functools.lru_cache(maxsize=4096)
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


def tick_ok(rules: Rules, price: Decimal) -> bool:
    """Whether a limit price (for a reverse repo: a rate) is a whole number of ticks."""
    return price % rules.tick == 0


def round_tick(price: Decimal, tick: Decimal) -> Decimal:
    """``price`` rounded half up to a whole number of ``tick``."""
    return (price / tick).quantize(Decimal(1), rounding=ROUND_HALF_UP) * tick


#: First day of ChiNext's 20 % limits (创业板改革并试点注册制首日).
CHINEXT_REFORM_DAY = datetime.date(2020, 8, 24)
#: First day of the 20 % limits for convertible bonds (可转债交易新规); before it, none.
CONVERTIBLE_LIMIT_DAY = datetime.date(2022, 8, 1)

_TEN, _FIVE, _TWENTY = Decimal("0.10"), Decimal("0.05"), Decimal("0.20")


def limit_pct(
    code: str, day: Optional[datetime.date] = None, *, st: bool = False
) -> Optional[Decimal]:
    """The daily price limit as a fraction of the previous close, ``None`` when there is none.

    ======================  =====================================================
    主板股票、场内基金         10 %；风险警示（ST、*ST）股票 5 %
    创业板                    20 %（2020-08-24 起；之前 10 %，ST 5 %）
    科创板                    20 %
    可转债                    20 %（2022-08-01 起；之前没有涨跌幅限制）
    国债逆回购、指数、其他      没有涨跌幅限制
    ======================  =====================================================

    ``day`` ``None`` means today's rules. What the code cannot tell, the caller passes:
    ``st`` for a risk-warning stock. A listing's first days and a convertible bond's first day
    (no limits) are not modelled here.
    """
    board = board_of(code)
    if board is Board.star:
        return _TWENTY
    if board is Board.chinext:
        if day is None or day >= CHINEXT_REFORM_DAY:
            return _TWENTY
        return _FIVE if st else _TEN
    if board is Board.main:
        return _FIVE if st else _TEN
    if board is Board.fund:
        return _TEN
    if board is Board.convertible:
        return _TWENTY if day is None or day >= CONVERTIBLE_LIMIT_DAY else None
    return None


def day_limits(
    code: str,
    prev_close: Decimal,
    day: Optional[datetime.date] = None,
    *,
    st: bool = False,
    unlimited: bool = False,
    ratio: Optional[Decimal] = None,
) -> Optional[tuple[Decimal, Decimal]]:
    """(limit-down, limit-up) on ``day`` from the previous close, or ``None`` without limits.

    ``prev_close × (1 ± ratio)`` rounded half up to the tick, as the exchanges' rules state;
    the limit-down is never below one tick. ``ratio`` overrides the board's (e.g. 20 % for a
    fund tracking a ChiNext index); ``unlimited`` says the day has none.
    """
    if unlimited or prev_close <= 0:
        return None
    if ratio is None:
        ratio = limit_pct(code, day, st=st)
        if ratio is None:
            return None
    tick = tick_size(code)
    return max(round_tick(prev_close * (1 - ratio), tick), tick), round_tick(
        prev_close * (1 + ratio), tick
    )


def price_limits(
    code: str, prev_close: Decimal, day: Optional[datetime.date] = None
) -> tuple[Decimal, Decimal]:
    """:func:`day_limits` for a matching engine: a security without limits (a reverse repo's
    rate) trades from one tick up to :data:`MAX_LIMIT_PRICE`."""
    limits = day_limits(code, prev_close, day)
    if limits is None:
        return tick_size(code), Decimal(MAX_LIMIT_PRICE)
    return limits


_CENT = Decimal("0.01")
#: Commission of a reverse repo by term in days, fixed by the exchanges for every broker: 0.001 %
#: of the amount for one day up to 0.03 % beyond 28 days, no minimum.
_REPO_FEES = (
    (1, Decimal("0.00001")),
    (2, Decimal("0.00002")),
    (3, Decimal("0.00003")),
    (4, Decimal("0.00004")),
    (7, Decimal("0.00005")),
    (14, Decimal("0.0001")),
    (28, Decimal("0.0002")),
)
_REPO_FEE_LONG = Decimal("0.0003")


def repo_fee(code: str, principal: Decimal) -> Decimal:
    """The commission of lending ``principal`` yuan through reverse repo ``code``."""
    term = repo_term(code)[1]
    rate = next((r for days, r in _REPO_FEES if term <= days), _REPO_FEE_LONG)
    return (principal * rate).quantize(_CENT, rounding=ROUND_HALF_UP)


def repo_interest(code: str, principal: Decimal, rate: Decimal) -> Decimal:
    """Interest of ``principal`` lent at ``rate`` % a year for the repo's term (365-day year)."""
    term = repo_term(code)[1]
    return (principal * rate / 100 * term / 365).quantize(_CENT, rounding=ROUND_HALF_UP)
