"""The ``jqtrade`` command line (argparse; help texts in Chinese)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable, Optional

from jqtrade import __version__
from jqtrade.errors import JqTradeError

EXIT_USER_ERROR = 2


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):  # type: ignore[no-untyped-def]
        return super().add_usage(usage, actions, groups, prefix or "用法：")


class _Parser(argparse.ArgumentParser):
    """argparse with Chinese boilerplate and exit status 2 for usage errors."""

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("formatter_class", _Formatter)
        kwargs.setdefault("add_help", False)
        super().__init__(*args, **kwargs)
        self._positionals.title = "位置参数"
        self._optionals.title = "选项"
        self.add_argument("-h", "--help", action="help", help="显示帮助并退出")

    def error(self, message: str) -> "NoReturn":  # type: ignore[name-defined]  # noqa: F821
        self.print_usage(sys.stderr)
        self.exit(EXIT_USER_ERROR, f"错误：{_translate(message)}\n")


def _translate(message: str) -> str:
    for en, zh in (
        ("the following arguments are required", "缺少必需的参数"),
        ("unrecognized arguments", "无法识别的参数"),
        ("invalid choice", "无效的选择"),
        ("expected one argument", "需要一个值"),
        ("argument ", "参数 "),
        ("choose from", "可选"),
    ):
        message = message.replace(en, zh)
    return message


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="jqtrade",
        description="jqtrade：在自己的电脑上运行 A 股实盘策略。\n\n常用命令：\n"
        "  jqtrade start_task -n demo -c demo.py            启动策略（前台运行，Ctrl+C 停止）\n"
        "  jqtrade start_task -n demo -c demo.py --simulate 2024-06-03   在模拟时钟上跑一个交易日\n"
        "  jqtrade get_tasks                                查看运行中的任务\n"
        "  jqtrade stop_task -n demo                        停止任务",
    )
    parser.add_argument("-V", "--version", action="version", version=f"jqtrade {__version__}", help="显示版本号并退出")
    parser.add_argument("--debug", action="store_true", help="出错时显示完整堆栈，并输出 jqtrade 内部日志")
    sub = parser.add_subparsers(dest="command", title="子命令", metavar="<子命令>", parser_class=_Parser)

    start = sub.add_parser("start_task", help="启动实盘任务（策略进程）", description="启动一个实盘任务，前台运行直到被停止。")
    start.add_argument("-n", "--name", required=True, help="任务名称，唯一标识该任务，同一台机器上不能重复")
    start.add_argument("-c", "--code", required=True, type=Path, help="策略代码文件路径")
    start.add_argument("-o", "--out", type=Path, help="日志文件路径；不指定时输出到控制台。指定后策略中的 print 也写入该文件")
    start.add_argument("-e", "--env", help="环境变量，多个用分号分隔，如 -e 'PYTHONPATH=./pkg;USER=test'；PYTHONPATH 中的路径会加入 sys.path")
    start.add_argument("--config", type=Path, help="TOML 配置文件：[options] 表中的选项作为默认值，策略中的 set_options 可覆盖")
    start.add_argument("--simulate", metavar="日期", help="在模拟时钟上运行这些交易日后退出：YYYY-MM-DD 或 YYYY-MM-DD..YYYY-MM-DD")
    start.add_argument("--strategy-class", metavar="类名", help="文件中有多个 Strategy 子类时，指定使用哪一个")
    start.add_argument("--runtime-dir", metavar="目录", help="运行时目录（默认 ~/jqtrade）")
    start.add_argument("--debug", action="store_true", dest="task_debug", help="调试模式：输出 jqtrade 内部日志，出错时显示完整堆栈")
    start.set_defaults(handler=_cmd_start_task)
    return parser


def _cmd_start_task(args: argparse.Namespace) -> int:
    from jqtrade.tasks.runner import TaskSpec, parse_env, parse_simulate, run_task

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
    )
    return run_task(spec)


def main(argv: Optional[list[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
