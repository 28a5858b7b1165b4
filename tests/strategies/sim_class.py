"""Class-based fixture strategy: several daily jobs that log what the clock says."""

from jqtrade import Context, Strategy


class Several(Strategy):
    def process_initialize(self, context: Context) -> None:
        self.run_daily(self.job_before_open, "before_open")
        self.run_daily(self.job_open, "open")
        self.run_daily(self.job_mid, "10:15:30")
        self.run_daily(self.job_late, "14:57")
        self.run_daily(self.job_close, "close")
        self.run_daily(self.job_after_close, "after_close")

    def _record(self, name: str, context: Context) -> None:
        self.log.info(
            "JOB %s %s %s", name, context.current_dt.isoformat(), context.strategy_dt.isoformat()
        )

    def job_before_open(self, context: Context) -> None:
        self._record("before_open", context)

    def job_open(self, context: Context) -> None:
        self._record("open", context)
        print("PRINTED from job_open", context.current_dt.date())

    def job_mid(self, context: Context) -> None:
        self._record("mid", context)

    def job_late(self, context: Context) -> None:
        self._record("late", context)

    def job_close(self, context: Context) -> None:
        self._record("close", context)

    def job_after_close(self, context: Context) -> None:
        self._record("after_close", context)

    def on_strategy_end(self, context: Context) -> None:
        self.log.info("STOP HOOK %s", context.current_dt.isoformat())
