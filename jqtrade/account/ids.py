"""Order ids unique across days, restarts, tasks and runtime folders sharing one broker folder.

The OneQuant protocol identifies an order by the client's ``custBatchNo`` for the whole day,
for every program sharing the account folder. An id is the trading date and a sequence
number, digits only: ``YYMMDD`` + the number, zero-padded to at least 4 digits
(``2406030001``, ..., ``24060310000``). Digits only, at most 16 of them in any realistic day,
so it fits whatever field width or character set the broker keeps for ``custBatchNo``. The
date prefix makes an id kept from yesterday unable to name an order of today.

The sequence comes from a per-day counter file in a folder every writer of the same broker
folder shares (the gate's ``order_id_dir``; for OneQuant, a subfolder of the order folder),
so two tasks with different runtime folders still never hand out the same id. A process
reserves a block of numbers at a time under an exclusive file lock, so most ``allocate()``
calls touch no file at all. A block reserved and not used is simply skipped.

The counter is written to a temporary file, fsynced (not on a simulated clock) and moved over
the old one (:func:`jqtrade.fileio.write_atomic`), so a crash never leaves a torn counter; an
unreadable counter raises instead of starting again at 1. A counter file briefly held by another
program (Windows: an antivirus scan, a backup tool) is waited for, up to
:data:`jqtrade.fileio.RETRY_SECONDS` seconds, under the lock; after that ``allocate`` raises
:class:`~jqtrade.errors.JournalError` naming the file and hands out no id, and the counter keeps
its old value, so no id is ever handed out twice.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import portalocker

from jqtrade.errors import JournalError
from jqtrade.fileio import read_retrying, write_atomic

DEFAULT_LOCK_TIMEOUT = 10.0


def format_order_id(trading_day: _dt.date, number: int) -> str:
    return f"{trading_day:%y%m%d}{number:04d}"


def order_id_day(order_id: str) -> _dt.date | None:
    """The trading date an id of this scheme was made for, or ``None`` for other ids."""
    if len(order_id) < 10 or not order_id.isdigit():
        return None
    try:
        return _dt.date(2000 + int(order_id[:2]), int(order_id[2:4]), int(order_id[4:6]))
    except ValueError:
        return None


class OrderIdAllocator:
    """Hands out ids ``YYMMDD0001``, ``YYMMDD0002``, ... for one trading day, shared
    through ``directory``."""

    def __init__(
        self,
        directory: Path,
        trading_day: _dt.date,
        block: int = 100,
        *,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
        durable: bool = True,
    ) -> None:
        if block < 1:
            raise ValueError(f"block 必须 >= 1，实际是 {block}")
        self.directory = Path(directory)
        self.trading_day = trading_day
        self.block = block
        self.lock_timeout = lock_timeout
        #: ``False`` on a simulated clock (as for the journal): the counter still never goes
        #: back within a process's life or a killed process's, only a power cut is not covered.
        self.durable = durable
        stem = f"order_ids_{trading_day:%Y%m%d}"
        self.counter_path = self.directory / f"{stem}.counter"
        self.lock_path = self.directory / f"{stem}.lock"
        self._next = 0
        self._end = 0  # ids in [_next, _end) are reserved for this process
        self._spare: tuple[int, int] | None = None  # a block reserved ahead by prefetch()

    def allocate(self) -> str:
        if self._next >= self._end:
            self._next, self._end = self._spare or self._reserve()
            self._spare = None
        value = self._next
        self._next += 1
        return format_order_id(self.trading_day, value)

    def prefetch(self) -> None:
        """Reserve the next block before it is needed, so ``allocate`` stays free of file I/O.

        Called from the loop between orders (after a sync); ids of a spare block that is never
        used are simply skipped, like any unused reservation.
        """
        if self._spare is None and self._end - self._next < max(1, self.block // 2):
            self._spare = self._reserve()

    def _reserve(self) -> tuple[int, int]:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with portalocker.Lock(
                self.lock_path,
                mode="a",
                timeout=self.lock_timeout,
                check_interval=0.005,
                flags=portalocker.LOCK_EX | portalocker.LOCK_NB,
            ):
                last = self._read_counter()
                self._write_counter(last + self.block)
        except portalocker.LockException as exc:
            raise JournalError(
                f"等待订单号文件锁超时（{self.lock_timeout} 秒）：{self.lock_path}，"
                f"可能有其他程序长时间占用该文件"
            ) from exc
        except OSError as exc:
            raise JournalError(f"无法分配订单号（{self.counter_path}）：{exc}") from exc
        return last + 1, last + 1 + self.block

    def _read_counter(self) -> int:
        try:
            text = read_retrying(self.counter_path).decode("ascii").strip()
        except FileNotFoundError:
            return 0
        except UnicodeDecodeError:
            text = "?"
        if not text.isdigit():
            raise JournalError(
                f"订单号计数文件 {self.counter_path} 内容损坏（{text[:40]!r}）。为避免重复的订单号，"
                f"jqtrade 不会从头计数：请确认今天已下的最大订单号，把比它大的数字写入该文件后重启"
            )
        return int(text)

    def _write_counter(self, value: int) -> None:
        write_atomic(self.counter_path, f"{value}\n".encode("ascii"), durable=self.durable)
