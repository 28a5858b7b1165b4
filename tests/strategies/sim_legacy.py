# Legacy (JoinQuant-style) fixture script: no imports of jqtrade at all.
g = {"runs": 0}


def process_initialize(context):
    run_daily(market_open, "open")  # noqa: F821 - injected by the shim
    run_daily(before_lunch, "11:29:59")  # noqa: F821
    run_daily(evening, "close+1h")  # noqa: F821


def _record(name, context):
    g["runs"] += 1
    log.info(
        "JOB %s %s %s runs=%d",
        name,
        context.current_dt.isoformat(),
        context.strategy_dt.isoformat(),
        g["runs"],
    )  # noqa: F821


def market_open(context):
    _record("open", context)


def before_lunch(context):
    _record("before_lunch", context)


def evening(context):
    _record("evening", context)


def on_strategy_end(context):
    log.info("STOP HOOK runs=%d", g["runs"])  # noqa: F821
