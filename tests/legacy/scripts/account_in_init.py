# -*- coding: utf-8 -*-
# jqtrade 1.0 style (issue 10, item 1): the account is usable inside process_initialize right
# after set_options, as it was in 1.0 (set_options started and synced the account).
# Only injected globals are used; "CHECK key value" lines are read by tests/legacy.
import json


def check(key, value):
    print("CHECK", key, json.dumps(value, default=str, ensure_ascii=False))


def process_initialize(context):
    log.info("process_initialize run.")
    set_options(account_no="1234567")

    check("init_total_value", context.portfolio.total_value)
    check("init_available_cash", context.portfolio.available_cash)
    check("init_locked_cash", context.portfolio.locked_cash)
    check("init_long_positions", len(context.portfolio.long_positions))
    pos = context.portfolio.long_positions["600000.XSHG"]
    check("init_empty_closeable", pos.closeable_amount)
    check("init_orders", len(get_orders()))
    sync_balance()
    sync_orders()
    check("init_synced_total_value", context.portfolio.total_value)

    # A resting buy (the simulator never trades 000002.XSHE this low on 2024-06-03).
    g["init_order"] = order("000002.XSHE", 100, LimitOrderStyle(27.0))
    check("init_order_id", g["init_order"])

    run_daily(check_at_open, "10:00")
    run_daily(after_cancel, "10:05")


g = {}


def check_at_open(context):
    order_id = g["init_order"]
    orders = get_orders()
    check("open_order_known", order_id in orders)
    if order_id in orders:
        check("open_order_status", orders[order_id].status)
    cancel_order(order_id)
    check("open_cancel_sent", order_id)


def after_cancel(context):
    orders = get_orders()
    if g["init_order"] in orders:
        check("final_order_status", orders[g["init_order"]].status)
    check("final_total_value", context.portfolio.total_value)
