"""jqtrade: run your own A-share strategy live, on your own computer, against your own account."""

from jqtrade._version import __version__
from jqtrade.account.models import (
    LimitOrderStyle,
    MarketOrderStyle,
    OrderAction,
    OrderRequest,
    OrderSide,
    OrderStatus,
)
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
    StrategyLoadError,
    TimeExpressionError,
    UnknownOptionError,
)
from jqtrade.gates.base import AbsTradeGate
from jqtrade.strategy import Strategy

__all__ = [
    "AbsTradeGate",
    "AccountDisabledError",
    "AccountError",
    "AccountNotReadyError",
    "CalendarError",
    "ConfigError",
    "Context",
    "GateConfigError",
    "GateError",
    "JqTradeError",
    "LimitOrderStyle",
    "MarketOrderStyle",
    "NotInInitializeError",
    "OptionValueError",
    "OrderAction",
    "OrderNotFoundError",
    "OrderRejectedError",
    "OrderRequest",
    "OrderSide",
    "OrderStatus",
    "ScheduleArgumentError",
    "Strategy",
    "StrategyLoadError",
    "TimeExpressionError",
    "UnknownOptionError",
    "__version__",
]
