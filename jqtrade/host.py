"""What a strategy and its context may ask of the runtime that runs them.

A Protocol rather than the runtime class itself, so ``strategy`` and ``context`` depend on this
small surface and the runtime on them, never both ways.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Callable, Optional, Protocol

if TYPE_CHECKING:
    from jqtrade.account.account import Account
    from jqtrade.calendar import TradingCalendar
    from jqtrade.clock import Clock
    from jqtrade.data import AbsDataSource, CurrentData


class StrategyHost(Protocol):
    clock: Clock
    calendar: TradingCalendar
    notifier: Optional[Any]
    #: The strategy's :class:`~jqtrade.context.Context` (``Any`` here: that module imports this one).
    context: Any

    @property
    def initializing(self) -> bool: ...

    def schedule(
        self,
        kind: str,
        func: Callable[..., Any],
        expression: str,
        n: Optional[int],
        *,
        name: Optional[str],
        grace: Optional[float],
    ) -> None: ...

    def set_options(self, values: Mapping[str, Any], *, legacy: bool = False) -> None: ...

    def require_account(self, api: str) -> Account: ...

    def require_market_data(self, api: str) -> AbsDataSource:
        """The market-data source (simulated: the cache as of the clock), or a Chinese error
        saying how to configure one."""
        ...

    def require_current_data(self, api: str) -> CurrentData:
        """The run's one ``context.current_data``, or the same error."""
        ...
