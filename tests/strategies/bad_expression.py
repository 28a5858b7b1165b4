"""Fixture: a run_daily time expression with a typo."""

from jqtrade import Context, Strategy


class Typo(Strategy):
    def process_initialize(self, context: Context) -> None:
        self.run_daily(self.job, "opne")

    def job(self, context: Context) -> None:
        pass
