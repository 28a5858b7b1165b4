"""Class-based fixture for live-clock runs: job times come from JQT_T1 / JQT_T2 (HH:MM:SS)."""

import os

from jqtrade import Context, Strategy


class LiveDemo(Strategy):
    def process_initialize(self, context: Context) -> None:
        self.run_daily(self.first, os.environ["JQT_T1"])
        self.run_daily(self.second, os.environ["JQT_T2"])
        self.run_daily(self.never_today, "before_open")

    def first(self, context: Context) -> None:
        self.log.info(
            "JOB first %s %s", context.current_dt.isoformat(), context.strategy_dt.isoformat()
        )

    def second(self, context: Context) -> None:
        self.log.info(
            "JOB second %s %s", context.current_dt.isoformat(), context.strategy_dt.isoformat()
        )

    def never_today(self, context: Context) -> None:
        self.log.info("JOB never_today %s", context.current_dt.isoformat())

    def on_strategy_end(self, context: Context) -> None:
        self.log.info("STOP HOOK")
