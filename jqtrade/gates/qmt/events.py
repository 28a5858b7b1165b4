"""What xtquant's callbacks hand over, copied into plain values and queued for the loop thread.

xtquant calls back on its own worker thread. The callback object built by
:func:`make_callback` does one thing per call: read the pushed object's fields into a frozen
record and put it on an :class:`EventQueue`. The gate drains the queue on the event loop's
thread (in ``sync_orders`` / ``sync_balance``), so the account never sees another thread and
no callback ever calls back into xtquant (a synchronous query there would block xtquant's
only worker thread).

Every record carries ``generation``: the number of the connection (one ``XtQuantTrader``) that
heard it, so a late ``on_disconnected`` of a replaced connection is told from a current one.
"""

from __future__ import annotations

import enum
import queue
from typing import Any, Optional

import attrs


class Kind(str, enum.Enum):
    connected = "connected"
    disconnected = "disconnected"
    account_status = "account_status"
    order = "order"  # on_stock_order
    trade = "trade"  # on_stock_trade
    order_error = "order_error"
    cancel_error = "cancel_error"
    order_response = "order_response"  # on_order_stock_async_response
    cancel_response = "cancel_response"  # on_cancel_order_stock_async_response
    asset = "asset"
    position = "position"


@attrs.frozen(kw_only=True)
class OrderData:
    """The fields of an ``XtOrder`` the gate reads."""

    account_id: str
    stock_code: str
    order_id: int
    order_sysid: str
    order_time: Any
    order_type: int
    order_volume: int
    price_type: int
    price: float
    traded_volume: int
    traded_price: float
    order_status: int
    status_msg: str
    strategy_name: str
    order_remark: str


@attrs.frozen(kw_only=True)
class TradeData:
    """The fields of an ``XtTrade`` the gate reads."""

    account_id: str
    stock_code: str
    order_type: int
    traded_id: str
    traded_time: Any
    traded_price: float
    traded_volume: int
    traded_amount: float
    order_id: int
    order_sysid: str
    strategy_name: str
    order_remark: str
    commission: Optional[float]


@attrs.frozen(kw_only=True)
class OrderErrorData:
    account_id: str
    order_id: int
    error_id: Any
    error_msg: str
    order_remark: str
    seq: Optional[int]


@attrs.frozen(kw_only=True)
class CancelErrorData:
    account_id: str
    order_id: int
    market: Any
    order_sysid: str
    error_id: Any
    error_msg: str


@attrs.frozen(kw_only=True)
class ResponseData:
    """``XtOrderResponse`` / ``XtCancelOrderResponse``."""

    account_id: str
    order_id: int
    seq: int
    order_remark: str = ""
    error_msg: str = ""
    order_sysid: str = ""
    cancel_result: Optional[int] = None


@attrs.frozen(kw_only=True)
class Event:
    kind: Kind
    generation: int
    data: Any = None


def _get(obj: Any, name: str, default: Any = None) -> Any:
    value = getattr(obj, name, default)
    return default if value is None else value


def _int(obj: Any, name: str, default: int = 0) -> int:
    value = getattr(obj, name, default)
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _float(obj: Any, name: str) -> float:
    value = getattr(obj, name, 0.0)
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _str(obj: Any, name: str) -> str:
    value = getattr(obj, name, "")
    return "" if value is None else str(value)


def order_data(obj: Any) -> OrderData:
    return OrderData(
        account_id=_str(obj, "account_id"),
        stock_code=_str(obj, "stock_code"),
        order_id=_int(obj, "order_id"),
        order_sysid=_str(obj, "order_sysid"),
        order_time=_get(obj, "order_time"),
        order_type=_int(obj, "order_type"),
        order_volume=_int(obj, "order_volume"),
        price_type=_int(obj, "price_type"),
        price=_float(obj, "price"),
        traded_volume=_int(obj, "traded_volume"),
        traded_price=_float(obj, "traded_price"),
        order_status=_int(obj, "order_status", 255),
        status_msg=_str(obj, "status_msg"),
        strategy_name=_str(obj, "strategy_name"),
        order_remark=_str(obj, "order_remark"),
    )


def trade_data(obj: Any) -> TradeData:
    commission = getattr(obj, "commission", None)
    return TradeData(
        account_id=_str(obj, "account_id"),
        stock_code=_str(obj, "stock_code"),
        order_type=_int(obj, "order_type"),
        traded_id=_str(obj, "traded_id"),
        traded_time=_get(obj, "traded_time"),
        traded_price=_float(obj, "traded_price"),
        traded_volume=_int(obj, "traded_volume"),
        traded_amount=_float(obj, "traded_amount"),
        order_id=_int(obj, "order_id"),
        order_sysid=_str(obj, "order_sysid"),
        strategy_name=_str(obj, "strategy_name"),
        order_remark=_str(obj, "order_remark"),
        commission=None if commission is None else _float(obj, "commission"),
    )


def order_error_data(obj: Any) -> OrderErrorData:
    seq = getattr(obj, "seq", None)
    return OrderErrorData(
        account_id=_str(obj, "account_id"),
        order_id=_int(obj, "order_id"),
        error_id=_get(obj, "error_id"),
        error_msg=_str(obj, "error_msg"),
        order_remark=_str(obj, "order_remark"),
        seq=seq if isinstance(seq, int) else None,
    )


def cancel_error_data(obj: Any) -> CancelErrorData:
    return CancelErrorData(
        account_id=_str(obj, "account_id"),
        order_id=_int(obj, "order_id"),
        market=_get(obj, "market"),
        order_sysid=_str(obj, "order_sysid"),
        error_id=_get(obj, "error_id"),
        error_msg=_str(obj, "error_msg"),
    )


def response_data(obj: Any) -> ResponseData:
    result = getattr(obj, "cancel_result", None)
    return ResponseData(
        account_id=_str(obj, "account_id"),
        order_id=_int(obj, "order_id"),
        seq=_int(obj, "seq", -1),
        order_remark=_str(obj, "order_remark"),
        error_msg=_str(obj, "error_msg"),
        order_sysid=_str(obj, "order_sysid"),
        cancel_result=result if isinstance(result, int) else None,
    )


class EventQueue:
    """A thread-safe FIFO: any thread puts, the loop thread drains."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Event] = queue.SimpleQueue()

    def put(self, event: Event) -> None:
        self._queue.put(event)

    def drain(self, limit: int = 100_000) -> list[Event]:
        """Everything queued now (at most ``limit``), oldest first; never blocks."""
        out: list[Event] = []
        get = self._queue.get_nowait
        try:
            while len(out) < limit:
                out.append(get())
        except queue.Empty:
            pass
        return out

    def __len__(self) -> int:
        return self._queue.qsize()


def make_callback(base: type, events: EventQueue, generation: int) -> Any:
    """An instance of a subclass of xtquant's ``XtQuantTraderCallback`` (``base``) whose every
    method only copies the pushed object and queues it."""

    def put(kind: Kind, data: Any = None) -> None:
        events.put(Event(kind=kind, generation=generation, data=data))

    def on_connected(self: Any) -> None:
        put(Kind.connected)

    def on_disconnected(self: Any) -> None:
        put(Kind.disconnected)

    def on_account_status(self: Any, status: Any) -> None:
        put(Kind.account_status, (_str(status, "account_id"), _int(status, "status", -1)))

    def on_stock_order(self: Any, order: Any) -> None:
        put(Kind.order, order_data(order))

    def on_stock_trade(self: Any, trade: Any) -> None:
        put(Kind.trade, trade_data(trade))

    def on_order_error(self: Any, error: Any) -> None:
        put(Kind.order_error, order_error_data(error))

    def on_cancel_error(self: Any, error: Any) -> None:
        put(Kind.cancel_error, cancel_error_data(error))

    def on_order_stock_async_response(self: Any, response: Any) -> None:
        put(Kind.order_response, response_data(response))

    def on_cancel_order_stock_async_response(self: Any, response: Any) -> None:
        put(Kind.cancel_response, response_data(response))

    def on_stock_asset(self: Any, asset: Any) -> None:
        put(Kind.asset)

    def on_stock_position(self: Any, position: Any) -> None:
        put(Kind.position)

    methods = {
        name: function
        for name, function in locals().items()
        if name.startswith("on_") and callable(function)
    }
    cls = type("JqTradeQmtCallback", (base,), methods)
    return cls()
