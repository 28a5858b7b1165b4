"""The account of one task: trading API, order tracking, broker sync, journal and recovery.

Everything here runs on the event loop's thread: the periodic syncs are loop jobs, so no
other thread ever touches account state. Every order is journaled (fsynced) before the gate
sees it; a restart the same day restores today's orders from the journal and never re-sends.
"""

from __future__ import annotations

import datetime
import logging
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Callable, Optional, Union

import pendulum

from jqtrade.account.checks import check_order
from jqtrade.account.codes import board_of, normalize_code
from jqtrade.account.ids import OrderIdAllocator
from jqtrade.account.journal import INTERRUPTED_MESSAGE, OrderJournal
from jqtrade.account.models import (
    LimitOrderStyle,
    OrderRequest,
    OrderStatus,
    OrderStyle,
)
from jqtrade.account.order import Order, OrderChange, OrdersView
from jqtrade.account.portfolio import Portfolio, Position
from jqtrade.clock import Clock
from jqtrade.errors import GateError, OrderNotFoundError, OrderRejectedError
from jqtrade.gates.base import AbsTradeGate
from jqtrade.options import Options

logger = logging.getLogger("jqtrade.account")

UserHook = Callable[[str, Any], None]


def _info_of(order: Order) -> tuple[Any, ...]:
    """The fields a report may change without changing status or quantities."""
    return (order.broker_order_id, order.err_msg, order.commission, order.entrust_time)


class Account:
    """Orders and balances of one task, kept in sync with the broker through ``gate``."""

    def __init__(
        self,
        *,
        gate: AbsTradeGate,
        clock: Clock,
        options: Options,
        runtime_dir: Path,
        task_name: str,
        notify: Optional[UserHook] = None,
        id_dir: Optional[Path] = None,
    ) -> None:
        self.gate = gate
        self.clock = clock
        self.options = options
        self.runtime_dir = Path(runtime_dir)
        self.task_name = task_name
        self._notify = notify or (lambda hook, value: None)
        self._id_dir = Path(id_dir) if id_dir is not None else self.runtime_dir / "order_ids"
        self._orders: dict[str, Order] = {}
        self._portfolio = Portfolio.empty()
        self._balance_known = False
        self._unknown_ids: set[str] = set()
        self._pending_interrupted: set[str] = set()
        self._resend_cancels: set[str] = set()
        self._failing: dict[str, str] = {}  # what -> the last failure already logged
        self.last_order_sync: Optional[pendulum.DateTime] = None
        self.day: Optional[datetime.date] = None
        self._journal: Optional[OrderJournal] = None
        self._ids: Optional[OrderIdAllocator] = None

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Open today's journal, restore today's orders, and do a first sync."""
        self._open_day(self.clock.now().date())
        if self.options.sync_order:
            self.sync_orders(quiet=True)
        if self.options.sync_balance:
            self.sync_balance(quiet=True)
        self._prefetch_ids()

    def close(self) -> None:
        if self._journal is not None:
            self._journal.close()
        self.gate.close()

    def _open_day(self, day: datetime.date) -> None:
        if self._journal is not None:
            self._journal.close()
        self.day = day
        self._orders.clear()
        self._unknown_ids.clear()
        self._pending_interrupted.clear()
        self._resend_cancels.clear()
        self._journal = OrderJournal(self.runtime_dir / "journal", self.task_name, day)
        self._ids = OrderIdAllocator(self._id_dir, day)
        for order_id, recovered in self._journal.replay().items():
            order = recovered.to_order()
            self._orders[order_id] = order
            if recovered.outcome == "interrupted" and order.status is OrderStatus.new:
                self._pending_interrupted.add(order_id)
            if recovered.cancel_requested and not order.is_final:
                # The process may have died between journaling the cancel and sending it.
                self._resend_cancels.add(order_id)
        if self._orders:
            logging.getLogger("jqtrade.task").info(
                "从订单日志恢复了今天的 %d 个订单（其中 %d 个下单时被中断，等待券商回报确认）",
                len(self._orders), len(self._pending_interrupted),
            )

    def _check_day(self) -> None:
        today = self.clock.now().date()
        if today != self.day:
            logger.warning("日期变为 %s，切换到新一天的订单日志和订单号", today)
            self._open_day(today)

    # -- trading API ------------------------------------------------------------------------

    def order(self, code: str, amount: int, style: Optional[OrderStyle] = None, side: str = "long") -> str:
        self._check_day()
        position = self._position_or_none(code)
        checked = check_order(
            code,
            amount,
            style,
            side,
            position=position,
            available_cash=self._portfolio.available_cash if self._balance_known else None,
            reference_price=(position.last_price or None) if position is not None else None,
            disabled=self.options.disabled_checks,
        )
        assert self._ids is not None and self._journal is not None
        now = self.clock.now()
        request = OrderRequest(
            order_id=self._ids.allocate(),
            code=checked.code,
            action=checked.action,
            amount=checked.amount,
            style=checked.style,
            side=checked.side,
            create_time=now,
        )
        self._journal.record_intent(request, at=now)
        order = Order.from_request(request)
        self._orders[request.order_id] = order
        try:
            self.gate.order(request)
        except GateError as exc:
            reason = f"发送订单失败：{exc}"
            self._journal.record_send_failed(request.order_id, reason)
            self._emit(order.mark_rejected(reason), order)
            raise
        except Exception as exc:  # noqa: BLE001 - unknown gate failure: the order may have left
            logger.exception("交易接口下单时出现意外错误，订单 %s 是否送达未知，等待券商回报", request.order_id)
            self._pending_interrupted.add(request.order_id)
            raise GateError(f"交易接口下单出错（订单 {request.order_id} 状态待券商确认）：{exc}") from exc
        self._journal.record_sent(request.order_id)
        logger.info("已下单 %s：%s %s 股 %r", request.order_id, request.code, amount, request.style)
        return request.order_id

    def cancel_order(self, order_id: str) -> None:
        # Ids restart every day: yesterday's id must not cancel today's order of that number.
        self._check_day()
        order = self._orders.get(str(order_id))
        if order is None:
            raise OrderNotFoundError(order_id)
        if order.is_final:
            logger.info("订单 %s 已是最终状态 %s，无需撤单", order_id, order.status.value)
            return
        assert self._journal is not None
        self._journal.record_cancel_requested(order.order_id)
        self.gate.cancel_order(order.order_id)
        if order.status is not OrderStatus.new:
            self._emit(order.mark_canceling(), order)

    def batch_submit_orders(self, orders: Iterable[Mapping[str, Any]]) -> list[Optional[str]]:
        ids: list[Optional[str]] = []
        for index, spec in enumerate(orders):
            try:
                if not isinstance(spec, Mapping) or "code" not in spec or "amount" not in spec:
                    raise OrderRejectedError("bad_batch_entry", f"第 {index + 1} 项 {spec!r} 应为含 code、amount 的 dict")
                unknown = set(spec) - {"code", "amount", "style", "side"}
                if unknown:
                    raise OrderRejectedError("bad_batch_entry", f"第 {index + 1} 项有未知的键 {sorted(unknown)}；可用：code、amount、style、side")
                ids.append(self.order(spec["code"], spec["amount"], spec.get("style"), spec.get("side", "long")))
            except (OrderRejectedError, GateError) as exc:
                logger.error("批量下单第 %d 项失败：%s", index + 1, exc)
                ids.append(None)
        return ids

    def batch_cancel_orders(self, order_ids: Iterable[str]) -> None:
        for order_id in order_ids:
            try:
                self.cancel_order(order_id)
            except (OrderNotFoundError, GateError) as exc:
                logger.error("批量撤单 %s 失败：%s", order_id, exc)

    def get_orders(
        self,
        order_id: Optional[str] = None,
        code: Optional[str] = None,
        status: Union[OrderStatus, str, None] = None,
    ) -> OrdersView:
        self._check_day()  # today's orders only, even before the first sync of a new day
        snapshots = [o.snapshot() for o in self._orders.values()]
        return OrdersView(snapshots).select(order_id=order_id, code=code, status=status)

    def order_target(self, code: str, target_amount: int, style: Optional[OrderStyle] = None) -> Optional[str]:
        if isinstance(target_amount, bool) or not isinstance(target_amount, int) or target_amount < 0:
            raise OrderRejectedError("bad_amount", f"目标持仓 {target_amount!r} 应为 ≥ 0 的整数股数")
        if not self._balance_known:
            # An empty portfolio here means "never synced", not "holds nothing": sizing from
            # it would buy the whole target again on top of what is already held.
            raise OrderRejectedError(
                "position_unknown",
                f"还没有从券商同步到持仓，无法计算 {code} 调整到 {target_amount} 股需要买卖多少；"
                f"请等同步成功后再调用 order_target（可先调用 sync_balance()）",
            )
        current = self._position(code).total_amount
        delta = target_amount - current
        if delta == 0:
            return None
        return self.order(code, delta, style)

    def order_value(self, code: str, value: float, style: Optional[OrderStyle] = None) -> Optional[str]:
        if not isinstance(style, LimitOrderStyle) or style.price <= 0:
            raise OrderRejectedError(
                "need_limit_price",
                f"order_value 需要用限价单的价格计算股数，请传入 style=LimitOrderStyle(价格)；收到 {style!r}",
            )
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value == 0:
            raise OrderRejectedError("bad_amount", f"金额 {value!r} 应为非零数字（正数买入，负数卖出）")
        norm = normalize_code(code)
        shares = int(abs(value) // style.price)
        if board_of(norm).value == "star":
            shares = shares if shares >= 200 else 0
        else:
            shares -= shares % 100
        if shares == 0:
            raise OrderRejectedError("value_too_small", f"金额 {value!r} 按价格 {style.price:g} 不足一手，无法下单")
        return self.order(norm, shares if value > 0 else -shares, style)

    # -- state ------------------------------------------------------------------------------

    @property
    def portfolio(self) -> Portfolio:
        return self._portfolio

    def _position(self, code: str) -> Position:
        return self._portfolio.long_positions[normalize_code(code)]

    def _position_or_none(self, code: str) -> Optional[Position]:
        if not self._balance_known:
            return None
        try:
            return self._position(code)
        except OrderRejectedError:
            return None  # the check reports the bad code with its own reason

    # -- sync -------------------------------------------------------------------------------

    def sync_balance(self, *, quiet: bool = False) -> Portfolio:
        try:
            data = self.gate.sync_balance()
            self._portfolio = Portfolio.from_balance(data, self.clock.now())
            self._balance_known = True
            self._recovered("balance", "资金持仓")
        except Exception as exc:  # noqa: BLE001 - keep the last good state, say it is stale
            self._portfolio = self._portfolio.mark_stale(str(exc))
            self._failed("balance", f"同步资金持仓失败，沿用上次结果：{exc}", quiet)
        return self._portfolio

    def _failed(self, what: str, message: str, quiet: bool) -> None:
        """Log a sync failure once, not every few seconds while it lasts."""
        if self._failing.get(what) == message:
            logger.debug(message)
            return
        self._failing[what] = message
        (logger.info if quiet else logger.warning)(message)

    def _recovered(self, what: str, label: str) -> None:
        if self._failing.pop(what, None) is not None:
            logger.warning("同步%s已恢复正常", label)

    def sync_orders(self, *, quiet: bool = False) -> None:
        self._check_day()
        self._resend_recovered_cancels()  # first, so the reports below already reflect them
        try:
            reports = self.gate.sync_orders()
        except Exception as exc:  # noqa: BLE001
            self._failed("orders", f"同步订单失败，沿用上次结果：{exc}", quiet)
            return
        self._recovered("orders", "订单")
        now = self.clock.now()
        for report in reports:
            order_id = str(report.get("order_id") or "") if isinstance(report, Mapping) else ""
            order = self._orders.get(order_id)
            if order is None:
                if order_id not in self._unknown_ids:
                    self._unknown_ids.add(order_id)
                    logger.debug("忽略不是本任务下的订单回报：%r", order_id)
                continue
            self._pending_interrupted.discard(order_id)
            info = _info_of(order)
            change = order.apply_report(report, at=now)
            if change is not None:
                self._emit(change, order)
            elif _info_of(order) != info and self._journal is not None:
                # Broker id, message or fees changed without a status change (e.g. the id of
                # a still "new" order, a refused cancel): keep them across a restart too.
                self._journal.record_state(order)
        self.last_order_sync = now
        self._resolve_interrupted()
        self._prefetch_ids()

    def _resend_recovered_cancels(self) -> None:
        """Cancels journaled before a restart, for orders the broker still has working.

        Gates accept a repeated cancel (contract), so sending it again is safe; not sending
        it could leave an order working that the strategy believes is being canceled.
        """
        for order_id in sorted(self._resend_cancels):
            self._resend_cancels.discard(order_id)
            order = self._orders.get(order_id)
            if order is None or order.is_final or order_id in self._pending_interrupted:
                continue
            try:
                self.gate.cancel_order(order_id)
                logger.warning("重启前请求撤销的订单 %s 仍未结束，已再次发送撤单", order_id)
            except Exception as exc:  # noqa: BLE001
                logger.warning("再次发送订单 %s 的撤单失败：%s", order_id, exc)

    def _prefetch_ids(self) -> None:
        if self._ids is None:
            return
        try:
            self._ids.prefetch()
        except Exception as exc:  # noqa: BLE001 - order() will reserve itself and report a real failure
            logger.warning("预留订单号失败（下单时会再试）：%s", exc)

    def _resolve_interrupted(self) -> None:
        """Interrupted intents the broker does not know after a full sync were never sent."""
        if not self._pending_interrupted:
            return
        known = getattr(self.gate, "has_order", None)
        for order_id in sorted(self._pending_interrupted):
            answer = known(order_id) if callable(known) else False
            if answer:
                continue  # reached the broker; its report will follow
            order = self._orders[order_id]
            self._pending_interrupted.discard(order_id)
            assert self._journal is not None
            self._journal.record_send_failed(order_id, INTERRUPTED_MESSAGE)
            self._emit(order.mark_rejected(INTERRUPTED_MESSAGE), order)
            logger.warning("订单 %s：%s", order_id, INTERRUPTED_MESSAGE)

    def _emit(self, change: Optional[OrderChange], order: Order) -> None:
        if change is None:
            return
        if self._journal is not None:
            self._journal.record_state(order)
        self._notify("on_order_update", order.snapshot())
        if change.trade is not None:
            self._notify("on_trade", change.trade)
