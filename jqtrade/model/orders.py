"""Value types shared by the account module and every trade gate.

Only plain, frozen values live here: order styles, the status enum, the request a gate
receives. The live order state machine lives in ``account/order.py``.
"""

from __future__ import annotations

import enum
import logging
from decimal import Decimal
from typing import Optional, Union

import attrs
import pendulum

logger = logging.getLogger("jqtrade.account")


class OrderStatus(str, enum.Enum):
    """Order states. Plain strings compare equal (``OrderStatus.open == "open"``)."""

    new = "new"
    open = "open"
    filling = "filling"
    filled = "filled"
    canceling = "canceling"
    partly_canceled = "partly_canceled"
    canceled = "canceled"
    rejected = "rejected"

    def __str__(self) -> str:
        return self.value

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES

    @property
    def label(self) -> str:
        """The Chinese word brokers' terminals show for this state."""
        return _STATUS_LABELS[self]


_STATUS_LABELS = {
    OrderStatus.new: "待报",
    OrderStatus.open: "已报",
    OrderStatus.filling: "部分成交",
    OrderStatus.filled: "已成交",
    OrderStatus.canceling: "撤单中",
    OrderStatus.partly_canceled: "部成部撤",
    OrderStatus.canceled: "已撤",
    OrderStatus.rejected: "废单",
}

FINAL_STATUSES = frozenset(
    {OrderStatus.filled, OrderStatus.partly_canceled, OrderStatus.canceled, OrderStatus.rejected}
)


class OrderSide(str, enum.Enum):
    long = "long"
    short = "short"

    def __str__(self) -> str:
        return self.value


class OrderAction(str, enum.Enum):
    """``open`` buys, ``close`` sells (long side only)."""

    open = "open"
    close = "close"

    def __str__(self) -> str:
        return self.value


@attrs.frozen
class LimitOrderStyle:
    """限价单。``LimitOrderStyle(0)`` 表示按对手方最优价成交（由券商定价）。"""

    price: float = attrs.field(converter=float)

    @property
    def value(self) -> str:
        """``"limit"``: the style's name, as jqtrade 1.x's ``style.value``."""
        return "limit"

    def __repr__(self) -> str:
        return f"LimitOrderStyle({self.price:g})"


@attrs.frozen(init=False)
class MarketOrderStyle:
    """市价单。A 股柜台多数不接受真正的市价单，交易接口会说明它如何处理。

    ``MarketOrderStyle(0)`` and ``MarketOrderStyle(price=0)`` (jqtrade 1.x spellings) are the
    same as ``MarketOrderStyle()``: a market order carries no price, so ``price`` is always 0.
    A non-zero price is ignored with a warning (it usually means ``LimitOrderStyle`` was meant).
    """

    def __init__(self, price: float = 0) -> None:
        if price != 0:
            logger.warning(
                "MarketOrderStyle(%r)：市价单不使用价格，已忽略 %r；按价格下单请用 LimitOrderStyle(%r)",
                price,
                price,
                price,
            )

    @property
    def price(self) -> float:
        """Always 0.0 (jqtrade 1.x's market-order price)."""
        return 0.0

    @property
    def value(self) -> str:
        """``"market"``: the style's name, as jqtrade 1.x's ``style.value``."""
        return "market"

    def __repr__(self) -> str:
        return "MarketOrderStyle()"


OrderStyle = Union[LimitOrderStyle, MarketOrderStyle]


@attrs.frozen(kw_only=True)
class OrderRequest:
    """What a gate receives in ``AbsTradeGate.order``: already checked and journaled."""

    order_id: str
    code: str  # jqtrade form: 600000.XSHG / 000001.XSHE
    action: OrderAction
    amount: int  # always positive; the action says buy or sell
    style: OrderStyle
    side: OrderSide = OrderSide.long
    create_time: Optional[pendulum.DateTime] = None

    @property
    def price(self) -> Optional[Decimal]:
        if isinstance(self.style, LimitOrderStyle):
            return Decimal(str(self.style.price))
        return None

    @property
    def is_buy(self) -> bool:
        return self.action is OrderAction.open
