"""The order journal (fsynced JSON lines, replay) and the order-id allocator."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
from decimal import Decimal
from pathlib import Path

import pendulum
import pytest
from held_files import hold_replace
from hypothesis import given
from hypothesis import strategies as st

from jqtrade.account.ids import OrderIdAllocator, format_order_id, order_id_day
from jqtrade.account.journal import (
    INTERRUPTED_MESSAGE,
    OrderJournal,
    RecoveredOrder,
)
from jqtrade.account.order import Order
from jqtrade.errors import JournalError
from jqtrade.fileio import RETRY_SECONDS, WINDOWS_RESERVED, safe_file_name
from jqtrade.model.orders import (
    LimitOrderStyle,
    MarketOrderStyle,
    OrderAction,
    OrderRequest,
    OrderStatus,
)
from jqtrade.model.reports import OrderReport

DAY = dt.date(2025, 3, 3)
T0 = pendulum.datetime(2025, 3, 3, 9, 31, tz="Asia/Shanghai")


def request(order_id: str, amount: int = 100, style=None) -> OrderRequest:
    return OrderRequest(
        order_id=order_id,
        code="000001.XSHE",
        action=OrderAction.open,
        amount=amount,
        style=style if style is not None else LimitOrderStyle(10.5),
        create_time=T0,
    )


# --- journal: records and replay ---------------------------------------------------------


def test_outcomes_after_replay(tmp_path):
    with OrderJournal(tmp_path, "demo", DAY) as journal:
        journal.record_intent(request("1"), at=T0)
        journal.record_sent("1", at=T0)
        journal.record_intent(request("2", style=MarketOrderStyle()))
        journal.record_send_failed("2", "连接失败")
        journal.record_intent(request("3"))  # then killed: no outcome
    recovered = OrderJournal(tmp_path, "demo", DAY).replay()
    assert list(recovered) == ["1", "2", "3"]
    assert recovered["1"].outcome == "sent" and recovered["1"].request == request("1")
    assert recovered["2"].outcome == "failed" and recovered["2"].send_error == "连接失败"
    assert recovered["2"].request.style == MarketOrderStyle()
    assert recovered["3"].outcome == "interrupted"

    assert recovered["1"].to_order().status is OrderStatus.new
    failed = recovered["2"].to_order()
    assert failed.status is OrderStatus.rejected and failed.err_msg == "连接失败"
    assert recovered["3"].to_order().status is OrderStatus.new  # the account decides
    assert "不会自动重发" in INTERRUPTED_MESSAGE


def test_state_and_cancel_records_restore_the_order(tmp_path):
    journal = OrderJournal(tmp_path, "demo", DAY)
    order = Order.from_request(request("5", amount=300))
    journal.record_intent(request("5", amount=300))
    journal.record_sent("5")
    order.apply_report(
        OrderReport(
            order_id="5",
            code="000001.XSHE",
            status=OrderStatus.filling,
            filled_amount=100,
            deal_balance=Decimal("1050.0"),
            broker_order_id="B5",
            entrust_time=T0,
        )
    )
    journal.record_state(order)
    order.mark_canceling()
    journal.record_cancel_requested("5")
    journal.close()

    restored = OrderJournal(tmp_path, "demo", DAY).replay()["5"].to_order()
    assert restored.status is OrderStatus.canceling
    assert restored.filled_amount == 100 and restored.deal_balance == 1050.0
    assert restored.broker_order_id == "B5" and restored.entrust_time == T0


def test_state_record_is_exact_and_keyed_like_a_report(tmp_path):
    journal = OrderJournal(tmp_path, "demo", DAY)
    order = Order.from_request(request("6"))
    journal.record_intent(request("6"))
    order.apply_report(
        OrderReport(
            order_id="6",
            code="000001.XSHE",
            status=OrderStatus.filled,
            filled_amount=100,
            deal_balance=Decimal("1050.10"),
            commission=Decimal("0.1"),
        )
    )
    journal.record_state(order)
    journal.close()
    record = json.loads(journal.path.read_bytes().splitlines()[-1])
    assert (
        record["t"] == "state" and record["status"] == "filled" and record["filled_amount"] == 100
    )
    assert record["deal_balance"] == "1050.10" and record["commission"] == "0.1"  # exact, as text
    assert not {"code", "action", "amount", "price"} & set(record)  # the intent holds those
    restored = journal.replay()["6"].to_order()
    assert restored.status is OrderStatus.filled and restored.deal_balance == Decimal("1050.10")
    assert restored.avg_price == Decimal("10.501") and restored.commission == Decimal("0.1")


def test_a_journal_of_the_previous_version_replays(tmp_path):
    """jqtrade before typed reports wrote money as JSON numbers and no update_time."""
    journal = OrderJournal(tmp_path, "demo", DAY)
    journal.record_intent(request("7", amount=300))
    journal.record_sent("7")
    journal.close()
    old = {
        "t": "state",
        "id": "7",
        "status": "filling",
        "filled_amount": 100,
        "canceled_amount": 0,
        "avg_price": 10.5,
        "deal_balance": 1050.0,
        "commission": 5.0,
        "err_msg": "",
        "broker_order_id": "B7",
        "entrust_time": T0.isoformat(),
    }
    with open(journal.path, "ab") as handle:
        handle.write(json.dumps(old).encode() + b"\n")
    restored = OrderJournal(tmp_path, "demo", DAY).replay()["7"].to_order()
    assert restored.status is OrderStatus.filling and restored.filled_amount == 100
    assert restored.deal_balance == Decimal("1050") and restored.avg_price == Decimal("10.5")
    assert (
        restored.commission == 5
        and restored.broker_order_id == "B7"
        and restored.entrust_time == T0
    )


def test_a_malformed_state_leaves_the_order_as_sent(tmp_path, caplog):
    journal = OrderJournal(tmp_path, "demo", DAY)
    journal.record_intent(request("8"))
    journal.close()
    with open(journal.path, "ab") as handle:
        handle.write(b'{"t":"state","id":"8","status":"filling","filled_amount":"lots"}\n')
    with caplog.at_level("WARNING", logger="jqtrade.account"):
        restored = OrderJournal(tmp_path, "demo", DAY).replay()["8"].to_order()
    assert restored.status is OrderStatus.new and restored.filled_amount == 0
    assert "filled_amount" in caplog.text


def test_torn_last_line_is_skipped_and_next_record_stands_alone(tmp_path, caplog):
    journal = OrderJournal(tmp_path, "demo", DAY)
    journal.record_intent(request("1"))
    journal.record_sent("1")
    journal.close()
    with open(journal.path, "ab") as handle:  # a write cut by kill -9
        handle.write(b'{"t":"intent","id":"2","code":"000001.XS')
    with caplog.at_level("WARNING", logger="jqtrade.account"):
        recovered = OrderJournal(tmp_path, "demo", DAY).replay()
    assert list(recovered) == ["1"] and caplog.records

    again = OrderJournal(tmp_path, "demo", DAY)
    again.record_intent(request("3"))
    again.close()
    recovered = again.replay()
    assert list(recovered) == ["1", "3"]
    assert recovered["3"].outcome == "interrupted"


def test_garbage_lines_are_skipped(tmp_path, caplog):
    journal = OrderJournal(tmp_path, "demo", DAY)
    journal.record_intent(request("1"))
    journal.close()
    with open(journal.path, "ab") as handle:
        handle.write(b"not json\n\xff\xfe\n[1,2]\n{}\n")
        handle.write(b'{"t":"sent","id":"99"}\n')  # no intent
        handle.write(b'{"t":"weird","id":"1"}\n')
        handle.write(b'{"t":"intent","id":"1","code":"x"}\n')  # duplicate intent
        handle.write(
            b'{"t":"intent","id":"4","code":"000001.XSHE","action":"open","amount":100,"style":{"type":"?"}}\n'
        )
        handle.write(b'{"t":"sent","id":"1"}\n')
    with caplog.at_level("WARNING", logger="jqtrade.account"):
        recovered = journal.replay()
    assert list(recovered) == ["1"] and recovered["1"].outcome == "sent"
    assert len(caplog.records) == 8


def test_missing_file_replays_empty(tmp_path):
    assert OrderJournal(tmp_path / "nowhere", "demo", DAY).replay() == {}


def test_each_record_is_on_disk_when_the_call_returns(tmp_path):
    journal = OrderJournal(tmp_path, "demo", DAY)
    for i in range(1, 4):
        journal.record_intent(request(str(i)))
        with open(journal.path, "rb") as other:  # an independent handle sees it at once
            lines = other.read().split(b"\n")
        assert lines[-1] == b"" and json.loads(lines[-2])["id"] == str(i)
    journal.close()


def test_replay_after_many_records(tmp_path):
    journal = OrderJournal(tmp_path, "demo", DAY)
    order_count = 300
    for i in range(1, order_count + 1):
        journal.record_intent(request(str(i)))
        if i % 3:
            journal.record_sent(str(i))
    journal.close()
    recovered = journal.replay()
    assert len(recovered) == order_count
    assert sum(r.outcome == "interrupted" for r in recovered.values()) == order_count // 3


def test_file_is_per_task_and_day_with_safe_names(tmp_path):
    a = OrderJournal(tmp_path, "双均线:策略/1", DAY)
    b = OrderJournal(tmp_path, "双均线_策略_1", DAY)
    c = OrderJournal(tmp_path, "双均线:策略/1", DAY + dt.timedelta(days=1))
    for journal in (a, b, c):
        journal.record_intent(request("1"))
        journal.close()
    assert len({a.path, b.path, c.path}) == 3
    assert a.path.parent == tmp_path and "双均线" in a.path.name and "20250303" in a.path.name


@pytest.mark.parametrize(
    "a, b",
    [("Demo", "demo"), ("CON", "con_"), ("策略.", "策略"), ("a:b", "a_b"), ("aux.txt", "aux_txt")],
)
def test_journal_names_differ_where_windows_compares_names(a, b, tmp_path):
    """Names that differ only in case (NTFS folds case) or in characters Windows forbids get
    different journals, each a valid Windows file name (the one sanitizer, jqtrade.fileio)."""
    pa, pb = OrderJournal(tmp_path, a, DAY).path, OrderJournal(tmp_path, b, DAY).path
    assert pa.name.casefold() != pb.name.casefold()
    for name, path in ((a, pa), (b, pb)):
        assert path.name == f"orders_{safe_file_name(name)}_20250303.jsonl"
        assert (
            not set(path.name) & set('<>:"/\\|?*')
            and path.name.split(".")[0].upper() not in WINDOWS_RESERVED
        )


def test_unwritable_journal_raises_journal_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    journal = OrderJournal(blocker / "sub", "demo", DAY)
    with pytest.raises(JournalError):
        journal.record_intent(request("1"))


def test_recovered_order_value():
    rec = RecoveredOrder(request=request("1"), outcome="sent")
    assert rec.order_id == "1" and not rec.cancel_requested


# --- order ids --------------------------------------------------------------------------------


def test_ids_carry_the_date_and_increase(tmp_path):
    alloc = OrderIdAllocator(tmp_path, DAY, block=3)
    prefix = f"{DAY:%y%m%d}"
    assert [alloc.allocate() for _ in range(7)] == [f"{prefix}{i:04d}" for i in range(1, 8)]
    assert order_id_day(f"{prefix}0001") == DAY


@given(
    st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31)),
    st.integers(1, 10**9),
    st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31)),
    st.integers(1, 10**9),
)
def test_ids_of_different_days_or_numbers_never_collide(day_a, n_a, day_b, n_b):
    a, b = format_order_id(day_a, n_a), format_order_id(day_b, n_b)
    assert a.isdigit() and len(a) <= 16
    assert (a == b) == ((day_a, n_a) == (day_b, n_b))
    assert order_id_day(a) == day_a


def test_ids_survive_restart_without_reuse(tmp_path):
    first = OrderIdAllocator(tmp_path, DAY, block=10)
    used = {first.allocate() for _ in range(4)}
    second = OrderIdAllocator(
        tmp_path, DAY, block=10
    )  # a restart: the rest of the block is skipped
    nxt = second.allocate()
    assert nxt not in used and int(nxt[6:]) == 11


def test_ids_of_different_days_differ(tmp_path):
    today = OrderIdAllocator(tmp_path, DAY).allocate()
    tomorrow = OrderIdAllocator(tmp_path, DAY + dt.timedelta(days=1)).allocate()
    assert today != tomorrow and today[6:] == tomorrow[6:] == "0001"


def test_two_allocators_in_one_process_interleave_without_duplicates(tmp_path):
    a = OrderIdAllocator(tmp_path, DAY, block=2)
    b = OrderIdAllocator(tmp_path, DAY, block=2)
    ids = [x.allocate() for _ in range(10) for x in (a, b)]
    assert len(set(ids)) == len(ids)
    for alloc_ids in (ids[0::2], ids[1::2]):
        assert [int(i) for i in alloc_ids] == sorted(int(i) for i in alloc_ids)


def test_corrupt_counter_refuses_to_restart_at_one(tmp_path):
    alloc = OrderIdAllocator(tmp_path, DAY)
    alloc.allocate()
    alloc.counter_path.write_bytes(b"\x00garbage")
    with pytest.raises(JournalError) as info:
        OrderIdAllocator(tmp_path, DAY).allocate()
    assert str(alloc.counter_path) in str(info.value)


def test_ids_wait_for_a_counter_file_held_by_another_program(tmp_path, monkeypatch):
    """Windows: an antivirus holding the counter file for a moment delays an id, never loses one."""
    alloc = OrderIdAllocator(tmp_path, DAY, block=2)
    first = [alloc.allocate() for _ in range(2)]
    held, fake = hold_replace(monkeypatch, 6, match=lambda p: p.suffix == ".counter")
    nxt = alloc.allocate()  # needs a new block: the counter is rewritten
    assert len(held.refused) == 6 and 0 < fake.waited < RETRY_SECONDS
    assert int(nxt) == int(first[-1]) + 1
    assert alloc.counter_path.read_bytes() == b"4\n"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_ids_fail_clearly_when_the_counter_stays_held(tmp_path, monkeypatch):
    alloc = OrderIdAllocator(tmp_path, DAY, block=2)
    used = {alloc.allocate() for _ in range(2)}
    held, fake = hold_replace(monkeypatch, None, match=lambda p: p.suffix == ".counter")
    with pytest.raises(JournalError) as info:
        alloc.allocate()
    message = str(info.value)
    assert str(alloc.counter_path) in message and "占用" in message
    assert RETRY_SECONDS - 1e-6 <= fake.waited < RETRY_SECONDS + 0.2
    assert alloc.counter_path.read_bytes() == b"2\n"  # no block was taken
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    held.left = 0  # the other program lets go: the next ids are new ones
    assert not {alloc.allocate() for _ in range(3)} & used


def test_bad_block_refused(tmp_path):
    with pytest.raises(ValueError):
        OrderIdAllocator(tmp_path, DAY, block=0)


def _allocate_many(directory: str, count: int, block: int, out: str) -> None:
    alloc = OrderIdAllocator(Path(directory), DAY, block=block)
    ids = [alloc.allocate() for _ in range(count)]
    Path(out).write_text("\n".join(ids), encoding="utf-8")


def test_processes_allocating_concurrently_never_share_an_id(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    outs = [tmp_path / f"out{i}.txt" for i in range(4)]
    procs = [
        ctx.Process(target=_allocate_many, args=(str(tmp_path), 300, 7, str(out))) for out in outs
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    per_process = [out.read_text(encoding="utf-8").split("\n") for out in outs]
    all_ids = [i for ids in per_process for i in ids]
    assert len(all_ids) == 1200 and len(set(all_ids)) == 1200
    for ids in per_process:
        numbers = [int(i) for i in ids]
        assert numbers == sorted(numbers)  # monotonic within a process
