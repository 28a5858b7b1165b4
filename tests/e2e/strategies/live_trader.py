"""A live-clock strategy for the end-to-end tests and bench/bench_e2e.py, driven by environment
variables (set by the test that starts it):

* ``E2E_ACCOUNT``, ``E2E_DIR``: the fund account and the OneQuant folder (GBK files).
* ``E2E_PLACE_AT`` (``HH:MM:SS``, market time): place ``E2E_BURST`` orders, ``E2E_PACE``
  seconds apart, alternating a buy at the counterparty price (fills) and a buy limited at
  ``E2E_REST_PRICE`` (rests). A time already past means one second from now.
* ``E2E_CANCEL_AT``: cancel every unfinished order of this task, then place ``E2E_AFTER``
  buys at the counterparty price.

Everything it sees is logged as ``E2E-JSON {...}``: orders placed, every ``on_order_update``
(with the wall time, for the latency bench), and ``get_orders()`` from ``on_strategy_end``.
"""

import json
import os
import time

from jqtrade import Context, LimitOrderStyle, Strategy

CODE = "600000.XSHG"


class LiveTrader(Strategy):
    def process_initialize(self, context: Context) -> None:
        env = os.environ
        self.set_options(
            account_no=env["E2E_ACCOUNT"], order_dir=env["E2E_DIR"], file_encoding="gbk"
        )
        self.burst = int(env.get("E2E_BURST", "4"))
        self.pace = float(env.get("E2E_PACE", "0"))
        self.after = int(env.get("E2E_AFTER", "0"))
        self.rest_price = float(env.get("E2E_REST_PRICE", "9.50"))
        for name, job in (("E2E_PLACE_AT", self.place), ("E2E_CANCEL_AT", self.cancel_and_place)):
            if env.get(name):
                self.run_daily(job, self._not_past(context, env[name]))

    @staticmethod
    def _not_past(context: Context, text: str) -> str:
        soon = context.current_dt.add(seconds=1).strftime("%H:%M:%S")
        return max(text, soon)

    def _say(self, event: str, **data) -> None:
        self.log.info("E2E-JSON %s", json.dumps({"event": event, **data}, ensure_ascii=False))

    def place(self, context: Context) -> None:
        for index in range(self.burst):
            if index and self.pace:
                time.sleep(self.pace)
            price = 0 if index % 2 == 0 else self.rest_price
            order_id = self.order(CODE, 100, LimitOrderStyle(price))
            self._say("placed", id=order_id, resting=bool(price))

    def cancel_and_place(self, context: Context) -> None:
        for order in self.get_orders(status=["new", "open", "filling"]):
            self.cancel_order(order.order_id)
            self._say("cancel", id=order.order_id)
        for _ in range(self.after):
            self._say("placed", id=self.order(CODE, 100, LimitOrderStyle(0)), resting=False)

    def on_order_update(self, context: Context, order) -> None:
        self._say(
            "update",
            id=order.order_id,
            status=order.status.value,
            filled=order.filled_amount,
            wall=time.time(),
        )

    def on_strategy_end(self, context: Context) -> None:
        orders = [
            {
                "order_id": o.order_id,
                "status": o.status.value,
                "filled_amount": o.filled_amount,
                "canceled_amount": o.canceled_amount,
                "err_msg": o.err_msg,
            }
            for o in self.get_orders()
        ]
        self._say("end", orders=orders)
