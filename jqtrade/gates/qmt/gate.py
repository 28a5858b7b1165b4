"""The QMT gate: trades through miniQMT's ``xtquant`` API (``trade_gate="qmt"``).

How it keeps the gate contract (:class:`jqtrade.gates.base.AbsTradeGate`):

- **Threads.** xtquant calls back on its own worker thread; the callback only copies the
  pushed object into a record and queues it (:mod:`jqtrade.gates.qmt.events`). The loop
  thread drains the queue in ``sync_orders``/``sync_balance``. xtquant's synchronous calls
  (``connect``, ``subscribe``, queries) run on a helper thread and are waited for at most
  ``connect_timeout``/``query_timeout`` seconds, so no gate method blocks for long.
- **Orders.** ``order_stock_async`` with jqtrade's order id as ``order_remark`` (and the task
  name as ``strategy_name``): every push, trade and query row names the order it belongs to,
  also after a restart. Orders whose remark is not a jqtrade id are another program's: they
  are reported with ``order_id=""``.
- **Cumulative fields.** An order's filled quantity is the larger of the latest
  ``traded_volume`` and the sum of its distinct trades (by ``traded_id``); a trade heard twice
  (replays after a reconnect) counts once, and a final status is never replaced.
- **Connection.** ``connect()`` is one-shot: after ``on_disconnected`` (or a query timing out)
  the gate is *stale*: ``sync_balance`` raises :class:`~jqtrade.errors.SnapshotUnusableError`
  with the reason, ``order`` refuses, ``has_order`` answers ``None``. It reconnects with a
  fresh ``XtQuantTrader`` and session id, waiting ``reconnect_interval`` seconds, doubled after
  each failure up to ``reconnect_max_interval``; then it reconciles.
- **Reconciliation** (after each connect): today's orders and trades are queried and merged by
  remark; cancels asked for while disconnected are sent. ``has_order`` then answers from the
  broker's orders.
"""

from __future__ import annotations

import concurrent.futures
import importlib
import importlib.util
import logging
import queue
import secrets
import sys
import threading
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Optional, Union

import attrs
import pendulum

from jqtrade.clock import MARKET_TZ, Clock, LiveClock
from jqtrade.errors import GateConfigError, GateError, OrderRejectedError, SnapshotUnusableError
from jqtrade.gates.base import AbsTradeGate, GateEnv
from jqtrade.gates.qmt import mapping as xt
from jqtrade.gates.qmt.config import REAL_XTQUANT, QmtConfig
from jqtrade.gates.qmt.events import (
    CancelErrorData,
    Event,
    EventQueue,
    Kind,
    OrderData,
    OrderErrorData,
    ResponseData,
    TradeData,
    make_callback,
    order_data,
    trade_data,
)
from jqtrade.model.orders import FINAL_STATUSES, OrderAction, OrderRequest, OrderSide, OrderStatus
from jqtrade.model.reports import ZERO, BalanceReport, OrderReport, PositionReport

log = logging.getLogger("jqtrade.gates.qmt")


# --- loading xtquant --------------------------------------------------------------------


@attrs.frozen
class XtApi:
    """The parts of an xtquant package the gate uses (the real one or the simulated one)."""

    XtQuantTrader: Any
    XtQuantTraderCallback: type
    StockAccount: Any
    module: str = REAL_XTQUANT


def missing_xtquant_reason(
    module: str = REAL_XTQUANT, *, platform: Optional[str] = None
) -> Optional[str]:
    """Why ``module``'s trading API cannot be used here (one Chinese line), or ``None``.

    Cheap: looks the package up without importing it (importing ``xtquant`` may make a
    network request for a version check).
    """
    platform = platform or sys.platform
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        found = False
    if module != REAL_XTQUANT:
        return None if found else f"找不到模块 {module!r}（选项 xtquant_module）"
    if not found:
        return (
            "QMT 交易接口需要 xtquant，但当前 Python 环境没有安装：请在装有 miniQMT 的 Windows 电脑上运行 "
            'pip install "jqtrade[qmt]"（或 pip install xtquant）'
        )
    if platform != "win32":
        return (
            f"QMT 交易接口只能在 Windows 上使用：xtquant 的交易模块是 Windows 专用的本地库，当前系统为 {platform}"
            "（想在这里试运行，可用模拟 miniQMT：xtquant_module='jqtrade.sim.xtquant'）"
        )
    return None


def load_xtquant(module: str = REAL_XTQUANT) -> XtApi:
    """Import ``<module>.xttrader`` and ``<module>.xttype``; a one-line :class:`GateConfigError`
    says what is missing."""
    reason = missing_xtquant_reason(module)
    if reason is not None:
        raise GateConfigError(reason)
    try:
        trader: ModuleType = importlib.import_module(f"{module}.xttrader")
        types: ModuleType = importlib.import_module(f"{module}.xttype")
    except ImportError as exc:
        raise GateConfigError(
            f"无法导入 {module}.xttrader（{exc}）：xtquant 的本地库与 Python "
            f"{sys.version_info.major}.{sys.version_info.minor} 不匹配或安装不完整，请重新安装 xtquant"
        ) from exc
    return XtApi(
        XtQuantTrader=trader.XtQuantTrader,
        XtQuantTraderCallback=trader.XtQuantTraderCallback,
        StockAccount=types.StockAccount,
        module=module,
    )


# --- blocking calls with a time limit ---------------------------------------------------


class _Caller:
    """Runs xtquant's blocking calls on a daemon thread and waits a bounded time.

    A call that does not return in time is abandoned with its thread (Python cannot stop
    it); the next call gets a new thread.
    """

    def __init__(self) -> None:
        self._jobs: Optional[queue.SimpleQueue[Any]] = None

    def call(self, what: str, timeout: float, fn: Callable[..., Any], *args: Any) -> Any:
        if self._jobs is None:
            jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
            threading.Thread(
                target=self._work, args=(jobs,), name="jqtrade-qmt-call", daemon=True
            ).start()
            self._jobs = jobs
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self._jobs.put((future, fn, args))
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            self._jobs = None
            raise GateError(f"miniQMT 在 {timeout:g} 秒内没有回答 {what}") from None
        except GateError:
            raise
        except Exception as exc:  # noqa: BLE001 - whatever xtquant raises, say which call
            raise GateError(f"调用 xtquant 的 {what} 出错：{exc}") from exc

    def close(self) -> None:
        if self._jobs is not None:
            self._jobs.put(None)
            self._jobs = None

    @staticmethod
    def _work(jobs: queue.SimpleQueue[Any]) -> None:
        while True:
            job = jobs.get()
            if job is None:
                return
            future, fn, args = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(*args))
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
                future.set_exception(exc)


# --- what the gate knows of one order ---------------------------------------------------


@attrs.define(kw_only=True, eq=False)
class _Tracked:
    order_id: str  # jqtrade's id; "" for another program's order
    code: str
    action: Optional[OrderAction] = None
    amount: Optional[int] = None
    price: Optional[Decimal] = None
    xt_id: Optional[int] = None
    sysid: str = ""
    seq: Optional[int] = None
    xt_status: Optional[int] = None
    status: OrderStatus = OrderStatus.new
    traded_volume: int = 0
    traded_price: float = 0.0
    trades: dict[str, tuple[int, Decimal, Optional[Decimal]]] = attrs.field(factory=dict)
    err_msg: str = ""
    entrust_time: Optional[pendulum.DateTime] = None
    update_time: Optional[pendulum.DateTime] = None
    sent_at: Optional[pendulum.DateTime] = None  # when this process sent it
    heard: bool = False  # any answer from miniQMT about it
    uncertain: bool = False  # the send call raised: it may or may not have left
    checked_at: Optional[pendulum.DateTime] = None
    cancel_wanted: bool = False
    cancel_pending: bool = False  # asked for, not sent yet (no broker id known)
    cancel_by_sysid: bool = False

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATUSES

    def filled(self) -> tuple[int, Optional[Decimal], Optional[Decimal]]:
        """(filled quantity, filled value, commission) from the trades and the order pushes."""
        volume = sum(t[0] for t in self.trades.values())
        value = sum((t[1] for t in self.trades.values()), ZERO)
        fees = [t[2] for t in self.trades.values() if t[2] is not None]
        commission = sum(fees, ZERO) if fees else None
        filled = max(volume, self.traded_volume)
        if self.amount is not None:
            filled = min(filled, self.amount)
        if filled == volume:
            return filled, value, commission
        if self.traded_price > 0:
            return filled, xt.money(self.traded_price) * filled, commission
        return filled, None, commission


def _xt_time(value: Any) -> Optional[pendulum.DateTime]:
    """xtquant's ``order_time``/``traded_time``: epoch seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        try:
            return pendulum.from_timestamp(float(value), tz=MARKET_TZ)
        except (OverflowError, OSError, ValueError):
            return None
    return None


ApiSource = Union[XtApi, Callable[[], XtApi], None]


class QmtTradeGate(AbsTradeGate[QmtConfig]):
    """miniQMT (迅投 QMT 极简模式) 交易接口，经 xtquant 下单、撤单、查询。

    ``api``: where xtquant comes from (an :class:`XtApi` or a factory returning one); by
    default the ``xtquant_module`` option's package, imported at the first connect.
    """

    name = "qmt"
    config_class = QmtConfig

    def __init__(self, api: ApiSource = None) -> None:
        self._api_source = api
        self._api: Optional[XtApi] = None
        self._config: Optional[QmtConfig] = None
        self._clock: Clock = LiveClock()
        self._strategy_name = "jqtrade"
        self._events = EventQueue()
        self._caller = _Caller()
        self._generation = 0
        self._sessions = 0
        self._session = 0
        self._trader: Any = None
        self._account: Any = None
        self._connected = False
        self._stale_reason: Optional[str] = "还没有连接 miniQMT"
        self._next_attempt: Optional[pendulum.DateTime] = None
        self._failures = 0
        self._reconcile_due = True
        self._reconciled = False
        self._account_status: Optional[int] = None
        self._day: Optional[Any] = None
        self._orders: dict[str, _Tracked] = {}
        self._foreign: dict[int, _Tracked] = {}
        self._by_xt: dict[int, str] = {}
        self._by_seq: dict[int, str] = {}
        self._early_errors: dict[
            int, OrderErrorData
        ] = {}  # by xtquant order id, before its response
        self._early_trades: dict[int, list[TradeData]] = {}
        self._dirty: dict[Union[str, int], None] = {}
        self._cancel_later: set[str] = set()  # cancels asked for before the order was known
        self._best_logged = False
        self._closed = False

    # -- lifecycle ----------------------------------------------------------------------

    def configure(self, config: QmtConfig, env: GateEnv) -> None:
        if self._api_source is None:
            reason = missing_xtquant_reason(config.xtquant_module)
            if reason is not None:
                raise GateConfigError(reason)
            if not config.simulated and not config.userdata_mini.is_dir():
                raise GateConfigError(
                    f"userdata_mini 文件夹不存在：{config.userdata_mini}（在 miniQMT 安装目录下，如 "
                    r"D:\国金QMT交易端\userdata_mini）"
                )
        self._config = config
        self._clock = env.clock
        self._strategy_name = env.task_name or "jqtrade"
        log.info(
            "QMT 交易接口：资金账号 %s，userdata_mini %s%s",
            config.account,
            config.userdata_mini,
            "（模拟 miniQMT）" if config.simulated else "",
        )

    @property
    def config(self) -> QmtConfig:
        if self._config is None:
            raise GateError("QMT 交易接口还没有 configure")
        return self._config

    @property
    def order_id_dir(self) -> Path:
        """Order-id counters live in the miniQMT folder: every jqtrade task trading this account
        through this miniQMT draws from one counter, whatever its runtime folder."""
        return self.config.userdata_mini / "jqtrade" / self.config.account / "order_ids"

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def stale_reason(self) -> Optional[str]:
        """Why the gate's view is not live just now (disconnected, never connected), or ``None``."""
        return None if self._connected else self._stale_reason

    @property
    def session_id(self) -> Optional[int]:
        """The session id of the current (or last) connection."""
        return self._session if self._sessions else None

    def close(self) -> None:
        self._closed = True
        self._drop_trader()
        self._caller.close()

    # -- connection ---------------------------------------------------------------------

    def _load_api(self) -> XtApi:
        if self._api is None:
            source = self._api_source
            if isinstance(source, XtApi):
                self._api = source
            elif source is not None:
                self._api = source()
            else:
                self._api = load_xtquant(self.config.xtquant_module)
        return self._api

    def _next_session(self) -> int:
        configured = self.config.session_id
        self._sessions += 1
        if configured is not None:
            self._session = configured + self._sessions - 1
        else:
            self._session = secrets.randbelow(2**30) + 2**20
        return self._session

    def _ensure_connected(self) -> bool:
        if self._connected:
            return True
        if self._closed:
            return False
        now = self._clock.now()
        if self._next_attempt is not None and now < self._next_attempt:
            return False
        try:
            self._connect()
        except GateConfigError:
            raise
        except GateError as exc:
            self._failures += 1
            config = self.config
            delay = min(
                config.reconnect_interval * 2 ** (self._failures - 1), config.reconnect_max_interval
            )
            self._next_attempt = now.add(seconds=delay)
            self._stale_reason = str(exc)
            (log.warning if self._failures == 1 else log.info)("%s；%g 秒后重试连接", exc, delay)
            return False
        if self._failures or self._generation > 1:
            log.warning("已重新连接 miniQMT（会话号 %d），正在核对委托和成交", self._session)
        self._failures = 0
        self._next_attempt = None
        self._connected = True
        self._stale_reason = None
        self._reconcile_due = True
        return True

    def _connect(self) -> None:
        config = self.config
        api = self._load_api()
        self._generation += 1
        session = self._next_session()
        callback = make_callback(api.XtQuantTraderCallback, self._events, self._generation)
        trader = api.XtQuantTrader(str(config.userdata_mini), session, callback)
        trader.register_callback(callback)
        try:
            self._caller.call("start", config.connect_timeout, trader.start)
            result = self._caller.call("connect", config.connect_timeout, trader.connect)
            if result != 0:
                raise GateError(
                    f"无法连接 miniQMT（connect 返回 {result}）：请确认 miniQMT 已启动并以极简模式登录，"
                    f"且 userdata_mini={config.userdata_mini} 是它的目录"
                )
            account = api.StockAccount(config.account, config.account_type)
            if isinstance(account, str):  # xtquant returns its error text for a bad account id
                raise GateConfigError(f"资金账号 {config.account!r} 不合法：{account}")
            result = self._caller.call(
                "subscribe", config.connect_timeout, trader.subscribe, account
            )
            if result != 0:
                raise GateError(
                    f"订阅资金账号 {config.account} 失败（subscribe 返回 {result}）：请确认该账号已在 miniQMT 中登录"
                )
        except BaseException:
            self._stop(trader)
            raise
        self._trader, self._account = trader, account
        self._account_status = None

    def _stop(self, trader: Any) -> None:
        """Stop a trader without waiting for it (its threads may hang on a dead link)."""
        stop = getattr(trader, "stop", None)
        if callable(stop):
            threading.Thread(
                target=_quietly, args=(stop,), name="jqtrade-qmt-stop", daemon=True
            ).start()

    def _drop_trader(self) -> None:
        if self._trader is not None:
            self._stop(self._trader)
        self._trader = None
        self._connected = False

    def _lost(self, reason: str) -> None:
        """The connection is unusable: stale until a fresh one is made."""
        if self._connected:
            log.warning(
                "%s；交易数据标记为过期，%g 秒后重连", reason, self.config.reconnect_interval
            )
        self._drop_trader()
        self._stale_reason = reason
        self._reconcile_due = True
        self._reconciled = False
        self._next_attempt = self._clock.now().add(seconds=self.config.reconnect_interval)

    def _call(self, what: str, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return self._caller.call(what, self.config.query_timeout, fn, *args)
        except GateError as exc:
            self._lost(str(exc))
            raise

    # -- orders -------------------------------------------------------------------------

    def order(self, request: OrderRequest) -> None:
        order_id = request.order_id
        if not xt.remark_id(order_id) or order_id != xt.remark_id(order_id):
            raise GateError(
                f"订单号 {order_id!r} 不合法：QMT 交易接口把订单号写在委托备注里，只能是数字"
            )
        if request.side is not OrderSide.long:
            raise GateError(f"QMT 交易接口只支持普通股票账户的买卖，不支持 side={request.side}")
        if request.amount <= 0:
            raise GateError(f"委托数量应为正整数，实际是 {request.amount!r}")
        try:
            code = xt.to_xt_code(request.code)
            price_type, price = xt.price_of(request)
        except (OrderRejectedError, TypeError) as exc:
            raise GateError(str(exc)) from None
        self._check_day()
        if not self._connected and not self._ensure_connected():
            raise GateError(f"没有连接 miniQMT（{self._stale_reason}），订单 {order_id} 没有发送")
        if price_type == xt.MARKET_PEER_PRICE_FIRST and not self._best_logged:
            self._best_logged = True
            log.warning(
                "市价单和 LimitOrderStyle(0) 按对手方最优价格委托（xtconstant.MARKET_PEER_PRICE_FIRST=44，沪深北股票均支持）发送"
            )
        now = self._clock.now()
        tracked = _Tracked(
            order_id=order_id,
            code=request.code,
            action=request.action,
            amount=request.amount,
            price=request.price if price_type == xt.FIX_PRICE else None,
            sent_at=now,
            entrust_time=now,
        )
        self._orders[order_id] = tracked
        try:
            seq = self._trader.order_stock_async(
                self._account,
                code,
                xt.order_type_of(request.action),
                int(request.amount),
                price_type,
                price,
                self._strategy_name,
                order_id,
            )
        except Exception:
            tracked.uncertain = True  # settled from miniQMT's orders after order_confirm_timeout
            raise
        if not isinstance(seq, int) or seq < 0:
            del self._orders[order_id]
            raise GateError(
                f"miniQMT 没有接受订单 {order_id}（order_stock_async 返回 {seq!r}），订单没有发送"
            )
        tracked.seq = seq
        self._by_seq[seq] = order_id
        log.debug(
            "已发送委托 %s：%s %s %d 股 price_type=%d price=%g seq=%d",
            order_id,
            code,
            request.action,
            request.amount,
            price_type,
            price,
            seq,
        )

    def cancel_order(self, order_id: str) -> None:
        order_id = str(order_id)
        self._check_day()
        if self._ensure_connected() and self._reconcile_due:
            try:
                self._reconcile()  # an order from before a restart is known only after it
            except GateError:
                pass
        tracked = self._orders.get(order_id)
        if tracked is None:
            if not self._reconciled:
                self._cancel_later.add(order_id)  # known (or not) once reconciled
                log.warning("没有连接 miniQMT，订单 %s 的撤单将在重新连接后发送", order_id)
            else:
                log.debug("撤单 %s：不是本接口知道的 jqtrade 订单，忽略", order_id)
            return
        if tracked.final:
            return
        tracked.cancel_wanted = True
        if not self._connected:
            tracked.cancel_pending = True
            log.warning("没有连接 miniQMT，订单 %s 的撤单将在重新连接后发送", order_id)
            return
        self._send_cancel(tracked)

    def _send_cancel(self, tracked: _Tracked) -> None:
        if tracked.xt_id:
            seq = self._trader.cancel_order_stock_async(self._account, tracked.xt_id)
            if isinstance(seq, int) and seq >= 0:
                tracked.cancel_pending = False
                return
            log.info("按订单编号撤销 %s 失败（返回 %r），改用柜台合同编号", tracked.order_id, seq)
        if tracked.sysid:
            tracked.cancel_by_sysid = True
            seq = self._trader.cancel_order_stock_sysid_async(
                self._account, xt.market_of(tracked.code), tracked.sysid
            )
            if isinstance(seq, int) and seq >= 0:
                tracked.cancel_pending = False
                return
        tracked.cancel_pending = True  # sent once miniQMT names the order

    def has_order(self, order_id: str) -> Optional[bool]:
        """Whether miniQMT has an order with ``order_id`` as its remark today; ``None`` while
        disconnected or before the first reconciliation of this connection."""
        if not self._connected or not self._reconciled:
            return None
        tracked = self._orders.get(order_id)
        return tracked is not None and (tracked.heard or tracked.sent_at is not None)

    # -- sync ---------------------------------------------------------------------------

    def sync_orders(self) -> list[OrderReport]:
        self._check_day()
        self._drain()
        if self._ensure_connected():
            try:
                if self._reconcile_due:
                    self._reconcile()
                self._confirm_unheard()
            except GateError:
                pass  # _lost() has recorded why; what was heard is still handed over
            self._drain()
        reports = self._reports()
        if not reports and not self._connected:
            raise GateError(f"QMT 交易接口未连接：{self._stale_reason}")
        return reports

    def sync_balance(self) -> BalanceReport:
        self._check_day()
        self._drain()
        if not self._ensure_connected():
            raise SnapshotUnusableError(f"QMT 资金持仓暂不可用：{self._stale_reason}")
        status = self._account_status
        if status is not None and status not in xt.USABLE_ACCOUNT_STATUSES:
            label = xt.ACCOUNT_STATUS_LABELS.get(status, str(status))
            raise SnapshotUnusableError(
                f"miniQMT 中资金账号 {self.config.account} 的状态为「{label}」，资金持仓暂不可用"
            )
        as_of = self._clock.now()
        asset = self._call("query_stock_asset", self._trader.query_stock_asset, self._account)
        rows = self._call(
            "query_stock_positions", self._trader.query_stock_positions, self._account
        )
        if asset is None or rows is None:
            raise SnapshotUnusableError(
                f"miniQMT 没有返回资金账号 {self.config.account} 的{'资金' if asset is None else '持仓'}（账号可能没有登录）"
            )
        positions = []
        for row in rows:
            position = self._position(row)
            if position is not None:
                positions.append(position)
        return BalanceReport(
            total_value=xt.money(asset.total_asset),
            available_cash=xt.money(asset.cash),
            locked_cash=xt.money(asset.frozen_cash),
            positions=tuple(positions),
            as_of=as_of,
        )

    @staticmethod
    def _position(row: Any) -> Optional[PositionReport]:
        try:
            volume = int(row.volume)
            code = xt.from_xt_code(str(row.stock_code))
        except (OrderRejectedError, TypeError, ValueError, AttributeError):
            return None
        if volume <= 0:
            return None
        closeable = max(0, min(int(getattr(row, "can_use_volume", 0) or 0), volume))
        value = getattr(row, "market_value", None)
        return PositionReport(
            code=code,
            total_amount=volume,
            closeable_amount=closeable,
            avg_cost=xt.money(
                getattr(row, "avg_price", 0.0) or getattr(row, "open_price", 0.0) or 0.0
            ),
            last_price=xt.money(getattr(row, "last_price", 0.0) or 0.0),
            position_value=xt.money(value)
            if isinstance(value, (int, float)) and value >= 0
            else None,
        )

    def _check_day(self) -> None:
        today = self._clock.now().date()
        if self._day == today:
            return
        if self._day is not None:
            log.info("交易日变为 %s：清空上一交易日的委托，重新核对", today)
        self._day = today
        self._orders.clear()
        self._foreign.clear()
        self._by_xt.clear()
        self._by_seq.clear()
        self._early_errors.clear()
        self._early_trades.clear()
        self._dirty.clear()
        self._cancel_later.clear()
        self._reconcile_due = True
        self._reconciled = False

    def _reconcile(self) -> None:
        orders = self._call(
            "query_stock_orders", self._trader.query_stock_orders, self._account, False
        )
        trades = self._call("query_stock_trades", self._trader.query_stock_trades, self._account)
        if orders is None or trades is None:
            self._lost("miniQMT 没有返回当日委托或成交")
            raise GateError("miniQMT 没有返回当日委托或成交")
        now = self._clock.now()
        for row in orders:
            self._on_order(order_data(row), now)
        for row in trades:
            self._on_trade(trade_data(row), now)
        for order_id in self._cancel_later:
            if order_id in self._orders:
                self._orders[order_id].cancel_wanted = True
                self._orders[order_id].cancel_pending = True
        self._cancel_later.clear()
        for tracked in self._orders.values():
            if (
                tracked.cancel_wanted
                and not tracked.final
                and (tracked.cancel_pending or self._generation > 1)
            ):
                self._send_cancel(tracked)
        self._reconcile_due = False
        self._reconciled = True
        log.info("已核对 miniQMT 当日委托 %d 笔、成交 %d 笔", len(orders), len(trades))

    def _confirm_unheard(self) -> None:
        """Orders sent without any answer for ``order_confirm_timeout``: look for them by remark."""
        now = self._clock.now()
        timeout = self.config.order_confirm_timeout
        waiting = [
            t
            for t in self._orders.values()
            if t.sent_at is not None
            and not t.heard
            and not t.final
            and (now - (t.checked_at or t.sent_at)).total_seconds() >= timeout
        ]
        if not waiting:
            return
        rows = self._call(
            "query_stock_orders", self._trader.query_stock_orders, self._account, False
        )
        for row in rows or ():
            self._on_order(order_data(row), now)
        for tracked in waiting:
            tracked.checked_at = now
            if tracked.heard:
                continue
            if tracked.uncertain:
                tracked.status = OrderStatus.rejected
                tracked.err_msg = "下单调用出错，miniQMT 的当日委托中也没有这笔订单（按委托备注查找），订单没有送达"
                tracked.update_time = now
                self._dirty[tracked.order_id] = None
            else:
                log.warning(
                    "订单 %s 已发出 %.0f 秒，miniQMT 没有任何回报，当日委托中也还没有它；继续等待",
                    tracked.order_id,
                    (now - (tracked.sent_at or now)).total_seconds(),
                )

    # -- applying what miniQMT said ----------------------------------------------------------

    def _drain(self) -> None:
        events = self._events.drain()
        if not events:
            return
        now = self._clock.now()
        for event in events:
            self._apply(event, now)

    def _apply(self, event: Event, now: pendulum.DateTime) -> None:
        kind = event.kind
        current = event.generation == self._generation
        if kind is Kind.disconnected:
            if current and self._connected:
                self._lost("与 miniQMT 的连接断开（on_disconnected）")
            return
        if kind is Kind.account_status:
            account_id, status = event.data
            if current and (not account_id or account_id == self.config.account):
                if status != self._account_status:
                    label = xt.ACCOUNT_STATUS_LABELS.get(status, str(status))
                    (log.info if status in xt.USABLE_ACCOUNT_STATUSES else log.warning)(
                        "miniQMT 资金账号 %s 状态：%s", self.config.account, label
                    )
                self._account_status = status
            return
        if kind is Kind.order:
            self._on_order(event.data, now)
        elif kind is Kind.trade:
            self._on_trade(event.data, now)
        elif kind is Kind.order_response:
            self._on_response(event.data, now)
        elif kind is Kind.order_error:
            self._on_order_error(event.data, now)
        elif kind is Kind.cancel_error:
            self._on_cancel_error(event.data, now)
        elif kind is Kind.cancel_response:
            self._on_cancel_response(event.data)

    def _ours(self, account_id: str) -> bool:
        return not account_id or account_id == self.config.account

    def _find(self, remark: str, xt_id: int) -> Optional[_Tracked]:
        order_id = xt.remark_id(remark)
        if order_id and order_id in self._orders:
            return self._orders[order_id]
        if xt_id and xt_id in self._by_xt:
            return self._orders.get(self._by_xt[xt_id])
        return None

    def _link(self, tracked: _Tracked, xt_id: int, now: pendulum.DateTime) -> None:
        """``xt_id`` is the broker's id of ``tracked`` (ours): adopt what was heard under it."""
        if xt_id <= 0 or not tracked.order_id:
            return
        if tracked.xt_id is None:
            tracked.xt_id = xt_id
        self._by_xt[xt_id] = tracked.order_id
        foreign = self._foreign.pop(xt_id, None)
        self._dirty.pop(xt_id, None)
        if foreign is not None:  # heard before its remark or id was known
            tracked.trades.update(foreign.trades)
            tracked.traded_volume = max(tracked.traded_volume, foreign.traded_volume)
            tracked.traded_price = foreign.traded_price or tracked.traded_price
            tracked.sysid = tracked.sysid or foreign.sysid
            if foreign.xt_status is not None and not tracked.final:
                self._set_status(tracked, foreign.xt_status, "")
        for trade in self._early_trades.pop(xt_id, []):
            self._on_trade(trade, now)
        error = self._early_errors.pop(xt_id, None)
        if error is not None:
            self._on_order_error(error, now)
        if tracked.cancel_pending and self._connected and not tracked.final:
            self._send_cancel(tracked)

    def _on_order(self, data: OrderData, now: pendulum.DateTime) -> None:
        if not self._ours(data.account_id):
            return
        tracked = self._find(data.order_remark, data.order_id)
        if tracked is None:
            order_id = xt.remark_id(data.order_remark)
            try:
                code = xt.from_xt_code(data.stock_code)
            except OrderRejectedError:
                return  # a market jqtrade does not trade (e.g. .BJ): never ours
            tracked = _Tracked(
                order_id=order_id,
                code=code,
                action=xt.action_of(data.order_type),
                amount=data.order_volume or None,
                price=xt.money(data.price)
                if data.price_type == xt.FIX_PRICE and data.price > 0
                else None,
                xt_id=data.order_id or None,
            )
            if order_id:
                self._orders[order_id] = tracked
            elif data.order_id > 0:
                tracked = self._foreign.setdefault(data.order_id, tracked)
            else:
                return
        tracked.heard = True
        self._link(tracked, data.order_id, now)
        tracked.sysid = data.order_sysid or tracked.sysid
        tracked.entrust_time = _xt_time(data.order_time) or tracked.entrust_time
        if tracked.final:
            return
        if data.traded_volume > tracked.traded_volume:
            tracked.traded_volume = data.traded_volume
            tracked.traded_price = data.traded_price
        self._set_status(tracked, data.order_status, data.status_msg)
        tracked.update_time = now
        self._dirty[tracked.order_id or tracked.xt_id or 0] = None

    def _set_status(self, tracked: _Tracked, xt_status: int, message: str) -> None:
        status = xt.status_of(xt_status)
        if status is None:
            if xt_status != tracked.xt_status:
                log.info(
                    "订单 %s 的状态为 %s（%d），保持原状态 %s",
                    tracked.order_id or tracked.xt_id,
                    xt.status_label(xt_status),
                    xt_status,
                    tracked.status.value,
                )
            return
        tracked.xt_status = xt_status
        tracked.status = status
        if status is OrderStatus.rejected:
            tracked.err_msg = message.strip() or tracked.err_msg or "废单（miniQMT 没有说明原因）"
        elif message.strip() and status in (OrderStatus.canceled, OrderStatus.partly_canceled):
            tracked.err_msg = message.strip()

    def _on_trade(self, data: TradeData, now: pendulum.DateTime) -> None:
        if not self._ours(data.account_id) or data.traded_volume <= 0:
            return
        tracked = self._find(data.order_remark, data.order_id)
        if tracked is None:
            if data.order_id > 0 and not xt.remark_id(data.order_remark):
                foreign = self._foreign.get(data.order_id)
                if foreign is None:
                    self._early_trades.setdefault(data.order_id, []).append(data)
                    return
                tracked = foreign
            else:
                order_id = xt.remark_id(data.order_remark)
                if not order_id:
                    return
                try:
                    code = xt.from_xt_code(data.stock_code)
                except OrderRejectedError:
                    return
                tracked = self._orders[order_id] = _Tracked(
                    order_id=order_id,
                    code=code,
                    action=xt.action_of(data.order_type),
                    xt_id=data.order_id or None,
                )
        tracked.heard = True
        self._link(tracked, data.order_id, now)
        key = (
            data.traded_id
            or f"{data.order_id}:{data.traded_time}:{data.traded_volume}:{data.traded_price}"
        )
        if key in tracked.trades:
            return  # a replay: counted once
        amount = (
            xt.money(data.traded_amount)
            if data.traded_amount > 0
            else xt.money(data.traded_price) * data.traded_volume
        )
        commission = (
            xt.money(data.commission)
            if data.commission is not None and data.commission >= 0
            else None
        )
        tracked.trades[key] = (data.traded_volume, amount, commission)
        if tracked.status in (OrderStatus.new, OrderStatus.open):
            tracked.status = OrderStatus.filling
        tracked.update_time = now
        self._dirty[tracked.order_id or tracked.xt_id or 0] = None

    def _on_response(self, data: ResponseData, now: pendulum.DateTime) -> None:
        order_id = self._by_seq.pop(data.seq, None) or xt.remark_id(data.order_remark)
        tracked = self._orders.get(order_id) if order_id else None
        if tracked is None:
            return
        tracked.heard = True
        if data.order_id > 0:
            self._link(tracked, data.order_id, now)
        elif data.error_msg and not tracked.final:
            # A failed async order: the error push follows (or came first); say why meanwhile.
            tracked.err_msg = xt.error_text(None, data.error_msg, what="下单失败")

    def _on_order_error(self, data: OrderErrorData, now: pendulum.DateTime) -> None:
        if not self._ours(data.account_id):
            return
        tracked = self._find(data.order_remark, data.order_id)
        if tracked is None and data.seq is not None and data.seq in self._by_seq:
            tracked = self._orders.get(self._by_seq[data.seq])
        if tracked is None:
            if data.order_id > 0 and not xt.remark_id(data.order_remark):
                self._early_errors[data.order_id] = data  # its response has not named it yet
            return
        tracked.heard = True
        if data.order_id > 0:
            self._link(tracked, data.order_id, now)
        if tracked.final or tracked.filled()[0] > 0:
            return
        tracked.status = OrderStatus.rejected
        tracked.err_msg = xt.error_text(data.error_id, data.error_msg, what="下单失败")
        tracked.update_time = now
        self._dirty[tracked.order_id] = None

    def _on_cancel_error(self, data: CancelErrorData, now: pendulum.DateTime) -> None:
        if not self._ours(data.account_id):
            return
        tracked = self._find("", data.order_id)
        if tracked is None and data.order_sysid:
            tracked = next((t for t in self._orders.values() if t.sysid == data.order_sysid), None)
        if tracked is None or tracked.final:
            return
        if not tracked.cancel_by_sysid and tracked.sysid and self._connected:
            log.info(
                "按订单编号撤销 %s 失败（%s），改用柜台合同编号 %s 再撤",
                tracked.order_id,
                data.error_msg,
                tracked.sysid,
            )
            tracked.cancel_by_sysid = True
            self._trader.cancel_order_stock_sysid_async(
                self._account, xt.market_of(tracked.code), tracked.sysid
            )
            return
        tracked.err_msg = xt.error_text(data.error_id, data.error_msg, what="撤单失败")
        tracked.update_time = now
        self._dirty[tracked.order_id] = None
        log.warning("订单 %s %s", tracked.order_id, tracked.err_msg)

    def _on_cancel_response(self, data: ResponseData) -> None:
        if data.cancel_result is not None and data.cancel_result != 0:
            log.info(
                "撤单请求 seq=%d 的结果为 %d：%s", data.seq, data.cancel_result, data.error_msg
            )

    # -- reports ------------------------------------------------------------------------

    def _reports(self) -> list[OrderReport]:
        if not self._dirty:
            return []
        keys, self._dirty = list(self._dirty), {}
        reports = []
        for key in keys:
            tracked = self._orders.get(key) if isinstance(key, str) else self._foreign.get(key)
            if tracked is not None:
                reports.append(self._report(tracked))
        return reports

    @staticmethod
    def _report(tracked: _Tracked) -> OrderReport:
        filled, value, commission = tracked.filled()
        amount = tracked.amount
        status = tracked.status
        canceled = 0
        if status in (OrderStatus.canceled, OrderStatus.partly_canceled) and amount is not None:
            canceled = amount - filled
            status = OrderStatus.partly_canceled if filled > 0 else OrderStatus.canceled
        elif amount is not None and filled >= amount and status is not OrderStatus.rejected:
            status = OrderStatus.filled
        elif status is OrderStatus.filled and amount is not None and filled < amount:
            status = OrderStatus.filling  # the trades to match it are on their way
        avg = value / filled if value is not None and filled else None
        return OrderReport(
            order_id=tracked.order_id,
            broker_order_id=str(tracked.xt_id) if tracked.xt_id else None,
            code=tracked.code,
            status=status,
            action=tracked.action,
            amount=amount,
            price=tracked.price,
            filled_amount=filled,
            canceled_amount=canceled,
            avg_price=avg,
            deal_balance=value if value is not None else (ZERO if filled == 0 else None),
            commission=commission,
            err_msg=tracked.err_msg,
            entrust_time=tracked.entrust_time,
            update_time=tracked.update_time,
        )


def _quietly(fn: Callable[[], Any]) -> None:
    try:
        fn()
    except Exception:  # noqa: BLE001 - stopping a dead connection; nothing to do about it
        log.debug("停止 XtQuantTrader 出错", exc_info=True)
