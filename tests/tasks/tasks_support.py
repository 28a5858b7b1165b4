"""Helpers the task tests share: the environment of a ``python -m jqtrade`` child, process checks."""

from __future__ import annotations

import os
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]


def cli_env(**extra: str) -> dict[str, str]:
    """This environment, with the repository importable and output in UTF-8, plus ``extra``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p
    )
    env["PYTHONIOENCODING"] = "utf-8"
    env["COLUMNS"] = "200"  # rich tables in pipes: keep rows on one line
    env.pop("JQTRADE_DEBUG", None)
    env.update(extra)
    return env


def gone(pid: int) -> bool:
    """No such process, or only a zombie (a detached task's new parent may not reap it)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True
