"""The account of one task: trading API, order tracking, broker sync, journal and recovery.

Everything here runs on the event loop's thread: the periodic syncs are loop jobs, so no
other thread ever touches account state. Every order is journaled (fsynced) before the gate
sees it; a restart the same day restores today's orders from the journal and never re-sends.
"""

from __future__ import annotations

import datetime
import functools
import logging
import math
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Optional, TypeVar, Union, cast

import attrs
import pendulum

from jqtrade.account.checks import PriceQuote, check_order
from jqtrade.account.ids import OrderIdAllocator, order_id_day
from jqtrade.account.journal import INTERRUPTED_MESSAGE, OrderJournal
from jqtrade.account.order import Order, OrderChange, OrderSnapshot, OrdersView
from jqtrade.account.overlay import Mark, Overlay, limit_up_estimate
from jqtrade.account.portfolio import Portfolio, Position
from jqtrade.account.risk import (
    RiskGuard,
    RiskLimits,
    RiskOrder,
    TradingState,
    TradingStateChange,
    read_risk_file,
)
from jqtrade.account.risk_store import STORE_NAME, RiskStore, account_key
from jqtrade.calendar import TradingCalendar
from jqtrade.clock import MARKET_TZ, Clock, seconds_between
from jqtrade.errors import (
    GateError,
    GateWriteError,
    JournalError,
    OrderNotFoundError,
    OrderRejectedError,
)
from jqtrade.gates.base import AbsTradeGate
from jqtrade.model.orders import (
    LimitOrderStyle,
    MarketOrderStyle,
    OrderRequest,
    OrderStatus,
    OrderStyle,
)
from jqtrade.model.reports import OrderReport
from jqtrade.model.rules import normalize_code, rules_of
from jqtrade.model.sessions import outside_order_hours
from jqtrade.notify.events import EventKind, EventSink
from jqtrade.options import Options

logger = logging.getLogger("jqtrade.account")

UserHook = Callable[[str, Any], None]
#: ``code -> quote`` for the checks that need prices (the runtime hands in ``context.current_data``'s
#: lookup); it must not raise for want of data, but answer a stale quote saying why.
QuoteLookup = Callable[[str], Optional[PriceQuote]]
_Method = TypeVar("_Method", bound=Callable[..., Any])


#: Failures of one kind with the same message are logged again at most this often (seconds).
REPEAT_LOG_INTERVAL = 60.0
#: Before the first successful sync, failures are expected for this long (files not written
#: yet by a broker that is starting): they are logged at INFO.
STARTUP_QUIET = 120.0

#: err_msg of an order whose line could not be written and that the broker never reported.
WRITE_FAILED_MESSAGE = "写入委托文件失败（如磁盘已满），券商没有收到该订单；jqtrade 不会自动重发，请策略自行决定是否重新下单"
#: err_msg of an order whose gate call failed unexpectedly and that the broker never reported.
UNKNOWN_SEND_MESSAGE = (
    "交易接口下单时出错，券商没有收到该订单；jqtrade 不会自动重发，请策略自行决定是否重新下单"
)


def _info_of(order: Order) -> tuple[Any, ...]:
    """The fields a report may change without changing status or quantities."""
    return (order.broker_order_id, order.err_msg, order.commission, order.entrust_time)


def _mark(order: Order, at: pendulum.DateTime) -> Mark:
    """The overlay's view of an order's state. A ``new`` order is not accepted yet, so no
    broker snapshot can be taken to contain its reservation."""
    working = 0 if order.is_final else order.amount - order.filled_amount - order.canceled_amount
    reported = order.status is not OrderStatus.new
    return Mark(at, order.filled_amount, order.deal_balance, max(working, 0), reported)


def _lent_face(code: str) -> Optional[Decimal]:
    """For a reverse repo, the cash one unit lends (its orders move cash, not shares)."""
    try:
        return rules_of(code).face_value
    except OrderRejectedError:
        return None


def _usable(price: float) -> bool:
    """A price from the market data that can be used (not NaN, not 0)."""
    return math.isfinite(price) and price > 0


def _tells_rejections(action: str) -> Callable[[_Method], _Method]:
    """Tell the notifier about an :class:`OrderRejectedError` the method raises (once, also
    when ``order_target`` refuses inside ``order``), then raise it unchanged."""

    def decorate(method: _Method) -> _Method:
        @functools.wraps(method)
        def wrapper(self: Account, subject: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return method(self, subject, *args, **kwargs)
            except OrderRejectedError as exc:
                self._tell_rejected(exc, action, subject)
                raise

        return cast(_Method, wrapper)

    return decorate


@attrs.define
class _Failure:
    message: str
    logged_at: pendulum.DateTime
    repeats: int = 0


class Account:
    """Orders and balances of one task, kept in sync with the broker through ``gate``."""

    def __init__(
        self,
        *,
        gate: AbsTradeGate[Any],
        clock: Clock,
        options: Options,
        runtime_dir: Path,
        task_name: str,
        notify: Optional[UserHook] = None,
        id_dir: Optional[Path] = None,
        calendar: Optional[TradingCalendar] = None,
        notifier: Optional[EventSink] = None,
        quote_lookup: Optional[QuoteLookup] = None,
    ) -> None:
        """``quote_lookup``: today's quote of a code, for the price checks (``security_paused``,
        ``beyond_price_limit``) and for sizing ``order_value`` at the last price; ``None``: no
        market data, those checks are skipped (said once in the log)."""
        self.gate = gate
        self.clock = clock
        self.options = options
        self.runtime_dir = Path(runtime_dir)
        self.task_name = task_name
        self._notify = notify or (lambda hook, value: None)
        self._calendar = calendar
        self._quote_lookup = quote_lookup
        self._price_checks_skipped = False  # said once in the log
        shared = gate.order_id_dir
        if id_dir is not None:
            self._id_dir = Path(id_dir)
        elif shared is not None:
            self._id_dir = Path(shared)  # every writer of the broker folder draws from one counter
        else:
            self._id_dir = self.runtime_dir / "order_ids"
        self._orders: dict[str, Order] = {}
        self._base = Portfolio.empty()  # the last complete broker snapshot
        self._overlay = Overlay()
        self._view: Optional[tuple[tuple[Any, ...], Portfolio]] = None
        self._balance_known = False
        self._unknown_ids: set[str] = set()
        self._contradicted: set[str] = set()
        self._untyped_reports: set[str] = set()  # type names of non-OrderReport items, logged once
        self._pending_interrupted: dict[
            str, str
        ] = {}  # order id -> why, if the broker never saw it
        self._resend_cancels: set[str] = set()
        self._failing: dict[str, _Failure] = {}
        self._synced_once: set[str] = set()
        self._started_at: Optional[pendulum.DateTime] = None
        self._journal_down: Optional[str] = None
        self._unjournaled_sent: list[str] = []
        self._unjournaled: dict[str, tuple[Order, list[OrderChange]]] = {}
        self.last_order_sync: Optional[pendulum.DateTime] = None
        self.day: Optional[datetime.date] = None
        self._journal: Optional[OrderJournal] = None
        self._ids: Optional[OrderIdAllocator] = None
        self._active: set[str] = set()  # ids of today's unfinished orders (risk_max_active_orders)
        # Risk limits: the strategy's options over <runtime_dir>/risk.toml over the defaults; the
        # shared counts live with the journal (a simulated run's own folder keeps them apart).
        limits = RiskLimits.resolve(
            options, read_risk_file(Path(options.runtime_dir), options.account_no)
        )
        store = RiskStore(self.runtime_dir / STORE_NAME, account_key(gate.name, options.account_no))
        self._risk = RiskGuard(limits, store, task=task_name)
        #: Where alerts go (``jqtrade.notify.Notifier``); ``None``: none are sent. May be set later.
        self.notifier = notifier
        #: Called with a trading day and that day's orders when the account leaves the day for
        #: the next (a run's summary counts them there rather than reading the journal back).
        self.day_closed: list[Callable[[datetime.date, list[OrderSnapshot]], None]] = []
        self._state_listener: Optional[Callable[[TradingStateChange], None]] = None
        self._risk.on_change = self._state_changed
        self._down_since: dict[str, pendulum.DateTime] = {}  # sync kind -> first failure
        self._session_since: Optional[pendulum.DateTime] = (
            None  # order hours began (for link_stale)
        )
        self._link_stale_since: Optional[pendulum.DateTime] = None  # set once link_stale was sent

    # -- trading state ----------------------------------------------------------------------

    @property
    def trading_state(self) -> TradingState:
        """``active``, ``reducing`` (only sells of held securities) or ``halted`` (no new orders)."""
        return self._risk.state

    @property
    def open_value(self) -> Optional[float]:
        """Total value at the day's first snapshot, the base of the daily loss and change."""
        return self._risk.open_value

    @property
    def risk_limits(self) -> RiskLimits:
        return self._risk.limits

    @property
    def on_trading_state_change(self) -> Optional[Callable[[TradingStateChange], None]]:
        """Called (on the loop thread) with a :class:`TradingStateChange` after each change."""
        return self._state_listener

    @on_trading_state_change.setter
    def on_trading_state_change(
        self, listener: Optional[Callable[[TradingStateChange], None]]
    ) -> None:
        self._state_listener = listener

    def _state_changed(self, change: TradingStateChange) -> None:
        level = "info" if change.new is TradingState.active else "warning"
        self._tell(
            EventKind.trading_state,
            f"交易状态：{change.new.value}（{change.new.label}）",
            f"{change.old.value} → {change.new.value}：{change.reason}（来源：{change.source}）",
            level=level,
        )
        if self._state_listener is not None:
            self._state_listener(change)

    def set_trading_state(
        self, state: Union[TradingState, str], reason: str, *, source: str = "command"
    ) -> Optional[TradingStateChange]:
        """Switch the trading state; returns the change, or ``None`` if it was the state already.

        Going back to ``active`` also marks today's daily-loss switch as resumed, so a restart
        today does not restore it."""
        change = self._risk.set_state(TradingState(state), reason, source=source)
        if change is not None:
            log = logger.info if change.new is TradingState.active else logger.warning
            log(
                "交易状态 %s → %s（%s）：%s",
                change.old.value,
                change.new.value,
                change.new.label,
                reason,
            )
        return change

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Open today's journal, restore today's orders, and do a first sync."""
        self._started_at = self.clock.now()
        self._open_day(self._started_at.date())
        self._risk.start(str(self.day))
        if self.options.sync_order:
            self.sync_orders(quiet=True)
        if self.options.sync_balance:
            self.sync_balance(quiet=True)
        self._prefetch_ids()

    def close(self) -> None:
        if self._journal is not None:
            self._journal.close()
        self._risk.close()
        self.gate.close()

    def _open_day(self, day: datetime.date) -> None:
        if self._journal is not None:
            self._journal.close()
        if self.day is not None and self._orders:
            closed = [order.snapshot() for order in self._orders.values()]
            for listener in self.day_closed:
                try:
                    listener(self.day, closed)
                except Exception:  # noqa: BLE001 - a listener must not stop the day change
                    logger.exception("处理 %s 的订单汇总出错", self.day)
        self.day = day
        self._orders.clear()
        self._overlay.clear()
        self._unknown_ids.clear()
        self._contradicted.clear()
        self._pending_interrupted.clear()
        self._resend_cancels.clear()
        self._unjournaled_sent.clear()
        self._unjournaled.clear()
        self._active.clear()
        self._journal = OrderJournal(
            self.runtime_dir / "journal", self.task_name, day, fsync=not self.clock.is_simulated
        )
        self._ids = OrderIdAllocator(self._id_dir, day, durable=not self.clock.is_simulated)
        for order_id, recovered in self._journal.replay().items():
            order = recovered.to_order()
            self._orders[order_id] = order
            if not order.is_final:
                self._active.add(order_id)
            self._overlay.restored(
                order_id,
                code=order.code,
                is_buy=order.is_buy,
                reserve_price=self._reserve_price(order.code, order.price),
                mark=_mark(order, self.clock.now()),
                lent_face=_lent_face(order.code),
            )
            if recovered.outcome == "interrupted" and order.status is OrderStatus.new:
                self._pending_interrupted[order_id] = INTERRUPTED_MESSAGE
            if recovered.cancel_requested and not order.is_final:
                # The process may have died between journaling the cancel and sending it.
                self._resend_cancels.add(order_id)
        if self._orders:
            logging.getLogger("jqtrade.task").info(
                "从订单日志恢复了今天的 %d 个订单（其中 %d 个下单时被中断，等待券商回报确认）",
                len(self._orders),
                len(self._pending_interrupted),
            )

    def _check_day(self) -> None:
        today = self.clock.now().date()
        if today != self.day:
            logger.warning("日期变为 %s，切换到新一天的订单日志和订单号", today)
            self._open_day(today)

    # -- trading API ------------------------------------------------------------------------

    @_tells_rejections("下单")
    def order(
        self, code: str, amount: int, style: Optional[OrderStyle] = None, side: str = "long"
    ) -> str:
        self._check_day()
        self._require_journal()
        position = self._position_or_none(code)
        quote, _ = self._today_quote(code)
        last = quote.last_price if quote is not None and _usable(quote.last_price) else None
        if last is None and position is not None:
            last = position.last_price or None
        checked = check_order(
            code,
            amount,
            style,
            side,
            position=position,
            available_cash=self._available_cash() if self._balance_known else None,
            reference_price=last,
            quote=quote,
            disabled=self.options.disabled_checks,
        )
        assert self._ids is not None and self._journal is not None
        now = self.clock.now()
        risky = RiskOrder.of(checked, last)
        self._risk.check_order(
            risky,
            now=now.timestamp(),
            day=str(self.day),
            active=len(self._active),
            shares_after=lambda: self._shares_after(risky),
        )
        try:
            order_id = self._ids.allocate()
        except JournalError as exc:  # the counter file held or unreadable: nothing was sent
            raise OrderRejectedError(
                "ids_unavailable",
                f"无法分配订单号，没有发送订单（{checked.code} {amount} 股）：{exc}",
            ) from exc
        request = OrderRequest(
            order_id=order_id,
            code=checked.code,
            action=checked.action,
            amount=checked.amount,
            style=checked.style,
            side=checked.side,
            create_time=now,
        )
        try:
            self._journal.record_intent(request, at=now)
        except JournalError as exc:
            raise OrderRejectedError(
                "journal_unwritable",
                f"订单日志无法写入，没有发送订单（{request.code} {amount} 股）：{exc}",
            ) from exc
        order = Order.from_request(request)
        self._orders[request.order_id] = order
        self._active.add(request.order_id)
        # Reserved at once: a sell's shares and a buy's cash are gone the moment order() returns.
        self._overlay.sent(
            request.order_id,
            code=request.code,
            is_buy=request.is_buy,
            amount=request.amount,
            reserve_price=self._reserve_price(request.code, order.price, quote),
            at=now,
            lent_face=_lent_face(request.code),
        )
        self._view = None
        try:
            self.gate.order(request)
        except GateWriteError as exc:
            # Part of the line may be in the file: only the broker's files can tell.
            logger.error(
                "写入订单 %s 失败，是否送达未知，将按券商回报确认：%s", request.order_id, exc
            )
            self._pending_interrupted[request.order_id] = WRITE_FAILED_MESSAGE
            raise
        except GateError as exc:
            reason = f"发送订单失败：{exc}"
            self._emit(order.mark_rejected(reason), order)
            self._journal_call(lambda: self._journal.record_send_failed(request.order_id, reason))  # type: ignore[union-attr]
            raise
        except Exception as exc:  # noqa: BLE001 - unknown gate failure: the order may have left
            logger.exception(
                "交易接口下单时出现意外错误，订单 %s 是否送达未知，等待券商回报", request.order_id
            )
            self._pending_interrupted[request.order_id] = UNKNOWN_SEND_MESSAGE
            raise GateError(
                f"交易接口下单出错（订单 {request.order_id} 状态待券商确认）：{exc}"
            ) from exc
        try:
            self._journal.record_sent(request.order_id)
        except JournalError as exc:
            # The broker has the order: raising now would make a retrying strategy send it twice.
            self._unjournaled_sent.append(request.order_id)
            self._journal_failed(str(exc))
        logger.info("已下单 %s：%s %s 股 %r", request.order_id, request.code, amount, request.style)
        closed = outside_order_hours(self.calendar, now)
        if closed is not None:
            logger.warning(
                "订单 %s（%s %s 股）已发出，但%s：它会在券商等到那时，或被券商拒绝",
                request.order_id,
                request.code,
                amount,
                closed,
            )
        return request.order_id

    @_tells_rejections("撤单")
    def cancel_order(self, order_id: str) -> None:
        self._check_day()
        order = self._orders.get(str(order_id))
        if order is None:
            day = order_id_day(str(order_id))
            if day is not None and day != self.day:
                raise OrderNotFoundError(
                    f"{order_id}（这是 {day} 的订单号，不是今天的订单，不能撤销）"
                )
            raise OrderNotFoundError(order_id)
        if order.is_final:
            logger.info("订单 %s 已是最终状态 %s，无需撤单", order_id, order.status.value)
            return
        assert self._journal is not None
        self._risk.check_cancel(order.order_id, day=str(self.day))
        self._journal_call(lambda: self._journal.record_cancel_requested(order.order_id))  # type: ignore[union-attr]
        self.gate.cancel_order(order.order_id)
        if order.status is not OrderStatus.new:
            self._emit(order.mark_canceling(), order)

    def batch_submit_orders(self, orders: Iterable[Mapping[str, Any]]) -> list[Optional[str]]:
        ids: list[Optional[str]] = []
        for index, spec in enumerate(orders):
            try:
                if not isinstance(spec, Mapping) or "code" not in spec or "amount" not in spec:
                    raise OrderRejectedError(
                        "bad_batch_entry", f"第 {index + 1} 项 {spec!r} 应为含 code、amount 的 dict"
                    )
                unknown = set(spec) - {"code", "amount", "style", "side"}
                if unknown:
                    raise OrderRejectedError(
                        "bad_batch_entry",
                        f"第 {index + 1} 项有未知的键 {sorted(unknown)}；可用：code、amount、style、side",
                    )
                ids.append(
                    self.order(
                        spec["code"], spec["amount"], spec.get("style"), spec.get("side", "long")
                    )
                )
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

    @property
    def has_open_orders(self) -> bool:
        """Whether any of today's orders is not final yet (without a snapshot of each)."""
        return bool(self._active)

    def get_orders(
        self,
        order_id: Optional[str] = None,
        code: Optional[str] = None,
        status: Union[OrderStatus, str, None] = None,
    ) -> OrdersView:
        self._check_day()  # today's orders only, even before the first sync of a new day
        snapshots = [o.snapshot() for o in self._orders.values()]
        return OrdersView(snapshots).select(order_id=order_id, code=code, status=status)

    @_tells_rejections("下单")
    def order_target(
        self, code: str, target_amount: int, style: Optional[OrderStyle] = None
    ) -> Optional[str]:
        if (
            isinstance(target_amount, bool)
            or not isinstance(target_amount, int)
            or target_amount < 0
        ):
            raise OrderRejectedError(
                "bad_amount", f"目标持仓 {target_amount!r} 应为 ≥ 0 的整数股数"
            )
        self._require_fresh("order_target", code)
        norm = normalize_code(code)
        # Shares still working in open orders count as bought or sold already: called every
        # minute while an order waits, order_target must not send the same shares again.
        current = self._position(norm).total_amount + self._overlay.working(norm)
        delta = target_amount - current
        if delta == 0:
            return None
        return self.order(norm, delta, style)

    def sizing_price(self, code: str, style: Optional[OrderStyle], api: str) -> float:
        """The price ``api`` (order_value, order_target_value) turns money into shares at: the
        limit price, or for an order priced at best (``MarketOrderStyle()``, ``LimitOrderStyle(0)``,
        ``None``) today's last price from the market data; ``need_limit_price`` when neither."""
        if isinstance(style, LimitOrderStyle) and style.price > 0:
            return float(style.price)
        at_best = style is None or isinstance(style, MarketOrderStyle)
        at_best = at_best or (isinstance(style, LimitOrderStyle) and style.price == 0)
        if not at_best:
            raise OrderRejectedError(
                "need_limit_price",
                f"{api} 需要用限价单的价格计算股数，请传入 style=LimitOrderStyle(价格)；收到 {style!r}",
            )
        quote, why = self._today_quote(code, api=api)
        if quote is not None and _usable(quote.last_price):
            return float(quote.last_price)
        why = why or "行情中没有最新价"
        raise OrderRejectedError(
            "need_limit_price",
            f"{api} 按对手方最优价（{style!r}）下单时用最新价计算股数，但不知道 {code} 的最新价（{why}）；"
            f"请传入 style=LimitOrderStyle(价格)，或设置行情源（选项 data_source）",
        )

    @_tells_rejections("下单")
    def order_value(
        self, code: str, value: float, style: Optional[OrderStyle] = None
    ) -> Optional[str]:
        price = self.sizing_price(code, style, "order_value")
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
            or value == 0
        ):
            raise OrderRejectedError(
                "bad_amount", f"金额 {value!r} 应为非零数字（正数买入，负数卖出）"
            )
        self._require_fresh("order_value", code)
        norm = normalize_code(code)
        shares = int(abs(value) // price)
        rules = rules_of(norm)
        shares = shares if shares >= rules.min_buy else 0
        shares -= (shares - rules.min_buy) % rules.buy_step if shares else 0
        if shares == 0:
            raise OrderRejectedError(
                "value_too_small", f"金额 {value!r} 按价格 {price:g} 不足一手，无法下单"
            )
        return self.order(norm, shares if value > 0 else -shares, style)

    def _shares_after(self, order: RiskOrder) -> Optional[int]:
        """Shares of the code held after a buy: held + working orders + this one (None: unknown)."""
        position = self._position_or_none(order.code)
        if position is None or _lent_face(order.code) is not None:
            return None
        working = 0  # over today's unfinished orders only: O(active), not O(orders of the day)
        for order_id in self._active:
            mine = self._orders[order_id]
            if mine.code == order.code:
                left = max(0, mine.amount - mine.filled_amount - mine.canceled_amount)
                working += left if mine.is_buy else -left
        return max(0, position.total_amount + working) + order.amount

    def _require_fresh(self, api: str, code: str) -> None:
        """Sizing from a position needs a snapshot that is known and recent enough."""
        if not self._balance_known:
            # An empty portfolio here means "never synced", not "holds nothing": sizing from
            # it would buy the whole target again on top of what is already held.
            raise OrderRejectedError(
                "position_unknown",
                f"还没有从券商同步到持仓，无法计算 {code} 需要买卖多少；"
                f"请等同步成功后再调用 {api}（可先调用 sync_balance()）",
            )
        if self._age_reason() is None:
            return
        self.sync_balance(quiet=True)  # one fresh read before refusing
        reason = self._age_reason()
        if reason is not None:
            raise OrderRejectedError(
                "stale_position",
                f"{reason}。{api} 按持仓或资金计算数量，快照过期时可能重复买卖，已拒绝下单 {code}；"
                "请检查券商端是否正常更新资金持仓文件（或调整 max_snapshot_age）",
            )

    # -- state ------------------------------------------------------------------------------

    @property
    def calendar(self) -> TradingCalendar:
        if self._calendar is None:
            self._calendar = TradingCalendar.builtin(
                extra_closures=self.options.extra_holidays,
                runtime_dir=Path(self.options.runtime_dir).expanduser(),
            )
        return self._calendar

    @property
    def portfolio(self) -> Portfolio:
        """The last complete snapshot with this task's own orders laid over it."""
        base, overlay = self._base, self._overlay
        stale = base.stale_reason or self._age_reason()
        key = (id(base), overlay.version, stale)
        if self._view is not None and self._view[0] == key:
            return self._view[1]
        view = base.overlaid(overlay.codes(), overlay.cash, overlay.locked, stale)
        self._view = (key, view)
        return view

    def _age_reason(self) -> Optional[str]:
        limit = self.options.max_snapshot_age
        as_of = self._base.as_of
        if limit is None or as_of is None:
            return None
        age = seconds_between(as_of, self.clock.now())
        if age <= limit:
            return None
        return (
            f"资金持仓快照已有 {age:.0f} 秒没有更新（快照时间 {as_of.in_tz('Asia/Shanghai'):%Y-%m-%d %H:%M:%S}，"
            f"max_snapshot_age={limit:g} 秒）"
        )

    def _available_cash(self) -> float:
        return float(max(Decimal(repr(self._base.available_cash)) + self._overlay.cash, Decimal(0)))

    def _position(self, code: str) -> Position:
        norm = normalize_code(code)
        position = self._base.long_positions[norm]
        held_delta, sellable_delta = self._overlay.code(norm)
        if not held_delta and not sellable_delta:
            return position
        held = max(0, position.total_amount + held_delta)
        return attrs.evolve(
            position,
            total_amount=held,
            closeable_amount=min(held, max(0, position.closeable_amount + sellable_delta)),
        )

    def _position_or_none(self, code: str) -> Optional[Position]:
        if not self._balance_known:
            return None
        try:
            return self._position(code)
        except OrderRejectedError:
            return None  # the check reports the bad code with its own reason

    def _reserve_price(
        self, code: str, price: Optional[float], quote: Optional[PriceQuote] = None
    ) -> Decimal:
        """Price a buy reserves cash at: its limit, else today's limit-up price (from the market
        data, else estimated from the position's last price)."""
        if price:
            return Decimal(repr(float(price)))
        if quote is not None and _usable(quote.high_limit):
            return Decimal(repr(float(quote.high_limit)))
        try:
            last = self._base.long_positions[code].last_price
        except OrderRejectedError:
            last = 0.0
        return limit_up_estimate(code, last) if last else Decimal(0)

    # -- prices -----------------------------------------------------------------------------

    def _today_quote(
        self, code: str, *, api: str = "下单前的价格检查"
    ) -> tuple[Optional[PriceQuote], str]:
        """Today's quote of ``code`` from the market data and ``""``, or ``None`` and why not
        (then the price checks are skipped: said once at INFO, every time at DEBUG)."""
        try:
            norm = normalize_code(code)
        except OrderRejectedError:
            return None, "证券代码不合法"  # the checks report the bad code
        why: str
        if self._quote_lookup is None:
            why = "没有行情数据（未设置行情源）"
        else:
            try:
                quote = self._quote_lookup(norm)
            except Exception as exc:  # noqa: BLE001 - never refuse an order for want of data
                quote, why = None, f"获取行情出错：{exc}"
            else:
                why = self._no_price_reason(quote)
                if quote is not None and not quote.stale and quote.time is not None:
                    when = quote.time.astimezone(MARKET_TZ).date()
                    if when == self.clock.now().astimezone(MARKET_TZ).date():
                        return quote, ""
                    why = f"行情是 {when} 的，不是今天的"
        self._skip_prices(norm, why, api)
        return None, why

    @staticmethod
    def _no_price_reason(quote: Optional[PriceQuote]) -> str:
        if quote is None:
            return "没有行情数据"
        if quote.reason:
            return quote.reason
        if quote.stale:
            return "行情已过期"
        if quote.time is None:
            return "行情源没有这个代码的行情"
        return "行情中没有最新价"

    def _skip_prices(self, code: str, why: str, api: str) -> None:
        logger.debug("%s：跳过 %s 的价格检查（%s）", api, code, why)
        if not self._price_checks_skipped:
            self._price_checks_skipped = True
            logger.info(
                "不知道 %s 今天的行情，跳过需要价格的下单前检查（停牌、涨跌停价），由券商检查：%s"
                "（此提示只出现一次）",
                code,
                why,
            )

    # -- sync -------------------------------------------------------------------------------

    def sync_balance(self, *, quiet: bool = False) -> Portfolio:
        now = self.clock.now()
        try:
            snapshot = Portfolio.from_balance(self.gate.sync_balance(), now)
        except Exception as exc:  # noqa: BLE001 - keep the last good state, say it is stale
            self._base = self._base.mark_stale(str(exc))
            self._failed("balance", f"同步资金持仓失败，沿用上次完整的快照：{exc}", quiet)
            self._check_link()
            return self.portfolio
        base_as_of = self._base.as_of
        if base_as_of is not None and snapshot.as_of is not None and snapshot.as_of < base_as_of:
            # An older snapshot than the one in use (a broker clock step, a restored file):
            # it says nothing new; keep the newer one.
            logger.debug(
                "资金持仓快照时间 %s 早于当前使用的 %s，已忽略", snapshot.as_of, base_as_of
            )
        else:
            self._base = snapshot
            if snapshot.as_of is not None:
                self._overlay.rebase(snapshot.as_of)
            self._balance_known = True
            self._risk.on_snapshot(
                str(self.day or now.date()), snapshot.total_value, now.isoformat()
            )
        self._risk.maintain(str(self.day or now.date()))
        self._recovered("balance", "资金持仓")
        self._check_link()
        return self.portfolio

    def _failed(self, what: str, message: str, quiet: bool) -> None:
        """Log a lasting failure once, then at most once a minute with a count."""
        now = self.clock.now()
        known = self._failing.get(what)
        if known is not None and known.message == message:
            known.repeats += 1
            if (now - known.logged_at).total_seconds() < REPEAT_LOG_INTERVAL:
                logger.debug(message)
                return
            message = f"{message}（过去 {(now - known.logged_at).total_seconds():.0f} 秒内又出现 {known.repeats} 次）"
            known.logged_at, known.repeats = now, 0
        else:
            self._failing[what] = _Failure(message, now)
        self._down_since.setdefault(what, now)
        starting = (
            what not in self._synced_once
            and self._started_at is not None
            and (now - self._started_at).total_seconds() < STARTUP_QUIET
        )
        (logger.info if quiet or starting else logger.warning)(message)

    def _recovered(self, what: str, label: str) -> None:
        self._down_since.pop(what, None)
        if self._failing.pop(what, None) is not None and what in self._synced_once:
            logger.info("同步%s已恢复正常", label)
        self._synced_once.add(what)

    def sync_orders(self, *, quiet: bool = False) -> None:
        self._check_day()
        self._retry_journal()
        self._resend_recovered_cancels()  # first, so the reports below already reflect them
        try:
            reports = self.gate.sync_orders()
        except Exception as exc:  # noqa: BLE001
            self._failed("orders", f"同步订单失败，沿用上次结果：{exc}", quiet)
            self._check_link()
            return
        self._recovered("orders", "订单")
        now = self.clock.now()
        for report in reports:
            if not isinstance(report, OrderReport):
                self._untyped_report(report)
                continue
            order_id = report.order_id
            order = self._orders.get(order_id)
            if order is None:
                if order_id not in self._unknown_ids:
                    self._unknown_ids.add(order_id)
                    logger.debug("忽略不是本任务下的订单回报：%r", order_id)
                continue
            mismatch = self._mismatch(order, report)
            if mismatch is not None:
                if order_id not in self._contradicted:
                    self._contradicted.add(order_id)
                    logger.warning(
                        "券商回报与本任务的订单 %s 不符（%s），可能是其他程序用了相同的订单号，已忽略这条回报：%r",
                        order_id,
                        mismatch,
                        report,
                    )
                continue
            self._pending_interrupted.pop(order_id, None)
            info = _info_of(order)
            change = order.apply_report(report, at=now)
            if change is not None:
                self._emit(change, order, at=report.update_time or now)
            elif _info_of(order) != info and self._journal is not None:
                # Broker id, message or fees changed without a status change (e.g. the id of
                # a still "new" order, a refused cancel): keep them across a restart too.
                self._journal_call(lambda o=order: self._journal.record_state(o))  # type: ignore[union-attr,misc]
        self.last_order_sync = now
        self._risk.maintain(str(self.day))
        self._resolve_interrupted()
        self._prefetch_ids()
        self._check_link()

    def _untyped_report(self, report: object) -> None:
        """A gate handed over something that is not an :class:`OrderReport`: skipped (a gate
        on the dict contract belongs behind ``DictGateAdapter``), logged once per type."""
        kind = type(report).__name__
        if kind in self._untyped_reports:
            logger.debug("忽略不是 OrderReport 的订单回报：%r", report)
            return
        self._untyped_reports.add(kind)
        logger.warning(
            "交易接口 %s 的 sync_orders 返回了 %s 而不是 OrderReport，已忽略（同类回报以后不再提示）：%r",
            self.gate.name,
            kind,
            report,
        )

    @staticmethod
    def _mismatch(order: Order, report: OrderReport) -> Optional[str]:
        """Why a report with our id cannot be about our order, or ``None``."""
        code = report.code
        if code and code != order.code:
            try:
                if normalize_code(code) != order.code:
                    return f"证券代码 {code} ≠ {order.code}"
            except OrderRejectedError:
                return f"证券代码 {code!r} 无法识别"
        action = report.action
        if action is not None and action is not order.action:
            return f"买卖方向 {getattr(action, 'value', action)} ≠ {order.action.value}"
        amount = report.amount
        if amount is not None and amount != order.amount:
            return f"委托数量 {amount} ≠ {order.amount}"
        return None

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
        for order_id in sorted(self._pending_interrupted):
            try:
                answer = self.gate.has_order(order_id)
            except Exception as exc:  # noqa: BLE001 - cannot tell just now: ask at the next sync
                logger.warning(
                    "询问交易接口订单 %s 是否送达时出错，下次同步再问：%s", order_id, exc
                )
                answer = None
            if answer is None or answer:
                continue  # reached the broker (its report will follow), or cannot tell yet
            order = self._orders[order_id]
            why = self._pending_interrupted.pop(order_id)
            self._emit(order.mark_rejected(why), order)
            self._journal_call(lambda o=order_id, w=why: self._journal.record_send_failed(o, w))  # type: ignore[union-attr,misc]
            logger.warning("订单 %s：%s", order_id, why)

    # -- journal health ---------------------------------------------------------------------

    def _journal_failed(self, reason: str) -> None:
        if self._journal_down is None:
            logger.critical(
                "订单日志无法写入：%s。已发出的订单照常跟踪，但在日志恢复可写之前拒绝新的下单（journal_unwritable）",
                reason,
            )
        self._journal_down = reason

    def _journal_call(self, write: Callable[[], None]) -> bool:
        try:
            write()
        except JournalError as exc:
            self._journal_failed(str(exc))
            return False
        return True

    def _require_journal(self) -> None:
        if self._journal_down is None:
            return
        self._retry_journal()
        if self._journal_down is not None:
            raise OrderRejectedError(
                "journal_unwritable",
                f"订单日志无法写入（{self._journal_down}），为保证重启后不丢单、不重复下单，暂不接受新订单",
            )

    def _retry_journal(self) -> None:
        """Write what could not be journaled before; fire the hooks held back meanwhile."""
        if self._journal_down is None or self._journal is None:
            return
        journal = self._journal
        while self._unjournaled_sent:
            if not self._journal_call(lambda: journal.record_sent(self._unjournaled_sent[0])):
                return
            self._unjournaled_sent.pop(0)
        for order_id in list(self._unjournaled):
            order, changes = self._unjournaled[order_id]
            if not self._journal_call(lambda o=order: journal.record_state(o)):  # type: ignore[misc]
                return
            del self._unjournaled[order_id]
            for change in changes:
                self._fire(change, order)
        if self._journal_down is not None:
            logger.info("订单日志恢复可写，重新接受下单")
            self._journal_down = None

    def _emit(
        self, change: Optional[OrderChange], order: Order, *, at: Optional[pendulum.DateTime] = None
    ) -> None:
        if change is None:
            return
        self._overlay.update(
            order.order_id, _mark(order, at or self.clock.now()), final=order.is_final
        )
        self._view = None
        if order.is_final:
            self._active.discard(order.order_id)
        held = self._unjournaled.get(order.order_id)
        if held is not None:
            held[1].append(change)  # its earlier state is not journaled yet: keep the order
            return
        journal = self._journal
        if journal is not None and not self._journal_call(lambda: journal.record_state(order)):
            # Applied but not journaled: journal it (then fire the hooks, once) on a later sync.
            self._unjournaled[order.order_id] = (order, [change])
            return
        self._fire(change, order)

    def _fire(self, change: OrderChange, order: Order) -> None:
        self._notify("on_order_update", order.snapshot())
        if change.trade is not None:
            self._notify("on_trade", change.trade)
        if self.notifier is None:
            return
        if change.status_changed and change.status is OrderStatus.rejected:
            side = "买入" if order.is_buy else "卖出"
            self._tell(
                EventKind.order_rejected,
                f"订单被拒绝：{order.code}",
                f"订单 {order.order_id}（{side} {order.code} {order.amount:,} 股）被拒绝：{order.err_msg or '券商没有说明原因'}",
            )
        if change.trade is not None:
            self._tell(EventKind.fill, f"成交：{change.trade.code}", str(change.trade))

    # -- notifications (never raise, never block: Notifier.event only queues) ---------------

    def _tell(self, kind: EventKind, title: str, body: str, *, level: Optional[str] = None) -> None:
        if self.notifier is None:
            return
        try:
            self.notifier.event(kind, title, body, level=level)
        except Exception:  # noqa: BLE001 - an alert must never stop trading
            logger.exception("发送通知出错")

    def _tell_rejected(self, exc: OrderRejectedError, action: str, subject: Any) -> None:
        if self.notifier is None or getattr(exc, "_notified", False):
            return
        exc._notified = True  # type: ignore[attr-defined]  # told once, also through order_target -> order
        risk = exc.reason.startswith(("risk_", "trading_"))
        kind = EventKind.risk_limit if risk else EventKind.order_rejected
        title = f"{'风控拒绝' if risk else '拒绝'}{action}：{subject}"
        self._tell(kind, title, f"[{exc.reason}] {exc.message}")

    def _check_link(self) -> None:
        """After each sync, in order hours: ``link_stale`` once the broker's data has failed or
        not moved for ``notify_stale_after`` seconds, ``link_recovered`` once it is back."""
        if self.notifier is None:
            return
        now = self.clock.now()
        try:
            closed = outside_order_hours(self.calendar, now)
        except Exception:  # noqa: BLE001 - e.g. a year the calendar does not cover: judge anyway
            closed = None
        if closed is not None:
            self._session_since = None  # a quiet broker after the close is no outage
            return
        if self._session_since is None:
            self._session_since = now
        problem = self._link_problem(now)
        if problem is None:
            if self._link_stale_since is not None:
                lasted = (now - self._link_stale_since).total_seconds()
                self._link_stale_since = None
                self._tell(
                    EventKind.link_recovered,
                    "券商数据已恢复",
                    f"同步恢复正常，中断约 {lasted:.0f} 秒",
                )
            return
        since, why = problem
        since = max(since, self._session_since)
        lasted = (now - since).total_seconds()
        if self._link_stale_since is None and lasted >= self.options.notify_stale_after:
            self._link_stale_since = since
            self._tell(
                EventKind.link_stale,
                "券商数据中断",
                f"{why}；已持续 {lasted:.0f} 秒（notify_stale_after={self.options.notify_stale_after:g}）。"
                "请检查券商端（如 OneQuant）是否在运行、账户是否已登录",
            )

    def _link_problem(self, now: pendulum.DateTime) -> Optional[tuple[pendulum.DateTime, str]]:
        for what, label in (("balance", "资金持仓"), ("orders", "订单")):
            since = self._down_since.get(what)
            if since is not None:
                failure = self._failing.get(what)
                return since, failure.message if failure is not None else f"同步{label}失败"
        as_of = self._base.as_of
        if self.options.sync_balance and as_of is not None:
            age = (now - as_of).total_seconds()
            if age > self.options.notify_stale_after:
                return (
                    as_of,
                    f"资金持仓快照已有 {age:.0f} 秒没有更新（快照时间 {as_of.in_tz(MARKET_TZ):%H:%M:%S}）",
                )
        return None
