"""The order journal: an append-only, fsynced record of every order intent and its outcome.

One file per task and trading day, JSON lines written as UTF-8 bytes ending in ``\\n`` through
an unbuffered handle, so every record reaches the OS before the ``record_*`` call returns and
survives ``kill -9``. Intents, failures and cancel requests are also ``os.fsync``-ed (they
survive a power loss); ``sent`` and ``state`` records are not: losing them only turns an order
into an "interrupted" one, which recovery settles from the broker's reports.

Records (key ``t``): ``intent`` (the full request, before the gate call), ``sent`` (the gate
returned), ``send_failed`` (the gate raised; ``reason``), ``cancel_requested``, and ``state``
(the order's status and quantities after a change). An ``intent`` with neither ``sent`` nor
``send_failed`` after it was interrupted: nobody knows whether the broker got it, so it must
not be sent again automatically (see :class:`RecoveredOrder`).

Appending is O(1): the file stays open in append-binary mode and is never rewritten.
``replay`` tolerates a torn last line (a write cut by ``kill -9``) and garbage lines: they are
logged and skipped.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Literal, Optional

import attrs
import pendulum

from jqtrade.account.order import Order
from jqtrade.errors import JournalError, ReportFormatError
from jqtrade.fileio import fsync_directory, safe_file_name
from jqtrade.model.orders import (
    LimitOrderStyle,
    MarketOrderStyle,
    OrderAction,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderStyle,
)
from jqtrade.model.reports import OrderReport, order_report_from_mapping

logger = logging.getLogger("jqtrade.account")

Outcome = Literal["sent", "failed", "interrupted"]

#: err_msg given to an interrupted order that the broker never reported.
INTERRUPTED_MESSAGE = (
    "下单过程中程序中断（进程被杀或崩溃），无法确认券商是否收到该订单；"
    "券商没有回报此订单，jqtrade 不会自动重发，请策略自行决定是否重新下单"
)


def _style_to_json(style: OrderStyle) -> dict[str, Any]:
    if isinstance(style, LimitOrderStyle):
        return {"type": "limit", "price": style.price}
    return {"type": "market"}


def _style_from_json(data: Mapping[str, Any]) -> OrderStyle:
    kind = data.get("type")
    if kind == "limit":
        return LimitOrderStyle(data["price"])
    if kind == "market":
        return MarketOrderStyle()
    raise ValueError(f"未知的下单方式 {data!r}")


def _time_to_json(value: Optional[_dt.datetime]) -> Optional[str]:
    return value.isoformat() if value is not None else None


def _time_from_json(value: Optional[str]) -> Optional[pendulum.DateTime]:
    if not value:
        return None
    parsed = pendulum.parse(value)
    if not isinstance(parsed, pendulum.DateTime):
        raise ValueError(f"不是时间：{value!r}")
    return parsed


def _request_from_record(record: Mapping[str, Any]) -> OrderRequest:
    return OrderRequest(
        order_id=str(record["id"]),
        code=str(record["code"]),
        action=OrderAction(record["action"]),
        amount=int(record["amount"]),
        style=_style_from_json(record["style"]),
        side=OrderSide(record.get("side", "long")),
        create_time=_time_from_json(record.get("create_time")),
    )


@attrs.frozen(kw_only=True)
class RecoveredOrder:
    """What the journal knows of one order after a restart.

    ``outcome``: ``sent`` (the gate accepted the call), ``failed`` (the gate raised; the order
    never reached the broker), ``interrupted`` (the process died between the intent and the
    outcome). An interrupted order must not be re-sent: if the broker reports it, apply the
    report; otherwise mark it rejected with :data:`INTERRUPTED_MESSAGE`.
    """

    request: OrderRequest
    outcome: Outcome
    send_error: Optional[str] = None
    cancel_requested: bool = False
    last_state: Optional[Mapping[str, Any]] = attrs.field(default=None, eq=False)

    @property
    def order_id(self) -> str:
        return self.request.order_id

    def to_order(self) -> Order:
        """Rebuild the live order: the request, then the last recorded state.

        A ``failed`` order still ``new`` becomes ``rejected`` with the recorded reason. An
        ``interrupted`` one stays ``new``; the account decides once the broker has reported.
        """
        order = Order.from_request(self.request)
        if self.last_state:
            # Read through the dict contract: it checks every field of a hand-edited or
            # older journal line, and a bad one leaves the order as the intent made it.
            try:
                state = order_report_from_mapping(self.last_state)
            except ReportFormatError as exc:
                logger.warning(
                    "订单 %s 的日志状态无法识别，按下单时的状态恢复：%s", self.order_id, exc
                )
            else:
                order.apply_report(state)
        if self.outcome == "failed" and order.status is OrderStatus.new:
            order.mark_rejected(self.send_error or "发送订单失败")
        if self.cancel_requested and not order.is_final and order.status is not OrderStatus.new:
            order.mark_canceling()
        return order


@attrs.define
class _Builder:
    request: OrderRequest
    outcome: Outcome = "interrupted"
    send_error: Optional[str] = None
    cancel_requested: bool = False
    last_state: Optional[dict[str, Any]] = None

    def build(self) -> RecoveredOrder:
        return RecoveredOrder(
            request=self.request,
            outcome=self.outcome,
            send_error=self.send_error,
            cancel_requested=self.cancel_requested,
            last_state=self.last_state,
        )


#: Report fields the ``intent`` record holds already: a ``state`` record leaves them out.
_INTENT_FIELDS = frozenset({"order_id", "code", "action", "amount", "price"})
#: What a ``state`` record holds: every other field of the order's state report, by its name.
#: The keys are those of the dict contract (jqtrade before typed reports wrote the same ones,
#: without ``update_time``), so journals of either version replay.
_STATE_FIELDS = tuple(
    field.name for field in attrs.fields(OrderReport) if field.name not in _INTENT_FIELDS
)


def _state_value(value: Any) -> Any:
    """A report field as JSON: money as exact decimal text, times in ISO form."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, OrderStatus):
        return value.value
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    return value


class OrderJournal:
    """The journal of one task for one trading day (``<directory>/orders_<task>_<YYYYMMDD>.jsonl``,
    ``<task>`` made a safe file name by :func:`jqtrade.fileio.safe_file_name`)."""

    def __init__(
        self, directory: Path, task_name: str, trading_day: _dt.date, *, fsync: bool = True
    ) -> None:
        self.directory = Path(directory)
        #: ``False`` on a simulated clock: its records need only survive a killed process
        #: (unbuffered writes do), not a power cut, and a simulated year sends thousands.
        self.fsync = fsync
        self.task_name = task_name
        self.trading_day = trading_day
        self.path = (
            self.directory / f"orders_{safe_file_name(task_name)}_{trading_day:%Y%m%d}.jsonl"
        )
        self._file: Optional[IO[bytes]] = None

    # -- writing --

    def _open(self) -> IO[bytes]:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            created = not self.path.exists()
            needs_newline = False
            if not created and self.path.stat().st_size > 0:
                with open(self.path, "rb") as tail:
                    tail.seek(-1, os.SEEK_END)
                    needs_newline = tail.read(1) != b"\n"
            handle = open(self.path, "ab", buffering=0)  # noqa: SIM115 - kept open on purpose
            if needs_newline:
                # A torn last line from a killed process: end it so the next record stands alone.
                self._write_all(handle, b"\n")
                if self.fsync:
                    os.fsync(handle.fileno())
            if created and self.fsync:
                fsync_directory(self.directory)
        except OSError as exc:
            raise JournalError(f"无法打开订单日志 {self.path}：{exc}") from exc
        self._file = handle
        return handle

    @staticmethod
    def _write_all(handle: IO[bytes], data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = handle.write(view)
            if not written:
                raise OSError("写入 0 字节")
            view = view[written:]

    def _append(self, record: dict[str, Any], *, durable: bool = True) -> None:
        """Write one record. The file is unbuffered, so every record survives a killed process;
        ``durable`` also fsyncs it so it survives a power loss."""
        data = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
        handle = self._file if self._file is not None else self._open()
        try:
            self._write_all(handle, data)
            if durable and self.fsync:
                os.fsync(handle.fileno())
        except OSError as exc:
            # Reopen next time: the reopen also ends a torn record with a newline.
            self.close()
            raise JournalError(f"无法写入订单日志 {self.path}：{exc}") from exc

    @staticmethod
    def _stamp(record: dict[str, Any], at: Optional[_dt.datetime]) -> dict[str, Any]:
        if at is not None:
            record["at"] = at.isoformat()
        return record

    def record_intent(self, request: OrderRequest, *, at: Optional[_dt.datetime] = None) -> None:
        """Before the gate call: the whole request, so a restart can rebuild the order."""
        self._append(
            self._stamp(
                {
                    "t": "intent",
                    "id": request.order_id,
                    "code": request.code,
                    "action": request.action.value,
                    "amount": request.amount,
                    "style": _style_to_json(request.style),
                    "side": request.side.value,
                    "create_time": _time_to_json(request.create_time),
                },
                at,
            )
        )

    def record_sent(self, order_id: str, *, at: Optional[_dt.datetime] = None) -> None:
        # Not fsynced: if only a power loss drops it, recovery sees an interrupted intent and
        # asks the broker (has_order / sync), which is the truth anyway. Halves order() cost.
        self._append(self._stamp({"t": "sent", "id": order_id}, at), durable=False)

    def record_send_failed(
        self, order_id: str, reason: str, *, at: Optional[_dt.datetime] = None
    ) -> None:
        self._append(self._stamp({"t": "send_failed", "id": order_id, "reason": reason}, at))

    def record_cancel_requested(self, order_id: str, *, at: Optional[_dt.datetime] = None) -> None:
        self._append(self._stamp({"t": "cancel_requested", "id": order_id}, at))

    def record_state(self, order: Order, *, at: Optional[_dt.datetime] = None) -> None:
        """After a status or fill change: the order's :meth:`~Order.state_report`, less what
        the intent holds, keyed by report field name."""
        state = order.state_report()
        record: dict[str, Any] = {"t": "state", "id": order.order_id}
        for name in _STATE_FIELDS:
            record[name] = _state_value(getattr(state, name))
        self._append(
            self._stamp(record, at), durable=False
        )  # re-derivable from the broker's reports

    def close(self) -> None:
        handle, self._file = self._file, None
        if handle is not None:
            try:
                handle.close()
            except OSError:  # a handle that failed a write may fail its close too
                pass

    def __enter__(self) -> OrderJournal:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- reading --

    def replay(self) -> dict[str, RecoveredOrder]:
        """Today's orders as recorded, in intent order. Missing file -> empty dict."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise JournalError(f"无法读取订单日志 {self.path}：{exc}") from exc
        lines = data.split(b"\n")
        if lines[-1]:
            logger.warning(
                "订单日志 %s 的最后一行不完整（写入时进程可能被强制结束），已忽略：%r",
                self.path,
                lines[-1][:200],
            )
        builders: dict[str, _Builder] = {}
        for lineno, raw in enumerate(lines[:-1], start=1):
            if not raw.strip():
                continue
            try:
                self._replay_line(raw, builders)
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                logger.warning(
                    "订单日志 %s 第 %d 行无法识别，已跳过：%s（%r）",
                    self.path,
                    lineno,
                    exc,
                    raw[:200],
                )
        return {order_id: builder.build() for order_id, builder in builders.items()}

    @staticmethod
    def _replay_line(raw: bytes, builders: dict[str, _Builder]) -> None:
        record = json.loads(raw.decode("utf-8"))
        if not isinstance(record, dict):
            raise ValueError("记录不是 JSON 对象")
        kind = record["t"]
        order_id = str(record["id"])
        if kind == "intent":
            if order_id in builders:
                raise ValueError(f"订单 {order_id} 的 intent 重复出现")
            builders[order_id] = _Builder(request=_request_from_record(record))
            return
        builder = builders.get(order_id)
        if builder is None:
            raise ValueError(f"订单 {order_id} 没有 intent 记录")
        if kind == "sent":
            builder.outcome = "sent"
        elif kind == "send_failed":
            builder.outcome = "failed"
            builder.send_error = str(record.get("reason", ""))
        elif kind == "cancel_requested":
            builder.cancel_requested = True
        elif kind == "state":
            builder.last_state = {k: v for k, v in record.items() if k not in ("t", "id", "at")}
            # A state recorded after a cancel request already shows what became of it (e.g.
            # "open" again after a refused cancel); only a later request still counts.
            builder.cancel_requested = False
        else:
            raise ValueError(f"未知的记录类型 {kind!r}")
