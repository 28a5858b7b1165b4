"""The incidents behind the truthful-state rules, replayed over real OneQuant files: the
account, the OneQuant gate and the simulated broker in one process on a simulated day."""

from __future__ import annotations

import datetime
import logging
from pathlib import Path
from typing import Any

import pendulum

from jqtrade import Context, LimitOrderStyle, OrderRejectedError, Strategy
from jqtrade.clock import MARKET_TZ, SimClock
from jqtrade.options import Options
from jqtrade.runtime import Runtime
from jqtrade.sim import SimulatedOneQuant

DAY = datetime.date(2024, 6, 3)
ACCOUNT = "SIM0001"


def at(hour: int, minute: int = 0) -> pendulum.DateTime:
    return pendulum.datetime(DAY.year, DAY.month, DAY.day, hour, minute, tz=MARKET_TZ)


class TargetEveryMinute(Strategy):
    """The script from the incident report: trusts is_stale, then order_target every minute."""

    def __init__(self) -> None:
        self.refused: list[str] = []
        self.stale_seen = 0

    def process_initialize(self, context: Context) -> None:
        self.set_options(use_account=True)
        self.run_daily(self.trade, "every_minute")

    def trade(self, context: Context) -> None:
        if context.portfolio.is_stale:
            self.stale_seen += 1
            return
        try:
            self.order_target("600000.XSHG", 1000, LimitOrderStyle(0))
        except OrderRejectedError as exc:
            self.refused.append(exc.reason)


def run_day(tmp_path: Path, strategy: Strategy, poll: Any, sim: SimulatedOneQuant) -> Runtime:
    runtime = Runtime(
        strategy,
        clock=SimClock(at(9, 0)),
        options=Options().evolve({"runtime_dir": str(tmp_path / "runtime")}),
        task_name="truth",
        overrides={
            "trade_gate": "onequant",
            "order_dir": str(sim.directory),
            "account_no": ACCOUNT,
            "file_encoding": "gbk",
        },
        broker_poll=poll,
    )
    runtime.initialize()
    runtime.run(until=at(15, 10))
    return runtime


def bought_at_broker(sim: SimulatedOneQuant) -> int:
    assert sim.files is not None
    lines = sim.files.algo_order.read_bytes().decode("gbk").splitlines()[1:]
    return sum(int(line.split(",")[6]) for line in lines if line.split(",")[5] == "1")


def test_a_positions_file_left_half_written_never_makes_order_target_overbuy(tmp_path):
    sim = SimulatedOneQuant(
        tmp_path / "broker",
        ACCOUNT,
        cash=1_000_000,
        encoding="gbk",
        latency=0.0,
        snapshot_interval=30.0,
    )

    def poll(now: pendulum.DateTime) -> None:
        sim.poll(now)
        if now >= at(9, 45) and sim.files is not None and sim.files.position_info.exists():
            data = sim.files.position_info.read_bytes()
            sim.files.position_info.write_bytes(data[: len(data) // 2])  # torn, and it stays torn

    strategy = TargetEveryMinute()
    runtime = run_day(tmp_path, strategy, poll, sim)
    assert bought_at_broker(sim) == 1000
    portfolio = runtime.context.portfolio
    assert portfolio.is_stale and "positionInfo" in (portfolio.stale_reason or "")
    assert portfolio.as_of is not None and portfolio.as_of < at(9, 46)
    assert portfolio.long_positions["600000.XSHG"].total_amount == 1000
    runtime.finish()


def test_a_simulated_day_starts_without_warnings_about_files_not_written_yet(tmp_path, caplog):
    sim = SimulatedOneQuant(
        tmp_path / "broker",
        ACCOUNT,
        cash=1_000_000,
        encoding="gbk",
        latency=0.0,
        snapshot_interval=30.0,
    )
    strategy = TargetEveryMinute()
    with caplog.at_level(logging.INFO):
        runtime = run_day(tmp_path, strategy, sim.poll, sim)
    runtime.finish()
    noisy = [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING
        and r.name.startswith("jqtrade.")
        and ("不存在" in r.getMessage() or "不完整" in r.getMessage())
    ]
    assert noisy == []
    assert bought_at_broker(sim) == 1000 and strategy.stale_seen == 0
