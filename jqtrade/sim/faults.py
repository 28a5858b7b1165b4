"""Fault injection for the simulated OneQuant: what the real client can produce besides answers.

One seeded random stream decides every fault, so a seed replays the same faults. Each fault
strikes with probability ``rate``:

* a write cut short: the last line of a file's appends is written in two parts, the rest at
  the next flush (:meth:`FaultInjector.cut_at`);
* a snapshot rewritten incompletely: header only, or cut anywhere before the end marker
  (:meth:`FaultInjector.break_snapshot`);
* stray ``orderUpdate`` lines: another program's order on this account, another account reusing
  one of our ids, bytes that are text in no encoding, a line with the wrong number of fields,
  an unknown status code, a bad number (:meth:`FaultInjector.stray_order_line`);
* free text on normal updates ("已报，等待成交", "全部成交"), which a reader must not take for a
  rejection (the :class:`~jqtrade.sim.broker.FaultNotes` the core asks);
* rows of another fund account and an empty position in every snapshot.

Delays are not faults here: the broker core's ``latency`` holds acceptance and cancels back.
"""

from __future__ import annotations

import random
from typing import Optional, Union

import pendulum

from jqtrade.gates.onequant.protocol import format_upd_time


class FaultInjector:
    """The faults of one simulator run (see the module docstring)."""

    def __init__(self, seed: int, rate: float) -> None:
        self.rng = random.Random(f"{seed}|fault")
        self.rate = rate

    def strikes(self) -> bool:
        """Draw once: whether a fault happens this time."""
        return self.rng.random() < self.rate

    # -- notes the broker core asks for ---------------------------------------------------

    def on_accept(self) -> Optional[str]:
        return "已报，等待成交"

    def on_fill(self, partial: bool) -> Optional[str]:
        if not self.strikes():
            return None
        return "部分成交,继续撮合" if partial else "全部成交"

    # -- files ----------------------------------------------------------------------------

    def cut_at(self, data: bytes) -> Optional[int]:
        """Where to cut this flush of a file (inside its last line), or ``None`` to write it whole."""
        if not (self.strikes() and data.endswith(b"\n") and len(data) > 2):
            return None
        start = data.rfind(b"\n", 0, len(data) - 1) + 1
        return self.rng.randrange(start, len(data) - 1) if len(data) - 1 > start else start

    def break_snapshot(self, data: bytes, header_size: int) -> Optional[bytes]:
        """A snapshot's bytes cut short (header only or anywhere before the end), or ``None``."""
        if not self.strikes():
            return None
        header_only = self.rng.random() < 0.5
        end = header_size if header_only else self.rng.randrange(0, len(data) - 1)
        return data[:end]

    def snapshot_strays(
        self, upd: str, counter_type: str, account_no: str
    ) -> tuple[list[list[str]], list[list[str]]]:
        """(asset rows, position rows) of another account and an empty position of ours."""
        other = account_no + "8"
        assets = [[upd, counter_type, other, "", "CNY", "1.00", "1.00", "1.00", "0", "0"]]
        positions = [
            [
                upd,
                counter_type,
                other,
                "SH",
                "600000.SH",
                "其他账户",
                "100",
                "100",
                "0",
                "1",
                "1",
                "100",
            ],
            [
                upd,
                counter_type,
                account_no,
                "SH",
                "600001.SH",
                "空仓",
                "0",
                "0",
                "0",
                "0",
                "0",
                "0",
            ],
        ]
        return assets, positions

    def stray_order_line(
        self,
        now: pendulum.DateTime,
        seq: int,
        counter_type: str,
        account_no: str,
        our_id: Optional[str],
        encoding: str,
    ) -> Union[list[str], bytes]:
        """One stray ``orderUpdate`` line: a row of fields, or raw bytes to append as they are.

        ``seq`` numbers the stray orders; ``our_id`` is one of our order ids, if any.
        """
        rng = self.rng
        upd = format_upd_time(now)
        foreign = f"other-{seq}"
        day, time = now.strftime("%Y%m%d"), now.strftime("%H%M%S")
        choice = rng.randrange(6)
        if choice == 0:  # another program's order on this account
            return [
                upd,
                day,
                time,
                counter_type,
                account_no,
                "600000.SH",
                "1",
                rng.choice(["7", "0", "2", "4"]),
                "100",
                "10.00",
                "0",
                "0",
                "0",
                "0",
                "0",
                f"9{seq:05d}",
                "",
                foreign,
                "其他程序的委托",
                "",
            ]
        if choice == 1:  # another account, reusing one of our ids
            return [
                upd,
                day,
                time,
                counter_type,
                account_no + "8",
                "000001.SZ",
                "2",
                "5",
                "100",
                "10.00",
                "0",
                "0",
                "0",
                "0",
                "100",
                "900001",
                "",
                our_id or foreign,
                "其他账户：可用资金不足",
                "",
            ]
        if choice == 2:  # bytes that are not text in any encoding
            noise = bytes(rng.randrange(256) for _ in range(12)).replace(b"\n", b"")
            return b"\xff\xfe\x80garbage," + noise + b"\n"
        if choice == 3:  # wrong number of fields
            return "坏行,缺少字段\n".encode(encoding)
        if choice == 4:  # unknown status code on a foreign order
            return [
                upd,
                day,
                time,
                counter_type,
                account_no,
                "600000.SH",
                "1",
                "9",
                "100",
                "10.00",
                "0",
                "0",
                "0",
                "0",
                "0",
                "900002",
                "",
                foreign,
                "",
                "",
            ]
        # bad number on a foreign order
        return [
            upd,
            day,
            time,
            counter_type,
            account_no,
            "600000.SH",
            "1",
            "2",
            "一百",
            "10.00",
            "0",
            "abc",
            "0",
            "0",
            "0",
            "900003",
            "",
            foreign,
            '含"引号",和逗号',
            "",
        ]
