# -*- coding: utf-8 -*-
# jqtrade 1.0 style (issue 10, items 1 and 12): run on a closed day (a Saturday), the script
# orders in process_initialize; the order is sent and one warning says when it can trade.


def process_initialize(context):
    set_options(account_no="1234567")
    print("CHECK saturday_order_id", repr(order("000002.XSHE", 100, LimitOrderStyle(27.0))))
    run_daily(noop, "open")


def noop(context):
    pass
