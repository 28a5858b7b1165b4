"""The OneQuant gate against the simulated OneQuant over real files, driven by a simulated clock."""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onequant_support import configure, open_onequant

from jqtrade.clock import MARKET_TZ, SimClock
from jqtrade.errors import GateConfigError, GateError, OptionValueError, SnapshotUnusableError
from jqtrade.gates.onequant import OneQuantTradeGate
from jqtrade.gates.onequant.files import DayFiles, encode_rows
from jqtrade.gates.onequant.protocol import (
    ALGO_ORDER_HEADER,
    DEFAULT_ORDER_DIRS,
    EXEC_RESULT_HEADER,
    ORDER_UPDATE_HEADER,
)
from jqtrade.model.orders import (
    LimitOrderStyle,
    MarketOrderStyle,
    OrderAction,
    OrderRequest,
    OrderStatus,
)
from jqtrade.model.reports import OrderReport
from jqtrade.sim import SimulatedOneQuant
from jqtrade.testing.gate_contract import GateContract, check_balance_report, check_order_report

T0 = pendulum.datetime(2024, 6, 3, 10, 0, tz=MARKET_TZ)  # a Monday, continuous trading
PRICES = {"600000.XSHG": 10.0, "000001.XSHE": 20.0}


@attrs.define
class Env:
    clock: SimClock
    sim: SimulatedOneQuant
    gate: OneQuantTradeGate
    state: dict[str, OrderReport] = attrs.field(factory=dict)

    def step(self, seconds: float = 1.0) -> None:
        self.clock.advance(seconds)
        self.sim.poll(self.clock.now())

    def sync(self) -> dict[str, OrderReport]:
        """Apply reports the way the account does: whole states, never backwards from final."""
        for report in self.gate.sync_orders():
            check_order_report(report)
            known = self.state.get(report.order_id)
            if known is None or not known.status.is_final or report.status.is_final:
                self.state[report.order_id] = report
        return self.state

    def order(
        self,
        order_id: str,
        code: str,
        amount: int,
        style: Any,
        action: OrderAction = OrderAction.open,
    ) -> None:
        self.gate.order(
            OrderRequest(order_id=order_id, code=code, action=action, amount=amount, style=style)
        )


def make_env(
    directory: Path, *, encoding: str = "gbk", account: str = "123", **sim_options: Any
) -> Env:
    clock = SimClock(T0)
    options = {
        "cash": 100_000,
        "volatility": 0.0,
        "prices": PRICES,
        "positions": {"000001.XSHE": 1000},
    }
    options.update(sim_options)
    sim = SimulatedOneQuant(directory, account, encoding=encoding, **options)
    sim.poll(clock.now())
    gate = open_onequant(
        {"account_no": "123", "order_dir": str(directory), "file_encoding": encoding}, clock
    )
    return Env(clock, sim, gate)


@pytest.fixture
def env(tmp_path: Path) -> Env:
    return make_env(tmp_path)


# --- the contract suite ---------------------------------------------------------------------


class TestOneQuantGateContract(GateContract):
    code = "000001.XSHE"
    price = 19.5  # below the simulated ask of 20.01: rests until canceled
    amount = 100

    @pytest.fixture
    def gate(self, tmp_path: Path):
        self.env = make_env(tmp_path)
        yield self.env.gate
        self.env.gate.close()

    def broker_step(self, gate: Any) -> None:
        self.env.step()

    def add_foreign_order(self, gate: Any) -> None:
        self.env.sim.inject_foreign_order(self.env.clock.now(), "")
        self.env.sim.inject_foreign_order(self.env.clock.now(), "other-program-1")


# --- options --------------------------------------------------------------------------------


def test_account_no_is_required(tmp_path: Path) -> None:
    with pytest.raises(GateConfigError, match="account_no"):
        open_onequant({"order_dir": str(tmp_path)})


def test_missing_default_folders_are_listed(tmp_path: Path) -> None:
    if any(Path(d).is_dir() for d in DEFAULT_ORDER_DIRS):  # pragma: no cover - a OneQuant machine
        pytest.skip("本机存在 OneQuant 默认目录")
    with pytest.raises(GateConfigError) as info:
        open_onequant({"account_no": "1"})
    for folder in DEFAULT_ORDER_DIRS:
        assert folder in str(info.value)


@pytest.mark.parametrize(
    ("options", "word", "error"),
    [
        ({"order_dir": "/no/such/folder"}, "order_dir", GateConfigError),  # checked on the machine
        ({"counter_type": "U,M0"}, "counter_type", OptionValueError),  # would break the CSV line
        ({"counter_type": ""}, "counter_type", OptionValueError),
        ({"account_type": "FUTURE"}, "account_type", OptionValueError),
        ({"algo_type": "TWAP"}, "algo_type", OptionValueError),
        ({"file_encoding": "no-such-codec"}, "file_encoding", OptionValueError),
        ({"sync_retry_kwargs": {"max_attempts": 0}}, "max_attempts", OptionValueError),
        ({"wait_lock_time_out": -1}, "wait_lock_time_out", OptionValueError),
    ],
)
def test_bad_options_name_the_option(
    tmp_path: Path, options: dict[str, Any], word: str, error: type
) -> None:
    values = {"account_no": "1", "order_dir": str(tmp_path), **options}
    with pytest.raises(error, match=word):
        open_onequant(values)


def test_the_default_folders_of_every_known_install() -> None:
    assert DEFAULT_ORDER_DIRS == (
        r"C:\Ax\国投OneQuant\csvTemplate\DMA算法",  # after the 2024 rename; jqtrade 1.0.2's default
        r"C:\Ax\安信OneQuant\csvTemplate\DMA算法",  # the folder jqtrade 1.0's users were told about
        r"C:\Ax\安信OneQuant\AxOneQuant\csvTemplate\DMA算法",  # older installs
    )


def test_several_default_folders_present_take_the_first_and_say_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from jqtrade.gates.onequant import protocol

    folders = [tmp_path / name for name in ("guotou", "anxin", "old")]
    for folder in folders[1:]:
        folder.mkdir()
    monkeypatch.setattr(protocol, "DEFAULT_ORDER_DIRS", tuple(map(str, folders)))
    gate = OneQuantTradeGate()
    with caplog.at_level(logging.WARNING, logger="jqtrade.gates.onequant"):
        configure(gate, {"account_no": "1"})
    assert gate.order_dir == folders[1] and gate.config.order_dir == str(folders[1])
    assert any(
        str(folders[2]) in r.getMessage() and "order_dir" in r.getMessage() for r in caplog.records
    )


@pytest.mark.parametrize("counter", ["UMC", "UFC", "XX0", "UF0"])
def test_counter_types_jqtrade_1_allowed_are_sent_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, counter: str
) -> None:
    gate = OneQuantTradeGate()
    with caplog.at_level(logging.WARNING, logger="jqtrade.gates.onequant"):
        configure(gate, {"account_no": "1", "order_dir": str(tmp_path), "counter_type": counter})
    assert gate.config.counter_type == counter
    warned = [r.getMessage() for r in caplog.records if counter in r.getMessage()]
    assert len(warned) == 1, caplog.text
    if counter in ("UMC", "UFC"):
        assert "信用" in warned[0]


def test_the_default_counter_type_is_quiet(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="jqtrade.gates.onequant"):
        open_onequant({"account_no": "1", "order_dir": str(tmp_path), "counter_type": "UM0"})
    assert "counter_type" not in caplog.text


def test_options_from_gate_options_and_lead_defaults(tmp_path: Path) -> None:
    """Keys under ``gate_options`` (as jqtrade 1.x read them) reach the gate through the options."""
    from jqtrade.options import Options

    options = Options().evolve({"gate_options": {"account_no": "9", "order_dir": str(tmp_path)}})
    gate = OneQuantTradeGate()
    configure(gate, options.as_dict())
    assert (
        gate.config.account_no == "9"
        and gate.config.file_encoding == "gbk"
        and gate.config.counter_type == "UM0"
    )


# --- orders ---------------------------------------------------------------------------------


def test_limit_order_is_written_and_filled(env: Env) -> None:
    env.order("o1", "600000.XSHG", 300, LimitOrderStyle(10.5))
    line = env.gate.files.algo_order.read_text("gbk").splitlines()[1]
    assert line == "100000.000000,o1,UM0,123,600000.SH,1,300,DMA,AT,0,10.5,10.5"
    assert env.sync() == {}
    env.step()
    report = env.sync()["o1"]
    assert report.status == OrderStatus.filled
    assert (report.amount, report.filled_amount, report.avg_price) == (300, 300, Decimal("10.01"))
    assert report.code == "600000.XSHG" and report.action == "open" and report.broker_order_id
    assert report.update_time is not None and report.update_time.date() == T0.date()


@pytest.mark.parametrize("style", [LimitOrderStyle(0), MarketOrderStyle()])
def test_price_zero_and_market_orders_go_at_counterparty_price(env: Env, style: Any) -> None:
    env.order("o1", "000001.XSHE", 200, style, OrderAction.close)
    assert (
        env.gate.files.algo_order.read_text("gbk").splitlines()[1].endswith(",2,200,DMA,AT,0,0,0")
    )
    env.step()
    report = env.sync()["o1"]
    assert (
        report.status == "filled"
        and report.avg_price == Decimal("19.99")
        and report.price == Decimal("19.99")
    )


def test_cancel_open_order(env: Env) -> None:
    env.order("o1", "600000.XSHG", 100, LimitOrderStyle(9.0))
    env.step()
    assert env.sync()["o1"].status == "open"
    env.gate.cancel_order("o1")
    env.step()
    report = env.sync()["o1"]
    assert (
        report.status == "canceled" and report.canceled_amount == 100 and report.filled_amount == 0
    )
    env.gate.cancel_order("o1")  # already final: no error, the broker refuses it
    env.gate.cancel_order("never-placed")
    env.step()
    assert env.sync()["o1"].status == "canceled"


def test_cancel_after_partial_fill_ends_partly_canceled(tmp_path: Path) -> None:
    env = make_env(tmp_path, partial_fills=True)
    env.order("o1", "600000.XSHG", 1000, LimitOrderStyle(10.5))
    env.step()
    assert env.sync()["o1"].status == "filling"
    env.gate.cancel_order("o1")
    env.step()
    report = env.sync()["o1"]
    assert report.status == "partly_canceled"
    assert 0 < report.filled_amount < 1000
    assert report.filled_amount + report.canceled_amount == 1000


@pytest.mark.parametrize("encoding", ["gbk", "utf-8"])
def test_broker_rejections_carry_the_chinese_reason(tmp_path: Path, encoding: str) -> None:
    env = make_env(tmp_path, encoding=encoding)
    env.order("cash", "600000.XSHG", 100_000, LimitOrderStyle(10.0))
    env.order("lot", "600000.XSHG", 150, LimitOrderStyle(10.0))
    env.order("t1", "000001.XSHE", 5000, LimitOrderStyle(19.0), OrderAction.close)
    env.order("tick", "600000.XSHG", 100, LimitOrderStyle(10.005))
    env.step()
    state = env.sync()
    assert all(state[i].status == "rejected" for i in ("cash", "lot", "t1", "tick"))
    assert "可用资金不足" in state["cash"].err_msg
    assert "100 股" in state["lot"].err_msg
    assert "可卖数量不足" in state["t1"].err_msg
    assert "最小价格变动单位" in state["tick"].err_msg


def test_instruction_rejected_in_exec_result(tmp_path: Path) -> None:
    env = make_env(tmp_path, account="999")  # OneQuant has another account logged in
    env.order("o1", "600000.XSHG", 100, LimitOrderStyle(10.0))
    env.step()
    report = env.sync()["o1"]
    assert report.status == "rejected" and "未登录" in report.err_msg
    assert (report.code, report.amount, report.price) == ("600000.XSHG", 100, Decimal("10"))
    restarted = OneQuantTradeGate()  # the reject is rebuilt from the order file after a restart
    configure(restarted, {"account_no": "123", "order_dir": str(tmp_path)}, env.clock)
    assert [r.status for r in restarted.sync_orders() if r.order_id == "o1"] == ["rejected"]


def test_bad_requests_never_reach_the_file(env: Env) -> None:
    for order_id, code, style in [
        ("a,b", "600000.XSHG", LimitOrderStyle(10)),
        ("x", "430047.BJ", LimitOrderStyle(10)),
        ("y", "600000.XSHG", LimitOrderStyle(-1)),
    ]:
        with pytest.raises(GateError):
            env.order(order_id, code, 100, style)
    assert not env.gate.files.algo_order.exists()


def test_restart_reads_the_whole_day_again(env: Env) -> None:
    env.order("o1", "600000.XSHG", 100, LimitOrderStyle(10.5))
    env.order("o2", "600000.XSHG", 100, LimitOrderStyle(9.0))
    env.step()
    env.sync()
    fresh = open_onequant({"account_no": "123", "order_dir": str(env.sim.directory)}, env.clock)
    states = {r.order_id: r.status for r in fresh.sync_orders()}
    assert states == {"o1": "filled", "o2": "open"}
    assert fresh.sync_orders() == []


def test_foreign_lines_are_reported_or_ignored_never_crash(env: Env) -> None:
    env.order("o1", "600000.XSHG", 100, LimitOrderStyle(9.0))
    env.step()
    env.sim.inject_foreign_order(
        env.clock.now(), "o1", "5", account_no="777"
    )  # same id, other account
    env.sim.inject_foreign_order(env.clock.now(), "someone-else", "2")
    env.sim.inject_foreign_order(env.clock.now(), "")
    state = env.sync()
    assert state["o1"].status == "open"
    assert state["someone-else"].status == "filled"
    assert any(key == "" for key in state)


# --- balance --------------------------------------------------------------------------------


def test_balance_after_a_fill_and_t_plus_one(env: Env) -> None:
    balance = env.gate.sync_balance()
    check_balance_report(balance)
    assert (balance.total_value, balance.available_cash, balance.locked_cash) == (
        120_000,
        100_000,
        0,
    )
    assert all(
        isinstance(v, Decimal)
        for v in (balance.total_value, balance.available_cash, balance.locked_cash)
    )
    env.order("buy", "600000.XSHG", 1000, LimitOrderStyle(10.5))
    env.order("rest", "600000.XSHG", 1000, LimitOrderStyle(9.0))
    env.step(5)  # fills, and the snapshot interval passes
    balance = env.gate.sync_balance()
    assert balance.locked_cash == 9000 + 5  # the resting buy: amount + commission
    assert balance.available_cash == 100_000 - 10_010 - 5 - 9005
    positions = {p.code: p for p in balance.positions}
    assert positions["600000.XSHG"].total_amount == 1000
    assert positions["600000.XSHG"].closeable_amount == 0  # bought today: T+1
    assert positions["000001.XSHE"].closeable_amount == 1000


def test_incomplete_snapshot_is_an_error_never_the_last_good_one(tmp_path: Path) -> None:
    env = make_env(tmp_path)
    good = env.gate.sync_balance()
    assert good.as_of == T0  # the simulator's updTime
    path = env.gate.files.position_info
    path.write_bytes(path.read_bytes()[:-5])  # OneQuant is in the middle of rewriting it
    sleeps: list[float] = []
    env.gate = open_onequant(
        {"account_no": "123", "order_dir": str(tmp_path)}, env.clock, sleep=sleeps.append
    )
    with pytest.raises(SnapshotUnusableError) as info:
        env.gate.sync_balance()
    assert f"{path.name} 不完整" in str(info.value) and str(tmp_path) in str(info.value)
    assert sleeps == [0.15, 0.15]
    env.sim.write_snapshots(env.clock.now())
    assert env.gate.sync_balance() == good
    path.write_bytes(b"")
    with pytest.raises(SnapshotUnusableError, match="不完整"):  # no fallback to the good one
        env.gate.sync_balance()


def test_snapshot_without_our_account_names_the_accounts_seen(tmp_path: Path) -> None:
    env = make_env(tmp_path, account="999")
    with pytest.raises(GateError, match="999"):
        env.gate.sync_balance()


def test_missing_files_mean_empty_orders_and_a_clear_balance_error(tmp_path: Path) -> None:
    gate = open_onequant({"account_no": "1", "order_dir": str(tmp_path)}, SimClock(T0))
    assert gate.sync_orders() == [] and gate.sync_orders() == []
    with pytest.raises(GateError, match="不存在"):
        gate.sync_balance()


# --- days -----------------------------------------------------------------------------------


def test_day_switch_uses_new_files_and_fresh_offsets(env: Env) -> None:
    env.order("d1", "600000.XSHG", 100, LimitOrderStyle(9.0))
    env.step()
    assert env.sync()["d1"].status == "open"
    env.clock.advance(24 * 3600 - 60)  # 09:59 the next day
    env.sim.poll(env.clock.now())
    assert env.gate.files.day == T0.date().add(days=1)
    assert env.gate.sync_orders() == []  # yesterday's offsets are not applied to today's files
    env.order("d2", "600000.XSHG", 100, LimitOrderStyle(10.5))
    env.step()
    assert {r.order_id: r.status for r in env.gate.sync_orders()} == {"d2": "filled"}
    assert env.gate.files.algo_order.read_text("gbk").count("\n") == 2
    assert env.gate.sync_balance().locked_cash == 0  # yesterday's order expired


# --- the fault mode -------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fault_mode_converges(tmp_path: Path, seed: int) -> None:
    env = make_env(
        tmp_path, fault_mode=True, seed=seed, partial_fills=True, latency=1.0, snapshot_interval=2
    )
    placed = []
    for n in range(12):
        order_id = f"f{n}"
        price = LimitOrderStyle(10.5 if n % 3 else 9.0)
        env.order(order_id, "600000.XSHG", 500, price)
        placed.append(order_id)
        if n % 4 == 0:
            env.gate.cancel_order(f"f{max(n - 1, 0)}")
        env.step()
        env.sync()
        try:
            check_balance_report(env.gate.sync_balance())
        except GateError:
            pass
    for order_id in placed:
        env.gate.cancel_order(order_id)
    for _ in range(10):
        env.step()
        env.sync()
    for order_id in placed:
        broker = env.sim.orders[order_id]
        report = env.state[order_id]
        assert report.status.is_final
        assert (report.filled_amount, report.canceled_amount) == (broker.filled, broker.cancel_qty)


# --- random order-update streams ------------------------------------------------------------

PATHS = [["7", "0", "1", "2"], ["7", "0", "8", "4"], ["7", "5"], ["7", "0", "1", "8", "3"]]


def _update_line(order_id: str, status: str, n: int, encoding: str) -> bytes:
    filled = {"2": 100, "3": 50, "1": 50}.get(status, 0)
    row = dict.fromkeys(ORDER_UPDATE_HEADER, "")
    row.update(
        orderDate="20240603",
        orderTime="100000",
        acct="123",
        symbol="600000.SH",
        tradeSide="1",
        status=status,
        orderQty="100",
        orderPrice="10",
        filledQty=str(filled),
        cancelQty=str(100 - filled) if status in "34" else "0",
        orderNo=str(n),
        custBatchNo=order_id,
        text="委托,说明" if n % 3 == 0 else "",
    )
    return encode_rows([list(row.values())], encoding)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    paths=st.lists(st.sampled_from(range(len(PATHS))), min_size=1, max_size=6),
    order=st.randoms(use_true_random=False),
    garbage=st.lists(
        st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"") + b"\n"), max_size=6
    ),
    cuts=st.lists(st.integers(0, 5000), max_size=8),
    encoding=st.sampled_from(["gbk", "utf-8"]),
)
def test_random_update_streams_end_in_the_last_state(
    tmp_path_factory, paths, order, garbage, cuts, encoding
) -> None:
    directory = tmp_path_factory.mktemp("q")
    clock = SimClock(T0)
    gate = open_onequant(
        {"account_no": "123", "order_dir": str(directory), "file_encoding": encoding}, clock
    )
    queues = [[(f"id{k}", status) for status in PATHS[p]] for k, p in enumerate(paths)]
    lines: list[bytes] = []
    while any(queues):
        queue = order.choice([q for q in queues if q])
        order_id, status = queue.pop(0)
        lines.append(_update_line(order_id, status, len(lines), encoding))
        if garbage and order.random() < 0.3:
            lines.append(garbage.pop())
    stream = encode_rows([ORDER_UPDATE_HEADER], encoding) + b"".join(lines)
    path = DayFiles(directory, T0.date()).order_update
    state: dict[str, OrderReport] = {}
    start = 0
    for point in sorted({min(c, len(stream)) for c in cuts} | {len(stream)}):
        with open(path, "ab") as handle:
            handle.write(stream[start:point])
        start = point
        for report in gate.sync_orders():
            known = state.get(report.order_id)
            if known is None or not known.status.is_final or report.status.is_final:
                state[report.order_id] = report
    expected_final = {
        "2": "filled",
        "4": "canceled",
        "5": "rejected",
        "3": "partly_canceled",
    }
    for k, p in enumerate(paths):
        assert state[f"id{k}"].status == expected_final[PATHS[p][-1]]
    assert set(state) <= {f"id{k}" for k in range(len(paths))}


def test_unusable_newest_line_falls_back_to_the_older_one(tmp_path: Path) -> None:
    gate = open_onequant({"account_no": "123", "order_dir": str(tmp_path)}, SimClock(T0))
    path = DayFiles(tmp_path, T0.date()).order_update
    good = _update_line("a", "0", 1, "gbk")
    bad = _update_line("a", "2", 2, "gbk").replace(b",1,2,100,", b",1,2,abc,", 1)
    assert b"abc" in bad
    only_bad = _update_line("b", "9", 3, "gbk")
    path.write_bytes(encode_rows([ORDER_UPDATE_HEADER], "gbk") + good + bad + only_bad)
    reports = {r.order_id: r for r in gate.sync_orders()}
    assert set(reports) == {"a"} and reports["a"].status == "open"


def test_columns_are_read_by_name_whatever_their_order(tmp_path: Path) -> None:
    gate = open_onequant(
        {"account_no": "123", "order_dir": str(tmp_path), "file_encoding": "utf-8"}, SimClock(T0)
    )
    header = [
        "custBatchNo",
        "extra",
        "status",
        "symbol",
        "tradeSide",
        "orderQty",
        "filledQty",
        "acct",
        "text",
    ]
    rows = [header, ["x1", "?", "2", "000001.SZ", "2", "300", "300", "123", "全部成交"]]
    DayFiles(tmp_path, T0.date()).order_update.write_bytes(encode_rows(rows, "utf-8"))
    (report,) = gate.sync_orders()
    assert (report.order_id, report.status, report.code, report.action) == (
        "x1",
        "filled",
        "000001.XSHE",
        "close",
    )
    assert (report.filled_amount, report.err_msg, report.price) == (300, "全部成交", Decimal(0))


def test_has_order_answers_from_the_order_file(env: Env) -> None:
    assert env.gate.has_order("o1") is False  # no file yet
    env.order("o1", "600000.XSHG", 100, LimitOrderStyle(9.0))
    assert env.gate.has_order("o1") is True
    assert env.gate.has_order("o2") is False
    restarted = open_onequant({"account_no": "123", "order_dir": str(env.sim.directory)}, env.clock)
    assert restarted.has_order("o1") is True
    other = open_onequant({"account_no": "456", "order_dir": str(env.sim.directory)}, env.clock)
    assert other.has_order("o1") is False


# --- missing appended files ------------------------------------------------------------------


def _levels(caplog: Any, word: str) -> list[int]:
    return [r.levelno for r in caplog.records if word in r.getMessage()]


def test_missing_result_files_are_info_until_an_order_waited_for_them(
    tmp_path: Path, caplog: Any
) -> None:
    clock = SimClock(T0)
    gate = open_onequant({"account_no": "123", "order_dir": str(tmp_path)}, clock)
    with caplog.at_level(logging.DEBUG, logger="jqtrade.gates.onequant"):
        for _ in range(10):  # a quiet morning: no order, so no result file is expected
            gate.sync_orders()
            clock.advance(60)
        assert _levels(caplog, "execResult_") == [logging.INFO]
        assert _levels(caplog, "orderUpdate_") == [logging.INFO]
        gate.order(
            OrderRequest(
                order_id="1",
                code="600000.XSHG",
                action=OrderAction.open,
                amount=100,
                style=LimitOrderStyle(10.0),
                create_time=clock.now(),
            )
        )
        clock.advance(90)
        gate.sync_orders()
        assert _levels(caplog, "execResult_") == [logging.INFO]  # 90 s: OneQuant may be slow
        clock.advance(60)  # 150 s after the order, still nothing
        for _ in range(3):
            gate.sync_orders()
        assert _levels(caplog, "execResult_") == [logging.INFO, logging.WARNING]
        assert _levels(caplog, "orderUpdate_") == [logging.INFO, logging.WARNING]


# --- ambiguous rejections ---------------------------------------------------------------------


def _order_line(order_id: str, account: str = "123") -> list[str]:
    return [
        "100000.000000",
        order_id,
        "UM0",
        account,
        "600000.SH",
        "1",
        "100",
        "DMA",
        "AT",
        "0",
        "10",
        "10",
    ]


def _reject(directory: Path, *order_ids: str) -> None:
    rows = [["100001.000000", "1", order_id, "1", "E1", "资金账号未登录"] for order_id in order_ids]
    DayFiles(directory, T0.date()).exec_result.write_bytes(
        encode_rows([EXEC_RESULT_HEADER, *rows], "gbk")
    )


def test_rejection_is_attached_only_to_an_id_that_is_ours_alone(
    tmp_path: Path, caplog: Any
) -> None:
    gate = open_onequant({"account_no": "123", "order_dir": str(tmp_path)}, SimClock(T0))
    files = DayFiles(tmp_path, T0.date())
    files.algo_order.write_bytes(
        encode_rows(
            [
                ALGO_ORDER_HEADER,
                _order_line("mine"),
                _order_line("twice"),
                _order_line("twice"),
                _order_line("theirs", "456"),
            ],
            "gbk",
        )
    )
    _reject(tmp_path, "mine", "twice", "theirs", "unknown")
    with caplog.at_level(logging.DEBUG, logger="jqtrade.gates.onequant"):
        reports = {r.order_id: r for r in gate.sync_orders()}
        assert set(reports) == {"mine"} and reports["mine"].status == "rejected"
        warned = [
            r.getMessage()
            for r in caplog.records
            if r.levelno == logging.WARNING and "无法确定" in r.getMessage()
        ]
        assert (
            len(warned) == 2
            and any("twice" in m for m in warned)
            and any("theirs" in m for m in warned)
        )
        _reject(
            tmp_path, "mine", "twice", "theirs", "unknown", "twice"
        )  # read again: warned once per id
        gate.sync_orders()
        assert (
            len(
                [
                    r
                    for r in caplog.records
                    if r.levelno == logging.WARNING and "无法确定" in r.getMessage()
                ]
            )
            == 2
        )


def test_reports_carry_code_action_and_amount(tmp_path: Path) -> None:
    env = make_env(tmp_path)
    env.order("b", "600000.XSHG", 300, LimitOrderStyle(10.5))
    env.order("s", "000001.XSHE", 200, LimitOrderStyle(19.0), OrderAction.close)
    env.order("r", "600000.XSHG", 150, LimitOrderStyle(10.0))  # rejected: not a whole lot
    env.step()
    state = env.sync()
    assert [(state[i].code, state[i].action, state[i].amount) for i in "bsr"] == [
        ("600000.XSHG", "open", 300),
        ("000001.XSHE", "close", 200),
        ("600000.XSHG", "open", 150),
    ]


@pytest.mark.parametrize("whole", [True, False])
def test_has_order_settles_a_line_left_without_its_line_end(tmp_path: Path, whole: bool) -> None:
    """A write cut short (full disk) leaves our line without "\\n": has_order ends that line
    so the file says for certain whether the order is in it."""
    gate = open_onequant({"account_no": "123", "order_dir": str(tmp_path)}, SimClock(T0))
    files = DayFiles(tmp_path, T0.date())
    line = encode_rows([_order_line("2406030007")], "gbk").rstrip(b"\n")
    files.algo_order.write_bytes(
        encode_rows([ALGO_ORDER_HEADER], "gbk") + (line if whole else line[:30])
    )
    assert gate.has_order("2406030007") is whole
    assert files.algo_order.read_bytes().endswith(b"\n")
