"""Fault-injection figures for the reliability page (docs/reliability.md); prints tables.

    python bench/bench_faults.py                     # full sizes, several minutes
    python bench/bench_faults.py --quick             # the CI sizes of tests/fault
    python bench/bench_faults.py --points 100 --fuzz-lines 100000 --only kill,fuzz

The machinery is tests/fault/fault_harness.py, the same code the CI part of the suite runs at
small sizes; see its docstring for what each fault does.

1. kill -9 of an order flow (Account + OneQuant gate) at ``--points`` moments, half at hook
   points (rotating over the six sites), half after a random delay; restart the same day;
   count orders lost, sent twice, never sent, imagined (targets 0).
2. ``--appenders`` processes appending ``--appends`` orders each to one algoOrder file.
3. ``--fuzz-lines`` fuzzed orderUpdate/execResult lines between syncs: crashes (target 0),
   good lines applied (target all).
4. ``--callbacks`` raising user callbacks: each logged with its traceback, the loop goes on.
5. ``--stops`` stops of each kind (SIGTERM, control channel, ``jqtrade stop_task``) in the
   middle of a callback that places orders.
6. ``--days`` simulated trading days from 2024-09-20 (National Day, two month ends) with the
   embedded simulated broker: no firing on closed days, files per day, RSS at day 1 and last.
7. truth (tests/fault/truth_faults.py): ``--truth-days`` simulated days with torn cash and
   positions files under an ``order_target`` strategy; as many days with the order file and
   the journal failing writes (disk full); tasks with their own runtime folders sharing one
   order folder; in-place rewrites of a result file; a runaway strategy calling ``order`` in
   a tight loop (100,000 attempts; quick 5,000) under the default risk limits.
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import attrs

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "fault"))

import fault_harness as harness  # noqa: E402

SECTIONS = ("kill", "append", "fuzz", "callbacks", "stop", "days", "truth")
SITES = tuple(harness.HOOK_SITES)


def bench_kill(
    folder: Path, points: int, plan: int
) -> tuple[list[tuple[str, str, str]], list[tuple[str, ...]], dict[str, Any]]:
    results = []
    for index in range(points):
        mode = "hook" if index % 2 == 0 else "delay"
        site = SITES[(index // 2) % len(SITES)] if mode == "hook" else ""
        point = harness.run_kill_point(
            folder / f"kill{index}", seed=1000 + index, mode=mode, site=site, plan_size=plan
        )
        results.append(point)
        mark = (
            ""
            if not (point.lost or point.sent_twice or point.never_sent or point.phantom)
            else "  <-"
        )
        print(
            f"  kill {index + 1}/{points} {mode} {site or '-'}: 丢失 {len(point.lost)} 重复 {point.sent_twice} "
            f"未发出 {len(point.never_sent)} 虚报 {len(point.phantom)} ({point.seconds:.1f} s){mark}",
            flush=True,
        )
    total = harness.summarize_kills(results)
    inside = total["interrupted"]
    rows = [
        (
            "kill -9 后重启：测试点",
            f"{total['points']}（钩子 {total['hook']}，随机延时 {total['delay']}）",
            "-",
        ),
        ("  其中死在 order() 当中（日志有意图无结果）", f"{inside}", "-"),
        ("  到达券商的订单", f"{total['orders']}", "-"),
        ("  丢失（券商有，重启后任务不知道或状态不对）", f"{total['lost']}", "0"),
        ("  重复发送（同一 custBatchNo 两次，或同一意图两笔）", f"{total['sent_twice']}", "0"),
        ("  计划内订单从未到达券商", f"{total['never_sent']}", "0"),
        ("  任务以为在券商、券商没有", f"{total['phantom']}", "0"),
    ]
    per_site = []
    for site in ("", *SITES):
        chosen = [p for p in results if p.site == site]
        if not chosen:
            continue
        summary = harness.summarize_kills(chosen)
        per_site.append(
            (
                site or "随机延时",
                harness.HOOK_SITES.get(site, "启动完成后 0~1 秒内随机"),
                str(summary["points"]),
                str(summary["interrupted"]),
                str(summary["lost"]),
                str(summary["sent_twice"]),
            )
        )
    return rows, per_site, {"summary": total, "points": [_plain(p) for p in results]}


def bench_append(
    folder: Path, processes: int, appends: int
) -> tuple[list[tuple[str, str, str]], dict[str, Any]]:
    result = harness.run_appenders(folder, processes, appends)
    total = processes * appends
    rows = [
        (
            f"{processes} 个进程各追加 {appends} 笔委托：完整且格式正确的行",
            f"{result.well_formed} / {total}",
            f"{total}",
        ),
        ("  表头行", f"{result.headers}", "1"),
        (
            "  缺失 / 重复 / 同一进程内乱序",
            f"{result.missing} / {result.duplicated} / {result.out_of_order}",
            "0 / 0 / 0",
        ),
        ("  相邻两行来自不同进程（确有争用）", f"{result.switches}", "-"),
        ("  用时", f"{result.seconds:.2f} s", "-"),
    ]
    return rows, _plain(result)


def bench_fuzz(folder: Path, lines: int) -> tuple[list[tuple[str, str, str]], dict[str, Any]]:
    result = harness.run_fuzz(folder, lines, seed=1)
    noise = sum(
        result.kinds.get(kind, 0) for kind in (*harness.NOISE_KINDS, *harness.EXEC_NOISE_KINDS)
    )
    foreign = sum(result.kinds.get(kind, 0) for kind in harness.FOREIGN_KINDS)
    rows = [
        (f"{result.lines:,} 行模糊回报：崩溃", f"{result.crashes}", "0"),
        (
            "  好行（本任务订单的完整、格式正确的行）被体现",
            f"{result.reflected:,} / {result.good:,}",
            "全部",
        ),
        ("  没有好行支持的回报（坏行被当真）", f"{len(result.wrong)}", "0"),
        ("  账户最终状态或通知与好行不符的订单", f"{len(result.account_wrong)}", "0"),
        (
            "  坏行 / 其他程序的行 / 跨两次写入的半行",
            f"{noise:,} / {foreign:,} / {result.torn}",
            "-",
        ),
        ("  同步次数，用时", f"{result.syncs}，{result.seconds:.1f} s", "-"),
    ]
    return rows, {
        **_plain(result),
        "wrong_examples": result.wrong[:10],
        "account_examples": result.account_wrong[:10],
    }


def bench_callbacks(folder: Path, count: int) -> tuple[list[tuple[str, str, str]], dict[str, Any]]:
    result = harness.run_raising_callbacks(folder, count)
    rows = [
        (
            f"{count} 次抛异常的用户回调：记录了完整堆栈",
            f"{result.with_traceback} / {count}",
            f"{count}",
        ),
        (
            "  任务继续运行：回调总次数 / 应有次数",
            f"{result.calls} / {result.expected_calls}",
            "相等",
        ),
        ("  退出码，用时", f"{result.exit_code}，{result.seconds:.1f} s", "0"),
    ]
    return rows, _plain(result)


def bench_stop(folder: Path, runs: int) -> tuple[list[tuple[str, str, str]], dict[str, Any]]:
    rows = []
    raw: dict[str, Any] = {}
    hows = ["control", "stop_task"] if os.name == "nt" else ["sigterm", "control", "stop_task"]
    labels = {
        "sigterm": "SIGTERM",
        "control": "控制通道 request_stop",
        "stop_task": "jqtrade stop_task",
    }
    for how in hows:
        results = [harness.run_stop(folder / f"{how}{n}", how, seed=n) for n in range(runs)]
        raw[how] = [_plain(r) for r in results]
        clean = sum(
            1
            for r in results
            if r.exit_code == 0
            and r.callback_finished
            and r.hook_ran
            and not r.later_job_ran
            and r.record_released
            and (how == "sigterm" or r.final_state == "stopped")
            and r.orders_journaled == r.orders_at_broker == r.orders_placed
            and r.orders_interrupted == 0
        )
        mid = sum(1 for r in results if r.requested_mid_callback)
        rows.append(
            (
                f"回调执行中{labels[how]}：干净退出",
                f"{clean} / {runs}（{mid} 次确在回调中途）",
                f"{runs}",
            )
        )
    return rows, raw


def bench_days(folder: Path, days: int) -> tuple[list[tuple[str, str, str]], dict[str, Any]]:
    start = (
        datetime.date(2024, 9, 20) if days > 5 else datetime.date(2024, 9, 26)
    )  # both cross National Day
    end = harness.trading_days_from(start, days)[-1]
    result = harness.run_many_days(folder, start, end)
    orders_ok = (
        result.order_file_days
        == result.update_file_days
        == result.journal_days
        == result.trading_days
    )
    rows = [
        (
            f"{start}..{end} 模拟运行：交易日",
            f"{len(result.trading_days)}（自然日 {(end - start).days + 1}）",
            f"{days}",
        ),
        ("  休市日触发的 every_minute", f"{result.closed_day_firings}", "0"),
        (
            "  每个交易日的 every_minute 次数",
            "、".join(map(str, sorted(result.minutes_per_day))),
            f"{harness.EVERY_MINUTE_PER_DAY}",
        ),
        (
            "  月末任务触发日",
            "、".join(d.isoformat() for d in result.month_ends),
            "每月最后一个交易日",
        ),
        ("  委托/回报/订单日志文件按交易日一天一套", "是" if orders_ok else "否", "是"),
        ("  订单 / 当日收盘时已结束", f"{result.orders} / {result.final_orders}", "相等"),
        (
            "  内存 RSS：第 1 天 / 最后一天收盘",
            f"{result.rss_mb[0]:.1f} / {result.rss_mb[-1]:.1f} MB（增长 {result.rss_growth_mb:+.1f}）",
            "平稳",
        ),
        ("  退出码，用时", f"{result.exit_code}，{result.seconds:.1f} s", "0"),
    ]
    return rows, _plain(result)


def _plain(value: Any) -> Any:
    import attrs

    data = attrs.asdict(value)
    return json.loads(json.dumps(data, default=str))


def bench_truth(
    days: int, tasks: int, orders: int, rewrites: int, attempts: int
) -> tuple[list[tuple[str, str, str]], dict[str, Any]]:
    import truth_faults

    torn = [truth_faults.run_torn_snapshots(seed, tear_rate=0.5) for seed in range(1, days + 1)]
    disk = [truth_faults.run_disk_full(seed) for seed in range(1, days + 1)]
    sent, twice = truth_faults.run_shared_folder(tasks, orders)
    rewritten, missed = truth_faults.run_rewrites(rewrites, seed=7)
    runaway_started = time.monotonic()
    tried, at_broker, refused = truth_faults.run_runaway(attempts)
    runaway_seconds = time.monotonic() - runaway_started
    reasons = dict(truth_faults.last_runaway_refusals)
    raw = {
        "torn": [attrs.asdict(r) for r in torn],
        "disk": [attrs.asdict(r) for r in disk],
        "shared": {"sent": sent, "twice": twice},
        "rewrites": {"count": rewritten, "missed": missed},
        "runaway": {
            "attempts": tried,
            "reached": at_broker,
            "refused": refused,
            "reasons": reasons,
            "seconds": runaway_seconds,
        },
    }
    from jqtrade.options import RISK_DEFAULTS

    limit = min(
        RISK_DEFAULTS["risk_max_orders_per_second"], RISK_DEFAULTS["risk_max_active_orders"]
    )
    other = tried - at_broker - sum(n for r, n in reasons.items() if r.startswith("risk_"))
    reads = sum(r.torn_reads for r in torn)
    fresh = sum(r.reported_fresh_while_torn for r in torn)
    over = max(r.overshoot for r in torn)
    reached = sum(r.final_held == r.final_target for r in torn)
    writes = sum(r.write_failures for r in disk)
    journal = sum(r.journal_failures for r in disk)
    bad = [
        sum(getattr(r, k) for r in disk) for k in ("lost", "sent_twice", "unsettled", "mismatched")
    ]
    rows = [
        (
            "资金持仓文件被写坏：模拟交易日",
            f"{days} 天，{sum(r.syncs for r in torn)} 次同步，读到坏文件 {reads} 次",
            "-",
        ),
        ("  坏文件被当作新快照", str(fresh), "0"),
        ("  order_target 超出目标的股数（最大）", str(max(over, 0)), "0"),
        ("  收盘时持仓等于最后的目标", f"{reached} / {days}", f"{days}"),
        (
            "磁盘满：委托文件/订单日志写入失败",
            f"{days} 天，{sum(r.orders for r in disk)} 笔订单，委托文件失败 {writes} 次，日志失败 {journal} 次",
            "-",
        ),
        ("  丢失 / 重复 / 未结束 / 与券商不符", " / ".join(map(str, bad)), "0 / 0 / 0 / 0"),
        (
            "不同运行时目录的任务共用文件单目录",
            f"{tasks} 个任务，{sent} 笔订单，订单号重复 {twice}",
            "0",
        ),
        ("结果文件被原地改写（大小不变）", f"{rewritten} 次，未发现 {missed}", "0"),
        (
            "失控策略：一个回调里连续 order()（默认风控）",
            f"{tried:,} 次，用时 {runaway_seconds:.1f} s",
            "-",
        ),
        ("  到达券商的订单（algoOrder 行数）", f"{at_broker}", f"<= {limit}"),
        (
            "  被风控拒绝 / 其他结果",
            f"{refused:,}（{'、'.join(f'{r} {n:,}' for r, n in sorted(reasons.items()))}） / {other}",
            "其余全部 / 0",
        ),
    ]
    return rows, raw


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="the CI sizes")
    parser.add_argument("--points", type=int, help="kill -9 points (default 100; quick 6)")
    parser.add_argument("--plan", type=int, default=40, help="orders in each kill point's plan")
    parser.add_argument("--appenders", type=int, default=8)
    parser.add_argument(
        "--appends", type=int, help="orders per appending process (default 1000; quick 200)"
    )
    parser.add_argument("--fuzz-lines", type=int, help="default 100000; quick 5000")
    parser.add_argument("--callbacks", type=int, help="default 1000; quick 100")
    parser.add_argument("--stops", type=int, help="stops of each kind (default 10; quick 1)")
    parser.add_argument("--days", type=int, help="trading days (default 30; quick 5)")
    parser.add_argument(
        "--truth-days", type=int, help="days of each truth fault (default 10; quick 2)"
    )
    parser.add_argument(
        "--only", default=",".join(SECTIONS), help=f"comma-separated sections: {','.join(SECTIONS)}"
    )
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    args = parser.parse_args()

    def size(value: Any, full: int, quick: int) -> int:
        return value if value is not None else (quick if args.quick else full)

    only = {name.strip() for name in args.only.split(",") if name.strip()}
    unknown = only - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}; choose from {SECTIONS}")
    logging.getLogger().addHandler(
        logging.NullHandler()
    )  # skipped bad lines log warnings by the thousand

    from rich.console import Console
    from rich.table import Table

    rows: list[tuple[str, str, str]] = []
    raw: dict[str, Any] = {}
    per_site: list[tuple[str, ...]] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="jqtrade-faults-") as tmp:
        folder = Path(tmp)
        if "kill" in only:
            kill_rows, per_site, raw["kill"] = bench_kill(
                folder / "kill", size(args.points, 100, 6), args.plan
            )
            rows += kill_rows
        if "append" in only:
            append_rows, raw["append"] = bench_append(
                folder / "append", args.appenders, size(args.appends, 1000, 200)
            )
            rows += append_rows
        if "fuzz" in only:
            fuzz_rows, raw["fuzz"] = bench_fuzz(
                folder / "fuzz", size(args.fuzz_lines, 100_000, 5000)
            )
            rows += fuzz_rows
        if "callbacks" in only:
            callback_rows, raw["callbacks"] = bench_callbacks(
                folder / "callbacks", size(args.callbacks, 1000, 100)
            )
            rows += callback_rows
        if "stop" in only:
            stop_rows, raw["stop"] = bench_stop(folder / "stop", size(args.stops, 10, 1))
            rows += stop_rows
        if "days" in only:
            day_rows, raw["days"] = bench_days(folder / "days", size(args.days, 30, 5))
            rows += day_rows
        if "truth" in only:
            quick = args.quick
            truth_rows, raw["truth"] = bench_truth(
                size(args.truth_days, 10, 2),
                3 if quick else 4,
                40 if quick else 250,
                50 if quick else 1000,
                5000 if quick else 100_000,
            )
            rows += truth_rows

    console = Console(width=None if sys.stdout.isatty() else 150)
    table = Table(
        title=f"故障注入（{'CI 规模' if args.quick else '完整规模'}，共 {time.monotonic() - started:.0f} 秒）"
    )
    table.add_column("项目")
    table.add_column("结果", justify="right")
    table.add_column("目标")
    for row in rows:
        table.add_row(*row)
    console.print(table)
    if "stop" in raw:
        console.print(
            "干净退出 = 退出码 0、回调做完、停止回调运行、之后的定时任务不再运行、任务登记已释放、"
            "最终状态 stopped（控制通道）、回调下的订单全部记为已发送且在券商恰好一笔"
        )
    if per_site:
        sites = Table(title="kill -9：按死亡位置")
        for column in ("位置", "说明", "点数", "死在 order() 中", "丢失", "重复"):
            sites.add_column(
                column,
                justify="right"
                if column in ("点数", "死在 order() 中", "丢失", "重复")
                else "left",
            )
        for row in per_site:
            sites.add_row(*row)
        console.print(sites)
    if args.json:
        args.json.write_text(json.dumps(raw, ensure_ascii=False, indent=1), encoding="utf-8")
    if "kill" in raw:
        seconds = [p["seconds"] for p in raw["kill"]["points"]]
        console.print(f"kill 每点用时中位数 {statistics.median(seconds):.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
