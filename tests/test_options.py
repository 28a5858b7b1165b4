"""set_options: every key's default, its validation, unknown keys and legacy spellings."""

from __future__ import annotations

import datetime

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jqtrade.errors import ConfigError, GateConfigError, OptionValueError, UnknownOptionError
from jqtrade.gates.fake import FakeTradeGate
from jqtrade.notify import DEFAULT_EVENTS
from jqtrade.options import (
    ACCOUNT_OPTION_NAMES,
    ALIASES,
    CORE_FIELDS,
    OPTION_NAMES,
    Options,
    gate_fields,
)

T = datetime.time

DEFAULTS = {
    "runtime_dir": "~/jqtrade",
    "use_account": False,
    "market_period": ((T(9, 30), T(11, 30)), (T(13, 0), T(15, 0))),
    "misfire_grace_time": 60.0,
    "on_callback_error": "log",
    "extra_holidays": (),
    "trade_gate": None,
    "sync_balance": True,
    "sync_order": True,
    "sync_period": None,
    "sync_interval": 5.0,
    "order_sync_interval": 0.5,
    "max_snapshot_age": 60.0,
    "disabled_checks": frozenset(),
    "gate_options": {},
    "data_source": None,
    "data_options": {},
    "account_no": None,
    "order_dir": None,
    "account_type": "STOCK",
    "counter_type": "UM0",
    "algo_type": "DMA",
    "wait_lock_internal": 0.05,
    "wait_lock_time_out": 5.0,
    "file_encoding": "gbk",  # OneQuantConfig's default (the gate used gbk for None before)
    "sync_retry_kwargs": {"max_attempts": 3, "attempt_internal": 0.15},
    "ignore_error_line": True,
    # risk limits: None = not set (risk.toml, else the built-in default in RISK_DEFAULTS)
    "risk_max_orders_per_second": None,
    "risk_max_orders_per_minute": None,
    "risk_max_orders_per_day": None,
    "risk_max_cancels_per_day": None,
    "risk_max_active_orders": None,
    "risk_max_order_shares": None,
    "risk_max_order_value": None,
    "risk_max_position_value": None,
    "risk_max_turnover": None,
    "risk_duplicate_window": None,
    "risk_max_daily_loss_pct": None,
    "risk_max_daily_loss_value": None,
    "risk_daily_loss_action": None,
    "notify": (),
    "notify_events": DEFAULT_EVENTS,
    "notify_min_interval": 60.0,
    "notify_timeout": 10.0,
    "notify_stale_after": 120.0,
}


def test_the_option_table_is_exactly_the_documented_keys():
    assert set(OPTION_NAMES) == set(DEFAULTS)


@pytest.mark.parametrize("key", sorted(DEFAULTS))
def test_default(key):
    assert Options().value(key) == DEFAULTS[key]


def test_gate_keys_live_in_the_gate_config_and_core_keys_in_options():
    from jqtrade.gates.onequant import OneQuantConfig

    assert set(CORE_FIELDS) == {f.name for f in attrs.fields(Options)} - {"gate_values"}
    assert set(gate_fields(None)) == {f.name for f in attrs.fields(OneQuantConfig)}
    assert set(OPTION_NAMES) == set(CORE_FIELDS) | set(gate_fields(None))
    options = Options().evolve({"account_no": "1", "counter_type": "UF0"})
    assert options.gate_values == {"account_no": "1", "counter_type": "UF0"}
    assert (
        isinstance(options.gate_config, OneQuantConfig)
        and options.gate_config.counter_type == "UF0"
    )


def test_every_option_is_documented_in_chinese():
    for field in (*CORE_FIELDS.values(), *gate_fields(None).values()):
        assert field.metadata.get("group") in ("scheduler", "account", "data", "gate"), field.name
        doc = field.metadata.get("doc", "")
        assert doc and any("\u4e00" <= ch <= "\u9fff" for ch in doc), field.name


def test_risk_defaults_name_exactly_the_risk_options():
    from jqtrade.options import RISK_DEFAULTS

    assert set(RISK_DEFAULTS) == {name for name in OPTION_NAMES if name.startswith("risk_")}
    limits = Options().evolve(dict(RISK_DEFAULTS))  # every built-in default is a valid value
    assert all(getattr(limits, name) == value for name, value in RISK_DEFAULTS.items())


def test_only_schedule_options_may_change_once_the_account_runs():
    assert set(OPTION_NAMES) - set(ACCOUNT_OPTION_NAMES) == {
        "market_period",
        "misfire_grace_time",
        "on_callback_error",
        "data_source",  # the market data follows the options (rebuilt when they change)
        "data_options",
    }


def test_account_is_enabled_by_use_account_or_an_account_number():
    assert Options().account_enabled is False
    assert Options().evolve({"use_account": True}).account_enabled is True
    assert Options().evolve({"account_no": "1234567"}).account_enabled is True


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("runtime_dir", "  /data/jq  ", "/data/jq"),
        ("use_account", True, True),
        ("market_period", [("10:00", "11:30")], ((T(10), T(11, 30)),)),
        (
            "market_period",
            [(T(9, 30), T(11, 30)), ["13:00:00", "14:57"]],
            ((T(9, 30), T(11, 30)), (T(13), T(14, 57))),
        ),
        ("misfire_grace_time", 0, 0.0),
        ("misfire_grace_time", 120, 120.0),
        ("on_callback_error", "stop", "stop"),
        (
            "extra_holidays",
            ["2027-01-01", datetime.date(2027, 2, 8)],
            (datetime.date(2027, 1, 1), datetime.date(2027, 2, 8)),
        ),
        ("trade_gate", "onequant", "onequant"),
        ("trade_gate", "my_gates.broker:MyGate", "my_gates.broker:MyGate"),
        ("sync_balance", False, False),
        ("sync_order", False, False),
        ("sync_period", [("09:25", "15:05")], ((T(9, 25), T(15, 5)),)),
        ("sync_interval", 0.1, 0.1),
        ("order_sync_interval", 2, 2.0),
        ("disabled_checks", ["bad_lot", "odd_lot_sell"], frozenset({"bad_lot", "odd_lot_sell"})),
        ("gate_options", {"host": "x"}, {"host": "x"}),
        ("account_no", 1234567, "1234567"),
        ("account_no", " 880001 ", "880001"),
        ("order_dir", "D:/OneQuant/order", "D:/OneQuant/order"),
        ("account_type", "STOCK", "STOCK"),
        ("counter_type", "UF0", "UF0"),
        (
            "counter_type",
            "UMC",
            "UMC",
        ),  # credit counters: jqtrade 1.0 took them (with a warning from the gate)
        ("counter_type", "UFC", "UFC"),
        ("algo_type", "DMA", "DMA"),
        ("wait_lock_internal", 0.001, 0.001),
        ("wait_lock_time_out", 10, 10.0),
        ("file_encoding", "GBK", "gbk"),
        ("file_encoding", "utf8", "utf-8"),
        ("sync_retry_kwargs", {"max_attempts": 5}, {"max_attempts": 5, "attempt_internal": 0.15}),
        ("ignore_error_line", False, False),
        ("risk_max_orders_per_second", 5, 5),
        ("risk_max_orders_per_minute", 0, 0),
        ("risk_max_orders_per_day", 5000, 5000),
        ("risk_max_cancels_per_day", None, None),
        ("risk_max_active_orders", 50, 50),
        ("risk_max_order_shares", 100_000, 100_000),
        ("risk_max_order_value", 2_000_000, 2_000_000.0),
        ("risk_max_position_value", 500_000.5, 500_000.5),
        ("risk_max_turnover", 0, 0.0),
        ("risk_duplicate_window", 3, 3.0),
        ("risk_max_daily_loss_pct", 2.5, 2.5),
        ("risk_max_daily_loss_value", 10_000, 10_000.0),
        ("risk_daily_loss_action", " halted ", "halted"),
    ],
)
def test_valid_values_are_normalized(key, value, expected):
    assert Options().evolve({key: value}).value(key) == expected


INVALID = [
    ("max_snapshot_age", 0),
    ("max_snapshot_age", "60"),
    ("runtime_dir", ""),
    ("runtime_dir", 5),
    ("use_account", "yes"),
    ("use_account", 1),
    ("market_period", "09:30-11:30"),
    ("market_period", []),
    ("market_period", [("11:30", "09:30")]),
    ("market_period", [("09:30", "11:30"), ("11:00", "15:00")]),
    ("market_period", [("09:30", "25:00")]),
    ("market_period", [("09:30",)]),
    ("misfire_grace_time", -1),
    ("misfire_grace_time", "60"),
    ("misfire_grace_time", True),
    ("misfire_grace_time", float("nan")),
    ("misfire_grace_time", float("inf")),
    ("on_callback_error", "raise"),
    ("extra_holidays", "2027-01-01"),
    ("extra_holidays", ["2027-13-01"]),
    ("trade_gate", "1bad gate"),
    ("trade_gate", 3),
    ("sync_balance", None),
    ("sync_order", "no"),
    ("sync_period", [("15:00", "09:00")]),
    ("sync_period", "all day"),
    ("sync_interval", 0.01),
    ("sync_interval", float("nan")),
    ("order_sync_interval", 0),
    ("disabled_checks", "bad_lot"),
    ("disabled_checks", ["no_such_check"]),
    ("gate_options", ["host"]),
    ("data_source", "wind"),
    ("data_source", 3),
    ("data_options", "token=abc"),
    ("data_options", {1: "x"}),
    ("account_no", ""),
    ("account_no", 12.5),
    ("order_dir", ""),
    ("account_type", "FUTURE"),
    ("counter_type", "XX0"),
    ("algo_type", "TWAP"),
    ("wait_lock_internal", 0),
    ("wait_lock_time_out", 0),
    ("wait_lock_time_out", -5),
    ("file_encoding", "no-such-codec"),
    ("file_encoding", 936),
    ("sync_retry_kwargs", {"max_attempts": 0}),
    ("sync_retry_kwargs", {"attempt_internal": -1}),
    ("sync_retry_kwargs", {"attempt_internal": float("nan")}),
    ("sync_retry_kwargs", {"retries": 3}),
    ("sync_retry_kwargs", 3),
    ("ignore_error_line", "True"),
    ("risk_max_orders_per_second", -1),
    ("risk_max_orders_per_minute", 2.5),
    ("risk_max_orders_per_day", "2000"),
    ("risk_max_cancels_per_day", True),
    ("risk_max_active_orders", -3),
    ("risk_max_order_shares", 1e6),
    ("risk_max_order_value", float("inf")),
    ("risk_max_position_value", -1),
    ("risk_max_turnover", "1e6"),
    ("risk_duplicate_window", 100_000),
    ("risk_max_daily_loss_pct", 150),
    ("risk_max_daily_loss_value", float("nan")),
    ("risk_daily_loss_action", "stop"),
    ("notify", 5),
    ("notify_events", ["no_such_event"]),
    ("notify_min_interval", -1),
    ("notify_timeout", 0),
    ("notify_stale_after", "soon"),
]


def test_every_option_has_invalid_cases():
    assert {key for key, _ in INVALID} == set(OPTION_NAMES)


@pytest.mark.parametrize(("key", "value"), INVALID, ids=[f"{k}={v!r}" for k, v in INVALID])
def test_invalid_value_names_the_key_and_the_value(key, value):
    with pytest.raises(OptionValueError) as info:
        Options().evolve({key: value})
    message = str(info.value)
    assert info.value.key == key
    assert key in message
    if key == "disabled_checks" and isinstance(value, list):
        assert repr(value[0]) in message  # names the offending code itself
    elif key == "notify":
        assert "apprise" in message  # the URLs may hold secrets: the value is masked, not shown
    elif key == "data_options":
        assert repr(value) not in message  # it holds tokens and passwords: never shown
    else:
        assert repr(value) in message
    assert isinstance(info.value, ValueError)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message)


@pytest.mark.parametrize(
    ("typo", "meant"),
    [
        ("acount_no", "account_no"),
        ("market_peroid", "market_period"),
        ("misfire_grace", "misfire_grace_time"),
    ],
)
def test_unknown_key_suggests_the_closest_and_lists_all(typo, meant):
    with pytest.raises(UnknownOptionError) as info:
        Options().evolve({typo: 1})
    message = str(info.value)
    assert info.value.key == typo
    assert info.value.suggestion == meant
    assert repr(typo) in message and repr(meant) in message
    for name in OPTION_NAMES:
        assert name in message
    assert isinstance(info.value, ConfigError)


def test_unknown_key_without_a_close_match_still_lists_the_keys():
    with pytest.raises(UnknownOptionError) as info:
        Options().evolve({"zzzz": 1})
    assert info.value.suggestion is None
    assert "market_period" in str(info.value)


def test_legacy_alias_sync_internal():
    assert ALIASES["sync_internal"] == "sync_interval"
    assert Options().evolve({"sync_internal": 3}).sync_interval == 3.0
    with pytest.raises(OptionValueError) as info:
        Options().evolve({"sync_internal": -1})
    assert info.value.key == "sync_interval"


def test_evolve_keeps_earlier_values_and_options_are_frozen():
    first = Options().evolve({"market_period": [("10:00", "11:30")], "account_no": "1"})
    second = first.evolve({"misfire_grace_time": 5})
    assert second.market_period == ((T(10), T(11, 30)),)
    assert second.account_no == "1"
    assert second.misfire_grace_time == 5.0
    assert Options().misfire_grace_time == 60.0
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        second.account_no = "2"  # type: ignore[misc]


def test_a_failed_evolve_leaves_the_options_unchanged():
    options = Options().evolve({"misfire_grace_time": 5})
    with pytest.raises(OptionValueError):
        options.evolve({"misfire_grace_time": 10, "account_type": "FUTURE"})
    assert options.misfire_grace_time == 5.0


# --- a gate's own keys ------------------------------------------------------------------------


def _host(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise OptionValueError("broker_host", value, "应为主机名")
    return value


@attrs.frozen(kw_only=True)
class BrokerConfig:
    broker_host: str = attrs.field(converter=_host, metadata={"doc": "券商主机", "type": "str"})
    broker_port: int = attrs.field(
        default=9000, converter=int, metadata={"doc": "端口", "type": "int"}
    )


class BrokerGate(FakeTradeGate):
    config_class = BrokerConfig


BROKER = f"{__name__}:BrokerGate"


def test_a_user_gates_config_fields_are_set_options_keys_when_trade_gate_names_it():
    options = Options().evolve(
        {"broker_port": "9001", "trade_gate": BROKER, "broker_host": "h"}
    )  # any order
    assert options.gate_values == {"broker_port": 9001, "broker_host": "h"}
    assert options.gate_config == BrokerConfig(broker_host="h", broker_port=9001)
    assert options.as_dict()["broker_port"] == 9001 and "account_no" not in options.as_dict()
    with pytest.raises(UnknownOptionError) as info:
        options.evolve({"broker_hots": "x"})
    assert info.value.suggestion == "broker_host" and "sync_interval" in str(info.value)
    with pytest.raises(UnknownOptionError):
        options.evolve({"order_dir": "D:/x"})  # OneQuant's key: not this gate's
    with pytest.raises(OptionValueError) as bad:
        options.evolve({"broker_host": ""})
    assert bad.value.key == "broker_host"


def test_a_required_gate_key_may_come_later_and_is_named_when_missing():
    options = Options().evolve({"trade_gate": BROKER, "broker_port": 1})
    with pytest.raises(GateConfigError, match="broker_host"):
        options.gate_config  # noqa: B018
    assert options.evolve({"broker_host": "h"}).gate_config.broker_host == "h"


def test_a_legacy_script_hands_a_user_gate_unknown_keys_and_reads_its_keys():
    options, notes = Options().evolve_legacy(
        {"trade_gate": BROKER, "broker_host": "h", "token": "t"}
    )
    assert options.gate_values == {"broker_host": "h"} and options.gate_options == {"token": "t"}
    assert len(notes) == 1 and "token" in notes[0]


def test_a_gate_that_cannot_be_imported_is_named_by_trade_gate_only_when_its_keys_are_needed():
    options = Options().evolve(
        {"trade_gate": "no_such_pkg_xyz.mod:Gate"}
    )  # may be importable later
    assert options.trade_gate == "no_such_pkg_xyz.mod:Gate"
    with pytest.raises(GateConfigError, match="trade_gate='no_such_pkg_xyz.mod:Gate'"):
        options.evolve({"gate_host": "x"})


def test_values_set_before_trade_gate_changes_are_checked_by_the_new_gate_or_kept_aside():
    options = Options().evolve({"account_no": "1", "counter_type": "UF0"})
    switched = options.evolve({"trade_gate": BROKER, "broker_host": "h"})
    assert (
        switched.account_no == "1" and switched.account_enabled
    )  # account_no still turns the account on
    assert "counter_type" not in switched.as_dict()  # kept aside: the new gate does not read it
    back = switched.evolve({"trade_gate": "onequant"})
    assert back.value("counter_type") == "UF0"


def test_gate_keys_are_fixed_once_the_account_runs_like_core_keys():
    started = Options().evolve({"account_no": "1", "misfire_grace_time": 5})
    wanted = started.evolve({"account_no": "2", "misfire_grace_time": 9, "sync_order": False})
    assert wanted.changed_account_options(started) == [
        name for name in ACCOUNT_OPTION_NAMES if name in ("sync_order", "account_no")
    ]
    kept = wanted.with_values_of(started, ["account_no", "sync_order"])
    assert (kept.account_no, kept.sync_order, kept.misfire_grace_time) == ("1", True, 9.0)


# --- market periods, property-based ----------------------------------------------------------

seconds_of_day = st.integers(min_value=0, max_value=86_399)


def _time(seconds: int) -> datetime.time:
    return T(seconds // 3600, seconds // 60 % 60, seconds % 60)


def _spell(seconds: int, form: int) -> object:
    t = _time(seconds)
    if form == 0:
        return t
    if form == 1 or t.second:
        return f"{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
    return f"{t.hour:02d}:{t.minute:02d}"


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(seconds_of_day, seconds_of_day, st.integers(0, 2), st.integers(0, 2)),
        min_size=1,
        max_size=4,
    )
)
def test_market_period_valid_exactly_when_ordered_and_not_overlapping(pairs):
    value = [(_spell(a, fa), _spell(b, fb)) for a, b, fa, fb in pairs]
    valid = all(a < b for a, b, _, _ in pairs) and all(
        pairs[i][0] >= pairs[i - 1][1] for i in range(1, len(pairs))
    )
    if valid:
        result = Options().evolve({"market_period": value}).market_period
        assert result == tuple((_time(a), _time(b)) for a, b, _, _ in pairs)
    else:
        with pytest.raises(OptionValueError) as info:
            Options().evolve({"market_period": value})
        assert info.value.key == "market_period"
        assert repr(value) in str(info.value)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=12))
def test_market_period_rejects_garbage_times_with_the_key(text):
    try:
        parsed = Options().evolve({"market_period": [(text, "23:59:59")]}).market_period
    except OptionValueError as exc:
        assert exc.key == "market_period"
    else:
        # Only real clock times are accepted, and they mean what they say.
        start = parsed[0][0]
        body = text.strip()
        assert body.count(":") in (1, 2)
        assert [int(p) for p in body.split(":")][:2] == [start.hour, start.minute]
