"""The simulated OneQuant through its files: instructions in, answers and snapshots out."""

from __future__ import annotations

import tempfile
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from sim_files import ACCOUNT, T0, Broker

from jqtrade.account.checks import check_order
from jqtrade.account.portfolio import Position
from jqtrade.cli import build_sim_parser, sim_main
from jqtrade.clock import LiveClock
from jqtrade.errors import OrderRejectedError
from jqtrade.gates.onequant.files import AppendedFileReader
from jqtrade.gates.onequant.snapshot import read_snapshot_rows
from jqtrade.model.orders import LimitOrderStyle, MarketOrderStyle
from jqtrade.model.rules import board_of, price_limits, repo_fee, round_tick, tick_size
from jqtrade.sim import SimulatedOneQuant
from jqtrade.sim.onequant import MAX_SNAPSHOT_INTERVAL


@pytest.fixture
def broker(tmp_path: Path) -> Broker:
    b = Broker(tmp_path, positions={"600000.XSHG": 1000})
    b.poll()
    return b


# --- order life ------------------------------------------------------------------------------


def test_fill_goes_7_0_2_with_a_trade_line(broker: Broker) -> None:
    broker.order("o1", "600000.SH", "1", 300, "10.5")
    broker.poll(1)
    assert broker.new_rows("execResult")[0]["status"] == "0"
    updates = broker.new_rows("orderUpdate")
    assert broker.statuses("o1", updates) == ["7", "0", "2"]
    final = updates[-1]
    assert (final["filledQty"], final["avgPrice"], final["filledAmt"]) == (
        "300",
        "10.0100",
        "3003.00",
    )
    trades = broker.new_rows("tradeUpdate")
    assert [(t["custBatchNo"], t["filledQty"], t["filledPrice"]) for t in trades] == [
        ("o1", "300", "10.01")
    ]


def test_latency_delays_acceptance_and_cancel(tmp_path: Path) -> None:
    broker = Broker(tmp_path, latency=2.0)
    broker.order("o1", "600000.SH", "1", 100, "9.00")
    broker.poll()
    assert broker.statuses("o1", broker.new_rows("orderUpdate")) == ["7"]
    broker.poll(1)
    assert broker.new_rows("orderUpdate") == []
    broker.poll(1)
    assert broker.statuses("o1", broker.new_rows("orderUpdate")) == ["0"]
    broker.cancel("o1")
    broker.poll(1)
    assert broker.statuses("o1", broker.new_rows("orderUpdate")) == ["8"]
    broker.poll(2)
    assert broker.statuses("o1", broker.new_rows("orderUpdate")) == ["4"]


def test_cancel_before_acceptance(tmp_path: Path) -> None:
    broker = Broker(tmp_path, latency=5.0)
    broker.order("o1", "600000.SH", "1", 100, "10.5")
    broker.poll()
    broker.cancel("o1")
    broker.poll(1)
    broker.poll(5)
    assert broker.statuses("o1", broker.new_rows("orderUpdate")) == ["7", "8", "4"]
    assert broker.sim.frozen_cash == 0


def test_partial_fills_then_filled(tmp_path: Path) -> None:
    broker = Broker(tmp_path, partial_fills=True)
    broker.order("o1", "600000.SH", "1", 1000, "10.5")
    for _ in range(6):
        broker.poll(1)
    statuses = broker.statuses("o1", broker.new_rows("orderUpdate"))
    assert statuses[:3] == ["7", "0", "1"] and statuses[-1] == "2"
    assert sum(int(t["filledQty"]) for t in broker.new_rows("tradeUpdate")) == 1000


def test_fills_only_in_trading_sessions(tmp_path: Path) -> None:
    broker = Broker(tmp_path)
    broker.now = T0.replace(hour=12)
    broker.order("noon", "600000.SH", "1", 100, "10.5")
    broker.poll()
    assert broker.statuses("noon", broker.new_rows("orderUpdate")) == ["7", "0"]
    broker.poll(3600)  # 13:00
    assert broker.statuses("noon", broker.new_rows("orderUpdate")) == ["2"]
    evening = Broker(tmp_path / "e", market_hours=False)
    evening.now = T0.replace(hour=20)
    evening.order("late", "600000.SH", "1", 100, "10.5")
    evening.poll()
    assert evening.statuses("late", evening.new_rows("orderUpdate"))[-1] == "2"


# --- money and shares -----------------------------------------------------------------------


def test_cash_is_frozen_and_released(broker: Broker) -> None:
    broker.order("rest", "600000.SH", "1", 1000, "9.00")
    broker.poll(1)
    assert broker.sim.frozen_cash == Decimal("9005.00")  # amount + minimum commission
    broker.cancel("rest")
    broker.poll(1)
    assert broker.sim.frozen_cash == 0 and broker.sim.cash == 100_000
    broker.order("buy", "600000.SH", "1", 1000, "10.50")
    broker.poll(5)
    assert broker.sim.frozen_cash == 0
    assert broker.sim.cash == Decimal(100_000) - Decimal("10010.00") - Decimal("5.00")
    cash = broker.cash()
    assert (cash["currentBalance"], cash["enabledBalance"]) == ("89985.00", "89985.00")


def test_t_plus_one_and_initial_positions(broker: Broker) -> None:
    broker.order("buy", "600000.SH", "1", 500, "10.5")
    broker.poll(1)
    broker.order("sell-too-much", "600000.SH", "2", 1500, "9.5")
    broker.order("sell-old", "600000.SH", "2", 1000, "9.5")
    broker.poll(1)
    rows = broker.new_rows("orderUpdate")
    rejected = [r for r in rows if r["custBatchNo"] == "sell-too-much"][-1]
    assert rejected["status"] == "5" and "可卖数量不足" in rejected["text"]
    assert broker.statuses("sell-old", rows)[-1] == "2"
    position = broker.sim.positions["600000.XSHG"]
    assert (position.total, position.sellable) == (500, 0)
    broker.poll(24 * 3600)  # next day
    assert broker.sim.positions["600000.XSHG"].sellable == 500


@pytest.mark.parametrize(
    ("symbol", "side", "qty", "price", "reason"),
    [
        ("600000.SH", "1", 150, "10.5", "100 股"),
        ("688001.SH", "1", 150, "50.5", "至少 200 股"),
        ("600000.SH", "1", 100, "10.555", "最小价格变动单位"),
        ("600000.SH", "1", 100, "11.5", "涨跌停"),
        ("600000.SH", "1", 20_000, "10.5", "可用资金不足"),
        ("600000.SH", "2", 150, "9.5", "零股"),
    ],
)
def test_broker_rejections(
    broker: Broker, symbol: str, side: str, qty: int, price: str, reason: str
) -> None:
    broker.order("x", symbol, side, qty, price)
    broker.poll(1)
    final = broker.new_rows("orderUpdate")[-1]
    assert final["status"] == "5" and reason in final["text"]
    assert broker.sim.frozen_cash == 0


def test_lot_rules_that_pass(broker: Broker) -> None:
    broker.order("star", "688001.SH", "1", 201, "50.5")
    broker.order("odd", "600000.SH", "2", 1000, "9.5")
    broker.poll(1)
    rows = broker.new_rows("orderUpdate")
    assert broker.statuses("star", rows)[-1] == "2"
    broker.order("rest", "600000.SH", "2", 0 + 1, "9.5")  # nothing left to sell
    broker.poll(1)
    assert broker.new_rows("orderUpdate")[-1]["status"] == "5"


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"acct": "999"}, "未登录"),
        ({"symbol": "600000"}, "证券代码"),
        ({"side": "3"}, "买卖方向"),
        ({"qty": 0}, "委托数量"),
    ],
)
def test_instruction_rejects_go_to_exec_result(
    broker: Broker, kwargs: dict[str, Any], reason: str
) -> None:
    args: dict[str, Any] = {
        "order_id": "bad",
        "symbol": "600000.SH",
        "side": "1",
        "qty": 100,
        "price": "10",
    }
    args.update(kwargs)
    broker.order(**args)
    broker.poll(1)
    result = broker.new_rows("execResult")[-1]
    assert (result["resultType"], result["status"]) == ("1", "1") and reason in result["errorMsg"]
    assert broker.new_rows("orderUpdate") == []


def test_duplicate_ids_and_bad_cancels(broker: Broker) -> None:
    broker.order("o1", "600000.SH", "1", 100, "10.5")
    broker.order("o1", "600000.SH", "1", 100, "10.5")
    broker.cancel("unknown")
    broker.poll(1)
    broker.cancel("o1")
    broker.poll(1)
    results = [
        (r["resultType"], r["custBatchNo"], r["status"]) for r in broker.new_rows("execResult")
    ]
    assert results == [("1", "o1", "0"), ("1", "o1", "1"), ("2", "unknown", "1"), ("2", "o1", "1")]


def test_reject_rate(tmp_path: Path) -> None:
    broker = Broker(tmp_path, reject_rate=1.0)
    broker.order("o1", "600000.SH", "1", 100, "10.5")
    broker.poll()
    final = broker.new_rows("orderUpdate")[-1]
    assert final["status"] == "5" and "随机拒单" in final["text"]


# --- snapshots, days, restarts --------------------------------------------------------------


def test_snapshots_rewritten_in_place_on_their_interval(tmp_path: Path) -> None:
    broker = Broker(tmp_path, snapshot_interval=3.0, positions={"600000.XSHG": 100})
    broker.poll()
    path = broker.files.position_info
    inode = path.stat().st_ino
    first = path.read_bytes()
    assert first.endswith(b",,,,,,,,,,,\n")
    broker.order("o1", "600000.SH", "1", 100, "10.5")
    broker.poll(1)
    assert path.read_bytes() == first  # not yet due
    broker.poll(2)
    assert path.stat().st_ino == inode and path.read_bytes() != first
    rows = read_snapshot_rows(path, "gbk")
    assert rows[0]["currentQty"] == "200" and rows[0]["enabledQty"] == "100"


def test_with_the_longest_interval_snapshots_are_written_when_asked_for(tmp_path: Path) -> None:
    broker = Broker(
        tmp_path, snapshot_interval=MAX_SNAPSHOT_INTERVAL, positions={"600000.XSHG": 100}
    )
    broker.poll()  # the day's first poll writes them
    path = broker.files.position_info
    first = path.read_bytes()
    broker.order("o1", "600000.SH", "1", 100, "10.5")
    broker.poll(3600)  # an hour later: the order is answered, the balance files stay
    assert path.read_bytes() == first
    assert AppendedFileReader(broker.files.order_update, "gbk").read_rows()
    broker.sim.write_snapshots(broker.now)  # a reader is about to look
    rows = read_snapshot_rows(path, "gbk")
    assert rows[0]["currentQty"] == "200"
    assert rows[0]["updTime"].startswith(broker.now.strftime("%H%M%S"))


def test_snapshots_carry_the_simulated_time_in_upd_time(tmp_path: Path) -> None:
    # the OneQuant gate takes updTime as the time of the snapshot: it must be the market time
    # the simulator was polled at, not the machine's clock
    broker = Broker(tmp_path, snapshot_interval=3.0, positions={"600000.XSHG": 100})
    broker.now = T0.replace(hour=13, minute=5, second=7)
    broker.poll()
    broker.poll(3.5)
    for path in (broker.files.asset_info, broker.files.position_info):
        rows = read_snapshot_rows(path, "gbk")
        assert rows and {row["updTime"] for row in rows} == {"130510.500000"}


def test_day_change_expires_working_orders(broker: Broker) -> None:
    broker.order("o1", "600000.SH", "1", 100, "9.00")
    broker.poll(1)
    old = broker.files
    broker.poll(24 * 3600)
    assert broker.sim.frozen_cash == 0 and broker.sim.orders == {}
    rows = AppendedFileReader(old.order_update, "gbk").read_rows()
    assert rows[-1]["status"] == "4" and "过期" in rows[-1]["text"]
    assert broker.files.asset_info.exists() and broker.files.day != old.day


def test_restarted_simulator_does_not_answer_twice(tmp_path: Path) -> None:
    broker = Broker(tmp_path)
    broker.order("o1", "600000.SH", "1", 100, "10.5")
    broker.poll()
    broker.order("o2", "600000.SH", "1", 100, "10.5")  # written while the simulator is down
    again = Broker(tmp_path)
    again.poll(1)
    results = [
        r["custBatchNo"] for r in AppendedFileReader(again.files.exec_result, "gbk").read_rows()
    ]
    assert results == ["o1", "o2"]


# --- command line ---------------------------------------------------------------------------


def test_cli_parser_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    args = build_sim_parser().parse_args(
        ["--dir", "d", "--account", "1", "--position", "000001.XSHE=100", "--fault-mode"]
    )
    assert args.fault_mode and args.cash == 1_000_000 and args.encoding == "gbk"
    with pytest.raises(SystemExit) as info:
        sim_main(["--help"])
    assert info.value.code == 0
    assert "模拟" in capsys.readouterr().out
    assert sim_main(["--dir", "d", "--account", "1", "--position", "000001.XSHE"]) == 2


def test_run_forever_stops_on_the_event(tmp_path: Path) -> None:
    sim = SimulatedOneQuant(tmp_path, ACCOUNT)
    stop = threading.Event()
    worker = threading.Thread(target=sim.run_forever, args=(LiveClock(), stop, 0.01))
    worker.start()
    while sim.files is None or not sim.files.asset_info.exists():
        stop.wait(0.01)
    stop.set()
    worker.join(5)
    assert not worker.is_alive()


# --- convertible bonds and reverse repos ------------------------------------------------------


def test_convertible_bond_is_t_plus_0_without_stamp_duty(tmp_path: Path) -> None:
    broker = Broker(tmp_path, prices={"113050.XSHG": 115.0}, stamp_tax_rate=0.001)
    broker.order("buy", "113050.SH", "1", 30, "115.5")
    broker.poll(1)
    broker.order("sell", "113050.SH", "2", 30, "114.5")  # the same day
    broker.poll(1)
    rows = broker.new_rows("orderUpdate")
    assert broker.statuses("buy", rows)[-1] == "2" and broker.statuses("sell", rows)[-1] == "2"
    trades = broker.new_rows("tradeUpdate")
    assert [(t["filledQty"], t["filledPrice"]) for t in trades] == [
        ("30", "115.001"),
        ("30", "114.999"),
    ]
    # 30 × 115.001 + 5 commission out, 30 × 114.999 - 5 in: no stamp duty on a bond
    assert broker.sim.cash == Decimal(100_000) - Decimal("3450.03") - 5 + Decimal("3449.97") - 5
    assert "113050.XSHG" not in broker.sim.positions


@pytest.mark.parametrize(
    ("symbol", "side", "qty", "price", "reason"),
    [
        ("113050.SH", "1", 15, "115.5", "10 张"),
        ("123001.SZ", "1", 10, "115.0005", "最小价格变动单位"),
        ("113050.SH", "1", 10, "140", "涨跌停"),
        ("113050.SH", "2", 10, "114", "可卖数量不足"),
        ("204001.SH", "1", 10, "2.0", "只能卖出"),
        ("204001.SH", "2", 15, "2.0", "10 张"),
        ("204001.SH", "2", 10, "2.001", "最小价格变动单位"),
        ("131810.SZ", "2", 1010, "2.0", "可用资金不足"),
    ],
)
def test_bond_and_repo_rejections(
    tmp_path: Path, symbol: str, side: str, qty: int, price: str, reason: str
) -> None:
    broker = Broker(
        tmp_path,
        prices={"113050.XSHG": 115.0, "123001.XSHE": 110.0, "204001.XSHG": 2.0, "131810.XSHE": 2.0},
    )
    broker.poll()
    broker.order("x", symbol, side, qty, price)
    broker.poll(1)
    final = broker.new_rows("orderUpdate")[-1]
    assert final["status"] == "5" and reason in final["text"], final["text"]
    assert broker.sim.frozen_cash == 0


def test_reverse_repo_lends_cash_and_pays_it_back_with_interest(tmp_path: Path) -> None:
    broker = Broker(tmp_path, prices={"131810.XSHE": 2.0}, snapshot_interval=0.0)
    broker.poll()
    broker.order("repo", "131810.SZ", "2", 500, "1.9")  # lend 50,000 yuan at 1.9 % or better
    broker.poll(1)
    rows = broker.new_rows("orderUpdate")
    assert broker.statuses("repo", rows) == ["7", "0", "2"]
    assert (rows[-1]["avgPrice"], rows[-1]["filledAmt"]) == ("1.9990", "50000.00")
    trades = broker.new_rows("tradeUpdate")
    assert [(t["tradeSide"], t["filledQty"], t["filledPrice"], t["filledAmt"]) for t in trades] == [
        ("2", "500", "1.999", "50000.00")
    ]
    assert broker.sim.cash == Decimal(100_000) - 50_000 - Decimal("0.50")  # 0.001 % for one day
    assert broker.sim.positions == {} and broker.sim.frozen_cash == 0
    broker.poll(1)
    cash = broker.cash()
    assert (cash["enabledBalance"], cash["totalAsset"]) == (
        "49999.50",
        "99999.50",
    )  # lent money is still assets
    broker.poll(24 * 3600)  # next day: principal and one day of interest at 1.999 %
    interest = (Decimal(50_000) * Decimal("1.999") / 100 / 365).quantize(Decimal("0.01"))
    assert broker.sim.cash == Decimal("99999.50") + interest and broker.sim.repo_loans == []


def test_reverse_repo_is_no_initial_position(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="国债逆回购"):
        SimulatedOneQuant(tmp_path, ACCOUNT, positions={"204001.XSHG": 10})


# --- the simulator and check_order agree ------------------------------------------------------

AGREE_PRICES = {
    "600000.XSHG": 60.0,
    "688001.XSHG": 50.0,
    "510300.XSHG": 3.5,
    "113050.XSHG": 115.5,
    "123001.XSHE": 108.2,
    "204001.XSHG": 2.0,
    "204007.XSHG": 1.8,
    "131810.XSHE": 1.985,
    "900901.XSHG": 0.5,  # a B share: rules unknown to both
}
AGREE_HELD = {"600000.XSHG": 1050, "688001.XSHG": 250, "113050.XSHG": 35}
AGREE_CASH = 1_000_000


def _sim_verdict(broker: Broker, order_id: str) -> bool:
    results = [r for r in broker.new_rows("execResult") if r["custBatchNo"] == order_id]
    if results and results[-1]["status"] == "1":
        return False
    return "5" not in broker.statuses(order_id, broker.new_rows("orderUpdate"))


@settings(max_examples=300, deadline=None)
@given(
    code=st.sampled_from(sorted(AGREE_PRICES)),
    amount=st.one_of(
        st.integers(1, 20_000),
        st.integers(1, 1100),
        st.integers(1, 2000).map(lambda n: 10 * n),
        st.integers(1, 200).map(lambda n: 100 * n),
        st.sampled_from([5, 15, 35, 50, 201, 250, 1050]),
    ),
    sell=st.booleans(),
    move=st.integers(-50, 50),
    grid=st.sampled_from(["market", "tick", "tick", "tick", "0.01", "0.005", "0.001", "0.0005"]),
)
def test_check_order_and_the_simulator_accept_the_same_orders(
    code: str, amount: int, sell: bool, move: int, grid: str
) -> None:
    """Random codes, amounts and prices: refused by check_order exactly when the simulated
    broker refuses them (cash without fees; prices inside the day's limits)."""
    with tempfile.TemporaryDirectory() as folder:
        broker = Broker(
            Path(folder),
            cash=AGREE_CASH,
            prices=AGREE_PRICES,
            positions=AGREE_HELD,
            commission_rate=0,
            min_commission=0,
            stamp_tax_rate=0,
        )
        broker.poll()
        base = Decimal(str(AGREE_PRICES[code]))
        if grid == "market":
            price_text, style = "0", MarketOrderStyle()
        else:
            step = tick_size(code) if grid == "tick" else Decimal(grid)
            price = round_tick(base * (1 + Decimal(move) / 1000), step).normalize()
            price_text, style = f"{price:f}", LimitOrderStyle(float(price))
        known = board_of(code).value != "other"
        reference = None
        if grid == "market" and known:
            low, high = price_limits(code, broker.sim.feed.prev_close(code, T0.date()))
            reference = float(min(base + tick_size(code), high))
        cash = Decimal(AGREE_CASH)
        if known and board_of(code).value == "repo":
            cash -= repo_fee(code, Decimal(100) * amount)  # check_order leaves fees to the broker
        held = AGREE_HELD.get(code, 0)
        try:
            check_order(
                code,
                -amount if sell else amount,
                style,
                position=Position(code=code, total_amount=held, closeable_amount=held),
                available_cash=float(cash),
                reference_price=reference,
            )
            accepted = True
        except OrderRejectedError:
            accepted = False
        broker.order(
            "o",
            code.replace("XSHG", "SH").replace("XSHE", "SZ"),
            "2" if sell else "1",
            amount,
            price_text,
        )
        broker.poll(1)
        event(f"{board_of(code).value} accepted={accepted}")
        assert _sim_verdict(broker, "o") is accepted, broker.new_rows("orderUpdate")
