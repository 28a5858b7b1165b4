# -*- coding: utf-8 -*-
# A jqtrade 1.0 --config file (issue 10, item 8): module-level SCHEDULER_* / ACCOUNT_*
# assignments. 1.0 exec()'d it; jqtrade must only parse the literal assignments.
import datetime

# market hours: "close" becomes 14:57
SCHEDULER_MARKET_PERIOD = [
    (datetime.time(9, 30), datetime.time(11, 30)),
    (datetime.time(13, 0), datetime.time(14, 57)),
]
SCHEDULER_EVENT_DAYS_COUNT = 30          # no meaning now: should be warned about

ACCOUNT_SYNC_BALANCE = True
ACCOUNT_SYNC_ORDER = True
ACCOUNT_SYNC_INTERNAL = 3
ACCOUNT_TRADE_GATE = "jqtrade.account.trade_gate.AnXinDMATradeGate"   # 1.0's default gate

print("THIS CONFIG WAS EXECUTED")         # must never run
