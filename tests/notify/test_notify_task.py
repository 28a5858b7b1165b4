"""Notifications of a whole task run through the CLI, to a JSON webhook on 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from test_notifier import Receiver

ROOT = Path(__file__).resolve().parents[2]
STRATEGY = Path(__file__).parent / "strategies" / "notifying.py"


@pytest.mark.slow
def test_a_task_tells_its_start_its_own_message_a_refused_order_the_day_and_its_stop(tmp_path):
    server = Receiver()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = {**os.environ, "JQTRADE_NOTIFY": server.url, "PYTHONPATH": str(ROOT)}
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "jqtrade",
                "start_task",
                "-n",
                "notify-probe",
                "-c",
                str(STRATEGY),
                "--simulate",
                "2024-06-03",
                "--broker",
                "sim",
                "--runtime-dir",
                str(tmp_path),
            ],
            capture_output=True,
            text=True,
            env=env,
            stdin=subprocess.DEVNULL,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        titles = [payload["title"] for payload in server.payloads]
        bodies = " ".join(payload.get("message", "") for payload in server.payloads)
        assert any("已启动" in t for t in titles) and any("已停止" in t for t in titles), titles
        assert any("策略消息" in t for t in titles) and "十点了" in bodies
        assert "bad_lot" in bodies or "150" in bodies, server.payloads
        summary = [p for p in server.payloads if "每日汇总" in p["title"]]
        assert (
            len(summary) == 1
            and "2024-06-03" in summary[0]["title"]
            and "总资产" in summary[0]["message"]
        )
        assert "今日变化" in summary[0]["message"]  # against the day's first snapshot
        assert server.url not in proc.stdout + proc.stderr  # targets are never logged
    finally:
        server.shutdown()
        server.server_close()


def test_a_restart_is_alerted_to_the_targets_of_the_environment(monkeypatch):
    from jqtrade.tasks.supervisor import report_gave_up, report_restart

    server = Receiver()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("JQTRADE_NOTIFY", server.url)
        report_restart("probe", -9, 1, 1.0)
        report_gave_up("probe", 1, 10)
        titles = [payload["title"] for payload in server.payloads]
        assert any("正在重启" in t for t in titles) and any("不再重启" in t for t in titles), titles
    finally:
        server.shutdown()
        server.server_close()
