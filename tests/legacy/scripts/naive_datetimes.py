# -*- coding: utf-8 -*-
# jqtrade 1.0 / JoinQuant style (issue 10, item 4): current_dt, strategy_dt and the order
# times are naive Beijing-time datetime.datetime values, compared and subtracted with
# datetime.datetime(...) built by the script.
import json
import datetime


def check(key, value):
    print("CHECK", key, json.dumps(value, default=str, ensure_ascii=False))


def process_initialize(context):
    set_options(account_no="1234567")
    check("init_type", type(context.current_dt).__name__)
    check("init_tzinfo", repr(context.current_dt.tzinfo))
    run_daily(at_ten, "10:00")
    run_daily(later, "10:05")


g = {}


def at_ten(context):
    now = context.current_dt
    check("now_type", type(now).__name__)
    check("now_is_plain_datetime", type(now) is datetime.datetime)
    check("now_tzinfo", repr(now.tzinfo))
    check("now_hhmm", now.strftime("%Y-%m-%d %H:%M"))
    check("strategy_dt", str(context.strategy_dt))
    check("strategy_dt_tzinfo", repr(context.strategy_dt.tzinfo))
    check("strategy_dt_equals", context.strategy_dt == datetime.datetime(2024, 6, 3, 10, 0))
    check("after_open", now > datetime.datetime(2024, 6, 3, 9, 30))
    check("since_open_minutes", (now - datetime.datetime(2024, 6, 3, 9, 30)).total_seconds() // 60)
    g["oid"] = order("000002.XSHE", 100, LimitOrderStyle(27.0))
    created = get_orders()[g["oid"]].create_time
    check("create_time_tzinfo", repr(created.tzinfo))
    check("create_time_hhmm", created.strftime("%H:%M"))
    check("create_time_compares", datetime.datetime(2024, 6, 3, 10, 0) <= created < datetime.datetime(2024, 6, 3, 10, 1))


def later(context):
    _order = get_orders()[g["oid"]]
    check("status_later", _order.status)
    entrust = _order.entrust_time
    check("entrust_time_tzinfo", repr(entrust.tzinfo) if entrust is not None else "missing")
    if entrust is not None:
        check("entrust_minus_create_ok", (entrust - _order.create_time).total_seconds() >= 0)
        check("entrust_before_now", entrust <= context.current_dt)
    age = context.current_dt - _order.create_time
    check("order_age_minutes", int(age.total_seconds() // 60))
    cancel_order(g["oid"])
