"""Run a gate written against the dict contract (jqtrade 1.x) behind today's typed contract.

Such a gate has ``setup(self, options, **kwargs)`` (or ``setup(options, clock=...)``) and
returns dicts: ``sync_orders() -> list[dict]``, ``sync_balance() -> {"cash": {...},
"positions": [...]}`` with the keys of :func:`jqtrade.model.reports.order_report_from_mapping`
and :func:`~jqtrade.model.reports.balance_report_from_mapping`. The adapter:

- calls ``setup(options_dict, clock=clock)`` once, from :meth:`DictGateAdapter.configure`
  (``options_dict``: every option the strategy set, flat, as jqtrade 1.x handed them over);
- hands ``order(request)`` and ``cancel_order(order_id)`` over unchanged;
- converts every order row to an :class:`OrderReport`: a row it cannot read (a missing
  ``status``, a negative amount, an unknown code ...) is logged once, naming the bad key, and
  skipped; the other rows are used. A row that already is an ``OrderReport`` is taken as is;
- converts the balance to a :class:`BalanceReport`: a bad cash part is an error naming the key
  (the account keeps its last good snapshot); a bad position row is logged once and left out;
- asks the gate's own ``has_order`` and ``order_id_dir`` when it has them, else the defaults.

:class:`~jqtrade.gates.legacy_adapter.LegacyGateAdapter` (jqtrade 1.0 gates) builds on this
class: it turns 1.0's rows into dict-contract rows, and the conversion here does the rest.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Optional

from jqtrade.clock import MARKET_TZ, Clock, LiveClock
from jqtrade.errors import GateError, ReportFormatError
from jqtrade.gates.base import AbsTradeGate, GateEnv
from jqtrade.model.orders import OrderRequest
from jqtrade.model.reports import (
    BalanceReport,
    OrderReport,
    balance_report_from_mapping,
    order_report_from_mapping,
)

logger = logging.getLogger("jqtrade.gates.dict")

#: Distinct problems remembered for "log once"; beyond this the oldest are forgotten.
_MAX_REMEMBERED = 1000


class DictGateAdapter(AbsTradeGate[Any]):
    """Today's contract around a dict-contract gate instance (see the module docstring)."""

    log = logger

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.label = type(inner).__name__
        self.name = str(getattr(inner, "name", "") or self.label)  # type: ignore[misc]  # per instance: the inner gate's
        self._clock: Clock = LiveClock()
        self._logged: dict[str, None] = {}

    # -- today's contract -------------------------------------------------------------------

    def configure(self, config: Any, env: GateEnv) -> None:
        """``config``: the options as a plain mapping (``configure_gate`` passes them so)."""
        self._clock = env.clock
        options = dict(config) if isinstance(config, Mapping) else {}
        self._setup(options, env)

    def order(self, request: OrderRequest) -> None:
        self.inner.order(request)

    def cancel_order(self, order_id: str) -> None:
        self.inner.cancel_order(order_id)

    def sync_orders(self) -> list[OrderReport]:
        rows = self._order_rows()
        day = self._clock.now().in_tz(MARKET_TZ).date()
        reports = []
        for row in rows:
            if isinstance(row, OrderReport):
                reports.append(row)
                continue
            try:
                reports.append(self._order_report(row, day))
            except Exception as exc:  # noqa: BLE001 - one bad row never hides the others
                self._error_once(
                    f"已跳过交易接口 {self.label} 的 sync_orders 中无法识别的订单：{_reason(exc)}（订单：{_shown(row)}）",
                    key=f"order:{_reason(exc)}",
                )
        return reports

    def sync_balance(self) -> BalanceReport:
        raw = self._balance_data()
        if isinstance(raw, BalanceReport):
            return raw
        try:
            return balance_report_from_mapping(raw, on_bad_position=self._bad_position)
        except ReportFormatError as exc:
            self._error_once(f"交易接口 {self.label} 的 sync_balance 返回的数据不对：{exc}")
            raise

    def has_order(self, order_id: str) -> Optional[bool]:
        probe = getattr(self.inner, "has_order", None)
        if callable(probe):
            answer = probe(order_id)
            return None if answer is None else bool(answer)
        return super().has_order(order_id)

    @property
    def order_id_dir(self) -> Optional[Path]:
        folder = getattr(self.inner, "order_id_dir", None)
        return None if folder is None else Path(folder)

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if callable(close):
            close()

    # -- what a subclass (the 1.0 adapter) changes --------------------------------------------

    def _setup(self, options: dict[str, Any], env: GateEnv) -> None:
        self.inner.setup(options, clock=env.clock)

    def _order_rows(self) -> list[Any]:
        rows = self.inner.sync_orders()
        if not isinstance(rows, (list, tuple)):
            message = f"交易接口 {self.label} 的 sync_orders 应返回订单 dict 的列表，实际返回 {type(rows).__name__}：{_shown(rows)}"
            self._error_once(message)
            raise GateError(message)
        return list(rows)

    def _order_report(self, row: Any, day: Any) -> OrderReport:
        return order_report_from_mapping(row, day=day)

    def _balance_data(self) -> Any:
        return self.inner.sync_balance()

    # -- helpers ----------------------------------------------------------------------------

    def _bad_position(self, exc: ReportFormatError, row: Any) -> None:
        self._error_once(
            f"已跳过交易接口 {self.label} 的 sync_balance 中无法识别的持仓：{exc}（持仓：{_shown(row)}）",
            key=f"position:{exc}",
        )

    def _error_once(self, message: str, *, key: Optional[str] = None) -> None:
        """Log at ERROR the first time; the account also reports the failure in its own way."""
        key = key or message
        if key in self._logged:
            return
        if len(self._logged) >= _MAX_REMEMBERED:
            self._logged.pop(next(iter(self._logged)))
        self._logged[key] = None
        self.log.error(message)


def _reason(exc: BaseException) -> str:
    """The exception's message (a ReportFormatError names the key), safe to show."""
    try:
        text = str(exc)
    except Exception:  # noqa: BLE001 - a broken __str__ must not stop the sync
        text = ""
    return (
        text
        if isinstance(exc, (ValueError, TypeError, GateError)) and text
        else f"{type(exc).__name__}: {text}"
    )


def _shown(value: Any, limit: int = 500) -> str:
    """``repr(value)``, shortened; never raises (a row is whatever the gate returned)."""
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a row whose repr fails is still logged
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[:limit] + "…"
