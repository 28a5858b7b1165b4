"""The OneQuant file layer over real files: codec, locked appends, incremental reads, snapshots."""

from __future__ import annotations

import datetime
import logging
import multiprocessing
import os
from decimal import Decimal
from pathlib import Path

import pendulum
import portalocker
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jqtrade.clock import MARKET_TZ
from jqtrade.errors import GateError, GateLockTimeoutError, SnapshotUnusableError
from jqtrade.gates.onequant.files import AppendedFileReader, DayFiles, LockedAppender, encode_rows
from jqtrade.gates.onequant.parsing import (
    OrderUpdateParser,
    RowError,
    parse_entrust_time,
    parse_exec_result,
    parse_order_update,
    parse_quantity,
)
from jqtrade.gates.onequant.protocol import (
    ALGO_ORDER_HEADER,
    ALGO_ORDER_STOP_HEADER,
    EXEC_RESULT_HEADER,
    ORDER_FILE_LINE_END,
    ORDER_UPDATE_HEADER,
    code_to_symbol,
    file_name,
    format_price,
    format_upd_time,
    symbol_to_code,
)
from jqtrade.gates.onequant.snapshot import read_snapshot_rows
from jqtrade.model.orders import OrderAction, OrderStatus
from jqtrade.model.reports import OrderReport

ENCODINGS = ["utf-8", "gbk"]


# --- names, codes, formats -----------------------------------------------------------------


def test_file_names_carry_the_trading_date(tmp_path: Path) -> None:
    day = datetime.date(2024, 6, 3)
    assert file_name("algoOrder", day) == "algoOrder_20240603.csv"
    files = DayFiles(tmp_path, day)
    assert files.position_info == tmp_path / "positionInfo_20240603.csv"
    assert files.algo_order_stop.name == "algoOrderStop_20240603.csv"
    with pytest.raises(ValueError, match="未知的文件种类"):
        file_name("orders", day)


@pytest.mark.parametrize(
    ("code", "symbol"),
    [("600000.XSHG", "600000.SH"), ("000001.XSHE", "000001.SZ"), ("510300.XSHG", "510300.SH")],
)
def test_symbol_mapping_both_ways(code: str, symbol: str) -> None:
    assert code_to_symbol(code) == symbol
    assert symbol_to_code(symbol) == code
    assert code_to_symbol(symbol) == symbol  # already in broker form


@pytest.mark.parametrize("bad", ["600000", "430047.BJ", "60000.XSHG", "abc.SH"])
def test_unknown_codes_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        code_to_symbol(bad)
    assert symbol_to_code(bad) is None


@pytest.mark.parametrize(
    ("price", "text"),
    [(10.0, "10"), (10.5, "10.5"), (0, "0"), (3.456, "3.456"), (12.30, "12.3"), (100, "100")],
)
def test_format_price(price: float, text: str) -> None:
    assert format_price(price) == text


def test_upd_time_is_market_time_whatever_the_input_zone() -> None:
    now = pendulum.datetime(2024, 6, 3, 1, 30, 5, 123456, tz="UTC")
    assert format_upd_time(now) == "093005.123456"


def test_encode_rows_quotes_only_when_needed() -> None:
    data = encode_rows([["a", "b,c", 'say "hi"', "中文"]], "gbk")
    assert data == 'a,"b,c","say ""hi""",中文\n'.encode("gbk")
    assert b"\r" not in encode_rows([["x"], ["y"]], "utf-8")
    assert encode_rows([["x"], ["a,b"]], "utf-8", ORDER_FILE_LINE_END) == b'x\r\n"a,b"\r\n'


# --- locked appends ------------------------------------------------------------------------


def test_append_writes_header_once_and_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "algoOrder_20240603.csv"
    appender = LockedAppender(path, ALGO_ORDER_HEADER, "gbk")
    appender.append([["1", "a"], ["2", "b"]])
    appender.append([["3", "错误,信息"]])
    data = path.read_bytes()
    assert data.count(",".join(ALGO_ORDER_HEADER).encode()) == 1
    # Windows line ends, written as bytes: never \r\r\n, never a bare \n (see ORDER_FILE_LINE_END)
    assert (
        data.endswith(b"\r\n")
        and data.count(b"\n") == data.count(b"\r\n") == 4
        and b"\r\r" not in data
    )
    assert data.decode("gbk").splitlines()[1:] == ["1,a", "2,b", '3,"错误,信息"']


def test_append_to_existing_file_does_not_repeat_header(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(b"h1,h2\nx,y\n")
    LockedAppender(path, ["h1", "h2"], "utf-8").append([["1", "2"]])
    assert path.read_bytes() == b"h1,h2\nx,y\n1,2\r\n"


def test_lock_timeout_raises_gate_error(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    appender = LockedAppender(path, ["a"], "utf-8", lock_timeout=0.05, poll_interval=0.01)
    with open(path, "ab") as holder:
        portalocker.lock(holder, portalocker.LOCK_EX)
        with pytest.raises(GateLockTimeoutError) as info:
            appender.append([["1"]])
        portalocker.unlock(holder)
    assert isinstance(info.value, TimeoutError) and isinstance(info.value, GateError)
    assert "f.csv" in str(info.value)
    appender.append([["1"]])
    assert path.read_bytes() == b"a\r\n1\r\n"


def test_append_into_missing_folder_is_a_gate_error(tmp_path: Path) -> None:
    appender = LockedAppender(tmp_path / "nope" / "f.csv", ["a"], "utf-8")
    with pytest.raises(GateError, match="无法打开文件"):
        appender.append([["1"]])


def _append_many(path: str, writer: int, count: int) -> None:
    appender = LockedAppender(path, ALGO_ORDER_HEADER, "gbk", lock_timeout=30)
    for i in range(count):
        appender.append([[f"{writer}", f"{i}", "委托" * 20, "x" * (i % 50)]])


def test_two_processes_append_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "algoOrder_20240603.csv"
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_append_many, args=(str(path), n, 300)) for n in (1, 2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    lines = path.read_bytes().decode("gbk").split("\r\n")
    assert lines[0] == ",".join(ALGO_ORDER_HEADER) and lines[-1] == ""
    body = [line.split(",") for line in lines[1:-1]]
    assert len(body) == 600
    for writer in ("1", "2"):
        mine = [fields for fields in body if fields[0] == writer]
        assert [int(fields[1]) for fields in mine] == list(range(300))
        assert all(
            fields[2] == "委托" * 20 and fields[3] == "x" * (int(fields[1]) % 50) for fields in mine
        )


# --- incremental reader --------------------------------------------------------------------


def _append(path: Path, data: bytes) -> None:
    with open(path, "ab") as handle:
        handle.write(data)


def test_reader_is_incremental_and_waits_for_line_ends(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    reader = AppendedFileReader(path, "utf-8")
    assert reader.changed() and reader.read_rows() == [] and reader.missing
    assert not reader.changed()
    _append(path, b"a,b\n1,2\n3,")
    assert reader.changed()
    assert reader.read_rows() == [{"a": "1", "b": "2"}]
    assert not reader.changed()
    _append(path, b"4\n")
    assert reader.read_rows() == [{"a": "3", "b": "4"}]
    assert reader.read_rows() == []
    assert reader.offset == path.stat().st_size


def test_reader_restarts_when_the_file_shrinks_or_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(b"a,b\n1,2\n3,4\n")
    reader = AppendedFileReader(path, "utf-8")
    assert len(reader.read_rows()) == 2
    path.write_bytes(b"a,b\n5,6\n")  # truncated and rewritten: shorter than the offset
    assert reader.read_rows() == [{"a": "5", "b": "6"}]
    replacement = tmp_path / "g.csv"
    replacement.write_bytes(b"a,b\n7,8\n9,9\n")
    os.replace(replacement, path)
    assert reader.changed()
    assert reader.read_rows() == [{"a": "7", "b": "8"}, {"a": "9", "b": "9"}]


def test_reader_handles_crlf_bom_blank_and_repeated_header(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes("\ufeffa,b\r\n1,2\r\n\r\n,\r\na,b\r\n3,4\r\n".encode())
    assert AppendedFileReader(path, "utf-8").read_rows() == [
        {"a": "1", "b": "2"},
        {"a": "3", "b": "4"},
    ]


def test_reader_skips_bad_lines_and_keeps_going(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(b'a,b,c\n1,2,3\nonly-one\n1,"2,3\n4,5,6,7\n7,8,9\n1,2,3,,\n')
    reader = AppendedFileReader(path, "utf-8")
    with caplog.at_level(logging.WARNING, logger="jqtrade.gates.onequant"):
        rows = reader.read_rows()
    assert rows == [
        {"a": "1", "b": "2", "c": "3"},
        {"a": "7", "b": "8", "c": "9"},
        {"a": "1", "b": "2", "c": "3"},
    ]
    assert reader.bad_lines == 3


@pytest.mark.parametrize("mode", ["replace", "skip"])
def test_undecodable_line_never_blocks_later_lines(tmp_path: Path, mode: str) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes("a,text\n1,已报\n".encode("gbk") + b"2,\xff\xfe\n" + "3,撤单\n".encode("gbk"))
    rows = AppendedFileReader(path, "gbk", on_decode_error=mode).read_rows()
    ids = [row["a"] for row in rows]
    assert ids == (["1", "2", "3"] if mode == "replace" else ["1", "3"])
    assert rows[-1]["text"] == "撤单"


def test_wrong_encoding_still_yields_the_ascii_fields(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes("a,text\n1,可用资金不足\n".encode("gbk"))
    rows = AppendedFileReader(path, "utf-8").read_rows()
    assert [row["a"] for row in rows] == ["1"]


def test_garbled_header_falls_back_to_the_protocol_header(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(b"\xff\xfe garbage\n" + b"x,y\n")
    rows = AppendedFileReader(path, "utf-8", default_header=["a", "b"]).read_rows()
    assert rows == [{"a": "x", "b": "y"}]


def test_reader_reads_in_chunks_across_line_boundaries(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    body = "".join(f"{i},第{i}行\n" for i in range(500))
    path.write_bytes(("n,t\n" + body).encode("gbk"))
    reader = AppendedFileReader(path, "gbk", chunk_size=37)
    rows = reader.read_rows()
    assert [row["n"] for row in rows] == [str(i) for i in range(500)]
    assert rows[123]["t"] == "第123行"


# Well-formed lines (any text a field can hold, quoted as needed) mixed with lines that cannot
# be parsed: random bytes without a comma, truncated lines, broken quoting.
FIELD_CHARS = st.sampled_from(list("abcXYZ0123456789 .-_已报成交撤单拒绝资金不足，。") + [",", '"'])
FIELD = st.text(FIELD_CHARS, max_size=8)
GOOD = st.lists(FIELD, min_size=4, max_size=4).filter(
    lambda f: any(x.strip() for x in f) and f != ["a", "b", "c", "d"]
)
BAD = st.one_of(
    st.binary(min_size=1, max_size=20).map(
        lambda b: b.replace(b"\n", b"").replace(b",", b"").replace(b"\r", b"") or b"\xff"
    ),
    st.just(b'x,"unterminated,y'),
    st.just(b"1,2"),
    st.just(b"1,2,3,4,5"),
)
ITEM = st.one_of(GOOD.map(lambda f: ("good", f)), BAD.map(lambda b: ("bad", b)))


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    items=st.lists(ITEM, max_size=40),
    encoding=st.sampled_from(ENCODINGS),
    crlf=st.booleans(),
    cuts=st.lists(st.integers(min_value=0, max_value=4000), max_size=12),
    chunk_size=st.sampled_from([7, 64, 1 << 20]),
)
def test_reader_applies_every_good_line_exactly_once(
    tmp_path_factory, items, encoding, crlf, cuts, chunk_size
) -> None:
    path = tmp_path_factory.mktemp("r") / "orderUpdate.csv"
    end = b"\r\n" if crlf else b"\n"
    stream = b"a,b,c,d" + end
    expected = []
    for kind, value in items:
        if kind == "good":
            line = encode_rows([value], encoding).rstrip(b"\n")
            expected.append(value)
        else:
            line = value
        stream += line + end
    points = sorted({min(c, len(stream)) for c in cuts} | {len(stream)})
    reader = AppendedFileReader(path, encoding, chunk_size=chunk_size)
    seen: list[list[str]] = []
    start = 0
    path.write_bytes(b"")
    for point in points:
        _append(path, stream[start:point])
        start = point
        if reader.changed():
            seen.extend(reader.iter_records())
    assert seen == expected


# --- snapshots -----------------------------------------------------------------------------


def _snapshot(path: Path, rows: list[str], *, marker: bool = True, encoding: str = "gbk") -> None:
    text = "acct,exchange,totalAsset,enabledBalance,currentBalance\n" + "".join(
        r + "\n" for r in rows
    )
    if marker:
        text += ",,,,\n"
    path.write_bytes(text.encode(encoding))


def test_snapshot_needs_its_end_marker(tmp_path: Path) -> None:
    path = tmp_path / "assetInfo.csv"
    _snapshot(path, ["1,,100,60,80"])
    assert read_snapshot_rows(path, "gbk") == [
        {
            "acct": "1",
            "exchange": "",
            "totalAsset": "100",
            "enabledBalance": "60",
            "currentBalance": "80",
        }
    ]
    _snapshot(path, ["1,,100,60,80"], marker=False)
    for data in (
        path.read_bytes(),
        b"",
        b"acct,exchange,totalAsset,enabledBalance,currentBalance\n",
    ):
        path.write_bytes(data)
        with pytest.raises(SnapshotUnusableError, match="assetInfo.csv"):
            read_snapshot_rows(path, "gbk")
    with pytest.raises(SnapshotUnusableError, match="不存在"):
        read_snapshot_rows(tmp_path / "missing.csv", "gbk")


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_truncated_snapshot_is_never_accepted(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "positionInfo.csv"
    _snapshot(path, [f"1,SH,{i},{i},{i}" for i in range(50)], encoding=encoding)
    data = path.read_bytes()
    for cut in range(0, len(data) - 1, 7):
        path.write_bytes(data[:cut])
        with pytest.raises(SnapshotUnusableError):
            read_snapshot_rows(path, encoding)


# --- row parsers ---------------------------------------------------------------------------


def _update_row(**values: str) -> dict[str, str]:
    row = dict.fromkeys(ORDER_UPDATE_HEADER, "")
    row.update(
        orderDate="20240603",
        orderTime="93001",
        acct="1",
        symbol="600000.SH",
        tradeSide="1",
        status="0",
        orderQty="300",
        orderPrice="10.5",
        custBatchNo="42",
        orderNo="9001",
    )
    row.update(values)
    return row


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("7", "new"),
        ("0", "open"),
        ("1", "filling"),
        ("2", "filled"),
        ("8", "canceling"),
        ("3", "partly_canceled"),
        ("4", "canceled"),
        ("5", "rejected"),
    ],
)
def test_status_codes(code: str, status: str) -> None:
    report = parse_order_update(_update_row(status=code))
    assert report is not None and report.status == status and isinstance(report.status, OrderStatus)
    assert isinstance(report, OrderReport)


def test_order_update_report_format() -> None:
    report = parse_order_update(
        _update_row(
            status="1",
            filledQty="100",
            avgPrice="10.49",
            filledAmt="1049.00",
            cancelQty="",
            text="部分成交",
            updTime="093002.250000",
        ),
        datetime.date(2024, 6, 3),
    )
    assert report == OrderReport(
        order_id="42",
        broker_order_id="9001",
        code="600000.XSHG",
        action=OrderAction.open,
        status=OrderStatus.filling,
        amount=300,
        price=Decimal("10.5"),
        filled_amount=100,
        canceled_amount=0,
        avg_price=Decimal("10.49"),
        deal_balance=Decimal("1049.00"),
        commission=Decimal(0),
        err_msg="部分成交",
        entrust_time=pendulum.datetime(2024, 6, 3, 9, 30, 1, tz=MARKET_TZ),
        # the broker's time of this state, on the file's trading date, for the overlay
        update_time=pendulum.datetime(2024, 6, 3, 9, 30, 2, 250_000, tz=MARKET_TZ),
    )
    assert report is not None and report.entrust_time is not None
    assert report.entrust_time.utcoffset() == datetime.timedelta(hours=8)
    assert all(
        isinstance(v, Decimal) for v in (report.price, report.avg_price, report.deal_balance)
    )


@pytest.mark.parametrize(
    "bad",
    [
        {"status": "9"},
        {"status": ""},
        {"tradeSide": "3"},
        {"symbol": "600000"},
        {"orderQty": "abc"},
        {"filledQty": "1.5"},
        {"orderPrice": "nan"},
        {"avgPrice": "1e999"},
        {"cancelQty": "-100"},
    ],
)
def test_bad_order_update_rows_are_skipped(bad: dict[str, str]) -> None:
    assert parse_order_update(_update_row(**bad)) is None


def test_parser_tolerates_missing_optional_columns() -> None:
    names = ["custBatchNo", "symbol", "tradeSide", "status", "orderQty"]
    parser = OrderUpdateParser({name: i for i, name in enumerate(names)})
    report = parser(["7", "000001.SZ", "2", "4", "100"])
    assert report.order_id == "7" and report.status == "canceled" and report.entrust_time is None
    assert report.update_time is None  # no updTime column (and no trading date given)
    with pytest.raises(RowError):
        OrderUpdateParser({"status": 0})


def test_quantities_and_times() -> None:
    assert (
        parse_quantity("") == 0
        and parse_quantity(" 100 ") == 100
        and parse_quantity("200.0") == 200
    )
    with pytest.raises(RowError):
        parse_quantity("12x")
    assert parse_entrust_time("20240603", "") is None
    assert parse_entrust_time("20240631", "100000") is None
    assert parse_entrust_time("20240603", "140501.5") == pendulum.datetime(
        2024, 6, 3, 14, 5, 1, tz=MARKET_TZ
    )


def test_exec_result_rows() -> None:
    result = parse_exec_result(
        {
            "updTime": "1",
            "resultType": "1",
            "custBatchNo": "7",
            "status": "1",
            "errorCode": "-1",
            "errorMsg": "资金不足",
        }
    )
    assert (
        result is not None
        and result.rejected
        and result.is_order
        and result.error_msg == "资金不足"
    )
    assert parse_exec_result({"resultType": "2", "custBatchNo": "7", "status": "0"}).is_cancel  # type: ignore[union-attr]
    assert parse_exec_result({"resultType": "x", "custBatchNo": "7"}) is None


# --- line ends of every protocol file (Windows writers) --------------------------------------

#: ``\n`` (Linux writers), ``\r\n`` (Windows programs, and jqtrade now), ``\r\r\n`` (jqtrade 1.0
#: on Windows: ``os.linesep`` through a text-mode file).
LINE_ENDS = [b"\n", b"\r\n", b"\r\r\n"]

_PROTOCOL_FILES = {
    "algoOrder": (
        ALGO_ORDER_HEADER,
        [
            "093001.000000",
            "2406030001",
            "UM0",
            "1",
            "600000.SH",
            "1",
            "300",
            "DMA",
            "AT",
            "0",
            "10.5",
            "10.5",
        ],
    ),
    "algoOrderStop": (ALGO_ORDER_STOP_HEADER, ["093002.000000", "2406030001"]),
    "execResult": (EXEC_RESULT_HEADER, ["093001.500000", "1", "2406030001", "0", "0", "委托成功"]),
    "orderUpdate": (
        ORDER_UPDATE_HEADER,
        list(
            _update_row(
                custBatchNo="2406030001", text="部分成交", status="1", filledQty="100"
            ).values()
        ),
    ),
}


@pytest.mark.parametrize("end", LINE_ENDS, ids=["LF", "CRLF", "CRCRLF"])
@pytest.mark.parametrize("kind", sorted(_PROTOCOL_FILES))
def test_every_protocol_file_reads_the_same_with_any_line_end(
    tmp_path: Path, kind: str, end: bytes
) -> None:
    header, row = _PROTOCOL_FILES[kind]
    lines = [header, row, row]
    data = b"".join(",".join(line).encode("gbk") + end for line in lines)
    path = tmp_path / f"{kind}_20240603.csv"
    path.write_bytes(data)
    reader = AppendedFileReader(path, "gbk", default_header=header)
    rows = reader.read_rows()
    assert rows == [dict(zip(header, row))] * 2 and reader.bad_lines == 0
    # the text a block parser sees holds no "\r" (the gate's fast path for orderUpdate)
    texts = AppendedFileReader(path, "gbk", default_header=header)
    assert "\r" not in "".join(texts.iter_texts())
    if kind == "execResult":
        result = parse_exec_result(rows[0])
        assert (
            result is not None
            and result.order_id == "2406030001"
            and result.is_order
            and result.error_msg == "委托成功"
        )
    if kind == "orderUpdate":
        report = parse_order_update(rows[0])
        assert (
            report is not None and report.order_id == "2406030001" and report.err_msg == "部分成交"
        )


@pytest.mark.parametrize("end", LINE_ENDS, ids=["LF", "CRLF", "CRCRLF"])
def test_the_simulator_reads_orders_and_cancels_with_any_line_end(
    tmp_path: Path, end: bytes
) -> None:
    from jqtrade.sim import SimulatedOneQuant

    now = pendulum.datetime(2024, 6, 3, 10, 0, tz=MARKET_TZ)
    sim = SimulatedOneQuant(
        tmp_path, "1", cash=100_000, encoding="gbk", volatility=0.0, prices={"600000.XSHG": 10.0}
    )
    sim.poll(now)
    day = DayFiles(tmp_path, now.date())
    resting = [
        "100000.000000",
        "2406030001",
        "UM0",
        "1",
        "600000.SH",
        "1",
        "100",
        "DMA",
        "AT",
        "0",
        "9.00",
        "9.00",
    ]
    day.algo_order.write_bytes(
        b"".join(",".join(line).encode("gbk") + end for line in (ALGO_ORDER_HEADER, resting))
    )
    sim.poll(now.add(seconds=1))
    day.algo_order_stop.write_bytes(
        b"".join(
            ",".join(line).encode("gbk") + end
            for line in (ALGO_ORDER_STOP_HEADER, ["100001.000000", "2406030001"])
        )
    )
    sim.poll(now.add(seconds=2))
    sim.poll(now.add(seconds=3))
    results = AppendedFileReader(
        day.exec_result, "gbk", default_header=EXEC_RESULT_HEADER
    ).read_rows()
    assert [(r["resultType"], r["custBatchNo"], r["status"]) for r in results] == [
        ("1", "2406030001", "0"),
        ("2", "2406030001", "0"),
    ]
    updates = AppendedFileReader(
        day.order_update, "gbk", default_header=ORDER_UPDATE_HEADER
    ).read_rows()
    assert (
        updates[-1]["custBatchNo"] == "2406030001"
        and parse_order_update(updates[-1]).status is OrderStatus.canceled
    )


def test_the_gate_appends_crlf_lines_the_simulator_accepts(tmp_path: Path) -> None:
    """What jqtrade writes (ORDER_FILE_LINE_END, as bytes) is what a Windows reader expects."""
    path = tmp_path / "algoOrder_20240603.csv"
    LockedAppender(path, ALGO_ORDER_HEADER, "gbk").append([_PROTOCOL_FILES["algoOrder"][1]])
    assert ORDER_FILE_LINE_END == "\r\n"
    assert path.read_bytes().split(b"\r\n") == [
        ",".join(ALGO_ORDER_HEADER).encode(),
        ",".join(_PROTOCOL_FILES["algoOrder"][1]).encode(),
        b"",
    ]
