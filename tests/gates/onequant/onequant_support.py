"""Building the OneQuant gate the way the runtime does: options -> config -> ``configure``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Callable, Optional

from jqtrade.clock import Clock, LiveClock
from jqtrade.gates import configure_gate
from jqtrade.gates.base import GateEnv
from jqtrade.gates.onequant import OneQuantTradeGate


def configure(
    gate: OneQuantTradeGate, options: Mapping[str, Any], clock: Optional[Clock] = None
) -> OneQuantTradeGate:
    """``configure_gate`` with a ``GateEnv`` of ``clock`` (default: the live clock)."""
    runtime_dir = Path(str(options.get("order_dir") or "."))
    return configure_gate(
        gate, options, GateEnv(clock=clock or LiveClock(), runtime_dir=runtime_dir)
    )


def open_onequant(
    options: Mapping[str, Any],
    clock: Optional[Clock] = None,
    *,
    sleep: Optional[Callable[[float], None]] = None,
) -> OneQuantTradeGate:
    """A new OneQuant gate configured from ``options``."""
    return configure(OneQuantTradeGate(sleep=sleep), options, clock)
