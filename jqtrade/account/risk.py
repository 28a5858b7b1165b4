"""Risk limits: refuse an order that a runaway or mistaken strategy would send, before the gate.

The limits (options ``risk_*``, see ``docs/risk.md``) are checked in ``Account.order()`` after
the market-rule checks of :mod:`jqtrade.account.checks` and before the order is journaled. Each
refusal is an :class:`~jqtrade.errors.OrderRejectedError` whose ``reason`` is one of the
``risk_*`` / ``trading_*`` codes of :data:`jqtrade.account.checks.REASONS` and whose message names the limit, its value and the order.

Where a limit counts:

- per task, in memory: order rate (per second, per minute), active orders, duplicates;
- per order: shares and value; per code: the position value after a buy;
- per account and trading day, shared by every task of the account through
  :mod:`jqtrade.account.risk_store`: orders, cancels, turnover, and the day's first total value
  the daily loss is measured from.

An order's value is its amount × the limit price; for market and best-price (price 0) orders
the last price of the position is used, as the cash check does; without a price (a code not
held) the value limits are skipped. A reverse repo's value is the cash it lends.

Trading state (:class:`TradingState`): ``active``; ``reducing`` (only sells of held securities);
``halted`` (no new orders; cancels still allowed). The daily loss switches it, once a day, to
``risk_daily_loss_action``; :meth:`RiskGuard.set_state` is the one place that changes it.
"""

from __future__ import annotations

import collections
import enum
import logging
import math
import sys
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Optional

import attrs

from jqtrade.account.checks import CheckedOrder
from jqtrade.account.risk_store import MILLI, RiskStore, SharedQuota, StoreUnavailable
from jqtrade.errors import ConfigFileError, OptionValueError, OrderRejectedError
from jqtrade.model.orders import LimitOrderStyle, OrderAction
from jqtrade.model.rules import rules_of
from jqtrade.options import RISK_DEFAULTS, Options

logger = logging.getLogger("jqtrade.account")

#: The account-wide defaults file, in the runtime folder.
RISK_FILE = "risk.toml"


class TradingState(str, enum.Enum):
    """What a task may still send: compare with strings (``state == "halted"``)."""

    active = "active"
    reducing = "reducing"
    halted = "halted"

    @property
    def label(self) -> str:
        return {"active": "正常交易", "reducing": "只减仓", "halted": "暂停交易"}[self.value]


@attrs.frozen(kw_only=True)
class TradingStateChange:
    """One change of a task's trading state, handed to ``Account.on_trading_state_change``."""

    old: TradingState
    new: TradingState
    reason: str
    #: What changed it: ``daily_loss``, ``restored`` (a restart restored today's daily-loss
    #: switch) or whatever the caller of ``set_trading_state`` named (e.g. ``command``).
    source: str


RISK_OPTION_NAMES = tuple(RISK_DEFAULTS)


def _dec(value: Any) -> Decimal:
    return Decimal(repr(float(value))) if isinstance(value, float) else Decimal(value)


def _yuan(value: Decimal) -> str:
    return f"{value:,.2f}"


@attrs.frozen(kw_only=True)
class RiskLimits:
    """The limits one account runs with; 0 means no limit."""

    orders_per_second: int = 0
    orders_per_minute: int = 0
    orders_per_day: int = 0
    cancels_per_day: int = 0
    active_orders: int = 0
    order_shares: int = 0
    order_value: Decimal = Decimal(0)
    position_value: Decimal = Decimal(0)
    turnover: Decimal = Decimal(0)
    duplicate_window: float = 0.0
    daily_loss_pct: Decimal = Decimal(0)
    daily_loss_value: Decimal = Decimal(0)
    daily_loss_action: TradingState = TradingState.reducing

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> RiskLimits:
        """From option-named values (validated already); missing or ``None`` keys: defaults."""

        def get(name: str) -> Any:
            value = values.get(name)
            return RISK_DEFAULTS[name] if value is None else value

        return cls(
            orders_per_second=int(get("risk_max_orders_per_second")),
            orders_per_minute=int(get("risk_max_orders_per_minute")),
            orders_per_day=int(get("risk_max_orders_per_day")),
            cancels_per_day=int(get("risk_max_cancels_per_day")),
            active_orders=int(get("risk_max_active_orders")),
            order_shares=int(get("risk_max_order_shares")),
            order_value=_dec(get("risk_max_order_value")),
            position_value=_dec(get("risk_max_position_value")),
            turnover=_dec(get("risk_max_turnover")),
            duplicate_window=float(get("risk_duplicate_window")),
            daily_loss_pct=_dec(get("risk_max_daily_loss_pct")),
            daily_loss_value=_dec(get("risk_max_daily_loss_value")),
            daily_loss_action=TradingState(get("risk_daily_loss_action")),
        )

    @classmethod
    def resolve(cls, options: Any, file_values: Mapping[str, Any]) -> RiskLimits:
        """The strategy's (or ``--config``'s) value where set, else ``risk.toml``'s, else the default."""
        merged = dict(file_values)
        for name in RISK_OPTION_NAMES:
            value = getattr(options, name)
            if value is not None:
                merged[name] = value
        return cls.from_values(merged)

    @property
    def shared(self) -> dict[str, int]:
        """The per-account counters' limits, in the store's units (turnover in 厘)."""
        return {
            "orders": self.orders_per_day,
            "cancels": self.cancels_per_day,
            "turnover": int(self.turnover * MILLI),
        }

    @property
    def daily_loss_on(self) -> bool:
        return bool(self.daily_loss_pct or self.daily_loss_value)


def read_risk_file(runtime_dir: Path, account_no: Optional[str]) -> dict[str, Any]:
    """The validated values of ``<runtime_dir>/risk.toml`` for this account ({} without a file).

    Top-level keys apply to every account; a table ``[accounts."<account_no>"]`` overrides them
    for that account. Keys are the ``risk_*`` option names."""
    path = Path(runtime_dir).expanduser() / RISK_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigFileError(str(path), f"无法读取：{exc.strerror or exc}") from None
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.9/3.10
        import tomli as tomllib
    try:
        data = tomllib.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigFileError(str(path), f"不是合法的 UTF-8 TOML 文件（{exc}）") from None
    accounts = data.pop("accounts", {})
    if not isinstance(accounts, Mapping) or not all(
        isinstance(t, Mapping) for t in accounts.values()
    ):
        raise ConfigFileError(str(path), '[accounts] 应为按资金账号分的表，如 [accounts."880001"]')
    values = _risk_values(path, data, "")
    if account_no is not None and account_no in accounts:
        values.update(_risk_values(path, accounts[account_no], f'[accounts."{account_no}"] 中'))
    return values


def _risk_values(path: Path, table: Mapping[str, Any], where: str) -> dict[str, Any]:
    unknown = sorted(set(table) - set(RISK_OPTION_NAMES))
    if unknown:
        raise ConfigFileError(
            str(path), f"{where}未知的键 {unknown}；可用：{', '.join(RISK_OPTION_NAMES)}"
        )
    try:
        options = Options().evolve(table)
    except OptionValueError as exc:
        raise ConfigFileError(str(path), f"{where}{exc}") from None
    return {name: getattr(options, name) for name in table}


@attrs.frozen(kw_only=True)
class RiskOrder:
    """What the limits need to know about one order that passed the market-rule checks."""

    code: str
    is_buy: bool
    reduces: bool  # sells a held security (allowed while ``reducing``)
    amount: int
    price: Optional[Decimal]  # the limit price; None for market / best-price orders
    unit: Optional[Decimal]  # the price the value is estimated at (None: unknown)
    unit_name: str = "股"

    @classmethod
    def of(cls, checked: CheckedOrder, reference_price: Optional[float]) -> RiskOrder:
        rules = rules_of(checked.code)
        style = checked.style
        price = (
            Decimal(repr(float(style.price)))
            if isinstance(style, LimitOrderStyle) and style.price > 0
            else None
        )
        if rules.is_repo:
            unit: Optional[Decimal] = rules.face_value
        elif price is not None:
            unit = price
        elif reference_price is not None and math.isfinite(reference_price) and reference_price > 0:
            unit = Decimal(repr(float(reference_price)))
        else:
            unit = None
        is_buy = checked.action is OrderAction.open
        return cls(
            code=checked.code,
            is_buy=is_buy,
            reduces=not is_buy and not rules.is_repo,
            amount=checked.amount,
            price=price,
            unit=unit,
            unit_name=rules.unit,
        )

    @property
    def value(self) -> Optional[Decimal]:
        return None if self.unit is None else self.unit * self.amount

    def describe(self) -> str:
        side = "买入" if self.is_buy else "卖出"
        price = f"限价 {self.price}" if self.price is not None else "对手方最优价/市价"
        value = f"，约 {_yuan(self.value)} 元" if self.value is not None else ""
        return f"{side} {self.code} {self.amount:,} {self.unit_name}（{price}{value}）"


def _refuse(
    reason: str, option: str, limit: Any, detail: str, order: RiskOrder
) -> OrderRejectedError:
    return OrderRejectedError(
        reason, f"风控限制 {option}={limit}：{detail}，已拒绝{order.describe()}"
    )


# --- pure checks ---------------------------------------------------------------------------


def check_state(state: TradingState, order: RiskOrder) -> None:
    """``halted`` refuses every order, ``reducing`` every order but a sell of a held security."""
    if state is TradingState.halted:
        raise OrderRejectedError(
            "trading_halted",
            f"交易状态为 halted（暂停交易），不接受新订单（撤单照常），已拒绝{order.describe()}",
        )
    if state is TradingState.reducing and not order.reduces:
        raise OrderRejectedError(
            "trading_reducing",
            f"交易状态为 reducing（只减仓），只接受卖出持仓的订单，已拒绝{order.describe()}",
        )


def check_size(limits: RiskLimits, order: RiskOrder) -> None:
    """Per order: shares and value."""
    if limits.order_shares and order.amount > limits.order_shares:
        raise _refuse(
            "risk_order_shares",
            "risk_max_order_shares",
            f"{limits.order_shares:,}",
            f"单笔最多 {limits.order_shares:,} {order.unit_name}",
            order,
        )
    value = order.value
    if limits.order_value and value is not None and value > limits.order_value:
        raise _refuse(
            "risk_order_value",
            "risk_max_order_value",
            _yuan(limits.order_value),
            f"单笔金额 {_yuan(value)} 元超过上限 {_yuan(limits.order_value)} 元",
            order,
        )


def check_position(limits: RiskLimits, order: RiskOrder, shares_after: Optional[int]) -> None:
    """Per code: the position value after a buy (held + working orders + this one)."""
    if not limits.position_value or not order.is_buy or shares_after is None or order.unit is None:
        return
    value = order.unit * shares_after
    if value > limits.position_value:
        raise _refuse(
            "risk_position_value",
            "risk_max_position_value",
            _yuan(limits.position_value),
            f"买入后 {order.code} 的持仓（含未成交的挂单）约 {shares_after:,} {order.unit_name}、"
            f"{_yuan(value)} 元，超过上限 {_yuan(limits.position_value)} 元",
            order,
        )


def daily_loss(limits: RiskLimits, first: Decimal, current: Decimal) -> Optional[str]:
    """Why the day's loss is over a limit, or ``None``. ``first`` is the day's first total value."""
    loss = first - current
    if loss <= 0:
        return None
    if limits.daily_loss_value and loss > limits.daily_loss_value:
        return (
            f"总资产 {_yuan(current)} 元比今天的第一份快照 {_yuan(first)} 元少 {_yuan(loss)} 元，"
            f"超过 risk_max_daily_loss_value={_yuan(limits.daily_loss_value)} 元"
        )
    if limits.daily_loss_pct and first > 0 and loss * 100 > limits.daily_loss_pct * first:
        return (
            f"总资产 {_yuan(current)} 元比今天的第一份快照 {_yuan(first)} 元少 {loss * 100 / first:.2f}%，"
            f"超过 risk_max_daily_loss_pct={limits.daily_loss_pct}%"
        )
    return None


class OrderFlow:
    """This task's recent orders: the rate windows and the duplicate guard (in memory)."""

    def __init__(self) -> None:
        self._times: collections.deque[float] = collections.deque()
        self._recent: dict[tuple[str, bool, int, Optional[Decimal]], float] = {}

    def check(self, limits: RiskLimits, order: RiskOrder, now: float) -> None:
        times = self._times
        while times and now - times[0] >= 60.0:
            times.popleft()
        if limits.orders_per_minute and len(times) >= limits.orders_per_minute:
            raise _refuse(
                "risk_order_rate",
                "risk_max_orders_per_minute",
                limits.orders_per_minute,
                f"本任务过去 1 分钟已下 {len(times)} 笔",
                order,
            )
        if limits.orders_per_second:
            recent = 0
            for t in reversed(times):
                if now - t >= 1.0:
                    break
                recent += 1
            if recent >= limits.orders_per_second:
                raise _refuse(
                    "risk_order_rate",
                    "risk_max_orders_per_second",
                    limits.orders_per_second,
                    f"本任务过去 1 秒已下 {recent} 笔",
                    order,
                )
        window = limits.duplicate_window
        if window:
            last = self._recent.get((order.code, order.is_buy, order.amount, order.price))
            if last is not None and now - last < window:
                raise _refuse(
                    "risk_duplicate",
                    "risk_duplicate_window",
                    f"{window:g} 秒",
                    f"{now - last:.1f} 秒前刚下过同样的订单（代码、方向、数量、价格都相同）",
                    order,
                )

    def record(self, limits: RiskLimits, order: RiskOrder, now: float) -> None:
        self._times.append(now)
        window = limits.duplicate_window
        if window:
            recent = self._recent
            if len(recent) > 256:
                for key in [k for k, t in recent.items() if now - t >= window]:
                    del recent[key]
            recent[(order.code, order.is_buy, order.amount, order.price)] = now


# --- the guard an account holds ------------------------------------------------------------


class RiskGuard:
    """The limits, the counts and the trading state of one task's account."""

    def __init__(self, limits: RiskLimits, store: RiskStore, *, task: str) -> None:
        self.limits = limits
        self.store = store
        self.quota = SharedQuota(store, limits.shared)
        self.task = task
        self.flow = OrderFlow()
        self.state = TradingState.active
        self.on_change: Optional[Callable[[TradingStateChange], None]] = None
        self._first: Optional[tuple[str, Decimal]] = None  # (day, the day's first total value)
        self._tripped_day: Optional[str] = None
        self._store_failed: Optional[str] = None

    def start(self, day: str) -> None:
        """Restore today's daily-loss switch of this task after a restart, unless it was resumed."""
        try:
            trip = self.store.trip(day, self.task)
        except StoreUnavailable as exc:
            self._store_error(exc)
            return
        if trip is None:
            return
        self._tripped_day = day
        state, reason, acknowledged = trip
        if not acknowledged and state != self.state.value:
            logger.warning("今天的日内亏损限制已触发过（%s），重启后恢复交易状态 %s", reason, state)
            self.set_state(TradingState(state), reason, source="restored")

    def set_state(
        self, state: TradingState, reason: str, *, source: str
    ) -> Optional[TradingStateChange]:
        """The one place the trading state changes; tells ``on_change``. Same state: nothing."""
        old = self.state
        if state is old:
            return None
        self.state = state
        change = TradingStateChange(old=old, new=state, reason=reason, source=source)
        if state is TradingState.active and self._tripped_day is not None:
            try:
                self.store.acknowledge_trip(self._tripped_day, self.task)
            except StoreUnavailable as exc:
                self._store_error(exc)
        if self.on_change is not None:
            try:
                self.on_change(change)
            except Exception:  # noqa: BLE001 - a failing listener must not undo the change
                logger.exception("交易状态变化的回调出错")
        return change

    def check_order(
        self,
        order: RiskOrder,
        *,
        now: float,
        day: str,
        active: int,
        shares_after: Callable[[], Optional[int]],
    ) -> None:
        """Raise :class:`OrderRejectedError` if a limit refuses ``order``; else count it."""
        limits = self.limits
        check_state(self.state, order)
        check_size(limits, order)
        if limits.active_orders and active >= limits.active_orders:
            raise _refuse(
                "risk_active_orders",
                "risk_max_active_orders",
                limits.active_orders,
                f"本任务已有 {active} 个未结束的订单",
                order,
            )
        self.flow.check(limits, order, now)
        if limits.position_value and order.is_buy:
            check_position(limits, order, shares_after())
        value = order.value
        wants = {"orders": 1}
        if value is not None:
            wants["turnover"] = int(value * MILLI)
        try:
            full = self.quota.take(day, wants)
        except StoreUnavailable as exc:
            self._store_error(exc)
            raise _refuse(
                "risk_store_unavailable",
                "risk_max_orders_per_day",
                limits.orders_per_day,
                f"{exc}，无法确认全账户今天的计数；请检查磁盘和文件权限（删除该文件会丢失今天的计数）",
                order,
            ) from None
        if full is not None and full[0] == "orders":
            raise _refuse(
                "risk_orders_per_day",
                "risk_max_orders_per_day",
                f"{limits.orders_per_day:,}",
                f"本账户今天已下 {full[1]:,} 笔（所有任务合计，含各任务预留的额度）",
                order,
            )
        if full is not None:
            total = Decimal(full[1]) / MILLI
            raise _refuse(
                "risk_turnover",
                "risk_max_turnover",
                f"{_yuan(limits.turnover)} 元",
                f"本账户今天的下单金额已计 {_yuan(total)} 元（所有任务合计，含各任务预留的额度），"
                f"加上这笔约 {_yuan(value or Decimal(0))} 元将超过上限",
                order,
            )
        self.flow.record(limits, order, now)

    def check_cancel(self, order_id: str, *, day: str) -> None:
        try:
            full = self.quota.take(day, {"cancels": 1})
        except StoreUnavailable as exc:
            self._store_error(exc)
            raise OrderRejectedError(
                "risk_store_unavailable",
                f"{exc}，无法确认全账户今天的撤单笔数（risk_max_cancels_per_day={self.limits.cancels_per_day:,}），"
                f"没有撤销订单 {order_id}",
            ) from None
        if full is not None:
            raise OrderRejectedError(
                "risk_cancels_per_day",
                f"风控限制 risk_max_cancels_per_day={self.limits.cancels_per_day:,}：本账户今天已撤单 {full[1]:,} 笔"
                f"（所有任务合计，含各任务预留的额度），已拒绝撤销订单 {order_id}",
            )

    @property
    def open_value(self) -> Optional[float]:
        """The day's first total value (shared by the account's tasks), once a snapshot was seen."""
        return float(self._first[1]) if self._first is not None else None

    def on_snapshot(self, day: str, total_value: float, at: str) -> Optional[TradingStateChange]:
        """Record the day's first total value; switch the state once if the daily loss is over."""
        current = Decimal(repr(float(total_value)))
        if self._first is None or self._first[0] != day:
            try:
                first = self.store.first_value(day, current, at, self.task)
            except StoreUnavailable as exc:
                self._store_error(exc)
                first = current  # this task's own first snapshot, until the store is back
            self._first = (day, first)
        if not self.limits.daily_loss_on or self._tripped_day == day:
            return None
        reason = daily_loss(self.limits, self._first[1], current)
        if reason is None:
            return None
        self._tripped_day = day
        target = self.limits.daily_loss_action
        if self.state is TradingState.halted or (self.state is target):
            return None
        logger.error(
            "日内亏损超过限制：%s；交易状态切换为 %s（%s）", reason, target.value, target.label
        )
        try:
            self.store.record_trip(day, self.task, target.value, reason, at)
        except StoreUnavailable as exc:
            self._store_error(exc)
        return self.set_state(target, reason, source="daily_loss")

    def maintain(self, day: str) -> None:
        """At a sync: flush counts and top the leases up; a failure is logged once."""
        try:
            self.quota.maintain(day)
        except StoreUnavailable as exc:
            self._store_error(exc)
            return
        if self._store_failed is not None:
            logger.info("风控计数文件恢复可用")
            self._store_failed = None

    def close(self) -> None:
        try:
            self.quota.release()
        except StoreUnavailable as exc:
            logger.warning("归还风控预留额度失败（只会让今天的计数偏大）：%s", exc)
        self.store.close()

    def _store_error(self, exc: StoreUnavailable) -> None:
        if self._store_failed != str(exc):
            logger.error("%s", exc)
        self._store_failed = str(exc)
