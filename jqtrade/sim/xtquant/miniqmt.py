"""The simulated miniQMT client: one fund account on :class:`jqtrade.sim.broker.SimBroker`.

A :class:`SimMiniQmt` stands for the miniQMT program logged in to one account. It lives in
this process and is found by the ``userdata_mini`` path an :class:`XtQuantTrader` is made
with. Orders and cancels go to the shared matching core (the same one behind the simulated
OneQuant); its typed updates come back as xtquant pushes: the async response first, then
``on_stock_order`` for each status change, then ``on_stock_trade`` for each fill. A counter
rejection is an ``on_stock_order`` with status 57 followed by ``on_order_error``.

State (the broker, miniQMT's order table and trades) is written atomically to
``<userdata_mini>/jqtrade_sim_xtquant.pickle`` after every change, before a call returns: a
new :class:`SimMiniQmt` over the same folder carries on where the last one stopped, as the
real miniQMT keeps its orders when the strategy process is killed.

Faults (:class:`XtFaults`) make it behave like the reports from other projects: lost async
responses, duplicated or delayed pushes, counter rejections, an order error arriving before
its async response, cancels by order id refused, pushes replayed after a reconnect, a link that
drops (:meth:`SimMiniQmt.disconnect`) or queries that hang.
"""

from __future__ import annotations

import logging
import os
import pickle
import random
import threading
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Optional

import attrs
import pendulum

from jqtrade.clock import Clock, LiveClock
from jqtrade.errors import OrderRejectedError
from jqtrade.fileio import write_atomic
from jqtrade.model.orders import OrderAction, OrderStatus
from jqtrade.model.reports import OrderReport, TradeReport
from jqtrade.model.rules import normalize_code, suffix_code
from jqtrade.sim.broker import NewOrder, SimBroker
from jqtrade.sim.market import PriceFeed
from jqtrade.sim.xtquant import xtconstant as xc
from jqtrade.sim.xtquant.xttype import (
    XtAccountStatus,
    XtAsset,
    XtCancelError,
    XtCancelOrderResponse,
    XtOrder,
    XtOrderError,
    XtOrderResponse,
    XtPosition,
    XtTrade,
)

if TYPE_CHECKING:
    from jqtrade.sim.xtquant.xttrader import XtQuantTrader

log = logging.getLogger("jqtrade.sim.xtquant")

STATE_FILE = "jqtrade_sim_xtquant.pickle"
STATE_VERSION = 1

_XT_STATUS = {
    OrderStatus.new: xc.ORDER_UNREPORTED,
    OrderStatus.open: xc.ORDER_REPORTED,
    OrderStatus.filling: xc.ORDER_PART_SUCC,
    OrderStatus.filled: xc.ORDER_SUCCEEDED,
    OrderStatus.canceled: xc.ORDER_CANCELED,
    OrderStatus.partly_canceled: xc.ORDER_PART_CANCEL,
    OrderStatus.rejected: xc.ORDER_JUNK,
}
_FINAL = {xc.ORDER_PART_CANCEL, xc.ORDER_CANCELED, xc.ORDER_SUCCEEDED, xc.ORDER_JUNK}
#: Error ids the simulated counter uses (the real ones vary by broker).
ERROR_REJECTED = -61
ERROR_CANCEL = -62


@attrs.define(kw_only=True)
class XtFaults:
    """What can go wrong between miniQMT and a strategy; change the fields at any time."""

    lose_responses: int = 0  #: the next N async order responses are never delivered
    duplicate_rate: float = 0.0  #: share of order/trade pushes delivered twice
    delay_seconds: float = 0.0  #: order/trade pushes held this long (market time) before delivery
    reject_next: list[str] = attrs.field(
        factory=list
    )  #: the next orders are rejected with these reasons
    error_before_response: bool = (
        False  #: a rejection's on_order_error comes before its async response
    )
    refuse_cancel_by_id: bool = (
        False  #: cancels by order id fail (only by the counter's sysid work)
    )
    replay_on_subscribe: bool = False  #: a new subscription re-pushes the day's orders and trades
    hang_queries: bool = False  #: synchronous queries block until this is cleared
    seed: int = 0


@attrs.define(kw_only=True)
class _Row:
    """miniQMT's record of one order."""

    xt_id: int
    account_id: str
    stock_code: str
    order_type: int
    volume: int
    price_type: int
    price: float
    strategy_name: str
    remark: str
    order_time: int
    status: int = xc.ORDER_UNREPORTED
    sysid: str = ""
    traded_volume: int = 0
    traded_price: float = 0.0
    status_msg: str = ""

    def xt(self) -> XtOrder:
        return XtOrder(
            self.account_id,
            self.stock_code,
            self.xt_id,
            self.sysid,
            self.order_time,
            self.order_type,
            self.volume,
            self.price_type,
            self.price,
            self.traded_volume,
            self.traded_price,
            self.status,
            self.status_msg,
            self.strategy_name,
            self.remark,
            48,
            48 if self.order_type == xc.STOCK_BUY else 49,
            "",
            "",
        )


def _key(path: Any) -> str:
    return os.path.normcase(str(Path(path).expanduser().resolve()))


def _epoch(when: pendulum.DateTime) -> int:
    return int(when.timestamp())


class SimMiniQmt:
    """A simulated miniQMT logged in to ``account_id``, serving ``userdata_mini``.

    ``broker``: the matching core (default: a :class:`SimBroker` over a seeded
    :class:`PriceFeed` with ``cash`` and ``positions``). An existing state file in the folder
    wins over both: the simulated client restarts with its orders. ``clock`` gives market
    time (``step()`` without ``now`` reads it). Call :meth:`start` to let a thread step it
    (live), or :meth:`step` yourself (tests, simulated clocks).
    """

    _servers: ClassVar[dict[str, SimMiniQmt]] = {}
    _registry_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        userdata_mini: Any,
        *,
        account_id: str = "8880000001",
        broker: Optional[SimBroker] = None,
        cash: float = 1_000_000,
        positions: Optional[dict[str, Any]] = None,
        seed: int = 0,
        clock: Optional[Clock] = None,
        faults: Optional[XtFaults] = None,
        market_hours: bool = True,
        persist: bool = True,
    ) -> None:
        self.folder = Path(userdata_mini).expanduser()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.account_id = account_id
        self.clock: Clock = clock or LiveClock()
        self.faults = faults or XtFaults()
        self.state_file = self.folder / STATE_FILE if persist else None
        self._lock = threading.RLock()
        self._rng = random.Random(f"{self.faults.seed}|xtquant")
        self._traders: dict[int, XtQuantTrader] = {}  # session -> trader
        self._subscribed: dict[int, str] = {}  # session -> account id
        self._delayed: list[tuple[pendulum.DateTime, str, Any]] = []
        self._hung = threading.Event()
        self._hung.set()
        self._down = False
        self._seq = 0
        self._driver: Optional[threading.Thread] = None
        self._stop = threading.Event()
        self.rows: dict[int, _Row] = {}
        self.trades: list[XtTrade] = []
        self.next_id = 1
        self.broker = broker or SimBroker(
            PriceFeed(seed), cash, positions=positions, market_hours=market_hours, seed=seed
        )
        if self.state_file is not None and self.state_file.exists():
            self._load()
        with SimMiniQmt._registry_lock:
            SimMiniQmt._servers[_key(self.folder)] = self

    # -- registry and lifecycle ---------------------------------------------------------

    @classmethod
    def at(cls, path: Any) -> Optional[SimMiniQmt]:
        """The simulated miniQMT serving ``path`` in this process, if one runs."""
        with cls._registry_lock:
            return cls._servers.get(_key(path))

    def close(self) -> None:
        """Stop serving: connected traders are disconnected, the state stays in the folder."""
        self.stop()
        self.disconnect()
        with SimMiniQmt._registry_lock:
            if SimMiniQmt._servers.get(_key(self.folder)) is self:
                del SimMiniQmt._servers[_key(self.folder)]

    def start(self, interval: float = 0.05) -> None:
        """Step on a thread of its own every ``interval`` seconds (for a live clock)."""
        if self._driver is not None:
            return
        self._stop.clear()

        def run() -> None:
            while not self._stop.wait(interval):
                try:
                    self.step()
                except Exception:  # noqa: BLE001 - keep serving
                    log.exception("模拟 miniQMT 处理出错")

        self._driver = threading.Thread(target=run, name="jqtrade-sim-miniqmt", daemon=True)
        self._driver.start()

    def stop(self) -> None:
        self._stop.set()
        driver, self._driver = self._driver, None
        if driver is not None and driver is not threading.current_thread():
            driver.join(timeout=5)

    # -- faults -------------------------------------------------------------------------

    def disconnect(self) -> None:
        """Drop every connection: each trader gets ``on_disconnected`` and is dead for good."""
        with self._lock:
            traders = list(self._traders.values())
            self._traders.clear()
            self._subscribed.clear()
        for trader in traders:
            trader.kill()

    def set_down(self, down: bool) -> None:
        """``True``: miniQMT is not running (connects fail); ``False``: it is back."""
        if down:
            self.disconnect()
        self._down = down

    def hang_queries(self, hang: bool) -> None:
        self.faults.hang_queries = hang
        if hang:
            self._hung.clear()
        else:
            self._hung.set()

    def wait_if_hung(self, trader: Any) -> None:
        if self.faults.hang_queries:
            self._hung.clear()
            self._hung.wait(60)

    # -- sessions -----------------------------------------------------------------------

    def attach(self, trader: XtQuantTrader) -> bool:
        with self._lock:
            if self._down or trader.session in self._traders:
                return False
            self._traders[trader.session] = trader
        trader.deliver("on_connected")
        return True

    def detach(self, trader: XtQuantTrader) -> None:
        with self._lock:
            if self._traders.get(trader.session) is trader:
                del self._traders[trader.session]
                self._subscribed.pop(trader.session, None)

    def subscribe(self, trader: XtQuantTrader, account: Any) -> int:
        account_id = getattr(account, "account_id", None)
        if (
            account_id != self.account_id
            or getattr(account, "account_type", None) != xc.SECURITY_ACCOUNT
        ):
            return -1
        with self._lock:
            if self._traders.get(trader.session) is not trader:
                return -1
            self._subscribed[trader.session] = account_id
            trader.deliver(
                "on_account_status",
                XtAccountStatus(account_id, xc.SECURITY_ACCOUNT, xc.ACCOUNT_STATUS_OK),
            )
            if self.faults.replay_on_subscribe:
                for row in self.rows.values():
                    trader.deliver("on_stock_order", row.xt())
                for trade in self.trades:
                    trader.deliver("on_stock_trade", trade)
        return 0

    def unsubscribe(self, trader: Any, account: Any) -> int:
        with self._lock:
            self._subscribed.pop(trader.session, None)
        return 0

    # -- commands -----------------------------------------------------------------------

    def order(
        self,
        trader: Any,
        account: Any,
        stock_code: str,
        order_type: int,
        volume: int,
        price_type: int,
        price: float,
        strategy_name: str,
        remark: str,
        *,
        respond: bool = True,
    ) -> tuple[int, int]:
        """Take an order from ``trader``: ``(seq, order id)``; the order is saved before this returns."""
        with self._lock:
            if getattr(account, "account_id", None) != self.account_id:
                return -1, -1
            now = self.clock.now()
            self._ensure_day(now)
            self._seq += 1
            seq = self._seq
            xt_id = self.next_id
            self.next_id += 1
            row = _Row(
                xt_id=xt_id,
                account_id=self.account_id,
                stock_code=str(stock_code),
                order_type=int(order_type),
                volume=int(volume),
                price_type=int(price_type),
                price=float(price),
                strategy_name=str(strategy_name),
                remark=str(remark),
                order_time=_epoch(now),
            )
            self.rows[xt_id] = row
            reason = self._submit(row, now)
            if reason:
                row.status, row.status_msg = xc.ORDER_JUNK, reason
            self._save()
            response = XtOrderResponse(
                self.account_id, xt_id, row.strategy_name, row.remark, "", seq
            )
            error = None
            if reason:
                error = XtOrderError(
                    self.account_id, xt_id, ERROR_REJECTED, reason, row.strategy_name, row.remark
                )
                error.seq = seq
            lose = respond and self.faults.lose_responses > 0
            if lose:
                self.faults.lose_responses -= 1
            if error is not None and self.faults.error_before_response:
                trader.deliver("on_order_error", error)
            if respond and not lose:
                trader.deliver("on_order_stock_async_response", response)
            if error is not None:
                self._push("on_stock_order", row.xt(), now)
                if not self.faults.error_before_response:
                    trader.deliver("on_order_error", error)
            else:
                self._forward(now)
            return seq, xt_id

    def _submit(self, row: _Row, now: pendulum.DateTime) -> str:
        if self.faults.reject_next:
            return self.faults.reject_next.pop(0)
        try:
            code = normalize_code(row.stock_code)
        except OrderRejectedError as exc:
            return f"证券代码 {row.stock_code} 错误：{exc.message}"
        if row.order_type not in (xc.STOCK_BUY, xc.STOCK_SELL):
            return (
                f"委托类型 {row.order_type} 不是股票买卖（{xc.STOCK_BUY} 买、{xc.STOCK_SELL} 卖）"
            )
        if row.price_type == xc.FIX_PRICE:
            if not row.price > 0:
                return f"限价委托的价格 {row.price} 不合法"
            price = Decimal(repr(row.price))
        elif row.price_type in (xc.MARKET_PEER_PRICE_FIRST, xc.LATEST_PRICE):
            price = Decimal(0)  # the core prices 0 at the counterparty's best
        else:
            return f"模拟 miniQMT 不支持报价类型 {row.price_type}（支持 {xc.FIX_PRICE} 限价、{xc.MARKET_PEER_PRICE_FIRST} 对手方最优）"
        action = OrderAction.open if row.order_type == xc.STOCK_BUY else OrderAction.close
        return self.broker.submit(
            NewOrder(
                order_id=str(row.xt_id), code=code, action=action, amount=row.volume, price=price
            ),
            now,
        )

    def cancel(
        self,
        trader: Any,
        account: Any,
        *,
        order_id: Optional[int] = None,
        sysid: Optional[str] = None,
        respond: bool = True,
    ) -> tuple[int, int]:
        """Cancel by order id or by the counter's sysid: ``(seq, 0 or -1)``."""
        with self._lock:
            now = self.clock.now()
            self._seq += 1
            seq = self._seq
            row: Optional[_Row] = None
            if order_id is not None:
                row = self.rows.get(int(order_id))
            elif sysid:
                row = next((r for r in self.rows.values() if r.sysid == sysid), None)
            if getattr(account, "account_id", None) != self.account_id:
                reason = "资金账号不符"
            elif row is None:
                reason = "撤单失败：未找到该委托"
            elif order_id is not None and self.faults.refuse_cancel_by_id:
                reason = "撤单失败：该委托没有柜台合同编号，请按合同编号撤单"
            else:
                reason = self.broker.cancel(str(row.xt_id), now)
            result = -1 if reason else 0
            if respond:
                trader.deliver(
                    "on_cancel_order_stock_async_response",
                    XtCancelOrderResponse(
                        self.account_id, result, int(order_id or 0), sysid or "", seq, reason
                    ),
                )
            if reason:
                market = xc.SH_MARKET
                if row is not None and row.stock_code.endswith(".SZ"):
                    market = xc.SZ_MARKET
                trader.deliver(
                    "on_cancel_error",
                    XtCancelError(
                        self.account_id,
                        row.xt_id if row else int(order_id or 0),
                        market,
                        row.sysid if row else (sysid or ""),
                        ERROR_CANCEL,
                        reason,
                    ),
                )
            else:
                self._forward(now)
                self._save()
            return seq, result

    def inject_foreign_order(
        self,
        code: str,
        amount: int,
        price: float,
        *,
        buy: bool = True,
        remark: str = "手工下单",
        strategy_name: str = "",
    ) -> int:
        """An order placed by another program (or by hand in the QMT client): its order id."""
        with self._lock:
            now = self.clock.now()
            self._ensure_day(now)
            xt_id = self.next_id
            self.next_id += 1
            row = _Row(
                xt_id=xt_id,
                account_id=self.account_id,
                stock_code=suffix_code(code),
                order_type=xc.STOCK_BUY if buy else xc.STOCK_SELL,
                volume=amount,
                price_type=xc.FIX_PRICE,
                price=float(price),
                strategy_name=strategy_name,
                remark=remark,
                order_time=_epoch(now),
            )
            self.rows[xt_id] = row
            reason = self._submit(row, now)
            if reason:
                row.status, row.status_msg = xc.ORDER_JUNK, reason
                self._push("on_stock_order", row.xt(), now)
            self._forward(now)
            self._save()
            return xt_id

    # -- time -----------------------------------------------------------------------------

    def step(self, now: Optional[pendulum.DateTime] = None) -> None:
        """Let the counter and the exchange act at ``now`` (default: the clock's now)."""
        with self._lock:
            now = now or self.clock.now()
            self._ensure_day(now)
            self.broker.advance(now)
            changed = self._forward(now)
            if self._delayed:
                due = [item for item in self._delayed if item[0] <= now]
                self._delayed = [item for item in self._delayed if item[0] > now]
                for _, method, payload in due:
                    self._fan_out(method, payload)
            if changed:
                self._save()

    def settle(self, timeout: float = 5.0) -> bool:
        """Wait until every connected trader has run its queued callbacks."""
        with self._lock:
            traders = list(self._traders.values())
        return all(trader.idle(timeout) for trader in traders)

    def _ensure_day(self, now: pendulum.DateTime) -> None:
        today = now.date()
        if self.broker.day == today:
            return
        if self.broker.day is not None:
            self.broker.close_day(now)
            self._forward(now)
            self.rows.clear()
            self.trades.clear()
        self.broker.open_day(today)
        self._save()

    # -- updates -> pushes ----------------------------------------------------------------

    def _forward(self, now: pendulum.DateTime) -> bool:
        """Turn the core's updates into pushes: each status change, then the fill it came with."""
        updates = self.broker.drain()
        waiting: list[XtTrade] = []
        for update in updates:
            if isinstance(update, TradeReport):
                trade = self._trade(update)
                if trade is not None:
                    waiting.append(trade)
                continue
            self._order_update(update, now)
            for trade in waiting:
                self._push("on_stock_trade", trade, now)
            waiting.clear()
        for trade in waiting:
            self._push("on_stock_trade", trade, now)
        return bool(updates)

    def _order_update(self, update: OrderReport, now: pendulum.DateTime) -> None:
        row = self.rows.get(int(update.order_id))
        if row is None:
            return
        status = _XT_STATUS.get(update.status)
        if update.status is OrderStatus.canceling:
            status = (
                xc.ORDER_PARTSUCC_CANCEL
                if (update.filled_amount or 0) > 0
                else xc.ORDER_REPORTED_CANCEL
            )
        if status is None:
            return
        row.status = status
        if update.status is not OrderStatus.new and not row.sysid and update.broker_order_id:
            row.sysid = f"S{update.broker_order_id}"
        row.traded_volume = update.filled_amount or 0
        row.traded_price = float(update.avg_price or 0)
        row.status_msg = update.err_msg or ""
        self._push("on_stock_order", row.xt(), now)
        if update.status is OrderStatus.rejected:
            error = XtOrderError(
                self.account_id,
                row.xt_id,
                ERROR_REJECTED,
                row.status_msg,
                row.strategy_name,
                row.remark,
            )
            self._push("on_order_error", error, now)

    def _trade(self, update: TradeReport) -> Optional[XtTrade]:
        row = self.rows.get(int(update.order_id))
        if row is None:
            return None
        trade = XtTrade(
            self.account_id,
            row.stock_code,
            row.order_type,
            update.trade_id,
            _epoch(update.time) if update.time else 0,
            float(update.price),
            update.amount,
            float(update.price * update.amount),
            row.xt_id,
            row.sysid,
            row.strategy_name,
            row.remark,
            48,
            48 if row.order_type == xc.STOCK_BUY else 49,
            float(update.commission) if update.commission is not None else 0.0,
            "",
            "",
        )
        self.trades.append(trade)
        return trade

    def _push(self, method: str, payload: Any, now: pendulum.DateTime) -> None:
        faults = self.faults
        if faults.delay_seconds > 0:
            self._delayed.append(
                (now.add(microseconds=int(faults.delay_seconds * 1_000_000)), method, payload)
            )
            return
        self._fan_out(method, payload)

    def _fan_out(self, method: str, payload: Any) -> None:
        twice = self.faults.duplicate_rate > 0 and self._rng.random() < self.faults.duplicate_rate
        for session, account_id in list(self._subscribed.items()):
            trader = self._traders.get(session)
            if trader is None or account_id != self.account_id:
                continue
            trader.deliver(method, payload)
            if twice:
                trader.deliver(method, payload)

    # -- queries --------------------------------------------------------------------------

    def _mine(self, account: Any) -> bool:
        self._ensure_day(self.clock.now())
        return getattr(account, "account_id", None) == self.account_id

    def query_orders(self, account: Any, cancelable_only: bool = False) -> list[XtOrder]:
        with self._lock:
            if not self._mine(account):
                return []
            return [
                row.xt()
                for row in self.rows.values()
                if not (cancelable_only and row.status in _FINAL)
            ]

    def query_order(self, account: Any, order_id: int) -> Optional[XtOrder]:
        with self._lock:
            row = self.rows.get(int(order_id))
            return row.xt() if row is not None and self._mine(account) else None

    def query_trades(self, account: Any) -> list[XtTrade]:
        with self._lock:
            return list(self.trades) if self._mine(account) else []

    def query_positions(self, account: Any) -> list[XtPosition]:
        with self._lock:
            if not self._mine(account):
                return []
            now = self.clock.now()
            out = []
            for position in self.broker.balance(now).positions:
                out.append(
                    XtPosition(
                        self.account_id,
                        suffix_code(position.code),
                        position.total_amount,
                        position.closeable_amount,
                        float(position.avg_cost),
                        float(position.value),
                        position.total_amount - position.closeable_amount,
                        0,
                        position.total_amount,
                        float(position.avg_cost),
                        48,
                        float(position.last_price),
                        0.0,
                        "",
                        "",
                    )
                )
            return out

    def query_position(self, account: Any, stock_code: str) -> Optional[XtPosition]:
        return next((p for p in self.query_positions(account) if p.stock_code == stock_code), None)

    def query_asset(self, account: Any) -> Optional[XtAsset]:
        with self._lock:
            if not self._mine(account):
                return None
            balance = self.broker.balance(self.clock.now())
            market_value = sum((p.value for p in balance.positions), Decimal(0))
            return XtAsset(
                self.account_id,
                float(balance.available_cash),
                float(balance.locked_cash),
                float(market_value),
                float(balance.total_value),
                float(balance.available_cash),
            )

    def query_account_status(self) -> list[XtAccountStatus]:
        return [XtAccountStatus(self.account_id, xc.SECURITY_ACCOUNT, xc.ACCOUNT_STATUS_OK)]

    def query_account_infos(self) -> list[Any]:
        return []

    # -- state ----------------------------------------------------------------------------

    def _save(self) -> None:
        if self.state_file is None:
            return
        faults, self.broker.faults = self.broker.faults, None
        try:
            data = pickle.dumps(
                {
                    "version": STATE_VERSION,
                    "broker": self.broker,
                    "rows": self.rows,
                    "trades": self.trades,
                    "next_id": self.next_id,
                    "account_id": self.account_id,
                },
                protocol=pickle.HIGHEST_PROTOCOL,
            )
        finally:
            self.broker.faults = faults
        write_atomic(self.state_file, data)

    def _load(self) -> None:
        assert self.state_file is not None
        state = pickle.loads(self.state_file.read_bytes())  # noqa: S301 - our own file in our own folder
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"模拟 miniQMT 的状态文件 {self.state_file} 版本不符，请删除后重试")
        self.broker = state["broker"]
        self.rows = state["rows"]
        self.trades = state["trades"]
        self.next_id = state["next_id"]
        self.account_id = state.get("account_id", self.account_id)
        log.info(
            "模拟 miniQMT 从 %s 恢复了 %d 笔委托、%d 笔成交",
            self.state_file,
            len(self.rows),
            len(self.trades),
        )
