"""Logging setup for a task: user logs, jqtrade's own (quiet unless --debug), console or file.

Every line carries the market time from the task's clock, so a ``--simulate`` run logs the
simulated time, and a machine in another zone still logs Beijing time.

Levels, as in jqtrade 1.0: the strategy's ``log`` shows INFO and above, DEBUG only with
``--debug``. jqtrade's own loggers show warnings and errors (task events at INFO), everything
with ``--debug``.

Where: with ``-o`` logs and ``print`` go to that file (as in 1.0). On the console, logs go to
stderr and ``print`` to stdout; 1.0 wrote both to stdout. Both streams show in the same console
window; keeping them apart means ``start_task ... > out.txt`` captures exactly what the
strategy printed, and errors stay visible when stdout is redirected. 1.0 users who redirected
stdout to collect the log use ``-o 文件`` (or ``> 文件 2>&1``).

Encodings (see :mod:`jqtrade.streams`): the console streams keep the encoding Python gives
them (on Chinese Windows the console's Unicode API, or GBK in a pipe or a file, which is what
cmd and PowerShell 5.1 read) and write a character that encoding lacks as an escape instead of
raising. A log file (``-o``) is UTF-8 with a byte-order mark at the start of a new file, so
Notepad, PowerShell 5.1's ``Get-Content`` and Excel read it as UTF-8 rather than GBK; a file
that already has content is appended to without a second mark.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import IO, Optional

from jqtrade.clock import Clock
from jqtrade.strategy import USER_LOGGER_NAME
from jqtrade.streams import ERRORS, LOG_FILE_ENCODING, tolerant

FORMAT = "%(market_time)s %(levelname)-7s %(name)s: %(message)s"


class MarketTimeFilter(logging.Filter):
    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.clock = clock

    def filter(self, record: logging.LogRecord) -> bool:
        record.market_time = self.clock.now().format("YYYY-MM-DD HH:mm:ss.SSS")
        return True


def configure_logging(
    clock: Clock, *, out: Optional[Path] = None, debug: bool = False
) -> Optional[IO[str]]:
    """Install handlers on the root logger; with ``out``, also send ``print`` to that file.

    Returns the opened log stream (``None`` for the console) so the caller can close it.
    """
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    stream: Optional[IO[str]] = None
    handler: logging.Handler
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        stream = open_log_file(out)
        handler = logging.StreamHandler(stream)
        handler.setFormatter(logging.Formatter(FORMAT))
        sys.stdout = stream
        sys.stderr = stream
    elif _is_terminal(sys.stderr):
        from rich.console import Console
        from rich.logging import RichHandler

        # rich's default console writes to stdout: logs belong on stderr (see the module doc).
        console = Console(file=tolerant(sys.stderr))
        handler = RichHandler(
            console=console, show_time=False, show_path=debug, rich_tracebacks=False, markup=False
        )
        handler.setFormatter(logging.Formatter("%(market_time)s %(name)s: %(message)s"))
    else:
        handler = logging.StreamHandler(tolerant(sys.stderr))
        handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(MarketTimeFilter(clock))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    logging.getLogger(USER_LOGGER_NAME).setLevel(logging.DEBUG if debug else logging.INFO)
    logging.getLogger("jqtrade").setLevel(logging.DEBUG if debug else logging.WARNING)
    logging.getLogger("jqtrade.task").setLevel(logging.DEBUG if debug else logging.INFO)
    return stream


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def open_log_file(path: Path) -> IO[str]:
    """Open a log file for appending: UTF-8, a BOM only at the start of a new or empty file,
    ``\\n`` line ends, escapes for what UTF-8 cannot hold (undecodable file-name bytes)."""
    # utf-8-sig writes its BOM only when the file position is 0: appending to a file that
    # already has content adds none.
    return open(path, "a", encoding=LOG_FILE_ENCODING, errors=ERRORS, buffering=1, newline="")  # noqa: SIM115 - lives as long as the task
