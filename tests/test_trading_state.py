"""Trading states in the strategy API and in the task plumbing: the hook, ``context.trading_state``,
a state restored at start, the legacy hook, the saved-state file and the restart backoff.

Runtime + SimClock + the fake broker (with a position, so that ``reducing`` can be seen to let
a sell through); the CLI side is tested end to end in ``tests/tasks/test_trading_state_cli.py``.
"""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any

import pendulum
import pytest

from jqtrade import LimitOrderStyle, OrderRejectedError, Strategy
from jqtrade.account.risk import TradingState
from jqtrade.clock import MARKET_TZ, SimClock
from jqtrade.gates.fake import FakeTradeGate
from jqtrade.legacy import LegacyStrategy
from jqtrade.options import Options
from jqtrade.runtime import Runtime
from jqtrade.tasks.control import TradingStateFile
from jqtrade.tasks.registry import TRADING_STATES, TaskRecord
from jqtrade.tasks.supervisor import backoff

START = pendulum.datetime(2024, 6, 3, 10, 0, tz=MARKET_TZ)  # a Monday morning, in the session


class Recorder(Strategy):
    def __init__(self) -> None:
        self.changes: list[tuple[Any, Any, str, Any]] = []

    def process_initialize(self, context: Any) -> None:
        self.set_options(use_account=True)

    def on_trading_state_change(
        self, context: Any, old: TradingState, new: TradingState, reason: str
    ) -> None:
        self.changes.append((old, new, reason, context.trading_state))


def make_runtime(tmp_path: Path, strategy: Strategy, **kwargs: Any) -> Runtime:
    gate = FakeTradeGate(cash=100_000, prices={"600000.XSHG": 8.0}, positions={"600000.XSHG": 1000})
    options = Options().evolve({"runtime_dir": str(tmp_path / "runtime")})
    runtime = Runtime(
        strategy, clock=SimClock(START), options=options, gate_factory=lambda opts: gate, **kwargs
    )
    runtime.initialize()
    return runtime


def test_the_hook_and_context_follow_every_change(tmp_path: Path):
    strategy = Recorder()
    runtime = make_runtime(tmp_path, strategy)
    seen: list[Any] = []
    runtime.trading_state_listeners.append(seen.append)
    account = runtime.account
    assert account is not None and runtime.context.trading_state == "active"

    account.set_trading_state("reducing", "盘中检查")
    with pytest.raises(OrderRejectedError) as refused:
        strategy.order("600000.XSHG", 100, LimitOrderStyle(8.0))
    assert refused.value.reason == "trading_reducing"
    assert strategy.order("600000.XSHG", -100, LimitOrderStyle(8.0))  # a sell of a holding goes

    account.set_trading_state("halted", "halt_task")
    with pytest.raises(OrderRejectedError) as refused:
        strategy.order("600000.XSHG", -100, LimitOrderStyle(8.0))
    assert refused.value.reason == "trading_halted"
    account.set_trading_state("active", "resume_task")

    assert strategy.changes == [
        ("active", "reducing", "盘中检查", "reducing"),
        ("reducing", "halted", "halt_task", "halted"),
        ("halted", "active", "resume_task", "active"),
    ]
    assert [c.source for c in seen] == ["command"] * 3
    runtime.finish()


def test_a_failing_hook_does_not_undo_the_change(tmp_path: Path):
    class Broken(Recorder):
        def on_trading_state_change(self, context: Any, old: Any, new: Any, reason: str) -> None:
            raise RuntimeError("boom")

    runtime = make_runtime(tmp_path, Broken())
    assert runtime.account is not None
    runtime.account.set_trading_state("halted", "x")
    assert runtime.context.trading_state == "halted"
    runtime.finish()


def test_a_saved_state_is_restored_when_the_account_starts(tmp_path: Path):
    strategy = Recorder()
    runtime = make_runtime(tmp_path, strategy, restore_trading_state=("halted", "halt_task"))
    assert runtime.context.trading_state == "halted"
    assert strategy.changes == [("active", "halted", "halt_task", "halted")]
    runtime.finish()


def test_the_legacy_hook_of_the_same_name(tmp_path: Path):
    calls: list[tuple[Any, ...]] = []
    module = types.ModuleType("legacy_probe")

    def process_initialize(context: Any) -> None:
        module.set_options(use_account=True)  # type: ignore[attr-defined]

    def on_trading_state_change(context: Any, old: Any, new: Any, reason: str) -> None:
        calls.append((old, new, reason, context.trading_state))

    module.process_initialize = process_initialize  # type: ignore[attr-defined]
    module.on_trading_state_change = on_trading_state_change  # type: ignore[attr-defined]
    strategy = LegacyStrategy(module)
    module.set_options = lambda **values: strategy._bound("set_options").set_options(
        values, legacy=True
    )  # type: ignore[attr-defined]
    runtime = make_runtime(tmp_path, strategy)
    assert runtime.account is not None
    runtime.account.set_trading_state("halted", "halt_task")
    assert calls == [("active", "halted", "halt_task", "halted")]
    runtime.finish()


def test_the_registry_knows_the_trading_states():
    assert TRADING_STATES == tuple(s.value for s in TradingState)
    base = dict(
        name="t",
        pid=1,
        strategy_file="s.py",
        log_file=None,
        start_time="2024-06-03T09:30:00+08:00",
        gate="-",
        control_path="c",
        state="running",
    )
    assert TaskRecord.from_json(base).trading_state is None  # an older writer's record
    assert TaskRecord(**base, trading_state="halted").to_json()["trading_state"] == "halted"  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="交易状态"):
        TaskRecord(**base, trading_state="paused")  # type: ignore[arg-type]


def test_the_saved_state_file_is_polled_once_per_write(tmp_path: Path):
    commands, task = TradingStateFile(tmp_path / "t.state"), TradingStateFile(tmp_path / "t.state")
    assert task.read() is None and task.poll() is None
    first = commands.write("halted", "why", command="halt_task", cancel_open=True)
    assert task.poll() == first and task.poll() is None
    second = commands.write("active", "ok", command="resume_task")
    assert task.poll() == second and second.id != first.id
    restarted = TradingStateFile(tmp_path / "t.state")
    assert restarted.read() == second and restarted.poll() is None  # read at start is not new


def test_restart_backoff_doubles_up_to_a_minute():
    assert [backoff(k) for k in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]
