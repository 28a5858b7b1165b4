"""The local bar cache: one SQLite file (``<runtime_dir>/data/bars.sqlite``) of finished bars.

Schema (version 1)::

    bars(code TEXT, unit TEXT, ts INTEGER,            -- bar end, Unix seconds
         open, high, low, close INTEGER,              -- price × 10^4 (exact to 0.0001 yuan)
         volume INTEGER,                              -- shares
         amount INTEGER,                              -- fen (0.01 yuan)
         PRIMARY KEY (code, unit, ts)) WITHOUT ROWID
    filled(code TEXT, unit TEXT, day INTEGER,         -- date.toordinal() of a trading day
           source TEXT, PRIMARY KEY (code, unit, day)) WITHOUT ROWID
    meta(key TEXT PRIMARY KEY, value TEXT)            -- schema_version

``filled`` records the trading days a source has been asked for, including days without bars
(suspensions), so an incremental :meth:`BarCache.fill` fetches only days never asked for. A
day is recorded only once it is over (its close has passed at the ``now`` given), so today's
bars are fetched again until the day is complete. Imported CSV files record the days they
contain.

The file is opened in WAL mode: a running strategy can read while ``jqtrade data fetch``
writes. One connection is shared by the threads of a process under a lock. Market time is
UTC+8 without daylight saving since 1991, so a Unix time maps to Beijing time by adding
eight hours; reads build the ``DateTime`` objects from that directly, and a row read before
gives back the same frozen :class:`Bar` (the key is the whole row, so a rewritten bar is read
afresh), which keeps a day of minute bars well under a couple of milliseconds.
"""

from __future__ import annotations

import datetime
import itertools
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Optional, Union, overload

import attrs
import pendulum

from jqtrade.calendar import TradingCalendar
from jqtrade.clock import MARKET_TZ
from jqtrade.data.errors import BarCacheError, DataConfigError, DataSourceError
from jqtrade.data.models import PRICE_DECIMALS, Bar, BarUnit, to_code
from jqtrade.data.sessions import close_time

__all__ = ["CACHE_FILE", "BarCache", "BarRows", "FillReport"]

#: Where the cache lives inside the runtime directory.
CACHE_FILE = Path("data") / "bars.sqlite"

SCHEMA_VERSION = "1"
_SCALE = 10**PRICE_DECIMALS
_OFFSET = 8 * 3600  # Asia/Shanghai, no DST since 1991
_EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()

_SCHEMA = """
CREATE TABLE IF NOT EXISTS bars (
    code TEXT NOT NULL, unit TEXT NOT NULL, ts INTEGER NOT NULL,
    open INTEGER NOT NULL, high INTEGER NOT NULL, low INTEGER NOT NULL, close INTEGER NOT NULL,
    volume INTEGER NOT NULL, amount INTEGER NOT NULL,
    PRIMARY KEY (code, unit, ts)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS filled (
    code TEXT NOT NULL, unit TEXT NOT NULL, day INTEGER NOT NULL, source TEXT NOT NULL,
    PRIMARY KEY (code, unit, day)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

Progress = Callable[[int, int], None]


@attrs.frozen(kw_only=True)
class FillReport:
    """What one :meth:`BarCache.fill` did."""

    code: str
    unit: BarUnit
    #: Trading days that were missing and asked for.
    days_fetched: int
    #: Trading days already in the cache.
    days_cached: int
    bars_written: int
    #: The source's error when a range failed (the days before it are kept).
    error: Optional[str] = None


#: Decoded bars and prices remembered for warm reads, then forgotten at once: a day of minute
#: bars of some eighty codes, and small enough that a year-long simulation's memory stays flat
#: (a few MB) however many bars it reads.
MEMO_BARS = 20_000
MEMO_PRICES = 20_000
#: Results of reads remembered, up to this many bars in all: a simulated day asks the same
#: day of bars from the broker and from the strategy's quotes.
MEMO_READ_BARS = 20_000


class BarCache:
    """Bars stored by (code, unit, end time); see the module docstring for the schema."""

    def __init__(
        self, path: Union[str, Path], *, calendar: Optional[TradingCalendar] = None
    ) -> None:
        self.path = Path(path).expanduser()
        self._calendar = calendar
        self._lock = threading.RLock()
        self._days: dict[int, tuple[int, int, int]] = {}
        self._prices: dict[int, Decimal] = {}
        self._memo: dict[tuple[str, BarUnit, tuple[int, ...]], Bar] = {}
        self._reads: dict[tuple[object, ...], BarRows] = {}
        self._read_bars = 0  # bars held by _reads
        self._read_version: Optional[tuple[int, int]] = None  # the version _reads is of
        self._writes = 0  # commits through this connection
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                str(self.path), timeout=10.0, check_same_thread=False, isolation_level=None
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            row = self._db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            if row is None:
                self._db.execute(
                    "INSERT INTO meta(key, value) VALUES ('schema_version', ?)", (SCHEMA_VERSION,)
                )
            elif row[0] != SCHEMA_VERSION:
                raise BarCacheError(
                    str(self.path),
                    f"文件格式版本为 {row[0]}，本版 jqtrade 只认识版本 {SCHEMA_VERSION}",
                )
        except sqlite3.DatabaseError as exc:
            raise BarCacheError(
                str(self.path), f"{exc}（文件可能已损坏，或不是 jqtrade 的缓存文件）"
            ) from exc
        except OSError as exc:
            raise BarCacheError(str(self.path), str(exc)) from exc

    @classmethod
    def in_runtime_dir(cls, runtime_dir: Union[str, Path], **kwargs: Any) -> BarCache:
        """The cache of a runtime directory: ``<runtime_dir>/data/bars.sqlite``."""
        return cls(Path(runtime_dir).expanduser() / CACHE_FILE, **kwargs)

    @property
    def calendar(self) -> TradingCalendar:
        if self._calendar is None:
            from jqtrade.data.source import _builtin_calendar

            self._calendar = _builtin_calendar()
        return self._calendar

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> BarCache:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<BarCache {self.path}>"

    # --- writing -----------------------------------------------------------------------------

    def write(self, bars: Iterable[Bar], *, source: Optional[str] = None) -> int:
        """Store ``bars`` (replacing bars with the same code, unit and time); returns the count.

        With ``source``, every trading day with a bar is also recorded as filled.
        """
        rows = []
        days: set[tuple[str, str, int]] = set()
        for bar in bars:
            ts = int(bar.time.timestamp())
            rows.append(
                (
                    bar.code,
                    bar.unit.value,
                    ts,
                    int(bar.open * _SCALE),
                    int(bar.high * _SCALE),
                    int(bar.low * _SCALE),
                    int(bar.close * _SCALE),
                    bar.volume,
                    int(bar.amount * 100),
                )
            )
            if source is not None:
                days.add((bar.code, bar.unit.value, (ts + _OFFSET) // 86400 + _EPOCH_ORDINAL))
        with self._transaction() as db:
            db.executemany("INSERT OR REPLACE INTO bars VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            if source is not None:
                db.executemany(
                    "INSERT OR REPLACE INTO filled VALUES (?, ?, ?, ?)",
                    [(c, u, d, source) for c, u, d in days],
                )
        return len(rows)

    def mark_filled(
        self, code: str, unit: BarUnit, days: Iterable[datetime.date], source: str
    ) -> None:
        with self._transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO filled VALUES (?, ?, ?, ?)",
                [(code, unit.value, d.toordinal(), source) for d in days],
            )

    def filled_days(
        self, code: str, unit: BarUnit, first: datetime.date, last: datetime.date
    ) -> set[datetime.date]:
        with self._lock:
            rows = self._db.execute(
                "SELECT day FROM filled WHERE code=? AND unit=? AND day BETWEEN ? AND ?",
                (code, unit.value, first.toordinal(), last.toordinal()),
            ).fetchall()
        return {datetime.date.fromordinal(r[0]) for r in rows}

    def fill(
        self,
        source: Any,
        code: str,
        unit: Union[BarUnit, str],
        first: datetime.date,
        last: datetime.date,
        *,
        now: pendulum.DateTime,
        progress: Optional[Progress] = None,
    ) -> FillReport:
        """Fetch from ``source`` (an ``AbsDataSource``) the trading days not yet filled.

        Days are fetched in runs of consecutive missing days (at most 20 trading days of
        minute bars, 2000 of daily bars per request). Days whose close is after ``now`` are
        fetched up to ``now`` but not recorded as filled. ``progress(done, total)`` is called
        after each request with days done and days to do. A source error stops the fill and
        is reported in :attr:`FillReport.error`; what was fetched before it stays.
        """
        code = to_code(code)
        bar_unit = BarUnit.parse(unit)
        if bar_unit is BarUnit.m5:
            raise DataConfigError("缓存只保存 1m 和 1d K 线（5m 由 1m 合成），请用 --unit 1m 或 1d")
        if last < first:
            raise DataConfigError(f"结束日期 {last} 早于开始日期 {first}")
        days = self.calendar.trading_days(first, last)
        have = self.filled_days(code, bar_unit, first, last)
        missing = [
            d for d in days if d not in have and close_time(d).subtract(hours=5, minutes=30) <= now
        ]  # session begun
        runs = _runs(missing, self.calendar, 20 if bar_unit is BarUnit.m1 else 2000)
        total, done, written = len(missing), 0, 0
        if progress is not None:
            progress(0, total)
        for run in runs:
            start = close_time(self.calendar.previous_trading_day(run[0]))
            end = min(close_time(run[-1]), now)
            try:
                bars = source.get_bars(code, bar_unit, start=start, end=end)
            except DataSourceError as exc:
                return FillReport(
                    code=code,
                    unit=bar_unit,
                    days_fetched=done,
                    days_cached=len(have),
                    bars_written=written,
                    error=str(exc),
                )
            written += self.write(bars)
            self.mark_filled(code, bar_unit, [d for d in run if close_time(d) <= now], source.name)
            done += len(run)
            if progress is not None:
                progress(done, total)
        return FillReport(
            code=code, unit=bar_unit, days_fetched=done, days_cached=len(have), bars_written=written
        )

    # --- reading -----------------------------------------------------------------------------

    def read(
        self,
        code: str,
        unit: Union[BarUnit, str],
        *,
        end: pendulum.DateTime,
        count: Optional[int] = None,
        start: Optional[pendulum.DateTime] = None,
    ) -> list[Bar]:
        """The last ``count`` bars with time <= ``end``, or those with ``start < time <= end``."""
        return list(self.read_rows(code, unit, end=end, count=count, start=start))

    def read_rows(
        self,
        code: str,
        unit: Union[BarUnit, str],
        *,
        end: pendulum.DateTime,
        count: Optional[int] = None,
        start: Optional[pendulum.DateTime] = None,
    ) -> BarRows:
        """What :meth:`read` returns, as :class:`BarRows`: each bar is decoded when first used
        (a simulated day reads a day of minute bars and matches an order on a few of them).
        The same read again, before the stored bars change, gives the same object."""
        bar_unit = BarUnit.parse(unit)
        end_ts = int(end.timestamp())
        start_ts = int(start.timestamp()) if start is not None else None
        key = (code, bar_unit, start_ts, end_ts, None if start_ts is not None else count)
        with self._lock:
            version = self.version()
            if version != self._read_version:
                self._reads.clear()
                self._read_bars, self._read_version = 0, version
            known = self._reads.get(key)
            if known is not None:
                return known
            if start_ts is not None:
                rows = self._db.execute(
                    "SELECT ts, open, high, low, close, volume, amount FROM bars "
                    "WHERE code=? AND unit=? AND ts>? AND ts<=? ORDER BY ts",
                    (code, bar_unit.value, start_ts, end_ts),
                ).fetchall()
            else:
                rows = self._db.execute(
                    "SELECT ts, open, high, low, close, volume, amount FROM bars "
                    "WHERE code=? AND unit=? AND ts<=? ORDER BY ts DESC LIMIT ?",
                    (code, bar_unit.value, end_ts, count if count is not None else -1),
                ).fetchall()
                rows.reverse()
            found = BarRows(self, code, bar_unit, rows)
            if len(rows) <= MEMO_READ_BARS:
                if self._read_bars + len(rows) > MEMO_READ_BARS:
                    self._reads.clear()
                    self._read_bars = 0
                self._reads[key] = found
                self._read_bars += len(rows)
        return found

    def version(self) -> tuple[int, int]:
        """Changes whenever the stored bars may have: a commit through this connection or any
        other (sqlite's ``data_version``), so what was read before can be trusted until then."""
        with self._lock:
            row = self._db.execute("PRAGMA data_version").fetchone()
        return (self._writes, row[0])

    def extent(
        self, code: str, unit: Union[BarUnit, str]
    ) -> Optional[tuple[pendulum.DateTime, pendulum.DateTime, int]]:
        """``(first, last, count)`` of the stored bars, or ``None`` when there are none."""
        bar_unit = BarUnit.parse(unit)
        with self._lock:
            row = self._db.execute(
                "SELECT MIN(ts), MAX(ts), COUNT(*) FROM bars WHERE code=? AND unit=?",
                (code, bar_unit.value),
            ).fetchone()
        if not row or row[2] == 0:
            return None
        return self._time(row[0]), self._time(row[1]), row[2]

    def codes(self) -> list[tuple[str, BarUnit, int]]:
        """Every (code, unit, number of bars) stored."""
        with self._lock:
            rows = self._db.execute(
                "SELECT code, unit, COUNT(*) FROM bars GROUP BY code, unit ORDER BY code, unit"
            ).fetchall()
        return [(c, BarUnit(u), n) for c, u, n in rows]

    def _decode(self, code: str, unit: BarUnit, row: tuple[int, ...]) -> Bar:
        """The Bar of a row; a row decoded before gives the same (immutable) Bar again."""
        memo = self._memo
        key = (code, unit, row)
        bar = memo.get(key)
        if bar is None:
            if len(memo) > MEMO_BARS:
                memo.clear()
            ts, o, h, lo, c, v, a = row
            bar = memo[key] = Bar(
                code=code,
                unit=unit,
                time=self._time(ts),
                open=self._price(o),
                high=self._price(h),
                low=self._price(lo),
                close=self._price(c),
                volume=v,
                amount=self._money(a),
            )
        return bar

    @staticmethod
    def _money(fen: int) -> Decimal:
        return Decimal(fen).scaleb(-2)

    def _price(self, scaled: int) -> Decimal:
        """The Decimal of a stored price; remembered, since a day repeats few prices."""
        value = self._prices.get(scaled)
        if value is None:
            if len(self._prices) > MEMO_PRICES:
                self._prices.clear()
            value = self._prices[scaled] = Decimal(scaled).scaleb(-PRICE_DECIMALS)
        return value

    def _time(self, ts: int) -> pendulum.DateTime:
        days, seconds = divmod(ts + _OFFSET, 86400)
        ymd = self._days.get(days)
        if ymd is None:
            date = datetime.date.fromordinal(days + _EPOCH_ORDINAL)
            ymd = self._days[days] = (date.year, date.month, date.day)
        hour, rest = divmod(seconds, 3600)
        return pendulum.DateTime(
            ymd[0], ymd[1], ymd[2], hour, rest // 60, rest % 60, tzinfo=MARKET_TZ
        )

    # --- helpers -----------------------------------------------------------------------------

    def _transaction(self) -> _Transaction:
        return _Transaction(self)


class BarRows(Sequence[Bar]):
    """The bars of one read, oldest first, decoded when first used; also their end times
    (``ends``, Unix seconds) and running totals from the stored integers, decoding nothing."""

    __slots__ = ("_bars", "_cache", "_code", "_ends", "_rows", "_totals", "_unit")

    def __init__(
        self, cache: BarCache, code: str, unit: BarUnit, rows: Sequence[tuple[int, ...]]
    ) -> None:
        self._cache, self._code, self._unit, self._rows = cache, code, unit, rows
        self._bars: list[Optional[Bar]] = [None] * len(rows)
        self._ends: Optional[tuple[int, ...]] = None
        self._totals: Optional[tuple[list[int], list[int], list[int], list[int]]] = None

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> Bar: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Bar, ...]: ...

    def __getitem__(self, index: Union[int, slice]) -> Union[Bar, tuple[Bar, ...]]:
        if isinstance(index, slice):
            return tuple(self._bar(i) for i in range(*index.indices(len(self._rows))))
        if index < 0:
            index += len(self._rows)
        if not 0 <= index < len(self._rows):
            raise IndexError("bar index out of range")
        return self._bar(index)

    def __repr__(self) -> str:
        return f"<BarRows {self._code} {self._unit.value} × {len(self._rows)}>"

    def _bar(self, index: int) -> Bar:
        bar = self._bars[index]
        if bar is None:
            bar = self._bars[index] = self._cache._decode(self._code, self._unit, self._rows[index])
        return bar

    @property
    def ends(self) -> tuple[int, ...]:
        """Each bar's end time, Unix seconds."""
        if self._ends is None:
            self._ends = tuple(row[0] for row in self._rows)
        return self._ends

    def totals(self, count: int) -> tuple[Decimal, Decimal, int, Decimal]:
        """The high, low, volume and amount of the first ``count`` bars (``count`` >= 1)."""
        if not 1 <= count <= len(self._rows):
            raise IndexError(f"count {count} not in 1..{len(self._rows)}")
        if self._totals is None:
            rows = self._rows
            self._totals = (
                list(itertools.accumulate((row[2] for row in rows), max)),
                list(itertools.accumulate((row[3] for row in rows), min)),
                list(itertools.accumulate(row[5] for row in rows)),
                list(itertools.accumulate(row[6] for row in rows)),
            )
        highs, lows, volumes, amounts = self._totals
        cache, i = self._cache, count - 1
        return cache._price(highs[i]), cache._price(lows[i]), volumes[i], cache._money(amounts[i])


class _Transaction:
    def __init__(self, cache: BarCache) -> None:
        self._cache = cache

    def __enter__(self) -> sqlite3.Connection:
        self._cache._lock.acquire()
        try:
            self._cache._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            self._cache._lock.release()
            raise BarCacheError(str(self._cache.path), f"无法写入：{exc}") from exc
        return self._cache._db

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            self._cache._db.execute("ROLLBACK" if exc_type else "COMMIT")
        finally:
            self._cache._writes += 1
            self._cache._lock.release()


def _runs(
    days: Sequence[datetime.date], calendar: TradingCalendar, longest: int
) -> Iterator[list[datetime.date]]:
    """Consecutive trading days of ``days`` in groups of at most ``longest``."""
    run: list[datetime.date] = []
    for day in days:
        if run and (len(run) >= longest or calendar.next_trading_day(run[-1]) != day):
            yield run
            run = []
        run.append(day)
    if run:
        yield run
