"""Fixture: a callback that places orders for a while (real time), to be stopped in the middle.

At 10:00 ``busy`` places ``JQT_BUSY_ORDERS`` orders, pausing ``JQT_BUSY_PAUSE`` seconds of real
time after each; a stop request (SIGTERM or ``stop_task``) arrives meanwhile. The job at 10:30
must then never run, and the stop hook reports how many orders the task knows.
"""

import os
import time

from jqtrade import Context, MarketOrderStyle, Strategy


class Busy(Strategy):
    def process_initialize(self, context: Context) -> None:
        self.run_daily(self.busy, "10:00")
        self.run_daily(self.later, "10:30")

    def busy(self, context: Context) -> None:
        self.log.info("BUSY STARTED")
        count = int(os.environ.get("JQT_BUSY_ORDERS", "20"))
        pause = float(os.environ.get("JQT_BUSY_PAUSE", "0.05"))
        placed = []
        for _ in range(count):
            placed.append(self.order("600000.XSHG", 100, MarketOrderStyle()))
            time.sleep(pause)
        self.log.info("BUSY FINISHED %d", len(placed))

    def later(self, context: Context) -> None:
        self.log.info("LATER RAN")

    def on_strategy_end(self, context: Context) -> None:
        self.log.info("STOP HOOK RAN orders=%d", len(self.get_orders()))
