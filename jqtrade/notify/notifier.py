"""The sender: a bounded queue drained by one daemon thread, so the loop never waits on a phone.

``Notifier.event`` only takes a lock, appends to a queue and returns (a few microseconds); the
thread sends to every target with a timeout per send, retries failed targets with backoff, and
logs one line when a target starts failing (and one when it recovers). Repeats of one event
kind within ``min_interval`` seconds are held and sent as one message with their count.

apprise is imported by :func:`apprise_targets` only, i.e. only when targets are configured.
"""

from __future__ import annotations

import collections
import logging
import os
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Callable, Optional, Protocol, Union

import attrs

from jqtrade.errors import OptionValueError
from jqtrade.notify.events import (
    DEFAULT_EVENTS,
    DEFAULT_LEVELS,
    Event,
    EventKind,
    Level,
    looks_like_url,
    mask_url,
    split_urls,
)

logger = logging.getLogger("jqtrade.notify")

#: The environment variable with more targets (URLs separated by spaces or commas).
ENV_VAR = "JQTRADE_NOTIFY"

#: Messages waiting at most; when full, the oldest is dropped and the next message says so.
QUEUE_SIZE = 100
#: Attempts after the first one, and the first backoff (doubled each time), in seconds.
RETRIES = 2
BACKOFF = 1.0
#: Held repeats listed in a coalesced message at most (the count covers all of them).
MAX_LISTED = 10

_SEVERITY = {Level.info: 0, Level.success: 1, Level.warning: 2, Level.failure: 3}


class Target(Protocol):
    """One destination. ``send`` may block (up to its own timeout) and returns success."""

    name: str  # shown in logs: never a secret

    def send(self, title: str, body: str, level: Level) -> bool: ...


class AppriseTarget:
    """An apprise plugin (one URL) with our timeout; its name is apprise's privacy URL."""

    def __init__(self, plugin: Any, timeout: float) -> None:
        self._plugin = plugin
        plugin.socket_connect_timeout = timeout
        plugin.socket_read_timeout = timeout
        self.name = str(plugin.url(privacy=True)).split("?", 1)[0]

    def send(self, title: str, body: str, level: Level) -> bool:
        import apprise

        return bool(
            self._plugin.notify(
                body=body or title, title=title, notify_type=apprise.NotifyType(level.value)
            )
        )


def apprise_targets(urls: Iterable[str], *, timeout: float, source: str = "notify") -> list[Target]:
    """Read ``urls`` with apprise; raise :class:`OptionValueError` naming a bad one (masked)."""
    urls = list(urls)
    try:
        import apprise
    except ImportError:
        raise OptionValueError(
            source,
            [mask_url(u) for u in urls],
            '发送通知需要 apprise：pip install "jqtrade[notify]"（或 pip install apprise）',
        ) from None
    quiet_apprise()
    targets: list[Target] = []
    for url in urls:
        plugin = apprise.Apprise.instantiate(url) if looks_like_url(url) else None
        if plugin is None:
            raise OptionValueError(
                source,
                mask_url(url),
                "apprise 不认识这个地址：请检查服务名（如 wecombot://、dingtalk://、mailto://）和写法，见文档“通知”一章",
            )
        targets.append(AppriseTarget(plugin, timeout))
    return targets


def quiet_apprise() -> None:
    """apprise logs every failed attempt; we log once per failing target. A level the user set
    on the ``apprise`` logger is kept."""
    apprise_logger = logging.getLogger("apprise")
    if apprise_logger.level == logging.NOTSET:
        apprise_logger.setLevel(logging.CRITICAL)


def target_urls(
    options: Any, environ: Optional[Mapping[str, str]] = None
) -> tuple[list[str], list[str]]:
    """The URLs of the ``notify`` option and of ``JQTRADE_NOTIFY``, without repeats."""
    env = os.environ if environ is None else environ
    from_env = [u for u in split_urls(env.get(ENV_VAR, "")) if u not in options.notify]
    return list(dict.fromkeys(options.notify)), list(dict.fromkeys(from_env))


@attrs.frozen
class NotifyStats:
    """Counts since start: ``delivered`` reached every target, ``failed`` missed one at least."""

    queued: int
    delivered: int
    failed: int
    dropped: int
    coalesced: int


@attrs.define
class _Held:
    sent_at: float
    events: list[Event] = attrs.Factory(list)
    count: int = 0


class Coalescer:
    """At most one message per event kind per ``window`` seconds; the rest are held, counted
    and merged into one message when the window ends. Pure: the caller passes the time."""

    def __init__(self, window: float) -> None:
        self.window = window
        self._kinds: dict[EventKind, _Held] = {}

    def offer(self, event: Event, now: float) -> Optional[Event]:
        """The event to send now, or ``None`` if it is held."""
        if self.window <= 0:
            return event
        held = self._kinds.get(event.kind)
        if held is None or (not held.count and now - held.sent_at >= self.window):
            self._kinds[event.kind] = _Held(now)
            return event
        held.count += 1
        held.events.append(event)
        del held.events[:-MAX_LISTED]
        return None

    def due(self, now: float) -> list[Event]:
        """Merged messages whose window has ended."""
        out = []
        for held in self._kinds.values():
            if held.count and now - held.sent_at >= self.window:
                out.append(self._merge(held))
                held.sent_at, held.events, held.count = now, [], 0
        return out

    def next_due(self) -> Optional[float]:
        times = [held.sent_at + self.window for held in self._kinds.values() if held.count]
        return min(times) if times else None

    def drain(self) -> list[Event]:
        """Every held message now (at close or flush)."""
        out = [self._merge(held) for held in self._kinds.values() if held.count]
        self._kinds.clear()
        return out

    def _merge(self, held: _Held) -> Event:
        last = held.events[-1]
        if held.count == 1:
            return last
        level = max((e.level for e in held.events), key=_SEVERITY.__getitem__)
        lines = [
            f"过去 {self.window:g} 秒内又有 {held.count} 条“{last.kind.label}”消息，合并为这一条："
        ]
        if held.count > len(held.events):
            lines.append(f"（只列出最后 {len(held.events)} 条）")
        for e in held.events:
            first = e.body.strip().splitlines()[0] if e.body.strip() else ""
            lines.append(f"- {e.title}" + (f"：{first}" if first else ""))
        return Event(
            kind=last.kind,
            title=f"{last.title}（等 {held.count} 条）",
            body="\n".join(lines),
            level=level,
        )


class Notifier:
    """Sends events to the targets from a background thread; ``event`` never blocks.

    Thread-safe: ``event`` may be called from any thread. ``close`` sends what is still queued
    (held repeats included) for up to ``timeout`` seconds, then gives up; the thread is a
    daemon, so a hanging target never keeps the process alive.
    """

    def __init__(
        self,
        targets: Sequence[Target],
        *,
        task_name: str,
        events: Iterable[str] = DEFAULT_EVENTS,
        min_interval: float = 60.0,
        queue_size: int = QUEUE_SIZE,
        retries: int = RETRIES,
        backoff: float = BACKOFF,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._targets = list(targets)
        self.task_name = task_name
        self.events = frozenset(EventKind(e) for e in events)
        self._queue: collections.deque[Event] = collections.deque()
        self._queue_size = max(1, queue_size)
        self._retries = max(0, retries)
        self._backoff = backoff
        self._clock = clock
        self._coalescer = Coalescer(min_interval)
        self._cond = threading.Condition()
        self._abort = threading.Event()
        self._busy = False
        self._closing = False
        self._dropped_unreported = 0
        self._failing: dict[str, int] = {}  # target name -> messages missed since it failed
        self._counts = {"delivered": 0, "failed": 0, "dropped": 0, "coalesced": 0}
        self._thread = threading.Thread(target=self._run, name="jqtrade-notify", daemon=True)
        self._thread.start()

    @classmethod
    def from_options(
        cls,
        options: Any,
        task_name: str,
        *,
        environ: Optional[Mapping[str, str]] = None,
        **kwargs: Any,
    ) -> Optional[Notifier]:
        """A notifier for the ``notify`` option and ``JQTRADE_NOTIFY``, or ``None`` when neither
        names a target or every event is switched off (apprise is then not imported).

        Raises :class:`OptionValueError` for a URL apprise cannot read, or if apprise is missing.
        """
        urls, env_urls = target_urls(options, environ)
        events = frozenset(options.notify_events)
        if not (urls or env_urls) or not events:
            return None
        timeout = options.notify_timeout
        targets = apprise_targets(urls, timeout=timeout) + apprise_targets(
            env_urls, timeout=timeout, source=ENV_VAR
        )
        notifier = cls(
            targets,
            task_name=task_name,
            events=events,
            min_interval=options.notify_min_interval,
            **kwargs,
        )
        logger.info(
            "通知已开启：%s；事件：%s",
            "、".join(notifier.targets),
            "、".join(sorted(k.value for k in notifier.events)),
        )
        return notifier

    @property
    def targets(self) -> tuple[str, ...]:
        """The targets as logs show them (apprise's privacy URLs: secrets masked)."""
        return tuple(t.name for t in self._targets)

    @property
    def stats(self) -> NotifyStats:
        with self._cond:
            return NotifyStats(queued=len(self._queue), **self._counts)

    def enabled(self, kind: Union[EventKind, str]) -> bool:
        return EventKind(kind) in self.events

    def event(
        self,
        kind: Union[EventKind, str],
        title: str,
        body: str = "",
        *,
        level: Union[Level, str, None] = None,
    ) -> bool:
        """Queue a message; ``False`` when the kind is switched off or the notifier is closed.

        Returns at once whatever the targets do. ``kind`` must be one of :class:`EventKind`."""
        kind = EventKind(kind)
        if kind not in self.events or self._closing:
            return False
        event = Event(
            kind=kind,
            title=title,
            body=body,
            level=Level(level) if level is not None else DEFAULT_LEVELS[kind],
        )
        with self._cond:
            ready = self._coalescer.offer(event, self._clock())
            if ready is None:
                self._counts["coalesced"] += 1
            else:
                self._push(ready)
            self._cond.notify_all()
        return True

    def flush(self, timeout: float = 10.0) -> bool:
        """Send held repeats now and wait until everything queued was tried; ``True`` if done."""
        deadline = time.monotonic() + timeout
        with self._cond:
            for held in self._coalescer.drain():
                self._push(held)
            self._cond.notify_all()
            while self._queue or self._busy:
                left = deadline - time.monotonic()
                if left <= 0 or not self._thread.is_alive():
                    return False
                self._cond.wait(left)
        return True

    def close(self, timeout: float = 5.0) -> bool:
        """Send what is left for up to ``timeout`` seconds, then stop; ``True`` if all was tried."""
        with self._cond:
            if not self._closing:
                for held in self._coalescer.drain():
                    self._push(held)
                self._closing = True
                self._cond.notify_all()
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._abort.set()  # stop retrying; the daemon thread ends after its current send
            with self._cond:
                left = len(self._queue) + self._busy
            logger.warning(
                "关闭通知时还有 %d 条消息没有发出（目标无响应，已等待 %g 秒）", left, timeout
            )
            return False
        return True

    # -- the sender thread ------------------------------------------------------------------

    def _push(self, event: Event) -> None:
        """Under the lock: append, dropping the oldest when full."""
        if len(self._queue) >= self._queue_size:
            self._queue.popleft()
            self._counts["dropped"] += 1
            self._dropped_unreported += 1
        self._queue.append(event)

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._abort.is_set():
                        return
                    now = self._clock()
                    for merged in self._coalescer.due(now):
                        self._push(merged)
                    if self._queue:
                        event = self._queue.popleft()
                        dropped, self._dropped_unreported = self._dropped_unreported, 0
                        self._busy = True
                        break
                    if self._closing:
                        self._cond.notify_all()
                        return
                    self._cond.notify_all()  # idle: wake flush()
                    due = self._coalescer.next_due()
                    self._cond.wait(None if due is None else max(0.001, due - now))
            try:
                self._deliver(event, dropped)
            except Exception:  # noqa: BLE001 - the sender must outlive any one message
                logger.exception("发送通知时出现意外错误")
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _deliver(self, event: Event, dropped: int) -> None:
        title = f"[{self.task_name}] {event.title}"
        body = event.body
        if dropped:
            body += f"\n（通知队列已满，丢弃了 {dropped} 条较早的消息）"
        pending = list(self._targets)
        delay = self._backoff
        for attempt in range(self._retries + 1):
            if attempt:
                if self._abort.wait(delay):
                    break
                delay *= 2
            pending = [t for t in pending if not self._try(t, title, body, event.level)]
            if not pending:
                break
        with self._cond:
            self._counts["failed" if pending else "delivered"] += 1
        for target in self._targets:
            if target in pending:
                self._failed(target, event)
            elif self._failing.get(target.name) is not None:
                missed = self._failing.pop(target.name)
                logger.info("通知目标 %s 恢复正常（期间有 %d 条消息没有送达）", target.name, missed)

    @staticmethod
    def _try(target: Target, title: str, body: str, level: Level) -> bool:
        try:
            return target.send(title, body, level)
        except Exception as exc:  # noqa: BLE001 - the text may hold the URL: name the type only
            logger.debug("通知目标 %s 出错：%s", target.name, type(exc).__name__)
            return False

    def _failed(self, target: Target, event: Event) -> None:
        missed = self._failing.get(target.name)
        if missed is None:
            logger.warning(
                "通知发送失败：%s 没有收到“%s”（超时或服务返回错误，已重试 %d 次）；该目标恢复前不再逐条记录",
                target.name,
                event.title,
                self._retries,
            )
            self._failing[target.name] = 1
        else:
            self._failing[target.name] = missed + 1


# --- what the strategy calls ------------------------------------------------------------------


def send_user_message(notifier: Optional[Any], title: Any, body: Any = "") -> bool:
    """``Strategy.notify(title, body)``: logged always, sent when notifications are on."""
    title, body = str(title), "" if body is None else str(body)
    logging.getLogger("jqtrade.strategy").info("策略消息：%s%s", title, f"：{body}" if body else "")
    if notifier is None:
        return False
    return bool(notifier.event(EventKind.user, title, body))


def send_legacy_message(notifier: Optional[Any], message: Any) -> bool:
    """JoinQuant's ``send_message(message)``: its first line is the title, all of it the body."""
    text = str(message)
    first = text.strip().splitlines()[0] if text.strip() else "策略消息"
    title = first if len(first) <= 40 else first[:39] + "…"
    return send_user_message(notifier, title, text if text.strip() != first else "")
