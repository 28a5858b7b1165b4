"""kill -9 of an order flow at random points, then a restart the same day: nothing lost, nothing twice.

Each point runs ``scripts/order_flow.py`` (an ``Account`` with the OneQuant gate) against a
simulated OneQuant that lives in this process and keeps answering while the flow is dead. The
flow dies either right after a chosen hook point (the k-th pass, k random) or after a random
delay; the restart places the plan items it has no order for, lets every order end, and the
comparison with the broker counts orders lost, sent twice, never sent, or imagined. The bench
(``bench/bench_faults.py``) runs 100 points.
"""

from __future__ import annotations

import pytest
from fault_harness import KillPoint, run_kill_point

pytestmark = pytest.mark.slow

POINTS = [
    ("hook", "intent", 1),
    ("hook", "order_line", 2),
    ("hook", "sent", 3),
    ("hook", "state", 4),
    ("hook", "cancel_line", 5),
    ("delay", "", 6),
    ("delay", "", 7),
]


def assert_clean(point: KillPoint) -> None:
    assert point.lost == [], point
    assert point.sent_twice == 0, point
    assert point.never_sent == [], point
    assert point.phantom == [], point
    assert point.all_final, point
    assert point.at_broker >= 40, point  # the whole plan reached the broker once


@pytest.mark.parametrize(
    ("mode", "site", "seed"), POINTS, ids=[f"{m}-{s or 'random'}-{n}" for m, s, n in POINTS]
)
def test_kill_and_restart_loses_nothing_and_sends_nothing_twice(tmp_path, mode, site, seed):
    point = run_kill_point(tmp_path, seed=seed, mode=mode, site=site)
    if mode == "hook":
        assert point.killed_in_flow, "the hook site was never reached"
    if site in ("intent", "order_line"):
        assert (
            point.interrupted == 1
        )  # died inside order(): the journal has an intent without outcome
    assert_clean(point)


def test_kill_between_the_cancel_record_and_the_cancel_line(tmp_path):
    assert_clean(run_kill_point(tmp_path, seed=8, mode="hook", site="cancel_intent"))
