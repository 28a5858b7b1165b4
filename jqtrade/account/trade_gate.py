"""Where jqtrade 1.x custom gates import their base class from: ``jqtrade.account.trade_gate``.

The contract itself lives in :mod:`jqtrade.gates.base`; new code imports
``jqtrade.AbsTradeGate``.
"""

from jqtrade.gates.base import AbsTradeGate

__all__ = ["AbsTradeGate"]
