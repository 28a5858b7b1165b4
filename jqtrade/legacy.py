"""Run a JoinQuant-style function script unchanged, as an adapter over :class:`Strategy`.

The script's module gets the strategy's bound methods as globals (``run_daily``, ``order`` ...),
so there is one implementation of every API. Legacy trading calls keep the old contract: a
refused order is logged and returns ``None`` instead of raising.
"""

from __future__ import annotations

import functools
import types
from typing import Any, Callable

from jqtrade.account.models import LimitOrderStyle, MarketOrderStyle, OrderStatus
from jqtrade.context import Context
from jqtrade.errors import AccountError, GateError
from jqtrade.strategy import Strategy

#: Hooks a legacy script may define at module level, mapped to the Strategy hook they fill.
LEGACY_HOOKS = {
    "on_strategy_end": "on_strategy_end",
    "process_exit": "on_strategy_end",
    "on_order_update": "on_order_update",
    "on_trade": "on_trade",
}

_TRADING_APIS = (
    "order",
    "order_target",
    "order_value",
    "cancel_order",
    "batch_submit_orders",
    "batch_cancel_orders",
    "get_orders",
    "sync_balance",
    "sync_orders",
)


class LegacyStrategy(Strategy):
    """A Strategy whose hooks are the functions of a script module."""

    def __init__(self, module: types.ModuleType) -> None:
        self.module = module

    def process_initialize(self, context: Context) -> None:
        self.module.process_initialize(context)

    def on_strategy_end(self, context: Context) -> None:
        self._call_hook("on_strategy_end", context)

    def on_order_update(self, context: Context, order: Any) -> None:
        self._call_hook("on_order_update", context, order)

    def on_trade(self, context: Context, trade: Any) -> None:
        self._call_hook("on_trade", context, trade)

    def _call_hook(self, hook: str, *args: Any) -> None:
        for name, target in LEGACY_HOOKS.items():
            func = self.module.__dict__.get(name)
            if target == hook and callable(func):
                func(*args)
                return

    def injected_globals(self) -> dict[str, Any]:
        """The names a legacy script expects to find without importing them."""
        names: dict[str, Any] = {
            "run_daily": self.run_daily,
            "run_weekly": self.run_weekly,
            "run_monthly": self.run_monthly,
            "set_options": self.set_options,
            "log": self.log,
            "LimitOrderStyle": LimitOrderStyle,
            "MarketOrderStyle": MarketOrderStyle,
            "OrderStatus": OrderStatus,
        }
        for api in _TRADING_APIS:
            names[api] = _forgiving(getattr(self, api), self.log)
        names["batch_order"] = names["batch_submit_orders"]  # jqtrade 1.x spellings
        names["batch_cancel_order"] = names["batch_cancel_orders"]
        names["g"] = GlobalVars()  # JoinQuant scripts use g.x without defining g; `g = {}` in the script wins
        return names


class GlobalVars(types.SimpleNamespace):
    """JoinQuant's ``g``: a bag of attributes that lives as long as the process."""


def _forgiving(method: Callable[..., Any], log: Any) -> Callable[..., Any]:
    """Legacy scripts expect a refused order to log and return None, not to raise."""

    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except (AccountError, GateError) as exc:
            log.error("%s 失败：%s", method.__name__, exc)
            return None

    return call
