# -*- coding: utf-8 -*-
# jqtrade 1.0 style (issue 10, item 12): orders placed outside continuous trading hours are
# sent as before (the broker decides); jqtrade should warn once per order.
import json


def check(key, value):
    print("CHECK", key, json.dumps(value, default=str, ensure_ascii=False))


def process_initialize(context):
    set_options(account_no="1234567")
    run_daily(before_auction, "09:00")
    run_daily(in_session, "10:00")
    run_daily(at_lunch, "12:00")
    run_daily(after_close, "15:10")


def before_auction(context):
    check("before_auction_id", order("600000.XSHG", 100, LimitOrderStyle(14.8)))


def in_session(context):
    check("in_session_id", order("601318.XSHG", 100, LimitOrderStyle(8.0)))


def at_lunch(context):
    check("lunch_id", order("000001.XSHE", 100, LimitOrderStyle(23.0)))


def after_close(context):
    check("after_close_id", order("000002.XSHE", 100, LimitOrderStyle(27.0)))
