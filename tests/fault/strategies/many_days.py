"""Fixture for the many-days run: trades a little every day, reports what fired and its memory.

Every firing of the ``every_minute`` job and the close of each day are written as JSON lines to
the file named by ``JQT_FAULT_REPORT``, so the test reads facts rather than log text. The
close record carries the process's resident memory (psutil), measured inside the task.
"""

import json
import os

import psutil

from jqtrade import Context, LimitOrderStyle, MarketOrderStyle, Strategy

CODES = ("600000.XSHG", "000001.XSHE", "601318.XSHG")


class ManyDays(Strategy):
    def process_initialize(self, context: Context) -> None:
        self.set_options(order_sync_interval=60, sync_interval=300)
        self.run_daily(self.every_minute, "every_minute")
        self.run_daily(self.at_close, "after_close")
        self.run_monthly(self.month_end, -1, "14:50")
        self.report = open(os.environ["JQT_FAULT_REPORT"], "a", encoding="utf-8")  # noqa: SIM115
        self.process = psutil.Process()
        self.fired = 0

    def _write(self, **record: object) -> None:
        self.report.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.report.flush()

    def every_minute(self, context: Context) -> None:
        now = context.current_dt
        self.fired += 1
        self._write(kind="minute", at=now.isoformat())
        if now.minute == 0 and now.hour in (10, 13):
            code = CODES[(now.day + now.hour) % len(CODES)]
            self.order(code, 100, MarketOrderStyle())
        elif now.hour == 10 and now.minute == 30:
            for code, position in context.portfolio.long_positions.items():
                if position.closeable_amount >= 100:
                    self.order(code, -100, MarketOrderStyle())
                    break
        elif now.hour == 11 and now.minute == 0:
            for code, position in context.portfolio.long_positions.items():
                if (
                    position.last_price > 0
                ):  # a buy 5 % under the market: rests until canceled at 14:00
                    self.order(code, 100, LimitOrderStyle(round(position.last_price * 0.95, 2)))
                    break
        elif now.hour == 14 and now.minute == 0:
            for order in self.get_orders(status="open"):
                self.cancel_order(order.order_id)

    def month_end(self, context: Context) -> None:
        self._write(kind="month_end", at=context.current_dt.isoformat())

    def at_close(self, context: Context) -> None:
        orders = self.get_orders()
        self._write(
            kind="close",
            day=context.current_dt.date().isoformat(),
            fired=self.fired,
            orders=len(orders),
            final=sum(1 for o in orders if o.is_final),
            rss=self.process.memory_info().rss,
        )

    def on_strategy_end(self, context: Context) -> None:
        self._write(kind="end", at=context.current_dt.isoformat())
        self.report.close()
