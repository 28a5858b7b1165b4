"""Run a JoinQuant-style function script unchanged, as an adapter over :class:`Strategy`.

The script's module gets the strategy's bound methods as globals (``run_daily``, ``order`` ...),
so there is one implementation of every API. What differs for a function-style script is
only what jqtrade 1.x and JoinQuant scripts rely on, kept here at the edge:

- a refused order is logged and returns ``None`` instead of raising;
- the ``context`` (also a module global, as in 1.x) and the orders and trades the script
  reads give times as naive Beijing-time ``datetime.datetime`` values, not aware pendulum ones;
- orders read from ``get_orders()`` and handed to ``on_order_update`` carry the 1.x/JoinQuant
  spellings (``price``, ``avg_cost``, ``order_price`` 0 for a market order);
- ``side=None`` means long, JoinQuant's argument names (``security=``, ``amount=``) are taken,
  and ``run_daily(..., "every_bar")`` runs every minute, with a warning;
- ``get_bars`` and ``get_price`` are globals (JoinQuant's, with its arguments ``panel``,
  ``fill_paused``, ``fq_ref_date`` accepted), their minute-bar times and ``current_data``'s
  ``time`` naive as well.

Looping over ``get_orders()`` yields the orders themselves; every API that takes an order id
takes the order object too, so both ``for oid in get_orders(): cancel_order(oid)`` (1.x, where
the loop gave ids) and ``cancel_order(o.order_id)`` (the seed README) cancel everything.
"""

from __future__ import annotations

import datetime
import functools
import logging
import types
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Callable, Optional

import pendulum

from jqtrade.account.order import OrderSnapshot, OrdersView, Trade
from jqtrade.clock import MARKET_TZ
from jqtrade.context import Context, unknown_attribute
from jqtrade.data import CurrentData
from jqtrade.data import api as data_api
from jqtrade.errors import AccountError, GateError
from jqtrade.model.orders import LimitOrderStyle, MarketOrderStyle, OrderSide, OrderStatus
from jqtrade.strategy import Strategy

logger = logging.getLogger("jqtrade.legacy")

#: Hooks a legacy script may define at module level, mapped to the Strategy hook they fill.
LEGACY_HOOKS = {
    "on_strategy_end": "on_strategy_end",
    "process_exit": "on_strategy_end",
    "on_order_update": "on_order_update",
    "on_trade": "on_trade",
    "on_trading_state_change": "on_trading_state_change",
}

#: Trading APIs injected as they are (apart from the forgiving wrapper).
_TRADING_APIS = (
    "cancel_order",
    "batch_cancel_orders",
    "sync_balance",
    "sync_orders",
)


def naive_beijing(value: datetime.datetime) -> datetime.datetime:
    """``value`` as a naive ``datetime.datetime`` in Beijing time (naive input is returned as is)."""
    if value.tzinfo is not None:
        value = value.astimezone(MARKET_TZ)
    return datetime.datetime(
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond,
    )


class LegacyContext:
    """The ``context`` of a function-style script: :class:`Context` with naive Beijing times.

    The same object is the module global ``context`` and the argument of every callback.
    """

    def __init__(self, strategy: Strategy) -> None:
        self._strategy = strategy

    def _inner(self) -> Context:
        runtime = self._strategy._runtime
        if runtime is None:
            raise RuntimeError(
                "context 只能在策略运行时使用（process_initialize 及之后），不能在模块导入时使用"
            )
        return runtime.context

    @property
    def current_dt(self) -> datetime.datetime:
        """当前时间：naive 的北京时间 datetime.datetime（模拟运行时为模拟时间）。"""
        return naive_beijing(self._inner().current_dt)

    @property
    def strategy_dt(self) -> Optional[datetime.datetime]:
        """正在运行的定时任务的预定时间（naive 北京时间）；不在定时任务中时为 None。"""
        value = self._inner().strategy_dt
        return naive_beijing(value) if value is not None else None

    @property
    def trading_date(self) -> datetime.date:
        return self._inner().trading_date

    @property
    def is_simulated(self) -> bool:
        return self._inner().is_simulated

    @property
    def portfolio(self) -> Any:
        return self._inner().portfolio

    @property
    def trading_state(self) -> Any:
        return self._inner().trading_state

    @property
    def current_data(self) -> LegacyCurrentData:
        """当前行情：``context.current_data[code].last_price`` 等；``time`` 为 naive 北京时间。"""
        return LegacyCurrentData(self._inner().current_data)

    def __repr__(self) -> str:
        return f"<Context current_dt={self.current_dt.isoformat(' ')}>"

    if not TYPE_CHECKING:  # only the properties above exist

        def __getattr__(self, name: str) -> Any:
            raise unknown_attribute(name)


class _LegacyValue:
    """A read-only view of a value the class API hands out, with its times made naive."""

    __slots__ = ("_value",)
    _value: Any

    def __init__(self, value: Any) -> None:
        object.__setattr__(self, "_value", value)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._value, name)
        return naive_beijing(value) if isinstance(value, pendulum.DateTime) else value

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} 是只读的，不能设置 {name!r}")

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _LegacyValue):
            return bool(self._value == other._value)
        return bool(self._value == other)

    def __hash__(self) -> int:
        return hash(self._value)

    def __str__(self) -> str:
        return str(self._value)

    __repr__ = __str__


class LegacyOrder(_LegacyValue):
    """An :class:`OrderSnapshot` as a function-style script reads it.

    Every snapshot attribute, with ``create_time``/``entrust_time`` naive, plus the jqtrade 1.x
    and JoinQuant names: ``order_price`` is 0 for a market order (the class API says ``None``),
    ``price`` and ``avg_cost`` are the average fill price (JoinQuant's meaning; for a sell,
    JoinQuant's ``avg_cost`` is the position's cost, which jqtrade does not track per order),
    ``filled`` is ``filled_amount`` and ``security`` is ``code``.
    """

    __slots__ = ()
    _value: OrderSnapshot

    @property
    def order_id(self) -> str:
        return self._value.order_id

    @property
    def code(self) -> str:
        return self._value.code

    @property
    def status(self) -> OrderStatus:
        return self._value.status

    @property
    def order_price(self) -> float:
        price = self._value.order_price
        return price if price is not None else 0.0

    @property
    def price(self) -> float:
        return self._value.avg_price

    @property
    def avg_cost(self) -> float:
        return self._value.avg_price

    @property
    def filled(self) -> int:
        return self._value.filled_amount

    @property
    def security(self) -> str:
        return self._value.code


class LegacyTrade(_LegacyValue):
    """A :class:`Trade` as a function-style script reads it (``time`` naive)."""

    __slots__ = ()
    _value: Trade

    @property
    def security(self) -> str:
        return self._value.code


class LegacyCurrentData(Mapping[str, Any]):
    """``context.current_data`` of a function-style script: each item read through
    :class:`_LegacyValue` (its ``time`` naive), everything else as :class:`CurrentData`."""

    def __init__(self, inner: CurrentData) -> None:
        self._data = inner

    def __getitem__(self, code: str) -> Any:
        return _LegacyValue(self._data[code])

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, code: object) -> bool:
        return code in self._data

    def prefetch(self, codes: Iterable[str]) -> None:
        self._data.prefetch(codes)


def _naive_columns(result: Any) -> Any:
    """``get_bars`` / ``get_price`` columns with minute-bar times naive (nested per code too)."""
    if not isinstance(result, dict):
        return result  # a DataFrame (df=True): as pandas gives it
    out: dict[str, Any] = {}
    for key, value in result.items():
        if isinstance(value, dict):
            out[key] = _naive_columns(value)
        elif isinstance(value, list):
            out[key] = [naive_beijing(v) if isinstance(v, pendulum.DateTime) else v for v in value]
        else:
            out[key] = value
    return out


class LegacyStrategy(Strategy):
    """A Strategy whose hooks are the functions of a script module.

    ``entry`` names the module function run as ``process_initialize``: a JoinQuant script
    with only ``initialize(context)`` has that run once at start instead.
    """

    def __init__(self, module: types.ModuleType, entry: str = "process_initialize") -> None:
        self.module = module
        self.entry = entry
        self.context = LegacyContext(self)

    def process_initialize(self, context: Context) -> None:
        getattr(self.module, self.entry)(self.context)

    def on_strategy_end(self, context: Context) -> None:
        self._call_hook("on_strategy_end", self.context)

    def on_order_update(self, context: Context, order: Any) -> None:
        self._call_hook("on_order_update", self.context, _as_legacy_order(order))

    def on_trade(self, context: Context, trade: Any) -> None:
        self._call_hook(
            "on_trade", self.context, LegacyTrade(trade) if isinstance(trade, Trade) else trade
        )

    def on_trading_state_change(self, context: Context, old: Any, new: Any, reason: str) -> None:
        self._call_hook("on_trading_state_change", self.context, old, new, reason)

    def _call_hook(self, hook: str, *args: Any) -> None:
        for name, target in LEGACY_HOOKS.items():
            func = self.module.__dict__.get(name)
            if target == hook and callable(func):
                func(*args)
                return

    # -- what the script's globals call --------------------------------------------------

    def _legacy_callback(self, func: Any) -> Any:
        """``func`` called with the legacy context (jobs get the runtime's Context otherwise)."""
        if not callable(func):
            return func  # the runtime refuses it with its own message

        @functools.wraps(func)
        def call(context: Context) -> Any:
            return func(self.context)

        return call

    def _legacy_run_daily(self, func: Any, time: Any, **kwargs: Any) -> None:
        if isinstance(time, str) and time.strip().lower() == "every_bar":
            logger.warning(
                "run_daily 的时间 %r 是聚宽的写法，jqtrade 写作 'every_minute'；已按 every_minute（交易时段内每分钟）运行",
                time,
            )
            time = "every_minute"
        self.run_daily(self._legacy_callback(func), time, **kwargs)

    def _legacy_run_weekly(self, func: Any, weekday: Any, *args: Any, **kwargs: Any) -> None:
        self.run_weekly(self._legacy_callback(func), weekday, *args, **kwargs)

    def _legacy_run_monthly(self, func: Any, monthday: Any, *args: Any, **kwargs: Any) -> None:
        self.run_monthly(self._legacy_callback(func), monthday, *args, **kwargs)

    def _legacy_order(
        self, code: Any, amount: Any, style: Any = None, side: Any = "long"
    ) -> Optional[str]:
        return self.order(code, amount, style, _long_if_unset(side))

    def _legacy_batch_submit_orders(self, orders: Iterable[Any]) -> list[Optional[str]]:
        return self.batch_submit_orders([_long_side_by_default(spec) for spec in orders])

    def _legacy_get_orders(
        self, order_id: Any = None, code: Any = None, status: Any = None
    ) -> OrdersView[LegacyOrder]:
        return OrdersView(LegacyOrder(s) for s in self.get_orders(order_id, code, status))

    def _legacy_get_bars(
        self,
        security: Any,
        count: Any,
        unit: Any = "1d",
        fields: Any = None,
        include_now: Any = False,
        end_dt: Any = None,
        fq_ref_date: Any = None,
        df: Any = False,
    ) -> Any:
        """JoinQuant's ``get_bars``: returns ``{field: [...]}`` (JoinQuant: a numpy array)."""
        runtime = self._data_host("get_bars")
        return _naive_columns(
            data_api.get_bars(
                runtime.require_market_data("get_bars"),
                security,
                count,
                unit,
                fields,
                include_now,
                end_dt,
                fq_ref_date,
                df,
                now=runtime.clock.now(),
            )
        )

    def _legacy_get_price(
        self,
        security: Any,
        start_date: Any = None,
        end_date: Any = None,
        frequency: Any = "daily",
        fields: Any = None,
        skip_paused: Any = True,
        fq: Any = None,
        count: Any = None,
        panel: Any = False,
        fill_paused: Any = True,
        df: Any = False,
    ) -> Any:
        """JoinQuant's ``get_price``: ``panel`` and ``fill_paused`` accepted (results are never panels)."""
        runtime = self._data_host("get_price")
        return _naive_columns(
            data_api.get_price(
                runtime.require_market_data("get_price"),
                security,
                start_date,
                end_date,
                frequency,
                fields,
                skip_paused,
                fq,
                count,
                panel,
                fill_paused,
                df,
                now=runtime.clock.now(),
            )
        )

    def _send_message(self, message: Any, channel: Any = None) -> bool:
        """JoinQuant's ``send_message(message)``: ``channel`` is accepted and ignored."""
        from jqtrade.notify import send_legacy_message

        return send_legacy_message(getattr(self._runtime, "notifier", None), message)

    def set_options(self, **options: Any) -> None:
        """jqtrade 1.0's reading: unknown options and loose values only warn, and the script runs."""
        self._bound("set_options").set_options(options, legacy=True)

    def injected_globals(self) -> dict[str, Any]:
        """The names a legacy script expects to find without importing them."""
        names: dict[str, Any] = {
            "run_daily": self._legacy_run_daily,
            "run_weekly": self._legacy_run_weekly,
            "run_monthly": self._legacy_run_monthly,
            "set_options": self.set_options,
            "log": self.log,
            "context": self.context,  # jqtrade 1.x injected it; a script's own `context = ...` wins
            "LimitOrderStyle": LimitOrderStyle,
            "MarketOrderStyle": MarketOrderStyle,
            "OrderStatus": OrderStatus,
            "OrderSide": OrderSide,
            "send_message": self._send_message,  # JoinQuant's name
            "get_bars": self._legacy_get_bars,
            "get_price": self._legacy_get_price,
        }
        forgiving = functools.partial(_forgiving, log=self.log)
        for api in _TRADING_APIS:
            names[api] = forgiving(getattr(self, api), api)
        names["order"] = forgiving(_joinquant_names(self._legacy_order, security="code"), "order")
        names["batch_submit_orders"] = forgiving(
            self._legacy_batch_submit_orders, "batch_submit_orders"
        )
        names["get_orders"] = forgiving(self._legacy_get_orders, "get_orders")
        # JoinQuant's argument names next to ours: order_target(security=, amount=), order_value(security=, value=)
        names["order_target"] = forgiving(
            _joinquant_names(self.order_target, security="code", amount="target_amount"),
            "order_target",
        )
        names["order_value"] = forgiving(
            _joinquant_names(self.order_value, security="code"), "order_value"
        )
        names["order_target_value"] = forgiving(
            _joinquant_names(self.order_target_value, security="code"), "order_target_value"
        )
        names["batch_order"] = names["batch_submit_orders"]  # jqtrade 1.x spellings
        names["batch_cancel_order"] = names["batch_cancel_orders"]
        names["g"] = (
            GlobalVars()
        )  # JoinQuant scripts use g.x without defining g; `g = {}` in the script wins
        return names


class GlobalVars(types.SimpleNamespace):
    """JoinQuant's ``g``: a bag of attributes that lives as long as the process."""


def _as_legacy_order(order: Any) -> Any:
    return LegacyOrder(order) if isinstance(order, OrderSnapshot) else order


def _long_if_unset(side: Any) -> Any:
    """jqtrade 1.x: ``side=None`` (or ``""``) means long."""
    return "long" if side is None or side == "" else side


def _long_side_by_default(spec: Any) -> Any:
    """A ``batch_submit_orders`` entry with ``side=None`` gets ``side="long"``."""
    if (
        isinstance(spec, Mapping)
        and "side" in spec
        and _long_if_unset(spec["side"]) != spec["side"]
    ):
        return {**spec, "side": "long"}
    return spec


def _joinquant_names(method: Callable[..., Any], **aliases: str) -> Callable[..., Any]:
    """Accept JoinQuant's keyword names (``security=``) as well as ours (``code=``)."""

    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        for theirs, ours in aliases.items():
            if theirs in kwargs:
                if ours in kwargs:
                    raise TypeError(
                        f"{method.__name__}() 的参数 {theirs} 和 {ours} 是同一个参数，只能给一个"
                    )
                kwargs[ours] = kwargs.pop(theirs)
        return method(*args, **kwargs)

    return call


def _forgiving(method: Callable[..., Any], name: str, log: Any) -> Callable[..., Any]:
    """Legacy scripts expect a refused order to log and return None, not to raise."""

    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except (AccountError, GateError) as exc:
            log.error("%s 失败：%s", name, exc)
            return None

    call.__name__ = name
    return call
