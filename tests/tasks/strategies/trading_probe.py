"""Fixture: orders on request, at any time of day, for the trading-state tests.

The test appends lines to the file JQT_REQUESTS: ``buy`` (100 shares of 600000.XSHG at the best
opposite price) or ``rest`` (100 shares at 95 % of the previous close: stays open at the
simulated broker). Each line is handled once, on the loop thread, and counted in
``<JQT_REQUESTS>.done`` so that a restarted task goes on after the last one; the outcome is
logged as ``ORDER <n> <order id>`` or ``REFUSED <n> <reason code>``. The trading-state hook logs
``STATE <old> -> <new> (<reason>) context=<context.trading_state>``.

A test fixture may reach into the loop (``add_watcher``) to be polled whatever the day and the
hour; a strategy uses run_daily.
"""

import os
from decimal import Decimal
from pathlib import Path

from jqtrade import Context, LimitOrderStyle, OrderRejectedError, Strategy
from jqtrade.model.rules import round_tick
from jqtrade.sim import PriceFeed

CODE = "600000.XSHG"


class TradingProbe(Strategy):
    def process_initialize(self, context: Context) -> None:
        self.set_options(use_account=True)
        self.requests = Path(os.environ["JQT_REQUESTS"])
        self.done_file = self.requests.with_name(self.requests.name + ".done")
        self.done = int(self.done_file.read_text() or 0) if self.done_file.exists() else 0
        self.context = context
        self._runtime.loop.add_watcher(self.poll)  # type: ignore[union-attr]  # fixture only
        self.log.info("PROBE READY state=%s", context.trading_state.value)

    def poll(self) -> None:
        lines = self.requests.read_text().split() if self.requests.exists() else []
        while self.done < len(lines):
            self.handle(self.done + 1, lines[self.done])
            self.done += 1
            self.done_file.write_text(str(self.done))

    def handle(self, n: int, kind: str) -> None:
        if kind == "rest":
            prev = PriceFeed(0).prev_close(CODE, self.context.current_dt.date())
            style = LimitOrderStyle(float(round_tick(prev * Decimal("0.95"), Decimal("0.01"))))
        else:
            style = LimitOrderStyle(0)
        amount = -100 if kind == "sell" else 100
        try:
            order_id = self.order(CODE, amount, style)
        except OrderRejectedError as exc:
            self.log.info("REFUSED %d %s", n, exc.reason)
        else:
            self.log.info("ORDER %d %s", n, order_id)

    def on_trading_state_change(self, context: Context, old, new, reason: str) -> None:
        self.log.info(
            "STATE %s -> %s (%s) context=%s",
            old.value,
            new.value,
            reason,
            context.trading_state.value,
        )

    def on_strategy_end(self, context: Context) -> None:
        self.log.info("STOP HOOK RAN")
