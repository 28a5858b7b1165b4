"""Account module: orders, positions, portfolio and their sync with the trade gate.

``from jqtrade.account import AbsTradeGate`` is how jqtrade 1.0 gates found their base class;
it is resolved on first use so that importing the account never pulls in the gates.
"""

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "AbsTradeGate":
        from jqtrade.gates.base import AbsTradeGate

        return AbsTradeGate
    raise AttributeError(f"module 'jqtrade.account' has no attribute {name!r}")
