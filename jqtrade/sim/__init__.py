"""The simulated broker: a paper A-share broker for tests, demos and dry runs.

:mod:`.market` gives prices (a seeded random walk or a CSV) inside the day's limits,
:mod:`.bars` real prices and bars from the local bar cache (falling back to the walk),
:mod:`.broker` is the protocol-free matching core (:class:`SimBroker`: orders, cash freezing,
T+1, fills, cancels, reverse repos; typed reports out), :mod:`.onequant` puts it behind the
OneQuant DMA files (:class:`SimulatedOneQuant`, what ``jqtrade sim`` and ``--broker sim`` run)
and :mod:`.faults` injects what a real client can write besides answers. The A-share rules
themselves live in :mod:`jqtrade.model.rules`, shared with the pre-trade checks.
"""

from jqtrade.sim.bars import BarMarket
from jqtrade.sim.broker import NewOrder, Pricing, SimBroker
from jqtrade.sim.market import PriceFeed
from jqtrade.sim.onequant import SimulatedOneQuant

__all__ = ["BarMarket", "NewOrder", "PriceFeed", "Pricing", "SimBroker", "SimulatedOneQuant"]
