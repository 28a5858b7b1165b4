"""What a strategy sees about its money: freshness, the overlay of its own orders, ids that
cannot collide, reports that must match, and journal failures that lose nothing."""

from __future__ import annotations

import datetime
import logging
from pathlib import Path
from typing import Any, Optional

import attrs
import pendulum
import pytest
from account_support import T0, close_accounts, make_account  # noqa: F401 - close_accounts: autouse fixture
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jqtrade import GateError, LimitOrderStyle, OrderRejectedError
from jqtrade.account.journal import OrderJournal
from jqtrade.clock import MARKET_TZ, SimClock
from jqtrade.errors import GateWriteError, OrderNotFoundError, SnapshotUnusableError
from jqtrade.gates.fake import FakeTradeGate
from jqtrade.model.orders import OrderAction, OrderStatus
from jqtrade.model.reports import BalanceReport, OrderReport
from jqtrade.options import Options

CODES = ("600000.XSHG", "000001.XSHE")


class LaggingGate(FakeTradeGate):
    """A broker whose snapshots and reports reach jqtrade late, or not at all.

    ``capture_*`` takes what the broker would publish now; ``sync_*`` hands over the chosen
    capture (the newest by default). ``fail_balance`` makes ``sync_balance`` raise the way an
    incomplete OneQuant file does."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.snapshots: list[BalanceReport] = []
        self.reports: list[list[OrderReport]] = []
        self.deliver_snapshot: Optional[int] = None
        self.deliver_reports: Optional[int] = None
        self.fail_balance: Optional[str] = None

    def capture_snapshot(self) -> int:
        self.snapshots.append(self.peek_balance())
        return len(self.snapshots) - 1

    def capture_reports(self) -> int:
        self.reports.append(self.peek_orders())
        return len(self.reports) - 1

    def sync_balance(self) -> BalanceReport:
        if self.fail_balance:
            raise SnapshotUnusableError(self.fail_balance)
        if not self.snapshots:
            return self.peek_balance()
        return self.snapshots[-1 if self.deliver_snapshot is None else self.deliver_snapshot]

    def sync_orders(self) -> list[OrderReport]:
        if not self.reports:
            return []
        return self.reports[-1 if self.deliver_reports is None else self.deliver_reports]


def lagging(**kwargs: Any) -> LaggingGate:
    defaults: dict[str, Any] = dict(
        cash=100_000,
        positions={"600000.XSHG": {"total_amount": 1000, "closeable_amount": 1000, "avg_cost": 8}},
        prices={"600000.XSHG": 8.0, "000001.XSHE": 10.0},
        auto_accept=False,
        auto_cancel=False,
    )
    defaults.update(kwargs)
    return LaggingGate(**defaults)


# --- 1. freshness --------------------------------------------------------------------------


def test_a_failed_snapshot_read_keeps_the_old_snapshot_and_says_why(tmp_path):
    gate = lagging()
    clock = SimClock(T0)
    account = make_account(tmp_path, gate, clock=clock)
    good = account.portfolio
    assert not good.is_stale and good.as_of == T0 and good.last_sync_time == T0
    clock.advance(5)
    gate.fail_balance = "positionInfo_20240603.csv 不完整（没有结束行）"
    stale = account.sync_balance()
    assert stale.is_stale and "positionInfo_20240603.csv" in stale.stale_reason
    assert stale.as_of == T0 and stale.last_sync_time == T0  # neither moved
    assert stale.long_positions["600000.XSHG"].total_amount == 1000
    gate.fail_balance = None
    clock.advance(5)
    fresh = account.sync_balance()
    assert not fresh.is_stale and fresh.as_of == T0.add(seconds=10)


def test_sizing_helpers_refuse_an_old_snapshot_but_plain_orders_go(tmp_path):
    gate = lagging()
    clock = SimClock(T0)
    account = make_account(tmp_path, gate, clock=clock)
    gate.capture_snapshot()  # frozen at T0 from now on: OneQuant stopped writing
    clock.advance(61)
    assert account.portfolio.is_stale and "61 秒" in account.portfolio.stale_reason
    for call in (
        lambda: account.order_target("600000.XSHG", 2000, LimitOrderStyle(8.0)),
        lambda: account.order_value("600000.XSHG", 8000, LimitOrderStyle(8.0)),
    ):
        with pytest.raises(OrderRejectedError) as info:
            call()
        assert info.value.reason == "stale_position" and "max_snapshot_age" in info.value.message
    assert account.order("600000.XSHG", 100, LimitOrderStyle(8.0))  # not blocked
    gate.snapshots.clear()  # the broker writes again: the helper reads once before refusing
    assert (
        account.order_target("600000.XSHG", 1000, LimitOrderStyle(8.0)) is not None
    )  # a sell of 100


def test_max_snapshot_age_none_turns_the_refusal_off(tmp_path):
    gate = lagging()
    clock = SimClock(T0)
    account = make_account(tmp_path, gate, clock=clock, max_snapshot_age=None)
    gate.capture_snapshot()
    clock.advance(3600)
    assert not account.portfolio.is_stale
    assert account.order_target("600000.XSHG", 1100, LimitOrderStyle(8.0)) is not None


@pytest.mark.parametrize("bad", [0, -1, "60", float("nan"), True])
def test_max_snapshot_age_bad_values_are_refused_by_name(bad):
    with pytest.raises(ValueError) as info:
        Options().evolve({"max_snapshot_age": bad})
    assert "max_snapshot_age" in str(info.value)


def test_repeated_failures_are_logged_once_then_once_a_minute_and_recovery_once(tmp_path, caplog):
    gate = lagging()
    clock = SimClock(T0)
    account = make_account(tmp_path, gate, clock=clock)
    gate.fail_balance = "assetInfo_20240603.csv 不完整"
    with caplog.at_level(logging.DEBUG, logger="jqtrade.account"):
        for _ in range(30):  # 30 failures over 150 s
            account.sync_balance()
            clock.advance(5)
        warnings = [
            r
            for r in caplog.records
            if r.levelno == logging.WARNING and "assetInfo" in r.getMessage()
        ]
        assert len(warnings) == 3  # the first, then once a minute
        assert "又出现 12 次" in warnings[1].getMessage()
        caplog.clear()
        gate.fail_balance = None
        account.sync_balance()
        account.sync_balance()
    infos = [r for r in caplog.records if "恢复正常" in r.getMessage()]
    assert len(infos) == 1 and infos[0].levelno == logging.INFO


def test_failures_before_the_first_success_are_quiet_and_the_first_success_is_no_recovery(
    tmp_path, caplog
):
    gate = lagging()
    gate.fail_balance = "positionInfo_20240603.csv 不存在"  # a simulator that has not written yet
    clock = SimClock(T0)
    with caplog.at_level(logging.INFO, logger="jqtrade.account"):
        account = make_account(tmp_path, gate, clock=clock)
        clock.advance(3)
        account.sync_balance()
        gate.fail_balance = None
        account.sync_balance()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "恢复正常" not in caplog.text
    assert not account.portfolio.is_stale


# --- 2. the overlay ------------------------------------------------------------------------


def test_own_sell_and_buy_show_at_once_and_release_on_cancel_and_reject(tmp_path):
    gate = lagging()
    account = make_account(tmp_path, gate)
    sell = account.order("600000.XSHG", -300, LimitOrderStyle(8.0))
    position = account.portfolio.long_positions["600000.XSHG"]
    assert (position.total_amount, position.closeable_amount) == (1000, 700)
    with pytest.raises(OrderRejectedError) as info:
        account.order("600000.XSHG", -800, LimitOrderStyle(8.0))
    assert info.value.reason == "not_enough_closeable"
    buy = account.order("000001.XSHE", 1000, LimitOrderStyle(10.0))
    reserve = 10_000 + 5 + 0.10  # 1000 x 10.00, plus fees: the 5-yuan minimum and the transfer fee
    assert account.portfolio.available_cash == pytest.approx(100_000 - reserve)
    assert account.portfolio.locked_cash == pytest.approx(reserve)

    gate.cancel_order(sell)
    gate.complete_cancel(sell)
    gate.reject(buy, "资金不足")
    gate.capture_reports()
    account.sync_orders()
    assert account.portfolio.long_positions["600000.XSHG"].closeable_amount == 1000
    assert account.portfolio.available_cash == pytest.approx(100_000)


def test_fills_after_the_snapshot_move_shares_and_cash_without_double_counting(tmp_path):
    gate = lagging()
    clock = SimClock(T0)
    account = make_account(tmp_path, gate, clock=clock)
    oid = account.order("000001.XSHE", 500, LimitOrderStyle(10.0))
    clock.advance(1)
    gate.step()
    gate.fill(oid, 200, 10.0)
    gate.capture_reports()
    account.sync_orders()  # the snapshot is still the one from before the order
    position = account.portfolio.long_positions["000001.XSHE"]
    assert (position.total_amount, position.closeable_amount) == (200, 0)  # T+1
    clock.advance(1)
    gate.capture_snapshot()  # a snapshot that already holds the fill and the frozen rest
    account.sync_balance()
    view = account.portfolio
    truth = gate.peek_balance()
    assert view.long_positions["000001.XSHE"].total_amount == 200
    assert view.available_cash == pytest.approx(float(truth.available_cash))
    assert view.locked_cash == pytest.approx(float(truth.locked_cash))


def test_order_target_every_minute_with_a_late_snapshot_never_overbuys(tmp_path):
    """The incident: fills happened, the positions file stayed old, order_target ran every
    minute. Now the target is reached once, whatever the snapshot does."""
    gate = lagging(positions={})
    clock = SimClock(T0)
    account = make_account(tmp_path, gate, clock=clock, max_snapshot_age=None)
    gate.capture_snapshot()  # the broker's snapshot never moves again
    for minute in range(10):
        account.order_target("600000.XSHG", 1000, LimitOrderStyle(8.0))
        if minute == 3:
            gate.step()
            (oid,) = account.get_orders().keys()
            gate.fill(oid, 400, 8.0)
        if minute == 6:
            gate.fill(oid, 600, 8.0)
        gate.capture_reports()
        account.sync_orders()
        account.sync_balance()
        clock.advance(60)
    bought = sum(row.amount for row in gate.peek_orders())
    assert bought == 1000
    assert account.portfolio.long_positions["600000.XSHG"].total_amount == 1000


# hypothesis: a broker whose reports and snapshots arrive early, late or never ---------------

_step = st.one_of(
    st.tuples(
        st.just("order"), st.sampled_from(CODES), st.integers(-6, 6).filter(bool), st.integers(0, 3)
    ),
    st.tuples(st.just("accept"), st.integers(0, 50)),
    st.tuples(st.just("fill"), st.integers(0, 50), st.integers(1, 6)),
    st.tuples(st.just("cancel"), st.integers(0, 50)),
    st.tuples(st.just("reject"), st.integers(0, 50)),
    st.tuples(st.just("publish_reports")),
    st.tuples(st.just("publish_snapshot")),
    st.tuples(st.just("deliver_reports"), st.integers(0, 50)),
    st.tuples(st.just("deliver_snapshot"), st.integers(0, 50)),
    st.tuples(st.just("tick")),
)


def _held(balance: BalanceReport) -> dict[str, tuple[int, int]]:
    return {row.code: (row.total_amount, row.closeable_amount) for row in balance.positions}


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(_step, max_size=60))
def test_overlay_matches_the_broker_whatever_the_timing(tmp_path_factory, steps):
    gate = lagging(positions={"600000.XSHG": 1000, "000001.XSHE": 500}, cash=50_000)
    clock = SimClock(T0)
    account = make_account(
        tmp_path_factory.mktemp("overlay"), gate, clock=clock, max_snapshot_age=None
    )
    truth_at: dict[pendulum.DateTime, BalanceReport] = {T0: gate.peek_balance()}
    snapshot_time = T0
    report_time: Optional[pendulum.DateTime] = None
    published_reports: list[pendulum.DateTime] = []
    published_snapshots: list[pendulum.DateTime] = []
    accepted: set[str] = set()  # orders a delivered report shows the broker accepted
    for step in steps:
        clock.advance(0.001)  # every event has its own instant, as on a real broker
        kind = step[0]
        orders = [
            row.order_id
            for row in gate.peek_orders()
            if row.status not in ("filled", "canceled", "partly_canceled", "rejected")
        ]
        pick = (
            orders[step[1] % len(orders)]
            if orders and kind in ("accept", "fill", "cancel", "reject")
            else None
        )
        if kind == "order":
            _, code, lots, tick = step
            try:
                account.order(code, lots * 100, LimitOrderStyle(8.0 + tick / 100))
            except OrderRejectedError:
                pass
        elif kind == "accept" and pick and gate.order_report(pick).status == "new":
            gate.accept(pick)
        elif kind == "fill" and pick:
            row = gate.order_report(pick)
            if row.status != "new":
                left = row.amount - row.filled_amount
                gate.fill(pick, min(left, step[2] * 100))
        elif kind == "cancel" and pick:
            gate.cancel_order(pick)
            gate.complete_cancel(pick)
        elif kind == "reject" and pick:
            row = gate.order_report(pick)
            if row.filled_amount == 0 and row.status in ("new", "open"):
                gate.reject(pick)
        elif kind == "publish_reports":
            gate.capture_reports()
            published_reports.append(clock.now())
        elif kind == "publish_snapshot":
            gate.capture_snapshot()
            published_snapshots.append(clock.now())
        elif kind == "deliver_reports" and published_reports:
            index = step[1] % len(published_reports)
            gate.deliver_reports = index
            account.sync_orders()
            when = published_reports[index]
            report_time = when if report_time is None else max(report_time, when)
            accepted |= {row.order_id for row in gate.reports[index] if row.status != "new"}
        elif kind == "deliver_snapshot" and published_snapshots:
            index = step[1] % len(published_snapshots)
            gate.deliver_snapshot = index
            account.sync_balance()
            snapshot_time = max(snapshot_time, published_snapshots[index])
        elif kind == "tick":
            clock.advance(1)
        truth_at[clock.now()] = gate.peek_balance()
        unaccepted = {o.order_id for o in account.get_orders() if not o.is_final} - accepted

        # the view equals the broker as of the newest information jqtrade has
        known = snapshot_time if report_time is None else max(snapshot_time, report_time)
        truth = _held(truth_at[known])
        view = account.portfolio
        for code in CODES:
            held, sellable = truth.get(code, (0, 0))
            mine = view.long_positions[code]
            assert 0 <= mine.closeable_amount <= mine.total_amount
            assert mine.total_amount == held
            assert mine.closeable_amount <= sellable
            if not unaccepted:
                assert mine.closeable_amount == sellable
        assert view.available_cash <= float(truth_at[known].available_cash) + 0.005

    # a complete snapshot after the last report: the view is the broker's, exactly
    gate.step()
    clock.advance(1)
    gate.capture_reports()
    gate.deliver_reports = None
    account.sync_orders()
    clock.advance(1)
    gate.capture_snapshot()
    gate.deliver_snapshot = None
    account.sync_balance()
    truth = gate.peek_balance()
    view = account.portfolio
    assert {
        c: (p.total_amount, p.closeable_amount) for c, p in view.long_positions.items()
    } == _held(truth)
    assert view.available_cash == pytest.approx(float(truth.available_cash))
    assert view.locked_cash == pytest.approx(float(truth.locked_cash))


# --- 3. ids and reports that must match ------------------------------------------------------


class SharedFolderGate(FakeTradeGate):
    """Two tasks with different runtime folders writing into one broker folder."""

    def __init__(self, folder: Path, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._shared = folder / "jqtrade_order_ids"

    @property
    def order_id_dir(self) -> Path:
        return self._shared


def test_two_tasks_with_different_runtime_dirs_never_send_the_same_id(tmp_path):
    broker = tmp_path / "broker"
    accounts = [
        make_account(
            tmp_path, SharedFolderGate(broker, cash=10**7), task=name, runtime_dir=tmp_path / name
        )
        for name in ("a", "b")
    ]
    ids = [
        account.order("600000.XSHG", 100, LimitOrderStyle(8.0))
        for _ in range(150)
        for account in accounts
    ]
    assert len(set(ids)) == len(ids)


def test_an_id_kept_from_yesterday_does_not_cancel_an_order_of_today(tmp_path):
    gate = lagging(auto_accept=True)
    clock = SimClock(T0)
    account = make_account(tmp_path, gate, clock=clock)
    yesterday = account.order("600000.XSHG", 100, LimitOrderStyle(8.0))
    clock.advance(24 * 3600)
    gate.new_day()
    today = account.order("600000.XSHG", 100, LimitOrderStyle(8.0))
    assert today != yesterday and today.startswith("240604") and yesterday.startswith("240603")
    with pytest.raises(OrderNotFoundError) as info:
        account.cancel_order(yesterday)
    assert "2024-06-03" in str(info.value)
    assert account.get_orders()[today].status == "new"


@pytest.mark.parametrize(
    "change,why",
    [
        ({"code": "000001.XSHE"}, "证券代码"),
        ({"action": OrderAction.close}, "买卖方向"),
        ({"amount": 900}, "委托数量"),
    ],
)
def test_a_report_that_does_not_match_what_we_sent_is_ignored_and_logged_once(
    tmp_path, caplog, change, why
):
    gate = lagging()
    account = make_account(tmp_path, gate)
    oid = account.order("600000.XSHG", 100, LimitOrderStyle(8.0))
    foreign = attrs.evolve(
        gate.peek_orders()[0], status=OrderStatus.rejected, err_msg="重复的委托编号", **change
    )
    gate.reports.append([foreign])
    with caplog.at_level(logging.WARNING, logger="jqtrade.account"):
        account.sync_orders()
        account.sync_orders()
    assert account.get_orders()[oid].status == "new"
    assert caplog.text.count(why) == 1


# --- 5. journal and gate write failures -----------------------------------------------------


def _break_journal(monkeypatch: pytest.MonkeyPatch, kinds: set[str]) -> list[str]:
    """Make writes of journal records of ``kinds`` fail (disk full) while the returned list
    is non-empty."""
    broken = ["on"]
    original = OrderJournal._write_all
    markers = [f'"t":"{kind}"'.encode() for kind in kinds]

    def failing(handle: Any, data: bytes) -> None:
        if broken and any(marker in data for marker in markers):
            raise OSError(28, "No space left on device")
        original(handle, data)

    monkeypatch.setattr(OrderJournal, "_write_all", staticmethod(failing))
    return broken


def test_sent_but_not_journaled_returns_the_id_and_blocks_new_orders_until_writable(
    tmp_path, monkeypatch, caplog
):
    gate = lagging()
    account = make_account(tmp_path, gate)
    broken = _break_journal(monkeypatch, {"sent"})  # the intent got through, then the disk filled
    with caplog.at_level(logging.CRITICAL, logger="jqtrade.account"):
        oid = account.order("600000.XSHG", 100, LimitOrderStyle(8.0))
    assert oid and [r for r in caplog.records if r.levelno == logging.CRITICAL]
    assert [row.order_id for row in gate.peek_orders()] == [oid]  # sent exactly once
    with pytest.raises(OrderRejectedError) as info:
        account.order("600000.XSHG", 100, LimitOrderStyle(8.0))
    assert info.value.reason == "journal_unwritable"
    broken.clear()  # space freed
    again = account.order("600000.XSHG", 100, LimitOrderStyle(8.0))
    assert again != oid and len(gate.peek_orders()) == 2
    assert f'"t":"sent","id":"{oid}"' in account._journal.path.read_text(encoding="utf-8")


def test_a_report_that_cannot_be_journaled_is_kept_and_its_hooks_fire_exactly_once(
    tmp_path, monkeypatch
):
    gate = lagging()
    fired: list[tuple[str, Any]] = []
    account = make_account(tmp_path, gate, notify=lambda hook, value: fired.append((hook, value)))
    oid = account.order("600000.XSHG", 100, LimitOrderStyle(8.0))
    gate.step()
    gate.fill(oid, 100, 8.0)
    gate.capture_reports()
    broken = _break_journal(monkeypatch, {"state"})
    account.sync_orders()
    assert account.get_orders()[oid].status == "filled"  # applied in memory
    assert fired == []  # held back until journaled
    account.sync_orders()
    assert fired == []
    broken.clear()
    account.sync_orders()
    account.sync_orders()
    assert [hook for hook, _ in fired] == ["on_order_update", "on_trade"]
    text = account._journal.path.read_text(encoding="utf-8")
    assert '"status":"filled"' in text


class WriteFailingGate(LaggingGate):
    """The order file write fails part way: the line may or may not be in the file."""

    def __init__(self, *, line_written: bool, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.line_written = line_written

    def order(self, request: Any) -> None:
        if self.line_written:
            super().order(request)
        raise GateWriteError(
            "algoOrder_20240603.csv", "磁盘已满（[Errno 28] No space left on device）"
        )

    def has_order(self, order_id: str) -> bool:
        return order_id in {row.order_id for row in self.peek_orders()}


@pytest.mark.parametrize("line_written", [True, False])
def test_a_failed_order_file_write_is_settled_from_the_broker_files(tmp_path, line_written):
    gate = WriteFailingGate(line_written=line_written, cash=100_000, prices={"600000.XSHG": 8.0})
    account = make_account(tmp_path, gate)
    with pytest.raises(GateWriteError) as info:
        account.order("600000.XSHG", 100, LimitOrderStyle(8.0))
    assert "algoOrder_20240603.csv" in str(info.value) and isinstance(info.value, GateError)
    (oid,) = account.get_orders().keys()
    assert account.get_orders()[oid].status == "new"  # not declared dead
    gate.step()
    gate.capture_reports()
    account.sync_orders()
    assert account.get_orders()[oid].status == ("open" if line_written else "rejected")


class UnsureGate(WriteFailingGate):
    """Asked whether an order arrived, it fails (its files unreadable just now)."""

    asking_fails = True

    def has_order(self, order_id: str) -> bool:
        if self.asking_fails:
            raise GateError("委托文件暂时无法读取")
        return super().has_order(order_id)


def test_a_gate_failing_to_say_whether_an_order_arrived_is_asked_again(tmp_path, caplog):
    gate = UnsureGate(line_written=False, cash=100_000, prices={"600000.XSHG": 8.0})
    account = make_account(tmp_path, gate)
    with pytest.raises(GateWriteError):
        account.order("600000.XSHG", 100, LimitOrderStyle(8.0))
    (oid,) = account.get_orders().keys()
    gate.capture_reports()
    with caplog.at_level(logging.WARNING, logger="jqtrade.account"):
        account.sync_orders()  # never raises
    assert account.get_orders()[oid].status == "new" and "委托文件暂时无法读取" in caplog.text
    gate.asking_fails = False
    account.sync_orders()
    assert account.get_orders()[oid].status == "rejected"


def test_reports_that_are_not_order_reports_are_skipped_and_logged_once(tmp_path, caplog):
    gate = lagging()
    account = make_account(tmp_path, gate)
    oid = account.order("600000.XSHG", 100, LimitOrderStyle(8.0))
    gate.step()
    (report,) = gate.peek_orders()
    gate.reports.append([{"order_id": oid, "status": "filled", "filled_amount": 100}, None, report])  # type: ignore[list-item]
    with caplog.at_level(logging.WARNING, logger="jqtrade.account"):
        account.sync_orders()
        account.sync_orders()
    assert account.get_orders()[oid].status == "open"  # the typed report applied, the dict not
    warnings = [r.getMessage() for r in caplog.records if "OrderReport" in r.getMessage()]
    assert len(warnings) == 2 and "dict" in warnings[0] and "NoneType" in warnings[1]


def test_order_ids_are_dated_and_day_only_rolls_forward(tmp_path):
    account = make_account(tmp_path, lagging())
    oid = account.order("600000.XSHG", 100, LimitOrderStyle(8.0))
    assert oid.isdigit() and oid[:6] == "240603" and datetime.date(2024, 6, 3) == account.day


def test_lending_cash_in_a_reverse_repo_shows_as_cash_gone_not_as_a_sell(tmp_path):
    gate = lagging()
    account = make_account(tmp_path, gate)
    account.order("204001.XSHG", -100, LimitOrderStyle(2.0))  # GC001: lend 100 张 x 100 yuan
    view = account.portfolio
    assert view.available_cash == pytest.approx(100_000 - 10_000)
    assert view.long_positions["600000.XSHG"].closeable_amount == 1000
    assert "204001.XSHG" not in view.long_positions


def test_order_value_rounds_to_the_lot_of_the_instrument(tmp_path):
    gate = lagging(cash=1_000_000)
    account = make_account(tmp_path, gate)
    account.order_value(
        "113050.XSHG", 12_345, LimitOrderStyle(120.0)
    )  # a convertible bond: lots of 10 张
    account.order_value("600000.XSHG", 12_345, LimitOrderStyle(8.0))
    assert [row.amount for row in gate.peek_orders()] == [100, 1500]


def test_a_fill_the_snapshot_already_holds_is_not_counted_twice_when_its_report_comes_later(
    tmp_path,
):
    """The broker filled, wrote its positions, and only then did jqtrade read the order line:
    the report's own broker time (``update_time``; OneQuant's updTime) tells it is contained."""
    gate = lagging(positions={})
    clock = SimClock(T0)
    account = make_account(tmp_path, gate, clock=clock)
    oid = account.order("600000.XSHG", 1000, LimitOrderStyle(8.0))
    clock.advance(1)
    gate.step()
    gate.fill(oid, 1000, 8.0)  # at the broker at 09:35:01
    clock.advance(1)
    gate.capture_snapshot()  # positions written at 09:35:02, holding the fill
    account.sync_balance()
    clock.advance(1)
    report = attrs.evolve(
        gate.peek_orders()[0], update_time=pendulum.datetime(2024, 6, 3, 9, 35, 1, tz=MARKET_TZ)
    )
    gate.reports.append([report])
    account.sync_orders()  # read at 09:35:03
    assert account.portfolio.long_positions["600000.XSHG"].total_amount == 1000
    assert account.order_target("600000.XSHG", 1000, LimitOrderStyle(8.0)) is None


def test_an_id_counter_that_stays_held_refuses_the_order_without_sending_it(tmp_path, monkeypatch):
    from jqtrade.account.ids import OrderIdAllocator
    from jqtrade.errors import JournalError

    gate = lagging()
    account = make_account(tmp_path, gate)

    def held(self: OrderIdAllocator) -> tuple[int, int]:
        raise JournalError("无法分配订单号：文件被占用")

    monkeypatch.setattr(OrderIdAllocator, "_reserve", held)
    monkeypatch.setattr(OrderIdAllocator, "allocate", lambda self: held(self)[0])
    with pytest.raises(OrderRejectedError) as info:
        account.order("600000.XSHG", 100, LimitOrderStyle(8.0))
    assert info.value.reason == "ids_unavailable" and gate.peek_orders() == []
