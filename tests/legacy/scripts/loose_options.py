# -*- coding: utf-8 -*-
# jqtrade 1.0 style (issue 10, item 7): option values jqtrade 1.0 coerced
# (bool(x) for use_account/sync_balance/sync_order, float(x) for sync_internal; wait_lock_*
# were used as given), a counter type 1.0 allowed with a warning, and set_options twice
# (in 1.0 the second call replaced the options and set the account up again).
import json


def check(key, value):
    print("CHECK", key, json.dumps(value, default=str, ensure_ascii=False))


def process_initialize(context):
    set_options(
        account_no=1234567,
        use_account=1,
        sync_balance=1,
        sync_order=1,
        sync_internal="2",
        wait_lock_time_out="5",
        wait_lock_internal="0.05",
        market_period=[("09:30:00", "11:30:00"), ("13:00:00", "15:00:00")],
    )
    check("first_set_options", True)
    set_options(
        account_no="1234567",
        counter_type="UMC",
        sync_internal=3,
        sync_order=0,
    )
    check("second_set_options", True)
    run_daily(do_order, "10:00")
    run_daily(report, "10:05")


g = {}


def do_order(context):
    g["oid"] = order("000002.XSHE", 100, LimitOrderStyle(27.0))
    check("order_id", g["oid"])


def report(context):
    # sync_order=0 in the last set_options: 1.0 never synced orders, so the status stays local
    orders = get_orders()
    check("order_known", g["oid"] in orders)
    if g["oid"] in orders:
        check("order_status", orders[g["oid"]].status)
    cancel_order(g["oid"])
