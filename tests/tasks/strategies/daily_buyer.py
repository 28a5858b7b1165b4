"""Fixture: buys 100 shares of 600000.XSHG at the best opposite price at 10:00 every trading day.

JQT_ORDER_DIR / JQT_ACCOUNT_NO, when set, point the account at a OneQuant folder of the test's
(the real gate: a simulated clock must refuse it without --broker sim).
"""

import os

from jqtrade import Context, LimitOrderStyle, Strategy


class DailyBuyer(Strategy):
    def process_initialize(self, context: Context) -> None:
        options = {"use_account": True, "order_sync_interval": 60, "sync_interval": 60}
        if os.environ.get("JQT_ORDER_DIR"):
            options.update(
                order_dir=os.environ["JQT_ORDER_DIR"], account_no=os.environ["JQT_ACCOUNT_NO"]
            )
        self.set_options(**options)
        self.run_daily(self.buy, "10:00")

    def buy(self, context: Context) -> None:
        self.order("600000.XSHG", 100, LimitOrderStyle(0))

    def on_strategy_end(self, context: Context) -> None:
        self.log.info("STOP HOOK RAN")
