"""How late user callbacks run with notifications on, against a healthy and a hanging target.

    python bench/bench_notify.py                 # 200 firings per case, every 0.05 s
    python bench/bench_notify.py --firings 100

The real event loop on the live clock fires one user job every 0.05 s (``IntervalRule``); each
callback calls ``notifier.event("user", "t", "b")``, as ``send_message`` does. The notifier is
``Notifier.from_options`` with ``notify_timeout=0.5`` and a ``json://`` target on a local HTTP
server (127.0.0.1, a free port; loopback only) that answers at once (healthy) or sleeps 5 s
before answering (hanging). Cases:

* off: no notifier;
* healthy target;
* hanging target;
* hanging target with ``notify_min_interval=0``, so nothing is coalesced: every call queues a
  message, the queue (100) fills up and drops the oldest.

Lateness = when the callback ran (``time.time()``) minus its scheduled slot. Also the time of
``event()`` itself, and of ``close(timeout=0.5)`` at the end.
"""

from __future__ import annotations

import argparse
import http.server
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any, Optional

import pendulum

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jqtrade.clock import LiveClock  # noqa: E402
from jqtrade.loop import EventLoop, IntervalRule, Job  # noqa: E402
from jqtrade.notify import Notifier  # noqa: E402
from jqtrade.options import Options  # noqa: E402

INTERVAL = 0.05
HANG = 5.0
TIMEOUT = 0.5


class Target(http.server.ThreadingHTTPServer):
    """A JSON webhook on 127.0.0.1 that waits ``delay`` seconds before answering 200."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, delay: float) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.delay = delay
        self.requests = 0
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.server_address[1]}/"


class _Handler(http.server.BaseHTTPRequestHandler):
    server: Target

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.server.lock:
            self.server.requests += 1
        if self.server.delay:
            time.sleep(self.server.delay)
        try:
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
        except OSError:
            pass  # the client gave up long ago

    def log_message(self, *args: Any) -> None:
        pass


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def run_case(firings: int, delay: Optional[float], coalesce: bool = True) -> dict[str, Any]:
    target: Optional[Target] = None
    notifier: Optional[Notifier] = None
    if delay is not None:
        target = Target(delay)
        threading.Thread(
            target=target.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        settings: dict[str, Any] = {"notify": [target.url], "notify_timeout": TIMEOUT}
        if not coalesce:
            settings["notify_min_interval"] = 0
        options = Options().evolve(settings)
        notifier = Notifier.from_options(options, "bench")
        assert notifier is not None
    clock = LiveClock()
    loop = EventLoop(clock)
    late: list[float] = []
    spent: list[float] = []

    def callback(slot: pendulum.DateTime) -> None:
        late.append(time.time() - slot.timestamp())
        if notifier is not None:
            started = time.perf_counter()
            notifier.event("user", "t", "b")
            spent.append(time.perf_counter() - started)
        if len(late) >= firings:
            loop.request_stop("done")

    loop.add_job(Job(name="bench", rule=IntervalRule(INTERVAL), callback=callback))
    started = time.monotonic()
    loop.run()
    seconds = time.monotonic() - started
    result: dict[str, Any] = {
        "late": late,
        "spent": spent,
        "seconds": seconds,
        "skipped": loop.jobs[0].skipped,
    }
    if notifier is not None and target is not None:
        closing = time.perf_counter()
        result["closed"] = notifier.close(timeout=TIMEOUT)
        result["close_seconds"] = time.perf_counter() - closing
        stats = notifier.stats
        result["stats"] = stats
        result["requests"] = target.requests
        target.shutdown()
        target.server_close()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--firings", type=int, default=200)
    args = parser.parse_args()

    from rich.console import Console
    from rich.table import Table

    cases = (
        ("关闭通知", None, True),
        ("开启，目标正常", 0.0, True),
        (f"开启，目标挂起 {HANG:g} s", HANG, True),
        (f"开启，挂起 {HANG:g} s，不合并", HANG, False),
    )
    results = []
    for label, delay, coalesce in cases:
        print(f"  {label} ...", flush=True)
        results.append((label, run_case(args.firings, delay, coalesce)))

    console = Console(width=None if sys.stdout.isatty() else 150)
    ms = 1000.0
    table = Table(
        title=f"用户回调的延迟（实时时钟，每 {INTERVAL:g} s 一次，各 {args.firings} 次；notify_timeout={TIMEOUT:g}）"
    )
    for column in (
        "情形",
        "延迟 p50",
        "p99",
        "最大",
        "event() p50",
        "p99",
        "close()",
        "发出请求 / 合并 / 丢弃",
        "跳过",
    ):
        table.add_column(column, justify="left" if column == "情形" else "right")
    for label, r in results:
        late = r["late"]
        spent = r["spent"]
        stats = r.get("stats")
        table.add_row(
            label,
            f"{percentile(late, 0.5) * ms:.2f} ms",
            f"{percentile(late, 0.99) * ms:.2f} ms",
            f"{max(late) * ms:.2f} ms",
            f"{percentile(spent, 0.5) * 1e6:.0f} µs" if spent else "-",
            f"{percentile(spent, 0.99) * 1e6:.0f} µs" if spent else "-",
            f"{r['close_seconds']:.2f} s{'' if r['closed'] else '（未发完）'}"
            if "close_seconds" in r
            else "-",
            f"{r['requests']} / {stats.coalesced} / {stats.dropped}" if stats is not None else "-",
            str(r["skipped"]),
        )
    console.print(table)
    off = results[0][1]["late"]
    hang = results[2][1]["late"]
    console.print(
        f"目标挂起时 p99 延迟比关闭通知时多 {(percentile(hang, 0.99) - percentile(off, 0.99)) * ms:+.2f} ms；"
        f"均值 {statistics.mean(off) * ms:.2f} / {statistics.mean(hang) * ms:.2f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
