# -*- coding: utf-8 -*-
"""The seed README strategy written as a Strategy class (loaded by tests through the loader).

Same jobs and the same trading logic as ``seed_strategy.py``; it also records what its order
hooks receive, so the tests can check them.
"""

from jqtrade import Context, LimitOrderStyle, MarketOrderStyle, OrderStatus, Strategy


class SeedStrategy(Strategy):
    def __init__(self) -> None:
        self.g: dict = {}
        self.updates: list = []
        self.trades: list = []
        self.open_totals: list = []

    def process_initialize(self, context: Context) -> None:
        self.log.info("process_initialize run.")
        self.set_options(account_no="1234567")
        self.run_daily(self.before_market_open, "open-30m")
        self.run_daily(self.market_open, "open")
        self.run_daily(self.market_close, "close")
        self.run_daily(self.after_market_close, "close+30m")
        self.run_daily(self.do_order, "every_minute")

    def before_market_open(self, context: Context) -> None:
        portfolio = context.portfolio
        self.open_totals.append(portfolio.total_assert)
        self.log.info("当前总资产： %s", portfolio.total_assert)
        self.log.info("当前锁定金额：%s", portfolio.locked_cash)
        self.log.info("当前可用资金：%s", portfolio.available_cash)
        self.log.info("当前多头持仓：%s", portfolio.long_positions)
        self.log.info("当前空头持仓：%s", portfolio.short_positions)

    def market_open(self, context: Context) -> None:
        self.log.info("market_open run")

    def do_order(self, context: Context) -> None:
        pos = context.portfolio.long_positions["000001.XSHE"]
        if pos.available_amount > 0:
            self.g["order_id_000001"] = self.order(
                "000001.XSHE", -pos.available_amount, LimitOrderStyle(10)
            )
        if "000002.XSHE" not in context.portfolio.long_positions:
            self.g["order_id_000002"] = self.order("000002.XSHE", 100, MarketOrderStyle())
        for order in self.get_orders():
            if order.status in (OrderStatus.new, OrderStatus.open):
                self.log.info("查询到未完成订单：%s", order)
                self.cancel_order(order.order_id)

    def market_close(self, context: Context) -> None:
        self.log.info("market_close run")

    def after_market_close(self, context: Context) -> None:
        self.log.info("after_market_close run")

    def on_order_update(self, context: Context, order) -> None:
        self.updates.append(order)

    def on_trade(self, context: Context, trade) -> None:
        self.trades.append(trade)
