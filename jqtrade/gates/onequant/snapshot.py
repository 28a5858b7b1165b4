"""OneQuant's cash and positions snapshots (``assetInfo``/``positionInfo``): read, check, parse.

OneQuant truncates and rewrites both files about every 5 s. A snapshot is used only when it
can be trusted whole; otherwise :class:`jqtrade.errors.SnapshotUnusableError` says which file
and what is wrong, and the caller never substitutes an older snapshot. The rules:

* **Complete**: an end-marker line of only commas is present (rows after it are ignored).
* **Text**: a UTF-8 BOM is dropped whatever ``file_encoding`` is; ``\\n``, ``\\r\\n``,
  ``\\r\\r\\n`` and ``\\r`` all end a line, mixed in one file too; blank lines are skipped.
* **Schema**: the required columns (:data:`ASSET_REQUIRED`, :data:`POSITION_REQUIRED`) must
  be in the header, read by name; every data line must have the header's field count (extra
  trailing empty fields allowed). ``mktValue`` and ``updTime`` are optional.
* **Our rows only**: lines of other fund accounts are ignored unchecked. In our cash total
  line (``exchange`` empty) and in our position rows a required field may not be empty, must
  be a finite number (a whole number for quantities) and may not be negative. A position
  row with ``currentQty`` 0 means no position and is not checked further. A symbol of a
  market jqtrade does not trade (``.BJ``, ``.HK``) is left out with one warning per file
  version; any other symbol that is not ``NNNNNN.SH``/``NNNNNN.SZ`` is an error.
* **Duplicates**: identical lines count once. Differing position rows of one symbol are
  summed (quantities and values added, cost averaged by quantity; one warning per file
  version). Differing cash total lines of our account are an error.
* **Time**: ``as_of`` is the trading date of the file at the ``updTime`` (``HHMMSS`` or
  ``HHMMSS.ffffff``, market time) of our cash total line, or the latest ``updTime`` of our
  position rows; when that column is missing, a value is empty or unparsable, or there are no
  rows of ours, the file's modification time (in market time).
"""

from __future__ import annotations

import codecs
import datetime
import os
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from itertools import islice
from operator import itemgetter, mul
from pathlib import Path
from typing import Callable, Optional

import attrs
import pendulum

from jqtrade.clock import MARKET_TZ
from jqtrade.errors import SnapshotUnusableError
from jqtrade.gates.onequant.files import SplitBlock, split_block, split_fields
from jqtrade.gates.onequant.parsing import TrustedBuilder, plain_decimals
from jqtrade.gates.onequant.protocol import (
    MAX_MONEY,
    MAX_QUANTITY,
    parse_upd_time,
    symbol_to_code,
    symbols_to_codes,
)
from jqtrade.model.reports import PositionReport

ASSET_REQUIRED = ("acct", "exchange", "totalAsset", "enabledBalance", "currentBalance")
POSITION_REQUIRED = ("acct", "symbol", "currentQty", "enabledQty", "costPrice", "lastPrice")
#: Markets whose positions may appear in the file but that jqtrade does not trade.
OTHER_MARKETS = frozenset({"BJ", "HK"})

#: Encodings in which bytes below 0x80 are always ASCII characters: commas, quotes and line
#: ends never occur inside a multi-byte character, so the ASCII fields of a line can be found
#: without decoding its other bytes.
ASCII_SAFE_ENCODINGS = frozenset(
    {"gbk", "gb2312", "gb18030", "utf-8", "ascii", "iso8859-1", "big5", "cp950"}
)

ZERO = Decimal(0)
_INCOMPLETE = "不完整（没有结束行，OneQuant 可能正在写）"


class _Unusable(Exception):
    """A problem of one file; the reader adds the file name and folder."""


def _error(path: Path, what: str) -> SnapshotUnusableError:
    return SnapshotUnusableError(f"{path.name} {what}；目录 {path.parent}")


# --- the table -----------------------------------------------------------------------------


class SnapshotTable:
    """A complete snapshot file: its header and rows, readable by column or as field lists.

    A clean file (the usual case) is kept as one split of its text and a column is a slice of
    it, so reading 5,000 positions makes no list per line. A file that needed the careful
    line-by-line path keeps its rows and their line numbers.
    """

    __slots__ = ("header", "_block", "_rows", "_lines")

    def __init__(
        self,
        header: list[str],
        *,
        block: Optional[SplitBlock] = None,
        rows: Optional[list[list[str]]] = None,
        lines: Optional[list[int]] = None,
    ) -> None:
        self.header = header
        self._block = block
        self._rows = rows
        self._lines = lines

    def __len__(self) -> int:
        return self._block.count if self._block is not None else len(self._rows or ())

    def column(self, index: int) -> list[str]:
        """The fields of column ``index`` (``< len(header)``), one per row."""
        if self._block is not None:
            return self._block.column(index)
        return list(map(itemgetter(index), self._rows or ()))

    def rows(self) -> list[list[str]]:
        if self._rows is None:
            block = self._block
            assert block is not None
            self._rows = (
                [list(fields) for fields in zip(*map(block.column, range(block.width)))]
                if block.count
                else []
            )
        return self._rows

    def line_number(self, row: int) -> int:
        """The 1-based line of the file that row ``row`` came from."""
        return self._lines[row] if self._lines is not None else row + 2


@attrs.frozen
class SnapshotFile:
    """A complete snapshot file as read, with its modification time and version stamp."""

    path: Path
    data: bytes = attrs.field(repr=False)
    mtime: pendulum.DateTime
    #: (inode, size, mtime ns): what "once per file version" warnings are keyed on.
    version: tuple[int, int, int]
    table: SnapshotTable = attrs.field(default=None, repr=False)

    def unusable(self, what: str) -> SnapshotUnusableError:
        return _error(self.path, what)

    def index(self, required: Sequence[str]) -> dict[str, int]:
        """Column index by name; raises if a required column is missing."""
        columns: dict[str, int] = {}
        for index, name in enumerate(self.table.header):
            columns.setdefault(name, index)
        missing = [name for name in required if name not in columns]
        if missing:
            raise self.unusable(
                f"缺少必需的列 {'、'.join(missing)}（表头：{','.join(self.table.header)[:200]}）"
            )
        return columns


def read_snapshot_file(
    path: Path, encoding: str, *, ascii_fields_only: bool = False, parse: bool = True
) -> SnapshotFile:
    """Read a snapshot file; raises :class:`SnapshotUnusableError` when it is missing,
    unreadable, incomplete or has a line with the wrong field count. ``parse=False`` only
    reads the bytes (``table`` is then ``None``; see :func:`parse_snapshot_file`).

    ``ascii_fields_only``: the caller only uses ASCII fields (account, symbol, numbers); with
    an ASCII-safe encoding the bytes are then mapped one-to-one (latin-1) instead of decoded,
    which is several times faster for GBK. Non-ASCII fields come back garbled.
    """
    try:
        with open(path, "rb") as handle:
            data = handle.read()
            st = os.fstat(handle.fileno())
    except FileNotFoundError:
        if not path.parent.is_dir():
            raise SnapshotUnusableError(
                f"文件单目录 {path.parent} 不存在（读取 {path.name}）"
            ) from None
        raise _error(path, "不存在") from None
    except OSError as exc:
        raise _error(path, f"读取失败：{exc}") from None
    mtime = pendulum.from_timestamp(st.st_mtime, tz=MARKET_TZ)
    snapshot = SnapshotFile(
        path=path, data=data, mtime=mtime, version=(st.st_ino, st.st_size, st.st_mtime_ns)
    )
    return (
        parse_snapshot_file(snapshot, encoding, ascii_fields_only=ascii_fields_only)
        if parse
        else snapshot
    )


def read_snapshot_rows(path: Path, encoding: str) -> list[dict[str, str]]:
    """The rows of a complete snapshot file as dicts by column name (for tools and tests);
    raises :class:`SnapshotUnusableError` like :func:`read_snapshot_file`."""
    table = read_snapshot_file(Path(path), encoding).table
    return [dict(zip(table.header, row)) for row in table.rows()]


def parse_snapshot_file(
    snapshot: SnapshotFile, encoding: str, *, ascii_fields_only: bool = False
) -> SnapshotFile:
    """``snapshot`` with its ``table``; raises :class:`SnapshotUnusableError` (see above)."""
    try:
        table = _parse_table(snapshot.data, encoding, ascii_fields_only)
    except _Unusable as exc:
        raise _error(snapshot.path, str(exc)) from None
    return attrs.evolve(snapshot, table=table)


def _parse_table(data: bytes, encoding: str, ascii_fields_only: bool) -> SnapshotTable:
    if data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    if not data:
        raise _Unusable(_INCOMPLETE)
    if ascii_fields_only and codecs.lookup(encoding).name in ASCII_SAFE_ENCODINGS:
        encoding = "latin-1"
    text = data.decode(encoding, "replace")  # a replaced character in a used field fails its check
    if "\r" in text:
        text = text.replace("\r\r\n", "\n").replace("\r\n", "\n").replace("\r", "\n")
    header_end = text.find("\n")
    if header_end < 0:
        raise _Unusable(_INCOMPLETE)
    first = text[:header_end].lstrip("\ufeff")
    header_fields = split_fields(first)
    if not header_fields or not first.strip(", \t"):
        raise _Unusable("第一行不是表头" if text[header_end:].strip(", \t\n") else _INCOMPLETE)
    header = [name.strip() for name in header_fields]
    width = len(header)
    block = _clean_block(text, header_end + 1, width)
    if block is not None:
        return SnapshotTable(header, block=block)
    rows, lines = _careful_rows(text.split("\n"), width)
    return SnapshotTable(header, rows=rows, lines=lines)


def _clean_block(text: str, start: int, width: int) -> Optional[SplitBlock]:
    """The rows between ``start`` and the usual end marker (a line of ``width - 1`` commas)
    when all of them are plain; else ``None``, and the line-by-line loop decides."""
    if width < 2:
        return None
    marker = "," * (width - 1)
    if text.startswith(marker + "\n", start) or text[start:] == marker:
        end = start  # no rows
    else:
        end = text.find("\n" + marker + "\n", start - 1)
        if end < 0:
            end = len(text) - len(marker) - 1
            if end < start or not text.endswith("\n" + marker):
                return None  # no end marker: let the loop say so
        end += 1
    # Another line of only commas before this marker would end the rows there: it cannot
    # have width - 1 commas (this is the first such line), so split_block refuses it.
    return split_block(text[start:end], width)


def _careful_rows(lines: list[str], width: int) -> tuple[list[list[str]], list[int]]:
    """Rows up to the end marker and their line numbers; raises for a line that cannot be
    split into ``width`` fields or when there is no end marker."""
    rows: list[list[str]] = []
    numbers: list[int] = []
    last = lines.pop()  # after the final "\n": empty, or a line still being written
    for number, line in enumerate(islice(lines, 1, None), start=2):
        if not line.strip(" \t"):
            continue
        if not line.strip(","):
            return rows, numbers
        fields = line.split(",") if '"' not in line else split_fields(line)
        if (
            fields is not None
            and len(fields) > width
            and not any(f.strip() for f in fields[width:])
        ):
            fields = fields[:width]  # trailing empty fields
        if fields is None or len(fields) != width:
            raise _Unusable(f"第 {number} 行无法解析（字段数应为 {width}）：{line[:120]!r}")
        rows.append(fields)
        numbers.append(number)
    if last.count(",") == width - 1 and not last.strip(","):
        return rows, numbers  # an end marker without its line end, but with all its fields
    raise _Unusable(_INCOMPLETE)


# --- values --------------------------------------------------------------------------------


def _quantity(text: str) -> Optional[int]:
    """A share count, or ``None`` if it is not a whole number in range (negative included)."""
    try:
        value = int(text)
    except ValueError:
        try:
            number = Decimal(text.strip())
        except InvalidOperation:
            return None
        if not number.is_finite() or number != number.to_integral_value():
            return None
        value = int(number)
    return value if -MAX_QUANTITY <= value <= MAX_QUANTITY else None


def _check_number(snapshot: SnapshotFile, text: str, column: str, where: str) -> Decimal:
    """A finite, non-negative number, exact; raises naming the column and the row."""
    if not text.strip():
        raise snapshot.unusable(f"{where}的 {column} 为空")
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise snapshot.unusable(f"{where}的 {column} 不是数字：{text[:40]!r}") from None
    if not value.is_finite() or abs(value) > MAX_MONEY:
        raise snapshot.unusable(f"{where}的 {column} 不是有限数字：{text[:40]!r}")
    if value < 0:
        raise snapshot.unusable(f"{where}的 {column} 为负数：{text[:40]!r}")
    return value


def _check_quantity(snapshot: SnapshotFile, text: str, column: str, where: str) -> int:
    if not text.strip():
        raise snapshot.unusable(f"{where}的 {column} 为空")
    value = _quantity(text)
    if value is None:
        raise snapshot.unusable(
            f"{where}的 {column} 不是 0 到 {MAX_QUANTITY} 之间的整数：{text[:40]!r}"
        )
    if value < 0:
        raise snapshot.unusable(f"{where}的 {column} 为负数：{text[:40]!r}")
    return value


def snapshot_time(
    upd_times: Optional[Iterable[str]], day: datetime.date
) -> Optional[pendulum.DateTime]:
    """The latest of ``upd_times`` on ``day`` in market time; ``None`` (use the file time) if
    there is none or one is unusable (``upd_times`` ``None``: no ``updTime`` column)."""
    if upd_times is not None:
        times = [parse_upd_time(text, day) for text in set(upd_times)]
        known = [t for t in times if t is not None]
        if times and len(known) == len(times):
            return max(known)
    return None


# --- cash ----------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Cash:
    """The cash part of a balance, exact."""

    total_value: Decimal
    available_cash: Decimal
    locked_cash: Decimal


def parse_cash(
    snapshot: SnapshotFile, account_no: str, day: datetime.date, hint: str
) -> tuple[Cash, Optional[pendulum.DateTime]]:
    """(our account's cash, its ``updTime`` or ``None``: use the file time) from our
    account's total line.

    Available cash is ``enabledBalance``; locked cash is ``currentBalance - enabledBalance``
    (in ``Decimal``, never below 0).
    """
    columns = snapshot.index(ASSET_REQUIRED)
    table = snapshot.table
    i_acct, i_exchange = columns["acct"], columns["exchange"]
    accounts = table.column(i_acct)
    exchanges = table.column(i_exchange)
    totals = [
        k
        for k, (acct, exchange) in enumerate(zip(accounts, exchanges))
        if acct.strip() == account_no and not exchange.strip()
    ]
    if not totals:
        seen = "、".join(sorted({a.strip() for a in accounts if a.strip()})) or "无"
        raise snapshot.unusable(
            f"中没有资金账号 {account_no} 的汇总行（文件中的账号：{seen}）。{hint}"
        )
    rows = table.rows()
    distinct = {tuple(rows[k]) for k in totals}
    if len(distinct) > 1:
        lines = "、".join(str(table.line_number(k)) for k in totals)
        raise snapshot.unusable(
            f"中资金账号 {account_no} 有 {len(distinct)} 行不同的汇总行（第 {lines} 行），无法确定哪一行是对的"
        )
    fields = rows[totals[0]]
    where = f"第 {table.line_number(totals[0])} 行（资金账号 {account_no} 的汇总行）"
    values = {}
    for name in ("totalAsset", "currentBalance", "enabledBalance"):
        values[name] = _check_number(snapshot, fields[columns[name]], name, where)
    cash = Cash(
        total_value=values["totalAsset"],
        available_cash=values["enabledBalance"],
        locked_cash=max(values["currentBalance"] - values["enabledBalance"], ZERO),
    )
    i_upd = columns.get("updTime")
    return cash, snapshot_time(None if i_upd is None else [fields[i_upd]], day)


# --- positions -----------------------------------------------------------------------------


def parse_positions(
    snapshot: SnapshotFile, account_no: str, day: datetime.date, warn: Callable[[str], None]
) -> tuple[tuple[PositionReport, ...], Optional[pendulum.DateTime]]:
    """(our account's positions, the latest ``updTime`` of our rows or ``None``: use the file
    time) from our account's rows.

    ``warn(message)`` is called for a file that needed a rule with a warning (duplicates,
    other markets); the caller logs it once per file version.
    """
    columns = snapshot.index(POSITION_REQUIRED)
    table = snapshot.table
    accounts = table.column(columns["acct"])
    i_upd = columns.get("updTime")
    if accounts.count(account_no) == len(accounts):
        ours: Optional[list[int]] = None  # every row
        fast = _positions_fast(columns, table.column)
    else:  # other fund accounts logged in to the same OneQuant, or spaces around the number
        ours = [k for k, acct in enumerate(accounts) if acct.strip() == account_no]
        rows = table.rows()
        fast = _positions_fast(columns, lambda index: [rows[k][index] for k in ours or ()])
    if fast is not None:
        positions = fast
    else:
        positions = _positions_careful(
            snapshot, columns, range(len(table)) if ours is None else ours, warn
        )
    if i_upd is None:
        upd_times = None
    else:
        column = table.column(i_upd)
        upd_times = column if ours is None else [column[k] for k in ours]
    return tuple(positions), snapshot_time(upd_times, day)


_POSITIONS = TrustedBuilder(
    PositionReport,
    ("code", "total_amount", "closeable_amount", "avg_cost", "last_price", "position_value"),
)


def _positions_fast(
    columns: dict[str, int], column: Callable[[int], list[str]]
) -> Optional[list[PositionReport]]:
    """Column-wise parse of a clean snapshot (plain non-negative numbers, known symbols, no
    duplicates, no empty positions); ``None`` sends anything unusual to the careful path."""
    i_value = columns.get("mktValue")
    symbols = column(columns["symbol"])
    if not symbols:
        return []
    try:
        totals = list(map(int, column(columns["currentQty"])))
        closeables = list(map(int, column(columns["enabledQty"])))
        costs = list(map(Decimal, column(columns["costPrice"])))
        lasts = list(map(Decimal, column(columns["lastPrice"])))
        values = list(map(Decimal, column(i_value))) if i_value is not None else None
    except (ValueError, InvalidOperation):
        return None
    codes = symbols_to_codes(symbols)
    if (
        None in codes
        or len(set(codes)) != len(codes)
        or min(totals) <= 0
        or max(totals) > MAX_QUANTITY
        or min(closeables) < 0
        or not plain_decimals(costs)
        or not plain_decimals(lasts)
        or (values is not None and not plain_decimals(values))
    ):
        return None
    if values is None:
        values = list(map(mul, lasts, totals))
    closeables = list(map(min, closeables, totals))
    return _POSITIONS.many((codes, totals, closeables, costs, lasts, values), len(codes))


def _positions_careful(
    snapshot: SnapshotFile,
    columns: dict[str, int],
    ours: Iterable[int],
    warn: Callable[[str], None],
) -> list[PositionReport]:
    table = snapshot.table
    rows = table.rows()
    i_symbol, i_total, i_closeable = columns["symbol"], columns["currentQty"], columns["enabledQty"]
    i_cost, i_last, i_value = columns["costPrice"], columns["lastPrice"], columns.get("mktValue")
    merged: dict[str, PositionReport] = {}
    seen_lines: set[tuple[str, ...]] = set()
    summed: list[str] = []
    skipped: list[str] = []
    for k in ours:
        fields = rows[k]
        symbol = fields[i_symbol].strip()
        where = f"第 {table.line_number(k)} 行（{symbol or '证券代码为空'}）"
        total = _check_quantity(snapshot, fields[i_total], "currentQty", where)
        if total == 0:
            continue  # no position
        if not symbol:
            raise snapshot.unusable(f"{where}的 symbol 为空")
        code = symbol_to_code(symbol)
        if code is None:
            digits, _, market = symbol.partition(".")
            if market.upper() in OTHER_MARKETS and digits.isdigit():
                skipped.append(symbol)
                continue
            raise snapshot.unusable(
                f"{where}的 symbol 无法识别：{symbol[:40]!r}（应为 600000.SH 或 000001.SZ 这样的代码）"
            )
        closeable = _check_quantity(snapshot, fields[i_closeable], "enabledQty", where)
        cost = _check_number(snapshot, fields[i_cost], "costPrice", where)
        last = _check_number(snapshot, fields[i_last], "lastPrice", where)
        value_text = fields[i_value] if i_value is not None else ""
        value = (
            _check_number(snapshot, value_text, "mktValue", where)
            if value_text.strip()
            else total * last
        )
        line = tuple(fields)
        if line in seen_lines:
            continue  # the same line twice: counted once
        seen_lines.add(line)
        known = merged.get(code)
        if known is None:
            merged[code] = PositionReport(
                code=code,
                total_amount=total,
                closeable_amount=min(closeable, total),
                avg_cost=cost,
                last_price=last,
                position_value=value,
            )
            continue
        summed.append(symbol)
        amount = known.total_amount + total
        merged[code] = PositionReport(
            code=code,
            total_amount=amount,
            closeable_amount=known.closeable_amount + min(closeable, total),
            avg_cost=(known.avg_cost * known.total_amount + cost * total) / amount,
            last_price=last,
            position_value=(known.position_value or ZERO) + value,
        )
    if summed:
        names = "、".join(sorted(set(summed))[:10])
        warn(
            f"{snapshot.path.name} 中同一证券有多行不同的持仓（{names}），已按数量相加、成本按数量加权"
        )
    if skipped:
        names = "、".join(sorted(set(skipped))[:10])
        warn(f"{snapshot.path.name} 中有 jqtrade 不交易的市场的持仓（{names}），已忽略")
    return list(merged.values())
