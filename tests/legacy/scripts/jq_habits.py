# -*- coding: utf-8 -*-
# JoinQuant habits (issue 10, item 11) in a process_initialize script: every_bar,
# reference_security, and order_target_value / order_value / order_target with JoinQuant's
# argument names (security=, value=, amount=).
import json


def check(key, value):
    print("CHECK", key, json.dumps(value, default=str, ensure_ascii=False))


def process_initialize(context):
    set_options(account_no="1234567")
    g.bars = 0
    run_daily(market_open, time="open", reference_security="000300.XSHG")
    run_daily(every_bar, "every_bar")
    run_daily(trade, "10:00")
    run_daily(report, "10:30:30")


def market_open(context):
    check("market_open_ran", context.strategy_dt.strftime("%Y-%m-%d %H:%M:%S"))


def every_bar(context):
    g.bars += 1
    if g.bars == 1:
        check("first_bar", context.strategy_dt.strftime("%Y-%m-%d %H:%M:%S"))


def trade(context):
    g.by_value = order_value(security="600000.XSHG", value=10000, style=LimitOrderStyle(16.5))
    g.by_target = order_target(security="000002.XSHE", amount=200, style=LimitOrderStyle(27.0))
    g.by_target_value = order_target_value(security="601318.XSHG", value=20000, style=LimitOrderStyle(8.6))
    check("order_ids", [g.by_value, g.by_target, g.by_target_value])


def report(context):
    orders = get_orders()
    for name in ("by_value", "by_target", "by_target_value"):
        oid = getattr(g, name)
        if oid in orders:
            check(name, [orders[oid].code, orders[oid].amount, orders[oid].status])
    check("bars_by_1030", g.bars)
    cancel_order(g.by_target)
