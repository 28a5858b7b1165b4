"""The gate contract suite over the QMT gate and the simulated xtquant (no mocks)."""

from __future__ import annotations

from typing import Any

import pytest
from qmt_support import Rig

from jqtrade.testing.gate_contract import GateContract


class TestQmtGateContract(GateContract):
    code = "000001.XSHE"

    @pytest.fixture
    def gate(self, tmp_path):
        self.rig = Rig(tmp_path / "userdata_mini")
        self.price = self.rig.resting_price(self.code)
        yield self.rig.gate
        self.rig.close()

    def broker_step(self, gate: Any) -> None:
        self.rig.step()

    def add_foreign_order(self, gate: Any) -> None:
        self.rig.miniqmt.inject_foreign_order(self.code, 100, self.price, remark="手工下单")
        self.rig.step()

    def test_foreign_order_is_reported_without_our_id(self, gate: Any) -> None:
        self.add_foreign_order(gate)
        reports = self.sync(gate)
        assert [r.order_id for r in reports] == [""]
        assert reports[0].broker_order_id and reports[0].code == self.code
