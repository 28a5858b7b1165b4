"""The dict contract read into typed reports: every malformed field is named, valid rows
round-trip exactly, and nothing but ``ReportFormatError`` ever comes out."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from jqtrade.errors import GateError, ReportFormatError
from jqtrade.model.orders import OrderAction, OrderStatus
from jqtrade.model.reports import (
    BalanceReport,
    OrderReport,
    PositionReport,
    balance_report_from_mapping,
    order_report_from_mapping,
    parse_broker_time,
    position_report_from_mapping,
)

TZ = "Asia/Shanghai"
DAY = dt.date(2025, 3, 3)
T0 = pendulum.datetime(2025, 3, 3, 9, 31, tz=TZ)

VALID_ORDER = {
    "order_id": "2503030001",
    "broker_order_id": "B1",
    "code": "000001.XSHE",
    "action": "open",
    "status": "filling",
    "amount": 300,
    "price": 10.5,
    "filled_amount": 100,
    "canceled_amount": 0,
    "avg_price": 10.5,
    "deal_balance": 1050.0,
    "commission": 5.0,
    "err_msg": "",
    "entrust_time": T0,
    "update_time": "093105",
}

COUNT_FIELDS = ("amount", "filled_amount", "canceled_amount")
MONEY_FIELDS = ("price", "avg_price", "deal_balance", "commission")

#: Values no count field may hold (each must be named in the error).
BAD_COUNTS = st.one_of(
    st.integers(max_value=-1),
    st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: not f.is_integer() or f < 0),
    st.just(float("nan")),
    st.just(float("inf")),
    st.booleans(),
    st.text(min_size=1).filter(lambda t: not _is_number(t)),
    st.lists(st.integers(), max_size=2),
)
BAD_MONEY = st.one_of(
    st.floats(max_value=-1e-9, allow_nan=False, allow_infinity=False),
    st.just(float("nan")),
    st.just(float("inf")),
    st.just(Decimal("-0.01")),
    st.just(Decimal("NaN")),
    st.booleans(),
    st.text(min_size=1).filter(lambda t: not _is_number(t)),
)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# --- order reports: malformed fields named -----------------------------------------------


@given(field=st.sampled_from(COUNT_FIELDS), value=BAD_COUNTS)
def test_every_malformed_count_is_named(field: str, value: Any) -> None:
    with pytest.raises(ReportFormatError) as info:
        order_report_from_mapping({**VALID_ORDER, field: value})
    assert info.value.key == field and field in str(info.value)


@given(field=st.sampled_from(MONEY_FIELDS), value=BAD_MONEY)
def test_every_malformed_money_field_is_named(field: str, value: Any) -> None:
    with pytest.raises(ReportFormatError) as info:
        order_report_from_mapping({**VALID_ORDER, field: value})
    assert info.value.key == field and field in str(info.value)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", "opened"),
        ("status", ""),
        ("status", None),
        ("code", "garbage"),
        ("code", 600000.5),
        ("action", "buy"),
        ("action", 3),
    ],
)
def test_bad_words_are_named_with_what_is_allowed(field: str, value: Any) -> None:
    with pytest.raises(ReportFormatError) as info:
        order_report_from_mapping({**VALID_ORDER, field: value})
    assert info.value.key == field and field in str(info.value)
    if field == "status":
        assert "partly_canceled" in str(info.value)


# The dict-format cases an order used to refuse itself (tests/account/test_order.py), now
# refused when the row is read; each names its key.
@pytest.mark.parametrize(
    ("row", "key"),
    [
        ({"status": "filling", "filled_amount": "abc"}, "filled_amount"),
        ({"status": "filling", "filled_amount": 1.5}, "filled_amount"),
        ({"status": "filling", "filled_amount": True}, "filled_amount"),
        ({"status": "filling", "filled_amount": -1}, "filled_amount"),
        ({"status": "open", "canceled_amount": -5}, "canceled_amount"),
        ({"status": "filling", "filled_amount": 100, "deal_balance": -1.0}, "deal_balance"),
        ({"status": "filling", "filled_amount": 100, "avg_price": float("nan")}, "avg_price"),
        ({"status": "opened"}, "status"),
        ({"filled_amount": 10}, "status"),
        (["not", "a", "dict"], "(整行)"),
    ],
)
def test_dict_rows_an_order_used_to_refuse(row: Any, key: str) -> None:
    with pytest.raises(ReportFormatError) as info:
        order_report_from_mapping(row)
    assert info.value.key == key
    assert isinstance(info.value, GateError) and isinstance(info.value, ValueError)


def test_a_valid_row_reads_into_exact_types() -> None:
    report = order_report_from_mapping(VALID_ORDER, day=DAY)
    assert report.status is OrderStatus.filling and report.action is OrderAction.open
    assert report.price == Decimal("10.5") and isinstance(report.deal_balance, Decimal)
    assert report.amount == 300 and report.filled_amount == 100
    assert report.entrust_time == T0
    assert report.update_time == pendulum.datetime(2025, 3, 3, 9, 31, 5, tz=TZ)


def test_not_reported_fields_are_none_and_broker_spellings_are_read() -> None:
    report = order_report_from_mapping(
        {
            "status": "canceled",
            "code": "600000.SH",
            "filled_amount": "",
            "avg_price": None,
            "amount": "200",
        }
    )
    assert report.order_id == "" and report.code == "600000.XSHG"
    assert report.filled_amount is None and report.avg_price is None and report.amount == 200
    assert report.broker_order_id is None and report.action is None and report.err_msg == ""


def test_a_clock_time_needs_the_day() -> None:
    assert parse_broker_time("093105", None) is None
    assert parse_broker_time("093105.25", DAY) == pendulum.datetime(
        2025, 3, 3, 9, 31, 5, 250000, tz=TZ
    )
    assert parse_broker_time(dt.datetime(2025, 3, 3, 9, 31), None) == T0  # naive: market time
    assert parse_broker_time("never", DAY) is None and parse_broker_time(42, DAY) is None


# --- order reports: valid rows round-trip ------------------------------------------------

CODES = st.sampled_from(["000001.XSHE", "600000.XSHG", "510300.XSHG", "300750.XSHE", "688001.XSHG"])
MONEY = st.decimals(min_value=0, max_value=10**7, places=3, allow_nan=False, allow_infinity=False)
TIMES = st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2030, 12, 31)).map(
    lambda d: pendulum.instance(d, tz=TZ)
)


@st.composite
def order_reports(draw: st.DrawFn) -> OrderReport:
    amount = draw(st.one_of(st.none(), st.integers(1, 10**6)))
    top = amount if amount is not None else 10**6
    filled = draw(st.one_of(st.none(), st.integers(0, top)))
    canceled = draw(st.one_of(st.none(), st.integers(0, top - (filled or 0))))
    optional_money = st.one_of(st.none(), MONEY)
    return OrderReport(
        order_id=draw(st.sampled_from(["", "2503030001", "7"])),
        broker_order_id=draw(
            st.one_of(st.none(), st.text("ABC0123456789", min_size=1, max_size=8))
        ),
        code=draw(CODES),
        status=draw(st.sampled_from(list(OrderStatus))),
        action=draw(st.one_of(st.none(), st.sampled_from(list(OrderAction)))),
        amount=amount,
        price=draw(optional_money),
        filled_amount=filled,
        canceled_amount=canceled,
        avg_price=draw(optional_money),
        deal_balance=draw(optional_money),
        commission=draw(optional_money),
        err_msg=draw(st.text(max_size=10)),
        entrust_time=draw(st.one_of(st.none(), TIMES)),
        update_time=draw(st.one_of(st.none(), TIMES)),
    )


def _money_cell(value: Decimal, form: str) -> Any:
    return {"decimal": value, "text": str(value), "float": float(value)}[form]


def _time_cell(value: pendulum.DateTime, form: str) -> Any:
    return value if form != "text" else value.isoformat()


@given(report=order_reports(), form=st.sampled_from(["decimal", "text", "float"]))
def test_valid_order_rows_round_trip(report: OrderReport, form: str) -> None:
    row: dict[str, Any] = {}
    for name in (
        "order_id",
        "broker_order_id",
        "code",
        "amount",
        "filled_amount",
        "canceled_amount",
        "err_msg",
    ):
        row[name] = getattr(report, name)
    row["status"] = report.status.value
    row["action"] = report.action.value if report.action is not None else None
    for name in MONEY_FIELDS:
        value = getattr(report, name)
        row[name] = _money_cell(value, form) if value is not None else None
    for name in ("entrust_time", "update_time"):
        value = getattr(report, name)
        row[name] = _time_cell(value, form) if value is not None else None
    assert order_report_from_mapping(row) == report


# --- balance and position reports -------------------------------------------------------

CASH = {"total_value": 120_000.0, "available_cash": 90_000.0, "locked_cash": 10_000.0}


def test_a_balance_reads_exactly() -> None:
    balance = balance_report_from_mapping(
        {
            "cash": CASH,
            "positions": [
                {
                    "code": "000001.XSHE",
                    "total_amount": 1000,
                    "closeable_amount": 600,
                    "avg_cost": 9.5,
                    "last_price": 10.0,
                    "position_value": 10_000.0,
                },
                {"code": "600000.SH", "total_amount": 1000, "avg_cost": "7", "last_price": 8},
            ],
            "as_of": T0,
        }
    )
    assert balance.total_value == Decimal("120000") and balance.locked_cash == Decimal("10000")
    first, second = balance.positions
    assert first.closeable_amount == 600 and first.value == Decimal("10000")
    assert second.code == "600000.XSHG" and second.closeable_amount == 1000  # all, when not said
    assert second.position_value is None and second.value == Decimal("8000")  # from the last price
    assert balance.as_of == T0


# From tests/account/test_portfolio.py: rows the portfolio used to skip itself.
def test_bad_position_rows_are_handed_over_named_and_left_out() -> None:
    bad: list[tuple[str, Any]] = []
    rows: list[Any] = [
        {"code": "bad", "total_amount": 100},
        {"code": "000001.XSHE", "total_amount": "x"},
        {"code": "000002.XSHE", "total_amount": 100, "closeable_amount": 200},
        {"code": "000003.XSHE", "total_amount": -1},
        "not a dict",
        {"code": "000004.XSHE", "total_amount": 0, "closeable_amount": 0},
        {
            "code": "000005.XSHE",
            "total_amount": 300,
            "closeable_amount": 300,
            "avg_cost": 5,
            "last_price": 6,
        },
    ]
    balance = balance_report_from_mapping(
        {"cash": CASH, "positions": rows},
        on_bad_position=lambda exc, row: bad.append((exc.key, row)),
    )
    assert [key for key, _ in bad] == [
        "code",
        "total_amount",
        "closeable_amount",
        "total_amount",
        "(整行)",
    ]
    assert [p.code for p in balance.positions] == ["000005.XSHE"]  # the zero row is dropped
    assert balance.positions[0].value == 1800
    with pytest.raises(ReportFormatError) as info:
        balance_report_from_mapping({"cash": CASH, "positions": rows})  # default: raise
    assert info.value.key == "code"


@pytest.mark.parametrize(
    ("balance", "key"),
    [
        (None, "(整体)"),
        ({}, "cash"),
        ({"cash": None}, "cash"),
        ({"cash": {"total_value": "x", "available_cash": 1}}, "total_value"),
        ({"cash": {"available_cash": 1.0}}, "total_value"),
        ({"cash": {"total_value": 1, "available_cash": float("nan")}}, "available_cash"),
        ({"cash": CASH, "positions": "x"}, "positions"),
    ],
)
def test_unusable_cash_is_named(balance: Any, key: str) -> None:
    with pytest.raises(ReportFormatError) as info:
        balance_report_from_mapping(balance)
    assert info.value.key == key and isinstance(info.value, GateError)


@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "code": st.one_of(
                    st.sampled_from(["000001.XSHE", "600000.SH", "bad", ""]), st.text(max_size=8)
                ),
                "total_amount": st.one_of(
                    st.integers(-10, 10_000), st.floats(), st.text(max_size=3), st.none()
                ),
                "closeable_amount": st.one_of(st.integers(-10, 10_000), st.none()),
                "avg_cost": st.one_of(st.floats(), st.none()),
            }
        ),
        max_size=8,
    )
)
def test_position_rows_never_raise_anything_else(rows: list[dict[str, Any]]) -> None:
    bad: list[ReportFormatError] = []
    balance = balance_report_from_mapping(
        {"cash": CASH, "positions": rows}, on_bad_position=lambda exc, row: bad.append(exc)
    )
    assert len(balance.positions) + len(bad) <= len(rows)
    for position in balance.positions:
        assert 0 <= position.closeable_amount <= position.total_amount and position.total_amount > 0


@st.composite
def position_reports(draw: st.DrawFn) -> PositionReport:
    total = draw(st.integers(1, 10**6))
    return PositionReport(
        code=draw(CODES),
        total_amount=total,
        closeable_amount=draw(st.integers(0, total)),
        avg_cost=draw(
            st.decimals(
                min_value=-1000, max_value=10**4, places=4, allow_nan=False, allow_infinity=False
            )
        ),
        last_price=draw(MONEY),
        position_value=draw(st.one_of(st.none(), MONEY)),
    )


@given(
    positions=st.lists(position_reports(), max_size=4),
    cash=st.tuples(
        *[
            st.decimals(
                min_value=-(10**6), max_value=10**9, places=2, allow_nan=False, allow_infinity=False
            )
        ]
        * 2
    ),
    locked=st.decimals(
        min_value=-(10**6), max_value=10**9, places=2, allow_nan=False, allow_infinity=False
    ),
    form=st.sampled_from(["decimal", "text", "float"]),
)
def test_valid_balances_round_trip(
    positions: list[PositionReport], cash: tuple[Decimal, Decimal], locked: Decimal, form: str
) -> None:
    report = BalanceReport(
        total_value=cash[0],
        available_cash=cash[1],
        locked_cash=locked,
        positions=tuple(positions),
        as_of=T0,
    )
    rows = [
        {
            "code": p.code,
            "total_amount": p.total_amount,
            "closeable_amount": p.closeable_amount,
            "avg_cost": _money_cell(p.avg_cost, form),
            "last_price": _money_cell(p.last_price, form),
            "position_value": _money_cell(p.position_value, form)
            if p.position_value is not None
            else None,
        }
        for p in positions
    ]
    data = {
        "cash": {
            name: _money_cell(getattr(report, name), form)
            for name in ("total_value", "available_cash", "locked_cash")
        },
        "positions": rows,
        "as_of": T0,
    }
    assert balance_report_from_mapping(data) == report
    assert [position_report_from_mapping(row) for row in rows] == positions
