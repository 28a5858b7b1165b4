"""The ``Strategy`` base class that users subclass.

Every API a strategy uses is a method here, so an IDE can complete and type-check it: hooks
and trading methods carry concrete types, and a user's subclass passes ``mypy --strict``. The
methods only forward to the :class:`~jqtrade.runtime.Runtime` the strategy is bound to; the
legacy shim exposes the same bound methods as globals.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Callable, Literal, Optional, Union, overload

from jqtrade.account.order import order_id_of
from jqtrade.data import api as data_api
from jqtrade.errors import NotInInitializeError, OrderRejectedError
from jqtrade.model.orders import OrderStatus, OrderStyle
from jqtrade.model.rules import normalize_code, rules_of

if TYPE_CHECKING:
    from jqtrade.account.account import Account
    from jqtrade.account.order import OrderRef, OrderSnapshot, OrdersView, Trade
    from jqtrade.account.portfolio import Portfolio
    from jqtrade.account.risk import TradingState
    from jqtrade.context import Context
    from jqtrade.data.source import TimeLike
    from jqtrade.host import StrategyHost

USER_LOGGER_NAME = "strategy"

logger = logging.getLogger("jqtrade.strategy")

#: A scheduled function: ``func(context)``; what it returns is ignored.
Callback = Callable[["Context"], object]

#: What ``get_bars`` / ``get_price`` return for one code: ``{field: [value, ...]}``, oldest first
#: (prices as ``float``; ``date`` a ``datetime.date`` for daily bars, a ``DateTime`` for minutes).
BarColumns = dict[str, list[Any]]
#: ... and for a list of codes: ``{code: {field: [...]}}``.
BarColumnsByCode = dict[str, BarColumns]
#: The ``fields`` argument: one name or several.
Fields = Union[str, Sequence[str], None]
#: A list of codes (a bare string is one code).
CodeList = Union[list[str], tuple[str, ...]]


class Strategy:
    """Subclass this and implement :meth:`process_initialize`.

    Hooks you may override (all optional except ``process_initialize``):

    - ``process_initialize(context)``: 进程启动时运行一次，在这里设置选项和定时任务。
    - ``on_strategy_end(context)``: 任务停止时运行一次（stop_task、Ctrl+C、模拟结束）。
    - ``on_order_update(context, order)``: 本任务的订单状态或成交数量变化时运行。
    - ``on_trade(context, trade)``: 本任务的订单有新的成交时运行。
    - ``on_trading_state_change(context, old, new, reason)``: 交易状态变化时运行
      （halt_task / reduce_task / resume_task、日内亏损限制、重启后恢复）。
    """

    _runtime: Optional[StrategyHost] = None
    _warned_reference_security = False

    # -- hooks ------------------------------------------------------------------------------

    def process_initialize(self, context: Context) -> None:
        raise NotImplementedError("策略类需要实现 process_initialize(self, context)")

    def on_strategy_end(self, context: Context) -> None:
        """Stop hook; the default does nothing."""

    def on_order_update(self, context: Context, order: OrderSnapshot) -> None:
        """Called with the order as it is now when an order of this task changes; default: nothing."""

    def on_trade(self, context: Context, trade: Trade) -> None:
        """Called when an order of this task gets new filled quantity; default: nothing."""

    def on_trading_state_change(
        self, context: Context, old: TradingState, new: TradingState, reason: str
    ) -> None:
        """Called when the trading state changes (active / reducing / halted); default: nothing."""

    # -- logging ----------------------------------------------------------------------------

    @property
    def log(self) -> logging.Logger:
        """The user's logger (separate from jqtrade's own, which is quiet unless --debug)."""
        return logging.getLogger(USER_LOGGER_NAME)

    # -- scheduling and options -------------------------------------------------------------

    def run_daily(
        self,
        func: Callback,
        time: str,
        *,
        name: Optional[str] = None,
        grace: Optional[float] = None,
        reference_security: Optional[str] = None,
    ) -> None:
        """每个交易日在 ``time`` 运行 ``func(context)``；只能在 process_initialize 中调用。

        ``reference_security``（聚宽的参数）被接受并忽略：时间总是按 A 股交易时段计算。
        """
        runtime = self._bound("run_daily")
        self._ignore_reference_security(reference_security)
        runtime.schedule("daily", func, time, None, name=name, grace=grace)

    def run_weekly(
        self,
        func: Callback,
        weekday: int,
        time: str = "open",
        *,
        name: Optional[str] = None,
        grace: Optional[float] = None,
        reference_security: Optional[str] = None,
    ) -> None:
        """每周第 ``weekday`` 个交易日（负数为倒数）在 ``time`` 运行。"""
        runtime = self._bound("run_weekly")
        self._ignore_reference_security(reference_security)
        runtime.schedule("weekly", func, time, weekday, name=name, grace=grace)

    def run_monthly(
        self,
        func: Callback,
        monthday: int,
        time: str = "open",
        *,
        name: Optional[str] = None,
        grace: Optional[float] = None,
        reference_security: Optional[str] = None,
    ) -> None:
        """每月第 ``monthday`` 个交易日（负数为倒数；超过当月交易日数则为最后一个）在 ``time`` 运行。"""
        runtime = self._bound("run_monthly")
        self._ignore_reference_security(reference_security)
        runtime.schedule("monthly", func, time, monthday, name=name, grace=grace)

    def _ignore_reference_security(self, value: Optional[str]) -> None:
        """JoinQuant's ``reference_security`` picks whose trading hours ``time`` follows; jqtrade
        has only the A-share session, so it is accepted and ignored, with one warning per task."""
        if value is None or self._warned_reference_security:
            return
        self._warned_reference_security = True
        logger.warning(
            "run_daily/run_weekly/run_monthly 的 reference_security=%r 已忽略："
            "jqtrade 的定时任务总是按 A 股交易时段（market_period）计算时间（此提示只出现一次）",
            value,
        )

    def set_options(self, **options: Any) -> None:
        """设置选项（见文档的选项表）；未知选项或不合法的值会立即报错。"""
        self._bound("set_options").set_options(options)

    # -- account and trading ----------------------------------------------------------------

    def order(
        self, code: str, amount: int, style: Optional[OrderStyle] = None, side: str = "long"
    ) -> str:
        """下单：amount 为正买入、为负卖出；返回订单号。检查不通过时抛出 OrderRejectedError。"""
        return self._account("order").order(code, amount, style, side)

    def order_target(
        self, code: str, target_amount: int, style: Optional[OrderStyle] = None
    ) -> Optional[str]:
        """把持仓调整到 ``target_amount`` 股；已经是目标数量时返回 None。"""
        return self._account("order_target").order_target(code, target_amount, style)

    def order_value(
        self, code: str, value: float, style: Optional[OrderStyle] = None
    ) -> Optional[str]:
        """按金额下单：value 为正买入、为负卖出；按限价计算股数，对手方最优价单按行情的最新价。"""
        return self._account("order_value").order_value(code, value, style)

    def order_target_value(
        self, code: str, value: float, style: Optional[OrderStyle] = None
    ) -> Optional[str]:
        """把持仓调整到市值 ``value`` 元（按限价折算成整手股数；对手方最优价单按行情的最新价）；已是目标时返回 None。"""
        account = self._account("order_target_value")
        price = account.sizing_price(str(code), style, "order_target_value")
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not 0 <= value < float("inf")
        ):
            raise OrderRejectedError("bad_amount", f"目标市值 {value!r} 应为 ≥ 0 的数字（元）")
        return self.order_target(code, _buyable(normalize_code(code), value, price), style)

    def cancel_order(self, order: OrderRef) -> None:
        """撤单：传订单号或订单对象均可；对已结束的订单撤单不会报错。"""
        self._account("cancel_order").cancel_order(order_id_of(order))

    def batch_submit_orders(self, orders: Iterable[Mapping[str, Any]]) -> list[Optional[str]]:
        """批量下单：每项含 code、amount，可选 style、side；返回每项的订单号，失败的为 None。"""
        return self._account("batch_submit_orders").batch_submit_orders(orders)

    def batch_cancel_orders(self, orders: Iterable[OrderRef]) -> None:
        """批量撤单：每项为订单号或订单对象。"""
        account = self._account("batch_cancel_orders")
        # Anything else reaches the account as given: it logs each bad entry and goes on.
        ids: list[Any] = [order_id_of(o) if _has_order_id(o) else o for o in orders]
        account.batch_cancel_orders(ids)

    def get_orders(
        self,
        order_id: Optional[OrderRef] = None,
        code: Optional[str] = None,
        status: Union[OrderStatus, str, None] = None,
    ) -> OrdersView[OrderSnapshot]:
        """查询本任务今天的订单；条件同时满足（AND）。结果既可迭代出订单，也可按订单号（或订单对象）取值。"""
        wanted = order_id_of(order_id) if order_id is not None else None
        return self._account("get_orders").get_orders(order_id=wanted, code=code, status=status)

    def sync_balance(self) -> Portfolio:
        """立即从券商同步资金和持仓，返回新的快照。"""
        return self._account("sync_balance").sync_balance()

    def sync_orders(self) -> None:
        """立即从券商同步订单状态。"""
        self._account("sync_orders").sync_orders()

    # -- market data ------------------------------------------------------------------------

    @overload
    def get_bars(
        self,
        security: str,
        count: int,
        unit: str = ...,
        fields: Fields = ...,
        include_now: bool = ...,
        end_dt: Optional[TimeLike] = ...,
        df: Literal[False] = ...,
    ) -> BarColumns: ...

    @overload
    def get_bars(
        self,
        security: CodeList,
        count: int,
        unit: str = ...,
        fields: Fields = ...,
        include_now: bool = ...,
        end_dt: Optional[TimeLike] = ...,
        df: Literal[False] = ...,
    ) -> BarColumnsByCode: ...

    @overload
    def get_bars(
        self,
        security: Union[str, CodeList],
        count: int,
        unit: str = ...,
        fields: Fields = ...,
        include_now: bool = ...,
        end_dt: Optional[TimeLike] = ...,
        *,
        df: Literal[True],
    ) -> Any: ...

    def get_bars(
        self,
        security: Union[str, CodeList],
        count: int,
        unit: str = "1d",
        fields: Fields = None,
        include_now: bool = False,
        end_dt: Optional[TimeLike] = None,
        df: bool = False,
    ) -> Any:
        """最近 ``count`` 根 K 线（聚宽的 get_bars）：``{字段: [值, ...]}``，从旧到新；多个代码时为 ``{代码: {...}}``。

        ``unit`` 为 ``"1m"``、``"5m"``、``"1d"``；默认字段 ``date, open, high, low, close``。
        只返回现在（模拟运行时为模拟时间）之前已经结束的 K 线；``include_now=True`` 加上正在形成的那根。
        ``df=True`` 返回 pandas DataFrame（需要安装 pandas）。需要行情源（选项 data_source）。
        """
        runtime = self._data_host("get_bars")
        return data_api.get_bars(
            runtime.require_market_data("get_bars"),
            security,
            count,
            unit,
            fields,
            include_now,
            end_dt,
            df=df,
            now=runtime.clock.now(),
        )

    @overload
    def get_price(
        self,
        security: str,
        start_date: Optional[TimeLike] = ...,
        end_date: Optional[TimeLike] = ...,
        frequency: str = ...,
        fields: Fields = ...,
        skip_paused: bool = ...,
        fq: Optional[str] = ...,
        count: Optional[int] = ...,
        df: Literal[False] = ...,
    ) -> BarColumns: ...

    @overload
    def get_price(
        self,
        security: CodeList,
        start_date: Optional[TimeLike] = ...,
        end_date: Optional[TimeLike] = ...,
        frequency: str = ...,
        fields: Fields = ...,
        skip_paused: bool = ...,
        fq: Optional[str] = ...,
        count: Optional[int] = ...,
        df: Literal[False] = ...,
    ) -> BarColumnsByCode: ...

    @overload
    def get_price(
        self,
        security: Union[str, CodeList],
        start_date: Optional[TimeLike] = ...,
        end_date: Optional[TimeLike] = ...,
        frequency: str = ...,
        fields: Fields = ...,
        skip_paused: bool = ...,
        fq: Optional[str] = ...,
        count: Optional[int] = ...,
        *,
        df: Literal[True],
    ) -> Any: ...

    def get_price(
        self,
        security: Union[str, CodeList],
        start_date: Optional[TimeLike] = None,
        end_date: Optional[TimeLike] = None,
        frequency: str = "daily",
        fields: Fields = None,
        skip_paused: bool = True,
        fq: Optional[str] = None,
        count: Optional[int] = None,
        df: bool = False,
    ) -> Any:
        """时间范围内（或最近 ``count`` 根）的 K 线（聚宽的 get_price）：``{"date": [...], 字段: [...]}``。

        ``start_date`` 与 ``count`` 二选一；``end_date`` 默认为现在，且不会晚于现在（模拟运行时为模拟时间）。
        ``frequency`` 为 ``"daily"``/``"1d"``、``"1m"``、``"5m"``；日线另有 ``pre_close``、``high_limit``、
        ``low_limit``、``paused`` 字段。价格不复权（``fq=None``）。需要行情源（选项 data_source）。
        """
        runtime = self._data_host("get_price")
        return data_api.get_price(
            runtime.require_market_data("get_price"),
            security,
            start_date,
            end_date,
            frequency,
            fields,
            skip_paused,
            fq,
            count,
            df=df,
            now=runtime.clock.now(),
        )

    def _data_host(self, api: str) -> StrategyHost:
        runtime = self._runtime
        if runtime is None:
            raise RuntimeError(f"{api} 只能在策略运行时调用（由 jqtrade start_task 启动）")
        return runtime

    # -- plumbing ---------------------------------------------------------------------------

    def _bind(self, runtime: StrategyHost) -> None:
        self._runtime = runtime

    def notify(self, title: str, body: str = "") -> bool:
        """发送一条通知（需要设置 notify 选项或环境变量 JQTRADE_NOTIFY）；不管是否发送都记录日志。

        在后台发送，不会让策略等待；返回是否交给了通知线程。
        """
        from jqtrade.notify import send_user_message

        return send_user_message(getattr(self._runtime, "notifier", None), title, body)

    def _bound(self, api: str) -> StrategyHost:
        runtime = self._runtime
        if runtime is None or not runtime.initializing:
            raise NotInInitializeError(api)
        return runtime

    def _account(self, api: str) -> Account:
        runtime = self._runtime
        if runtime is None:
            raise RuntimeError(f"{api} 只能在策略运行时调用（由 jqtrade start_task 启动）")
        return runtime.require_account(api)


def _has_order_id(value: object) -> bool:
    return isinstance(getattr(value, "order_id", None), str)


def _buyable(code: str, value: float, price: float) -> int:
    """The most of ``code`` that ``value`` buys at ``price`` and that the lot rule allows
    (reverse repos: by face value, as their price is a rate)."""
    rules = rules_of(code)
    unit_cost = float(rules.face_value) if rules.face_value is not None else price
    units = int(value // unit_cost)
    if units < rules.min_buy:
        return 0
    return units - (units - rules.min_buy) % rules.buy_step
