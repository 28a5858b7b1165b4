"""Bytes on disk for the OneQuant gate: the day's file paths, locked appends, incremental reads.

Everything that knows bytes, encodings and locks lives here, so that parsing
(:mod:`.parsing`), the gate (:mod:`.gate`) and the simulated broker only see text and rows.
The rules that shaped this module:

* appended files are read in binary from the end of the last *complete* line, so a line that
  is still being written is never seen half;
* every line is decoded on its own when a chunk does not decode whole, so one bad line never
  blocks the lines after it;
* snapshot files (``assetInfo``/``positionInfo``) are rewritten in place by OneQuant and are
  read by :mod:`.snapshot`, which trusts them only when their end marker is present.
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import errno
import functools
import io
import logging
import os
import time
from collections.abc import Iterator, Sequence
from itertools import repeat
from pathlib import Path
from typing import Any, Optional, Union

import attrs
import portalocker

from jqtrade.errors import GateError, GateLockTimeoutError, GateWriteError
from jqtrade.gates.onequant.protocol import (
    ALGO_ORDER,
    ALGO_ORDER_STOP,
    ASSET_INFO,
    EXEC_RESULT,
    ORDER_FILE_LINE_END,
    ORDER_UPDATE,
    POSITION_INFO,
    TRADE_UPDATE,
    file_name,
)

log = logging.getLogger("jqtrade.gates.onequant")

PathLike = Union[str, "os.PathLike[str]"]


@attrs.frozen
class DayFiles:
    """The seven files of one trading date in one folder (each path built once: a simulated
    day asks for them thousands of times)."""

    directory: Path = attrs.field(converter=Path)
    day: datetime.date

    def path(self, kind: str) -> Path:
        return self.directory / file_name(kind, self.day)

    @functools.cached_property
    def algo_order(self) -> Path:
        return self.path(ALGO_ORDER)

    @functools.cached_property
    def algo_order_stop(self) -> Path:
        return self.path(ALGO_ORDER_STOP)

    @functools.cached_property
    def exec_result(self) -> Path:
        return self.path(EXEC_RESULT)

    @functools.cached_property
    def order_update(self) -> Path:
        return self.path(ORDER_UPDATE)

    @functools.cached_property
    def trade_update(self) -> Path:
        return self.path(TRADE_UPDATE)

    @functools.cached_property
    def asset_info(self) -> Path:
        return self.path(ASSET_INFO)

    @functools.cached_property
    def position_info(self) -> Path:
        return self.path(POSITION_INFO)


# --- writing -------------------------------------------------------------------------------

_NEEDS_QUOTING = frozenset(',"\r\n')


def encode_rows(rows: Sequence[Sequence[str]], encoding: str, line_end: str = "\n") -> bytes:
    """CSV lines ending in ``line_end`` (``\\n`` unless told) on every OS; fields are quoted
    only when they must be."""
    plain: list[str] = []
    for row in rows:
        if any(not _NEEDS_QUOTING.isdisjoint(field) for field in row):
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator=line_end).writerow(row)
            plain.append(buffer.getvalue())
        else:
            plain.append(",".join(row) + line_end)
    return "".join(plain).encode(encoding)


#: Short Chinese descriptions of the OS errors a write to the order files may meet.
_WRITE_ERRORS = {
    errno.ENOSPC: "磁盘已满",
    getattr(errno, "EDQUOT", errno.ENOSPC): "磁盘已满",  # a quota is a full disk to the user
    errno.EIO: "磁盘读写错误",
    errno.EACCES: "没有写入权限或文件被其他程序锁定",  # Windows: a locked byte range is EACCES
    errno.EPERM: "没有写入权限",
    errno.EROFS: "文件系统只读",
    errno.EFBIG: "文件超过大小上限",
}


def _write_cause(exc: OSError) -> str:
    """``磁盘已满（[Errno 28] No space left on device）``: what went wrong, then the OS text."""
    return f"{_WRITE_ERRORS.get(exc.errno or 0, '系统错误')}（{exc}）"


class LockedAppender:
    """Appends whole lines to a shared CSV file under an exclusive portalocker lock.

    The file is opened per append (so a file deleted or replaced by OneQuant is picked up and
    no handle is held between orders, which matters on Windows) and locked; *under the lock*
    it is given its header if it is empty, or a ``\\n`` if its last byte is not one (another
    writer died mid-line, or a disk filled up under a write of ours), so that our line is
    never glued onto a torn one. The header or line end and the lines go to the OS in one
    unbuffered ``write`` (repeated only for what a short write left over), and only then is
    the file unlocked: another writer never interleaves with a partial line of ours, and a
    crash leaves at most one torn line, which the next append ends.

    Errors: ``GateLockTimeoutError`` when the lock cannot be had in time; ``GateError`` when
    the file cannot be opened, locked or inspected (nothing was written: the order was surely
    not sent); ``GateWriteError`` when the write or the ``fsync`` fails (disk full, I/O error,
    no permission...: part of the lines may be in the file, so whether OneQuant saw the order
    is unknown).

    ``fsync`` is off by default: readers of the file (OneQuant, the simulator) see written
    data through the OS cache at once, and the order is also journaled by the account module;
    an fsync per order costs milliseconds on many disks for protection only against a power
    cut in the few seconds before the OS writes back.

    The lock wait is a real-time wait (another process holds the file), so it uses the
    monotonic clock rather than the market clock.

    Lines end in ``line_end``, :data:`ORDER_FILE_LINE_END` (``\\r\\n``) unless told.

    **Windows.** There a lock is mandatory: portalocker locks with ``msvcrt.locking`` the first
    64 KiB of the file (bytes 0 to 65535, wherever the file ends), and while it is held no
    other handle can read or write those bytes: a read that touches them fails at once with a
    lock violation (``PermissionError``), it does not wait. So the lock is held only for the
    append itself: the file is opened, locked, its end inspected, the lines written in one
    ``write`` of a few hundred bytes, then unlocked and closed, all in one call (well under a
    millisecond on a local disk); no handle or lock is kept between orders. What a reader sees
    meanwhile: a read of the first 64 KiB fails and is simply tried again at the next poll
    (:class:`AppendedFileReader` does exactly that); a read beyond them may see our bytes
    while they are being written, but a line is only taken once its line end is there, so
    half a line is never read. On Linux and macOS the lock is advisory (``flock``): readers
    are never refused, and only other writers that lock are kept out.
    """

    def __init__(
        self,
        path: PathLike,
        header: Sequence[str],
        encoding: str,
        lock_timeout: float = 5.0,
        poll_interval: float = 0.05,
        *,
        fsync: bool = False,
        line_end: str = ORDER_FILE_LINE_END,
    ) -> None:
        self.path = Path(path)
        self.header = list(header)
        self.encoding = encoding
        self.lock_timeout = lock_timeout
        self.poll_interval = poll_interval
        self.fsync = fsync
        self.line_end = line_end
        self._line_end_bytes = line_end.encode(encoding)
        self._header_bytes = encode_rows([self.header], encoding, line_end)

    def append(self, rows: Sequence[Sequence[str]]) -> None:
        """Append ``rows``; raise ``GateLockTimeoutError``, ``GateError`` (nothing written) or
        ``GateWriteError`` (the write failed, perhaps part way)."""
        data = encode_rows(rows, self.encoding, self.line_end)
        with self._locked() as handle:
            line_break, header = self._ending(handle)
            self._write(handle, line_break + header + data)

    def terminate(self) -> None:
        """End a torn last line (ours after a failed write, or another writer's) so that the
        file says for certain what it holds: the line is whole, or it is a bad line."""
        with self._locked() as handle:
            line_break, _ = self._ending(handle)
            if line_break:
                self._write(handle, line_break)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[Any]:
        """The file open and exclusively locked for the one write that follows."""
        try:
            handle = self._open()
        except OSError as exc:
            raise GateError(f"无法打开文件 {self.path} 写入：{exc}") from exc
        try:
            # GateLockTimeoutError is an OSError too: keep it out of the trys below
            self._lock(handle)
            try:
                yield handle
            finally:
                portalocker.unlock(handle)
        finally:
            handle.close()

    def _open(self) -> Any:
        """An unbuffered binary handle that appends (and can read the last byte)."""
        return open(self.path, "a+b", buffering=0)  # noqa: SIM115 - closed by append

    def _ending(self, handle: Any) -> tuple[bytes, bytes]:
        """What must precede our lines: a line end after a torn line, then the header if the
        file is empty or its header was torn. A torn line that ends in ``\\r`` (a write cut
        between the ``\\r`` and the ``\\n``) needs only the ``\\n``."""
        try:
            size = os.fstat(handle.fileno()).st_size
            if size == 0:
                return b"", self._header_bytes
            handle.seek(size - 1)
            last = handle.read(1)
        except OSError as exc:
            raise GateError(f"无法读取文件 {self.path} 的末尾，委托未写入：{exc}") from exc
        if last == b"\n":
            return b"", b""
        line_break = b"\n" if last == b"\r" else self._line_end_bytes
        header_torn = False
        if size < len(self._header_bytes):
            try:
                handle.seek(0)
                header_torn = b"\n" not in handle.read(size)
            except OSError as exc:
                raise GateError(f"无法读取文件 {self.path} 的开头，委托未写入：{exc}") from exc
        log.warning(
            "文件 %s 的最后一行不完整（其他程序写到一半中断或磁盘曾满），先补一个换行再写入",
            self.path,
        )
        # A header cut short is no header: readers would take it for a bad line.
        return line_break, self._header_bytes if header_torn else b""

    def _write(self, handle: Any, payload: bytes) -> None:
        view = memoryview(payload)
        done = 0
        try:
            while done < len(payload):
                written = handle.write(view[done:])
                if not written:
                    cause = f"写入中断（只写入了 {done}/{len(payload)} 字节）"
                    raise GateWriteError(str(self.path), cause)
                done += written
            if self.fsync:
                os.fsync(handle.fileno())
        except GateWriteError:
            raise
        except OSError as exc:
            if done:
                log.warning(
                    "文件 %s 末尾留下了半行（写入了 %d/%d 字节），下次写入时会先补换行",
                    self.path,
                    done,
                    len(payload),
                )
            raise GateWriteError(str(self.path), _write_cause(exc)) from exc

    def _lock(self, handle: Any) -> None:
        flags = portalocker.LOCK_EX | portalocker.LOCK_NB
        deadline = time.monotonic() + self.lock_timeout
        while True:
            try:
                portalocker.lock(handle, flags)
                return
            except portalocker.AlreadyLocked:
                if time.monotonic() >= deadline:
                    raise GateLockTimeoutError(str(self.path), self.lock_timeout) from None
                time.sleep(self.poll_interval)
            except portalocker.LockException as exc:
                raise GateError(f"无法给文件 {self.path} 加锁：{exc}") from exc


# --- reading appended files ----------------------------------------------------------------


def split_fields(line: str) -> Optional[list[str]]:
    """One decoded CSV line -> fields, or ``None`` if its quoting is broken."""
    if '"' not in line:
        return line.split(",")
    try:
        rows = list(csv.reader([line], strict=True))
    except csv.Error:
        return None
    return rows[0] if len(rows) == 1 else None


def _is_blank(line: str) -> bool:
    """An empty line or a line of only commas (the snapshot end marker) carries no row."""
    return not line.strip(", \t")


#: The rewrite check compares the first ``_HEAD_BYTES`` (header and first lines) and the last
#: ``_TAIL_BYTES`` before the read offset with what was read there before.
_HEAD_BYTES = 512
_TAIL_BYTES = 128


def _has_bare_cr(text: str) -> bool:
    """Whether ``text`` may hold a ``\\r`` that is not part of a ``\\r\\n`` or ``\\r\\r\\n``
    line end (cheap and exact enough to decide whether to look line by line)."""
    return text.count("\r") > text.count("\r\n") + text.count("\r\r\n")


class AppendedFileReader:
    """Incremental reader of a CSV file that another program appends to.

    Reads in binary from ``offset`` (the end of the last complete line), so the cost of a read
    depends on what is new, not on the file size. The header is the first line of the file,
    read by name (a real file may have more or fewer columns than the protocol page lists);
    ``default_header`` is used only if that line shares fewer than three names with it (a
    garbled header).

    Files that misbehave:

    * **Rewritten files.** If the file is replaced (another inode), shrinks below the offset,
      or its content is not what was read (its first bytes, header and first line, or the
      bytes just before the offset differ: a file deleted and recreated, or truncated and
      written again, where ext4 and NTFS may reuse the inode and the size can match), it is
      read again from the start: logged once at WARNING per restart and counted in
      :attr:`restarts`, so a consumer can drop what it derived from the old content. A file
      rewritten with its old content and more is a continuation and is not read again. The
      check costs two small reads per read of a changed file; :meth:`changed` stays one
      ``stat``, so a rewrite that keeps both size and mtime is seen at the next read only.
    * **Unfinished tails.** A last line without its line end is not finished yet. The bytes
      after ``offset`` already known to hold no line end are not read again while the tail
      grows (a crash can leave a tail that grows without ever ending a line), so each read
      costs the new bytes only; when the line end comes, the line is read once. A line longer
      than ``max_line_bytes`` (no protocol line comes near) is skipped without being read,
      counted as a bad line.
    * **NUL bytes.** After a power cut a file may end in a run of zero bytes after its last
      complete line, and its writer then appends after them: NUL bytes at the start of a line
      are dropped (a line of only NULs is no line). A NUL elsewhere is left in the line, for
      its consumer to reject.
    * **Line ends.** ``\\n``, ``\\r\\n`` and ``\\r\\r\\n`` (written by jqtrade 1.0 on Windows) all end
      a line, mixed freely. A lone ``\\r`` (old Mac line ends) is **not** a line end: lines
      that contain one are skipped as bad lines, and the first one is reported at WARNING
      naming the file (once per reader); a file with only ``\\r`` line ends yields no line and
      is reported the same way. (So a ``\\r`` inside a quoted field is not supported either;
      OneQuant does not write one.)

    ``on_decode_error``: ``"replace"`` (default) decodes a line that is not valid in
    ``encoding`` with replacement characters, logs it, and still applies it if all its fields
    parse (the fields the gate needs are ASCII; only a text column is lost, and a wrong
    ``file_encoding`` then does not freeze every rejected order); ``"skip"`` drops the line.

    The iterators commit the offset after each chunk has been fully consumed; a consumer that
    stops early sees the rest of that chunk again on the next read. Lines that cannot be used
    are counted in :attr:`bad_lines` and logged at ``bad_line_level``.
    """

    def __init__(
        self,
        path: PathLike,
        encoding: str,
        *,
        default_header: Optional[Sequence[str]] = None,
        on_decode_error: str = "replace",
        chunk_size: int = 1 << 20,
        max_line_bytes: int = 1 << 20,
        bad_line_level: int = logging.WARNING,
    ) -> None:
        if on_decode_error not in ("replace", "skip"):
            raise ValueError(
                f"on_decode_error 应为 'replace' 或 'skip'，实际是 {on_decode_error!r}"
            )
        self.path = Path(path)
        self.encoding = encoding
        self.default_header = list(default_header) if default_header is not None else None
        self.on_decode_error = on_decode_error
        self.chunk_size = chunk_size
        self.max_line_bytes = max_line_bytes
        self.bad_line_level = bad_line_level
        self.bad_lines = 0
        #: How many times the file was found rewritten or replaced and read again from the start.
        self.restarts = 0
        self.missing = False
        #: False while a read is under way or after one was cut short by an OS error.
        self.complete = True
        self._cr_warned = False
        self.reset()

    def reset(self) -> None:
        """Forget everything read: the next read starts at byte 0."""
        self.offset = 0
        self.header: Optional[list[str]] = None
        self.columns: dict[str, int] = {}
        self.header_line: Optional[str] = None
        self._identity: Optional[tuple[int, int]] = None
        self._seen: Optional[tuple[int, int]] = None
        self._decode_warned = False
        #: Bytes after ``offset`` known to hold no ``\n`` (not read again while the tail grows).
        self._scanned = 0
        #: ``file[:len(_head)]`` and ``file[offset - len(_tail):offset]`` as they were read.
        self._head = b""
        self._tail = b""

    # -- cheap change check ---------------------------------------------------------------

    def changed(self) -> bool:
        """True if the file may have new data since the last read (one ``os.stat``)."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return not self.missing
        except OSError:
            return True
        if self._identity is not None and (st.st_dev, st.st_ino) != self._identity:
            return True
        return self._seen != (st.st_size, st.st_mtime_ns)

    # -- reading --------------------------------------------------------------------------

    def iter_batches(self) -> Iterator[list[str]]:
        """New complete data lines, decoded, in batches (one per chunk read); header consumed."""
        for complete in self._iter_chunks():
            lines = self._decode(complete)
            if self.header is None and lines:
                lines = self._take_header(lines)
            if lines:
                yield lines

    def iter_texts(self) -> Iterator[str]:
        """:meth:`iter_batches` as text: each batch's lines joined, each line ending in ``\\n``.

        For a consumer that splits the text its own way: it spares splitting every chunk into
        lines and joining them again. ``text.split("\\n")[:-1]`` gives the batch's lines.
        """
        for complete in self._iter_chunks():
            text = self._decode_text(complete)
            if self.header is None and text:
                end = text.index("\n")
                if not self._take_header([text[:end]]):
                    text = text[end + 1 :]
            if text:
                yield text

    def _iter_chunks(self) -> Iterator[bytes]:
        """New complete lines as bytes, one chunk at a time; the offset moves past a chunk
        when the consumer asks for the next one."""
        self.complete = False
        try:
            handle = open(self.path, "rb")  # noqa: SIM115 - closed below
        except FileNotFoundError:
            self.missing = self.complete = True
            return
        except OSError as exc:  # e.g. a writer's mandatory byte-range lock on Windows
            log.debug("暂时无法读取 %s：%s，下次再读", self.path, exc)
            return
        self.missing = False
        with handle:
            try:
                st = os.fstat(handle.fileno())
                self._check_same_file(handle, st)
            except OSError as exc:
                log.debug("读取 %s 中断：%s，下次再读", self.path, exc)
                return
            self._identity = (st.st_dev, st.st_ino)
            stamp = st.st_mtime_ns
            if st.st_size < self.offset + self._scanned:  # the unfinished tail was rewritten
                self._scanned = 0
            pos = self.offset + self._scanned  # [offset, pos) holds no line end
            # [offset, pos) as read in this call, or None when it is not held (read before, or too long)
            pending: Optional[list[bytes]] = [] if pos == self.offset else None
            handle.seek(pos)
            while True:
                try:
                    data = handle.read(self.chunk_size)
                except OSError as exc:
                    log.debug("读取 %s 中断：%s，下次再读", self.path, exc)
                    return  # _seen is left as it was, so changed() says "read again"
                if not data:
                    break
                start = pos
                pos += len(data)
                cut = data.rfind(b"\n")
                if cut < 0:
                    # a final "\r" or "\r\r" may still be followed by its "\n"
                    if not self._cr_warned and b"\r" in data.rstrip(b"\r"):
                        self._warn_cr()
                    self._scanned = pos - self.offset
                    if pending is not None and self._scanned <= self.max_line_bytes:
                        pending.append(data)
                    else:
                        pending = None
                    continue
                complete = data[: cut + 1]
                if start > self.offset:  # the first line began in an earlier read
                    if pending is not None:
                        complete = b"".join(pending) + complete
                    else:
                        first = data.index(b"\n") + 1
                        length = start - self.offset + first
                        if length > self.max_line_bytes:
                            self._skip_line(length, data[:first])
                            complete = data[first : cut + 1]
                        else:
                            try:
                                earlier = self._read_at(handle, self.offset, start - self.offset)
                                handle.seek(pos)
                            except OSError as exc:
                                log.debug("读取 %s 中断：%s，下次再读", self.path, exc)
                                return
                            complete = earlier + complete
                rest = data[cut + 1 :]
                pending = [rest] if len(rest) <= self.max_line_bytes else None
                self._scanned = 0  # while the consumer holds the chunk: it may stop there
                if complete:
                    yield complete
                    self._commit(complete)
                self._scanned = len(rest)
            self._seen = (pos, stamp)
            self.complete = True

    @property
    def unterminated(self) -> bool:
        """Bytes after the last line end: a line being written, or a torn one."""
        return self._scanned > 0

    def _check_same_file(self, handle: Any, st: os.stat_result) -> None:
        """Start again from byte 0 if the file is not the one read so far (see the class doc)."""
        if self._identity is not None and (st.st_dev, st.st_ino) != self._identity:
            self._restart("已被替换（不再是原来的文件）")
        elif st.st_size < self.offset:
            self._restart(f"变短了（{st.st_size} < {self.offset} 字节）")
        elif self.offset and not self._same_content(handle):
            self._restart("的内容与已读的不同（被删除后重建或被改写）")

    def _same_content(self, handle: Any) -> bool:
        head, tail = self._head, self._tail
        if self._read_at(handle, 0, len(head)) != head:
            return False
        return self._read_at(handle, self.offset - len(tail), len(tail)) == tail

    def _restart(self, why: str) -> None:
        log.warning("文件 %s %s，从头重新读取", self.path, why)
        self.restarts += 1
        self.reset()

    @staticmethod
    def _read_at(handle: Any, position: int, length: int) -> bytes:
        handle.seek(position)
        data: bytes = handle.read(length)
        if len(data) != length:
            raise OSError(f"文件在读取时变短了（{position} 处只读到 {len(data)}/{length} 字节）")
        return data

    def _commit(self, complete: bytes) -> None:
        """Move the offset past ``complete``, keeping the bytes of the rewrite check."""
        if len(self._head) == self.offset < _HEAD_BYTES:
            self._head += complete[: _HEAD_BYTES - self.offset]
        if len(complete) >= _TAIL_BYTES:
            self._tail = complete[-_TAIL_BYTES:]
        else:
            self._tail = (self._tail + complete)[-_TAIL_BYTES:]
        self.offset += len(complete)

    def _skip_line(self, length: int, end: bytes) -> None:
        """Move the offset past a line of ``length`` bytes, too long to be read, ending in ``end``."""
        self.bad_line(
            f"<{length} 字节>", f"一行超过 {self.max_line_bytes} 字节，不是协议中的行，未读取"
        )
        self._tail = end[-_TAIL_BYTES:]  # the head check stops growing: it stays a true prefix
        self.offset += length

    def iter_records(self) -> Iterator[list[str]]:
        """New rows as field lists in header order (see :attr:`columns`); bad lines skipped."""
        for batch in self.iter_batches():
            width = len(self.header or ())
            for line in batch:
                fields = self.fields(line, width)
                if fields is not None:
                    yield fields

    def iter_rows(self) -> Iterator[dict[str, str]]:
        """New rows as dicts keyed by header name; bad lines logged and skipped."""
        for fields in self.iter_records():
            yield dict(zip(self.header or (), fields))

    def read_rows(self) -> list[dict[str, str]]:
        return list(self.iter_rows())

    def fields(self, line: str, width: int) -> Optional[list[str]]:
        """Split one data line and check it against the header width; log and count if bad."""
        if _is_blank(line) or line == self.header_line:
            return None
        fields = split_fields(line)
        if fields is not None and len(fields) != width:
            if len(fields) > width and not any(fields[width:]):
                fields = fields[:width]  # trailing empty columns
            else:
                fields = None
        if fields is None:
            self.bad_line(line, f"字段数应为 {width}")
        return fields

    def bad_line(self, line: str, why: str) -> None:
        self.bad_lines += 1
        log.log(
            self.bad_line_level, "跳过 %s 中无法解析的一行（%s）：%.200r", self.path.name, why, line
        )

    # -- internals ------------------------------------------------------------------------

    def _decode(self, complete: bytes) -> list[str]:
        try:
            text = complete.decode(self.encoding)
        except UnicodeDecodeError:
            return self._decode_each(complete)
        return self._lines(text, b"\x00" in complete)

    def _decode_text(self, complete: bytes) -> str:
        """``"\\n".join(self._decode(complete)) + "\\n"``, or ``""`` for no line; one decode
        and no split when the chunk is valid text without ``\\r`` or NUL."""
        try:
            text = complete.decode(self.encoding)
        except UnicodeDecodeError:
            lines = self._decode_each(complete)
        else:
            nul = b"\x00" in complete
            if not nul and "\r" not in text:
                return text
            lines = self._lines(text, nul)
        return "\n".join(lines) + "\n" if lines else ""

    def _lines(self, text: str, nul: bool) -> list[str]:
        """The lines of ``text`` (which ends in ``\\n``), without their line ends."""
        lines = text.split("\n")
        lines.pop()  # the empty string after the final "\n"
        cr = "\r" in text
        if cr:
            lines = [line.rstrip("\r") for line in lines]
        if nul or (cr and _has_bare_cr(text)):
            lines = self._scrub(lines)
        return lines

    def _decode_each(self, complete: bytes) -> list[str]:
        lines = []
        for raw in complete.split(b"\n")[:-1]:
            line = self._decode_line(raw)
            if line is not None:
                lines.append(line)
        return self._scrub(lines)

    def _scrub(self, lines: list[str]) -> list[str]:
        """``lines`` without leading NUL runs and without lines holding a lone ``\\r`` (see the
        class docstring)."""
        kept = []
        for line in lines:
            if line.startswith("\x00"):
                line = line.lstrip("\x00")
                if not line:
                    continue
            if "\r" in line:
                self._warn_cr()
                self.bad_line(line, "行内有单独的回车符，不是行尾")
                continue
            kept.append(line)
        return kept

    def _warn_cr(self) -> None:
        if self._cr_warned:
            return
        self._cr_warned = True
        log.warning(
            "%s 中有以单独的 \\r 结尾的行（旧式 Mac 换行）：只有 \\n、\\r\\n 和 \\r\\r\\n 算作行尾，"
            "含单独 \\r 的行不会被读取；请让写这个文件的程序改用 \\n 或 \\r\\n 换行",
            self.path,
        )

    def _decode_line(self, raw: bytes) -> Optional[str]:
        try:
            return raw.decode(self.encoding).rstrip("\r")
        except UnicodeDecodeError:
            pass
        if not self._decode_warned:
            self._decode_warned = True
            log.warning(
                "%s 中有按 %s 无法解码的行：请确认 file_encoding 与 OneQuant 写文件的编码一致"
                "（中文 Windows 上一般是 'gbk'）。%s",
                self.path.name,
                self.encoding,
                "这类行会按替换字符解码，字段能解析时照常使用"
                if self.on_decode_error == "replace"
                else "这类行会被跳过",
            )
        if self.on_decode_error == "skip":
            self.bad_line(raw.decode(self.encoding, "replace"), f"无法按 {self.encoding} 解码")
            return None
        log.debug(
            "%s 中一行按 %s 解码失败，已用替换字符解码：%.200r", self.path.name, self.encoding, raw
        )
        return raw.decode(self.encoding, "replace").rstrip("\r")

    def _take_header(self, lines: list[str]) -> list[str]:
        first = lines[0].lstrip("\ufeff")
        fields = split_fields(first) or []
        names = [name.strip() for name in fields]
        default = self.default_header
        if default is not None and len(set(default) & set(names)) < min(3, len(default)):
            log.warning("%s 的第一行不是预期的表头，按协议表头读取：%.200r", self.path.name, first)
            names = default
            rest = lines
            self.header_line = ",".join(default)  # a real header further down is no data line
        else:
            rest = lines[1:]
            self.header_line = first
        self.header = names
        self.columns = {name: index for index, name in enumerate(names)}
        return rest


# --- column-wise splitting ------------------------------------------------------------


class SplitBlock:
    """Clean CSV lines (no quotes, ``width`` fields each), split once on commas, read by column.

    ``body`` is whole lines, each ending in ``\\n``. Splitting on commas only, the last field
    of a line and the first of the next stay joined by their ``\\n`` in one part, and part
    ``k * (width - 1)`` must be that joint for every line ``k``: with exactly one ``\\n`` per
    line, that holds only when every line has ``width - 1`` commas, which is the check.
    """

    __slots__ = ("parts", "width", "count", "_edges")

    def __init__(self, parts: list[str], width: int, count: int) -> None:
        self.parts = parts
        self.width = width
        self.count = count
        self._edges: Optional[list[str]] = None

    def column(self, index: int) -> list[str]:
        step = self.width - 1
        if 0 < index < step:
            return self.parts[index::step]
        if not self.count:
            return []
        if self._edges is None:
            # "last\nfirst" joints -> [last_1, first_2, last_2, ..., last_n, ""]
            self._edges = "\n".join(self.parts[step::step]).split("\n")
        if index == step:
            return self._edges[0::2]
        return [self.parts[0], *self._edges[1:-1:2]]


def split_block(body: str, width: int) -> Optional[SplitBlock]:
    """``body`` as a :class:`SplitBlock`, or ``None`` unless every line is clean and ``width`` wide
    (a blank line has no comma: refused like any other wrong field count)."""
    if width < 2 or '"' in body or "\r" in body:
        return None
    if not body:
        return SplitBlock([], width, 0)
    if body[-1] != "\n":
        return None
    count = body.count("\n")
    parts = body.split(",")
    step = width - 1
    if len(parts) != count * step + 1 or not all(
        map(str.__contains__, parts[step::step], repeat("\n"))
    ):
        return None
    return SplitBlock(parts, width, count)
