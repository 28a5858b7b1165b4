"""The order list of a run's summary: a file that cannot be written is said and skipped."""

from __future__ import annotations

import csv
import logging
from pathlib import Path

from jqtrade.tasks.summary import ORDER_COLUMNS, _OrderFile


def test_the_order_list_is_csv_with_a_bom_and_the_tables_columns(tmp_path: Path):
    path = tmp_path / "orders.csv"
    with _OrderFile(path) as written:
        written.add(
            [
                "2024-06-03",
                "2406030001",
                "600000.XSHG",
                "买入",
                "100",
                "对手价",
                "100",
                "10.010",
                "已成交",
                "含,逗号",
            ]
        )
    assert written.ok
    assert path.read_bytes().startswith("\ufeff".encode())
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == list(ORDER_COLUMNS) and rows[1][-1] == "含,逗号"


def test_an_unwritable_order_list_is_logged_once_and_the_summary_goes_on(tmp_path: Path, caplog):
    path = tmp_path / "no-such-folder" / "orders.csv"
    with caplog.at_level(logging.WARNING, logger="jqtrade.task"):
        with _OrderFile(path) as written:
            written.add(["x"] * len(ORDER_COLUMNS))
            written.add(["y"] * len(ORDER_COLUMNS))
    assert not written.ok and not path.exists()
    (record,) = [r for r in caplog.records if "订单列表" in r.getMessage()]
    assert str(path) in record.getMessage() and "运行汇总照常显示" in record.getMessage()


def test_no_order_list_when_told_not_to(tmp_path: Path):
    with _OrderFile(None) as written:
        written.add(["x"] * len(ORDER_COLUMNS))
    assert not written.ok and list(tmp_path.iterdir()) == []
