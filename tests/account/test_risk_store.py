"""The shared risk store: atomic across processes, leases that never overshoot a limit, restarts."""

from __future__ import annotations

import multiprocessing
from decimal import Decimal
from pathlib import Path

from jqtrade.account.risk_store import RiskStore, SharedQuota, StoreUnavailable, lease_size

DAY = "2024-06-03"


def _spend(
    path: str, counter: str, limit: int, attempts: int, queue: multiprocessing.Queue[int]
) -> None:
    quota = SharedQuota(RiskStore(Path(path), "fake:-"), {counter: limit})
    granted = 0
    for i in range(attempts):
        if quota.take(DAY, {counter: 1}) is None:
            granted += 1
        if i % 7 == 0:
            quota.maintain(DAY)
    quota.release()
    quota.store.close()
    queue.put(granted)


def _run_two(path: Path, counter: str, limit: int, attempts: int) -> list[int]:
    context = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue[int] = context.Queue()
    workers = [
        context.Process(target=_spend, args=(str(path), counter, limit, attempts, queue))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    results = [queue.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    return results


def test_two_processes_counting_without_a_limit_lose_no_update(tmp_path):
    path = tmp_path / "risk.sqlite3"
    results = _run_two(path, "orders", 0, 400)
    assert results == [400, 400]
    assert RiskStore(path, "fake:-").totals(DAY) == {"orders": 800}


def test_two_processes_under_one_limit_never_exceed_it_together(tmp_path):
    path = tmp_path / "risk.sqlite3"
    results = _run_two(path, "orders", 500, 400)
    # At most the limit; a little less when one process ends holding a lease the other, done
    # by then, could have used (the headroom lease_size trades for fewer file round trips).
    assert 500 - 2 * lease_size("orders", 500) <= sum(results) <= 500
    assert RiskStore(path, "fake:-").totals(DAY) == {"orders": sum(results)}  # leases given back


def test_a_killed_task_leaves_at_most_one_lease_counted(tmp_path):
    store = RiskStore(tmp_path / "risk.sqlite3", "onequant:1")
    quota = SharedQuota(store, {"orders": 2000})
    assert quota.take(DAY, {"orders": 1}) is None
    # No release(): the process died. A restarted task sees the spent order and the dead lease.
    again = SharedQuota(RiskStore(tmp_path / "risk.sqlite3", "onequant:1"), {"orders": 2000})
    total = again.store.totals(DAY)["orders"]
    assert 1 <= total <= 1 + lease_size("orders", 2000)


def test_take_is_all_or_nothing_and_names_the_full_counter(tmp_path):
    quota = SharedQuota(RiskStore(tmp_path / "risk.sqlite3", "a"), {"orders": 10, "turnover": 1000})
    assert quota.take(DAY, {"orders": 1, "turnover": 900}) is None
    full = quota.take(DAY, {"orders": 1, "turnover": 200})
    assert full == ("turnover", 1000)
    quota.release()
    assert quota.store.totals(DAY) == {"orders": 1, "turnover": 900}


def test_accounts_and_days_are_counted_apart(tmp_path):
    path = tmp_path / "risk.sqlite3"
    a, b = RiskStore(path, "onequant:1"), RiskStore(path, "onequant:2")
    a.reserve(DAY, {"orders": (3, 0)})
    a.reserve("2024-06-04", {"orders": (1, 0)})
    b.reserve(DAY, {"orders": (2, 0)})
    assert (
        a.totals(DAY) == {"orders": 3}
        and b.totals(DAY) == {"orders": 2}
        and a.totals("2024-06-04") == {"orders": 1}
    )


def test_the_first_value_of_the_day_is_kept(tmp_path):
    path = tmp_path / "risk.sqlite3"
    assert RiskStore(path, "a").first_value(DAY, Decimal("200000"), "t0", "x") == Decimal("200000")
    assert RiskStore(path, "a").first_value(DAY, Decimal("150000"), "t1", "y") == Decimal("200000")
    assert RiskStore(path, "a").first_value("2024-06-04", Decimal("150000"), "t1", "y") == Decimal(
        "150000"
    )


def test_the_file_is_in_wal_mode(tmp_path):
    store = RiskStore(tmp_path / "risk.sqlite3", "a")
    store.totals(DAY)
    assert store._connect().execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_an_unusable_file_is_reported_not_crashed(tmp_path):
    (tmp_path / "risk.sqlite3").write_bytes(b"this is not a database" * 100)
    store = RiskStore(tmp_path / "risk.sqlite3", "a")
    try:
        store.totals(DAY)
    except StoreUnavailable as exc:
        assert "risk.sqlite3" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("a corrupt file must raise StoreUnavailable")
