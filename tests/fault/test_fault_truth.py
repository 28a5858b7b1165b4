"""The truthful-state faults of ``truth_faults`` at CI sizes (the bench runs them bigger)."""

from __future__ import annotations

import pytest
import truth_faults
from truth_faults import (
    run_disk_full,
    run_rewrites,
    run_runaway,
    run_shared_folder,
    run_torn_snapshots,
)

from jqtrade.options import RISK_DEFAULTS


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_torn_snapshots_are_never_fresh_and_order_target_never_overshoots(seed):
    result = run_torn_snapshots(seed, tear_rate=0.5)
    assert result.torn_reads > 0  # the fault did happen
    assert result.reported_fresh_while_torn == 0
    assert result.overshoot <= 0
    assert result.final_held == result.final_target


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_a_full_disk_loses_and_duplicates_no_order(seed):
    result = run_disk_full(seed)
    assert result.write_failures > 0 and result.journal_failures > 0
    assert (result.lost, result.sent_twice, result.unsettled, result.mismatched) == (0, 0, 0, 0)


def test_tasks_with_their_own_runtime_folders_never_share_an_id():
    sent, twice = run_shared_folder(tasks=3, orders=40)
    assert sent == 120 and twice == 0


def test_every_rewrite_of_a_result_file_is_noticed():
    assert run_rewrites(50, seed=3) == (50, 0)


def test_a_runaway_strategy_is_stopped_by_the_default_risk_limits():
    limit = min(
        RISK_DEFAULTS["risk_max_orders_per_second"], RISK_DEFAULTS["risk_max_active_orders"]
    )
    attempts, reached, refused = run_runaway(5000)
    assert attempts == 5000
    assert 0 < reached <= limit
    assert (
        reached == truth_faults.last_runaway_placed[0]
    )  # every accepted order is one algoOrder line
    assert reached + refused == attempts  # every other attempt was refused ...
    assert truth_faults.last_runaway_refusals and all(
        r.startswith("risk_") for r in truth_faults.last_runaway_refusals
    )
