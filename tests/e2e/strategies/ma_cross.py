"""A moving-average cross on daily closes from get_bars, with current_data's limits checked.

Buys 1,000 shares when the 5-day average of closes crosses above the 20-day one, sells the
position when it crosses below; never buys at the limit-up or sells at the limit-down, skips
paused days. Limit prices 1 % through the current price, inside the day's limits.
"""

from __future__ import annotations

from jqtrade import Context, LimitOrderStyle, Strategy

CODES = ("600000.XSHG", "000001.XSHE", "300750.XSHE")


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


class MaCross(Strategy):
    def process_initialize(self, context: Context) -> None:
        self.set_options(use_account=True)
        self.run_daily(self.trade, "14:50")

    def trade(self, context: Context) -> None:
        for code in CODES:
            closes = self.get_bars(code, 21, "1d", fields=["close"])["close"]
            if len(closes) < 21:
                continue
            fast, slow = mean(closes[-5:]), mean(closes[-20:])
            fast_before, slow_before = mean(closes[-6:-1]), mean(closes[-21:-1])
            data = context.current_data[code]
            if data.paused:
                self.log.info("%s 停牌，跳过", code)
                continue
            held = context.portfolio.long_positions.get(code)
            if fast_before <= slow_before and fast > slow and held is None:
                if data.last_price >= data.high_limit:
                    self.log.info("%s 涨停，不买", code)
                    continue
                price = min(round(data.last_price * 1.01, 2), data.high_limit)
                self.order(code, 1000, LimitOrderStyle(price))
            elif fast_before >= slow_before and fast < slow and held and held.closeable_amount:
                if data.last_price <= data.low_limit:
                    self.log.info("%s 跌停，不卖", code)
                    continue
                price = max(round(data.last_price * 0.99, 2), data.low_limit)
                self.order(code, -held.closeable_amount, LimitOrderStyle(price))
