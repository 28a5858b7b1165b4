"""What a notification is about: the event kinds, their defaults, and the messages they carry.

Pure vocabulary, no I/O and no apprise: ``jqtrade.options`` and ``jqtrade.account`` import it.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from typing import Any, Optional, Protocol

import attrs


class EventKind(str, enum.Enum):
    """One switch in ``notify_events``; compare with strings (``kind == "fill"``)."""

    task_started = "task_started"
    task_stopped = "task_stopped"
    task_failed = "task_failed"
    order_rejected = "order_rejected"
    fill = "fill"
    risk_limit = "risk_limit"
    trading_state = "trading_state"
    link_stale = "link_stale"
    link_recovered = "link_recovered"
    daily_summary = "daily_summary"
    user = "user"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    EventKind.task_started: "任务启动",
    EventKind.task_stopped: "任务停止",
    EventKind.task_failed: "任务因错误停止（附最后一行错误信息）",
    EventKind.order_rejected: "订单被拒绝（下单前检查或券商）",
    EventKind.fill: "每笔成交",
    EventKind.risk_limit: "风控限制拒绝了下单或撤单",
    EventKind.trading_state: "交易状态变化（active / reducing / halted）",
    EventKind.link_stale: "与券商的连接中断或数据长时间未更新",
    EventKind.link_recovered: "与券商的连接恢复",
    EventKind.daily_summary: "收盘后的每日汇总",
    EventKind.user: "策略自己发送的消息（self.notify / send_message）",
}

EVENT_KINDS: tuple[str, ...] = tuple(kind.value for kind in EventKind)

#: Everything but fills: a strategy that trades often would send a message per fill.
DEFAULT_EVENTS: frozenset[str] = frozenset(EVENT_KINDS) - {EventKind.fill.value}


class Level(str, enum.Enum):
    """How a message is shown; the same names as apprise's ``NotifyType``."""

    info = "info"
    success = "success"
    warning = "warning"
    failure = "failure"


#: The level of each kind unless the caller names one.
DEFAULT_LEVELS = {
    EventKind.task_started: Level.info,
    EventKind.task_stopped: Level.info,
    EventKind.task_failed: Level.failure,
    EventKind.order_rejected: Level.warning,
    EventKind.fill: Level.info,
    EventKind.risk_limit: Level.warning,
    EventKind.trading_state: Level.warning,
    EventKind.link_stale: Level.failure,
    EventKind.link_recovered: Level.success,
    EventKind.daily_summary: Level.info,
    EventKind.user: Level.info,
}

#: Longest title and body sent; longer text is cut with a mark (a service cuts it anyway).
MAX_TITLE = 200
MAX_BODY = 4000


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@attrs.frozen(kw_only=True)
class Event:
    """One message as queued: what it is about, and the text a phone shows."""

    kind: EventKind
    title: str = attrs.field(converter=lambda v: _cut(str(v), MAX_TITLE))
    body: str = attrs.field(converter=lambda v: _cut(str(v), MAX_BODY))
    level: Level


class EventSink(Protocol):
    """What the account (or anything else) needs to emit events: :class:`Notifier` is one."""

    def event(self, kind: Any, title: str, body: str = "", *, level: Any = None) -> bool: ...


def parse_kinds(value: Any) -> frozenset[str]:
    """The ``notify_events`` switches: a list of kinds, or ``"all"``; raises ``ValueError``."""
    if value == "all":
        return frozenset(EVENT_KINDS)
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValueError(f"应为事件名列表或 'all'，可选：{', '.join(EVENT_KINDS)}")
    kinds = list(value)
    bad = [v for v in kinds if v not in EVENT_KINDS]
    if bad:
        raise ValueError(f"不认识的事件 {bad}，可选：{', '.join(EVENT_KINDS)}")
    return frozenset(kinds)


# --- targets: where URLs come from, and how they are shown -------------------------------------

#: A separator before the next ``scheme://``: commas inside a URL's query (``?to=a,b``) stay.
_SPLIT = re.compile(r"[\s,]+(?=[A-Za-z][A-Za-z0-9+.\-]*://)")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://\S+$")


def split_urls(text: str) -> list[str]:
    """URLs separated by spaces or commas (``JQTRADE_NOTIFY``)."""
    parts = _SPLIT.split(text.strip().strip(","))
    return [p.strip().strip(",") for p in parts if p.strip().strip(",")]


def looks_like_url(text: str) -> bool:
    return bool(_SCHEME.match(text))


def mask_url(url: str) -> str:
    """The scheme and a hint of the rest, never a secret: ``wecombot://ab***``.

    Used where apprise could not read the URL; a readable URL is shown the way apprise's own
    privacy mode shows it (see ``Notifier.targets``)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "***"
    return f"{scheme}://{rest[:2]}***" if len(rest) > 6 else f"{scheme}://***"


# --- messages the runner builds ----------------------------------------------------------------


def last_error_line(exc: Optional[BaseException] = None, text: Optional[str] = None) -> str:
    """The last line of a traceback (``ValueError: ...``), from an exception or its text."""
    if exc is not None:
        name = type(exc).__name__
        message = str(exc).strip().splitlines()
        return f"{name}: {message[-1]}" if message else name
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def daily_summary(
    orders: Iterable[Any], portfolio: Any, *, open_value: Optional[float] = None
) -> tuple[str, str]:
    """Title and body of the after-close summary, from ``account.get_orders()`` and
    ``account.portfolio``; ``open_value`` is the day's first total value, when known."""
    orders = list(orders)
    filled = [o for o in orders if getattr(o, "filled_amount", 0)]
    rejected = [o for o in orders if str(getattr(o.status, "value", o.status)) == "rejected"]
    bought = sum(
        o.deal_balance for o in filled if str(getattr(o.action, "value", o.action)) == "open"
    )
    sold = sum(
        o.deal_balance for o in filled if str(getattr(o.action, "value", o.action)) != "open"
    )
    total = float(portfolio.total_value)
    lines = [
        f"订单 {len(orders)} 笔，有成交 {len(filled)} 笔，被拒绝 {len(rejected)} 笔",
        f"买入成交 {bought:,.2f} 元，卖出成交 {sold:,.2f} 元",
        f"总资产 {total:,.2f} 元，可用资金 {float(portfolio.available_cash):,.2f} 元",
    ]
    if open_value:
        change = total - float(open_value)
        lines.append(f"今日变化 {change:+,.2f} 元（{change / float(open_value):+.2%}）")
    held = [p for p in portfolio.long_positions.values() if p.total_amount]
    if held:
        lines.append(f"持仓 {len(held)} 只：")
        for p in sorted(held, key=lambda p: -p.position_value)[:20]:
            lines.append(f"  {p.code} {p.total_amount:,} 股，市值 {p.position_value:,.2f} 元")
        if len(held) > 20:
            lines.append(f"  ……另有 {len(held) - 20} 只")
    if getattr(portfolio, "is_stale", False):
        lines.append(f"注意：资金持仓快照已过期（{portfolio.stale_reason}）")
    return "每日汇总", "\n".join(lines)
