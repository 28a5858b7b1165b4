"""A file-based control channel between ``stop_task`` and a running task.

Windows cannot deliver a catchable SIGTERM from another process (``os.kill`` terminates at
once), so a graceful stop is requested by writing a small file that the task's event loop
checks with one ``os.stat`` per poll. Every OS uses the same path, so the Linux tests exercise
what Windows users get.

For a channel at ``<prefix>`` two files are used:

* ``<prefix>.stop``: the stop request, written by the stopper (JSON ``{"reason", "pid"}``);
* ``<prefix>.exit``: the final state, written by the task on release when a stop was
  requested, read by the stopper after the task's lock is gone.

A third file, ``<stem>.state`` (:class:`TradingStateFile`), carries the trading state that
``halt_task`` / ``reduce_task`` / ``resume_task`` ask for. The task polls it the same way and
reads it when it starts, so the state survives a restart; it is never removed with the others.

All are written to a temporary file first and moved into place
(:func:`jqtrade.fileio.write_atomic`), so a reader never sees half a file, and a file briefly
held by another program on Windows is waited for.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any, Optional

import attrs

from jqtrade.fileio import read_retrying, unlink_quietly, write_atomic

__all__ = ["ControlChannel", "TradingStateFile", "TradingStateRequest"]


def _json_bytes(data: dict[str, Any]) -> bytes:
    try:
        return (json.dumps(data, ensure_ascii=False) + "\n").encode("utf-8")
    except UnicodeEncodeError:
        # Undecodable file-name bytes (surrogate escapes) cannot be written as UTF-8.
        return (json.dumps(data, ensure_ascii=True) + "\n").encode("ascii")


class ControlChannel:
    """Stop requests for one task, shared by the task and any number of stoppers."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.stop_file = self.path.with_name(self.path.name + ".stop")
        self.exit_file = self.path.with_name(self.path.name + ".exit")
        self._seen: tuple[int, int, int] | None = None

    def __repr__(self) -> str:
        return f"ControlChannel({str(self.path)!r})"

    # --- stopper side -----------------------------------------------------------------------

    def request_stop(self, reason: str = "stop_task") -> None:
        """Ask the task to stop; a stale final state from an earlier stop is dropped first."""
        unlink_quietly(self.exit_file)
        write_atomic(self.stop_file, _json_bytes({"reason": reason, "pid": os.getpid()}))

    def result(self) -> str | None:
        """The final state the task reported for a requested stop, if it did."""
        try:
            data = json.loads(read_retrying(self.exit_file).decode("utf-8"))
        except (OSError, ValueError):
            return None
        state = data.get("final_state") if isinstance(data, dict) else None
        return state if isinstance(state, str) else None

    # --- task side --------------------------------------------------------------------------

    def poll(self) -> str | None:
        """Return the reason of a new stop request, once per request; else None.

        Costs one ``os.stat`` when nothing was requested, so the event loop can call it
        every second.
        """
        try:
            st = os.stat(self.stop_file)
        except OSError:
            # Missing, or (Windows) being replaced right now: the next poll will see it.
            return None
        signature = (st.st_ino, st.st_mtime_ns, st.st_size)
        if signature == self._seen:
            return None
        reason = "stop_task"
        try:
            data = json.loads(read_retrying(self.stop_file).decode("utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            data = None
        if isinstance(data, dict) and isinstance(data.get("reason"), str) and data["reason"]:
            reason = data["reason"]
        self._seen = signature
        return reason

    def stop_requested(self) -> bool:
        """Whether a stop request file exists, consumed by :meth:`poll` or not."""
        return self.stop_file.exists()

    def report(self, final_state: str) -> None:
        """Leave the final state for the stopper that is waiting for us."""
        write_atomic(self.exit_file, _json_bytes({"final_state": final_state}))

    def clear(self) -> None:
        """Remove both files; a task calls this when it starts so an old request is void."""
        unlink_quietly(self.stop_file)
        unlink_quietly(self.exit_file)
        self._seen = None


@attrs.frozen(kw_only=True)
class TradingStateRequest:
    """One request to switch a task's trading state, as ``halt_task`` and friends write it."""

    id: str
    state: str  # active / reducing / halted
    reason: str
    command: str  # halt_task, reduce_task, resume_task
    cancel_open: bool = False

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)

    @classmethod
    def from_json(cls, data: object) -> Optional[TradingStateRequest]:
        """The request in ``data``, or None when it is not one (a damaged or foreign file)."""
        if not isinstance(data, dict):
            return None
        try:
            request = cls(
                id=str(data["id"]),
                state=str(data["state"]),
                reason=str(data.get("reason") or ""),
                command=str(data.get("command") or ""),
                cancel_open=bool(data.get("cancel_open", False)),
            )
        except KeyError:
            return None
        return request


class TradingStateFile:
    """The saved trading state of one task name: written by commands, polled by the task."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._seen: Optional[tuple[int, int, int]] = None

    def __repr__(self) -> str:
        return f"TradingStateFile({str(self.path)!r})"

    # --- command side -----------------------------------------------------------------------

    def write(
        self, state: str, reason: str, *, command: str, cancel_open: bool = False
    ) -> TradingStateRequest:
        """Save the state asked for, with a fresh id the task reports back once it applied it."""
        request = TradingStateRequest(
            id=secrets.token_hex(8),
            state=state,
            reason=reason,
            command=command,
            cancel_open=cancel_open,
        )
        write_atomic(self.path, _json_bytes(request.to_json()))
        return request

    # --- task side --------------------------------------------------------------------------

    def read(self) -> Optional[TradingStateRequest]:
        """The saved request (None if there is none); what it read is then not new to :meth:`poll`."""
        try:
            st = os.stat(self.path)
            data = json.loads(read_retrying(self.path).decode("utf-8"))
        except (OSError, ValueError):
            return None
        self._seen = (st.st_ino, st.st_mtime_ns, st.st_size)
        return TradingStateRequest.from_json(data)

    def poll(self) -> Optional[TradingStateRequest]:
        """A request written since the last read or poll, once; else None (one ``os.stat``)."""
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        if (st.st_ino, st.st_mtime_ns, st.st_size) == self._seen:
            return None
        return self.read()
