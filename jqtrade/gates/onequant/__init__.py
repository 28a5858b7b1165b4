"""安信/国投 OneQuant DMA 文件单交易接口 (the default gate).

One module per reason to change: :mod:`.protocol` (file names, headers, codes),
:mod:`.files` (locked appends, incremental reads), :mod:`.snapshot` (cash and position
snapshots), :mod:`.parsing` (rows to reports), :mod:`.config` (the options) and :mod:`.gate`
(the gate that wires them).
"""

from jqtrade.gates.onequant.config import OneQuantConfig
from jqtrade.gates.onequant.gate import OneQuantTradeGate

__all__ = ["OneQuantConfig", "OneQuantTradeGate"]
