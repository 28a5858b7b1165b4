"""The whole-run figures of the summary: the largest drawdown of the end-of-day values."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jqtrade.tasks.summary import Drawdown, drawdown_text, max_drawdown

D = datetime.date


def _days(n: int) -> list[datetime.date]:
    return [D(2024, 1, 2) + datetime.timedelta(days=i) for i in range(n)]


def test_the_largest_fall_from_a_running_peak_with_its_days():
    days = _days(6)
    values = list(zip(days, [100.0, 120.0, 90.0, 130.0, 110.0, 125.0]))
    drawdown = max_drawdown(values, start_value=100.0)
    assert drawdown == Drawdown(0.25, 30.0, days[1], days[2])


def test_the_start_value_is_the_first_peak():
    days = _days(2)
    drawdown = max_drawdown(list(zip(days, [80.0, 90.0])), start_value=100.0)
    assert drawdown is not None and drawdown.fraction == pytest.approx(0.2)
    assert (drawdown.peak_day, drawdown.trough_day) == (None, days[0])
    assert "从 期初 的高点到 2024-01-02" in drawdown_text(drawdown, 2)


def test_a_value_that_never_falls_has_no_drawdown():
    drawdown = max_drawdown(list(zip(_days(3), [1.0, 2.0, 3.0])))
    assert drawdown is not None and drawdown.fraction == 0 and drawdown.amount == 0
    assert "最大回撤 0.00%" in drawdown_text(drawdown, 3)
    assert max_drawdown([]) is None
    assert "无法计算" in drawdown_text(None, 0)


def _brute_force(points: list[float]) -> float:
    best = 0.0
    for i, peak in enumerate(points):
        for later in points[i + 1 :]:
            if peak > 0:
                best = max(best, (peak - later) / peak)
    return best


@given(
    st.lists(st.floats(min_value=0, max_value=1e9, allow_nan=False), max_size=40),
    st.one_of(st.none(), st.floats(min_value=1, max_value=1e9)),
)
def test_the_drawdown_matches_a_brute_force_over_every_pair(values, start):
    days = _days(len(values))
    drawdown = max_drawdown(list(zip(days, values)), start_value=start)
    points = ([start] if start is not None else []) + values
    if not points:
        assert drawdown is None
        return
    assert drawdown is not None
    assert drawdown.fraction == pytest.approx(_brute_force(points), abs=1e-12)
    if drawdown.fraction:
        # the named days are a peak and a later trough that give exactly that fall
        dated = dict(zip([None, *days] if start is not None else days, points))
        peak, trough = dated[drawdown.peak_day], dated[drawdown.trough_day]
        assert drawdown.amount == pytest.approx(peak - trough)
        assert (peak - trough) / peak == pytest.approx(drawdown.fraction)
        assert drawdown.peak_day is None or drawdown.peak_day < drawdown.trough_day
