"""xtquant's vocabulary <-> jqtrade's: codes, order types, price types, statuses, errors.

The numbers are xtquant's documented constants (``xtconstant``, checked against the
250807 wheel and its ``doc/xttrader.md``); the simulated xtquant defines the same values.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Optional

from jqtrade.model.orders import (
    LimitOrderStyle,
    MarketOrderStyle,
    OrderAction,
    OrderRequest,
    OrderStatus,
)
from jqtrade.model.rules import XSHE, XSHG, normalize_code, split_code, suffix_code

# --- constants (xtconstant) -------------------------------------------------------------

SECURITY_ACCOUNT = 2
CREDIT_ACCOUNT = 3

STOCK_BUY = 23
STOCK_SELL = 24

FIX_PRICE = 11
#: 对手方最优价格委托: the one best-price type valid for stocks on SSE, SZSE and BSE alike.
MARKET_PEER_PRICE_FIRST = 44

SH_MARKET = 0
SZ_MARKET = 1

ORDER_UNREPORTED = 48
ORDER_WAIT_REPORTING = 49
ORDER_REPORTED = 50
ORDER_REPORTED_CANCEL = 51
ORDER_PARTSUCC_CANCEL = 52
ORDER_PART_CANCEL = 53
ORDER_CANCELED = 54
ORDER_PART_SUCC = 55
ORDER_SUCCEEDED = 56
ORDER_JUNK = 57
ORDER_UNKNOWN = 255

ACCOUNT_STATUS_OK = 0
ACCOUNT_STATUS_CLOSED = 6

#: xtquant's order statuses: what each means, and jqtrade's status for it. ``None``: says
#: nothing about the state (keep what is known).
STATUS_TABLE: dict[int, tuple[str, Optional[OrderStatus]]] = {
    ORDER_UNREPORTED: ("未报", OrderStatus.new),
    ORDER_WAIT_REPORTING: ("待报", OrderStatus.open),
    ORDER_REPORTED: ("已报", OrderStatus.open),
    ORDER_REPORTED_CANCEL: ("已报待撤", OrderStatus.canceling),  # a cancel is pending: not canceled
    ORDER_PARTSUCC_CANCEL: ("部成待撤", OrderStatus.canceling),
    ORDER_PART_CANCEL: ("部撤", OrderStatus.partly_canceled),
    ORDER_CANCELED: ("已撤", OrderStatus.canceled),
    ORDER_PART_SUCC: ("部成", OrderStatus.filling),
    ORDER_SUCCEEDED: ("已成", OrderStatus.filled),
    ORDER_JUNK: ("废单", OrderStatus.rejected),
    ORDER_UNKNOWN: ("未知", None),
}

#: Account statuses under which queried numbers are the account's (正常, 收盘后).
USABLE_ACCOUNT_STATUSES = frozenset({ACCOUNT_STATUS_OK, ACCOUNT_STATUS_CLOSED})

ACCOUNT_STATUS_LABELS = {
    -1: "无效",
    0: "正常",
    1: "连接中",
    2: "登录中",
    3: "失败",
    4: "初始化中",
    5: "数据刷新校正中",
    6: "收盘后",
    7: "穿透副链接断开",
    8: "系统停用",
    9: "用户停用",
}


def status_of(xt_status: int) -> Optional[OrderStatus]:
    """jqtrade's status for an xtquant ``order_status``; ``None`` for 255 and unknown numbers."""
    entry = STATUS_TABLE.get(xt_status)
    return entry[1] if entry is not None else None


def status_label(xt_status: int) -> str:
    entry = STATUS_TABLE.get(xt_status)
    return entry[0] if entry is not None else f"未知状态 {xt_status}"


# --- codes ------------------------------------------------------------------------------

_TO_XT = {XSHG: "SH", XSHE: "SZ"}


#: ``600000.XSHG`` -> ``600000.SH``: QMT writes codes the way the data vendors do.
to_xt_code = suffix_code


def from_xt_code(stock_code: str) -> str:
    """``600000.SH`` -> ``600000.XSHG``; raises :class:`~jqtrade.errors.OrderRejectedError`
    for a code jqtrade does not trade (e.g. ``.BJ``)."""
    return normalize_code(stock_code)


def market_of(code: str) -> int:
    """The ``market`` number of ``cancel_order_stock_sysid``."""
    return SH_MARKET if split_code(code)[1] == XSHG else SZ_MARKET


# --- orders -----------------------------------------------------------------------------


def order_type_of(action: OrderAction) -> int:
    return STOCK_BUY if action is OrderAction.open else STOCK_SELL


def action_of(order_type: int) -> Optional[OrderAction]:
    if order_type == STOCK_BUY:
        return OrderAction.open
    if order_type == STOCK_SELL:
        return OrderAction.close
    return None


def price_of(request: OrderRequest) -> tuple[int, float]:
    """``(price_type, price)`` for ``order_stock_async``.

    ``LimitOrderStyle(p)``, ``p > 0``: ``FIX_PRICE`` at ``p``. ``LimitOrderStyle(0)`` and
    ``MarketOrderStyle()``: ``MARKET_PEER_PRICE_FIRST`` (对手方最优价格) with price 0, the
    documented best-price type valid for stocks on both exchanges (and BSE).
    """
    style = request.style
    if isinstance(style, LimitOrderStyle) and style.price > 0:
        return FIX_PRICE, float(style.price)
    if isinstance(style, (LimitOrderStyle, MarketOrderStyle)):
        return MARKET_PEER_PRICE_FIRST, 0.0
    raise TypeError(f"不支持的委托方式 {style!r}：请用 LimitOrderStyle 或 MarketOrderStyle")


def remark_id(remark: str) -> str:
    """The jqtrade order id an ``order_remark`` carries, or ``""`` for another program's order.

    jqtrade writes its id (digits only) as the whole remark; any other remark is not ours.
    """
    text = remark.strip()
    return text if text.isascii() and text.isdigit() and len(text) <= 32 else ""


def money(value: float) -> Decimal:
    """A float from xtquant as an exact decimal of what it prints (``10.5`` -> ``Decimal('10.5')``)."""
    return Decimal(repr(float(value))) if value == value else Decimal(0)  # NaN -> 0


def error_text(error_id: object, message: str, *, what: str) -> str:
    """``on_order_error`` / ``on_cancel_error`` as a Chinese reason."""
    detail = message.strip() or "miniQMT 没有说明原因"
    code = f"（错误码 {error_id}）" if error_id not in (None, "", 0) else ""
    return f"{what}：{detail}{code}"
