# -*- coding: utf-8 -*-
# jqtrade 1.0 style (issue 10, item 6): a strategy trading through a 1.0 custom gate
# (tests/legacy/gates/legacy_gate.py), reading the portfolio the gate reports.
import json
import os


def check(key, value):
    print("CHECK", key, json.dumps(value, default=str, ensure_ascii=False))


def process_initialize(context):
    set_options(
        account_no="8888",
        trade_gate=os.environ.get("LEGACY_GATE", "legacy_gate:LegacyDictGate"),
    )
    run_daily(read_and_trade, "10:00")
    run_daily(after_cancel, "10:05")


g = {}


def read_and_trade(context):
    portfolio = context.portfolio
    check("total_value", portfolio.total_value)
    check("available_cash", portfolio.available_cash)
    pos = portfolio.long_positions["000001.XSHE"]
    check("pos", [pos.total_amount, pos.closeable_amount, pos.avg_cost, pos.last_price])
    g["oid"] = order("600000.XSHG", 100, LimitOrderStyle(9.9))
    check("order_id", g["oid"])
    sync_orders()
    check("status_after_sync", get_orders()[g["oid"]].status)
    cancel_order(g["oid"])


def after_cancel(context):
    _order = get_orders()[g["oid"]]
    check("final_status", _order.status)
    check("final_canceled_amount", _order.canceled_amount)
