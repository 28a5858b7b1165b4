"""The end-of-run summary table (orders, positions, cash), rendered with rich."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jqtrade.runtime import Runtime

_STATUS_ZH = {
    "new": "待报", "open": "已报", "filling": "部分成交", "filled": "已成交",
    "canceling": "撤单中", "partly_canceled": "部成部撤", "canceled": "已撤", "rejected": "废单",
}


def print_summary(runtime: Runtime, *, simulated_broker: bool, simulated_clock: bool) -> None:
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
    account = runtime.account
    if account is None:
        console.print(f"[bold]{title}[/bold]：未开启账户模块，没有订单和持仓")
        return
    account.sync_orders(quiet=True)
    portfolio = account.sync_balance(quiet=True)

    orders = Table(title=f"{title} · 订单", title_justify="left")
    for column in ("订单号", "代码", "方向", "数量", "委托价", "成交", "成交均价", "状态", "说明"):
        orders.add_column(column, justify="right" if column in ("数量", "委托价", "成交", "成交均价") else "left", no_wrap=column != "说明")
    for o in account.get_orders():
        price = "市价" if o.order_price is None else ("对手价" if o.order_price == 0 else f"{o.order_price:.3f}")
        orders.add_row(
            o.order_id, o.code, "买入" if o.action.value == "open" else "卖出", str(o.amount), price,
            str(o.filled_amount), f"{o.avg_price:.3f}" if o.filled_amount else "-",
            _STATUS_ZH.get(o.status.value, o.status.value), o.err_msg or "",
        )
    console.print(orders)

    positions = Table(title=f"{title} · 持仓", title_justify="left")
    for column in ("代码", "持仓", "可卖", "成本价", "现价", "市值"):
        positions.add_column(column, justify="left" if column == "代码" else "right")
    for code, p in portfolio.long_positions.items():
        positions.add_row(code, str(p.total_amount), str(p.closeable_amount), f"{p.avg_cost:.3f}", f"{p.last_price:.3f}", f"{p.position_value:,.2f}")
    console.print(positions)

    stale = f"（数据可能过期：{portfolio.stale_reason}）" if portfolio.is_stale else ""
    console.print(
        f"总资产 {portfolio.total_value:,.2f}  可用资金 {portfolio.available_cash:,.2f}  "
        f"冻结资金 {portfolio.locked_cash:,.2f}{stale}"
    )
