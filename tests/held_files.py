"""Emulating on Linux a file that another program holds open on Windows.

On Windows ``os.replace`` onto (or an ``open`` of) a file an antivirus, indexer or backup tool
holds fails with ``PermissionError`` (WinError 5 or 32). :class:`HeldReplace` makes
``os.replace`` fail that way a given number of times; :class:`FakeTime` is the clock and sleep
handed to :class:`jqtrade.fileio.Patience`, so that waiting out the hold takes no real time.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Optional

import pytest

from jqtrade import fileio


class FakeTime:
    """A monotonic clock that only ``sleep`` moves."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds

    @property
    def waited(self) -> float:
        return sum(self.sleeps)


class HeldReplace:
    """``os.replace`` that fails as a held target does on Windows, ``times`` times (or always),
    only for targets whose name passes ``match``."""

    def __init__(
        self, times: Optional[int], match: Callable[[Path], bool] = lambda p: True
    ) -> None:
        self.left = times
        self.match = match
        self.refused: list[Path] = []
        self._real = os.replace

    def __call__(self, source: Any, target: Any, *args: Any, **kwargs: Any) -> None:
        if self.match(Path(target)) and (self.left is None or self.left > 0):
            if self.left is not None:
                self.left -= 1
            self.refused.append(Path(target))
            error = PermissionError(13, "另一个程序正在使用此文件，进程无法访问。", str(target))
            error.winerror = 32  # type: ignore[attr-defined]  # as Windows raises it
            raise error
        self._real(source, target, *args, **kwargs)


def hold_replace(
    monkeypatch: pytest.MonkeyPatch,
    times: Optional[int],
    match: Callable[[Path], bool] = lambda p: True,
) -> tuple[HeldReplace, FakeTime]:
    """Make ``os.replace`` refuse ``times`` times and give every retry in jqtrade fake time."""
    held, fake = HeldReplace(times, match), FakeTime()
    monkeypatch.setattr(os, "replace", held)
    monkeypatch.setattr(
        fileio, "DEFAULT_PATIENCE", fileio.Patience(sleep=fake.sleep, clock=fake.clock)
    )
    return held, fake
