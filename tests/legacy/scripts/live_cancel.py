# -*- coding: utf-8 -*-
# jqtrade 1.0 style on the live clock (issue 10): jobs a few seconds from now, written the way
# 1.0 users test a script (datetime.now() + N s, the machine in Beijing time).
import json
import datetime


def check(key, value):
    print("CHECK", key, json.dumps(value, default=str, ensure_ascii=False), flush=True)


def at(seconds):
    return (START + datetime.timedelta(seconds=seconds)).strftime("%H:%M:%S")


START = datetime.datetime.now()


def process_initialize(context):
    set_options(account_no="1234567")
    check("init_now_naive", context.current_dt.tzinfo is None)
    check("init_now_close_to_wall", abs((context.current_dt - datetime.datetime.now()).total_seconds()) < 5)
    run_daily(place, at(6))
    run_daily(cancel_all, at(9))
    run_daily(report, at(14))


g = {}


def place(context):
    g["ids"] = [order("000002.XSHE", 100, LimitOrderStyle(27.0)), order("600000.XSHG", 100, LimitOrderStyle(14.8))]
    check("placed", g["ids"])


def cancel_all(context):
    for oid in get_orders():
        cancel_order(oid)
    check("cancel_loop_done", True)


def report(context):
    sync_orders()
    orders = get_orders()
    check("statuses", [orders[oid].status for oid in g["ids"]])
    check("report_done", True)
