"""The two paths of ``orderUpdate`` parsing agree, and the trusted report builder is exact."""

from __future__ import annotations

import datetime
import logging
from decimal import Decimal
from pathlib import Path

import attrs
import pendulum
from hypothesis import given, settings
from hypothesis import strategies as st

from jqtrade.clock import MARKET_TZ
from jqtrade.gates.onequant.files import AppendedFileReader
from jqtrade.gates.onequant.parsing import (
    COLUMN_MIN_LINES,
    REPORT_FIELDS,
    OrderUpdateParser,
    TrustedBuilder,
    build_reports,
    make_report,
    parse_batch,
    parse_lines,
)
from jqtrade.gates.onequant.protocol import ORDER_UPDATE_HEADER
from jqtrade.model.orders import OrderAction, OrderStatus
from jqtrade.model.reports import OrderReport, PositionReport

DAY = datetime.date(2024, 6, 3)
COLUMNS = {name: i for i, name in enumerate(ORDER_UPDATE_HEADER)}


def _line(order: int, status: str, n: int, account: str = "123") -> str:
    filled = {"2": 100, "3": 50, "1": 50}.get(status, 0)
    canceled = 100 - filled if status in "34" else 0
    values = {
        "updTime": f"{100000 + n % 5000:06d}.{n % 1000:06d}",
        "orderDate": "20240603",
        "orderTime": "100000",
        "acctType": "UM0",
        "acct": account,
        "symbol": f"{600000 + order % 7:06d}.SH",
        "tradeSide": "1" if order % 2 else "2",
        "status": status,
        "orderQty": "100",
        "orderPrice": f"{10 + order % 3}.{order % 100:02d}",
        "orderType": "0",
        "filledQty": str(filled),
        "avgPrice": "10.0100" if filled else "0",
        "filledAmt": f"{filled * 10.01:.2f}",
        "cancelQty": str(canceled),
        "orderNo": str(9000 + order),
        "corrId": "",
        "custBatchNo": f"id{order}",
        "text": "已报" if status == "0" else "",
        "cliOrderId": "",
    }
    return ",".join(values[name] for name in ORDER_UPDATE_HEADER)


def _reader(tmp_path: Path) -> AppendedFileReader:
    path = tmp_path / "orderUpdate_20240603.csv"
    path.write_text(",".join(ORDER_UPDATE_HEADER) + "\n", "utf-8")
    reader = AppendedFileReader(path, "utf-8", default_header=ORDER_UPDATE_HEADER)
    list(reader.iter_texts())  # header read
    return reader


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(
        st.tuples(
            st.integers(0, 40),
            st.sampled_from(["7", "0", "1", "2", "8", "3", "4", "5"]),
            st.booleans(),
        ),
        min_size=COLUMN_MIN_LINES,
        max_size=200,
    )
)
def test_the_column_path_and_the_line_path_give_the_same_reports(tmp_path_factory, steps) -> None:
    reader = _reader(tmp_path_factory.mktemp("p"))
    lines = [
        _line(order, status, n, "123" if ours else "777")
        for n, (order, status, ours) in enumerate(steps)
    ]
    text = "\n".join(lines) + "\n"
    width = len(ORDER_UPDATE_HEADER)
    columns = OrderUpdateParser(COLUMNS, DAY).parse_text(text, width, "123")
    careful = parse_lines(
        reader, OrderUpdateParser(COLUMNS, DAY), text.split("\n")[:-1], width, "123"
    )
    assert columns is not None  # a clean batch stays on the column path
    assert columns == careful
    assert parse_batch(reader, OrderUpdateParser(COLUMNS, DAY), text, width, "123") == careful


def test_a_bad_line_sends_the_batch_to_the_line_path_which_says_why(tmp_path: Path, caplog) -> None:
    reader = _reader(tmp_path)
    lines = [_line(n, "0", n) for n in range(COLUMN_MIN_LINES)] + ["id1,broken"]
    text = "\n".join(lines) + "\n"
    parser = OrderUpdateParser(COLUMNS, DAY)
    assert parser.parse_text(text, len(ORDER_UPDATE_HEADER), "123") is None
    with caplog.at_level(logging.WARNING, logger="jqtrade.gates.onequant"):
        keys, reports = parse_batch(reader, parser, text, len(ORDER_UPDATE_HEADER), "123")
    assert len(reports) == COLUMN_MIN_LINES and "id1,broken" in caplog.text


def test_reports_are_exact_and_timed_on_the_trading_day() -> None:
    (report,) = OrderUpdateParser(COLUMNS, DAY).parse_many([_line(5, "2", 7).split(",")])
    assert report == OrderReport(
        order_id="id5",
        code="600005.XSHG",
        status=OrderStatus.filled,
        broker_order_id="9005",
        action=OrderAction.open,
        amount=100,
        price=Decimal("12.05"),
        filled_amount=100,
        canceled_amount=0,
        avg_price=Decimal("10.0100"),
        deal_balance=Decimal("1001.00"),
        commission=Decimal(0),
        err_msg="",
        entrust_time=pendulum.datetime(2024, 6, 3, 10, tz=MARKET_TZ),
        update_time=pendulum.datetime(2024, 6, 3, 10, 0, 7, 7, tz=MARKET_TZ),
    )


def test_the_trusted_builder_makes_the_same_frozen_values_as_the_constructor() -> None:
    assert tuple(f.name for f in attrs.fields(OrderReport)) == REPORT_FIELDS
    values = (
        "1",
        "600000.XSHG",
        OrderStatus.open,
        None,
        OrderAction.close,
        100,
        Decimal("9.5"),
        0,
        0,
        Decimal(0),
        Decimal(0),
        Decimal(0),
        "",
        None,
        None,
    )
    expected = OrderReport(**dict(zip(REPORT_FIELDS, values)))
    built = make_report(*values)
    assert built == expected and type(built) is OrderReport and hash(built) == hash(expected)
    assert build_reports([[v, v] for v in values], 2) == [expected, expected]
    try:
        built.code = "x"  # type: ignore[misc]
    except attrs.exceptions.FrozenInstanceError:
        pass
    else:  # pragma: no cover
        raise AssertionError("a built report must stay frozen")


def test_the_builder_falls_back_to_the_constructor_for_a_class_it_cannot_trust() -> None:
    @attrs.frozen
    class Checked:
        amount: int = attrs.field(converter=int)

    builder = TrustedBuilder(Checked, ("amount",))
    assert not builder.trusted
    assert builder.one("5") == Checked(5) and builder.many([["1", "2"]], 2) == [
        Checked(1),
        Checked(2),
    ]
    assert TrustedBuilder(
        PositionReport, tuple(f.name for f in attrs.fields(PositionReport))
    ).trusted


def test_reports_are_built_through_the_fast_twin() -> None:
    from jqtrade.gates.onequant import parsing

    assert parsing._ORDER_REPORTS._fill is not None  # OrderReport has no __weakref__ slot


TIMES = st.one_of(
    st.builds(
        lambda h, m, s, us: f"{h:02d}{m:02d}{s:02d}.{us:06d}",
        st.integers(0, 25),
        st.integers(0, 61),
        st.integers(0, 61),
        st.integers(0, 999_999),
    ),
    st.sampled_from(
        [
            "093001",
            "93001.5",
            " 093001.250000",
            "",
            "x",
            "093001.",
            "0930a1.000000",
            "093001.1234567",
            "１２３４５６.000000",
            "093001.12345６",
        ]
    ),
)


@settings(max_examples=200, deadline=None)
@given(texts=st.lists(TIMES, max_size=300), repeat=st.booleans())
def test_update_times_by_columns_are_those_of_the_one_rule(texts: list[str], repeat: bool) -> None:
    from jqtrade.gates.onequant.protocol import parse_upd_time, parse_upd_times

    if repeat:
        texts = texts * 3
    assert parse_upd_times(texts, DAY) == [parse_upd_time(text, DAY) for text in texts]
