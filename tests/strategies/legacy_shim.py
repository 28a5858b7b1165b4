# Legacy fixture for in-process shim tests: records everything in the module-level `g`.
g = {}
calls = 0


def process_initialize(context):
    g["init_dt"] = context.current_dt
    g["seen"] = []
    set_options(misfire_grace_time=30)  # noqa: F821 - injected by the shim
    run_daily(trade, "10:00")  # noqa: F821
    run_weekly(weekly, 1, "close")  # noqa: F821
    run_monthly(monthly, -1, "open")  # noqa: F821


def trade(context):
    global calls
    calls += 1
    g["seen"].append((context.strategy_dt, context.current_dt))
    g["order_result"] = order("000001.XSHE", 100, LimitOrderStyle(10.5))  # noqa: F821
    g["styles"] = (LimitOrderStyle, MarketOrderStyle, OrderStatus)  # noqa: F821
    if g.get("try_run_daily_in_job"):
        run_daily(trade, "11:00")  # noqa: F821


def weekly(context):
    g.setdefault("weekly", []).append(context.strategy_dt)


def monthly(context):
    g.setdefault("monthly", []).append(context.strategy_dt)


def on_strategy_end(context):
    g["ended"] = g.get("ended", 0) + 1
