"""The command line's console streams: Chinese text readable, and nothing that can crash a print.

Where jqtrade's output goes on Chinese Windows, and what encoding it must have there:

* **A console window** (cmd, PowerShell 5.1, Windows Terminal): Python writes through the
  console's Unicode API whatever the code page (cp936), so every character arrives; one the
  console font lacks shows as a box.
* **A pipe or a file** (``jqtrade get_tasks | findstr 运行``, ``> out.txt``, PowerShell's
  ``| Out-File`` or ``| Select-String``): Python encodes with the ANSI code page, cp936 (GBK) on
  Chinese Windows, which is also what cmd and PowerShell 5.1 (``[Console]::OutputEncoding``)
  decode a program's output with. So the output keeps that encoding: forcing UTF-8 would turn
  every Chinese character into mojibake in PowerShell 5.1. ``PYTHONIOENCODING`` or
  ``PYTHONUTF8=1`` still choose another encoding for those who want one.

GBK cannot encode every character (emoji, some names and symbols), and Python's default for
these streams is to raise ``UnicodeEncodeError``, which would kill a ``print`` in a strategy or
a ``get_tasks`` table. :func:`install` makes ``sys.stdout`` and ``sys.stderr`` write such a
character as a ``\\U0001f680``-style escape instead (``backslashreplace``: nothing is lost,
and the rest of the line stays readable); every print of the command line, of rich, of
logging and of a strategy goes through these two streams. rich draws its tables with ASCII
lines (``+--+``) on a stream whose encoding is not UTF-8, so tables degrade the same way.

Log files written with ``-o`` are UTF-8 with a byte-order mark (see :mod:`jqtrade.logs`).
"""

from __future__ import annotations

import io
import sys
from typing import Optional, TypeVar

__all__ = ["ERRORS", "LOG_FILE_ENCODING", "encoding_of", "install", "tolerant"]

#: How a character the stream's encoding lacks is written.
ERRORS = "backslashreplace"
#: The encoding of log files: UTF-8, with a BOM at the start of a new file, so that Windows
#: viewers (Notepad, PowerShell 5.1's ``Get-Content``, Excel) do not take it for GBK.
LOG_FILE_ENCODING = "utf-8-sig"

#: Error handlers that raise on a character the encoding lacks.
_RAISING = frozenset({"strict", "surrogateescape"})

S = TypeVar("S")


def tolerant(stream: S) -> S:
    """Make a text stream write what its encoding lacks as escapes (in place); return it.

    Streams that are not ``io.TextIOWrapper`` (``None`` under ``pythonw``, a test's
    ``StringIO``, a wrapper a user installed) are returned unchanged.
    """
    if isinstance(stream, io.TextIOWrapper) and stream.errors in _RAISING:
        try:
            stream.reconfigure(errors=ERRORS)
        except (ValueError, OSError):  # closed, or a stream that refuses
            pass
    return stream


def install() -> None:
    """Make the process's stdout and stderr tolerant; the command line calls this first."""
    for stream in {
        id(s): s for s in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__)
    }.values():
        tolerant(stream)


def encoding_of(stream: Optional[object]) -> str:
    """The encoding a text stream writes (``utf-8`` when it does not say)."""
    return getattr(stream, "encoding", None) or "utf-8"
