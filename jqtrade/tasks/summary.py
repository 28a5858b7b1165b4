"""The end-of-run summary of a run on the simulated broker: the orders and fills of the whole
run, the positions and cash at the end, the value at the start and the end, and the largest
drawdown of the end-of-day values (rendered with rich). The table lists only the last
:data:`ORDER_ROWS` orders (rich takes about 3 ms a row to lay out, and a terminal shows a few
dozen anyway); the counts and sums cover all of them, and every order of the run is written to
``orders.csv`` in the run's state folder, for a spreadsheet.

The account keeps only the current day's orders in memory: :class:`RunOrders` takes each day's
orders as the account leaves the day, so memory stays flat however long the run. A day it did
not see is read back from its order journal, which holds exactly this run's orders (a simulated
run has a state folder of its own).
"""

from __future__ import annotations

import csv
import datetime
import logging
import sys
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, TextIO

import attrs
import pendulum

from jqtrade.account.journal import OrderJournal
from jqtrade.account.order import OrderSnapshot
from jqtrade.clock import MARKET_TZ

logger = logging.getLogger("jqtrade.task")

if TYPE_CHECKING:
    from jqtrade.account.account import Account
    from jqtrade.runtime import Runtime


#: The most orders the summary lists (the last ones); counts and sums cover the whole run.
ORDER_ROWS = 20
#: The file, in the run's state folder, that lists every order of the run.
ORDERS_FILE = "orders.csv"
#: The columns of the order table and of :data:`ORDERS_FILE`.
ORDER_COLUMNS = (
    "日期",
    "订单号",
    "代码",
    "方向",
    "数量",
    "委托价",
    "成交",
    "成交均价",
    "状态",
    "说明",
)
_NUMERIC = frozenset({"数量", "委托价", "成交", "成交均价"})

DayValue = tuple[datetime.date, float]


@attrs.frozen(kw_only=True)
class RunScope:
    """The calendar days a run covered (first to last, inclusive), its value at the start, and
    the account's total value at the end of each trading day it saw (oldest first)."""

    first_day: datetime.date
    last_day: datetime.date
    start_value: Optional[float] = None
    day_values: Sequence[DayValue] = ()

    def days(self) -> Iterator[datetime.date]:
        day = self.first_day
        while day <= self.last_day:
            yield day
            day += datetime.timedelta(days=1)


@attrs.frozen
class Drawdown:
    """The largest fall of a value from a running peak: ``fraction`` of the peak (0 when it never
    fell), ``amount`` in yuan, and the days of the peak and of the trough (``None``: the start)."""

    fraction: float
    amount: float
    peak_day: Optional[datetime.date]
    trough_day: Optional[datetime.date]


def max_drawdown(
    values: Sequence[DayValue], start_value: Optional[float] = None
) -> Optional[Drawdown]:
    """The largest drawdown of ``values`` (day, value), oldest first, from ``start_value`` on.

    The peak is the highest value so far (``start_value`` counts as the first, dated ``None``); a
    peak of zero or less has no drawdown to measure. ``None`` when there is no value at all.
    """
    points: list[tuple[Optional[datetime.date], float]] = []
    if start_value is not None:
        points.append((None, float(start_value)))
    points += [(day, float(value)) for day, value in values]
    if not points:
        return None
    best = Drawdown(0.0, 0.0, points[0][0], points[0][0])
    peak_day, peak = points[0]
    for day, value in points[1:]:
        if value > peak:
            peak_day, peak = day, value
            continue
        if peak > 0 and (peak - value) / peak > best.fraction:
            best = Drawdown((peak - value) / peak, peak - value, peak_day, day)
    return best


def _day_text(day: Optional[datetime.date]) -> str:
    return "期初" if day is None else day.isoformat()


def drawdown_text(drawdown: Optional[Drawdown], days: int) -> str:
    """The summary line of the end-of-day values: how many days, and the largest drawdown."""
    if drawdown is None or days == 0:
        return "没有记录到每日收盘资产，无法计算最大回撤"
    if drawdown.fraction == 0:
        return f"记录了 {days} 个交易日的收盘资产；最大回撤 0.00%（资产没有从高点回落）"
    return (
        f"记录了 {days} 个交易日的收盘资产；最大回撤 {drawdown.fraction:.2%}"
        f"（{_money(drawdown.amount)} 元，从 {_day_text(drawdown.peak_day)} 的高点"
        f"到 {_day_text(drawdown.trough_day)}）"
    )


def no_trading_day_text(first: datetime.date, last: datetime.date) -> str:
    if first == last:
        return f"{first} 不是交易日（休市），没有运行任何定时任务"
    return f"{first}..{last} 没有交易日（全部休市），没有运行任何定时任务"


def _orders_of(
    account: Account, day: datetime.date, live_day: Optional[datetime.date]
) -> list[OrderSnapshot]:
    if day == live_day:
        return list(account.get_orders())
    journal = OrderJournal(account.runtime_dir / "journal", account.task_name, day)
    return [recovered.to_order().snapshot() for recovered in journal.replay().values()]


def _after_last_close(
    as_of: Optional[datetime.datetime], runtime: Runtime, scope: RunScope
) -> bool:
    """A snapshot taken after the close of the run's last trading day is the end state, however
    old it is by the end of the run (an age limit is for a session, not for the night)."""
    trading = [day for day in scope.days() if runtime.calendar.is_trading_day(day)]
    if as_of is None or not trading:
        return False
    close = runtime.options.market_period[-1][1]
    return as_of >= pendulum.instance(datetime.datetime.combine(trading[-1], close), tz=MARKET_TZ)


def _order_row(day: datetime.date, o: OrderSnapshot) -> list[str]:
    if o.order_price is None:
        price = "市价"
    else:
        price = "对手价" if o.order_price == 0 else f"{o.order_price:.3f}"
    return [
        day.isoformat(),
        o.order_id,
        o.code,
        "买入" if o.is_buy else "卖出",
        str(o.amount),
        price,
        str(o.filled_amount),
        f"{o.avg_price:.3f}" if o.filled_amount else "-",
        o.status.label,
        o.err_msg or "",
    ]


class _OrderFile:
    """Every order of the run as CSV (UTF-8 with a BOM, so that Excel on Chinese Windows reads
    it), written as the orders come. A file that cannot be written is said once and skipped:
    the summary on screen matters more. ``path`` ``None``: no file."""

    def __init__(self, path: Optional[Path]) -> None:
        self.path = path
        self.ok = False
        self._handle: Optional[TextIO] = None
        self._writer: Any = None
        if path is None:
            return
        try:
            self._handle = open(path, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115 - closed by close()
            self._writer = csv.writer(self._handle)
            self._writer.writerow(ORDER_COLUMNS)
            self.ok = True
        except OSError as exc:
            self._fail(exc)

    def add(self, row: Sequence[str]) -> None:
        if self.ok:
            try:
                self._writer.writerow(row)
            except OSError as exc:
                self._fail(exc)

    def _fail(self, exc: OSError) -> None:
        self.ok = False
        logger.warning("无法写入订单列表 %s：%s；运行汇总照常显示", self.path, exc)

    def close(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            try:
                handle.close()
            except OSError as exc:
                self._fail(exc)


class RunOrders:
    """The orders of a run, counted a day at a time: sums and counts of every order, the last
    :data:`ORDER_ROWS` rows for the table, and each row into :data:`ORDERS_FILE` (``path``)."""

    def __init__(self, path: Optional[Path]) -> None:
        self.file = _OrderFile(path)
        self.days: set[datetime.date] = set()
        self.statuses: Counter[str] = Counter()
        self.filled_orders = 0
        self.filled_shares = 0
        self.filled_value = Decimal(0)
        self.last: deque[list[str]] = deque(maxlen=ORDER_ROWS)

    def add_day(self, day: datetime.date, orders: Sequence[OrderSnapshot]) -> None:
        self.days.add(day)
        for o in orders:
            self.statuses[o.status.label] += 1
            if o.filled_amount:
                self.filled_orders += 1
                self.filled_shares += o.filled_amount
                self.filled_value += Decimal(repr(o.avg_price)) * o.filled_amount
            row = _order_row(day, o)
            self.file.add(row)
            self.last.append(row)

    def close(self) -> None:
        self.file.close()


def record_orders(account: Optional[Account], path: Optional[Path]) -> RunOrders:
    """A :class:`RunOrders` that the account hands each finished day to (``path``: the CSV)."""
    run = RunOrders(path)
    if account is not None:
        account.day_closed.append(run.add_day)
    return run


def _money(value: float) -> str:
    return f"{value:,.2f}"


def print_summary(
    runtime: Runtime,
    scope: RunScope,
    *,
    simulated_broker: bool,
    simulated_clock: bool,
    orders_seen: Optional[RunOrders] = None,
) -> None:
    """Print the summary. ``orders_seen``: the orders the run counted so far (see
    :func:`record_orders`), closed here; the days it lacks are read from the journals."""
    from rich.console import Console
    from rich.table import Table

    out = sys.__stdout__
    console = Console(file=out, width=None if out is not None and out.isatty() else 120)
    labels = []
    if simulated_broker:
        labels.append("模拟券商（非真实交易）")
    if simulated_clock:
        labels.append("模拟时钟")
    title = "运行汇总" + (f" · {' · '.join(labels)}" if labels else "")
    calendar = runtime.calendar
    if not any(calendar.is_trading_day(day) for day in scope.days()):
        console.print(
            f"[bold]{title}[/bold]：{no_trading_day_text(scope.first_day, scope.last_day)}"
        )
        return
    account = runtime.account
    if account is None:
        console.print(f"[bold]{title}[/bold]：未开启账户模块，没有订单和持仓")
        return
    today = runtime.clock.now().date()
    if calendar.is_trading_day(today):
        account.sync_orders(quiet=True)
        account.sync_balance(quiet=True)
    # On a closed day the broker publishes nothing: the last trading day's state is the end state.
    live_day = account.day if account.day == today else None
    portfolio = account.portfolio

    orders = Table(title=f"{title} · 订单", title_justify="left")
    for column in ORDER_COLUMNS:
        orders.add_column(
            column, justify="right" if column in _NUMERIC else "left", no_wrap=column != "说明"
        )
    run = orders_seen if orders_seen is not None else RunOrders(None)
    try:
        for day in scope.days():
            if day not in run.days:
                run.add_day(day, _orders_of(account, day, live_day))
    finally:
        run.close()
    for row in run.last:
        orders.add_row(*row)
    console.print(orders)
    total = sum(run.statuses.values())
    saved = f"全部订单见 {run.file.path}" if run.file.ok and total else ""
    if total > ORDER_ROWS:
        console.print(
            f"（只列出最后 {ORDER_ROWS} 个订单，全部 {total} 个计入下面的统计"
            + (f"；{saved}）" if saved else "）")
        )
    elif saved:
        console.print(f"（{saved}）")
    counts = "、".join(f"{status} {n}" for status, n in run.statuses.most_common())
    console.print(
        f"共 {total} 个订单"
        + (f"（{counts}）" if counts else "")
        + f"；有成交的订单 {run.filled_orders} 个，成交 {run.filled_shares} 股，"
        f"成交金额 {_money(float(run.filled_value))}"
    )

    positions = Table(title=f"{title} · 期末持仓", title_justify="left")
    for column in ("代码", "持仓", "可卖", "成本价", "现价", "市值"):
        positions.add_column(column, justify="left" if column == "代码" else "right")
    for code, p in portfolio.long_positions.items():
        positions.add_row(
            code,
            str(p.total_amount),
            str(p.closeable_amount),
            f"{p.avg_cost:.3f}",
            f"{p.last_price:.3f}",
            f"{p.position_value:,.2f}",
        )
    console.print(positions)

    stale = ""
    if portfolio.is_stale and not _after_last_close(portfolio.as_of, runtime, scope):
        stale = f"（数据可能过期：{portfolio.stale_reason}）"
    elif portfolio.as_of is not None:
        stale = f"（券商快照时间 {portfolio.as_of.in_tz(MARKET_TZ):%Y-%m-%d %H:%M:%S}）"
    start = f"期初总资产 {_money(scope.start_value)}  " if scope.start_value is not None else ""
    change = ""
    if scope.start_value:
        delta = portfolio.total_value - scope.start_value
        change = f"（{delta:+,.2f}，{delta / scope.start_value:+.2%}）"
    console.print(
        f"{start}期末总资产 {_money(portfolio.total_value)}{change}  可用资金 {_money(portfolio.available_cash)}  "
        f"冻结资金 {_money(portfolio.locked_cash)}{stale}"
    )
    values = list(scope.day_values)
    console.print(drawdown_text(max_drawdown(values, scope.start_value), len(values)))
