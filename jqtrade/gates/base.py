"""The trade-gate contract: how jqtrade talks to a broker.

A gate is the only place that knows a broker's wire format. Everything it hands over is a
typed report from :mod:`jqtrade.model.reports`; everything it receives is an
:class:`~jqtrade.model.orders.OrderRequest`. The account calls it from the event loop's
single thread.
"""

from __future__ import annotations

import abc
from pathlib import Path
from typing import Any, ClassVar, Generic, Optional, TypeVar

import attrs

from jqtrade.clock import Clock
from jqtrade.model.orders import OrderRequest
from jqtrade.model.reports import BalanceReport, OrderReport


@attrs.frozen(kw_only=True)
class NoConfig:
    """The config of a gate that takes no options."""


@attrs.frozen(kw_only=True)
class GateEnv:
    """What jqtrade hands a gate besides its config: market time and where the task lives."""

    clock: Clock
    runtime_dir: Path
    task_name: str = ""
    simulate: bool = False


ConfigT = TypeVar("ConfigT")


class AbsTradeGate(abc.ABC, Generic[ConfigT]):
    """Base class of every trade gate (券商交易接口).

    A gate declares its options as an attrs class (``config_class``): each field a
    ``set_options`` key, validated by the class's converters and validators, documented by
    its ``metadata`` (``{"doc": "中文说明", "type": "str"}``) in the options reference. jqtrade
    builds the config from the strategy's options and calls :meth:`configure` once, before
    anything else.

    What a gate guarantees — checked by ``jqtrade.testing.gate_contract``:

    - **Threading.** Every method is called from one thread (the event loop's). A gate whose
      broker calls back on its own threads queues what it hears and hands it over in the next
      ``sync_orders``; it never calls into jqtrade from another thread. No method blocks for
      long (a few hundred milliseconds at most: poll, don't wait).
    - **Orders.** ``order(request)`` sends ``request.order_id`` (jqtrade's id: digits, the date
      and a number, unique across days, restarts and tasks sharing the account) so that later
      reports carry it back. Returning means "sent"; raise :class:`jqtrade.errors.GateError`
      only when the order certainly did not reach the broker. jqtrade never sends an id twice,
      so a gate need not deduplicate.
    - **Cancels.** ``cancel_order(order_id)`` may be repeated and must not raise for an order
      already final or unknown; the result arrives through ``sync_orders``.
    - **Reports.** ``sync_orders()`` returns :class:`OrderReport` values, each the *whole*
      current state of one order. Returning only the orders changed since the previous call
      is allowed; returning the same state again is harmless (reports are idempotent: jqtrade
      applies each state once and ignores one that would move an order backwards). Reports of
      one order come in the broker's order. Another program's orders may be included with
      ``order_id=""`` (or an id jqtrade never sent); they are never attributed to the task.
      A report whose code, action or amount differs from what jqtrade sent under that id is
      taken for another program's and ignored.
    - **Final.** ``filled``, ``canceled``, ``partly_canceled`` and ``rejected`` are final: the
      broker will not change that order again, and a gate must not report it as anything else
      afterwards. ``canceling`` (a cancel sent, not yet confirmed) is not final.
    - **Balance.** ``sync_balance()`` returns the account as the broker produced it, with
      ``as_of`` the broker's time of the numbers. It never returns an old snapshot as new:
      when the numbers cannot be had complete, it raises — preferably
      :class:`jqtrade.errors.SnapshotUnusableError` with a Chinese reason naming the file.
      The account keeps its last good snapshot and marks it stale.
    - **Restarts.** ``has_order(order_id)`` answers, for an order whose process died between
      the journal record and the gate's answer, whether it reached the broker: ``True`` keeps
      it waiting for a report, ``False`` marks it rejected after the first successful
      ``sync_orders`` that does not report it, ``None`` (cannot tell just now) asks again at
      the next sync. The default, ``False``, suits a gate whose ``sync_orders`` always returns
      the whole day.
    - ``order_id_dir``: a folder shared by every program writing to the same broker account;
      jqtrade keeps its order-id counter there. ``None`` (default): the task's runtime folder.
    """

    #: Shown in logs and ``get_tasks``.
    name: ClassVar[str] = "gate"
    #: The attrs class of this gate's options; ``NoConfig`` when it takes none.
    config_class: ClassVar[type[Any]] = NoConfig

    def configure(self, config: ConfigT, env: GateEnv) -> None:  # noqa: B027 - optional hook
        """Receive the validated config and the environment; open nothing slow here."""

    @abc.abstractmethod
    def order(self, request: OrderRequest) -> None: ...

    @abc.abstractmethod
    def cancel_order(self, order_id: str) -> None: ...

    @abc.abstractmethod
    def sync_orders(self) -> list[OrderReport]: ...

    @abc.abstractmethod
    def sync_balance(self) -> BalanceReport: ...

    def has_order(self, order_id: str) -> Optional[bool]:
        """Whether ``order_id`` reached the broker; see the class docstring."""
        return False

    @property
    def order_id_dir(self) -> Optional[Path]:
        return None

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release files and handles; called once when the task stops."""
