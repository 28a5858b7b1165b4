"""A simulated xtquant (miniQMT's Python API) for paper trading and tests.

Laid out like the real package -- ``xttrader`` (:class:`XtQuantTrader`,
:class:`XtQuantTraderCallback`), ``xttype`` (``StockAccount``, ``XtOrder``, ``XtTrade``,
``XtPosition``, ``XtAsset``, ``XtOrderError``, ``XtCancelError``, ``XtOrderResponse``) and
``xtconstant`` -- so the QMT gate takes it with ``xtquant_module="jqtrade.sim.xtquant"``.
:class:`~jqtrade.sim.xtquant.miniqmt.SimMiniQmt` is the "miniQMT" it talks to, on the same
matching core as the simulated OneQuant (:class:`jqtrade.sim.broker.SimBroker`). Only the
names jqtrade uses are here; this is our own code, not a copy of xtquant.
"""

from jqtrade.sim.xtquant import xtconstant, xttrader, xttype
from jqtrade.sim.xtquant.miniqmt import SimMiniQmt, XtFaults
from jqtrade.sim.xtquant.xttrader import XtQuantTrader, XtQuantTraderCallback
from jqtrade.sim.xtquant.xttype import (
    StockAccount,
    XtAsset,
    XtCancelError,
    XtOrder,
    XtOrderError,
    XtOrderResponse,
    XtPosition,
    XtTrade,
)

__all__ = [
    "SimMiniQmt",
    "StockAccount",
    "XtAsset",
    "XtCancelError",
    "XtFaults",
    "XtOrder",
    "XtOrderError",
    "XtOrderResponse",
    "XtPosition",
    "XtQuantTrader",
    "XtQuantTraderCallback",
    "XtTrade",
    "xtconstant",
    "xttrader",
    "xttype",
]
