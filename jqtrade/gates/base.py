"""The trade-gate contract: how jqtrade talks to a broker.

A gate is the only place that knows a broker's wire format. The account module calls it from
the event loop's single thread, so a gate never needs locks of its own for jqtrade's sake, and
must never block that thread for long (a few hundred milliseconds at most: poll, don't wait).
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Any

from jqtrade.account.models import OrderRequest


class AbsTradeGate(abc.ABC):
    """Base class of every trade gate (券商交易接口).

    Contract — what jqtrade relies on, and what the contract suite in
    ``jqtrade.testing.gate_contract`` checks:

    ``setup(options)``
        Called once before anything else with every option the strategy set (a plain
        ``dict``; gate-specific extras are under ``options["gate_options"]``). Validate here
        and raise :class:`jqtrade.errors.GateConfigError` with a Chinese message naming the bad
        option. May be called with a ``clock`` keyword when the gate needs market time.
        A gate whose ``setup`` takes neither ``clock`` nor ``**kwargs`` is taken for a
        jqtrade 1.0 gate and run through :mod:`jqtrade.gates.legacy_adapter` (1.0's option
        layout, order object and balance/order dicts).

    ``order(request) -> None``
        Hand one order to the broker. ``request.order_id`` is jqtrade's id (digits: the date
        and a number), unique across days, restarts and tasks sharing the account: the gate
        must send it so that later reports carry it back. Raise :class:`jqtrade.errors.GateError` (or a
        subclass) when the order certainly did not reach the broker. Returning means "sent";
        acceptance or rejection arrives later through ``sync_orders``. Idempotency: jqtrade
        never calls ``order`` twice with the same id, not even after a restart; a gate does not
        have to deduplicate.

    ``cancel_order(order_id) -> None``
        Ask the broker to cancel. May be called again for the same id (a user retrying);
        a cancel of an order already final must not raise. The result arrives via
        ``sync_orders``.

    ``sync_balance() -> dict``
        The account as the broker sees it now::

            {"cash": {"total_value": float,      # 总资产, yuan
                      "available_cash": float,   # 可用资金
                      "locked_cash": float},     # 冻结资金
             "positions": [{"code": "000001.XSHE", "total_amount": int,
                            "closeable_amount": int, "avg_cost": float,
                            "last_price": float, "position_value": float}]}

        plus, optionally, ``"as_of": pendulum.DateTime`` — when the broker produced these
        numbers (OneQuant: the snapshot's own update time, else the file's modification
        time). Without it the account takes the moment it read them, which is only right for
        a gate that asks the broker synchronously.

        Never return an old snapshot as if it were new: when the numbers cannot be had
        complete (file missing, half-written, broker not logged in), raise — preferably
        :class:`jqtrade.errors.SnapshotUnusableError` with a Chinese reason naming the file.
        The account keeps its last good snapshot, its ``as_of``, and marks it stale.
        Positions with ``total_amount`` 0 may be left out.

    ``sync_orders() -> list[dict]``
        Today's orders known to the broker, each the *whole* current state, at least::

            {"order_id": str,               # jqtrade id (None/"" if the order is not ours)
             "broker_order_id": str | None,
             "code": "000001.XSHE", "action": "open" | "close",
             "status": "new" | "open" | "filling" | "filled" | "canceling"
                       | "partly_canceled" | "canceled" | "rejected",
             "amount": int, "price": float,
             "filled_amount": int, "canceled_amount": int,
             "avg_price": float, "deal_balance": float, "commission": float,
             "err_msg": str, "entrust_time": pendulum.DateTime | None,
             "update_time": pendulum.DateTime | str | None}  # optional: broker time of this state

        ``update_time`` tells the account whether a balance snapshot (its ``as_of``) already
        contains this state of the order: a datetime, or the broker's time of day as
        ``"HHMMSS[.ffffff]"`` on the trading day (parsed only for reports that change an order,
        so a gate can pass its file's field as it is). Without it the moment of
        ``sync_orders`` is used.
        A report whose ``code``, ``action`` or ``amount`` differs from what jqtrade sent under
        that id is taken as another program's line and ignored.

        Returning only orders changed since the previous call is allowed (incremental
        gates); returning all of them again is also fine: jqtrade applies each state once and
        ignores updates that would move an order backwards. Orders with ids jqtrade did not
        place (other programs on the same account) may be included; they are ignored.

    ``close()``
        Release files and handles; called once when the task stops.

    ``order_id_dir`` (optional attribute)
        A folder shared by every program that writes to the same broker account folder:
        jqtrade keeps its order-id counter there, so tasks with different runtime folders
        never send the same id. Default: the task's runtime folder.

    ``has_order(order_id) -> bool | None`` (optional)
        Whether an order with this id reached the broker. Used once after a restart for an
        order whose process died between the journal record and the gate's answer: ``True``
        keeps it waiting for the broker's report, ``False`` (or no such method) marks it
        rejected after the first successful ``sync_orders`` that does not report it, and
        ``None`` (cannot tell just now) asks again at the next sync.
    """

    #: Shown in logs and ``get_tasks``.
    name: str = "gate"

    def setup(self, options: Mapping[str, Any], **kwargs: Any) -> None:  # noqa: B027 - optional hook
        """Receive the strategy's options; validate them here."""

    @abc.abstractmethod
    def order(self, request: OrderRequest) -> None: ...

    @abc.abstractmethod
    def cancel_order(self, order_id: str) -> None: ...

    @abc.abstractmethod
    def sync_balance(self) -> dict[str, Any]: ...

    @abc.abstractmethod
    def sync_orders(self) -> list[dict[str, Any]]: ...

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources; default does nothing."""
