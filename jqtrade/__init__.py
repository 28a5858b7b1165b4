"""jqtrade: run your own A-share strategy live, on your own computer, against your own account.

Import everything from here: ``from jqtrade import Strategy, Context, OrderSnapshot``. Deeper
module paths are internal and may change between versions.
"""

from jqtrade._version import __version__
from jqtrade.account.order import OrderSnapshot, OrdersView, Trade
from jqtrade.account.portfolio import Portfolio, Position
from jqtrade.account.risk import TradingState
from jqtrade.context import Context
from jqtrade.errors import (
    AccountDisabledError,
    AccountError,
    AccountNotReadyError,
    CalendarError,
    ConfigError,
    GateConfigError,
    GateError,
    JqTradeError,
    NotInInitializeError,
    OptionValueError,
    OrderNotFoundError,
    OrderRejectedError,
    ScheduleArgumentError,
    ScheduleError,
    StrategyLoadError,
    TaskError,
    TimeExpressionError,
    UnknownOptionError,
)
from jqtrade.gates.base import AbsTradeGate, GateEnv, NoConfig
from jqtrade.model.orders import (
    LimitOrderStyle,
    MarketOrderStyle,
    OrderAction,
    OrderRequest,
    OrderSide,
    OrderStatus,
)
from jqtrade.model.reports import BalanceReport, OrderReport, PositionReport, TradeReport
from jqtrade.strategy import Strategy

__all__ = [
    "AbsTradeGate",
    "AccountDisabledError",
    "AccountError",
    "AccountNotReadyError",
    "BalanceReport",
    "CalendarError",
    "ConfigError",
    "Context",
    "GateConfigError",
    "GateEnv",
    "GateError",
    "JqTradeError",
    "LimitOrderStyle",
    "MarketOrderStyle",
    "NoConfig",
    "NotInInitializeError",
    "OptionValueError",
    "OrderAction",
    "OrderNotFoundError",
    "OrderRejectedError",
    "OrderReport",
    "OrderRequest",
    "OrderSide",
    "OrderSnapshot",
    "OrderStatus",
    "OrdersView",
    "Portfolio",
    "Position",
    "PositionReport",
    "ScheduleArgumentError",
    "ScheduleError",
    "Strategy",
    "StrategyLoadError",
    "TaskError",
    "TimeExpressionError",
    "Trade",
    "TradeReport",
    "TradingState",
    "UnknownOptionError",
    "__version__",
]
