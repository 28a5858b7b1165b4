"""Helpers of the QMT gate tests: a simulated miniQMT, a gate on it, and stepping both."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import pendulum

from jqtrade.clock import MARKET_TZ, SimClock
from jqtrade.gates import configure_gate
from jqtrade.gates.base import GateEnv
from jqtrade.gates.qmt import QmtTradeGate
from jqtrade.model.rules import price_limits
from jqtrade.sim.xtquant import SimMiniQmt, XtFaults

ACCOUNT = "8881234567"
DAY_START = pendulum.datetime(2024, 6, 3, 10, 0, tz=MARKET_TZ)
SIM = "jqtrade.sim.xtquant"


def gate_options(folder: Path, **extra: Any) -> dict[str, Any]:
    return {"userdata_mini": str(folder), "account_id": ACCOUNT, "xtquant_module": SIM, **extra}


class Rig:
    """A simulated miniQMT over ``folder`` and a QMT gate connected to it, on one SimClock."""

    def __init__(
        self,
        folder: Path,
        *,
        clock: Optional[SimClock] = None,
        faults: Optional[XtFaults] = None,
        positions: Optional[dict[str, Any]] = None,
        task: str = "qmt测试",
        **options: Any,
    ) -> None:
        self.folder = folder
        self.clock = clock or SimClock(DAY_START)
        self.miniqmt = SimMiniQmt(
            folder,
            account_id=ACCOUNT,
            clock=self.clock,
            faults=faults,
            positions=positions
            if positions is not None
            else {"000001.XSHE": 5000, "600000.XSHG": 3000},
        )
        self.gate = self.new_gate(task=task, **options)

    def new_gate(self, *, task: str = "qmt测试", **options: Any) -> QmtTradeGate:
        env = GateEnv(clock=self.clock, runtime_dir=self.folder.parent, task_name=task)
        return configure_gate(QmtTradeGate(), gate_options(self.folder, **options), env)

    def step(self, seconds: float = 1.0) -> None:
        """Let market time pass, the broker act, and every push reach the gate's queue."""
        if seconds:
            self.clock.advance(seconds)
        self.miniqmt.step()
        assert self.miniqmt.settle(), "模拟 miniQMT 的回调没有在 5 秒内送达"

    def resting_price(self, code: str) -> float:
        """The day's limit-down price: accepted, and a buy there fills only if the price falls to it."""
        feed = self.miniqmt.broker.feed
        low, _ = price_limits(code, feed.prev_close(code, self.clock.now().date()))
        return float(low)

    def filling_price(self, code: str) -> float:
        """The limit-up price: a buy there fills at the next step."""
        feed = self.miniqmt.broker.feed
        _, high = price_limits(code, feed.prev_close(code, self.clock.now().date()))
        return float(high)

    def close(self) -> None:
        self.gate.close()
        self.miniqmt.close()


def plan_price(miniqmt: SimMiniQmt, index: int) -> float:
    """The price of plan item ``index``: limit-down plus ``index`` ticks, one price per item."""
    from jqtrade.model.rules import price_limits as limits

    code = "000001.XSHE"
    low, _ = limits(code, miniqmt.broker.feed.prev_close(code, DAY_START.date()))
    return round(float(low) + 0.01 * index, 2)
