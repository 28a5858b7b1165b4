"""jqtrade: run your own A-share strategy live, on your own computer, against your own account."""

from jqtrade._version import __version__
from jqtrade.account.models import LimitOrderStyle, MarketOrderStyle, OrderStatus
from jqtrade.context import Context
from jqtrade.errors import (
    AccountDisabledError,
    AccountError,
    CalendarError,
    ConfigError,
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
    "CalendarError",
    "ConfigError",
    "Context",
    "GateError",
    "JqTradeError",
    "LimitOrderStyle",
    "MarketOrderStyle",
    "NotInInitializeError",
    "OptionValueError",
    "OrderNotFoundError",
    "OrderRejectedError",
    "OrderStatus",
    "ScheduleArgumentError",
    "Strategy",
    "StrategyLoadError",
    "TimeExpressionError",
    "UnknownOptionError",
    "__version__",
]
