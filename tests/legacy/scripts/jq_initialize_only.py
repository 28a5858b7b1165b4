# -*- coding: utf-8 -*-
# JoinQuant habit (issue 10, item 11): initialize(context) and no process_initialize.
# JoinQuant users keep state in g.<name> without defining g.


def initialize(context):
    g.runs = 0
    print("CHECK initialize_ran True")
    run_daily(market_open, time="open")


def market_open(context):
    g.runs += 1
    print("CHECK market_open_ran", repr(g.runs))
