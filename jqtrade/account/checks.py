"""Pre-trade checks: refuse an order before it reaches the broker, saying why in Chinese.

Each refusal raises :class:`jqtrade.errors.OrderRejectedError` with a stable ``reason`` code
(listed in :data:`REASONS`) and a message naming the value and the rule.

Structural checks (code format, side, amount type, style, price sign) always run: without them
there is no order to send. So do the checks for absurd input (reasons ``bad_amount`` and
``bad_price``): an amount, a limit price or an order value that no account can trade
(:data:`MAX_ORDER_AMOUNT`, :data:`MAX_LIMIT_PRICE`, :data:`MAX_ORDER_VALUE`, and a buy of more
than :data:`ABSURD_CASH_MULTIPLE` times the available cash) is a bug in the strategy, not a
rule the broker might judge differently, so turning off ``not_enough_cash`` does not let it
through. The market-rule checks in :data:`DISABLEABLE_CHECKS` can be turned
off one by one when the broker does the checking.

Odd-lot sells (main boards, ChiNext, funds; lot 100): an amount that is not a multiple of 100
is accepted only when its odd part equals the odd part of the closeable amount, i.e.
``amount % 100 == closeable_amount % 100``: the order sells the whole odd remainder in one
go, with any number of round lots (selling everything closeable is the common case).
STAR (688/689): a sell below 200 shares is accepted only when it sells all closeable shares.
Both rules need a known position; with ``position=None`` (not synced yet) the broker decides.

Convertible bonds (可转债) follow the same odd-lot rule with a lot of 10 张, tick 0.001.
Reverse repos (国债逆回购) are lent with a negative amount (a sell, as at the broker): 10 张
(1,000 yuan) or multiples, the price is the annual rate in percent (tick 0.005 on SSE, 0.001 on
SZSE), the cash check uses ``amount × 100`` yuan, and there is nothing to be closeable; a
positive amount (正回购, borrowing) is refused as ``unsupported_security``. The rules live in
:mod:`jqtrade.model.rules`; ``docs/instruments.md`` names their sources.

Checks that need prices (``security_paused``, ``beyond_price_limit``) run only when the caller
hands in a ``quote`` (:class:`PriceQuote`, e.g. ``context.current_data[code]``) it trusts for
today; a limit that is unknown (NaN) skips its check. Without a quote nothing is refused for
want of data: the broker still checks.
"""

from __future__ import annotations

import datetime
import math
import numbers
import operator
from decimal import Decimal, InvalidOperation
from typing import Optional, Protocol, Union

import attrs

from jqtrade.account.portfolio import Position
from jqtrade.errors import OrderRejectedError
from jqtrade.model.orders import (
    LimitOrderStyle,
    MarketOrderStyle,
    OrderAction,
    OrderSide,
    OrderStyle,
)
from jqtrade.model.reasons import DISABLEABLE_CHECKS, REASONS
from jqtrade.model.rules import (
    MAX_LIMIT_PRICE,
    MAX_ORDER_AMOUNT,
    MAX_ORDER_VALUE,
    Board,
    Rules,
    board_of,
    buy_lot_ok,
    normalize_code,
    repo_term,
    rules_of,
    sell_lot_ok,
    tick_ok,
)

__all__ = [
    "ABSURD_CASH_MULTIPLE",
    "ABSURD_VALUE_FLOOR",
    "DISABLEABLE_CHECKS",
    "MAX_LIMIT_PRICE",
    "MAX_ORDER_AMOUNT",
    "MAX_ORDER_VALUE",
    "REASONS",
    "CheckedOrder",
    "PriceQuote",
    "check_order",
]

# MAX_ORDER_AMOUNT, MAX_LIMIT_PRICE and MAX_ORDER_VALUE live in jqtrade.model.rules (the
# simulated broker refuses beyond the same bounds) and are re-exported here.

#: A buy worth more than this many times the available cash is refused as absurd even when
#: ``not_enough_cash`` is off. Cash the snapshot has not shown yet (proceeds of a sale that
#: just filled, money transferred in) and margin (at most about 2x) explain a buy a few times
#: the cash, not three orders of magnitude; 1000x is what a typo in the amount (yuan written
#: as shares, a lot size multiplied twice) produces.
ABSURD_CASH_MULTIPLE = 1000
#: ... but only above this value: a nearly empty cash balance (after buying with everything)
#: makes every order "many times the cash", and those are the normal cash check's business.
ABSURD_VALUE_FLOOR = Decimal(10**7)


@attrs.frozen(kw_only=True)
class CheckedOrder:
    """An order that passed the checks: normalised code, buy/sell action, positive amount."""

    code: str
    action: OrderAction
    amount: int
    style: OrderStyle
    side: OrderSide = OrderSide.long


class PriceQuote(Protocol):
    """What the price checks read of a quote; ``jqtrade.data.CurrentDataItem`` fits.

    Prices are floats in yuan, ``nan`` where unknown.
    """

    @property
    def last_price(self) -> float: ...

    @property
    def high_limit(self) -> float: ...

    @property
    def low_limit(self) -> float: ...

    @property
    def paused(self) -> bool: ...

    @property
    def time(self) -> Optional[datetime.datetime]:
        """When the quote was taken (the account uses only today's)."""

    @property
    def stale(self) -> bool:
        """True when the source failed and this is an older snapshot (then not used)."""

    @property
    def reason(self) -> Optional[str]:
        """Why the quote is stale or empty."""


def _refuse(reason: str, message: str) -> OrderRejectedError:
    return OrderRejectedError(reason, message)


def _check_side(side: object) -> OrderSide:
    if isinstance(side, str):
        value = side.strip().lower()
        if value == "long":
            return OrderSide.long
        if value == "short":
            raise _refuse(
                "short_not_supported",
                f"side={side!r}：不支持做空，A 股现货只能 side='long'（正数买入，负数卖出）",
            )
    raise _refuse("bad_side", f"side={side!r} 不合法：只能是 'long'（正数买入，负数卖出）")


def _check_amount(amount: object) -> int:
    if isinstance(amount, bool):
        raise _refuse("bad_amount", f"数量 {amount!r} 不合法：必须是非零整数，不能是布尔值")
    try:
        number = operator.index(amount)  # type: ignore[arg-type]  # int, numpy integers
    except TypeError:
        if not isinstance(amount, numbers.Real):
            raise _refuse(
                "bad_amount",
                f"数量 {amount!r} 不合法：必须是非零整数（股数），实际类型 {type(amount).__name__}",
            ) from None
        value = float(amount)
        if not math.isfinite(value) or not value.is_integer():
            raise _refuse(
                "bad_amount", f"数量 {amount!r} 不合法：必须是整数股，不能有小数"
            ) from None
        number = int(value)
    if number == 0:
        raise _refuse("bad_amount", "数量 0 不合法：正数表示买入，负数表示卖出，不能为 0")
    if abs(number) > MAX_ORDER_AMOUNT:
        raise _refuse(
            "bad_amount",
            f"数量 {number:,} 不合法：超过 {MAX_ORDER_AMOUNT:,} 股，大于任何账户可能的单笔下单数量"
            f"（请检查是否把金额当成了股数）",
        )
    return number


def _check_style(style: object) -> OrderStyle:
    if style is None:
        return MarketOrderStyle()
    if isinstance(style, (LimitOrderStyle, MarketOrderStyle)):
        return style
    hint = f"，限价请写 LimitOrderStyle({style!r})" if isinstance(style, (int, float)) else ""
    raise _refuse(
        "bad_style",
        f"下单方式 {style!r} 不合法：只能是 LimitOrderStyle(价格) 或 MarketOrderStyle(){hint}",
    )


def _limit_price(style: OrderStyle) -> Optional[Decimal]:
    """The exact limit price, or ``None`` for market orders; refuses NaN, inf, negatives."""
    if not isinstance(style, LimitOrderStyle):
        return None
    price = style.price
    if not math.isfinite(price) or price < 0:
        raise _refuse(
            "bad_price", f"限价 {price!r} 不合法：必须大于 0（或为 0 表示按对手方最优价）"
        )
    if price > MAX_LIMIT_PRICE:
        raise _refuse(
            "bad_price",
            f"限价 {price!r} 不合法：超过 {MAX_LIMIT_PRICE:,} 元，没有这个价位的 A 股或基金",
        )
    try:
        return Decimal(repr(price))
    except InvalidOperation:  # pragma: no cover - finite floats always convert
        raise _refuse("bad_price", f"限价 {price!r} 不合法") from None


def _fmt(value: Union[Decimal, float]) -> str:
    return f"{value:,.2f}"


def _known(value: Optional[float], *, positive: bool = False) -> Optional[Decimal]:
    """A caller-supplied cash or price as a Decimal; ``None`` when unknown or not a usable
    number (NaN, infinite; for a price also <= 0 or above :data:`MAX_LIMIT_PRICE`)."""
    if value is None:
        return None
    number = float(value)
    if not math.isfinite(number) or (positive and not 0 < number <= MAX_LIMIT_PRICE):
        return None
    return Decimal(repr(number))


def _check_value(
    code: str,
    spends_cash: bool,
    qty: int,
    unit: Optional[Decimal],
    cash: Optional[Decimal],
    word: str = "股",
) -> None:
    """Refuse an order value no account can trade (always on, see the module docstring)."""
    if unit is None:
        return
    value = unit * qty
    if value > MAX_ORDER_VALUE:
        raise _refuse(
            "bad_amount",
            f"{code} {qty:,} {word} × {unit} 元约 {_fmt(value)} 元，超过单笔上限 {MAX_ORDER_VALUE:,} 元"
            f"（大于任何上市公司的市值），请检查数量和价格",
        )
    if (
        spends_cash
        and cash is not None
        and value > ABSURD_VALUE_FLOOR
        and value > cash * ABSURD_CASH_MULTIPLE
    ):
        raise _refuse(
            "bad_amount",
            f"买入 {code} {qty:,} {word}约需 {_fmt(value)} 元（{qty} × {unit}），超过可用资金 {_fmt(cash)} 元的 "
            f"{ABSURD_CASH_MULTIPLE} 倍，不可能成交（请检查是否把金额当成了股数）；这项检查不能关闭",
        )


def _check_limits(code: str, price: Decimal, quote: PriceQuote) -> None:
    """Refuse a limit price outside today's price limits (each limit only when known)."""
    low, high = _known(quote.low_limit, positive=True), _known(quote.high_limit, positive=True)
    if (high is not None and price > high) or (low is not None and price < low):
        shown_low = f"{low}" if low is not None else "未知"
        shown_high = f"{high}" if high is not None else "未知"
        side = "涨停价" if high is not None and price > high else "跌停价"
        raise _refuse(
            "beyond_price_limit",
            f"{code} 的限价 {price} 超出今天的涨跌停范围（跌停价 {shown_low}，涨停价 {shown_high}），"
            f"超过{side}的委托会被交易所拒绝",
        )


def _kind(rules: Rules) -> str:
    return {Board.fund: "基金", Board.convertible: "可转债", Board.repo: "国债逆回购"}.get(
        rules.board, "股票"
    )


def _lot_message(code: str, qty: int, rules: Rules) -> str:
    if rules.board is Board.star:
        return f"买入 {code} 的数量 {qty} 不合法：科创板买入至少 {rules.min_buy} 股，超出部分可按 {rules.buy_step} 股递增"
    if rules.is_repo:
        return (
            f"借出 {code} 的数量 {qty} 不合法：国债逆回购须为 {rules.buy_step} 张（1,000 元）的整数倍，"
            f"1 张 = 面值 100 元"
        )
    if rules.board is Board.convertible:
        return (
            f"买入 {code} 的数量 {qty} 不合法：可转债买入须为 {rules.buy_step} 张（1 手）的整数倍"
        )
    return (
        f"买入 {code} 的数量 {qty} 不合法：{rules.board.label}买入须为 {rules.buy_step} 股的整数倍"
    )


def _odd_lot_message(code: str, qty: int, closeable: int, rules: Rules) -> str:
    lot = rules.round_lot
    if lot is None:
        return (
            f"卖出 {code} 的数量 {qty} 不合法：科创板卖出少于 {rules.min_buy} 股时须一次性卖出"
            f"全部可卖的 {closeable} 股"
        )
    word = rules.unit
    odd = closeable % lot
    allowed = (
        f"零{word}部分须为 {odd} {word}（可卖 {closeable} {word}中不足 {lot} {word}的部分须一次性卖出）"
        if odd
        else f"可卖 {closeable} {word}没有零{word}，卖出数量须为 {lot} {word}的整数倍"
    )
    return f"卖出 {code} 的数量 {qty} 不合法：{allowed}"


def check_order(
    code: object,
    amount: object,
    style: object = None,
    side: object = "long",
    *,
    position: Optional[Position] = None,
    available_cash: Optional[float] = None,
    reference_price: Optional[float] = None,
    quote: Optional[PriceQuote] = None,
    disabled: frozenset[str] = frozenset(),
) -> CheckedOrder:
    """Check one order; return it normalised or raise :class:`OrderRejectedError`.

    ``amount`` > 0 buys, < 0 sells. ``style=None`` means ``MarketOrderStyle()``.
    ``position`` (the current position of ``code``, ``Position.empty`` when not held) and
    ``available_cash`` enable the T+1 and cash checks; ``None`` means unknown, check skipped.
    The cash check uses the limit price, or ``reference_price`` for market and price-0
    orders (skipped without one); fees are not included (the broker refuses if they do not
    fit). A NaN or infinite cash or reference price counts as unknown, and so does a reference
    price outside (0, :data:`MAX_LIMIT_PRICE`]. ``quote`` (today's, from the market data)
    enables ``security_paused`` and ``beyond_price_limit`` (a limit price outside
    ``[low_limit, high_limit]``; a NaN limit skips it). ``disabled`` names checks from
    :data:`DISABLEABLE_CHECKS` to skip; the absurd-value checks cannot be skipped.
    """
    norm_code = normalize_code(code)
    order_side = _check_side(side)
    signed = _check_amount(amount)
    order_style = _check_style(style)
    price = _limit_price(order_style)
    action = OrderAction.open if signed > 0 else OrderAction.close
    qty = abs(signed)
    board = board_of(norm_code)
    rules = rules_of(norm_code)
    repo = rules.is_repo
    # A reverse repo's price is a rate: the cash it takes is its face value.
    unit = (
        rules.face_value if repo else (price if price else _known(reference_price, positive=True))
    )
    cash = _known(available_cash)
    spends_cash = action is OrderAction.open or repo
    _check_value(norm_code, spends_cash, qty, unit, cash, rules.unit)

    def on(name: str) -> bool:
        return name not in disabled

    known_rules = board is not Board.other
    if not known_rules and on("unsupported_security"):
        hint = (
            "；上交所 000 开头的是指数，深交所股票请用 .XSHE 后缀（如平安银行 000001.XSHE）"
            if norm_code.startswith("000") and norm_code.endswith(".XSHG")
            else ""
        )
        raise _refuse(
            "unsupported_security",
            f"{norm_code} 不是 jqtrade 认识的可交易品种（只支持沪深主板、创业板、科创板股票、场内基金、"
            f"可转债和国债逆回购{hint}；其他债券、B 股等请确认代码无误后关闭 unsupported_security 检查，"
            f"由券商判断）",
        )
    if repo and action is OrderAction.open and on("unsupported_security"):
        name = repo_term(norm_code)[0]
        raise _refuse(
            "unsupported_security",
            f"{norm_code}（{name}）是国债逆回购，只能卖出（借出资金）：数量请写负数，"
            f"如 order({norm_code!r}, -10) 借出 1,000 元；买入数量 {qty} 是正回购（借入资金），"
            f"jqtrade 不支持",
        )

    if quote is not None and quote.paused and on("security_paused"):
        raise _refuse(
            "security_paused",
            f"{norm_code} 今天停牌，不能下单（{'买入' if action is OrderAction.open else '卖出'} {qty} "
            f"{rules.unit}）；复牌后再下单",
        )

    if price is not None and price > 0 and known_rules and on("bad_tick"):
        if not tick_ok(rules, price):
            what = "价格（年化利率 %）" if repo else "价格"
            raise _refuse(
                "bad_tick",
                f"限价 {price} 不合法：{norm_code} 是{_kind(rules)}，{what}须为 {rules.tick} 的整数倍",
            )

    if price is not None and price > 0 and quote is not None and on("beyond_price_limit"):
        _check_limits(norm_code, price, quote)

    if action is OrderAction.open or repo:
        if known_rules and on("bad_lot") and not buy_lot_ok(rules, qty):
            raise _refuse("bad_lot", _lot_message(norm_code, qty, rules))
        if cash is not None and on("not_enough_cash") and unit is not None:
            cost = unit * qty
            if cost > cash:
                verb = "借出" if repo else "买入"
                raise _refuse(
                    "not_enough_cash",
                    f"{verb} {norm_code} {qty} {rules.unit}约需 {_fmt(cost)} 元（{qty} × {unit}），"
                    f"超过可用资金 {_fmt(cash)} 元",
                )
    else:
        if position is not None and on("not_enough_closeable"):
            closeable = position.closeable_amount
            if qty > closeable:
                why = (
                    "可转债当日买入当日可卖，可卖数量以券商的持仓快照为准"
                    if rules.t_plus_0
                    else "当天买入的股票下一个交易日才能卖出"
                )
                raise _refuse(
                    "not_enough_closeable",
                    f"卖出 {norm_code} 的数量 {qty} 超过可卖数量 {closeable}（持仓 {position.total_amount} "
                    f"{rules.unit}，{why}）",
                )
        if position is not None and known_rules and on("odd_lot_sell"):
            closeable = position.closeable_amount
            if not sell_lot_ok(rules, qty, closeable):
                raise _refuse("odd_lot_sell", _odd_lot_message(norm_code, qty, closeable, rules))

    return CheckedOrder(
        code=norm_code, action=action, amount=qty, style=order_style, side=order_side
    )
