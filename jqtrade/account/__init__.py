"""Account module: orders, positions, portfolio, broker sync and the trade-gate contract."""

from jqtrade.gates.base import AbsTradeGate

__all__ = ["AbsTradeGate"]
