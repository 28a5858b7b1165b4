# -*- coding: utf-8 -*-
# Run with --config tests/legacy/configs/jqtrade_1x_config.py (issue 10, item 8).


def process_initialize(context):
    set_options(account_no="1234567")
    run_daily(at_close, "close")
    run_daily(at_ten, "10:00")


def at_close(context):
    print("CHECK close_job_at", repr(context.strategy_dt.strftime("%Y-%m-%d %H:%M:%S")))


def at_ten(context):
    print("CHECK ten_job_ran", repr(context.strategy_dt.strftime("%Y-%m-%d %H:%M:%S")))
