"""Fixture: like idle.py, with the account module on (``--broker sim`` supplies the gate)."""

from jqtrade import Context, Strategy


class IdleAccount(Strategy):
    def process_initialize(self, context: Context) -> None:
        self.set_options(use_account=True)
        self.run_daily(self.after_close, "after_close")

    def after_close(self, context: Context) -> None:
        self.log.info("JOB after_close")

    def on_strategy_end(self, context: Context) -> None:
        self.log.info("STOP HOOK RAN")
