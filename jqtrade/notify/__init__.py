"""Notifications to the user's phone or mailbox, through apprise (imported only when used).

The API the runner, the strategy and the account use::

    notifier = Notifier.from_options(options, task_name)   # None when no target is configured
    notifier.event("task_started", "任务已启动", "策略 my.py，账户 1234567")  # never blocks
    notifier.close(timeout=5.0)                              # at exit: send what is left

Event kinds (``EventKind``; each one a switch in the option ``notify_events``): task_started,
task_stopped, task_failed, order_rejected, fill, risk_limit, trading_state, link_stale,
link_recovered, daily_summary, user. Targets: the option ``notify`` (a list of apprise URLs)
and the environment variable ``JQTRADE_NOTIFY`` (URLs separated by spaces or commas).
"""

from __future__ import annotations

from jqtrade.notify.events import (
    DEFAULT_EVENTS,
    EVENT_KINDS,
    Event,
    EventKind,
    EventSink,
    Level,
    daily_summary,
    last_error_line,
    mask_url,
    split_urls,
)
from jqtrade.notify.notifier import (
    ENV_VAR,
    Coalescer,
    Notifier,
    NotifyStats,
    Target,
    send_legacy_message,
    send_user_message,
)

__all__ = [
    "DEFAULT_EVENTS",
    "ENV_VAR",
    "EVENT_KINDS",
    "Coalescer",
    "Event",
    "EventKind",
    "EventSink",
    "Level",
    "Notifier",
    "NotifyStats",
    "Target",
    "daily_summary",
    "last_error_line",
    "mask_url",
    "send_legacy_message",
    "send_user_message",
    "split_urls",
]
