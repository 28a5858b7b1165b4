"""Fixture: a job whose callback takes ~2 s (real time); a stop request must wait for it.

The job time comes from JQT_LONG_AT (HH:MM:SS, market time), default 09:31. A second job,
JQT_LATER_AT (default 10:00), must not run once a stop was requested during the first.
"""

import os
import time

from jqtrade import Context, Strategy


class LongCallback(Strategy):
    def process_initialize(self, context: Context) -> None:
        self.run_daily(self.slow, os.environ.get("JQT_LONG_AT", "09:31"))
        self.run_daily(self.later, os.environ.get("JQT_LATER_AT", "10:00"))

    def slow(self, context: Context) -> None:
        self.log.info("LONG STARTED")
        time.sleep(float(os.environ.get("JQT_LONG_SECONDS", "2")))
        self.log.info("LONG FINISHED")

    def later(self, context: Context) -> None:
        self.log.info("LATER JOB RAN")

    def on_strategy_end(self, context: Context) -> None:
        self.log.info("STOP HOOK RAN")
