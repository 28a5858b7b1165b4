"""The orders of a run's summary: counted a day at a time in bounded memory, every one in a CSV
file, and a file that cannot be written said and skipped."""

from __future__ import annotations

import csv
import datetime
import logging
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from jqtrade.account.order import OrderSnapshot
from jqtrade.model.orders import LimitOrderStyle, OrderAction, OrderSide, OrderStatus
from jqtrade.tasks.summary import ORDER_COLUMNS, ORDER_ROWS, RunOrders

DAY = datetime.date(2024, 6, 3)


def snapshot(n: int, status: OrderStatus, filled: int, price: float = 10.0) -> OrderSnapshot:
    return OrderSnapshot(
        order_id=f"240603{n:04d}",
        code="600000.XSHG",
        side=OrderSide.long,
        action=OrderAction.open,
        amount=max(filled, 100),
        style=LimitOrderStyle(price),
        order_price=price,
        status=status,
        filled_amount=filled,
        canceled_amount=0,
        avg_price=price if filled else 0.0,
        deal_balance=price * filled,
        commission=0.0,
        err_msg="含,逗号" if n % 2 else "",
        create_time=None,
        entrust_time=None,
        broker_order_id="",
    )


def read(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


_ORDERS = st.lists(
    st.tuples(st.sampled_from([OrderStatus.filled, OrderStatus.canceled]), st.integers(0, 9)),
    max_size=60,
)


@settings(max_examples=40, deadline=None)
@given(days=st.lists(_ORDERS, min_size=1, max_size=5))
def test_every_order_is_counted_and_listed_and_only_the_last_rows_are_kept(days, tmp_path_factory):
    path = tmp_path_factory.mktemp("run") / "orders.csv"
    run = RunOrders(path)
    expected = []
    for d, orders in enumerate(days):
        day = DAY + datetime.timedelta(days=d)
        snaps = [snapshot(i, status, lots * 100) for i, (status, lots) in enumerate(orders)]
        run.add_day(day, snaps)
        expected += [(day.isoformat(), s.order_id, s.status.label, s.filled_amount) for s in snaps]
    run.close()
    rows = read(path)
    assert rows[0] == list(ORDER_COLUMNS)
    assert [(r[0], r[1], r[8], int(r[6])) for r in rows[1:]] == expected
    assert [row[1] for row in run.last] == [e[1] for e in expected][-ORDER_ROWS:]
    assert sum(run.statuses.values()) == len(expected)
    assert run.filled_shares == sum(e[3] for e in expected)
    assert run.filled_orders == sum(1 for e in expected if e[3])


def test_a_message_with_a_comma_stays_one_field(tmp_path: Path):
    run = RunOrders(tmp_path / "orders.csv")
    run.add_day(DAY, [snapshot(1, OrderStatus.rejected, 0)])
    run.close()
    assert read(tmp_path / "orders.csv")[1][-1] == "含,逗号"


def test_an_unwritable_order_list_is_logged_once_and_the_counts_go_on(tmp_path: Path, caplog):
    path = tmp_path / "no-such-folder" / "orders.csv"
    with caplog.at_level(logging.WARNING, logger="jqtrade.task"):
        run = RunOrders(path)
        run.add_day(
            DAY, [snapshot(1, OrderStatus.filled, 100), snapshot(2, OrderStatus.filled, 200)]
        )
        run.close()
    assert not run.file.ok and not path.exists()
    assert run.filled_shares == 300 and len(run.last) == 2
    (record,) = [r for r in caplog.records if "订单列表" in r.getMessage()]
    assert str(path) in record.getMessage() and "运行汇总照常显示" in record.getMessage()


def test_no_order_list_when_told_not_to(tmp_path: Path):
    run = RunOrders(None)
    run.add_day(DAY, [snapshot(1, OrderStatus.filled, 100)])
    run.close()
    assert not run.file.ok and list(tmp_path.iterdir()) == [] and run.filled_orders == 1
