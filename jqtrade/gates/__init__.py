"""Trade gates: one module per broker protocol, all implementing ``AbsTradeGate``."""

from __future__ import annotations

import importlib
from typing import Optional

from jqtrade.errors import GateConfigError
from jqtrade.gates.base import AbsTradeGate

BUILTIN_GATES = {
    "onequant": "jqtrade.gates.onequant:OneQuantTradeGate",
    "fake": "jqtrade.gates.fake:FakeTradeGate",
}


def load_gate(spec: Optional[str]) -> AbsTradeGate:
    """Instantiate the gate named by the ``trade_gate`` option (default: OneQuant)."""
    target = BUILTIN_GATES.get(spec or "onequant", spec or "")
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise GateConfigError(f"trade_gate={spec!r}：无法导入模块 {module_name!r}（{exc}）") from exc
    cls = getattr(module, class_name or "TradeGate", None)
    if not (isinstance(cls, type) and issubclass(cls, AbsTradeGate)):
        raise GateConfigError(
            f"trade_gate={spec!r}：{module_name} 中没有 AbsTradeGate 的子类 {class_name or 'TradeGate'!r}"
        )
    return cls()
