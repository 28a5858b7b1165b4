"""One way to build a real :class:`Account` over a gate for a test, and close it afterwards.

Importable from every test folder as ``account_support`` (``tests/`` is on ``sys.path``, see
``support``). A test module that builds accounts imports the autouse fixture too::

    from account_support import T0, close_accounts, make_account  # noqa: F401 - close_accounts: autouse fixture
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional

import pendulum
import pytest

from jqtrade.account.account import Account
from jqtrade.clock import MARKET_TZ, SimClock
from jqtrade.gates import configure_gate
from jqtrade.gates.base import AbsTradeGate, GateEnv
from jqtrade.options import Options

#: A Monday in the morning session: the default time of a test account.
T0 = pendulum.datetime(2024, 6, 3, 9, 35, tz=MARKET_TZ)

_OPEN: list[Account] = []


@pytest.fixture(autouse=True)
def close_accounts() -> Iterator[None]:
    """Close every account :func:`make_account` opened in the test (journal, risk store, gate)."""
    yield
    while _OPEN:
        _OPEN.pop().close()


def close_account(account: Account) -> None:
    """Close ``account`` now, in the middle of a test (a restart), rather than at its end."""
    _OPEN.remove(account)
    account.close()


def make_account(
    tmp_path: Path,
    gate: AbsTradeGate[Any],
    *,
    clock: Optional[SimClock] = None,
    task: str = "t",
    notify: Any = None,
    notifier: Any = None,
    runtime_dir: Optional[Path] = None,
    **options: Any,
) -> Account:
    """Configure ``gate`` with ``clock`` (default: a simulated clock at :data:`T0`), build
    the account in ``runtime_dir`` (default ``tmp_path``) with ``options`` over the test
    defaults (account on, no order sync at start) and start it."""
    clock = clock or SimClock(T0)
    runtime_dir = runtime_dir or tmp_path
    configure_gate(gate, {}, GateEnv(clock=clock, runtime_dir=runtime_dir, task_name=task))
    opts = Options().evolve(
        {"runtime_dir": str(runtime_dir), "use_account": True, "sync_order": False, **options}
    )
    account = Account(
        gate=gate,
        clock=clock,
        options=opts,
        runtime_dir=runtime_dir,
        task_name=task,
        notify=notify,
        notifier=notifier,
    )
    _OPEN.append(account)
    account.start()
    return account
