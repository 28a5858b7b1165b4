# -*- coding: utf-8 -*-
"""jqtrade 演示策略：一个交易日内买入、成交、挂单、撤单。

由 `jqtrade demo` 在模拟时钟和内置模拟券商上运行，不是真实交易。
"""

from __future__ import annotations

from typing import Optional

from jqtrade import Context, LimitOrderStyle, OrderRejectedError, Strategy


class DemoStrategy(Strategy):
    def process_initialize(self, context: Context) -> None:
        self.set_options(use_account=True)
        self.resting_order: Optional[str] = None
        self.run_daily(self.before_open, "before_open")
        self.run_daily(self.buy, "09:31")
        self.run_daily(self.place_resting_order, "10:00")
        self.run_daily(self.cancel_resting_order, "14:00")
        self.run_daily(self.after_close, "after_close")

    def before_open(self, context: Context) -> None:
        p = context.portfolio
        self.log.info("开盘前：总资产 %.2f，可用资金 %.2f", p.total_value, p.available_cash)

    def buy(self, context: Context) -> None:
        # LimitOrderStyle(0)：按对手方最优价成交
        self.order("600000.XSHG", 1000, LimitOrderStyle(0))
        self.order("000001.XSHE", 500, LimitOrderStyle(0))
        try:
            self.order("600000.XSHG", 150, LimitOrderStyle(0))  # 不是 100 的整数倍：下单前就被拒绝
        except OrderRejectedError as exc:
            self.log.warning("下单前检查拒绝：%s", exc)

    def place_resting_order(self, context: Context) -> None:
        # 比上午成交价低 8% 的限价买单：多半不会成交，下午撤掉
        filled = self.get_orders(code="600000.XSHG", status="filled")
        if filled:
            price = round(filled.values()[0].avg_price * 0.92, 2)
            self.resting_order = self.order("600000.XSHG", 200, LimitOrderStyle(price))

    def cancel_resting_order(self, context: Context) -> None:
        for o in self.get_orders(status="open"):
            self.log.info("撤销未成交订单 %s", o.order_id)
            self.cancel_order(o.order_id)

    def on_order_update(self, context: Context, order) -> None:  # type: ignore[no-untyped-def]
        self.log.info("订单更新：%s", order)

    def on_trade(self, context: Context, trade) -> None:  # type: ignore[no-untyped-def]
        self.log.info("成交：%s", trade)

    def after_close(self, context: Context) -> None:
        p = context.portfolio
        held = "，".join(f"{code} {pos.total_amount} 股" for code, pos in p.long_positions.items())
        self.log.info("收盘后：总资产 %.2f，持仓 %s", p.total_value, held or "无")

    def on_strategy_end(self, context: Context) -> None:
        self.log.info("演示结束")
