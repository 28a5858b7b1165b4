"""The ``context`` object handed to every user callback."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any, Optional

import pendulum

if TYPE_CHECKING:
    from jqtrade.account.portfolio import Portfolio
    from jqtrade.account.risk import TradingState
    from jqtrade.data import CurrentData
    from jqtrade.host import StrategyHost


class Context:
    """What a callback may ask about "now": times, the portfolio, the run mode.

    Only the properties below exist; any other name raises ``AttributeError`` naming the
    available ones (and a type checker reports it, e.g. ``context.portfolo``).
    """

    def __init__(self, runtime: StrategyHost) -> None:
        self._runtime = runtime
        self._strategy_dt: Optional[pendulum.DateTime] = None

    @property
    def current_dt(self) -> pendulum.DateTime:
        """当前时间（北京时间，来自时钟；模拟运行时为模拟时间）。"""
        return self._runtime.clock.now()

    @property
    def strategy_dt(self) -> Optional[pendulum.DateTime]:
        """正在运行的定时任务的预定时间；不在定时任务中时为 None。"""
        return self._strategy_dt

    @property
    def trading_date(self) -> datetime.date:
        """今天（若今天休市，则为下一个交易日）。"""
        today = self.current_dt.date()
        cal = self._runtime.calendar
        return today if cal.is_trading_day(today) else cal.next_trading_day(today)

    @property
    def is_simulated(self) -> bool:
        """是否在模拟时钟上运行（--simulate）。"""
        return self._runtime.clock.is_simulated

    @property
    def portfolio(self) -> Portfolio:
        """账户资金和持仓的最新快照（需开启账户模块）。"""
        return self._runtime.require_account("context.portfolio").portfolio

    @property
    def trading_state(self) -> TradingState:
        """交易状态：active（正常）、reducing（只减仓）或 halted（暂停交易）；可与字符串比较（需开启账户模块）。"""
        return self._runtime.require_account("context.trading_state").trading_state

    @property
    def current_data(self) -> CurrentData:
        """当前行情：``context.current_data[code]`` 有 last_price、high_limit、low_limit、pre_close、day_open、paused
        （需要行情源，选项 data_source；模拟运行时按模拟时间读本地缓存）。"""
        return self._runtime.require_current_data("context.current_data")

    def __repr__(self) -> str:
        return f"<Context current_dt={self.current_dt.isoformat()}>"

    def _set_strategy_dt(self, value: Optional[pendulum.DateTime]) -> None:
        self._strategy_dt = value

    if not TYPE_CHECKING:  # a type checker must see that only the properties above exist

        def __getattr__(self, name: str) -> Any:
            raise unknown_attribute(name)


def unknown_attribute(name: str) -> AttributeError:
    """The error for ``context.<name>`` that is none of the documented attributes."""
    return AttributeError(f"context 没有属性 {name!r}；可用：{'、'.join(ATTRIBUTES)}")


#: What a callback may read from ``context`` (the class API and the legacy shim alike).
ATTRIBUTES = (
    "current_dt",
    "strategy_dt",
    "trading_date",
    "portfolio",
    "trading_state",
    "is_simulated",
    "current_data",
)
