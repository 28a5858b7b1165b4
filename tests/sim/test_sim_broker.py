"""The broker core on its own, without files: typed commands in, typed reports out."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Optional

import pendulum
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from jqtrade.account.checks import check_order
from jqtrade.account.portfolio import Position
from jqtrade.clock import MARKET_TZ
from jqtrade.errors import OrderRejectedError
from jqtrade.model.orders import LimitOrderStyle, MarketOrderStyle, OrderAction, OrderStatus
from jqtrade.model.reports import BalanceReport, OrderReport, TradeReport
from jqtrade.model.rules import Board, board_of, price_limits, repo_fee, round_tick, tick_size
from jqtrade.sim import NewOrder, PriceFeed, Pricing, SimBroker
from jqtrade.sim.broker import SimPosition

T0 = pendulum.datetime(2024, 6, 3, 10, 0, tz=MARKET_TZ)
BUY, SELL = OrderAction.open, OrderAction.close


def make(**options: Any) -> SimBroker:
    prices = options.pop("prices", {"600000.XSHG": 10.0, "688001.XSHG": 50.0, "131810.XSHE": 2.0})
    broker = SimBroker(
        PriceFeed(0, prices, volatility=0.0), options.pop("cash", 100_000), **options
    )
    broker.open_day(T0.date())
    return broker


def order(
    order_id: str, code: str, action: OrderAction, amount: int, price: str = "0", **kw: Any
) -> NewOrder:
    return NewOrder(
        order_id=order_id, code=code, action=action, amount=amount, price=Decimal(price), **kw
    )


def statuses(updates: list[Any], order_id: str) -> list[OrderStatus]:
    return [u.status for u in updates if isinstance(u, OrderReport) and u.order_id == order_id]


def test_an_order_goes_new_open_filled_with_a_trade() -> None:
    broker = make()
    assert broker.submit(order("o1", "600000.XSHG", BUY, 300, "10.5"), T0) == ""
    broker.advance(T0.add(seconds=1))
    updates = broker.drain()
    assert statuses(updates, "o1") == [OrderStatus.new, OrderStatus.open, OrderStatus.filled]
    trades = [u for u in updates if isinstance(u, TradeReport)]
    assert [(t.order_id, t.amount, t.price, t.trade_id) for t in trades] == [
        ("o1", 300, Decimal("10.01"), "T00000001")
    ]
    assert updates.index(trades[0]) == len(updates) - 2  # the fill, then the order's new state
    final = updates[-1]
    assert isinstance(final, OrderReport)
    assert (final.filled_amount, final.deal_balance, final.broker_order_id) == (
        300,
        Decimal("3003.00"),
        "100001",
    )
    assert final.avg_price == Decimal("10.01") and final.update_time == T0.add(seconds=1)
    assert broker.drain() == []
    assert broker.cash == Decimal(100_000) - Decimal("3003.00") - 5


def test_cash_is_frozen_until_the_cancel_finishes_after_the_latency() -> None:
    broker = make(latency=2.0)
    broker.submit(order("o1", "600000.XSHG", BUY, 1000, "9.00"), T0)
    broker.advance(T0.add(seconds=2))
    assert broker.frozen_cash == Decimal("9005.00") and broker.available_cash == Decimal("90995.00")
    assert broker.cancel("o1", T0.add(seconds=3)) == ""
    assert broker.cancel("o1", T0.add(seconds=3)) == "撤单失败：该委托正在撤单"
    broker.advance(T0.add(seconds=4))
    assert broker.frozen_cash == Decimal("9005.00")
    broker.advance(T0.add(seconds=5))
    assert broker.frozen_cash == 0 and broker.cash == 100_000
    assert statuses(broker.drain(), "o1") == [
        OrderStatus.new,
        OrderStatus.open,
        OrderStatus.canceling,
        OrderStatus.canceled,
    ]
    assert broker.cancel("o1", T0.add(seconds=6)) == "撤单失败：委托已成交或已撤销"
    assert broker.cancel("nope", T0) == "撤单失败：未找到该委托"


def test_refused_instructions_make_no_order() -> None:
    broker = make()
    assert broker.submit(order("o1", "600000.XSHG", BUY, 100), T0) == ""
    assert "重复" in broker.submit(order("o1", "600000.XSHG", BUY, 100), T0)
    assert "不是模拟券商支持的品种" in broker.submit(order("b", "900901.XSHG", BUY, 100), T0)
    assert "委托数量" in broker.submit(order("big", "600000.XSHG", BUY, 10**9 + 1), T0)
    assert "委托价格" in broker.submit(order("nan", "600000.XSHG", BUY, 100, "NaN"), T0)
    assert set(broker.orders) == {"o1"}


def test_rejections_say_why() -> None:
    broker = make(positions={"600000.XSHG": 250})
    cases = {
        "lot": (order("lot", "600000.XSHG", BUY, 150, "10.5"), "100 股"),
        "star": (order("star", "688001.XSHG", BUY, 150, "50.5"), "至少 200 股"),
        "tick": (order("tick", "600000.XSHG", BUY, 100, "10.555"), "最小价格变动单位"),
        "limit": (order("limit", "600000.XSHG", BUY, 100, "11.5"), "涨跌停"),
        "odd": (order("odd", "600000.XSHG", SELL, 120, "9.5"), "零股"),
        "repo": (order("repo", "131810.XSHE", BUY, 10, "2.0"), "只能卖出"),
    }
    for command, _ in cases.values():
        broker.submit(command, T0)
    broker.advance(T0)
    finals = {
        u.order_id: u
        for u in broker.drain()
        if isinstance(u, OrderReport) and u.status is OrderStatus.rejected
    }
    for order_id, (_, words) in cases.items():
        assert words in finals[order_id].err_msg, (order_id, finals[order_id].err_msg)
        assert finals[order_id].canceled_amount == finals[order_id].amount
    assert broker.frozen_cash == 0


def test_limit_up_and_limit_down_pricing() -> None:
    broker = make()
    broker.submit(order("up", "600000.XSHG", BUY, 100, pricing=Pricing.limit_up), T0)
    broker.advance(T0)
    opened = [
        u for u in broker.drain() if isinstance(u, OrderReport) and u.status is OrderStatus.filled
    ]
    assert opened[0].price == Decimal("11.00")  # the order's price: the day's limit-up


def test_t_plus_one_and_the_balance_report() -> None:
    broker = make(positions={"600000.XSHG": 1000})
    broker.submit(order("buy", "600000.XSHG", BUY, 500, "10.5"), T0)
    broker.advance(T0)
    assert (broker.positions["600000.XSHG"].total, broker.positions["600000.XSHG"].sellable) == (
        1500,
        1000,
    )
    balance = broker.balance(T0)
    assert isinstance(balance, BalanceReport) and balance.as_of == T0
    (position,) = balance.positions
    assert (position.code, position.total_amount, position.closeable_amount) == (
        "600000.XSHG",
        1500,
        1000,
    )
    assert position.position_value == Decimal("15000.0")
    assert balance.total_value == broker.cash + Decimal("15000.0")
    assert balance.available_cash + balance.locked_cash == broker.cash
    broker.close_day(T0.add(days=1))
    broker.open_day(T0.add(days=1).date())
    assert broker.positions["600000.XSHG"].sellable == 1500


def test_close_day_expires_working_orders() -> None:
    broker = make()
    broker.submit(order("rest", "600000.XSHG", BUY, 100, "9.00"), T0)
    broker.advance(T0)
    broker.drain()
    broker.close_day(T0.add(days=1))
    (expired,) = broker.drain()
    assert (
        isinstance(expired, OrderReport)
        and expired.status is OrderStatus.canceled
        and "过期" in expired.err_msg
    )
    assert broker.orders == {} and broker.frozen_cash == 0


def test_reverse_repo_lends_and_pays_back_with_interest() -> None:
    broker = make()
    broker.submit(order("repo", "131810.XSHE", SELL, 500, "1.9"), T0)
    broker.advance(T0)
    trades = [u for u in broker.drain() if isinstance(u, TradeReport)]
    assert [(t.amount, t.price, t.commission) for t in trades] == [
        (500, Decimal("1.999"), Decimal("0.50"))
    ]
    assert broker.lent_cash == 50_000 and broker.balance(T0).total_value == Decimal("99999.50")
    broker.close_day(T0.add(days=1))
    broker.open_day(T0.add(days=1).date())
    interest = (Decimal(50_000) * Decimal("1.999") / 100 / 365).quantize(Decimal("0.01"))
    assert broker.cash == Decimal("99999.50") + interest and broker.repo_loans == []


def test_it_never_reads_the_clock() -> None:
    """Times in the reports are the ``now`` passed in, even far in the past."""
    broker = make()
    then = pendulum.datetime(2001, 2, 5, 10, 0, tz=MARKET_TZ)
    broker.open_day(then.date())
    broker.submit(order("old", "600000.XSHG", BUY, 100, "10.5"), then)
    broker.advance(then.add(minutes=1))
    assert {u.update_time for u in broker.drain() if isinstance(u, OrderReport)} == {
        then,
        then.add(minutes=1),
    }


# --- the broker and check_order accept the same orders ------------------------------------------

AGREE_PRICES = {
    "600000.XSHG": 60.0,
    "000001.XSHE": 11.2,
    "300750.XSHE": 180.5,
    "688001.XSHG": 50.0,
    "510300.XSHG": 3.5,
    "159915.XSHE": 2.1,
    "113050.XSHG": 115.5,
    "123001.XSHE": 108.2,
    "204001.XSHG": 2.0,
    "204007.XSHG": 1.8,
    "131810.XSHE": 1.985,
    "900901.XSHG": 0.5,  # a B share: rules unknown to both
    "200002.XSHE": 5.0,  # a B share on SZSE
}
AGREE_CASH = 1_000_000


def _broker_accepts(broker: SimBroker, command: NewOrder) -> bool:
    if broker.submit(command, T0):
        return False
    broker.advance(T0)
    return OrderStatus.rejected not in statuses(broker.drain(), command.order_id)


def _check_accepts(
    code: str,
    signed: int,
    style: Any,
    held: int,
    closeable: int,
    cash: Decimal,
    reference: Optional[float],
) -> bool:
    try:
        check_order(
            code,
            signed,
            style,
            position=Position(code=code, total_amount=held, closeable_amount=closeable),
            available_cash=float(cash),
            reference_price=reference,
        )
    except OrderRejectedError:
        return False
    return True


@st.composite
def holdings(draw: st.DrawFn) -> tuple[int, int]:
    """(total, closeable): odd and round holdings, some bought today (not closeable yet)."""
    total = draw(
        st.one_of(st.integers(0, 3000), st.sampled_from([0, 50, 150, 199, 200, 250, 1000, 1050]))
    )
    closeable = draw(
        st.one_of(
            st.just(total),
            st.integers(0, total),
            st.sampled_from([t for t in (50, 150, 250) if t <= total] or [0]),
        )
    )
    return total, closeable


@settings(max_examples=600, deadline=None)
@given(
    code=st.sampled_from(sorted(AGREE_PRICES)),
    amount=st.one_of(
        st.integers(1, 20_000),
        st.integers(1, 1100),
        st.integers(1, 2000).map(lambda n: 10 * n),
        st.integers(1, 200).map(lambda n: 100 * n),
        st.sampled_from([5, 15, 35, 50, 100, 150, 199, 200, 201, 250, 1050]),
    ),
    sell=st.booleans(),
    holding=holdings(),
    part=st.sampled_from(["given", "given", "all", "odd", "lots", "lots+odd", "lots+odd+1"]),
    move=st.integers(-50, 50),
    grid=st.sampled_from(["market", "tick", "tick", "tick", "0.01", "0.005", "0.001", "0.0005"]),
)
def test_check_order_and_the_broker_accept_the_same_orders(
    code: str, amount: int, sell: bool, holding: tuple[int, int], part: str, move: int, grid: str
) -> None:
    """Codes across boards, amounts, prices and closeable quantities (odd lots included):
    refused by check_order exactly when the broker core refuses them (cash without fees,
    prices inside the day's limits)."""
    broker = make(
        prices=AGREE_PRICES, cash=AGREE_CASH, commission_rate=0, min_commission=0, stamp_tax_rate=0
    )
    board = board_of(code)
    held, closeable = holding if board is not Board.repo else (0, 0)  # lent cash is no holding
    if held:
        broker.positions[code] = SimPosition(total=held, sellable=closeable, cost=Decimal(held))
    if sell and closeable and part != "given":  # a sell sized from the closeable amount
        lot = 10 if board is Board.convertible else 100
        odd, lots = closeable % lot, closeable // lot * lot
        amount = {
            "all": closeable,
            "odd": odd,
            "lots": lots,
            "lots+odd": lots // 2 // lot * lot + odd,
            "lots+odd+1": lots // 2 // lot * lot + odd + 1,
        }[part] or amount
    base = Decimal(str(AGREE_PRICES[code]))
    known = board is not Board.other
    reference = None
    if grid == "market":
        price, style = Decimal(0), MarketOrderStyle()
        if known:
            high = price_limits(code, broker.feed.prev_close(code, T0.date()))[1]
            reference = float(min(base + tick_size(code), high))
    else:
        step = tick_size(code) if grid == "tick" else Decimal(grid)
        price = round_tick(base * (1 + Decimal(move) / 1000), step).normalize()
        style = LimitOrderStyle(float(price))
    cash = Decimal(AGREE_CASH)
    if board is Board.repo:
        cash -= repo_fee(code, Decimal(100) * amount)  # check_order leaves fees to the broker
    accepted = _check_accepts(
        code, -amount if sell else amount, style, held, closeable, cash, reference
    )
    command = order("o", code, SELL if sell else BUY, amount, f"{price:f}")
    event(f"{board.value} {'sell' if sell else 'buy'} accepted={accepted}")
    assert _broker_accepts(broker, command) is accepted


@pytest.mark.parametrize(
    ("code", "held", "closeable", "amount", "accepted"),
    [
        ("600000.XSHG", 250, 250, 150, True),  # one lot + the whole odd 50: the example
        ("600000.XSHG", 250, 250, 50, True),
        ("600000.XSHG", 250, 250, 100, True),
        ("600000.XSHG", 250, 250, 120, False),
        ("600000.XSHG", 1000, 1000, 150, False),  # would make an odd part that was not there
        ("600000.XSHG", 350, 250, 150, True),  # 100 bought today: the odd part is of the closeable
        ("600000.XSHG", 350, 250, 250, True),
        ("688001.XSHG", 250, 250, 100, False),  # STAR: at least 200 ...
        ("688001.XSHG", 250, 250, 201, True),
        ("688001.XSHG", 150, 150, 150, True),  # ... or all of fewer than 200
        ("113050.XSHG", 35, 35, 15, True),  # bonds: lots of 10 张
        ("113050.XSHG", 35, 35, 12, False),
    ],
)
def test_odd_lot_sells(code: str, held: int, closeable: int, amount: int, accepted: bool) -> None:
    broker = make(prices=AGREE_PRICES, cash=AGREE_CASH)
    broker.positions[code] = SimPosition(total=held, sellable=closeable, cost=Decimal(held))
    style = LimitOrderStyle(AGREE_PRICES[code])
    assert (
        _check_accepts(code, -amount, style, held, closeable, Decimal(AGREE_CASH), None) is accepted
    )
    assert (
        _broker_accepts(broker, order("s", code, SELL, amount, str(AGREE_PRICES[code]))) is accepted
    )
