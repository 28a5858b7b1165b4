"""Run one strategy task in this process: the body of ``jqtrade start_task``."""

from __future__ import annotations

import datetime
import logging
import math
import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional, TypedDict, cast

import attrs
import pendulum

from jqtrade.clock import MARKET_TZ, Clock, LiveClock, SimClock
from jqtrade.errors import ConfigError
from jqtrade.gates import gate_name, load_gate
from jqtrade.gates.base import AbsTradeGate
from jqtrade.loader import load_strategy
from jqtrade.logs import configure_logging
from jqtrade.options import Options
from jqtrade.runtime import Runtime
from jqtrade.tasks.config import ConfigValues, read_config
from jqtrade.tasks.control import TradingStateFile, TradingStateRequest
from jqtrade.tasks.progress import RunProgress
from jqtrade.tasks.registry import (
    START_TOKEN_ENV,
    TRADING_STATES,
    TaskHandle,
    TaskRecord,
    TaskRegistry,
    task_file_stem,
    task_mode,
)
from jqtrade.tasks.summary import (
    ORDERS_FILE,
    RunOrders,
    RunScope,
    no_trading_day_text,
    print_summary,
    record_orders,
)
from jqtrade.tasks.supervisor import RESTARTS_ENV, RESUME_STATE_DIR_ENV

if TYPE_CHECKING:
    from jqtrade.data.cache import BarCache
    from jqtrade.data.source import AbsDataSource
    from jqtrade.sim.broker import SimBroker
    from jqtrade.sim.market import Market

task_logger = logging.getLogger("jqtrade.task")


class SimBrokerOptions(TypedDict, total=False):
    """Keyword arguments of ``SimBroker`` (and ``SimulatedOneQuant``) that ``start_task`` sets."""

    commission_rate: float
    min_commission: float
    stamp_tax_rate: float
    volume_ratio: float


@attrs.frozen(kw_only=True)
class TaskSpec:
    """Everything ``start_task`` was asked to do."""

    name: str
    code: Path
    out: Optional[Path] = None
    env: tuple[tuple[str, str], ...] = ()
    config: Optional[Path] = None
    debug: bool = False
    simulate: Optional[tuple[datetime.date, datetime.date]] = None
    strategy_class: Optional[str] = None
    runtime_dir: Optional[str] = None
    broker: Optional[str] = None  # "sim": an embedded simulated broker
    sim_gate: str = "onequant"  # the protocol it speaks: OneQuant files or a simulated xtquant
    sim_dir: Optional[Path] = None
    sim_cash: float = 1_000_000.0
    # the bar cache the simulated broker matches on; default <runtime_dir>/data/bars.sqlite
    sim_bars: Optional[Path] = None
    # Fees and fill fraction of the simulated broker; None: the simulator's own default, so
    # the defaults live in one place (jqtrade.sim.broker.SimBroker).
    sim_commission_rate: Optional[float] = None
    sim_min_commission: Optional[float] = None
    sim_stamp_tax_rate: Optional[float] = None
    sim_volume_ratio: Optional[float] = None
    #: Write every order of a run on the simulated broker to ``orders.csv`` in its state folder
    #: (off where that folder is deleted after the run: ``jqtrade demo``).
    order_list: bool = True

    @property
    def simulated_broker(self) -> bool:
        return self.broker == "sim"

    @property
    def sim_broker_options(self) -> SimBrokerOptions:
        """The ``SimBroker`` keyword arguments the user gave; the rest keep the simulator's defaults."""
        given = {rule.setting: getattr(self, rule.field) for rule in SIM_NUMBER_FLAGS.values()}
        return cast(SimBrokerOptions, {k: v for k, v in given.items() if v is not None})

    @property
    def mode(self) -> str:
        return task_mode(
            simulated_clock=self.simulate is not None, simulated_broker=self.simulated_broker
        )


def parse_env(texts: Optional[str | list[str]]) -> tuple[tuple[str, str], ...]:
    """``'PYTHONPATH=./pkg;USER=test'`` (``-e`` may repeat) -> pairs; a part without ``=`` is an error.

    On Windows ``;`` also separates paths, so give several PYTHONPATH folders with several ``-e``.
    """
    if not texts:
        return ()
    pairs = []
    parts = [
        part for text in ([texts] if isinstance(texts, str) else texts) for part in text.split(";")
    ]
    for part in parts:
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise ConfigError(
                f"-e 参数中的 {part!r} 不是 KEY=VALUE 形式；多个变量用分号分隔，如 -e 'PYTHONPATH=./pkg;USER=test'"
            )
        pairs.append((key.strip(), value.strip()))
    return tuple(pairs)


def parse_simulate(text: str) -> tuple[datetime.date, datetime.date]:
    """``2024-06-03`` or ``2024-06-03..2024-06-07`` (inclusive)."""
    start_text, sep, end_text = text.partition("..")
    try:
        start = datetime.date.fromisoformat(start_text.strip())
        end = datetime.date.fromisoformat(end_text.strip()) if sep else start
    except ValueError:
        raise ConfigError(
            f"--simulate 的值 {text!r} 不合法：应为 YYYY-MM-DD 或 YYYY-MM-DD..YYYY-MM-DD"
        ) from None
    if end < start:
        raise ConfigError(f"--simulate 的值 {text!r} 不合法：结束日期早于开始日期")
    return start, end


def parse_sim_cash(text: str) -> float:
    """``--sim-cash``: a finite amount of yuan above zero."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise ConfigError(
            f"--sim-cash 的值 {text!r} 不合法：应为大于 0 的有限金额（元），如 1000000"
        )
    return value


@attrs.frozen
class _SimNumber:
    """One ``--sim-*`` number flag: the TaskSpec field it sets and the simulator's setting it
    is (:data:`jqtrade.sim.broker.FEE_SETTINGS`: the bounds are the broker's own, so a value
    accepted here is never refused later by the broker in a background child)."""

    field: str
    setting: str
    example: str  # for the error message

    @property
    def bounds(self) -> tuple[float, float, bool]:
        from jqtrade.sim.broker import FEE_SETTINGS

        _label, low, high, low_open = FEE_SETTINGS[self.setting]
        return low, high, low_open

    @property
    def low(self) -> float:
        return self.bounds[0]

    @property
    def high(self) -> float:
        return self.bounds[1]

    @property
    def low_open(self) -> bool:
        return self.bounds[2]


#: ``start_task`` flags of the simulated broker's fees and fill fraction.
SIM_NUMBER_FLAGS: dict[str, _SimNumber] = {
    "--sim-commission-rate": _SimNumber("sim_commission_rate", "commission_rate", "0.00025"),
    "--sim-min-commission": _SimNumber("sim_min_commission", "min_commission", "5"),
    "--sim-stamp-tax-rate": _SimNumber("sim_stamp_tax_rate", "stamp_tax_rate", "0.0005"),
    "--sim-volume-ratio": _SimNumber("sim_volume_ratio", "volume_ratio", "0.25"),
}


def parse_sim_number(flag: str, text: str) -> float:
    """One of :data:`SIM_NUMBER_FLAGS`: a finite number in its range, else a ``ConfigError``
    naming the flag, the value and what is allowed (checked before anything starts)."""
    from jqtrade.sim.broker import fee_setting

    rule = SIM_NUMBER_FLAGS[flag]
    try:
        return fee_setting(rule.setting, text)
    except ValueError:
        low, high, low_open = rule.bounds
        allowed = f"大于 {low:g}" if low_open else f"不小于 {low:g}"
        raise ConfigError(
            f"{flag} 的值 {text!r} 不合法：应为{allowed}、不超过 {high:g} 的数，如 {rule.example}"
        ) from None


def apply_env(pairs: tuple[tuple[str, str], ...]) -> None:
    """Set the variables; PYTHONPATH entries (``os.pathsep``-separated, or one per ``-e``) also go on sys.path."""
    paths: list[str] = []
    for key, value in pairs:
        if key == "PYTHONPATH":
            paths += [p for p in value.split(os.pathsep) if p]
            value = os.pathsep.join(paths)
        os.environ[key] = value
    for entry in reversed(paths):
        full = str(Path(entry).expanduser().resolve())
        if full not in sys.path:
            sys.path.insert(0, full)


def make_clock(spec: TaskSpec) -> Clock:
    if spec.simulate is None:
        return LiveClock()
    start = spec.simulate[0]
    return SimClock(pendulum.datetime(start.year, start.month, start.day, tz=MARKET_TZ))


def run_task(spec: TaskSpec) -> int:
    """Load, initialize and run the strategy until stopped; return the exit status."""
    apply_env(spec.env)
    base = Options()
    config = read_config(spec.config) if spec.config is not None else ConfigValues({})
    base = base.evolve(config.options)
    if spec.runtime_dir is not None:
        base = base.evolve({"runtime_dir": spec.runtime_dir})
    clock = make_clock(spec)
    runtime_dir = Path(base.runtime_dir).expanduser()
    registry = TaskRegistry(runtime_dir)
    _check_usable(runtime_dir, registry.tasks_dir)
    live = spec.mode == "live"
    # A supervisor restarting a crashed simulated-broker run hands it the run's own folder, so
    # the restarted task reads the journal the killed one wrote (see jqtrade.tasks.supervisor).
    resumed = os.environ.pop(RESUME_STATE_DIR_ENV, None)
    state_dir = (
        runtime_dir
        if live
        else (Path(resumed) if resumed else _sim_state_dir(runtime_dir, spec.name))
    )
    restarts = _int_env(os.environ.pop(RESTARTS_ENV, None))
    handle = registry.acquire(
        TaskRecord(
            name=spec.name,
            pid=os.getpid(),
            strategy_file=str(spec.code.expanduser().resolve()),
            log_file=str(spec.out.expanduser().resolve()) if spec.out else None,
            start_time=LiveClock().now().isoformat(),
            gate="-",
            control_path=str(registry.control_path(spec.name)),
            state="starting",
            simulated=spec.simulate is not None,
            mode=spec.mode,
            state_dir=str(state_dir),
            # Not passed on to what the strategy starts (a task it starts has a token of its own).
            start_token=os.environ.pop(START_TOKEN_ENV, None) or None,
            restarts=restarts,
        )
    )
    trading_file = TradingStateFile(registry.trading_state_path(spec.name))
    saved = trading_file.read()  # applied when the account starts; later changes come by polling
    stream = configure_logging(clock, out=spec.out, debug=spec.debug)
    for warning in config.warnings:
        task_logger.warning(warning)
    final_state = "failed"
    broker: Optional[_EmbeddedBroker] = None
    console: Optional[ConsoleEvents] = None
    run_orders: Optional[RunOrders] = None  # a simulated broker's orders, day by day
    try:
        strategy = load_strategy(spec.code, spec.strategy_class)
        running: list[Runtime] = []  # the runtime, once made: the broker's live quotes come from it
        broker = (
            _embedded_broker(
                spec, clock, runtime_dir, lambda: running[0].market_data if running else None
            )
            if spec.simulated_broker
            else None
        )
        first_day = clock.now().date()
        runtime = Runtime(
            strategy,
            clock=clock,
            options=base,
            task_name=spec.name,
            overrides=broker.overrides if broker else None,
            broker_poll=broker.poll if broker else None,
            broker_publish=broker.publish if broker else None,
            gate_factory=_gate_factory(spec),
            state_dir=state_dir,
            # Ids must be unique per broker folder: a reused --sim-dir keeps its counter.
            id_dir=broker.folder / "jqtrade_order_ids" if broker else None,
            restore_trading_state=_restored(saved),
            bar_cache=broker.bar_cache if broker else None,
        )
        running.append(runtime)
        runtime.trading_state_listeners.append(
            lambda change: handle.update(trading_state=change.new.value)
        )
        previous = _install_signal_handlers(runtime)
        try:
            if sys.platform == "win32":
                # After the signal handlers: Windows calls the handler registered last first,
                # so this one comes before the C runtime's, which turns events into signals.
                console = ConsoleEvents(
                    runtime.request_stop, lambda: runtime.stop_reason is not None
                )
                console.register()
            runtime.initialize()
            if runtime.account is not None:
                handle.update(
                    trading_state=runtime.account.trading_state.value,
                    trading_ack=saved.id if saved is not None else None,
                )
            if not live and runtime.account is not None:
                task_logger.info(
                    "模拟运行：订单日志保存在独立目录 %s，不读写实盘的订单日志和订单号", state_dir
                )
            if spec.simulate is not None:
                _say_if_closed(runtime, *spec.simulate)
            _start_notifier(runtime, spec)
            day_values = _record_day_values(runtime) if broker is not None else []
            if broker is not None:
                run_orders = record_orders(
                    runtime.account, state_dir / ORDERS_FILE if spec.order_list else None
                )
            try:
                status = _run(runtime, spec, handle, trading_file)
            finally:
                _stop_notifier(runtime, spec)
        finally:
            _restore_signal_handlers(previous)
        final_state = "stopped" if status == 0 else "failed"
        if broker is not None:
            last_day = spec.simulate[1] if spec.simulate is not None else clock.now().date()
            scope = RunScope(
                first_day=first_day,
                last_day=last_day,
                start_value=spec.sim_cash,
                day_values=day_values,
            )
            print_summary(
                runtime,
                scope,
                simulated_broker=True,
                simulated_clock=spec.simulate is not None,
                orders_seen=run_orders,
            )
        return status
    finally:
        handle.release(final_state)
        if run_orders is not None:
            run_orders.close()
        if broker is not None:
            broker.close()
        if broker is not None and broker.temporary is not None:
            shutil.rmtree(broker.temporary, ignore_errors=True)
        if stream is not None:
            logging.shutdown()
            sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
            stream.close()
        if console is not None:
            console.close()  # a console handler that waited for this returns: Windows ends us


def _start_notifier(runtime: Runtime, spec: TaskSpec) -> Any:
    """Notifications, when configured; a bad target is logged and the task runs without them."""
    from jqtrade.notify import Notifier

    try:
        notifier = Notifier.from_options(runtime.options, spec.name)
    except ConfigError as exc:
        task_logger.error("通知没有开启：%s", exc)
        return None
    if notifier is None:
        return None
    runtime.notifier = notifier
    account = runtime.account
    if account is not None:
        account.notifier = notifier
        _add_daily_summary(runtime, notifier)
    notifier.event("task_started", f"任务 {spec.name} 已启动", f"策略 {spec.code}")
    return notifier


def _add_daily_summary(runtime: Runtime, notifier: Any) -> None:
    """After each trading day's close: orders, fills, cash, positions and the day's change."""
    from jqtrade.notify import daily_summary
    from jqtrade.schedule import daily_rule

    account = runtime.account
    assert account is not None

    def send(slot: pendulum.DateTime) -> None:
        account.sync_balance(quiet=True)
        title, body = daily_summary(
            account.get_orders(), account.portfolio, open_value=account.open_value
        )
        notifier.event("daily_summary", f"{runtime.task_name} {slot:%Y-%m-%d} {title}", body)

    rule = daily_rule(runtime.calendar, "close+5m", runtime.options.market_period)
    runtime.add_internal_job("收盘小结", rule, send)


def _record_day_values(runtime: Runtime) -> list[tuple[datetime.date, float]]:
    """The account's total value at the end of each trading day, for the run's summary.

    A simulated broker's event-driven syncs hand over each day's last synced portfolio; on a
    live clock an internal job syncs the balance at ``close+5m``. One value a day."""
    values: list[tuple[datetime.date, float]] = []
    account = runtime.account
    if account is None:
        return values
    events = runtime.sync_events
    if events is not None:
        events.day_end.append(
            lambda day, portfolio: values.append((day, float(portfolio.total_value)))  # type: ignore[attr-defined]  # the account's Portfolio
        )
        return values
    from jqtrade.schedule import daily_rule

    def record(slot: pendulum.DateTime) -> None:
        values.append((slot.date(), float(account.sync_balance(quiet=True).total_value)))

    rule = daily_rule(runtime.calendar, "close+5m", runtime.options.market_period)
    runtime.add_internal_job("记录收盘资产", rule, record)
    return values


def _progress(runtime: Runtime, spec: TaskSpec) -> Optional[RunProgress]:
    """A terminal progress bar for a simulated run (it shows itself only after a few seconds)."""
    if spec.simulate is None:
        return None
    first, last = spec.simulate
    days = []
    day = first
    while day <= last:
        if runtime.calendar.is_trading_day(day):
            days.append(day)
        day += datetime.timedelta(days=1)
    progress = RunProgress(days)
    if not progress.enabled:
        return None
    clock = runtime.clock
    runtime.add_watcher(lambda: progress.update(clock.now().date()))
    return progress


def _stop_notifier(runtime: Runtime, spec: TaskSpec) -> None:
    notifier = runtime.notifier
    if notifier is None:
        return
    from jqtrade.notify import last_error_line

    failed = runtime.failed
    if failed is not None:
        notifier.event("task_failed", f"任务 {spec.name} 因错误停止", last_error_line(failed))
    else:
        notifier.event("task_stopped", f"任务 {spec.name} 已停止", runtime.stop_reason or "stop")
    if not notifier.close(timeout=5.0):
        task_logger.warning("部分通知在停止前没有发出")


def _check_usable(runtime_dir: Path, tasks_dir: Path) -> None:
    try:
        tasks_dir.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=tasks_dir, prefix=".probe-", delete=True)  # noqa: SIM115
        probe.close()
    except OSError as exc:
        raise ConfigError(
            f"无法使用运行时目录 {runtime_dir}：{exc.strerror or exc}；请用 --runtime-dir 指定一个可以创建和写入的目录"
        ) from None


def _make_folder(folder: Path, what: str) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"无法创建{what} {folder}：{exc.strerror or exc}") from None


def _sim_state_dir(runtime_dir: Path, name: str) -> Path:
    """A fresh folder per simulated run: ``<runtime_dir>/sim/<name>-<start time>-<pid>``.

    Kept after the run (its journal tells what the run did); safe to delete at any time.
    """
    stamp = LiveClock().now().in_tz(MARKET_TZ).format("YYYYMMDD-HHmmss")
    return runtime_dir / "sim" / f"{task_file_stem(name)}-{stamp}-{os.getpid()}"


def _gate_factory(spec: TaskSpec) -> Callable[[Options], AbsTradeGate]:
    """The strategy's gate, except the real OneQuant gate under a simulated clock."""

    def make(options: Options) -> AbsTradeGate:
        if (
            spec.simulate is not None
            and not spec.simulated_broker
            and gate_name(options.trade_gate) == "onequant"
        ):
            raise ConfigError(
                "--simulate 只模拟时钟：策略开启了账户模块并使用真实的 OneQuant 交易接口，模拟的订单会写进真实的文件单目录；"
                "请加上 --broker sim 使用内置的模拟券商"
            )
        return load_gate(options.trade_gate)

    return make


def _say_if_closed(runtime: Runtime, first: datetime.date, last: datetime.date) -> None:
    day = first
    while day <= last:
        if runtime.calendar.is_trading_day(day):
            return
        day += datetime.timedelta(days=1)
    task_logger.warning(no_trading_day_text(first, last))


@attrs.frozen
class _EmbeddedBroker:
    overrides: Mapping[str, Any]
    poll: Callable[[pendulum.DateTime], None]
    folder: Path
    temporary: Optional[Path] = None  # removed when the task ends
    close: Callable[[], None] = lambda: None
    bar_cache: Optional[BarCache] = None  # the cache its market reads, shared with the runtime
    publish: Optional[Callable[[pendulum.DateTime], None]] = None  # write its balance now


def _sim_market(
    spec: TaskSpec,
    clock: Clock,
    runtime_dir: Path,
    live_data: Callable[[], Optional[AbsDataSource]],
) -> Optional[Market]:
    """The simulated broker's prices: real bars when the cache has the run's days; on a live
    clock without today's bars, the strategy's live quotes (paper trading); else ``None``
    (the random walk, with a warning saying so)."""
    from jqtrade.data.cache import CACHE_FILE
    from jqtrade.sim.bars import market_for_run

    first, last = spec.simulate or (clock.now().date(), clock.now().date())
    path = spec.sim_bars or runtime_dir / CACHE_FILE
    live = spec.simulate is None
    bars = market_for_run(path, first, last, logger=task_logger, warn=not live)
    if bars is not None or not live:
        return bars
    from jqtrade.sim.quotes import QuoteMarket

    task_logger.info(
        "模拟券商按策略行情源（data_source）的实时行情撮合；没有设置行情源或拿不到行情的代码使用随机行情"
    )
    return QuoteMarket(live_data)


def _embedded_broker(
    spec: TaskSpec,
    clock: Clock,
    runtime_dir: Path,
    live_data: Callable[[], Optional[AbsDataSource]] = lambda: None,
) -> _EmbeddedBroker:
    """A simulated broker on a folder, played on the task's own loop (so it follows the clock).

    ``live_data`` gives the strategy's market-data source once it has one (paper trading)."""
    temporary = None if spec.sim_dir else Path(tempfile.mkdtemp(prefix="jqtrade-sim-"))
    folder = spec.sim_dir or temporary
    assert folder is not None
    _make_folder(folder, "模拟券商的目录")
    account_no = "SIM0001"
    simulated = spec.simulate is not None
    market = _sim_market(spec, clock, runtime_dir, live_data)
    if spec.sim_gate == "qmt":
        return _simulated_miniqmt(spec, clock, folder, temporary, market)
    from jqtrade.sim import SimulatedOneQuant
    from jqtrade.sim.onequant import MAX_SNAPSHOT_INTERVAL

    sim = SimulatedOneQuant(
        folder,
        account_no,
        cash=spec.sim_cash,
        encoding="gbk",
        latency=0.0 if simulated else 1.0,
        # On a simulated clock the account's syncs ask for the balance files right before each
        # read (broker_publish), so the broker does not rewrite them on its own in between.
        snapshot_interval=MAX_SNAPSHOT_INTERVAL if simulated else 3.0,
        market=market,
        **spec.sim_broker_options,
    )
    task_logger.warning(
        "使用内置的模拟券商（不是真实交易！）：文件单目录 %s，资金账号 %s", folder, account_no
    )
    _say_sim_fees(spec, sim.broker)
    overrides = {
        "trade_gate": "onequant",
        "order_dir": str(folder),
        "account_no": account_no,
        "file_encoding": "gbk",
    }
    from jqtrade.sim.bars import BarMarket

    cache = market.cache if isinstance(market, BarMarket) else None
    return _EmbeddedBroker(
        overrides,
        sim.poll,
        folder,
        temporary,
        close=cache.close if cache is not None else lambda: None,
        bar_cache=cache,
        publish=sim.write_snapshots,
    )


def _say_sim_fees(spec: TaskSpec, broker: SimBroker) -> None:
    """Log the fees the simulated broker charges when the user set any (what applies, after
    the simulator's defaults filled the rest)."""
    if not spec.sim_broker_options:
        return
    task_logger.info(
        "模拟券商的费用：佣金费率 %s，最低佣金 %s 元，卖出印花税率 %s；按 K 线撮合时每根 K 线最多成交其成交量的 %s",
        broker.commission_rate,
        broker.min_commission,
        broker.stamp_tax_rate,
        broker.volume_ratio,
    )


def _simulated_miniqmt(
    spec: TaskSpec,
    clock: Clock,
    folder: Path,
    temporary: Optional[Path],
    market: Optional[Market] = None,
) -> _EmbeddedBroker:
    """A simulated miniQMT behind the QMT gate: same matching core, xtquant's API and threads."""
    from jqtrade.sim.broker import SimBroker
    from jqtrade.sim.market import PriceFeed
    from jqtrade.sim.xtquant import SimMiniQmt

    account_id = "8880000001"
    userdata = folder / "userdata_mini"
    # Without a market, the random walk SimMiniQmt would make by itself (seed 0), built here so
    # that the fees given apply to it too.
    broker = SimBroker(
        market if market is not None else PriceFeed(),
        spec.sim_cash,
        **spec.sim_broker_options,
    )
    mini = SimMiniQmt(
        userdata, account_id=account_id, clock=clock, cash=spec.sim_cash, broker=broker
    )
    task_logger.warning(
        "使用内置的模拟 miniQMT（不是真实交易！）：userdata_mini 目录 %s，资金账号 %s",
        userdata,
        account_id,
    )
    if mini.broker is not broker and spec.sim_broker_options:
        # its state file restored the broker of an earlier run, with that run's settings
        task_logger.warning(
            "模拟 miniQMT 从目录 %s 中的状态文件恢复，沿用上次运行的费用和成交量比例，"
            "本次给出的 --sim-* 费用参数没有生效；要使用新的设置请换一个 --sim-dir",
            userdata,
        )
    _say_sim_fees(spec, mini.broker)
    overrides = {
        "trade_gate": "qmt",
        "userdata_mini": str(userdata),
        "account_id": account_id,
        "account_no": account_id,
        "xtquant_module": "jqtrade.sim.xtquant",
    }
    if spec.simulate is not None:

        def poll(now: pendulum.DateTime) -> None:
            mini.step(now)
            mini.settle()  # its callbacks reach the gate's queue before the loop syncs
    else:
        mini.start()

        def poll(now: pendulum.DateTime) -> None:
            return None

    from jqtrade.sim.bars import BarMarket

    cache = market.cache if isinstance(market, BarMarket) else None

    def close() -> None:
        mini.close()
        if cache is not None:
            cache.close()

    return _EmbeddedBroker(overrides, poll, folder, temporary, close=close, bar_cache=cache)


def _int_env(text: Optional[str]) -> int:
    try:
        return max(0, int(text)) if text else 0
    except ValueError:
        return 0


def _restored(saved: Optional[TradingStateRequest]) -> Optional[tuple[str, str]]:
    """What a restarting task restores: a saved state other than ``active``."""
    if saved is None or saved.state == "active":
        return None
    if saved.state not in TRADING_STATES:
        task_logger.error(
            "保存的交易状态 %r 不合法，已忽略（可用：%s）", saved.state, "、".join(TRADING_STATES)
        )
        return None
    task_logger.warning(
        "恢复之前保存的交易状态 %s（%s，%s）；用 jqtrade resume_task 恢复正常交易",
        saved.state,
        saved.command,
        saved.reason,
    )
    return saved.state, saved.reason


def _run(
    runtime: Runtime, spec: TaskSpec, handle: TaskHandle, trading_file: TradingStateFile
) -> int:
    mode = "模拟时钟" if spec.simulate else "实时时钟"
    task_logger.info(
        "任务 %s 已启动（%s，策略 %s，定时任务 %d 个）",
        spec.name,
        mode,
        spec.code,
        len(runtime.jobs),
    )
    handle.update(state="running", gate=runtime.gate_name or "-")
    runtime.add_watcher(_control_watcher(runtime, handle))
    runtime.add_watcher(_trading_state_watcher(runtime, handle, trading_file))
    progress = _progress(runtime, spec)
    try:
        until = None
        if spec.simulate is not None:
            end = spec.simulate[1]
            until = pendulum.datetime(end.year, end.month, end.day, 23, 59, 59, tz=MARKET_TZ)
        runtime.run(until)
    finally:
        if progress is not None:
            progress.close()
        reason = runtime.stop_reason or ("simulation_end" if spec.simulate else "stop")
        if handle.record.state in ("starting", "running"):
            handle.update(state="stopping")
        task_logger.info("任务 %s 正在停止（原因：%s），运行停止回调", spec.name, reason)
        runtime.finish()
        task_logger.info("任务 %s 已停止", spec.name)
    return 1 if runtime.failed is not None else 0


def _control_watcher(runtime: Runtime, handle: TaskHandle) -> Callable[[], None]:
    """Poll the stop-request file (the same path on every OS) and refresh the task record."""
    control = handle.control
    wall = LiveClock()  # the record is for people: refresh it at most once per real second
    shown: dict[str, Any] = {"job": None, "sync": None, "at": 0.0}

    def watch() -> None:
        reason = control.poll()
        if reason is not None:
            task_logger.info("收到停止请求（%s）", reason)
            runtime.request_stop(reason)
        now = wall.now().timestamp()
        if now - shown["at"] < 1.0:
            return
        shown["at"] = now
        job = runtime.next_user_job()
        next_job = (
            f"{job.next_fire.format('YYYY-MM-DD HH:mm:ss')} {job.name}"
            if job and job.next_fire
            else None
        )
        account = runtime.account
        last_sync = account.portfolio.last_sync_time if account is not None else None
        stale_sync = last_sync is not None and (
            shown["sync"] is None or (last_sync - shown["sync"]).total_seconds() >= 60
        )
        if (
            next_job != shown["job"] or stale_sync
        ):  # rewrite the record only when it tells something new
            shown["job"], shown["sync"] = next_job, last_sync if stale_sync else shown["sync"]
            handle.update(
                next_job=next_job, last_sync=shown["sync"].isoformat() if shown["sync"] else None
            )

    return watch


def _trading_state_watcher(
    runtime: Runtime, handle: TaskHandle, trading_file: TradingStateFile
) -> Callable[[], None]:
    """Apply what halt_task / reduce_task / resume_task saved (one ``os.stat`` per poll)."""

    def watch() -> None:
        request = trading_file.poll()
        if request is not None:
            apply_trading_request(runtime, handle, request)

    return watch


def apply_trading_request(
    runtime: Runtime, handle: TaskHandle, request: TradingStateRequest
) -> None:
    """Switch the account's trading state as asked, cancel open orders if asked, then acknowledge."""
    account = runtime.account
    task_logger.info(
        "收到交易状态指令（%s）：%s，原因：%s", request.command, request.state, request.reason
    )
    if account is None:
        task_logger.warning(
            "本任务没有开启账户模块，交易状态 %s 不起作用（已保存，开启账户后下次启动生效）",
            request.state,
        )
    else:
        try:
            account.set_trading_state(request.state, request.reason, source="command")
        except ValueError:
            task_logger.error(
                "交易状态 %r 不合法，已忽略（可用：active、reducing、halted）", request.state
            )
        if request.cancel_open:
            cancel_open_orders(account)
    handle.update(
        trading_state=account.trading_state.value if account is not None else None,
        trading_ack=request.id,
    )


def cancel_open_orders(account: Any) -> int:
    """Ask the broker to cancel every unfinished order of today; returns how many were asked."""
    from jqtrade.errors import GateError, OrderNotFoundError, OrderRejectedError
    from jqtrade.model.orders import OrderStatus

    asked = 0
    for order in account.get_orders():
        if order.is_final or order.status is OrderStatus.canceling:
            continue
        try:
            account.cancel_order(order.order_id)
        except (OrderRejectedError, OrderNotFoundError, GateError) as exc:
            task_logger.error("撤销未完成订单 %s 失败：%s", order.order_id, exc)
            continue
        asked += 1
    task_logger.warning("已请求撤销全部未完成订单：%d 笔", asked)
    return asked


# Windows console control events (wincon.h). The last three end the process as soon as a
# handler returns (or after a few seconds: about 5 s after the window is closed, the
# WaitToKillAppTimeout at logoff and shutdown), which Python's own signal handling cannot
# delay: without a handler of our own, closing the window skipped on_strategy_end.
CTRL_C_EVENT = 0
CTRL_BREAK_EVENT = 1
CTRL_CLOSE_EVENT = 2
CTRL_LOGOFF_EVENT = 5
CTRL_SHUTDOWN_EVENT = 6
#: Named as the signals they stand for, so the log gives the same reason on every system.
_KEY_EVENTS = {CTRL_C_EVENT: "SIGINT", CTRL_BREAK_EVENT: "SIGBREAK"}
_ENDING_EVENTS = {
    CTRL_CLOSE_EVENT: "CTRL_CLOSE_EVENT",
    CTRL_LOGOFF_EVENT: "CTRL_LOGOFF_EVENT",
    CTRL_SHUTDOWN_EVENT: "CTRL_SHUTDOWN_EVENT",
}
#: The longest a handler holds the process for the stop; Windows ends it earlier anyway.
CONSOLE_GRACE = 30.0
# Every callback handed to SetConsoleCtrlHandler, kept for the life of the process: a handler
# thread may still be returning through one after it was removed (one per task run).
_console_callbacks: list[Any] = []


class ConsoleEvents:
    """A task's answer to Windows console control events; Windows calls it on a thread of its own.

    * Ctrl+C, Ctrl+Break: request the stop from here (which wakes the clock) and report the
      event handled. Left to Python, the stop would come late: its SIGINT handler runs only
      on the main thread between bytecodes, and on Windows a lock wait with a timeout (the
      clock's wait) is not interrupted by Ctrl+C, so it would run when the wait slice ends.
      Once a stop was requested the event is passed on (False): the C runtime raises SIGINT
      and Python's handler turns a second Ctrl+C into KeyboardInterrupt as on other systems
      (see ``_install_signal_handlers``).
    * Closing the console window, logging off, shutting down: request the stop, then hold the
      handler until :meth:`close` says the task is done (the running callback returned,
      ``on_strategy_end`` ran, the record was released) or ``grace`` seconds passed, and return
      True. Windows ends the process once a handler returns, so returning at once would kill
      the task in the middle of its stop.

    Other events are passed on. Windows documents that an interactive program may already be
    gone when logoff and shutdown events are sent, and that a program that loaded user32.dll
    gets window messages instead: the stop hook then runs only when Windows lets it.
    """

    def __init__(
        self,
        request_stop: Callable[[str], None],
        stopping: Callable[[], bool],
        *,
        grace: float = CONSOLE_GRACE,
    ) -> None:
        self._request_stop = request_stop
        self._stopping = stopping
        self._grace = grace
        self._done = threading.Event()
        self._kernel32: Any = None
        self._callback: Any = None

    def __call__(self, event: int) -> bool:
        """Handle ``event``; True when it was handled (no other handler is called then)."""
        if event in _KEY_EVENTS:
            if self._stopping():
                return False
            self._request_stop(_KEY_EVENTS[event])
            return True
        name = _ENDING_EVENTS.get(event)
        if name is None:
            return False
        task_logger.warning(
            "收到 Windows 控制台事件 %s（关闭窗口、注销或关机），正在停止任务", name
        )
        self._request_stop(name)
        if not self._done.wait(self._grace):
            task_logger.warning("任务在 %g 秒内没有停完，Windows 将结束进程", self._grace)
        return True

    def register(self, *, kernel32: Any = None, functype: Any = None) -> None:
        """Install the handler with ``SetConsoleCtrlHandler``; it runs before Python's own.

        ``kernel32`` and ``functype`` stand in for ``ctypes.WinDLL("kernel32")`` and
        ``ctypes.WINFUNCTYPE`` (tests on other systems pass look-alikes).
        """
        import ctypes

        if kernel32 is None:
            kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]  # Windows only
        if functype is None:
            functype = ctypes.WINFUNCTYPE  # type: ignore[attr-defined]  # Windows only
        handler_type = functype(ctypes.c_int, ctypes.c_uint)  # BOOL WINAPI HandlerRoutine(DWORD)

        def routine(event: int) -> int:
            try:
                return 1 if self(event) else 0
            except BaseException:  # noqa: BLE001 - nothing may escape into Windows' thread
                task_logger.exception("处理 Windows 控制台事件 %s 时出错", event)
                return 0

        callback = handler_type(routine)
        _console_callbacks.append(callback)  # Windows holds only its address
        if not kernel32.SetConsoleCtrlHandler(callback, 1):
            task_logger.warning(
                "无法注册 Windows 控制台事件处理（关闭窗口时可能来不及运行停止回调）"
            )
            return
        self._kernel32, self._callback = kernel32, callback

    def close(self) -> None:
        """The task is done: let a waiting handler return, and remove the handler."""
        self._done.set()
        if self._callback is not None:
            self._kernel32.SetConsoleCtrlHandler(self._callback, 0)
            self._kernel32 = self._callback = None


def _install_signal_handlers(runtime: Runtime) -> dict[int, Any]:
    previous: dict[int, Any] = {}

    def handler(signum: int, frame: Any) -> None:
        if runtime.stop_reason is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt  # a second Ctrl+C interrupts a callback that hangs
        runtime.request_stop(signal.Signals(signum).name)

    for name in ("SIGINT", "SIGTERM", "SIGBREAK"):
        signum = getattr(signal, name, None)
        if signum is None:
            continue
        try:
            previous[signum] = signal.signal(signum, handler)
        except (ValueError, OSError):  # not the main thread, or not supported here
            pass
    return previous


def _restore_signal_handlers(previous: dict[int, Any]) -> None:
    for signum, old in previous.items():
        try:
            signal.signal(signum, old)
        except (ValueError, OSError):
            pass
