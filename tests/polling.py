"""Waiting for a condition in tests that drive real processes: poll, never sleep a fixed time."""

from __future__ import annotations

import time
from typing import Any, Callable


def wait_for(condition: Callable[[], object], what: str, timeout: float = 30.0, step: float = 0.05) -> Any:
    """Return ``condition()``'s first truthy value; fail naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(step)
