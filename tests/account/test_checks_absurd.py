"""check_order refuses absurd input before the gate, whatever checks the user turned off."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jqtrade.account.checks import (
    DISABLEABLE_CHECKS,
    MAX_LIMIT_PRICE,
    MAX_ORDER_AMOUNT,
    MAX_ORDER_VALUE,
    REASONS,
    check_order,
)
from jqtrade.account.portfolio import Position
from jqtrade.errors import OrderRejectedError
from jqtrade.model.orders import LimitOrderStyle, MarketOrderStyle

EVERYTHING = frozenset(DISABLEABLE_CHECKS)


def rejected(reason: str, *args, **kwargs) -> str:
    with pytest.raises(OrderRejectedError) as info:
        check_order(*args, **kwargs)
    assert info.value.reason == reason, str(info.value)
    assert reason in REASONS
    return str(info.value)


def test_limits_are_the_documented_ones() -> None:
    assert (MAX_ORDER_AMOUNT, MAX_LIMIT_PRICE, MAX_ORDER_VALUE) == (10**9, 10**6, 10**13)


@pytest.mark.parametrize("amount", [10**9 + 100, -(10**9 + 1), 10**30, -(10**40), 1e30, -1e20])
def test_amount_beyond_any_account_is_refused_even_with_all_checks_off(amount) -> None:
    message = rejected(
        "bad_amount", "600000.XSHG", amount, LimitOrderStyle(10), disabled=EVERYTHING
    )
    assert "1,000,000,000" in message  # the limit
    assert f"{abs(int(amount)):,}" in message  # the value


def test_amount_at_the_limit_passes() -> None:
    assert check_order("600000.XSHG", 10**9, LimitOrderStyle(1)).amount == 10**9
    assert check_order("600000.XSHG", -(10**9), LimitOrderStyle(1)).amount == 10**9


@pytest.mark.parametrize("price", [1_000_000.01, 1e30, 1e300])
def test_absurd_limit_price_is_refused(price: float) -> None:
    message = rejected("bad_price", "600000.XSHG", 100, LimitOrderStyle(price), disabled=EVERYTHING)
    assert "1,000,000" in message and repr(price) in message


@pytest.mark.parametrize("price", [float("nan"), float("inf"), float("-inf"), -0.01])
def test_non_finite_or_negative_limit_price_keeps_bad_price(price: float) -> None:
    rejected("bad_price", "600000.XSHG", 100, LimitOrderStyle(price), disabled=EVERYTHING)


def test_price_at_the_limit_passes() -> None:
    assert check_order("600000.XSHG", 100, LimitOrderStyle(1_000_000)).amount == 100


@pytest.mark.parametrize("amount", [10**8, -(10**8)])
def test_order_value_beyond_any_account_is_refused_both_ways(amount: int) -> None:
    # 10**8 shares x 200,000 yuan = 2 x 10**13 yuan; no cash or position is known
    message = rejected(
        "bad_amount", "600000.XSHG", amount, LimitOrderStyle(200_000), disabled=EVERYTHING
    )
    assert "20,000,000,000,000.00" in message and "10,000,000,000,000" in message


def test_order_value_uses_the_reference_price_of_a_priced_at_best_order() -> None:
    for style in (MarketOrderStyle(), LimitOrderStyle(0)):
        rejected(
            "bad_amount",
            "600000.XSHG",
            10**8,
            style,
            reference_price=200_000.0,
            disabled=EVERYTHING,
        )
        assert (
            check_order("600000.XSHG", 10**8, style, disabled=EVERYTHING).amount == 10**8
        )  # unknown


def test_buy_far_beyond_the_cash_is_refused_even_with_the_cash_check_off() -> None:
    kwargs = {"available_cash": 10_000.0, "disabled": frozenset({"not_enough_cash"})}
    message = rejected("bad_amount", "600000.XSHG", 1_000_000, LimitOrderStyle(100), **kwargs)
    assert "100,000,000.00" in message and "10,000.00" in message and "1000" in message
    rejected(
        "bad_amount", "600000.XSHG", 1_000_000, MarketOrderStyle(), reference_price=100.0, **kwargs
    )
    # the same order with the cash check on also says bad_amount: the absurd check runs first
    rejected("bad_amount", "600000.XSHG", 1_000_000, LimitOrderStyle(100), available_cash=10_000.0)


def test_buy_beyond_the_cash_but_plausible_is_left_to_the_cash_check() -> None:
    off = frozenset({"not_enough_cash"})
    # 5,000 x cash but only 5,000,000 yuan: stale cash after a sale can explain it
    assert check_order(
        "600000.XSHG", 50_000, LimitOrderStyle(100), available_cash=1_000.0, disabled=off
    ).amount
    rejected("not_enough_cash", "600000.XSHG", 50_000, LimitOrderStyle(100), available_cash=1_000.0)
    # sells are not measured against the cash
    held = Position(code="600000.XSHG", total_amount=1_000_000, closeable_amount=1_000_000)
    assert check_order(
        "600000.XSHG", -1_000_000, LimitOrderStyle(100), position=held, available_cash=1.0
    ).amount


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_cash_or_reference_price_counts_as_unknown(bad: float) -> None:
    assert check_order(
        "600000.XSHG", 100, MarketOrderStyle(), available_cash=1e6, reference_price=bad
    ).amount
    assert check_order("600000.XSHG", 100, LimitOrderStyle(10), available_cash=bad).amount
    assert check_order(
        "600000.XSHG", 100, MarketOrderStyle(), available_cash=bad, reference_price=10.0
    ).amount


reals = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**40), 10**40),
    st.sampled_from([0.0, 0.01, 10.0, 1e6, 1e13]),
)


@given(
    amount=st.one_of(
        st.integers(-(10**40), 10**40), st.floats(allow_nan=True, allow_infinity=True)
    ),
    style=st.one_of(st.none(), st.builds(MarketOrderStyle), st.builds(LimitOrderStyle, reals)),
    cash=st.one_of(st.none(), reals),
    reference=st.one_of(st.none(), reals),
    disabled=st.sampled_from([frozenset(), EVERYTHING]),
)
def test_any_input_is_accepted_within_limits_or_refused_with_a_reason(
    amount, style, cash, reference, disabled
) -> None:
    try:
        checked = check_order(
            "600000.XSHG",
            amount,
            style,
            available_cash=cash,
            reference_price=reference,
            disabled=disabled,
        )
    except OrderRejectedError as exc:
        assert exc.reason in REASONS
        return
    assert 0 < checked.amount <= MAX_ORDER_AMOUNT
    if isinstance(checked.style, LimitOrderStyle):
        price = checked.style.price
        assert math.isfinite(price) and 0 <= price <= MAX_LIMIT_PRICE
        assert Decimal(repr(price)) * checked.amount <= MAX_ORDER_VALUE
