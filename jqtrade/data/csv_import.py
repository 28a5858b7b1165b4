"""Reading bar files users already have (CSV exports of other tools) into :class:`Bar` values.

Accepted layouts (the header decides; column order is free, other columns are ignored):

1. **jqtrade's own**: ``code,datetime,open,high,low,close,volume[,amount]``; ``datetime`` is
   ``YYYY-MM-DD`` (daily) or ``YYYY-MM-DD HH:MM[:SS]`` (the bar's end, Beijing time);
   ``code`` is ``600000.XSHG`` or ``600000.SH``. English synonyms are accepted too:
   ``date``/``time`` for ``datetime``, ``symbol``/``ts_code`` for ``code``, ``vol`` for
   ``volume``, ``money`` for ``amount``.
2. **Chinese headers** (akshare ``stock_zh_a_hist`` / Eastmoney exports): ``日期`` or ``时间``,
   ``开盘``, ``最高``, ``最低``, ``收盘``, ``成交量``, optional ``成交额`` and ``股票代码``/``代码``.
   ``开盘价``/``最高价``/``最低价``/``收盘价`` work as well.
3. **TDX (通达信) exports** ("导出数据"): a title line such as ``600000 浦发银行 日线 不复权``
   before a Chinese header, dates like ``2024/01/02``, minute files with separate ``日期`` and
   ``时间`` (``0931`` or ``09:31``) columns, and the closing ``数据来源:通达信`` line.

Columns may be separated by commas, tabs or semicolons. The encoding is UTF-8 (with or without
a byte-order mark) or GBK, detected from the bytes. A code of six digits alone gets its
exchange from the digits (6/5/9: SSE, others SZSE; pass ``code`` for indices). When the file
has no code column, ``code`` must be given. Volumes are shares; pass ``volume_multiplier=100``
for files that count lots (手), as akshare's and Eastmoney's do.

A bad line (a missing value, a price that is not a number, high below low, a time outside the
sessions) is skipped and counted; :class:`ImportResult` reports how many and the first line
numbers, and the import goes on.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Optional, Union

import attrs
import pendulum

from jqtrade.clock import MARKET_TZ
from jqtrade.data.errors import CsvImportError, DataCodeError
from jqtrade.data.models import Bar, BarUnit, to_code
from jqtrade.data.sessions import close_time, session_minute

__all__ = ["BadLine", "ImportResult", "decode", "parse_csv", "read_csv"]

#: How many bad lines an :class:`ImportResult` lists (all are counted).
SHOWN_BAD_LINES = 5

_ALIASES = {
    "code": ("code", "symbol", "ts_code", "security", "股票代码", "代码", "证券代码"),
    "datetime": ("datetime", "date", "trade_date", "日期", "交易日期"),
    "time": ("time", "trade_time", "时间"),
    "open": ("open", "开盘", "开盘价"),
    "high": ("high", "最高", "最高价"),
    "low": ("low", "最低", "最低价"),
    "close": ("close", "收盘", "收盘价"),
    "volume": ("volume", "vol", "成交量"),
    "amount": ("amount", "money", "成交额", "成交金额"),
}
_REQUIRED = ("open", "high", "low", "close", "volume")
_DATE_RE = re.compile(r"^(\d{4})[-/]?(\d{1,2})[-/]?(\d{1,2})$")
_TIME_RE = re.compile(r"^(\d{1,2}):?(\d{2})(?::?(\d{2}))?$")


@attrs.frozen
class BadLine:
    line: int
    reason: str


@attrs.frozen(kw_only=True)
class ImportResult:
    """What a CSV file gave: the bars, and the lines skipped."""

    bars: tuple[Bar, ...]
    encoding: str
    layout: str
    skipped: int
    bad_lines: tuple[BadLine, ...]

    @property
    def codes(self) -> list[str]:
        return sorted({b.code for b in self.bars})


def decode(data: bytes) -> tuple[str, str]:
    """``(text, encoding)``: UTF-8 with a BOM, UTF-8, or GBK (read as GB18030, its superset)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gbk"
    except UnicodeDecodeError as exc:
        raise ValueError(f"既不是 UTF-8 也不是 GBK 编码（第 {exc.start} 字节无法解码）") from None


def read_csv(
    path: Union[str, Path],
    unit: Union[BarUnit, str],
    *,
    code: Optional[str] = None,
    volume_multiplier: int = 1,
) -> ImportResult:
    """Read the bars of one file; raises :class:`CsvImportError` only if nothing can be read."""
    file = Path(path).expanduser()
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise CsvImportError(str(file), exc.strerror or str(exc)) from exc
    try:
        text, encoding = decode(data)
    except ValueError as exc:
        raise CsvImportError(str(file), str(exc)) from None
    try:
        return parse_csv(
            text, unit, code=code, volume_multiplier=volume_multiplier, encoding=encoding
        )
    except ValueError as exc:
        raise CsvImportError(str(file), str(exc)) from None


def parse_csv(
    text: str,
    unit: Union[BarUnit, str],
    *,
    code: Optional[str] = None,
    volume_multiplier: int = 1,
    encoding: str = "utf-8",
) -> ImportResult:
    """Bars from the text of a CSV file (see the module docstring for the layouts)."""
    bar_unit = BarUnit.parse(unit)
    if bar_unit is BarUnit.m5:
        raise ValueError("只能导入 1m 或 1d K 线（5m 由 1m 合成）")
    fixed_code = to_code(code) if code is not None else None
    lines = text.splitlines()
    header_at, columns, delimiter, layout = _find_header(lines)
    if "code" not in columns and fixed_code is None:
        raise ValueError("文件中没有代码列（code、股票代码……），请用 --code 指定证券代码")
    bars: list[Bar] = []
    bad: list[BadLine] = []
    skipped = 0
    reader = csv.reader(io.StringIO("\n".join(lines[header_at + 1 :])), delimiter=delimiter)
    for offset, cells in enumerate(reader, start=header_at + 2):
        if not cells or not "".join(cells).strip():
            continue
        if cells[0].strip().startswith("数据来源"):
            continue
        try:
            bars.append(_bar(cells, columns, bar_unit, fixed_code, volume_multiplier))
        except (ValueError, IndexError, DataCodeError) as exc:
            skipped += 1
            if len(bad) < SHOWN_BAD_LINES:
                bad.append(BadLine(offset, str(exc) or type(exc).__name__))
    return ImportResult(
        bars=tuple(bars), encoding=encoding, layout=layout, skipped=skipped, bad_lines=tuple(bad)
    )


def _find_header(lines: Sequence[str]) -> tuple[int, dict[str, int], str, str]:
    """The header line within the first few lines: (index, column positions, delimiter, layout)."""
    for index, line in enumerate(lines[:5]):
        delimiter = max((",", "\t", ";"), key=line.count)
        cells = [
            c.strip().strip('"').lower() for c in next(csv.reader([line], delimiter=delimiter), [])
        ]
        if len(cells) < 2 and delimiter == ",":
            cells = line.split()
            delimiter = " "
        columns: dict[str, int] = {}
        for name, aliases in _ALIASES.items():
            for position, cell in enumerate(cells):
                if cell in aliases:
                    columns.setdefault(name, position)
        if all(c in columns for c in _REQUIRED) and ("datetime" in columns or "time" in columns):
            if "datetime" not in columns:  # one 时间 column holding date and time
                columns["datetime"] = columns.pop("time")
            layout = "chinese" if any(ord(ch) > 0x2E80 for ch in "".join(cells)) else "standard"
            if index > 0:
                layout = "tdx"
            return index, columns, delimiter, layout
    raise ValueError(
        "找不到表头：第一行（或通达信导出文件的第二行）应包含 日期/datetime、开盘/open、最高/high、"
        "最低/low、收盘/close、成交量/volume 等列"
    )


def _cell(cells: Sequence[str], columns: dict[str, int], name: str) -> str:
    value = cells[columns[name]].strip().strip('"')
    if not value:
        raise ValueError(f"{name} 为空")
    return value


def _code_of(text: str) -> str:
    if text.isdigit() and len(text) == 6:
        exchange = "XSHG" if text.startswith(("5", "6", "9")) else "XSHE"
        return f"{text}.{exchange}"
    return to_code(text)


def _bar(
    cells: Sequence[str],
    columns: dict[str, int],
    unit: BarUnit,
    code: Optional[str],
    multiplier: int,
) -> Bar:
    bar_code = code if code is not None else _code_of(_cell(cells, columns, "code"))
    time = _time(
        _cell(cells, columns, "datetime"),
        _cell(cells, columns, "time") if "time" in columns else None,
        unit,
    )
    volume = float(_cell(cells, columns, "volume")) * multiplier
    amount = (
        _cell(cells, columns, "amount")
        if "amount" in columns and cells[columns["amount"]].strip()
        else "0"
    )
    return Bar.create(
        code=bar_code,
        unit=unit,
        time=time,
        open=_cell(cells, columns, "open"),
        high=_cell(cells, columns, "high"),
        low=_cell(cells, columns, "low"),
        close=_cell(cells, columns, "close"),
        volume=round(volume),
        amount=amount,
    )


def _time(date_text: str, time_text: Optional[str], unit: BarUnit) -> pendulum.DateTime:
    date_part, _, rest = date_text.replace("T", " ").partition(" ")
    match = _DATE_RE.match(date_part)
    if match is None:
        raise ValueError(f"日期 {date_text!r} 无法识别（应为 YYYY-MM-DD）")
    day = datetime.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    clock = time_text if time_text is not None else rest.strip()
    if unit is BarUnit.d1:
        if clock and clock not in ("00:00:00", "00:00", "15:00:00", "15:00"):
            raise ValueError(f"日线的时间 {clock!r} 应为空、00:00:00 或 15:00:00")
        return close_time(day)
    if not clock:
        raise ValueError(f"分钟线缺少时间：{date_text!r}")
    found = _TIME_RE.match(clock)
    if found is None:
        raise ValueError(f"时间 {clock!r} 无法识别（应为 HH:MM 或 HH:MM:SS）")
    t = datetime.time(int(found.group(1)), int(found.group(2)), int(found.group(3) or 0))
    if session_minute(t) is None:
        raise ValueError(f"时间 {clock} 不是交易时段内的分钟线结束时刻（09:31–11:30、13:01–15:00）")
    return pendulum.datetime(day.year, day.month, day.day, t.hour, t.minute, tz=MARKET_TZ)
