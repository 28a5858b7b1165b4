"""The curated public API: users import from ``jqtrade`` only, so its names are pinned here."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import jqtrade

PUBLIC = [
    "AbsTradeGate",
    "AccountDisabledError",
    "AccountError",
    "AccountNotReadyError",
    "CalendarError",
    "ConfigError",
    "Context",
    "GateConfigError",
    "GateError",
    "JqTradeError",
    "LimitOrderStyle",
    "MarketOrderStyle",
    "NotInInitializeError",
    "OptionValueError",
    "OrderAction",
    "OrderNotFoundError",
    "OrderRejectedError",
    "OrderRequest",
    "OrderSide",
    "OrderStatus",
    "ScheduleArgumentError",
    "Strategy",
    "StrategyLoadError",
    "TimeExpressionError",
    "UnknownOptionError",
    "__version__",
]


def test_all_is_pinned():
    assert sorted(jqtrade.__all__) == PUBLIC
    assert len(set(jqtrade.__all__)) == len(jqtrade.__all__)


def test_every_public_name_is_importable():
    namespace: dict[str, object] = {}
    exec("from jqtrade import *", namespace)  # noqa: S102 - the point is what `import *` gives
    assert sorted(k for k in namespace if k != "__builtins__") == PUBLIC
    for name in PUBLIC:
        assert getattr(jqtrade, name) is namespace[name]


def test_errors_share_one_root():
    errors = [getattr(jqtrade, n) for n in PUBLIC if n.endswith("Error")]
    assert errors
    for cls in errors:
        assert inspect.isclass(cls) and issubclass(cls, jqtrade.JqTradeError), cls


def test_the_trade_gate_contract_is_one_class():
    account = importlib.import_module("jqtrade.account")
    assert account.AbsTradeGate is jqtrade.AbsTradeGate
    assert inspect.isabstract(jqtrade.AbsTradeGate)


def test_core_types():
    assert inspect.isclass(jqtrade.Strategy) and inspect.isclass(jqtrade.Context)
    assert jqtrade.OrderStatus.open == "open"
    assert jqtrade.LimitOrderStyle(10).price == 10.0


def test_version_is_a_single_source():
    from jqtrade._version import __version__

    assert jqtrade.__version__ == __version__
    assert __version__.split(".")[0].isdigit()


def test_package_ships_type_information():
    assert (Path(jqtrade.__file__).parent / "py.typed").is_file()
