"""Trade gates: one module (or package) per broker protocol, all implementing ``AbsTradeGate``.

How the ``trade_gate`` option becomes a working gate:

- :func:`load_gate_class` resolves the name: a built-in name (``"onequant"``, ``"fake"``),
  ``package.module:Class``, ``package.module`` (class ``TradeGate``), or jqtrade 1.0's
  ``package.module.Class`` and its path of the OneQuant gate.
- :func:`build_gate` creates it, wraps it when it speaks an older contract, and configures it
  from the strategy's options (:func:`configure_gate` does the same for an instance).

Which contract a gate class speaks (:func:`gate_kind`), decided by its methods, not by its
base class (jqtrade 1.x gates subclass the same ``AbsTradeGate``):

``"typed"``
    Defines ``configure``, or has no ``setup`` at all: today's contract
    (:mod:`jqtrade.gates.base`). Must subclass ``AbsTradeGate``. Configured with
    ``config_from_options(cls.config_class, options)`` and ``configure(config, env)``; the
    fields of ``config_class`` are ``set_options`` keys.
``"dict"``
    Has a ``setup`` that takes a ``clock`` keyword or ``**kwargs`` (jqtrade 1.x after 1.0:
    ``setup(self, options, **kwargs)``, ``sync_orders`` / ``sync_balance`` return dicts):
    wrapped in :class:`~jqtrade.gates.dict_adapter.DictGateAdapter`, which calls
    ``setup(options_dict, clock=clock)`` and checks every row it returns.
``"legacy"``
    Has a ``setup`` that takes the options only (jqtrade 1.0): wrapped in
    :class:`~jqtrade.gates.legacy_adapter.LegacyGateAdapter`, which also translates 1.0's
    order object and 1.0's keys.

When a class has both, the one defined lower in its class hierarchy decides (a subclass that
adds ``setup`` to a typed gate is a dict-contract gate). A class without ``order``,
``cancel_order``, ``sync_balance`` and ``sync_orders`` is refused.
Dict and 1.0 gates read the whole options dict, so the keys they may be given stay the keys
jqtrade 1.x had: the built-in OneQuant gate's (:func:`options_config_class`), unless such a
class declares a ``config_class`` of its own.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import ModuleType
from typing import Any, Literal, Optional

from jqtrade.errors import GateConfigError, JqTradeError
from jqtrade.gates.base import AbsTradeGate, GateEnv, NoConfig
from jqtrade.gates.config import config_from_options
from jqtrade.gates.dict_adapter import DictGateAdapter
from jqtrade.gates.legacy_adapter import LegacyGateAdapter, is_legacy_gate_class, looks_like_gate

__all__ = [
    "BUILTIN_GATES",
    "LEGACY_GATE_NAMES",
    "GateKind",
    "build_gate",
    "configure_gate",
    "gate_kind",
    "gate_name",
    "load_gate",
    "load_gate_class",
    "options_config_class",
    "wrap_gate",
]

BUILTIN_GATES = {
    "onequant": "jqtrade.gates.onequant:OneQuantTradeGate",
    "fake": "jqtrade.gates.fake:FakeTradeGate",
    "qmt": "jqtrade.gates.qmt:QmtTradeGate",
}

#: ``trade_gate`` values of jqtrade 1.0 and the built-in gate that replaces each.
LEGACY_GATE_NAMES = {
    "jqtrade.account.trade_gate.AnXinDMATradeGate": "onequant",
    "jqtrade.account.trade_gate:AnXinDMATradeGate": "onequant",
}

GateKind = Literal["typed", "dict", "legacy"]


def gate_name(spec: Optional[str]) -> str:
    """The ``trade_gate`` option as jqtrade reads it: ``None`` is ``onequant``, and jqtrade
    1.0's path of its OneQuant gate (``jqtrade.account.trade_gate.AnXinDMATradeGate``) is too."""
    text = (spec or "onequant").strip()
    return LEGACY_GATE_NAMES.get(text, text)


def load_gate_class(spec: Optional[str]) -> type[Any]:
    """The class named by the ``trade_gate`` option (default: OneQuant), not yet created.

    Errors (:class:`GateConfigError`) name the ``trade_gate`` value and what went wrong.
    """
    name = gate_name(spec)
    target = BUILTIN_GATES.get(name, name)
    module, class_name = _import_target(spec, target)
    cls = getattr(module, class_name, None)
    if isinstance(cls, type) and looks_like_gate(cls):
        if gate_kind(cls) != "typed" or issubclass(cls, AbsTradeGate):
            return cls
    raise GateConfigError(
        f"trade_gate={spec!r}：{module.__name__} 中没有 AbsTradeGate 的子类 {class_name!r}"
        "（交易接口类需实现 order、cancel_order、sync_balance、sync_orders）"
    )


def gate_kind(cls: type[Any]) -> GateKind:
    """Which contract ``cls`` speaks; the rules are in the module docstring."""
    for klass in cls.__mro__:
        if klass is AbsTradeGate:
            break
        if "configure" in vars(klass):
            return "typed"
        if "setup" in vars(klass):  # the most derived of setup and configure decides
            return "legacy" if is_legacy_gate_class(cls) else "dict"
    return "typed"


def options_config_class(cls: type[Any]) -> type[Any]:
    """The attrs class whose fields are the ``set_options`` keys of gate class ``cls``."""
    own = getattr(cls, "config_class", NoConfig)
    if gate_kind(cls) == "typed" or own is not NoConfig:
        return own  # type: ignore[no-any-return]  # an attrs class, by the contract
    from jqtrade.gates.onequant import OneQuantConfig

    return OneQuantConfig


def wrap_gate(gate: object) -> AbsTradeGate[Any]:
    """``gate`` behind today's contract: itself, or in the adapter for its contract."""
    if isinstance(gate, (DictGateAdapter, LegacyGateAdapter)):
        return gate
    kind = gate_kind(type(gate))
    if kind == "legacy":
        return LegacyGateAdapter(gate)
    if kind == "dict":
        return DictGateAdapter(gate)
    if not isinstance(gate, AbsTradeGate):
        raise GateConfigError(f"{type(gate).__name__} 不是 AbsTradeGate 的子类，不能作为交易接口")
    return gate


def configure_gate(gate: object, options: Mapping[str, Any], env: GateEnv) -> AbsTradeGate[Any]:
    """Wrap ``gate`` if it needs it and configure it from plain ``options``.

    An adapter receives the whole options dict (its gate reads what it wants); a typed gate
    receives its ``config_class`` built from the keys it declares.
    """
    wrapped = wrap_gate(gate)
    if isinstance(wrapped, DictGateAdapter):
        wrapped.configure(options, env)
    else:
        wrapped.configure(config_from_options(type(wrapped).config_class, options), env)
    return wrapped


def build_gate(spec: Optional[str], options: Mapping[str, Any], env: GateEnv) -> AbsTradeGate[Any]:
    """The gate named by ``trade_gate=spec``, created, wrapped and configured."""
    return configure_gate(_create(spec, load_gate_class(spec)), options, env)


def load_gate(spec: Optional[str]) -> AbsTradeGate[Any]:
    """The gate named by ``spec``, created and wrapped but not configured yet (for factories
    that hand a gate to the runtime, which configures it)."""
    return wrap_gate(_create(spec, load_gate_class(spec)))


def _create(spec: Optional[str], cls: type[Any]) -> object:
    try:
        return cls()
    except JqTradeError:
        raise
    except Exception as exc:
        raise GateConfigError(
            f"trade_gate={spec!r}：无法创建交易接口 {cls.__name__}()（{type(exc).__name__}: {exc}）；"
            "交易接口类要能不带参数创建"
        ) from exc


def _import_target(spec: Optional[str], target: str) -> tuple[ModuleType, str]:
    """``a.b:C`` -> (a.b, "C"); ``a.b`` -> (a.b, "TradeGate"); and, when ``a.b.C`` is not a
    module, jqtrade 1.0's reading of it: (a.b, "C")."""
    module_name, colon, class_name = target.partition(":")
    try:
        return importlib.import_module(module_name), class_name or "TradeGate"
    except ModuleNotFoundError as exc:
        head, dot, tail = module_name.rpartition(".")
        if colon or not dot or exc.name != module_name:
            raise GateConfigError(
                f"trade_gate={spec!r}：无法导入模块 {module_name!r}（{exc}）"
            ) from exc
        first = exc
    except ImportError as exc:
        raise GateConfigError(
            f"trade_gate={spec!r}：无法导入模块 {module_name!r}（{exc}）"
        ) from exc
    try:
        return importlib.import_module(head), tail
    except ImportError as exc:
        raise GateConfigError(
            f"trade_gate={spec!r}：既不能作为模块 {module_name!r} 导入（{first}），"
            f"也不能作为模块 {head!r} 中的类 {tail!r} 导入（{exc}）；请写成 '包.模块:类名'"
        ) from exc
