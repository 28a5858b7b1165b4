"""End-to-end benchmarks of the OneQuant gate with the simulated broker; prints a table.

    python bench/bench_e2e.py            # everything (idle CPU over 30 s)
    python bench/bench_e2e.py --quick    # fewer runs, idle CPU over 10 s

(a) One simulated trading day of an ``every_minute`` strategy trading through the simulator,
    what ``jqtrade start_task --simulate 2024-06-03 --broker sim`` does: timed in this process
    (``run_task``, interpreter start excluded) and as a real process minus ``jqtrade -V``.
(b) On the live clock, ``jqtrade sim`` as its own process and a live task: the delay from the
    simulator writing an ``orderUpdate`` line (its ``updTime``) to the strategy's
    ``on_order_update``, and the task's CPU while idle. Live jobs fire on trading days only, so
    (b) is skipped when today in Shanghai is not one.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Callable, Optional

import pendulum
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jqtrade.calendar import TradingCalendar  # noqa: E402
from jqtrade.clock import MARKET_TZ, LiveClock  # noqa: E402
from jqtrade.gates.onequant.files import AppendedFileReader, DayFiles  # noqa: E402
from jqtrade.tasks.runner import TaskSpec, run_task  # noqa: E402

SIM_DAY_TARGET = 2.0  # s
DELAY_TARGET = 1.0  # s
IDLE_CPU_TARGET = 0.5  # % of a core

EVERY_MINUTE = '''
from jqtrade import LimitOrderStyle, Strategy


class EveryMinute(Strategy):
    """Each minute a buy at the counterparty price (fills) or a resting buy 3 % below the
    last price; resting orders are canceled three orders later."""

    def process_initialize(self, context):
        self.set_options(use_account=True)
        self.run_daily(self.trade, "every_minute")
        self.minutes = 0
        self.resting = []

    def trade(self, context):
        self.minutes += 1
        held = context.portfolio.long_positions
        if self.minutes % 2:
            self.order("600000.XSHG", 100, LimitOrderStyle(0))
        elif "600000.XSHG" in held:
            price = round(held["600000.XSHG"].last_price * 0.97, 2)
            self.resting.append(self.order("600000.XSHG", 100, LimitOrderStyle(price)))
        if len(self.resting) > 3:
            self.cancel_order(self.resting.pop(0))
'''

LIVE = """
import json, os, time
from jqtrade import LimitOrderStyle, Strategy


class Latency(Strategy):
    def process_initialize(self, context):
        env = os.environ
        self.set_options(account_no=env["B_ACCOUNT"], order_dir=env["B_DIR"], file_encoding="gbk")
        start = context.current_dt.add(seconds=int(env["B_DELAY"]))
        for i in range(int(env["B_COUNT"])):  # one order a second, each from its own job
            self.run_daily(self.place, start.add(seconds=i).strftime("%H:%M:%S"), name=f"place{i}")

    def place(self, context):
        self.order("600000.XSHG", 100, LimitOrderStyle(0))

    def on_order_update(self, context, order):
        self.log.info("B-SEEN %s", json.dumps({"id": order.order_id, "status": order.status.value, "wall": time.time()}))
"""


def cli_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p
    )
    env["PYTHONIOENCODING"] = "utf-8"
    env.update(extra)
    return env


def jqtrade(*args: object) -> list[str]:
    return [sys.executable, "-m", "jqtrade", *map(str, args)]


def row(what: str, value: str, target: str, ok: Optional[bool]) -> tuple[str, str, str, str]:
    return (what, value, target, "-" if ok is None else ("ok" if ok else "MISSED"))


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """The run's summary table goes to the real stdout (fd 1): send it to the null device."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "wb") as null:
        os.dup2(null.fileno(), 1)
        try:
            yield
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)


def wait_for(condition: Callable[[], object], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.05)


# --- (a) one simulated trading day ---------------------------------------------------------


def simulated_day(work: Path, runs: int) -> list[tuple[str, str, str, str]]:
    code = work / "every_minute.py"
    code.write_text(EVERY_MINUTE, encoding="utf-8")
    day = datetime.date(2024, 6, 3)
    times, cpu = [], []
    orders = 0
    for i in range(runs):
        folder = work / f"run{i}"
        spec = TaskSpec(
            name="bench",
            code=code,
            out=folder / "task.log",
            simulate=(day, day),
            runtime_dir=str(folder / "runtime"),
            broker="sim",
            sim_dir=folder / "onequant",
        )
        (folder / "onequant").mkdir(parents=True)
        with quiet_stdout():
            t0, c0 = time.perf_counter(), time.process_time()
            status = run_task(spec)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        if status != 0:
            raise SystemExit(f"the simulated day failed, see {spec.out}")
        orders = len(DayFiles(folder / "onequant", day).algo_order.read_bytes().splitlines()) - 1
    warm = times[1:] or times
    rows = [
        row(
            f"(a) simulated day, every_minute, {orders} orders: in-process run_task, first run (+ lazy imports)",
            f"{times[0]:.2f} s",
            "(information)",
            None,
        ),
        row(
            f"(a) same, median of {len(warm)} further runs (min {min(warm):.2f} s)",
            f"{statistics.median(warm):.2f} s",
            f"<= {SIM_DAY_TARGET:g} s",
            statistics.median(warm) <= SIM_DAY_TARGET,
        ),
        row(
            "(a) same, CPU time of this process (median; wall minus CPU is I/O and waiting)",
            f"{statistics.median(cpu):.2f} s",
            "",
            None,
        ),
    ]

    def timed(args: list[str]) -> float:
        t0 = time.perf_counter()
        done = subprocess.run(
            args, cwd=work, env=cli_env(), capture_output=True, stdin=subprocess.DEVNULL
        )
        elapsed = time.perf_counter() - t0
        if done.returncode != 0:
            raise SystemExit(f"{args} failed: {done.stderr.decode('utf-8', 'replace')[-2000:]}")
        return elapsed

    process = []
    for i in range(max(2, runs // 2)):
        folder = work / f"proc{i}"
        process.append(
            timed(
                jqtrade(
                    "start_task",
                    "-n",
                    "bench",
                    "-c",
                    code,
                    "--simulate",
                    day.isoformat(),
                    "--broker",
                    "sim",
                    "--sim-dir",
                    folder / "onequant",
                    "--runtime-dir",
                    folder / "runtime",
                    "-o",
                    folder / "task.log",
                )
            )
        )
    baseline = statistics.median(timed(jqtrade("-V")) for _ in range(3))
    whole = statistics.median(process)
    rows.append(
        row(
            "(a) same as a process: start_task --simulate --broker sim (median)",
            f"{whole:.2f} s",
            "",
            None,
        )
    )
    rows.append(
        row(
            "(a) ... minus python -m jqtrade -V (interpreter start-up)",
            f"{whole - baseline:.2f} s (-V: {baseline:.2f} s)",
            f"<= {SIM_DAY_TARGET:g} s",
            whole - baseline <= SIM_DAY_TARGET,
        )
    )
    return rows


# --- (b) live delay and idle CPU -----------------------------------------------------------


def upd_epoch(day: datetime.date, upd: str) -> float:
    """``updTime`` (``HHMMSS.ffffff``, market time) of ``day`` as a Unix time."""
    whole, _, frac = upd.partition(".")
    moment = pendulum.datetime(
        day.year,
        day.month,
        day.day,
        int(whole[:2]),
        int(whole[2:4]),
        int(whole[4:6]),
        int(frac.ljust(6, "0")[:6] or 0),
        tz=MARKET_TZ,
    )
    return moment.timestamp()


def live_delay(work: Path, count: int, idle_seconds: float) -> list[tuple[str, str, str, str]]:
    now = LiveClock().now().in_tz(MARKET_TZ)
    if (
        not TradingCalendar.builtin().is_trading_day(now.date())
        or now.add(minutes=2).date() != now.date()
    ):
        return [
            row(
                "(b) live delay and idle CPU",
                f"skipped: {now.date()} is not a trading day in Shanghai",
                "",
                None,
            )
        ]
    folder = work / "live"
    sim_dir = folder / "onequant"
    sim_dir.mkdir(parents=True)
    prices = folder / "prices.csv"
    prices.write_text("code,time,price\n600000.XSHG,00:00:00,10.00\n", encoding="utf-8")
    code = folder / "latency.py"
    code.write_text(LIVE, encoding="utf-8")
    log = folder / "task.log"
    procs = []
    try:
        with open(folder / "sim.out", "wb") as out:
            sim = subprocess.Popen(
                jqtrade(
                    "sim", "--dir", sim_dir, "--account", "123", "--any-time", "--prices", prices
                ),
                cwd=folder,
                env=cli_env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        procs.append(sim)
        task = subprocess.Popen(
            jqtrade(
                "start_task",
                "-n",
                "latency",
                "-c",
                code,
                "--runtime-dir",
                folder / "runtime",
                "-o",
                log,
            ),
            cwd=folder,
            env=cli_env(B_ACCOUNT="123", B_DIR=str(sim_dir), B_COUNT=str(count), B_DELAY="3"),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        procs.append(task)

        def seen() -> dict[str, float]:
            text = log.read_text(encoding="utf-8") if log.exists() else ""
            out = {}
            for line in text.splitlines():
                if "B-SEEN " in line:
                    record = json.loads(line.split("B-SEEN ", 1)[1])
                    if record["status"] == "filled":
                        out[record["id"]] = record["wall"]
            if task.poll() is not None:
                raise SystemExit(f"the live task exited:\n{text[-2000:]}")
            return out

        wait_for(lambda: len(seen()) >= count, f"{count} fills seen by the live task")
        day = now.date()
        written = {
            r["custBatchNo"]: upd_epoch(day, r["updTime"])
            for r in AppendedFileReader(DayFiles(sim_dir, day).order_update, "gbk").read_rows()
            if r["status"] == "2"
        }
        delays = sorted(wall - written[order_id] for order_id, wall in seen().items())
        rows = [
            row(
                f"(b) delay orderUpdate line -> on_order_update, {len(delays)} fills (median)",
                f"{statistics.median(delays) * 1000:.0f} ms (max {delays[-1] * 1000:.0f} ms)",
                f"<= {DELAY_TARGET:g} s",
                statistics.median(delays) <= DELAY_TARGET,
            )
        ]

        time.sleep(2.0)  # let the last fills and snapshot reads settle
        pids = {"task": task.pid, "sim": sim.pid}

        def cpu(pid: int) -> float:
            t = psutil.Process(pid).cpu_times()
            return t.user + t.system

        before = {k: cpu(p) for k, p in pids.items()}
        t0 = time.perf_counter()
        time.sleep(idle_seconds)
        elapsed = time.perf_counter() - t0
        share = {k: 100.0 * (cpu(p) - before[k]) / elapsed for k, p in pids.items()}
        rows.append(
            row(
                f"(b) idle CPU of the live task, {elapsed:.0f} s (order sync 0.5 s, balance 5 s)",
                f"{share['task']:.2f} % of a core",
                f"<= {IDLE_CPU_TARGET:g} %",
                share["task"] <= IDLE_CPU_TARGET,
            )
        )
        rows.append(
            row(
                "(b) idle CPU of jqtrade sim (poll 0.2 s, snapshots 3 s)",
                f"{share['sim']:.2f} % of a core",
                "(information)",
                None,
            )
        )
        return rows
    finally:
        for proc in reversed(procs):
            proc.kill()
            proc.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs; idle CPU over 10 s")
    args = parser.parse_args()
    runs = 3 if args.quick else 6
    idle = 10.0 if args.quick else 30.0
    with tempfile.TemporaryDirectory(prefix="jqtrade-bench-e2e-") as tmp:
        work = Path(tmp)
        rows = simulated_day(work, runs)
        rows += live_delay(work, 20, idle)
    load = f" · load average {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    print(
        f"jqtrade end-to-end benchmark · Python {sys.version.split()[0]} · {sys.platform} · {os.cpu_count()} CPUs{load}"
    )
    header = ("what", "measured", "target", "")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    for r in [header, *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip())
    return 0 if all(r[3] != "MISSED" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
