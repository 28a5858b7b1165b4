"""The curated public API: users import from ``jqtrade`` only, so its names are pinned here."""

from __future__ import annotations

import importlib
import inspect
import typing
from pathlib import Path

import jqtrade

PUBLIC = [
    "AbsTradeGate",
    "AccountDisabledError",
    "AccountError",
    "AccountNotReadyError",
    "BalanceReport",
    "CalendarError",
    "ConfigError",
    "Context",
    "GateConfigError",
    "GateEnv",
    "GateError",
    "JqTradeError",
    "LimitOrderStyle",
    "MarketOrderStyle",
    "NoConfig",
    "NotInInitializeError",
    "OptionValueError",
    "OrderAction",
    "OrderNotFoundError",
    "OrderRejectedError",
    "OrderReport",
    "OrderRequest",
    "OrderSide",
    "OrderSnapshot",
    "OrderStatus",
    "OrdersView",
    "Portfolio",
    "Position",
    "PositionReport",
    "ScheduleArgumentError",
    "ScheduleError",
    "Strategy",
    "StrategyLoadError",
    "TaskError",
    "TimeExpressionError",
    "Trade",
    "TradeReport",
    "TradingState",
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
    base = importlib.import_module("jqtrade.gates.base")
    account = importlib.import_module("jqtrade.account")  # the 1.0 path, resolved lazily
    assert base.AbsTradeGate is account.AbsTradeGate is jqtrade.AbsTradeGate
    assert inspect.isabstract(jqtrade.AbsTradeGate)
    assert base.GateEnv is jqtrade.GateEnv and base.NoConfig is jqtrade.NoConfig


def test_the_parent_errors_are_exported_with_their_leaves():
    assert issubclass(jqtrade.TimeExpressionError, jqtrade.ScheduleError)
    assert issubclass(jqtrade.NotInInitializeError, jqtrade.ScheduleError)
    errors = importlib.import_module("jqtrade.errors")
    assert issubclass(errors.TaskNotFoundError, jqtrade.TaskError)


def test_what_hooks_and_trading_methods_hand_out_is_exported():
    # The annotations name types imported for type checkers only; resolve them as mypy does.
    names = {**vars(importlib.import_module("jqtrade.account.order")), **vars(jqtrade)}

    def hints(method: str) -> dict[str, object]:
        return typing.get_type_hints(getattr(jqtrade.Strategy, method), localns=names)

    assert hints("on_order_update")["order"] is jqtrade.OrderSnapshot
    assert hints("on_trade")["trade"] is jqtrade.Trade
    assert hints("get_orders")["return"] == jqtrade.OrdersView[jqtrade.OrderSnapshot]
    assert hints("sync_balance")["return"] is jqtrade.Portfolio
    assert hints("order")["return"] is str


def test_report_types_are_frozen_values():
    import attrs

    for cls in (
        jqtrade.OrderReport,
        jqtrade.TradeReport,
        jqtrade.BalanceReport,
        jqtrade.PositionReport,
    ):
        assert attrs.has(cls) and cls.__setattr__ is not object.__setattr__, cls


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
