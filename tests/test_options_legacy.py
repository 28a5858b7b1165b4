"""set_options in a function-style script reads values as jqtrade 1.0 did (issue 10, items 2 and 7).

1.0 coerced loose types (``bool(x)``, ``float(x)``), allowed any counter type with a warning and
kept unknown keys for the gate. :meth:`Options.evolve_legacy` does the same and returns one
warning per surprise; :meth:`Runtime.set_options` with ``legacy=True`` logs them. The class API
(``Options.evolve``, ``Runtime.set_options`` without ``legacy``) stays strict.
"""

from __future__ import annotations

import decimal
import logging
from pathlib import Path
from typing import Any, Optional

import pendulum
import pytest

from jqtrade import OptionValueError, Strategy, UnknownOptionError
from jqtrade.clock import MARKET_TZ, SimClock
from jqtrade.gates.onequant.config import KNOWN_COUNTER_TYPES as COUNTER_TYPES
from jqtrade.options import CORE_FIELDS, Options, gate_fields
from jqtrade.runtime import Runtime


def legacy(values: dict[str, Any], base: Optional[Options] = None) -> tuple[Options, list[str]]:
    return (base or Options()).evolve_legacy(values)


# --- item 7: loose types --------------------------------------------------------------------


@pytest.mark.parametrize("key", ["use_account", "sync_balance", "sync_order", "ignore_error_line"])
@pytest.mark.parametrize(
    ("value", "expected"), [(1, True), (0, False), (1.0, True), (0.0, False), (True, True)]
)
def test_switches_take_one_and_zero_silently(key, value, expected):
    options, notes = legacy({key: value})
    assert options.value(key) is expected and notes == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", True),
        ("False", True),
        ("false", True),
        ("", False),
        ("yes", True),
        (None, False),
        (2, True),
        ([], False),
    ],
)
def test_other_switch_values_mean_what_bool_meant_in_1_0_with_a_warning(value, expected):
    # A user who wrote "0" probably meant off, but 1.0 ran the script with the switch on for as
    # long as it ran: keep that behaviour (the script runs unchanged) and say how to turn it off.
    options, notes = legacy({"sync_balance": value})
    assert options.sync_balance is expected
    (note,) = notes
    assert f"sync_balance={value!r}" in note and str(expected) in note


def test_a_string_zero_warns_that_it_is_true_and_how_to_write_false():
    _, (note,) = legacy({"sync_order": "0"})
    assert "sync_order='0'" in note and "True" in note and "sync_order=False" in note


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("sync_internal", "2", 2.0),  # 1.0's float(x), under its 1.0 spelling
        ("sync_interval", " 2.5 ", 2.5),
        ("wait_lock_time_out", "5", 5.0),
        ("wait_lock_internal", "0.05", 0.05),
        ("misfire_grace_time", "30", 30.0),
        ("order_sync_interval", decimal.Decimal("0.5"), 0.5),
        ("max_snapshot_age", "120", 120.0),
        ("max_snapshot_age", None, None),
        ("wait_lock_time_out", 7, 7.0),
    ],
)
def test_seconds_given_as_text_or_decimals_are_read_silently(key, value, expected):
    options, notes = legacy({key: value})
    assert (
        options.value("sync_interval" if key == "sync_internal" else key) == expected
        and notes == []
    )


def test_seconds_given_as_a_bool_are_read_as_1_0_did_with_a_warning():
    options, (note,) = legacy({"sync_internal": True})
    assert options.sync_interval == 1.0 and "sync_interval" in note


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("sync_internal", "abc"),
        ("wait_lock_time_out", "-5"),
        ("sync_interval", "0.01"),
        ("misfire_grace_time", "nan"),
    ],
)
def test_values_1_0_could_not_use_either_are_still_refused_with_the_key(key, value):
    with pytest.raises(OptionValueError) as info:
        legacy({key: value})
    assert info.value.key == ("sync_interval" if key == "sync_internal" else key)


def test_folders_may_be_paths(tmp_path):
    options, notes = legacy({"runtime_dir": tmp_path, "order_dir": Path("D:/OneQuant")})
    assert (
        options.runtime_dir == str(tmp_path)
        and options.value("order_dir") == str(Path("D:/OneQuant"))
        and notes == []
    )


@pytest.mark.parametrize("counter", COUNTER_TYPES)
def test_known_counter_types_are_taken_in_both_readings(counter):
    assert Options().evolve({"counter_type": counter}).value("counter_type") == counter
    assert legacy({"counter_type": counter}) == (Options().evolve({"counter_type": counter}), [])


def test_credit_counter_types_1_0_documented_are_valid():
    assert {"UMC", "UFC"} <= set(COUNTER_TYPES)


def test_any_other_counter_type_is_kept_with_a_warning_in_a_legacy_script_only():
    options, (note,) = legacy({"counter_type": " UM1 "})
    assert options.value("counter_type") == "UM1" and "UM1" in note and "UM0" in note
    with pytest.raises(OptionValueError) as info:
        Options().evolve({"counter_type": "UM1"})
    assert info.value.key == "counter_type" and "UMC" in str(info.value)


def test_a_legacy_value_of_the_wrong_kind_is_still_refused():
    with pytest.raises(OptionValueError):
        legacy({"counter_type": ""})
    with pytest.raises(OptionValueError):
        legacy({"market_period": "09:30-11:30"})


def test_the_strict_reading_is_unchanged_for_1_0_loose_values():
    for key, value in [
        ("use_account", 1),
        ("sync_order", 0),
        ("sync_internal", "2"),
        ("wait_lock_time_out", "5"),
    ]:
        with pytest.raises(OptionValueError):
            Options().evolve({key: value})


def test_every_switch_and_seconds_option_has_a_legacy_reading():

    for field in (*CORE_FIELDS.values(), *gate_fields(None).values()):
        if field.name.startswith(("risk_", "notify_")):
            continue  # new in 2.0: no 1.0 script sets them, so there is no 1.0 reading to keep
        if field.metadata["type"] in ("bool", "float（秒）", "float（秒）或 None"):
            assert "legacy" in field.metadata, field.name


# --- item 2: unknown keys ---------------------------------------------------------------------


def test_unknown_keys_go_to_the_gate_with_a_warning_naming_the_closest_key():
    options, notes = legacy(
        {"account_no": "1", "coding": "utf-8", "debug": True, "file_encodeing": "gbk"}
    )
    assert options.gate_options == {"coding": "utf-8", "debug": True, "file_encodeing": "gbk"}
    assert (
        options.account_no == "1" and "file_encoding" not in options.gate_values
    )  # a typo is not applied
    assert len(notes) == 3
    (typo,) = [n for n in notes if "file_encodeing" in n]
    assert "'file_encoding'" in typo
    (debug,) = [n for n in notes if "'debug'" in n]
    assert "gate_options" in debug


def test_unknown_keys_join_the_gate_options_already_set():
    first, _ = legacy({"gate_options": {"host": "a"}, "port": 1})
    second, _ = legacy({"token": "t"}, first)
    assert second.gate_options == {"host": "a", "port": 1, "token": "t"}
    third, _ = legacy(
        {"gate_options": {"host": "b"}, "user": "u"}, second
    )  # an explicit value replaces, as in evolve
    assert third.gate_options == {"host": "b", "user": "u"}


def test_set_options_twice_merges_in_both_readings():
    # 1.0 replaced every option with the second call's; we keep the first call's keys (documented).
    first, _ = legacy(
        {"account_no": 1234567, "use_account": 1, "sync_internal": "2", "wait_lock_time_out": "5"}
    )
    second, _ = legacy({"counter_type": "UMC", "sync_internal": 3, "sync_order": 0}, first)
    assert (second.account_no, second.use_account, second.value("wait_lock_time_out")) == (
        "1234567",
        True,
        5.0,
    )
    assert (second.sync_interval, second.sync_order, second.value("counter_type")) == (
        3.0,
        False,
        "UMC",
    )
    strict = Options().evolve({"account_no": "1", "sync_interval": 2}).evolve({"sync_order": False})
    assert (strict.account_no, strict.sync_interval, strict.sync_order) == ("1", 2.0, False)


def test_the_strict_reading_still_refuses_unknown_keys():
    with pytest.raises(UnknownOptionError):
        Options().evolve({"coding": "utf-8"})


# --- through the runtime -----------------------------------------------------------------------

MONDAY = pendulum.datetime(2024, 6, 3, 9, tz=MARKET_TZ)


class Calls(Strategy):
    """process_initialize makes the given Runtime.set_options calls (legacy or strict)."""

    def __init__(self, *calls: tuple[dict[str, Any], bool]) -> None:
        self.calls = calls

    def process_initialize(self, context: Any) -> None:
        assert self._runtime is not None
        for values, is_legacy in self.calls:
            self._runtime.set_options(values, legacy=is_legacy)


class RecordingGate:
    """A dict-contract gate (jqtrade 1.x) that keeps the options dict its setup received."""

    def __init__(self) -> None:
        self.options: dict[str, Any] = {}

    def setup(self, options: dict[str, Any], **kwargs: Any) -> None:
        self.options = options

    def order(self, request: Any) -> None:
        pass

    def cancel_order(self, order_id: str) -> None:
        pass

    def sync_balance(self) -> dict[str, Any]:
        return {
            "cash": {"total_value": 1000, "available_cash": 1000, "locked_cash": 0},
            "positions": [],
        }

    def sync_orders(self) -> list[dict[str, Any]]:
        return []


def runtime_for(strategy: Strategy, tmp_path: Path, gate: RecordingGate) -> Runtime:
    options = Options().evolve({"runtime_dir": str(tmp_path / "runtime")})
    return Runtime(
        strategy, clock=SimClock(MONDAY), options=options, gate_factory=lambda opts: gate
    )


def test_runtime_legacy_set_options_warns_runs_and_hands_unknown_keys_to_the_gate(tmp_path, caplog):
    gate = RecordingGate()
    strategy = Calls(
        (
            {
                "account_no": 1234567,
                "use_account": 1,
                "sync_internal": "2",
                "my_broker_host": "127.0.0.1",
            },
            True,
        ),
        ({"sync_order": 0, "counter_type": "UMC"}, True),
    )
    runtime = runtime_for(strategy, tmp_path, gate)
    with caplog.at_level(logging.WARNING, logger="jqtrade"):
        runtime.initialize()
    try:
        assert runtime.account is not None
        assert gate.options["gate_options"] == {"my_broker_host": "127.0.0.1"}
        assert (
            gate.options["sync_interval"],
            gate.options["sync_order"],
            gate.options["counter_type"],
        ) == (2.0, False, "UMC")
        warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len([m for m in warned if "my_broker_host" in m]) == 1
    finally:
        runtime.finish()


@pytest.mark.parametrize(
    ("values", "error"),
    [
        ({"coding": "utf-8"}, UnknownOptionError),
        ({"use_account": 1}, OptionValueError),
        ({"counter_type": "XX0"}, OptionValueError),
    ],
)
def test_runtime_set_options_without_legacy_stays_strict(tmp_path, values, error):
    runtime = runtime_for(Calls((values, False)), tmp_path, RecordingGate())
    with pytest.raises(error):
        runtime.initialize()
