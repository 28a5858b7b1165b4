"""jqtrade's own small files: one atomic replace that outlasts a briefly held file, one file-name
sanitizer. Every module that rewrites a file (order-id counters, task records, control files,
the fake gate's state) or turns a name into a file name uses these, and nothing else.

**Held files.** On Windows, ``os.replace`` onto a file that another program has open (an
antivirus scan, the search indexer, a backup tool, an editor) fails with ``PermissionError``
(WinError 5 "access denied" or 32 "being used by another process"), and so may an ``open``.
Such holds last milliseconds to a second or two, so :func:`replace_file`, :func:`write_atomic`
and :func:`read_retrying` retry with a growing pause (5 ms doubling up to 100 ms) for up to
:data:`RETRY_SECONDS` seconds, then raise :class:`FileBusyError`, which names the file. On Linux
and macOS a rename never meets a sharing violation; a ``PermissionError`` there is a real
permission problem and ends the same way after the same wait. The replace itself is atomic on
every OS: a reader sees the old file or the new one, never half of one, and a failed replace
leaves the old file as it was.

**File names.** :func:`safe_file_name` maps any name (a task name, say) to a file-name part
that is valid on Windows, Linux and macOS and that no other name maps to.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Callable, Optional, TypeVar

import attrs

from jqtrade.errors import FileBusyError

__all__ = [
    "DEFAULT_PATIENCE",
    "RETRY_SECONDS",
    "WINDOWS_RESERVED",
    "FileBusyError",
    "Patience",
    "fsync_directory",
    "read_retrying",
    "replace_file",
    "retrying",
    "safe_file_name",
    "unlink_quietly",
    "write_atomic",
]

T = TypeVar("T")

#: How long a held file is waited for before :class:`FileBusyError`.
RETRY_SECONDS = 5.0
_FIRST_PAUSE = 0.005
_MAX_PAUSE = 0.1
#: Windows error codes of a file held by another process: access denied (a file being
#: replaced or deleted, or opened without sharing), sharing violation, lock violation, and a
#: file with a mapped section open. Python maps all of them to PermissionError, except that
#: the last one may arrive as a plain OSError.
_HELD_WINERRORS = frozenset({5, 32, 33, 1224})


@attrs.frozen(kw_only=True)
class Patience:
    """How long to wait for a held file, with what sleep and clock (tests inject fakes)."""

    seconds: float = RETRY_SECONDS
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic


#: The patience of every call that is not given one; tests may replace it.
DEFAULT_PATIENCE = Patience()


def _is_held(exc: OSError) -> bool:
    return isinstance(exc, PermissionError) or getattr(exc, "winerror", None) in _HELD_WINERRORS


def retrying(
    action: Callable[[], T], path: Path, what: str, patience: Optional[Patience] = None
) -> T:
    """Run ``action`` until it does not fail with a held-file error, for ``patience.seconds``.

    ``what`` is the Chinese verb for the error message (``替换``, ``读取``...). Other errors
    (a missing file, a full disk) are raised at once.
    """
    patience = patience or DEFAULT_PATIENCE
    deadline = patience.clock() + patience.seconds
    pause = _FIRST_PAUSE
    attempts = 0
    while True:
        attempts += 1
        try:
            return action()
        except OSError as exc:
            if not _is_held(exc):
                raise
            now = patience.clock()
            if now >= deadline:
                raise FileBusyError(path, what, patience.seconds, attempts, exc) from exc
            patience.sleep(min(pause, max(deadline - now, 0.0)))
            pause = min(pause * 2, _MAX_PAUSE)


def replace_file(source: Path, target: Path, *, patience: Optional[Patience] = None) -> None:
    """``os.replace(source, target)``, waiting out a ``target`` held by another program."""
    retrying(lambda: os.replace(source, target), Path(target), "替换", patience)


def write_atomic(
    path: Path, data: bytes, *, durable: bool = False, patience: Optional[Patience] = None
) -> None:
    """Write ``data`` to a temporary sibling and move it over ``path`` (see the module doc).

    With ``durable``, the data is fsynced before the move and the directory after it, so a
    power cut leaves the old content or the new, never an empty file. The temporary file is
    removed if anything fails; ``path`` then keeps its old content.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        replace_file(tmp, path, patience=patience)
    except BaseException:
        unlink_quietly(tmp)
        raise
    if durable:
        fsync_directory(path.parent)


def read_retrying(path: Path, *, patience: Optional[Patience] = None) -> bytes:
    """The bytes of ``path``; a file held or being replaced right now is waited for.

    A missing file raises ``FileNotFoundError`` at once.
    """

    def read() -> bytes:
        with open(path, "rb") as handle:
            return handle.read()

    return retrying(read, Path(path), "读取", patience)


def unlink_quietly(path: Path) -> bool:
    """Remove ``path`` if possible; a missing file or a Windows sharing refusal is fine.

    Returns whether the file was removed.
    """
    try:
        Path(path).unlink()
    except (FileNotFoundError, PermissionError):
        return False
    return True


def fsync_directory(directory: Path) -> None:
    """Make a new file's directory entry durable (POSIX); Windows has no directory handles."""
    if os.name == "nt":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- file names ------------------------------------------------------------------------------

# Names made only of these characters are used as file names unchanged: they have no case and
# are stable under Unicode normalisation, so they cannot collide on case-insensitive (NTFS,
# APFS) or normalising (APFS) file systems.
_PLAIN_ASCII = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-")
#: Windows device names: reserved in any case and with any extension (``con.txt``, ``Nul.json``).
WINDOWS_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"COM{i}" for i in "123456789¹²³"]
    + [f"LPT{i}" for i in "123456789¹²³"]
)
_HASH_SEPARATOR = "~"  # never part of a plain name nor of a readable prefix
_HASH_LENGTH = 10
#: A plain name up to this size is used as it is (every valid task name: 64 CJK characters).
_PLAIN_MAX_BYTES = 192
_READABLE_MAX_BYTES = 60


def _is_plain_char(ch: str) -> bool:
    return ch in _PLAIN_ASCII or "\u4e00" <= ch <= "\u9fff"


def safe_file_name(name: str) -> str:
    """Map ``name`` to a file-name part that is valid on Windows, Linux and macOS.

    Names of lower-case ASCII letters, digits, ``_``, ``-`` and common CJK ideographs are used
    as they are, unless they are a Windows device name (``con``, ``nul``, ``com1``, ...), empty
    or longer than 192 bytes. Any other name keeps a readable prefix (letters and digits;
    everything else, including ``\\ / : * ? " < > |``, dots, spaces and control characters,
    becomes ``_``) followed by ``~`` and a hash of the exact name. So two different names never
    share a file, even where they differ only in case or Unicode normalisation (NTFS and APFS
    compare names case-insensitively); the result never contains a dot, a space or a character
    Windows forbids, never ends in a dot or space, is never a device name with or without an
    extension, and leaves room for any suffix jqtrade adds within 255 bytes.
    """
    if (
        name
        and all(_is_plain_char(ch) for ch in name)
        and name.upper() not in WINDOWS_RESERVED
        and len(name.encode("utf-8")) <= _PLAIN_MAX_BYTES
    ):
        return name
    readable: list[str] = []
    used = 0
    for ch in name:
        keep = ch if _is_plain_char(ch) or (ch.isalnum() and ch.isprintable()) else "_"
        size = len(keep.encode("utf-8", "surrogatepass"))
        if used + size > _READABLE_MAX_BYTES:
            break
        readable.append(keep)
        used += size
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH_LENGTH]
    return "".join(readable) + _HASH_SEPARATOR + digest
