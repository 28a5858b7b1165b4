"""Why jqtrade refuses an order: every reason code, and which ones a user may turn off.

Codes are what :class:`jqtrade.errors.OrderRejectedError` carries in ``reason``; the docs'
reason table and the ``disabled_checks`` option are both read from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

#: reason code -> what it guards (shown in docs and in option validation errors).
REASONS: Mapping[str, str] = MappingProxyType(
    {
        "bad_code": "证券代码格式",
        "short_not_supported": "不支持做空（side='short'）",
        "bad_side": "side 只能是 'long'",
        "bad_amount": "数量必须是非零整数，数量和金额不能超出任何账户的可能",
        "bad_style": "下单方式只能是 LimitOrderStyle 或 MarketOrderStyle",
        "bad_price": "限价必须是有限的非负数，且不超过 1,000,000 元",
        "unsupported_security": "只支持沪深主板、创业板、科创板股票、场内基金、可转债和国债逆回购（只能借出）",
        "bad_lot": "买入数量须符合最小交易单位",
        "odd_lot_sell": "零股须一次性卖出",
        "bad_tick": "限价须是最小价格变动单位的整数倍",
        "not_enough_closeable": "卖出数量不能超过可卖数量（T+1）",
        "not_enough_cash": "买入金额不能超过可用资金",
        "security_paused": "证券今天停牌时不下单（需要行情）",
        "beyond_price_limit": "限价不能超出当天的涨跌停价（需要行情）",
        "need_limit_price": "order_value 需要价格来计算股数：限价单的价格，或行情中的最新价",
        "value_too_small": "order_value 的金额不足一手",
        "position_unknown": "还没有同步到持仓，无法计算 order_target 的差额",
        "stale_position": "资金持仓快照比 max_snapshot_age 更旧，不按它计算 order_target / order_value 的数量",
        "journal_unwritable": "订单日志无法写入时不接受新订单",
        "ids_unavailable": "订单号计数文件被占用或损坏，无法分配订单号（订单没有发出）",
        "bad_batch_entry": "批量下单的某一项格式不对",
        # risk limits (jqtrade.account.risk; docs/risk.md)
        "risk_order_rate": "下单频率超过 risk_max_orders_per_second 或 risk_max_orders_per_minute",
        "risk_orders_per_day": "全账户今天的下单笔数达到 risk_max_orders_per_day",
        "risk_cancels_per_day": "全账户今天的撤单笔数达到 risk_max_cancels_per_day",
        "risk_active_orders": "本任务未结束的订单数达到 risk_max_active_orders",
        "risk_order_shares": "单笔数量超过 risk_max_order_shares",
        "risk_order_value": "单笔金额超过 risk_max_order_value",
        "risk_position_value": "买入后该证券的持仓市值超过 risk_max_position_value",
        "risk_turnover": "全账户今天的下单金额合计超过 risk_max_turnover",
        "risk_duplicate": "risk_duplicate_window 秒内重复的同一订单（代码、方向、数量、价格都相同）",
        "risk_store_unavailable": "风控计数文件无法读写，无法确认全账户的计数",
        "trading_halted": "交易状态为 halted（暂停交易）：不接受新订单，撤单照常",
        "trading_reducing": "交易状态为 reducing（只减仓）：只接受卖出持仓的订单",
    }
)

#: Checks a user may turn off because the broker checks the same thing.
DISABLEABLE_CHECKS = frozenset(
    {
        "unsupported_security",
        "bad_lot",
        "odd_lot_sell",
        "bad_tick",
        "not_enough_closeable",
        "not_enough_cash",
        "security_paused",
        "beyond_price_limit",
    }
)
