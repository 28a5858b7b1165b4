"""Instrument kinds and their trading rules (jqtrade.model.rules)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jqtrade.model.rules import (
    FACE_VALUE,
    REPO_TERMS,
    Board,
    board_of,
    buy_lot_ok,
    repo_term,
    rules_of,
    sell_lot_ok,
)


def old_board_of(code: str) -> Board:
    """The classification before convertible bonds and reverse repos were known."""
    digits, exchange = code.split(".")
    if exchange == "XSHG":
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


@given(st.integers(0, 999_999), st.sampled_from(["XSHG", "XSHE"]))
def test_stocks_and_funds_keep_their_board_and_rules(number, exchange):
    code = f"{number:06d}.{exchange}"
    old = old_board_of(code)
    if old is not Board.other:
        assert board_of(code) is old
        rules = rules_of(code)
        assert not rules.t_plus_0 and rules.unit == "股" and rules.face_value is None
        assert rules.tick == (Decimal("0.001") if old is Board.fund else Decimal("0.01"))
        assert (rules.min_buy, rules.buy_step) == ((200, 1) if old is Board.star else (100, 100))
    else:
        assert board_of(code) in (Board.other, Board.convertible, Board.repo)


@given(
    st.sampled_from(
        [
            ("110", "XSHG"),
            ("111", "XSHG"),
            ("113", "XSHG"),
            ("118", "XSHG"),
            ("123", "XSHE"),
            ("127", "XSHE"),
            ("128", "XSHE"),
        ]
    ),
    st.integers(0, 999),
)
def test_convertible_bond_ranges(prefix_exchange, rest):
    prefix, exchange = prefix_exchange
    code = f"{prefix}{rest:03d}.{exchange}"
    assert board_of(code) is Board.convertible
    rules = rules_of(code)
    assert (rules.min_buy, rules.buy_step, rules.round_lot) == (10, 10, 10)
    assert rules.tick == Decimal("0.001") and rules.t_plus_0 and rules.unit == "张"
    other = "XSHE" if exchange == "XSHG" else "XSHG"
    assert board_of(f"{prefix}{rest:03d}.{other}") is not Board.convertible


@pytest.mark.parametrize(("code", "term"), sorted(REPO_TERMS.items()))
def test_reverse_repos(code, term):
    assert board_of(code) is Board.repo
    assert repo_term(code) == term
    assert repo_term(code.replace("XSHG", "SH").replace("XSHE", "SZ")) == term
    rules = rules_of(code)
    assert rules.is_repo and rules.face_value == FACE_VALUE == 100
    assert (rules.min_buy, rules.buy_step) == (10, 10)
    assert rules.tick == (Decimal("0.005") if code.endswith("XSHG") else Decimal("0.001"))


def test_repo_names_follow_the_exchanges():
    assert repo_term("204001.XSHG") == ("GC001", 1)
    assert repo_term("131810.XSHE") == ("R-001", 1)
    assert repo_term("131801.XSHE") == ("R-007", 7)
    assert board_of("204001.XSHE") is Board.other and board_of("131810.XSHG") is Board.other


@given(
    st.integers(1, 5000),
    st.sampled_from(["600000.XSHG", "688001.XSHG", "113050.XSHG", "131810.XSHE"]),
)
def test_buy_lot_rule(amount, code):
    rules = rules_of(code)
    expected = {"600000.XSHG": amount % 100 == 0, "688001.XSHG": amount >= 200}.get(
        code, amount % 10 == 0
    )
    assert buy_lot_ok(rules, amount) is expected


@given(
    st.integers(0, 5000),
    st.integers(1, 5000),
    st.sampled_from(["600000.XSHG", "688001.XSHG", "123001.XSHE"]),
)
def test_sell_lot_rule(closeable, amount, code):
    rules = rules_of(code)
    if code == "688001.XSHG":
        expected = amount >= 200 or amount == closeable
    else:
        lot = 100 if code == "600000.XSHG" else 10
        expected = amount % lot in (0, closeable % lot)
    assert sell_lot_ok(rules, amount, closeable) is expected
