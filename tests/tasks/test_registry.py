"""The task registry: OS locks on names, records, stale cleanup, the name-to-file mapping."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import jqtrade
from jqtrade.errors import TaskAlreadyRunningError, TaskNameError, TaskStateError
from jqtrade.tasks.process import kill_process, wait_released
from jqtrade.tasks.registry import (
    MAX_TASK_NAME_LENGTH,
    TaskRecord,
    TaskRegistry,
    task_file_stem,
    validate_task_name,
)

REPO_ROOT = Path(jqtrade.__file__).resolve().parents[1]
FORBIDDEN = set('<>:"/\\|?*')
RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10))}
RESERVED |= {f"LPT{i}" for i in range(1, 10)}

# Holds a task name until killed: acquire, say so, sleep.
HOLDER = r"""
import os, sys, time
from pathlib import Path
from jqtrade.tasks.registry import TaskRecord, TaskRegistry
registry = TaskRegistry(Path(sys.argv[1]))
name = sys.argv[2]
handle = registry.acquire(TaskRecord(
    name=name, pid=os.getpid(), strategy_file="child.py", log_file=None,
    start_time="2024-01-02T09:30:00+08:00", gate="sim",
    control_path=str(registry.control_path(name)), state="running"))
time.sleep(60)
"""


def make_record(registry: TaskRegistry, name: str, **changes: object) -> TaskRecord:
    fields: dict[str, object] = dict(
        name=name,
        pid=os.getpid(),
        strategy_file="demo.py",
        log_file="demo.log",
        start_time="2024-01-02T09:30:00+08:00",
        gate="sim",
        control_path=str(registry.control_path(name)),
        state="running",
    )
    fields.update(changes)
    return TaskRecord(**fields)  # type: ignore[arg-type]


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return env


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


def start_holder(children: list, registry: TaskRegistry, name: str) -> subprocess.Popen[bytes]:
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(registry.runtime_dir), name], env=child_env()
    )
    children.append(child)
    deadline = time.monotonic() + 15
    while not registry.find(name=name):
        assert child.poll() is None, "the holder process exited early"
        assert time.monotonic() < deadline, "the holder process did not take its name"
        time.sleep(0.02)
    return child


# --- records -------------------------------------------------------------------------------

optional_text = st.none() | st.text(max_size=30)
task_names = st.text(min_size=1, max_size=MAX_TASK_NAME_LENGTH).filter(lambda s: s.strip())


@given(
    name=task_names,
    pid=st.integers(min_value=1, max_value=2**31),
    path=st.text(max_size=40),
    log=optional_text,
    state=st.sampled_from(["starting", "running", "stopping", "stopped", "failed"]),
    next_job=optional_text,
    last_sync=optional_text,
    simulated=st.booleans(),
)
def test_record_json_round_trip(name, pid, path, log, state, next_job, last_sync, simulated):
    record = TaskRecord(
        name=name,
        pid=pid,
        strategy_file=path,
        log_file=log,
        start_time="2024-01-02T09:30:00.123456+08:00",
        gate="onequant",
        control_path=path,
        state=state,
        next_job=next_job,
        last_sync=last_sync,
        simulated=simulated,
    )
    text = json.dumps(record.to_json(), ensure_ascii=False)
    assert TaskRecord.from_json(json.loads(text)) == record


def test_record_from_json_ignores_unknown_keys_and_rejects_bad_ones(registry: TaskRegistry):
    data = make_record(registry, "a").to_json()
    assert TaskRecord.from_json({**data, "added_later": 1}) == make_record(registry, "a")
    with pytest.raises(ValueError):
        TaskRecord.from_json({k: v for k, v in data.items() if k != "pid"})
    with pytest.raises(ValueError):
        TaskRecord.from_json({**data, "state": "sleeping"})
    with pytest.raises(ValueError):
        TaskRecord.from_json({**data, "start_time": "2024-01-02T09:30:00"})  # no offset
    with pytest.raises(ValueError):
        TaskRecord.from_json([data])  # type: ignore[arg-type]


# --- names ---------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["", "   ", "x" * (MAX_TASK_NAME_LENGTH + 1), "a\udcff"])
def test_bad_names_are_refused_in_chinese(bad: str):
    with pytest.raises(TaskNameError) as info:
        validate_task_name(bad)
    assert isinstance(info.value, ValueError)
    assert "任务名称" in str(info.value)


def test_plain_names_are_used_as_they_are():
    assert task_file_stem("均线策略") == "均线策略"
    assert task_file_stem("ma_cross-2") == "ma_cross-2"
    assert task_file_stem("con") != "con"  # a Windows device name
    assert task_file_stem("Abc") != task_file_stem("abc")


def fs_key(stem: str) -> str:
    """How a case-insensitive, normalisation-insensitive file system compares names."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", stem).casefold())


def assert_valid_stem(stem: str) -> None:
    assert stem
    assert not FORBIDDEN & set(stem)
    assert all(ord(ch) >= 32 for ch in stem)
    assert "." not in stem and " " not in stem
    assert stem.upper() not in RESERVED
    # 255 bytes is the usual limit; leave room for ".control.exit" and a temp-file suffix.
    assert len(stem.encode("utf-8")) + 40 <= 255


@given(st.lists(task_names, min_size=1, max_size=8, unique=True))
def test_file_stems_are_valid_and_distinct(names: list[str]):
    stems = [task_file_stem(n) for n in names]
    for stem in stems:
        assert_valid_stem(stem)
    assert len({fs_key(s) for s in stems}) == len(names)


@given(task_names)
def test_case_and_normalisation_variants_get_distinct_files(name: str):
    variants = {
        v
        for v in (
            name,
            name.upper(),
            name.lower(),
            name.swapcase(),
            unicodedata.normalize("NFD", name),
            unicodedata.normalize("NFC", name),
        )
        if len(v) <= MAX_TASK_NAME_LENGTH
    }
    keys = {fs_key(task_file_stem(v)) for v in variants}
    assert len(keys) == len(variants)


@settings(max_examples=60)
@given(name=task_names)
def test_any_name_round_trips_through_real_files(tmp_path_factory, name: str):
    registry = TaskRegistry(tmp_path_factory.mktemp("names"))
    with registry.acquire(make_record(registry, name)):
        (listed,) = registry.list()
        assert listed.name == name
        assert registry.record_path(name).exists()
    assert registry.list() == []
    assert list(registry.tasks_dir.iterdir()) == []


# --- one process, two handles ----------------------------------------------------------------


def test_a_second_handle_is_refused_with_the_holders_pid(registry: TaskRegistry):
    record = make_record(registry, "双均线", pid=4242)
    handle = registry.acquire(record)
    with pytest.raises(TaskAlreadyRunningError) as info:
        registry.acquire(make_record(registry, "双均线"))
    assert info.value.pid == 4242
    assert "4242" in str(info.value) and "双均线" in str(info.value)
    handle.release()
    registry.acquire(make_record(registry, "双均线")).release()


def test_update_rewrites_the_record_and_release_removes_everything(registry: TaskRegistry):
    handle = registry.acquire(make_record(registry, "a", state="starting"))
    assert registry.find(name="a")[0].state == "starting"
    handle.update(state="running", next_job="2024-01-02 09:31 handle_bar", last_sync="09:30:05")
    (listed,) = registry.find(pid=os.getpid())
    assert listed == handle.record
    assert listed.next_job == "2024-01-02 09:31 handle_bar"
    handle.release("stopped")
    handle.release("stopped")  # a second release does nothing
    assert handle.record.state == "stopped"
    assert registry.list() == []
    assert list(registry.tasks_dir.iterdir()) == []


def test_illegal_state_changes_raise(registry: TaskRegistry):
    handle = registry.acquire(make_record(registry, "a", state="running"))
    with pytest.raises(TaskStateError):
        handle.update(state="starting")
    with pytest.raises(TaskStateError):
        handle.release("running")
    handle.update(state="stopping")
    handle.release("failed")
    with pytest.raises(TaskStateError):
        handle.update(next_job="later")
    with pytest.raises(TaskStateError):
        registry.acquire(make_record(registry, "b", state="stopped"))


def test_context_manager_records_failure(registry: TaskRegistry):
    with pytest.raises(ZeroDivisionError):
        with registry.acquire(make_record(registry, "a")) as handle:
            1 / 0  # noqa: B018
    assert handle.record.state == "failed"
    assert registry.list() == []


def test_list_is_sorted_by_start_time_and_filters_work(registry: TaskRegistry):
    late = registry.acquire(make_record(registry, "late", start_time="2024-01-02T10:00:00+08:00"))
    # 01:30 UTC is 09:30 in Shanghai: earlier than 10:00+08:00 although the text sorts later.
    early = registry.acquire(make_record(registry, "early", start_time="2024-01-02T01:30:00+00:00"))
    assert [r.name for r in registry.list()] == ["early", "late"]
    assert [r.name for r in registry.find(name="late")] == ["late"]
    assert registry.find(name="late", pid=os.getpid() + 1) == []
    assert len(registry.find()) == 2
    late.release()
    early.release()


def test_a_start_token_is_kept_in_the_record_and_finds_its_task(registry: TaskRegistry):
    tokened = registry.acquire(make_record(registry, "bg", pid=1, start_token="5eed"))
    plain = registry.acquire(make_record(registry, "fg"))
    assert [(r.name, r.pid) for r in registry.find(start_token="5eed")] == [("bg", 1)]
    assert (
        registry.find(name="fg", start_token="5eed") == []
        and registry.find(start_token="other") == []
    )
    # A record written before tokens existed reads as having none.
    data = {k: v for k, v in plain.record.to_json().items() if k != "start_token"}
    assert TaskRecord.from_json(data).start_token is None
    tokened.release()
    plain.release()


def test_stale_record_is_removed_by_list(registry: TaskRegistry):
    record = make_record(registry, "crashed", pid=999_999)
    registry.tasks_dir.mkdir(parents=True)
    registry.record_path("crashed").write_text(json.dumps(record.to_json()), encoding="utf-8")
    Path(record.control_path + ".stop").write_bytes(b"{}")
    live = registry.acquire(make_record(registry, "live"))
    assert [r.name for r in registry.list()] == ["live"]
    assert not registry.record_path("crashed").exists()
    assert not registry.lock_path("crashed").exists()
    assert not Path(record.control_path + ".stop").exists()
    live.release()


def test_list_on_a_missing_folder_is_empty(tmp_path: Path):
    assert TaskRegistry(tmp_path / "nowhere").list() == []
    assert not TaskRegistry(tmp_path / "nowhere").is_held("a")


def test_acquire_voids_an_old_stop_request(registry: TaskRegistry):
    handle = registry.acquire(make_record(registry, "a"))
    handle.control.request_stop("old")
    handle.release()
    handle = registry.acquire(make_record(registry, "a"))
    assert handle.control.poll() is None
    handle.release()


# --- real processes ------------------------------------------------------------------------


@pytest.mark.slow
def test_name_held_by_another_process_then_killed(registry: TaskRegistry, children: list):
    child = start_holder(children, registry, "网格策略")
    with pytest.raises(TaskAlreadyRunningError) as info:
        registry.acquire(make_record(registry, "网格策略"))
    assert str(child.pid) in str(info.value)
    assert [r.pid for r in registry.list()] == [child.pid]

    assert kill_process(child.pid)
    child.wait(timeout=10)
    assert wait_released(registry, "网格策略", timeout=10)
    assert registry.list() == []  # the stale record is recognised and removed
    assert not registry.record_path("网格策略").exists()

    handle = registry.acquire(make_record(registry, "网格策略"))
    assert [r.pid for r in registry.list()] == [os.getpid()]
    handle.release()
    assert not kill_process(child.pid)  # already gone


# --- files held by another program (Windows), emulated ---------------------------------------


def test_a_record_held_by_another_program_is_waited_for(
    registry: TaskRegistry, monkeypatch: pytest.MonkeyPatch
):
    from held_files import hold_replace

    handle = registry.acquire(make_record(registry, "held"))
    try:
        held, fake = hold_replace(monkeypatch, 12, match=lambda p: p.suffix == ".json")
        handle.update(next_job="10:00 买入")
        assert len(held.refused) == 12 and fake.waited > 0
        assert [r.next_job for r in registry.list()] == ["10:00 买入"]
    finally:
        handle.release()


def test_a_record_held_too_long_fails_naming_the_file(
    registry: TaskRegistry, monkeypatch: pytest.MonkeyPatch
):
    from held_files import hold_replace

    from jqtrade.fileio import FileBusyError

    handle = registry.acquire(make_record(registry, "held"))
    try:
        hold_replace(monkeypatch, None, match=lambda p: p.suffix == ".json")
        with pytest.raises(FileBusyError) as info:
            handle.update(next_job="10:00")
        assert str(registry.record_path("held")) in str(info.value)
        assert (
            handle.record.next_job == "10:00"
        )  # the task's own view moved on; the file will follow
    finally:
        monkeypatch.undo()
        handle.release()


@pytest.mark.parametrize("name", ["CON", "con.txt", "a:b", "点.", "尾 ", "COM1", "nul"])
def test_names_windows_refuses_get_valid_distinct_files(registry: TaskRegistry, name: str):
    stem = task_file_stem(name)
    assert_valid_stem(stem)
    assert stem != name
    if name != name.swapcase():
        assert stem.casefold() != task_file_stem(name.swapcase()).casefold()
