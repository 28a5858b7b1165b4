from __future__ import annotations

import argparse
import contextlib
import io

import data_support as support
import pendulum
import pytest

from jqtrade.data.cache import BarCache
from jqtrade.data.cli import add_data_parser, run_data
from jqtrade.data.models import BarUnit
from jqtrade.data.sources.mootdx import MootdxSource

NOW = pendulum.datetime(2024, 6, 7, 16, tz="Asia/Shanghai")


def parse(argv):
    parser = argparse.ArgumentParser(prog="jqtrade")
    add_data_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def run(argv, **kwargs):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = run_data(parse(argv), **kwargs)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture
def fake_mootdx():
    client = support.FakeMootdxClient()
    return client, {"mootdx": lambda: MootdxSource(client=client, calendar=support.calendar())}


def test_handler_is_set_for_the_top_level_main():
    args = parse(["data", "show", "600000.XSHG"])
    assert args.handler is run_data and args.unit == "1d" and args.count == 20


def test_works_with_jqtrades_chinese_parser():
    from jqtrade.cli import _Parser

    parser = _Parser(prog="jqtrade")
    add_data_parser(parser.add_subparsers(dest="command", parser_class=_Parser))
    help_text = io.StringIO()
    with contextlib.redirect_stdout(help_text), pytest.raises(SystemExit):
        parser.parse_args(["data", "fetch", "-h"])
    assert "行情源" in help_text.getvalue() and "--runtime-dir" in help_text.getvalue()


def test_fetch_fills_the_cache_incrementally(tmp_path, fake_mootdx):
    client, sources = fake_mootdx
    argv = [
        "data",
        "fetch",
        "--source",
        "mootdx",
        "--codes",
        "600000.XSHG,000001.SZ",
        "--start",
        "2024-05-27",
        "--end",
        "2024-06-07",
        "--unit",
        "1d",
        "--runtime-dir",
        str(tmp_path),
    ]
    status, out, err = run(argv, sources=sources, now=NOW)
    assert status == 0, err
    assert "完成：2/2" in out and "新下载 10 个交易日" in err
    with BarCache.in_runtime_dir(tmp_path) as cache:
        assert cache.extent("000001.XSHE", BarUnit.d1)[2] == 10
    calls = len(client.calls)
    status, out, err = run(argv, sources=sources, now=NOW)
    assert status == 0 and len(client.calls) == calls and "10 个交易日已在缓存中" in err


def test_fetch_failure_is_reported_with_status_1(tmp_path, fake_mootdx):
    client, sources = fake_mootdx
    client.broken = True
    status, out, err = run(
        [
            "data",
            "fetch",
            "--source",
            "mootdx",
            "--codes",
            "600000.XSHG",
            "--start",
            "2024-06-03",
            "--runtime-dir",
            str(tmp_path),
        ],
        sources=sources,
        now=NOW,
    )
    assert status == 1 and "下载中断" in err and "完成：0/1" in out


def test_bad_input_prints_one_chinese_line_and_returns_2(tmp_path):
    status, out, err = run(
        [
            "data",
            "fetch",
            "--source",
            "mootdx",
            "--codes",
            "600000",
            "--start",
            "2024-06-03",
            "--runtime-dir",
            str(tmp_path),
        ],
        now=NOW,
    )
    assert status == 2 and err.startswith("错误：") and "交易所后缀" in err
    status, _, err = run(
        [
            "data",
            "fetch",
            "--source",
            "mootdx",
            "--codes",
            "600000.XSHG",
            "--start",
            "6/3",
            "--runtime-dir",
            str(tmp_path),
        ],
        now=NOW,
    )
    assert status == 2 and "YYYY-MM-DD" in err


def test_missing_library_names_the_extra(tmp_path):
    status, _, err = run(
        [
            "data",
            "fetch",
            "--source",
            "akshare",
            "--codes",
            "600000.XSHG",
            "--start",
            "2024-06-03",
            "--runtime-dir",
            str(tmp_path),
        ],
        now=NOW,
    )
    assert status == 2 and 'pip install "jqtrade[akshare]"' in err


def test_import_then_show(tmp_path):
    csv_file = tmp_path / "bars.csv"
    csv_file.write_bytes(
        "日期,开盘,最高,最低,收盘,成交量,成交额\n2024-06-03,7.00,7.10,6.90,7.05,1000,700000\n"
        "2024-06-04,7.05,7.20,7.00,7.10,1200,850000\n2024-06-05,坏,7.2,7.0,7.1,1,1\n".encode("gbk")
    )
    status, out, _ = run(
        [
            "data",
            "import",
            str(csv_file),
            "--unit",
            "1d",
            "--code",
            "600000.XSHG",
            "--lots",
            "--runtime-dir",
            str(tmp_path),
        ]
    )
    assert status == 0
    assert (
        "已导入 2 根 1d K 线（600000.XSHG），文件编码 gbk" in out
        and "跳过 1 行" in out
        and "第 4 行" in out
    )
    status, out, _ = run(["data", "show", "600000.SH", "--runtime-dir", str(tmp_path)])
    assert status == 0 and "2024-06-04" in out and "7.10" in out and "120,000" in out


def test_show_without_bars_says_what_to_do(tmp_path):
    status, out, _ = run(
        ["data", "show", "600000.XSHG", "--unit", "5m", "--runtime-dir", str(tmp_path)]
    )
    assert status == 1 and "jqtrade data fetch" in out
