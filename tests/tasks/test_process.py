"""Background starts, hard kills and stopping tasks, with real processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
from support import cli_env, file_contains, wait_for
from tasks_support import gone

from jqtrade.tasks.process import (
    StopResult,
    kill_process,
    spawn_detached,
    stop_tasks,
    wait_released,
)
from jqtrade.tasks.registry import TaskRegistry

pytestmark = pytest.mark.slow

# A stand-in for a task: takes its name, then either watches the control channel like the
# event loop (mode "poll": on a stop request run the "stop hook", record the final state and
# exit 0) or ignores it (mode "deaf").
TASK = r"""
import os, sys, time
from pathlib import Path
from jqtrade.tasks.registry import TaskRecord, TaskRegistry
runtime, name, mode, marker = sys.argv[1:5]
registry = TaskRegistry(Path(runtime))
handle = registry.acquire(TaskRecord(
    name=name, pid=os.getpid(), strategy_file="child.py", log_file=None,
    start_time="2024-01-02T09:30:00+08:00", gate="sim",
    control_path=str(registry.control_path(name)), state="starting"))
handle.update(state="running")
channel = handle.control
while True:
    reason = channel.poll() if mode == "poll" else None
    if reason is not None:
        handle.update(state="stopping")
        Path(marker).write_text("stop hook ran: " + reason, encoding="utf-8")
        handle.release("stopped")
        sys.exit(0)
    time.sleep(0.05)
"""

SLEEPER = r"""
import os, sys, time
print("你好 from", os.getpid(), flush=True)
if hasattr(os, "getsid"):
    print("sid", os.getsid(0), flush=True)
time.sleep(60)
"""


@pytest.fixture
def registry(tmp_path: Path) -> TaskRegistry:
    return TaskRegistry(tmp_path / "runtime")


@pytest.fixture
def children():
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for child in started:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=10)


def start_task(
    children: list, registry: TaskRegistry, name: str, mode: str, marker: Path
) -> subprocess.Popen[bytes]:
    child = subprocess.Popen(
        [sys.executable, "-c", TASK, str(registry.runtime_dir), name, mode, str(marker)],
        env=cli_env(),
    )
    children.append(child)

    def running() -> bool:
        if any(r.state == "running" for r in registry.find(name=name)):
            return True
        assert child.poll() is None, "the task process exited early"
        return False

    wait_for(running, f"task {name!r} running", timeout=15, step=0.02)
    return child


# --- stop_tasks ----------------------------------------------------------------------------


def test_graceful_stop_through_the_control_channel(registry, children, tmp_path: Path):
    markers = [tmp_path / "a.txt", tmp_path / "b.txt"]
    a = start_task(children, registry, "均线", "poll", markers[0])
    b = start_task(children, registry, "Grid 2", "poll", markers[1])
    records = registry.list()
    assert {r.name: r.pid for r in records} == {"均线": a.pid, "Grid 2": b.pid}
    results = stop_tasks(registry, records, force=False, timeout=15)
    assert results == [  # one result per record, in the order given
        StopResult(
            name=r.name, pid=r.pid, outcome="stopped", final_state="stopped", detail="已正常停止"
        )
        for r in records
    ]
    assert a.wait(timeout=10) == 0 and b.wait(timeout=10) == 0
    assert [m.read_text(encoding="utf-8") for m in markers] == ["stop hook ran: stop_task"] * 2
    assert registry.list() == []
    assert list(registry.tasks_dir.iterdir()) == []  # records, locks and control files gone


def test_force_kills_and_cleans_up(registry, children, tmp_path: Path):
    child = start_task(children, registry, "deaf", "deaf", tmp_path / "m.txt")
    (result,) = stop_tasks(registry, registry.list(), force=True, timeout=15)
    assert (result.outcome, result.final_state, result.pid) == ("killed", None, child.pid)
    assert child.wait(timeout=10) != 0
    assert registry.list() == []
    assert list(registry.tasks_dir.iterdir()) == []


def test_graceful_stop_times_out_on_a_task_that_does_not_listen(registry, children, tmp_path):
    child = start_task(children, registry, "deaf", "deaf", tmp_path / "m.txt")
    (result,) = stop_tasks(registry, registry.list(), force=False, timeout=0.3)
    assert result.outcome == "timeout" and not result.ok
    assert child.poll() is None
    assert not wait_released(registry, "deaf", timeout=0.1)
    assert kill_process(child.pid)
    child.wait(timeout=10)
    assert wait_released(registry, "deaf", timeout=10)


def test_a_task_that_already_exited_is_not_running(registry, children, tmp_path: Path):
    child = start_task(children, registry, "gone", "deaf", tmp_path / "m.txt")
    records = registry.list()
    kill_process(child.pid)
    child.wait(timeout=10)
    (result,) = stop_tasks(registry, records, force=False, timeout=5)
    assert (result.outcome, result.ok) == ("not_running", True)
    assert registry.list() == []


# --- spawn_detached ------------------------------------------------------------------------


def test_spawn_detached_runs_in_its_own_session_and_logs(tmp_path: Path):
    log = tmp_path / "logs" / "task.log"
    pid = spawn_detached([sys.executable, "-c", SLEEPER], log, env=cli_env(), cwd=tmp_path)
    try:
        wait_for(lambda: file_contains(log, "你好 from"), "the child's first line", timeout=15)
        assert f"你好 from {pid}" in log.read_text(encoding="utf-8")
        assert not gone(pid)
        if hasattr(os, "getsid"):
            assert os.getsid(pid) != os.getsid(0)
            assert os.getsid(pid) == pid  # it leads a new session
    finally:
        kill_process(pid)
        psutil.Process(pid).wait(timeout=10)


def test_detached_child_survives_the_process_that_started_it(tmp_path: Path):
    log = tmp_path / "task.log"
    starter = (
        "import sys; from pathlib import Path; from jqtrade.tasks.process import spawn_detached;"
        f"print(spawn_detached([sys.executable, '-c', {SLEEPER!r}], Path({str(log)!r})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", starter],
        env=cli_env(),
        capture_output=True,
        check=True,
        timeout=30,
    )
    pid = int(out.stdout.decode().strip())
    try:
        wait_for(lambda: file_contains(log, "你好 from"), "the child's first line", timeout=15)
        assert not gone(pid)  # the starter has exited; the task lives on
        if hasattr(os, "getsid"):
            assert os.getsid(pid) != os.getsid(0)
    finally:
        assert kill_process(pid)
        wait_for(lambda: gone(pid), "the child gone", timeout=15)
