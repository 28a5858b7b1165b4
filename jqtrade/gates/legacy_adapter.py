"""Run a jqtrade 1.0 custom trade gate behind today's ``AbsTradeGate`` contract.

A 1.0 gate differs from the dict contract of :mod:`jqtrade.gates.dict_adapter` in four places;
this adapter translates each into that contract, and :class:`DictGateAdapter` (its base) turns
the result into typed reports, checking every row:

``setup(self, options)``
    No ``clock`` keyword, and every option at the top level of the dict (1.0 handed the whole
    ``set_options`` dict over, a gate's own keys included). The adapter accepts today's
    ``setup(options, clock=...)``, moves the keys under ``options["gate_options"]`` back to the
    top level, leaves out options that are unset (``None``, so ``options.get(key, default)``
    keeps working), and adds 1.0's spelling ``sync_internal``.

``order(self, sys_order)``
    An order object with 1.0's attributes (:class:`LegacyOrder`): ``price`` 0 for a market
    order, ``create_time`` a naive Beijing-time ``datetime``, ``style`` with ``.price`` and
    ``.value``. An exception from a 1.0 gate meant "the order failed" (1.0's contract says so);
    it becomes a :class:`GateError`, so the order is marked rejected with the reason.

``sync_balance()``
    ``{"cash": {"total_asset", "available_cash", "locked_cash"}, "positions": [{"code",
    "amount", "available_amount", "avg_cost", "last_price", "position_value", "side"}]}`` is
    converted to today's keys (today's own keys are accepted as well). Data whose required keys
    are missing (1.0's documented typo ``total_assert``, or anything else) is a clear error
    naming the keys found and the keys expected, never a zero portfolio. The first snapshot is
    read during ``setup``, as 1.0 did, so such a gate stops the task at start.

``sync_orders()``
    1.0's order dicts (``confirm_id``, ``avg_cost``, ``style``, ``create_time`` /
    ``entrust_time`` as strings or naive datetimes) become :class:`OrderReport` values. A row
    missing required keys is logged as an error naming them and skipped.

Detection is by behaviour, not by class: a gate class whose ``setup`` takes neither a
``clock`` keyword nor ``**kwargs`` is a 1.0 gate (:func:`is_legacy_gate_class`; all the rules
are in :mod:`jqtrade.gates`).
"""

from __future__ import annotations

import datetime
import inspect
import logging
import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Callable, Optional, cast

import attrs
import pendulum

from jqtrade.clock import MARKET_TZ
from jqtrade.errors import GateConfigError, GateError, JqTradeError
from jqtrade.gates.base import GateEnv
from jqtrade.gates.dict_adapter import DictGateAdapter
from jqtrade.model.orders import (
    LimitOrderStyle,
    OrderAction,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderStyle,
)
from jqtrade.model.reports import (
    BalanceReport,
    OrderReport,
    balance_report_from_mapping,
    order_report_from_mapping,
)

logger = logging.getLogger("jqtrade.gates.legacy")

GATE_METHODS = ("order", "cancel_order", "sync_balance", "sync_orders")

#: What each part of a 1.0 ``sync_balance`` may contain: 1.0's key, or today's in brackets.
CASH_EXPECTED = "total_asset（或 total_value）、available_cash、locked_cash"
POSITION_EXPECTED = (
    "code、amount（或 total_amount）、available_amount（或 closeable_amount），"
    "可选 avg_cost、last_price、position_value、side"
)
ORDER_EXPECTED = (
    "order_id、code、amount、action、status，可选 price、style、confirm_id、filled_amount、"
    "canceled_amount、deal_balance、avg_cost、commission、err_msg、create_time、entrust_time"
)
_CASH_KEYS = {"total_asset", "total_value", "available_cash", "locked_cash"}
_POSITION_KEYS = {
    "code",
    "amount",
    "total_amount",
    "available_amount",
    "closeable_amount",
    "avg_cost",
    "acc_avg_cost",
    "last_price",
    "price",
    "position_value",
    "value",
    "side",
}
_ORDER_KEYS = {
    "order_id",
    "code",
    "price",
    "amount",
    "action",
    "status",
    "style",
    "create_time",
    "entrust_time",
    "update_time",
    "side",
    "confirm_id",
    "broker_order_id",
    "filled_amount",
    "canceled_amount",
    "deal_balance",
    "avg_cost",
    "avg_price",
    "commission",
    "err_msg",
}
#: Keys people write by mistake, and what they meant.
_TYPOS = {
    "total_assert": "'total_assert' 是 jqtrade 1.0 文档中的笔误，1.0 实际读取的是 'total_asset'，"
    "照文档写的接口在 1.0 中总资产一直是 0，请改为 'total_asset'",
}
_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S")


def is_legacy_gate_class(cls: type) -> bool:
    """A 1.0 gate: its ``setup`` takes the options only (no ``clock`` keyword, no ``**kwargs``)."""
    setup = getattr(cls, "setup", None)
    if not callable(setup):
        return False
    try:
        parameters = inspect.signature(setup).parameters.values()
    except (TypeError, ValueError):  # a builtin or C method: cannot tell, treat as today's
        return False
    return not any(p.kind is inspect.Parameter.VAR_KEYWORD or p.name == "clock" for p in parameters)


def looks_like_gate(cls: type) -> bool:
    """The methods every gate, 1.0 or today's, must have."""
    return all(callable(getattr(cls, name, None)) for name in GATE_METHODS)


class LegacyFormatError(GateError):
    """A 1.0 gate returned data whose keys the adapter does not understand."""

    def __init__(
        self,
        gate: str,
        method: str,
        what: str,
        row: Mapping[str, Any],
        missing: list[str],
        known: set[str],
        expected: str,
    ) -> None:
        unknown = sorted(str(key) for key in row if key not in known)
        message = f"交易接口 {gate} 的 {method} 返回的{what}缺少 {missing}"
        if unknown:
            message += f"，有无法识别的键 {unknown}"
        hints = "；".join(_TYPOS[key] for key in unknown if key in _TYPOS)
        if hints:
            message += f"（{hints}）"
        message += f"；应包含 {expected}，实际收到的键：{sorted(str(key) for key in row)}"
        super().__init__(message)
        self.missing = missing
        self.unknown = unknown


@attrs.frozen(kw_only=True)
class LegacyOrder:
    """The order a 1.0 gate's ``order(sys_order)`` receives: 1.0's attribute names and types."""

    order_id: str
    code: str
    price: float  # the limit price; 0 for a market order (as 1.0's ``style.price``)
    amount: int  # always positive; ``action`` says buy or sell
    action: OrderAction
    style: OrderStyle
    side: OrderSide = OrderSide.long
    create_time: Optional[datetime.datetime] = None  # naive Beijing time
    status: OrderStatus = OrderStatus.new
    entrust_time: Optional[datetime.datetime] = None
    confirm_id: Optional[str] = None
    filled_amount: int = 0
    canceled_amount: int = 0
    deal_balance: float = 0.0
    avg_cost: Optional[float] = None
    commission: float = 0.0
    err_msg: str = ""

    @classmethod
    def from_request(
        cls, request: OrderRequest, now: Callable[[], pendulum.DateTime]
    ) -> LegacyOrder:
        price = float(request.price) if request.price is not None else 0.0
        created = request.create_time or now()
        return cls(
            order_id=str(request.order_id),
            code=request.code,
            price=price,
            amount=int(request.amount),
            action=request.action,
            style=legacy_style(request.style, price),
            side=request.side,
            create_time=naive_market_time(created),
        )

    def has_finished(self) -> bool:
        return self.status.is_final

    def json(self) -> dict[str, Any]:
        """1.0's ``Order.json()``: plain values, times as ``%Y-%m-%d %H:%M:%S.%f`` strings."""

        def text(value: Optional[datetime.datetime]) -> Optional[str]:
            return value.strftime(_TIME_FORMATS[0]) if value is not None else None

        return {
            "code": self.code,
            "price": self.price,
            "amount": self.amount,
            "action": self.action.value,
            "order_id": self.order_id,
            "status": self.status.value,
            "style": getattr(self.style, "value", None),
            "create_time": text(self.create_time),
            "entrust_time": text(self.entrust_time),
            "side": self.side.value,
            "confirm_id": self.confirm_id,
            "filled_amount": self.filled_amount,
            "canceled_amount": self.canceled_amount,
            "deal_balance": self.deal_balance,
            "avg_cost": self.avg_cost,
            "commission": self.commission,
            "err_msg": self.err_msg,
        }


_STYLE_CLASSES: dict[type, type] = {}


def legacy_style(style: OrderStyle, price: float) -> OrderStyle:
    """``style`` itself when it already has 1.0's ``.price`` and ``.value``; otherwise an
    instance of a subclass of the same name that adds them (``isinstance`` and the class name,
    which 1.0 gates test, stay true)."""
    if hasattr(style, "price") and hasattr(style, "value"):
        return style
    base = type(style)
    if not attrs.has(base):
        return style
    sub = _STYLE_CLASSES.get(base)
    if sub is None:
        value = "limit" if isinstance(style, LimitOrderStyle) else "market"
        namespace: dict[str, Any] = {
            "__slots__": (),
            "__module__": base.__module__,
            "__qualname__": base.__qualname__,
        }
        if not hasattr(style, "value"):
            namespace["value"] = property(lambda self: value)
        if not hasattr(style, "price"):
            namespace["price"] = property(lambda self: 0)
        sub = _STYLE_CLASSES[base] = type(base.__name__, (base,), namespace)
    return cast(OrderStyle, sub(**attrs.asdict(style, recurse=False)))


def naive_market_time(value: datetime.datetime) -> datetime.datetime:
    """A plain naive ``datetime`` of the same instant in Beijing time (what 1.0 gates got)."""
    local = pendulum.instance(value).in_tz(MARKET_TZ)
    return datetime.datetime(
        local.year,
        local.month,
        local.day,
        local.hour,
        local.minute,
        local.second,
        local.microsecond,
    )


def market_time(value: Any) -> Optional[pendulum.DateTime]:
    """A 1.0 time (naive Beijing ``datetime``, aware ``datetime``, or 1.0's string) as an aware
    pendulum value; ``None`` for ``None`` or an empty string. ``ValueError`` otherwise."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        for fmt in _TIME_FORMATS:
            try:
                value = datetime.datetime.strptime(value.strip(), fmt)
                break
            except ValueError:
                continue
        else:
            raise ValueError(f"时间 {value!r} 应为 datetime 或 'YYYY-MM-DD HH:MM:SS[.ffffff]'")
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            return pendulum.instance(value, tz=MARKET_TZ)
        return pendulum.instance(value).in_tz(MARKET_TZ)
    raise ValueError(f"时间 {value!r} 应为 datetime 或 'YYYY-MM-DD HH:MM:SS[.ffffff]'")


def _text_of(value: Any) -> Any:
    """An enum member (1.0's or today's) as its value; anything else unchanged."""
    return getattr(value, "value", value)


def _number(value: Any, key: str, default: Optional[float] = None) -> float:
    if value is None or value == "":
        if default is not None:
            return default
        raise ValueError(f"{key} 为空")
    if isinstance(value, bool):
        raise ValueError(f"{key}={value!r} 不是数字")
    number = float(value) if isinstance(value, (int, float, Decimal, str)) else math.nan
    if not math.isfinite(number):
        raise ValueError(f"{key}={value!r} 不是有限数字")
    return number


def _whole(value: Any, key: str, default: Optional[int] = None) -> int:
    number = _number(value, key, None if default is None else float(default))
    if number != int(number):
        raise ValueError(f"{key}={value!r} 不是整数")
    return int(number)


def legacy_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Today's options dict in the shape 1.0 gates read: gate keys at the top level, unset
    options left out, and 1.0's spelling ``sync_internal`` beside ``sync_interval``."""
    flat = {key: value for key, value in options.items() if value is not None}
    extra = options.get("gate_options") or {}
    if isinstance(extra, Mapping):
        for key, value in extra.items():
            flat.setdefault(str(key), value)
    if not extra:
        flat.pop("gate_options", None)
    if "sync_interval" in flat:
        flat.setdefault("sync_internal", flat["sync_interval"])
    return flat


class LegacyGateAdapter(DictGateAdapter):
    """Today's gate contract around a jqtrade 1.0 gate instance (see the module docstring).

    1.0's rows become dict-contract rows here; :class:`DictGateAdapter` turns those into typed
    reports (one conversion, one error policy for both adapters)."""

    log = logger

    def __init__(self, inner: Any) -> None:
        super().__init__(inner)
        self._first_balance: Optional[BalanceReport] = None

    # -- what differs from the dict contract ------------------------------------------------

    def _setup(self, options: dict[str, Any], env: GateEnv) -> None:
        try:
            self.inner.setup(legacy_options(options))
        except JqTradeError:
            raise
        except Exception as exc:
            raise GateConfigError(
                f"交易接口 {self.label} 的 setup 出错：{type(exc).__name__}: {exc}"
            ) from exc
        # 1.0 read the account right after setup: a gate speaking another format stops here,
        # with the keys named, instead of running on a zero portfolio.
        try:
            raw = self.inner.sync_balance()
        except Exception as exc:  # noqa: BLE001 - not ready yet is fine: the account's syncs retry and report
            logger.debug("启动时读取交易接口 %s 的资金持仓失败，稍后重试：%s", self.label, exc)
            return
        try:
            self._first_balance = balance_report_from_mapping(
                self._balance(raw), on_bad_position=self._bad_position
            )
        except GateError as exc:
            raise GateConfigError(
                f"{exc}。请按 jqtrade 1.0 或当前的格式修改交易接口（见文档“自定义交易接口”）"
            ) from None

    def order(self, request: OrderRequest) -> None:
        sys_order = LegacyOrder.from_request(request, self._clock.now)
        try:
            self.inner.order(sys_order)
        except GateError:
            raise
        except Exception as exc:
            # 1.0's contract: the gate raises when the order failed.
            raise GateError(f"交易接口 {self.label} 下单失败：{type(exc).__name__}: {exc}") from exc

    def _balance_data(self) -> Any:
        first, self._first_balance = self._first_balance, None
        if first is not None:
            return first
        try:
            return self._balance(self.inner.sync_balance())
        except LegacyFormatError as exc:
            self._error_once(str(exc))
            raise

    def _order_report(self, row: Any, day: Any) -> OrderReport:
        return order_report_from_mapping(self._order_row(row), day=day)

    # -- 1.0 -> dict contract ---------------------------------------------------------------

    def _warn_unknown(
        self, method: str, what: str, row: Mapping[str, Any], known: set[str]
    ) -> None:
        unknown = sorted(str(k) for k in row if k not in known)
        if unknown and f"{method}:{what}:{unknown}" not in self._logged:
            self._logged[f"{method}:{what}:{unknown}"] = None
            logger.warning(
                "交易接口 %s 的 %s 返回的%s中有无法识别的键 %s，已忽略",
                self.label,
                method,
                what,
                unknown,
            )

    def _balance(self, raw: Any) -> dict[str, Any]:
        method = "sync_balance"
        if (
            not isinstance(raw, Mapping)
            or not isinstance(raw.get("cash"), Mapping)
            or not isinstance(raw.get("positions"), (list, tuple))
        ):
            raise GateError(
                f"交易接口 {self.label} 的 sync_balance 应返回 {{'cash': {{...}}, 'positions': [...]}}，"
                f"实际返回：{raw!r}"
            )
        cash = raw["cash"]
        total_key = "total_asset" if "total_asset" in cash else "total_value"
        missing = ([] if total_key in cash else ["total_asset"]) + (
            [] if "available_cash" in cash else ["available_cash"]
        )
        if missing:
            raise LegacyFormatError(
                self.label, method, "资金（cash）", cash, missing, _CASH_KEYS, CASH_EXPECTED
            )
        self._warn_unknown(method, "资金（cash）", cash, _CASH_KEYS)
        try:
            out_cash = {
                "total_value": _number(cash[total_key], total_key),
                "available_cash": _number(cash["available_cash"], "available_cash"),
                "locked_cash": _number(cash.get("locked_cash"), "locked_cash", 0.0),
            }
        except (TypeError, ValueError) as exc:
            raise GateError(
                f"交易接口 {self.label} 的 sync_balance 返回的资金不对：{exc}（资金：{dict(cash)!r}）"
            ) from None
        positions = []
        for row in raw["positions"]:
            position = self._position(row)
            if position is not None:
                positions.append(position)
        out: dict[str, Any] = {"cash": out_cash, "positions": positions}
        if "as_of" in raw:
            out["as_of"] = raw["as_of"]
        return out

    def _position(self, row: Any) -> Optional[dict[str, Any]]:
        method, what = "sync_balance", "持仓"
        if not isinstance(row, Mapping):
            raise GateError(
                f"交易接口 {self.label} 的 sync_balance 返回的持仓应为 dict，实际是：{row!r}"
            )
        amount_key = "amount" if "amount" in row else "total_amount"
        closeable_key = "available_amount" if "available_amount" in row else "closeable_amount"
        named = {"total_amount": "amount", "closeable_amount": "available_amount"}
        missing = [
            named.get(key, key) for key in ("code", amount_key, closeable_key) if key not in row
        ]
        if missing:
            raise LegacyFormatError(
                self.label, method, what, row, missing, _POSITION_KEYS, POSITION_EXPECTED
            )
        self._warn_unknown(method, what, row, _POSITION_KEYS)
        side = str(_text_of(row.get("side") or "long"))
        if side != "long":
            self._error_once(
                f"交易接口 {self.label} 返回了 side={side!r} 的持仓 {row.get('code')}：jqtrade 只支持多头（long）持仓，已忽略",
                key=f"side:{row.get('code')}:{side}",
            )
            return None
        try:
            total = _whole(row[amount_key], amount_key)
            last_price = _number(row.get("last_price", row.get("price")), "last_price", 0.0)
            value = row.get("position_value", row.get("value"))
            return {
                "code": str(row["code"]),
                "total_amount": total,
                "closeable_amount": _whole(row[closeable_key], closeable_key),
                "avg_cost": _number(row.get("avg_cost", row.get("acc_avg_cost")), "avg_cost", 0.0),
                "last_price": last_price,
                "position_value": _number(value, "position_value")
                if value not in (None, "")
                else last_price * total,
            }
        except (TypeError, ValueError) as exc:
            raise GateError(
                f"交易接口 {self.label} 的 sync_balance 返回的持仓不对：{exc}（持仓：{dict(row)!r}）"
            ) from None

    def _order_row(self, row: Any) -> dict[str, Any]:
        method, what = "sync_orders", "订单"
        if not isinstance(row, Mapping):
            raise ValueError(f"订单应为 dict，实际是 {type(row).__name__}")
        missing = [key for key in ("code", "amount", "action", "status") if key not in row]
        if missing:
            raise LegacyFormatError(
                self.label, method, what, row, missing, _ORDER_KEYS, ORDER_EXPECTED
            )
        self._warn_unknown(method, what, row, _ORDER_KEYS)
        order_id = row.get("order_id")
        broker_id = row.get("broker_order_id", row.get("confirm_id"))
        status = str(_text_of(row["status"]))
        if status not in OrderStatus.__members__:
            raise ValueError(
                f"未知的订单状态 status={status!r}，可选：{'、'.join(OrderStatus.__members__)}"
            )
        action = str(_text_of(row["action"]))
        if action not in OrderAction.__members__:
            raise ValueError(f"action={action!r} 不合法，应为 open 或 close")
        avg = row.get("avg_price", row.get("avg_cost"))
        report: dict[str, Any] = {
            "order_id": str(order_id) if order_id not in (None, "") else None,
            "broker_order_id": str(broker_id) if broker_id not in (None, "") else None,
            "code": str(row["code"]),
            "action": action,
            "status": status,
            "amount": abs(_whole(row["amount"], "amount")),
            "price": _number(row.get("price"), "price", 0.0),
            "filled_amount": _whole(row.get("filled_amount"), "filled_amount", 0),
            "canceled_amount": _whole(row.get("canceled_amount"), "canceled_amount", 0),
            "avg_price": _number(avg, "avg_cost", 0.0),
            "deal_balance": _number(row.get("deal_balance"), "deal_balance", 0.0),
            "commission": _number(row.get("commission"), "commission", 0.0),
            "err_msg": str(row.get("err_msg") or ""),
            "entrust_time": market_time(row.get("entrust_time")),
        }
        if row.get("update_time") not in (None, ""):
            report["update_time"] = market_time(row["update_time"])
        return report
