# -*- coding: utf-8 -*-
# jqtrade 1.0 style (issue 10, item 5): names 1.0 injected or documented, used without imports.
# A module-level helper reads the module-global `context` (1.0 injected it as a global).
import json


def check(key, value):
    print("CHECK", key, json.dumps(value, default=str, ensure_ascii=False))


def now_from_global_context():
    return context.current_dt


def process_initialize(context):
    set_options(account_no="1234567")
    check("global_context_works", now_from_global_context() is not None)
    check("order_status_open", OrderStatus.open.value)
    check("order_status_compares", OrderStatus.canceled == "canceled" or OrderStatus.canceled.value == "canceled")
    check("order_side_long", OrderSide.long.value)
    m0, mp, m = MarketOrderStyle(0), MarketOrderStyle(price=0), MarketOrderStyle()
    check("market_prices", [m0.price, mp.price, m.price])
    check("market_value", m.value)
    lim = LimitOrderStyle(10)
    check("limit_price_value", [lim.price, lim.value])
    run_daily(buy, "10:00")
    run_daily(read, "10:30")


g = {}


def buy(context):
    g["market"] = order("600000.XSHG", 100, MarketOrderStyle(), side=None)
    g["limit"] = order("000001.XSHE", 100, LimitOrderStyle(0))
    g["resting"] = order("000002.XSHE", 100, LimitOrderStyle(27.0), side="long")
    check("order_ids", [g["market"], g["limit"], g["resting"]])
    _order = get_orders()[g["market"]]
    check("market_order_price", _order.order_price)
    check("market_order_side", _order.side)


def read(context):
    sync_balance()
    sync_orders()
    portfolio = context.portfolio
    pos = portfolio.long_positions["000001.XSHE"]
    check("pos_amount", pos.amount)
    check("pos_total_amount", pos.total_amount)
    check("pos_hold_cost_positive", pos.hold_cost > 0)
    check("pos_avg_cost_positive", pos.avg_cost > 0)
    check("pos_security", pos.security)
    check("position_value_sum_ok", abs(portfolio.position_value - sum(p.position_value for p in portfolio.long_positions.values())) < 0.01)
    check("position_value_positive", portfolio.position_value > 0)
    filled = get_orders()[g["limit"]]
    check("filled_status", filled.status)
    check("order_price_attr", filled.order_price)  # LimitOrderStyle(0)
    check("order_price_is_avg_fill", filled.price == filled.avg_price)  # JoinQuant: price = 成交均价
    check("order_avg_cost_equals_avg_price", filled.avg_cost == filled.avg_price)
    check("avg_price_positive", filled.avg_price > 0)
    check("open_status_constant", get_orders()[g["resting"]].status == OrderStatus.open.value)
    cancel_order(g["resting"])
