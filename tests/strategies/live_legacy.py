# Legacy fixture for live-clock runs: job times come from JQT_T1 / JQT_T2 (HH:MM:SS).
import os

g = {}


def process_initialize(context):
    g["count"] = 0
    run_daily(first, os.environ["JQT_T1"])  # noqa: F821 - injected by the shim
    run_daily(second, os.environ["JQT_T2"])  # noqa: F821
    run_daily(first, "after_close")  # noqa: F821


def first(context):
    g["count"] += 1
    log.info("JOB first %s %s", context.current_dt.isoformat(), context.strategy_dt.isoformat())  # noqa: F821


def second(context):
    g["count"] += 1
    log.info("JOB second %s %s", context.current_dt.isoformat(), context.strategy_dt.isoformat())  # noqa: F821


def process_exit(context):
    log.info("STOP HOOK count=%d", g["count"])  # noqa: F821
