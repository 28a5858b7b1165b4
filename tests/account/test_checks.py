from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jqtrade.account.checks import (
    DISABLEABLE_CHECKS,
    REASONS,
    CheckedOrder,
    check_order,
)
from jqtrade.account.portfolio import Position
from jqtrade.errors import JqTradeError, OrderRejectedError
from jqtrade.model.orders import LimitOrderStyle, MarketOrderStyle, OrderAction, OrderSide
from jqtrade.model.rules import (
    Board,
    board_of,
    normalize_code,
    tick_size,
)


def rejected(reason: str, *args, **kwargs) -> OrderRejectedError:
    with pytest.raises(OrderRejectedError) as info:
        check_order(*args, **kwargs)
    assert info.value.reason == reason, str(info.value)
    assert isinstance(info.value, JqTradeError) and isinstance(info.value, ValueError)
    assert reason in REASONS
    return info.value


def pos(code: str, total: int, closeable: int | None = None) -> Position:
    return Position(
        code=code, total_amount=total, closeable_amount=total if closeable is None else closeable
    )


# --- codes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "given_code, expected",
    [
        ("600000.XSHG", "600000.XSHG"),
        ("000001.XSHE", "000001.XSHE"),
        ("600000.SH", "600000.XSHG"),
        ("000001.sz", "000001.XSHE"),
        (" 300750.xshe ", "300750.XSHE"),
    ],
)
def test_normalize_code_accepts_both_spellings(given_code, expected):
    assert normalize_code(given_code) == expected


@pytest.mark.parametrize(
    "bad, words",
    [
        ("600000", "缺少交易所后缀"),
        ("60000.XSHG", "6 位"),
        ("6000001.XSHG", "6 位"),
        ("600000.XSHX", "未知的交易所后缀"),
        ("430047.BJ", "北京证券交易所"),
        ("920001.BJ", "北京证券交易所"),
        ("平安银行", "格式"),
        ("", "格式"),
        (600000, "字符串"),
        (None, "字符串"),
    ],
)
def test_normalize_code_refuses_with_reason_and_value(bad, words):
    with pytest.raises(OrderRejectedError) as info:
        normalize_code(bad)
    assert info.value.reason == "bad_code"
    assert words in str(info.value) and repr(bad) in str(info.value)


@pytest.mark.parametrize(
    "code, board, tick",
    [
        ("600000.XSHG", Board.main, "0.01"),
        ("605599.XSHG", Board.main, "0.01"),
        ("688981.XSHG", Board.star, "0.01"),
        ("689009.XSHG", Board.star, "0.01"),
        ("510300.XSHG", Board.fund, "0.001"),
        ("501018.XSHG", Board.fund, "0.001"),
        ("000001.XSHE", Board.main, "0.01"),
        ("002594.XSHE", Board.main, "0.01"),
        ("300750.XSHE", Board.chinext, "0.01"),
        ("159915.XSHE", Board.fund, "0.001"),
        ("161725.XSHE", Board.fund, "0.001"),
        ("184801.XSHE", Board.fund, "0.001"),
        ("000001.XSHG", Board.other, "0.01"),
        ("113050.XSHG", Board.convertible, "0.001"),
        ("110059.XSHG", Board.convertible, "0.001"),
        ("111001.XSHG", Board.convertible, "0.001"),
        ("118000.XSHG", Board.convertible, "0.001"),
        ("123001.XSHE", Board.convertible, "0.001"),
        ("127045.XSHE", Board.convertible, "0.001"),
        ("128136.XSHE", Board.convertible, "0.001"),
        ("204001.XSHG", Board.repo, "0.005"),
        ("204182.XSHG", Board.repo, "0.005"),
        ("131810.XSHE", Board.repo, "0.001"),
        ("131806.XSHE", Board.repo, "0.001"),
        ("204005.XSHG", Board.other, "0.01"),  # no such repo
        ("113050.XSHE", Board.other, "0.01"),  # a bond code on the other exchange
        ("019547.XSHG", Board.other, "0.01"),  # a treasury bond: rules not modelled
        ("399001.XSHE", Board.other, "0.01"),
    ],
)
def test_boards_and_ticks(code, board, tick):
    assert board_of(code) is board
    assert tick_size(code) == Decimal(tick)


# --- structural checks ---------------------------------------------------------------------


def test_good_order_is_normalised():
    checked = check_order(
        "600000.SH", -200, LimitOrderStyle(10.5), position=pos("600000.XSHG", 300)
    )
    assert checked == CheckedOrder(
        code="600000.XSHG",
        action=OrderAction.close,
        amount=200,
        style=LimitOrderStyle(10.5),
        side=OrderSide.long,
    )
    assert check_order("000001.XSHE", 100).style == MarketOrderStyle()


def test_bad_code_goes_through_check_order():
    err = rejected("bad_code", "600000", 100)
    assert "'600000'" in str(err)


def test_short_side_refused_clearly():
    err = rejected("short_not_supported", "600000.XSHG", 100, side="short")
    assert "'short'" in str(err) and "long" in str(err)


@pytest.mark.parametrize("side", ["buy", "", None, 1])
def test_other_sides_refused(side):
    err = rejected("bad_side", "600000.XSHG", 100, side=side)
    assert repr(side) in str(err)


@pytest.mark.parametrize(
    "amount", [0, True, False, 100.5, "100", None, float("nan"), float("inf"), Decimal("100")]
)
def test_bad_amounts(amount):
    err = rejected("bad_amount", "600000.XSHG", amount)
    assert repr(amount) in str(err) or str(amount) in str(err)


def test_integral_floats_and_index_types_are_accepted():
    class NumpyLikeInt:
        def __index__(self) -> int:
            return 300

    assert check_order("600000.XSHG", 200.0).amount == 200
    assert check_order("600000.XSHG", NumpyLikeInt()).amount == 300
    assert check_order("600000.XSHG", Fraction(400, 1)).amount == 400


@pytest.mark.parametrize("style", [10.5, "limit", LimitOrderStyle])
def test_bad_style(style):
    err = rejected("bad_style", "600000.XSHG", 100, style)
    assert repr(style) in str(err)
    if isinstance(style, float):
        assert "LimitOrderStyle(10.5)" in str(err)


@pytest.mark.parametrize("price", [-1.0, float("nan"), float("inf")])
def test_bad_price(price):
    err = rejected("bad_price", "600000.XSHG", 100, LimitOrderStyle(price))
    assert repr(price) in str(err)


def test_price_zero_means_best_counterparty_and_is_accepted():
    assert check_order("600000.XSHG", 100, LimitOrderStyle(0)).style.price == 0


# --- market rules --------------------------------------------------------------------------


@given(
    st.integers(1, 100_000),
    st.sampled_from(["600000.XSHG", "000001.XSHE", "300750.XSHE", "510300.XSHG"]),
)
def test_buy_lots_on_main_chinext_funds(amount, code):
    if amount % 100 == 0:
        assert check_order(code, amount).amount == amount
    else:
        err = rejected("bad_lot", code, amount)
        assert str(amount) in str(err) and "100 股的整数倍" in str(err)


@given(st.integers(1, 100_000))
def test_buy_lots_on_star(amount):
    if amount >= 200:
        assert check_order("688981.XSHG", amount).amount == amount
    else:
        err = rejected("bad_lot", "688981.XSHG", amount)
        assert str(amount) in str(err) and "200" in str(err)


@given(st.integers(1, 99_999).map(lambda cents: cents / 100), st.integers(0, 9))
def test_stock_tick(price, extra_mill):
    style = LimitOrderStyle(round(price + extra_mill / 1000, 3))
    if extra_mill == 0:
        check_order("600000.XSHG", 100, style)
    else:
        err = rejected("bad_tick", "600000.XSHG", 100, style)
        assert "0.01" in str(err) and str(Decimal(repr(style.price))) in str(err)


@given(st.integers(1, 99_999).map(lambda mills: mills / 1000), st.integers(0, 9))
def test_fund_tick(price, extra):
    style = LimitOrderStyle(round(price + extra / 10_000, 4))
    if extra == 0:
        check_order("159915.XSHE", 100, style)
    else:
        err = rejected("bad_tick", "159915.XSHE", 100, style)
        assert "0.001" in str(err)


def test_unknown_security_refused_unless_disabled():
    err = rejected("unsupported_security", "000001.XSHG", 100)
    assert "000001.XSHE" in str(err)  # hints at Ping An Bank
    checked = check_order(
        "019547.XSHG", 10, LimitOrderStyle(100.123), disabled=frozenset({"unsupported_security"})
    )
    assert checked.amount == 10  # lot and tick rules unknown: left to the broker


def test_sell_more_than_closeable_refused_t_plus_1():
    err = rejected(
        "not_enough_closeable", "600000.XSHG", -500, position=pos("600000.XSHG", 500, 300)
    )
    assert "500" in str(err) and "300" in str(err)
    err = rejected(
        "not_enough_closeable", "600000.XSHG", -100, position=Position.empty("600000.XSHG")
    )
    assert "0" in str(err)


def test_sell_without_known_position_is_left_to_broker():
    assert check_order("600000.XSHG", -150).amount == 150


@given(st.integers(0, 2000), st.integers(1, 2000))
def test_odd_lot_sell_rule(closeable, amount):
    position = pos("600000.XSHG", closeable)
    ok = amount <= closeable and (amount % 100 == 0 or amount % 100 == closeable % 100)
    if ok:
        assert check_order("600000.XSHG", -amount, position=position).amount == amount
    else:
        with pytest.raises(OrderRejectedError) as info:
            check_order("600000.XSHG", -amount, position=position)
        assert info.value.reason in ("not_enough_closeable", "odd_lot_sell")
        assert str(amount) in str(info.value)


def test_odd_lot_examples():
    p = pos("600000.XSHG", 350)
    assert check_order("600000.XSHG", -350, position=p).amount == 350
    assert check_order("600000.XSHG", -50, position=p).amount == 50
    assert check_order("600000.XSHG", -250, position=p).amount == 250
    assert check_order("600000.XSHG", -100, position=p).amount == 100
    err = rejected("odd_lot_sell", "600000.XSHG", -120, position=p)
    assert "120" in str(err) and "50" in str(err)


def test_star_sell_rule():
    p = pos("688981.XSHG", 250)
    assert check_order("688981.XSHG", -201, position=p).amount == 201
    err = rejected("odd_lot_sell", "688981.XSHG", -150, position=p)
    assert "150" in str(err) and "250" in str(err)
    assert check_order("688981.XSHG", -150, position=pos("688981.XSHG", 150)).amount == 150


def test_cash_check_with_limit_price():
    assert (
        check_order("600000.XSHG", 1000, LimitOrderStyle(10), available_cash=10_000).amount == 1000
    )
    err = rejected(
        "not_enough_cash", "600000.XSHG", 1000, LimitOrderStyle(10.01), available_cash=10_000
    )
    assert "10,010.00" in str(err) and "10,000.00" in str(err)


def test_cash_check_for_market_orders_needs_reference_price():
    assert check_order("600000.XSHG", 1000, MarketOrderStyle(), available_cash=1.0).amount == 1000
    assert check_order("600000.XSHG", 1000, LimitOrderStyle(0), available_cash=1.0).amount == 1000
    rejected(
        "not_enough_cash",
        "600000.XSHG",
        1000,
        MarketOrderStyle(),
        available_cash=1.0,
        reference_price=10.0,
    )


def test_disabled_checks_are_skipped():
    everything = frozenset(DISABLEABLE_CHECKS)
    checked = check_order(
        "600000.XSHG", 150, LimitOrderStyle(10.001), available_cash=0.0, disabled=everything
    )
    assert checked.amount == 150
    checked = check_order("600000.XSHG", -120, position=pos("600000.XSHG", 50), disabled=everything)
    assert checked.amount == 120
    rejected("bad_amount", "600000.XSHG", 0, disabled=everything)  # structural: always on


# --- convertible bonds (可转债) ----------------------------------------------------------------

BONDS = [
    "113050.XSHG",
    "110059.XSHG",
    "111001.XSHG",
    "118000.XSHG",
    "123001.XSHE",
    "127045.XSHE",
    "128136.XSHE",
]


@given(st.integers(1, 100_000), st.sampled_from(BONDS))
def test_convertible_buys_come_in_lots_of_10(amount, code):
    if amount % 10 == 0:
        assert check_order(code, amount, LimitOrderStyle(115.5)).amount == amount
    else:
        err = rejected("bad_lot", code, amount, LimitOrderStyle(115.5))
        assert str(amount) in str(err) and "10 张" in str(err)


@given(st.integers(90_000, 200_000).map(lambda mills: mills / 1000), st.integers(0, 9))
def test_convertible_tick_is_a_tenth_of_a_fen(price, extra):
    style = LimitOrderStyle(round(price + extra / 10_000, 4))
    if extra == 0:
        assert check_order("123001.XSHE", 10, style).style == style
    else:
        err = rejected("bad_tick", "123001.XSHE", 10, style)
        assert "可转债" in str(err) and "0.001" in str(err)


@given(st.integers(0, 500), st.integers(1, 500))
def test_convertible_odd_lot_sell_rule(closeable, amount):
    position = pos("113050.XSHG", closeable)
    ok = amount <= closeable and amount % 10 in (0, closeable % 10)
    if ok:
        assert check_order("113050.XSHG", -amount, position=position).amount == amount
    else:
        with pytest.raises(OrderRejectedError) as info:
            check_order("113050.XSHG", -amount, position=position)
        assert info.value.reason in ("not_enough_closeable", "odd_lot_sell")
        assert str(amount) in str(info.value)


def test_convertible_sell_messages_speak_of_zhang_and_t_plus_0():
    err = rejected("odd_lot_sell", "113050.XSHG", -12, position=pos("113050.XSHG", 35))
    assert "5 张" in str(err)
    err = rejected("not_enough_closeable", "113050.XSHG", -40, position=pos("113050.XSHG", 35))
    assert "当日买入当日可卖" in str(err) and "35" in str(err)


def test_convertible_cash_check_uses_the_price_per_zhang():
    assert (
        check_order("113050.XSHG", 100, LimitOrderStyle(115.0), available_cash=11_500).amount == 100
    )
    err = rejected(
        "not_enough_cash", "113050.XSHG", 100, LimitOrderStyle(115.001), available_cash=11_500
    )
    assert "100 张" in str(err)


# --- reverse repos (国债逆回购) ----------------------------------------------------------------

REPOS = ["204001.XSHG", "204007.XSHG", "204182.XSHG", "131810.XSHE", "131801.XSHE", "131806.XSHE"]


@given(st.integers(1, 100_000), st.sampled_from(REPOS))
def test_repo_lends_with_a_sell_in_steps_of_10_zhang(amount, code):
    if amount % 10 == 0:
        checked = check_order(code, -amount, LimitOrderStyle(2.0), position=Position.empty(code))
        assert checked.action is OrderAction.close and checked.amount == amount  # tradeSide 2
    else:
        err = rejected("bad_lot", code, -amount, LimitOrderStyle(2.0))
        assert str(amount) in str(err) and "1,000 元" in str(err)


@given(st.integers(1, 100_000), st.sampled_from(REPOS))
def test_repo_buy_is_borrowing_and_refused(amount, code):
    err = rejected("unsupported_security", code, amount, LimitOrderStyle(2.0))
    assert "只能卖出" in str(err) and "负数" in str(err)
    # a qualified investor may leave 正回购 to the broker
    lots = 10 * amount  # the lot rule still applies
    assert check_order(code, lots, disabled=frozenset({"unsupported_security"})).amount == lots


@given(st.integers(100, 10_000), st.integers(0, 4))
def test_repo_rate_ticks(rate_mills, extra):
    rate = rate_mills / 1000 + extra / 10_000  # a rate in % with up to four decimals
    style = LimitOrderStyle(round(rate, 4))
    sh_ok = extra == 0 and rate_mills % 5 == 0
    if sh_ok:
        check_order("204001.XSHG", -10, style)
    else:
        err = rejected("bad_tick", "204001.XSHG", -10, style)
        assert "0.005" in str(err) and "年化利率" in str(err)
    if extra == 0:
        check_order("131810.XSHE", -10, style)
    else:
        assert "0.001" in str(rejected("bad_tick", "131810.XSHE", -10, style))


@pytest.mark.parametrize("style", [LimitOrderStyle(2.5), LimitOrderStyle(0), MarketOrderStyle()])
def test_repo_cash_check_is_amount_times_100_yuan(style):
    assert check_order("131810.XSHE", -100, style, available_cash=10_000).amount == 100
    err = rejected("not_enough_cash", "131810.XSHE", -100, style, available_cash=9_999.99)
    assert "10,000.00" in str(err) and "借出" in str(err)


def test_repo_needs_nothing_closeable_and_skips_the_odd_lot_rule():
    held_nothing = Position.empty("204001.XSHG")
    assert (
        check_order("204001.XSHG", -1000, LimitOrderStyle(1.8), position=held_nothing).amount
        == 1000
    )


def test_absurd_repo_loan_is_refused_even_with_the_cash_check_off():
    err = rejected(
        "bad_amount",
        "204001.XSHG",
        -10_000_000,
        LimitOrderStyle(2.0),
        available_cash=100.0,
        disabled=frozenset(DISABLEABLE_CHECKS),
    )
    assert "1000 倍" in str(err)
