from __future__ import annotations

import datetime
from decimal import Decimal

import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jqtrade.data.csv_import import decode, parse_csv, read_csv
from jqtrade.data.errors import CsvImportError
from jqtrade.data.models import Bar, BarUnit
from jqtrade.data.sessions import bar_times

TZ = "Asia/Shanghai"
DAYS = [datetime.date(2024, 6, d) for d in (3, 4, 5, 6, 7)]


@st.composite
def bars(draw, unit):
    code = draw(st.sampled_from(["600000.XSHG", "000001.XSHE", "300750.XSHE"]))
    times = sorted(
        set(
            draw(
                st.lists(
                    st.sampled_from([t for d in DAYS for t in bar_times(d, unit)]),
                    min_size=1,
                    max_size=12,
                )
            )
        )
    )
    out = []
    for t in times:
        low = draw(st.integers(min_value=100, max_value=100_000))
        high = low + draw(st.integers(min_value=0, max_value=500))
        open_, close = (draw(st.integers(min_value=low, max_value=high)) for _ in range(2))
        volume = draw(st.integers(min_value=0, max_value=10**9))
        amount = Decimal(draw(st.integers(min_value=0, max_value=10**12))) / 100
        cents = [Decimal(x) / 100 for x in (open_, high, low, close)]
        out.append(
            Bar(
                code=code,
                unit=unit,
                time=t,
                open=cents[0],
                high=cents[1],
                low=cents[2],
                close=cents[3],
                volume=volume,
                amount=amount,
            )
        )
    return out


def standard(rows, unit, broker_form=False):
    lines = ["code,name,datetime,open,high,low,close,volume,amount"]  # name: ignored, but not ASCII
    for b in rows:
        code = b.code.replace("XSHG", "SH").replace("XSHE", "SZ") if broker_form else b.code
        when = f"{b.time:%Y-%m-%d}" if unit is BarUnit.d1 else f"{b.time:%Y-%m-%d %H:%M:%S}"
        lines.append(
            f"{code},浦发银行,{when},{b.open},{b.high},{b.low},{b.close},{b.volume},{b.amount}"
        )
    return "\r\n".join(lines) + "\r\n"


def chinese(rows, unit):
    lines = ["日期,开盘,最高,最低,收盘,成交量,成交额"]
    for b in rows:
        when = f"{b.time:%Y-%m-%d}" if unit is BarUnit.d1 else f"{b.time:%Y-%m-%d %H:%M}"
        lines.append(f"{when},{b.open},{b.high},{b.low},{b.close},{b.volume},{b.amount}")
    return "\n".join(lines) + "\n"


@settings(max_examples=40)
@given(
    st.sampled_from([BarUnit.m1, BarUnit.d1]).flatmap(lambda u: st.tuples(st.just(u), bars(u))),
    st.sampled_from(["utf-8", "utf-8-sig", "gbk"]),
    st.booleans(),
)
def test_standard_files_round_trip_in_every_encoding(
    tmp_path_factory, unit_rows, encoding, broker_form
):
    unit, rows = unit_rows
    path = tmp_path_factory.mktemp("csv") / "bars.csv"
    path.write_bytes(standard(rows, unit, broker_form).encode(encoding))
    result = read_csv(path, unit)
    assert list(result.bars) == rows
    assert result.skipped == 0 and result.layout == "standard"
    assert result.encoding == ("utf-8" if encoding == "utf-8" else encoding)


@settings(max_examples=30)
@given(
    st.sampled_from([BarUnit.m1, BarUnit.d1]).flatmap(lambda u: st.tuples(st.just(u), bars(u))),
    st.sampled_from(["gbk", "utf-8-sig"]),
)
def test_chinese_headers_with_the_code_given(unit_rows, encoding):
    unit, rows = unit_rows
    text, found = decode(chinese(rows, unit).encode(encoding))
    assert found == encoding
    result = parse_csv(text, unit, code=rows[0].code)
    assert [(b.time, b.close, b.volume) for b in result.bars] == [
        (b.time, b.close, b.volume) for b in rows
    ]
    assert result.layout == "chinese"


def test_tdx_export_with_title_line_tabs_and_separate_time(tmp_path):
    text = (
        "600000 浦发银行 1分钟线 不复权\r\n"
        "日期\t时间\t开盘\t最高\t最低\t收盘\t成交量\t成交额\r\n"
        "2024/06/04\t0931\t7.05\t7.08\t7.04\t7.06\t123400\t871204.00\r\n"
        "2024/06/04\t0932\t7.06\t7.07\t7.05\t7.07\t50000\t353000.00\r\n"
        "数据来源:通达信\r\n"
    )
    path = tmp_path / "SH#600000.txt"
    path.write_bytes(text.encode("gbk"))
    result = read_csv(path, "1m", code="600000.XSHG")
    assert result.layout == "tdx" and result.encoding == "gbk" and result.skipped == 0
    assert [b.time for b in result.bars] == [
        pendulum.datetime(2024, 6, 4, 9, 31, tz=TZ),
        pendulum.datetime(2024, 6, 4, 9, 32, tz=TZ),
    ]


def test_akshare_export_with_code_column_and_lots():
    text = "日期,股票代码,开盘,收盘,最高,最低,成交量,成交额,振幅\n2024-06-04,000001,10.0,10.1,10.2,9.9,5000,5050000,1.2\n"
    result = parse_csv(text, "1d", volume_multiplier=100)
    assert result.bars[0].code == "000001.XSHE" and result.bars[0].volume == 500_000


def test_bad_lines_are_skipped_counted_and_located():
    text = "\n".join(
        [
            "code,datetime,open,high,low,close,volume",
            "600000.XSHG,2024-06-03,7,7.1,6.9,7.0,100",
            "600000.XSHG,2024-06-04,7,6.0,6.9,7.0,100",  # high below low
            "600000.XSHG,2024-13-01,7,7.1,6.9,7.0,100",  # no such date
            "600000.XSHG,2024-06-05,x,7.1,6.9,7.0,100",  # not a number
            "600000.XSHG,2024-06-06,7,7.1,6.9,7.0",  # short line
            "600000.BJ,2024-06-07,7,7.1,6.9,7.0,100",  # Beijing
            "600000.XSHG,2024-06-07 12:00,7,7.1,6.9,7.0,100",  # a time on a daily file
            "600000.XSHG,2024-06-11,7,7.1,6.9,7.0,100",
        ]
    )
    result = parse_csv(text, "1d")
    assert len(result.bars) == 2 and result.skipped == 6
    assert [b.line for b in result.bad_lines] == [3, 4, 5, 6, 7]
    assert "价格不一致" in result.bad_lines[0].reason


def test_minute_times_outside_the_sessions_are_bad_lines():
    text = "code,datetime,open,high,low,close,volume\n600000.XSHG,2024-06-04 12:00,7,7,7,7,1\n600000.XSHG,2024-06-04 13:01,7,7,7,7,1\n"
    result = parse_csv(text, "1m")
    assert (
        len(result.bars) == 1 and result.skipped == 1 and "交易时段" in result.bad_lines[0].reason
    )


def test_whole_file_problems_raise_with_the_path(tmp_path):
    with pytest.raises(CsvImportError, match="missing.csv"):
        read_csv(tmp_path / "missing.csv", "1d")
    odd = tmp_path / "odd.csv"
    odd.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    with pytest.raises(CsvImportError, match="找不到表头"):
        read_csv(odd, "1d")
    no_code = tmp_path / "no_code.csv"
    no_code.write_text("日期,开盘,最高,最低,收盘,成交量\n2024-06-04,1,1,1,1,1\n", encoding="utf-8")
    with pytest.raises(CsvImportError, match="--code"):
        read_csv(no_code, "1d")
