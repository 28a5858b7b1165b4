"""The QMT gate: miniQMT's ``xtquant`` trading API behind the typed gate contract.

``config`` (options), ``events`` (callbacks -> queued records), ``mapping`` (xtquant's
codes, statuses and price types), ``gate`` (:class:`QmtTradeGate`). ``xtquant`` itself is
imported only when the gate connects.
"""

from jqtrade.gates.qmt.config import QmtConfig
from jqtrade.gates.qmt.gate import QmtTradeGate, XtApi, load_xtquant, missing_xtquant_reason

__all__ = ["QmtConfig", "QmtTradeGate", "XtApi", "load_xtquant", "missing_xtquant_reason"]
