"""Helpers every test folder shares: a child process's environment and waiting for a condition.

``tests`` is not a package. pytest (import mode "prepend") puts ``tests/`` on ``sys.path``
because ``tests/conftest.py`` lives there, so every test module, in any sub-folder, imports
this file as ``support``; so do the folder helpers (``tasks_support``, ``e2e_support``,
``fault_harness``). A script a test runs in a child process puts ``tests/`` on its own path
first (``fault_harness`` does it for its scripts and for ``bench/``).

Fixtures live in ``tests/conftest.py`` (``restore_sys_path`` among them); plain functions here.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Callable

#: The checkout under test: its ``jqtrade`` is the one a child process must import.
ROOT = Path(__file__).resolve().parents[1]


def cli_env(**extra: str) -> dict[str, str]:
    """The environment of a child process (``python -m jqtrade ...`` or a test script).

    This process's environment with this checkout first on ``PYTHONPATH``, output in UTF-8,
    rich tables 200 columns wide (one row per line in a pipe) and no ``JQTRADE_DEBUG``; then
    ``extra`` on top (``TZ=...``, ``COLUMNS=...``, a strategy's own variables).
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p
    )
    env["PYTHONIOENCODING"] = "utf-8"
    env["COLUMNS"] = "200"
    env.pop("JQTRADE_DEBUG", None)
    env.update(extra)
    return env


class WaitTimeout(AssertionError):
    """What :func:`wait_for` raises when the condition stays false; an ``AssertionError`` so a
    test fails (not errors) on it, its own class so a caller can tell it from a failed assert."""


def wait_for(
    condition: Callable[[], object], what: str, timeout: float = 30.0, step: float = 0.05
) -> Any:
    """Return ``condition()``'s first truthy value, polling every ``step`` s; never sleep a
    fixed time instead. After ``timeout`` s raise :class:`WaitTimeout` naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise WaitTimeout(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(step)


def file_contains(path: Path, text: str) -> bool:
    """Whether ``path`` exists and its UTF-8 text (bad bytes replaced) contains ``text``: the
    usual condition for :func:`wait_for` on a log a child process is writing."""
    return path.exists() and text in path.read_text(encoding="utf-8", errors="replace")
