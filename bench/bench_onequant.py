"""Benchmarks of the OneQuant DMA file layer and gate; prints a table with the targets.

    python bench/bench_onequant.py            # everything
    python bench/bench_onequant.py --quick    # fewer repetitions

Targets are those of the OneQuant issue, measured on the development machine. First reads
start from cold module caches (as in a fresh process). "uniform" values are the original
case (the same price and amount on every line); "varied" values differ per order as on a
real day and cost more to parse and keep. The RSS and snapshot cases each run in a fresh
interpreter; the RSS child writes its test file in small pieces so that the test data does
not fill the heap it measures.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pendulum

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jqtrade.clock import MARKET_TZ, SimClock  # noqa: E402
from jqtrade.gates import configure_gate  # noqa: E402
from jqtrade.gates.base import GateEnv  # noqa: E402
from jqtrade.gates.onequant import OneQuantTradeGate  # noqa: E402
from jqtrade.gates.onequant import parsing as onequant_parsing  # noqa: E402
from jqtrade.gates.onequant import protocol as onequant_protocol  # noqa: E402
from jqtrade.gates.onequant.files import DayFiles, LockedAppender, encode_rows
from jqtrade.gates.onequant.protocol import (
    ALGO_ORDER_HEADER,
    ASSET_INFO_HEADER,
    ORDER_UPDATE_HEADER,
    POSITION_INFO_HEADER,
)
from jqtrade.model.orders import LimitOrderStyle, OrderAction, OrderRequest  # noqa: E402

DAY = pendulum.datetime(2024, 6, 3, 10, 0, tz=MARKET_TZ)
ACCOUNT = "1234567"


def order_update_rows(count: int, lines_per_order: int = 3, start: int = 0) -> list[list[str]]:
    """Realistic lines: each order goes 7 -> 0 -> 2 (or 7 -> 8 -> 4), Chinese text on some."""
    statuses = ["7", "0", "2"] if lines_per_order == 3 else ["2"]
    rows = []
    for i in range(start, start + count):
        n = i // lines_per_order
        status = statuses[i % lines_per_order]
        if n % 10 == 9 and status == "2":
            status = "4"
        filled = "100" if status == "2" else "0"
        rows.append(
            [
                f"{93000 + (i // 50) % 5000:06d}.{i % 1000000:06d}",
                "20240603",
                f"{93000 + (n // 10) % 5000:06d}",
                "UM0",
                ACCOUNT,
                f"{600000 + n % 800:06d}.SH",
                "1" if n % 2 else "2",
                status,
                "100",
                "10.23",
                "0",
                filled,
                "10.2300" if filled != "0" else "0",
                "1023.00" if filled != "0" else "0.00",
                "100" if status == "4" else "0",
                str(1_000_000 + n),
                str(1_000_000 + n),
                f"20240603{n:09d}",
                "已报，等待成交" if status == "0" else ("撤单成功" if status == "4" else ""),
                "",
            ]
        )
    return rows


def varied_update_rows(count: int, lines_per_order: int = 1, start: int = 0) -> list[list[str]]:
    """Like :func:`order_update_rows` but with the variety of a real day: limit prices that
    differ by symbol and drift through the day, quantities from 100 to 5,000, average prices
    and amounts that differ per order, entrust times spread over four hours (all valid).
    Numbers that rarely repeat cost more to parse and to keep than the uniform ones above."""
    statuses = ["7", "0", "2"] if lines_per_order == 3 else ["2"]
    rows = []
    for i in range(start, start + count):
        n = i // lines_per_order
        status = statuses[i % lines_per_order]
        if n % 10 == 9 and status == "2":
            status = "4"
        symbol = n % 800
        ticks = 300 + symbol * 7919 % 7700 + (n // 800) % 60 - 30  # price in fen
        quantity = 100 * (1 + n * 31 % 50)
        filled = quantity if status == "2" else 0
        average = ticks * 100 - n % 7  # in 1/10000 yuan
        seconds = 34200 + n * 14400 // 100_000 + i % lines_per_order
        clock = f"{seconds // 3600:02d}{seconds // 60 % 60:02d}{seconds % 60:02d}"
        rows.append(
            [
                f"{clock}.{i % 1000000:06d}",
                "20240603",
                clock,
                "UM0",
                ACCOUNT,
                f"{600000 + symbol:06d}.SH",
                "1" if n % 2 else "2",
                status,
                str(quantity),
                f"{ticks / 100:.2f}",
                "0",
                str(filled),
                f"{average / 10000:.4f}" if filled else "0",
                f"{average * filled / 10000:.2f}" if filled else "0.00",
                str(quantity) if status == "4" else "0",
                str(1_000_000 + n),
                str(1_000_000 + n),
                f"20240603{n:09d}",
                "已报，等待成交" if status == "0" else ("撤单成功" if status == "4" else ""),
                "",
            ]
        )
    return rows


GENERATORS = {"uniform": order_update_rows, "varied": varied_update_rows}


def cold_caches() -> None:
    """Forget the parsed symbols and entrust times a previous read left in the module, so each
    timed first read does all the work a freshly started process does."""
    onequant_protocol._symbol_cache.clear()
    onequant_parsing._time_cache.clear()


def write_file(
    path: Path, header: list[str], rows: list[list[str]], encoding: str, *, end_marker: bool = False
) -> None:
    lines = [header, *rows]
    if end_marker:
        lines.append([""] * len(header))
    path.write_bytes(encode_rows(lines, encoding))


def make_gate(directory: Path, encoding: str) -> tuple[OneQuantTradeGate, SimClock]:
    clock = SimClock(DAY)
    options = {"account_no": ACCOUNT, "order_dir": str(directory), "file_encoding": encoding}
    gate = configure_gate(OneQuantTradeGate(), options, GateEnv(clock=clock, runtime_dir=directory))
    return gate, clock


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def bench_append(repeat: int) -> dict[str, float]:
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for fsync in (False, True):
            appender = LockedAppender(
                Path(tmp) / f"algoOrder_{fsync}.csv", ALGO_ORDER_HEADER, "gbk", fsync=fsync
            )
            row = [
                "100000.000000",
                "x",
                "UM0",
                ACCOUNT,
                "600000.SH",
                "1",
                "100",
                "DMA",
                "AT",
                "0",
                "10.5",
                "10.5",
            ]
            times = []
            for i in range(repeat if not fsync else max(repeat // 10, 50)):
                row[1] = str(i)
                start = time.perf_counter()
                appender.append([row])
                times.append(time.perf_counter() - start)
            out[f"append_fsync_{fsync}_p50"] = pct(times, 0.5)
            out[f"append_fsync_{fsync}_p99"] = pct(times, 0.99)
        gate, clock = make_gate(Path(tmp), "gbk")
        times = []
        for i in range(repeat):
            request = OrderRequest(
                order_id=f"20240603{i:09d}",
                code="600000.XSHG",
                action=OrderAction.open,
                amount=100,
                style=LimitOrderStyle(10.5),
            )
            start = time.perf_counter()
            gate.order(request)
            times.append(time.perf_counter() - start)
        out["gate_order_p50"] = pct(times, 0.5)
        out["gate_order_p99"] = pct(times, 0.99)
    return out


def bench_incremental(repeat: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        files = DayFiles(directory, DAY.date())
        write_file(files.order_update, ORDER_UPDATE_HEADER, order_update_rows(100_000), "gbk")
        gate, clock = make_gate(directory, "gbk")
        gate.sync_orders()
        times, idle = [], []
        start_index = 100_000
        for _ in range(repeat):
            with open(files.order_update, "ab") as handle:
                handle.write(encode_rows(order_update_rows(10, start=start_index), "gbk"))
            start_index += 10
            start = time.perf_counter()
            reports = gate.sync_orders()
            times.append(time.perf_counter() - start)
            assert reports, "10 new lines must give reports"
            start = time.perf_counter()
            gate.sync_orders()
            idle.append(time.perf_counter() - start)
        return {
            "sync10_median": statistics.median(times),
            "sync10_max": max(times),
            "sync_idle_median": statistics.median(idle),
        }


def bench_first_read(
    encoding: str, lines_per_order: int, repeat: int, values: str = "uniform"
) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        files = DayFiles(directory, DAY.date())
        rows = GENERATORS[values](100_000, lines_per_order)
        write_file(files.order_update, ORDER_UPDATE_HEADER, rows, encoding)
        del rows
        times = []
        count = 0
        for _ in range(repeat):
            gate, _ = make_gate(directory, encoding)
            cold_caches()
            gc.collect()
            start = time.perf_counter()
            reports = gate.sync_orders()
            times.append(time.perf_counter() - start)
            count = len(reports)
            del reports, gate
        return {
            "first_read_median": statistics.median(times),
            "first_read_min": min(times),
            "reports": count,
        }


def position_rows(count: int) -> list[list[str]]:
    """Positions with quantities and prices that differ from line to line, as in a real account."""
    rows = []
    for i in range(count):
        quantity = 100 * (1 + i * 37 % 90)
        last = 300 + i * 7919 % 4700  # fen
        rows.append(
            [
                "100000.000000",
                "UM0",
                ACCOUNT,
                "SH",
                f"{600000 + i:06d}.SH",
                "浦发银行",
                str(quantity),
                str(quantity - 100 * (i % 2)),
                "0",
                f"{(last + i % 97 - 48) / 100:.3f}",
                f"{last / 100:.2f}",
                f"{last * quantity / 100:.2f}",
            ]
        )
    return rows


def bench_snapshot(repeat: int) -> dict[str, float]:
    """Run in a fresh interpreter (``--snapshot-child``), so that the figure does not depend on
    the heap the first-read cases leave behind (measured: 2 to 3 ms slower after them)."""
    output = subprocess.run(
        [sys.executable, __file__, "--snapshot-child", str(repeat)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def snapshot_child(repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        files = DayFiles(directory, DAY.date())
        asset = [
            [
                "100000.000000",
                "UM0",
                ACCOUNT,
                "",
                "CNY",
                "1000000.00",
                "900000.00",
                "800000.00",
                "100000.00",
                "100000.00",
            ]
        ]
        write_file(files.asset_info, ASSET_INFO_HEADER, asset, "gbk", end_marker=True)
        positions = position_rows(5000)
        write_file(files.position_info, POSITION_INFO_HEADER, positions, "gbk", end_marker=True)
        gate, _ = make_gate(directory, "gbk")
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            balance = gate.sync_balance()
            times.append(time.perf_counter() - start)
        assert len(balance.positions) == 5000
        print(
            json.dumps(
                {"snapshot5000_median": statistics.median(times), "snapshot5000_min": min(times)}
            )
        )


def bench_live(orders: int) -> dict[str, float]:
    """The simulator in its own process (``python -m jqtrade sim``, polling every 0.2 s) and the
    gate polling every 0.5 s on the live clock: delay from order() to seeing it filled, and
    the simulator's CPU while idle."""
    import psutil

    from jqtrade.clock import LiveClock

    with tempfile.TemporaryDirectory() as tmp:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jqtrade",
                "sim",
                "--dir",
                tmp,
                "--account",
                ACCOUNT,
                "--any-time",
                "--poll-interval",
                "0.2",
                "--volatility",
                "0",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=Path(__file__).resolve().parents[1],
        )
        try:
            clock = LiveClock()
            gate = OneQuantTradeGate()
            deadline = time.monotonic() + 20
            while not (Path(tmp) / f"assetInfo_{clock.now().format('YYYYMMDD')}.csv").exists():
                if time.monotonic() > deadline:
                    raise RuntimeError("simulator did not start")
                time.sleep(0.05)
            configure_gate(
                gate,
                {"account_no": ACCOUNT, "order_dir": tmp},
                GateEnv(clock=clock, runtime_dir=Path(tmp)),
            )
            delays = []
            for n in range(orders):
                order_id = f"live{n}"
                gate.order(
                    OrderRequest(
                        order_id=order_id,
                        code="600000.XSHG",
                        action=OrderAction.open,
                        amount=100,
                        style=LimitOrderStyle(0),
                    )
                )
                start = time.monotonic()
                seen = False
                while not seen:
                    time.sleep(0.5)  # the account's default order_sync_interval
                    seen = any(
                        r.order_id == order_id and r.status == "filled" for r in gate.sync_orders()
                    )
                delays.append(time.monotonic() - start)
            sim = psutil.Process(process.pid)
            before = sim.cpu_times()
            time.sleep(10)
            after = sim.cpu_times()
            idle_cpu = max(0.0, after.user + after.system - before.user - before.system) / 10
        finally:
            process.terminate()
            process.wait(10)
    return {
        "delay_median": statistics.median(delays),
        "delay_max": max(delays),
        "idle_cpu": idle_cpu,
    }


def rss_child(encoding: str, lines_per_order: int, values: str = "uniform") -> None:
    """Run in a fresh interpreter: read 100,000 lines through the gate, keep the reports, print RSS."""
    import psutil

    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        files = DayFiles(directory, DAY.date())
        # Written 1,000 rows at a time: the test data itself must not be what fills the heap.
        with open(files.order_update, "wb") as handle:
            handle.write(encode_rows([ORDER_UPDATE_HEADER], encoding))
            for start in range(0, 100_000, 1000):
                handle.write(
                    encode_rows(GENERATORS[values](1000, lines_per_order, start), encoding)
                )
        gc.collect()
        before = psutil.Process().memory_info().rss
        gate, _ = make_gate(directory, encoding)
        reports = gate.sync_orders()
        after = psutil.Process().memory_info().rss
        print(json.dumps({"rss_before": before, "rss_after": after, "reports": len(reports)}))


def bench_rss(encoding: str, lines_per_order: int, values: str = "uniform") -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, __file__, "--rss-child", encoding, str(lines_per_order), values],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rss-child", nargs=3)
    parser.add_argument("--snapshot-child", type=int)
    args = parser.parse_args()
    if args.snapshot_child:
        logging.getLogger("jqtrade").setLevel(logging.ERROR)
        snapshot_child(args.snapshot_child)
        return 0
    if args.rss_child:
        rss_child(args.rss_child[0], int(args.rss_child[1]), args.rss_child[2])
        return 0
    repeat = 5 if args.quick else 9
    logging.getLogger("jqtrade").setLevel(logging.ERROR)  # fresh gates say "execResult missing"

    from rich.console import Console
    from rich.table import Table

    ms = 1000.0
    rows: list[tuple[str, str, str]] = []
    append = bench_append(500 if args.quick else 3000)
    rows.append(
        (
            "locked append (no fsync) p50 / p99",
            f"{append['append_fsync_False_p50'] * ms:.3f} / {append['append_fsync_False_p99'] * ms:.3f} ms",
            "p99 ≤ 0.2 ms",
        )
    )
    rows.append(
        (
            "locked append + fsync p50 / p99",
            f"{append['append_fsync_True_p50'] * ms:.3f} / {append['append_fsync_True_p99'] * ms:.3f} ms",
            "(not default)",
        )
    )
    rows.append(
        (
            "gate.order() p50 / p99",
            f"{append['gate_order_p50'] * ms:.3f} / {append['gate_order_p99'] * ms:.3f} ms",
            "-",
        )
    )
    inc = bench_incremental(20 if args.quick else 50)
    rows.append(
        (
            "sync 10 new lines after 100,000 (median)",
            f"{inc['sync10_median'] * ms:.3f} ms (max {inc['sync10_max'] * ms:.3f})",
            "≤ 1 ms",
        )
    )
    rows.append(
        ("sync with nothing new (stat only)", f"{inc['sync_idle_median'] * ms:.4f} ms", "-")
    )
    for encoding, target in (("utf-8", "≤ 300 ms"), ("gbk", "≤ 450 ms")):
        for per_order, values in ((3, "uniform"), (1, "uniform"), (1, "varied")):
            first = bench_first_read(encoding, per_order, repeat, values)
            label = f"first read 100,000 lines {encoding} ({per_order} line/order, {values} values, {first['reports']} reports)"
            rows.append(
                (
                    label,
                    f"{first['first_read_min'] * ms:.0f} ms (median {first['first_read_median'] * ms:.0f})",
                    target,
                )
            )
    snap = bench_snapshot(repeat * 3)
    rows.append(
        (
            "positionInfo 5,000 lines (sync_balance)",
            f"{snap['snapshot5000_min'] * ms:.1f} ms (median {snap['snapshot5000_median'] * ms:.1f})",
            "≤ 10 ms",
        )
    )
    for per_order, values in ((3, "uniform"), (1, "uniform"), (1, "varied")):
        rss = bench_rss("gbk", per_order, values)
        rows.append(
            (
                f"RSS after reading 100,000 lines gbk ({per_order} line/order, {values} values, reports kept)",
                f"{rss['rss_after'] / 2**20:.1f} MB (before {rss['rss_before'] / 2**20:.1f} MB)",
                "≤ 80 MB",
            )
        )

    live = bench_live(5 if args.quick else 10)
    rows.append(
        (
            "order -> filled seen, live clock (sim 0.2 s, gate 0.5 s polls)",
            f"median {live['delay_median']:.2f} s (max {live['delay_max']:.2f})",
            "≤ 1 s",
        )
    )
    rows.append(
        ("simulator process idle CPU", f"{live['idle_cpu'] * 100:.2f} % of a core", "≤ 0.5 %")
    )

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    table = Table(
        title=f"OneQuant DMA file layer (best of N, median in brackets; load average {load:.1f} at the end)"
    )
    table.add_column("measure")
    table.add_column("result", justify="right")
    table.add_column("target")
    for row in rows:
        table.add_row(*row)
    Console().print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
