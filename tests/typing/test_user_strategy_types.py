"""A user's strategy type-checks with ``mypy --strict`` against the installed jqtrade.

mypy runs in a subprocess from a folder outside the work tree, so it finds jqtrade the way a
user's editor does: through the installed package (for an editable install, the static path
its ``.pth`` file names). One run checks three files: a typical strategy and the file
``jqtrade new strategy`` writes, which must pass, and a strategy with a typo
(``context.portfolo``) that mypy must report.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from importlib import resources

import pytest

pytestmark = pytest.mark.slow

GOOD = """
from __future__ import annotations

from typing import Any, Optional

import pendulum
from typing_extensions import assert_type

from jqtrade import (
    Context,
    LimitOrderStyle,
    MarketOrderStyle,
    OrderRejectedError,
    OrderSnapshot,
    OrdersView,
    OrderStatus,
    Portfolio,
    Position,
    Strategy,
    Trade,
    TradingState,
)


class Typical(Strategy):
    placed: list[str]

    def process_initialize(self, context: Context) -> None:
        self.placed = []
        self.set_options(use_account=True, order_sync_interval=1.0)
        self.run_daily(self.buy, "open+5m", name="buy")
        self.run_weekly(self.report, 1, "close")
        self.run_monthly(self.report, -1)
        self.run_daily(self.watch, "10:00")

    def buy(self, context: Context) -> None:
        portfolio = context.portfolio
        assert_type(portfolio, Portfolio)
        assert_type(portfolio.available_cash, float)
        held = portfolio.long_positions["600000.XSHG"]
        assert_type(held, Position)
        assert_type(held.closeable_amount, int)
        if held.total_amount == 0 and portfolio.available_cash > 1000:
            try:
                order_id = self.order("600000.XSHG", 100, LimitOrderStyle(8.0))
                assert_type(order_id, str)
                self.placed.append(order_id)
            except OrderRejectedError as exc:
                self.log.warning("下单被拒绝：%s", exc)
        target: Optional[str] = self.order_target("000001.XSHE", 0)
        self.log.info("%s %s", target, context.current_dt.isoformat())

    def report(self, context: Context) -> None:
        orders = self.get_orders(status=OrderStatus.open)
        assert_type(orders, OrdersView[OrderSnapshot])
        for order in orders:
            assert_type(order, OrderSnapshot)
            self.cancel_order(order)
        first = self.get_orders().get(self.placed[0]) if self.placed else None
        if first is not None:
            self.log.info("%s 已成交 %d 股", first.order_id, first.filled_amount)
        assert_type(self.sync_balance(), Portfolio)
        assert_type(context.trading_state, TradingState)
        assert_type(context.strategy_dt, Optional[pendulum.DateTime])

    def watch(self, context: Context) -> None:
        bars = self.get_bars("600000.XSHG", 20, "1d", fields=["close"])
        assert_type(bars, dict[str, list[Any]])
        closes: list[float] = bars["close"]
        many = self.get_bars(["600000.XSHG", "000001.XSHE"], 5, unit="5m", include_now=True)
        assert_type(many, dict[str, dict[str, list[Any]]])
        prices = self.get_price("600000.XSHG", start_date="2024-06-03", frequency="1m")
        assert_type(prices, dict[str, list[Any]])
        quote = context.current_data["600000.XSHG"]
        assert_type(quote.last_price, float)
        assert_type(quote.paused, bool)
        if closes and not quote.paused and quote.last_price < quote.high_limit:
            self.order_value("600000.XSHG", 10000, MarketOrderStyle())

    def on_order_update(self, context: Context, order: OrderSnapshot) -> None:
        if order.is_final and order.status is OrderStatus.rejected:
            self.log.error("订单 %s 被拒绝：%s", order.order_id, order.err_msg)

    def on_trade(self, context: Context, trade: Trade) -> None:
        assert_type(trade.price, float)
        self.log.info("成交 %s %d 股", trade.code, trade.amount)

    def on_trading_state_change(self, context: Context, old: TradingState, new: TradingState, reason: str) -> None:
        self.log.warning("%s -> %s：%s", old.value, new.value, reason)

    def on_strategy_end(self, context: Context) -> None:
        self.notify("策略停止", f"今天下了 {len(self.placed)} 笔订单")

"""

TYPO = """
from __future__ import annotations

from jqtrade import Context, Strategy


class Typo(Strategy):
    def process_initialize(self, context: Context) -> None:
        self.run_daily(self.show, "open")

    def show(self, context: Context) -> None:
        self.log.info("总资产 %s", context.portfolo.total_value)
"""


@pytest.fixture(scope="module")
def mypy_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """mypy --strict over both files: ``{file name: its error lines}``."""
    work = tmp_path_factory.mktemp("user_strategy")
    (work / "typical.py").write_text(textwrap.dedent(GOOD), encoding="utf-8")
    (work / "typo.py").write_text(textwrap.dedent(TYPO), encoding="utf-8")
    template = (
        resources.files("jqtrade.templates")
        .joinpath("class_strategy.py")
        .read_text(encoding="utf-8")
    )
    (work / "template.py").write_text(template, encoding="utf-8")
    # Nothing points at the work tree: mypy must find jqtrade as installed.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MYPYPATH")}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-error-summary",
            "--show-error-codes",
            "--cache-dir",
            str(work / ".mypy_cache"),
            "typical.py",
            "typo.py",
            "template.py",
        ],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr  # 2: mypy itself failed
    errors: dict[str, list[str]] = {"typical.py": [], "typo.py": [], "template.py": []}
    for line in proc.stdout.splitlines():
        match = re.match(r"(typical|typo|template)\.py:\d+: (error|note):", line)
        assert match or not line.strip(), f"unexpected mypy output: {line}\n{proc.stdout}"
        if match and match.group(2) == "error":
            errors[f"{match.group(1)}.py"].append(line)
    return errors


def test_a_typical_strategy_passes_mypy_strict(mypy_report: dict[str, list[str]]):
    assert mypy_report["typical.py"] == []


def test_the_new_strategy_template_passes_mypy_strict(mypy_report: dict[str, list[str]]):
    assert mypy_report["template.py"] == []


def test_a_typo_on_context_is_reported(mypy_report: dict[str, list[str]]):
    [error] = mypy_report["typo.py"]
    assert '"Context" has no attribute "portfolo"' in error and "[attr-defined]" in error
