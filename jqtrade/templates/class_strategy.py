# -*- coding: utf-8 -*-
"""策略模板（类写法）：展示 jqtrade 的每个回调和常用 API。

试运行（模拟时钟 + 内置模拟券商，不是真实交易）：
    jqtrade start_task -n 名称 -c 本文件 --simulate 2024-06-03 --broker sim
实盘运行前，把 set_options 里的 use_account 换成你的 account_no（资金账号）。

每个回调和 API 都标注了类型：编辑器可以补全，mypy --strict 可以检查（如写错 context.portfolio）。
"""

from __future__ import annotations

from jqtrade import (
    Context,
    LimitOrderStyle,
    OrderRejectedError,
    OrderSnapshot,
    Strategy,
    Trade,
    TradingState,
)


class TemplateStrategy(Strategy):
    minutes: int = 0  # 今天运行了多少分钟（every_minute 计数）

    def process_initialize(self, context: Context) -> None:
        """进程启动时运行一次：设置选项和定时任务（只能在这里调用 run_daily / set_options）。"""
        self.set_options(
            use_account=True,  # 实盘时改为 account_no="你的资金账号"
            market_period=[("09:30:00", "11:30:00"), ("13:00:00", "15:00:00")],
        )
        self.run_daily(self.before_open, "before_open")  # 开盘前 30 分钟（= open-30m）
        self.run_daily(self.at_open, "open")  # 开盘
        self.run_daily(self.every_minute, "every_minute")  # 交易时段每分钟
        self.run_daily(self.before_close, "close-5m")  # 收盘前 5 分钟
        self.run_daily(self.after_close, "after_close")  # 收盘后 30 分钟（= close+30m）
        self.run_weekly(self.weekly, 1, "open")  # 每周第 1 个交易日开盘
        self.run_monthly(self.monthly, -1, "close")  # 每月最后一个交易日收盘

    def before_open(self, context: Context) -> None:
        portfolio = context.portfolio  # 资金和持仓快照
        self.log.info(
            "开盘前：总资产 %.2f，可用资金 %.2f", portfolio.total_value, portfolio.available_cash
        )

    def at_open(self, context: Context) -> None:
        position = context.portfolio.long_positions["600000.XSHG"]  # 没有持仓时返回全 0 的持仓
        if position.total_amount == 0:
            try:
                order_id = self.order("600000.XSHG", 100, LimitOrderStyle(0))  # 0 = 对手方最优价
                self.log.info("已下单 %s", order_id)
            except OrderRejectedError as exc:  # 下单前检查不通过
                self.log.warning("下单被拒绝：%s", exc)

    def every_minute(self, context: Context) -> None:
        self.minutes += 1

    def before_close(self, context: Context) -> None:
        for order in self.get_orders(status="open"):  # 也可以按 order_id、code 查询
            self.cancel_order(order.order_id)

    def after_close(self, context: Context) -> None:
        self.log.info(
            "收盘后：今天运行了 %d 分钟，订单 %d 个", self.minutes, len(self.get_orders())
        )
        self.minutes = 0

    def weekly(self, context: Context) -> None:
        self.log.info("每周任务：%s", context.current_dt)

    def monthly(self, context: Context) -> None:
        self.log.info("每月任务：%s", context.strategy_dt)

    def on_order_update(self, context: Context, order: OrderSnapshot) -> None:
        """本任务的订单状态或成交数量变化时调用。"""
        self.log.info("订单更新：%s（已成交 %d 股）", order, order.filled_amount)

    def on_trade(self, context: Context, trade: Trade) -> None:
        """本任务的订单有新成交时调用。"""
        self.log.info("成交：%s", trade)

    def on_trading_state_change(
        self, context: Context, old: TradingState, new: TradingState, reason: str
    ) -> None:
        """交易状态变化时调用（halt_task / reduce_task / resume_task、日内亏损限制、重启后恢复）。"""
        self.log.warning("交易状态：%s → %s（%s）", old.value, new.value, reason)

    def on_strategy_end(self, context: Context) -> None:
        """任务停止时调用一次（stop_task、Ctrl+C 或模拟结束）。"""
        self.log.info("策略停止")
