"""Drives the simulated OneQuant through its files, the way a strategy's gate would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pendulum

from jqtrade.clock import MARKET_TZ
from jqtrade.errors import SnapshotUnusableError
from jqtrade.gates.onequant.files import AppendedFileReader, DayFiles, LockedAppender
from jqtrade.gates.onequant.protocol import ALGO_ORDER_HEADER, ALGO_ORDER_STOP_HEADER
from jqtrade.gates.onequant.snapshot import read_snapshot_rows
from jqtrade.sim import SimulatedOneQuant

T0 = pendulum.datetime(2024, 6, 3, 10, 0, tz=MARKET_TZ)
ACCOUNT = "123"


class Broker:
    """Writes instructions like a strategy would and reads the simulator's answers."""

    def __init__(self, directory: Path, encoding: str = "gbk", **options: Any) -> None:
        defaults: dict[str, Any] = {
            "cash": 100_000,
            "volatility": 0.0,
            "prices": {"600000.XSHG": 10.0, "688001.XSHG": 50.0},
        }
        defaults.update(options)
        self.sim = SimulatedOneQuant(directory, ACCOUNT, encoding=encoding, **defaults)
        self.now = T0
        self.encoding = encoding
        self.directory = directory
        self._readers: dict[Path, AppendedFileReader] = {}

    @property
    def files(self) -> DayFiles:
        return DayFiles(self.directory, self.now.date())

    def poll(self, seconds: float = 0.0) -> None:
        self.now = self.now.add(microseconds=int(seconds * 1_000_000))
        self.sim.poll(self.now)

    def order(
        self, order_id: str, symbol: str, side: str, qty: int, price: str = "0", acct: str = ACCOUNT
    ) -> None:
        row = [
            "100000.000000",
            order_id,
            "UM0",
            acct,
            symbol,
            side,
            str(qty),
            "DMA",
            "AT",
            "0",
            price,
            price,
        ]
        LockedAppender(self.files.algo_order, ALGO_ORDER_HEADER, self.encoding).append([row])

    def cancel(self, order_id: str) -> None:
        LockedAppender(self.files.algo_order_stop, ALGO_ORDER_STOP_HEADER, self.encoding).append(
            [["1", order_id]]
        )

    def new_rows(self, kind: str) -> list[dict[str, str]]:
        path = self.files.path(kind)
        reader = self._readers.setdefault(path, AppendedFileReader(path, self.encoding))
        return reader.read_rows()

    def statuses(self, order_id: str, rows: list[dict[str, str]]) -> list[str]:
        return [row["status"] for row in rows if row["custBatchNo"] == order_id]

    def cash(self) -> dict[str, str]:
        rows = read_snapshot_rows(self.files.asset_info, self.encoding)
        return next(row for row in rows if row["acct"] == ACCOUNT and not row["exchange"])


def complete(path: Path) -> bool:
    try:
        read_snapshot_rows(path, "gbk")
    except SnapshotUnusableError:
        return False
    return True
