from __future__ import annotations

from decimal import Decimal

import attrs
import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from jqtrade.account.portfolio import NOT_SYNCED_REASON, Portfolio, Position, Positions
from jqtrade.errors import GateError, OrderRejectedError
from jqtrade.model.reports import BalanceReport, PositionReport, balance_report_from_mapping

T = pendulum.datetime(2025, 3, 3, 9, 31, tz="Asia/Shanghai")

BALANCE_ROWS = {
    "cash": {"total_value": 120_000.0, "available_cash": 90_000.0, "locked_cash": 10_000.0},
    "positions": [
        {
            "code": "000001.XSHE",
            "total_amount": 1000,
            "closeable_amount": 600,
            "avg_cost": 9.5,
            "last_price": 10.0,
            "position_value": 10_000.0,
        },
        {
            "code": "600000.SH",
            "total_amount": 1000,
            "closeable_amount": 1000,
            "avg_cost": 7.0,
            "last_price": 8.0,
            "position_value": 8000.0,
        },
    ],
}
BALANCE = balance_report_from_mapping(BALANCE_ROWS)
CASH = {
    "total_value": Decimal(120_000),
    "available_cash": Decimal(90_000),
    "locked_cash": Decimal(10_000),
}


def position(code: str, total, closeable=None, **money) -> PositionReport:
    values = {key: Decimal(str(value)) for key, value in money.items()}
    return PositionReport(
        code=code,
        total_amount=total,
        closeable_amount=total if closeable is None else closeable,
        **values,
    )


def test_from_balance_builds_snapshot_with_aliases():
    p = Portfolio.from_balance(BALANCE, T)
    assert p.total_value == p.total_assert == 120_000.0
    assert p.available_cash == 90_000.0 and p.locked_cash == 10_000.0
    assert p.positions is p.long_positions
    assert len(p.short_positions) == 0
    assert p.last_sync_time == T and not p.is_stale and p.stale_reason is None
    assert p.positions_value == 18_000.0
    pos = p.long_positions["000001.XSHE"]
    assert pos.security == pos.code == "000001.XSHE"
    assert pos.total_amount == 1000
    assert pos.closeable_amount == pos.available_amount == 600
    assert pos.avg_cost == pos.acc_avg_cost == 9.5
    assert pos.last_price == pos.price == 10.0
    assert pos.position_value == pos.value == 10_000.0
    assert pos.side == "long" and pos.locked_amount == 400


def test_positions_lookup_of_not_held_code_is_empty_not_keyerror():
    positions = Portfolio.from_balance(BALANCE, T).long_positions
    empty = positions["000002.XSHE"]
    assert empty == Position.empty("000002.XSHE")
    assert empty.total_amount == 0 and empty.available_amount == 0 and empty.value == 0
    assert "000002.XSHE" not in positions
    assert list(positions) == ["000001.XSHE", "600000.XSHG"]
    assert positions.get("000002.XSHE") is None
    assert len(positions) == 2


def test_positions_accept_broker_spelling():
    positions = Portfolio.from_balance(BALANCE, T).long_positions
    assert "000001.SZ" in positions and "600000.XSHG" in positions and "600000.sh" in positions
    assert positions["600000.SH"].total_amount == 1000
    assert positions.get("000001.SZ").closeable_amount == 600
    assert "garbage" not in positions
    with pytest.raises(OrderRejectedError):
        positions["garbage"]


def test_positions_are_read_only():
    positions = Positions([Position(code="000001.XSHE", total_amount=100, closeable_amount=100)])
    with pytest.raises(TypeError):
        positions["000001.XSHE"] = Position.empty("000001.XSHE")  # type: ignore[index]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        positions["000001.XSHE"].total_amount = 5  # type: ignore[misc]


def test_bad_position_reports_are_skipped_and_logged(caplog):
    balance = BalanceReport(
        **CASH,
        positions=(
            position("bad", 100),
            position("000001.XSHE", "x"),  # a careless gate: not an int
            position("000002.XSHE", 100, 200),
            position("000003.XSHE", -1, 0),
            "not a report",  # type: ignore[arg-type]
            position("000006.XSHE", 100, avg_cost="NaN"),
            position("000004.XSHE", 0, 0),
            position("000005.XSHE", 300, 300, avg_cost=5, last_price=6),
        ),
    )
    with caplog.at_level("WARNING", logger="jqtrade.account"):
        p = Portfolio.from_balance(balance, T)
    assert list(p.long_positions) == ["000005.XSHE"]
    assert p.long_positions["000005.XSHE"].position_value == 1800  # derived from last price
    assert len(caplog.records) == 6


def test_duplicate_rows_are_merged():
    rows = (
        position("000001.XSHE", 100, 100, avg_cost=10, position_value=1100),
        position("000001.SZ", 300, 0, avg_cost=12, position_value=3300),
    )
    p = Portfolio.from_balance(BalanceReport(**CASH, positions=rows), T)
    pos = p.long_positions["000001.XSHE"]
    assert pos.total_amount == 400 and pos.closeable_amount == 100
    assert pos.avg_cost == pytest.approx(11.5) and pos.position_value == 4400


@pytest.mark.parametrize(
    "balance",
    [
        None,
        {},
        BALANCE_ROWS,  # a dict-contract result: the dict adapter reads it, not the portfolio
        BalanceReport(total_value=Decimal("NaN"), available_cash=Decimal(1)),
        BalanceReport(total_value=Decimal(1), available_cash=Decimal("Infinity")),
    ],
)
def test_unusable_cash_raises_gate_error(balance):
    with pytest.raises(GateError):
        Portfolio.from_balance(balance, T)


def test_as_of_is_the_reports_or_the_sync_time():
    assert Portfolio.from_balance(BALANCE, T).as_of == T
    earlier = T.subtract(seconds=5)
    assert Portfolio.from_balance(attrs.evolve(BALANCE, as_of=earlier), T).as_of == earlier


def test_empty_and_stale():
    p = Portfolio.empty()
    assert p.last_sync_time is None and p.is_stale and p.stale_reason == NOT_SYNCED_REASON
    assert p.long_positions["600000.XSHG"].total_amount == 0
    good = Portfolio.from_balance(BALANCE, T)
    stale = good.mark_stale("文件缺失")
    assert stale.is_stale and stale.stale_reason == "文件缺失"
    assert stale.total_value == good.total_value and stale.last_sync_time == T
    assert "文件缺失" in str(stale)


DECIMALS = st.one_of(st.decimals(allow_nan=True, allow_infinity=True), st.none())


@given(
    st.lists(
        st.builds(
            PositionReport,
            code=st.one_of(
                st.sampled_from(["000001.XSHE", "600000.SH", "bad", ""]), st.text(max_size=8)
            ),
            total_amount=st.integers(-10, 10_000),
            closeable_amount=st.integers(-10, 10_000),
            avg_cost=st.decimals(allow_nan=True, allow_infinity=True),
            last_price=st.decimals(allow_nan=True, allow_infinity=True),
            position_value=DECIMALS,
        ),
        max_size=8,
    )
)
def test_from_balance_never_crashes_on_positions(positions):
    p = Portfolio.from_balance(BalanceReport(**CASH, positions=tuple(positions)), T)
    for code in p.long_positions:
        pos = p.long_positions[code]
        assert 0 <= pos.closeable_amount <= pos.total_amount and pos.total_amount > 0
