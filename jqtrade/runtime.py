"""Binds one strategy to a clock, a calendar, options, the event loop and (optionally) an account.

The runtime owns the strategy's life: ``initialize`` runs ``process_initialize`` (the only
phase where jobs and options may be set), ``run`` drives the loop, ``finish`` calls the stop
hook exactly once.

The account starts on first use: the first call that needs it inside ``process_initialize``
(``context.portfolio``, ``order``, ``get_orders`` ...) builds the gate, sets it up and syncs, with
the options set so far; if nothing used it, it starts when ``process_initialize`` returns. From
then on the options it read are fixed (``ACCOUNT_OPTION_NAMES``): changing one is an error in
the class API, and a warning (the change is ignored) in a legacy script. The sync jobs
(:func:`jqtrade.account.sync_jobs.sync_plan`) join the loop after ``process_initialize``, when
the schedule options are final. The strategy's hooks run under the loop's error policy
(:meth:`jqtrade.loop.EventLoop.call_user`), like its scheduled jobs.

Market data (:attr:`Runtime.market_data`) is built on first use too, once: ``get_bars``,
``get_price``, ``context.current_data`` and the account's price checks all read it. A simulated
run (``--simulate``) always reads the local bar cache as of the simulated time; a live run reads
the source the ``data_source`` option names (none by default).

The task runner uses only the public part: ``initialize``, ``run``, ``finish``, ``request_stop``,
``stop_reason``, ``failed``, ``add_watcher``, ``add_internal_job``, ``next_user_job``, ``gate_name``,
``market_data``.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Callable, Optional

import attrs
import pendulum

from jqtrade.account.account import Account
from jqtrade.account.sync_jobs import EventSync, sync_plan
from jqtrade.calendar import TradingCalendar
from jqtrade.clock import Clock
from jqtrade.context import Context
from jqtrade.data import (
    AbsDataSource,
    BarCache,
    CacheSource,
    CurrentData,
    CurrentDataItem,
    DataConfigError,
    DataError,
    TtlQuoteSource,
    make_source,
)
from jqtrade.data.cache import CACHE_FILE
from jqtrade.errors import (
    AccountDisabledError,
    AccountNotReadyError,
    AccountOptionLockedError,
    ScheduleArgumentError,
)
from jqtrade.gates import build_gate, configure_gate, wrap_gate
from jqtrade.gates.base import AbsTradeGate, GateEnv
from jqtrade.loop import EventLoop, Job
from jqtrade.options import Options
from jqtrade.schedule import Rule, daily_rule, monthly_rule, parse_time_expression, weekly_rule
from jqtrade.strategy import Strategy

logger = logging.getLogger("jqtrade.runtime")


@attrs.frozen
class _PendingJob:
    kind: str
    func: Callable[[Context], Any]
    expression: str
    n: Optional[int]
    name: str
    grace: Optional[float]


@attrs.define
class _MarketData:
    """The runtime's market data: the source (``None`` if there is none, ``error`` why), the
    cache behind it and the one ``current_data`` of the run; ``key`` is the options it follows."""

    key: tuple[Any, ...]
    source: Optional[AbsDataSource] = None
    current: Optional[CurrentData] = None
    error: Optional[Exception] = None
    prefetched: bool = False
    closers: list[Callable[[], None]] = attrs.Factory(list)

    @classmethod
    def open(cls, key: tuple[Any, ...], opts: Options, runtime: Runtime) -> _MarketData:
        data = cls(key)
        name = opts.data_source
        try:
            inner: Optional[AbsDataSource] = None
            if runtime.clock.is_simulated or name == "cache":
                if name not in (None, "cache"):
                    logger.warning(
                        "模拟运行按模拟时间从本地缓存读取行情：行情源 %s 只能给出现在的行情，不能回答过去的时间，"
                        "已改用本地缓存（先用 jqtrade data fetch --source %s 把需要的 K 线下载到缓存）",
                        name,
                        name,
                    )
                cache = runtime._bar_cache
                if cache is None or cache.path != (runtime.runtime_dir / CACHE_FILE).expanduser():
                    cache = BarCache.in_runtime_dir(runtime.runtime_dir, calendar=runtime.calendar)
                    data.closers.append(cache.close)
                inner = CacheSource(cache, calendar=runtime.calendar)
            elif name is not None:
                inner = _make_source(name, opts.data_options, runtime.calendar)
                data.closers.append(inner.close)
        except DataError as exc:
            logger.error("行情源 %s 无法使用：%s", name or "cache", exc)
            data.error = exc
            return data
        if inner is not None:
            data.source = TtlQuoteSource(inner)
            data.current = CurrentData(data.source, runtime.clock)
            logger.debug("行情数据：%r", inner)
        return data

    def close(self) -> None:
        for closer in reversed(self.closers):
            with contextlib.suppress(Exception):
                closer()
        self.closers.clear()


def _make_source(name: str, options: Mapping[str, Any], calendar: TradingCalendar) -> AbsDataSource:
    """The adapter ``name`` with ``data_options``; a wrong argument name becomes a Chinese error
    (the values are never shown: they may be secrets)."""
    try:
        return make_source(name, calendar=calendar, **options)
    except TypeError as exc:
        raise DataConfigError(
            f"行情源 {name} 不接受选项 data_options 中的参数 {sorted(options)}（{exc}）"
        ) from None


def _callable_name(func: Callable[..., Any]) -> str:
    return getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or repr(func)


class Runtime:
    """One running strategy."""

    def __init__(
        self,
        strategy: Strategy,
        *,
        clock: Clock,
        options: Optional[Options] = None,
        calendar: Optional[TradingCalendar] = None,
        gate_factory: Optional[Callable[[Options], AbsTradeGate]] = None,
        task_name: str = "default",
        overrides: Optional[Mapping[str, Any]] = None,
        broker_poll: Optional[Callable[[pendulum.DateTime], None]] = None,
        broker_publish: Optional[Callable[[pendulum.DateTime], None]] = None,
        state_dir: Optional[Path] = None,
        id_dir: Optional[Path] = None,
        restore_trading_state: Optional[tuple[str, str]] = None,
        bar_cache: Optional[BarCache] = None,
    ) -> None:
        """``state_dir``: where the account keeps its order journal (default: the runtime folder);
        a simulated run passes a folder of its own so that it never meets live state.
        ``id_dir``: where order-id counters live when the gate names no folder of its own
        (default ``<state_dir>/order_ids``).
        ``restore_trading_state``: ``(state, reason)`` saved by ``halt_task`` / ``reduce_task``,
        set on the account as soon as it starts (source ``restored``).
        ``broker_poll``: one round of an embedded simulated broker at the time given;
        ``broker_publish``: it writes its balance as of that time (before the account reads it).
        ``bar_cache``: a cache the caller keeps open (the simulated broker's); when it is the
        runtime folder's, market data reads through it rather than a second connection, so a
        day of bars read by the broker is not read again for the strategy's quotes."""
        self.strategy = strategy
        self.clock = clock
        self.options = options or Options()
        self.calendar = calendar or TradingCalendar.builtin(
            extra_closures=self.options.extra_holidays, runtime_dir=self.runtime_dir
        )
        self._calendar_given = calendar is not None
        self.context = Context(self)
        self.loop = EventLoop(clock, stop_on_error=self.options.on_callback_error == "stop")
        self.account: Optional[Account] = None
        self.task_name = task_name
        self._overrides = dict(overrides or {})
        self._effective: Optional[tuple[Options, Options]] = None  # (options, with overrides)
        self._broker_poll = broker_poll
        self._broker_publish = broker_publish
        self._bar_cache = bar_cache
        self._state_dir = Path(state_dir) if state_dir is not None else None
        self._id_dir = Path(id_dir) if id_dir is not None else None
        self._gate_factory = gate_factory  # None: the gate trade_gate names
        self._pending: list[_PendingJob] = []
        self._account_allowed = True
        self._account_options: Optional[Options] = None  # what the running account started with
        self._account_started_by = ""  # the call that started it, for error messages
        self._calendar_key = (self.options.extra_holidays, self.options.runtime_dir)
        self.initializing = False
        self._finished = False
        self.jobs: list[Job] = []
        #: The event-driven syncs of a simulated embedded broker (``None`` otherwise).
        self.sync_events: Optional[EventSync] = None
        self._restore_trading_state = restore_trading_state
        #: Called after the strategy's hook with each TradingStateChange (the task record).
        self.trading_state_listeners: list[Callable[[Any], None]] = []
        #: Set by the task runner when notifications are configured (``jqtrade.notify.Notifier``).
        self.notifier: Optional[Any] = None
        self._data: Optional[_MarketData] = None  # built on first use (market_data)
        strategy._bind(self)

    # -- phase 1: process_initialize --------------------------------------------------------

    def initialize_schedule_only(self) -> None:
        """Run ``process_initialize`` and build the jobs, without starting the account."""
        self.initialize(account=False)

    def initialize(self, *, account: bool = True) -> None:
        """Run ``process_initialize``, then turn what it registered into loop jobs.

        ``account=False`` (the schedule preview) never starts the account."""
        self._account_allowed = account
        try:
            self._initialize()
        except BaseException:
            if self.account is not None:  # started inside process_initialize: release it
                with contextlib.suppress(Exception):
                    self.account.close()
                self.account = None
            raise

    def _initialize(self) -> None:
        self.initializing = True
        try:
            self.strategy.process_initialize(self.context)
        finally:
            self.initializing = False
        self.options = opts = self._effective_options()
        self._refresh_calendar(opts)
        self.loop.grace = opts.misfire_grace_time
        self.loop.stop_on_error = opts.on_callback_error == "stop"
        if self.account is None and opts.account_enabled and self._account_allowed:
            self._start_account("process_initialize 结束")
        if self.account is not None:
            plan = sync_plan(
                self.account,
                opts,
                calendar=self.calendar,
                simulated=self.clock.is_simulated,
                broker_poll=self._broker_poll,
                broker_publish=self._broker_publish,
            )
            self.sync_events = plan.events
            if plan.events is not None:
                plan.events.attach(self.loop)
            for job in plan.jobs:
                self.loop.add_job(job)
        for pending in self._pending:
            self.jobs.append(self.loop.add_job(self._make_job(pending)))

    def _effective_options(self) -> Options:
        """The options so far with the runner's overrides (``--broker sim``), which always win.

        Kept until ``self.options`` changes: market data and every order ask for them, and
        validating the overrides again each time costs ~0.1 ms."""
        if not self._overrides:
            return self.options
        cached = self._effective
        if cached is None or cached[0] is not self.options:
            cached = self._effective = (self.options, self.options.evolve(self._overrides))
        return cached[1]

    def _refresh_calendar(self, opts: Options) -> None:
        key = (opts.extra_holidays, opts.runtime_dir)
        if not self._calendar_given and key != self._calendar_key:
            self.calendar = TradingCalendar.builtin(
                extra_closures=opts.extra_holidays, runtime_dir=self.runtime_dir
            )
            self._calendar_key = key

    def _open_gate(self, opts: Options) -> AbsTradeGate[Any]:
        """The gate ``trade_gate`` names (or the injected factory's), wrapped if it speaks an
        older contract and configured from the options (``jqtrade.gates.build_gate``)."""
        env = GateEnv(
            clock=self.clock,
            runtime_dir=self.runtime_dir,
            task_name=self.task_name,
            simulate=self.clock.is_simulated,
        )
        if self._gate_factory is None:
            return build_gate(opts.trade_gate, opts.as_dict(), env)
        made = wrap_gate(self._gate_factory(opts))
        try:
            return configure_gate(made, opts.as_dict(), env)
        except Exception:
            with contextlib.suppress(Exception):
                made.close()
            raise

    def _start_account(self, started_by: str) -> Account:
        """Build the gate, set it up, open the journal and sync once, with the options so far."""
        opts = self._effective_options()
        self._refresh_calendar(opts)
        account: Optional[Account] = None
        gate: Optional[AbsTradeGate[Any]] = None
        try:
            gate = self._open_gate(opts)
            account = Account(
                gate=gate,
                clock=self.clock,
                options=opts,
                runtime_dir=self.state_dir,
                # The gate's own counter folder (shared by every writer of its broker folder) wins.
                id_dir=None if getattr(gate, "order_id_dir", None) is not None else self._id_dir,
                task_name=self.task_name,
                notify=self._notify,
                calendar=self.calendar,
                quote_lookup=self._quote_for_checks,
            )
            account.on_trading_state_change = self._on_trading_state_change
            if self._broker_poll is not None:
                # The embedded simulated broker publishes its files before the first sync, as a
                # running OneQuant has them: a portfolio read in process_initialize is the real one.
                self._broker_poll(self.clock.now())
            account.start()
        except Exception:
            # Nothing half-started stays open; a legacy call that logs the error may try again.
            with contextlib.suppress(Exception):
                if account is not None:
                    account.close()
                elif gate is not None:
                    gate.close()
            raise
        self.account, self._account_options, self._account_started_by = account, opts, started_by
        if self._restore_trading_state is not None:  # once started: the hook may read context
            state, reason = self._restore_trading_state
            account.set_trading_state(state, reason, source="restored")
        logger.debug("账户模块已启动（%s）", started_by)
        return account

    def _notify(self, hook: str, value: Any) -> None:
        """Run a user hook (on_order_update / on_trade) under the loop's error policy."""
        self.loop.call_user(hook, getattr(self.strategy, hook), self.context, value)

    def _on_trading_state_change(self, change: Any) -> None:
        """The account's one listener: the strategy's hook, then the runner's listeners."""
        self.loop.call_user(
            "on_trading_state_change",
            self.strategy.on_trading_state_change,
            self.context,
            change.old,
            change.new,
            change.reason,
        )
        for listener in self.trading_state_listeners:
            listener(change)

    def schedule(
        self,
        kind: str,
        func: Callable[[Context], Any],
        expression: str,
        n: Optional[int],
        *,
        name: Optional[str],
        grace: Optional[float],
    ) -> None:
        if not callable(func):
            raise ScheduleArgumentError("func", func, "应为函数或方法，签名为 func(context)")
        if grace is not None and (
            isinstance(grace, bool)
            or not isinstance(grace, (int, float))
            or not 0 <= grace < math.inf
        ):
            raise ScheduleArgumentError("grace", grace, "应为 ≥ 0 的秒数")
        parse_time_expression(expression)  # syntax errors surface at the call site
        if kind != "daily":
            label = "weekday" if kind == "weekly" else "monthday"
            limit = 5 if kind == "weekly" else 31
            if isinstance(n, bool) or not isinstance(n, int) or n == 0 or abs(n) > limit:
                raise ScheduleArgumentError(
                    label, n, f"应为 1~{limit} 或 -1~-{limit} 的整数（第几个交易日，负数表示倒数）"
                )
        self._pending.append(
            _PendingJob(kind, func, expression, n, name or _callable_name(func), grace)
        )

    def set_options(self, values: Mapping[str, Any], *, legacy: bool = False) -> None:
        """Merge ``values`` into the options set so far (a second call keeps the first's keys).

        ``legacy=True`` (function-style scripts) reads them as jqtrade 1.0 did and logs a warning
        for each surprise: see :meth:`Options.evolve_legacy`. Once the account runs, changing an
        option it used raises :class:`AccountOptionLockedError`, or for a legacy script logs a
        warning and keeps the running value (1.0 rebuilt the account and forgot its orders).
        """
        if legacy:
            options, notes = self.options.evolve_legacy(values)
            for note in notes:
                logger.warning(note)
        else:
            options = self.options.evolve(values)
        if self._account_options is not None:
            options = self._keep_account_options(options, legacy=legacy)
        self.options = options
        # Hooks may already run inside process_initialize (the account's first sync).
        self.loop.stop_on_error = self._effective_options().on_callback_error == "stop"

    def _keep_account_options(self, options: Options, *, legacy: bool) -> Options:
        started = self._account_options
        assert started is not None
        wanted = options.evolve(self._overrides) if self._overrides else options
        changed = wanted.changed_account_options(started)
        if not changed:
            return options
        if not legacy:
            raise AccountOptionLockedError(changed, self._account_started_by)
        for name in changed:
            logger.warning(
                "账户已在调用 %s 时启动，set_options 对 %s 的修改（%r → %r）已忽略：账户选项只在账户启动前生效，"
                "请把 set_options 放在使用账户（context.portfolio、order、get_orders 等）之前"
                "（jqtrade 1.0 会用新选项重建账户，并忘掉之前的订单）",
                self._account_started_by,
                name,
                started.account_values().get(name),
                wanted.account_values().get(name),
            )
        return options.with_values_of(self.options, changed)

    def _make_job(self, pending: _PendingJob) -> Job:
        period = self.options.market_period
        rule: Rule
        if pending.kind == "daily":
            rule = daily_rule(self.calendar, pending.expression, period)
        elif pending.kind == "weekly":
            rule = weekly_rule(self.calendar, pending.n, pending.expression, period)  # type: ignore[arg-type]
        else:
            rule = monthly_rule(self.calendar, pending.n, pending.expression, period)  # type: ignore[arg-type]
        func, context = pending.func, self.context

        def fire(slot: pendulum.DateTime) -> None:
            context._set_strategy_dt(slot)
            try:
                func(context)
            finally:
                context._set_strategy_dt(None)

        return Job(name=pending.name, rule=rule, callback=fire, grace=pending.grace)

    # -- phase 2: running -------------------------------------------------------------------

    def run(self, until: Optional[pendulum.DateTime] = None) -> None:
        self.loop.run(until)

    def request_stop(self, reason: str = "stop") -> None:
        self.loop.request_stop(reason)

    @property
    def stop_reason(self) -> Optional[str]:
        """Why the loop stops (``None`` while it runs on): ``"stop"``, a signal name, ``"callback_error"`` ..."""
        return self.loop.stop_reason

    @property
    def failed(self) -> Optional[BaseException]:
        """The user error that stopped the run under ``on_callback_error="stop"``; else ``None``."""
        return self.loop.failed

    def add_watcher(self, watcher: Callable[[], None]) -> None:
        """Call ``watcher()`` on every wake-up of the loop (at least once a second on a live clock)."""
        self.loop.add_watcher(watcher)

    def add_internal_job(
        self, name: str, rule: Rule, callback: Callable[[pendulum.DateTime], object]
    ) -> Job:
        """Add a job of jqtrade's own (not the strategy's): it runs first at its instant, its
        errors never stop the task, and it is not shown as the strategy's next job."""
        return self.loop.add_job(Job(name=name, rule=rule, internal=True, callback=callback))

    def next_user_job(self) -> Optional[Job]:
        """The strategy's job that fires next, if any."""
        return self.loop.next_user_job()

    @property
    def gate_name(self) -> Optional[str]:
        """The ``name`` of the running account's gate; ``None`` when no account runs."""
        return self.account.gate.name if self.account is not None else None

    def finish(self) -> None:
        """Call the stop hook once and release the account; errors are logged, not raised."""
        if self._finished:
            return
        self._finished = True
        try:
            self.strategy.on_strategy_end(self.context)
        except Exception:  # noqa: BLE001 - a failing stop hook must not hide the stop
            logger.exception("停止回调 on_strategy_end 运行出错")
        if self.account is not None:
            try:
                self.account.close()
            except Exception:  # noqa: BLE001
                logger.exception("关闭账户模块出错")
        if self._data is not None:
            self._data.close()
            self._data = None

    # -- market data ------------------------------------------------------------------------

    @property
    def market_data(self) -> Optional[AbsDataSource]:
        """The strategy's market-data source, built on first use; ``None`` when there is none.

        Simulated (``--simulate``): the local bar cache ``<runtime_dir>/data/bars.sqlite``
        answering as of the simulated time, whatever ``data_source`` says (a live source cannot
        answer for past times: a warning says so). Live: the source ``data_source`` names, with
        ``data_options``; ``None`` when it is not set. Quotes are kept for 3 seconds of the
        clock's time (:class:`~jqtrade.data.TtlQuoteSource`), so a callback asking for 300 codes
        makes one request. A source that cannot be built (package missing, no token) is
        ``None`` too; :meth:`require_market_data` raises its error.
        """
        return self._market().source

    def require_market_data(self, api: str) -> AbsDataSource:
        """:attr:`market_data`, or the Chinese error saying how to configure it."""
        data = self._market()
        if data.source is None:
            if data.error is not None:
                raise data.error
            raise DataConfigError(
                f"{api} 需要行情源，但没有设置：请用 set_options(data_source='mootdx') 等选择行情源"
                "（可选 cache、mootdx、akshare、tushare、jqdatasdk、xtdata，见“行情数据”一章），"
                "或先用 jqtrade data fetch / jqtrade data import 填充本地缓存，再设置 data_source='cache'；"
                "模拟运行（--simulate）总是读本地缓存"
            )
        return data.source

    def require_current_data(self, api: str) -> CurrentData:
        """``context.current_data``: one :class:`CurrentData` per run over :attr:`market_data`.

        The first use asks for the held positions' quotes together with it (one request)."""
        data = self._market()
        self.require_market_data(api)
        assert data.current is not None
        if not data.prefetched:
            data.prefetched = True
            if self.account is not None:
                held = [
                    code
                    for code, p in self.account.portfolio.long_positions.items()
                    if p.total_amount
                ]
                if held:
                    data.current.prefetch(held)
        return data.current

    def _market(self) -> _MarketData:
        opts = self._effective_options()
        key = (
            opts.data_source,
            tuple(sorted(opts.data_options.items(), key=lambda kv: kv[0])),
            str(self.runtime_dir),
            self.clock.is_simulated,
        )
        if self._data is not None and self._data.key != key:  # set_options changed it
            self._data.close()
            self._data = None
        if self._data is None:
            self._data = _MarketData.open(key, opts, self)
        return self._data

    def _quote_for_checks(self, code: str) -> Optional[CurrentDataItem]:
        """The account's price lookup: today's quote, or a stale one saying why there is none.

        Never builds an empty cache file: with no cache yet, there are no prices to check."""
        if self._data is None:
            opts = self._effective_options()
            reads_cache = self.clock.is_simulated or opts.data_source == "cache"
            path = self.runtime_dir / CACHE_FILE
            if reads_cache and not path.exists():
                return CurrentDataItem.unknown(code, f"本地 K 线缓存 {path} 不存在")
            if opts.data_source is None and not self.clock.is_simulated:
                return CurrentDataItem.unknown(code, "没有设置行情源（选项 data_source）")
        data = self._market()
        if data.current is None:
            why = (
                str(data.error) if data.error is not None else "没有设置行情源（选项 data_source）"
            )
            return CurrentDataItem.unknown(code, why)
        return data.current[code]

    # -- helpers ----------------------------------------------------------------------------

    def require_account(self, api: str) -> Account:
        """The running account; inside ``process_initialize`` the first call starts it."""
        if self.account is not None:
            if self.sync_events is not None:
                self.sync_events.accessed(api)  # a simulated broker syncs on use
            return self.account
        if self.initializing and self._effective_options().account_enabled:
            if not self._account_allowed:
                raise AccountNotReadyError(api)
            return self._start_account(api)
        raise AccountDisabledError(api)

    @property
    def runtime_dir(self) -> Path:
        return Path(self.options.runtime_dir).expanduser()

    @property
    def state_dir(self) -> Path:
        """The folder of the account's journal: the runtime folder unless a run was given its own."""
        return self._state_dir if self._state_dir is not None else self.runtime_dir
