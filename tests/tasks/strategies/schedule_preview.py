"""Fixture for `jqtrade schedule`: a few daily jobs and a weekly one, no orders."""

from jqtrade import Context, Strategy


class Preview(Strategy):
    def process_initialize(self, context: Context) -> None:
        self.run_daily(self.morning, "before_open")
        self.run_daily(self.mid, "10:15:30")
        self.run_daily(self.late, "close-5m")
        self.run_weekly(self.weekly, 1, "open")

    def morning(self, context: Context) -> None:
        pass

    def mid(self, context: Context) -> None:
        pass

    def late(self, context: Context) -> None:
        pass

    def weekly(self, context: Context) -> None:
        pass
