"""``jqtrade data fetch | import | show``: fill, import and inspect the local bar cache.

Wired into the top-level parser by ``add_data_parser(subparsers)``; ``run_data(args)`` runs a
parsed command and returns the exit status (0 done, 1 nothing to show or some codes failed,
2 bad input: the message is printed in Chinese, with the traceback only under ``--debug``).
"""

from __future__ import annotations

import argparse
import datetime
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Callable, Optional

from jqtrade.data.cache import BarCache
from jqtrade.data.csv_import import read_csv
from jqtrade.data.errors import DataConfigError
from jqtrade.data.models import BarUnit, market_time, to_code
from jqtrade.data.source import AbsDataSource
from jqtrade.data.sources import SOURCES, make_source
from jqtrade.errors import JqTradeError

__all__ = ["add_data_parser", "run_data"]

EXIT_USER_ERROR = 2
SourceFactory = Callable[[], AbsDataSource]


def add_data_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``data`` and its subcommands to the ``jqtrade`` subparsers; returns its parser."""
    data = subparsers.add_parser(
        "data",
        help="本地 K 线缓存：下载、导入、查看行情数据",
        description="本地 K 线缓存（<运行时目录>/data/bars.sqlite）：从行情源下载、从 CSV 导入、查看。",
    )
    actions = data.add_subparsers(
        dest="data_command", title="子命令", metavar="<子命令>", parser_class=type(data)
    )

    fetch = actions.add_parser(
        "fetch",
        help="从行情源下载 K 线到本地缓存（只下载缺少的交易日）",
        description="从行情源下载 K 线到本地缓存；已下载过的交易日不再重复下载。",
    )
    fetch.add_argument("--source", required=True, choices=sorted(SOURCES), help="行情源")
    fetch.add_argument(
        "--codes",
        required=True,
        nargs="+",
        metavar="代码",
        help="证券代码，空格或逗号分隔，如 600000.XSHG,000001.XSHE",
    )
    fetch.add_argument("--start", required=True, metavar="YYYY-MM-DD", help="第一个交易日")
    fetch.add_argument("--end", metavar="YYYY-MM-DD", help="最后一个交易日（默认今天）")
    fetch.add_argument(
        "--unit", choices=["1m", "1d"], default="1d", help="K 线周期（默认 1d；5m 由 1m 合成）"
    )

    imp = actions.add_parser(
        "import",
        help="把 CSV 文件中的 K 线导入本地缓存",
        description="导入 CSV 文件（UTF-8 或 GBK）：表头 code,datetime,open,high,low,close,volume[,amount]，"
        "或中文表头 日期,开盘,最高,最低,收盘,成交量[,成交额]（akshare、通达信导出），详见 docs/data.md。",
    )
    imp.add_argument("file", type=Path, metavar="FILE.csv", help="CSV 文件")
    imp.add_argument("--unit", required=True, choices=["1m", "1d"], help="文件中 K 线的周期")
    imp.add_argument("--code", metavar="代码", help="文件中没有代码列时，指定证券代码")
    imp.add_argument(
        "--lots",
        action="store_true",
        help="文件的成交量单位是手（×100 股），如 akshare、东方财富导出的文件",
    )

    show = actions.add_parser(
        "show",
        help="查看本地缓存中某个证券的 K 线",
        description="以表格显示本地缓存中最近的 K 线。",
    )
    show.add_argument("code", metavar="代码", help="证券代码，如 600000.XSHG")
    show.add_argument(
        "--unit", choices=["1m", "5m", "1d"], default="1d", help="K 线周期（默认 1d）"
    )
    show.add_argument("--count", type=int, default=20, metavar="N", help="显示最近几根（默认 20）")
    show.add_argument(
        "--end", metavar="时间", help="截止时间 YYYY-MM-DD 或 'YYYY-MM-DD HH:MM'（默认最新）"
    )

    for parser in (fetch, imp, show):
        parser.add_argument("--runtime-dir", metavar="目录", help="运行时目录（默认 ~/jqtrade）")
        parser.add_argument(
            "--debug", action="store_true", dest="data_debug", help="出错时显示完整堆栈"
        )
    data.set_defaults(handler=run_data)
    return data  # type: ignore[no-any-return]


def run_data(
    args: argparse.Namespace,
    *,
    sources: Optional[Mapping[str, SourceFactory]] = None,
    now: Optional[datetime.datetime] = None,
) -> int:
    """Run ``jqtrade data ...``; ``sources`` and ``now`` let tests stand in for the world."""
    command = getattr(args, "data_command", None)
    if command is None:
        print(
            "用法：jqtrade data {fetch,import,show} ...（jqtrade data -h 查看帮助）",
            file=sys.stderr,
        )
        return EXIT_USER_ERROR
    try:
        with BarCache.in_runtime_dir(_runtime_dir(args)) as cache:
            if command == "fetch":
                return _fetch(args, cache, sources, now)
            if command == "import":
                return _import(args, cache)
            return _show(args, cache)
    except JqTradeError as exc:
        if getattr(args, "data_debug", False) or getattr(args, "debug", False):
            raise
        print(f"错误：{exc}", file=sys.stderr)
        return EXIT_USER_ERROR


def _runtime_dir(args: argparse.Namespace) -> Path:
    return Path(getattr(args, "runtime_dir", None) or "~/jqtrade").expanduser()


def _codes(values: Sequence[str]) -> list[str]:
    codes = [
        to_code(part)
        for value in values
        for part in value.replace("，", ",").split(",")
        if part.strip()
    ]
    return list(dict.fromkeys(codes))


def _date(text: Optional[str], what: str) -> Optional[datetime.date]:
    if text is None:
        return None
    try:
        return datetime.date.fromisoformat(text.strip())
    except ValueError:
        raise DataConfigError(f"{what} 的值 {text!r} 不合法：应为 YYYY-MM-DD 格式的日期") from None


def _fetch(
    args: argparse.Namespace,
    cache: BarCache,
    sources: Optional[Mapping[str, SourceFactory]],
    now: Optional[datetime.datetime],
) -> int:
    import pendulum
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from jqtrade.clock import LiveClock

    moment = market_time(now) if now is not None else LiveClock().now()
    codes = _codes(args.codes)
    first = _date(args.start, "--start")
    last = _date(args.end, "--end") or moment.date()
    assert first is not None
    unit = BarUnit.parse(args.unit)
    factory = (sources or {}).get(args.source)
    source = factory() if factory is not None else make_source(args.source)
    console = Console(stderr=True)
    failed = 0
    with (
        source,
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("交易日"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        ) as progress,
    ):
        for code in codes:
            task = progress.add_task(f"{code} {unit}", total=None)

            def step(done: int, total: int, task: Any = task) -> None:
                progress.update(task, completed=done, total=max(total, 1))

            report = cache.fill(
                source, code, unit, first, last, now=pendulum.instance(moment), progress=step
            )
            if report.error:
                failed += 1
                progress.console.print(
                    f"[red]{code}：下载中断，已保存之前的数据。{report.error}[/red]"
                )
            else:
                progress.console.print(
                    f"{code}：新下载 {report.days_fetched} 个交易日、{report.bars_written} 根 {unit} K 线"
                    f"（{report.days_cached} 个交易日已在缓存中）"
                )
    print(f"完成：{len(codes) - failed}/{len(codes)} 个证券，缓存文件 {cache.path}")
    return 1 if failed else 0


def _import(args: argparse.Namespace, cache: BarCache) -> int:
    result = read_csv(
        args.file, args.unit, code=args.code, volume_multiplier=100 if args.lots else 1
    )
    written = cache.write(result.bars, source="csv")
    codes = "、".join(result.codes) or "无"
    print(
        f"已导入 {written} 根 {args.unit} K 线（{codes}），文件编码 {result.encoding}，格式 {result.layout}"
    )
    if result.skipped:
        shown = "；".join(f"第 {b.line} 行：{b.reason}" for b in result.bad_lines)
        more = "……" if result.skipped > len(result.bad_lines) else ""
        print(f"跳过 {result.skipped} 行无法识别的数据：{shown}{more}")
    return 0 if written else 1


def _show(args: argparse.Namespace, cache: BarCache) -> int:
    from rich.console import Console
    from rich.table import Table

    from jqtrade.data.cache_source import CacheSource

    code = to_code(args.code)
    unit = BarUnit.parse(args.unit)
    if args.count < 1:
        raise DataConfigError(f"--count 的值 {args.count} 不合法：应为 ≥ 1 的整数")
    end = market_time(args.end) if args.end else market_time("2200-01-01 00:00")
    bars = CacheSource(cache).get_bars(code, unit, end=end, count=args.count)
    if not bars:
        print(
            f"本地缓存中没有 {code} 的 {unit} K 线；先运行 jqtrade data fetch 或 jqtrade data import"
        )
        return 1
    stored = cache.extent(code, BarUnit.m1 if unit is BarUnit.m5 else unit)
    title = f"{code} {unit} K 线（最近 {len(bars)} 根）"
    if stored is not None:
        title += f"；缓存共 {stored[2]} 根，{stored[0]:%Y-%m-%d} 至 {stored[1]:%Y-%m-%d}"
    table = Table(title=title, title_justify="left")
    for column in (
        "时间（北京时间）",
        "开盘",
        "最高",
        "最低",
        "收盘",
        "成交量（股）",
        "成交额（元）",
    ):
        table.add_column(column, justify="left" if column.startswith("时间") else "right")
    for bar in bars:
        when = f"{bar.time:%Y-%m-%d}" if unit is BarUnit.d1 else f"{bar.time:%Y-%m-%d %H:%M}"
        table.add_row(
            when,
            _price(bar.open),
            _price(bar.high),
            _price(bar.low),
            _price(bar.close),
            f"{bar.volume:,}",
            f"{bar.amount:,.2f}",
        )
    Console().print(table)
    return 0


def _price(value: Any) -> str:
    text = f"{value:.4f}".rstrip("0")
    return text + "0" * max(0, 2 - len(text.partition(".")[2]))
