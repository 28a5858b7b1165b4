"""The task registry: one OS file lock per task name, plus a small JSON record.

Layout under ``<runtime_dir>/tasks/`` for a task whose file stem is ``S`` (see
:func:`task_file_stem`):

* ``S.lock``: exclusively locked (portalocker, non-blocking) by the task for its whole life.
  The lock dies with the process, so a crashed or killed task never blocks a restart. Nobody
  reads this file: on Windows the locked range is unreadable to other processes.
* ``S.json``: the :class:`TaskRecord`, rewritten atomically (:func:`jqtrade.fileio.write_atomic`:
  temporary file + ``os.replace``, waiting out a file briefly held by another program).
* ``S.control.stop`` / ``S.control.exit``: the :class:`~jqtrade.tasks.control.ControlChannel`.
* ``S.state``: the trading state asked for by ``halt_task`` / ``reduce_task`` / ``resume_task``
  (:class:`~jqtrade.tasks.control.TradingStateFile`). It outlives the task on purpose: a halted
  task that restarts stays halted until resumed.
* ``S.supervisor`` / ``S.supervisor.stop``: the lock of a ``--restart`` supervisor
  (:mod:`jqtrade.tasks.supervisor`) and the "do not restart" request ``stop_task`` leaves it.

A task is alive exactly when its lock is held. A record whose lock can be taken is stale and is
removed by whoever notices (:meth:`TaskRegistry.list`). Nothing here looks at other processes'
command lines.

Lock files are removed only by a process that holds their lock, and a process that wins a lock
checks that the path still names the file it locked (a remover may have unlinked it meanwhile);
together this keeps two processes from ever believing they hold the same name.
"""

from __future__ import annotations

import builtins
import json
import os
import sys
import time
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import attrs
import portalocker

from jqtrade.errors import TaskAlreadyRunningError, TaskNameError, TaskStateError
from jqtrade.fileio import read_retrying, safe_file_name, unlink_quietly, write_atomic
from jqtrade.tasks.control import ControlChannel, _json_bytes

__all__ = [
    "MAX_TASK_NAME_LENGTH",
    "START_TOKEN_ENV",
    "TASK_MODES",
    "TASK_STATES",
    "TASK_TRANSITIONS",
    "TRADING_STATES",
    "TaskHandle",
    "TaskRecord",
    "TaskRegistry",
    "task_file_stem",
    "task_mode",
    "validate_task_name",
]

MAX_TASK_NAME_LENGTH = 64

#: The task lifecycle: which state may follow which. Staying in a live state is allowed (an
#: update of next_job keeps "running"); "stopped" and "failed" are final.
TASK_TRANSITIONS: Mapping[str, frozenset[str]] = {
    "starting": frozenset({"starting", "running", "stopping", "stopped", "failed"}),
    "running": frozenset({"running", "stopping", "stopped", "failed"}),
    "stopping": frozenset({"stopping", "stopped", "failed"}),
    "stopped": frozenset(),
    "failed": frozenset(),
}
TASK_STATES = tuple(TASK_TRANSITIONS)
FINAL_STATES = frozenset({"stopped", "failed"})

#: Whether a task trades real money: ``live`` (real clock, the strategy's own gate), or which
#: part is simulated: the broker (``--broker sim``), the clock (``--simulate``), or both.
TASK_MODES = ("live", "sim_broker", "sim_clock", "sim_clock_sim_broker")

#: The values of :class:`jqtrade.account.risk.TradingState` (a test pins that they agree; the
#: registry is read by ``get_tasks`` and stays clear of the account package).
TRADING_STATES = ("active", "reducing", "halted")


def task_mode(*, simulated_clock: bool, simulated_broker: bool) -> str:
    """The :data:`TASK_MODES` entry of a task run with these simulated parts."""
    if simulated_clock:
        return "sim_clock_sim_broker" if simulated_broker else "sim_clock"
    return "sim_broker" if simulated_broker else "live"


# --- file names ------------------------------------------------------------------------------


def validate_task_name(name: object) -> str:
    """Return ``name`` if it can name a task, else raise :class:`TaskNameError`."""
    if not isinstance(name, str):
        raise TaskNameError(name, f"应为字符串，实际是 {type(name).__name__}")
    if not name.strip():
        raise TaskNameError(name, "不能为空")
    if len(name) > MAX_TASK_NAME_LENGTH:
        raise TaskNameError(name, f"长度为 {len(name)} 个字符，超过上限 {MAX_TASK_NAME_LENGTH}")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise TaskNameError(name, "包含无法编码的字符（可能来自乱码的命令行参数）") from None
    return name


def task_file_stem(name: str) -> str:
    """Map a task name to a file-name stem that is valid on Windows, Linux and macOS.

    The name is checked (:func:`validate_task_name`) and mapped by
    :func:`jqtrade.fileio.safe_file_name`, the one sanitizer of every file name jqtrade makes
    from a name: plain names (lower-case ASCII letters, digits, ``_``, ``-``, CJK ideographs)
    stay as they are, any other name (or a Windows device name such as ``con``) gets a readable
    prefix and a hash, so two names never share a file. The real name is kept in the record,
    so the mapping need not be reversible by itself.
    """
    validate_task_name(name)
    return safe_file_name(name)


# --- the record ------------------------------------------------------------------------------


def _parse_instant(text: str) -> datetime:
    value = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    if value.tzinfo is None:
        raise ValueError(f"start_time {text!r} 缺少时区偏移（应形如 2024-01-02T09:30:00+08:00）")
    return value


def _check_state(_instance: object, _attribute: object, value: str) -> None:
    if value not in TASK_TRANSITIONS:
        raise ValueError(f"任务状态 {value!r} 不合法，可用：{'、'.join(TASK_STATES)}")


def _check_mode(_instance: object, _attribute: object, value: str) -> None:
    if value not in TASK_MODES:
        raise ValueError(f"任务模式 {value!r} 不合法，可用：{'、'.join(TASK_MODES)}")


def _default_mode(record: TaskRecord) -> str:
    """A record of an older writer has no mode: all it said is whether the clock was simulated."""
    return task_mode(simulated_clock=record.simulated, simulated_broker=False)


def _check_trading_state(_instance: object, _attribute: object, value: str | None) -> None:
    if value is not None and value not in TRADING_STATES:
        raise ValueError(f"交易状态 {value!r} 不合法，可用：{'、'.join(TRADING_STATES)}")


def _check_start_time(_instance: object, _attribute: object, value: str) -> None:
    _parse_instant(value)


def _check_name(_instance: object, _attribute: object, value: str) -> None:
    validate_task_name(value)


_str = attrs.validators.instance_of(str)
_opt_str = attrs.validators.optional(_str)

#: The environment variable through which ``start_task --detach`` hands its background child a
#: start token; the child writes it into :attr:`TaskRecord.start_token`, so the starter finds the
#: task it started whatever pid the task has (on Windows a venv's ``python.exe`` is a launcher
#: whose pid is not the interpreter's).
START_TOKEN_ENV = "JQTRADE_START_TOKEN"


@attrs.frozen(kw_only=True)
class TaskRecord:
    """What ``get_tasks`` shows about one running task; written by the task itself."""

    name: str = attrs.field(validator=[_str, _check_name])
    pid: int = attrs.field(validator=attrs.validators.instance_of(int))
    strategy_file: str = attrs.field(validator=_str)
    log_file: str | None = attrs.field(validator=_opt_str)
    #: ISO 8601 with a UTC offset, e.g. ``2024-01-02T09:30:00+08:00``.
    start_time: str = attrs.field(validator=[_str, _check_start_time])
    gate: str = attrs.field(validator=_str)
    control_path: str = attrs.field(validator=_str)
    state: str = attrs.field(validator=[_str, _check_state])
    next_job: str | None = attrs.field(default=None, validator=_opt_str)
    last_sync: str | None = attrs.field(default=None, validator=_opt_str)
    #: The clock is simulated (``--simulate``).
    simulated: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))
    #: One of :data:`TASK_MODES`; only ``live`` may trade real money.
    mode: str = attrs.field(
        default=attrs.Factory(_default_mode, takes_self=True), validator=[_str, _check_mode]
    )
    #: The folder holding the task's order journal (a simulated run's own, never the live one).
    state_dir: str | None = attrs.field(default=None, validator=_opt_str)
    #: The token a detached start handed the task (see :data:`START_TOKEN_ENV`); None otherwise.
    start_token: str | None = attrs.field(default=None, validator=_opt_str)
    #: The account's trading state (one of :data:`TRADING_STATES`); None without an account.
    trading_state: str | None = attrs.field(
        default=None, validator=[_opt_str, _check_trading_state]
    )
    #: The id of the last trading-state request the task applied (``halt_task`` waits for it).
    trading_ack: str | None = attrs.field(default=None, validator=_opt_str)
    #: How often a ``--restart`` supervisor has restarted this task (0: the first start).
    restarts: int = attrs.field(default=0, validator=attrs.validators.instance_of(int))

    @property
    def started_at(self) -> datetime:
        """``start_time`` as an aware datetime (for uptime and sorting)."""
        return _parse_instant(self.start_time)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (the file format and ``get_tasks --json``)."""
        return attrs.asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TaskRecord:
        """Build a record from :meth:`to_json` output; unknown keys are ignored (newer writers)."""
        if not isinstance(data, Mapping):
            raise ValueError(f"任务记录应为 JSON 对象，实际是 {type(data).__name__}")
        fields = {f.name for f in attrs.fields(cls)}
        try:
            return cls(**{k: v for k, v in data.items() if k in fields})
        except TypeError as exc:  # missing field or wrong type
            raise ValueError(f"任务记录不完整或类型不对：{exc}") from exc


# --- the registry ----------------------------------------------------------------------------

_LOCK_FLAGS = portalocker.LOCK_EX | portalocker.LOCK_NB
# A probe by `list()` or `wait_released` holds a free lock for microseconds; an acquirer that
# meets one retries this long before it believes the name is taken.
_ACQUIRE_RETRIES = 5
_ACQUIRE_RETRY_STEP = 0.02
_REOPEN_LIMIT = 20


def _same_file(fh: IO[bytes], path: Path) -> bool:
    """Whether ``path`` still names the file ``fh`` has open (not unlinked or replaced)."""
    if sys.platform == "win32":
        # Windows cannot delete or replace a file while it is open (Python opens without
        # FILE_SHARE_DELETE), so the file we hold is the one at ``path``. Comparing file ids
        # is also unreliable there (fstat and stat may report them differently).
        return True
    try:
        on_disk = path.stat()
    except FileNotFoundError:
        return False
    mine = os.fstat(fh.fileno())
    return (mine.st_dev, mine.st_ino) == (on_disk.st_dev, on_disk.st_ino)


def _lock_exclusive(path: Path, *, create: bool) -> IO[bytes] | None:
    """Open ``path`` and lock it without blocking.

    Returns the locked handle, or None when another handle holds the lock. Without ``create``
    a missing file raises FileNotFoundError. The handle returned always locks the file that
    ``path`` names now, not one that was unlinked while we waited.
    """
    for _ in range(_REOPEN_LIMIT):
        fh = open(path, "ab" if create else "r+b")  # noqa: SIM115 - returned to the caller
        try:
            portalocker.lock(fh, _LOCK_FLAGS)
        except portalocker.AlreadyLocked:
            fh.close()
            return None
        except BaseException:
            fh.close()
            raise
        if _same_file(fh, path):
            return fh
        _unlock_and_close(fh)
        if not create and not path.exists():
            raise FileNotFoundError(str(path))
    raise RuntimeError(f"锁文件 {path} 反复被替换，无法加锁")


def _unlock_and_close(fh: IO[bytes]) -> None:
    try:
        portalocker.unlock(fh)
    finally:
        fh.close()


def _remove_locked(fh: IO[bytes], path: Path) -> None:
    """Delete the lock file ``fh`` holds, then let go of it.

    POSIX deletes while still holding the lock, so a waiter that then wins the old file sees it
    unlinked and starts over. Windows cannot delete an open file: unlock, close, then try (it
    fails harmlessly if a newcomer already opened it, which is the newcomer's file then).
    """
    removed = unlink_quietly(path)
    _unlock_and_close(fh)
    if not removed:
        unlink_quietly(path)


class TaskRegistry:
    """The running tasks of one runtime folder (default ``~/jqtrade``)."""

    def __init__(self, runtime_dir: Path) -> None:
        self.runtime_dir = Path(runtime_dir)
        self.tasks_dir = self.runtime_dir / "tasks"

    def __repr__(self) -> str:
        return f"TaskRegistry({str(self.runtime_dir)!r})"

    # --- paths ------------------------------------------------------------------------------

    def lock_path(self, name: str) -> Path:
        return self.tasks_dir / f"{task_file_stem(name)}.lock"

    def record_path(self, name: str) -> Path:
        return self.tasks_dir / f"{task_file_stem(name)}.json"

    def control_path(self, name: str) -> Path:
        """The prefix to put in ``TaskRecord.control_path`` and hand to ``ControlChannel``."""
        return self.tasks_dir / f"{task_file_stem(name)}.control"

    def trading_state_path(self, name: str) -> Path:
        """The saved trading state of ``name`` (kept after the task ends)."""
        return self.tasks_dir / f"{task_file_stem(name)}.state"

    def supervisor_path(self, name: str) -> Path:
        """The lock a ``--restart`` supervisor of ``name`` holds; ``.stop`` beside it ends it."""
        return self.tasks_dir / f"{task_file_stem(name)}.supervisor"

    # --- the task's side --------------------------------------------------------------------

    def acquire(self, record: TaskRecord) -> TaskHandle:
        """Take the task's name for the life of this process, or raise TaskAlreadyRunningError.

        Also voids any stop request left over from an earlier task of the same name.
        """
        if record.state in FINAL_STATES:
            raise TaskStateError(record.name, "未启动", record.state, {"starting", "running"})
        stem = task_file_stem(record.name)
        self.tasks_dir.mkdir(parents=True, exist_ok=True)
        lock_path = self.tasks_dir / f"{stem}.lock"
        fh = None
        for attempt in range(_ACQUIRE_RETRIES):
            fh = _lock_exclusive(lock_path, create=True)
            if fh is not None:
                break
            if attempt + 1 < _ACQUIRE_RETRIES:
                time.sleep(_ACQUIRE_RETRY_STEP)
        if fh is None:
            holder = self._read_record(self.tasks_dir / f"{stem}.json", retries=5)
            raise TaskAlreadyRunningError(record.name, holder.pid if holder else None)
        try:
            ControlChannel(Path(record.control_path)).clear()
            handle = TaskHandle(self, record, fh, lock_path, self.tasks_dir / f"{stem}.json")
            handle._write()
        except BaseException:
            _remove_locked(fh, lock_path)
            raise
        return handle

    # --- everybody's side -------------------------------------------------------------------

    def is_held(self, name: str) -> bool:
        """Whether a live process holds ``name`` (its lock cannot be taken)."""
        try:
            fh = _lock_exclusive(self.lock_path(name), create=False)
        except FileNotFoundError:
            return False
        if fh is None:
            return True
        _unlock_and_close(fh)
        return False

    def list(self) -> builtins.list[TaskRecord]:
        """Live tasks, oldest first; stale records met on the way are removed."""
        if not self.tasks_dir.is_dir():
            return []
        live: builtins.list[TaskRecord] = []
        for record_path in self.tasks_dir.glob("*.json"):
            if record_path.name.startswith("."):
                continue  # a temporary file of an atomic write
            record = self._check(record_path)
            if record is not None:
                live.append(record)
        live.sort(key=lambda r: (r.started_at, r.name))
        return live

    def find(
        self,
        *,
        name: str | None = None,
        pid: int | None = None,
        start_token: str | None = None,
    ) -> builtins.list[TaskRecord]:
        """Live tasks matching every given filter (all live tasks when none is given)."""
        return [
            r
            for r in self.list()
            if (name is None or r.name == name)
            and (pid is None or r.pid == pid)
            and (start_token is None or r.start_token == start_token)
        ]

    def remove_if_stale(self, name: str) -> bool:
        """Remove the record, lock file and control files of ``name`` if no process holds it.

        Returns True when the name is free afterwards (whether or not there was anything to
        remove), False when a live task holds it.
        """
        record_path = self.record_path(name)
        if not record_path.exists():
            return not self.is_held(name)
        return self._check(record_path) is None

    def _check(self, record_path: Path) -> TaskRecord | None:
        """Return the record if its task is alive; if it is stale, remove its files."""
        lock_path = record_path.with_suffix(".lock")
        try:
            fh = _lock_exclusive(lock_path, create=True)
        except OSError:
            return None  # folder vanished or is unwritable: nothing we can show
        if fh is None:
            return self._read_record(record_path, retries=2)
        # Nobody holds the name: the record is stale. Clean up while we hold the lock.
        try:
            stale = self._read_record(record_path, retries=0)
            if stale is not None:
                ControlChannel(Path(stale.control_path)).clear()
            unlink_quietly(record_path)
        finally:
            _remove_locked(fh, lock_path)
        return None

    def read(self, name: str) -> TaskRecord | None:
        """The record file of ``name`` as it is, even of a task that died (no cleaning)."""
        return self._read_record(self.record_path(name), retries=3)

    @staticmethod
    def _read_record(path: Path, *, retries: int) -> TaskRecord | None:
        """Read a record; a holder that has just taken its lock may not have written it yet."""
        for attempt in range(retries + 1):
            try:
                return TaskRecord.from_json(json.loads(read_retrying(path).decode("utf-8")))
            except FileNotFoundError:
                pass
            except (OSError, ValueError):
                return None
            if attempt < retries:
                time.sleep(_ACQUIRE_RETRY_STEP)
        return None


class TaskHandle:
    """The running task's hold on its name; keep it until the process ends."""

    def __init__(
        self,
        registry: TaskRegistry,
        record: TaskRecord,
        lock_file: IO[bytes],
        lock_path: Path,
        record_path: Path,
    ) -> None:
        self.registry = registry
        self._record = record
        self._lock_file: IO[bytes] | None = lock_file
        self._lock_path = lock_path
        self._record_path = record_path

    def __repr__(self) -> str:
        return f"TaskHandle({self._record.name!r}, state={self._record.state!r})"

    @property
    def record(self) -> TaskRecord:
        return self._record

    @property
    def released(self) -> bool:
        return self._lock_file is None

    @property
    def control(self) -> ControlChannel:
        """A new control channel for this task (keep one and poll it)."""
        return ControlChannel(Path(self._record.control_path))

    def update(self, **changes: Any) -> None:
        """Change record fields and rewrite the record file; a no-op change writes nothing.

        A rewrite is one small file write and rename (well under a millisecond on a local
        disk), so calling this after every job and broker sync is fine.
        """
        if "name" in changes and changes["name"] != self._record.name:
            raise ValueError(f"任务运行中不能改名（{self._record.name!r}）")
        # After release the state is final, so any update fails here.
        self._check_transition(changes.get("state", self._record.state))
        new = attrs.evolve(self._record, **changes)
        if new == self._record:
            return
        self._record = new
        self._write()

    def release(self, final_state: str = "stopped") -> None:
        """End the task: report the final state to a waiting stopper, remove the record, unlock.

        Calling it again after the first time does nothing, so it can sit in a ``finally``.
        """
        if self._lock_file is None:
            return
        if final_state not in FINAL_STATES:
            raise TaskStateError(self._record.name, self._record.state, final_state, FINAL_STATES)
        self._check_transition(final_state)
        self._record = attrs.evolve(self._record, state=final_state)
        fh, self._lock_file = self._lock_file, None
        try:
            channel = self.control
            if channel.stop_requested():
                channel.report(final_state)
            else:
                channel.clear()
            unlink_quietly(self._record_path)
        finally:
            _remove_locked(fh, self._lock_path)

    def __enter__(self) -> TaskHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release("stopped" if exc_type is None or exc_type is KeyboardInterrupt else "failed")

    def _check_transition(self, new_state: str) -> None:
        allowed = TASK_TRANSITIONS[self._record.state]
        if new_state not in allowed:
            raise TaskStateError(self._record.name, self._record.state, new_state, allowed)

    def _write(self) -> None:
        write_atomic(self._record_path, _json_bytes(self._record.to_json()))
