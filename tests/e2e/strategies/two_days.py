"""Trades on two consecutive trading days and logs what it sees (tests/e2e, crossing midnight).

Day 1 buys 1000 shares, leaves many resting orders (canceled later) so that day 1's broker
files grow much longer than day 2's, and keeps one order open into the night. Day 2 sells
what it bought (T+1) and trades a little. Every observation is logged as ``E2E-JSON {...}``.
"""

import json

from jqtrade import Context, LimitOrderStyle, Strategy


class TwoDays(Strategy):
    def process_initialize(self, context: Context) -> None:
        self.set_options(use_account=True)
        self.run_daily(self.early, "08:00")
        self.run_daily(self.before_open, "before_open")
        self.run_daily(self.buy, "09:35")
        self.run_daily(self.rest, "09:40")
        self.run_daily(self.cancel_resting, "10:30")
        self.run_daily(self.after_close, "after_close")
        self.resting: list = []
        self.days = 0

    def _say(self, context: Context, event: str, **data) -> None:
        record = {
            "event": event,
            "day": context.current_dt.date().isoformat(),
            "at": context.current_dt.strftime("%H:%M:%S"),
            **data,
        }
        self.log.info("E2E-JSON %s", json.dumps(record, ensure_ascii=False))

    def _orders(self) -> list:
        return [
            {
                "order_id": o.order_id,
                "status": o.status.value,
                "code": o.code,
                "amount": o.amount,
                "filled_amount": o.filled_amount,
                "canceled_amount": o.canceled_amount,
                "created": o.create_time.date().isoformat() if o.create_time else None,
            }
            for o in self.get_orders()
        ]

    def early(self, context: Context) -> None:
        self._say(context, "orders", orders=self._orders())

    def before_open(self, context: Context) -> None:
        self.days += 1
        positions = {
            code: [p.total_amount, p.closeable_amount]
            for code, p in context.portfolio.long_positions.items()
        }
        self._say(context, "orders", orders=self._orders(), positions=positions)

    def buy(self, context: Context) -> None:
        held = context.portfolio.long_positions
        if "600000.XSHG" in held and held["600000.XSHG"].closeable_amount > 0:
            ids = [
                self.order(
                    "600000.XSHG", -held["600000.XSHG"].closeable_amount, LimitOrderStyle(0)
                ),
                self.order("000001.XSHE", 100, LimitOrderStyle(0)),
            ]
        else:
            ids = [self.order("600000.XSHG", 1000, LimitOrderStyle(0))]
        self._say(context, "placed", ids=ids)

    def rest(self, context: Context) -> None:
        filled = [o for o in self.get_orders(status="filled") if o.is_buy]
        if not filled:
            return
        code, price = filled[0].code, filled[0].avg_price
        count = 20 if self.days == 1 else 2  # day 1 writes much more than day 2
        self.resting = [
            self.order(code, 100, LimitOrderStyle(round(price * 0.95, 2))) for _ in range(count)
        ]
        if self.days == 1:  # too low to fill today: still open when the day ends
            self.resting.append(self.order(code, 100, LimitOrderStyle(round(price * 0.93, 2))))
        self._say(context, "placed", ids=self.resting)

    def cancel_resting(self, context: Context) -> None:
        keep = self.resting[-1:] if self.days == 1 else []  # one order stays open into the night
        for order_id in self.resting:
            if order_id not in keep:
                self.cancel_order(order_id)
        self._say(context, "kept_open", ids=keep)

    def after_close(self, context: Context) -> None:
        self._say(context, "orders", orders=self._orders())
