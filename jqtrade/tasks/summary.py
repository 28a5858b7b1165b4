"""The end-of-run summary of a run on the simulated broker: every day's orders, fills, the
positions and cash at the end, and the value at the start and the end (rendered with rich).

The account keeps only the current day's orders in memory; earlier days of the run are read
back from their order journals, which hold exactly this run's orders (a simulated run has a
state folder of its own).
"""

from __future__ import annotations

import datetime
import sys
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Optional

import attrs
import pendulum

from jqtrade.account.journal import OrderJournal
from jqtrade.account.order import OrderSnapshot
from jqtrade.clock import MARKET_TZ

if TYPE_CHECKING:
    from jqtrade.account.account import Account
    from jqtrade.runtime import Runtime


@attrs.frozen(kw_only=True)
class RunScope:
    """The calendar days a run covered (first to last, inclusive) and its value at the start."""

    first_day: datetime.date
    last_day: datetime.date
    start_value: Optional[float] = None

    def days(self) -> Iterator[datetime.date]:
        day = self.first_day
        while day <= self.last_day:
            yield day
            day += datetime.timedelta(days=1)


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


def _money(value: float) -> str:
    return f"{value:,.2f}"


def print_summary(
    runtime: Runtime, scope: RunScope, *, simulated_broker: bool, simulated_clock: bool
) -> None:
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
    for column in (
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
    ):
        orders.add_column(
            column,
            justify="right" if column in ("数量", "委托价", "成交", "成交均价") else "left",
            no_wrap=column != "说明",
        )
    statuses: Counter[str] = Counter()
    filled_shares, filled_value = 0, Decimal(0)
    for day in scope.days():
        for o in _orders_of(account, day, live_day):
            price = (
                "市价"
                if o.order_price is None
                else ("对手价" if o.order_price == 0 else f"{o.order_price:.3f}")
            )
            status = o.status.label
            orders.add_row(
                day.isoformat(),
                o.order_id,
                o.code,
                "买入" if o.is_buy else "卖出",
                str(o.amount),
                price,
                str(o.filled_amount),
                f"{o.avg_price:.3f}" if o.filled_amount else "-",
                status,
                o.err_msg or "",
            )
            statuses[status] += 1
            if o.filled_amount:
                filled_shares += o.filled_amount
                filled_value += Decimal(repr(o.avg_price)) * o.filled_amount
    console.print(orders)
    counts = "、".join(f"{status} {n}" for status, n in statuses.most_common())
    console.print(
        f"共 {sum(statuses.values())} 个订单"
        + (f"（{counts}）" if counts else "")
        + f"；成交 {filled_shares} 股，成交金额 {_money(float(filled_value))}"
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
