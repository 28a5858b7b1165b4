# -*- coding: utf-8 -*-
# jqtrade 1.0 style (issue 10, item 2): set_options with keys jqtrade 1.0 simply ignored
# (coding=, debug=, a key meant for the user's own gate, and a typo of a real option).
import json


def check(key, value):
    print("CHECK", key, json.dumps(value, default=str, ensure_ascii=False))


def process_initialize(context):
    set_options(
        account_no="1234567",
        coding="utf-8",
        debug=True,
        my_broker_host="127.0.0.1",
        file_encodeing="gbk",  # typo of file_encoding: 1.0 ignored it silently
    )
    check("set_options_returned", True)
    run_daily(do_order, "10:00")
    run_daily(report, "10:05")


g = {}


def do_order(context):
    g["order_id"] = order("000002.XSHE", 100, LimitOrderStyle(27.0))
    check("order_id", g["order_id"])


def report(context):
    orders = get_orders()
    check("order_count", len(orders))
    if g.get("order_id") in orders:
        check("order_status", orders[g["order_id"]].status)
    cancel_order(g["order_id"])
