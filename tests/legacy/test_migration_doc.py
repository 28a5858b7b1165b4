"""docs/migration.md's table of jqtrade 1.0 APIs, checked against the code: every name it says a
1.0 script can still use exists where a script would look for it."""

from __future__ import annotations

import re
import types
from pathlib import Path

import pendulum

from jqtrade.account.order import OrderSnapshot
from jqtrade.account.portfolio import Portfolio, Position
from jqtrade.legacy import LegacyOrder, LegacyStrategy
from jqtrade.model.orders import (
    LimitOrderStyle,
    MarketOrderStyle,
    OrderAction,
    OrderSide,
    OrderStatus,
)

PAGE = Path(__file__).resolve().parents[2] / "docs" / "migration.md"
USABLE = ("相同", "有变化", "新增")


def _rows(title: str) -> list[tuple[str, str]]:
    """(first cell, status cell) of each row of the table under the ``title`` heading."""
    text = PAGE.read_text(encoding="utf-8")
    section = text.split(f"#### {title}", 1)[1].split("####", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and not set(cells[0]) <= set("-") and cells[1] in USABLE:
            rows.append((cells[0], cells[1]))
    assert rows, f"no rows under {title}"
    return rows


def _names(cell: str) -> list[str]:
    """The identifiers in backticks, without call arguments or attribute owners."""
    names = []
    for code in re.findall(r"`([^`]+)`", cell):
        head = code.split("(", 1)[0].split("[", 1)[0].strip()
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", head):
            names.append(head.rsplit(".", 1)[-1])
    return names


def test_every_usable_injected_name_is_injected():
    module = types.ModuleType("legacy_probe")
    module.process_initialize = lambda context: None  # type: ignore[attr-defined]
    injected = LegacyStrategy(module).injected_globals()
    for cell, _ in _rows("注入的名字"):
        for name in _names(cell):
            if name in ("print", "process_initialize"):
                continue  # the builtin; the script's own function
            assert name in injected, f"docs/migration.md says {name} works in a 1.0 script"


def _order() -> LegacyOrder:
    now = pendulum.datetime(2024, 6, 3, 10, tz="Asia/Shanghai")
    return LegacyOrder(
        OrderSnapshot(
            order_id="2406030001",
            code="600000.XSHG",
            status=OrderStatus.open,
            side=OrderSide.long,
            action=OrderAction.open,
            style=MarketOrderStyle(),
            order_price=None,
            amount=100,
            filled_amount=0,
            canceled_amount=0,
            avg_price=0.0,
            deal_balance=0.0,
            commission=0.0,
            err_msg="",
            create_time=now,
            entrust_time=now,
        )
    )


def test_every_usable_attribute_exists_on_the_objects_a_script_reads():
    owners = {
        "portfolio": Portfolio.empty(),
        "持仓": Position.empty("600000.XSHG"),
        "订单": _order(),
    }
    checked = 0
    for cell, _ in _rows("`context`、资金、持仓和订单"):
        owner = next(
            (value for key, value in owners.items() if cell.startswith(key) or f"`{key}." in cell),
            None,
        )
        if owner is None:
            continue
        for name in _names(cell):
            if name in ("portfolio", "long_positions") and owner is not owners["portfolio"]:
                continue
            assert hasattr(owner, name), (
                f"docs/migration.md says {type(owner).__name__}.{name} exists"
            )
            checked += 1
    assert checked >= 35


def test_order_styles_read_as_in_1_0():
    assert MarketOrderStyle(0) == MarketOrderStyle(price=0) == MarketOrderStyle()
    assert (MarketOrderStyle().price, MarketOrderStyle().value) == (0, "market")
    assert (LimitOrderStyle(10.5).price, LimitOrderStyle(10.5).value) == (10.5, "limit")
    assert _order().order_price == 0 and _order().create_time.tzinfo is None
