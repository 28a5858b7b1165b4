"""Helpers the task tests share: process checks (``cli_env`` and ``wait_for`` are in ``tests/support.py``)."""

from __future__ import annotations

import psutil


def gone(pid: int) -> bool:
    """No such process, or only a zombie (a detached task's new parent may not reap it)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True
