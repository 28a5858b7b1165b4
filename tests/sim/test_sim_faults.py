"""Fault mode of the simulated OneQuant: cut lines, broken snapshots, stray lines."""

from __future__ import annotations

from pathlib import Path

from sim_files import ACCOUNT, Broker, complete

from jqtrade.gates.onequant.files import AppendedFileReader


def test_fault_mode_lines_are_completed_later(tmp_path: Path) -> None:
    broker = Broker(tmp_path, fault_mode=True, fault_rate=0.5, seed=3)
    saw_half_line = saw_bad_snapshot = False
    for n in range(30):
        broker.order(f"o{n}", "600000.SH", "1", 100, "10.5" if n % 2 else "9.0")
        broker.poll(1)
        saw_half_line |= not broker.files.order_update.read_bytes().endswith(b"\n")
        saw_bad_snapshot |= not complete(broker.files.asset_info)
    assert saw_half_line and saw_bad_snapshot
    broker.sim.fault_mode = False
    broker.poll(5)
    data = broker.files.order_update.read_bytes()
    assert data.endswith(b"\n")
    rows = AppendedFileReader(broker.files.order_update, "gbk").read_rows()
    ours = {
        row["custBatchNo"]: row["status"]
        for row in rows
        if row["acct"] == ACCOUNT
        and row["custBatchNo"][:1] == "o"
        and row["custBatchNo"][1:].isdigit()
    }
    assert set(ours) == {f"o{n}" for n in range(30)}
    assert "\u5176" in data.decode("gbk", "replace")  # GBK Chinese text made it through
