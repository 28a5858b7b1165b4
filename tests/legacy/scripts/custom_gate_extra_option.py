# -*- coding: utf-8 -*-
# jqtrade 1.0 style (issue 10, items 2 and 6): a key jqtrade does not know, meant for the
# user's own 1.0 gate, which reads it in setup(options) as 1.0 passed every option there.


def process_initialize(context):
    set_options(account_no="8888", trade_gate="legacy_gate:LegacyDictGate", my_broker_host="127.0.0.1")
    run_daily(at_ten, "10:00")


def at_ten(context):
    print("CHECK job_ran true")
