# -*- coding: utf-8 -*-
# jqtrade 1.0 style (issue 10, item 5): the imports 1.0 scripts and 1.0 custom gates used.
import json
from jqtrade.account.order import OrderStatus, OrderSide, MarketOrderStyle, LimitOrderStyle
from jqtrade.account import AbsTradeGate
from jqtrade.account.trade_gate import AbsTradeGate as TradeGateBase


def check(key, value):
    print("CHECK", key, json.dumps(value, default=str, ensure_ascii=False))


def process_initialize(context):
    check("imports_ok", True)
    check("same_gate_base", AbsTradeGate is TradeGateBase)
    check("status_filled", OrderStatus.filled.value)
    check("side_short", OrderSide.short.value)
    check("market_style_price", MarketOrderStyle(0).price)
    check("limit_style_value", LimitOrderStyle(9.5).value)
    run_daily(at_open, "open")


def at_open(context):
    check("open_job_ran", context.strategy_dt.strftime("%Y-%m-%d %H:%M:%S"))
