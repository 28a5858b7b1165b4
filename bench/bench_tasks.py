"""Benchmarks of task management; prints a table with the targets of the task-management issue.

    python bench/bench_tasks.py            # 50 tasks, idle CPU over 60 s
    python bench/bench_tasks.py --quick    # idle CPU over 10 s
    python bench/bench_tasks.py --tasks 20 --idle-seconds 30

Starts real ``jqtrade start_task`` processes (live clock, a trivial strategy whose only job is
after the close) in a temporary runtime folder, measures, and stops them all at the end.

* ``get_tasks`` end to end: ``python -m jqtrade get_tasks`` (plain text, stdout a pipe) and
  ``--json`` with all tasks running, wall time including interpreter start-up; and
  ``TaskRegistry.list()`` alone in this process. Target <= 0.3 s.
* Idle CPU: user + system CPU time of one waiting task (psutil) over the interval, as a share
  of one core. Target <= 0.5 %. For information, the same for a task with the embedded
  simulated broker (``--broker sim``), whose account syncs keep running while it waits.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jqtrade.tasks.registry import TaskRegistry  # noqa: E402

STRATEGY = """\
from jqtrade import Context, Strategy


class Waiter(Strategy):
    def process_initialize(self, context: Context) -> None:
        self.run_daily(self.later, "after_close")

    def later(self, context: Context) -> None:
        self.log.info("after close")
"""

GET_TASKS_TARGET = 0.3
IDLE_CPU_TARGET = 0.5  # percent of one core


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p
    )
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def jqtrade(*args: object) -> list[str]:
    return [sys.executable, "-m", "jqtrade", *map(str, args)]


def start_tasks(work: Path, runtime: Path, names: list[str], *extra: str) -> list[subprocess.Popen]:
    code = work / "waiter.py"
    procs = []
    for name in names:
        log = work / f"{name}.log"
        procs.append(
            subprocess.Popen(
                jqtrade(
                    "start_task",
                    "-n",
                    name,
                    "-c",
                    code,
                    "-o",
                    log,
                    "--runtime-dir",
                    runtime,
                    *extra,
                ),
                cwd=work,
                env=cli_env(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    return procs


def wait_running(
    registry: TaskRegistry, names: list[str], procs: list[subprocess.Popen], timeout: float = 120
) -> None:
    wanted = set(names)
    deadline = time.monotonic() + timeout
    while True:
        running = {r.name for r in registry.list() if r.state == "running"}
        if wanted <= running:
            return
        dead = [p.pid for p in procs if p.poll() is not None]
        if dead:
            raise SystemExit(f"tasks exited while starting: pids {dead}")
        if time.monotonic() > deadline:
            raise SystemExit(
                f"only {len(wanted & running)} of {len(wanted)} tasks running after {timeout:g} s"
            )
        time.sleep(0.2)


def time_command(args: list[str], cwd: Path, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        proc = subprocess.run(
            args, cwd=cwd, env=cli_env(), capture_output=True, stdin=subprocess.DEVNULL
        )
        times.append(time.perf_counter() - t0)
        if proc.returncode != 0:
            raise SystemExit(f"{args} failed: {proc.stderr.decode('utf-8', 'replace')}")
    return times


def cpu_seconds(pid: int) -> float:
    t = psutil.Process(pid).cpu_times()
    return t.user + t.system


def stop_all(runtime: Path, work: Path, procs: list[subprocess.Popen]) -> str:
    proc = subprocess.run(
        jqtrade("stop_task", "--all", "--timeout", "60", "--runtime-dir", runtime),
        cwd=work,
        env=cli_env(),
        capture_output=True,
        stdin=subprocess.DEVNULL,
    )
    for p in procs:
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    codes = [p.returncode for p in procs]
    return f"stop_task --all: exit {proc.returncode}; task exits 0: {codes.count(0)}/{len(codes)}"


def row(what: str, value: str, target: str, ok: bool | None) -> tuple[str, str, str, str]:
    return (what, value, target, "-" if ok is None else ("ok" if ok else "MISSED"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="idle CPU over 10 s instead of 60 s")
    parser.add_argument("--tasks", type=int, default=50)
    parser.add_argument("--idle-seconds", type=float)
    parser.add_argument("--repeat", type=int, default=7, help="runs of each get_tasks command")
    args = parser.parse_args()
    idle_seconds = args.idle_seconds or (10.0 if args.quick else 60.0)

    rows = []
    with tempfile.TemporaryDirectory(prefix="jqtrade-bench-tasks-") as tmp:
        work = Path(tmp)
        runtime = work / "runtime"
        (work / "waiter.py").write_text(STRATEGY, encoding="utf-8")
        registry = TaskRegistry(runtime)
        procs: list[subprocess.Popen] = []
        try:
            # --- idle CPU first, while the machine is quiet ------------------------------
            idle = start_tasks(work, runtime, ["idle"])
            broker = start_tasks(
                work,
                runtime,
                ["idle_sim_broker"],
                "--broker",
                "sim",
                "--sim-dir",
                str(work / "sim"),
            )
            procs += idle + broker
            wait_running(registry, ["idle", "idle_sim_broker"], procs)
            time.sleep(2.0)  # let start-up work (imports, first record writes) finish
            pids = {"idle": idle[0].pid, "broker": broker[0].pid}
            before = {k: cpu_seconds(pid) for k, pid in pids.items()}
            t0 = time.perf_counter()
            time.sleep(idle_seconds)
            elapsed = time.perf_counter() - t0
            after = {k: cpu_seconds(pid) for k, pid in pids.items()}
            used = {k: after[k] - before[k] for k in pids}
            share = {k: 100.0 * used[k] / elapsed for k in pids}
            rows.append(
                row(
                    f"idle CPU, one waiting task, {elapsed:.0f} s",
                    f"{share['idle']:.3f} % of a core ({used['idle'] * 1000:.0f} ms CPU)",
                    f"<= {IDLE_CPU_TARGET} %",
                    share["idle"] <= IDLE_CPU_TARGET,
                )
            )
            rows.append(
                row(
                    f"idle CPU, task with --broker sim, {elapsed:.0f} s",
                    f"{share['broker']:.3f} % of a core ({used['broker'] * 1000:.0f} ms CPU)",
                    "(information)",
                    None,
                )
            )

            # --- get_tasks with N running tasks ------------------------------------------
            names = [f"t{i:02d}" for i in range(args.tasks - len(procs))]
            t0 = time.perf_counter()
            procs += start_tasks(work, runtime, names)
            wait_running(registry, names, procs)
            started = time.perf_counter() - t0
            count = len(registry.list())
            rows.append(
                row(
                    f"start {len(names)} tasks (parallel, until all running)",
                    f"{started:.1f} s",
                    "",
                    None,
                )
            )

            list_times = []
            for _ in range(max(args.repeat * 3, 10)):
                t0 = time.perf_counter()
                listed = registry.list()
                list_times.append(time.perf_counter() - t0)
                assert len(listed) == count
            rows.append(
                row(
                    f"TaskRegistry.list(), {count} tasks (median / max)",
                    f"{statistics.median(list_times) * 1000:.1f} / {max(list_times) * 1000:.1f} ms",
                    f"<= {GET_TASKS_TARGET} s",
                    max(list_times) <= GET_TASKS_TARGET,
                )
            )
            for label, extra in (("get_tasks", ()), ("get_tasks --json", ("--json",))):
                times = time_command(
                    jqtrade("get_tasks", *extra, "--runtime-dir", runtime), work, args.repeat
                )
                rows.append(
                    row(
                        f"{label} end to end, {count} tasks (median / max)",
                        f"{statistics.median(times):.3f} / {max(times):.3f} s",
                        f"<= {GET_TASKS_TARGET} s",
                        statistics.median(times) <= GET_TASKS_TARGET,
                    )
                )
            baseline = time_command(jqtrade("-V"), work, args.repeat)
            rows.append(
                row(
                    "baseline: python -m jqtrade -V (interpreter start-up)",
                    f"{statistics.median(baseline):.3f} s",
                    "",
                    None,
                )
            )
        finally:
            t0 = time.perf_counter()
            summary = stop_all(runtime, work, procs)
            stop_time = time.perf_counter() - t0
        rows.append(row(f"stop all {len(procs)} tasks gracefully", f"{stop_time:.1f} s", "", None))

    load = f" · load average {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    print(
        f"jqtrade task-management benchmark · Python {sys.version.split()[0]} · {sys.platform} · "
        f"{os.cpu_count()} CPUs{load}"
    )
    widths = [max(len(r[i]) for r in rows + [("what", "measured", "target", "")]) for i in range(4)]
    for r in [("what", "measured", "target", ""), *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip())
    print(f"(psutil CPU times tick every 10 ms or so; {summary})")
    return 0 if all(r[3] != "MISSED" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
