"""The terminal progress of a simulated run: shown only on a terminal, after a few seconds."""

from __future__ import annotations

import datetime
import io

import pytest

from jqtrade.tasks.progress import RunProgress, progress_state

DAYS = [datetime.date(2024, 1, d) for d in (2, 3, 4, 5, 8)]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Wall:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_days_done_and_the_eta_follow_the_simulated_date():
    state = progress_state(DAYS, datetime.date(2024, 1, 4), elapsed=10.0)
    assert (state.done, state.total) == (2, 5)
    assert state.eta == pytest.approx(15.0)  # 5 s a day, 3 days left
    assert state.text() == "已完成 2/5 个交易日 · 模拟日期 2024-01-04 · 预计还需 15 秒"
    first = progress_state(DAYS, datetime.date(2024, 1, 2), elapsed=1.0)
    assert first.done == 0 and first.eta is None and "估算中" in first.text()
    weekend = progress_state(DAYS, datetime.date(2024, 1, 6), elapsed=4.0)
    assert weekend.done == 4  # a closed day between two trading days: the ones before are done
    assert progress_state(DAYS, datetime.date(2024, 1, 9), elapsed=1.0).done == 5


def test_the_bar_appears_on_a_terminal_only_after_a_few_seconds():
    stream, wall = Terminal(), Wall()
    progress = RunProgress(DAYS, stream=stream, wall=wall, show_after=2.0)
    assert progress.enabled
    wall.now = 1.0
    progress.update(datetime.date(2024, 1, 3))
    assert stream.getvalue() == "" and progress.last is None
    wall.now = 3.0
    progress.update(datetime.date(2024, 1, 4))
    assert progress.last is not None and progress.last.done == 2
    assert "已完成 2/5 个交易日" in stream.getvalue()
    progress.close()


def test_no_terminal_no_progress():
    stream = io.StringIO()
    wall = Wall()
    progress = RunProgress(DAYS, stream=stream, wall=wall, show_after=0.0)
    assert not progress.enabled
    wall.now = 100.0
    progress.update(datetime.date(2024, 1, 5))
    progress.close()
    assert stream.getvalue() == "" and progress.last is None
