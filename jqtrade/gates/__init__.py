"""Trade gates: one module per broker protocol, all implementing ``AbsTradeGate``."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Optional

from jqtrade.errors import GateConfigError
from jqtrade.gates.base import AbsTradeGate
from jqtrade.gates.legacy_adapter import LegacyGateAdapter, is_legacy_gate_class, looks_like_gate

BUILTIN_GATES = {
    "onequant": "jqtrade.gates.onequant:OneQuantTradeGate",
    "fake": "jqtrade.gates.fake:FakeTradeGate",
}

#: ``trade_gate`` values of jqtrade 1.0 and the built-in gate that replaces each.
LEGACY_GATE_NAMES = {
    "jqtrade.account.trade_gate.AnXinDMATradeGate": "onequant",
    "jqtrade.account.trade_gate:AnXinDMATradeGate": "onequant",
}


def gate_name(spec: Optional[str]) -> str:
    """The ``trade_gate`` option as jqtrade reads it: ``None`` is ``onequant``, and jqtrade
    1.0's path of its OneQuant gate (``jqtrade.account.trade_gate.AnXinDMATradeGate``) is too."""
    text = (spec or "onequant").strip()
    return LEGACY_GATE_NAMES.get(text, text)


def load_gate(spec: Optional[str]) -> AbsTradeGate:
    """Instantiate the gate named by the ``trade_gate`` option (default: OneQuant).

    ``spec`` is a built-in name, ``package.module:Class``, ``package.module`` (class
    ``TradeGate``) or jqtrade 1.0's ``package.module.Class``. A jqtrade 1.0 gate (its
    ``setup`` takes the options only) comes wrapped in
    :class:`jqtrade.gates.legacy_adapter.LegacyGateAdapter`.
    """
    name = gate_name(spec)
    target = BUILTIN_GATES.get(name, name)
    module, class_name = _import_target(spec, target)
    cls = getattr(module, class_name, None)
    if isinstance(cls, type) and looks_like_gate(cls) and is_legacy_gate_class(cls):
        return LegacyGateAdapter(cls())
    if not (isinstance(cls, type) and issubclass(cls, AbsTradeGate)):
        raise GateConfigError(
            f"trade_gate={spec!r}：{module.__name__} 中没有 AbsTradeGate 的子类 {class_name!r}"
            "（交易接口类需实现 order、cancel_order、sync_balance、sync_orders）"
        )
    return cls()


def _import_target(spec: Optional[str], target: str) -> tuple[ModuleType, str]:
    """``a.b:C`` -> (a.b, "C"); ``a.b`` -> (a.b, "TradeGate"); and, when ``a.b.C`` is not a
    module, jqtrade 1.0's reading of it: (a.b, "C")."""
    module_name, colon, class_name = target.partition(":")
    try:
        return importlib.import_module(module_name), class_name or "TradeGate"
    except ModuleNotFoundError as exc:
        head, dot, tail = module_name.rpartition(".")
        if colon or not dot or exc.name != module_name:
            raise GateConfigError(f"trade_gate={spec!r}：无法导入模块 {module_name!r}（{exc}）") from exc
        first = exc
    except ImportError as exc:
        raise GateConfigError(f"trade_gate={spec!r}：无法导入模块 {module_name!r}（{exc}）") from exc
    try:
        return importlib.import_module(head), tail
    except ImportError as exc:
        raise GateConfigError(
            f"trade_gate={spec!r}：既不能作为模块 {module_name!r} 导入（{first}），"
            f"也不能作为模块 {head!r} 中的类 {tail!r} 导入（{exc}）；请写成 '包.模块:类名'"
        ) from exc
