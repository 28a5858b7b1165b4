"""The risk counts shared by every task of one account: one sqlite3 file, safe across processes.

Several tasks may trade one broker account from one runtime folder. The limits that are about
the account, not the task (orders and cancels per day, turnover per day, the day's first total
value for the daily loss), are counted in ``<runtime_dir>/risk.sqlite3``, keyed by account
(gate name and account number) and trading day; a restarted task continues today's counts.
A simulated run gets its own state folder (``<runtime_dir>/sim/...``), so it never shares counts
with live trading.

**Speed.** Writing to sqlite on every order costs 20–100 µs (more when a checkpoint syncs the
disk), too much for ``order()``. So each task holds a small *lease* per counter:
:class:`SharedQuota` reserves a few units at a time from the store (counted there at once, so
the tasks together never exceed a limit), spends them in memory, tops the lease up at each
sync and gives back what is left when it closes. ``order()`` touches the file only when its
lease runs out between two syncs (a burst), and counters without a limit are added to the
store at the next sync. A task killed with its lease unspent leaves it counted as used: the
counts err on the safe side by at most one lease (:func:`lease_size`).

The file is in WAL mode with ``synchronous=NORMAL`` (a commit is atomic and isolated; a power
cut may lose the last commits, never corrupt the file), every write is one ``BEGIN IMMEDIATE``
transaction, and a busy file is waited for up to :data:`BUSY_TIMEOUT` seconds.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Optional

logger = logging.getLogger("jqtrade.account")

#: The store's file name inside the account's runtime (state) folder.
STORE_NAME = "risk.sqlite3"
#: Seconds a write waits for another process that holds the file.
BUSY_TIMEOUT = 5.0
#: Turnover is counted in thousandths of a yuan (厘): exact integers, fund prices have 3 decimals.
MILLI = Decimal(1000)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS usage (
    account TEXT NOT NULL, day TEXT NOT NULL, counter TEXT NOT NULL, used INTEGER NOT NULL,
    PRIMARY KEY (account, day, counter)
);
CREATE TABLE IF NOT EXISTS first_value (
    account TEXT NOT NULL, day TEXT NOT NULL, value TEXT NOT NULL, at TEXT NOT NULL, task TEXT NOT NULL,
    PRIMARY KEY (account, day)
);
CREATE TABLE IF NOT EXISTS trips (
    account TEXT NOT NULL, day TEXT NOT NULL, task TEXT NOT NULL, state TEXT NOT NULL,
    reason TEXT NOT NULL, at TEXT NOT NULL, acknowledged INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account, day, task)
);
"""


class StoreUnavailable(Exception):
    """The store file cannot be opened or written; the message says which file and why."""


def account_key(gate_name: str, account_no: Optional[str]) -> str:
    """How the store names an account: ``onequant:880001``; ``fake:-`` without a number."""
    return f"{gate_name}:{account_no or '-'}"


def lease_size(counter: str, limit: int) -> int:
    """Units a task reserves at a time: small against the limit, so that the tasks together lose
    little headroom, and large enough that a normal strategy never waits for the file."""
    if limit <= 0:
        return 0
    if counter == "turnover":
        return max(1, limit // 20)
    return max(1, min(20, limit // 50))


class RiskStore:
    """One account's counts in one sqlite3 file; every method is one transaction."""

    def __init__(self, path: Path, account: str) -> None:
        self.path = Path(path)
        self.account = account
        self._conn: Optional[sqlite3.Connection] = None
        self._lock = threading.Lock()  # the connection may be used from a control thread too

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(
                    str(self.path),
                    timeout=BUSY_TIMEOUT,
                    isolation_level=None,
                    check_same_thread=False,
                )
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.executescript(_SCHEMA)
            except (sqlite3.Error, OSError) as exc:
                raise StoreUnavailable(f"风控计数文件 {self.path} 无法打开：{exc}") from exc
            self._conn = conn
        return self._conn

    def _write(self, work: Any) -> Any:
        """Run ``work(conn)`` inside ``BEGIN IMMEDIATE`` ... ``COMMIT`` (rolled back on error)."""
        with self._lock:
            conn = self._connect()
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    result = work(conn)
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"风控计数文件 {self.path} 无法写入：{exc}") from exc
            return result

    def _read(self, sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return self._connect().execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"风控计数文件 {self.path} 无法读取：{exc}") from exc

    # -- counters ---------------------------------------------------------------------------

    def reserve(self, day: str, wants: Mapping[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
        """For each counter ``(units wanted, limit)`` (limit 0: none), add what fits under the
        limit and return ``(units granted, today's total after)``; atomic across processes."""
        account = self.account

        def work(conn: sqlite3.Connection) -> dict[str, tuple[int, int]]:
            out: dict[str, tuple[int, int]] = {}
            for counter, (want, limit) in wants.items():
                row = conn.execute(
                    "SELECT used FROM usage WHERE account=? AND day=? AND counter=?",
                    (account, day, counter),
                ).fetchone()
                used = row[0] if row else 0
                grant = max(0, want if limit <= 0 else min(want, limit - used))
                if grant:
                    conn.execute(
                        "INSERT INTO usage(account, day, counter, used) VALUES (?, ?, ?, ?) "
                        "ON CONFLICT(account, day, counter) DO UPDATE SET used = used + excluded.used",
                        (account, day, counter, grant),
                    )
                out[counter] = (grant, used + grant)
            return out

        result: dict[str, tuple[int, int]] = self._write(work)
        return result

    def give_back(self, day: str, amounts: Mapping[str, int]) -> None:
        """Return reserved units that were not spent."""
        account = self.account

        def work(conn: sqlite3.Connection) -> None:
            for counter, amount in amounts.items():
                if amount > 0:
                    conn.execute(
                        "UPDATE usage SET used = MAX(0, used - ?) WHERE account=? AND day=? AND counter=?",
                        (amount, account, day, counter),
                    )

        self._write(work)

    def totals(self, day: str) -> dict[str, int]:
        """Today's counts of the account (spent plus leased by running tasks)."""
        rows = self._read(
            "SELECT counter, used FROM usage WHERE account=? AND day=?", (self.account, day)
        )
        return {counter: used for counter, used in rows}

    # -- daily loss -------------------------------------------------------------------------

    def first_value(self, day: str, value: Decimal, at: str, task: str) -> Decimal:
        """The account's first total value of ``day``: ``value`` if no task recorded one yet."""
        account = self.account

        def work(conn: sqlite3.Connection) -> Decimal:
            conn.execute(
                "INSERT OR IGNORE INTO first_value(account, day, value, at, task) VALUES (?, ?, ?, ?, ?)",
                (account, day, str(value), at, task),
            )
            row = conn.execute(
                "SELECT value FROM first_value WHERE account=? AND day=?", (account, day)
            ).fetchone()
            return Decimal(row[0])

        result: Decimal = self._write(work)
        return result

    def record_trip(self, day: str, task: str, state: str, reason: str, at: str) -> None:
        """The daily loss switched ``task`` to ``state`` (kept until acknowledged)."""
        self._write(
            lambda conn: conn.execute(
                "INSERT OR REPLACE INTO trips(account, day, task, state, reason, at, acknowledged) "
                "VALUES (?, ?, ?, ?, ?, ?, 0)",
                (self.account, day, task, state, reason, at),
            )
        )

    def trip(self, day: str, task: str) -> Optional[tuple[str, str, bool]]:
        """``(state, reason, acknowledged)`` of ``task``'s daily-loss switch on ``day``, if any."""
        rows = self._read(
            "SELECT state, reason, acknowledged FROM trips WHERE account=? AND day=? AND task=?",
            (self.account, day, task),
        )
        return (rows[0][0], rows[0][1], bool(rows[0][2])) if rows else None

    def acknowledge_trip(self, day: str, task: str) -> None:
        """The task was resumed: a restart today no longer restores the switch."""
        self._write(
            lambda conn: conn.execute(
                "UPDATE trips SET acknowledged = 1 WHERE account=? AND day=? AND task=?",
                (self.account, day, task),
            )
        )

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.close()
                finally:
                    self._conn = None


class SharedQuota:
    """One task's leases on the account's shared counters (see the module docstring).

    ``limits`` maps a counter (``orders``, ``cancels``, ``turnover``) to its limit (0: none,
    counted only). :meth:`take` is all-or-nothing: it spends every unit asked for, or none and
    names the counter that is full.
    """

    def __init__(self, store: RiskStore, limits: Mapping[str, int]) -> None:
        self.store = store
        self.limits = dict(limits)
        self.leases = {
            counter: lease_size(counter, limit) for counter, limit in self.limits.items()
        }
        self.day: Optional[str] = None
        self.held = dict.fromkeys(self.limits, 0)  # reserved in the store, not spent yet
        self.pending = dict.fromkeys(
            self.limits, 0
        )  # spent on unlimited counters, not in the store yet
        self.totals = dict.fromkeys(self.limits, 0)  # the account's totals at the last store access

    def take(self, day: str, wants: Mapping[str, int]) -> Optional[tuple[str, int]]:
        """Spend ``wants``; ``None`` when done, else ``(counter, today's total)`` of a full counter.

        Raises :class:`StoreUnavailable` when a lease must be topped up and the file cannot be
        written (nothing is spent then)."""
        if day != self.day:
            self._switch_day(day)
        short = {
            counter: (max(want - self.held[counter], self.leases[counter]), self.limits[counter])
            for counter, want in wants.items()
            if self.limits[counter] > 0 and self.held[counter] < want
        }
        if short:
            for counter, (granted, total) in self.store.reserve(day, short).items():
                self.held[counter] += granted
                self.totals[counter] = total
            for counter in short:
                if self.held[counter] < wants[counter]:
                    return counter, self.totals[counter]
        for counter, want in wants.items():
            if self.limits[counter] > 0:
                self.held[counter] -= want
            else:
                self.pending[counter] += want
        return None

    def maintain(self, day: str) -> None:
        """At a sync: add unlimited counts to the store and top the leases up (one transaction)."""
        if day != self.day:
            self._switch_day(day)
        wants = {c: (n, 0) for c, n in self.pending.items() if n > 0}
        wants.update(
            {
                c: (self.leases[c] - self.held[c], self.limits[c])
                for c in self.limits
                if self.limits[c] > 0 and self.held[c] < self.leases[c]
            }
        )
        if not wants:
            return
        for counter, (granted, total) in self.store.reserve(day, wants).items():
            self.totals[counter] = total
            if self.limits[counter] > 0:
                self.held[counter] += granted
            else:
                self.pending[counter] = 0

    def release(self) -> None:
        """Give back the unspent leases and add the pending counts (on close or a new day)."""
        if self.day is None:
            return
        day, held, pending = (
            self.day,
            {c: n for c, n in self.held.items() if n},
            {c: n for c, n in self.pending.items() if n},
        )
        self.held = dict.fromkeys(self.limits, 0)
        self.pending = dict.fromkeys(self.limits, 0)
        if held:
            self.store.give_back(day, held)
        if pending:
            self.store.reserve(day, {c: (n, 0) for c, n in pending.items()})

    def _switch_day(self, day: str) -> None:
        try:
            self.release()
        except StoreUnavailable as exc:
            logger.warning("归还 %s 的风控预留额度失败（只会让那天的计数偏大）：%s", self.day, exc)
        self.day = day
        self.totals = dict.fromkeys(self.limits, 0)
