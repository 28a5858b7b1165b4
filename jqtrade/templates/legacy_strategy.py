# -*- coding: utf-8 -*-
# 策略模板（函数写法，兼容旧版 jqtrade / 聚宽风格脚本）。
# 试运行：jqtrade start_task -n 名称 -c 本文件 --simulate 2024-06-03 --broker sim
# run_daily、set_options、order、cancel_order、get_orders、log 等无需导入，由 jqtrade 注入。


def process_initialize(context):
    set_options(use_account=True)  # 实盘时改为 account_no="你的资金账号"
    run_daily(before_market_open, "open-30m")
    run_daily(market_open, "open")
    run_daily(before_close, "close-5m")
    run_daily(after_market_close, "close+30m")


g = {}  # 自定义全局变量，进程内一直保留


def before_market_open(context):
    log.info(
        f"当前总资产：{context.portfolio.total_assert}，可用资金：{context.portfolio.available_cash}"
    )


def market_open(context):
    if "600000.XSHG" not in context.portfolio.long_positions:
        g["order_id"] = order(
            "600000.XSHG", 100, LimitOrderStyle(0)
        )  # 被拒绝时返回 None 并记录日志


def before_close(context):
    for _order in get_orders():
        if _order.status in ("new", "open"):
            cancel_order(_order.order_id)


def after_market_close(context):
    log.info(f"今天的订单：{len(get_orders())} 个")


def on_strategy_end(context):
    log.info("策略停止")
