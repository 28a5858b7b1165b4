"""Progress of a simulated run on a terminal: trading days done, the simulated date, the ETA.

Shown only where a person looks: on the process's real stderr when it is a terminal, and only
once the run has taken :data:`SHOW_AFTER` seconds (a short run finishes before it would appear).
Nothing goes to the log or to a pipe. The loop calls :meth:`RunProgress.update` on every
wake-up; it reads the wall clock and returns at once unless :data:`REFRESH` seconds passed.
"""

from __future__ import annotations

import bisect
import datetime
import sys
import time
from collections.abc import Sequence
from typing import Any, Callable, Optional, TextIO

import attrs

#: Wall seconds a run must have taken before its progress appears.
SHOW_AFTER = 2.0
#: Wall seconds between two refreshes of the line.
REFRESH = 0.25


@attrs.frozen
class ProgressState:
    """Where a run is: ``done`` of ``total`` trading days finished, the simulated ``day``, and
    the estimated wall seconds left (``None`` until a day is done)."""

    done: int
    total: int
    day: datetime.date
    eta: Optional[float]

    def text(self) -> str:
        eta = "估算中" if self.eta is None else _duration(self.eta)
        return f"已完成 {self.done}/{self.total} 个交易日 · 模拟日期 {self.day} · 预计还需 {eta}"


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} 秒"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} 分 {seconds} 秒"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} 小时 {minutes} 分"


def progress_state(
    trading_days: Sequence[datetime.date], day: datetime.date, elapsed: float
) -> ProgressState:
    """The state at simulated ``day`` after ``elapsed`` wall seconds; ``trading_days`` sorted.

    A day counts as done once the simulated date is past it; the ETA assumes the days left take
    as long as the days done did."""
    done = bisect.bisect_left(trading_days, day)
    total = len(trading_days)
    eta = elapsed / done * (total - done) if done else None
    return ProgressState(done=done, total=total, day=day, eta=eta)


class RunProgress:
    """A progress bar over ``trading_days`` on ``stream`` (default: the real stderr).

    ``wall`` is the wall clock in seconds (monotonic); both are injectable for tests. Without a
    terminal it does nothing at all."""

    def __init__(
        self,
        trading_days: Sequence[datetime.date],
        *,
        stream: Optional[TextIO] = None,
        wall: Callable[[], float] = time.monotonic,
        show_after: float = SHOW_AFTER,
    ) -> None:
        self.days = sorted(trading_days)
        self.stream = stream if stream is not None else sys.__stderr__
        self.enabled = bool(self.days) and _is_terminal(self.stream)
        self._wall = wall
        self._started = wall()
        self._show_after = show_after
        self._next = self._started + show_after
        self._bar: Any = None
        self._task: Any = None
        self.last: Optional[ProgressState] = None

    def update(self, day: datetime.date) -> None:
        """The simulated date is ``day``: refresh the bar if it is time to."""
        if not self.enabled:
            return
        now = self._wall()
        if now < self._next:
            return
        self._next = now + REFRESH
        self.last = state = progress_state(self.days, day, now - self._started)
        if self._bar is None:
            self._open()
        self._bar.update(self._task, completed=state.done, description=state.text())
        self._bar.refresh()

    def _open(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn

        console = Console(file=self.stream, force_terminal=True)
        self._bar = Progress(
            TextColumn("[bold]模拟运行[/bold]"),
            BarColumn(),
            TextColumn("{task.description}"),
            console=console,
            transient=True,
            auto_refresh=False,  # no thread: refreshed by update, from the loop
            redirect_stdout=False,  # the task's streams belong to its logging
            redirect_stderr=False,
        )
        self._task = self._bar.add_task("", total=len(self.days))
        self._bar.start()

    def close(self) -> None:
        """Remove the bar (it is transient: the summary follows on stdout)."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def _is_terminal(stream: Optional[TextIO]) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError, OSError):  # closed or not a real stream
        return False
