"""The file control channel: stop requests and final states, within and across processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import jqtrade
from jqtrade.tasks.control import ControlChannel

REPO_ROOT = Path(jqtrade.__file__).resolve().parents[1]

# Polls the channel like the event loop does, writes the reason it got and exits 0.
POLLER = r"""
import sys, time
from pathlib import Path
from jqtrade.tasks.control import ControlChannel
channel = ControlChannel(Path(sys.argv[1]))
Path(sys.argv[2]).write_text("ready", encoding="utf-8")
deadline = time.monotonic() + 20
while time.monotonic() < deadline:
    reason = channel.poll()
    if reason is not None:
        again = channel.poll()
        Path(sys.argv[2]).write_text(f"{reason}|{again}", encoding="utf-8")
        channel.report("stopped")
        sys.exit(0)
    time.sleep(0.02)
sys.exit(3)
"""


def test_poll_returns_each_request_once(tmp_path: Path):
    task_side = ControlChannel(tmp_path / "t.control")
    stopper = ControlChannel(tmp_path / "t.control")
    assert task_side.poll() is None
    assert not task_side.stop_requested()

    stopper.request_stop("用户停止")
    assert task_side.stop_requested()
    assert task_side.poll() == "用户停止"
    assert task_side.poll() is None

    stopper.request_stop("again")  # a second request is a new one
    assert task_side.poll() == "again"
    assert task_side.poll() is None

    task_side.clear()
    assert not task_side.stop_requested()
    assert task_side.poll() is None


def test_final_state_report_and_a_new_request_drops_an_old_report(tmp_path: Path):
    channel = ControlChannel(tmp_path / "t.control")
    assert channel.result() is None
    channel.request_stop()
    channel.report("stopped")
    assert channel.result() == "stopped"
    channel.request_stop()
    assert channel.result() is None
    channel.clear()
    assert list(tmp_path.iterdir()) == []


def test_missing_folder_polls_as_nothing(tmp_path: Path):
    channel = ControlChannel(tmp_path / "gone" / "t.control")
    assert channel.poll() is None
    channel.clear()


def test_a_damaged_request_still_means_stop(tmp_path: Path):
    channel = ControlChannel(tmp_path / "t.control")
    channel.stop_file.write_bytes(b"\xff not json")
    assert channel.poll() == "stop_task"


@given(st.text(min_size=1, max_size=50))
def test_any_reason_round_trips(tmp_path_factory, reason: str):
    channel = ControlChannel(tmp_path_factory.mktemp("ctl") / "t.control")
    channel.request_stop(reason)
    assert channel.poll() == reason


@pytest.mark.slow
def test_request_and_poll_across_processes(tmp_path: Path):
    channel = ControlChannel(tmp_path / "任务.control")
    marker = tmp_path / "marker.txt"
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    child = subprocess.Popen(
        [sys.executable, "-c", POLLER, str(channel.path), str(marker)], env=env
    )
    try:
        deadline = time.monotonic() + 15
        while not marker.exists():
            assert child.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        channel.request_stop("stop_task")
        assert child.wait(timeout=15) == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert marker.read_text(encoding="utf-8") == "stop_task|None"
    assert channel.result() == "stopped"


# --- files held by another program (Windows), emulated ---------------------------------------


def test_a_stop_request_waits_for_a_briefly_held_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from held_files import hold_replace

    channel = ControlChannel(tmp_path / "t.control")
    held, fake = hold_replace(monkeypatch, 8)
    channel.request_stop("因为测试")
    assert len(held.refused) == 8 and fake.waited > 0
    assert channel.poll() == "因为测试"
    channel.report("stopped")
    assert channel.result() == "stopped"


def test_a_stop_request_onto_a_file_held_too_long_fails_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from held_files import hold_replace

    from jqtrade.errors import JqTradeError
    from jqtrade.fileio import RETRY_SECONDS

    channel = ControlChannel(tmp_path / "t.control")
    _, fake = hold_replace(monkeypatch, None)
    with pytest.raises(JqTradeError) as info:
        channel.request_stop()
    assert str(channel.stop_file) in str(info.value) and "占用" in str(info.value)
    assert fake.waited == pytest.approx(RETRY_SECONDS)
    assert not list(tmp_path.iterdir())  # no temporary file left behind
