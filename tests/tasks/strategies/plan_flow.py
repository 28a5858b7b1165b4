"""Fixture: a fixed plan of JQT_PLAN_SIZE orders, sent one every 0.1 s, each exactly once.

Plan item k buys 100 × (k + 1) shares of 600000.XSHG at the best opposite price, so an order
can be traced to its item at the broker by its amount. On every poll the next item with no
order in ``get_orders()`` (a rejected one does not count) is sent: a restarted task that read
its journal goes on where the killed one stopped. Logs ``PLAN SENT <k>`` and, once every item
has an order, ``PLAN DONE``. Polled through the loop's watcher (a fixture's shortcut, so that it
runs whatever the day and the hour).
"""

import os
import time

from jqtrade import Context, LimitOrderStyle, Strategy

CODE = "600000.XSHG"


class PlanFlow(Strategy):
    def process_initialize(self, context: Context) -> None:
        self.set_options(use_account=True, risk_max_orders_per_second=1000)
        self.size = int(os.environ.get("JQT_PLAN_SIZE", "30"))
        self.last = 0.0
        self.said_done = False
        self._runtime.loop.add_watcher(self.poll)  # type: ignore[union-attr]  # fixture only

    def poll(self) -> None:
        if time.monotonic() - self.last < 0.1:
            return
        self.last = time.monotonic()
        have = {o.amount for o in self.get_orders() if o.status != "rejected"}
        todo = [k for k in range(self.size) if 100 * (k + 1) not in have]
        if not todo:
            if not self.said_done:
                self.said_done = True
                self.log.info("PLAN DONE")
            return
        self.order(CODE, 100 * (todo[0] + 1), LimitOrderStyle(0))
        self.log.info("PLAN SENT %d", todo[0])
