"""Fixture: a task that registers one job (far from now) and waits; its stop hook logs a marker."""

from jqtrade import Context, Strategy


class Idle(Strategy):
    def process_initialize(self, context: Context) -> None:
        self.run_daily(self.after_close, "after_close")

    def after_close(self, context: Context) -> None:
        self.log.info("JOB after_close")

    def on_strategy_end(self, context: Context) -> None:
        self.log.info("STOP HOOK RAN")
