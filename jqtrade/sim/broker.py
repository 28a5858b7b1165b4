"""The simulated broker's core: one cash account, its orders and their matching, no protocol.

:class:`SimBroker` takes typed commands -- :meth:`~SimBroker.submit` a :class:`NewOrder`,
:meth:`~SimBroker.cancel` by our order id -- and answers with typed updates it queues until
:meth:`~SimBroker.drain`: an :class:`~jqtrade.model.reports.OrderReport` for every status
change (new -> open -> filling -> filled; canceling -> partly_canceled / canceled; rejected
with a Chinese reason) and a :class:`~jqtrade.model.reports.TradeReport` for every fill, in
the order they happened. :meth:`~SimBroker.balance` gives a
:class:`~jqtrade.model.reports.BalanceReport`. Time is the ``now`` passed in; it never reads a
clock. A protocol adapter (the OneQuant files in :mod:`jqtrade.sim.onequant`, later xtquant)
turns its wire format into commands and the updates back into its wire format.

This is a paper broker: A-share lot, tick, price-limit, T+1 and cash-freezing rules are
enforced with :mod:`jqtrade.model.rules` (the same functions the pre-trade checks call);
queue position and auctions are not modelled. On a :class:`~jqtrade.sim.bars.BarMarket`, codes
with bars fill on those bars (through the limit, at the next bar's open for priced-at-best
orders, at most ``volume_ratio`` of each bar's volume, not at a sealed limit, not on a paused
day); other codes, and every code on a :class:`~jqtrade.sim.market.PriceFeed`, on the walk. Convertible bonds trade T+0 within
±20 % of the previous close (the wider first-day limits are not modelled). Reverse repos are
lent with sell orders: the cash (10 张 = 1,000 yuan and multiples) leaves at the fill and comes
back with interest at the first day change on or after the term's end. A day change expires
the day's working orders.
"""

from __future__ import annotations

import datetime
import enum
import logging
import random
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Optional, Protocol, Union

import attrs
import pendulum

from jqtrade.data.models import Bar
from jqtrade.model.orders import OrderAction, OrderStatus
from jqtrade.model.reports import BalanceReport, OrderReport, PositionReport, TradeReport
from jqtrade.model.rules import (
    FACE_VALUE,
    MAX_LIMIT_PRICE,
    MAX_ORDER_AMOUNT,
    MAX_ORDER_VALUE,
    Board,
    Rules,
    board_of,
    buy_lot_ok,
    price_limits,
    repo_fee,
    repo_interest,
    repo_term,
    rules_of,
    sell_lot_ok,
    tick_ok,
    tick_size,
)
from jqtrade.sim.bars import BarMarket, DayBars
from jqtrade.sim.market import Market, as_code, in_session, number_in

log = logging.getLogger("jqtrade.sim")

ZERO = Decimal(0)
CENT = Decimal("0.01")

#: The reason of an order the simulator failed on; the tests make sure it never appears.
BACKSTOP = "模拟券商内部错误"

Update = Union[OrderReport, TradeReport]


class Pricing(str, enum.Enum):
    """How an order's price is set when the counter takes it."""

    limit = "limit"  #: at ``NewOrder.price``; 0 means the counterparty's best price
    limit_up = "limit_up"  #: at the day's limit-up price
    limit_down = "limit_down"  #: at the day's limit-down price


@attrs.frozen(kw_only=True)
class NewOrder:
    """An order as the broker receives it. ``action`` open buys, close sells (or lends, for a
    reverse repo)."""

    order_id: str
    code: str
    action: OrderAction
    amount: int
    price: Decimal = ZERO
    pricing: Pricing = Pricing.limit


class FaultNotes(Protocol):
    """What a fault injector may change in the core: the free text of normal updates."""

    def on_accept(self) -> Optional[str]: ...

    def on_fill(self, partial: bool) -> Optional[str]: ...


@attrs.define
class RepoLoan:
    """Cash lent through a reverse repo: back with interest on ``due`` (a calendar date)."""

    code: str
    due: datetime.date
    principal: Decimal
    interest: Decimal


@attrs.define
class SimPosition:
    total: int = 0
    sellable: int = 0
    frozen: int = 0  # held by working sell orders
    cost: Decimal = ZERO  # total cost of the shares held


@attrs.define
class SimOrder:
    order_id: str
    order_no: str
    code: str
    action: OrderAction
    qty: int
    pricing: Pricing
    limit: Decimal  # as requested; 0 = best counterparty price
    received: pendulum.DateTime
    accept_at: pendulum.DateTime
    status: OrderStatus = OrderStatus.new
    price: Decimal = ZERO  # effective limit once accepted
    filled: int = 0
    filled_amt: Decimal = ZERO
    cancel_qty: int = 0
    frozen_cash: Decimal = ZERO
    cancel_at: Optional[pendulum.DateTime] = None
    text: str = ""
    working: bool = False  # accepted by the counter: cash or shares frozen, can fill
    filled_px: Decimal = ZERO  # sum of price × quantity of the fills (a repo's filled_amt is cash)
    met: Optional[pendulum.DateTime] = None  # on real bars: the end of the last bar it met

    @property
    def final(self) -> bool:
        return self.status.is_final

    @property
    def remaining(self) -> int:
        return self.qty - self.filled - self.cancel_qty

    @property
    def is_buy(self) -> bool:
        return self.action is OrderAction.open

    @property
    def is_repo(self) -> bool:
        return board_of(self.code) is Board.repo

    @property
    def spends_cash(self) -> bool:
        """A buy, or lending cash through a reverse repo (a sell at the broker)."""
        return self.is_buy or self.is_repo

    @property
    def avg_price(self) -> Optional[Decimal]:
        return self.filled_px / self.filled if self.filled else None


def trade_cash(trade: TradeReport) -> Decimal:
    """The cash a fill moves: price × quantity, or for a reverse repo the principal lent."""
    if board_of(trade.code) is Board.repo:
        return FACE_VALUE * trade.amount
    return trade.price * trade.amount


def _lot_rule(rules: Rules) -> str:
    if rules.round_lot is None:
        return f"买入至少 {rules.min_buy} 股，超出部分以 {rules.buy_step} 股为单位"
    verb = "借出" if rules.is_repo else "买入"
    return f"{verb}须为 {rules.round_lot} {rules.unit}的整数倍"


def _position_spec(code: str, spec: Any) -> tuple[int, Optional[Decimal]]:
    """An initial position (``1000`` or ``{"amount": 1000, "avg_cost": 10.5}``) -> (amount, cost)."""
    amount, cost = (
        (spec.get("amount", 0), spec.get("avg_cost")) if isinstance(spec, Mapping) else (spec, None)
    )
    shares = number_in(f"{code} 的初始持仓股数", amount, 0, MAX_ORDER_AMOUNT)
    if not shares.is_integer():
        raise ValueError(f"{code} 的初始持仓股数 {amount!r} 不合法：应为整数")
    if cost is None:
        return int(shares), None
    return int(shares), Decimal(str(number_in(f"{code} 的持仓成本", cost, 0, MAX_LIMIT_PRICE)))


#: The fee and fill settings a user may give: (Chinese label, low, high, low itself excluded).
FEE_SETTINGS: dict[str, tuple[str, float, float, bool]] = {
    "commission_rate": ("佣金费率", 0.0, 0.01, False),
    "min_commission": ("最低佣金", 0.0, 1000.0, False),
    "stamp_tax_rate": ("印花税率", 0.0, 0.01, False),
    "volume_ratio": ("成交量比例", 0.0, 1.0, True),
}


def fee_setting(name: str, value: object) -> float:
    """``value`` of the setting ``name`` of :data:`FEE_SETTINGS`; a Chinese ``ValueError``
    naming it and its range otherwise."""
    label, low, high, low_open = FEE_SETTINGS[name]
    return number_in(f"{label} {name}", value, low, high, low_open=low_open)


class SimBroker:
    """A paper broker for one cash account (see the module docstring).

    ``latency`` (seconds) delays acceptance and cancel completion. ``partial_fills`` fills
    about half of what is left per :meth:`advance`. ``reject_rate`` rejects that share of
    orders at random. ``market_hours=False`` lets orders fill at any time of day.
    ``positions``: initial holdings (``{"600000.XSHG": 1000}`` or with ``avg_cost``), sellable
    on the first day. ``faults`` may change the free text of normal updates.

    ``feed`` is a :class:`~jqtrade.sim.market.PriceFeed` (the random walk) or a
    :class:`~jqtrade.sim.bars.BarMarket`; on a BarMarket, the codes it has bars for are matched
    on those bars (:meth:`_match_bars`), at most ``volume_ratio`` of each bar's volume.
    """

    def __init__(
        self,
        feed: Market,
        cash: float = 1_000_000,
        *,
        positions: Optional[Mapping[str, Any]] = None,
        latency: float = 0.0,
        partial_fills: bool = False,
        reject_rate: float = 0.0,
        seed: int = 0,
        commission_rate: float = 0.00025,
        min_commission: float = 5.0,
        stamp_tax_rate: float = 0.0005,
        market_hours: bool = True,
        faults: Optional[FaultNotes] = None,
        volume_ratio: float = 0.25,
    ) -> None:
        cash = number_in("初始资金 cash", cash, 0, MAX_ORDER_VALUE)
        latency = number_in("延迟 latency（秒）", latency, 0, 86_400)
        reject_rate = number_in("随机拒单比例 reject_rate", reject_rate, 0, 1)
        commission_rate = fee_setting("commission_rate", commission_rate)
        min_commission = fee_setting("min_commission", min_commission)
        stamp_tax_rate = fee_setting("stamp_tax_rate", stamp_tax_rate)
        volume_ratio = fee_setting("volume_ratio", volume_ratio)
        initial = {
            as_code(code): _position_spec(code, spec) for code, spec in (positions or {}).items()
        }
        for code in initial:
            if board_of(code) is Board.repo:
                raise ValueError(f"{code} 是国债逆回购，不能作为初始持仓（借出的资金不是持仓）")
        self.feed = feed
        self.volume_ratio = Decimal(str(volume_ratio))
        # on real bars: shares already filled per (code, bar end) today, shared by all orders
        self._bar_used: dict[tuple[str, pendulum.DateTime], int] = {}
        self.latency = float(latency)
        self.partial_fills = partial_fills
        self.reject_rate = reject_rate
        self.market_hours = market_hours
        self.commission_rate = Decimal(str(commission_rate))
        self.min_commission = Decimal(str(min_commission))
        self.stamp_tax_rate = Decimal(str(stamp_tax_rate))
        self.faults = faults
        self.cash = Decimal(str(cash))  # current balance, frozen included
        self.frozen_cash = ZERO
        self.positions: dict[str, SimPosition] = {}
        self.repo_loans: list[RepoLoan] = []  # cash lent through reverse repos, not back yet
        self.orders: dict[str, SimOrder] = {}
        self.day: Optional[datetime.date] = None
        self._initial_positions = initial
        self._working: dict[str, SimOrder] = {}  # orders not final yet: all a step has to look at
        self._reject_rng = random.Random(f"{seed}|reject")
        self._updates: list[Update] = []
        self._order_seq = 0
        self._trade_seq = 0

    # -- reading --------------------------------------------------------------------------

    @property
    def available_cash(self) -> Decimal:
        return self.cash - self.frozen_cash

    @property
    def lent_cash(self) -> Decimal:
        """Principal out on reverse repos: still the account's money."""
        return sum((loan.principal for loan in self.repo_loans), ZERO)

    def has_order(self, order_id: str) -> bool:
        return order_id in self.orders

    def drain(self) -> list[Update]:
        """The updates since the last call, oldest first."""
        updates, self._updates = self._updates, []
        return updates

    def balance(self, now: pendulum.DateTime) -> BalanceReport:
        """Cash and holdings at ``now``, positions valued at the feed's price."""
        positions = []
        market_value = ZERO
        for code, position in sorted(self.positions.items()):
            last = self.feed.price(code, now)
            value = last * position.total
            market_value += value
            positions.append(
                PositionReport(
                    code=code,
                    total_amount=position.total,
                    closeable_amount=position.sellable,
                    avg_cost=position.cost / position.total if position.total else ZERO,
                    last_price=last,
                    position_value=value,
                )
            )
        return BalanceReport(
            total_value=self.cash + market_value + self.lent_cash,
            available_cash=self.available_cash,
            locked_cash=self.frozen_cash,
            positions=tuple(positions),
            as_of=now,
        )

    # -- days -----------------------------------------------------------------------------

    def close_day(self, now: pendulum.DateTime) -> None:
        """Unfilled orders expire at the end of the day: canceled, reported at ``now``."""
        for order in self._working.values():
            if order.final:
                continue
            order.text = "当日有效委托已过期，未成交部分撤销"
            self._finish_cancel(order, now)
        self.orders.clear()
        self._working.clear()
        self._bar_used.clear()
        self.frozen_cash = ZERO

    def open_day(self, day: datetime.date) -> None:
        """Start ``day``: order numbers from 1, yesterday's shares sellable (T+1), due repos paid."""
        if self.day is None:
            self._load_initial_positions(day)
        self.day = day
        self._order_seq = 0
        self._bar_used.clear()
        for position in self.positions.values():
            position.sellable = position.total
            position.frozen = 0
        self._repay_loans(day)

    def _repay_loans(self, today: datetime.date) -> None:
        """Reverse repos whose term has ended pay back principal and interest (usable today)."""
        due = [loan for loan in self.repo_loans if loan.due <= today]
        if due:
            self.repo_loans = [loan for loan in self.repo_loans if loan.due > today]
            for loan in due:
                self.cash += loan.principal + loan.interest

    def _load_initial_positions(self, day: datetime.date) -> None:
        for code, (amount, cost) in self._initial_positions.items():
            if amount <= 0:
                continue
            avg = cost if cost is not None else self.feed.prev_close(code, day)
            self.positions[code] = SimPosition(total=amount, sellable=amount, cost=avg * amount)

    # -- commands -------------------------------------------------------------------------

    def submit(self, command: NewOrder, now: pendulum.DateTime) -> str:
        """Take an order (reported ``new`` now, accepted or rejected after the latency).

        Returns "" or why the instruction itself is refused (no order is made then): a
        duplicate id, a quantity or price beyond :mod:`jqtrade.model.rules`' bounds, a code
        whose rules the simulator does not know.
        """
        if command.order_id in self.orders:
            return f"委托号 {command.order_id} 重复，当日已有同号委托"
        if not 0 < command.amount <= MAX_ORDER_AMOUNT:
            return f"委托数量 {command.amount} 不合法：应为 1 到 {MAX_ORDER_AMOUNT:,} 之间的整数"
        if not (command.price.is_finite() and 0 <= command.price <= MAX_LIMIT_PRICE):
            return f"委托价格 {command.price} 不合法：应为 0 到 {MAX_LIMIT_PRICE:,} 元之间的价格"
        if board_of(command.code) is Board.other:
            return f"证券代码 {command.code} 不是模拟券商支持的品种"
        self._order_seq += 1
        order = SimOrder(
            order_id=command.order_id,
            order_no=f"{self._order_seq + 100000}",
            code=command.code,
            action=command.action,
            qty=command.amount,
            pricing=command.pricing,
            limit=command.price,
            received=now,
            accept_at=now.add(microseconds=int(self.latency * 1_000_000)),
        )
        self.orders[order.order_id] = order
        self._working[order.order_id] = order
        self._report(order, now)
        return ""

    def cancel(self, order_id: str, now: pendulum.DateTime) -> str:
        """Ask to cancel; returns "" (reported ``canceling`` now, done after the latency) or why not."""
        order = self.orders.get(order_id)
        if order is None:
            return "撤单失败：未找到该委托"
        if order.final:
            return "撤单失败：委托已成交或已撤销"
        if order.cancel_at is not None:
            return "撤单失败：该委托正在撤单"
        order.cancel_at = now.add(microseconds=int(self.latency * 1_000_000))
        order.status = OrderStatus.canceling
        self._report(order, now)
        return ""

    # -- order life -----------------------------------------------------------------------

    def advance(self, now: pendulum.DateTime) -> None:
        """Accept, match, fill and finish cancels of the working orders at ``now``."""
        for order in list(self._working.values()):
            try:
                self._step_order(order, now)
            except Exception as exc:  # noqa: BLE001 - one order must not stop the broker
                log.exception("模拟券商处理委托 %s 出错，已拒绝或撤销", order.order_id)
                self._give_up(order, now, f"{BACKSTOP}：{exc}")
            if order.final:
                del self._working[order.order_id]

    def _give_up(self, order: SimOrder, now: pendulum.DateTime, reason: str) -> None:
        """End an order the simulator failed on: rejected if not accepted yet, else canceled.

        Whatever fails here too, the order ends final, so the next step does not meet it again.
        """
        order.text = reason
        if order.working:
            try:
                self._finish_cancel(order, now)
                return
            except Exception:  # noqa: BLE001 - see the docstring
                log.exception("模拟券商撤销委托 %s 也出错了", order.order_id)
        order.working = False
        order.status = OrderStatus.partly_canceled if order.filled else OrderStatus.rejected
        order.cancel_qty = order.qty - order.filled
        try:
            self._report(order, now)
        except Exception:  # noqa: BLE001 - see the docstring
            log.exception("模拟券商无法报告委托 %s 的终态", order.order_id)

    def _step_order(self, order: SimOrder, now: pendulum.DateTime) -> None:
        if order.final:
            return
        if not order.working:
            if now < order.accept_at:
                return
            if order.cancel_at is not None:  # canceled before the counter took it
                self._finish_cancel(order, now)
                return
            self._accept(order, now)
            if not order.working:
                return
        if not self.market_hours or in_session(now):
            self._match(order, now)
        if not order.final and order.cancel_at is not None and now >= order.cancel_at:
            self._finish_cancel(order, now)

    def _day_bars(self, code: str, now: pendulum.DateTime) -> Optional[DayBars]:
        """``code``'s bars of today when the feed is a BarMarket that has them."""
        feed = self.feed
        if isinstance(feed, BarMarket):
            return feed.day(code, now.date())
        return None

    def _accept(self, order: SimOrder, now: pendulum.DateTime) -> None:
        code = order.code
        tick = tick_size(code)
        bars = self._day_bars(code, now)
        if bars is not None:
            low, high = bars.low_limit, bars.high_limit
            order.met = now  # bars ended by now were history when the counter took it
        else:
            prev = self.feed.prev_close(code, now.date())
            low, high = price_limits(code, prev)
        last = self.feed.price(code, now)
        if order.pricing is Pricing.limit_up:
            order.price = high
        elif order.pricing is Pricing.limit_down:
            order.price = low
        elif order.limit == 0:
            order.price = min(last + tick, high) if order.is_buy else max(last - tick, low)
        else:
            order.price = order.limit
        if bars is not None and bars.paused:
            reason = f"{code} 今日停牌，不能交易"
        else:
            reason = self._check(order, tick, low, high)
        if reason:
            order.status = OrderStatus.rejected
            order.text = reason
            order.cancel_qty = order.qty
            self._report(order, now)
            return
        if order.spends_cash:
            amount, fee = self._cost(order, order.price, order.qty)
            order.frozen_cash = amount + fee
            self.frozen_cash += order.frozen_cash
        else:
            position = self.positions[code]
            position.sellable -= order.qty
            position.frozen += order.qty
        order.working = True
        order.status = OrderStatus.open
        note = self.faults.on_accept() if self.faults is not None else None
        if note is not None:
            order.text = note
        self._report(order, now)

    def _check(self, order: SimOrder, tick: Decimal, low: Decimal, high: Decimal) -> str:
        code = order.code
        if self.reject_rate > 0 and self._reject_rng.random() < self.reject_rate:
            return "柜台拒绝：模拟随机拒单"
        rules = rules_of(code)
        if not tick_ok(rules, order.price):
            return f"委托价格 {order.price} 不是最小价格变动单位 {tick} 的整数倍"
        if order.price < low or order.price > high:
            return f"委托价格 {order.price} 超出涨跌停价格范围 [{low}, {high}]"
        if order.is_repo and order.is_buy:
            return f"{code} 是国债逆回购，个人只能卖出（借出资金），不能买入（正回购）"
        if order.spends_cash:
            if not buy_lot_ok(rules, order.qty):
                return f"委托数量 {order.qty} 不合法：{_lot_rule(rules)}"
            amount, fee = self._cost(order, order.price, order.qty)
            need = amount + fee
            if need > self.available_cash:
                return f"可用资金不足：需要 {need:.2f} 元，可用 {self.available_cash:.2f} 元"
            return ""
        position = self.positions.get(code)
        sellable = position.sellable if position else 0
        if order.qty > sellable:
            why = "" if rules.t_plus_0 else "（当日买入的股票下一交易日才能卖出）"
            return f"可卖数量不足：委托 {order.qty} {rules.unit}，可卖 {sellable} {rules.unit}{why}"
        if not sell_lot_ok(rules, order.qty, sellable):
            return (
                f"委托数量 {order.qty} 不合法：卖出零股须一次卖完（可卖 {sellable} {rules.unit}）"
            )
        return ""

    def _cost(self, order: SimOrder, price: Decimal, quantity: int) -> tuple[Decimal, Decimal]:
        """(cash, fee) of buying ``quantity`` at ``price``, or of lending it through a repo."""
        if order.is_repo:
            principal = FACE_VALUE * quantity
            return principal, repo_fee(order.code, principal)
        amount = price * quantity
        return amount, self._commission(amount)

    def _match(self, order: SimOrder, now: pendulum.DateTime) -> None:
        bars = self._day_bars(order.code, now)
        if bars is not None:
            self._match_bars(order, bars, now)
            return
        code = order.code
        tick = tick_size(code)
        low, high = price_limits(code, self.feed.prev_close(code, now.date()))
        last = self.feed.price(code, now)
        if order.is_buy:
            ask = min(last + tick, high)
            if order.price < ask:
                return
            fill_price = ask
        else:
            bid = max(last - tick, low)
            if order.price > bid:
                return
            fill_price = bid
        quantity = order.remaining
        lot = rules_of(code).round_lot or 100
        if self.partial_fills and quantity > lot:
            half = (quantity // 2) // lot * lot
            quantity = half if half >= lot else quantity
        if quantity <= 0:
            return
        self._fill(order, quantity, fill_price, now)

    def _match_bars(self, order: SimOrder, day: DayBars, now: pendulum.DateTime) -> None:
        """Fill ``order`` on the bars it meets by ``now`` (see docs/sim.md, 真实 K 线上的成交).

        A limit buy fills in a bar whose low reaches its limit, at the limit or at the bar's
        open when the bar opened through it (a sell: the high, and the better of the two); a
        priced-at-best order at the open of the bar. No buy in a bar sealed at the limit-up
        (its low is the limit-up), no sell in one sealed at the limit-down. Each bar gives all
        orders together at most ``volume_ratio`` of its volume; the rest waits for later bars.
        A buy takes no more than the cash frozen for it and the available cash pay for.
        """
        horizon = now if order.cancel_at is None else min(now, order.cancel_at)
        after = order.met or order.received
        bars = day.due(after, horizon)
        if not bars:
            return
        order.met = bars[-1].time
        lot = rules_of(order.code).round_lot or 100
        tick = tick_size(order.code)
        best = order.pricing is Pricing.limit and order.limit == 0
        for bar in bars:
            if order.remaining <= 0:
                break
            price = self._bar_price(order, bar, day, best)
            if price is None:
                continue
            price = price.quantize(tick)  # the cache keeps 4 places: 9.1100 -> 9.11
            key = (order.code, bar.time)
            used = self._bar_used.get(key, 0)
            room = int(self.volume_ratio * bar.volume) - used
            quantity = min(order.remaining, room)
            if quantity < order.remaining:
                quantity = quantity // lot * lot
            if order.is_buy:
                quantity = self._affordable(order, quantity, price, lot)
            if quantity <= 0:
                continue
            self._bar_used[key] = used + quantity
            self._fill(order, quantity, price, min(bar.time, now))

    @staticmethod
    def _bar_price(order: SimOrder, bar: Bar, day: DayBars, best: bool) -> Optional[Decimal]:
        """The price ``order`` fills at in ``bar``, or ``None`` when it does not fill there."""
        if order.is_buy:
            if bar.low >= day.high_limit:  # sealed at the limit-up: no seller
                return None
            if best:
                return bar.open
            return min(order.price, bar.open) if bar.low <= order.price else None
        if bar.high <= day.low_limit:  # sealed at the limit-down: no buyer
            return None
        if best:
            return bar.open
        return max(order.price, bar.open) if bar.high >= order.price else None

    def _affordable(self, order: SimOrder, quantity: int, price: Decimal, lot: int) -> int:
        """At most ``quantity``, in lots unless it is the whole rest, that the cash pays for."""
        while quantity > 0:
            amount, fee = self._cost(order, price, quantity)
            release = order.frozen_cash * quantity / order.remaining
            if amount + fee <= release + self.available_cash:
                return quantity
            quantity = (quantity - 1) // lot * lot
        return 0

    def _fill(self, order: SimOrder, quantity: int, price: Decimal, now: pendulum.DateTime) -> None:
        amount, fee = self._cost(order, price, quantity)
        if order.spends_cash:
            release = order.frozen_cash * quantity / order.remaining
            order.frozen_cash -= release
            self.frozen_cash -= release
            self.cash -= amount + fee
        if order.is_repo:
            due = now.date() + datetime.timedelta(days=repo_term(order.code)[1])
            self.repo_loans.append(
                RepoLoan(order.code, due, amount, repo_interest(order.code, amount, price))
            )
        elif order.is_buy:
            position = self.positions.setdefault(order.code, SimPosition())
            position.total += quantity
            position.cost += amount + fee
            if rules_of(order.code).t_plus_0:
                position.sellable += quantity
        else:
            position = self.positions.setdefault(order.code, SimPosition())
            if board_of(order.code) is not Board.convertible:  # no stamp duty on bonds
                fee += (amount * self.stamp_tax_rate).quantize(CENT, rounding=ROUND_HALF_UP)
            avg = position.cost / position.total if position.total else ZERO
            position.total -= quantity
            position.frozen -= quantity
            position.cost = avg * position.total
            self.cash += amount - fee
            if position.total == 0:
                del self.positions[order.code]
        order.filled += quantity
        order.filled_amt += amount
        order.filled_px += price * quantity
        if order.remaining == 0:
            order.status = OrderStatus.filled
        else:
            order.status = (
                OrderStatus.canceling if order.cancel_at is not None else OrderStatus.filling
            )
        if order.status is OrderStatus.filled and order.frozen_cash:
            self.frozen_cash -= order.frozen_cash
            order.frozen_cash = ZERO
        self._trade_seq += 1
        self._updates.append(
            TradeReport(
                trade_id=f"T{self._trade_seq:08d}",
                order_id=order.order_id,
                code=order.code,
                action=order.action,
                amount=quantity,
                price=price,
                broker_order_id=order.order_no,
                commission=fee,
                time=now,
            )
        )
        note = (
            self.faults.on_fill(order.status is OrderStatus.filling)
            if self.faults is not None
            else None
        )
        if note is not None:
            order.text = note
        self._report(order, now)

    def _finish_cancel(self, order: SimOrder, now: pendulum.DateTime) -> None:
        remaining = order.remaining
        order.cancel_qty += remaining
        if order.spends_cash:
            self.frozen_cash -= order.frozen_cash
            order.frozen_cash = ZERO
        else:
            position = self.positions.get(order.code)
            if position is not None and order.working:
                position.frozen -= remaining
                position.sellable += remaining
        order.working = False
        order.status = OrderStatus.partly_canceled if order.filled else OrderStatus.canceled
        self._report(order, now)

    def _commission(self, amount: Decimal) -> Decimal:
        if amount <= 0:
            return ZERO
        return max(
            (amount * self.commission_rate).quantize(CENT, rounding=ROUND_HALF_UP),
            self.min_commission,
        )

    def _report(self, order: SimOrder, now: pendulum.DateTime) -> None:
        self._updates.append(
            OrderReport(
                order_id=order.order_id,
                broker_order_id=order.order_no,
                code=order.code,
                status=order.status,
                action=order.action,
                amount=order.qty,
                price=order.price if order.price else order.limit,
                filled_amount=order.filled,
                canceled_amount=order.cancel_qty,
                avg_price=order.avg_price,
                deal_balance=order.filled_amt,
                err_msg=order.text,
                entrust_time=order.received,
                update_time=now,
            )
        )
