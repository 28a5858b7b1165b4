"""The simulated ``xtquant.xttrader``: :class:`XtQuantTrader` and :class:`XtQuantTraderCallback`.

Names and signatures are those of xtquant that jqtrade's QMT gate uses. Behaviour follows
xtquant's documentation: ``connect()`` is one-shot (after ``on_disconnected`` a new trader
with a new session id is needed); pushes and the answers of synchronous queries are delivered
in order on one worker thread per trader, so a synchronous query made inside a callback would
block -- here it raises instead, unless relaxed response order is enabled.

The "miniQMT" a trader connects to is the :class:`~jqtrade.sim.xtquant.miniqmt.SimMiniQmt`
running in this process for the same ``userdata_mini`` path; without one, ``connect()``
returns -1 like xtquant when miniQMT is not running.
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
from collections import deque
from typing import Any, Callable, Optional


class XtQuantTraderCallback:
    """Override the pushes you want; every method does nothing by default."""

    def on_connected(self) -> None: ...

    def on_disconnected(self) -> None: ...

    def on_account_status(self, status: Any) -> None: ...

    def on_stock_asset(self, asset: Any) -> None: ...

    def on_stock_order(self, order: Any) -> None: ...

    def on_stock_trade(self, trade: Any) -> None: ...

    def on_stock_position(self, position: Any) -> None: ...

    def on_order_error(self, order_error: Any) -> None: ...

    def on_cancel_error(self, cancel_error: Any) -> None: ...

    def on_order_stock_async_response(self, response: Any) -> None: ...

    def on_cancel_order_stock_async_response(self, response: Any) -> None: ...


class XtQuantTrader:
    """One session with the simulated miniQMT at ``path``."""

    def __init__(
        self, path: str, session: int, callback: Optional[XtQuantTraderCallback] = None
    ) -> None:
        self.path = str(path)
        self.session = int(session)
        self.callback = callback
        self.connected = False
        self.relaxed_resp_order_enabled = False
        self._server: Any = None
        self._dead = False
        self._items: deque[tuple[str, Any]] = deque()
        self._cond = threading.Condition()
        self._busy = 0
        self._worker: Optional[threading.Thread] = None
        self._stopping = False

    # -- system -------------------------------------------------------------------------

    def register_callback(self, callback: XtQuantTraderCallback) -> None:
        self.callback = callback

    def start(self) -> None:
        if self._worker is None:
            self._worker = threading.Thread(
                target=self._work, name=f"xtquant-sim-{self.session}", daemon=True
            )
            self._worker.start()

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.detach(self)
        self.connected = False
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        worker = self._worker
        if worker is not None and worker is not threading.current_thread():
            worker.join(timeout=5)

    def connect(self) -> int:
        if self._server is not None or self._dead:
            return -1  # one-shot: a used trader cannot connect again
        from jqtrade.sim.xtquant.miniqmt import SimMiniQmt

        server = SimMiniQmt.at(self.path)
        if server is None or not server.attach(self):
            return -1
        self._server = server
        self.connected = True
        return 0

    def set_relaxed_response_order_enabled(self, enabled: bool) -> None:
        self.relaxed_resp_order_enabled = bool(enabled)

    def set_timeout(self, timeout: int = 0) -> None:
        """Accepted for compatibility; the simulated queries answer at once."""

    def run_forever(self) -> None:
        while not self._stopping:
            time.sleep(0.2)

    def subscribe(self, account: Any) -> int:
        return self._server.subscribe(self, account) if self._live else -1

    def unsubscribe(self, account: Any) -> int:
        return self._server.unsubscribe(self, account) if self._live else -1

    # -- orders -------------------------------------------------------------------------

    def order_stock_async(
        self,
        account: Any,
        stock_code: str,
        order_type: int,
        order_volume: int,
        price_type: int,
        price: float,
        strategy_name: str = "",
        order_remark: str = "",
    ) -> int:
        if not self._live:
            return -1
        seq, _ = self._server.order(
            self,
            account,
            stock_code,
            order_type,
            order_volume,
            price_type,
            price,
            strategy_name,
            order_remark,
        )
        return seq

    def order_stock(
        self,
        account: Any,
        stock_code: str,
        order_type: int,
        order_volume: int,
        price_type: int,
        price: float,
        strategy_name: str = "",
        order_remark: str = "",
    ) -> int:
        if not self._live:
            return -1
        _, order_id = self._server.order(
            self,
            account,
            stock_code,
            order_type,
            order_volume,
            price_type,
            price,
            strategy_name,
            order_remark,
            respond=False,
        )
        return self._answer(lambda: order_id)

    def cancel_order_stock_async(self, account: Any, order_id: int) -> int:
        if not self._live:
            return -1
        return int(self._server.cancel(self, account, order_id=order_id)[0])

    def cancel_order_stock(self, account: Any, order_id: int) -> int:
        if not self._live:
            return -1
        result = self._server.cancel(self, account, order_id=order_id, respond=False)[1]
        return self._answer(lambda: result)

    def cancel_order_stock_sysid_async(self, account: Any, market: Any, sysid: str) -> int:
        if not self._live:
            return -1
        return int(self._server.cancel(self, account, sysid=sysid)[0])

    def cancel_order_stock_sysid(self, account: Any, market: Any, sysid: str) -> int:
        if not self._live:
            return -1
        result = self._server.cancel(self, account, sysid=sysid, respond=False)[1]
        return self._answer(lambda: result)

    # -- queries (answered through the worker, after the pushes before them) --------------

    def query_stock_asset(self, account: Any) -> Any:
        return self._query(lambda server: server.query_asset(account))

    def query_stock_orders(self, account: Any, cancelable_only: bool = False) -> Any:
        return self._query(lambda server: server.query_orders(account, cancelable_only))

    def query_stock_order(self, account: Any, order_id: int) -> Any:
        return self._query(lambda server: server.query_order(account, order_id))

    def query_stock_trades(self, account: Any) -> Any:
        return self._query(lambda server: server.query_trades(account))

    def query_stock_positions(self, account: Any) -> Any:
        return self._query(lambda server: server.query_positions(account))

    def query_stock_position(self, account: Any, stock_code: str) -> Any:
        return self._query(lambda server: server.query_position(account, stock_code))

    def query_account_status(self) -> Any:
        return self._query(lambda server: server.query_account_status())

    def query_account_infos(self) -> Any:
        return self._query(lambda server: server.query_account_infos())

    query_account_info = query_account_infos

    # -- plumbing -----------------------------------------------------------------------

    @property
    def _live(self) -> bool:
        return self._server is not None and not self._dead

    def _query(self, build: Callable[[Any], Any]) -> Any:
        server = self._server
        if server is None or self._dead:
            return None
        server.wait_if_hung(self)
        if self._server is None or self._dead:
            return None
        answer = build(server)
        return self._answer(lambda: answer)

    def _answer(self, make: Callable[[], Any]) -> Any:
        """Hand a synchronous answer back through the worker queue, as xtquant does."""
        if self.relaxed_resp_order_enabled or self._worker is None:
            return make()
        if threading.current_thread() is self._worker:
            raise RuntimeError(
                "在 xtquant 回调中调用同步接口会卡住（回报与应答共用一个线程）：请在回调外调用，"
                "或用 *_async 接口，或 set_relaxed_response_order_enabled(True)"
            )
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self._put("__answer__", (future, make))
        return future.result(timeout=30)

    def _put(self, method: str, payload: Any) -> None:
        with self._cond:
            if self._stopping:
                return
            self._items.append((method, payload))
            self._busy += 1
            self._cond.notify_all()

    def deliver(self, method: str, payload: Any = None) -> None:
        """Called by the simulated miniQMT: queue one callback (on this trader's worker thread)."""
        self._put(method, payload)

    def kill(self) -> None:
        """The link is gone (miniQMT closed or the network dropped): tell the callback, then
        refuse everything; ``connect`` again is not possible."""
        self._dead = True
        self.connected = False
        self._put("on_disconnected", None)

    def idle(self, timeout: float = 5.0) -> bool:
        """Wait until every queued callback has run (for tests and benches)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._busy and not self._stopping:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._items and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    self._items.clear()
                    self._busy = 0
                    self._cond.notify_all()
                    return
                method, payload = self._items.popleft()
            try:
                if method == "__answer__":
                    future, make = payload
                    try:
                        future.set_result(make())
                    except BaseException as exc:  # noqa: BLE001 - handed to the caller
                        future.set_exception(exc)
                elif self.callback is not None:
                    handler = getattr(self.callback, method, None)
                    if handler is not None:
                        if payload is None and method in ("on_connected", "on_disconnected"):
                            handler()
                        else:
                            handler(payload)
            except Exception:  # noqa: BLE001 - a callback's error must not stop the pushes (as in xtquant)
                import logging

                logging.getLogger("jqtrade.sim.xtquant").exception("回调 %s 出错", method)
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()
