"""The account starts on first use inside ``process_initialize`` (issue 10, item 1).

jqtrade 1.0 started and synced the account inside ``set_options``, so scripts read the portfolio,
listed orders and even ordered in ``process_initialize``. Now the first call that needs the
account starts it with the options set so far; a later change of an option it used is an error
(class API) or a warning that keeps the running value (legacy script). Runtime + SimClock + the
fake broker, in process.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any, Callable

import pendulum
import pytest

from jqtrade import (
    AccountDisabledError,
    AccountNotReadyError,
    GateConfigError,
    LimitOrderStyle,
    Strategy,
)
from jqtrade.clock import MARKET_TZ, SimClock
from jqtrade.errors import AccountOptionLockedError
from jqtrade.gates.fake import FakeTradeGate
from jqtrade.loader import load_strategy
from jqtrade.options import Options
from jqtrade.runtime import Runtime

DAY = datetime.date(2024, 6, 3)  # a Monday, a trading day


def at(hour: int, minute: int = 0) -> pendulum.DateTime:
    return pendulum.datetime(DAY.year, DAY.month, DAY.day, hour, minute, tz=MARKET_TZ)


START = at(9, 0)


class RecordingGate(FakeTradeGate):
    """The fake broker, remembering each setup (when, with what) and whether it was closed."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cash=100_000, prices={"600000.XSHG": 8.0}, **kwargs)
        self.setups: list[tuple[pendulum.DateTime, dict[str, Any]]] = []
        self.closed = False
        self.balance_calls: list[pendulum.DateTime] = []

    def setup(self, options: Any, **kwargs: Any) -> None:
        # setup(options, **kwargs): a dict-contract gate (run through DictGateAdapter) that sees every option.
        self.clock = kwargs["clock"]
        self.setups.append((self.clock.now(), dict(options)))

    def sync_balance(self) -> dict[str, Any]:
        self.balance_calls.append(self.clock.now())
        return super().sync_balance()

    def close(self) -> None:
        self.closed = True
        super().close()


class Script(Strategy):
    """A class strategy whose process_initialize is the test's function."""

    def __init__(self, body: Callable[[Script, Any], None]) -> None:
        self.body = body
        self.seen: dict[str, Any] = {}

    def process_initialize(self, context: Any) -> None:
        self.body(self, context)


@pytest.fixture
def make(tmp_path):
    """Build a runtime over a fresh RecordingGate; every runtime is finished at the end."""
    runtimes: list[Runtime] = []

    def build(
        strategy: Strategy, *, start: pendulum.DateTime = START, **kwargs: Any
    ) -> tuple[Runtime, RecordingGate]:
        gate = kwargs.pop("gate", None) or RecordingGate()
        options = Options().evolve({"runtime_dir": str(tmp_path / "runtime")})
        runtime = Runtime(
            strategy,
            clock=SimClock(start),
            options=options,
            gate_factory=lambda opts: gate,
            **kwargs,
        )
        runtimes.append(runtime)
        return runtime, gate

    yield build
    for runtime in runtimes:
        runtime.finish()


# --- class API ----------------------------------------------------------------------------


def test_the_account_is_ready_in_process_initialize_right_after_set_options(make):
    def body(s: Script, context: Any) -> None:
        s.set_options(use_account=True)
        s.seen["total_value"] = context.portfolio.total_value
        s.seen["orders"] = len(s.get_orders())
        s.seen["synced"] = s.sync_balance().available_cash
        s.seen["order_id"] = s.order("600000.XSHG", 100, LimitOrderStyle(7.5))
        s.run_daily(
            lambda ctx: s.seen.setdefault("later", s.get_orders()[s.seen["order_id"]].status),
            "10:00",
        )

    strategy = Script(body)
    runtime, gate = make(strategy)
    runtime.initialize()
    assert strategy.seen["total_value"] == pytest.approx(100_000)
    assert strategy.seen["orders"] == 0 and strategy.seen["synced"] == pytest.approx(100_000)
    assert isinstance(strategy.seen["order_id"], str)
    assert len(gate.setups) == 1 and gate.setups[0][0] == at(
        9, 0
    )  # started once, inside process_initialize
    assert [row.order_id for row in gate.peek_orders()] == [strategy.seen["order_id"]]
    runtime.run(until=at(10, 30))
    assert strategy.seen["later"] == "open"  # the same account went on running, with its sync jobs
    assert len(gate.setups) == 1 and len(gate.balance_calls) > 2


def test_an_account_nobody_used_starts_after_process_initialize_with_every_option(make):
    def body(s: Script, context: Any) -> None:
        s.set_options(use_account=True)
        s.set_options(
            gate_options={"host": "x"}, sync_interval=60
        )  # set last: still seen by the gate

    runtime, gate = make(Script(body))
    runtime.initialize()
    ((when, options),) = gate.setups
    assert (
        when == at(9, 0)
        and options["gate_options"] == {"host": "x"}
        and options["sync_interval"] == 60
    )
    assert (
        runtime.account is not None and getattr(runtime.account.gate, "inner", None) is gate
    )  # in its adapter


def test_changing_an_account_option_after_first_use_is_a_clear_error(make):
    def body(s: Script, context: Any) -> None:
        s.set_options(account_no="1234567")
        context.portfolio  # noqa: B018 - starts the account
        s.set_options(account_no="1234567", misfire_grace_time=5)  # unchanged: fine
        s.set_options(account_no="7654321")

    runtime, gate = make(Script(body))
    with pytest.raises(AccountOptionLockedError) as info:
        runtime.initialize()
    message = str(info.value)
    assert info.value.keys == ["account_no"] and "account_no" in message
    assert "context.portfolio" in message and "set_options 放在使用账户" in message
    assert isinstance(info.value, ValueError)
    assert gate.closed  # the account started inside process_initialize is released


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("sync_order", False),
        ("order_dir", "D:/elsewhere"),
        ("counter_type", "UF0"),
        ("gate_options", {"k": 1}),
        ("use_account", False),
        ("extra_holidays", ["2024-06-04"]),
    ],
)
def test_every_option_the_account_used_is_fixed_once_it_runs(make, key, value):
    def body(s: Script, context: Any) -> None:
        s.set_options(use_account=True)
        s.get_orders()
        s.set_options(**{key: value})

    runtime, _ = make(Script(body))
    with pytest.raises(AccountOptionLockedError) as info:
        runtime.initialize()
    assert info.value.keys == [key] and "get_orders" in str(info.value)


def test_schedule_options_set_after_first_use_still_apply(make):
    def body(s: Script, context: Any) -> None:
        s.set_options(use_account=True)
        context.portfolio  # noqa: B018
        s.set_options(
            market_period=[("10:00", "11:30"), ("13:00", "14:00")],
            misfire_grace_time=5,
            on_callback_error="stop",
        )
        s.run_daily(lambda ctx: s.seen.setdefault("open", ctx.current_dt), "open")

    strategy = Script(body)
    runtime, _ = make(strategy)
    runtime.initialize()
    assert (
        runtime.options.misfire_grace_time == 5
        and runtime.loop.grace == 5
        and runtime.loop.stop_on_error
    )
    runtime.run(until=at(12))
    assert strategy.seen["open"] == at(10)


def test_overrides_win_over_the_script_when_the_account_starts_in_process_initialize(make):
    overrides = {
        "trade_gate": "onequant",
        "account_no": "990001",
        "order_dir": "/sim",
        "file_encoding": "gbk",
    }

    def body(s: Script, context: Any) -> None:
        s.set_options(account_no="1234567", order_dir="C:/real", file_encoding="utf-8")
        context.portfolio  # noqa: B018
        s.set_options(account_no="1234567")  # overridden anyway: no change for the running account

    runtime, gate = make(Script(body), overrides=overrides)
    runtime.initialize()
    ((_, options),) = gate.setups
    assert {k: options[k] for k in overrides} == overrides
    assert all(runtime.options.value(k) == v for k, v in overrides.items())


def test_under_overrides_the_account_starts_even_before_the_script_names_one(make):
    def body(s: Script, context: Any) -> None:
        s.seen["cash"] = context.portfolio.available_cash

    strategy = Script(body)
    runtime, gate = make(strategy, overrides={"account_no": "990001"})
    runtime.initialize()
    assert strategy.seen["cash"] == pytest.approx(100_000) and len(gate.setups) == 1


def test_without_the_account_module_the_error_says_how_to_turn_it_on(make):
    def body(s: Script, context: Any) -> None:
        context.portfolio  # noqa: B018

    runtime, gate = make(Script(body))
    with pytest.raises(AccountDisabledError, match="use_account=True"):
        runtime.initialize()
    assert gate.setups == []


def test_the_schedule_preview_never_starts_the_account(make):
    def body(s: Script, context: Any) -> None:
        s.set_options(use_account=True)
        s.get_orders()

    runtime, gate = make(Script(body))
    with pytest.raises(AccountNotReadyError):
        runtime.initialize_schedule_only()
    assert gate.setups == []


def test_a_gate_that_cannot_start_fails_the_call_and_leaves_nothing_open(make):
    class BrokenGate(RecordingGate):
        def setup(self, options: Any, **kwargs: Any) -> None:
            raise GateConfigError("模拟：缺少资金账号")

    def body(s: Script, context: Any) -> None:
        s.set_options(use_account=True)
        s.order("600000.XSHG", 100, LimitOrderStyle(7.5))

    gate = BrokenGate()
    runtime, _ = make(Script(body), gate=gate)
    with pytest.raises(GateConfigError):
        runtime.initialize()
    assert runtime.account is None and gate.closed


# --- legacy scripts -------------------------------------------------------------------------

LEGACY_SCRIPT = """\
# jqtrade 1.0 style: the account right after set_options
g = {}


def process_initialize(context):
    set_options(use_account=True)
    g["total_value"] = context.portfolio.total_value
    g["long_positions"] = len(context.portfolio.long_positions)
    g["orders"] = len(get_orders())
    sync_balance()
    sync_orders()
    g["order_id"] = order("600000.XSHG", 100, LimitOrderStyle(7.5))
    g["orders_after"] = len(get_orders())
    run_daily(later, "10:00")


def later(context):
    g["later"] = len(get_orders())
"""


def test_a_legacy_script_uses_the_account_in_process_initialize(make, tmp_path, restore_sys_path):
    path = tmp_path / "legacy_account_in_init.py"
    path.write_text(LEGACY_SCRIPT, encoding="utf-8")
    strategy = load_strategy(path)
    runtime, gate = make(strategy)
    runtime.initialize()
    g = strategy.module.g
    assert (
        g["total_value"] == pytest.approx(100_000) and g["long_positions"] == 0 and g["orders"] == 0
    )
    assert isinstance(g["order_id"], str) and g["orders_after"] == 1
    assert len(gate.setups) == 1
    runtime.run(until=at(10, 30))
    assert g["later"] == 1


def test_a_legacy_change_of_an_account_option_is_ignored_loudly(make, caplog):
    def body(s: Script, context: Any) -> None:
        runtime.set_options({"account_no": "1234567"}, legacy=True)
        context.portfolio  # noqa: B018
        runtime.set_options(
            {"account_no": "7654321", "sync_internal": "9", "misfire_grace_time": "7"}, legacy=True
        )

    runtime, gate = make(Script(body))
    with caplog.at_level(logging.WARNING, logger="jqtrade.runtime"):
        runtime.initialize()
    assert (
        runtime.options.account_no == "1234567" and runtime.options.sync_interval == 5.0
    )  # the running values
    assert runtime.options.misfire_grace_time == 7.0  # the schedule option in the same call applied
    assert gate.setups[0][1]["account_no"] == "1234567" and len(gate.setups) == 1
    ignored = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(ignored) == 2
    assert all(
        len([m for m in ignored if key in m]) == 1 for key in ("account_no", "sync_interval")
    )  # one each
    assert all("context.portfolio" in message for message in ignored)
