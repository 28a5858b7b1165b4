"""Year-long simulated runs on the simulated broker (``--simulate 2024-01-02..2024-12-31
--broker sim``): wall time and peak memory; prints a table.

    python bench/bench_simulation.py                 # a year of each strategy, and a quarter
    python bench/bench_simulation.py --quick         # a quarter of each
    python bench/bench_simulation.py --root /tmp/before   # the same runs on another checkout

Two strategies (below): ``every_minute``, which decides every minute and trades twice an hour
(16 orders a day, reading ``context.portfolio`` when it trades), and a daily one that trades
once a day at ``open+5m``. Before the runs, minute and daily bars of 2024 for the traded code
are written into the runtime folder's bar cache with ``tools/gen_sample_bars.py``
(``write_sample``; not timed), so the simulator fills on those bars when it can read them (it
says in the task log when it falls back to its random walk). Each run is a fresh process
(``run_task`` in it, interpreter start and imports excluded); memory is its peak RSS, and
"flat" compares the year with the quarter.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parents[1]

YEAR_MINUTE_TARGET = 20.0  # s
YEAR_DAILY_TARGET = 3.0  # s
MEMORY_GROWTH_LIMIT = 1.25  # peak RSS of the year / of the quarter

EVERY_MINUTE = '''
from jqtrade import LimitOrderStyle, Strategy


class EveryMinute(Strategy):
    """Decides every minute; buys 100 shares at the counterparty price twice an hour and sells
    them a quarter of an hour later."""

    def process_initialize(self, context):
        self.set_options(use_account=True)
        self.run_daily(self.decide, "every_minute")
        self.minutes = 0

    def decide(self, context):
        self.minutes += 1
        step = self.minutes % 30
        if step == 1 and context.portfolio.available_cash > 10_000:
            self.order("600000.XSHG", 100, LimitOrderStyle(0))
        elif step == 16:
            held = context.portfolio.long_positions
            if "600000.XSHG" in held and held["600000.XSHG"].closeable_amount >= 100:
                self.order("600000.XSHG", -100, LimitOrderStyle(0))
'''

DAILY = '''
from jqtrade import LimitOrderStyle, Strategy


class Daily(Strategy):
    """Once a day: buy 100 shares, or sell them if they are held and sellable."""

    def process_initialize(self, context):
        self.set_options(use_account=True)
        self.run_daily(self.trade, "open+5m")

    def trade(self, context):
        held = context.portfolio.long_positions
        if "600000.XSHG" in held and held["600000.XSHG"].closeable_amount >= 100:
            self.order("600000.XSHG", -100, LimitOrderStyle(0))
        else:
            self.order("600000.XSHG", 100, LimitOrderStyle(0))
'''

STRATEGIES = {"every_minute": EVERY_MINUTE, "daily": DAILY}
YEAR = (datetime.date(2024, 1, 2), datetime.date(2024, 12, 31))
QUARTER = (datetime.date(2024, 1, 2), datetime.date(2024, 3, 29))


def write_bars(runtime_dir: Path) -> Optional[str]:
    """Minute and daily bars of 2024 for the traded code in the runtime folder's cache."""
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        from gen_sample_bars import write_sample  # type: ignore[import-not-found]  # a script
    except ImportError as exc:
        return f"no sample bars ({exc}): the simulator's random walk"
    path = runtime_dir / "data" / "bars.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    sample = write_sample(path, codes=("600000.XSHG", "000001.XSHE"), minute=True)
    return f"{sample.minute_bars} minute bars, {sample.daily_bars} daily bars"


def one_run(kind: str, first: datetime.date, last: datetime.date, work: Path) -> dict[str, float]:
    """In this process: run the strategy over the days; wall seconds and peak RSS (MB)."""
    import importlib

    from jqtrade.tasks.runner import TaskSpec, run_task

    # What a run imports on first use (the simulator, the OneQuant gate, the calendar table,
    # rich for the summary): imported here, so that the time is the run's, not the imports'.
    for module in (
        "jqtrade._calendar_table",
        "jqtrade.gates.onequant.gate",
        "jqtrade.sim.bars",
        "jqtrade.sim.onequant",
        "rich.console",
        "rich.table",
    ):
        importlib.import_module(module)

    code = work / f"{kind}.py"
    code.write_text(STRATEGIES[kind], encoding="utf-8")
    folder = work / f"{kind}-{first}-{last}"
    (folder / "onequant").mkdir(parents=True)
    spec = TaskSpec(
        name="bench",
        code=code,
        out=folder / "task.log",
        simulate=(first, last),
        runtime_dir=str(work / "runtime"),
        broker="sim",
        sim_dir=folder / "onequant",
    )
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "wb") as null:
        os.dup2(null.fileno(), 1)  # the run's summary goes to fd 1
        try:
            t0 = time.perf_counter()
            status = run_task(spec)
            elapsed = time.perf_counter() - t0
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)
    if status != 0:
        raise SystemExit(f"the run failed, see {spec.out}")
    orders = sum(  # instruction lines the broker received, headers excluded
        len(path.read_bytes().splitlines()) - 1
        for path in (folder / "onequant").glob("algoOrder_*.csv")
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": elapsed, "rss_mb": peak, "orders": orders}


def child(root: Path, kind: str, days: tuple[datetime.date, datetime.date], work: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(root), PYTHONIOENCODING="utf-8")
    # As on a user's machine: byte-code is cached, so the modules a run imports lazily are
    # not compiled again in every run (some CI images switch the cache off).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    done = subprocess.run(
        [sys.executable, __file__, "--one", kind, f"{days[0]}..{days[1]}", "--work", str(work)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{kind} {days} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a quarter of each strategy only")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to run")
    parser.add_argument("--one", nargs=2, metavar=("KIND", "DAYS"), help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        kind, text = args.one
        first, last = (datetime.date.fromisoformat(part) for part in text.split(".."))
        print(json.dumps(one_run(kind, first, last, args.work)))
        return 0
    work = Path(tempfile.mkdtemp(prefix="jqtrade-bench-sim-"))
    bars = write_bars(work / "runtime")
    print(f"checkout {args.root}; bars in the cache: {bars}")
    rows = []
    for kind in STRATEGIES:
        spans = [("quarter", QUARTER)] + ([] if args.quick else [("year", YEAR)])
        results = {}
        for label, days in spans:
            results[label] = result = child(args.root, kind, days, work)
            target = YEAR_MINUTE_TARGET if kind == "every_minute" else YEAR_DAILY_TARGET
            ok = "-" if label != "year" else ("ok" if result["seconds"] <= target else "MISSED")
            rows.append(
                (
                    f"{kind}, {label} ({days[0]}..{days[1]}), {int(result['orders'])} orders",
                    f"{result['seconds']:.2f} s",
                    f"<= {target:g} s" if label == "year" else "(information)",
                    ok,
                )
            )
        if "year" in results:
            growth = results["year"]["rss_mb"] / results["quarter"]["rss_mb"]
            rows.append(
                (
                    f"{kind}, peak RSS year / quarter "
                    f"({results['year']['rss_mb']:.0f} / {results['quarter']['rss_mb']:.0f} MB)",
                    f"{growth:.2f}",
                    f"<= {MEMORY_GROWTH_LIMIT:g}",
                    "ok" if growth <= MEMORY_GROWTH_LIMIT else "MISSED",
                )
            )
    width = max(len(row[0]) for row in rows)
    for what, value, target, ok in rows:
        print(f"{what:<{width}}  {value:>10}  {target:>14}  {ok}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
