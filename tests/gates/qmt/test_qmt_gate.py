"""The QMT gate against the simulated xtquant: mapping, faults, disconnects, restarts."""

from __future__ import annotations

import logging
import subprocess
import sys
from decimal import Decimal

import pytest
from qmt_support import ACCOUNT, DAY_START, Rig, gate_options

from jqtrade.clock import SimClock
from jqtrade.errors import GateConfigError, GateError, OptionValueError, SnapshotUnusableError
from jqtrade.gates import configure_gate
from jqtrade.gates.base import GateEnv
from jqtrade.gates.qmt import QmtConfig, QmtTradeGate, mapping
from jqtrade.model.orders import (
    LimitOrderStyle,
    MarketOrderStyle,
    OrderAction,
    OrderRequest,
    OrderStatus,
)
from jqtrade.sim.xtquant import xtconstant

CODE = "000001.XSHE"


def request(
    order_id: str,
    price: float,
    amount: int = 100,
    *,
    action: OrderAction = OrderAction.open,
    style=None,
) -> OrderRequest:
    return OrderRequest(
        order_id=order_id,
        code=CODE,
        action=action,
        amount=amount,
        style=style or LimitOrderStyle(price),
    )


def latest(rig: Rig, seen: dict) -> dict:
    for report in rig.gate.sync_orders():
        seen[report.order_id or report.broker_order_id] = report
    return seen


@pytest.fixture
def rig(tmp_path):
    rig = Rig(tmp_path / "userdata_mini")
    yield rig
    rig.close()


# --- mapping -------------------------------------------------------------------------------


def test_every_documented_status_is_mapped_and_pending_cancel_is_not_canceled():
    table = {
        code: mapping.status_of(code) for code in (48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 255)
    }
    assert table == {
        48: OrderStatus.new,
        49: OrderStatus.open,
        50: OrderStatus.open,
        51: OrderStatus.canceling,
        52: OrderStatus.canceling,
        53: OrderStatus.partly_canceled,
        54: OrderStatus.canceled,
        55: OrderStatus.filling,
        56: OrderStatus.filled,
        57: OrderStatus.rejected,
        255: None,
    }
    assert mapping.status_of(12345) is None


def test_constants_agree_with_the_simulated_xtconstant():
    for name in (
        "STOCK_BUY",
        "STOCK_SELL",
        "FIX_PRICE",
        "MARKET_PEER_PRICE_FIRST",
        "SH_MARKET",
        "SZ_MARKET",
        "ORDER_UNREPORTED",
        "ORDER_REPORTED_CANCEL",
        "ORDER_PART_CANCEL",
        "ORDER_JUNK",
        "ORDER_UNKNOWN",
        "SECURITY_ACCOUNT",
        "CREDIT_ACCOUNT",
    ):
        assert getattr(mapping, name) == getattr(xtconstant, name), name


def test_codes_map_both_ways():
    assert mapping.to_xt_code("600000.XSHG") == "600000.SH"
    assert mapping.to_xt_code("000001.XSHE") == "000001.SZ"
    assert mapping.from_xt_code("600000.SH") == "600000.XSHG"
    assert mapping.from_xt_code("000001.SZ") == "000001.XSHE"
    assert mapping.market_of("600000.XSHG") == 0 and mapping.market_of("000001.XSHE") == 1


def test_price_types():
    assert mapping.price_of(request("1", 10.5)) == (mapping.FIX_PRICE, 10.5)
    assert mapping.price_of(request("1", 0)) == (mapping.MARKET_PEER_PRICE_FIRST, 0.0)
    assert mapping.price_of(request("1", 0, style=MarketOrderStyle())) == (
        mapping.MARKET_PEER_PRICE_FIRST,
        0.0,
    )


def test_remarks_that_are_not_jqtrade_ids_are_foreign():
    assert mapping.remark_id("2406030001") == "2406030001"
    assert (
        mapping.remark_id("涨停价买入1手") == ""
        and mapping.remark_id("") == ""
        and mapping.remark_id("a1") == ""
    )


# --- config --------------------------------------------------------------------------------


def test_config_refuses_credit_accounts_clearly(tmp_path):
    with pytest.raises(OptionValueError, match="信用"):
        QmtConfig(userdata_mini=tmp_path, account_id="1", account_type="CREDIT")
    with pytest.raises(GateConfigError, match="资金账号"):
        QmtConfig(userdata_mini=tmp_path)
    assert QmtConfig(userdata_mini=tmp_path, account_no="9").account == "9"


def test_every_config_field_is_documented():
    import attrs

    for field in attrs.fields(QmtConfig):
        assert field.metadata.get("doc") and field.metadata.get("type"), field.name


def test_import_jqtrade_without_xtquant_then_qmt_fails_with_one_chinese_line(tmp_path):
    code = (
        "import sys, jqtrade\n"
        "assert 'xtquant' not in sys.modules\n"
        "from jqtrade.clock import SimClock\n"
        "from jqtrade.gates.base import GateEnv\n"
        "from jqtrade.gates import configure_gate\n"
        "from jqtrade.gates.qmt import QmtTradeGate\n"
        "import pendulum\n"
        "env = GateEnv(clock=SimClock(pendulum.datetime(2024, 6, 3)), runtime_dir=sys.argv[1])\n"
        "try:\n"
        "    configure_gate(QmtTradeGate(), {'userdata_mini': sys.argv[1], 'account_id': '1'}, env)\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__ + '|' + str(exc))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        encoding="utf-8",
    )
    assert out.returncode == 0, out.stderr
    line = out.stdout.strip()
    assert "\n" not in line
    name, message = line.split("|", 1)
    assert name == "GateConfigError"
    assert "xtquant" in message and ("没有安装" in message or "Windows" in message)


def test_missing_reasons_name_what_is_missing(monkeypatch):
    import importlib.util

    from jqtrade.gates.qmt.gate import missing_xtquant_reason

    assert missing_xtquant_reason("jqtrade.sim.xtquant") is None
    real_find = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: object() if name == "xtquant" else real_find(name, *a),
    )
    assert "Windows" in (missing_xtquant_reason(platform="linux") or "")
    assert missing_xtquant_reason(platform="win32") is None


def test_miniqmt_not_running_is_stale_with_a_reason(tmp_path):
    clock = SimClock(DAY_START)
    env = GateEnv(clock=clock, runtime_dir=tmp_path, task_name="t")
    gate = configure_gate(QmtTradeGate(), gate_options(tmp_path / "nobody"), env)
    with pytest.raises(GateError, match="miniQMT"):
        gate.sync_orders()
    with pytest.raises(SnapshotUnusableError, match="miniQMT"):
        gate.sync_balance()
    assert gate.has_order("2406030001") is None
    assert "connect" in (gate.stale_reason or "")
    gate.close()


# --- orders --------------------------------------------------------------------------------


def test_order_uses_remark_and_task_name_and_fills_with_cumulative_fields(rig):
    price = rig.filling_price(CODE)
    rig.gate.order(request("2406030001", price, 300))
    rig.step()
    seen = latest(rig, {})
    report = seen["2406030001"]
    assert report.status is OrderStatus.filled and report.filled_amount == 300
    (row,) = rig.miniqmt.query_orders(rig.gate._account)
    assert (row.order_remark, row.strategy_name, row.price_type) == (
        "2406030001",
        "qmt测试",
        xtconstant.FIX_PRICE,
    )
    trades = rig.miniqmt.query_trades(rig.gate._account)
    assert report.deal_balance == sum(Decimal(repr(t.traded_amount)) for t in trades)
    assert report.commission is not None and report.commission > 0


def test_best_price_orders_use_peer_price_first_and_say_so(rig, caplog):
    with caplog.at_level(logging.WARNING, logger="jqtrade.gates.qmt"):
        rig.gate.order(request("2406030002", 0, style=MarketOrderStyle()))
        rig.gate.order(request("2406030003", 0))
    rows = rig.miniqmt.query_orders(rig.gate._account)
    assert {r.price_type for r in rows} == {xtconstant.MARKET_PEER_PRICE_FIRST}
    assert sum("MARKET_PEER_PRICE_FIRST" in r.message for r in caplog.records) == 1
    rig.step()
    assert {r.status for r in latest(rig, {}).values()} == {OrderStatus.filled}


def test_counter_rejection_carries_the_reason(rig):
    rig.miniqmt.faults.reject_next.append("可用资金不足")
    rig.gate.order(request("2406030004", 10))
    rig.step(0)
    report = latest(rig, {})["2406030004"]
    assert report.status is OrderStatus.rejected and "可用资金不足" in report.err_msg


def test_order_error_before_the_async_response(rig):
    rig.miniqmt.faults.error_before_response = True
    rig.miniqmt.faults.reject_next.append("价格超出涨跌停")
    rig.gate.order(request("2406030005", 10))
    rig.step(0)
    report = latest(rig, {})["2406030005"]
    assert report.status is OrderStatus.rejected and "涨跌停" in report.err_msg


def test_lost_async_response_is_matched_by_remark(rig):
    rig.miniqmt.faults.lose_responses = 1
    rig.gate.order(request("2406030006", rig.resting_price(CODE)))
    rig.step()
    report = latest(rig, {})["2406030006"]
    assert report.status is OrderStatus.open and report.broker_order_id
    rig.gate.cancel_order("2406030006")
    rig.step()
    assert latest(rig, {})["2406030006"].status is OrderStatus.canceled


def test_cancel_by_order_id_refused_falls_back_to_the_sysid(rig):
    rig.miniqmt.faults.refuse_cancel_by_id = True
    rig.gate.order(request("2406030007", rig.resting_price(CODE)))
    rig.step()
    latest(rig, {})
    rig.gate.cancel_order("2406030007")
    rig.step(0)
    assert latest(rig, {})["2406030007"].status in (
        OrderStatus.open,
        OrderStatus.canceling,
    )  # refused by id; resent by sysid
    rig.step()
    assert latest(rig, {})["2406030007"].status is OrderStatus.canceled


def test_pending_cancel_is_reported_canceling_not_canceled(rig):
    rig.miniqmt.broker.latency = 5.0
    rig.gate.order(request("2406030008", rig.resting_price(CODE)))
    rig.step(6)
    latest(rig, {})
    rig.gate.cancel_order("2406030008")
    rig.step(0)
    assert latest(rig, {})["2406030008"].status is OrderStatus.canceling
    rig.step(6)
    assert latest(rig, {})["2406030008"].status is OrderStatus.canceled


def test_duplicated_and_delayed_pushes_never_double_count(rig):
    rig.miniqmt.faults.duplicate_rate = 1.0
    rig.miniqmt.faults.delay_seconds = 2.0
    rig.miniqmt.broker.partial_fills = True
    rig.gate.order(request("2406030009", rig.filling_price(CODE), 800))
    seen: dict = {}
    for _ in range(8):
        rig.step()
        latest(rig, seen)
    report = seen["2406030009"]
    trades = rig.miniqmt.query_trades(rig.gate._account)
    assert report.status is OrderStatus.filled and report.filled_amount == 800 == sum(
        t.traded_volume for t in trades
    )
    assert report.deal_balance == sum(Decimal(repr(t.traded_amount)) for t in trades)


# --- connection ----------------------------------------------------------------------------


def test_disconnect_mid_day_goes_stale_reconnects_reconciles_and_counts_trades_once(rig):
    rig.miniqmt.faults.replay_on_subscribe = True
    rig.miniqmt.faults.duplicate_rate = 1.0
    rig.miniqmt.broker.partial_fills = True
    gate = rig.gate
    gate.order(request("2406030010", rig.filling_price(CODE), 800))
    rig.step()
    seen = latest(rig, {})
    first = seen["2406030010"]
    assert first.status is OrderStatus.filling and 0 < first.filled_amount < 800
    session = gate.session_id

    link = gate._trader
    rig.miniqmt.disconnect()
    rig.clock.advance(0.5)
    for _ in range(4):  # the rest fills while the link is down
        rig.clock.advance(1)
        rig.miniqmt.step()
    assert link.idle()
    with pytest.raises(GateError, match="on_disconnected"):
        gate.sync_orders()  # hears on_disconnected: nothing new to hand over
    assert not gate.connected and "on_disconnected" in (gate.stale_reason or "")
    with pytest.raises(SnapshotUnusableError, match="on_disconnected"):
        gate.sync_balance()
    assert gate.has_order("2406030010") is None
    with pytest.raises(GateError, match="没有发送"):
        gate.order(request("2406030011", 10))

    rig.clock.advance(gate.config.reconnect_interval)
    latest(rig, seen)  # reconnects (fresh session), reconciles
    assert gate.connected and gate.session_id != session
    rig.miniqmt.settle()
    latest(rig, seen)  # the replayed, duplicated pushes
    report = seen["2406030010"]
    trades = rig.miniqmt.query_trades(gate._account)
    assert report.status is OrderStatus.filled and report.filled_amount == 800
    assert report.deal_balance == sum(Decimal(repr(t.traded_amount)) for t in trades)
    assert gate.has_order("2406030010") is True and gate.has_order("2406030099") is False
    balance = gate.sync_balance()
    assert {p.code: p.total_amount for p in balance.positions}[CODE] == 5800


def test_reconnect_backs_off_while_miniqmt_is_down(rig):
    gate = rig.gate
    gate.sync_orders()
    link = gate._trader
    rig.miniqmt.set_down(True)
    assert link.idle()
    with pytest.raises(GateError):
        gate.sync_orders()
    waits = []
    for _ in range(4):
        before = gate._next_attempt
        rig.clock.advance(1000)
        with pytest.raises(GateError):
            gate.sync_orders()
        waits.append((gate._next_attempt - rig.clock.now()).total_seconds())
        assert before is not None
    assert waits == sorted(waits) and waits[-1] <= gate.config.reconnect_max_interval
    rig.miniqmt.set_down(False)
    rig.clock.advance(1000)
    gate.sync_orders()
    assert gate.connected


def test_hung_queries_time_out_and_mark_stale(rig):
    gate = configure_gate(
        QmtTradeGate(),
        gate_options(rig.folder, query_timeout=0.2),
        GateEnv(clock=rig.clock, runtime_dir=rig.folder.parent),
    )
    gate.sync_orders()
    rig.miniqmt.hang_queries(True)
    try:
        with pytest.raises(GateError, match="0.2 秒内没有回答"):
            gate.sync_balance()
        assert not gate.connected
    finally:
        rig.miniqmt.hang_queries(False)
        gate.close()


def test_restart_finds_its_orders_by_remark_and_other_programs_orders_stay_foreign(rig):
    rig.gate.order(request("2406030012", rig.resting_price(CODE)))
    rig.miniqmt.inject_foreign_order(CODE, 200, rig.resting_price(CODE), remark="手工下单")
    rig.step()
    rig.gate.close()
    rig.miniqmt.close()

    again = Rig(rig.folder, clock=rig.clock)  # the simulated miniQMT reloads its state file
    try:
        reports = again.gate.sync_orders()
        ours = [r for r in reports if r.order_id]
        foreign = [r for r in reports if not r.order_id]
        assert [r.order_id for r in ours] == ["2406030012"] and ours[0].status is OrderStatus.open
        assert [r.amount for r in foreign] == [200]
        assert again.gate.has_order("2406030012") is True
        assert again.gate.has_order("2406030013") is False
        again.gate.cancel_order("2406030012")
        again.step()
        assert latest(again, {})["2406030012"].status is OrderStatus.canceled
    finally:
        again.close()


def test_account_type_of_the_simulated_account_is_checked(tmp_path):
    from jqtrade.sim.xtquant import StockAccount

    assert StockAccount(ACCOUNT).account_type == xtconstant.SECURITY_ACCOUNT
    assert isinstance(StockAccount(123), str)
