"""The ``jqtrade`` command line (argparse; help texts in Chinese)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Callable, Optional

from jqtrade import __version__, streams
from jqtrade.errors import JqTradeError

#: Protocols the built-in simulated broker speaks (``--broker sim --gate ...``).
SIM_GATES = ("onequant", "qmt")

EXIT_USER_ERROR = 2


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):  # type: ignore[no-untyped-def]
        return super().add_usage(usage, actions, groups, "用法：" if prefix is None else prefix)


class _Parser(argparse.ArgumentParser):
    """argparse with Chinese boilerplate and exit status 2 for usage errors."""

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("formatter_class", _Formatter)
        kwargs.setdefault("add_help", False)
        super().__init__(*args, **kwargs)
        self._positionals.title = "位置参数"
        self._optionals.title = "选项"
        self.add_argument("-h", "--help", action="help", help="显示帮助并退出")

    def error(self, message: str) -> NoReturn:  # type: ignore[name-defined]  # noqa: F821
        self.print_usage(sys.stderr)
        self.exit(EXIT_USER_ERROR, f"错误：{_translate(message)}\n")


def _translate(message: str) -> str:
    for en, zh in (
        ("the following arguments are required", "缺少必需的参数"),
        ("unrecognized arguments", "无法识别的参数"),
        ("invalid choice", "无效的选择"),
        ("expected one argument", "需要一个值"),
        ("invalid float value", "不是数字"),
        ("invalid int value", "不是整数"),
        ("argument ", "参数 "),
        ("choose from", "可选"),
    ):
        message = message.replace(en, zh)
    return message


_TRADING_COMMANDS = {
    "halt_task": (
        "暂停任务的交易（不再下新单，撤单照常）",
        "把任务的交易状态切换为 halted（暂停交易）：新订单被拒绝（原因 trading_halted），撤单照常。"
        "任务 1 秒内收到；状态会保存，任务重启后仍为暂停，直到 resume_task。-n、-p、--all 至少提供一个。",
    ),
    "reduce_task": (
        "让任务只减仓（只接受卖出持仓的订单）",
        "把任务的交易状态切换为 reducing（只减仓）：买入被拒绝（原因 trading_reducing），卖出持仓照常。"
        "状态会保存，任务重启后仍然有效，直到 resume_task。-n、-p、--all 至少提供一个。",
    ),
    "resume_task": (
        "恢复任务的正常交易",
        "把任务的交易状态切换回 active（正常交易），并清除保存的暂停/只减仓状态。-n、-p、--all 至少提供一个。",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="jqtrade",
        description="jqtrade：在自己的电脑上运行 A 股实盘策略。\n\n常用命令：\n"
        "  jqtrade start_task -n demo -c demo.py            启动策略（前台运行，Ctrl+C 停止）\n"
        "  jqtrade start_task -n demo -c demo.py --simulate 2024-06-03   在模拟时钟上跑一个交易日\n"
        "  jqtrade get_tasks                                查看运行中的任务\n"
        "  jqtrade stop_task -n demo                        停止任务\n"
        "  jqtrade halt_task -n demo                        暂停任务的交易（resume_task 恢复）",
    )
    parser.add_argument(
        "-V",
        "--version",
        action="version",
        version=f"jqtrade {__version__}",
        help="显示版本号并退出",
    )
    parser.add_argument(
        "--debug", action="store_true", help="出错时显示完整堆栈，并输出 jqtrade 内部日志"
    )
    sub = parser.add_subparsers(
        dest="command", title="子命令", metavar="<子命令>", parser_class=_Parser
    )

    start = sub.add_parser(
        "start_task",
        help="启动实盘任务（策略进程）",
        description="启动一个实盘任务，前台运行直到被停止。",
    )
    start.add_argument(
        "-n", "--name", required=True, help="任务名称，唯一标识该任务，同一台机器上不能重复"
    )
    start.add_argument("-c", "--code", required=True, type=Path, help="策略代码文件路径")
    start.add_argument(
        "-o",
        "--out",
        type=Path,
        help="日志文件路径；不指定时输出到控制台。指定后策略中的 print 也写入该文件",
    )
    start.add_argument(
        "-e",
        "--env",
        action="append",
        help="环境变量，多个用分号分隔，如 -e 'PYTHONPATH=./pkg;USER=test'；可重复使用 -e；PYTHONPATH 中的路径会加入 sys.path（Windows 上多个路径请分多个 -e 给出）",
    )
    start.add_argument(
        "--config",
        type=Path,
        help="配置文件：TOML 的 [options] 表，或 jqtrade 1.0 的 .py 配置文件（只读取赋值，不执行）；其中的选项作为默认值，策略中的 set_options 可覆盖",
    )
    start.add_argument(
        "--simulate",
        metavar="日期",
        help="在模拟时钟上运行这些交易日后退出：YYYY-MM-DD 或 YYYY-MM-DD..YYYY-MM-DD；开启账户模块时须同时使用 --broker sim",
    )
    start.add_argument(
        "--strategy-class", metavar="类名", help="文件中有多个 Strategy 子类时，指定使用哪一个"
    )
    start.add_argument("--runtime-dir", metavar="目录", help="运行时目录（默认 ~/jqtrade）")
    start.add_argument(
        "--broker",
        choices=["sim"],
        help="sim：使用内置的模拟券商（模拟 OneQuant 文件单，不是真实交易）",
    )
    start.add_argument(
        "--gate",
        choices=list(SIM_GATES),
        default=None,
        help="与 --broker sim 一起使用：模拟券商使用的接口，onequant 为 OneQuant 文件单（默认），qmt 为模拟的 miniQMT（xtquant）",
    )
    start.add_argument(
        "--sim-dir", type=Path, metavar="目录", help="内置模拟券商的文件单目录（默认临时目录）"
    )
    start.add_argument(
        "--sim-cash",
        default="1000000",
        metavar="金额",
        help="内置模拟券商的初始资金，大于 0 的金额（默认 1000000）",
    )
    # None: not given, the simulator's own default (the defaults in the help are SimBroker's)
    start.add_argument(
        "--sim-commission-rate",
        metavar="费率",
        help="内置模拟券商的佣金费率，0~0.01（默认 0.00025，即万分之二点五）；须与 --broker sim 一起使用",
    )
    start.add_argument(
        "--sim-min-commission",
        metavar="元",
        help="内置模拟券商每笔成交的最低佣金（元），0~1000（默认 5）；须与 --broker sim 一起使用",
    )
    start.add_argument(
        "--sim-stamp-tax-rate",
        metavar="税率",
        help="内置模拟券商卖出时的印花税率，0~0.01（默认 0.0005）；须与 --broker sim 一起使用",
    )
    start.add_argument(
        "--sim-volume-ratio",
        metavar="比例",
        help="内置模拟券商按 K 线撮合时，每根 K 线最多成交其成交量的这个比例，大于 0 且不超过 1（默认 0.25）；须与 --broker sim 一起使用",
    )
    start.add_argument(
        "--debug",
        action="store_true",
        dest="task_debug",
        help="调试模式：输出 jqtrade 内部日志，出错时显示完整堆栈",
    )
    start.add_argument(
        "-d",
        "--detach",
        action="store_true",
        help="在后台运行（默认日志写到 <运行时目录>/logs/<名称>.log），打印 pid 后返回",
    )
    start.add_argument(
        "--restart",
        choices=["no", "on-failure"],
        default="no",
        help="on-failure：与 -d 一起使用，任务异常退出（非 0 状态、被杀）时自动重启，等待 1、2、4……秒（最长 60 秒）；stop_task 停止的任务不再重启（默认 no）",
    )
    start.add_argument(
        "--max-restarts",
        type=int,
        default=None,
        metavar="N",
        help="--restart on-failure 时最多重启几次（默认 10）",
    )
    start.set_defaults(handler=_cmd_start_task)

    get = sub.add_parser(
        "get_tasks",
        help="查看运行中的实盘任务",
        description="列出本机运行中的任务（终端中为表格，管道中为纯文本）。",
    )
    get.add_argument("--json", action="store_true", help="输出 JSON，便于脚本处理")
    get.add_argument("--runtime-dir", metavar="目录", help="运行时目录（默认 ~/jqtrade）")
    get.set_defaults(handler=_cmd_get_tasks)

    stop = sub.add_parser(
        "stop_task",
        help="停止运行中的实盘任务",
        description="停止任务：默认优雅停止（等当前回调结束、运行停止回调后退出）。-n、-p、--all 至少提供一个。",
    )
    stop.add_argument("-n", "--name", help="按任务名称停止")
    stop.add_argument("-p", "--pid", type=int, help="按进程 pid 停止")
    stop.add_argument(
        "--all", action="store_true", dest="all_tasks", help="停止所有运行中的任务（忽略 -n、-p）"
    )
    stop.add_argument(
        "-s",
        "--signal",
        choices=["SIGTERM", "SIGKILL"],
        default="SIGTERM",
        help="SIGTERM（默认）优雅停止；SIGKILL 立即强制结束",
    )
    stop.add_argument("-f", "--force", action="store_true", help="强制结束，等同 -s SIGKILL")
    stop.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        metavar="秒",
        help="等待任务退出的最长时间（默认 30 秒）",
    )
    stop.add_argument("--runtime-dir", metavar="目录", help="运行时目录（默认 ~/jqtrade）")
    stop.set_defaults(handler=_cmd_stop_task)

    for command, (summary, description) in _TRADING_COMMANDS.items():
        trading = sub.add_parser(command, help=summary, description=description)
        trading.add_argument(
            "-n", "--name", help="按任务名称；任务未运行时保存该状态，下次启动时生效"
        )
        trading.add_argument("-p", "--pid", type=int, help="按进程 pid")
        trading.add_argument(
            "--all", action="store_true", dest="all_tasks", help="所有运行中的任务（忽略 -n、-p）"
        )
        if command != "resume_task":
            trading.add_argument(
                "--cancel-open", action="store_true", help="同时撤销该任务今天全部未完成的订单"
            )
        trading.add_argument("--reason", metavar="原因", help="写进任务日志的原因（默认为命令名）")
        trading.add_argument(
            "--timeout",
            type=float,
            default=10.0,
            metavar="秒",
            help="等待任务确认的最长时间（默认 10 秒）",
        )
        trading.add_argument("--runtime-dir", metavar="目录", help="运行时目录（默认 ~/jqtrade）")
        trading.set_defaults(handler=_cmd_trading_state, trading_command=command)

    new = sub.add_parser(
        "new",
        help="从模板创建策略文件",
        description="jqtrade new strategy 名称：创建 名称.py 策略文件。",
    )
    new.add_argument("kind", choices=["strategy"], help="目前只有 strategy")
    new.add_argument("name", help="策略名称（合法的 Python 标识符），生成 名称.py")
    new.add_argument(
        "--legacy",
        action="store_true",
        help="生成旧版函数式策略（process_initialize(context) 函数）",
    )
    new.add_argument("--dir", type=Path, metavar="目录", help="生成到哪个目录（默认当前目录）")
    new.set_defaults(handler=_cmd_new)

    sched = sub.add_parser(
        "schedule",
        help="预览策略的定时任务",
        description="运行 process_initialize（不下单），按交易日历列出接下来的定时任务。",
    )
    sched.add_argument("-c", "--code", required=True, type=Path, help="策略代码文件路径")
    sched.add_argument("--date", metavar="YYYY-MM-DD", help="从哪天开始（默认今天）")
    sched.add_argument("--days", type=int, default=1, metavar="N", help="显示几个交易日（默认 1）")
    sched.add_argument(
        "--strategy-class", metavar="类名", help="文件中有多个 Strategy 子类时，指定使用哪一个"
    )
    sched.add_argument("--runtime-dir", metavar="目录", help="运行时目录（默认 ~/jqtrade）")
    sched.set_defaults(handler=_cmd_schedule)

    # `jqtrade sim ...` is handed whole to the simulator's own parser in main(); listed here for --help.
    sub.add_parser(
        "sim",
        help="运行模拟 OneQuant 券商（模拟交易，不是真实交易），参数见 jqtrade sim -h",
        add_help=False,
    )

    from jqtrade.data.cli import add_data_parser

    add_data_parser(sub)

    demo = sub.add_parser(
        "demo",
        help="演示：在模拟时钟和模拟券商上跑一个交易日",
        description="运行内置演示策略：一个模拟交易日内下单、成交、撤单，最后打印汇总表。",
    )
    demo.add_argument(
        "--date", default="2024-06-03", metavar="YYYY-MM-DD", help="模拟的交易日（默认 2024-06-03）"
    )
    demo.add_argument("--runtime-dir", metavar="目录", help="运行时目录（默认临时目录）")
    demo.add_argument(
        "--gate",
        choices=list(SIM_GATES),
        default="onequant",
        help="模拟券商使用的接口：onequant 文件单（默认）或 qmt 模拟 miniQMT",
    )
    demo.set_defaults(handler=_cmd_demo)
    return parser


def _cmd_start_task(args: argparse.Namespace) -> int:
    from jqtrade.errors import ConfigError
    from jqtrade.tasks.runner import (
        SIM_NUMBER_FLAGS,
        TaskSpec,
        parse_env,
        parse_sim_cash,
        parse_sim_number,
        parse_simulate,
        run_task,
    )
    from jqtrade.tasks.supervisor import DEFAULT_MAX_RESTARTS, RESTARTS_ENV

    sim_cash = parse_sim_cash(args.sim_cash)  # refused here, not in a background child's log
    # also refused here (argparse names each dest as the TaskSpec field); None: not given
    sim_numbers = {
        rule.field: parse_sim_number(flag, getattr(args, rule.field))
        for flag, rule in SIM_NUMBER_FLAGS.items()
        if getattr(args, rule.field) is not None
    }
    if args.gate is not None and args.broker != "sim":
        raise ConfigError(
            f"--gate {args.gate} 需要与 --broker sim 一起使用（选择模拟券商的接口）；实盘的交易接口用 set_options(trade_gate=...) 设置"
        )
    if sim_numbers and args.broker != "sim":
        given = "、".join(
            flag for flag, rule in SIM_NUMBER_FLAGS.items() if rule.field in sim_numbers
        )
        raise ConfigError(
            f"{given} 是内置模拟券商的设置，需要与 --broker sim 一起使用；真实券商和其他交易接口的费用由它们自己决定"
        )
    restart = args.restart == "on-failure"
    if args.max_restarts is not None and (not restart or args.max_restarts < 0):
        raise ConfigError(
            f"--max-restarts 的值 {args.max_restarts} 不合法：应为 ≥ 0 的整数，且需同时使用 --restart on-failure"
        )
    if args.detach:
        from jqtrade.tasks.commands import start_detached
        from jqtrade.tasks.registry import validate_task_name

        validate_task_name(args.name)
        return start_detached(
            args.raw_argv,
            name=args.name,
            out=args.out,
            runtime_dir=args.runtime_dir,
            restart=restart,
            max_restarts=DEFAULT_MAX_RESTARTS if args.max_restarts is None else args.max_restarts,
        )
    if restart and RESTARTS_ENV not in os.environ:  # not the task a supervisor runs
        raise ConfigError(
            "--restart on-failure 需要与 -d（后台运行）一起使用：由后台的守护进程负责重启"
        )

    spec = TaskSpec(
        name=args.name,
        code=args.code,
        out=args.out,
        env=parse_env(args.env),
        config=args.config,
        debug=args.debug or args.task_debug,
        simulate=parse_simulate(args.simulate) if args.simulate else None,
        strategy_class=args.strategy_class,
        runtime_dir=args.runtime_dir,
        broker=args.broker,
        sim_gate=args.gate or "onequant",
        sim_dir=args.sim_dir,
        sim_cash=sim_cash,
        sim_commission_rate=sim_numbers.get("sim_commission_rate"),
        sim_min_commission=sim_numbers.get("sim_min_commission"),
        sim_stamp_tax_rate=sim_numbers.get("sim_stamp_tax_rate"),
        sim_volume_ratio=sim_numbers.get("sim_volume_ratio"),
    )
    return run_task(spec)


def _cmd_get_tasks(args: argparse.Namespace) -> int:
    from jqtrade.tasks.commands import get_tasks

    return get_tasks(args.runtime_dir, as_json=args.json)


def _cmd_stop_task(args: argparse.Namespace) -> int:
    from jqtrade.tasks.commands import stop_task

    force = args.force or args.signal == "SIGKILL"
    return stop_task(
        args.runtime_dir,
        name=args.name,
        pid=args.pid,
        all_tasks=args.all_tasks,
        force=force,
        timeout=args.timeout,
    )


def _cmd_trading_state(args: argparse.Namespace) -> int:
    from jqtrade.tasks.commands import set_trading_state

    return set_trading_state(
        args.runtime_dir,
        args.trading_command,
        name=args.name,
        pid=args.pid,
        all_tasks=args.all_tasks,
        cancel_open=getattr(args, "cancel_open", False),
        reason=args.reason,
        timeout=args.timeout,
    )


def _cmd_new(args: argparse.Namespace) -> int:
    from jqtrade.tasks.commands import new_strategy

    return new_strategy(args.name, legacy=args.legacy, directory=args.dir)


def _cmd_schedule(args: argparse.Namespace) -> int:
    from jqtrade.tasks.commands import preview_schedule

    return preview_schedule(
        args.code,
        date=args.date,
        days=args.days,
        runtime_dir=args.runtime_dir,
        strategy_class=args.strategy_class,
    )


def _cmd_demo(args: argparse.Namespace) -> int:
    import tempfile
    from importlib import resources

    from jqtrade.data.cache import CACHE_FILE
    from jqtrade.options import Options
    from jqtrade.tasks.runner import TaskSpec, parse_simulate, run_task

    with (
        tempfile.TemporaryDirectory(prefix="jqtrade-demo-") as scratch,
        resources.as_file(
            resources.files("jqtrade.templates").joinpath("demo_strategy.py")
        ) as code,
    ):
        runtime_dir = args.runtime_dir or scratch
        # without --runtime-dir, the real bars of the default runtime directory, if any
        bars = None if args.runtime_dir else Path(Options().runtime_dir).expanduser() / CACHE_FILE
        spec = TaskSpec(
            name="demo",
            code=code,
            simulate=parse_simulate(args.date),
            runtime_dir=runtime_dir,
            broker="sim",
            sim_gate=args.gate,
            sim_dir=Path(runtime_dir) / args.gate,
            debug=args.debug,
            sim_bars=bars,
            order_list=bool(args.runtime_dir),  # the scratch folder goes with the demo
        )
        return run_task(spec)


def main(argv: Optional[list[str]] = None) -> int:
    # Every print below (ours, rich's, logging's, the strategy's) goes through these two
    # streams: a GBK pipe or console must never make a print raise UnicodeEncodeError.
    streams.install()
    parser = build_parser()
    raw = list(sys.argv[1:] if argv is None else argv)
    if raw[:1] == ["sim"]:
        return sim_main(raw[1:])
    args = parser.parse_args(raw)
    args.raw_argv = raw
    debug = bool(getattr(args, "debug", False) or getattr(args, "task_debug", False))
    handler: Optional[Callable[[argparse.Namespace], int]] = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_USER_ERROR
    try:
        return handler(args)
    except JqTradeError as exc:
        if debug:
            raise
        print(f"错误：{exc}", file=sys.__stderr__)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        return 130


# --- jqtrade sim ---------------------------------------------------------------------------


def _positions_arg(values: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in values:
        code, _, amount = item.partition("=")
        if not amount.strip().isdigit():
            raise argparse.ArgumentTypeError(
                f"--position 的值 {item!r} 不合法：应为 代码=股数，如 000001.XSHE=1000"
            )
        out[code.strip()] = int(amount)
    return out


def build_sim_parser(prog: str = "jqtrade sim") -> argparse.ArgumentParser:
    """The parser of ``jqtrade sim`` (the simulated OneQuant broker on the live clock)."""
    parser = _Parser(
        prog=prog,
        description="模拟 OneQuant 券商（纸面交易，非真实下单）：监视文件单目录，按 OneQuant DMA 协议回写委托、成交、资金和持仓文件。\n"
        "示例：jqtrade sim --dir D:\\onequant --account 123 --cash 1000000",
    )
    parser.add_argument("--dir", required=True, help="文件单目录（与策略的 order_dir 相同）")
    parser.add_argument(
        "--account", required=True, help="模拟的资金账号（与策略的 account_no 相同）"
    )
    parser.add_argument(
        "--cash", type=float, default=1_000_000, help="初始资金（元），默认 1000000"
    )
    parser.add_argument(
        "--position",
        action="append",
        default=[],
        metavar="CODE=AMOUNT",
        help="初始持仓，可多次给出，如 000001.XSHE=1000（当日可卖）",
    )
    parser.add_argument(
        "--encoding", default="gbk", help="文件编码，默认 gbk（与中文 Windows 上的 OneQuant 相同）"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="价格随机游走的种子，相同种子得到相同价格"
    )
    parser.add_argument("--prices", help="价格文件 CSV（列：code,time,price），不给时使用随机游走")
    parser.add_argument(
        "--volatility", type=float, default=0.002, help="随机游走每分钟的波动幅度，默认 0.002"
    )
    parser.add_argument("--latency", type=float, default=0.0, help="委托确认和撤单完成的延迟（秒）")
    parser.add_argument("--partial-fills", action="store_true", help="分多次部分成交")
    parser.add_argument("--reject-rate", type=float, default=0.0, help="随机拒单比例，0~1")
    parser.add_argument(
        "--fault-mode",
        action="store_true",
        help="故障模式：写半行、不完整快照、其他程序的委托和乱码行",
    )
    parser.add_argument(
        "--snapshot-interval",
        type=float,
        default=3.0,
        help="资金、持仓文件的刷新间隔（秒），默认 3",
    )
    parser.add_argument(
        "--poll-interval", type=float, default=0.2, help="检查文件单的间隔（秒），默认 0.2"
    )
    parser.add_argument(
        "--any-time", action="store_true", help="不限交易时段，任何时间都可以成交（便于晚上试用）"
    )
    parser.add_argument(
        "--runtime-dir",
        metavar="目录",
        help="运行时目录，在其中的 data/bars.sqlite 查找 K 线（默认 ~/jqtrade）",
    )
    parser.add_argument(
        "--bars", metavar="文件", help="K 线缓存文件，默认 <运行时目录>/data/bars.sqlite"
    )
    parser.add_argument(
        "--volume-ratio",
        type=float,
        default=0.25,
        help="按 K 线撮合时，每根 K 线最多成交其成交量的这个比例，默认 0.25",
    )
    parser.add_argument(
        "--commission-rate",
        type=float,
        default=0.00025,
        help="佣金费率，默认 0.00025（万分之二点五）",
    )
    parser.add_argument("--min-commission", type=float, default=5.0, help="最低佣金（元），默认 5")
    parser.add_argument(
        "--stamp-tax-rate", type=float, default=0.0005, help="卖出印花税率，默认 0.0005"
    )
    return parser


def sim_main(argv: Optional[list[str]] = None) -> int:
    """``jqtrade sim``: run the simulated broker on the live clock until Ctrl+C."""
    import logging
    import threading

    from jqtrade.clock import LiveClock
    from jqtrade.data.cache import CACHE_FILE
    from jqtrade.options import Options
    from jqtrade.sim import SimulatedOneQuant
    from jqtrade.sim.bars import BarMarket, market_for_run
    from jqtrade.sim.market import PriceFeed, number_in

    streams.install()
    parser = build_sim_parser()
    args = parser.parse_args(argv)
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
    market: Optional[BarMarket] = None
    try:
        number_in("--poll-interval", args.poll_interval, 0, 3600, low_open=True)
        number_in("波动幅度 --volatility", args.volatility, 0, 0.5)
        positions = _positions_arg(args.position)
        if args.prices is None:  # a price file is an explicit choice; else real bars if any
            runtime_dir = Path(args.runtime_dir or Options().runtime_dir).expanduser()
            today = LiveClock().now().date()
            market = market_for_run(
                Path(args.bars) if args.bars else runtime_dir / CACHE_FILE,
                today,
                today,
                PriceFeed(args.seed, None, args.volatility),
            )
        simulator = SimulatedOneQuant(
            args.dir,
            args.account,
            cash=args.cash,
            encoding=args.encoding,
            seed=args.seed,
            prices=args.prices,
            latency=args.latency,
            partial_fills=args.partial_fills,
            reject_rate=args.reject_rate,
            fault_mode=args.fault_mode,
            snapshot_interval=args.snapshot_interval,
            positions=positions,
            volatility=args.volatility,
            market_hours=not args.any_time,
            market=market,
            volume_ratio=args.volume_ratio,
            commission_rate=args.commission_rate,
            min_commission=args.min_commission,
            stamp_tax_rate=args.stamp_tax_rate,
        )
    except (argparse.ArgumentTypeError, ValueError, OSError) as exc:
        if market is not None:
            market.cache.close()
        print(f"错误：{exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    print(
        f"模拟 OneQuant 已启动（模拟交易，不是真实券商）：目录 {Path(args.dir).resolve()}，资金账号 {args.account}，"
        f"初始资金 {args.cash:,.2f} 元。按 Ctrl+C 停止。"
    )
    stop = threading.Event()
    try:
        simulator.run_forever(LiveClock(), stop, poll_interval=args.poll_interval)
    except KeyboardInterrupt:
        stop.set()
    finally:
        if market is not None:
            market.cache.close()
    print("模拟 OneQuant 已停止。")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
