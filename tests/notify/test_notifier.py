"""The notifier against real apprise and local HTTP servers (127.0.0.1 only): what arrives,
targets from the option and JQTRADE_NOTIFY, masking, switches, retries, coalescing, a full
queue, and a target that hangs without delaying the caller."""

from __future__ import annotations

import http.server
import json
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from support import wait_for

from jqtrade.errors import OptionValueError
from jqtrade.notify import (
    Coalescer,
    Event,
    EventKind,
    Level,
    Notifier,
    send_legacy_message,
    send_user_message,
    split_urls,
)
from jqtrade.options import Options


class Receiver(http.server.ThreadingHTTPServer):
    """A JSON webhook on 127.0.0.1: records each payload; can sleep or fail before answering."""

    daemon_threads = True
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.payloads: list[dict[str, Any]] = []
        self.requests = 0
        self.delay = 0.0
        self.fail_first = 0
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.server_address[1]}/"


class _Handler(http.server.BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.server.lock:
            self.server.requests += 1
            failing = self.server.requests <= self.server.fail_first
        if self.server.delay:
            time.sleep(self.server.delay)
        if failing:
            self.send_response(500)
            self.end_headers()
            return
        with self.server.lock:
            self.server.payloads.append(json.loads(data))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receivers() -> Iterator[list[Receiver]]:
    started: list[Receiver] = []
    yield started
    for server in started:
        server.shutdown()
        server.server_close()


@pytest.fixture
def receiver(receivers: list[Receiver]) -> Receiver:
    return _start(receivers)


def _start(receivers: list[Receiver]) -> Receiver:
    server = Receiver()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    receivers.append(server)
    return server


_OPEN: list[Notifier] = []


@pytest.fixture(autouse=True)
def close_notifiers() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close(timeout=0.1)


def make(*urls: str, environ: Any = None, **options: Any) -> Notifier:
    opts = Options().evolve({"notify": list(urls), **options})
    notifier = Notifier.from_options(opts, "my_task", environ=environ or {}, backoff=0.05)
    assert notifier is not None
    _OPEN.append(notifier)
    return notifier


# --- what arrives -------------------------------------------------------------------------------


def test_an_event_arrives_with_the_task_name_title_body_and_type(receiver):
    notifier = make(receiver.url)
    assert notifier.event("task_failed", "任务因错误停止", "ValueError: 坏数据")
    assert notifier.flush(5)
    [payload] = receiver.payloads
    assert payload["title"] == "[my_task] 任务因错误停止"
    assert payload["message"] == "ValueError: 坏数据"
    assert payload["type"] == "failure"
    assert notifier.stats.delivered == 1 and notifier.stats.failed == 0


def test_each_kind_has_its_level_and_a_caller_may_name_another(receiver):
    notifier = make(receiver.url, notify_events="all", notify_min_interval=0)
    notifier.event(EventKind.link_recovered, "恢复", "ok")
    notifier.event("trading_state", "交易状态：active", "恢复", level="info")
    notifier.event("fill", "成交", "买入")
    assert notifier.flush(5)
    assert [p["type"] for p in receiver.payloads] == ["success", "info", "info"]


def test_targets_come_from_the_option_and_the_environment_without_repeats(receivers):
    a, b, c = _start(receivers), _start(receivers), _start(receivers)
    environ = {"JQTRADE_NOTIFY": f"  {b.url}, {c.url} {a.url},"}
    notifier = make(a.url, environ=environ)
    assert len(notifier.targets) == 3
    notifier.event("user", "你好", "")
    assert notifier.flush(5)
    assert [len(s.payloads) for s in (a, b, c)] == [1, 1, 1]
    assert (
        b.payloads[0]["message"] == "[my_task] 你好"
    )  # an empty body sends the title as the message


def test_only_the_environment_is_enough():
    opts = Options()
    notifier = Notifier.from_options(opts, "t", environ={"JQTRADE_NOTIFY": "json://127.0.0.1:9/"})
    assert notifier is not None
    _OPEN.append(notifier)


def test_nothing_configured_gives_no_notifier_and_never_imports_apprise():
    code = (
        "import sys, jqtrade\n"
        "from jqtrade.notify import Notifier\n"
        "from jqtrade.options import Options\n"
        "assert Notifier.from_options(Options(), 't', environ={}) is None\n"
        "assert Notifier.from_options(Options().evolve({'notify': ['json://127.0.0.1:9/'], 'notify_events': []}), 't') is None\n"
        "assert 'apprise' not in sys.modules, 'apprise imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60, env={"PATH": ""})


def test_urls_split_on_spaces_and_commas_but_not_inside_a_query():
    text = "wecombot://k1, mailtos://u:p@qq.com?to=a@b.com,c@d.com  dingtalk://tok/"
    assert split_urls(text) == [
        "wecombot://k1",
        "mailtos://u:p@qq.com?to=a@b.com,c@d.com",
        "dingtalk://tok/",
    ]
    assert Options().evolve({"notify": text}).notify == tuple(split_urls(text))


# --- secrets -----------------------------------------------------------------------------------


SECRET = "s3cr3tKEY0123456789"


def test_secrets_never_show_in_targets_reprs_errors_or_logs(caplog):
    caplog.set_level(logging.DEBUG)
    opts = Options().evolve({"notify": [f"wecombot://{SECRET}", f"dingtalk://{SECRET}/"]})
    assert SECRET not in repr(opts)
    notifier = Notifier.from_options(opts, "t", environ={})
    assert notifier is not None
    _OPEN.append(notifier)
    assert notifier.targets and all(SECRET not in name for name in notifier.targets)
    with pytest.raises(OptionValueError) as info:
        Notifier.from_options(
            Options().evolve({"notify": [f"nosuchservice://{SECRET}"]}), "t", environ={}
        )
    assert SECRET not in str(info.value) and "notify" in str(info.value)
    with pytest.raises(OptionValueError) as info:
        Notifier.from_options(
            Options(), "t", environ={"JQTRADE_NOTIFY": f"nosuchservice://{SECRET}"}
        )
    assert SECRET not in str(info.value) and "JQTRADE_NOTIFY" in str(info.value)
    with pytest.raises(OptionValueError) as info:
        Options().evolve({"notify": [SECRET]})
    assert SECRET not in str(info.value)
    assert SECRET not in caplog.text


def test_bad_switches_are_refused_by_name():
    assert Options().notify_events == frozenset(EventKind) - {EventKind.fill}
    assert Options().evolve({"notify_events": "all"}).notify_events == frozenset(EventKind)
    with pytest.raises(OptionValueError, match="notify_events"):
        Options().evolve({"notify_events": ["fills"]})


def test_a_switched_off_kind_is_not_sent(receiver):
    notifier = make(receiver.url, notify_events=["task_started"])
    assert not notifier.event("fill", "成交", "")
    assert notifier.event("task_started", "启动", "")
    assert notifier.flush(5)
    assert [p["title"] for p in receiver.payloads] == ["[my_task] 启动"]


# --- a target that hangs, fails or recovers ----------------------------------------------------


def test_a_hanging_target_neither_delays_the_caller_nor_the_other_targets(receivers, caplog):
    hanging, healthy = _start(receivers), _start(receivers)
    hanging.delay = 3.0
    notifier = make(hanging.url, healthy.url, notify_timeout=0.3, notify_min_interval=0)
    notifier._retries = 0  # one attempt per message keeps the test short
    caplog.set_level(logging.INFO, logger="jqtrade.notify")
    durations = []
    for i in range(20):
        started = time.perf_counter()
        assert notifier.event("order_rejected", f"拒绝 {i}", "")
        durations.append(time.perf_counter() - started)
    slow = [d for d in durations if d > 0.050]
    assert not slow, f"event() took {max(durations) * 1000:.1f} ms"
    print(
        f"event() with a hanging target: max {max(durations) * 1e6:.0f} µs, "
        f"median {sorted(durations)[10] * 1e6:.0f} µs over 20 calls"
    )

    # The sender gives up on each message after its timeout, not after the server's 3 s.
    started = time.monotonic()
    wait_for(lambda: notifier.stats.failed >= 3, "three failed messages", timeout=10)
    assert time.monotonic() - started < 3.0
    assert len(healthy.payloads) >= 3
    failures = [
        r for r in caplog.records if r.name == "jqtrade.notify" and r.levelno >= logging.WARNING
    ]
    assert len(failures) == 1  # one line when the target starts failing, not one per message


def test_a_failed_attempt_is_retried_with_backoff_and_then_delivered(receiver, caplog):
    receiver.fail_first = 2
    notifier = make(receiver.url)
    caplog.set_level(logging.INFO, logger="jqtrade.notify")
    notifier.event("task_started", "启动", "")
    assert notifier.flush(5)
    assert receiver.requests == 3 and len(receiver.payloads) == 1
    assert notifier.stats.delivered == 1
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_target_that_fails_then_recovers_logs_once_each_way(receiver, caplog):
    receiver.fail_first = 6  # two messages of three attempts each
    notifier = make(receiver.url, notify_min_interval=0)
    caplog.set_level(logging.INFO, logger="jqtrade.notify")
    for i in range(3):
        notifier.event("user", f"消息 {i}", "")
        assert notifier.flush(5)
    assert notifier.stats.failed == 2 and notifier.stats.delivered == 1
    mine = [r for r in caplog.records if r.name == "jqtrade.notify"]
    assert len([r for r in mine if r.levelno >= logging.WARNING]) == 1
    assert len([r for r in mine if r.levelno == logging.INFO and "恢复" in r.getMessage()]) == 1


def test_close_gives_up_after_its_timeout_when_a_target_hangs(receiver):
    receiver.delay = 3.0
    notifier = make(receiver.url, notify_timeout=2.0)
    notifier.event("task_stopped", "停止", "")
    started = time.monotonic()
    assert notifier.close(timeout=0.3) is False
    assert time.monotonic() - started < 1.0
    assert not notifier.event("user", "关闭之后", "")


# --- coalescing and the bounded queue ----------------------------------------------------------


def test_repeats_of_one_kind_are_coalesced_into_one_message_with_their_count(receiver):
    notifier = make(receiver.url, notify_min_interval=0.5)
    for i in range(5):
        notifier.event("order_rejected", f"拒绝下单：60000{i}", f"[bad_lot] 第 {i} 笔")
    notifier.event("risk_limit", "风控拒绝下单", "")  # another kind is not held back
    wait_for(lambda: len(receiver.payloads) >= 2, "the first two messages", timeout=5)
    assert [p["title"] for p in receiver.payloads[:2]] == [
        "[my_task] 拒绝下单：600000",
        "[my_task] 风控拒绝下单",
    ]
    assert notifier.stats.coalesced == 4
    wait_for(lambda: len(receiver.payloads) >= 3, "the coalesced message", timeout=5)
    merged = receiver.payloads[2]
    assert merged["title"] == "[my_task] 拒绝下单：600004（等 4 条）"
    assert (
        "4 条" in merged["message"]
        and "第 1 笔" in merged["message"]
        and "第 4 笔" in merged["message"]
    )


def test_close_sends_the_held_repeats_at_once(receiver):
    notifier = make(receiver.url, notify_min_interval=60)
    notifier.event("user", "a", "")
    notifier.event("user", "b", "")
    assert notifier.close(timeout=5)
    assert [p["title"] for p in receiver.payloads] == ["[my_task] a", "[my_task] b"]


def test_the_coalescing_rule_is_one_per_kind_per_window():
    rule = Coalescer(60)

    def ev(title: str, kind: EventKind = EventKind.user) -> Event:
        return Event(kind=kind, title=title, body="", level=Level.info)

    assert rule.offer(ev("a"), 0) is not None
    assert rule.offer(ev("b"), 10) is None and rule.offer(ev("c"), 20) is None
    assert rule.offer(ev("x", EventKind.fill), 20) is not None
    assert rule.due(59.9) == [] and rule.next_due() == 60
    [merged] = rule.due(60)
    assert merged.title == "c（等 2 条）"
    assert rule.offer(ev("d"), 61) is None  # the merged message opened a new window
    assert [e.title for e in rule.due(120)] == ["d"]  # a single held one goes as it was
    assert rule.offer(ev("e"), 181) is not None
    assert Coalescer(0).offer(ev("f"), 0) is not None


class BlockingTarget:
    name = "blocking://"

    def __init__(self) -> None:
        self.release = threading.Event()
        self.busy = threading.Event()
        self.got: list[tuple[str, str]] = []

    def send(self, title: str, body: str, level: Level) -> bool:
        self.busy.set()
        self.release.wait(10)
        self.got.append((title, body))
        return True


def test_a_full_queue_drops_the_oldest_and_the_next_message_says_how_many():
    target = BlockingTarget()
    notifier = Notifier([target], task_name="t", min_interval=0, queue_size=3)
    _OPEN.append(notifier)
    notifier.event("user", "0", "")
    assert target.busy.wait(5)
    for i in range(1, 10):
        notifier.event("user", str(i), "")
    assert notifier.stats.dropped == 6 and notifier.stats.queued == 3
    target.release.set()
    assert notifier.flush(5)
    assert [title for title, _ in target.got] == ["[t] 0", "[t] 7", "[t] 8", "[t] 9"]
    assert "丢弃了 6 条" in target.got[1][1]


# --- what the strategy calls -------------------------------------------------------------------


def test_strategy_messages_go_as_user_events_and_are_logged_without_a_notifier(receiver, caplog):
    caplog.set_level(logging.INFO, logger="jqtrade.strategy")
    assert send_user_message(None, "没有配置", "也会写日志") is False
    assert send_legacy_message(None, "旧脚本") is False
    assert len([r for r in caplog.records if r.name == "jqtrade.strategy"]) == 2
    notifier = make(receiver.url, notify_min_interval=0)
    assert send_user_message(notifier, "调仓完成", "买入 3 只")
    assert send_legacy_message(notifier, "第一行\n第二行")
    assert notifier.flush(5)
    assert [(p["title"], p["message"]) for p in receiver.payloads] == [
        ("[my_task] 调仓完成", "买入 3 只"),
        ("[my_task] 第一行", "第一行\n第二行"),
    ]
