"""Fees and fill fraction of ``start_task --broker sim``: ``--sim-commission-rate``,
``--sim-min-commission``, ``--sim-stamp-tax-rate`` and ``--sim-volume-ratio``.

A bad value is refused in the parent process (status 2, one Chinese line naming the flag and
the value) before anything starts, as ``--sim-cash`` is. A value given reaches the simulated
broker behind either gate: the cash of a buy-then-sell run (and, behind the QMT gate, the
commission on each order) follows the rates given; a tiny volume ratio caps a fill on a bar
of the cache. The defaults are the simulator's own (``SimBroker``'s signature), never repeated.
"""

from __future__ import annotations

import argparse
import datetime
import inspect
import json
import math
import subprocess
import sys
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sample_support import write_sample
from support import cli_env, file_contains, wait_for
from test_cli_tasks import IDLE_ACCOUNT, TIMEOUT, Bench

from jqtrade.cli import build_parser, main
from jqtrade.data import BarCache
from jqtrade.data.sessions import close_time
from jqtrade.errors import ConfigError
from jqtrade.sim import SimulatedOneQuant
from jqtrade.sim.broker import SimBroker
from jqtrade.sim.market import PriceFeed
from jqtrade.tasks.runner import SIM_NUMBER_FLAGS, TaskSpec, parse_sim_number

#: flag -> the SimBroker (and SimulatedOneQuant) keyword it sets
KEYWORDS = {
    "--sim-commission-rate": "commission_rate",
    "--sim-min-commission": "min_commission",
    "--sim-stamp-tax-rate": "stamp_tax_rate",
    "--sim-volume-ratio": "volume_ratio",
}
DEFAULTS: dict[str, float] = {
    keyword: inspect.signature(SimBroker.__init__).parameters[keyword].default
    for keyword in KEYWORDS.values()
}
CASH = 1_000_000
CENT = Decimal("0.01")
CODE = "600000.XSHG"
TAG = "FEES-JSON "

#: Buys JQT_BUY shares on the first day, sells what it can on a later one, and logs its orders
#: and cash after every close.
TRADER = f'''
import json
import os

from jqtrade import Context, LimitOrderStyle, Strategy


class FeeTrader(Strategy):
    def process_initialize(self, context: Context) -> None:
        self.set_options(use_account=True)
        self.run_daily(self.trade, "10:00")
        self.run_daily(self.report, "after_close")

    def trade(self, context: Context) -> None:
        held = context.portfolio.long_positions.get("{CODE}")
        if held is not None and held.closeable_amount > 0:
            self.order("{CODE}", -held.closeable_amount, LimitOrderStyle(0))
        elif held is None:
            self.order("{CODE}", int(os.environ.get("JQT_BUY", "1000")), LimitOrderStyle(0))

    def report(self, context: Context) -> None:
        orders = [
            {{
                "buy": o.is_buy,
                "filled": o.filled_amount,
                "deal": o.deal_balance,
                "commission": o.commission,
            }}
            for o in self.get_orders()
        ]
        record = {{"cash": context.portfolio.available_cash, "orders": orders}}
        self.log.info("{TAG}%s", json.dumps(record))
'''


def error_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


# --- bad values, refused before anything starts ------------------------------------------


def _refused(text: str, flag: str) -> bool:
    """Whether ``text`` is no number or one the simulator itself refuses for ``flag``: the
    oracle is SimBroker's own check, not a copy of the parser's."""
    try:
        value = float(text)
    except ValueError:
        return True
    try:
        SimBroker(PriceFeed(), CASH, **{KEYWORDS[flag]: value})  # type: ignore[arg-type]
    except ValueError:
        return True
    return False


def _bad_number(flag: str) -> st.SearchStrategy[str]:
    rule = SIM_NUMBER_FLAGS[flag]
    out_of_range = st.one_of(
        st.floats(max_value=rule.low, exclude_max=not rule.low_open),
        st.floats(min_value=rule.high, exclude_min=True),
        st.sampled_from([math.nan, math.inf, -math.inf]),
    ).map(repr)
    not_a_number = st.text(max_size=8).filter(lambda text: _refused(text, flag))
    return st.one_of(out_of_range, not_a_number, st.sampled_from(["1", "-0.1", "1e400", "abc"]))


@pytest.mark.parametrize("flag", list(SIM_NUMBER_FLAGS))
@given(data=st.data())
def test_a_bad_number_is_refused_naming_the_flag_and_the_value(flag: str, data: Any) -> None:
    text = data.draw(_bad_number(flag).filter(lambda t: _refused(t, flag)))
    with pytest.raises(ConfigError) as info:
        parse_sim_number(flag, text)
    message = str(info.value)
    assert flag in message and repr(text) in message and "应为" in message, message


@pytest.mark.parametrize("flag", list(SIM_NUMBER_FLAGS))
@given(data=st.data())
def test_a_number_in_range_is_taken_as_given(flag: str, data: Any) -> None:
    rule = SIM_NUMBER_FLAGS[flag]
    value = data.draw(st.floats(min_value=rule.low, max_value=rule.high, exclude_min=rule.low_open))
    assert parse_sim_number(flag, repr(value)) == value


@pytest.mark.parametrize("flag", list(SIM_NUMBER_FLAGS))
def test_the_bounds_are_the_simulators_own(flag: str) -> None:
    """A value the parent accepts never fails the broker in a (background) child."""
    rule, keyword = SIM_NUMBER_FLAGS[flag], KEYWORDS[flag]
    assert rule.field == f"sim_{keyword}"
    edges = [rule.high] + ([] if rule.low_open else [rule.low])
    for edge in edges:
        SimBroker(PriceFeed(), CASH, **{keyword: edge})  # type: ignore[arg-type]
    outside = [math.nextafter(rule.high, math.inf), math.nextafter(rule.low, -math.inf)]
    if rule.low_open:
        outside.append(rule.low)
    for value in outside:
        with pytest.raises(ValueError):
            SimBroker(PriceFeed(), CASH, **{keyword: value})  # type: ignore[arg-type]
        with pytest.raises(ConfigError):
            parse_sim_number(flag, repr(value))


def _start(tmp_path: Path, *extra: str) -> list[str]:
    return [
        "start_task",
        "-n",
        "fees",
        "-c",
        str(tmp_path / "missing.py"),  # never read: refused before
        "--simulate",
        "2024-01-02",
        "--runtime-dir",
        str(tmp_path / "runtime"),
        *extra,
    ]


@pytest.mark.parametrize(
    ("flag", "text"),
    [
        ("--sim-commission-rate", "abc"),
        ("--sim-commission-rate", "-0.001"),
        ("--sim-commission-rate", "nan"),
        ("--sim-commission-rate", "1"),
        ("--sim-commission-rate", "0.02"),
        ("--sim-min-commission", "-5"),
        ("--sim-min-commission", "inf"),
        ("--sim-min-commission", "五元"),
        ("--sim-stamp-tax-rate", "1.5"),
        ("--sim-stamp-tax-rate", "-inf"),
        ("--sim-volume-ratio", "0"),
        ("--sim-volume-ratio", "1.01"),
        ("--sim-volume-ratio", "-0.25"),
        ("--sim-volume-ratio", "NaN"),
    ],
)
def test_start_task_exits_2_on_a_bad_value(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], flag: str, text: str
) -> None:
    assert main(_start(tmp_path, "--broker", "sim", f"{flag}={text}")) == 2
    lines = error_lines(capfd.readouterr().err)
    assert len(lines) == 1 and lines[0].startswith("错误："), lines
    assert flag in lines[0] and repr(text) in lines[0] and "不合法" in lines[0], lines[0]
    assert not (tmp_path / "runtime").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["--sim-commission-rate", "0.001"],
        ["--sim-volume-ratio=0.5", "--sim-cash", "50000"],
        [part for flag in KEYWORDS for part in (flag, "0.001")],
    ],
    ids=["one", "with-sim-cash", "all"],
)
def test_without_broker_sim_they_are_refused(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], args: list[str]
) -> None:
    assert main(_start(tmp_path, *args)) == 2
    lines = error_lines(capfd.readouterr().err)
    assert len(lines) == 1 and "--broker sim" in lines[0], lines
    for flag in KEYWORDS:
        assert (flag in lines[0]) == any(arg.startswith(flag) for arg in args), lines[0]
    assert not (tmp_path / "runtime").exists()


@pytest.mark.slow
@pytest.mark.parametrize("detach", [False, True], ids=["foreground", "detached"])
def test_a_real_process_exits_2_before_starting(tmp_path: Path, detach: bool) -> None:
    log = tmp_path / "fees.log"
    argv = _start(tmp_path, "--broker", "sim", "--sim-volume-ratio", "2", "-o", str(log))
    proc = subprocess.run(
        [sys.executable, "-m", "jqtrade", *argv, *(["-d"] if detach else [])],
        cwd=tmp_path,
        env=cli_env(),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = error_lines(proc.stderr)
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "--sim-volume-ratio" in lines[0] and "'2'" in lines[0], lines[0]
    assert not log.exists() and not (tmp_path / "runtime").exists()


# --- the help says the simulator's defaults ----------------------------------------------


def test_help_states_the_simulators_defaults_and_broker_sim() -> None:
    (commands,) = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    start = commands.choices["start_task"]
    helps = {a.option_strings[0]: a.help or "" for a in start._actions if a.option_strings}
    for flag, keyword in KEYWORDS.items():
        assert f"默认 {DEFAULTS[keyword]:g}" in helps[flag], (flag, helps[flag])
        assert "--broker sim" in helps[flag], helps[flag]
        assert start.get_default(SIM_NUMBER_FLAGS[flag].field) is None  # None: the default


def test_the_onequant_simulator_has_the_same_defaults() -> None:
    """``None`` leaves SimulatedOneQuant's defaults, which must be SimBroker's (the help's)."""
    onequant = inspect.signature(SimulatedOneQuant.__init__).parameters
    assert {keyword: onequant[keyword].default for keyword in DEFAULTS} == DEFAULTS


def test_only_given_values_reach_the_broker() -> None:
    spec = TaskSpec(name="x", code=Path("x.py"), broker="sim")
    assert spec.sim_broker_options == {}
    spec = TaskSpec(
        name="x", code=Path("x.py"), broker="sim", sim_min_commission=0.0, sim_volume_ratio=0.5
    )
    assert spec.sim_broker_options == {"min_commission": 0.0, "volume_ratio": 0.5}


# --- real simulated runs -----------------------------------------------------------------


def _fee(value: float, rate: float, minimum: float) -> Decimal:
    """SimBroker's commission on one fill: rounded to the cent, at least ``minimum``."""
    amount = Decimal(str(value))
    return max((amount * Decimal(str(rate))).quantize(CENT, ROUND_HALF_UP), Decimal(str(minimum)))


def _simulate(tmp_path: Path, days: str, *extra: str, **env: str) -> list[dict[str, Any]]:
    """Run the trader on the simulated clock; the records it logged after each close."""
    code = tmp_path / "fee_trader.py"
    code.write_text(TRADER, encoding="utf-8")
    log = tmp_path / f"run-{len(list(tmp_path.glob('run-*.log')))}.log"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "jqtrade",
            "start_task",
            "-n",
            "fees",
            "-c",
            str(code),
            "--simulate",
            days,
            "--broker",
            "sim",
            "--runtime-dir",
            str(tmp_path / "runtime"),
            "-o",
            str(log),
            *extra,
        ],
        cwd=tmp_path,
        env=cli_env(**env),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    text = log.read_text(encoding="utf-8-sig", errors="replace")
    assert proc.returncode == 0, proc.stdout + proc.stderr + text
    assert "Traceback" not in text and " ERROR " not in text, text
    records = [json.loads(line.partition(TAG)[2]) for line in text.splitlines() if TAG in line]
    assert records, text
    return records


def _check_fees(
    records: list[dict[str, Any]], rate: float, minimum: float, stamp: float, qmt: bool
) -> tuple[Decimal, Decimal]:
    """The fees of the buy and of the sell, checked against the cash (and the order's own
    commission behind the QMT gate; OneQuant's files have no commission column)."""
    (day1, day2) = records
    ((buy,), (sell,)) = day1["orders"], day2["orders"]
    assert buy["buy"] and not sell["buy"] and buy["filled"] == sell["filled"] == 1000
    buy_fee = _fee(buy["deal"], rate, minimum)
    sell_fee = _fee(sell["deal"], rate, minimum) + (
        Decimal(str(sell["deal"])) * Decimal(str(stamp))
    ).quantize(CENT, ROUND_HALF_UP)
    cash1 = Decimal(CASH) - Decimal(str(buy["deal"])) - buy_fee
    cash2 = cash1 + Decimal(str(sell["deal"])) - sell_fee
    assert Decimal(str(day1["cash"])).quantize(CENT) == cash1, (day1, buy_fee)
    assert Decimal(str(day2["cash"])).quantize(CENT) == cash2, (day2, sell_fee)
    if qmt:
        assert Decimal(str(buy["commission"])).quantize(CENT) == buy_fee, buy
        assert Decimal(str(sell["commission"])).quantize(CENT) == sell_fee, sell
    return buy_fee, sell_fee


@pytest.mark.slow
@pytest.mark.parametrize("gate", ["onequant", "qmt"])
def test_the_fees_given_are_charged_and_differ_from_the_default(tmp_path: Path, gate: str) -> None:
    # T+1: the buy on 01-02 is sold on 01-03; the prices are the seeded random walk
    days = "2024-01-02..2024-01-03"
    fees = (
        "--sim-commission-rate",
        "0.001",
        "--sim-min-commission",
        "0",
        "--sim-stamp-tax-rate",
        "0",
    )
    given_fees = _check_fees(
        _simulate(tmp_path, days, "--gate", gate, *fees), 0.001, 0.0, 0.0, gate == "qmt"
    )
    default_fees = _check_fees(
        _simulate(tmp_path, days, "--gate", gate),
        DEFAULTS["commission_rate"],
        DEFAULTS["min_commission"],
        DEFAULTS["stamp_tax_rate"],
        gate == "qmt",
    )
    assert given_fees != default_fees
    assert given_fees[0] > 0 and given_fees[1] > 0  # 0.001 of a deal of about 10000 yuan


@pytest.mark.slow
@pytest.mark.parametrize("gate", ["onequant", "qmt"])
def test_the_volume_ratio_caps_a_fill_on_a_bar(tmp_path: Path, gate: str) -> None:
    day = datetime.date(2024, 1, 2)
    sample = write_sample(tmp_path / "runtime" / "data" / "bars.sqlite", [CODE], day, day)
    with BarCache(sample.path) as cache:
        (bar,) = cache.read(CODE, "1d", end=close_time(day), count=1)
    ratio = "0.0001"
    cap = int(Decimal(ratio) * bar.volume) // 100 * 100
    wanted = 10_000
    assert 0 < cap < wanted <= DEFAULTS["volume_ratio"] * bar.volume  # the sample allows this
    runs = {
        "given": _simulate(
            tmp_path, str(day), "--gate", gate, "--sim-volume-ratio", ratio, JQT_BUY=str(wanted)
        ),
        "default": _simulate(tmp_path, str(day), "--gate", gate, JQT_BUY=str(wanted)),
    }
    filled = {name: [o["filled"] for o in records[0]["orders"]] for name, records in runs.items()}
    assert filled == {"given": [cap], "default": [wanted]}, filled


# --- detached: the flags survive the background child ------------------------------------


@pytest.fixture
def bench(tmp_path: Path) -> Iterator[Bench]:
    b = Bench(tmp_path)
    try:
        yield b
    finally:
        b.cleanup()


@pytest.mark.slow
def test_the_flags_reach_a_detached_task(bench: Bench) -> None:
    log = bench.root / "bg.log"
    started = bench.cmd(
        "start_task",
        "-n",
        "bg",
        "-c",
        IDLE_ACCOUNT,
        "-o",
        log,
        "--broker",
        "sim",
        "--sim-dir",
        bench.root / "onequant",
        "-d",
        "--sim-commission-rate",
        "0.001",
        "--sim-min-commission",
        "0.5",
        "--sim-stamp-tax-rate",
        "0",
        "--sim-volume-ratio",
        "0.5",
    )
    assert started.returncode == 0, started.stdout + started.stderr
    said = "佣金费率 0.001，最低佣金 0.5 元，卖出印花税率 0.0；按 K 线撮合时每根 K 线最多成交其成交量的 0.5"
    wait_for(lambda: file_contains(log, said), "the fees in the detached task's log", TIMEOUT)
    stopped = bench.cmd("stop_task", "-n", "bg")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    wait_for(lambda: not bench.registry.list(), "the detached task gone", TIMEOUT)
